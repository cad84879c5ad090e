//! AAPCS64 callback code: the slots and the two entries of a
//! [`SlotPool`](crate::callback::SlotPool) (see `crate::callback` for the mechanism).
//!
//! Every slot is 32 bytes: `bti c` (C calls it through a pointer), the address of its
//! `CallbackSlot` record into x17 and the entry's address into x16 (IP1 and IP0, the
//! intra-procedure-call scratch registers no argument uses, AAPCS64 §6.1.1), then `br
//! x16`, which a `bti c` landing pad accepts:
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
//! - The typed entry saves x0-x8, the caller's sp (where the stack arguments begin,
//!   §6.8.2) and q0-q7 into an [`ArgFrame`](super::ArgFrame), calls `handler(record,
//!   frame)`, then loads x0, x1 and q0-q3 from the frame's result fields and returns:
//!
//!   ```text
//!     x29+16  the caller's stack arguments (the frame's stack pointer points here)
//!     x29     saved x29, x30 (a frame record, so that debuggers can walk through)
//!     sp      ArgFrame (ARG_FRAME_BYTES, 16-aligned)
//!   ```
//!
//!   x8 (the address of a result returned in memory) is saved with the arguments; the
//!   callee need not return it (§6.9), so nothing loads it back. v8-v15, x19-x28 are
//!   callee-saved in the handler too, so the entry keeps no more.
//!
//! - The raw entry (cbframe) saves *every* register: x0-x30, the caller's sp, nzcv and
//!   q0-q31 into a [`CpuState`](super::CpuState) on its own stack, calls
//!   `handler(record, cpu)`, then restores all of them from the (possibly modified)
//!   state except sp, and returns to the (possibly modified) x30. x16 holds the entry's
//!   address and x17 the record's when the state is taken (the slot's code loads them).
//!
//! Both entries begin with `bti c` too: the slots reach them by `br x16`.

use super::frames::{CpuState, ARG_FRAME_BYTES, CPU_STATE_BYTES};
use super::LANDING_PAD;
use crate::call_stub::{assembled_code, JitError};
use dynasmrt::aarch64::Aarch64Relocation;
use dynasmrt::{dynasm, DynasmApi, VecAssembler};

/// Bytes of one slot's code and its record literal (a multiple of 16).
pub const SLOT_BYTES: usize = 32;

/// Writes the code of the slot `cell` at byte `at` of its page for the record at
/// `record`; the page's first 8 bytes hold the entry's address.
pub fn write_slot(cell: &mut [u8], at: usize, record: usize) {
    let words: [u32; 4] = [
        u32::from_le_bytes(LANDING_PAD),
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

/// `mrs x9, nzcv` and `msr nzcv, x9` (system register NZCV is op0=3, op1=3, CRn=4,
/// CRm=2, op2=0), written out: the assembler has no name for it.
const MRS_X9_NZCV: u32 = 0xd53b_4209;
const MSR_NZCV_X9: u32 = 0xd51b_4209;

fn word(ops: &mut VecAssembler<Aarch64Relocation>, word: u32) {
    ops.extend(word.to_le_bytes());
}

/// Loads `value` into x9 (movz and three movk: always four instructions).
fn mov_x9(ops: &mut VecAssembler<Aarch64Relocation>, value: u64) {
    for (i, shift) in [0u32, 16, 32, 48].into_iter().enumerate() {
        let half = ((value >> shift) & 0xffff) as u32;
        if i == 0 {
            dynasm!(ops ; .arch aarch64 ; movz x9, half);
        } else {
            dynasm!(ops ; .arch aarch64 ; movk x9, half, lsl shift);
        }
    }
}

/// The typed entry: see the module docs.
pub fn typed_entry(handler: usize) -> Result<Vec<u8>, JitError> {
    let mut ops = VecAssembler::<Aarch64Relocation>::new(0);
    // Reached by the slots' `br x16`.
    ops.extend(LANDING_PAD);
    let frame = ARG_FRAME_BYTES as u32;
    // Offsets pinned by frames.rs's asserts: x0-x8 at 0, the stack pointer at 72, q0-q7
    // at 80, the results x0, x1 at 208 and q0-q3 at 224.
    dynasm!(ops
        ; .arch aarch64
        ; stp x29, x30, [sp, -16]!
        ; mov x29, sp
        ; sub sp, sp, frame
        ; stp x0, x1, [sp]
        ; stp x2, x3, [sp, 16]
        ; stp x4, x5, [sp, 32]
        ; stp x6, x7, [sp, 48]
        ; add x9, x29, 16
        ; stp x8, x9, [sp, 64]
        ; stp q0, q1, [sp, 80]
        ; stp q2, q3, [sp, 112]
        ; stp q4, q5, [sp, 144]
        ; stp q6, q7, [sp, 176]
        ; mov x0, x17
        ; mov x1, sp
    );
    mov_x9(&mut ops, handler as u64);
    dynasm!(ops
        ; .arch aarch64
        ; blr x9
        ; ldp x0, x1, [sp, 208]
        ; ldp q0, q1, [sp, 224]
        ; ldp q2, q3, [sp, 256]
        ; mov sp, x29
        ; ldp x29, x30, [sp], 16
        ; ret
    );
    assembled_code("a callback entry", ops.finalize())
}

/// Which way [`state_gprs`] and [`state_vecs`] move registers: into the raw entry's
/// [`CpuState`] at sp, or back out of it.
#[derive(Clone, Copy)]
enum Move {
    Save,
    Restore,
}

/// x0-x30 to or from their [`CpuState`] slots. Single-register `str`/`ldr`: they reach
/// the whole state from sp (stp's offset field does not), so no register is needed as
/// a base.
fn state_gprs(ops: &mut VecAssembler<Aarch64Relocation>, way: Move) {
    for n in 0..31u8 {
        let at = CpuState::gpr_offset(usize::from(n)) as u32;
        match way {
            Move::Save => dynasm!(ops ; .arch aarch64 ; str X(n), [sp, at]),
            Move::Restore => dynasm!(ops ; .arch aarch64 ; ldr X(n), [sp, at]),
        }
    }
}

/// q0-q31 to or from their [`CpuState`] slots, in pairs.
fn state_vecs(ops: &mut VecAssembler<Aarch64Relocation>, way: Move) {
    for n in (0..32u8).step_by(2) {
        let at = CpuState::vec_offset(usize::from(n)) as i32;
        match way {
            Move::Save => dynasm!(ops ; .arch aarch64 ; stp Q(n), Q(n + 1), [sp, at]),
            Move::Restore => dynasm!(ops ; .arch aarch64 ; ldp Q(n), Q(n + 1), [sp, at]),
        }
    }
}

/// The raw entry: see the module docs.
pub fn raw_entry(handler: usize) -> Result<Vec<u8>, JitError> {
    let mut ops = VecAssembler::<Aarch64Relocation>::new(0);
    // Reached by the slots' `br x16`.
    ops.extend(LANDING_PAD);
    let size = CPU_STATE_BYTES as u32;
    let flags = CpuState::flags_offset() as u32;
    let caller_sp = CpuState::gpr_offset(CpuState::STACK_POINTER) as u32;
    // sp stays 16-aligned: the state is a multiple of 16 bytes.
    dynasm!(ops ; .arch aarch64 ; sub sp, sp, size);
    state_gprs(&mut ops, Move::Save);
    state_vecs(&mut ops, Move::Save);
    dynasm!(ops
        ; .arch aarch64
        // The caller's sp: above the state.
        ; add x9, sp, size
        ; str x9, [sp, caller_sp]
    );
    word(&mut ops, MRS_X9_NZCV);
    dynasm!(ops
        ; .arch aarch64
        ; str x9, [sp, flags]
        ; mov x0, x17
        ; mov x1, sp
    );
    mov_x9(&mut ops, handler as u64);
    dynasm!(ops
        ; .arch aarch64
        ; blr x9
        ; ldr x9, [sp, flags]
    );
    word(&mut ops, MSR_NZCV_X9);
    state_vecs(&mut ops, Move::Restore);
    state_gprs(&mut ops, Move::Restore);
    dynasm!(ops
        ; .arch aarch64
        ; add sp, sp, size
        ; ret
    );
    assembled_code("a callback entry", ops.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(code: &[u8]) -> Vec<u32> {
        code.chunks(4)
            .map(|w| u32::from_le_bytes(w.try_into().unwrap()))
            .collect()
    }

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

    #[test]
    fn entries_begin_with_the_landing_pad_and_call_the_handler_through_x9() {
        for code in [
            typed_entry(0x1234_5678_9abc).unwrap(),
            raw_entry(0x1234_5678_9abc).unwrap(),
        ] {
            let w = words(&code);
            assert_eq!(w[0], 0xd503_245f, "bti c");
            // movz x9, #0x9abc; movk x9, #0x5678, lsl 16; movk x9, #0x1234, lsl 32
            let at = w.iter().position(|&w| w == 0xd293_5789).expect("movz x9");
            assert_eq!(w[at + 1], 0xf2aa_cf09);
            assert_eq!(w[at + 2], 0xf2c2_4689);
            assert_eq!(w[at + 4], 0xd63f_0120, "blr x9");
            assert_eq!(*w.last().unwrap(), 0xd65f_03c0, "ret");
        }
    }

    #[test]
    fn the_raw_entry_keeps_the_flags() {
        let w = words(&raw_entry(0x1000).unwrap());
        assert!(w.contains(&MRS_X9_NZCV) && w.contains(&MSR_NZCV_X9));
        // Every general register but sp is stored and loaded once: str/ldr x<n>, [sp, #..]
        for n in 0..31u32 {
            let str = |w: u32| w & 0xffc0_001f == 0xf900_0000 | n && (w >> 5) & 0x1f == 31;
            let ldr = |w: u32| w & 0xffc0_001f == 0xf940_0000 | n && (w >> 5) & 0x1f == 31;
            assert_eq!(
                w.iter().filter(|&&w| str(w)).count(),
                if n == 9 { 3 } else { 1 }
            );
            assert_eq!(
                w.iter().filter(|&&w| ldr(w)).count(),
                if n == 9 { 2 } else { 1 }
            );
        }
    }
}
