//! TEMPORARY stand-in for the raw callbacks of `crates/ffi/src/callback.rs` (the lead's,
//! not merged yet), with the same three functions, so that cbframe runs end to end.
//! No thread or closed-state checks, no deferred errors (an error in the Lua function
//! is printed to stderr): delete this file once the real module lands.

use crate::cdata::new_cdata_with;
use crate::lua::{LuaError, LuaResult, State};
use crate::state::FfiState;
use jitffi_ctype::TypeId;
use jitffi_jit::{current_thread, CallbackSlot, CpuState, EntryKind, SlotPool};
use mlua_sys as sys;
use std::os::raw::c_int;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;

struct Record {
    l: *mut State,
    function: c_int,
    cpu_ptr_ty: TypeId,
    cdata_meta: c_int,
}

fn pool() -> LuaResult<&'static SlotPool> {
    static POOL: OnceLock<Result<SlotPool, String>> = OnceLock::new();
    POOL.get_or_init(|| {
        // SAFETY: `handler` is a RawHandler that lives as long as the process.
        unsafe { SlotPool::new(EntryKind::Raw, handler as jitffi_jit::RawHandler as usize) }
            .map_err(|e| e.message)
    })
    .as_ref()
    .map_err(|e| LuaError::msg(e.clone()))
}

/// # Safety
/// `l` is live; `function_index` holds a function.
pub unsafe fn new_raw(
    l: *mut State,
    st: &mut FfiState,
    function_index: c_int,
    cpu_ptr_ty: TypeId,
) -> LuaResult<&'static CallbackSlot> {
    let slot = pool()?.fresh_slot().map_err(|e| LuaError::msg(e.message))?;
    // SAFETY: `l` is live (caller).
    let function = unsafe {
        sys::lua_pushvalue(l, function_index);
        sys::luaL_ref(l, sys::LUA_REGISTRYINDEX)
    };
    let record = Box::into_raw(Box::new(Record {
        l,
        function,
        cpu_ptr_ty,
        cdata_meta: st.cdata_meta,
    }));
    slot.claim(current_thread(), 1, record as usize, 0);
    Ok(slot)
}

/// # Safety
/// `l` is live; `function_index` holds a function.
pub unsafe fn set_function(
    l: *mut State,
    _st: &mut FfiState,
    slot: &'static CallbackSlot,
    function_index: c_int,
) -> LuaResult<()> {
    let record = slot.data.load(Ordering::Relaxed) as *mut Record;
    if record.is_null() {
        return Err(LuaError::msg("bad callback"));
    }
    // SAFETY: a live record of this shim; `l` is live.
    unsafe {
        sys::luaL_unref(l, sys::LUA_REGISTRYINDEX, (*record).function);
        sys::lua_pushvalue(l, function_index);
        (*record).function = sys::luaL_ref(l, sys::LUA_REGISTRYINDEX);
    }
    Ok(())
}

/// # Safety
/// `l` is live.
pub unsafe fn free(
    l: *mut State,
    _st: &mut FfiState,
    slot: &'static CallbackSlot,
) -> LuaResult<()> {
    let record = slot.data.swap(0, Ordering::Relaxed) as *mut Record;
    if record.is_null() {
        return Err(LuaError::msg("bad callback"));
    }
    // SAFETY: the record was boxed by `new_raw` and is no longer reachable from the slot.
    unsafe {
        sys::luaL_unref(l, sys::LUA_REGISTRYINDEX, (*record).function);
        drop(Box::from_raw(record));
    }
    Ok(())
}

unsafe extern "C" fn handler(slot: &'static CallbackSlot, cpu: *mut CpuState) {
    let _ = std::panic::catch_unwind(|| {
        let record = slot.data.load(Ordering::Relaxed) as *const Record;
        if record.is_null() {
            eprintln!("cbframe shim: call of a freed callback");
            return;
        }
        // SAFETY: a live record; its state is the one that made it, running the C call.
        unsafe {
            let l = (*record).l;
            sys::lua_rawgeti(
                l,
                sys::LUA_REGISTRYINDEX,
                sys::lua_Integer::from((*record).function),
            );
            match new_cdata_with(l, (*record).cdata_meta, (*record).cpu_ptr_ty, 8, 8) {
                Ok(payload) => payload.cast::<*mut CpuState>().write(cpu),
                Err(_) => return,
            }
            if sys::lua_pcall(l, 1, 0, 0) != 0 {
                let message = sys::lua_tolstring(l, -1, std::ptr::null_mut());
                if !message.is_null() {
                    eprintln!(
                        "cbframe shim: error in callback: {}",
                        std::ffi::CStr::from_ptr(message).to_string_lossy()
                    );
                }
                sys::lua_settop(l, -2);
            }
        }
    });
}
