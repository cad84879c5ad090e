//! AArch64 (AAPCS64, Linux): everything of jitffi's machine code that knows this
//! architecture. It provides the same items as `x86_64.rs` lists, with the same
//! meanings.

pub mod call_stub;
pub mod callback;
pub mod frames;

pub use call_stub::emit_stub;
pub use callback::{raw_entry, typed_entry, write_slot, SLOT_BYTES};
pub use frames::{ArgFrame, CpuState, ResultArea, ARG_FRAME_BYTES, CPU_STATE_BYTES};

/// The landing pad every entry that C calls indirectly begins with: `bti c` (branch
/// target identification; a no-op where BTI is not enforced, since it is in the hint
/// space).
pub const LANDING_PAD: [u8; 4] = 0xd503_245f_u32.to_le_bytes();

/// Protection flags added to read+execute for published code: `PROT_BTI` (Linux
/// arm64's value), which makes the CPU fault on an indirect branch into the page that
/// does not land on a `bti` (where the CPU has BTI; the arena falls back to plain
/// read+execute when the kernel refuses the flag).
pub const EXEC_GUARD: i32 = 0x10;

/// The byte unused code memory is filled with: four zero bytes are `udf #0`, a trap.
pub const CODE_FILL: u8 = 0;

/// An identity of the running OS thread that costs one instruction: the thread pointer
/// register (glibc points it at the thread control block).
#[cfg(target_arch = "aarch64")]
#[inline(always)]
pub fn current_thread() -> usize {
    let thread: usize;
    // SAFETY: reads the EL0 thread pointer register, which every thread has; no memory
    // is touched.
    unsafe {
        std::arch::asm!("mrs {}, tpidr_el0", out(reg) thread,
            options(nomem, nostack, preserves_flags));
    }
    thread
}

/// Makes freshly written code at `start..start + len` visible to instruction fetch:
/// cleans the data cache and invalidates the instruction cache by line (`dc cvau`,
/// `ic ivau`), with the barriers between (what `__clear_cache` does), through
/// dynasmrt's implementation.
///
/// # Safety
/// `start..start + len` is mapped and readable (code the arena has just published).
#[cfg(target_arch = "aarch64")]
pub unsafe fn flush_icache(start: *const u8, len: usize) {
    // SAFETY: readable, as the caller promises.
    let code = unsafe { std::slice::from_raw_parts(start, len) };
    dynasmrt::cache_control::synchronize_icache(code);
}
