//! Shared by the golden tests: compare every `NAME.h` of a golden directory's report
//! with `NAME.expected`, or rewrite the expected files when `BLESS=1` (only `1`: unset,
//! `BLESS=0` or any other value compares).

use std::path::{Path, PathBuf};

/// `tests/golden/<name>` at the workspace root.
pub fn golden_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/golden")
        .join(name)
}

/// True when `BLESS=1`: the expected files are rewritten instead of compared.
pub fn blessing() -> bool {
    std::env::var_os("BLESS").is_some_and(|v| v == "1")
}

/// Checks (or with `BLESS=1` rewrites) `NAME.expected` against `report(NAME.h)` for
/// every header in `dir`.
pub fn check_golden_files(dir: &Path, report: impl Fn(&Path) -> String) {
    let bless = blessing();
    let mut headers: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("golden dir")
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "h"))
        .collect();
    headers.sort();
    assert!(!headers.is_empty(), "no golden files in {}", dir.display());
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
