//! The ffi functions on raw memory: `ffi.string`, `ffi.copy`, `ffi.fill`, and
//! `ffi.errno` (`lib_ffi.c`).
//!
//! Arguments convert as in LuaJIT: pointers by the assignment rules to `const char *`,
//! `const void *` or `void *` (so any pointer or array cdata, a Lua string where the
//! target is const, `nil` as NULL, a foreign userdata as its payload), lengths and
//! bytes to `int32_t` (numbers truncated, integer cdata, booleans; not strings).
//!
//! Where LuaJIT would crash, these raise an error instead: a NULL pointer with a
//! non-zero length, and a negative length for `ffi.copy`/`ffi.fill` (LuaJIT turns it
//! into a length of 2 GB or more). `ffi.string` without a length stops at the end of
//! an array cdata given directly when no NUL comes first (LuaJIT reads on).

use crate::cdata::convert::{store_lua_value, Conv};
use crate::cdata::state::FfiState;
use crate::cdata::{self, to_cdata, CDataKind};
use crate::lua::{self, LuaError, LuaResult, State};
use crate::platform::errno::set_errno;
use jitffi_ctype::{CType, TypeId};
use mlua_sys as sys;
use std::os::raw::{c_char, c_int};

/// Converts argument `index` to the pointer type `ty` (`ffi_checkptr`).
///
/// # Safety
/// `l` is live with three free slots; `ty` is a pointer type of `st`.
unsafe fn check_pointer(
    l: *mut State,
    st: &FfiState,
    index: c_int,
    ty: TypeId,
) -> LuaResult<*mut u8> {
    let mut address: *mut u8 = std::ptr::null_mut();
    // SAFETY: `l` is live (caller); `address` is pointer-sized storage for `ty`.
    unsafe {
        if sys::lua_type(l, index) == sys::LUA_TNONE {
            return Err(LuaError::arg(index, "value expected"));
        }
        let conv = Conv {
            cast: false,
            arg: index,
        };
        let slot = std::ptr::addr_of_mut!(address).cast::<u8>();
        store_lua_value(l, st, ty, slot, index, conv)?;
    }
    Ok(address)
}

/// Converts argument `index` to `int32_t` (`ffi_checkint`).
///
/// # Safety
/// `l` is live with three free slots.
unsafe fn check_int(l: *mut State, st: &FfiState, index: c_int) -> LuaResult<i32> {
    let mut value = 0i32;
    // SAFETY: `l` is live (caller); `value` is storage for an `int32_t`.
    unsafe {
        if sys::lua_type(l, index) == sys::LUA_TNONE {
            return Err(LuaError::arg(index, "value expected"));
        }
        let conv = Conv {
            cast: false,
            arg: index,
        };
        let ty = st.types().builtins().i32;
        let slot = std::ptr::addr_of_mut!(value).cast::<u8>();
        store_lua_value(l, st, ty, slot, index, conv)?;
    }
    Ok(value)
}

/// A length argument of `ffi.copy`/`ffi.fill`: LuaJIT reads it as `int32_t` and uses
/// it unsigned, so a negative one would copy gigabytes.
///
/// # Safety
/// As [`check_int`].
unsafe fn check_len(l: *mut State, st: &FfiState, index: c_int) -> LuaResult<usize> {
    // SAFETY: forwarded from the caller.
    let len = unsafe { check_int(l, st, index)? };
    usize::try_from(len).map_err(|_| LuaError::arg(index, "length out of range"))
}

/// The error for a NULL pointer that a memory function would access.
fn null_argument(index: c_int) -> LuaError {
    LuaError::arg(index, "NULL pointer")
}

/// Whether argument `index` is absent or `nil`.
///
/// # Safety
/// `l` is live.
unsafe fn is_none_or_nil(l: *mut State, index: c_int) -> bool {
    // SAFETY: `l` is live (caller).
    unsafe { sys::lua_type(l, index) <= sys::LUA_TNIL }
}

/// `ffi.string(ptr [, len])`: a Lua string of `len` bytes at `ptr`, or of the
/// NUL-terminated string at `ptr`.
///
/// # Safety
/// Called by Lua as a C function of this module (state as upvalue 1).
pub unsafe extern "C-unwind" fn string(l: *mut State) -> c_int {
    // SAFETY: called by Lua as a C function of this module; the bytes read are the
    // ones the caller's pointer and length name, as in C.
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            if sys::lua_type(l, 1) == sys::LUA_TNONE {
                return Err(LuaError::arg(1, "value expected"));
            }
            if !is_none_or_nil(l, 2) {
                let len = check_int(l, st, 2)?;
                let ptr = check_pointer(l, st, 1, st.const_void_ptr)?;
                let Ok(len) = usize::try_from(len) else {
                    return Err(LuaError::plain("string length overflow"));
                };
                if len > 0 && ptr.is_null() {
                    return Err(null_argument(1));
                }
                sys::lua_pushlstring(l, ptr as *const c_char, len);
                return Ok(1);
            }
            let ty = st.types().builtins().const_char_ptr;
            let ptr = check_pointer(l, st, 1, ty)?;
            if ptr.is_null() {
                return Err(null_argument(1));
            }
            let len = match array_extent(l, st, 1) {
                Some(extent) => {
                    let bytes = std::slice::from_raw_parts(ptr, extent);
                    bytes.iter().position(|&b| b == 0).unwrap_or(extent)
                }
                None => std::ffi::CStr::from_ptr(ptr as *const c_char)
                    .to_bytes()
                    .len(),
            };
            sys::lua_pushlstring(l, ptr as *const c_char, len);
            Ok(1)
        })
    }
}

/// The size in bytes of the array the cdata at `index` holds (or refers to), if it is
/// one whose size is known.
///
/// # Safety
/// `l` is live with one free slot.
unsafe fn array_extent(l: *mut State, st: &FfiState, index: c_int) -> Option<usize> {
    // SAFETY: `l` is live (caller); the header is that of a live cdata.
    unsafe {
        let header = to_cdata(l, st, index)?;
        if (*header).kind() != CDataKind::Value {
            return None;
        }
        let ty = (*header).ty;
        let (base, _) = st.types().unqualified(ty);
        match &st.ctype(base) {
            CType::Array { .. } => {
                let align = st.types().align_of(ty);
                Some(cdata::value_size(l, index, align))
            }
            CType::Ref(target) => {
                let (target, _) = st.types().unqualified(*target);
                match &st.ctype(target) {
                    // A `[]`/`[0]` member (size 0) is read up to its NUL, as in LuaJIT.
                    CType::Array { .. } if !st.types().is_vla(target) => st
                        .types()
                        .size_of(target)
                        .filter(|&size| size > 0)
                        .map(|size| size as usize),
                    _ => None,
                }
            }
            _ => None,
        }
    }
}

/// `ffi.copy(dst, src, len)` copies `len` bytes; `ffi.copy(dst, str)` copies a Lua
/// string with its terminating NUL.
///
/// # Safety
/// Called by Lua as a C function of this module (state as upvalue 1).
pub unsafe extern "C-unwind" fn copy(l: *mut State) -> c_int {
    // SAFETY: called by Lua as a C function of this module; the bytes written and read
    // are the ones the caller's pointers and length name, as in C.
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            let void_ptr = st.types().builtins().void_ptr;
            let dst = check_pointer(l, st, 1, void_ptr)?;
            let src = check_pointer(l, st, 2, st.const_void_ptr)?;
            let len = if sys::lua_type(l, 2) == sys::LUA_TSTRING && sys::lua_gettop(l) < 3 {
                sys::lua_rawlen(l, 2) + 1
            } else {
                check_len(l, st, 3)?
            };
            if len > 0 {
                if dst.is_null() {
                    return Err(null_argument(1));
                }
                if src.is_null() {
                    return Err(null_argument(2));
                }
                // memmove rather than memcpy: overlapping ranges are the caller's
                // undefined behaviour in LuaJIT, merely a slower copy here.
                std::ptr::copy(src, dst, len);
            }
            Ok(0)
        })
    }
}

/// `ffi.fill(dst, len [, byte])`: sets `len` bytes to `byte` (default 0).
///
/// # Safety
/// Called by Lua as a C function of this module (state as upvalue 1).
pub unsafe extern "C-unwind" fn fill(l: *mut State) -> c_int {
    // SAFETY: called by Lua as a C function of this module; the bytes written are the
    // ones the caller's pointer and length name, as in C.
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            let void_ptr = st.types().builtins().void_ptr;
            let dst = check_pointer(l, st, 1, void_ptr)?;
            let len = check_len(l, st, 2)?;
            let byte = if is_none_or_nil(l, 3) {
                0
            } else {
                check_int(l, st, 3)?
            };
            if len > 0 {
                if dst.is_null() {
                    return Err(null_argument(1));
                }
                std::ptr::write_bytes(dst, byte as u8, len);
            }
            Ok(0)
        })
    }
}

/// `ffi.errno([newerr])`: `errno` as the last C call through the ffi left it (the call
/// stubs save it right after the call, before Lua can change it); sets it (and the
/// thread's `errno`) to `newerr` if given and returns the value before.
///
/// # Safety
/// Called by Lua as a C function of this module (state as upvalue 1).
pub unsafe extern "C-unwind" fn errno(l: *mut State) -> c_int {
    // SAFETY: called by Lua as a C function of this module.
    unsafe {
        lua::entry(l, || {
            let cells = crate::cdata::state::StateBox::of_running_function(l);
            if cells.is_null() {
                // Only `debug.setupvalue` can take the state away (as in `FfiState::get`).
                return Err(LuaError::msg("ffi function without its ffi state"));
            }
            let old = (*cells).cells.errno;
            if sys::lua_gettop(l) >= 1 {
                let st = FfiState::get(l)?;
                let new = check_int(l, st, 1)?;
                set_errno(new);
                (*cells).cells.errno = new;
            }
            sys::lua_pushinteger(l, sys::lua_Integer::from(old));
            Ok(1)
        })
    }
}
