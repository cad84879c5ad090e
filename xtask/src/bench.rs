//! `cargo xtask bench [RUNS] [--instructions]`: runs every workload in `bench/*.lua`
//! under stock `lua5.4` (with `ffi.so` and the hand-written C binding `cbind.so` on its
//! `LUA_CPATH`), the release `jitffi`, `luajit -joff` and `luajit`, all in the same run,
//! and prints the median of each and the ratios.
//!
//! A script prints `RESULT <workload>[/<impl>] <seconds>` for times and
//! `BYTES <object>[/<impl>] <bytes>` for memory; `<impl>` is `ffi` when absent, `cbind`
//! for the C binding (bench/native/cbind.c). One column per (interpreter, impl) pair that
//! reported something. Runtimes that are not installed are skipped with a note. Runs are
//! interleaved (run 1 of every runtime, then run 2, ...) so that the machine's load
//! drifts over all of them alike.
//!
//! `--instructions` adds what times on a shared machine cannot give: callgrind's count of
//! instructions per operation of each cdata workload, ffi.so against cbind in lua5.4
//! (through bench/callgrind.sh, which also leaves the profiles in target/bench/).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A program to run the workloads with: a label, the command, its leading arguments and
/// its environment.
struct Runtime {
    label: &'static str,
    command: OsString,
    args: &'static [&'static str],
    env: Vec<(&'static str, OsString)>,
}

/// A column of the tables: what ran (runtime label, implementation).
type Column = (&'static str, String);

/// Every measurement: `[kind][workload][column]` -> one value per run.
type Measurements = BTreeMap<Kind, BTreeMap<String, BTreeMap<Column, Vec<f64>>>>;

#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Seconds,
    Bytes,
}

/// The column the ratios are about: the ffi loaded by stock Lua 5.4, the same
/// interpreter the C binding runs in.
const OURS: (&str, &str) = ("lua5.4", "ffi");
/// Fallback when stock lua5.4 is not installed.
const OURS_RUNNER: (&str, &str) = ("jitffi", "ffi");

/// What `cargo xtask bench` was asked for.
pub struct Options {
    /// Runs of each script under each runtime; the tables show medians.
    pub runs: usize,
    /// Also count instructions per operation with callgrind.
    pub instructions: bool,
}

pub fn run(root: &Path, options: &Options) -> Result<(), String> {
    let runs = options.runs;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(&cargo)
        .args(["build", "--release", "--quiet", "-p", "jitffi"])
        .current_dir(root)
        .status()
        .map_err(|e| format!("cargo build: {e}"))?;
    if !status.success() {
        return Err("cargo build --release -p jitffi failed".into());
    }
    let ffi_module = crate::build_module(root, "lua54", "lua5.4")?;
    let cbind = build_cbind(root)?;
    let cpath = format!(
        "{};{}",
        ffi_module.with_file_name("?.so").display(),
        cbind.with_file_name("?.so").display()
    );
    let lua_env = || {
        vec![
            ("LUA_CPATH_5_4", OsString::from(&cpath)),
            ("LUA_CPATH", OsString::from(&cpath)),
        ]
    };
    let runtimes = [
        Runtime {
            label: "lua5.4",
            command: "lua5.4".into(),
            args: &[],
            env: lua_env(),
        },
        Runtime {
            label: "jitffi",
            command: root.join("target/release/jitffi").into(),
            args: &[],
            env: lua_env(),
        },
        Runtime {
            label: "luajit -joff",
            command: "luajit".into(),
            args: &["-joff"],
            env: Vec::new(),
        },
        Runtime {
            label: "luajit",
            command: "luajit".into(),
            args: &[],
            env: Vec::new(),
        },
    ];
    let mut scripts: Vec<_> = std::fs::read_dir(root.join("bench"))
        .map_err(|e| format!("bench/: {e}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "lua"))
        .collect();
    scripts.sort();

    let mut measured = Measurements::new();
    let mut missing = vec![false; runtimes.len()];
    for _ in 0..runs {
        for script in &scripts {
            for (runtime, missing) in runtimes.iter().zip(&mut missing) {
                if *missing {
                    continue;
                }
                let output = match Command::new(&runtime.command)
                    .args(runtime.args)
                    .arg(script)
                    .envs(runtime.env.iter().map(|(k, v)| (k, v)))
                    .current_dir(root)
                    .output()
                {
                    Ok(output) => output,
                    Err(e) => {
                        eprintln!("note: {} not run ({e})", runtime.label);
                        *missing = true;
                        continue;
                    }
                };
                if !output.status.success() {
                    return Err(format!(
                        "{} {} failed:\n{}",
                        runtime.label,
                        script.display(),
                        String::from_utf8_lossy(&output.stderr)
                    ));
                }
                for line in String::from_utf8_lossy(&output.stdout).lines() {
                    record(&mut measured, runtime.label, line)?;
                }
            }
        }
    }

    println!(
        "median of {runs} runs. ffi.so: ours, in stock lua5.4; cbind: the hand-written C \
         binding in the same lua5.4;\n/x: ffi.so's time divided by x's; -x: ffi.so's bytes \
         minus x's\n"
    );
    if let Some(rows) = measured.get(&Kind::Seconds) {
        println!("seconds per operation, as each workload defines it");
        print_table(rows, Kind::Seconds);
    }
    if let Some(rows) = measured.get(&Kind::Bytes) {
        println!("\nbytes per live object (cbind: a bare userdata of the same payload)");
        print_table(rows, Kind::Bytes);
    }
    if options.instructions {
        print_instructions(root, &cpath)?;
    }
    Ok(())
}

/// Counts instructions per operation of every cdata workload under lua5.4 (ffi.so and
/// cbind) with bench/callgrind.sh and prints them with the ratio.
fn print_instructions(root: &Path, cpath: &str) -> Result<(), String> {
    // A run at the smallest scale lists every `<workload>/<impl>` it measures.
    let listing = Command::new("lua5.4")
        .arg("bench/cdata.lua")
        .arg("1e-9")
        .env("LUA_CPATH_5_4", cpath)
        .current_dir(root)
        .output()
        .map_err(|e| format!("lua5.4: {e}"))?;
    let labels: Vec<String> = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .filter_map(|line| {
            let (label, count) = line.strip_prefix("# ")?.split_once(": ")?;
            count.ends_with(" operations").then(|| label.to_owned())
        })
        .collect();
    // counts[workload][impl] = instructions per operation
    let mut counts: BTreeMap<String, BTreeMap<String, u64>> = BTreeMap::new();
    for label in &labels {
        eprintln!("xtask: callgrind {label}");
        let output = Command::new("sh")
            .arg("bench/callgrind.sh")
            .arg(label)
            .current_dir(root)
            .output()
            .map_err(|e| format!("bench/callgrind.sh: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "bench/callgrind.sh {label} failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        let count = stdout
            .lines()
            .find_map(|line| {
                let rest = line.strip_prefix(label.as_str())?.strip_prefix(": ")?;
                rest.strip_suffix(" instructions per operation")?
                    .parse()
                    .ok()
            })
            .ok_or_else(|| format!("bench/callgrind.sh {label}: no count in {stdout}"))?;
        let (workload, implementation) = label.rsplit_once('/').unwrap_or((label, "ffi"));
        counts
            .entry(workload.to_owned())
            .or_default()
            .insert(implementation.to_owned(), count);
    }
    println!("\ninstructions per operation in lua5.4 (callgrind; profiles in target/bench/)");
    println!(
        "{:<12}{:>15}{:>15}{:>9}",
        "workload", "cbind", "ffi.so", "/cbind"
    );
    for (workload, by_impl) in &counts {
        let cell = |implementation: &str| {
            by_impl
                .get(implementation)
                .map_or_else(|| "-".to_owned(), u64::to_string)
        };
        let ratio = match (by_impl.get("ffi"), by_impl.get("cbind")) {
            (Some(&ours), Some(&floor)) if floor > 0 => {
                format!("{:.2}", ours as f64 / floor as f64)
            }
            _ => "-".to_owned(),
        };
        println!(
            "{workload:<12}{:>15}{:>15}{ratio:>9}",
            cell("cbind"),
            cell("ffi")
        );
    }
    Ok(())
}

/// Files one output line of a script under `runtime`, if it is a RESULT or BYTES line.
fn record(measured: &mut Measurements, runtime: &'static str, line: &str) -> Result<(), String> {
    let mut words = line.split_whitespace();
    let kind = match words.next() {
        Some("RESULT") => Kind::Seconds,
        Some("BYTES") => Kind::Bytes,
        _ => return Ok(()),
    };
    let (Some(name), Some(value)) = (words.next(), words.next()) else {
        return Err(format!("bad line: {line}"));
    };
    let value: f64 = value.parse().map_err(|_| format!("bad line: {line}"))?;
    let (workload, implementation) = name.rsplit_once('/').unwrap_or((name, "ffi"));
    measured
        .entry(kind)
        .or_default()
        .entry(workload.to_owned())
        .or_default()
        .entry((runtime, implementation.to_owned()))
        .or_default()
        .push(value);
    Ok(())
}

/// Prints one row per workload: a median per column, then our ratio to each other
/// column (for bytes: our difference, which the target bounds by 8).
fn print_table(rows: &BTreeMap<String, BTreeMap<Column, Vec<f64>>>, kind: Kind) {
    let mut columns: Vec<Column> = rows.values().flat_map(|r| r.keys().cloned()).collect();
    columns.sort_by_key(column_rank);
    columns.dedup();
    let ours = columns
        .iter()
        .find(|c| (c.0, c.1.as_str()) == OURS)
        .or_else(|| columns.iter().find(|c| (c.0, c.1.as_str()) == OURS_RUNNER))
        .cloned();
    let others: Vec<&Column> = columns
        .iter()
        .filter(|c| Some(*c) != ours.as_ref())
        .collect();

    print!("{:<12}", "workload");
    for column in &columns {
        print!("{:>15}", heading(column));
    }
    let compare = match kind {
        Kind::Seconds => "/",
        Kind::Bytes => "-",
    };
    for other in &others {
        print!("{:>9}", format!("{compare}{}", short_heading(other)));
    }
    println!();
    for (name, by_column) in rows {
        print!("{name:<12}");
        let median_of = |c: &Column| by_column.get(c).map(|t| median(t));
        for column in &columns {
            match (median_of(column), kind) {
                (Some(t), Kind::Seconds) => print!("{:>15}", seconds_text(t)),
                (Some(b), Kind::Bytes) => print!("{b:>15.1}"),
                (None, _) => print!("{:>15}", "-"),
            }
        }
        let ours = ours.as_ref().and_then(median_of);
        for other in &others {
            let text = match (ours, median_of(other), kind) {
                (Some(a), Some(b), Kind::Seconds) if b > 0.0 => format!("{:.2}", a / b),
                (Some(a), Some(b), Kind::Bytes) => format!("{:+.1}", a - b),
                _ => "-".into(),
            };
            print!("{text:>9}");
        }
        println!();
    }
}

/// The order of the columns: the C floor, ours, the runner, then LuaJIT.
fn column_rank(column: &Column) -> (usize, String) {
    let rank = match (column.0, column.1.as_str()) {
        ("lua5.4", "cbind") => 0,
        ("lua5.4", "ffi") => 1,
        ("jitffi", "ffi") => 2,
        ("luajit -joff", "ffi") => 3,
        ("luajit", "ffi") => 4,
        _ => 5,
    };
    (rank, format!("{} {}", column.0, column.1))
}

fn heading(column: &Column) -> String {
    match (column.0, column.1.as_str()) {
        ("lua5.4", "cbind") => "cbind".into(),
        ("lua5.4", "ffi") => "ffi.so".into(),
        (runtime, "ffi") => runtime.into(),
        (runtime, implementation) => format!("{runtime} {implementation}"),
    }
}

/// The heading of a ratio column: ours divided by (or minus) this column.
fn short_heading(column: &Column) -> String {
    match heading(column).as_str() {
        "luajit -joff" => "joff".into(),
        text => text.into(),
    }
}

/// A duration with three significant digits in the unit that suits it.
fn seconds_text(t: f64) -> String {
    let (value, unit) = if t >= 1.0 {
        (t, "s")
    } else if t >= 1e-3 {
        (t * 1e3, "ms")
    } else if t >= 1e-6 {
        (t * 1e6, "us")
    } else {
        (t * 1e9, "ns")
    };
    let decimals = if value >= 100.0 {
        0
    } else if value >= 10.0 {
        1
    } else {
        2
    };
    format!("{value:.decimals$} {unit}")
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}

/// Compiles bench/native/cbind.c against the Lua 5.4 headers into
/// `target/bench/cbind.so` with the system `cc` (or `$CC`) and `$CBIND_CFLAGS`, and
/// returns its path.
fn build_cbind(root: &Path) -> Result<PathBuf, String> {
    let include = lua54_include(root)?;
    let source = root.join("bench/native/cbind.c");
    let out_dir = root.join("target/bench");
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    let output = out_dir.join("cbind.so");
    let mut command = Command::new(std::env::var_os("CC").unwrap_or_else(|| "cc".into()));
    command
        .args(["-std=c99", "-O2", "-fPIC", "-shared", "-Wall", "-Wextra"])
        .arg("-I")
        .arg(&include)
        .arg(&source)
        .arg("-o")
        .arg(&output);
    if let Some(flags) = std::env::var_os("CBIND_CFLAGS") {
        // For example -DCBIND_UNCHECKED (see cbind.c).
        command.args(flags.to_string_lossy().split_whitespace());
    }
    if cfg!(target_os = "macos") {
        // Lua's symbols come from the interpreter that loads the module.
        command.args(["-undefined", "dynamic_lookup"]);
    }
    let status = command
        .status()
        .map_err(|e| format!("cannot run cc: {e}"))?;
    if !status.success() {
        return Err(format!("compiling {} failed", source.display()));
    }
    Ok(output)
}

/// The directory holding Lua 5.4's `lua.h`: `$LUA54_INCLUDE` if set, else the Lua source
/// that the `lua-src` crate vendors (the one the `jitffi` runner embeds), found through
/// `cargo metadata` so that it is the version Cargo.lock names.
fn lua54_include(root: &Path) -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("LUA54_INCLUDE") {
        return Ok(dir.into());
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--offline"])
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
