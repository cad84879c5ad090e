//! The benchmark scripts under the `jitffi` runner, at a tiny scale, with the
//! hand-written C bindings of bench/native/ loaded as C modules (which needs the runner
//! to export the Lua C API): every workload reports a time, or `NA` for what the ffi
//! cannot do yet. Guards the scripts `cargo xtask bench` runs against breaking silently,
//! and the workload programs (bench/workload_*.lua) against computing something else:
//! each must print the checksum it prints under `luajit -joff` at the same scale.

use std::path::{Path, PathBuf};
use std::process::Command;

mod target_program;

const JITFFI: &str = env!("CARGO_BIN_EXE_jitffi");
const LUA_INCLUDE: &str = env!("JITFFI_LUA_INCLUDE");

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Compiles `bench/native/<source>` into `<dir>/<output>` with `extra` arguments.
fn compile(dir: &Path, source: &str, output: &str, extra: &[&str]) {
    let native = root().join("bench/native");
    let cc = target_program::c_compiler();
    let result = Command::new(cc)
        .args(["-std=c99", "-O1", "-fPIC", "-shared", "-Wall", "-Werror"])
        .arg("-I")
        .arg(LUA_INCLUDE)
        .arg("-I")
        .arg(&native)
        .arg(native.join(source))
        .arg("-o")
        .arg(dir.join(output))
        .args(extra)
        .output()
        .expect("run cc");
    assert!(
        result.status.success(),
        "cc {source} failed:\n{}",
        String::from_utf8_lossy(&result.stderr)
    );
}

/// `target/.../bench-scripts` with cbind.so, cbind_tight.so, libcallee.so, cbind_calls.so
/// and cbind_callbacks.so in it.
fn native_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-scripts");
    std::fs::create_dir_all(&dir).unwrap();
    compile(&dir, "cbind.c", "cbind.so", &[]);
    compile(&dir, "cbind_tight.c", "cbind_tight.so", &[]);
    compile(&dir, "callee.c", "libcallee.so", &[]);
    let libdir = format!("-L{}", dir.display());
    for module in ["cbind_calls", "cbind_callbacks"] {
        compile(
            &dir,
            &format!("{module}.c"),
            &format!("{module}.so"),
            &[&libdir, "-lcallee", "-Wl,-rpath,$ORIGIN"],
        );
    }
    dir
}

/// Runs `bench/<script> <scale>` under jitffi, with the bindings on LUA_CPATH if
/// `with_bindings` (else the ffi alone loads libcallee.so, as under `cargo xtask bench`);
/// stdout.
fn run_script(dir: &Path, script: &str, scale: &str, with_bindings: bool) -> String {
    let cpath = if with_bindings {
        dir.join("?.so")
    } else {
        dir.join("nothing-here/?.so")
    };
    let output = target_program::command(JITFFI)
        .arg(root().join("bench").join(script))
        .arg(scale)
        .env("LUA_CPATH", cpath)
        .env("JITFFI_BENCH_CALLEE", dir.join("libcallee.so"))
        .env_remove("LUA_CPATH_5_4")
        .env_remove("LUA_INIT")
        .env_remove("LUA_INIT_5_4")
        .output()
        .expect("run jitffi");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "jitffi bench/{script} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The label of each `RESULT` line, and of each `NA` line.
fn labels(stdout: &str) -> (Vec<&str>, Vec<&str>) {
    let of = |kind: &str| {
        stdout
            .lines()
            .filter_map(|line| line.strip_prefix(kind)?.split(' ').next())
            .collect::<Vec<_>>()
    };
    (of("RESULT "), of("NA "))
}

#[test]
fn bench_scripts_run_under_jitffi_with_the_c_bindings() {
    let dir = native_dir();

    let cdata = run_script(&dir, "cdata.lua", "0.001", true);
    let (results, unavailable) = labels(&cdata);
    for label in ["field/cbind", "field/ffi", "new/cbind", "u64_add/ffi"] {
        assert!(results.contains(&label), "no {label} in:\n{cdata}");
    }
    // The struct { int x; double y; } workloads, each with the tight binding beside it.
    for workload in [
        "field_int",
        "field_double",
        "field_tagged",
        "nested",
        "aos",
        "aos_ptr",
        "ref_field",
        "ptr_field",
        "new_empty",
    ] {
        for implementation in ["ffi", "tight"] {
            let label = format!("{workload}/{implementation}");
            assert!(results.contains(&label.as_str()), "no {label} in:\n{cdata}");
        }
    }
    assert!(results.contains(&"new_empty_string/ffi"), "{cdata}");
    assert!(unavailable.is_empty(), "{cdata}");

    let calls = run_script(&dir, "calls.lua", "0.001", true);
    let (results, unavailable) = labels(&calls);
    for function in ["add", "mixed6", "strlen", "vec2_add"] {
        for form in ["", "C."] {
            let cbind = format!("{form}{function}/cbind");
            assert!(results.contains(&cbind.as_str()), "no {cbind} in:\n{calls}");
            // The ffi either calls or says why it cannot.
            let ffi = format!("{form}{function}/ffi");
            assert!(
                results.contains(&ffi.as_str()) ^ unavailable.contains(&ffi.as_str()),
                "{ffi} neither measured nor n/a in:\n{calls}"
            );
        }
    }

    // Without the binding, which links libcallee.so itself, the ffi's own load is all
    // that keeps the library mapped.
    let alone = run_script(&dir, "calls.lua", "0.001", false);
    let (results_alone, unavailable_alone) = labels(&alone);
    assert_eq!(
        results_alone.len() + unavailable_alone.len(),
        8,
        "every ffi workload measured or n/a:\n{alone}"
    );

    // qsort at this scale: one sort of 2,000 ints, which callgrind.sh counts inside qsort.
    let callbacks = run_script(&dir, "callbacks.lua", "0.001", true);
    let (results, unavailable) = labels(&callbacks);
    for workload in ["qsort", "callback_call", "callback_new"] {
        let cbind = format!("{workload}/cbind");
        assert!(
            results.contains(&cbind.as_str()),
            "no {cbind} in:\n{callbacks}"
        );
        let ffi = format!("{workload}/ffi");
        assert!(
            results.contains(&ffi.as_str()) ^ unavailable.contains(&ffi.as_str()),
            "{ffi} neither measured nor n/a in:\n{callbacks}"
        );
    }
    // Both count the comparator calls that libc's qsort makes on the same data: the ffi
    // in its calibration sort, cbind in C.
    let comparator_calls = |label: &str| {
        callbacks.lines().find_map(|line| {
            let count = line.strip_prefix(&format!("# {label}: "))?;
            count.strip_suffix(" operations")?.parse::<u64>().ok()
        })
    };
    let cbind_calls = comparator_calls("qsort/cbind").expect("qsort/cbind operations");
    assert!(cbind_calls > 2000, "{callbacks}");
    if results.contains(&"qsort/ffi") {
        assert_eq!(
            comparator_calls("qsort/ffi"),
            Some(cbind_calls),
            "{callbacks}"
        );
    }
    assert!(
        callbacks.contains("# qsort/cbind: count inside qsort\n"),
        "{callbacks}"
    );
}

/// The checksum each workload program prints at scale 0.001: what `luajit -joff` prints
/// for the same script and scale (`luajit -joff bench/workload_vm.lua 0.001`), for both
/// implementations (`ffi`, and `lua` over plain Lua tables).
const WORKLOAD_CHECKSUMS: &[(&str, &str, &str)] = &[
    ("workload_vm.lua", "vm", "314536"),
    ("workload_ring.lua", "ring", "49217851"),
    ("workload_parse.lua", "parse", "969110827"),
];

#[test]
fn workload_programs_compute_what_luajit_computes() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bench-workloads");
    std::fs::create_dir_all(&dir).unwrap();
    for &(script, workload, expected) in WORKLOAD_CHECKSUMS {
        let stdout = run_script(&dir, script, "0.001", false);
        let (results, unavailable) = labels(&stdout);
        let expected_labels = [format!("{workload}/ffi"), format!("{workload}/lua")];
        assert_eq!(results, expected_labels, "{script}:\n{stdout}");
        assert!(unavailable.is_empty(), "{script}:\n{stdout}");
        for label in &expected_labels {
            assert!(
                stdout.contains(&format!("\n# {label}: ")),
                "{script} reports no operations for {label}:\n{stdout}"
            );
            let checksum = stdout
                .lines()
                .find_map(|line| line.strip_prefix(&format!("CHECKSUM {label} ")));
            assert_eq!(checksum, Some(expected), "{script} {label}:\n{stdout}");
        }
    }
}
