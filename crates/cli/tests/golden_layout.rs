//! Golden tests of `jitffi --layout`: each `tests/golden/layout/NAME.h` names the types
//! to report in `// layout: TYPE` lines; the report must equal `NAME.expected`.
//! Run with `BLESS=1` to rewrite the expected files after a deliberate change.

use std::path::{Path, PathBuf};
use std::process::Command;

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/golden/layout")
}

fn report(header: &Path) -> String {
    let source = std::fs::read_to_string(header).expect("read golden header");
    let mut out = String::new();
    for line in source.lines() {
        let Some(ty) = line.strip_prefix("// layout: ") else {
            continue;
        };
        let result = Command::new(env!("CARGO_BIN_EXE_jitffi"))
            .arg("--layout")
            .arg(ty.trim())
            .arg("--cdef")
            .arg(header)
            .output()
            .expect("run jitffi --layout");
        assert!(
            result.status.success(),
            "jitffi --layout '{ty}' failed: {}",
            String::from_utf8_lossy(&result.stderr)
        );
        out.push_str(&String::from_utf8(result.stdout).expect("utf-8 report"));
    }
    out
}

#[test]
fn layout_reports_match_golden_files() {
    let bless = std::env::var_os("BLESS").is_some();
    let mut headers: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("golden dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "h"))
        .collect();
    headers.sort();
    assert!(!headers.is_empty(), "no golden layout files");
    let mut failures = Vec::new();
    for header in headers {
        let actual = report(&header);
        let expected_path = header.with_extension("expected");
        if bless {
            std::fs::write(&expected_path, &actual).expect("write expected");
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if actual != expected {
            failures.push(format!(
                "{}:\n--- expected\n{expected}--- actual\n{actual}",
                header.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "golden mismatches (BLESS=1 to accept):\n{}",
        failures.join("\n")
    );
}
