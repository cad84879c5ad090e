//! A refused callback (called on another OS thread, or after its state closed) returns a
//! zero result to C, and for a struct result returned in memory that means the caller's
//! buffer is zeroed and its address comes back in rax, as the ABI requires: C must never
//! read garbage it would take for a value. Results in registers (rax/rdx, xmm0/xmm1)
//! are zero too.
//!
//! The callbacks are called through the ABI-equivalent prototype that makes the hidden
//! result pointer explicit (`struct big f(int)` is `struct big *f(struct big *, int)`
//! on x86-64 System V), so that the buffer can be filled with a pattern first.

use mlua_sys as sys;
use std::ffi::{c_int, CString};

/// 40 bytes: returned in memory (psABI 3.2.3: larger than 16 bytes is MEMORY class).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
struct Big {
    v: [i64; 5],
}

/// 16 bytes of integers: returned in rax and rdx.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
struct Pair {
    a: i64,
    b: i64,
}

/// Two doubles: returned in xmm0 and xmm1.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
struct Doubles {
    x: f64,
    y: f64,
}

type BigRaw = extern "C" fn(*mut Big, c_int) -> *mut Big;
type PairFn = extern "C" fn(c_int) -> Pair;
type DoublesFn = extern "C" fn(c_int) -> Doubles;

const PATTERN: Big = Big {
    v: [0x5a5a_5a5a_5a5a_5a5a; 5],
};

fn new_state() -> *mut sys::lua_State {
    // SAFETY: a new state is used only through the Lua API below.
    unsafe {
        let l = sys::luaL_newstate();
        assert!(!l.is_null());
        sys::luaL_openlibs(l);
        sys::lua_pushcfunction(l, jitffi_lua::luaopen_ffi);
        sys::lua_call(l, 0, 1);
        sys::lua_setglobal(l, c"ffi".as_ptr());
        l
    }
}

/// Runs `code` in `l`, panicking with Lua's message if it fails.
fn run(l: *mut sys::lua_State, code: &str) {
    let code = CString::new(code).unwrap();
    // SAFETY: `l` is a live state; the message is copied before the state is used again.
    unsafe {
        let mut status = sys::luaL_loadstring(l, code.as_ptr());
        if status == sys::LUA_OK {
            status = sys::lua_pcall(l, 0, 0, 0);
        }
        if status != sys::LUA_OK {
            let mut len = 0;
            let text = sys::lua_tolstring(l, -1, &mut len);
            let bytes = std::slice::from_raw_parts(text.cast::<u8>(), len);
            panic!("Lua error: {}", String::from_utf8_lossy(bytes));
        }
    }
}

fn global_address(l: *mut sys::lua_State, name: &str) -> usize {
    let name = CString::new(name).unwrap();
    // SAFETY: `l` is live; one value pushed and popped.
    unsafe {
        sys::lua_getglobal(l, name.as_ptr());
        let value = sys::lua_tointegerx(l, -1, std::ptr::null_mut());
        sys::lua_settop(l, -2);
        value as usize
    }
}

/// The three callbacks, made in a fresh state: (state, big, pair, doubles).
fn make_callbacks() -> (*mut sys::lua_State, BigRaw, PairFn, DoublesFn) {
    let l = new_state();
    run(
        l,
        r#"ffi.cdef [[
             struct rs_big { int64_t v[5]; };
             struct rs_pair { int64_t a, b; };
             struct rs_doubles { double x, y; };
           ]]
           big = ffi.cast("struct rs_big (*)(int)", function(x) return { { x, x + 1, x + 2, x + 3, x + 4 } } end)
           pair = ffi.cast("struct rs_pair (*)(int)", function(x) return { x, -x } end)
           doubles = ffi.cast("struct rs_doubles (*)(int)", function(x) return { x + 0.5, x - 0.5 } end)
           big_address = tonumber(ffi.cast("intptr_t", big))
           pair_address = tonumber(ffi.cast("intptr_t", pair))
           doubles_address = tonumber(ffi.cast("intptr_t", doubles))"#,
    );
    // SAFETY: each address is a callback of the matching C prototype (the struct result
    // in memory made explicit for `big`); the slot code stays mapped for the life of the
    // process, and a call after the state closed is refused by it.
    unsafe {
        (
            l,
            std::mem::transmute::<usize, BigRaw>(global_address(l, "big_address")),
            std::mem::transmute::<usize, PairFn>(global_address(l, "pair_address")),
            std::mem::transmute::<usize, DoublesFn>(global_address(l, "doubles_address")),
        )
    }
}

/// Calls `big` with a buffer full of a pattern; the buffer and the returned pointer.
#[cfg(target_arch = "x86_64")]
fn call_big(big: BigRaw, x: c_int) -> (Big, bool) {
    let mut buffer = PATTERN;
    let returned = big(&mut buffer, x);
    (buffer, std::ptr::eq(returned, &buffer))
}

/// Calls `big` with a buffer full of a pattern, its address in x8 (AAPCS64's indirect
/// result register: no prototype of Rust's passes it there); the buffer, and `true`, as
/// AAPCS64 does not return the address.
#[cfg(target_arch = "aarch64")]
fn call_big(big: BigRaw, x: c_int) -> (Big, bool) {
    let mut buffer = PATTERN;
    let result: *mut Big = &mut buffer;
    // SAFETY: `big` is a callback slot of `struct big (*)(int)`: it takes `x` in w0 and
    // writes its 40-byte result to the buffer x8 points to; the C ABI's clobbers apply.
    unsafe {
        std::arch::asm!(
            "blr {f}",
            f = in(reg) big as usize,
            in("x8") result,
            inout("x0") x as usize => _,
            clobber_abi("C"),
        );
    }
    (buffer, true)
}

#[test]
fn accepted_calls_fill_the_result() {
    let (l, big, pair, doubles) = make_callbacks();
    assert_eq!(
        call_big(big, 10),
        (
            Big {
                v: [10, 11, 12, 13, 14]
            },
            true
        )
    );
    assert_eq!(pair(3), Pair { a: 3, b: -3 });
    assert_eq!(doubles(2), Doubles { x: 2.5, y: 1.5 });
    // SAFETY: the state is live and no longer used.
    unsafe { sys::lua_close(l) };
}

#[test]
fn refused_on_another_thread_zeroes_every_result() {
    let (l, big, pair, doubles) = make_callbacks();
    let (big_result, pair_result, doubles_result) =
        std::thread::spawn(move || (call_big(big, 10), pair(3), doubles(2)))
            .join()
            .unwrap();
    assert_eq!(
        big_result,
        (Big { v: [0; 5] }, true),
        "struct in memory: zeroed, its address in rax"
    );
    assert_eq!(pair_result, Pair { a: 0, b: 0 }, "struct in rax/rdx");
    assert_eq!(
        doubles_result,
        Doubles { x: 0.0, y: 0.0 },
        "struct in xmm0/xmm1"
    );
    // The callbacks still work on the state's own thread.
    assert_eq!(call_big(big, 1), (Big { v: [1, 2, 3, 4, 5] }, true));
    // SAFETY: the state is live and no longer used.
    unsafe { sys::lua_close(l) };
}

#[test]
fn refused_after_close_zeroes_every_result() {
    let (l, big, pair, doubles) = make_callbacks();
    // SAFETY: the state is live; the callbacks are called only through their slots,
    // which refuse calls once it is closed.
    unsafe { sys::lua_close(l) };
    assert_eq!(
        call_big(big, 10),
        (Big { v: [0; 5] }, true),
        "struct in memory: zeroed, its address in rax"
    );
    assert_eq!(pair(3), Pair { a: 0, b: 0 }, "struct in rax/rdx");
    assert_eq!(
        doubles(2),
        Doubles { x: 0.0, y: 0.0 },
        "struct in xmm0/xmm1"
    );
}
