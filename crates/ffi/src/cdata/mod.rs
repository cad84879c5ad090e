//! The cdata layer: cdata and ctype objects, conversions between Lua values and C values,
//! arithmetic and metamethods on cdata, the per-state [`state::FfiState`], and the ffi
//! functions that are about cdata (`ffi.new`, `ffi.cast`, `ffi.gc`, `ffi.metatype`).
//!
//! May use: [`crate::lua`], [`crate::platform`], [`crate::scalar`], `jitffi-ctype`.
//! Not the calls layer: conversions reach C functions and callbacks through the
//! [`state::CallHooks`] that `luaopen_ffi` installs, and the state keeps the calls
//! layer's parts as [`state::UpperParts`] without naming them.
//!
//! This file owns the cdata objects themselves: full userdata with an 8-byte header,
//! then the C value.
//!
//! ```text
//!   userdata block (Lua aligns it to 8)
//!   +0  tag: u32              crate::lua::tagged::cdata_tag(), its low two bits the
//!                             shape: 1 a value at +8, 2 a ctype object (no value),
//!                             3 a value aligned above 8 at the offset in +8
//!   +4  ty: TypeId (u32)      the C type of the value, or the type a ctype object names
//!   +8  value bytes ...       (shape 3: u32 offset of the value, from +0; the value at
//!                             the first multiple of its alignment from +16)
//! ```
//! A ctype object (what `ffi.typeof` returns) is a header with no value. All of them share
//! one metatable, whose `__metatable` field hides it from `getmetatable`. But Lua code
//! can reach it with `debug.getmetatable` and put it on any userdata, so a userdata is
//! taken for a cdata only if its block is long enough and carries the tag
//! ([`to_cdata`], [`frame_cdata`], [`crate::lua::tagged`]): 30 random bits per process,
//! which foreign bytes match by chance once in a billion.

pub mod arith;
pub mod construct;
pub mod convert;
pub mod ctype_arg;
pub mod element_cache;
pub mod field_cache;
pub mod gc;
pub mod member_cache;
pub mod metamethods;
pub mod metatype;
pub mod new_plan;
pub mod state;
pub mod type_strings;
pub mod value_shape;

use crate::cdata::state::FfiState;
use crate::lua::tagged;
use crate::lua::{self, stack, LuaResult, State};
use jitffi_ctype::TypeId;
use mlua_sys as sys;
use std::ffi::c_void;
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

/// The shapes of a block, in the low two bits of its tag word (see the module docs).
const SHAPE_MASK: u32 = 3;
const SHAPE_VALUE: u32 = 1;
const SHAPE_CTYPE: u32 = 2;
const SHAPE_ALIGNED_VALUE: u32 = 3;

#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct CDataHeader {
    /// [`tagged::cdata_tag`] with the block's shape in its low two bits: what tells this
    /// block from foreign bytes, and where the value lies.
    tag: u32,
    pub ty: TypeId,
}

impl CDataHeader {
    /// The header of a new cdata (`kind` Value, its value at `data_offset`) or ctype
    /// object.
    fn new(ty: TypeId, kind: CDataKind, data_offset: usize) -> CDataHeader {
        let shape = match kind {
            CDataKind::CType => SHAPE_CTYPE,
            CDataKind::Value if data_offset == HEADER_BYTES => SHAPE_VALUE,
            CDataKind::Value => SHAPE_ALIGNED_VALUE,
        };
        CDataHeader {
            tag: tagged::cdata_tag() | shape,
            ty,
        }
    }

    /// A cdata or a ctype object.
    #[inline(always)]
    pub fn kind(&self) -> CDataKind {
        if self.tag & SHAPE_MASK == SHAPE_CTYPE {
            CDataKind::CType
        } else {
            CDataKind::Value
        }
    }

    /// A cdata whose value follows the header (what the fast paths of the metamethods
    /// take): one compare of the whole tag word.
    #[inline(always)]
    pub fn is_plain_value(&self) -> bool {
        self.tag == tagged::cdata_tag() | SHAPE_VALUE
    }
}

const _: () = assert!(std::mem::size_of::<CDataHeader>() == HEADER_BYTES);

/// Whether the block at `block` (at least HEADER_BYTES long) is a cdata or ctype object's.
///
/// # Safety
/// `block` points to at least HEADER_BYTES readable bytes.
#[inline(always)]
pub unsafe fn is_cdata_block(block: *const u8) -> bool {
    // SAFETY: forwarded; read unaligned, as the block may be anything.
    let tag = unsafe { block.cast::<u32>().read_unaligned() };
    tag & !SHAPE_MASK == tagged::cdata_tag() && tag & SHAPE_MASK != 0
}

/// The header of the cdata or ctype object at `index`, if the value is one of ours:
/// a userdata that carries the cdata tag ([`crate::lua::tagged`]) and whose metatable is
/// the cdata metatable or its twin with `__gc` (a cdata with a finalizer, see
/// [`crate::cdata::gc`]).
///
/// # Safety
/// `l` is live with one free slot; `st` is its ffi state.
pub unsafe fn to_cdata(l: *mut State, st: &FfiState, index: c_int) -> Option<*mut CDataHeader> {
    // `stack::userdata_and_metatable` checks the length as `cdata_at` does, and reads
    // slot `index` only when `0 < index <= top`.
    // SAFETY: `l` is live; the tag is read only inside a block of at least HEADER_BYTES
    // bytes, and only the metatable's address is compared.
    unsafe {
        let ours = |meta: *const c_void| {
            !meta.is_null() && (meta == st.cdata_meta_ptr || meta == st.gc_meta_ptr)
        };
        if index > 0 && index <= stack::arg_count(l) {
            if let Some((block, meta)) = stack::userdata_and_metatable(l, index, HEADER_BYTES) {
                let tagged = !block.is_null() && is_cdata_block(block.cast());
                return (tagged && ours(meta)).then_some(block.cast::<CDataHeader>());
            }
        }
        let header = cdata_at(l, index);
        if header.is_null() || sys::lua_getmetatable(l, index) == 0 {
            return None;
        }
        let meta = sys::lua_topointer(l, -1);
        sys::lua_settop(l, -2);
        ours(meta).then_some(header)
    }
}

/// The header of the userdata at `index` if it carries the cdata tag (its metatable
/// unchecked), through the Lua API; else null.
///
/// # Safety
/// `l` is live; `index` is valid or acceptable.
pub unsafe fn cdata_at(l: *mut State, index: c_int) -> *mut CDataHeader {
    // SAFETY: `l` is live (caller); the tag is read only inside a block of at least
    // HEADER_BYTES bytes (`lua_rawlen` of a full userdata is its block size).
    unsafe {
        if sys::lua_type(l, index) != sys::LUA_TUSERDATA || sys::lua_rawlen(l, index) < HEADER_BYTES
        {
            return std::ptr::null_mut();
        }
        let block = sys::lua_touserdata(l, index).cast::<u8>();
        if block.is_null() || !is_cdata_block(block) {
            return std::ptr::null_mut();
        }
        block.cast()
    }
}

/// The header of argument `index` of the running C function if it is one of ours, read
/// through `frame` for a fast path: a userdata long enough for a header that carries the
/// cdata tag. (Its metatable is not compared, as [`to_cdata`] does: a cdata whose
/// metatable Lua code replaced is still a cdata, and the tag alone tells ours from
/// foreign bytes.)
///
/// # Safety
/// `frame` is the running C function's frame, with at least `index` arguments.
#[inline(always)]
pub unsafe fn frame_cdata(frame: stack::Frame, index: c_int) -> Option<*mut CDataHeader> {
    // SAFETY: the block is at least HEADER_BYTES long (or null); the tag lies inside it.
    unsafe {
        let header = frame.userdata(index, HEADER_BYTES).cast::<CDataHeader>();
        (!header.is_null() && is_cdata_block(header.cast())).then_some(header)
    }
}

/// Largest C object the ffi makes or names, in bytes: the type table's bound, LuaJIT's
/// 2^31 - 1 (`CTMAX_SIZE`). Above it `ffi.new` (fixed sizes and VLA/VLS counts alike)
/// and `ffi.typeof` raise "size of C type is unknown or too large".
pub const MAX_OBJECT_SIZE: u64 = jitffi_ctype::MAX_TYPE_SIZE;

/// Alignment Lua gives every userdata block on the 64-bit targets (`LUAI_MAXALIGN`).
const LUA_ALIGN: usize = 8;

/// Largest alignment a cdata value gets: LuaJIT's largest (`aligned(32768)`; it takes
/// larger attributes modulo 2^16). `ffi.new` refuses a type aligned more than this.
pub const MAX_CDATA_ALIGN: usize = 32768;

/// Bytes of a cdata block besides its value, for a value aligned to `align` (a power of
/// two, at least LUA_ALIGN): the header, plus for an alignment above LUA_ALIGN the word
/// holding the value's offset and room to move the value up to the next multiple of
/// `align` (the block itself is only LUA_ALIGN-aligned).
fn block_overhead(align: usize) -> usize {
    if align <= LUA_ALIGN {
        HEADER_BYTES
    } else {
        ALIGNED_VALUE_FROM + align - LUA_ALIGN
    }
}

/// Where the search for an aligned place of a value aligned above LUA_ALIGN starts,
/// from the block: after the header and the word holding the value's offset.
const ALIGNED_VALUE_FROM: usize = HEADER_BYTES + 8;

/// Allocates a zero-filled cdata of type `ty` with `size` value bytes aligned to
/// `align`, pushes it and returns the address of its value.
///
/// Layout: the header, then the value: at HEADER_BYTES when `align <= 8`, else at the
/// first multiple of `align` from ALIGNED_VALUE_FROM, its offset in the word after the
/// header. The block is `block_overhead(align) + size` bytes, so `rawlen -
/// block_overhead(align)` recovers `size` (see [`value_size`]).
///
/// # Safety
/// `l` is live with two free slots; `st` is its ffi state.
#[inline]
pub unsafe fn new_cdata(
    l: *mut State,
    st: &FfiState,
    ty: TypeId,
    size: usize,
    align: u32,
) -> LuaResult<*mut u8> {
    // SAFETY: forwarded from the caller.
    unsafe {
        let (block, value) = new_block(l, ty, size, align)?;
        set_cdata_metatable(l, st, block);
        Ok(value)
    }
}

/// [`new_cdata`] given the registry reference of the cdata metatable (for callers that
/// hold another borrow of the state).
///
/// # Safety
/// `l` is live with two free slots; `cdata_meta` is `FfiState::cdata_meta` of its state.
pub unsafe fn new_cdata_with(
    l: *mut State,
    cdata_meta: c_int,
    ty: TypeId,
    size: usize,
    align: u32,
) -> LuaResult<*mut u8> {
    // SAFETY: forwarded from the caller; `cdata_meta` is the cdata metatable's reference.
    unsafe {
        let (_, value) = new_block(l, ty, size, align)?;
        sys::lua_rawgeti(
            l,
            sys::LUA_REGISTRYINDEX,
            sys::lua_Integer::from(cdata_meta),
        );
        sys::lua_setmetatable(l, -2);
        Ok(value)
    }
}

/// The userdata of a [`new_cdata`], pushed without its metatable: its block (the
/// userdata's payload) and the value's address.
///
/// # Safety
/// `l` is live with two free slots.
unsafe fn new_block(
    l: *mut State,
    ty: TypeId,
    size: usize,
    align: u32,
) -> LuaResult<(*mut u8, *mut u8)> {
    let align = (align as usize).max(LUA_ALIGN);
    if align > MAX_CDATA_ALIGN || !align.is_power_of_two() {
        return Err(crate::lua::LuaError::msg(
            "size of C type is unknown or too large",
        ));
    }
    let Some(total) = size.checked_add(block_overhead(align)) else {
        return Err(crate::lua::LuaError::plain("not enough memory"));
    };
    // SAFETY: `l` is live; the block is `total` bytes, Lua aligns it to LUA_ALIGN, and
    // the value (`size` bytes at `data_offset <= block_overhead(align)`) lies inside it.
    unsafe {
        let block = lua::new_userdata(l, total).cast::<u8>();
        let data_offset = if align == LUA_ALIGN {
            HEADER_BYTES
        } else {
            let address = block as usize + ALIGNED_VALUE_FROM;
            let data_offset = ALIGNED_VALUE_FROM + (address.wrapping_neg() & (align - 1));
            // At most `MAX_CDATA_ALIGN + 8`.
            block
                .add(HEADER_BYTES)
                .cast::<u32>()
                .write(data_offset as u32);
            data_offset
        };
        block
            .cast::<CDataHeader>()
            .write(CDataHeader::new(ty, CDataKind::Value, data_offset));
        let value = block.add(data_offset);
        std::ptr::write_bytes(value, 0, size);
        Ok((block, value))
    }
}

/// Gives the userdata just made for a cdata (on top of the stack, `block` its payload)
/// the cdata metatable of `st`: a store into its header where that is verified
/// ([`stack::set_new_metatable`]), else `lua_setmetatable`.
///
/// # Safety
/// `l` is live with one free slot; `block` is the payload of the userdata on top, made
/// by `lua::new_userdata` with no metatable yet; `st` is the state of `l`.
#[inline(always)]
unsafe fn set_cdata_metatable(l: *mut State, st: &FfiState, block: *mut u8) {
    debug_assert!(
        !st.cdata_meta_ptr.is_null(),
        "bug: a cdata made before gc::install recorded the cdata metatable's address"
    );
    // SAFETY: the cdata metatable has no `__gc` (finalized cdata get its twin through
    // the API, see `gc`) and stays in the registry for the state's life.
    unsafe {
        if !stack::set_new_metatable(block.cast(), st.cdata_meta_ptr) {
            sys::lua_rawgeti(
                l,
                sys::LUA_REGISTRYINDEX,
                sys::lua_Integer::from(st.cdata_meta),
            );
            sys::lua_setmetatable(l, -2);
        }
    }
}

/// [`new_small_cdata`] for a caller that has the state: the cdata metatable is stored
/// directly where that is verified (see [`set_cdata_metatable`]), which saves the two
/// API calls of `lua_setmetatable` on every cdata a fast path makes.
///
/// # Safety
/// As [`new_small_cdata`], with `st` the state of `l`.
#[inline(always)]
pub unsafe fn new_small_cdata_in(l: *mut State, st: &FfiState, ty: TypeId, size: usize) -> *mut u8 {
    // SAFETY: forwarded.
    unsafe {
        let value = new_small_block(l, ty, size);
        set_cdata_metatable(l, st, value.sub(HEADER_BYTES));
        value
    }
}

/// [`new_cdata_with`] for a value aligned to at most 8 bytes (right after the header) of a
/// size that cannot overflow: the `ffi.new` fast path, inlined into it.
///
/// # Safety
/// `l` is live with two free slots; `cdata_meta` is `FfiState::cdata_meta` of its state;
/// `size` is at most [`jitffi_ctype::MAX_TYPE_SIZE`].
#[inline(always)]
pub unsafe fn new_small_cdata(
    l: *mut State,
    cdata_meta: c_int,
    ty: TypeId,
    size: usize,
) -> *mut u8 {
    // SAFETY: forwarded; the metatable is the state's cdata metatable.
    unsafe {
        let value = new_small_block(l, ty, size);
        sys::lua_rawgeti(
            l,
            sys::LUA_REGISTRYINDEX,
            sys::lua_Integer::from(cdata_meta),
        );
        sys::lua_setmetatable(l, -2);
        value
    }
}

/// [`new_small_cdata`] with the cdata metatable already on the stack at `meta_index`
/// (an absolute index): for a batch of cdata, which then read the registry once.
///
/// # Safety
/// As [`new_small_cdata`]; the value at `meta_index` is `FfiState::cdata_meta`'s table.
#[inline(always)]
pub unsafe fn new_small_cdata_meta_at(
    l: *mut State,
    meta_index: c_int,
    ty: TypeId,
    size: usize,
) -> *mut u8 {
    // SAFETY: forwarded.
    unsafe {
        let value = new_small_block(l, ty, size);
        sys::lua_pushvalue(l, meta_index);
        sys::lua_setmetatable(l, -2);
        value
    }
}

/// The userdata of a [`new_small_cdata`], pushed without its metatable; the value's
/// address.
///
/// # Safety
/// As [`new_small_cdata`].
#[inline(always)]
unsafe fn new_small_block(l: *mut State, ty: TypeId, size: usize) -> *mut u8 {
    // SAFETY: `l` is live; the block is `HEADER_BYTES + size` bytes, Lua aligns it to 8,
    // and the value is the `size` bytes after the header.
    unsafe {
        let block = lua::new_userdata(l, HEADER_BYTES + size).cast::<u8>();
        block
            .cast::<CDataHeader>()
            .write(CDataHeader::new(ty, CDataKind::Value, HEADER_BYTES));
        let value = block.add(HEADER_BYTES);
        if size.is_multiple_of(8) && size <= 32 {
            // Small structs: a few word stores instead of a call to memset.
            for word in 0..4 {
                if word < size / 8 {
                    value.cast::<u64>().add(word).write(0);
                }
            }
        } else {
            std::ptr::write_bytes(value, 0, size);
        }
        value
    }
}

/// The address of a cdata's value.
///
/// # Safety
/// `header` is the block of a live cdata or ctype object.
#[inline]
pub unsafe fn payload(header: *const CDataHeader) -> *mut u8 {
    // SAFETY: the value's offset stays inside the block (see `new_cdata`).
    unsafe {
        let block = header.cast::<u8>() as *mut u8;
        if (*header).tag & SHAPE_MASK == SHAPE_ALIGNED_VALUE {
            block.add(block.add(HEADER_BYTES).cast::<u32>().read() as usize)
        } else {
            block.add(HEADER_BYTES)
        }
    }
}

/// [`payload`] of a cdata whose header says [`CDataHeader::is_plain_value`]: the value
/// right after the header, with no look at its shape.
///
/// # Safety
/// `header` is the block of a live cdata with a plain value.
#[inline(always)]
pub unsafe fn plain_payload(header: *const CDataHeader) -> *mut u8 {
    // SAFETY: such a block holds its value right after the header (see `new_cdata`).
    unsafe { header.cast::<u8>().add(HEADER_BYTES) as *mut u8 }
}

/// The size of the value of the cdata at `index`, from its block length (the real size
/// of a variable-length cdata).
///
/// # Safety
/// `l` is live and `index` holds a cdata whose value alignment is `align`.
pub unsafe fn value_size(l: *mut State, index: c_int, align: u32) -> usize {
    let align = (align as usize).max(LUA_ALIGN);
    // SAFETY: `l` is live (caller).
    unsafe { sys::lua_rawlen(l, index).saturating_sub(block_overhead(align)) }
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
        header.write(CDataHeader::new(ty, CDataKind::CType, HEADER_BYTES));
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
