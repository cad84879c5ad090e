//! The ffi functions about types: `cdef`, `typeof`, `sizeof`, `alignof`, `offsetof`,
//! `istype`, `abi`, and the ctype object's `__tostring`.

use crate::cdata::state::FfiState;
use crate::cdata::{push_ctype, to_cdata};
use crate::lua::{self, LuaError, LuaResult, State};
use jitffi_ctype::{CType, Param, TypeId, TypeTable};
use mlua_sys as sys;
use std::os::raw::c_int;

/// Reads the C type an argument names: a type string, a ctype object or a cdata.
/// `params_from` is the first argument taken by `$` in a type string, if the function
/// accepts them (only `ffi.typeof`).
///
/// # Safety
/// `l` is live with four free slots; `st` is its ffi state.
pub unsafe fn check_ctype(
    l: *mut State,
    st: &mut FfiState,
    index: c_int,
    params_from: Option<c_int>,
) -> LuaResult<TypeId> {
    // SAFETY: `l` is live (caller); values read stay on the stack while used.
    unsafe {
        if let Some(text) = lua::to_string_only(l, index) {
            let params = match params_from {
                Some(first) => read_params(l, st, text, first)?,
                None => Vec::new(),
            };
            if params.is_empty() {
                return parse_type_cached(l, st, index, text);
            }
            let text = std::str::from_utf8(text).map_err(|_| invalid_text(index))?;
            return Ok(st.types.parse_type(text, &params)?);
        }
        if let Some(header) = to_cdata(l, st, index) {
            return Ok((*header).ty);
        }
        // A C function from a namespace has its function type, as LuaJIT's function cdata.
        if let Some((ty, _)) = crate::calls::call::function_value(l, st, index) {
            return Ok(ty);
        }
        Err(LuaError::arg(
            index,
            format!("C type expected, got {}", lua::type_name(l, index)),
        ))
    }
}

fn invalid_text(index: c_int) -> LuaError {
    LuaError::arg(index, "C type string is not valid UTF-8")
}

/// Parses a type string, answering repeated strings from a cache when parsing them made
/// no new type (an anonymous `struct {...}` must be a new type each time, as in LuaJIT).
///
/// # Safety
/// `l` is live with three free slots; `index` holds the string `text`.
unsafe fn parse_type_cached(
    l: *mut State,
    st: &mut FfiState,
    index: c_int,
    text: &[u8],
) -> LuaResult<TypeId> {
    // SAFETY: `l` is live (caller); a cached value is read only once its tag says it
    // is a ctype object.
    unsafe {
        let index = sys::lua_absindex(l, index);
        sys::lua_rawgeti(
            l,
            sys::LUA_REGISTRYINDEX,
            sys::lua_Integer::from(st.typeof_cache),
        );
        sys::lua_pushvalue(l, index);
        sys::lua_rawget(l, -2);
        // The table sits in the registry, where `debug.getregistry` reaches it: only
        // a block with the cdata tag is taken for a ctype object.
        let cached = crate::lua::tagged::check(
            l,
            -1,
            crate::lua::tagged::Kind::CData,
            crate::cdata::HEADER_BYTES,
            0,
        )
        .cast::<crate::cdata::CDataHeader>();
        if !cached.is_null() {
            let ty = (*cached).ty;
            sys::lua_settop(l, -3);
            return Ok(ty);
        }
        sys::lua_settop(l, -2);
        let text = std::str::from_utf8(text).map_err(|_| invalid_text(index))?;
        let types_before = st.types.len();
        let ty = st.types.parse_type(text, &[]);
        let ty = match ty {
            Ok(ty) => ty,
            Err(err) => {
                sys::lua_settop(l, -2);
                return Err(err.into());
            }
        };
        if st.types.len() == types_before {
            sys::lua_pushvalue(l, index);
            push_ctype(l, st, ty)?;
            sys::lua_rawset(l, -3);
        }
        sys::lua_settop(l, -2);
        Ok(ty)
    }
}

/// The `$` parameters of a type string: ctypes and cdata give their type, numbers an
/// integer, strings a name.
///
/// # Safety
/// `l` is live with two free slots.
unsafe fn read_params(
    l: *mut State,
    st: &FfiState,
    text: &[u8],
    first: c_int,
) -> LuaResult<Vec<Param>> {
    // SAFETY: `l` is live (caller); indexes are within the argument count.
    unsafe {
        let top = sys::lua_gettop(l);
        // LuaJIT checks the count before the kinds: `typeof("int", {})` is a count error.
        let wanted = text.iter().filter(|&&b| b == b'$').count();
        if top >= first && wanted != usize::try_from(top - first + 1).unwrap_or(0) {
            return Err(LuaError::msg("wrong number of type parameters"));
        }
        let mut params = Vec::new();
        for index in first..=top {
            let param = match sys::lua_type(l, index) {
                sys::LUA_TNUMBER => Param::Int(number_to_i64(l, index)),
                sys::LUA_TSTRING => {
                    let bytes = lua::to_bytes(l, index).unwrap_or_default();
                    Param::Name(String::from_utf8_lossy(bytes).into_owned())
                }
                _ => match to_cdata(l, st, index) {
                    Some(header) => Param::Type((*header).ty),
                    None => {
                        return Err(LuaError::arg(
                            index,
                            format!("type parameter expected, got {}", lua::type_name(l, index)),
                        ))
                    }
                },
            };
            params.push(param);
        }
        Ok(params)
    }
}

/// A Lua number as an integer: integers exactly, floats truncated toward zero.
///
/// # Safety
/// `l` is live and `index` holds a number.
unsafe fn number_to_i64(l: *mut State, index: c_int) -> i64 {
    // SAFETY: `l` is live (caller).
    unsafe {
        let mut is_int = 0;
        let i = sys::lua_tointegerx(l, index, &mut is_int);
        if is_int != 0 {
            i
        } else {
            sys::lua_tonumber(l, index) as i64
        }
    }
}

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
            st.types.cdef(text, &params)?;
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
                .types
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
                Some(header) if (*header).kind == crate::cdata::CDataKind::Value => {
                    st.types.is_vla(ty)
                }
                _ => false,
            };
            let size = if vla_cdata {
                // A variable-length cdata knows its size: its block length says it.
                let align = st.types.align_of(ty);
                Some(crate::cdata::value_size(l, 1, align) as u64)
            } else if st.types.is_vla(ty) {
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
                    .and_then(|n| st.types.size_of_vla(ty, n))
            } else {
                st.types.size_of(ty)
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
            sys::lua_pushinteger(l, sys::lua_Integer::from(st.types.align_of(ty)));
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
            let (base, _) = st.types.unqualified(ty);
            let ty = match st.types.get(base) {
                CType::Ref(target) => *target,
                _ => ty,
            };
            let Some((offset, field)) = st.types.find_member(ty, name) else {
                return Ok(0);
            };
            sys::lua_pushinteger(l, offset as sys::lua_Integer);
            match field.bits {
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
    let types = &st.types;
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

/// Pushes the text of a ctype object: `ctype<int *>`.
///
/// # Safety
/// `l` is live with one free slot.
pub unsafe fn push_ctype_name(l: *mut State, st: &FfiState, ty: TypeId) {
    let text = format!("ctype<{}>", st.types.type_name(ty));
    // SAFETY: `l` is live (caller); the text is copied into Lua.
    unsafe { lua::push_str(l, &text) }
}
