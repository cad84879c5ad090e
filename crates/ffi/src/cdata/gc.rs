//! Finalizers of cdata: `ffi.gc` and the `__gc` of `ffi.metatype` (LuaJIT's
//! `lj_cdata_setfin` and the finalizer table `GCROOT_FFI_FIN`).
//!
//! ```text
//!   ordinary cdata ──metatable──> cdata metatable          (no __gc: no finalizer cost)
//!   cdata with a finalizer ─────> gc metatable = the same fields + __gc
//!   registry: finalizers = setmetatable({}, {__mode = "k"})   cdata -> finalizer
//! ```
//!
//! A cdata gets the gc metatable when it is given a finalizer and the plain one back
//! when `ffi.gc(cdata, nil)` removes it, so only cdata that have a finalizer are ever
//! finalized by Lua. [`crate::cdata::to_cdata`] accepts both metatables.
//!
//! The `__gc` closure holds the finalizer table as its upvalue and needs nothing else:
//! when the Lua state closes, the ffi state may have been freed before it runs. It
//! takes the finalizer out of the table (a finalizer runs once, as in LuaJIT) and calls
//! it with the cdata. The entry is still there while `__gc` runs, on every version:
//! - Lua 5.1 keeps a weak key whose userdata is being finalized (`iscleared` clears
//!   only *values* that are finalized userdata), and weak tables are not touched at
//!   `lua_close`;
//! - Lua 5.2+ removes such keys "only in the next collection" (manual, 2.5.2), and the
//!   table is an ephemeron, so a finalizer that refers to its own cdata does not keep
//!   it alive. On 5.1 (and in LuaJIT) it does: the values of a weak-keyed table are
//!   strong there.
//!
//! Errors raised by a finalizer propagate as each Lua version propagates `__gc`
//! errors: out of the allocation or `collectgarbage` that ran the collection on 5.1
//! (as in LuaJIT), wrapped as "error in __gc metamethod" on 5.2 and 5.3, turned into
//! a warning (off by default) on 5.4.
//!
//! At `lua_close` every pending finalizer runs; cdata finalizers run before the ffi
//! state is freed (finalizers run newest first and the state is older than every
//! cdata), so a finalizer may still use the ffi.

use crate::cdata::state::FfiState;
use crate::cdata::{to_cdata, CDataKind};
use crate::lua::{self, LuaError, LuaResult, State};
use jitffi_ctype::{CType, TypeId, TypeTable};
use mlua_sys as sys;
use std::os::raw::c_int;

/// Builds the finalizer table and the gc metatable (a copy of the cdata metatable,
/// which must be complete by now, plus `__gc`), and records both metatables'
/// addresses for [`to_cdata`].
///
/// # Safety
/// `l` is live with five free slots; `st.cdata_meta` is set.
pub unsafe fn install(l: *mut State, st: &mut FfiState) {
    // SAFETY: `l` is live (caller); every access is raw on tables made here.
    unsafe {
        sys::lua_createtable(l, 0, 0);
        sys::lua_createtable(l, 0, 1);
        lua::push_str(l, "k");
        lua::set_field_raw(l, -2, "__mode");
        sys::lua_setmetatable(l, -2);
        let finalizers = sys::lua_gettop(l);

        sys::lua_createtable(l, 0, 16);
        sys::lua_rawgeti(
            l,
            sys::LUA_REGISTRYINDEX,
            sys::lua_Integer::from(st.cdata_meta),
        );
        st.cdata_meta_ptr = sys::lua_topointer(l, -1);
        sys::lua_pushnil(l);
        while sys::lua_next(l, -2) != 0 {
            // Stack: gc_meta, cdata_meta, key, value.
            sys::lua_pushvalue(l, -2);
            sys::lua_insert(l, -2);
            sys::lua_rawset(l, -5);
        }
        sys::lua_settop(l, -2);
        sys::lua_pushvalue(l, finalizers);
        lua::push_closure(l, run_finalizer, 1);
        lua::set_field_raw(l, -2, "__gc");
        st.gc_meta_ptr = sys::lua_topointer(l, -1);
        st.gc_meta = sys::luaL_ref(l, sys::LUA_REGISTRYINDEX);
        st.finalizers = sys::luaL_ref(l, sys::LUA_REGISTRYINDEX);
    }
}

/// Whether `ffi.gc` accepts a cdata of type `ty`: pointers, references, structs,
/// unions and arrays, as LuaJIT (`ctype_isptr`, `ctype_isstruct`, `ctype_isrefarray`).
fn is_finalizable(types: &TypeTable, ty: TypeId) -> bool {
    let (base, _) = types.unqualified(ty);
    matches!(
        types.get(base),
        CType::Pointer(_) | CType::Ref(_) | CType::Record(_) | CType::Array { .. }
    )
}

/// `ffi.gc(cdata, finalizer)`: sets, replaces or (with `nil`) removes the finalizer of
/// `cdata`; returns `cdata`.
///
/// # Safety
/// Called by Lua as a C function of this module (state as upvalue 1).
pub unsafe extern "C-unwind" fn gc(l: *mut State) -> c_int {
    // SAFETY: called by Lua as a C function of this module.
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            let Some(header) = to_cdata(l, st, 1) else {
                let got = lua::type_name(l, 1);
                return Err(LuaError::arg(1, format!("cdata expected, got {got}")));
            };
            if sys::lua_type(l, 2) == sys::LUA_TNONE {
                return Err(LuaError::arg(2, "value expected"));
            }
            let header = *header;
            if header.kind() == CDataKind::CType || !is_finalizable(&st.types(), header.ty) {
                return Err(LuaError::arg(1, "invalid C type"));
            }
            sys::lua_settop(l, 2);
            set_finalizer(l, st, 1, 2)?;
            sys::lua_settop(l, 1);
            Ok(1)
        })
    }
}

/// Gives the cdata at `cdata` the finalizer at `finalizer` (absolute indices), or
/// removes its finalizer if that is `nil`.
///
/// # Safety
/// `l` is live; `cdata` holds a cdata of this state.
pub unsafe fn set_finalizer(
    l: *mut State,
    st: &FfiState,
    cdata: c_int,
    finalizer: c_int,
) -> LuaResult<()> {
    // SAFETY: `l` is live (caller); raw accesses only.
    unsafe {
        if sys::lua_checkstack(l, 3) == 0 {
            return Err(LuaError::msg("stack overflow (setting a finalizer)"));
        }
        let remove = sys::lua_type(l, finalizer) == sys::LUA_TNIL;
        sys::lua_rawgeti(
            l,
            sys::LUA_REGISTRYINDEX,
            sys::lua_Integer::from(st.finalizers),
        );
        sys::lua_pushvalue(l, cdata);
        sys::lua_pushvalue(l, finalizer);
        sys::lua_rawset(l, -3);
        sys::lua_settop(l, -2);
        let meta = if remove { st.cdata_meta } else { st.gc_meta };
        sys::lua_rawgeti(l, sys::LUA_REGISTRYINDEX, sys::lua_Integer::from(meta));
        sys::lua_setmetatable(l, cdata);
    }
    Ok(())
}

/// Gives the new cdata on top of the stack, of type `ty`, the `__gc` of the metatable
/// `ffi.metatype` associated with `ty`, if any: what `ffi.new` and calling a ctype do
/// for a struct or union (LuaJIT looks up `ty` itself, so `const struct s` gets none).
///
/// # Safety
/// `l` is live with one free slot; the cdata is on top.
#[inline]
pub unsafe fn attach_metatype_finalizer(l: *mut State, st: &FfiState, ty: TypeId) -> LuaResult<()> {
    if !st.has_metatypes.get() {
        return Ok(());
    }
    // SAFETY: forwarded from the caller.
    unsafe { attach_metatype_finalizer_slow(l, st, ty) }
}

/// The body of [`attach_metatype_finalizer`] once some metatype exists.
///
/// # Safety
/// As [`attach_metatype_finalizer`].
unsafe fn attach_metatype_finalizer_slow(
    l: *mut State,
    st: &FfiState,
    ty: TypeId,
) -> LuaResult<()> {
    if !matches!(st.types().get(ty), CType::Record(_)) {
        return Ok(());
    }
    // SAFETY: `l` is live (caller); `push_metamethod` pushes one value or none.
    unsafe {
        if sys::lua_checkstack(l, 2) == 0 {
            return Err(LuaError::msg("stack overflow (setting a finalizer)"));
        }
        if !crate::cdata::metatype::push_metamethod(l, st, ty, "__gc") {
            return Ok(());
        }
        let top = sys::lua_gettop(l);
        let result = set_finalizer(l, st, top - 1, top);
        sys::lua_settop(l, -2);
        result
    }
}

/// `__gc` of the gc metatable: runs the finalizer of the cdata at argument 1 once.
/// Upvalue 1 is the finalizer table; nothing else is needed (see the module docs).
unsafe extern "C-unwind" fn run_finalizer(l: *mut State) -> c_int {
    // SAFETY: Lua calls `__gc` with the cdata as argument 1; upvalue 1 is the table.
    unsafe {
        lua::entry(l, || {
            let finalizers = lua::upvalue(1);
            sys::lua_settop(l, 1);
            sys::lua_pushvalue(l, 1);
            if sys::lua_rawget(l, finalizers) == sys::LUA_TNIL {
                return Ok(0);
            }
            sys::lua_pushvalue(l, 1);
            sys::lua_pushnil(l);
            sys::lua_rawset(l, finalizers);
            sys::lua_pushvalue(l, 1);
            if sys::lua_pcall(l, 1, 0, 0) != 0 {
                return Err(LuaError::Raised);
            }
            Ok(0)
        })
    }
}
