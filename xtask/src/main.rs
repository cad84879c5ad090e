//! Project chores that cargo alone does not do. Run as `cargo xtask <command>`.
//!
//! - `modules`: build `ffi.so` for each stock Lua (5.1 to 5.4) into
//!   `target/modules/lua5.X/ffi.so`, loadable with
//!   `LUA_CPATH='target/modules/lua5.X/?.so' lua5.X -e 'require "ffi"'`, and a copy of it
//!   named `cbframe.so` (the same library exports `luaopen_cbframe`). With
//!   `JITFFI_TARGET=<triple>` in the environment (tests/target.sh), for that Rust target
//!   instead, into `target/<triple>/modules/lua5.X/`.
//! - `bench [RUNS] [--instructions]`: run `bench/*.lua` under stock lua5.4 (ffi.so and
//!   the hand-written C bindings of bench/native/), jitffi, stock lua5.1 (its ffi.so),
//!   luajit -joff and luajit, and print the medians and ratios; with `--instructions`,
//!   also callgrind's instructions per operation of each workload (see bench.rs).
//! - `callgen [--seed N] [--count N] [--out DIR]`: write the C test library of random
//!   signatures and its Lua driver for tests/callgen.sh (see callgen.rs).

mod bench;
mod bench_native;
mod callgen;

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

/// The Lua versions a module is built for: (cargo feature, directory under
/// target/modules).
const LUA_VERSIONS: &[(&str, &str)] = &[
    ("lua51", "lua5.1"),
    ("lua52", "lua5.2"),
    ("lua53", "lua5.3"),
    ("lua54", "lua5.4"),
];

const USAGE: &str = "usage: cargo xtask <command>

commands:
  modules      build ffi.so for Lua 5.1-5.4 into target/modules/lua5.X/ffi.so
               (and its copy cbframe.so)
  bench [RUNS] [--instructions]
               run bench/*.lua under lua5.4 (ffi.so and the C bindings), jitffi,
               lua5.1, luajit -joff and luajit; print medians and ratios (default 5 runs);
               --instructions: also count instructions per operation with callgrind
  callgen [--seed N] [--count N] [--out DIR]
               write a C library of random signatures and its Lua driver into DIR
               (default target/callgen, seed 1, 300 functions); see tests/callgen.sh";

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("modules") if args.len() == 1 => build_modules(),
        Some("bench") => match bench_options(&args[1..]) {
            Some(options) => bench::run(&workspace_root(), &options),
            None => Err(USAGE.to_owned()),
        },
        Some("callgen") => callgen::main(&workspace_root(), &args[1..]),
        Some("help" | "--help" | "-h") => {
            println!("{USAGE}");
            Ok(())
        }
        _ => Err(USAGE.to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The arguments of `bench`: `[RUNS] [--instructions]` in any order.
fn bench_options(args: &[String]) -> Option<bench::Options> {
    let mut options = bench::Options {
        runs: 5,
        instructions: false,
    };
    let mut runs_given = false;
    for arg in args {
        if arg == "--instructions" && !options.instructions {
            options.instructions = true;
        } else {
            match arg.parse::<usize>() {
                Ok(runs) if runs > 0 && !runs_given => {
                    options.runs = runs;
                    runs_given = true;
                }
                _ => return None,
            }
        }
    }
    Some(options)
}

/// The workspace root: xtask lives one level below it.
fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits inside the workspace")
        .to_path_buf()
}

/// Builds `jitffi-lua` as a module for every Lua version and lists what it wrote.
fn build_modules() -> Result<(), String> {
    let root = workspace_root();
    let target = env::var("JITFFI_TARGET").ok().filter(|t| !t.is_empty());
    let mut written = Vec::new();
    for &(feature, lua) in LUA_VERSIONS {
        let ffi = build_module_for(&root, target.as_deref(), feature, lua)?;
        // `require "cbframe"` finds `luaopen_cbframe` in a copy of the same library (a
        // copy, not a link: Lua loads it as another file; see crates/ffi/src/calls/cbframe.rs
        // for why that is harmless).
        let cbframe = ffi.with_file_name("cbframe.so");
        fs::copy(&ffi, &cbframe).map_err(|err| {
            format!(
                "cannot copy {} to {}: {err}",
                ffi.display(),
                cbframe.display()
            )
        })?;
        written.push(ffi);
        written.push(cbframe);
    }
    for path in &written {
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// Builds `jitffi-lua` as a module for one Lua version in its own target directory (the
/// `lua5X` features of mlua-sys exclude each other, so one directory would rebuild
/// everything at every switch), copies the cdylib to `target/modules/<lua>/ffi.so` (for
/// a cross `target`, `target/<triple>/modules/<lua>/ffi.so`) and returns that path.
fn build_module_for(
    root: &Path,
    target: Option<&str>,
    feature: &str,
    lua: &str,
) -> Result<PathBuf, String> {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = root.join("target/modules-build").join(feature);
    let target_args: Vec<&str> = target.map_or(Vec::new(), |t| vec!["--target", t]);
    eprintln!(
        "xtask: building ffi.so for {lua}{}",
        target.map_or(String::new(), |t| format!(" ({t})"))
    );
    let status = Command::new(&cargo)
        .current_dir(root)
        .args([
            "build",
            "--release",
            "-p",
            "jitffi-lua",
            "--no-default-features",
        ])
        .args(["--features", &format!("{feature},module")])
        .args(&target_args)
        .arg("--target-dir")
        .arg(&target_dir)
        .status()
        .map_err(|err| format!("cannot run cargo: {err}"))?;
    if !status.success() {
        return Err(format!(
            "building the {lua} module failed ({status}); \
             command: cargo build --release -p jitffi-lua --no-default-features \
             --features {feature},module {}--target-dir {}",
            target_args
                .iter()
                .map(|a| format!("{a} "))
                .collect::<String>(),
            target_dir.display()
        ));
    }
    // cargo puts a cross build one level deeper, under the triple.
    let output_root = target.map_or(target_dir.clone(), |t| target_dir.join(t));
    let built = output_root.join("release").join(cdylib_name());
    let target_output = target.map_or(root.join("target"), |t| root.join("target").join(t));
    let destination_dir = target_output.join("modules").join(lua);
    let destination = destination_dir.join("ffi.so");
    fs::create_dir_all(&destination_dir)
        .map_err(|err| format!("cannot create {}: {err}", destination_dir.display()))?;
    fs::copy(&built, &destination).map_err(|err| {
        format!(
            "cannot copy {} to {}: {err}",
            built.display(),
            destination.display()
        )
    })?;
    Ok(destination)
}

/// [`build_module_for`] the host.
fn build_module(root: &Path, feature: &str, lua: &str) -> Result<PathBuf, String> {
    build_module_for(root, None, feature, lua)
}

/// The file name cargo gives the `jitffi_lua` cdylib on this platform. Lua's
/// `package.cpath` looks for `?.so` on every Unix, macOS included.
fn cdylib_name() -> &'static str {
    if cfg!(target_os = "macos") {
        "libjitffi_lua.dylib"
    } else {
        "libjitffi_lua.so"
    }
}
