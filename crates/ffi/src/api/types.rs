//! The ffi functions about types: `cdef`, `typeof`, `sizeof`, `alignof`, `offsetof`,
//! `istype`, `abi`, and the ctype object's `__tostring`.

use crate::cdata::ctype_arg::{check_ctype, invalid_text, number_to_i64, read_params};
use crate::cdata::state::FfiState;
use crate::cdata::{push_ctype, to_cdata};
use crate::lua::{self, LuaError, State};
use jitffi_ctype::{CType, TypeId, TypeTable};
use mlua_sys as sys;
use std::os::raw::c_int;

/// `ffi.cdef(text [, params...])`.
///
/// # Safety
/// Called by Lua as a C function of this module (state as upvalue 1).
pub unsafe extern "C-unwind" fn cdef(l: *mut State) -> c_int {
    // SAFETY: called by Lua as a C function of this module.
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            let Some(text) = lua::to_bytes(l, 1) else {
                return Err(LuaError::arg(
                    1,
                    format!("string expected, got {}", lua::type_name(l, 1)),
                ));
            };
            let text = std::str::from_utf8(text).map_err(|_| invalid_text(1))?;
            let params = read_params(l, st, text.as_bytes(), 2)?;
            st.types_mut()?.cdef(text, &params)?;
            Ok(0)
        })
    }
}

/// `ffi.typeof(ct [, params...])`.
///
/// # Safety
/// Called by Lua as a C function of this module (state as upvalue 1).
pub unsafe extern "C-unwind" fn typeof_(l: *mut State) -> c_int {
    // SAFETY: called by Lua as a C function of this module.
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            let ty = check_ctype(l, st, 1, Some(2))?;
            if st
                .types()
                .size_of(ty)
                .is_some_and(|size| size > crate::cdata::MAX_OBJECT_SIZE)
            {
                return Err(LuaError::msg("size of C type is unknown or too large"));
            }
            push_ctype(l, st, ty)?;
            Ok(1)
        })
    }
}

/// `ffi.sizeof(ct [, nelem])`: nil when the size is unknown.
///
/// # Safety
/// Called by Lua as a C function of this module (state as upvalue 1).
pub unsafe extern "C-unwind" fn sizeof(l: *mut State) -> c_int {
    // SAFETY: called by Lua as a C function of this module.
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            let ty = check_ctype(l, st, 1, None)?;
            let vla_cdata = match to_cdata(l, st, 1) {
                Some(header) if (*header).kind() == crate::cdata::CDataKind::Value => {
                    st.types().is_vla(ty)
                }
                _ => false,
            };
            let size = if vla_cdata {
                // A variable-length cdata knows its size: its block length says it.
                let align = st.types().align_of(ty);
                Some(crate::cdata::value_size(l, 1, align) as u64)
            } else if st.types().is_vla(ty) {
                if sys::lua_isnoneornil(l, 2) != 0 {
                    return Err(LuaError::arg(2, "value expected"));
                }
                if sys::lua_type(l, 2) != sys::LUA_TNUMBER {
                    let got = lua::type_name(l, 2);
                    return Err(LuaError::arg(2, format!("cannot convert '{got}' to 'int'")));
                }
                let count = number_to_i64(l, 2);
                u64::try_from(count)
                    .ok()
                    .and_then(|n| st.types().size_of_vla(ty, n))
            } else {
                st.types().size_of(ty)
            };
            match size {
                Some(size) => sys::lua_pushinteger(l, size as sys::lua_Integer),
                None => sys::lua_pushnil(l),
            }
            Ok(1)
        })
    }
}

/// `ffi.alignof(ct)`.
///
/// # Safety
/// Called by Lua as a C function of this module (state as upvalue 1).
pub unsafe extern "C-unwind" fn alignof(l: *mut State) -> c_int {
    // SAFETY: called by Lua as a C function of this module.
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            let ty = check_ctype(l, st, 1, None)?;
            sys::lua_pushinteger(l, sys::lua_Integer::from(st.types().align_of(ty)));
            Ok(1)
        })
    }
}

/// `ffi.offsetof(ct, field)`: the offset, plus bit position and width for a bitfield;
/// nothing when there is no such field.
///
/// # Safety
/// Called by Lua as a C function of this module (state as upvalue 1).
pub unsafe extern "C-unwind" fn offsetof(l: *mut State) -> c_int {
    // SAFETY: called by Lua as a C function of this module.
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            let ty = check_ctype(l, st, 1, None)?;
            let Some(name) = lua::to_bytes(l, 2) else {
                return Err(LuaError::arg(
                    2,
                    format!("string expected, got {}", lua::type_name(l, 2)),
                ));
            };
            let Ok(name) = std::str::from_utf8(name) else {
                return Ok(0);
            };
            // Through a reference too (`ffi.offsetof("struct s &", "x")`), as LuaJIT.
            let (base, _) = st.types().unqualified(ty);
            let ty = match st.ctype(base) {
                CType::Ref(target) => target,
                _ => ty,
            };
            let member = st
                .types()
                .find_member(ty, name)
                .map(|(offset, field)| (offset, field.bits));
            let Some((offset, bits)) = member else {
                return Ok(0);
            };
            sys::lua_pushinteger(l, offset as sys::lua_Integer);
            match bits {
                Some(bits) => {
                    sys::lua_pushinteger(l, sys::lua_Integer::from(bits.pos));
                    sys::lua_pushinteger(l, sys::lua_Integer::from(bits.width));
                    Ok(3)
                }
                None => Ok(1),
            }
        })
    }
}

/// `ffi.istype(ct, obj)`: whether `obj` is a cdata (or ctype) of type `ct`, by LuaJIT's
/// rules: qualifiers ignored, a struct type accepts a pointer to it, pointers compared
/// by their targets.
///
/// # Safety
/// Called by Lua as a C function of this module (state as upvalue 1).
pub unsafe extern "C-unwind" fn istype(l: *mut State) -> c_int {
    // SAFETY: called by Lua as a C function of this module.
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            let want = check_ctype(l, st, 1, None)?;
            let result = match to_cdata(l, st, 2) {
                Some(header) => type_matches(st, want, (*header).ty),
                None => false,
            };
            sys::lua_pushboolean(l, c_int::from(result));
            Ok(1)
        })
    }
}

/// LuaJIT's `ffi.istype` comparison of a wanted type and an object's type (`ffi_istype`):
/// both without qualifiers and references; equal, or numbers of the same kind, size and
/// signedness, or pointers (arrays) of the same size whose targets match with
/// qualifiers ignored at the first level, or a struct and a pointer to it.
fn type_matches(st: &FfiState, want: TypeId, have: TypeId) -> bool {
    let types = &st.types();
    let want = raw_behind_ref(types, want);
    let have = raw_behind_ref(types, have);
    if want == have {
        return true;
    }
    match (types.get(want), types.get(have)) {
        (CType::Int(a), CType::Int(b)) => a == b,
        (CType::Float(a), CType::Float(b)) => a == b,
        (CType::Pointer(a), CType::Pointer(b))
        | (CType::Array { elem: a, .. }, CType::Array { elem: b, .. }) => {
            types.size_of(want) == types.size_of(have) && compatible_targets(types, *a, *b, false)
        }
        (CType::Record(_), CType::Pointer(target)) => types.unqualified(*target).0 == want,
        _ => false,
    }
}

/// A type without qualifiers, and without a reference and its target's qualifiers.
fn raw_behind_ref(types: &TypeTable, ty: TypeId) -> TypeId {
    let (base, _) = types.unqualified(ty);
    match types.get(base) {
        CType::Ref(target) => types.unqualified(*target).0,
        _ => base,
    }
}

/// Whether two pointer targets match for `ffi.istype` (`lj_cconv_compatptr` with
/// `CCF_IGNQUAL`, then `CCF_SAME` one level down): same kind and size; integers of
/// either signedness; records identical; pointers compared recursively with equal
/// qualifiers.
fn compatible_targets(types: &TypeTable, d: TypeId, s: TypeId, same_quals: bool) -> bool {
    let (d, dq) = types.unqualified(d);
    let (s, sq) = types.unqualified(s);
    if same_quals && dq != sq {
        return false;
    }
    if d == s {
        return true;
    }
    if types.size_of(d) != types.size_of(s) {
        return false;
    }
    match (types.get(d), types.get(s)) {
        (CType::Int(_), CType::Int(_))
        | (CType::Bool, CType::Bool)
        | (CType::BoolInt, CType::BoolInt)
        | (CType::Enum(_), CType::Enum(_))
        | (CType::Func(_), CType::Func(_)) => true,
        (CType::Float(a), CType::Float(b)) | (CType::Complex(a), CType::Complex(b)) => a == b,
        (CType::Pointer(a), CType::Pointer(b))
        | (CType::Array { elem: a, .. }, CType::Array { elem: b, .. })
        | (CType::Vector { elem: a, .. }, CType::Vector { elem: b, .. }) => {
            compatible_targets(types, *a, *b, true)
        }
        _ => false,
    }
}

/// `ffi.abi(param)`: what LuaJIT answers on this platform.
///
/// # Safety
/// Called by Lua as a C function of this module (state as upvalue 1).
pub unsafe extern "C-unwind" fn abi(l: *mut State) -> c_int {
    // SAFETY: called by Lua as a C function of this module.
    unsafe {
        lua::entry(l, || {
            let Some(param) = lua::to_bytes(l, 1) else {
                return Err(LuaError::arg(
                    1,
                    format!("string expected, got {}", lua::type_name(l, 1)),
                ));
            };
            // Both targets are 64-bit little-endian with hardware floating point; LuaJIT
            // answers false for every parameter it does not know.
            let answer = matches!(param, b"64bit" | b"le" | b"fpu" | b"hardfp" | b"gc64");
            sys::lua_pushboolean(l, c_int::from(answer));
            Ok(1)
        })
    }
}
