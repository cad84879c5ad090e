//! Runs AArch64 callback slots without Lua (under qemu-aarch64 on an x86-64 host): Rust
//! handlers read the saved registers and stack arguments and write results, and the
//! slots are called as ordinary C functions, so the entries are checked against the
//! compiler's idea of AAPCS64.
#![cfg(target_arch = "aarch64")]

use jitffi_abi::Loc;
use jitffi_jit::callback::SLOTS_PER_PAGE;
use jitffi_jit::{ArgFrame, CallbackSlot, CpuState, EntryKind, SlotPool};
use std::sync::atomic::Ordering;
use std::sync::OnceLock;

#[repr(C)]
#[derive(Debug, PartialEq, Clone, Copy)]
struct Quad {
    a: f32,
    b: f32,
    c: f32,
    d: f32,
}

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
        // int (int, int): the sum, and the slot id in x1.
        1 => {
            let sum =
                frame.register_word(Loc::Gpr(0)) as i32 + frame.register_word(Loc::Gpr(1)) as i32;
            frame.set_result_word(Loc::Gpr(0), sum as u32 as u64);
            frame.set_result_word(Loc::Gpr(1), u64::from(slot.id()));
        }
        // double (double x 10, long x 10): weighted sum of everything; d8, d9, g8, g9
        // come on the stack in argument order, 8 bytes each (AAPCS64 §6.8.2 C.16).
        2 => {
            let mut sum = 0.0;
            for i in 0..8u8 {
                let v = f64::from_bits(frame.register_word(Loc::Vec(i)));
                sum += v * f64::from(i + 1);
            }
            for i in 0..8u8 {
                let g = frame.register_word(Loc::Gpr(i)) as i64;
                sum += g as f64 * 100.0 * f64::from(i + 1);
            }
            // SAFETY: the caller passed four stack doublewords.
            let stack = unsafe { std::slice::from_raw_parts(frame.stack_args().cast::<u64>(), 4) };
            sum += f64::from_bits(stack[0]) * 9.0 + f64::from_bits(stack[1]) * 10.0;
            sum += (stack[2] as i64) as f64 * 900.0 + (stack[3] as i64) as f64 * 1000.0;
            frame.set_result_word(Loc::Vec(0), sum.to_bits());
        }
        // struct Quad (struct Quad): an HFA of four floats in s0-s3 both ways, reversed.
        3 => {
            let member = |i: u8| frame.register_word(Loc::Vec(i)) as u32;
            let (a, b, c, d) = (member(0), member(1), member(2), member(3));
            for (i, bits) in [d, c, b, a].into_iter().enumerate() {
                frame.set_result_vec(Loc::Vec(i as u8), &bits.to_le_bytes());
            }
        }
        // struct Big (u64): a result in memory through x8, each word the argument + i.
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

/// Raw handler: x0 = x0 * 3 + x1, d0 = d0 + d1, x19 (callee-saved) is left alone; it
/// sees the caller's sp (16-aligned) and return address.
unsafe extern "C" fn raw(slot: &'static CallbackSlot, cpu: *mut CpuState) {
    // SAFETY: the entry passes its live state.
    let cpu = unsafe { &mut *cpu };
    cpu.gpr[0] = cpu.gpr[0].wrapping_mul(3).wrapping_add(cpu.gpr[1]);
    let a = f64::from_le_bytes(cpu.vec[0][..8].try_into().unwrap());
    let b = f64::from_le_bytes(cpu.vec[1][..8].try_into().unwrap());
    cpu.vec[0][..8].copy_from_slice(&(a + b).to_le_bytes());
    // x17 holds the record, as the slot loaded it; sp is the caller's, 16-aligned.
    if cpu.gpr[17] != slot as *const CallbackSlot as u64
        || cpu.gpr[31] % 16 != 0
        || cpu.gpr[30] == 0
    {
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
    // SAFETY: the handler sets x0 from x0 and x1.
    let f: extern "C" fn(u64, u64) -> u64 = unsafe { std::mem::transmute(slot.code()) };
    assert_eq!(f(5, 1), 16);
    // SAFETY: as above, for the vector registers.
    let g: extern "C" fn(f64, f64) -> f64 = unsafe { std::mem::transmute(slot.code()) };
    assert_eq!(g(1.5, 2.25), 3.75);
}
