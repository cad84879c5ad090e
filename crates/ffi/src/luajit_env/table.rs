//! `require "table.new"` and `require "table.clear"`: LuaJIT's two table extensions.
//! Loading either also sets the field of `table`, as LuaJIT does (if it is missing).

use crate::lua::{self, LuaError, State};
use mlua_sys as sys;
use std::os::raw::c_int;

/// The largest preallocation `table.new` asks for: a size hint beyond it is not worth
/// failing over.
const MAX_PREALLOCATION: sys::lua_Integer = 1 << 26;

/// `package.preload` entries: module name, opener.
pub const PRELOADS: [(&str, sys::lua_CFunction); 2] = [
    ("table.new", open_table_new),
    ("table.clear", open_table_clear),
];

unsafe extern "C-unwind" fn open_table_new(l: *mut State) -> c_int {
    // SAFETY: called by `require`.
    unsafe { open(l, new, c"new") }
}

unsafe extern "C-unwind" fn open_table_clear(l: *mut State) -> c_int {
    // SAFETY: called by `require`.
    unsafe { open(l, clear, c"clear") }
}

/// Pushes `function`, and stores it as `table[name]` if that is nil.
///
/// # Safety
/// `l` is live, running `require`.
unsafe fn open(l: *mut State, function: sys::lua_CFunction, name: &std::ffi::CStr) -> c_int {
    // SAFETY: `l` is live (caller); a C function has LUA_MINSTACK free slots.
    // One function object for both (on 5.1 every push of a C function makes a new one).
    unsafe {
        sys::lua_pushcfunction(l, function);
        sys::lua_getglobal(l, c"table".as_ptr());
        if sys::lua_type(l, -1) == sys::LUA_TTABLE {
            sys::lua_getfield(l, -1, name.as_ptr());
            let missing = sys::lua_type(l, -1) == sys::LUA_TNIL;
            sys::lua_settop(l, -2);
            if missing {
                sys::lua_pushvalue(l, -2);
                sys::lua_setfield(l, -2, name.as_ptr());
            }
        }
        sys::lua_settop(l, -2);
    }
    1
}

/// `table.new(narray, nhash)`: an empty table with room preallocated.
unsafe extern "C-unwind" fn new(l: *mut State) -> c_int {
    // SAFETY: called by Lua as a C function.
    unsafe {
        let size = |index| -> Result<c_int, LuaError> {
            if sys::lua_type(l, index) != sys::LUA_TNUMBER && sys::lua_isnumber(l, index) == 0 {
                let got = if sys::lua_type(l, index) == sys::LUA_TNONE {
                    "no value"
                } else {
                    lua::type_name(l, index)
                };
                return Err(LuaError::arg(index, format!("number expected, got {got}")));
            }
            let n = sys::lua_tonumber(l, index);
            let n = if n.is_nan() { 0.0 } else { n } as sys::lua_Integer;
            Ok(n.clamp(0, MAX_PREALLOCATION) as c_int)
        };
        lua::entry(l, || {
            let narray = size(1)?;
            let nhash = size(2)?;
            sys::lua_createtable(l, narray, nhash);
            Ok(1)
        })
    }
}

/// `table.clear(t)`: removes every entry of `t` (raw, keeping `t` itself).
unsafe extern "C-unwind" fn clear(l: *mut State) -> c_int {
    // SAFETY: called by Lua as a C function; assigning nil to an existing field during
    // a traversal is allowed by `lua_next`.
    unsafe {
        lua::entry(l, || {
            if sys::lua_type(l, 1) != sys::LUA_TTABLE {
                let got = if sys::lua_type(l, 1) == sys::LUA_TNONE {
                    "no value"
                } else {
                    lua::type_name(l, 1)
                };
                return Err(LuaError::arg(1, format!("table expected, got {got}")));
            }
            sys::lua_settop(l, 1);
            sys::lua_pushnil(l);
            while sys::lua_next(l, 1) != 0 {
                sys::lua_settop(l, -2);
                sys::lua_pushvalue(l, -1);
                sys::lua_pushnil(l);
                sys::lua_rawset(l, 1);
            }
            Ok(0)
        })
    }
}
