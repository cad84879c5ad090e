//! AArch64 callback code: the slots of a [`SlotPool`](crate::callback::SlotPool). The
//! two entries are not written yet: [`typed_entry`] and [`raw_entry`] refuse, so that
//! making a callback is a clear error on this architecture instead of a crash.
//!
//! ```text
//!   slot page (4096 bytes, written once, then read+execute)
//!   +0      entry address (8-byte literal), 24 bytes of udf
//!   +32     slot 0:  bti c
//!                    ldr x17, record        (the literal at +16 of the slot)
//!                    ldr x16, [page + 0]    (pc-relative literal: the entry)
//!                    br x16
//!                    <8-byte &CallbackSlot>
//!   +64     slot 1 ... up to slot 126 at +4064
//! ```
//!
//! What the entries must do (the seam for whoever writes them), mirroring x86-64:
//! - both begin with `bti c` (the slots reach them with `br x16`, which BTI accepts at
//!   `bti c`), receive the record in x17 (IP1, free at a call, AAPCS64 §6.1.1) and call
//!   the handler with (x17, frame) in x0, x1;
//! - typed: save x0-x8, the caller's sp (the stack arguments) and q0-q7 into an
//!   [`ArgFrame`](super::ArgFrame) (offsets pinned in `frames.rs`), call
//!   `handler(record, frame)`, load x0, x1 and q0-q3 from its result fields, return;
//! - raw (cbframe): save x0-x30, sp, nzcv and q0-q31 into a
//!   [`CpuState`](super::CpuState), call `handler(record, cpu)`, restore everything
//!   but sp, return;
//! - the handlers are the ones crates/ffi already has: they read and write the frames
//!   only through plan locations, so they need no change.

use crate::call_stub::JitError;

/// Bytes of one slot's code and its record literal (a multiple of 16).
pub const SLOT_BYTES: usize = 32;

/// Writes the code of the slot `cell` at byte `at` of its page for the record at
/// `record`; the page's first 8 bytes hold the entry's address.
pub fn write_slot(cell: &mut [u8], at: usize, record: usize) {
    let words: [u32; 4] = [
        // bti c
        0xd503_245f,
        // ldr x17, #12 (literal 16 bytes from the slot start, 12 from this instruction)
        0x5800_0000 | ((12 / 4) << 5) | 17,
        // ldr x16, #-(at + 8) (the page's literal at +0)
        0x5800_0000 | (((-((at + 8) as i32) / 4) as u32 & 0x7_ffff) << 5) | 16,
        // br x16
        0xd61f_0000 | (16 << 5),
    ];
    for (i, word) in words.iter().enumerate() {
        cell[4 * i..4 * i + 4].copy_from_slice(&word.to_le_bytes());
    }
    cell[16..24].copy_from_slice(&(record as u64).to_le_bytes());
}

fn not_yet() -> JitError {
    JitError {
        message: "callbacks are not supported on AArch64 yet".into(),
    }
}

/// The typed entry: not written yet (see the module docs).
pub fn typed_entry(_handler: usize) -> Result<Vec<u8>, JitError> {
    Err(not_yet())
}

/// The raw entry: not written yet (see the module docs).
pub fn raw_entry(_handler: usize) -> Result<Vec<u8>, JitError> {
    Err(not_yet())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_loads_its_record_and_the_page_literal() {
        let mut cell = [0; SLOT_BYTES];
        write_slot(&mut cell, 64, 0x1122_3344_5566_7788);
        let word = |i: usize| u32::from_le_bytes(cell[4 * i..4 * i + 4].try_into().unwrap());
        assert_eq!(word(0), 0xd503_245f);
        // ldr x17, pc+12
        assert_eq!(word(1), 0x5800_0071);
        // ldr x16, pc-72: imm19 = -18
        assert_eq!((word(2) >> 5) & 0x7_ffff, (-18i32 as u32) & 0x7_ffff);
        assert_eq!(word(2) & 0x1f, 16);
        assert_eq!(word(3), 0xd61f_0200);
        assert_eq!(cell[16..24], 0x1122_3344_5566_7788_u64.to_le_bytes());
    }
}
