//! x86-64 System V callback code: the slots and the two entries of a
//! [`SlotPool`](crate::callback::SlotPool) (see `crate::callback` for the mechanism).
//!
//! Every slot is 32 bytes of code that begins with ENDBR64 (C calls it through a
//! pointer), loads the address of its `CallbackSlot` record into r11 (a scratch
//! register that no argument uses, psABI §3.2.1) and jumps to the entry through the
//! literal at the start of its page:
//!
//! ```text
//!   slot page (4096 bytes, written once, then read+execute)
//!   +0      entry address (8-byte literal), 24 bytes of int3
//!   +32     slot 0:  f3 0f 1e fa                    endbr64
//!                    49 bb <imm64 &CallbackSlot>    mov r11, record
//!                    ff 25 <disp32 to +0>           jmp [rip - ...]
//!                    int3 x 12
//!   +64     slot 1 ... up to slot 126 at +4064
//! ```
//!
//! - The typed entry saves the argument registers and the address of the stack
//!   arguments into an [`ArgFrame`](super::ArgFrame), calls `handler(record, frame) ->
//!   x87 count`, then loads rax, rdx, xmm0, xmm1 (and st0/st1 if the handler says so)
//!   from the frame:
//!
//!   ```text
//!     rbp+16  the caller's stack arguments (the frame's stack pointer points here)
//!     rbp+8   return address
//!     rbp     saved rbp
//!     rsp     ArgFrame (ARG_FRAME_BYTES, 16-aligned)
//!   ```
//!
//! - The raw entry (cbframe) saves *every* general register, rflags and xmm0-15 into a
//!   [`CpuState`](super::CpuState), calls `handler(record, cpu)`, then restores all of
//!   them from the (possibly modified) state, except rsp, and returns. The state lives in
//!   the entry's own stack frame, so nesting is limited only by the stack.
//!
//! Both entries begin with ENDBR64 too: the slots reach them by an indirect jump.

use super::frames::{CpuState, ARG_FRAME_BYTES, CPU_GPR, CPU_RFLAGS, CPU_STATE_BYTES};
use super::LANDING_PAD;
use crate::call_stub::{assembled_code, JitError};
use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, DynasmApi, DynasmLabelApi, VecAssembler};

/// Bytes of one slot's code (a multiple of 16, so that every slot is 16-aligned).
pub const SLOT_BYTES: usize = 32;

/// Writes the code of the slot `cell` at byte `at` of its page for the record at
/// `record`; the page's first 8 bytes hold the entry's address.
pub fn write_slot(cell: &mut [u8], at: usize, record: usize) {
    cell[..4].copy_from_slice(&LANDING_PAD);
    // mov r11, imm64
    cell[4] = 0x49;
    cell[5] = 0xbb;
    cell[6..14].copy_from_slice(&(record as u64).to_le_bytes());
    // jmp qword [rip + disp32]: rip is the end of this instruction, at + 20.
    cell[14] = 0xff;
    cell[15] = 0x25;
    let disp = -((at + 20) as i32);
    cell[16..20].copy_from_slice(&disp.to_le_bytes());
}

/// The typed entry: see the module docs.
pub fn typed_entry(handler: usize) -> Result<Vec<u8>, JitError> {
    let mut ops = VecAssembler::<X64Relocation>::new(0);
    // Reached by the slots' indirect jump.
    ops.extend(LANDING_PAD);
    let frame = ARG_FRAME_BYTES as i32;
    let no_x87 = ops.new_dynamic_label();
    let one_x87 = ops.new_dynamic_label();
    // rsp is 16-aligned after `push rbp` (the call pushed 8 bytes), and stays so.
    dynasm!(ops
        ; .arch x64
        ; push rbp
        ; mov rbp, rsp
        ; sub rsp, frame
        ; mov [rsp], rdi
        ; mov [rsp + 8], rsi
        ; mov [rsp + 16], rdx
        ; mov [rsp + 24], rcx
        ; mov [rsp + 32], r8
        ; mov [rsp + 40], r9
        ; lea rax, [rbp + 16]
        ; mov [rsp + 48], rax
        ; movups [rsp + 64], xmm0
        ; movups [rsp + 80], xmm1
        ; movups [rsp + 96], xmm2
        ; movups [rsp + 112], xmm3
        ; movups [rsp + 128], xmm4
        ; movups [rsp + 144], xmm5
        ; movups [rsp + 160], xmm6
        ; movups [rsp + 176], xmm7
        ; mov rdi, r11
        ; mov rsi, rsp
        ; mov rax, QWORD handler as i64
        ; call rax
        ; test eax, eax
        ; jz =>no_x87
        ; cmp eax, 1
        ; je =>one_x87
        // Two values: the second first, so that the first ends in st0.
        ; fld TWORD [rsp + 256]
        ; =>one_x87
        ; fld TWORD [rsp + 240]
        ; =>no_x87
        ; mov rax, [rsp + 192]
        ; mov rdx, [rsp + 200]
        ; movups xmm0, [rsp + 208]
        ; movups xmm1, [rsp + 224]
        ; leave
        ; ret
    );
    assembled_code("a callback entry", ops.finalize())
}

/// The raw entry: see the module docs.
pub fn raw_entry(handler: usize) -> Result<Vec<u8>, JitError> {
    let mut ops = VecAssembler::<X64Relocation>::new(0);
    // Reached by the slots' indirect jump.
    ops.extend(LANDING_PAD);
    let size = CPU_STATE_BYTES as i32;
    let caller_rsp = CpuState::gpr_offset(CpuState::STACK_POINTER) as i32;
    // After `pushfq` rsp is 16-aligned; the state keeps it so.
    dynasm!(ops
        ; .arch x64
        ; pushfq
        ; sub rsp, size
    );
    for reg in 0u8..16 {
        if reg != 4 {
            let at = CPU_GPR + 8 * i32::from(reg);
            dynasm!(ops ; .arch x64 ; mov [rsp + at], Rq(reg));
        }
    }
    for reg in 0u8..16 {
        let at = CpuState::vec_offset(usize::from(reg)) as i32;
        dynasm!(ops ; .arch x64 ; movups [rsp + at], Rx(reg));
    }
    dynasm!(ops
        ; .arch x64
        // The caller's rsp: above the state and the pushed flags.
        ; lea rax, [rsp + size + 8]
        ; mov [rsp + caller_rsp], rax
        ; mov rax, [rsp + size]
        ; mov [rsp + CPU_RFLAGS], rax
        ; mov rdi, r11
        ; mov rsi, rsp
        ; mov rax, QWORD handler as i64
        ; call rax
        ; mov rax, [rsp + CPU_RFLAGS]
        ; mov [rsp + size], rax
    );
    for reg in 0u8..16 {
        let at = CpuState::vec_offset(usize::from(reg)) as i32;
        dynasm!(ops ; .arch x64 ; movups Rx(reg), [rsp + at]);
    }
    // rax last: nothing else serves as a base.
    for reg in (0u8..16).rev() {
        if reg != 4 {
            let at = CPU_GPR + 8 * i32::from(reg);
            dynasm!(ops ; .arch x64 ; mov Rq(reg), [rsp + at]);
        }
    }
    dynasm!(ops
        ; .arch x64
        ; lea rsp, [rsp + size]
        ; popfq
        ; ret
    );
    assembled_code("a callback entry", ops.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_jumps_to_the_page_literal() {
        let mut cell = [0xcc; SLOT_BYTES];
        write_slot(&mut cell, 64, 0x1122_3344_5566_7788);
        assert_eq!(cell[..4], [0xf3, 0x0f, 0x1e, 0xfa]);
        assert_eq!(cell[6..14], 0x1122_3344_5566_7788_u64.to_le_bytes());
        // rip after the jmp is 64 + 20; the literal is at 0.
        assert_eq!(i32::from_le_bytes(cell[16..20].try_into().unwrap()), -84);
        assert_eq!(cell[20..], [0xcc; 12]);
    }

    #[test]
    fn entries_begin_with_the_landing_pad() {
        assert_eq!(typed_entry(0x1000).unwrap()[..4], LANDING_PAD);
        assert_eq!(raw_entry(0x1000).unwrap()[..4], LANDING_PAD);
    }
}
