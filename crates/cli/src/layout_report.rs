//! `jitffi --layout 'TYPE' [--cdef FILE]...`: what the C type engine computed for a type:
//! its size and alignment and, for a struct or union, every field's offset from the start
//! of the outer type (bitfields with bit position and width), one field per line, members
//! of nested records indented below them.
//!
//! ```text
//! struct foo  size 16  align 8
//!   +0  a  int
//!   +4 0:3  b  unsigned int
//!   +8  (anonymous)  struct 97
//!     +8  x  int
//! ```

use jitffi_ctype::{CType, Target, TypeId, TypeTable};
use std::ffi::CString;
use std::fmt::Write as _;

/// Runs the inspection; prints the report or an error, returns the exit status.
pub fn run(args: &[CString]) -> i32 {
    match report(args) {
        Ok(text) => {
            print!("{text}");
            0
        }
        Err(message) => {
            eprintln!("jitffi --layout: {message}");
            1
        }
    }
}

fn report(args: &[CString]) -> Result<String, String> {
    let mut table = TypeTable::new(Target::host());
    let mut type_text = None;
    let mut rest = args.iter().map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = rest.next() {
        if arg == "--cdef" {
            let path = rest.next().ok_or("--cdef needs a file")?;
            let source = std::fs::read_to_string(&path).map_err(|e| format!("{path}: {e}"))?;
            table
                .cdef(&source, &[])
                .map_err(|e| format!("{path}: {e}"))?;
        } else if type_text.is_none() {
            type_text = Some(arg);
        } else {
            return Err(format!("unexpected argument '{arg}'"));
        }
    }
    let type_text = type_text.ok_or("usage: jitffi --layout 'TYPE' [--cdef FILE]...")?;
    let ty = table
        .parse_type(&type_text, &[])
        .map_err(|e| e.to_string())?;
    Ok(describe(&table, ty))
}

/// The report for one type.
pub fn describe(table: &TypeTable, ty: TypeId) -> String {
    let mut out = String::new();
    let size = match table.size_of(ty) {
        Some(size) => size.to_string(),
        None if table.is_vla(ty) => "variable".into(),
        None => "unknown".into(),
    };
    let _ = writeln!(
        out,
        "{}  size {}  align {}",
        table.type_name(ty),
        size,
        table.align_of(ty)
    );
    fields(table, ty, 0, 1, &mut out);
    out
}

/// One line per field of a record type; a member that is itself a record is followed by
/// its own fields, indented.
fn fields(table: &TypeTable, ty: TypeId, base: u64, depth: usize, out: &mut String) {
    let (ty, _) = table.unqualified(ty);
    let CType::Record(rid) = table.get(ty) else {
        return;
    };
    let Some(body) = &table.record(*rid).body else {
        return;
    };
    for field in &body.fields {
        let offset = base + field.offset;
        let bits = field
            .bits
            .map(|b| format!(" {}:{}", b.pos, b.width))
            .unwrap_or_default();
        let name = field.name.as_deref().unwrap_or("(anonymous)");
        let _ = writeln!(
            out,
            "{:indent$}+{offset}{bits}  {name}  {}",
            "",
            table.type_name(field.ty),
            indent = depth * 2
        );
        if field.bits.is_none() {
            fields(table, field.ty, offset, depth + 1, out);
        }
    }
}
