//! Telling this module's userdata from any other, without trusting metatables.
//!
//! Lua code can reach every metatable and function of the module (`debug.getmetatable`,
//! `debug.getupvalue`, `debug.getregistry`) and call them with anything, or give the
//! cdata metatable to a foreign userdata (`debug.setmetatable(io.stdout, mt)`). So a
//! metatable says nothing about the bytes behind a userdata. Each kind of userdata this
//! module makes carries a tag word, written only here: a per-process random secret mixed
//! with the kind. A userdata is taken for one of ours only if it is long enough to hold
//! the tag and the tag matches. Lua code cannot read or forge the secret short of
//! reading raw memory through the ffi itself (which can do anything anyway); C code of
//! another library would have to guess 64 random bits, or for a cdata, whose 8-byte
//! header also holds its type, 30 ([`cdata_tag`]).

use crate::lua::State;
use mlua_sys as sys;
use std::os::raw::c_int;
use std::sync::atomic::{AtomicU64, Ordering};

/// The kinds of userdata this module makes.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
#[repr(u64)]
pub enum Kind {
    /// The per-state box ([`crate::cdata::state::StateBox`]).
    State = 2,
    /// A C function binding ([`crate::calls::call::Binding`]).
    Binding = 3,
    /// A library namespace (`ffi.C`, `ffi.load`).
    Namespace = 4,
}

/// The per-process secret; zero until [`init`] (before the first userdata is made).
static SECRET: AtomicU64 = AtomicU64::new(0);

/// Draws the secret, once per process. Called by `luaopen_ffi` before it makes anything.
pub fn init() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        use std::hash::BuildHasher;
        // RandomState is seeded from the OS's random source once per process.
        let random = std::collections::hash_map::RandomState::new().hash_one(0x6a69_7466_6669_u64);
        // Neither half is ever zero (a zero-filled block never carries a tag).
        SECRET.store(random | 0x100 | (0x100 << 32), Ordering::Relaxed);
    });
}

/// The tag word of a userdata of `kind`.
#[inline(always)]
pub fn tag(kind: Kind) -> u64 {
    SECRET.load(Ordering::Relaxed) ^ kind as u64
}

/// The tag of a cdata or ctype object ([`crate::cdata::CDataHeader`]), a 32-bit word:
/// the secret's high half, with its low two bits clear (the header keeps the block's
/// shape there). Never zero.
#[inline(always)]
pub fn cdata_tag() -> u32 {
    (SECRET.load(Ordering::Relaxed) >> 32) as u32 & !3
}

/// The block of the userdata at `index` if it is one of ours of `kind`: a full userdata
/// of at least `size` bytes whose word at `tag_at` (inside those bytes) is the tag.
/// Null for anything else.
///
/// # Safety
/// `l` is live; `index` is valid or acceptable; `tag_at + 8 <= size`.
#[inline]
pub unsafe fn check(
    l: *mut State,
    index: c_int,
    kind: Kind,
    size: usize,
    tag_at: usize,
) -> *mut u8 {
    debug_assert!(tag_at + 8 <= size, "bug: tag outside the checked size");
    // SAFETY: `l` is live (caller); the tag is read only inside a block of at least
    // `size` bytes (`lua_rawlen` of a full userdata is its block size).
    unsafe {
        if sys::lua_type(l, index) != sys::LUA_TUSERDATA {
            return std::ptr::null_mut();
        }
        let block = sys::lua_touserdata(l, index).cast::<u8>();
        if block.is_null() || sys::lua_rawlen(l, index) < size {
            return std::ptr::null_mut();
        }
        if block.add(tag_at).cast::<u64>().read_unaligned() != tag(kind) {
            return std::ptr::null_mut();
        }
        block
    }
}
