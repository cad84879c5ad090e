//! C modules under the `jitffi` runner: a `.so` built against Lua 5.4's headers and
//! linked to no liblua must load with `require` and find the whole Lua C API in the
//! runner (build.rs exports it), as it does in `lua5.4`.
//!
//! The module is generated from the vendored headers: it takes the address of every
//! function that `lua.h`, `lauxlib.h` and `lualib.h` declare, so that loading it
//! (`dlopen` with RTLD_NOW, as Lua's `require` does) fails if a single one is missing,
//! and it has a few functions that use the API for real.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

mod target_program;

const JITFFI: &str = env!("CARGO_BIN_EXE_jitffi");
/// The vendored Lua's header directory, from mlua-sys through build.rs.
const LUA_INCLUDE: &str = env!("JITFFI_LUA_INCLUDE");

/// The functions a header declares: `LUA_API int (lua_gettop) (lua_State *L);` and the
/// same with `LUALIB_API` and `LUAMOD_API`; the name is the first parenthesized word.
fn api_functions(header: &str) -> Vec<String> {
    let text = std::fs::read_to_string(Path::new(LUA_INCLUDE).join(header))
        .unwrap_or_else(|e| panic!("{header}: {e}"));
    text.lines()
        .filter(|line| {
            ["LUA_API", "LUALIB_API", "LUAMOD_API"]
                .iter()
                .any(|mark| line.starts_with(mark))
        })
        .filter_map(|line| {
            let start = line.find('(')? + 1;
            let name = &line[start..start + line[start..].find(')')?];
            let is_word =
                !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
            is_word.then(|| name.to_owned())
        })
        .collect()
}

/// The C source of module `apicheck`.
fn module_source(functions: &[String]) -> String {
    let mut table = String::new();
    for name in functions {
        let _ = writeln!(table, "    (api_function)&{name},");
    }
    format!(
        r#"#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

typedef void (*api_function)(void);

/* Every function of the API, so that loading this module resolves each of them. */
static api_function const every_api_function[] = {{
{table}}};

static int api_count(lua_State *L) {{
    lua_pushinteger(L, (lua_Integer)(sizeof every_api_function / sizeof every_api_function[0]));
    return 1;
}}

/* sum(a, b, ...): the integers' sum, through the auxiliary library's checks. */
static int sum(lua_State *L) {{
    lua_Integer total = 0;
    for (int i = 1; i <= lua_gettop(L); i++)
        total += luaL_checkinteger(L, i);
    lua_pushinteger(L, total);
    return 1;
}}

/* box(n): a userdata with a metatable whose __index answers "value". */
static int box_index(lua_State *L) {{
    lua_Integer *n = luaL_checkudata(L, 1, "apicheck.box");
    lua_pushinteger(L, *n);
    return 1;
}}

static int box(lua_State *L) {{
    lua_Integer *n = lua_newuserdatauv(L, sizeof *n, 0);
    *n = luaL_checkinteger(L, 1);
    luaL_setmetatable(L, "apicheck.box");
    return 1;
}}

int luaopen_apicheck(lua_State *L) {{
    static const luaL_Reg functions[] = {{
        {{"api_count", api_count}}, {{"sum", sum}}, {{"box", box}}, {{NULL, NULL}}}};
    luaL_newmetatable(L, "apicheck.box");
    lua_pushcfunction(L, box_index);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    luaL_newlib(L, functions);
    return 1;
}}
"#
    )
}

/// Compiles `apicheck.so` into a scratch directory and returns the directory.
fn build_module(functions: &[String]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c-modules");
    std::fs::create_dir_all(&dir).unwrap();
    let source = dir.join("apicheck.c");
    std::fs::write(&source, module_source(functions)).unwrap();
    let cc = target_program::c_compiler();
    let mut command = Command::new(cc);
    command
        .args(["-std=c99", "-shared", "-fPIC", "-O1", "-Wall", "-Werror"])
        .arg("-I")
        .arg(LUA_INCLUDE)
        .arg(&source)
        .arg("-o")
        .arg(dir.join("apicheck.so"));
    if cfg!(target_os = "macos") {
        command.args(["-undefined", "dynamic_lookup"]);
    }
    let output = command
        .output()
        .expect("run cc (needed to build a C module)");
    assert!(
        output.status.success(),
        "cc failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    dir
}

#[test]
fn c_module_finds_the_whole_lua_api_in_the_runner() {
    let mut functions = Vec::new();
    for header in ["lua.h", "lauxlib.h", "lualib.h"] {
        functions.extend(api_functions(header));
    }
    // Lua 5.4's headers declare about 150 functions; far fewer means the scan broke.
    assert!(
        functions.len() > 120,
        "only {} functions found in the headers: {functions:?}",
        functions.len()
    );
    let dir = build_module(&functions);
    let script = "local m = require 'apicheck' \
                  print(m.api_count(), m.sum(1, 2, 39), m.box(7).anything, \
                        select(2, pcall(m.sum, 1, 'x')))";
    let output = target_program::command(JITFFI)
        .args(["-e", script])
        .env("LUA_CPATH", dir.join("?.so"))
        .env_remove("LUA_CPATH_5_4")
        .env_remove("LUA_INIT")
        .env_remove("LUA_INIT_5_4")
        .output()
        .expect("run jitffi");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the module did not load or run under jitffi:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        stdout,
        format!(
            "{}\t42\t7\tbad argument #2 to 'apicheck.sum' (number expected, got string)\n",
            functions.len()
        )
    );
}
