//! `cargo xtask lua55`: the stand-alone interpreter `target/lua5.5/lua5.5`, which the
//! tests run `target/modules/lua5.5/ffi.so` in, since Debian has no lua5.5. The Lua core
//! and libraries are those of the lua-src crate (the sources mlua-sys's `lua55`
//! bindings come from), built by lua-src's own build into a static library; the
//! program around them is ours (`lua_standalone.c`: lua-src ships no `lua.c`).
//! Offline: lua-src is in the cargo registry with the workspace's other dependencies.
//!
//! Rebuilt only when the interpreter is missing, or was built from another driver or
//! another lua-src (a stamp file next to it records both).

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The program around the Lua core (`main`, options, `arg`, error reports).
const DRIVER: &str = include_str!("lua_standalone.c");

/// Builds `target/lua5.5/lua5.5` if it is not up to date and returns its path.
pub fn build(root: &Path) -> Result<PathBuf, String> {
    let dir = root.join("target/lua5.5");
    let work = dir.join("build");
    let interpreter = dir.join("lua5.5");
    let stamp_path = work.join("stamp");
    let stamp = format!("lua-src {}\n{DRIVER}", lua_src_version(root)?);
    if interpreter.exists() && fs::read_to_string(&stamp_path).ok().as_deref() == Some(&stamp) {
        return Ok(interpreter);
    }
    eprintln!(
        "xtask: building the Lua 5.5 interpreter {}",
        interpreter.display()
    );
    fs::create_dir_all(&work).map_err(|err| format!("cannot create {}: {err}", work.display()))?;
    // Invalidated first, so that a failed build is never taken for a current one.
    let _ = fs::remove_file(&stamp_path);
    let target = target_triple()?;
    let artifacts = lua_src::Build::new()
        .out_dir(&work)
        .target(&target)
        .host(&target)
        .opt_level("2")
        .debug(false)
        .try_build(lua_src::Lua55)
        .map_err(|err| format!("building the Lua 5.5 core (lua-src) failed: {err}"))?;
    let driver = work.join("lua_standalone.c");
    fs::write(&driver, DRIVER)
        .map_err(|err| format!("cannot write {}: {err}", driver.display()))?;
    let library = artifacts.lib_dir().join("liblua5.5.a");
    let cc = env::var_os("CC").unwrap_or_else(|| "cc".into());
    let mut command = Command::new(&cc);
    command
        .args(["-O2", "-g", "-DLUA_USE_LINUX", "-o"])
        .arg(&interpreter)
        .arg(&driver)
        .arg("-I")
        .arg(artifacts.include_dir())
        // The whole core, exported (-E), so that C modules (ffi.so) find every API
        // function at load time, not only those the driver itself calls.
        .arg("-Wl,--whole-archive")
        .arg(&library)
        .args(["-Wl,--no-whole-archive", "-Wl,-E", "-lm", "-ldl"]);
    let status = command
        .status()
        .map_err(|err| format!("cannot run {}: {err}", cc.to_string_lossy()))?;
    if !status.success() {
        return Err(format!(
            "linking the Lua 5.5 interpreter failed ({status}): {command:?}"
        ));
    }
    fs::write(&stamp_path, stamp)
        .map_err(|err| format!("cannot write {}: {err}", stamp_path.display()))?;
    Ok(interpreter)
}

/// The version of lua-src that Cargo.lock pins (the one this xtask was built with).
fn lua_src_version(root: &Path) -> Result<String, String> {
    let lock_path = root.join("Cargo.lock");
    let lock = fs::read_to_string(&lock_path)
        .map_err(|err| format!("cannot read {}: {err}", lock_path.display()))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"lua-src\"" {
            if let Some(version) = lines
                .next()
                .and_then(|line| line.strip_prefix("version = \""))
                .and_then(|rest| rest.strip_suffix('"'))
            {
                return Ok(version.to_owned());
            }
        }
    }
    Err(format!("{} has no lua-src package", lock_path.display()))
}

/// The target triple lua-src builds for: this machine's (jitffi supports x86-64 Linux).
fn target_triple() -> Result<String, String> {
    if cfg!(target_os = "linux") && cfg!(target_env = "gnu") {
        Ok(format!("{}-unknown-linux-gnu", env::consts::ARCH))
    } else {
        Err("the Lua 5.5 interpreter is built on Linux (glibc) only".to_owned())
    }
}
