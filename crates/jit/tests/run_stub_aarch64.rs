//! Runs real AArch64 stubs without Lua (under qemu-aarch64 on an x86-64 host): the
//! helpers read argument values from a table, the targets are C functions of libc and
//! Rust `extern "C"` functions that check what they receive, so the moves a stub makes
//! (x0-x7 with extension, v0-v7 as s/d/q, HFAs in consecutive v registers, composites in
//! x pairs, the x8 result buffer, stack arguments, results in x0/x1/v0-v3) are tested
//! against the compilers' own idea of AAPCS64.
#![cfg(target_arch = "aarch64")]

mod common;

use common::{
    float, generic_push, helpers, int, integer_push, memory_fetch, number_push, piece, plan,
    scalar_fetch, set_errno, Caller,
};
use jitffi_abi::{ArgPlan, Ext, Loc, PieceKind, RetPlan};
use jitffi_jit::{stub_for, ResultArea, ResultPush, StubSpec};
use std::ffi::{c_int, c_long, c_void};

extern "C" {
    fn ldexp(x: f64, e: c_int) -> f64;
    fn labs(x: c_long) -> c_long;
    fn lldiv(n: i64, d: i64) -> LlDiv;
}

#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq)]
struct LlDiv {
    quot: i64,
    rem: i64,
}

#[test]
fn libc_functions_take_registers_and_give_results() {
    // double ldexp(double, int): d0, w1 -> d0; the Number push widens nothing.
    let spec = StubSpec {
        plan: plan(
            vec![
                float(PieceKind::F64, 8, Loc::Vec(0)),
                int(Ext::Sign(4), 4, Loc::Gpr(0)),
            ],
            RetPlan::Pieces(vec![piece(0, 8, PieceKind::F64, Loc::Vec(0))]),
            0,
        ),
        args: vec![scalar_fetch(); 2],
        result: ResultPush::Generic(generic_push()),
        helpers: helpers(),
    };
    let mut caller = Caller::new(ldexp as *const c_void, vec![1.5f64.to_bits(), 4]);
    assert_eq!(caller.run(&spec), 7);
    assert_eq!(f64::from_bits(caller.result_word(16)), 24.0);

    // long labs(long): x0 -> x0, pushed as an integer.
    let spec = StubSpec {
        plan: plan(
            vec![int(Ext::None, 8, Loc::Gpr(0))],
            RetPlan::Pieces(vec![piece(0, 8, PieceKind::Int(Ext::None), Loc::Gpr(0))]),
            0,
        ),
        args: vec![scalar_fetch()],
        result: ResultPush::Integer(integer_push()),
        helpers: helpers(),
    };
    let mut caller = Caller::new(labs as *const c_void, vec![-12345i64 as u64]);
    assert_eq!(caller.run(&spec), 1);
    assert_eq!(caller.pushed, Some(12345));

    // lldiv_t lldiv(long long, long long): a 16-byte composite back in x0, x1.
    let spec = StubSpec {
        plan: plan(
            vec![
                int(Ext::None, 8, Loc::Gpr(0)),
                int(Ext::None, 8, Loc::Gpr(1)),
            ],
            RetPlan::Pieces(vec![
                piece(0, 8, PieceKind::Int(Ext::None), Loc::Gpr(0)),
                piece(8, 8, PieceKind::Int(Ext::None), Loc::Gpr(1)),
            ]),
            0,
        ),
        args: vec![scalar_fetch(); 2],
        result: ResultPush::Generic(generic_push()),
        helpers: helpers(),
    };
    let mut caller = Caller::new(lldiv as *const c_void, vec![-47i64 as u64, 5]);
    assert_eq!(caller.run(&spec), 7);
    assert_eq!(
        (caller.result_word(0) as i64, caller.result_word(8) as i64),
        (-9, -2)
    );
}

#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq)]
struct Quad {
    x: [f32; 4],
}

#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq)]
struct Triple {
    x: [f64; 3],
}

#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq)]
struct Pair12 {
    a: i32,
    b: i32,
    c: i32,
}

/// An HFA of four floats in s0-s3, an integer composite in x0/x1, a double in d4, and
/// an HFA of three doubles back in d0-d2.
extern "C" fn hfa(q: Quad, p: Pair12, d: f64, n: i8) -> Triple {
    assert_eq!(q.x, [1.0, 2.0, 3.0, 4.0]);
    assert_eq!((p.a, p.b, p.c), (-1, -2, -3));
    assert_eq!((d, n), (0.5, -7));
    Triple {
        x: [q.x[0] as f64 + d, p.c as f64, f64::from(n)],
    }
}

#[test]
fn hfas_and_composites_use_consecutive_registers() {
    let quad: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0]
        .iter()
        .flat_map(|x| x.to_ne_bytes())
        .collect();
    let pair: Vec<u8> = [-1i32, -2, -3]
        .iter()
        .flat_map(|x| x.to_ne_bytes())
        .collect();
    let spec = StubSpec {
        plan: plan(
            vec![
                ArgPlan::Pieces(
                    (0..4)
                        .map(|i| piece(4 * i, 4, PieceKind::F32, Loc::Vec(i as u8)))
                        .collect(),
                ),
                ArgPlan::Pieces(vec![
                    piece(0, 8, PieceKind::Int(Ext::None), Loc::Gpr(0)),
                    piece(8, 4, PieceKind::Int(Ext::None), Loc::Gpr(1)),
                ]),
                float(PieceKind::F64, 8, Loc::Vec(4)),
                int(Ext::Sign(1), 1, Loc::Gpr(2)),
            ],
            RetPlan::Pieces(
                (0..3)
                    .map(|i| piece(8 * i, 8, PieceKind::F64, Loc::Vec(i as u8)))
                    .collect(),
            ),
            0,
        ),
        args: vec![
            memory_fetch(16),
            memory_fetch(12),
            scalar_fetch(),
            scalar_fetch(),
        ],
        result: ResultPush::Generic(generic_push()),
        helpers: helpers(),
    };
    let mut caller = Caller::new(
        hfa as *const c_void,
        vec![0, 0, 0.5f64.to_bits(), -7i64 as u64],
    );
    caller.blobs[0] = quad;
    caller.blobs[1] = pair;
    assert_eq!(caller.run(&spec), 7);
    // The area keeps each v register whole: q0, q1, q2 at 16, 32, 48.
    let got: Vec<f64> = [16, 32, 48]
        .iter()
        .map(|&at| f64::from_bits(caller.result_word(at)))
        .collect();
    assert_eq!(got, vec![1.5, -3.0, -7.0]);
}

#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq)]
struct Big {
    x: [i64; 5],
}

/// Eight integers fill x0-x7, nine doubles fill v0-v7 and one stack slot, the rest go
/// on the stack; the 40-byte result comes back through x8.
#[allow(clippy::too_many_arguments)]
extern "C" fn many(
    a: u8,
    b: i16,
    c: i32,
    d: i64,
    e: u32,
    f: i8,
    g: u16,
    h: i64,
    d0: f64,
    d1: f64,
    d2: f64,
    d3: f64,
    d4: f64,
    d5: f64,
    d6: f64,
    f7: f32,
    d8: f64,
    i: i32,
    j: i8,
) -> Big {
    assert_eq!(
        (a, b, c, d, e, f, g, h),
        (200, -300, -70000, 1 << 40, 4_000_000_000, -5, 60000, -8)
    );
    assert_eq!(
        [d0, d1, d2, d3, d4, d5, d6],
        [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5]
    );
    assert_eq!((f7, d8, i, j), (7.5, 8.5, -9, -10));
    set_errno(11);
    Big {
        x: [1, 2, 3, 4, i64::from(i) + i64::from(j)],
    }
}

#[test]
fn stack_arguments_and_results_in_memory() {
    let mut args = vec![
        int(Ext::Zero(1), 1, Loc::Gpr(0)),
        int(Ext::Sign(2), 2, Loc::Gpr(1)),
        int(Ext::Sign(4), 4, Loc::Gpr(2)),
        int(Ext::None, 8, Loc::Gpr(3)),
        int(Ext::Zero(4), 4, Loc::Gpr(4)),
        int(Ext::Sign(1), 1, Loc::Gpr(5)),
        int(Ext::Zero(2), 2, Loc::Gpr(6)),
        int(Ext::None, 8, Loc::Gpr(7)),
    ];
    for n in 0..7 {
        args.push(float(PieceKind::F64, 8, Loc::Vec(n)));
    }
    args.push(float(PieceKind::F32, 4, Loc::Vec(7)));
    args.push(float(PieceKind::F64, 8, Loc::Stack(0)));
    args.push(int(Ext::Sign(4), 4, Loc::Stack(8)));
    args.push(int(Ext::Sign(1), 1, Loc::Stack(16)));
    let spec = StubSpec {
        plan: plan(
            args,
            RetPlan::Memory {
                size: 40,
                pointer: Loc::Gpr(8),
            },
            24,
        ),
        args: vec![scalar_fetch(); 19],
        result: ResultPush::Generic(generic_push()),
        helpers: helpers(),
    };
    let mut values = vec![
        200,
        -300i64 as u64,
        -70000i64 as u64,
        1 << 40,
        4_000_000_000,
        -5i64 as u64,
        60000,
        -8i64 as u64,
    ];
    values.extend((0..7).map(|i| (f64::from(i) + 0.5).to_bits()));
    values.push(u64::from(7.5f32.to_bits()));
    values.push(8.5f64.to_bits());
    values.push(-9i64 as u64);
    values.push(-10i64 as u64);
    let mut caller = Caller::new(many as *const c_void, values);
    assert_eq!(caller.run(&spec), 7);
    assert_eq!(caller.errno(), 11, "errno saved after the call");
    let area = std::mem::size_of::<ResultArea>();
    let big: Vec<i64> = (0..5)
        .map(|i| caller.result_word(area + 8 * i) as i64)
        .collect();
    assert_eq!(big, vec![1, 2, 3, 4, -19]);
}

extern "C" fn narrow() -> i8 {
    -2
}

extern "C" fn half(x: f32) -> f32 {
    x / 2.0
}

#[test]
fn pushed_results_are_extended_and_widened() {
    let spec = StubSpec {
        plan: plan(
            vec![],
            RetPlan::Pieces(vec![piece(0, 1, PieceKind::Int(Ext::Sign(1)), Loc::Gpr(0))]),
            0,
        ),
        args: vec![],
        result: ResultPush::Integer(integer_push()),
        helpers: helpers(),
    };
    let mut caller = Caller::new(narrow as *const c_void, vec![]);
    assert_eq!(caller.run(&spec), 1);
    assert_eq!(caller.pushed, Some(-2));

    let spec = StubSpec {
        plan: plan(
            vec![float(PieceKind::F32, 4, Loc::Vec(0))],
            RetPlan::Pieces(vec![piece(0, 4, PieceKind::F32, Loc::Vec(0))]),
            0,
        ),
        args: vec![scalar_fetch()],
        result: ResultPush::Number(number_push()),
        helpers: helpers(),
    };
    let mut caller = Caller::new(half as *const c_void, vec![u64::from(5.0f32.to_bits())]);
    assert_eq!(caller.run(&spec), 1);
    assert_eq!(caller.pushed_number, Some(2.5));
}

#[repr(C)]
struct Huge {
    x: [u8; 65536],
}

extern "C" fn huge(n: i32) -> Huge {
    let mut h = Huge { x: [0; 65536] };
    h.x[0] = n as u8;
    h.x[65535] = (n + 1) as u8;
    h
}

#[test]
fn large_frames_are_probed_and_addressed_through_a_register() {
    // A 64 KiB result through x8: the frame spans 16 pages (each touched from the top)
    // and the buffer's offset fits no immediate field.
    let spec = StubSpec {
        plan: plan(
            vec![int(Ext::Sign(4), 4, Loc::Gpr(0))],
            RetPlan::Memory {
                size: 65536,
                pointer: Loc::Gpr(8),
            },
            0,
        ),
        args: vec![scalar_fetch()],
        result: ResultPush::Generic(generic_push()),
        helpers: helpers(),
    };
    let mut caller = Caller::new(huge as *const c_void, vec![41]);
    caller.memory_bytes = 65536;
    assert_eq!(caller.run(&spec), 7);
    let area = std::mem::size_of::<ResultArea>();
    assert_eq!(
        (caller.results[area], caller.results[area + 65535]),
        (41, 42)
    );
    let listing = stub_for(&spec).unwrap().listing();
    assert!(listing.contains("str xzr, [x16]"), "{listing}");
}

#[test]
fn entries_begin_with_bti_c() {
    let spec = StubSpec {
        plan: plan(vec![], RetPlan::Void, 0),
        args: vec![],
        result: ResultPush::Nothing,
        helpers: helpers(),
    };
    let stub = stub_for(&spec).unwrap();
    for entry in [
        stub.caller_entry() as *const u8,
        stub.direct_entry() as *const u8,
    ] {
        // SAFETY: both entries are published code, readable.
        let word = unsafe { entry.cast::<u32>().read() };
        assert_eq!(word, 0xd503_245f);
    }
}

#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq)]
struct Wide {
    a: i64,
    b: f64,
    c: i32,
}

/// Composites over 16 bytes go by reference to a caller's copy (rule B.4): the first
/// in x0, the second on the stack once x0-x7 are taken; the callee may write its copy.
#[allow(clippy::too_many_arguments)]
extern "C" fn by_reference(
    mut w: Wide,
    x1: i64,
    x2: i64,
    x3: i64,
    x4: i64,
    x5: i64,
    x6: i64,
    x7: i64,
    v: Wide,
) -> i64 {
    assert_eq!(
        w,
        Wide {
            a: 1,
            b: 2.5,
            c: -3
        }
    );
    assert_eq!(
        v,
        Wide {
            a: 4,
            b: 5.5,
            c: -6
        }
    );
    w.a = 99;
    w.a + x1 + x2 + x3 + x4 + x5 + x6 + x7 + v.a
}

#[test]
fn composites_over_16_bytes_pass_by_reference() {
    let wide = |a: i64, b: f64, c: i32| -> Vec<u8> {
        let mut bytes = Vec::new();
        bytes.extend(a.to_ne_bytes());
        bytes.extend(b.to_ne_bytes());
        bytes.extend(c.to_ne_bytes());
        bytes.extend([0; 4]);
        bytes
    };
    let mut args = vec![ArgPlan::Indirect {
        pointer: Loc::Gpr(0),
        size: 24,
        align: 8,
    }];
    for n in 1..8 {
        args.push(int(Ext::None, 8, Loc::Gpr(n)));
    }
    args.push(ArgPlan::Indirect {
        pointer: Loc::Stack(0),
        size: 24,
        align: 8,
    });
    let mut fetches = vec![memory_fetch(24)];
    fetches.extend(std::iter::repeat_n(scalar_fetch(), 7));
    fetches.push(memory_fetch(24));
    let spec = StubSpec {
        plan: plan(
            args,
            RetPlan::Pieces(vec![piece(0, 8, PieceKind::Int(Ext::None), Loc::Gpr(0))]),
            16,
        ),
        args: fetches,
        result: ResultPush::Integer(integer_push()),
        helpers: helpers(),
    };
    let mut values = vec![0; 9];
    for (n, v) in values.iter_mut().enumerate().take(8).skip(1) {
        *v = n as u64 * 10;
    }
    let mut caller = Caller::new(by_reference as *const c_void, values);
    caller.blobs[0] = wide(1, 2.5, -3);
    caller.blobs[8] = wide(4, 5.5, -6);
    assert_eq!(caller.run(&spec), 1);
    assert_eq!(caller.pushed, Some(99 + 280 + 4));
}
