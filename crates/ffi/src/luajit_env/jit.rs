//! `jit`: the facts of LuaJIT's `jit` library that FFI code reads (`jit.os`, `jit.arch`,
//! `jit.version_num`), with the compiler controls as no-ops: there is no JIT compiler
//! here, so `jit.status()` is `false`.

use crate::lua::{self, State};
use mlua_sys as sys;
use std::os::raw::c_int;

/// The LuaJIT release whose FFI this module matches: 2.1.
pub const VERSION: &str = "LuaJIT 2.1.0-beta3";
pub const VERSION_NUM: sys::lua_Integer = 20100;

/// Pushes a new `jit` table.
///
/// # Safety
/// `l` is live with three free slots.
pub unsafe fn push_table(l: *mut State) {
    // SAFETY: `l` is live (caller); only tables, strings and light C functions are made.
    unsafe {
        sys::lua_createtable(l, 0, 10);
        lua::push_str(l, crate::os_name());
        lua::set_field_raw(l, -2, "os");
        lua::push_str(l, crate::arch_name());
        lua::set_field_raw(l, -2, "arch");
        lua::push_str(l, VERSION);
        lua::set_field_raw(l, -2, "version");
        sys::lua_pushinteger(l, VERSION_NUM);
        lua::set_field_raw(l, -2, "version_num");
        sys::lua_pushcfunction(l, status);
        lua::set_field_raw(l, -2, "status");
        for name in ["on", "off", "flush"] {
            sys::lua_pushcfunction(l, nothing);
            lua::set_field_raw(l, -2, name);
        }
        sys::lua_createtable(l, 0, 1);
        sys::lua_pushcfunction(l, nothing);
        lua::set_field_raw(l, -2, "start");
        lua::set_field_raw(l, -2, "opt");
    }
}

/// `jit.status()`: `false`, the compiler is off (and absent).
unsafe extern "C-unwind" fn status(l: *mut State) -> c_int {
    // SAFETY: called by Lua; pushing a boolean allocates nothing.
    unsafe { sys::lua_pushboolean(l, 0) };
    1
}

/// `jit.on`, `jit.off`, `jit.flush`, `jit.opt.start`: nothing to switch.
unsafe extern "C-unwind" fn nothing(_l: *mut State) -> c_int {
    0
}
