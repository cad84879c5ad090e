//! Reads the version banner of the vendored Lua from its `lua.h`, so that `jitffi -v`
//! names the Lua that is really linked in (mlua-sys publishes the header directory as
//! `DEP_LUA_INCLUDE` because it declares `links = "lua"`), and exports the Lua C API
//! from the `jitffi` executable, as `lua5.4` does, so that C modules (`require` of a
//! `.so` built against Lua 5.4's headers, not linked to any liblua) find it.

use std::env;
use std::fs;
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-env-changed=DEP_LUA_INCLUDE");
    export_lua_api();
    if let Some(dir) = env::var_os("DEP_LUA_INCLUDE") {
        // For the test that builds a C module against the same headers
        // (tests/c_modules.rs).
        println!(
            "cargo:rustc-env=JITFFI_LUA_INCLUDE={}",
            dir.to_string_lossy()
        );
    }
    let banner = env::var_os("DEP_LUA_INCLUDE")
        .map(|dir| Path::new(&dir).join("lua.h"))
        .and_then(|header| {
            println!("cargo:rerun-if-changed={}", header.display());
            fs::read_to_string(header).ok()
        })
        .and_then(|text| copyright_from_header(&text));
    let banner = banner.unwrap_or_else(|| {
        println!("cargo:warning=could not read LUA_COPYRIGHT from the vendored lua.h");
        "Lua 5.4  Copyright (C) 1994-2025 Lua.org, PUC-Rio".to_owned()
    });
    println!("cargo:rustc-env=JITFFI_LUA_COPYRIGHT={banner}");
}

/// Puts Lua's `lua_*`, `luaL_*` and `luaopen_*` functions in the runner's dynamic symbol
/// table (lua5.4 exports them with `-Wl,-E`; we list only the API, not Rust's symbols),
/// so that a module loaded by `require` resolves them against the runner. Exported
/// symbols are roots for `--gc-sections`: API functions the runner never calls itself
/// are kept.
fn export_lua_api() {
    let os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "macos" || os == "ios" {
        // Mach-O executables export their symbols already; modules link with
        // `-undefined dynamic_lookup`.
        return;
    }
    let list = Path::new(&env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"))
        .join("lua_api.dynlist");
    println!("cargo:rerun-if-changed={}", list.display());
    println!(
        "cargo:rustc-link-arg-bins=-Wl,--dynamic-list={}",
        list.display()
    );
}

/// Expands `LUA_COPYRIGHT` the way the C preprocessor would for Lua 5.4's `lua.h`:
/// `LUA_RELEASE` is "Lua MAJOR.MINOR.RELEASE", followed by the copyright literal.
fn copyright_from_header(text: &str) -> Option<String> {
    let literal = |name: &str| -> Option<String> {
        text.lines().find_map(|line| {
            let rest = line.strip_prefix("#define")?.trim_start();
            let rest = rest.strip_prefix(name)?;
            if !rest.starts_with([' ', '\t']) {
                return None;
            }
            // The last string literal on the line is the part the macro adds.
            let end = rest.rfind('"')?;
            let start = rest[..end].rfind('"')?;
            Some(rest[start + 1..end].to_owned())
        })
    };
    let major = literal("LUA_VERSION_MAJOR")?;
    let minor = literal("LUA_VERSION_MINOR")?;
    let release = literal("LUA_VERSION_RELEASE")?;
    let tail = literal("LUA_COPYRIGHT")?;
    Some(format!("Lua {major}.{minor}.{release}{tail}"))
}
