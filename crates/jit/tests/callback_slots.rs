//! Runs callback slots without Lua: Rust handlers read the saved registers and stack
//! arguments and write results, and the slots are called as ordinary C functions, so the
//! entries are checked against the compiler's idea of the C ABI.
// x86-64 System V: the register names and plans below are that convention's.
#![cfg(target_arch = "x86_64")]

use jitffi_abi::Loc;
use jitffi_jit::callback::SLOTS_PER_PAGE;
use jitffi_jit::{ArgFrame, CallbackSlot, CpuState, EntryKind, SlotPool};
use std::sync::atomic::Ordering;
use std::sync::OnceLock;

/// Typed handler: the slot's `data` word says what to compute.
unsafe extern "C" fn typed(slot: &'static CallbackSlot, frame: *mut ArgFrame) -> u32 {
    // SAFETY: the entry passes its live frame.
    let frame = unsafe { &mut *frame };
    match slot.data.load(Ordering::Relaxed) {
        // int (int, int): the sum, and the slot id in rdx.
        1 => {
            let sum =
                frame.register_word(Loc::Gpr(0)) as i32 + frame.register_word(Loc::Gpr(1)) as i32;
            frame.set_result_word(Loc::Gpr(0), sum as u32 as u64);
            frame.set_result_word(Loc::Gpr(1), u64::from(slot.id()));
        }
        // double (double x 10, long x 8): weighted sum of everything, 2 doubles and 2
        // longs from the stack.
        2 => {
            let mut sum = 0.0;
            for i in 0..8u8 {
                let v = f64::from_bits(frame.register_word(Loc::Vec(i)));
                sum += v * f64::from(i + 1);
            }
            for i in 0..6u8 {
                let g = frame.register_word(Loc::Gpr(i)) as i64;
                sum += g as f64 * 100.0 * f64::from(i + 1);
            }
            // Stack: long g7, long g8 are classified INTEGER, the two extra doubles SSE;
            // each takes an eightbyte in argument order: d9, d10, g7, g8 below.
            // SAFETY: the caller passed four stack eightbytes.
            let stack = unsafe { std::slice::from_raw_parts(frame.stack_args().cast::<u64>(), 4) };
            sum += f64::from_bits(stack[0]) * 9.0 + f64::from_bits(stack[1]) * 10.0;
            sum += (stack[2] as i64) as f64 * 700.0 + (stack[3] as i64) as f64 * 800.0;
            frame.set_result_word(Loc::Vec(0), sum.to_bits());
        }
        _ => std::process::abort(),
    }
    0
}

/// Raw handler: rax = rdi * 3 + rsi, xmm0 = xmm0 + xmm1, rbx is left alone (callee-saved
/// registers must survive untouched), the flags are kept.
unsafe extern "C" fn raw(_: &'static CallbackSlot, cpu: *mut CpuState) {
    // SAFETY: the entry passes its live state.
    let cpu = unsafe { &mut *cpu };
    cpu.gpr[0] = cpu.gpr[7].wrapping_mul(3).wrapping_add(cpu.gpr[6]);
    let a = f64::from_le_bytes(cpu.xmm[0][..8].try_into().unwrap());
    let b = f64::from_le_bytes(cpu.xmm[1][..8].try_into().unwrap());
    cpu.xmm[0][..8].copy_from_slice(&(a + b).to_le_bytes());
    // The return address is where rsp points.
    assert_ne!(cpu.gpr[4], 0);
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
    ) -> f64;
    // SAFETY: the slot's handler implements this signature for data word 2.
    let f: F = unsafe { std::mem::transmute(slot.code()) };
    let got = f(
        1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 1, 2, 3, 4, 5, 6, 7, 8,
    );
    let doubles: f64 = (1..=10).map(|i| f64::from(i) * f64::from(i)).sum();
    let longs: f64 = (1..=8).map(|i| f64::from(i) * 100.0 * f64::from(i)).sum();
    assert_eq!(got, doubles + longs);
}

#[test]
fn pools_grow_page_by_page_and_slots_are_distinct() {
    // SAFETY: `typed` is a TypedHandler.
    let pool =
        unsafe { SlotPool::new(EntryKind::Typed, typed as jitffi_jit::TypedHandler as usize) }
            .unwrap();
    let slots: Vec<_> = (0..600).map(|_| pool.fresh_slot().unwrap()).collect();
    assert_eq!(pool.pages(), 600usize.div_ceil(SLOTS_PER_PAGE));
    for (i, slot) in slots.iter().enumerate() {
        assert_eq!(slot.id() as usize, i);
        slot.claim(1, 1, 1, Default::default());
    }
    let mut codes: Vec<_> = slots.iter().map(|s| s.code() as usize).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), 600);
    let page_end = SLOTS_PER_PAGE - 1;
    for slot in [slots[0], slots[page_end], slots[page_end + 1], slots[599]] {
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
    // SAFETY: the handler sets rax from rdi and rsi, and xmm0.
    let f: extern "C" fn(u64, u64) -> u64 = unsafe { std::mem::transmute(slot.code()) };
    assert_eq!(f(5, 1), 16);
    // SAFETY: as above, for the vector registers.
    let g: extern "C" fn(f64, f64) -> f64 = unsafe { std::mem::transmute(slot.code()) };
    assert_eq!(g(1.5, 2.25), 3.75);
}
