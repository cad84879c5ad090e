//! x86-64 System V: everything of jitffi's machine code that knows this architecture.
//!
//! What an architecture folder provides (the seam `crate::arch` names; a new one
//! provides the same items with the same meanings):
//!
//! - `frames`: [`ResultArea`], [`ArgFrame`] and [`CpuState`], the register blocks that
//!   stubs and callback entries save and load, read and written by everybody else only
//!   through plan locations (`jitffi_abi::Loc`); the first two are `crate::frames`'
//!   shapes sized for this architecture, with what only it has and its offsets pinned;
//! - `call_stub`: [`emit_stub`], the code of one `StubSpec` (both entries begin with the
//!   landing pad) and its listing;
//! - `callback`: [`typed_entry`], [`raw_entry`], [`write_slot`] and [`SLOT_BYTES`], the
//!   code of a slot pool;
//! - here: [`current_thread`], [`flush_icache`], [`LANDING_PAD`], [`EXEC_GUARD`] and
//!   [`CODE_FILL`].

pub mod call_stub;
pub mod callback;
pub mod frames;

pub use call_stub::emit_stub;
pub use callback::{raw_entry, typed_entry, write_slot, SLOT_BYTES};
pub use frames::{ArgFrame, CpuState, ResultArea, ARG_FRAME_BYTES, CPU_STATE_BYTES};

/// The landing pad every entry that C calls indirectly begins with: ENDBR64 (CET
/// indirect branch tracking; a no-op on CPUs without it).
pub const LANDING_PAD: [u8; 4] = [0xf3, 0x0f, 0x1e, 0xfa];

/// Protection flags added to read+execute for published code: none (CET's indirect
/// branch tracking needs no page flag).
pub const EXEC_GUARD: i32 = 0;

/// The byte unused code memory is filled with: int3, a trap.
pub const CODE_FILL: u8 = 0xcc;

/// An identity of the running OS thread that costs one instruction: the thread pointer
/// (glibc keeps the thread control block's address at %fs:0).
#[inline(always)]
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

/// Makes freshly written code at `start..start + len` visible to instruction fetch:
/// nothing to do on x86-64, which keeps instruction fetch coherent with data writes
/// (the mapping change that publishes the code serializes as well).
///
/// # Safety
/// `start..start + len` is mapped and readable (code the arena has just published).
#[inline]
pub unsafe fn flush_icache(start: *const u8, len: usize) {
    let _ = (start, len);
}
