//! LuaJIT's number literals (`123LL`, `0x10ULL`, `1llu`, `12.5i`) in every kind of chunk
//! the runner loads: the script, `-e`, `LUA_INIT`, stdin, the REPL, `require`d modules,
//! `load`, `loadstring`, `loadfile` and `dofile`; and LuaJIT's environment (`bit`,
//! `jit`) present from the start, without `require "ffi"`.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};
use std::sync::OnceLock;

mod target_program;

const JITFFI: &str = env!("CARGO_BIN_EXE_jitffi");

/// A scratch directory with a module and a file that use literals.
fn scratch() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("literal-tests");
        fs::create_dir_all(&dir).unwrap();
        fs::write(
            dir.join("literal_module.lua"),
            "local M = {}\nM.big = 0xffffffffffffffffULL\nM.line = debug.getinfo(1, 'l').currentline\nreturn M\n",
        )
        .unwrap();
        fs::write(dir.join("literal_file.lua"), "return 9007199254740993LL, 2.5i\n").unwrap();
        fs::write(
            dir.join("literal_script.lua"),
            "#!/usr/bin/env jitffi\nlocal x = 1LL\nprint(x, 0x10ULL, 1llu, 12.5i)\nerror('line four')\n",
        )
        .unwrap();
        dir
    })
}

/// Runs the runner in the scratch directory with `args`, `stdin` and extra `env`.
fn run(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut child = target_program::command(JITFFI)
        .args(args)
        .current_dir(scratch())
        .env_remove("LUA_INIT")
        .env_remove("LUA_INIT_5_4")
        .env("LUA_PATH", "./?.lua")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run jitffi");
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    child.wait_with_output().unwrap()
}

/// The stdout of a run that must succeed.
fn stdout_of(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> String {
    let output = run(args, stdin, env);
    assert!(output.status.success(), "{args:?} failed: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn a_script_reads_literals_and_keeps_its_line_numbers() {
    let output = run(&["literal_script.lua"], "", &[]);
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "1LL\t16ULL\t1ULL\t0+12.5i\n"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(": literal_script.lua:4: line four\n"),
        "{stderr}"
    );
}

#[test]
fn execute_option_and_lua_init_read_literals() {
    let out = stdout_of(
        &[
            "-e",
            "print(123LL, 0x7fffffffffffffffLL, 18446744073709551615ULL)",
        ],
        "",
        &[],
    );
    assert_eq!(
        out,
        "123LL\t9223372036854775807LL\t18446744073709551615ULL\n"
    );
    let out = stdout_of(&["-e", "print(x)"], "", &[("LUA_INIT", "x = 5LL + 1")]);
    assert_eq!(out, "6LL\n");
}

#[test]
fn stdin_and_the_repl_read_literals() {
    assert_eq!(stdout_of(&["-"], "print(2LL * 3)", &[]), "6LL\n");
    assert_eq!(stdout_of(&[], "print(1i)", &[]), "0+1i\n");
    let out = stdout_of(&["-i"], "x = 7LL\nx + 1LL\n", &[]);
    assert!(out.contains("8LL"), "{out}");
}

#[test]
fn require_loadfile_and_dofile_read_literals() {
    let out = stdout_of(
        &[
            "-e",
            "local m = require 'literal_module' print(m.big, m.line)",
        ],
        "",
        &[],
    );
    assert_eq!(out, "18446744073709551615ULL\t3\n");
    let out = stdout_of(
        &[
            "-e",
            "print(loadfile('literal_file.lua')()) print(dofile('literal_file.lua'))",
        ],
        "",
        &[],
    );
    assert_eq!(
        out,
        "9007199254740993LL\t0+2.5i\n9007199254740993LL\t0+2.5i\n"
    );
}

#[test]
fn load_and_loadstring_read_literals() {
    let out = stdout_of(
        &[
            "-e",
            "print(load('return 1LL')(), loadstring('return 2ULL')(), \
             load('return 3i', 'x', 't', {})())",
        ],
        "",
        &[],
    );
    assert_eq!(out, "1LL\t2ULL\t0+3i\n");
    // A reader function, and the chunk name of a string chunk (the original text).
    let out = stdout_of(
        &[
            "-e",
            "local parts = {'return ', '4LL'} \
             print(load(function() return table.remove(parts, 1) end)()) \
             print(select(2, pcall(load('error(5LL)'))))",
        ],
        "",
        &[],
    );
    assert_eq!(out, "4LL\n5LL\n");
    let out = stdout_of(&["-e", "print(select(2, load('x = 1LL +')))"], "", &[]);
    assert_eq!(
        out,
        "[string \"x = 1LL +\"]:1: unexpected symbol near <eof>\n"
    );
}

#[test]
fn malformed_literals_stay_syntax_errors() {
    let output = run(&["-e", "x = 1.5LL"], "", &[]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("malformed number near '1.5L"), "{stderr}");
}

#[test]
fn luajit_environment_is_there_from_the_start() {
    let out = stdout_of(
        &[
            "-e",
            "print(bit.band(0xff, 0x0f), bit.tohex(1LL), jit.version_num, jit.status(), \
             type(table.new), require('table.new') == table.new, unpack({1, 2}))",
        ],
        "",
        &[],
    );
    assert_eq!(out, "15\t0000000000000001\t20100\tfalse\tnil\ttrue\t1\t2\n");
}
