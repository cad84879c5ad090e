//! The listing an emitter writes beside its code (`--disasm`, golden files): one line
//! per instruction group with its offset, its bytes and its text, the same on every
//! architecture. Only the emitter knows where a helper's absolute address sits in its
//! bytes; it says so when rendering, and those bytes show as `<address>` so that
//! listings are the same in every process.

use std::fmt::Write as _;
use std::ops::Range;

/// Listing lines in the order they were written.
#[derive(Default)]
pub(crate) struct Listing {
    lines: Vec<Line>,
}

/// One listing line: where its bytes start, its text, and whether its bytes hold a
/// helper's absolute address.
struct Line {
    offset: usize,
    text: String,
    address: bool,
}

impl Listing {
    /// Starts a line for the instructions emitted from `offset` on.
    pub(crate) fn line(&mut self, offset: usize, text: impl Into<String>) {
        self.lines.push(Line {
            offset,
            text: text.into(),
            address: false,
        });
    }

    /// Says that the last line's bytes hold a helper's absolute address.
    pub(crate) fn mark_address(&mut self) {
        if let Some(line) = self.lines.last_mut() {
            line.address = true;
        }
    }

    /// The listing of `bytes`: a line's bytes run to the next line's offset; in a line
    /// marked as holding an address, bytes `address` are shown as `<address>`.
    pub(crate) fn render(&self, bytes: &[u8], address: Range<usize>) -> String {
        let mut out = String::new();
        for (i, line) in self.lines.iter().enumerate() {
            let start = line.offset;
            let end = self
                .lines
                .iter()
                .skip(i + 1)
                .map(|l| l.offset)
                .find(|&o| o >= start)
                .unwrap_or(bytes.len());
            let mut hex: Vec<String> = bytes[start..end]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            if line.address && hex.len() >= address.end {
                hex.splice(address.clone(), ["<address>".to_owned()]);
            }
            let _ = writeln!(out, "{start:5x}  {:<30} {}", hex.join(" "), line.text);
        }
        out
    }
}
