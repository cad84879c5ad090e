//! Inspection switches: print what one stage of the pipeline makes of its input, for
//! golden tests and for people (STYLE.md, "Data at every seam").
//!
//! - `--layout 'struct foo' [--cdef file]`: size, alignment and field offsets (ctype);
//! - `--plan 'int f(double)' [--cdef file] [--varargs 'T, ...']`: where each argument
//!   and the result travel (abi); `--plan ... --disasm` adds the listing of the call
//!   stub (jit) after the plan.
//!
//! Reserved, to be implemented by the owners of those stages:
//! - `--disasm 'int f(double)'`: the generated call stub (jit).
//!
//! They are recognised only as the first argument, so they never clash with a script's
//! own arguments, and they run without any Lua state. Until a switch is implemented,
//! `lua5.4`'s option parser sees it and answers with the usage message.

use std::ffi::CString;

/// An inspection: given the arguments after its switch, prints its report and returns
/// the exit status.
type Inspection = fn(args: &[CString]) -> i32;

/// The implemented switches. Hook point: add entries here, e.g.
/// `(b"--layout", layout::run)` or `(b"--plan", plan::run)`.
const INSPECTIONS: &[(&[u8], Inspection)] = &[
    (b"--layout", crate::layout_report::run),
    (b"--plan", crate::plan_report::run),
];

/// Runs the inspection that `argv[1]` asks for. Returns the exit status when it did,
/// `None` when the command line is not an inspection (the interpreter then runs).
pub fn run_inspection(argv: &[CString]) -> Option<i32> {
    let switch = argv.get(1)?.to_bytes();
    let (_, inspection) = INSPECTIONS.iter().find(|(name, _)| *name == switch)?;
    Some(inspection(&argv[2..]))
}
