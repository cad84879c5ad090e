//! The facts of Lua 5.5 that the module depends on. Its C API and structures are 5.4's
//! (`lstate.h`, `lobject.h` of 5.5.1) except where this file says otherwise: the
//! version number, long strings (whose bytes sit behind a pointer) and external
//! strings. So it takes lua54.rs's facts and replaces those; `lua/mod.rs` picks this
//! file by feature, and nothing else in the crate asks which Lua it runs on.

use mlua_sys as sys;

// The 5.4 items this file replaces (NAME, check_build, ...) go unused here.
#[allow(dead_code)]
#[path = "lua54.rs"]
mod lua54;

// Everything not defined below is 5.4's (items defined here shadow the glob).
pub use lua54::*;

type State = sys::lua_State;

/// Lua 5.5.
pub const NAME: &str = "5.5";

/// Raises a Lua error when the running Lua is not the one this module was built for:
/// another version, other numeric types (`LUA_32BITS`), or a second copy of the core.
///
/// # Safety
/// `l` is live with two free slots; called before any Rust value with a destructor
/// exists in the calling C function (this may raise).
pub unsafe fn check_build(l: *mut State) {
    // SAFETY: `l` is live (caller); luaL_checkversion only reads and raises.
    unsafe { sys::luaL_checkversion_(l, 505.0, lua54::NUMERIC_SIZES) }
}

/// Where the interpreter keeps what [`super::stack`] reads directly: 5.4's places,
/// except long strings.
pub mod layout {
    pub use super::lua54::layout::*;
    /// A long string's `contents` is a pointer to its bytes: right after the header for
    /// a regular one, the caller's buffer for an external one (`lua_pushexternalstring`,
    /// NUL-terminated as that function requires).
    pub const LONG_STRING_CHARS_BEHIND_POINTER: bool = true;
}

/// Pushes the static `s` as an external string (`lua_pushexternalstring`: Lua keeps a
/// pointer to its bytes, never frees them) and returns true.
///
/// # Safety
/// `l` is live with one free stack slot; this may raise (out of memory).
pub unsafe fn push_external_string(l: *mut State, s: &'static std::ffi::CStr) -> bool {
    // SAFETY: `l` is live (caller); `s` is NUL-terminated and lives forever, so no
    // deallocation function is needed.
    unsafe {
        sys::lua_pushexternalstring(l, s.as_ptr(), s.count_bytes(), None, std::ptr::null_mut());
    }
    true
}
