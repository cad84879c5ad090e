//! The facts of Lua 5.1 that the module depends on: what its C API offers and how
//! its structures are laid out (`lstate.h`, `lobject.h`; see [`super::stack`]). One
//! such file per Lua version; `lua/mod.rs` picks it by feature, and nothing else in
//! the crate asks which Lua it runs on.

use mlua_sys as sys;
use std::ffi::c_void;
use std::os::raw::c_int;

type State = sys::lua_State;

/// Lua 5.1.
pub const NAME: &str = "5.1";
/// Whether numbers have an integer subtype (`math.type`), and the integer operators
/// `//`, `&`, `|`, `~`, `<<`, `>>` have metamethods.
pub const INTEGERS: bool = false;
/// Whether to-be-closed variables call a `__close` metamethod.
pub const TO_BE_CLOSED: bool = false;
/// Whether a C function without upvalues is a light value: pushing it allocates
/// nothing (5.2 on; 5.1 makes a closure each time).
pub const LIGHT_C_FUNCTIONS: bool = false;
/// Whether a collection asked for by a finalizer at `lua_close` can spin for ever (5.3's
/// `luaC_freeallobjects` leaves `gcfinnum` as a finished cycle set it; see
/// `cdata::gc::unstick_collector`).
pub const COLLECTOR_STUCK_AT_CLOSE: bool = false;
/// Whether `lua_checkstack` grows the stack under protection, returning 0 when it
/// cannot (5.2 on); 5.1's raises out of memory through whatever C frames are below.
pub const CHECKSTACK_PROTECTED: bool = false;

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

/// Raises a Lua error when the running Lua's numbers are not doubles (`LUA_32BITS` or
/// another `LUA_NUMBER`): 5.1 has no `luaL_checkversion`, so a known double is pushed
/// and read back.
///
/// # Safety
/// `l` is live with two free slots; called before any Rust value with a destructor
/// exists in the calling C function (this may raise).
pub unsafe fn check_build(l: *mut State) {
    // SAFETY: `l` is live (caller).
    unsafe {
        let probe = 1.0 + f64::EPSILON;
        sys::lua_pushnumber(l, probe);
        let back = sys::lua_tonumber(l, -1);
        sys::lua_settop(l, -2);
        if back != probe {
            sys::luaL_error(
                l,
                c"ffi: this Lua's numbers are not doubles (LUA_32BITS is not supported)".as_ptr(),
            );
        }
    }
}

/// Where the interpreter keeps what [`super::stack`] reads directly.
pub mod layout {
    pub const CI_AT: usize = 40;
    pub const FUNC_AT: usize = 8;
    pub const UPVALUE_AT: usize = 40;
    pub const INT_TAG: Option<u32> = None;
    pub const FLOAT_TAG: u32 = 3;
    pub const TAG_BYTES: usize = 4;
    /// Strings (all of them interned, so both entries are the one tag).
    pub const STRING_TAGS: [u32; 2] = [4, 4];
    pub const STRING_CHARS_AT: usize = 24;
    /// Long strings keep their bytes inline too.
    pub const LONG_STRING_CHARS_BEHIND_POINTER: bool = false;
    pub const USERDATA_TAG: u32 = 7;
    pub const USERDATA_AT: usize = 40;
    pub const USER_VALUES_AT: Option<usize> = None;
    /// Where the Udata header keeps the payload's size (`len`).
    pub const USERDATA_LEN_AT: usize = 32;
    /// Where the Udata header keeps its metatable (`struct Table *`, null for none).
    pub const USERDATA_METATABLE_AT: usize = 16;
    /// `lua_State`: `StkId top` at +16, `stack_last` at +56, `stack` at +64.
    pub const TOP_AT: usize = 16;
    pub const STACK_LAST_AT: usize = 56;
    pub const STACK_AT: usize = 64;
    /// `CallInfo`: `base`, `func`, then `StkId top` at +16 (the end of the running
    /// function's guaranteed room).
    pub const CI_TOP_AT: usize = 16;
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
/// 5.1's `lua_pushcfunction` allocates a closure, so `lua_cpcall` (which makes it under
/// protection) runs the function, and its result travels through the registry under a
/// light userdata key unique to this call (the address of its frame's `Call`, so that a
/// nested call from a finalizer uses another): reading and clearing it allocate nothing.
///
/// # Safety
/// `l` is live with three free slots; `function` returns one value.
pub unsafe fn call_protected(
    l: *mut State,
    function: sys::lua_CFunction,
    data: *mut c_void,
) -> bool {
    struct Call {
        function: sys::lua_CFunction,
        data: *mut c_void,
    }
    unsafe extern "C-unwind" fn trampoline(l: *mut State) -> c_int {
        // SAFETY: argument 1 is the `Call` below, alive during the protected call.
        unsafe {
            let key = sys::lua_touserdata(l, 1);
            let call = &*key.cast::<Call>();
            sys::lua_settop(l, 0);
            sys::lua_pushlightuserdata(l, call.data);
            (call.function)(l);
            sys::lua_pushlightuserdata(l, key);
            sys::lua_insert(l, -2);
            sys::lua_rawset(l, sys::LUA_REGISTRYINDEX);
        }
        0
    }
    let mut call = Call { function, data };
    let key = std::ptr::addr_of_mut!(call).cast::<c_void>();
    // SAFETY: `l` is live (caller); the registry slot is cleared right after it is read.
    unsafe {
        let status = sys::lua_cpcall(l, trampoline, key);
        if status != 0 {
            return false;
        }
        sys::lua_pushlightuserdata(l, key);
        sys::lua_rawget(l, sys::LUA_REGISTRYINDEX);
        sys::lua_pushlightuserdata(l, key);
        sys::lua_pushnil(l);
        sys::lua_rawset(l, sys::LUA_REGISTRYINDEX);
        true
    }
}
