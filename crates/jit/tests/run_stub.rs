//! Runs real stubs without Lua: the helpers are plain Rust functions that read argument
//! values from a table, the targets are Rust `extern "C"` functions that check what they
//! receive, so the moves a stub makes (registers, stack slots, memory-class copies,
//! extension of small integers, %al, results in rax/rdx/xmm0/xmm1 and in memory) are
//! tested against the compiler's own idea of the C ABI.
// x86-64 System V: the register names and plans below are that convention's.
#![cfg(target_arch = "x86_64")]

use jitffi_abi::{ArgPlan, CallPlan, Ext, Loc, Piece, PieceKind, RetPlan};
use jitffi_jit::{
    stub_for, ArgFetch, CallContext, Helper, Helpers, ResultArea, ResultPush, StubSpec,
};
use std::ffi::{c_int, c_void};

/// What the test's `caller` points to.
struct Caller {
    ctx: CallContext,
    values: Vec<u64>,
    blobs: Vec<Vec<u8>>,
    results: Vec<u8>,
}

unsafe extern "C-unwind" fn context(caller: *mut c_void) -> *const CallContext {
    // SAFETY: the tests pass a Caller.
    unsafe { &(*caller.cast::<Caller>()).ctx }
}

unsafe extern "C-unwind" fn arg_count(caller: *mut c_void) -> c_int {
    // SAFETY: as above.
    unsafe { (*caller.cast::<Caller>()).values.len() as c_int }
}

unsafe extern "C-unwind" fn count_error(_: *mut c_void, _: *const CallContext, _: c_int) {
    std::process::abort();
}

static mut ERRNO: c_int = 0;

extern "C" fn errno_location() -> *mut c_int {
    std::ptr::addr_of_mut!(ERRNO)
}

unsafe extern "C-unwind" fn scalar(
    caller: *mut c_void,
    index: c_int,
    _: *const CallContext,
    param: usize,
    _: *mut u8,
) -> u64 {
    assert_eq!(index as usize, param + 1, "stack index = base + param");
    // SAFETY: as above.
    unsafe { (&(*caller.cast::<Caller>()).values)[param] }
}

unsafe extern "C-unwind" fn memory(
    caller: *mut c_void,
    _: c_int,
    _: *const CallContext,
    param: usize,
    dst: *mut u8,
) -> u64 {
    // SAFETY: the stub gives room for the blob.
    unsafe {
        let blob = &(&(*caller.cast::<Caller>()).blobs)[param];
        std::ptr::copy_nonoverlapping(blob.as_ptr(), dst, blob.len());
    }
    0
}

unsafe extern "C-unwind" fn generic(
    caller: *mut c_void,
    _: *const CallContext,
    results: *const ResultArea,
) -> c_int {
    // SAFETY: the stub passes its result area (plus the memory buffer behind it).
    unsafe {
        let bytes = std::slice::from_raw_parts(
            results.cast::<u8>(),
            std::mem::size_of::<ResultArea>() + 32,
        );
        (*caller.cast::<Caller>()).results = bytes.to_vec();
    }
    7
}

fn helper(f: *const (), name: &'static str) -> Helper {
    Helper {
        address: f as usize,
        name,
    }
}

fn helpers() -> Helpers {
    Helpers {
        context: helper(context as *const (), "context"),
        arg_count: helper(arg_count as *const (), "arg_count"),
        count_error: helper(count_error as *const (), "count_error"),
        errno_location: helper(errno_location as *const (), "errno_location"),
        pending_error: helper(count_error as *const (), "pending_error"),
    }
}

fn piece(offset: u32, size: u8, kind: PieceKind, loc: Loc) -> Piece {
    Piece {
        offset,
        size,
        kind,
        loc,
    }
}

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
    // SAFETY: test-only static, single-threaded use.
    unsafe { ERRNO = 42 };
    Three {
        a: 4.0,
        b: 5.0,
        c: 6.0,
    }
}

#[test]
fn a_stub_moves_every_argument_where_the_plan_says() {
    let int = |ext: Ext, size: u8, loc: Loc| {
        ArgPlan::Pieces(vec![piece(0, size, PieceKind::Int(ext), loc)])
    };
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
    let s = ArgFetch::Scalar(helper(scalar as *const (), "scalar"));
    let mut args = vec![s; 11];
    args[5] = ArgFetch::Memory {
        helper: helper(memory as *const (), "memory"),
        size: 24,
    };
    let spec = StubSpec {
        plan,
        args,
        result: ResultPush::Generic(helper(generic as *const (), "generic")),
        helpers: helpers(),
    };
    let stub = stub_for(&spec).unwrap();
    let three: Vec<u8> = [1.0f64, 2.0, 3.0]
        .iter()
        .flat_map(|x| x.to_ne_bytes())
        .collect();
    let mut blobs = vec![Vec::new(); 11];
    blobs[5] = three;
    let mut caller = Caller {
        ctx: CallContext {
            target: target as *const c_void,
            cells: Box::leak(Box::new(jitffi_jit::CallCells {
                errno: 0,
                pending_error: 0,
                caller: std::ptr::null_mut(),
            })),
            owner: std::ptr::null(),
            name: std::ptr::null(),
        },
        values: vec![
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
        blobs,
        results: Vec::new(),
    };
    // SAFETY: the spec matches `target`'s C signature; the helpers read `caller`.
    let returned = unsafe { stub.caller_entry()((&mut caller as *mut Caller).cast()) };
    assert_eq!(returned, 7, "the stub returns what the push helper returns");
    // SAFETY: the cell is the leaked box above, written by the stub after the call.
    let saved = unsafe { (*caller.ctx.cells).errno };
    assert_eq!(saved, 42, "errno saved after the call");
    let area = std::mem::size_of::<ResultArea>();
    let memory: Vec<f64> = caller.results[area..area + 24]
        .chunks(8)
        .map(|c| f64::from_ne_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(
        memory,
        vec![4.0, 5.0, 6.0],
        "result written to the hidden buffer"
    );
    assert!(stub.listing().contains("call scalar"), "{}", stub.listing());
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
                ArgPlan::Pieces(vec![piece(0, 1, PieceKind::Int(Ext::Zero(1)), Loc::Gpr(0))]),
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
        args: vec![ArgFetch::Scalar(helper(scalar as *const (), "scalar")); 2],
        result: ResultPush::Generic(helper(generic as *const (), "generic")),
        helpers: helpers(),
    };
    let stub = stub_for(&spec).unwrap();
    let mut caller = Caller {
        ctx: CallContext {
            target: mixed as *const c_void,
            cells: Box::leak(Box::new(jitffi_jit::CallCells {
                errno: 0,
                pending_error: 0,
                caller: std::ptr::null_mut(),
            })),
            owner: std::ptr::null(),
            name: std::ptr::null(),
        },
        values: vec![u64::from(0.75f32.to_bits()), 200],
        blobs: vec![Vec::new(); 2],
        results: Vec::new(),
    };
    // SAFETY: as above; entered directly with base 1.
    let n = unsafe { stub.direct_entry()((&mut caller as *mut Caller).cast(), &caller.ctx, 1) };
    assert_eq!(n, 7);
    let rax = i64::from_ne_bytes(caller.results[0..8].try_into().unwrap());
    let xmm0 = f64::from_ne_bytes(caller.results[16..24].try_into().unwrap());
    assert_eq!((rax, xmm0), (199, 1.5));
    assert!(
        std::ptr::eq(stub, stub_for(&spec).unwrap()),
        "one stub per spec"
    );
}
