//! `setfenv` and `getfenv` on Lua 5.2+ (LuaJIT's, as 5.1 has them), written in Lua over
//! the `debug` library's upvalue functions ([`CHUNK`]): code written for LuaJIT sets
//! the environment of a function it loads (`setfenv(loadstring(s), env)`).

use crate::lua::State;
use mlua_sys as sys;

/// The Lua side: called with the `debug` library, returns `setfenv, getfenv` (nothing
/// if that library is missing).
pub const CHUNK: &str = include_str!("fenv.lua");

/// Defines the globals `setfenv` and `getfenv` where they are missing. Only for
/// 5.2+ (5.1 has its own).
///
/// # Safety
/// `l` is live with four free slots.
pub unsafe fn install(l: *mut State) {
    // SAFETY: `l` is live (caller); `_LOADED` is checked to be a table. The chunk is
    // a constant that compiles; a memory error while loading or running it is an
    // ordinary Lua error of `require "ffi"`, and no Rust frame here owns anything.
    unsafe {
        let status = sys::luaL_loadbufferx(
            l,
            CHUNK.as_ptr().cast(),
            CHUNK.len(),
            c"=[ffi fenv]".as_ptr(),
            c"t".as_ptr(),
        );
        if status != 0 {
            sys::lua_error(l);
        }
        sys::lua_getfield(l, sys::LUA_REGISTRYINDEX, c"_LOADED".as_ptr());
        if sys::lua_type(l, -1) == sys::LUA_TTABLE {
            sys::lua_getfield(l, -1, c"debug".as_ptr());
            sys::lua_remove(l, -2);
        }
        sys::lua_call(l, 1, 2);
        super::set_global_if_missing(l, c"getfenv", |l| sys::lua_pushvalue(l, -1));
        super::set_global_if_missing(l, c"setfenv", |l| sys::lua_pushvalue(l, -2));
        sys::lua_settop(l, -3);
    }
}
