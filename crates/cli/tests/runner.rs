//! The `jitffi` runner as a user sees it: command line, exit status, stdout and stderr.
//!
//! Every run starts the binary with argv[0] = "jitffi" in a scratch directory holding the
//! scripts of tests/cli/, and without LUA_INIT in the environment. Where `lua5.4` is
//! installed, `same_as_lua54` runs the same command lines under it (also with argv[0] =
//! "jitffi", so the messages match byte for byte) and demands the same results.

use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

mod target_program;

const JITFFI: &str = env!("CARGO_BIN_EXE_jitffi");

/// The scratch directory, filled once with the scripts of tests/cli/.
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("runner-tests");
        fs::create_dir_all(&dir).unwrap();
        let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/cli");
        for entry in fs::read_dir(&scripts).unwrap() {
            let path = entry.unwrap().path();
            fs::copy(&path, dir.join(path.file_name().unwrap())).unwrap();
        }
        dir
    })
}

/// What one run produced.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Self {
        Run {
            status: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

/// Runs `program` as "jitffi" with `args`, feeding `stdin` (empty if `None`).
fn run_program<S: AsRef<OsStr>>(
    program: &str,
    args: &[S],
    stdin: &str,
    env: &[(&str, &str)],
) -> Run {
    // The runner is the executable under test; any other program is an interpreter on
    // PATH.
    let mut command = if program == JITFFI {
        target_program::command_as(program, "jitffi")
    } else {
        target_program::path_command_as(program, "jitffi")
    };
    command
        .args(args)
        .current_dir(scratch())
        .env_remove("LUA_INIT")
        .env_remove("LUA_INIT_5_4")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command
        .spawn()
        .unwrap_or_else(|err| panic!("cannot run {program}: {err}"));
    let mut input = child.stdin.take().unwrap();
    // A program that does not read its stdin may close it first; that is fine.
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    child.wait_with_output().unwrap().into()
}

fn jitffi(args: &[&str]) -> Run {
    run_program(JITFFI, args, "", &[])
}

fn jitffi_with_stdin(args: &[&str], stdin: &str) -> Run {
    run_program(JITFFI, args, stdin, &[])
}

/// Panics when lua5.4 is missing: the comparisons are the test, so a machine without
/// it fails instead of passing them unchecked.
fn require_lua54() {
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    let found = *INSTALLED.get_or_init(|| {
        Command::new("lua5.4")
            .arg("-v")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    });
    assert!(
        found,
        "lua5.4 is not installed (apt-get install lua5.4): the comparisons need it"
    );
}

/// Runs the same command line under jitffi and lua5.4 and demands the same results.
fn same_as_lua54(args: &[&str], stdin: &str, env: &[(&str, &str)]) {
    require_lua54();
    let ours = run_program(JITFFI, args, stdin, env);
    let theirs = run_program("lua5.4", args, stdin, env);
    assert_eq!(ours, theirs, "jitffi and lua5.4 differ on {args:?}");
}

fn usage(complaint: &str) -> String {
    format!(
        "jitffi: {complaint}\n\
         usage: jitffi [options] [script [args]]\n\
         Available options are:\n\
         \x20 -e stat   execute string 'stat'\n\
         \x20 -i        enter interactive mode after executing 'script'\n\
         \x20 -l mod    require library 'mod' into global 'mod'\n\
         \x20 -l g=mod  require library 'mod' into global 'g'\n\
         \x20 -v        show version information\n\
         \x20 -E        ignore environment variables\n\
         \x20 -W        turn warnings on\n\
         \x20 --        stop handling options\n\
         \x20 -         stop handling options and execute stdin\n"
    )
}

#[test]
fn script_gets_its_arguments_and_arg_table() {
    let run = jitffi(&["-W", "args.lua", "one", "two words"]);
    assert_eq!(run.status, Some(0), "{run:?}");
    assert_eq!(
        run.stdout,
        "... = one\ttwo words\n\
         #arg = 2\n\
         arg[-2] = jitffi\n\
         arg[-1] = -W\n\
         arg[0] = args.lua\n\
         arg[1] = one\n\
         arg[2] = two words\n"
    );
    assert_eq!(run.stderr, "");
    same_as_lua54(&["-W", "args.lua", "one", "two words"], "", &[]);
    same_as_lua54(&["--", "args.lua", "-v"], "", &[]);
}

#[test]
fn execute_option_runs_in_order() {
    let run = jitffi(&["-e", "x = 20", "-ex = x + 1", "-e", "print(x * 2)"]);
    assert_eq!((run.status, run.stdout.as_str()), (Some(0), "42\n"));
    same_as_lua54(
        &["-e", "x = 20", "-ex = x + 1", "-e", "print(x * 2)"],
        "",
        &[],
    );
    same_as_lua54(&["-e", "print(arg[0], arg[1], arg[2], arg[-1])"], "", &[]);
}

#[test]
fn library_option_sets_globals() {
    let run = jitffi(&[
        "-l",
        "s=string",
        "-lmodule-v2",
        "-e",
        "print(s == string, module)",
    ]);
    assert_eq!(run.stdout, "true\tloaded module-v2\n", "{run:?}");
    same_as_lua54(
        &[
            "-l",
            "s=string",
            "-lmodule",
            "-e",
            "print(s == string, module)",
        ],
        "",
        &[],
    );
}

#[test]
fn version_option_prints_the_banner() {
    let run = jitffi_with_stdin(&["-v"], "print('stdin must not run')");
    assert_eq!(run.status, Some(0));
    let mut lines = run.stdout.lines();
    let lua = lines.next().unwrap();
    assert!(
        lua.starts_with("Lua 5.4.") && lua.contains("Copyright (C) 1994-"),
        "{lua}"
    );
    assert!(lines.next().unwrap().starts_with("jitffi "));
    assert_eq!(lines.next(), None);
}

#[test]
fn dash_runs_stdin_with_arguments() {
    let script = "print('from stdin', ...) print(arg[0], arg[-1])";
    let run = jitffi_with_stdin(&["-", "a", "b"], script);
    assert_eq!(run.stdout, "from stdin\ta\tb\n-\tjitffi\n", "{run:?}");
    same_as_lua54(&["-", "a", "b"], script, &[]);
}

#[test]
fn piped_stdin_without_script_is_run() {
    let run = jitffi_with_stdin(&[], "print('piped', #arg, arg[0])");
    assert_eq!(
        (run.status, run.stdout.as_str()),
        (Some(0), "piped\t0\tjitffi\n")
    );
    same_as_lua54(&[], "print('piped', #arg, arg[0])", &[]);
    same_as_lua54(&["--"], "print('piped', #arg, arg[0])", &[]);
}

#[test]
fn runtime_error_reports_with_traceback() {
    let run = jitffi(&["error.lua"]);
    assert_eq!(run.status, Some(1));
    assert_eq!(run.stdout, "before\n");
    assert!(
        run.stderr
            .starts_with("jitffi: error.lua:3: boom\nstack traceback:\n"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.ends_with("\t[C]: in ?\n"), "{}", run.stderr);
    same_as_lua54(&["error.lua"], "", &[]);
    for code in [
        "error({})",
        "error()",
        "error(setmetatable({}, {__tostring = function() return 'custom' end}))",
        "error('x', 0)",
        "error(42)",
    ] {
        same_as_lua54(&["-e", code], "", &[]);
    }
}

#[test]
fn syntax_error_is_reported() {
    let run = jitffi(&["syntax.lua"]);
    assert_eq!(run.status, Some(1));
    assert_eq!(
        run.stderr,
        "jitffi: syntax.lua:3: unexpected symbol near <eof>\n"
    );
    same_as_lua54(&["syntax.lua"], "", &[]);
    same_as_lua54(&["missing-file.lua"], "", &[]);
    same_as_lua54(&["-e", "x ="], "", &[]);
}

#[test]
fn os_exit_sets_the_status() {
    assert_eq!(jitffi(&["-e", "os.exit(3)"]).status, Some(3));
    assert_eq!(jitffi(&["-e", "os.exit(true)"]).status, Some(0));
    assert_eq!(jitffi(&["-e", "os.exit(false)"]).status, Some(1));
    let run = jitffi(&["-e", "io.write('flushed') os.exit(5, true)"]);
    assert_eq!((run.status, run.stdout.as_str()), (Some(5), "flushed"));
    same_as_lua54(&["-e", "io.write('flushed') os.exit(5)"], "", &[]);
}

#[test]
fn require_ffi_returns_a_table_and_sets_no_global() {
    let run = jitffi(&[
        "-e",
        "print(type(require 'ffi'), rawget(_G, 'ffi'), require 'ffi' == require 'ffi')",
    ]);
    assert_eq!(run.stdout, "table\tnil\ttrue\n", "{run:?}");
    assert_eq!(run.status, Some(0));
}

#[test]
fn bad_options_print_usage() {
    for (args, complaint) in [
        (&["-x"][..], "unrecognized option '-x'"),
        (&["-vi"][..], "unrecognized option '-vi'"),
        (&["--nosuch", "x"][..], "unrecognized option '--nosuch'"),
        (&["-e"][..], "'-e' needs argument"),
        (&["-l", "-v"][..], "'-l' needs argument"),
    ] {
        let run = jitffi(args);
        assert_eq!(run.status, Some(1), "{args:?}");
        assert_eq!(run.stdout, "");
        assert_eq!(run.stderr, usage(complaint));
        same_as_lua54(args, "", &[]);
    }
}

#[test]
fn repl_prints_results_and_continues_lines() {
    let input = "1+1\n=2\nx = 3\nprint(x)\nfor i = 1, 2 do\nprint(i)\nend\nerror('e')\nreturn 1, nil\n_PROMPT = 'P '\nline = io.read()\nread by io.read\nline\n";
    let run = jitffi_with_stdin(&["-i"], input);
    assert_eq!(run.status, Some(0));
    let mut lines = run.stdout.splitn(3, '\n');
    assert!(lines.next().unwrap().starts_with("Lua 5.4."));
    assert!(lines.next().unwrap().starts_with("jitffi "));
    assert_eq!(
        lines.next().unwrap(),
        "> 2\n> 2\n> > 3\n> >> >> 1\n2\n> > 1\tnil\n> P P read by io.read\nP \n"
    );
    assert_eq!(
        run.stderr,
        "stdin:1: e\nstack traceback:\n\t[C]: in function 'error'\n\tstdin:1: in main chunk\n\t[C]: in ?\n"
    );
}

#[test]
fn repl_after_script_sees_its_globals() {
    let run = jitffi_with_stdin(&["-i", "-e", "answer = 42"], "answer\n");
    assert!(run.stdout.ends_with("> 42\n> \n"), "{run:?}");
}

#[test]
fn lua_init_runs_first_unless_ignored() {
    let init = [("LUA_INIT", "print('init')")];
    let run = run_program(JITFFI, &["-e", "print('main')"], "", &init);
    assert_eq!(run.stdout, "init\nmain\n");
    let run = run_program(JITFFI, &["-E", "-e", "print('main')"], "", &init);
    assert_eq!(run.stdout, "main\n");
    let both = [
        ("LUA_INIT", "print('plain')"),
        ("LUA_INIT_5_4", "print('versioned')"),
    ];
    let run = run_program(JITFFI, &["-e", ""], "", &both);
    assert_eq!(run.stdout, "versioned\n");
    let from_file = [("LUA_INIT", "@args.lua")];
    same_as_lua54(&["-e", "print('main')"], "", &init);
    same_as_lua54(&["-e", ""], "", &both);
    same_as_lua54(&["-e", ""], "", &from_file);
    same_as_lua54(&["-e", ""], "", &[("LUA_INIT", "error('in init')")]);
}

#[test]
fn warnings_follow_minus_w() {
    let run = jitffi(&["-W", "-e", "warn('hello')"]);
    assert_eq!(run.stderr, "Lua warning: hello\n");
    assert_eq!(jitffi(&["-e", "warn('hello')"]).stderr, "");
    same_as_lua54(&["-W", "-e", "warn('a', 'b')"], "", &[]);
}

#[test]
fn stdout_order_is_kept_through_a_pipe() {
    let run = jitffi_with_stdin(&["-v", "-i"], "io.write('a') print('b')\n");
    assert!(run.stdout.ends_with("> ab\n> \n"), "{run:?}");
}

#[test]
fn comparing_a_pointer_with_a_null_cdata_warns_once() {
    // The terminating NULL element reads as nil, which PUC Lua never compares through
    // `__eq`: the loop runs past it (here up to its guard). The comparisons before it
    // reach the ffi, which says so once per process.
    let script = "local ffi = require 'ffi' local NULL = ffi.cast('void *', 0) \
        local a = ffi.new('const char *[3]', {'x', 'y'}) local i = 0 \
        while a[i] ~= NULL and i < 5 do i = i + 1 end \
        print(i, a[2], a[0] == NULL, ffi.cast('void *', 1) == NULL, NULL == ffi.NULL)";
    let run = jitffi(&["-e", script]);
    assert_eq!(run.stdout, "5\tnil\tfalse\tfalse\ttrue\n", "{run:?}");
    assert_eq!(
        run.stderr,
        "jitffi: warning: (command line):1: pointer compared with a NULL pointer cdata; \
         a NULL pointer read from C is nil and never equals it: compare with nil instead\n",
        "{run:?}"
    );
}
