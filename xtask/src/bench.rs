//! `cargo xtask bench [RUNS] [--instructions]`: runs every workload in `bench/*.lua`
//! under stock `lua5.4` (with `ffi.so` and the hand-written C modules `cbind.so`,
//! `cbind_tight.so`, `cbind_calls.so` and `cbind_callbacks.so` on its `LUA_CPATH`), the
//! release `jitffi`, stock `lua5.1` (with its `ffi.so` and the 5.1 builds of
//! `cbind_tight.so` and `cbind_callbacks.so`), `luajit -joff` and `luajit`, all in the
//! same run, and prints, per script, the median of each and the ratios.
//!
//! A script prints `RESULT <workload>[/<impl>] <seconds>` for times,
//! `BYTES <object>[/<impl>] <bytes>` for memory and `NA <workload>[/<impl>] <reason>`
//! for what this runtime's ffi cannot do yet (shown as `n/a`, the reason below the
//! table); `<impl>` is `ffi` when absent, `cbind` or `tight` for a C binding
//! (bench/native/), `lua` for a workload program run over plain Lua tables (the
//! interpreter's own share; no ratio is printed to it). A script may also print `CHECKSUM <workload>/<impl> <value>`: the
//! result of its work, which must be the same under every runtime (else the bench
//! fails). One
//! column per (interpreter, impl) pair that reported something; rows in the order the
//! script printed them. Runtimes that are not installed are skipped with a note. Runs
//! are interleaved (run 1 of every runtime, then run 2, ...) so that the machine's load
//! drifts over all of them alike. The C bindings run in stock lua5.4, next to ffi.so:
//! one floor, in the same interpreter as the ffi it is compared with; the tight binding
//! and the callbacks' binding also in lua5.1.
//!
//! For bench/calls.lua, a second table divides `ffi.C.name(...)` per call (workloads
//! `C.<name>`) by the cached local (`<name>`).
//!
//! `--instructions` adds what times on a shared machine cannot give: callgrind's count of
//! instructions per operation of each workload of the scripts that report operations
//! (cdata.lua, calls.lua, callbacks.lua, workload_*.lua), ffi.so and the C bindings in
//! lua5.4 and lua5.1 and the ffi in `luajit -joff` (through bench/callgrind.sh, which
//! also leaves the profiles in target/bench/).

use crate::bench_native;
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
    env_remove: &'static [&'static str],
}

/// A column of the tables: what ran (runtime label, implementation).
type Column = (&'static str, String);

#[derive(Copy, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Seconds,
    Bytes,
}

/// What one (workload, column) got: a value per run, or why it could not run.
#[derive(Default)]
struct Cell {
    values: Vec<f64>,
    unavailable: Option<String>,
}

impl Cell {
    fn median(&self) -> Option<f64> {
        (!self.values.is_empty()).then(|| median(&self.values))
    }
}

/// The rows of one table, in the order the script first printed them.
#[derive(Default)]
struct Table {
    rows: Vec<(String, Row)>,
}

impl Table {
    fn cell(&mut self, workload: &str, column: Column) -> &mut Cell {
        let index = match self.rows.iter().position(|(name, _)| name == workload) {
            Some(index) => index,
            None => {
                self.rows.push((workload.to_owned(), BTreeMap::new()));
                self.rows.len() - 1
            }
        };
        self.rows[index].1.entry(column).or_default()
    }

    fn row(&self, workload: &str) -> Option<&Row> {
        self.rows
            .iter()
            .find(|(name, _)| name == workload)
            .map(|(_, row)| row)
    }
}

/// One row of a table: a cell per column.
type Row = BTreeMap<Column, Cell>;

/// Every measurement: a table per (script, kind).
type Measurements = BTreeMap<(String, Kind), Table>;

/// The column the ratios are about: the ffi loaded by stock Lua 5.4, the same
/// interpreter the C bindings run in.
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
    let ffi_module51 = crate::build_module(root, "lua51", "lua5.1")?;
    let native = bench_native::build(root)?;
    let cpath = format!(
        "{};{}",
        ffi_module.with_file_name("?.so").display(),
        native.dir.join("?.so").display()
    );
    let cpath51 = format!(
        "{};{}",
        ffi_module51.with_file_name("?.so").display(),
        native.dir.join("lua5.1/?.so").display()
    );
    let callee = ("JITFFI_BENCH_CALLEE", OsString::from(&native.callee));
    let runtimes = [
        Runtime {
            label: "lua5.4",
            command: "lua5.4".into(),
            args: &[],
            env: vec![
                ("LUA_CPATH_5_4", OsString::from(&cpath)),
                ("LUA_CPATH", OsString::from(&cpath)),
                callee.clone(),
            ],
            env_remove: &[],
        },
        Runtime {
            label: "jitffi",
            command: root.join("target/release/jitffi").into(),
            args: &[],
            env: vec![callee.clone()],
            // The ffi is built in; the C bindings are measured once, in lua5.4.
            env_remove: &["LUA_CPATH", "LUA_CPATH_5_4"],
        },
        Runtime {
            label: "lua5.1",
            command: "lua5.1".into(),
            args: &[],
            env: vec![("LUA_CPATH", OsString::from(&cpath51)), callee.clone()],
            env_remove: &[],
        },
        Runtime {
            label: "luajit -joff",
            command: "luajit".into(),
            args: &["-joff"],
            env: vec![callee.clone()],
            env_remove: &[],
        },
        Runtime {
            label: "luajit",
            command: "luajit".into(),
            args: &[],
            env: vec![callee],
            env_remove: &[],
        },
    ];
    let scripts = bench_scripts(root)?;

    let mut measured = Measurements::new();
    // (script, label) -> (the first runtime that printed a checksum, its checksum)
    let mut checksums: BTreeMap<(String, String), (&str, String)> = BTreeMap::new();
    let mut missing = vec![false; runtimes.len()];
    for _ in 0..runs {
        for script in &scripts {
            let name = script_name(script);
            for (runtime, missing) in runtimes.iter().zip(&mut missing) {
                if *missing {
                    continue;
                }
                let mut command = Command::new(&runtime.command);
                command
                    .args(runtime.args)
                    .arg(script)
                    .envs(runtime.env.iter().map(|(k, v)| (k, v)))
                    .current_dir(root);
                for variable in runtime.env_remove {
                    command.env_remove(variable);
                }
                let output = match command.output() {
                    Ok(output) => output,
                    Err(e) => {
                        eprintln!("note: {} not run ({e})", runtime.label);
                        *missing = true;
                        continue;
                    }
                };
                if !output.status.success() {
                    return Err(format!(
                        "{} {} failed ({}):\n{}",
                        runtime.label,
                        script.display(),
                        output.status,
                        String::from_utf8_lossy(&output.stderr)
                    ));
                }
                for line in String::from_utf8_lossy(&output.stdout).lines() {
                    record(&mut measured, &name, runtime.label, line)?;
                    check_checksum(&mut checksums, &name, runtime.label, line)?;
                }
            }
        }
    }

    println!(
        "median of {runs} runs. ffi.so: ours, in stock lua5.4; cbind: the hand-written C \
         binding in the same lua5.4;\n/x: ffi.so's time divided by x's; -x: ffi.so's bytes \
         minus x's; n/a: this ffi cannot run the workload yet"
    );
    for ((script, kind), table) in &measured {
        match kind {
            Kind::Seconds => println!("\n{script}: seconds per operation"),
            Kind::Bytes => println!(
                "\n{script}: bytes per live object (cbind: a bare userdata of the same payload)"
            ),
        }
        print_table(table, *kind);
        if *kind == Kind::Seconds {
            print_per_call_lookup(table);
        }
    }
    if options.instructions {
        print_instructions(root, &scripts, &cpath, &cpath51, &native.callee)?;
    }
    Ok(())
}

/// Files a `CHECKSUM <label> <value>` line of `script` under `runtime`; an error if
/// another runtime printed another value for the same label.
fn check_checksum<'a>(
    checksums: &mut BTreeMap<(String, String), (&'a str, String)>,
    script: &str,
    runtime: &'a str,
    line: &str,
) -> Result<(), String> {
    let Some((label, value)) = line
        .strip_prefix("CHECKSUM ")
        .and_then(|rest| rest.split_once(' '))
    else {
        return Ok(());
    };
    let key = (script.to_owned(), label.to_owned());
    let (first, expected) = checksums
        .entry(key)
        .or_insert_with(|| (runtime, value.to_owned()));
    if expected != value {
        return Err(format!(
            "{script} {label}: checksum {value} under {runtime}, {expected} under {first}"
        ));
    }
    Ok(())
}

/// `bench/*.lua`, sorted.
fn bench_scripts(root: &Path) -> Result<Vec<PathBuf>, String> {
    let mut scripts: Vec<_> = std::fs::read_dir(root.join("bench"))
        .map_err(|e| format!("bench/: {e}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "lua"))
        .collect();
    scripts.sort();
    Ok(scripts)
}

/// `bench/calls.lua` for a script's path: the tables' titles.
fn script_name(script: &Path) -> String {
    let file = script.file_name().unwrap_or_default().to_string_lossy();
    format!("bench/{file}")
}

/// The implementations the instruction counts compare, by (callgrind.sh runtime,
/// implementation): their column headings.
const INSTRUCTION_COLUMNS: &[(&str, &str, &str)] = &[
    ("lua5.4", "cbind", "cbind"),
    ("lua5.4", "cbind_ptr", "cbind ptr"),
    ("lua5.4", "tight", "tight"),
    ("lua5.4", "ffi", "ffi.so"),
    ("lua5.1", "tight", "5.1 tight"),
    ("lua5.1", "ffi", "5.1 ffi"),
    ("luajit-joff", "ffi", "-joff"),
    // The workload programs over plain Lua tables: the interpreter's own share.
    ("lua5.4", "lua", "5.4 lua"),
    ("luajit-joff", "lua", "-joff lua"),
    // The callbacks' floor in lua5.1 (bench/native/cbind_callbacks.c built for 5.1).
    ("lua5.1", "cbind_ptr", "5.1 cbptr"),
];
/// The ratios printed after the counts: (numerator, denominator, heading), indices into
/// [`INSTRUCTION_COLUMNS`]: ffi.so (lua5.4) over each floor and over `luajit -joff`, and
/// lua5.1's ffi.so over its tight binding, its `cbind ptr` and `luajit -joff`.
const INSTRUCTION_RATIOS: &[(usize, usize, &str)] = &[
    (3, 0, "/cbind"),
    (3, 1, "/cbptr"),
    (3, 2, "/tight"),
    (3, 6, "/joff"),
    (5, 4, "5.1/tgt"),
    (5, 9, "5.1/cbp"),
    (5, 6, "5.1/joff"),
];

/// Counts instructions per operation of every workload of the scripts that report
/// operations, under lua5.4 (ffi.so and the C bindings) and luajit -joff, with
/// bench/callgrind.sh, and prints them with the ratios.
fn print_instructions(
    root: &Path,
    scripts: &[PathBuf],
    cpath: &str,
    cpath51: &str,
    callee: &Path,
) -> Result<(), String> {
    for script in scripts {
        let text = std::fs::read_to_string(script).unwrap_or_default();
        if !text.contains(" operations") {
            continue;
        }
        // counts[workload][column index] = instructions per operation
        let mut counts: Vec<(String, BTreeMap<usize, u64>)> = Vec::new();
        let runtimes = [
            ("lua5.4", &["lua5.4"][..]),
            ("lua5.1", &["lua5.1"][..]),
            ("luajit-joff", &["luajit", "-joff"]),
        ];
        for (runtime, command) in runtimes {
            let Ok(listing) = Command::new(command[0])
                .args(&command[1..])
                .arg(script)
                .arg("1e-9")
                .env("LUA_CPATH_5_4", cpath)
                .env("LUA_CPATH", cpath51)
                .env("JITFFI_BENCH_CALLEE", callee)
                .current_dir(root)
                .output()
            else {
                eprintln!("note: {runtime} not run");
                continue;
            };
            // A run at the smallest scale lists every `<workload>/<impl>` it measures.
            let labels: Vec<String> = String::from_utf8_lossy(&listing.stdout)
                .lines()
                .filter_map(|line| {
                    let (label, count) = line.strip_prefix("# ")?.split_once(": ")?;
                    count.ends_with(" operations").then(|| label.to_owned())
                })
                .collect();
            for label in &labels {
                let (workload, implementation) = label.rsplit_once('/').unwrap_or((label, "ffi"));
                let Some(column) = INSTRUCTION_COLUMNS
                    .iter()
                    .position(|&(r, i, _)| r == runtime && i == implementation)
                else {
                    continue;
                };
                let count = callgrind(root, runtime, label)?;
                let index = match counts.iter().position(|(name, _)| name == workload) {
                    Some(index) => index,
                    None => {
                        counts.push((workload.to_owned(), BTreeMap::new()));
                        counts.len() - 1
                    }
                };
                counts[index].1.insert(column, count);
            }
        }
        println!(
            "\n{}: instructions per operation (callgrind; profiles in target/bench/)",
            script_name(script)
        );
        let width = name_width(counts.iter().map(|(name, _)| name.as_str()));
        print!("{:<width$}", "workload");
        for &(_, _, heading) in INSTRUCTION_COLUMNS {
            print!("{heading:>12}");
        }
        for (_, _, heading) in INSTRUCTION_RATIOS {
            print!("{heading:>9}");
        }
        println!();
        for (workload, by_column) in &counts {
            print!("{workload:<width$}");
            for column in 0..INSTRUCTION_COLUMNS.len() {
                let cell = by_column
                    .get(&column)
                    .map_or_else(|| "-".to_owned(), u64::to_string);
                print!("{cell:>12}");
            }
            for &(ours, other, _) in INSTRUCTION_RATIOS {
                let ratio = match (by_column.get(&ours), by_column.get(&other)) {
                    (Some(&a), Some(&b)) if b > 0 => format!("{:.2}", a as f64 / b as f64),
                    _ => "-".to_owned(),
                };
                print!("{ratio:>9}");
            }
            println!();
        }
    }
    Ok(())
}

/// Runs bench/callgrind.sh for one label under one runtime; its instructions per
/// operation.
fn callgrind(root: &Path, runtime: &str, label: &str) -> Result<u64, String> {
    eprintln!("xtask: callgrind {runtime} {label}");
    let output = Command::new("sh")
        .args(["bench/callgrind.sh", "-r", runtime, label])
        .current_dir(root)
        .output()
        .map_err(|e| format!("bench/callgrind.sh: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "bench/callgrind.sh -r {runtime} {label} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        ));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .find_map(|line| {
            let rest = line.strip_prefix(label)?.strip_prefix(": ")?;
            rest.strip_suffix(" instructions per operation")?
                .parse()
                .ok()
        })
        .ok_or_else(|| format!("bench/callgrind.sh {label}: no count in {stdout}"))
}

/// Files one output line of `script` under `runtime`, if it is a RESULT, BYTES or NA
/// line.
fn record(
    measured: &mut Measurements,
    script: &str,
    runtime: &'static str,
    line: &str,
) -> Result<(), String> {
    let mut words = line.splitn(3, ' ');
    let kind = match words.next() {
        Some("RESULT" | "NA") => Kind::Seconds,
        Some("BYTES") => Kind::Bytes,
        _ => return Ok(()),
    };
    let (Some(name), Some(value)) = (words.next(), words.next()) else {
        return Err(format!("bad line: {line}"));
    };
    let (workload, implementation) = name.rsplit_once('/').unwrap_or((name, "ffi"));
    let cell = measured
        .entry((script.to_owned(), kind))
        .or_default()
        .cell(workload, (runtime, implementation.to_owned()));
    if line.starts_with("NA ") {
        cell.unavailable = Some(value.trim().to_owned());
    } else {
        let value: f64 = value
            .trim()
            .parse()
            .map_err(|_| format!("bad line: {line}"))?;
        cell.values.push(value);
    }
    Ok(())
}

/// Prints one row per workload: a median per column, then our ratio to each other
/// column (for bytes: our difference, which the target bounds by 8); then why the `n/a`
/// cells could not run.
fn print_table(table: &Table, kind: Kind) {
    let mut columns: Vec<Column> = table
        .rows
        .iter()
        .flat_map(|(_, row)| row.keys().cloned())
        .collect();
    columns.sort_by_key(column_rank);
    columns.dedup();
    let ours = columns
        .iter()
        .find(|c| (c.0, c.1.as_str()) == OURS)
        .or_else(|| columns.iter().find(|c| (c.0, c.1.as_str()) == OURS_RUNNER))
        .cloned();
    // The workload programs over Lua tables (impl `lua`) show the interpreter's own
    // share: no ratio to them.
    let others: Vec<&Column> = columns
        .iter()
        .filter(|c| Some(*c) != ours.as_ref() && c.1 != "lua")
        .collect();

    let width = name_width(table.rows.iter().map(|(name, _)| name.as_str()));
    print!("{:<width$}", "workload");
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
    let mut reasons: Vec<(String, String)> = Vec::new();
    for (name, row) in &table.rows {
        print!("{name:<width$}");
        for column in &columns {
            let cell = row.get(column);
            let text = match (cell.and_then(Cell::median), kind) {
                (Some(t), Kind::Seconds) => seconds_text(t),
                (Some(b), Kind::Bytes) => format!("{b:.1}"),
                (None, _) => match cell.and_then(|c| c.unavailable.as_ref()) {
                    Some(reason) => {
                        let entry = (heading(column), reason.clone());
                        if !reasons.contains(&entry) {
                            reasons.push(entry);
                        }
                        "n/a".to_owned()
                    }
                    None => "-".to_owned(),
                },
            };
            print!("{text:>15}");
        }
        let median_of = |c: &Column| row.get(c).and_then(Cell::median);
        let ours_unavailable = ours
            .as_ref()
            .and_then(|c| row.get(c))
            .is_some_and(|c| c.values.is_empty() && c.unavailable.is_some());
        let ours = ours.as_ref().and_then(median_of);
        for other in &others {
            let text = match (ours, median_of(other), kind) {
                (Some(a), Some(b), Kind::Seconds) if b > 0.0 => format!("{:.2}", a / b),
                (Some(a), Some(b), Kind::Bytes) => format!("{:+.1}", a - b),
                _ if ours_unavailable => "n/a".into(),
                _ => "-".into(),
            };
            print!("{text:>9}");
        }
        println!();
    }
    for (column, reason) in reasons {
        println!("  n/a in {column}: {reason}");
    }
}

/// For the call workloads: `ffi.C.name(...)` per call (row `C.<name>`) divided by the
/// cached local (row `<name>`), per column. Prints nothing for other scripts.
fn print_per_call_lookup(table: &Table) {
    let pairs: Vec<(&str, &Row, &Row)> = table
        .rows
        .iter()
        .filter_map(|(name, per_call)| {
            let local_name = name.strip_prefix("C.")?;
            Some((local_name, per_call, table.row(local_name)?))
        })
        .collect();
    if pairs.is_empty() {
        return;
    }
    let mut columns: Vec<Column> = pairs
        .iter()
        .flat_map(|(_, per_call, _)| per_call.keys().cloned())
        .collect();
    columns.sort_by_key(column_rank);
    columns.dedup();
    println!("\nper-call lookup: `C.name(...)` divided by the cached local `name(...)`");
    print!("{:<12}", "function");
    for column in &columns {
        print!("{:>15}", heading(column));
    }
    println!();
    for (name, per_call, local) in pairs {
        print!("{name:<12}");
        for column in &columns {
            let lookup = per_call.get(column).and_then(Cell::median);
            let cached = local.get(column).and_then(Cell::median);
            let text = match (lookup, cached) {
                (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
                _ if per_call
                    .get(column)
                    .is_some_and(|c| c.unavailable.is_some()) =>
                {
                    "n/a".to_owned()
                }
                _ => "-".to_owned(),
            };
            print!("{text:>15}");
        }
        println!();
    }
}

/// The width of a table's first column: its longest name and a space, at least 12.
fn name_width<'a>(names: impl Iterator<Item = &'a str>) -> usize {
    names.map(str::len).max().unwrap_or(0).max(11) + 1
}

/// The order of the columns: the C floor, ours, the runner, then LuaJIT (then the same
/// for the workload programs over Lua tables).
fn column_rank(column: &Column) -> (usize, String) {
    let rank = match (column.0, column.1.as_str()) {
        ("lua5.4", "cbind") => 0,
        ("lua5.4", "cbind_ptr") => 1,
        ("lua5.4", "tight") => 2,
        ("lua5.4", "ffi") => 3,
        ("jitffi", "ffi") => 4,
        ("lua5.1", "tight" | "cbind" | "cbind_ptr") => 5,
        ("lua5.1", "ffi") => 6,
        ("luajit -joff", "ffi") => 7,
        ("luajit", "ffi") => 8,
        // The workload programs over Lua tables, in the same order.
        ("lua5.4", "lua") => 9,
        ("jitffi", "lua") => 10,
        ("lua5.1", "lua") => 11,
        ("luajit -joff", "lua") => 12,
        ("luajit", "lua") => 13,
        _ => 14,
    };
    (rank, format!("{} {}", column.0, column.1))
}

fn heading(column: &Column) -> String {
    match (column.0, column.1.as_str()) {
        ("lua5.4", "cbind") => "cbind".into(),
        ("lua5.4", "cbind_ptr") => "cbind ptr".into(),
        ("lua5.4", "tight") => "tight".into(),
        ("lua5.4", "ffi") => "ffi.so".into(),
        ("lua5.1", "tight") => "5.1 tight".into(),
        ("lua5.1", "cbind") => "5.1 cbind".into(),
        ("lua5.1", "cbind_ptr") => "5.1 cbptr".into(),
        (runtime, "ffi") => runtime.into(),
        (runtime, "lua") => {
            let short = match runtime {
                "lua5.4" => "5.4",
                "lua5.1" => "5.1",
                "luajit -joff" => "joff",
                other => other,
            };
            format!("{short} lua")
        }
        (runtime, implementation) => format!("{runtime} {implementation}"),
    }
}

/// The heading of a ratio column: ours divided by (or minus) this column.
fn short_heading(column: &Column) -> String {
    match heading(column).as_str() {
        "luajit -joff" => "joff".into(),
        "cbind ptr" => "cbptr".into(),
        "5.1 tight" => "5.1tgt".into(),
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
