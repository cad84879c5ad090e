//! Reading a C type from a Lua argument (a type string, a ctype object or a cdata), and
//! the text of a ctype object: what every function taking a type shares.

use crate::cdata::state::FfiState;
use crate::cdata::{push_ctype, to_cdata};
use crate::lua::{self, stack, LuaError, LuaResult, State};
use jitffi_ctype::{Param, TypeId};
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
    st: &FfiState,
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
            return Ok(st.types_mut()?.parse_type(text, &params)?);
        }
        if let Some(header) = to_cdata(l, st, index) {
            return Ok((*header).ty);
        }
        // A C function from a namespace has its function type, as LuaJIT's function cdata.
        if let Some((ty, _)) = (st.hooks.function_value)(l, st, index) {
            return Ok(ty);
        }
        Err(LuaError::arg(
            index,
            format!("C type expected, got {}", lua::type_name(l, index)),
        ))
    }
}

pub fn invalid_text(index: c_int) -> LuaError {
    LuaError::arg(index, "C type string is not valid UTF-8")
}

/// Parses a type string, answering repeated strings from a cache when parsing them made
/// no new type (an anonymous `struct {...}` must be a new type each time, as in LuaJIT).
///
/// # Safety
/// `l` is live with three free slots; `index` holds the string `text`.
unsafe fn parse_type_cached(
    l: *mut State,
    st: &FfiState,
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
        let cached = crate::cdata::cdata_at(l, -1);
        if !cached.is_null() {
            let ty = (*cached).ty;
            sys::lua_settop(l, -3);
            remember_type_string(l, st, index, ty);
            return Ok(ty);
        }
        sys::lua_settop(l, -2);
        let text = std::str::from_utf8(text).map_err(|_| invalid_text(index))?;
        let types_before = st.types().len();
        let ty = st.types_mut()?.parse_type(text, &[]);
        let ty = match ty {
            Ok(ty) => ty,
            Err(err) => {
                sys::lua_settop(l, -2);
                return Err(err.into());
            }
        };
        if st.types().len() == types_before {
            // Under protection: callers may own memory (a list of types being read), and
            // the store allocates.
            let mut store = CacheStore {
                st,
                ty,
                text: text.as_bytes(),
            };
            lua::call_protected(l, store_in_cache, std::ptr::addr_of_mut!(store).cast())?;
            sys::lua_settop(l, -2);
            remember_type_string(l, st, index, ty);
        }
        sys::lua_settop(l, -2);
        Ok(ty)
    }
}

/// Records in [`FfiState::type_strings`] that the type string at `index` (a key of the
/// type-string cache table now) names `ty`, if it is a short string argument of the
/// running function.
///
/// # Safety
/// `l` is live, running a C function of this module; `index` is absolute.
unsafe fn remember_type_string(l: *mut State, st: &FfiState, index: c_int, ty: TypeId) {
    // SAFETY: the key is read only once the frame says it is an argument.
    unsafe {
        let Some(frame) = stack::Frame::of(l) else {
            return;
        };
        if let (true, stack::KeyClass::ShortString(text)) =
            (frame.has_args(index), frame.key_class(index))
        {
            st.type_strings.borrow_mut().set(text as usize, ty);
        }
    }
}

/// A parsed type string and its type, for [`store_in_cache`].
struct CacheStore<'a> {
    st: &'a FfiState,
    ty: TypeId,
    text: &'a [u8],
}

/// Under `lua::call_protected` (argument 1: a [`CacheStore`]): stores the type's ctype
/// object in the type-string cache; returns the cache.
unsafe extern "C-unwind" fn store_in_cache(l: *mut State) -> c_int {
    // SAFETY: argument 1 points to the `CacheStore` of `parse_type_cached`, alive during
    // this call; this frame owns nothing, so an allocation that raises skips nothing.
    unsafe {
        let store = &*sys::lua_touserdata(l, 1).cast::<CacheStore>();
        lua::entry(l, || {
            sys::lua_rawgeti(
                l,
                sys::LUA_REGISTRYINDEX,
                sys::lua_Integer::from(store.st.typeof_cache),
            );
            sys::lua_pushlstring(l, store.text.as_ptr().cast(), store.text.len());
            push_ctype(l, store.st, store.ty)?;
            sys::lua_rawset(l, -3);
            Ok(1)
        })
    }
}

/// The `$` parameters of a type string: ctypes and cdata give their type, numbers an
/// integer, strings a name.
///
/// # Safety
/// `l` is live with two free slots.
pub unsafe fn read_params(
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
pub unsafe fn number_to_i64(l: *mut State, index: c_int) -> i64 {
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

/// Pushes the text of a ctype object: `ctype<int *>`.
///
/// # Safety
/// `l` is live with three free slots.
pub unsafe fn push_ctype_name(l: *mut State, st: &FfiState, ty: TypeId) -> LuaResult<()> {
    let text = format!("ctype<{}>", st.types().type_name(ty));
    // SAFETY: `l` is live (caller); the text is copied into Lua under protection.
    let pushed = unsafe { lua::push_str_protected(l, &text) };
    drop(text);
    pushed
}
