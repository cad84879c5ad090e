//! The C side of the benchmarks, compiled with the system `cc` (or `$CC`) into
//! `target/bench/`:
//!
//! - `cbind.so`: the hand-written userdata binding of the cdata shapes
//!   (bench/native/cbind.c), a Lua 5.4 module;
//! - `libcallee.so`: the functions the call benchmarks call (bench/native/callee.c), a
//!   plain C library that the ffi loads with `ffi.load(path, true)`;
//! - `cbind_calls.so`: the hand-written binding of those functions
//!   (bench/native/cbind_calls.c), a Lua 5.4 module linked to `libcallee.so` (found next
//!   to it through `$ORIGIN`).
//! - `cbind_tight.so`: the tightest binding of a small struct (bench/native/cbind_tight.c),
//!   the lower floor of field access, built twice: for Lua 5.4 into `target/bench/` and
//!   for Lua 5.1 (against the lua-src crate's 5.1 headers) into `target/bench/lua5.1/`.
//! - `cbind_callbacks.so`: the floor of the callback benchmarks
//!   (bench/native/cbind_callbacks.c), a module that calls Lua functions from C through
//!   the C API, linked to `libcallee.so` (its `call_repeatedly`) the same way; built for
//!   Lua 5.4 into `target/bench/` and for Lua 5.1 into `target/bench/lua5.1/`.
//!
//! The modules are compiled against the Lua 5.4 headers of the `lua-src` crate (the Lua
//! the `jitffi` runner embeds) and link to no liblua: the interpreter that loads them,
//! stock `lua5.4` or `jitffi`, provides the API. `$CBIND_CFLAGS` is added to every
//! module (for example `-DCBIND_UNCHECKED`).

use std::path::{Path, PathBuf};
use std::process::Command;

/// What [`build`] wrote.
pub struct NativeBuilds {
    /// `target/bench`, the directory of every module and library below.
    pub dir: PathBuf,
    /// `libcallee.so`, for `JITFFI_BENCH_CALLEE`.
    pub callee: PathBuf,
}

/// Builds the libraries and modules into `target/bench/`.
pub fn build(root: &Path) -> Result<NativeBuilds, String> {
    let include = lua54_include(root)?;
    let native = root.join("bench/native");
    let dir = root.join("target/bench");
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let module_flags = || -> Vec<String> {
        let mut flags = Vec::new();
        if let Some(extra) = std::env::var_os("CBIND_CFLAGS") {
            flags.extend(
                extra
                    .to_string_lossy()
                    .split_whitespace()
                    .map(str::to_owned),
            );
        }
        if cfg!(target_os = "macos") {
            // Lua's symbols come from the interpreter that loads the module.
            flags.extend(["-undefined".to_owned(), "dynamic_lookup".to_owned()]);
        }
        flags
    };

    compile(&native.join("cbind.c"), &dir.join("cbind.so"), |command| {
        command.arg("-I").arg(&include).args(module_flags());
    })?;
    compile(
        &native.join("cbind_tight.c"),
        &dir.join("cbind_tight.so"),
        |command| {
            command.arg("-I").arg(&include).args(module_flags());
        },
    )?;
    let lua51_dir = dir.join("lua5.1");
    std::fs::create_dir_all(&lua51_dir)
        .map_err(|e| format!("cannot create {}: {e}", lua51_dir.display()))?;
    let include51 = lua51_include(&include)?;
    compile(
        &native.join("cbind_tight.c"),
        &lua51_dir.join("cbind_tight.so"),
        |command| {
            command.arg("-I").arg(&include51).args(module_flags());
        },
    )?;
    let callee = dir.join("libcallee.so");
    compile(&native.join("callee.c"), &callee, |command| {
        command.arg("-I").arg(&native);
    })?;
    for module in ["cbind_calls", "cbind_callbacks"] {
        compile(
            &native.join(format!("{module}.c")),
            &dir.join(format!("{module}.so")),
            |command| {
                command
                    .arg("-I")
                    .arg(&include)
                    .arg("-I")
                    .arg(&native)
                    .args(module_flags())
                    .arg("-L")
                    .arg(&dir)
                    .args(["-lcallee", "-Wl,-rpath,$ORIGIN"]);
            },
        )?;
    }
    // The callbacks' floor in lua5.1 too; libcallee.so is one directory up.
    compile(
        &native.join("cbind_callbacks.c"),
        &lua51_dir.join("cbind_callbacks.so"),
        |command| {
            command
                .arg("-I")
                .arg(&include51)
                .arg("-I")
                .arg(&native)
                .args(module_flags())
                .arg("-L")
                .arg(&dir)
                .args(["-lcallee", "-Wl,-rpath,$ORIGIN/.."]);
        },
    )?;
    Ok(NativeBuilds { dir, callee })
}

/// Compiles one C file into a shared object with `-O2 -fPIC` and what `configure` adds.
fn compile(
    source: &Path,
    output: &Path,
    configure: impl FnOnce(&mut Command),
) -> Result<(), String> {
    let mut command = Command::new(std::env::var_os("CC").unwrap_or_else(|| "cc".into()));
    command
        .args(["-std=c99", "-O2", "-fPIC", "-shared", "-Wall", "-Wextra"])
        .arg(source)
        .arg("-o")
        .arg(output);
    configure(&mut command);
    let status = command
        .status()
        .map_err(|e| format!("cannot run cc: {e}"))?;
    if !status.success() {
        return Err(format!("compiling {} failed", source.display()));
    }
    Ok(())
}

/// The directory holding Lua 5.4's `lua.h`: `$LUA54_INCLUDE` if set, else the Lua source
/// that the `lua-src` crate vendors (the one the `jitffi` runner embeds), found through
/// `cargo metadata` so that it is the version Cargo.lock names. The metadata is filtered
/// to the host's platform: offline, the other platforms' dependencies (windows-link, ...)
/// are not downloaded.
fn lua54_include(root: &Path) -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("LUA54_INCLUDE") {
        return Ok(dir.into());
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline"])
        .args(["--filter-platform", &host_triple()?])
        .current_dir(root)
        .output()
        .map_err(|e| format!("cargo metadata: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "cargo metadata failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let metadata = String::from_utf8_lossy(&output.stdout);
    let not_found = || {
        "no Lua 5.4 headers: the lua-src crate is not in `cargo metadata` \
         (set LUA54_INCLUDE to a directory with lua.h)"
            .to_owned()
    };
    // Each package has `"manifest_path":"<dir>/Cargo.toml"`; lua-src's dir holds lua-5.4.N.
    let crate_dir = metadata
        .split("\"manifest_path\":\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|path| path.contains("/lua-src-"))
        .and_then(|manifest| Path::new(manifest).parent().map(Path::to_path_buf))
        .ok_or_else(not_found)?;
    std::fs::read_dir(&crate_dir)
        .map_err(|e| format!("{}: {e}", crate_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|dir| {
            dir.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("lua-5.4"))
                && dir.join("lua.h").is_file()
        })
        .ok_or_else(not_found)
}

/// The directory holding Lua 5.1's `lua.h`: `$LUA51_INCLUDE` if set, else the
/// `lua-5.1.x` beside the Lua 5.4 sources of the lua-src crate.
fn lua51_include(include54: &Path) -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("LUA51_INCLUDE") {
        return Ok(dir.into());
    }
    let not_found = || {
        format!(
            "no Lua 5.1 headers beside {} (set LUA51_INCLUDE to a directory with lua.h)",
            include54.display()
        )
    };
    let crate_dir = include54.parent().ok_or_else(not_found)?;
    std::fs::read_dir(crate_dir)
        .map_err(|e| format!("{}: {e}", crate_dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|dir| {
            dir.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("lua-5.1"))
                && dir.join("lua.h").is_file()
        })
        .ok_or_else(not_found)
}

/// The host's target triple, from `rustc -vV`.
fn host_triple() -> Result<String, String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let output = Command::new(rustc)
        .arg("-vV")
        .output()
        .map_err(|e| format!("rustc -vV: {e}"))?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .map(str::to_owned)
        .ok_or_else(|| "rustc -vV names no host".to_owned())
}
