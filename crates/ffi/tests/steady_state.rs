//! No hidden work on hot paths (issue 14): once warm, field and element accesses,
//! constructors, arithmetic and calls make no Rust heap allocation, and no Lua allocation
//! beyond the one new cdata that is part of the semantics (a struct element reference, a
//! 64-bit box, the value `ffi.new` makes). Allocations are counted, not timed: the
//! process's Rust allocations by a counting global allocator (on this test's thread),
//! Lua's by the allocator the state is made with. A regression (a type interned or a
//! string built per access, a cache that stopped hitting) fails here.

use mlua_sys as sys;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ffi::{c_void, CString};

thread_local! {
    /// Rust allocations (and growths) made on this thread.
    static RUST_ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    /// Lua allocations (and growths) made by the state of this thread.
    static LUA_ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// The system allocator, counting.
struct Counting;

// SAFETY: forwards to `System`, which upholds the contract; the counter is a
// const-initialized thread local, which allocates nothing.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        RUST_ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: forwarded.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            RUST_ALLOCATIONS.with(|count| count.set(count.get() + 1));
        }
        // SAFETY: forwarded.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Lua's allocator: the system allocator (not the counting one), counting new blocks and
/// growths.
unsafe extern "C" fn lua_alloc(
    _: *mut c_void,
    ptr: *mut c_void,
    osize: usize,
    nsize: usize,
) -> *mut c_void {
    const ALIGN: usize = 16;
    // SAFETY: Lua passes back the blocks this function returned, with their sizes
    // (`osize` is the old size for a block, a type code for a null `ptr`).
    unsafe {
        if nsize == 0 {
            if !ptr.is_null() {
                System.dealloc(ptr.cast(), Layout::from_size_align_unchecked(osize, ALIGN));
            }
            return std::ptr::null_mut();
        }
        if ptr.is_null() {
            LUA_ALLOCATIONS.with(|count| count.set(count.get() + 1));
            return System
                .alloc(Layout::from_size_align_unchecked(nsize, ALIGN))
                .cast();
        }
        if nsize > osize {
            LUA_ALLOCATIONS.with(|count| count.set(count.get() + 1));
        }
        System
            .realloc(
                ptr.cast(),
                Layout::from_size_align_unchecked(osize, ALIGN),
                nsize,
            )
            .cast()
    }
}

/// Runs `code` in `l`, panicking with Lua's message if it fails.
fn run(l: *mut sys::lua_State, code: &str) {
    let code = CString::new(code).unwrap();
    // SAFETY: `l` is a live state.
    unsafe {
        let status = sys::luaL_loadstring(l, code.as_ptr());
        let status = if status == sys::LUA_OK {
            sys::lua_pcall(l, 0, 0, 0)
        } else {
            status
        };
        if status != sys::LUA_OK {
            let message = sys::lua_tolstring(l, -1, std::ptr::null_mut());
            panic!("{:?}", std::ffi::CStr::from_ptr(message));
        }
    }
}

/// Iterations of each measured loop.
const N: u64 = 1000;

/// A state with the ffi as global `ffi` and the setup of the operations below.
fn new_state() -> *mut sys::lua_State {
    // SAFETY: a new state, used only through the Lua API by this thread.
    unsafe {
        let l = sys::lua_newstate(lua_alloc, std::ptr::null_mut());
        assert!(!l.is_null());
        sys::luaL_openlibs(l);
        sys::lua_pushcfunction(l, jitffi_lua::luaopen_ffi);
        sys::lua_call(l, 0, 1);
        sys::lua_setglobal(l, c"ffi".as_ptr());
        run(
            l,
            r#"
            ffi.cdef [[
            typedef struct { int x; double y; } ss_point_t;
            struct ss_outer { int id; ss_point_t inner; ss_point_t *next; };
            struct ss_counter { int n; };
            int abs(int);
            ]]
            ffi.metatype("struct ss_counter", {
              __index = { get = function(self) return self.n end },
            })
            M = ffi.new("struct ss_counter")
            P = ffi.new("ss_point_t")
            O = ffi.new("struct ss_outer")
            A = ffi.new("ss_point_t[8]")
            PA = ffi.cast("ss_point_t *", A)
            R = A[3]
            Q = ffi.cast("ss_point_t *", P)
            O.next = Q
            D = ffi.new("double[8]")
            CT = ffi.typeof("ss_point_t")
            U = ffi.new("uint64_t", 5)
            ABS = ffi.C.abs
            "#,
        );
        l
    }
}

/// The Rust and Lua allocations one run of the loop body `body` (with `i` from 1 to
/// N) makes, after a warm-up run (which may fill caches).
fn allocations(l: *mut sys::lua_State, body: &str) -> (u64, u64) {
    let code = format!(
        "local P, O, A, PA, R, Q, D, CT, U, ABS, M = P, O, A, PA, R, Q, D, CT, U, ABS, M \
         local ffi = ffi \
         collectgarbage('stop') \
         for i = 1, {N} do local k = i % 8; {body} end \
         collectgarbage('restart')"
    );
    run(l, &code);
    let rust = RUST_ALLOCATIONS.with(Cell::get);
    let lua = LUA_ALLOCATIONS.with(Cell::get);
    run(l, &code);
    let rust = RUST_ALLOCATIONS.with(Cell::get) - rust;
    let lua = LUA_ALLOCATIONS.with(Cell::get) - lua;
    (rust, lua)
}

#[test]
fn warm_operations_allocate_only_the_cdata_they_return() {
    let l = new_state();
    // The loading of each chunk allocates (its function, its strings): measured on an
    // empty body, and taken off the others.
    let (rust_base, lua_base) = allocations(l, "");
    // (operation, new cdata per iteration)
    let cases: &[(&str, u64)] = &[
        ("P.x = P.x + 1", 0),
        ("P.y = P.y * 0.5", 0),
        ("R.x = R.x + 1", 0),
        ("Q.x = Q.x + 1", 0),
        ("D[k] = D[k] + 1", 0),
        ("O.inner.x = O.inner.x + 1", 2),
        ("A[k].x = A[k].x + 1", 2),
        ("PA[k].y = PA[k].y + 1", 2),
        ("local q = O.next", 1),
        ("local v = ffi.new(CT)", 1),
        ("local v = ffi.new('ss_point_t')", 1),
        ("local v = CT()", 1),
        ("local v = U + 1", 1),
        ("local v = ABS(-i)", 0),
        ("local v = M:get()", 0),
        ("M.n = M.n + 1", 0),
    ];
    let mut failures = Vec::new();
    for &(body, cdata) in cases {
        let (rust, lua) = allocations(l, body);
        let (rust, lua) = (rust - rust_base.min(rust), lua - lua_base.min(lua));
        // One allocation each for the new cdata; Lua's own allocations (the chunk, the
        // stack) do not recur per iteration, so a few over the count are allowed: an
        // allocation per iteration would add N.
        if rust != 0 || lua > cdata * N + 16 {
            failures.push(format!(
                "{body}: {rust} Rust allocations, {lua} Lua allocations for {N} runs \
                 (expected 0 and {})",
                cdata * N
            ));
        }
    }
    // SAFETY: the state is no longer used.
    unsafe { sys::lua_close(l) };
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
