//! The Lua module `ffi`: LuaJIT's FFI API for PUC Lua 5.1-5.4.
//!
//! Talks to Lua only through the C API (`mlua-sys`), so that the same code builds into
//! the `jitffi` runner (Lua 5.4, vendored) and into `ffi.so` for a stock `lua5.x`.

use mlua_sys as lua;
use std::os::raw::c_int;

/// Entry point of `require "ffi"`: pushes the module table.
///
/// # Safety
/// Called by Lua with a valid state.
#[no_mangle]
pub unsafe extern "C-unwind" fn luaopen_ffi(state: *mut lua::lua_State) -> c_int {
    // SAFETY: `state` is a live Lua state handed to us by `require`.
    unsafe {
        lua::lua_createtable(state, 0, 8);
    }
    1
}
