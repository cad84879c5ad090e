//! `ffi.metatype`: metatables attached to C types, and the lookup every cdata
//! metamethod uses to find a user's metamethod (`lj_ctype_meta` in LuaJIT).
//!
//! The associations live in a registry table `type id + 1 -> metatable` (one per state,
//! [`FfiState::metatypes`]); an association is permanent, as in LuaJIT. Until the first
//! `ffi.metatype` call [`FfiState::has_metatypes`] is false and every lookup is a single
//! branch, so programs that never use metatypes pay nothing for them.

use crate::cdata::ctype_arg::check_ctype;
use crate::cdata::push_ctype;
use crate::cdata::state::FfiState;
use crate::lua::{self, LuaError, State};
use jitffi_ctype::{CType, TypeId, TypeTable};
use mlua_sys as sys;
use std::os::raw::c_int;

/// `ffi.metatype(ct, metatable)`: associates `metatable` with the struct, union, complex
/// or vector type `ct`, once; returns the ctype object.
///
/// # Safety
/// Called by Lua as a C function of this module (state as upvalue 1).
pub unsafe extern "C-unwind" fn metatype(l: *mut State) -> c_int {
    // SAFETY: called by Lua as a C function of this module.
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            let ty = check_ctype(l, st, 1, None)?;
            if !matches!(
                st.types().get(ty),
                CType::Record(_) | CType::Complex(_) | CType::Vector { .. }
            ) {
                return Err(LuaError::arg(1, "invalid C type"));
            }
            if sys::lua_type(l, 2) != sys::LUA_TTABLE {
                let got = lua::type_name(l, 2);
                return Err(LuaError::arg(2, format!("table expected, got {got}")));
            }
            sys::lua_rawgeti(
                l,
                sys::LUA_REGISTRYINDEX,
                sys::lua_Integer::from(st.metatypes),
            );
            let key = key_of(ty);
            if sys::lua_rawgeti(l, -1, key) != sys::LUA_TNIL {
                return Err(LuaError::msg("cannot change a protected metatable"));
            }
            sys::lua_settop(l, -2);
            sys::lua_pushvalue(l, 2);
            sys::lua_rawseti(l, -2, key);
            sys::lua_settop(l, -2);
            st.has_metatypes.set(true);
            push_ctype(l, st, ty)?;
            Ok(1)
        })
    }
}

/// The key of type `ty` in the metatype table.
fn key_of(ty: TypeId) -> sys::lua_Integer {
    sys::lua_Integer::from(ty.0) + 1
}

/// The type whose metatable applies to a cdata of type `ty`: `ty` without qualifiers
/// and references (`lj_ctype_meta`).
fn metatype_key_type(types: &TypeTable, ty: TypeId) -> TypeId {
    let mut ty = ty;
    loop {
        let (base, _) = types.unqualified(ty);
        match types.get(base) {
            CType::Ref(target) => ty = *target,
            _ => return base,
        }
    }
}

/// Pushes the metatable associated with `ty` (after removing qualifiers and references)
/// and returns true; pushes nothing and returns false when there is none.
///
/// # Safety
/// `l` is live with two free slots; `st` is its ffi state.
pub unsafe fn push_metatable(l: *mut State, st: &FfiState, ty: TypeId) -> bool {
    if !st.has_metatypes.get() {
        return false;
    }
    let key = key_of(metatype_key_type(&st.types(), ty));
    // SAFETY: `l` is live (caller); only raw accesses, which cannot raise.
    unsafe {
        sys::lua_rawgeti(
            l,
            sys::LUA_REGISTRYINDEX,
            sys::lua_Integer::from(st.metatypes),
        );
        if sys::lua_rawgeti(l, -1, key) != sys::LUA_TTABLE {
            sys::lua_settop(l, -3);
            return false;
        }
        sys::lua_remove(l, -2);
        true
    }
}

/// Pushes the metamethod `name` of the metatable associated with `ty` (after removing
/// qualifiers and references) and returns true; pushes nothing and returns false when
/// there is none (`lj_ctype_meta`). A raw lookup, as LuaJIT's.
///
/// # Safety
/// `l` is live with two free slots; `st` is its ffi state.
pub unsafe fn push_metamethod(l: *mut State, st: &FfiState, ty: TypeId, name: &str) -> bool {
    // SAFETY: `l` is live with two free slots (caller); only raw accesses, which cannot
    // raise.
    unsafe {
        if !push_metatable(l, st, ty) {
            return false;
        }
        lua::push_str(l, name);
        if sys::lua_rawget(l, -2) == sys::LUA_TNIL {
            sys::lua_settop(l, -3);
            return false;
        }
        // Keep only the metamethod.
        sys::lua_replace(l, -2);
        true
    }
}

/// As [`push_metamethod`] for an operand of an arithmetic, comparison or concatenation
/// operator, and for `__call`/`__new`: a pointer operand uses the metatable of the type
/// it points to (`carith_meta`).
///
/// # Safety
/// As [`push_metamethod`].
pub unsafe fn push_operand_metamethod(
    l: *mut State,
    st: &FfiState,
    ty: TypeId,
    name: &str,
) -> bool {
    if !st.has_metatypes.get() {
        return false;
    }
    let base = metatype_key_type(&st.types(), ty);
    let ty = match &st.ctype(base) {
        CType::Pointer(target) => *target,
        _ => base,
    };
    // SAFETY: forwarded from the caller.
    unsafe { push_metamethod(l, st, ty, name) }
}
