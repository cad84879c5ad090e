//! LuaJIT idioms that PUC Lua cannot express by itself, made to work (product
//! decisions, the same on every Lua version unless said otherwise):
//!
//! - `type(x) == "cdata"`: `require "ffi"` replaces the global `type` and `tonumber`
//!   with versions that know cdata (as luaffi does), also exported as `ffi.type` and
//!   `ffi.tonumber`. For other values they do what the base library's do, with no
//!   extra call: `type` checks one metatable for userdata only, `tonumber` returns a
//!   number argument at once and converts strings itself, handing only calls with a
//!   base to the original `tonumber` (a number with a base as its text, as LuaJIT
//!   reads it: `tonumber(10, 16)` is 16).
//! - `for k, v in pairs(cdata)`: `require "ffi"` also replaces `pairs` and `ipairs`, so
//!   that a cdata's metatype `__pairs`/`__ipairs` is honoured on every version (5.1 has
//!   neither, 5.4 no `__ipairs`), as in LuaJIT. Other values get the original function
//!   (tables keep their own `__pairs` on 5.2+).
//! - `p == nil` for a NULL pointer: a NULL pointer read from C memory (a field or
//!   element; later a call result or callback argument) becomes `nil`
//!   ([`crate::cdata::convert::push_c_value`]). `ffi.new` and `ffi.cast` still return typed
//!   cdata, and `ffi.NULL` is a `void *` NULL for code that wants one.
//! - `n == 10` for 64-bit integers: on Lua 5.3 and 5.4, an `int64_t` read from C memory
//!   becomes a Lua integer, a `uint64_t` too when it is below 2^63 (else it stays
//!   cdata); on 5.1 and 5.2 they stay cdata, as in LuaJIT.

use crate::cdata::convert::null_access;
use crate::cdata::state::FfiState;
use crate::cdata::{self, payload, to_cdata, CDataHeader, CDataKind};
use crate::lua::{self, LuaError, LuaResult, Next, State};
use crate::scalar::number::{read_num, Num};
use jitffi_ctype::{CType, FloatKind};
use mlua_sys as sys;
use std::os::raw::c_int;

/// Sets `ffi.NULL`, `ffi.type` and `ffi.tonumber` on the module table at `module`.
///
/// # Safety
/// `l` is live with five free slots; `state_index` and `module` are absolute indices
/// of the state userdata and the module table; the gc metatable exists
/// ([`crate::cdata::gc::install`]).
pub unsafe fn install(l: *mut State, st: &FfiState, state_index: c_int, module: c_int) {
    // SAFETY: `l` is live (caller); the NULL cdata is 8 zeroed bytes of `void *`.
    unsafe {
        let void_ptr = st.types().builtins().void_ptr;
        if cdata::new_cdata(l, st, void_ptr, 8, 8).is_ok() {
            lua::set_field_raw(l, module, "NULL");
        }
        push_type_and_tonumber(l, st, state_index);
        lua::set_field_raw(l, module, "tonumber");
        lua::set_field_raw(l, module, "type");
    }
}

/// Replaces the globals `type`, `tonumber`, `pairs` and `ipairs` with the cdata-aware
/// versions.
///
/// # Safety
/// As [`install`].
pub unsafe fn install_globals(l: *mut State, st: &FfiState, state_index: c_int) {
    // SAFETY: `l` is live (caller). Closures of their own, not the module's, so that an
    // argument error names the global as the base library's would (Lua finds a C
    // function's name by searching the loaded modules for it).
    unsafe {
        push_type_and_tonumber(l, st, state_index);
        sys::lua_setglobal(l, c"tonumber".as_ptr());
        sys::lua_setglobal(l, c"type".as_ptr());
        for (name, function) in [(c"pairs", pairs as sys::lua_CFunction), (c"ipairs", ipairs)] {
            sys::lua_pushvalue(l, state_index);
            sys::lua_getglobal(l, name.as_ptr());
            if sys::lua_type(l, -1) == sys::LUA_TFUNCTION {
                lua::push_closure(l, function, 2);
                sys::lua_setglobal(l, name.as_ptr());
            } else {
                sys::lua_settop(l, -3);
            }
        }
    }
}

/// `pairs(v)`: see [`iterate`].
unsafe extern "C-unwind" fn pairs(l: *mut State) -> c_int {
    // SAFETY: called by Lua as a C function with the upvalues of `iterate`.
    unsafe { iterate(l, "__pairs") }
}

/// `ipairs(v)`: see [`iterate`].
unsafe extern "C-unwind" fn ipairs(l: *mut State) -> c_int {
    // SAFETY: called by Lua as a C function with the upvalues of `iterate`.
    unsafe { iterate(l, "__ipairs") }
}

/// `pairs`/`ipairs` (`event` is `__pairs`/`__ipairs`) as LuaJIT's on every version: a
/// cdata calls its metatype's method with itself and returns all its results (a
/// pointer to a struct uses the struct's), or is LuaJIT's error without one. Anything
/// else goes to the original function (upvalue 2; the ffi state is upvalue 1), after
/// the argument check the original makes, so that its errors still name the global.
///
/// # Safety
/// `l` is live, inside the C function `pairs` or `ipairs` of [`install_globals`].
unsafe fn iterate(l: *mut State, event: &str) -> c_int {
    // SAFETY: `l` is live (caller); the calls run in `entry_next`'s frame.
    unsafe {
        lua::entry_next(l, || {
            if sys::lua_type(l, 1) == sys::LUA_TUSERDATA {
                let st = FfiState::get(l)?;
                if let Some(header) = to_cdata(l, st, 1) {
                    let header: CDataHeader = *header;
                    sys::lua_settop(l, 1);
                    if header.kind() == CDataKind::CType {
                        return Err(LuaError::msg(format!(
                            "'ctype' has no '{event}' metamethod"
                        )));
                    }
                    if crate::cdata::metatype::push_operand_metamethod(l, st, header.ty, event) {
                        sys::lua_pushvalue(l, 1);
                        return Ok(Next::Call { args: 1 });
                    }
                    // LuaJIT names a pointer to a struct by the struct.
                    let types = st.types();
                    let (base, _) = types.unqualified(header.ty);
                    let shown = match types.get(base) {
                        CType::Pointer(target)
                            if matches!(
                                types.get(types.unqualified(*target).0),
                                CType::Record(_)
                            ) =>
                        {
                            *target
                        }
                        _ => header.ty,
                    };
                    let name = types.type_name(shown);
                    drop(types);
                    return Err(LuaError::msg(format!(
                        "'{name}' has no '{event}' metamethod"
                    )));
                }
            }
            check_iterable(l, event)?;
            let args = sys::lua_gettop(l);
            sys::lua_pushvalue(l, lua::upvalue(2));
            sys::lua_insert(l, 1);
            Ok(Next::Call { args })
        })
    }
}

/// The argument check of this Lua version's `pairs`/`ipairs`: 5.1 wants a table, 5.2
/// a table or a value with the metamethod `event`, 5.3 and later any value.
///
/// # Safety
/// `l` is live with two free slots.
unsafe fn check_iterable(l: *mut State, event: &str) -> LuaResult<()> {
    // SAFETY: `l` is live (caller); only raw accesses.
    unsafe {
        let t = sys::lua_type(l, 1);
        if cfg!(any(feature = "lua53", feature = "lua54", feature = "lua55")) {
            if t == sys::LUA_TNONE {
                return Err(LuaError::arg(1, "value expected"));
            }
            return Ok(());
        }
        let mut fits = t == sys::LUA_TTABLE;
        if !fits && cfg!(feature = "lua52") && sys::lua_getmetatable(l, 1) != 0 {
            lua::push_str(l, event);
            sys::lua_rawget(l, -2);
            fits = sys::lua_type(l, -1) != sys::LUA_TNIL;
            sys::lua_settop(l, -3);
        }
        if fits {
            return Ok(());
        }
        let got = if t == sys::LUA_TNONE {
            "no value"
        } else {
            lua::type_name(l, 1)
        };
        Err(LuaError::arg(1, format!("table expected, got {got}")))
    }
}

/// Pushes a new `type` closure, then a new `tonumber` closure (over the current global
/// `tonumber`).
///
/// # Safety
/// As [`install`].
unsafe fn push_type_and_tonumber(l: *mut State, st: &FfiState, state_index: c_int) {
    // SAFETY: `l` is live with room for the values pushed here (caller).
    unsafe {
        sys::lua_rawgeti(
            l,
            sys::LUA_REGISTRYINDEX,
            sys::lua_Integer::from(st.cdata_meta),
        );
        sys::lua_rawgeti(
            l,
            sys::LUA_REGISTRYINDEX,
            sys::lua_Integer::from(st.gc_meta),
        );
        lua::push_closure(l, type_, 2);
        sys::lua_pushvalue(l, state_index);
        sys::lua_getglobal(l, c"tonumber".as_ptr());
        lua::push_closure(l, tonumber, 2);
    }
}

/// `type(v)`: `"cdata"` for cdata and ctype objects, else the base library's answer.
/// Upvalues: the two cdata metatables (no ffi state needed, so it works in
/// finalizers at `lua_close` too).
unsafe extern "C-unwind" fn type_(l: *mut State) -> c_int {
    // SAFETY: called by Lua as a C function with the two metatables as upvalues.
    unsafe {
        lua::entry(l, || {
            let t = sys::lua_type(l, 1);
            if t == sys::LUA_TNONE {
                return Err(LuaError::arg(1, "value expected"));
            }
            if t == sys::LUA_TUSERDATA && sys::lua_getmetatable(l, 1) != 0 {
                let ours = sys::lua_rawequal(l, -1, lua::upvalue(1)) != 0
                    || sys::lua_rawequal(l, -1, lua::upvalue(2)) != 0;
                sys::lua_settop(l, -2);
                if ours {
                    lua::push_str(l, "cdata");
                    return Ok(1);
                }
            }
            sys::lua_pushstring(l, sys::lua_typename(l, t));
            Ok(1)
        })
    }
}

/// `tonumber(v [, base])`: the number a numeric cdata holds (see
/// [`push_cdata_number`]), else the base library's answer. Upvalues: the ffi state,
/// the original `tonumber`.
unsafe extern "C-unwind" fn tonumber(l: *mut State) -> c_int {
    // SAFETY: called by Lua as a C function of this module (state as upvalue 1).
    unsafe {
        lua::entry(l, || {
            if sys::lua_type(l, 2) > sys::LUA_TNIL {
                if sys::lua_type(l, 1) == sys::LUA_TNUMBER
                    && sys::lua_type(l, 2) == sys::LUA_TNUMBER
                {
                    // As LuaJIT: a number in base 10 as it is, in another base its text
                    // (`tonumber(10, 16)` is 16), which 5.2+ refuse and 5.1 misreads.
                    return crate::luajit_env::tonumber_in_base(l);
                }
                return call_original(l);
            }
            match sys::lua_type(l, 1) {
                sys::LUA_TNUMBER => sys::lua_settop(l, 1),
                sys::LUA_TSTRING => push_string_number(l),
                sys::LUA_TUSERDATA => {
                    let st = FfiState::get(l)?;
                    match to_cdata(l, st, 1) {
                        Some(header) => push_cdata_number(l, st, header)?,
                        None => sys::lua_pushnil(l),
                    }
                }
                sys::LUA_TNONE => return Err(LuaError::arg(1, "value expected")),
                _ => sys::lua_pushnil(l),
            }
            Ok(1)
        })
    }
}

/// `tonumber(s)` for a string, as the running Lua version converts it.
///
/// # Safety
/// `l` is live with one free slot; argument 1 is a string.
unsafe fn push_string_number(l: *mut State) {
    // SAFETY: `l` is live with one free slot (caller); argument 1 is a string.
    unsafe { lua::version::push_string_number(l, 1) }
}

/// Calls the original `tonumber` (upvalue 2) with all arguments and returns its
/// results. Only calls with a base come here.
///
/// # Safety
/// `l` is live, inside [`tonumber`].
unsafe fn call_original(l: *mut State) -> LuaResult<c_int> {
    // SAFETY: `l` is live (caller); a failed call leaves its error on top, raised by
    // `entry` after this frame owns nothing.
    unsafe {
        let args = sys::lua_gettop(l);
        sys::lua_pushvalue(l, lua::upvalue(2));
        sys::lua_insert(l, 1);
        if sys::lua_pcall(l, args, sys::LUA_MULTRET, 0) != 0 {
            return Err(LuaError::Raised);
        }
        Ok(sys::lua_gettop(l))
    }
}

/// Pushes the number a cdata holds, as LuaJIT's `tonumber` does: integers, `bool`,
/// enums and floating point convert, a complex number gives its real part, a ctype
/// object its number (as LuaJIT: [`crate::cdata::convert::ctype_number`]), anything else
/// (pointers, arrays, records, vectors) gives `nil`, and a `long
/// double` is an error (LuaJIT converts only through a double). A reference converts
/// the value it refers to.
///
/// Integers become Lua integers on 5.3+ (a `uint64_t` from 2^63 a float): LuaJIT's
/// doubles would print as `10.0` there. On 5.1 and 5.2 every result is a double, as in
/// LuaJIT.
///
/// # Safety
/// `l` is live with one free slot; `header` is a live cdata of `st`.
pub unsafe fn push_cdata_number(
    l: *mut State,
    st: &FfiState,
    header: *const CDataHeader,
) -> LuaResult<()> {
    let types = &st.types();
    // SAFETY: `header` is a live cdata (caller); a reference's address is checked for
    // NULL before it is read through.
    unsafe {
        if (*header).kind() == CDataKind::CType {
            let number = crate::cdata::convert::ctype_number(types, (*header).ty);
            sys::lua_pushinteger(l, sys::lua_Integer::from(number));
            return Ok(());
        }
        let ty = (*header).ty;
        let mut ptr: *const u8 = payload(header);
        let (mut base, _) = types.unqualified(ty);
        if let CType::Ref(target) = types.get(base) {
            ptr = ptr.cast::<*const u8>().read();
            if ptr.is_null() {
                return Err(null_access(types, ty));
            }
            base = types.unqualified(*target).0;
        }
        match read_num(types, base, ptr) {
            Some(Num::Int(i)) => sys::lua_pushinteger(l, i),
            Some(Num::UInt(u)) => match i64::try_from(u) {
                Ok(i) => sys::lua_pushinteger(l, i),
                Err(_) => sys::lua_pushnumber(l, u as f64),
            },
            Some(Num::Float(x) | Num::Complex(x, _)) => sys::lua_pushnumber(l, x),
            // As LuaJIT: a `long double` has no conversion to a Lua number.
            None if matches!(
                types.get(base),
                CType::Float(FloatKind::LongDouble) | CType::Complex(FloatKind::LongDouble)
            ) =>
            {
                let shown = if let CType::Ref(target) = types.get(types.unqualified(ty).0) {
                    *target
                } else {
                    ty
                };
                return Err(crate::cdata::convert::long_double_error(types, shown));
            }
            None => sys::lua_pushnil(l),
        }
    }
    Ok(())
}
