//! The facts of Lua 5.2 that the module depends on: what its C API offers and how
//! its structures are laid out (`lstate.h`, `lobject.h`; see [`super::stack`]). One
//! such file per Lua version; `lua/mod.rs` picks it by feature, and nothing else in
//! the crate asks which Lua it runs on.

use mlua_sys as sys;
use std::ffi::c_void;
use std::os::raw::c_int;

type State = sys::lua_State;

/// Lua 5.2.
pub const NAME: &str = "5.2";
/// Whether numbers have an integer subtype (`math.type`), and the integer operators
/// `//`, `&`, `|`, `~`, `<<`, `>>` have metamethods.
pub const INTEGERS: bool = false;
/// Whether to-be-closed variables call a `__close` metamethod.
pub const TO_BE_CLOSED: bool = false;
/// Whether a C function without upvalues is a light value: pushing it allocates
/// nothing (5.2 on; 5.1 makes a closure each time).
pub const LIGHT_C_FUNCTIONS: bool = true;
/// Whether a collection asked for by a finalizer at `lua_close` can spin for ever (5.3's
/// `luaC_freeallobjects` leaves `gcfinnum` as a finished cycle set it; see
/// `cdata::gc::unstick_collector`).
pub const COLLECTOR_STUCK_AT_CLOSE: bool = false;
/// Whether `lua_checkstack` grows the stack under protection, returning 0 when it
/// cannot (5.2 on); 5.1's raises out of memory through whatever C frames are below.
pub const CHECKSTACK_PROTECTED: bool = true;

/// Lua before 5.3 has no integer subtype: every number is a double.
///
/// # Safety
/// None (kept `unsafe` to match the versions that read the stack).
#[inline]
pub unsafe fn integer(_l: *mut State, _index: c_int) -> Option<i64> {
    None
}

/// `tonumber(s)` for the string at `index`: pushes its number, or nil.
///
/// # Safety
/// `l` is live with one free slot; `index` holds a string.
pub unsafe fn push_string_number(l: *mut State, index: c_int) {
    // SAFETY: `l` is live (caller).
    unsafe {
        if sys::lua_isnumber(l, index) != 0 {
            sys::lua_pushnumber(l, sys::lua_tonumber(l, index));
        } else {
            sys::lua_pushnil(l);
        }
    }
}

/// A full userdata of `size` bytes.
///
/// # Safety
/// `l` is live with one free stack slot.
pub unsafe fn new_userdata(l: *mut State, size: usize) -> *mut c_void {
    // SAFETY: `l` is live (caller).
    unsafe { sys::lua_newuserdata(l, size) }
}

/// Raises a Lua error when the running Lua is not the one this module was built for:
/// another version, other numeric types (`LUA_32BITS`), or a second copy of the core.
///
/// # Safety
/// `l` is live with two free slots; called before any Rust value with a destructor
/// exists in the calling C function (this may raise).
pub unsafe fn check_build(l: *mut State) {
    // SAFETY: `l` is live (caller); luaL_checkversion only reads and raises.
    unsafe { sys::luaL_checkversion_(l, 502.0) }
}

/// Where the interpreter keeps what [`super::stack`] reads directly.
pub mod layout {
    pub const CI_AT: usize = 32;
    pub const FUNC_AT: usize = 0;
    pub const UPVALUE_AT: usize = 32;
    pub const INT_TAG: Option<u32> = None;
    pub const FLOAT_TAG: u32 = 3;
    pub const TAG_BYTES: usize = 4;
    /// Short (interned) and long strings, with the collectable bit (1 << 6).
    pub const STRING_TAGS: [u32; 2] = [0x44, 0x54];
    pub const STRING_CHARS_AT: usize = 24;
    /// Long strings keep their bytes inline too.
    pub const LONG_STRING_CHARS_BEHIND_POINTER: bool = false;
    pub const USERDATA_TAG: u32 = 0x47;
    pub const USERDATA_AT: usize = 40;
    pub const USER_VALUES_AT: Option<usize> = None;
    /// Where the Udata header keeps the payload's size (`len`).
    pub const USERDATA_LEN_AT: usize = 32;
    /// Where the Udata header keeps its metatable (`struct Table *`, null for none).
    pub const USERDATA_METATABLE_AT: usize = 16;
    /// `lua_State`: `StkId top` at +16, `stack_last` at +48, `stack` at +56.
    pub const TOP_AT: usize = 16;
    pub const STACK_LAST_AT: usize = 48;
    pub const STACK_AT: usize = 56;
    /// `CallInfo`: `func`, then `StkId top` at +8 (the end of the running function's
    /// guaranteed room).
    pub const CI_TOP_AT: usize = 8;
}

/// A full userdata with user values, where the version has them (5.4 only).
///
/// # Safety
/// `l` is live with one free stack slot.
pub unsafe fn new_userdata_with_user_values(_l: *mut State, _size: usize) -> Option<*mut c_void> {
    None
}

/// Pushes the static `s` as an external string, where the version has them (5.5 only):
/// pushes nothing and returns false.
///
/// # Safety
/// `l` is live with one free stack slot.
pub unsafe fn push_external_string(_l: *mut State, _s: &'static std::ffi::CStr) -> bool {
    false
}

/// Calls `function` under protection with `data` as its one argument (a light
/// userdata), leaving on top its one result (`true`) or the error it raised (`false`).
/// Nothing is allocated outside the protected call: a C function without upvalues is a
/// light value.
///
/// # Safety
/// `l` is live with three free slots; `function` returns one value.
pub unsafe fn call_protected(
    l: *mut State,
    function: sys::lua_CFunction,
    data: *mut c_void,
) -> bool {
    // SAFETY: `l` is live (caller).
    unsafe {
        sys::lua_pushcfunction(l, function);
        sys::lua_pushlightuserdata(l, data);
        sys::lua_pcall(l, 1, 1, 0) == sys::LUA_OK
    }
}
