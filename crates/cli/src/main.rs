//! `jitffi`: PUC Lua 5.4 (vendored) with LuaJIT's `ffi` preloaded, so that
//! `local ffi = require "ffi"` works. The command line is that of `lua5.4`:
//!
//! ```text
//! jitffi [options] [script [args]]
//!   -e stat  -i  -l mod  -l g=mod  -v  -E  -W  --  -
//! ```
//!
//! plus `--help`/`-h` ([`help`]) and the inspection switches of [`inspect`]. Files:
//! `options` parses the command line, `package_path` chooses `package.path` and
//! `package.cpath`, `interpreter` runs it on a Lua state, `repl` is the interactive loop,
//! `interrupt` handles Ctrl-C, `stdio` is the console through C's stdio.

mod help;
mod inspect;
mod interpreter;
mod interrupt;
mod layout_report;
mod options;
mod package_path;
mod plan_report;
mod repl;
mod stdio;

use interpreter::Invocation;
use std::ffi::CString;
use std::io::IsTerminal;
use std::os::unix::ffi::OsStringExt;
use std::panic;

/// lua.c's name for itself when argv[0] is missing or empty.
const DEFAULT_PROGNAME: &str = "jitffi";

fn main() {
    // Rust ignores SIGPIPE; Lua scripts expect the default (die quietly on a closed pipe).
    // SAFETY: setting a signal's disposition to SIG_DFL has no preconditions.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };

    let argv: Vec<CString> = std::env::args_os()
        .map(|arg| CString::new(arg.into_vec()).expect("an OS argument has no NUL byte"))
        .collect();
    let progname = match argv.first() {
        Some(name) if !name.as_bytes().is_empty() => name.to_string_lossy().into_owned(),
        _ => DEFAULT_PROGNAME.to_owned(),
    };

    // Panics in the driver unwind normally (no Lua frame is ever below it); turn them
    // into an exit status after the panic hook has printed the details.
    let status = panic::catch_unwind(|| run(argv, &progname)).unwrap_or_else(|_| {
        interpreter::message(Some(&progname), b"internal error (a bug in jitffi)");
        1
    });
    std::process::exit(status);
}

fn run(argv: Vec<CString>, progname: &str) -> i32 {
    if matches!(
        argv.get(1).map(|arg| arg.to_bytes()),
        Some(b"--help" | b"-h")
    ) {
        stdio::write_stdout(help::text(progname).as_bytes());
        return 0;
    }
    if let Some(status) = inspect::run_inspection(&argv) {
        return status;
    }
    let options = match options::parse(&argv) {
        Ok(options) => options,
        Err(bad) => {
            let usage = options::usage_message(progname, argv[bad.index].as_bytes());
            stdio::write_stderr(usage.as_bytes());
            return 1;
        }
    };
    let lua_init = if options.ignore_env { None } else { lua_init() };
    let package_paths = package_path::PackagePaths::from_environment(options.ignore_env);
    let invocation = Invocation {
        argv,
        progname: progname.to_owned(),
        options,
        lua_init,
        package_paths,
        stdin_is_tty: std::io::stdin().is_terminal(),
    };
    start(&invocation)
}

/// Runs the whole program and returns the process exit status.
fn start(invocation: &Invocation) -> i32 {
    let Some(mut interpreter) = interpreter::Interpreter::new(&invocation.progname) else {
        interpreter::message(
            Some(&invocation.progname),
            b"cannot create state: not enough memory",
        );
        return 1;
    };
    match interpreter.main(invocation) {
        interpreter::Startup::Failed => 1,
        interpreter::Startup::Done => 0,
        interpreter::Startup::Interactive => {
            repl::run(&mut interpreter);
            0
        }
    }
}

/// `LUA_INIT_5_4`, or else `LUA_INIT`: (chunk name `=VAR`, value).
fn lua_init() -> Option<(CString, CString)> {
    ["LUA_INIT_5_4", "LUA_INIT"].into_iter().find_map(|var| {
        let value = std::env::var_os(var)?;
        let name = CString::new(format!("={var}")).expect("no NUL in a variable name");
        let value = CString::new(value.into_vec()).expect("an environment value has no NUL");
        Some((name, value))
    })
}
