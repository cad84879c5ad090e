//! cdata and ctype objects: full userdata with an 8-byte header, then the C value.
//!
//! ```text
//!   userdata block (Lua aligns it to 8)
//!   +0  ty: TypeId (u32)      the C type of the value, or the type a ctype object names
//!   +4  kind: u8              CDataKind
//!   +5  data_offset: u8       where the value starts, from +0 (8, or more when the
//!                             type needs alignment above 8)
//!   +6  flags: u16
//!   +8  value bytes ...
//! ```
//! A ctype object (what `ffi.typeof` returns) is a header with no value. All of them share
//! one metatable, whose `__metatable` field hides it, so a userdata carrying that
//! metatable is known to be one of ours.

use crate::lua::{self, LuaResult, State};
use crate::state::FfiState;
use jitffi_ctype::TypeId;
use mlua_sys as sys;
use std::os::raw::c_int;

/// Bytes before the value of a cdata whose alignment Lua's userdata alignment meets.
pub const HEADER_BYTES: usize = 8;

#[repr(u8)]
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum CDataKind {
    /// A C value of type `ty`.
    Value = 0,
    /// A ctype object naming `ty`.
    CType = 1,
}

#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct CDataHeader {
    pub ty: TypeId,
    pub kind: CDataKind,
    pub data_offset: u8,
    pub flags: u16,
}

const _: () = assert!(std::mem::size_of::<CDataHeader>() == HEADER_BYTES);

/// The header of the cdata or ctype object at `index`, if the value is one of ours.
///
/// # Safety
/// `l` is live with two free slots; `st` is its ffi state.
pub unsafe fn to_cdata(l: *mut State, st: &FfiState, index: c_int) -> Option<*mut CDataHeader> {
    // SAFETY: `l` is live; we only read the metatable and compare it raw.
    unsafe {
        let ptr = sys::lua_touserdata(l, index);
        if ptr.is_null() || sys::lua_getmetatable(l, index) == 0 {
            return None;
        }
        sys::lua_rawgeti(
            l,
            sys::LUA_REGISTRYINDEX,
            sys::lua_Integer::from(st.cdata_meta),
        );
        let ours = sys::lua_rawequal(l, -1, -2) != 0;
        sys::lua_settop(l, -3);
        ours.then_some(ptr.cast::<CDataHeader>())
    }
}

/// Pushes the ctype object for `ty`, creating it on first use.
///
/// # Safety
/// `l` is live with three free slots; `st` is its ffi state.
pub unsafe fn push_ctype(l: *mut State, st: &FfiState, ty: TypeId) -> LuaResult<()> {
    // SAFETY: `l` is live; the new userdata is HEADER_BYTES long and written whole before
    // anything reads it.
    unsafe {
        sys::lua_rawgeti(
            l,
            sys::LUA_REGISTRYINDEX,
            sys::lua_Integer::from(st.ctype_objects),
        );
        let key = sys::lua_Integer::from(ty.0) + 1;
        if sys::lua_rawgeti(l, -1, key) != sys::LUA_TNIL {
            sys::lua_remove(l, -2);
            return Ok(());
        }
        sys::lua_settop(l, -2);
        let header = lua::new_userdata(l, HEADER_BYTES).cast::<CDataHeader>();
        header.write(CDataHeader {
            ty,
            kind: CDataKind::CType,
            data_offset: HEADER_BYTES as u8,
            flags: 0,
        });
        sys::lua_rawgeti(
            l,
            sys::LUA_REGISTRYINDEX,
            sys::lua_Integer::from(st.cdata_meta),
        );
        sys::lua_setmetatable(l, -2);
        sys::lua_pushvalue(l, -1);
        sys::lua_rawseti(l, -3, key);
        sys::lua_remove(l, -2);
    }
    Ok(())
}
