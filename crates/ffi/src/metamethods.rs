//! The metatable shared by every cdata and ctype object, and its metamethods.

use crate::cdata::{to_cdata, CDataHeader, CDataKind};
use crate::lua::{self, State};
use crate::state::FfiState;
use crate::types_api::push_ctype_name;
use mlua_sys as sys;
use std::os::raw::c_int;

/// Builds the cdata metatable (its functions get the state at `state_index` as upvalue 1)
/// and returns its registry reference.
///
/// # Safety
/// `l` is live with four free slots; `state_index` is an absolute index of the state.
pub unsafe fn new_cdata_metatable(l: *mut State, state_index: c_int) -> c_int {
    // SAFETY: `l` is live (caller).
    unsafe {
        sys::lua_createtable(l, 0, 8);
        let methods: [(&str, sys::lua_CFunction); 2] = [("__tostring", tostring), ("__eq", eq)];
        for (name, function) in methods {
            sys::lua_pushvalue(l, state_index);
            lua::push_closure(l, function, 1);
            lua::set_field_raw(l, -2, name);
        }
        // `getmetatable(cdata)` answers "ffi", as in LuaJIT, and the metamethods stay
        // private: a userdata with this metatable is always one of ours.
        lua::push_str(l, "ffi");
        lua::set_field_raw(l, -2, "__metatable");
        sys::luaL_ref(l, sys::LUA_REGISTRYINDEX)
    }
}

/// `__tostring`: `ctype<int>` for a ctype object.
unsafe extern "C-unwind" fn tostring(l: *mut State) -> c_int {
    // SAFETY: Lua calls `__tostring` with one of our userdata as argument 1.
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            let header: CDataHeader = *sys::lua_touserdata(l, 1).cast::<CDataHeader>();
            match header.kind {
                CDataKind::CType => push_ctype_name(l, st, header.ty),
                CDataKind::Value => {
                    let text = format!("cdata<{}>", st.types.type_name(header.ty));
                    lua::push_str(l, &text);
                }
            }
            Ok(1)
        })
    }
}

/// `__eq`: two ctype objects are equal when they name the same type.
unsafe extern "C-unwind" fn eq(l: *mut State) -> c_int {
    // SAFETY: Lua calls `__eq` with two operands, at least one of them ours.
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            let (Some(a), Some(b)) = (to_cdata(l, st, 1), to_cdata(l, st, 2)) else {
                sys::lua_pushboolean(l, 0);
                return Ok(1);
            };
            let (a, b) = (*a, *b);
            let equal = a.kind == CDataKind::CType && b.kind == CDataKind::CType && a.ty == b.ty;
            sys::lua_pushboolean(l, c_int::from(equal));
            Ok(1)
        })
    }
}
