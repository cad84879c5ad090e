//! Runs real stubs without Lua: the helpers are plain Rust functions that read argument
//! values from a table, the targets are Rust `extern "C"` functions that check what they
//! receive, so the moves a stub makes (registers, stack slots, memory-class copies,
//! extension of small integers, %al, results in rax/rdx/xmm0/xmm1 and in memory) are
//! tested against the compiler's own idea of the C ABI.
// x86-64 System V: the register names and plans below are that convention's.
#![cfg(target_arch = "x86_64")]

mod common;

use common::{generic_push, helpers, int, memory_fetch, piece, scalar_fetch, set_errno, Caller};
use jitffi_abi::{ArgPlan, CallPlan, Ext, Loc, PieceKind, RetPlan};
use jitffi_jit::{stub_for, ResultArea, ResultPush, StubSpec};
use std::ffi::c_void;

#[repr(C)]
#[derive(Copy, Clone, Debug, PartialEq)]
struct Three {
    a: f64,
    b: f64,
    c: f64,
}

extern "C" fn target(
    a: i8,
    b: u16,
    c: i64,
    d: f32,
    e: f64,
    big: Three,
    g: i32,
    h: i32,
    i: i32,
    j: i64,
    k: i8,
) -> Three {
    assert_eq!((a, b, c, d, e), (-3, 65000, 1 << 40, 1.5, -2.25));
    assert_eq!(
        big,
        Three {
            a: 1.0,
            b: 2.0,
            c: 3.0
        }
    );
    assert_eq!((g, h, i, j, k), (7, 8, 9, -10, -11));
    set_errno(42);
    Three {
        a: 4.0,
        b: 5.0,
        c: 6.0,
    }
}

#[test]
fn a_stub_moves_every_argument_where_the_plan_says() {
    let plan = CallPlan {
        args: vec![
            int(Ext::Sign(1), 1, Loc::Gpr(1)),
            int(Ext::Zero(2), 2, Loc::Gpr(2)),
            int(Ext::None, 8, Loc::Gpr(3)),
            ArgPlan::Pieces(vec![piece(0, 4, PieceKind::F32, Loc::Vec(0))]),
            ArgPlan::Pieces(vec![piece(0, 8, PieceKind::F64, Loc::Vec(1))]),
            ArgPlan::Stack {
                offset: 0,
                size: 24,
            },
            int(Ext::Sign(4), 4, Loc::Gpr(4)),
            int(Ext::Sign(4), 4, Loc::Gpr(5)),
            int(Ext::Sign(4), 4, Loc::Stack(24)),
            int(Ext::None, 8, Loc::Stack(32)),
            int(Ext::Sign(1), 1, Loc::Stack(40)),
        ],
        ret: RetPlan::Memory {
            size: 24,
            pointer: Loc::Gpr(0),
        },
        stack_bytes: 48,
        stack_align: 16,
        vec_regs: 2,
        variadic: false,
    };
    let mut args = vec![scalar_fetch(); 11];
    args[5] = memory_fetch(24);
    let spec = StubSpec {
        plan,
        args,
        result: ResultPush::Generic(generic_push()),
        helpers: helpers(),
    };
    let mut caller = Caller::new(
        target as *const c_void,
        vec![
            -3i64 as u64,
            65000,
            1 << 40,
            u64::from(1.5f32.to_bits()),
            (-2.25f64).to_bits(),
            0,
            7,
            8,
            9,
            -10i64 as u64,
            -11i64 as u64,
        ],
    );
    caller.blobs[5] = [1.0f64, 2.0, 3.0]
        .iter()
        .flat_map(|x| x.to_ne_bytes())
        .collect();
    caller.memory_bytes = 32;
    assert_eq!(
        caller.run(&spec),
        7,
        "the stub returns what the push helper returns"
    );
    assert_eq!(caller.errno(), 42, "errno saved after the call");
    let area = std::mem::size_of::<ResultArea>();
    let memory: Vec<f64> = (0..3)
        .map(|i| f64::from_bits(caller.result_word(area + 8 * i)))
        .collect();
    assert_eq!(
        memory,
        vec![4.0, 5.0, 6.0],
        "result written to the hidden buffer"
    );
    let listing = stub_for(&spec).unwrap().listing();
    assert!(listing.contains("call scalar"), "{listing}");
}

#[repr(C)]
struct Mixed {
    i: i64,
    d: f64,
}

extern "C" fn mixed(x: f32, n: u8) -> Mixed {
    Mixed {
        i: i64::from(n) - 1,
        d: f64::from(x) * 2.0,
    }
}

#[test]
fn results_come_back_from_rax_and_xmm0() {
    let spec = StubSpec {
        plan: CallPlan {
            args: vec![
                ArgPlan::Pieces(vec![piece(0, 4, PieceKind::F32, Loc::Vec(0))]),
                int(Ext::Zero(1), 1, Loc::Gpr(0)),
            ],
            ret: RetPlan::Pieces(vec![
                piece(0, 8, PieceKind::Int(Ext::None), Loc::Gpr(0)),
                piece(8, 8, PieceKind::F64, Loc::Vec(0)),
            ]),
            stack_bytes: 0,
            stack_align: 16,
            vec_regs: 1,
            variadic: false,
        },
        args: vec![scalar_fetch(); 2],
        result: ResultPush::Generic(generic_push()),
        helpers: helpers(),
    };
    let mut caller = Caller::new(
        mixed as *const c_void,
        vec![u64::from(0.75f32.to_bits()), 200],
    );
    caller.memory_bytes = 32;
    assert_eq!(caller.run_direct(&spec), 7);
    let rax = caller.result_word(0) as i64;
    let xmm0 = f64::from_bits(caller.result_word(16));
    assert_eq!((rax, xmm0), (199, 1.5));
    assert!(
        std::ptr::eq(stub_for(&spec).unwrap(), stub_for(&spec).unwrap()),
        "one stub per spec"
    );
}
