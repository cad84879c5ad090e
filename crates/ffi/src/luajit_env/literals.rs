//! LuaJIT's number literals at run time: the string method that a literal rewritten by
//! the crate `luajit-literals` calls (`("123LL"):__jitffi_literal()`), and the module
//! `ffi.literals` (loaders that rewrite, [`CHUNK`]) for stock interpreters.
//!
//! The method lives in the `string` table, where every string finds its methods
//! whatever the chunk's environment (a sandbox, `setfenv`, `module(...)`); it is added
//! only if missing.

use crate::cdata::new_cdata;
use crate::cdata::state::FfiState;
use crate::lua::{self, LuaError, State};
use luajit_literals::Literal;
use mlua_sys as sys;
use std::os::raw::c_int;

/// The Lua part of `ffi.literals`: called with the rewrite function, returns the module.
pub const CHUNK: &str = include_str!("literals.lua");

/// Sets `string.__jitffi_literal` (a closure over the state at `state_index`) if the
/// `string` table exists and has no such field.
///
/// # Safety
/// `l` is live with three free slots; `state_index` is an absolute index.
pub unsafe fn install_method(l: *mut State, state_index: c_int) {
    // SAFETY: `l` is live (caller); the `string` table is checked to be a table.
    unsafe {
        sys::lua_getglobal(l, c"string".as_ptr());
        if sys::lua_type(l, -1) == sys::LUA_TTABLE {
            lua::push_str(l, luajit_literals::METHOD);
            sys::lua_rawget(l, -2);
            let missing = sys::lua_type(l, -1) == sys::LUA_TNIL;
            sys::lua_settop(l, -2);
            if missing {
                sys::lua_pushvalue(l, state_index);
                lua::push_closure(l, literal, 1);
                lua::set_field_raw(l, -2, luajit_literals::METHOD);
            }
        }
        sys::lua_settop(l, -2);
    }
}

/// `("123LL"):__jitffi_literal()`: the cdata of a LuaJIT literal's text.
unsafe extern "C-unwind" fn literal(l: *mut State) -> c_int {
    // SAFETY: called by Lua with the state as upvalue 1; the new cdata is written
    // through its own type's size and alignment.
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            let parsed = lua::to_string_only(l, 1).and_then(luajit_literals::parse);
            let builtins = *st.types().builtins();
            match parsed {
                Some(Literal::Int64(value)) => {
                    new_cdata(l, st, builtins.i64, 8, 8)?
                        .cast::<i64>()
                        .write(value);
                }
                Some(Literal::UInt64(value)) => {
                    new_cdata(l, st, builtins.u64, 8, 8)?
                        .cast::<u64>()
                        .write(value);
                }
                Some(Literal::Imaginary(value)) => {
                    let ptr = new_cdata(l, st, builtins.complex_double, 16, 8)?;
                    ptr.cast::<[f64; 2]>().write([0.0, value]);
                }
                None => {
                    return Err(LuaError::arg(1, "LuaJIT number literal expected"));
                }
            }
            Ok(1)
        })
    }
}

/// `ffi.literals.rewrite(source)`: the source with LuaJIT literals rewritten (the same
/// string if it has none).
unsafe extern "C-unwind" fn rewrite(l: *mut State) -> c_int {
    // SAFETY: called by Lua; the source bytes stay at argument 1 while they are read.
    unsafe {
        lua::entry(l, || {
            let Some(source) = lua::to_string_only(l, 1) else {
                let got = lua::type_name(l, 1);
                return Err(LuaError::arg(1, format!("string expected, got {got}")));
            };
            match luajit_literals::rewrite(source) {
                Some(text) => lua::push_bytes_protected(l, &text)?,
                None => sys::lua_settop(l, 1),
            }
            Ok(1)
        })
    }
}

/// Builds the module `ffi.literals` for the ffi state at `state_index`: makes sure the
/// string method exists and pushes the module table the Lua chunk returns.
///
/// # Safety
/// `l` is live, inside a C function (LUA_MINSTACK free slots); `state_index` is an
/// absolute index. Raises on a Lua error.
pub unsafe fn push_module(l: *mut State, state_index: c_int) {
    // SAFETY: `l` is live (caller); the chunk is this crate's own source text.
    unsafe {
        install_method(l, state_index);
        let status = sys::luaL_loadbufferx(
            l,
            CHUNK.as_ptr().cast(),
            CHUNK.len(),
            c"=[ffi.literals]".as_ptr(),
            std::ptr::null(),
        );
        if status != 0 {
            sys::lua_error(l);
        }
        sys::lua_pushcfunction(l, rewrite);
        sys::lua_call(l, 1, 1);
    }
}
