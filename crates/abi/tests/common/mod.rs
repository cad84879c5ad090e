//! The table-test scaffolding every convention's tests share: a convention with the
//! declarations its rows use ([`Abi`]), the classifier's text for a prototype
//! ([`Abi::plan`]: `CallPlan::display`, what `jitffi --plan` prints) and the checks that
//! compare it with a row's expected text.
// Each test binary uses part of the scaffolding.
#![allow(dead_code)]

use jitffi_abi::Convention;
use jitffi_ctype::{CType, Target, TypeTable};

/// A convention under test: the target whose type table it classifies, and the C
/// declarations the rows' prototypes name.
pub struct Abi {
    pub target: Target,
    pub convention: Convention,
    pub decls: &'static str,
}

impl Abi {
    /// The plan of prototype `proto` (a function type) called with `varargs` as the
    /// types of its variadic part, as text; `error: ...` when the classifier refuses it.
    pub fn plan(&self, proto: &str, varargs: &[&str]) -> String {
        let mut types = TypeTable::new(self.target);
        types.cdef(self.decls, &[]).expect("declarations");
        let ty = types.parse_type(proto, &[]).expect("prototype");
        let extra: Vec<_> = varargs
            .iter()
            .map(|t| types.parse_type(t, &[]).expect("vararg type"))
            .collect();
        let CType::Func(func) = types.get(ty).clone() else {
            panic!("{proto} is not a function type");
        };
        match self.convention.classify(&types, &func, &extra) {
            Ok(plan) => plan.display(self.convention).to_string(),
            Err(err) => format!("error: {err}"),
        }
    }

    /// Checks one row: `rule` names what the row restates.
    #[track_caller]
    pub fn check(&self, rule: &str, proto: &str, varargs: &[&str], expected: &str) {
        assert_eq!(
            self.plan(proto, varargs),
            expected.trim(),
            "{rule}: {proto}"
        );
    }

    /// Rows of (rule, prototype, expected plan), all checked before any failure is
    /// reported: the plan's text without the last line when `expected` has no `stack:`
    /// line.
    #[track_caller]
    pub fn check_rows(&self, rows: &[(&str, &str, &str)]) {
        let mut failures = Vec::new();
        for &(rule, proto, expected) in rows {
            let actual = self.plan(proto, &[]);
            let expected = expected.trim();
            let actual = if expected.contains("stack:") {
                actual.as_str()
            } else {
                actual
                    .rsplit_once('\n')
                    .map_or(actual.as_str(), |(head, _)| head)
            };
            if actual != expected {
                failures.push(format!(
                    "{rule}: {proto}\n--- expected\n{expected}\n--- actual\n{actual}"
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    }
}
