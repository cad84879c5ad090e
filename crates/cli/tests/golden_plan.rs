//! Golden tests of `jitffi --plan`: each `tests/golden/plan/NAME.h` names prototypes in
//! `// plan: PROTOTYPE` lines (a `// varargs: TYPES` line just before one gives the
//! types of its variadic arguments) and declares what they use; the reports, separated
//! by blank lines, must equal `NAME.expected`. One folder per convention, planned with
//! `--target` on any host since the classifiers are pure: `tests/golden/plan/` covers
//! the psABI cases of x86-64 System V, `tests/golden/plan-aarch64/` those of AAPCS64.
//! `tests/golden/disasm/` has the same form for `jitffi --plan ... --disasm`: the plan
//! and the listing of the generated call stub (x86-64 hosts only);
//! `tests/golden/disasm-aarch64/` the same for AAPCS64 with `--target aarch64` on any
//! host (the AArch64 emitter is pure).
//! Run with `BLESS=1` to rewrite the expected files after a deliberate change
//! (`BLESS=1 cargo test -p jitffi --test golden_plan disasm` for the listings only).

mod common;
mod target_program;

use std::path::Path;

/// The reports of every prototype `header` names, with `extra` arguments after each.
fn report(header: &Path, extra: &[&str]) -> String {
    let source = std::fs::read_to_string(header).expect("read golden header");
    let mut reports = Vec::new();
    let mut varargs = None;
    for line in source.lines() {
        if let Some(types) = line.strip_prefix("// varargs: ") {
            varargs = Some(types.trim().to_owned());
            continue;
        }
        let Some(prototype) = line.strip_prefix("// plan: ") else {
            continue;
        };
        let mut command = target_program::command(env!("CARGO_BIN_EXE_jitffi"));
        command
            .arg("--plan")
            .arg(prototype.trim())
            .arg("--cdef")
            .arg(header);
        if let Some(types) = varargs.take() {
            command.arg("--varargs").arg(types);
        }
        command.args(extra);
        let result = command.output().expect("run jitffi --plan");
        assert!(
            result.status.success(),
            "jitffi --plan '{prototype}' failed: {}",
            String::from_utf8_lossy(&result.stderr)
        );
        reports.push(String::from_utf8(result.stdout).expect("utf-8 report"));
    }
    assert!(
        varargs.is_none(),
        "{}: a varargs line ends the file",
        header.display()
    );
    reports.join("\n")
}

#[test]
fn plan_reports_match_golden_files() {
    common::check_golden_files(&common::golden_dir("plan"), |header| {
        report(header, &["--target", "x86_64"])
    });
}

#[test]
fn aarch64_plan_reports_match_golden_files() {
    common::check_golden_files(&common::golden_dir("plan-aarch64"), |header| {
        report(header, &["--target", "aarch64"])
    });
}

#[test]
#[cfg_attr(
    not(target_arch = "x86_64"),
    ignore = "x86-64 stubs are listed on x86-64 only"
)]
fn disasm_listings_match_golden_files() {
    common::check_golden_files(&common::golden_dir("disasm"), |header| {
        report(header, &["--disasm"])
    });
}

#[test]
fn aarch64_disasm_listings_match_golden_files() {
    common::check_golden_files(&common::golden_dir("disasm-aarch64"), |header| {
        report(header, &["--target", "aarch64", "--disasm"])
    });
}

#[test]
fn plan_errors_name_the_problem() {
    let run = |args: &[&str]| {
        let output = target_program::command(env!("CARGO_BIN_EXE_jitffi"))
            .args(args)
            .output()
            .expect("run jitffi --plan");
        (
            output.status.code(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (status, stderr) = run(&["--plan", "int f(struct nowhere)"]);
    assert_eq!(status, Some(1));
    assert!(
        stderr.starts_with("jitffi --plan: cannot pass incomplete 'struct nowhere'"),
        "{stderr}"
    );
    let (status, stderr) = run(&["--plan", "int f(int)", "--varargs", "int"]);
    assert_eq!(status, Some(1));
    assert!(stderr.contains("takes no variable arguments"), "{stderr}");
    let (status, stderr) = run(&["--plan"]);
    assert_eq!(status, Some(1));
    assert!(stderr.contains("usage: jitffi --plan"), "{stderr}");
    let (status, stderr) = run(&["--plan", "int f(int)", "--target", "sparc"]);
    assert_eq!(status, Some(1));
    assert!(
        stderr.contains("--target 'sparc': expected x86_64, aarch64"),
        "{stderr}"
    );
}

#[test]
#[cfg_attr(not(target_arch = "x86_64"), ignore = "call stubs are x86-64 only")]
fn plan_with_disasm_lists_the_stub_after_the_plan() {
    let output = target_program::command(env!("CARGO_BIN_EXE_jitffi"))
        .args(["--plan", "int add(int, int)", "--disasm"])
        .output()
        .expect("run jitffi --plan --disasm");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}");
    let (plan, stub) = stdout.split_once("stub:\n").expect("a stub section");
    assert!(
        plan.starts_with("int add(int, int)\narg 1: s32@0 gpr0\n"),
        "{plan}"
    );
    assert!(stub.contains("ret"), "{stub}");
}
