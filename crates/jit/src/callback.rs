//! Callback slots: C function pointers that enter Rust with the CPU state they were called
//! with (x86-64 System V). The mechanism of LuaJIT's `lj_ccallback.c`, with pages that
//! grow one by one.
//!
//! A [`SlotPool`] owns one *entry* (machine code made once per pool) and pages of
//! *slots*. Every slot is 16 bytes of code that loads the address of its [`CallbackSlot`]
//! record into r11 (a scratch register that no argument uses, psABI §3.2.1) and jumps to
//! the entry through the literal at the start of its page:
//!
//! ```text
//!   slot page (4096 bytes, written once, then read+execute)
//!   +0      entry address (8-byte literal), 8 bytes padding
//!   +16     slot 1:  49 bb <imm64 &CallbackSlot>   mov r11, record
//!                    ff 25 <disp32 to +0>           jmp [rip - ...]
//!   +32     slot 2 ... up to slot 255 at +4080
//! ```
//!
//! Records live in a leaked array per page, so a slot's record address never changes
//! and the handler finds its record without any lookup.
//!
//! There are two entries:
//!
//! - [`EntryKind::Typed`] saves the argument registers and the address of the stack
//!   arguments into an [`ArgFrame`], calls `handler(record, frame) -> x87 count`, then
//!   loads rax, rdx, xmm0, xmm1 (and st0/st1 if the handler says so) from the frame:
//!
//!   ```text
//!     rbp+16  the caller's stack arguments (ArgFrame::stack points here)
//!     rbp+8   return address
//!     rbp     saved rbp
//!     rsp     ArgFrame (ARG_FRAME_BYTES, 16-aligned)
//!   ```
//!
//! - [`EntryKind::Raw`] (cbframe) saves *every* general register, rflags and xmm0-15
//!   into a [`CpuState`], calls `handler(record, cpu)`, then restores all of them from
//!   the (possibly modified) state, except rsp, and returns. The state lives in the
//!   entry's own stack frame, so nesting is limited only by the stack.
//!
//! Slots are never unmapped (a C library may keep a pointer forever: a late call must
//! land in a slot whose record says what became of it) and never handed back to the
//! pool: the owner (crates/ffi) keeps its own free list and marks what it stops using.
//! The records' words are atomics: the handler may be entered on any thread, and it
//! must be able to tell "not mine" ([`CallbackSlot::thread`]) before it reads anything
//! else the owner keeps.

use crate::call_stub::JitError;
use crate::code::{publish, PublishedCode};
use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, DynasmApi, DynasmLabelApi, VecAssembler};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Bytes of one slot's code.
const SLOT_BYTES: usize = 16;
/// Bytes of a slot page; the first slot-sized cell holds the entry's address.
const PAGE_BYTES: usize = 4096;
/// Slots per page.
pub const SLOTS_PER_PAGE: usize = PAGE_BYTES / SLOT_BYTES - 1;

/// What one slot is for, as its owner sets it. Every word is 0 for a fresh slot.
#[derive(Debug, Default)]
pub struct CallbackSlot {
    /// [`current_thread`] of the only thread that may run the owner's code through this
    /// slot (0: none).
    pub thread: AtomicUsize,
    /// The owner's word: who the slot belongs to (crates/ffi: the state box; 0 never
    /// used; see there for the other values).
    pub owner: AtomicUsize,
    /// The owner's second word (crates/ffi: the callback record).
    pub data: AtomicUsize,
    /// Bytes of a result the callback returns in memory (hidden pointer in rdi, psABI
    /// §3.2.3), so that a handler refusing a call can still hand the buffer back.
    pub ret_memory: AtomicU32,
    /// `long double` values the callback returns on the x87 stack (0, 1 or 2), for the
    /// same reason.
    pub ret_x87: AtomicU32,
    /// Global number of the slot in its pool (for messages and tables).
    id: u32,
    /// Address of the slot's code: the C function pointer.
    code: usize,
}

impl CallbackSlot {
    /// The C function pointer that enters this slot.
    pub fn code(&self) -> *const u8 {
        self.code as *const u8
    }

    /// The slot's number in its pool, from 0.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Sets every owner word at once (on the owner's thread, before publishing the
    /// pointer).
    pub fn claim(&self, thread: usize, owner: usize, data: usize, ret: RefusedResult) {
        self.ret_memory.store(ret.memory, Ordering::Relaxed);
        self.ret_x87.store(ret.x87, Ordering::Relaxed);
        self.data.store(data, Ordering::Relaxed);
        self.owner.store(owner, Ordering::Relaxed);
        // Release: a thread that sees the new thread word also sees the others.
        self.thread.store(thread, Ordering::Release);
    }
}

/// What a handler that refuses a call must still hand back: the buffer of a result
/// returned in memory (`memory` bytes) and the x87 values of a `long double` result.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct RefusedResult {
    pub memory: u32,
    pub x87: u32,
}

/// An identity of the running OS thread that costs one instruction: the thread pointer
/// (glibc keeps the thread control block's address at %fs:0).
pub fn current_thread() -> usize {
    let thread: usize;
    // SAFETY: reads the thread control block's self pointer, which the x86-64 Linux TLS
    // ABI places at %fs:0 for every thread; no memory is written.
    unsafe {
        std::arch::asm!("mov {}, qword ptr fs:[0]", out(reg) thread,
            options(nostack, readonly, preserves_flags));
    }
    thread
}

/// Registers a typed callback entry saves and the results it loads.
#[repr(C)]
#[derive(Debug)]
pub struct ArgFrame {
    /// rdi, rsi, rdx, rcx, r8, r9 as the caller left them.
    pub gpr: [u64; 6],
    /// The first stack argument (the caller's rsp + 8 at the call).
    pub stack: *mut u8,
    _pad: u64,
    /// xmm0-xmm7.
    pub vec: [[u8; 16]; 8],
    /// Loaded into rax, rdx on return.
    pub ret_gpr: [u64; 2],
    /// Loaded into xmm0, xmm1 on return.
    pub ret_vec: [[u8; 16]; 2],
    /// 80-bit values loaded onto the x87 stack on return (`ret_x87[0]` ends in st0), as
    /// many as the handler's result says.
    pub ret_x87: [[u8; 16]; 2],
}

/// Bytes of an [`ArgFrame`].
pub const ARG_FRAME_BYTES: usize = std::mem::size_of::<ArgFrame>();
const _: () = assert!(ARG_FRAME_BYTES.is_multiple_of(16));

/// The whole register state a raw (cbframe) entry hands over.
#[repr(C)]
#[derive(Debug)]
pub struct CpuState {
    /// xmm0-xmm15.
    pub xmm: [[u8; 16]; 16],
    /// The general registers in encoding order: rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi,
    /// r8-r15. rsp is the stack pointer the caller's `call` left (it points at the return
    /// address; stack arguments start 8 bytes above); writing it changes nothing. r11 holds
    /// the slot record's address (the slot's code loads it: r11 is scratch in the psABI).
    pub gpr: [u64; 16],
    /// rflags.
    pub rflags: u64,
    _pad: u64,
}

/// Bytes of a [`CpuState`].
pub const CPU_STATE_BYTES: usize = std::mem::size_of::<CpuState>();
const _: () = assert!(CPU_STATE_BYTES.is_multiple_of(16));

/// Which state an entry saves and what its handler receives.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// `handler(&CallbackSlot, *mut ArgFrame) -> u32`: the number of x87 results.
    Typed,
    /// `handler(&CallbackSlot, *mut CpuState)`.
    Raw,
}

/// The typed entry's handler.
pub type TypedHandler =
    unsafe extern "C" fn(slot: &'static CallbackSlot, frame: *mut ArgFrame) -> u32;
/// The raw entry's handler.
pub type RawHandler = unsafe extern "C" fn(slot: &'static CallbackSlot, cpu: *mut CpuState);

/// A growable set of slots sharing one entry.
pub struct SlotPool {
    entry: PublishedCode,
    inner: Mutex<PoolPages>,
}

#[derive(Default)]
struct PoolPages {
    pages: Vec<PublishedCode>,
    /// Fresh slots of the newest page, in order.
    fresh: Vec<&'static CallbackSlot>,
    next_id: u32,
}

impl SlotPool {
    /// A pool whose entry is of `kind` and calls `handler`.
    ///
    /// # Safety
    /// `handler` is a function of the type [`EntryKind`] names for `kind`
    /// ([`TypedHandler`] or [`RawHandler`]) that lives as long as the process.
    pub unsafe fn new(kind: EntryKind, handler: usize) -> Result<SlotPool, JitError> {
        let bytes = match kind {
            EntryKind::Typed => typed_entry(handler)?,
            EntryKind::Raw => raw_entry(handler)?,
        };
        let entry = publish(&bytes).map_err(|e| JitError {
            message: format!("cannot map code memory: {e}"),
        })?;
        Ok(SlotPool {
            entry,
            inner: Mutex::new(PoolPages::default()),
        })
    }

    /// A slot never handed out before, with every owner word 0. Maps a new page when
    /// the newest is used up.
    pub fn fresh_slot(&self) -> Result<&'static CallbackSlot, JitError> {
        // A poisoned lock means a panic elsewhere while holding it; the lists are
        // consistent at every await point (a page is pushed whole).
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.fresh.is_empty() {
            let first_id = inner.next_id;
            let (page, records) = self.new_page(first_id)?;
            inner.pages.push(page);
            inner.next_id =
                first_id
                    .checked_add(SLOTS_PER_PAGE as u32)
                    .ok_or_else(|| JitError {
                        message: "too many callbacks".into(),
                    })?;
            inner.fresh = records.iter().rev().collect();
        }
        Ok(inner.fresh.pop().expect("a fresh page has slots"))
    }

    /// Writes one page of slots for the records `first_id..`, then publishes it.
    fn new_page(
        &self,
        first_id: u32,
    ) -> Result<(PublishedCode, &'static [CallbackSlot]), JitError> {
        // The page's records must exist (at fixed addresses) before its code, which holds
        // their addresses; their `code` words are filled once the page is mapped.
        let records: &'static mut [CallbackSlot] = Box::leak(
            (0..SLOTS_PER_PAGE)
                .map(|i| CallbackSlot {
                    id: first_id + i as u32,
                    ..CallbackSlot::default()
                })
                .collect::<Vec<_>>()
                .into_boxed_slice(),
        );
        let mut bytes = vec![0xcc_u8; PAGE_BYTES];
        bytes[..8].copy_from_slice(&(self.entry.address(0) as u64).to_le_bytes());
        for (i, record) in records.iter().enumerate() {
            let at = SLOT_BYTES * (i + 1);
            let code = &mut bytes[at..at + SLOT_BYTES];
            // mov r11, imm64
            code[0] = 0x49;
            code[1] = 0xbb;
            code[2..10].copy_from_slice(&(record as *const CallbackSlot as u64).to_le_bytes());
            // jmp qword [rip + disp32]: rip is the end of this instruction.
            code[10] = 0xff;
            code[11] = 0x25;
            let disp = -((at + 16) as i32);
            code[12..16].copy_from_slice(&disp.to_le_bytes());
        }
        let page = publish(&bytes).map_err(|e| JitError {
            message: format!("cannot map code memory: {e}"),
        })?;
        for (i, record) in records.iter_mut().enumerate() {
            record.code = page.address(SLOT_BYTES * (i + 1)) as usize;
        }
        Ok((page, records))
    }

    /// Slots handed out so far, over all pages (for tests and statistics).
    pub fn pages(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pages
            .len()
    }
}

// ---- the entries ---------------------------------------------------------------------------

fn finish(ops: VecAssembler<X64Relocation>) -> Result<Vec<u8>, JitError> {
    ops.finalize().map_err(|err| JitError {
        message: format!("bug: assembling a callback entry failed: {err}"),
    })
}

/// The typed entry: see the module docs.
fn typed_entry(handler: usize) -> Result<Vec<u8>, JitError> {
    let mut ops = VecAssembler::<X64Relocation>::new(0);
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
    finish(ops)
}

const CPU_GPR: i32 = 256;
const CPU_RFLAGS: i32 = 384;

/// The raw entry: see the module docs.
fn raw_entry(handler: usize) -> Result<Vec<u8>, JitError> {
    let mut ops = VecAssembler::<X64Relocation>::new(0);
    let size = CPU_STATE_BYTES as i32;
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
        let at = 16 * i32::from(reg);
        dynasm!(ops ; .arch x64 ; movups [rsp + at], Rx(reg));
    }
    dynasm!(ops
        ; .arch x64
        // The caller's rsp: above the state and the pushed flags.
        ; lea rax, [rsp + size + 8]
        ; mov [rsp + CPU_GPR + 32], rax
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
        let at = 16 * i32::from(reg);
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
    finish(ops)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_offsets_match_the_entry_code() {
        assert_eq!(std::mem::offset_of!(ArgFrame, stack), 48);
        assert_eq!(std::mem::offset_of!(ArgFrame, vec), 64);
        assert_eq!(std::mem::offset_of!(ArgFrame, ret_gpr), 192);
        assert_eq!(std::mem::offset_of!(ArgFrame, ret_vec), 208);
        assert_eq!(std::mem::offset_of!(ArgFrame, ret_x87), 240);
        assert_eq!(std::mem::offset_of!(CpuState, gpr), CPU_GPR as usize);
        assert_eq!(std::mem::offset_of!(CpuState, rflags), CPU_RFLAGS as usize);
    }

    #[test]
    fn threads_have_distinct_identities() {
        let here = current_thread();
        assert_ne!(here, 0);
        assert_eq!(here, current_thread());
        let there = std::thread::spawn(current_thread).join().unwrap();
        assert_ne!(here, there);
    }
}
