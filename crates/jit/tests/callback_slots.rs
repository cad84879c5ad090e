//! Runs callback slots without Lua (natively on x86-64, under qemu-aarch64 for
//! AArch64): Rust handlers read the saved registers and stack arguments and write
//! results, and the slots are called as ordinary C functions, so the entries are checked
//! against the compiler's idea of the C ABI. The handlers name registers only through
//! plan locations and `CpuState`'s offsets; what one convention alone has (AArch64's
//! HFAs and x8, its raw entry's record register) is behind `cfg`.

use jitffi_abi::Loc;
use jitffi_jit::callback::SLOTS_PER_PAGE;
use jitffi_jit::{ArgFrame, CallbackSlot, CpuState, EntryKind, SlotPool};
use std::sync::atomic::Ordering;
use std::sync::OnceLock;

/// Integer argument registers: rdi, rsi, rdx, rcx, r8, r9 (psABI §3.2.3).
#[cfg(target_arch = "x86_64")]
const INT_ARG_REGS: u8 = 6;
/// Integer argument registers: x0-x7 (AAPCS64 §6.8.2).
#[cfg(target_arch = "aarch64")]
const INT_ARG_REGS: u8 = 8;

#[cfg(target_arch = "aarch64")]
#[repr(C)]
#[derive(Debug, PartialEq, Clone, Copy)]
struct Quad {
    a: f32,
    b: f32,
    c: f32,
    d: f32,
}

#[cfg(target_arch = "aarch64")]
#[repr(C)]
#[derive(Debug, PartialEq, Clone, Copy)]
struct Big {
    x: [u64; 5],
}

/// Typed handler: the slot's `data` word says what to compute.
unsafe extern "C" fn typed(slot: &'static CallbackSlot, frame: *mut ArgFrame) -> u32 {
    // SAFETY: the entry passes its live frame.
    let frame = unsafe { &mut *frame };
    match slot.data.load(Ordering::Relaxed) {
        // int (int, int): the sum, and the slot id in the second result register.
        1 => {
            let sum =
                frame.register_word(Loc::Gpr(0)) as i32 + frame.register_word(Loc::Gpr(1)) as i32;
            frame.set_result_word(Loc::Gpr(0), sum as u32 as u64);
            frame.set_result_word(Loc::Gpr(1), u64::from(slot.id()));
        }
        // double (double x 10, long x 10): weighted sum of everything. Eight doubles and
        // INT_ARG_REGS longs come in registers; the other two doubles, then the other
        // longs, on the stack in argument order, 8 bytes each (psABI §3.2.3, AAPCS64
        // §6.8.2 C.16).
        2 => {
            let mut sum = 0.0;
            for i in 0..8u8 {
                let v = f64::from_bits(frame.register_word(Loc::Vec(i)));
                sum += v * f64::from(i + 1);
            }
            for i in 0..INT_ARG_REGS {
                let g = frame.register_word(Loc::Gpr(i)) as i64;
                sum += g as f64 * 100.0 * f64::from(i + 1);
            }
            let stack_longs = usize::from(10 - INT_ARG_REGS);
            // SAFETY: the caller passed two stack doubles and the stack longs.
            let stack = unsafe {
                std::slice::from_raw_parts(frame.stack_args().cast::<u64>(), 2 + stack_longs)
            };
            sum += f64::from_bits(stack[0]) * 9.0 + f64::from_bits(stack[1]) * 10.0;
            for (k, &g) in stack[2..].iter().enumerate() {
                let weight = f64::from(INT_ARG_REGS) + 1.0 + k as f64;
                sum += (g as i64) as f64 * 100.0 * weight;
            }
            frame.set_result_word(Loc::Vec(0), sum.to_bits());
        }
        // struct Quad (struct Quad): an HFA of four floats in s0-s3 both ways, reversed.
        #[cfg(target_arch = "aarch64")]
        3 => {
            let member = |i: u8| frame.register_word(Loc::Vec(i)) as u32;
            let (a, b, c, d) = (member(0), member(1), member(2), member(3));
            for (i, bits) in [d, c, b, a].into_iter().enumerate() {
                frame.set_result_vec(Loc::Vec(i as u8), &bits.to_le_bytes());
            }
        }
        // struct Big (u64): a result in memory through x8, each word the argument + i.
        #[cfg(target_arch = "aarch64")]
        4 => {
            let base = frame.register_word(Loc::Gpr(0));
            let out = frame.memory_result(Loc::Gpr(8)).cast::<u64>();
            for i in 0..5 {
                // SAFETY: x8 points at the caller's 40-byte buffer.
                unsafe { out.add(i).write_unaligned(base + i as u64) };
            }
        }
        _ => std::process::abort(),
    }
    0
}

/// Raw handler: the first integer result = first argument * 3 + second, the first
/// vector result = the sum of the first two vector arguments (as doubles); callee-saved
/// registers are left alone and must survive untouched, the flags are kept. It sees the
/// caller's stack pointer (16-aligned on AArch64) and, on AArch64, its return address
/// in x30 and the slot record in x17, where the slot loaded it.
unsafe extern "C" fn raw(slot: &'static CallbackSlot, cpu: *mut CpuState) {
    let base = cpu.cast::<u8>();
    let at = |offset: Option<usize>| {
        // SAFETY: the entry passes its live state; the offsets are of its registers.
        unsafe {
            base.add(offset.expect("a register of the state"))
                .cast::<[u8; 8]>()
        }
    };
    // SAFETY: `at` gives pointers to 8-byte registers of the live state (the state is
    // 16-aligned, registers at multiples of 8).
    unsafe {
        let word = |loc| u64::from_le_bytes(*at(CpuState::arg_offset(loc)));
        let sum = word(Loc::Gpr(0))
            .wrapping_mul(3)
            .wrapping_add(word(Loc::Gpr(1)));
        *at(CpuState::result_offset(Loc::Gpr(0))) = sum.to_le_bytes();
        let a = f64::from_le_bytes(*at(CpuState::arg_offset(Loc::Vec(0))));
        let b = f64::from_le_bytes(*at(CpuState::arg_offset(Loc::Vec(1))));
        *at(CpuState::result_offset(Loc::Vec(0))) = (a + b).to_le_bytes();
    }
    // SAFETY: as above, shared reads only.
    let cpu = unsafe { &*cpu };
    let sp = cpu.gpr[CpuState::STACK_POINTER];
    let ok = sp != 0;
    #[cfg(target_arch = "aarch64")]
    let ok =
        ok && cpu.gpr[17] == slot as *const CallbackSlot as u64 && sp % 16 == 0 && cpu.gpr[30] != 0;
    #[cfg(not(target_arch = "aarch64"))]
    let _ = slot;
    if !ok {
        std::process::abort();
    }
}

fn typed_pool() -> &'static SlotPool {
    static POOL: OnceLock<SlotPool> = OnceLock::new();
    POOL.get_or_init(|| {
        // SAFETY: `typed` is a TypedHandler.
        unsafe { SlotPool::new(EntryKind::Typed, typed as jitffi_jit::TypedHandler as usize) }
            .unwrap()
    })
}

#[test]
fn typed_slots_pass_registers_and_results() {
    let slot = typed_pool().fresh_slot().unwrap();
    slot.claim(1, 1, 1, Default::default());
    // SAFETY: the slot's handler implements this signature for data word 1.
    let f: extern "C" fn(i32, i32) -> i32 = unsafe { std::mem::transmute(slot.code()) };
    assert_eq!(f(40, 2), 42);
    assert_eq!(f(-7, 3), -4);
}

#[test]
fn typed_slots_see_stack_arguments() {
    let slot = typed_pool().fresh_slot().unwrap();
    slot.claim(1, 1, 2, Default::default());
    type F = extern "C" fn(
        f64,
        f64,
        f64,
        f64,
        f64,
        f64,
        f64,
        f64,
        f64,
        f64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
        i64,
    ) -> f64;
    // SAFETY: the slot's handler implements this signature for data word 2.
    let f: F = unsafe { std::mem::transmute(slot.code()) };
    let got = f(
        1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    );
    let doubles: f64 = (1..=10).map(|i| f64::from(i) * f64::from(i)).sum();
    let longs: f64 = (1..=10).map(|i| f64::from(i) * 100.0 * f64::from(i)).sum();
    assert_eq!(got, doubles + longs);
}

#[cfg(target_arch = "aarch64")]
#[test]
fn typed_slots_take_and_return_hfas() {
    let slot = typed_pool().fresh_slot().unwrap();
    slot.claim(1, 1, 3, Default::default());
    // SAFETY: the slot's handler implements this signature for data word 3.
    let f: extern "C" fn(Quad) -> Quad = unsafe { std::mem::transmute(slot.code()) };
    let q = Quad {
        a: 1.5,
        b: 2.5,
        c: -3.0,
        d: 4.25,
    };
    assert_eq!(
        f(q),
        Quad {
            a: 4.25,
            b: -3.0,
            c: 2.5,
            d: 1.5
        }
    );
}

#[cfg(target_arch = "aarch64")]
#[test]
fn typed_slots_return_through_x8() {
    let slot = typed_pool().fresh_slot().unwrap();
    slot.claim(1, 1, 4, Default::default());
    // SAFETY: the slot's handler implements this signature for data word 4.
    let f: extern "C" fn(u64) -> Big = unsafe { std::mem::transmute(slot.code()) };
    assert_eq!(f(10).x, [10, 11, 12, 13, 14]);
}

#[test]
fn pools_grow_page_by_page_and_slots_are_distinct() {
    // SAFETY: `typed` is a TypedHandler.
    let pool =
        unsafe { SlotPool::new(EntryKind::Typed, typed as jitffi_jit::TypedHandler as usize) }
            .unwrap();
    let slots: Vec<_> = (0..300).map(|_| pool.fresh_slot().unwrap()).collect();
    assert_eq!(pool.pages(), 300usize.div_ceil(SLOTS_PER_PAGE));
    for (i, slot) in slots.iter().enumerate() {
        assert_eq!(slot.id() as usize, i);
        slot.claim(1, 1, 1, Default::default());
    }
    let mut codes: Vec<_> = slots.iter().map(|s| s.code() as usize).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), 300);
    let page_end = SLOTS_PER_PAGE - 1;
    for slot in [slots[0], slots[page_end], slots[page_end + 1], slots[299]] {
        // SAFETY: as in typed_slots_pass_registers_and_results.
        let f: extern "C" fn(i32, i32) -> i32 = unsafe { std::mem::transmute(slot.code()) };
        assert_eq!(f(1, 2), 3);
    }
}

#[test]
fn raw_slots_hand_over_and_take_back_the_cpu_state() {
    // SAFETY: `raw` is a RawHandler.
    let pool =
        unsafe { SlotPool::new(EntryKind::Raw, raw as jitffi_jit::RawHandler as usize) }.unwrap();
    let slot = pool.fresh_slot().unwrap();
    // SAFETY: the handler sets the first integer result from the first two arguments.
    let f: extern "C" fn(u64, u64) -> u64 = unsafe { std::mem::transmute(slot.code()) };
    assert_eq!(f(5, 1), 16);
    // SAFETY: as above, for the vector registers.
    let g: extern "C" fn(f64, f64) -> f64 = unsafe { std::mem::transmute(slot.code()) };
    assert_eq!(g(1.5, 2.25), 3.75);
}
