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
//! The `__gc` closure holds the finalizer table as its upvalue (on Lua 5.3 also the
//! weak table of [`unstick_collector`]) and needs nothing else: when the Lua state
//! closes, the ffi state may have been freed before it runs. It
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
//! cdata), so a finalizer may still use the ffi. A finalizer that collects at close
//! (`collectgarbage()`, which 5.4 and 5.5 ignore inside a finalizer) runs every pending
//! finalizer at once, the state's too: the cdata finalizers run after it find the ffi
//! gone ("ffi used after its Lua state began closing"). On Lua 5.3 such a collection
//! could spin for ever; [`unstick_collector`] prevents that.

use crate::cdata::state::FfiState;
use crate::cdata::{to_cdata, CDataKind};
use crate::lua::{self, LuaError, LuaResult, State};
use jitffi_ctype::{CType, TypeId, TypeTable};
use mlua_sys as sys;
use std::ffi::c_void;
use std::os::raw::c_int;

/// Builds the finalizer table and the gc metatable (a copy of the cdata metatable,
/// which must be complete by now, plus `__gc`), and records both metatables'
/// addresses for [`to_cdata`].
///
/// # Safety
/// `l` is live with six free slots; `st.cdata_meta` is set.
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
        let upvalues = if UNSTICK_COLLECTOR_AT_CLOSE {
            // The token of the last emergency collection (see `unstick_collector`).
            sys::lua_createtable(l, 1, 0);
            sys::lua_createtable(l, 0, 1);
            lua::push_str(l, "v");
            lua::set_field_raw(l, -2, "__mode");
            sys::lua_setmetatable(l, -2);
            2
        } else {
            1
        };
        lua::push_closure(l, run_finalizer, upvalues);
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
/// On Lua 5.3, upvalue 2 is the weak table of [`unstick_collector`].
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
            if UNSTICK_COLLECTOR_AT_CLOSE {
                unstick_collector(l);
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

/// Whether [`unstick_collector`] runs before each cdata finalizer: on Lua 5.3 only.
///
/// Lua 5.3's `lua_close` (`luaC_freeallobjects`) moves every object with a finalizer
/// to the to-be-finalized list without setting `g->gcfinnum`, the number of finalizers
/// a collection step may run. When the state closes while the collector is still in
/// its last phase, `GCScallfin`, right after a step ran the last pending finalizer
/// (which set `gcfinnum` to 0; pure Lua gets there too), a finalizer that calls
/// `collectgarbage()` or `collectgarbage("step", n)` with `n > 0` spins for ever
/// while other finalizers are pending (that of the ffi state always is):
/// `singlestep` asks `runafewfinalizers` to run 0 finalizers, which leaves the list
/// and the phase as they are. Only an emergency collection (a failed allocation)
/// leaves `GCScallfin` with finalizers pending; its `atomic` phase then sets
/// `gcfinnum` again. Lua 5.1 and 5.2 have no such phase; 5.4 and 5.5 stop
/// collections while they close.
const UNSTICK_COLLECTOR_AT_CLOSE: bool = lua::version::COLLECTOR_STUCK_AT_CLOSE;

/// Lua 5.3 (see [`UNSTICK_COLLECTOR_AT_CLOSE`]): when no Lua function runs below this
/// finalizer (so it may be `lua_close` that runs it, or a collection a host started
/// outside any call), runs one emergency collection, so that a `collectgarbage` call in
/// this finalizer or a later one cannot spin. The userdata that the refused allocation
/// made is kept in the weak table at upvalue 2 as a token: while it lives, the
/// collector has not passed an `atomic` phase since, so it cannot be stuck, and later
/// finalizers at the same close skip the collection. An emergency collection runs no
/// finalizer; it is what Lua does at any failed allocation. If it fails (out of
/// memory), the finalizer runs all the same.
///
/// # Safety
/// `l` is live; [`run_finalizer`] calls it with its upvalues in place.
unsafe fn unstick_collector(l: *mut State) {
    // SAFETY: `l` is live (caller); a zeroed `lua_Debug` is a valid blank record that
    // `lua_getstack` fills; the rest is raw access and a protected call.
    unsafe {
        let mut caller = std::mem::MaybeUninit::<sys::lua_Debug>::zeroed().assume_init();
        if sys::lua_getstack(l, 1, &mut caller) != 0 || sys::lua_checkstack(l, 3) == 0 {
            return;
        }
        let tokens = lua::upvalue(2);
        let live = sys::lua_rawgeti(l, tokens, 1) != sys::LUA_TNIL;
        sys::lua_settop(l, -2);
        if live {
            return;
        }
        match lua::call_protected(l, collect_as_emergency, std::ptr::null_mut()) {
            Ok(()) => sys::lua_rawseti(l, tokens, 1),
            Err(_) => sys::lua_settop(l, -2),
        }
    }
}

/// What [`refuse_once`] needs to put the state's own allocator back.
struct AllocatorSwap {
    state: *mut State,
    allocator: sys::lua_Alloc,
    data: *mut c_void,
}

/// Run by [`lua::call_protected`]: makes a small userdata (left on the stack) through
/// [`refuse_once`], whose refusal makes Lua run an emergency collection and retry with
/// its own allocator.
unsafe extern "C-unwind" fn collect_as_emergency(l: *mut State) -> c_int {
    // SAFETY: `l` is live (called by Lua); `swap` outlives every use of it: the
    // allocator is put back before `new_userdata` returns or raises.
    unsafe {
        lua::entry(l, || {
            let mut data = std::ptr::null_mut();
            let allocator = sys::lua_getallocf(l, &mut data);
            let swap = AllocatorSwap {
                state: l,
                allocator,
                data,
            };
            sys::lua_setallocf(l, refuse_once, std::ptr::addr_of!(swap).cast_mut().cast());
            lua::new_userdata(l, 1);
            // `new_userdata` allocated through `refuse_once`, which put the allocator
            // back; this is only in case it did not.
            sys::lua_setallocf(l, allocator, data);
            Ok(1)
        })
    }
}

/// A `lua_Alloc` that frees and shrinks through the state's own allocator and refuses
/// the first allocation that grows, after putting that allocator back.
unsafe extern "C" fn refuse_once(
    ud: *mut c_void,
    block: *mut c_void,
    old_size: usize,
    new_size: usize,
) -> *mut c_void {
    // SAFETY: `ud` is the `AllocatorSwap` of `collect_as_emergency`, alive while this
    // allocator is installed; the state's allocator gets what Lua passed.
    unsafe {
        let swap = &*ud.cast::<AllocatorSwap>();
        // A null block means a new one, and then `old_size` is a type tag.
        let grows = new_size > 0 && (block.is_null() || new_size > old_size);
        if !grows {
            return (swap.allocator)(swap.data, block, old_size, new_size);
        }
        sys::lua_setallocf(swap.state, swap.allocator, swap.data);
        std::ptr::null_mut()
    }
}
