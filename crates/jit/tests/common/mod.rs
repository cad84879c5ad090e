//! The harness of the tests that run real stubs without Lua (`run_stub.rs` on x86-64,
//! `run_stub_aarch64.rs` under qemu): helpers that read argument values from a table
//! and record what the stub pushes, a [`Caller`] that holds them, and builders of specs
//! and plans. Nothing here names a register: the plans the tests build do.
// Each test binary uses part of the harness.
#![allow(dead_code)]

use jitffi_abi::{ArgPlan, CallPlan, Ext, Loc, Piece, PieceKind, RetPlan};
use jitffi_jit::{
    stub_for, ArgFetch, CallCells, CallContext, Helper, Helpers, ResultArea, StubSpec,
};
use std::ffi::{c_int, c_void};

/// What the test's `caller` points to.
pub struct Caller {
    pub ctx: CallContext,
    pub values: Vec<u64>,
    pub blobs: Vec<Vec<u8>>,
    /// The result area and `memory_bytes` after it, as the generic push saw them.
    pub results: Vec<u8>,
    pub memory_bytes: usize,
    pub pushed: Option<i64>,
    pub pushed_number: Option<f64>,
}

impl Caller {
    pub fn new(target: *const c_void, values: Vec<u64>) -> Caller {
        let blobs = vec![Vec::new(); values.len()];
        Caller {
            ctx: CallContext {
                target,
                cells: Box::leak(Box::new(CallCells {
                    errno: 0,
                    pending_error: 0,
                    caller: std::ptr::null_mut(),
                })),
                owner: std::ptr::null(),
                name: std::ptr::null(),
            },
            values,
            blobs,
            results: Vec::new(),
            memory_bytes: 64,
            pushed: None,
            pushed_number: None,
        }
    }

    /// Makes the stub for `spec` and calls it through the caller entry.
    pub fn run(&mut self, spec: &StubSpec) -> c_int {
        let stub = stub_for(spec).unwrap();
        // SAFETY: every spec of these tests matches its target's C signature, and the
        // helpers read this Caller.
        unsafe { stub.caller_entry()((self as *mut Caller).cast()) }
    }

    /// Makes the stub for `spec` and calls it through the direct entry, arguments from
    /// index 1.
    pub fn run_direct(&mut self, spec: &StubSpec) -> c_int {
        let stub = stub_for(spec).unwrap();
        let ctx: *const CallContext = &self.ctx;
        // SAFETY: as in `run`; the context is this Caller's.
        unsafe { stub.direct_entry()((self as *mut Caller).cast(), ctx, 1) }
    }

    /// The 8 bytes at `at` of what the generic push saw.
    pub fn result_word(&self, at: usize) -> u64 {
        u64::from_ne_bytes(self.results[at..at + 8].try_into().unwrap())
    }

    pub fn errno(&self) -> c_int {
        // SAFETY: the cells are the leaked box of `new`, written by the stub.
        unsafe { (*self.ctx.cells).errno }
    }
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

/// Sets what `errno_location` points to, as a target does.
pub fn set_errno(value: c_int) {
    // SAFETY: test-only static; the tests that set it check it on the same thread
    // before anything else runs a target.
    unsafe { ERRNO = value };
}

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
    // SAFETY: the stub passes its result area and the memory buffer behind it, which
    // is at least `memory_bytes` long in these tests.
    unsafe {
        let caller = &mut *caller.cast::<Caller>();
        let bytes = std::slice::from_raw_parts(
            results.cast::<u8>(),
            std::mem::size_of::<ResultArea>() + caller.memory_bytes,
        );
        caller.results = bytes.to_vec();
    }
    7
}

unsafe extern "C-unwind" fn push_integer(caller: *mut c_void, value: i64) {
    // SAFETY: as above.
    unsafe { (*caller.cast::<Caller>()).pushed = Some(value) };
}

unsafe extern "C-unwind" fn push_number(caller: *mut c_void, value: f64) {
    // SAFETY: as above.
    unsafe { (*caller.cast::<Caller>()).pushed_number = Some(value) };
}

pub fn helper(f: *const (), name: &'static str) -> Helper {
    Helper {
        address: f as usize,
        name,
    }
}

pub fn helpers() -> Helpers {
    Helpers {
        context: helper(context as *const (), "context"),
        arg_count: helper(arg_count as *const (), "arg_count"),
        count_error: helper(count_error as *const (), "count_error"),
        errno_location: helper(errno_location as *const (), "errno_location"),
        pending_error: helper(count_error as *const (), "pending_error"),
    }
}

pub fn scalar_fetch() -> ArgFetch {
    ArgFetch::Scalar(helper(scalar as *const (), "scalar"))
}

pub fn memory_fetch(size: u32) -> ArgFetch {
    ArgFetch::Memory {
        helper: helper(memory as *const (), "memory"),
        size,
    }
}

pub fn generic_push() -> Helper {
    helper(generic as *const (), "generic")
}

pub fn integer_push() -> Helper {
    helper(push_integer as *const (), "push_integer")
}

pub fn number_push() -> Helper {
    helper(push_number as *const (), "push_number")
}

pub fn piece(offset: u32, size: u8, kind: PieceKind, loc: Loc) -> Piece {
    Piece {
        offset,
        size,
        kind,
        loc,
    }
}

pub fn plan(args: Vec<ArgPlan>, ret: RetPlan, stack_bytes: u32) -> CallPlan {
    CallPlan {
        args,
        ret,
        stack_bytes,
        stack_align: 16,
        vec_regs: 0,
        variadic: false,
    }
}

pub fn int(ext: Ext, size: u8, loc: Loc) -> ArgPlan {
    ArgPlan::Pieces(vec![piece(0, size, PieceKind::Int(ext), loc)])
}

pub fn float(kind: PieceKind, size: u8, loc: Loc) -> ArgPlan {
    ArgPlan::Pieces(vec![piece(0, size, kind, loc)])
}
