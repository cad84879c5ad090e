//! The runner's `package.path` and `package.cpath` are those of the system's `lua5.4`:
//! the same defaults (Debian's directories and LuaRocks' `/usr/local` ones), the same
//! reading of `LUA_PATH_5_4`/`LUA_PATH` (and `LUA_CPATH...`, `;;` for the default), the
//! same `-E`; and a C module the distribution installed loads under it.
//!
//! Needs lua5.4 (the reference) and Debian's lua-filesystem (`apt-get install
//! lua5.4 lua-filesystem`, as .ci/run does); fails without them.

use std::path::Path;
use std::process::Command;

mod target_program;

const JITFFI: &str = env!("CARGO_BIN_EXE_jitffi");

const PRINT_PATHS: &str = "io.write(package.path, '\\n', package.cpath, '\\n')";

/// `program -e PRINT_PATHS` with `args` before it, in an environment without any of
/// Lua's variables except `env`: its stdout.
fn paths(program: &str, args: &[&str], env: &[(&str, &str)]) -> String {
    // The runner is the executable under test; any other program is an interpreter on
    // PATH.
    let mut command = if program == JITFFI {
        target_program::command(program)
    } else {
        Command::new(program)
    };
    for variable in [
        "LUA_INIT",
        "LUA_INIT_5_4",
        "LUA_PATH",
        "LUA_PATH_5_4",
        "LUA_CPATH",
        "LUA_CPATH_5_4",
    ] {
        command.env_remove(variable);
    }
    let output = command
        .args(args)
        .args(["-e", PRINT_PATHS])
        .envs(env.iter().copied())
        .output()
        .unwrap_or_else(|err| panic!("cannot run {program} (apt-get install lua5.4): {err}"));
    assert!(
        output.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("paths are UTF-8")
}

/// The runner and lua5.4 print the same paths for `args` under `env`.
fn same_paths_as_lua54(args: &[&str], env: &[(&str, &str)]) -> String {
    let ours = paths(JITFFI, args, env);
    assert_eq!(
        ours,
        paths("lua5.4", args, env),
        "args {args:?}, env {env:?}"
    );
    ours
}

#[test]
fn defaults_are_the_system_lua54s() {
    let defaults = same_paths_as_lua54(&[], &[]);
    assert!(
        defaults.contains("/usr/share/lua/5.4/?.lua;")
            && defaults.contains("/usr/local/share/lua/5.4/?.lua;")
            && defaults.contains("/lua/5.4/?.so;"),
        "{defaults}"
    );
}

#[test]
fn environment_variables_are_read_as_lua54_reads_them() {
    for env in [
        &[("LUA_PATH", "/p/?.lua"), ("LUA_CPATH", "/c/?.so")][..],
        &[("LUA_PATH", "/p/?.lua;;"), ("LUA_CPATH", ";;/c/?.so")],
        &[("LUA_PATH", "/p/?.lua;;/q/?.lua"), ("LUA_CPATH", ";;")],
        &[
            ("LUA_PATH", "/plain/?.lua"),
            ("LUA_PATH_5_4", "/versioned/?.lua;;"),
        ],
        &[
            ("LUA_CPATH", "/plain/?.so"),
            ("LUA_CPATH_5_4", "/versioned/?.so"),
        ],
        &[("LUA_PATH", "")],
    ] {
        same_paths_as_lua54(&[], env);
    }
    let chosen = paths(JITFFI, &[], &[("LUA_PATH", "/p"), ("LUA_PATH_5_4", "/v")]);
    assert!(chosen.starts_with("/v\n"), "{chosen}");
}

#[test]
fn minus_e_ignores_the_variables() {
    let env = [("LUA_PATH_5_4", "/v/?.lua"), ("LUA_CPATH", "/c/?.so")];
    let ignored = same_paths_as_lua54(&["-E"], &env);
    assert_eq!(ignored, paths(JITFFI, &[], &[]));
}

/// lfs.so of Debian's lua-filesystem (built for Lua 5.4, not linked to any liblua) finds
/// the Lua API in the runner. Only the runner looks for it: for another architecture it
/// is in the tree of JITFFI_RUN_PREFIX's emulator, which this test does not see.
#[test]
fn a_module_of_the_distribution_loads() {
    let lfs = Path::new("/usr/lib")
        .join(if cfg!(target_arch = "aarch64") {
            "aarch64-linux-gnu"
        } else {
            "x86_64-linux-gnu"
        })
        .join("lua/5.4/lfs.so");
    let script = format!(
        "local lfs = require 'lfs'
         assert(package.searchpath('lfs', package.cpath) == '{}')
         assert(lfs.attributes('/', 'mode') == 'directory')
         io.write(lfs._VERSION)",
        lfs.display()
    );
    let output = target_program::command(JITFFI)
        .env_remove("LUA_CPATH")
        .env_remove("LUA_CPATH_5_4")
        .args(["-e", &script])
        .output()
        .expect("run jitffi");
    assert!(
        output.status.success(),
        "require 'lfs' failed (the test needs {}: apt-get install lua-filesystem): {}",
        lfs.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).starts_with("LuaFileSystem"));
}
