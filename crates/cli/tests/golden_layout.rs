//! Golden tests of `jitffi --layout`: each `tests/golden/layout/NAME.h` names the types
//! to report in `// layout: TYPE` lines; the report must equal `NAME.expected`.
//! Run with `BLESS=1` to rewrite the expected files after a deliberate change.

mod common;
mod target_program;

use std::path::Path;

fn report(header: &Path) -> String {
    let source = std::fs::read_to_string(header).expect("read golden header");
    let mut out = String::new();
    for line in source.lines() {
        let Some(ty) = line.strip_prefix("// layout: ") else {
            continue;
        };
        let result = target_program::command(env!("CARGO_BIN_EXE_jitffi"))
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
    common::check_golden_files(&common::golden_dir("layout"), report);
}
