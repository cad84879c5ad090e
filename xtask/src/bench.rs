//! `cargo xtask bench [RUNS]`: runs every workload in `bench/*.lua` under the release
//! `jitffi`, `luajit` and `luajit -joff`, in the same run, and prints the median time of
//! each and the ratios. A workload prints lines `RESULT <name> <seconds>`; one script
//! may report several names. Runtimes that are not installed are skipped with a note.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// A program to run the workloads with: a label, the command and its leading arguments.
struct Runtime {
    label: &'static str,
    command: String,
    args: &'static [&'static str],
}

pub fn run(root: &Path, runs: usize) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(["build", "--release", "--quiet", "-p", "jitffi"])
        .current_dir(root)
        .status()
        .map_err(|e| format!("cargo build: {e}"))?;
    if !status.success() {
        return Err("cargo build --release -p jitffi failed".into());
    }
    let jitffi = root
        .join("target/release/jitffi")
        .to_string_lossy()
        .into_owned();
    let runtimes = [
        Runtime {
            label: "jitffi",
            command: jitffi,
            args: &[],
        },
        Runtime {
            label: "luajit",
            command: "luajit".into(),
            args: &[],
        },
        Runtime {
            label: "luajit -joff",
            command: "luajit".into(),
            args: &["-joff"],
        },
    ];
    let mut scripts: Vec<_> = std::fs::read_dir(root.join("bench"))
        .map_err(|e| format!("bench/: {e}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "lua"))
        .collect();
    scripts.sort();

    // results[workload][runtime label] = every measured time
    let mut results: BTreeMap<String, BTreeMap<&str, Vec<f64>>> = BTreeMap::new();
    for script in &scripts {
        for runtime in &runtimes {
            for _ in 0..runs {
                let output = match Command::new(&runtime.command)
                    .args(runtime.args)
                    .arg(script)
                    .current_dir(root)
                    .output()
                {
                    Ok(output) => output,
                    Err(e) => {
                        eprintln!("note: {} not run ({e})", runtime.label);
                        break;
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
                    let mut words = line.split_whitespace();
                    if words.next() != Some("RESULT") {
                        continue;
                    }
                    let (Some(name), Some(seconds)) = (words.next(), words.next()) else {
                        continue;
                    };
                    let seconds: f64 = seconds
                        .parse()
                        .map_err(|_| format!("bad RESULT line: {line}"))?;
                    results
                        .entry(name.to_owned())
                        .or_default()
                        .entry(runtime.label)
                        .or_default()
                        .push(seconds);
                }
            }
        }
    }

    println!("median of {runs} runs, seconds per operation as each workload defines it\n");
    print!("{:<24}", "workload");
    for runtime in &runtimes {
        print!("{:>14}", runtime.label);
    }
    println!("{:>18}{:>22}", "jitffi/luajit", "jitffi/luajit -joff");
    for (name, by_runtime) in &results {
        print!("{name:<24}");
        let medians: Vec<Option<f64>> = runtimes
            .iter()
            .map(|r| by_runtime.get(r.label).map(|t| median(t)))
            .collect();
        for m in &medians {
            match m {
                Some(t) => print!("{t:>14.6}"),
                None => print!("{:>14}", "-"),
            }
        }
        let ratio = |other: Option<f64>| match (medians[0], other) {
            (Some(ours), Some(theirs)) if theirs > 0.0 => format!("{:.2}", ours / theirs),
            _ => "-".into(),
        };
        println!("{:>18}{:>22}", ratio(medians[1]), ratio(medians[2]));
    }
    Ok(())
}

fn median(times: &[f64]) -> f64 {
    let mut sorted = times.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted[sorted.len() / 2]
}
