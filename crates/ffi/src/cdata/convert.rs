//! Conversions between Lua values and C values in memory, by the rules of LuaJIT's
//! `doc/ext_ffi_semantics.html` ("Conversions from C types to Lua objects", "... from Lua
//! objects to C types", "Initializers", "Table initializers"), with the installed
//! `luajit` (x86-64) as the oracle for the corner cases.
//!
//! C to Lua ([`push_c_value`]): integers up to 32 bits and floating point become Lua
//! numbers (integers on 5.3+), `bool` a boolean, a NULL pointer `nil`, 64-bit integers
//! (on 5.3+ only those beyond `lua_Integer`), enums, complex numbers, vectors and
//! pointers a new cdata holding the value, and aggregates (struct, union,
//! array) a *reference* cdata of type `T &` whose payload is the address, so that
//! `s.inner.a = 1` writes through.
//!
//! Lua to C ([`store_lua_value`], [`init_value`]): numbers to every scalar with x86-64's
//! conversion rules as LuaJIT has them (see [`store_number`]), booleans, `nil` to NULL,
//! strings to `const char *` (pointing into the Lua string) or copied into char arrays,
//! enum constant names, cdata by LuaJIT's compatibility rules (`lj_cconv_ct_ct`,
//! `lj_cconv_compatptr`), foreign userdata to their payload address, tables to
//! aggregates by LuaJIT's table-initializer rules.
//!
//! Stack use: every function here leaves the stack as it found it (or with its one
//! pushed result) and needs at most three free slots per level of aggregate nesting,
//! which it checks with `lua_checkstack` (no error raised inside).
//!
//! None of this allocates on the success path except the cdata userdata it pushes.

use crate::cdata::state::FfiState;
use crate::cdata::value_shape::{value_shape, DirectRead, ValueShape};
use crate::cdata::{self, to_cdata, CDataHeader, CDataKind};
use crate::lua::{self, LuaError, LuaResult, State};
use crate::scalar::bitfield::{read_bitfield, write_bitfield};
use crate::scalar::number::{
    f64_to_i64, num_to_int_bits, read_int, read_num, store_num, store_scalar, write_int, Num,
    Scalar, ScalarStore,
};
use jitffi_ctype::{CType, FloatKind, IntType, Quals, RecordKind, TypeId, TypeTable};
use mlua_sys as sys;
use std::os::raw::c_int;

/// How a conversion reports failure and how permissive it is.
#[derive(Copy, Clone, Debug)]
pub struct Conv {
    /// `ffi.cast` rules: any scalar to any scalar, pointers and integers freely.
    pub cast: bool,
    /// Report errors as `bad argument #arg` (for call arguments); 0 for a plain message.
    pub arg: c_int,
}

impl Conv {
    /// Assignment and initialization: plain messages, no casts.
    pub const ASSIGN: Conv = Conv {
        cast: false,
        arg: 0,
    };
    /// `ffi.cast`.
    pub const CAST: Conv = Conv { cast: true, arg: 0 };

    fn error(self, message: String) -> LuaError {
        if self.arg == 0 {
            LuaError::msg(message)
        } else {
            LuaError::arg(self.arg, message)
        }
    }
}

// ---- C to Lua ---------------------------------------------------------------------------

/// Pushes the C value of type `ty` at `ptr` as a Lua value (see the module docs).
///
/// # Safety
/// `l` is live with three free slots; `st` is its ffi state; `ptr` points to a readable,
/// suitably aligned value of `ty` (for aggregates: the address a reference keeps).
pub unsafe fn push_c_value(
    l: *mut State,
    st: &FfiState,
    ty: TypeId,
    ptr: *const u8,
) -> LuaResult<()> {
    let (base, shape) = {
        let types = st.types();
        let (base, _) = types.unqualified(ty);
        (base, value_shape(&types, base))
    };
    // SAFETY: `ptr` holds a value of `ty` (caller); each arm reads the type's own width.
    unsafe {
        let direct = match shape {
            ValueShape::Scalar(scalar) => DirectRead::Scalar(scalar),
            ValueShape::Aggregate => DirectRead::Reference(st.reference_to(ty)?),
            ValueShape::Pointer => DirectRead::Pointer(base),
            ValueShape::Other => return push_other_value(l, st, ty, base, ptr),
        };
        if push_direct(l, st, direct, ptr) {
            return Ok(());
        }
        // A 64-bit integer beyond what Lua holds as an integer: boxed.
        push_other_value(l, st, ty, base, ptr)
    }
}

/// [`push_c_value`] for the values [`push_direct`] does not read: references read
/// through, `long double` and `void` refused, and 64-bit integers, enums, complex
/// numbers and vectors boxed in a new cdata.
///
/// # Safety
/// As [`push_c_value`]; `base` is `ty` unqualified.
unsafe fn push_other_value(
    l: *mut State,
    st: &FfiState,
    ty: TypeId,
    base: TypeId,
    ptr: *const u8,
) -> LuaResult<()> {
    enum Other {
        Ref(TypeId),
        LongDouble,
        Void,
        Boxed(usize, u32),
    }
    let other = {
        let types = st.types();
        match types.get(base) {
            CType::Ref(target) => Other::Ref(*target),
            // LuaJIT converts every C number read to a Lua number through a double, and
            // has no conversion from `long double`.
            CType::Float(FloatKind::LongDouble) => Other::LongDouble,
            CType::Void => Other::Void,
            _ => Other::Boxed(
                types.size_of(base).unwrap_or(0) as usize,
                types.align_of(base),
            ),
        }
    };
    // SAFETY: as in `push_c_value`.
    unsafe {
        match other {
            Other::Ref(target) => {
                // A member of reference type: read through it.
                let address = ptr.cast::<*const u8>().read();
                if address.is_null() {
                    return Err(null_access(&st.types(), ty));
                }
                push_c_value(l, st, target, address)
            }
            Other::LongDouble => Err(long_double_error(&st.types(), ty)),
            Other::Void => Err(LuaError::msg(format!(
                "cannot convert '{}' to a Lua value",
                st.types().type_name(ty)
            ))),
            // 64-bit integers, enums, complex, vectors: a boxed copy, as LuaJIT does.
            Other::Boxed(size, align) => {
                let payload = cdata::new_cdata(l, st, base, size, align)?;
                std::ptr::copy_nonoverlapping(ptr, payload, size);
                Ok(())
            }
        }
    }
}

/// Pushes the value at `ptr` as `read` says, as [`push_c_value`] would: `false`, with
/// nothing pushed, for a 64-bit integer that needs a box (see [`push_scalar`]). A
/// reference or a non-NULL pointer is a new cdata: this allocates (and may raise out of
/// memory), which callers outside `lua::entry` may do only while owning nothing.
///
/// # Safety
/// `l` is live with two free slots; `st` is its state; `ptr` points to a readable,
/// aligned value of the type `read` was made for.
#[inline(always)]
pub(crate) unsafe fn push_direct(
    l: *mut State,
    st: &FfiState,
    read: DirectRead,
    ptr: *const u8,
) -> bool {
    // SAFETY: forwarded from the caller; a reference or pointer cdata holds 8 bytes.
    unsafe {
        match read {
            DirectRead::Scalar(scalar) => return push_scalar(l, scalar, ptr),
            DirectRead::Reference(ref_ty) => push_address(l, st, ref_ty, ptr),
            DirectRead::Pointer(ptr_ty) => {
                let address = ptr.cast::<*const u8>().read();
                if address.is_null() {
                    // A NULL pointer reaches Lua as nil (crate::api::idioms).
                    sys::lua_pushnil(l);
                } else {
                    push_address(l, st, ptr_ty, address);
                }
            }
        }
    }
    true
}

/// Pushes a new cdata of the pointer or reference type `ty` holding `address`. Out of
/// line, so that the fast paths that inline [`push_direct`] keep no values across their
/// calls (and need no frame of their own) for the scalars.
///
/// # Safety
/// As [`push_direct`].
#[inline(never)]
unsafe fn push_address(l: *mut State, st: &FfiState, ty: TypeId, address: *const u8) {
    // SAFETY: forwarded; a pointer or reference cdata holds 8 bytes.
    unsafe {
        let payload = cdata::new_small_cdata_in(l, st, ty, 8);
        payload.cast::<*const u8>().write(address);
    }
}

/// Pushes the scalar of kind `scalar` at `ptr` as the Lua boolean or number it reads as
/// (see the module docs), without allocating: `false`, with nothing pushed, for a 64-bit
/// integer that reads as a cdata box instead (always on 5.1/5.2, a `uint64_t` from 2^63
/// up on 5.3+). [`push_c_value`] decides with it, and so does the fast path of
/// `cdata[i]` (`crate::cdata::metamethods`), which must give the same values.
///
/// # Safety
/// `l` is live with one free slot; `ptr` points to a readable, aligned value of the
/// scalar.
#[inline(always)]
pub(crate) unsafe fn push_scalar(l: *mut State, scalar: Scalar, ptr: *const u8) -> bool {
    // SAFETY: forwarded from the caller; each arm reads the scalar's own width.
    unsafe {
        let int = match scalar {
            Scalar::Bool => {
                sys::lua_pushboolean(l, c_int::from(ptr.read() != 0));
                return true;
            }
            Scalar::BoolInt => {
                sys::lua_pushboolean(l, c_int::from(ptr.cast::<u32>().read() != 0));
                return true;
            }
            Scalar::F32 => {
                sys::lua_pushnumber(l, f64::from(ptr.cast::<f32>().read()));
                return true;
            }
            Scalar::F64 => {
                sys::lua_pushnumber(l, ptr.cast::<f64>().read());
                return true;
            }
            Scalar::I8 => i64::from(ptr.cast::<i8>().read()),
            Scalar::U8 => i64::from(ptr.read()),
            Scalar::I16 => i64::from(ptr.cast::<i16>().read()),
            Scalar::U16 => i64::from(ptr.cast::<u16>().read()),
            Scalar::I32 => i64::from(ptr.cast::<i32>().read()),
            Scalar::U32 => i64::from(ptr.cast::<u32>().read()),
            // 64-bit integers become Lua integers on 5.3+ when they fit (crate::api::idioms).
            Scalar::I64 if lua::version::INTEGERS => ptr.cast::<i64>().read(),
            Scalar::U64 if lua::version::INTEGERS && ptr.cast::<i64>().read() >= 0 => {
                ptr.cast::<i64>().read()
            }
            Scalar::I64 | Scalar::U64 => return false,
        };
        sys::lua_pushinteger(l, int as sys::lua_Integer);
    }
    true
}

/// LuaJIT's error for reading a `long double` (of type `ty`, named with its
/// qualifiers) as a Lua number: it converts only through a double.
pub fn long_double_error(types: &TypeTable, ty: TypeId) -> LuaError {
    LuaError::msg(format!(
        "cannot convert '{}' to 'double'",
        types.type_name(ty)
    ))
}

/// The Lua number at `index` as a [`Num`]: an exact integer on 5.3+ for 64-bit
/// destinations (where a double would lose bits), a double otherwise, as in LuaJIT.
///
/// # Safety
/// `l` is live and `index` holds a number.
#[inline]
pub(crate) unsafe fn lua_num(l: *mut State, index: c_int, wide: bool) -> Num {
    // SAFETY: `l` is live (caller).
    unsafe {
        if wide {
            if let Some(int) = lua::version::integer(l, index) {
                return Num::Int(int);
            }
        }
        Num::Float(sys::lua_tonumber(l, index))
    }
}

/// A Lua number as Lua holds it: an integer (5.3+) or a float.
#[derive(Copy, Clone, Debug)]
pub(crate) enum LuaNumber {
    Int(i64),
    Float(f64),
}

/// The number at `index`, `None` if it is not a number (strings do not convert).
/// Reading an integer with `lua_tointegerx` is cheaper than with `lua_tonumberx`,
/// which converts it through a slow path.
///
/// # Safety
/// `l` is live.
#[inline(always)]
pub(crate) unsafe fn read_lua_number(l: *mut State, index: c_int) -> Option<LuaNumber> {
    // SAFETY: `l` is live (caller).
    unsafe {
        if let Some(int) = lua::version::integer(l, index) {
            return Some(LuaNumber::Int(int));
        }
        if sys::lua_type(l, index) != sys::LUA_TNUMBER {
            return None;
        }
        Some(LuaNumber::Float(sys::lua_tonumber(l, index)))
    }
}

/// Stores a Lua number into a scalar of kind `scalar`, as
/// `store_scalar(ptr, scalar.store(), lua_num(..))` would, with the common cases (an
/// integer the C type holds exactly, a double, a float in `int32_t`'s range into a
/// narrow integer) written directly.
///
/// # Safety
/// `ptr` points to writable storage of the scalar, aligned for it.
#[inline(always)]
pub(crate) unsafe fn store_number(ptr: *mut u8, scalar: Scalar, number: LuaNumber) {
    let narrow = narrow_bits(number);
    // SAFETY: forwarded from the caller; each arm writes the scalar's own width.
    unsafe {
        match (number, scalar, narrow) {
            (LuaNumber::Int(i), Scalar::F64, _) => ptr.cast::<f64>().write(i as f64),
            (LuaNumber::Float(x), Scalar::F64, _) => ptr.cast::<f64>().write(x),
            // Exact for 64-bit integers (5.3+).
            (LuaNumber::Int(i), Scalar::I64 | Scalar::U64, _) => ptr.cast::<i64>().write(i),
            (_, Scalar::I32 | Scalar::U32, Some(bits)) => ptr.cast::<u32>().write(bits as u32),
            (_, Scalar::I16 | Scalar::U16, Some(bits)) => ptr.cast::<u16>().write(bits as u16),
            (_, Scalar::I8 | Scalar::U8, Some(bits)) => ptr.write(bits as u8),
            (LuaNumber::Int(i), ..) => store_scalar(ptr, scalar.store(), Num::Float(i as f64)),
            (LuaNumber::Float(x), ..) => store_scalar(ptr, scalar.store(), Num::Float(x)),
        }
    }
}

/// The bits `number` stores into an integer of at most 32 bits, if it is in `int32_t`'s
/// range: an integer's low bits (those of the double it converts to), and a float's
/// (every number on 5.1/5.2) truncated: every conversion of `num_to_int_bits` gives
/// the same bits.
#[inline(always)]
fn narrow_bits(number: LuaNumber) -> Option<i32> {
    match number {
        LuaNumber::Int(i) => i32::try_from(i).ok(),
        LuaNumber::Float(x) => (x > -2_147_483_649.0 && x < 2_147_483_648.0).then_some(x as i32),
    }
}

/// [`store_number`] for callers that keep a [`ScalarStore`] (`wide`: a 64-bit integer):
/// a narrow integer is stored from the `ScalarStore` itself (a callback's `int`
/// result, at every call), the rest through the flat kind.
///
/// # Safety
/// As [`store_number`].
#[inline(always)]
pub(crate) unsafe fn store_lua_number(
    ptr: *mut u8,
    store: ScalarStore,
    wide: bool,
    number: LuaNumber,
) {
    if let (ScalarStore::Int(int), false, Some(bits)) = (store, wide, narrow_bits(number)) {
        // SAFETY: forwarded; `write_int` writes the integer's own width.
        unsafe { write_int(ptr, int, bits as u64) };
        return;
    }
    let scalar = Scalar::of(store);
    debug_assert_eq!(
        wide,
        scalar.is_wide_int(),
        "bug: `wide` disagrees with {store:?}"
    );
    // SAFETY: forwarded.
    unsafe { store_number(ptr, scalar, number) }
}

// ---- Lua to C -----------------------------------------------------------------------------

/// Converts the Lua value at `index` to C type `ty` and stores it at `ptr`
/// (`lj_cconv_ct_tv`). Aggregates take tables (zero-filling what the table leaves out),
/// cdata of the same type, and strings for char arrays.
///
/// # Safety
/// `l` is live with three free slots; `ptr` points to writable, aligned storage of
/// `ty` (`size` bytes for an array whose size the type does not say: a `[?]` array).
pub unsafe fn store_lua_value(
    l: *mut State,
    st: &FfiState,
    ty: TypeId,
    ptr: *mut u8,
    index: c_int,
    conv: Conv,
) -> LuaResult<()> {
    // SAFETY: `l` is live; every write goes through the destination type's own width.
    unsafe { store_sized(l, st, ty, ptr, None, index, conv) }
}

/// As [`store_lua_value`], with the size of a variable-length destination.
///
/// # Safety
/// As [`store_lua_value`]; `size`, if given, is the destination's real size.
pub unsafe fn store_sized(
    l: *mut State,
    st: &FfiState,
    ty: TypeId,
    ptr: *mut u8,
    size: Option<u64>,
    index: c_int,
    conv: Conv,
) -> LuaResult<()> {
    let (base, _) = st.types().unqualified(ty);
    // SAFETY: `l` is live (caller); `ptr` is valid for `ty` (caller).
    unsafe {
        match sys::lua_type(l, index) {
            sys::LUA_TNUMBER => {
                let wide = matches!(st.types().get(base), CType::Int(IntType { bytes: 8, .. }));
                let num = lua_num(l, index, wide);
                if store_num(&st.types(), base, ptr, num) {
                    return Ok(());
                }
                if conv.cast {
                    // A reference casts as a pointer does: `ffi.cast("int &", 0)` is NULL.
                    if let CType::Pointer(_) | CType::Ref(_) = &st.ctype(base) {
                        let bits = num_to_int_bits(num, IntType::I64);
                        ptr.cast::<u64>().write(bits);
                        return Ok(());
                    }
                }
            }
            // LuaJIT converts a boolean to no complex number or vector.
            sys::LUA_TBOOLEAN if !is_complex_or_vector(&st.types(), base) => {
                let b = sys::lua_toboolean(l, index) != 0;
                if store_num(&st.types(), base, ptr, Num::Int(i64::from(b))) {
                    return Ok(());
                }
            }
            sys::LUA_TNIL => match &st.ctype(base) {
                CType::Pointer(_) | CType::Ref(_) => {
                    ptr.cast::<usize>().write(0);
                    return Ok(());
                }
                _ if conv.cast && store_num(&st.types(), base, ptr, Num::Int(0)) => return Ok(()),
                _ => {}
            },
            sys::LUA_TSTRING if store_string(l, st, base, ptr, size, index, conv)? => {
                return Ok(());
            }
            // A C function from a namespace (crate::calls::call) converts like LuaJIT's function
            // cdata: to a pointer to a function or to void, or by a cast to any pointer,
            // reference or integer.
            sys::LUA_TFUNCTION => {
                if let Some((_, address)) = (st.hooks.function_value)(l, st, index) {
                    let fits = match &st.ctype(base) {
                        CType::Pointer(target) => {
                            let (target, _) = st.types().unqualified(*target);
                            conv.cast
                                || matches!(st.types().get(target), CType::Func(_) | CType::Void)
                        }
                        CType::Int(_) | CType::Ref(_) => conv.cast,
                        _ => false,
                    };
                    if fits {
                        let bits = Num::UInt(address as u64);
                        if !store_num(&st.types(), base, ptr, bits) {
                            ptr.cast::<usize>().write(address as usize);
                        }
                        return Ok(());
                    }
                } else {
                    // Any other Lua function to a pointer to a function becomes a
                    // callback (crate::calls::callback), which may add types: the table
                    // is no longer borrowed then.
                    let target = function_pointer_target(&st.types(), base);
                    if let Some(target) = target {
                        let code = (st.hooks.new_callback)(l, st, target, index)?;
                        ptr.cast::<usize>().write(code as usize);
                        return Ok(());
                    }
                }
            }
            sys::LUA_TTABLE => match &st.ctype(base) {
                CType::Array { .. } | CType::Vector { .. } => {
                    return init_array_table(l, st, base, ptr, size, index)
                }
                CType::Record(_) => return init_record_table(l, st, base, ptr, size, index),
                CType::Complex(_) => {
                    let index = sys::lua_absindex(l, index);
                    let mut parts = [0.0f64; 2];
                    for (i, part) in parts.iter_mut().enumerate() {
                        sys::lua_rawgeti(l, index, i as sys::lua_Integer + 1);
                        *part = sys::lua_tonumber(l, -1);
                        sys::lua_settop(l, -2);
                    }
                    store_num(&st.types(), base, ptr, Num::Complex(parts[0], parts[1]));
                    return Ok(());
                }
                _ => {}
            },
            sys::LUA_TUSERDATA => {
                if let Some(header) = to_cdata(l, st, index) {
                    let header = *header;
                    if header.kind() == CDataKind::Value {
                        let src = cdata::payload(sys::lua_touserdata(l, index).cast());
                        return store_cdata(st, ty, ptr, header.ty, src, conv);
                    }
                    // A ctype object converts as the `int32_t` of its number (LuaJIT's
                    // ctype objects are cdata holding their type id).
                    let id = ctype_number(&st.types(), header.ty);
                    let src = std::ptr::addr_of!(id).cast::<u8>();
                    let int32 = st.types().builtins().i32;
                    return store_cdata(st, ty, ptr, int32, src, conv);
                } else if let Some(file) = io_file(l, index) {
                    // A Lua file converts to its `FILE *`, as in LuaJIT; any other
                    // foreign userdata is refused below (LuaJIT passes its address).
                    let file =
                        file.ok_or_else(|| conv.error("attempt to use a closed file".into()))?;
                    if store_address(&st.types(), base, ptr, file, conv) {
                        return Ok(());
                    }
                }
            }
            sys::LUA_TLIGHTUSERDATA
                if store_address(&st.types(), base, ptr, sys::lua_touserdata(l, index), conv) =>
            {
                return Ok(());
            }
            _ => {}
        }
        // LuaJIT names a boolean 'bool' and a light userdata or a file by the pointer
        // it converts to (other userdata are refused, named as such).
        let from = match sys::lua_type(l, index) {
            sys::LUA_TBOOLEAN => "bool",
            sys::LUA_TLIGHTUSERDATA => "void *",
            sys::LUA_TUSERDATA if io_file(l, index).is_some() => "void *",
            _ => lua::type_name(l, index),
        };
        Err(conv.error(format!(
            "cannot convert '{from}' to '{}'",
            st.types().type_name(ty)
        )))
    }
}

/// The function type `ty` (unqualified) points to, if it is a pointer to a function.
fn function_pointer_target(types: &TypeTable, ty: TypeId) -> Option<TypeId> {
    let CType::Pointer(target) = types.get(ty) else {
        return None;
    };
    let (target, _) = types.unqualified(*target);
    matches!(types.get(target), CType::Func(_)).then_some(target)
}

/// Stores `address` (a light userdata's, a file's `FILE *`) into a pointer, or under a
/// cast into an integer (`lj_cconv_ct_tv` converts both as a `void *`). False for other
/// destinations.
///
/// # Safety
/// `ptr` is writable storage of the type `base`.
unsafe fn store_address(
    types: &TypeTable,
    base: TypeId,
    ptr: *mut u8,
    address: *mut std::ffi::c_void,
    conv: Conv,
) -> bool {
    // SAFETY: `ptr` holds a `base` (caller); a pointer is 8 bytes.
    unsafe {
        match types.get(base) {
            CType::Pointer(_) => ptr.cast::<*mut std::ffi::c_void>().write(address),
            CType::Int(_) if conv.cast => {
                return store_num(types, base, ptr, Num::UInt(address as u64))
            }
            _ => return false,
        }
    }
    true
}

/// For a Lua file (a userdata with the registry's `"FILE*"` metatable, `LUA_FILEHANDLE`)
/// at `index`: its `FILE *`, or `None` if it is closed. `None` for anything else.
/// 5.1's file is a `FILE *` that closing sets to NULL; 5.2's and later a `luaL_Stream`
/// `{ FILE *f; lua_CFunction closef; }` whose `closef` closing sets to NULL.
///
/// # Safety
/// `l` is live with two free slots; `index` is valid.
pub unsafe fn io_file(l: *mut State, index: c_int) -> Option<Option<*mut std::ffi::c_void>> {
    const FIELDS: usize = if cfg!(feature = "lua51") { 1 } else { 2 };
    // SAFETY: `l` is live (caller); only raw accesses; the payload is read after its
    // metatable says it is a file of this Lua and its size says it holds the fields.
    unsafe {
        if sys::lua_type(l, index) != sys::LUA_TUSERDATA || sys::lua_getmetatable(l, index) == 0 {
            return None;
        }
        sys::lua_getfield(l, sys::LUA_REGISTRYINDEX, c"FILE*".as_ptr());
        let is_file = sys::lua_rawequal(l, -1, -2) != 0;
        sys::lua_settop(l, -3);
        if !is_file || (sys::lua_rawlen(l, index) as usize) < FIELDS * 8 {
            return None;
        }
        let fields = sys::lua_touserdata(l, index).cast::<*mut std::ffi::c_void>();
        let file = fields.read();
        let open = !file.is_null() && (FIELDS == 1 || !fields.add(1).read().is_null());
        Some(open.then_some(file))
    }
}

/// A Lua string into a C value: a char array gets a copy (with its NUL if it fits), an
/// enum the value of the constant it names, `const char *` (and `const void *`) a
/// pointer into the string (it lives as long as the Lua string), any pointer or integer
/// under `ffi.cast` the string's address. `Ok(false)` if none applies.
///
/// # Safety
/// As [`store_sized`]; `index` holds a string.
unsafe fn store_string(
    l: *mut State,
    st: &FfiState,
    base: TypeId,
    ptr: *mut u8,
    size: Option<u64>,
    index: c_int,
    conv: Conv,
) -> LuaResult<bool> {
    let types = &st.types();
    // SAFETY: `l` is live; the string stays on the stack while its bytes are read.
    unsafe {
        let bytes = lua::to_bytes(l, index).unwrap_or_default();
        match types.get(base) {
            CType::Array { elem, .. } => {
                if !matches!(
                    types.get(types.unqualified(*elem).0),
                    CType::Int(IntType { bytes: 1, .. })
                ) {
                    return Ok(false);
                }
                // A `[?]`, `[]` or `[0]` member has no room the type could say: the
                // string and its NUL are copied whole, as LuaJIT (and `strcpy`) does.
                let room = match (size, types.size_of(base)) {
                    (Some(size), _) => size,
                    (None, Some(size)) if size > 0 => size,
                    (None, _) => bytes.len() as u64 + 1,
                } as usize;
                let n = bytes.len().min(room);
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), ptr, n);
                if n < room {
                    ptr.add(n).write(0);
                }
                Ok(true)
            }
            CType::Enum(eid) => {
                let def = types.enum_def(*eid);
                let found = def
                    .constants
                    .iter()
                    .find(|(name, _)| name.as_bytes() == bytes);
                match (found, def.int_type) {
                    (Some((_, value)), Some(int)) => {
                        write_int(ptr, int, *value as u64);
                        Ok(true)
                    }
                    _ => Ok(false),
                }
            }
            CType::Pointer(target) => {
                let (target, quals) = types.unqualified(*target);
                let fits = conv.cast
                    || (quals.is_const
                        && matches!(
                            types.get(target),
                            CType::Void | CType::Int(IntType { bytes: 1, .. })
                        ));
                if fits {
                    ptr.cast::<*const u8>().write(bytes.as_ptr());
                }
                Ok(fits)
            }
            CType::Ref(_) if conv.cast => {
                ptr.cast::<*const u8>().write(bytes.as_ptr());
                Ok(true)
            }
            CType::Int(int) if conv.cast => {
                write_int(ptr, *int, bytes.as_ptr() as u64);
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

/// A C value of type `src_ty` at `src` into C type `ty` at `ptr` (`lj_cconv_ct_ct`).
///
/// # Safety
/// `src` holds a value of `src_ty` (the payload of a cdata: for a reference type, the
/// address); `ptr` is writable storage of `ty`.
unsafe fn store_cdata(
    st: &FfiState,
    ty: TypeId,
    ptr: *mut u8,
    src_ty: TypeId,
    src: *const u8,
    conv: Conv,
) -> LuaResult<()> {
    let types = &st.types();
    let (mut src_base, _) = types.unqualified(src_ty);
    let mut src = src;
    let mut src_ty_eff = src_ty;
    // SAFETY: `src` holds a value of `src_ty` (caller), a reference holds an address.
    unsafe {
        if let CType::Ref(target) = types.get(src_base) {
            src = src.cast::<*const u8>().read();
            src_ty_eff = *target;
            src_base = types.unqualified(*target).0;
        }
        let (base, _) = types.unqualified(ty);
        if src.is_null() {
            // A NULL reference (`ffi.new("int &")`, a reference member holding NULL):
            // only an array or function, or a record converted to a pointer, is used by
            // its address (NULL); any other conversion would read through it.
            let by_address = match types.get(src_base) {
                CType::Array { .. } | CType::Func(_) => true,
                CType::Record(_) => matches!(types.get(base), CType::Pointer(_)),
                _ => false,
            };
            if !by_address {
                if matches!(types.get(base), CType::Ref(_)) {
                    // A value behind NULL binds no reference (as below, without the read).
                    return Err(conv.error(format!(
                        "cannot convert '{}' to '{}'",
                        types.type_name(src_ty_eff),
                        types.type_name(ty)
                    )));
                }
                return Err(null_access(types, src_ty));
            }
        }
        match types.get(base) {
            // A reference (a member `int &r`) binds as a pointer converts (LuaJIT's
            // references are pointers).
            CType::Pointer(_) | CType::Ref(_) => {
                // Arrays, records and functions decay to their address.
                let address = match types.get(src_base) {
                    CType::Pointer(_) => Some(src.cast::<usize>().read()),
                    CType::Array { .. } | CType::Record(_) | CType::Func(_) => Some(src as usize),
                    CType::Int(int) if conv.cast => Some(read_int(src, *int) as usize),
                    // As LuaJIT, no cast makes a pointer of a boolean.
                    CType::Enum(_) if conv.cast => read_num(types, src_base, src)
                        .map(|n| num_to_int_bits(n, IntType::U64) as usize),
                    _ => None,
                };
                if let Some(address) = address {
                    if conv.cast || pointer_compatible(types, base, src_ty_eff) {
                        ptr.cast::<usize>().write(address);
                        return Ok(());
                    }
                }
            }
            CType::Array { .. } | CType::Record(_) => {
                // A variable-length source's extent is unknown here: never copy one. A
                // fixed one copies its own size, whatever room the destination has.
                if base == src_base && !types.is_vla(base) {
                    let n = types.size_of(base).unwrap_or(0) as usize;
                    std::ptr::copy(src, ptr, n);
                    return Ok(());
                }
            }
            // Vectors of one size copy their bits whatever their elements (`CCX(V, V)`);
            // a scalar other than a boolean fills every element (see `store_num`).
            CType::Vector { bytes, .. } => match types.get(src_base) {
                CType::Vector {
                    bytes: src_bytes, ..
                } if src_bytes == bytes => {
                    std::ptr::copy(src, ptr, *bytes as usize);
                    return Ok(());
                }
                CType::Bool | CType::BoolInt | CType::Vector { .. } => {}
                _ => {
                    if let Some(num) = read_num(types, src_base, src) {
                        if store_num(types, base, ptr, num) {
                            return Ok(());
                        }
                    }
                }
            },
            // No conversion goes through `long double`, but one copies to another
            // (`lj_cconv_ct_ct` copies floating-point values of the same size).
            CType::Float(FloatKind::LongDouble) | CType::Complex(FloatKind::LongDouble)
                if types.get(base) == types.get(src_base) =>
            {
                let n = types.size_of(base).unwrap_or(0) as usize;
                std::ptr::copy(src, ptr, n);
                return Ok(());
            }
            _ => {
                let from_bool = matches!(types.get(src_base), CType::Bool | CType::BoolInt);
                if let Some(num) = read_num(types, src_base, src)
                    .filter(|_| !(from_bool && is_complex_or_vector(types, base)))
                {
                    if store_num(types, base, ptr, num) {
                        return Ok(());
                    }
                } else if conv.cast {
                    // `ffi.cast("intptr_t", ptr)`: the address as an integer.
                    let address = match types.get(src_base) {
                        CType::Pointer(_) => Some(src.cast::<u64>().read()),
                        CType::Array { .. } | CType::Func(_) => Some(src as u64),
                        _ => None,
                    };
                    if let (Some(address), CType::Int(int)) = (address, types.get(base)) {
                        write_int(ptr, *int, address);
                        return Ok(());
                    }
                }
            }
        }
    }
    Err(conv.error(format!(
        "cannot convert '{}' to '{}'",
        types.type_name(src_ty_eff),
        types.type_name(ty)
    )))
}

/// The element type of a pointer or array, with its qualifiers; a record stands for
/// itself (it converts to a pointer to it).
fn pointee(types: &TypeTable, ty: TypeId) -> (TypeId, Quals) {
    let (base, _) = types.unqualified(ty);
    match types.get(base) {
        CType::Pointer(t) | CType::Ref(t) | CType::Array { elem: t, .. } => types.unqualified(*t),
        _ => (base, Quals::NONE),
    }
}

/// Whether a store of a whole value of type `ty` writes a const location: `ty` is const,
/// or an array, vector or record with a const element or member (also an anonymous
/// one), as LuaJIT's records and arrays take on their parts' qualifiers.
pub(crate) fn holds_const(types: &TypeTable, ty: TypeId) -> bool {
    let (base, quals) = types.unqualified(ty);
    match types.get(base) {
        _ if quals.is_const => true,
        CType::Array { elem, .. } | CType::Vector { elem, .. } => holds_const(types, *elem),
        CType::Record(rid) => types
            .record(*rid)
            .body
            .as_ref()
            .is_some_and(|body| body.fields.iter().any(|field| holds_const(types, field.ty))),
        _ => false,
    }
}

/// Whether `base` is a complex number or a vector, which no boolean converts to.
fn is_complex_or_vector(types: &TypeTable, base: TypeId) -> bool {
    matches!(types.get(base), CType::Complex(_) | CType::Vector { .. })
}

/// LuaJIT's `lj_cconv_compatptr` for an implicit pointer conversion from `src` (a
/// pointer, array, record or function type) to the pointer type `dst`: no qualifier may
/// be dropped; `void *` converts both ways; otherwise the targets must be of the same
/// kind and size (integers of either signedness match), pointers compared one level
/// deeper with equal qualifiers, records identical.
fn pointer_compatible(types: &TypeTable, dst: TypeId, src: TypeId) -> bool {
    let (d, dq) = pointee(types, dst);
    let (s, sq) = pointee(types, src);
    if d == s && dq == sq {
        return true;
    }
    if (sq.is_const && !dq.is_const) || (sq.is_volatile && !dq.is_volatile) {
        return false;
    }
    if matches!(types.get(d), CType::Void) || matches!(types.get(s), CType::Void) {
        return true;
    }
    same_kind(types, d, s, 0)
}

/// Whether two pointee types are "the same" for a pointer conversion (see
/// [`pointer_compatible`]); `depth` bounds the walk through pointers to pointers.
pub(crate) fn same_kind(types: &TypeTable, d: TypeId, s: TypeId, depth: u32) -> bool {
    if d == s {
        return true;
    }
    if types.size_of(d) != types.size_of(s) {
        return false;
    }
    match (types.get(d), types.get(s)) {
        (CType::Int(_), CType::Int(_)) => true,
        (CType::Enum(_), CType::Int(_)) | (CType::Int(_), CType::Enum(_)) => true,
        (CType::Float(a), CType::Float(b)) => a == b,
        (CType::Pointer(a), CType::Pointer(b)) if depth < 16 => {
            let (a, aq) = types.unqualified(*a);
            let (b, bq) = types.unqualified(*b);
            aq == bq && same_kind(types, a, b, depth + 1)
        }
        (CType::Func(_), CType::Func(_)) => true,
        _ => false,
    }
}

// ---- initializers -----------------------------------------------------------------------

/// Initializes a fresh, zero-filled value of `ty` at `ptr` (`size` bytes) from the
/// `count` Lua values starting at `first` (`lj_cconv_ct_init`): none leaves it zero; one
/// table, one string for a char array or one cdata of the same aggregate type
/// initializes it as a whole; otherwise the values go to array elements or struct
/// fields in order (a single one fills a whole array), and more than fit is an error.
///
/// # Safety
/// `l` is live with three free slots; `ptr` is `size` zeroed, writable bytes aligned
/// for `ty`.
pub unsafe fn init_value(
    l: *mut State,
    st: &FfiState,
    ty: TypeId,
    ptr: *mut u8,
    size: u64,
    first: c_int,
    count: c_int,
) -> LuaResult<()> {
    if count == 0 {
        return Ok(());
    }
    let (base, _) = st.types().unqualified(ty);
    // SAFETY: `l` is live; writes stay inside the `size` bytes at `ptr`.
    unsafe {
        let aggregate = matches!(st.types().get(base), CType::Array { .. } | CType::Record(_));
        if count == 1 && !(aggregate && is_single_value(l, st, base, first)) {
            return store_sized(l, st, ty, ptr, Some(size), first, Conv::ASSIGN);
        }
        match &st.ctype(base) {
            // LuaJIT initializes a vector from several values as an array.
            CType::Array { elem, .. } | CType::Vector { elem, .. } => {
                let elem = *elem;
                let esize = st.types().size_of(elem).unwrap_or(0);
                if esize.saturating_mul(count as u64) > size {
                    return Err(too_many(&st.types(), ty));
                }
                for i in 0..count {
                    let at = ptr.add((esize * i as u64) as usize);
                    store_lua_value(l, st, elem, at, first + i, Conv::ASSIGN)?;
                }
                if count == 1 {
                    replicate(ptr, esize, size);
                }
                Ok(())
            }
            CType::Record(_) => {
                let mut next = first;
                let end = first + count;
                init_record_values(l, st, base, ptr, size, &mut next, end)?;
                if next < end {
                    return Err(too_many(&st.types(), ty));
                }
                Ok(())
            }
            CType::Complex(_) if count == 2 => {
                let re = sys::lua_tonumber(l, first);
                let im = sys::lua_tonumber(l, first + 1);
                let both_numbers = sys::lua_type(l, first) == sys::LUA_TNUMBER
                    && sys::lua_type(l, first + 1) == sys::LUA_TNUMBER;
                if !both_numbers {
                    let bad = if sys::lua_type(l, first) == sys::LUA_TNUMBER {
                        first + 1
                    } else {
                        first
                    };
                    return Err(LuaError::msg(format!(
                        "cannot convert '{}' to '{}'",
                        lua::type_name(l, bad),
                        st.types().type_name(ty)
                    )));
                }
                store_num(&st.types(), base, ptr, Num::Complex(re, im));
                Ok(())
            }
            _ => Err(too_many(&st.types(), ty)),
        }
    }
}

fn too_many(types: &TypeTable, ty: TypeId) -> LuaError {
    LuaError::msg(format!(
        "too many initializers for '{}'",
        types.type_name(ty)
    ))
}

/// LuaJIT's `lj_cconv_multi_init`, negated: whether the single initializer at `index`
/// initializes the aggregate `base` as a whole.
///
/// # Safety
/// `l` is live with two free slots.
unsafe fn is_single_value(l: *mut State, st: &FfiState, base: TypeId, index: c_int) -> bool {
    // SAFETY: `l` is live (caller).
    unsafe {
        match sys::lua_type(l, index) {
            sys::LUA_TTABLE => false,
            sys::LUA_TSTRING => matches!(st.types().get(base), CType::Record(_)),
            sys::LUA_TUSERDATA => match to_cdata(l, st, index) {
                Some(header) => {
                    let mut src = st.types().unqualified((*header).ty).0;
                    if let CType::Ref(target) = &st.ctype(src) {
                        src = st.types().unqualified(*target).0;
                    }
                    src != base
                }
                None => true,
            },
            _ => true,
        }
    }
}

/// Copies the first `esize` bytes over the rest of `size` bytes: a single initializer
/// fills a whole array.
///
/// # Safety
/// `ptr` is `size` writable bytes.
unsafe fn replicate(ptr: *mut u8, esize: u64, size: u64) {
    if esize == 0 {
        return;
    }
    let mut at = esize;
    while at + esize <= size {
        // SAFETY: both ranges lie inside the `size` bytes at `ptr` and do not overlap.
        unsafe { std::ptr::copy_nonoverlapping(ptr, ptr.add(at as usize), esize as usize) };
        at += esize;
    }
}

/// A complete record's kind and member count.
fn record_shape(types: &TypeTable, record: TypeId) -> Option<(RecordKind, usize)> {
    let CType::Record(rid) = types.get(record) else {
        return None;
    };
    let rec = types.record(*rid);
    Some((rec.kind, rec.body.as_ref()?.fields.len()))
}

/// Member `i` of a complete record: whether it has a name, its type, offset and bitfield
/// placement.
fn record_field(
    types: &TypeTable,
    record: TypeId,
    i: usize,
) -> (bool, TypeId, u64, Option<jitffi_ctype::BitField>) {
    let CType::Record(rid) = types.get(record) else {
        unreachable!("record_field on a non-record (record_shape checked it)");
    };
    let body = types.record(*rid).body.as_ref();
    let field = &body.expect("record_shape checked completeness").fields[i];
    (field.name.is_some(), field.ty, field.offset, field.bits)
}

/// Positional initialization of a record from the values `*next .. end`
/// (`cconv_substruct_init`).
///
/// # Safety
/// As [`init_value`]; `ptr` holds the record.
unsafe fn init_record_values(
    l: *mut State,
    st: &FfiState,
    record: TypeId,
    ptr: *mut u8,
    size: u64,
    next: &mut c_int,
    end: c_int,
) -> LuaResult<()> {
    let Some((kind, count)) = record_shape(&st.types(), record) else {
        return Ok(());
    };
    for i in 0..count {
        // By index, not by iterator: the conversions below may add types to the table
        // (never change a record), and copying the members would cost more than the
        // stores on this path.
        let (named, fty, offset, bits) = record_field(&st.types(), record, i);
        // SAFETY: the field lies inside the record at `ptr`.
        unsafe {
            let at = ptr.add(offset as usize);
            match (named, bits) {
                (false, Some(_)) => continue,
                (false, None) => {
                    let (sub, _) = st.types().unqualified(fty);
                    init_record_values(l, st, sub, at, size.saturating_sub(offset), next, end)?;
                }
                (true, bits) => {
                    if *next >= end {
                        break;
                    }
                    match bits {
                        Some(bits) => store_bitfield(l, st, fty, at, bits, *next)?,
                        None => {
                            let room = member_room(&st.types(), fty, size, offset);
                            store_sized(l, st, fty, at, room, *next, Conv::ASSIGN)?
                        }
                    }
                    *next += 1;
                }
            }
        }
        if kind == RecordKind::Union {
            break;
        }
    }
    Ok(())
}

/// The size to store a member of type `fty` at `offset` of a record of `size` bytes
/// with: none for a member of fixed size (its type's size bounds it), the rest of the
/// record for a `[?]`, `[]` or `[0]` array (a variable-length struct's last member).
fn member_room(types: &TypeTable, fty: TypeId, size: u64, offset: u64) -> Option<u64> {
    match types.size_of(fty) {
        Some(fixed) if fixed > 0 => None,
        _ => Some(size.saturating_sub(offset)),
    }
}

/// Makes room for one level of a nested table initializer (three slots, see the module
/// docs), or fails without raising.
///
/// # Safety
/// `l` is live.
unsafe fn reserve_nesting_stack(l: *mut State) -> LuaResult<()> {
    // SAFETY: `l` is live (caller); lua_checkstack does not raise.
    if unsafe { sys::lua_checkstack(l, 3) } == 0 {
        return Err(LuaError::msg(
            "stack overflow (initializer nested too deeply)",
        ));
    }
    Ok(())
}

/// A table into an array (`cconv_array_tab`): elements from index 0 or 1 up to the
/// first nil; a single element fills the array; the rest is zeroed.
///
/// # Safety
/// As [`store_sized`]; `index` holds a table.
unsafe fn init_array_table(
    l: *mut State,
    st: &FfiState,
    base: TypeId,
    ptr: *mut u8,
    size: Option<u64>,
    index: c_int,
) -> LuaResult<()> {
    let (CType::Array { elem, .. } | CType::Vector { elem, .. }) = *st.types().get(base) else {
        unreachable!("init_array_table on a non-array")
    };
    let esize = st.types().size_of(elem).unwrap_or(0);
    // A `[?]` array of unknown extent takes nothing: writes are bounded by `size`.
    let size = Some(size.or_else(|| st.types().size_of(base)).unwrap_or(0));
    // SAFETY: `l` is live; each element written lies inside the array (checked against
    // its size before the write).
    unsafe {
        reserve_nesting_stack(l)?;
        let table = sys::lua_absindex(l, index);
        let mut offset = 0u64;
        let mut i: sys::lua_Integer = 0;
        loop {
            if sys::lua_rawgeti(l, table, i) == sys::LUA_TNIL {
                sys::lua_settop(l, -2);
                if i == 0 {
                    i = 1;
                    continue;
                }
                break;
            }
            if size.is_some_and(|size| offset + esize > size) || esize == 0 {
                sys::lua_settop(l, -2);
                return Err(too_many(&st.types(), base));
            }
            let result = store_lua_value(l, st, elem, ptr.add(offset as usize), -1, Conv::ASSIGN);
            sys::lua_settop(l, -2);
            result?;
            offset += esize;
            i += 1;
        }
        if let Some(size) = size {
            if offset == esize {
                replicate(ptr, esize, size);
            } else if offset < size {
                std::ptr::write_bytes(ptr.add(offset as usize), 0, (size - offset) as usize);
            }
        }
    }
    Ok(())
}

/// A table into a record (`cconv_struct_tab`): zero the record, then fields in order
/// from index 0 or 1 up to the first nil; if the table has neither, fields by name.
///
/// # Safety
/// As [`store_sized`]; `index` holds a table.
unsafe fn init_record_table(
    l: *mut State,
    st: &FfiState,
    base: TypeId,
    ptr: *mut u8,
    size: Option<u64>,
    index: c_int,
) -> LuaResult<()> {
    let size = size
        .or_else(|| st.types().size_of_vla(base, 0))
        .unwrap_or(0);
    // SAFETY: `l` is live; `ptr` holds `size` bytes of the record.
    unsafe {
        reserve_nesting_stack(l)?;
        std::ptr::write_bytes(ptr, 0, size as usize);
        let table = sys::lua_absindex(l, index);
        let mut position: sys::lua_Integer = 0;
        record_from_table(l, st, base, ptr, size, table, &mut position)
    }
}

/// One level of [`init_record_table`] (`cconv_substruct_tab`). `position` is the next
/// table index to read, or -1 once fields are taken by name.
///
/// # Safety
/// As [`init_record_table`]; `table` is an absolute index.
unsafe fn record_from_table(
    l: *mut State,
    st: &FfiState,
    record: TypeId,
    ptr: *mut u8,
    size: u64,
    table: c_int,
    position: &mut sys::lua_Integer,
) -> LuaResult<()> {
    let Some((kind, count)) = record_shape(&st.types(), record) else {
        return Ok(());
    };
    for i in 0..count {
        // By index, borrowing the table for each step only: the conversions below may
        // allocate (and raise, or run finalizers that add types), so nothing that owns
        // memory or a borrow lives across them.
        let (named, fty, offset, bits) = record_field(&st.types(), record, i);
        // SAFETY: `l` is live; each field lies inside the record at `ptr`.
        unsafe {
            let at = ptr.add(offset as usize);
            if !named {
                if bits.is_none() {
                    let (sub, _) = st.types().unqualified(fty);
                    record_from_table(
                        l,
                        st,
                        sub,
                        at,
                        size.saturating_sub(offset),
                        table,
                        position,
                    )?;
                }
                continue;
            }
            if *position >= 0 {
                let start = *position;
                let mut i = start;
                loop {
                    if sys::lua_rawgeti(l, table, i) != sys::LUA_TNIL {
                        *position = i + 1;
                        break;
                    }
                    sys::lua_settop(l, -2);
                    if i == 0 {
                        i = 1;
                        continue;
                    }
                    if start == 0 {
                        *position = -1;
                        break;
                    }
                    return Ok(());
                }
            }
            if *position < 0 {
                push_field_name(l, st, record, i)?;
                if sys::lua_rawget(l, table) == sys::LUA_TNIL {
                    sys::lua_settop(l, -2);
                    continue;
                }
            }
            let result = match bits {
                Some(bits) => store_bitfield(l, st, fty, at, bits, -1),
                None => {
                    let room = member_room(&st.types(), fty, size, offset);
                    store_sized(l, st, fty, at, room, -1, Conv::ASSIGN)
                }
            };
            sys::lua_settop(l, -2);
            result?;
            if kind == RecordKind::Union {
                break;
            }
        }
    }
    Ok(())
}

/// Pushes the name of member `i` (a named one) of `record`, under protection: the name
/// is copied out first, so that no borrow of the type table is held while Lua
/// allocates (a finalizer run there may change the table).
///
/// # Safety
/// `l` is live with three free slots.
unsafe fn push_field_name(l: *mut State, st: &FfiState, record: TypeId, i: usize) -> LuaResult<()> {
    let name: Box<str> = {
        let types = st.types();
        let CType::Record(rid) = types.get(record) else {
            unreachable!("push_field_name on a non-record")
        };
        let body = types.record(*rid).body.as_ref();
        let field = &body.expect("record_shape checked completeness").fields[i];
        field.name.clone().unwrap_or_default()
    };
    // SAFETY: `l` is live (caller); the push is protected, so `name` is dropped below
    // whether it succeeds or not.
    unsafe { lua::push_str_protected(l, &name) }
}

// ---- bitfields --------------------------------------------------------------------------

/// Pushes the value of a bitfield of declared type `ty` (`lj_cconv_tv_bf`): a boolean
/// for `bool`, else a number, sign-extended for signed types.
///
/// # Safety
/// `l` is live with one free slot; the field's bytes at `unit` are readable.
pub unsafe fn push_bitfield(
    l: *mut State,
    types: &TypeTable,
    ty: TypeId,
    unit: *const u8,
    bits: jitffi_ctype::BitField,
) {
    let (base, _) = types.unqualified(ty);
    // SAFETY: forwarded from the caller.
    unsafe {
        let raw = read_bitfield(unit, bits);
        let signed = match types.get(base) {
            CType::Bool | CType::BoolInt => {
                sys::lua_pushboolean(l, c_int::from(raw != 0));
                return;
            }
            CType::Int(int) => int.signed,
            CType::Enum(eid) => types.enum_def(*eid).int_type.is_some_and(|i| i.signed),
            _ => false,
        };
        let value = if signed && bits.width > 0 && bits.width < 64 {
            let shift = 64 - bits.width;
            ((raw << shift) as i64) >> shift
        } else {
            raw as i64
        };
        if !signed && bits.width == 64 {
            sys::lua_pushnumber(l, raw as f64);
        } else {
            sys::lua_pushinteger(l, value as sys::lua_Integer);
        }
    }
}

/// Converts the Lua value at `index` to the bitfield's declared type and stores its
/// low bits (`lj_cconv_bf_tv`).
///
/// # Safety
/// `l` is live with three free slots; the field's bytes at `unit` are writable.
pub unsafe fn store_bitfield(
    l: *mut State,
    st: &FfiState,
    ty: TypeId,
    unit: *mut u8,
    bits: jitffi_ctype::BitField,
    index: c_int,
) -> LuaResult<()> {
    let mut scratch = [0u64; 2];
    // SAFETY: the scratch holds any integer, bool or enum the field's type can be; the
    // conversion writes at most its size (types wider than 16 bytes are refused first).
    unsafe {
        let fits = st.types().size_of(ty).is_some_and(|s| s <= 8);
        if !fits {
            return Err(LuaError::msg(format!(
                "cannot convert to bitfield of type '{}'",
                st.types().type_name(ty)
            )));
        }
        store_lua_value(l, st, ty, scratch.as_mut_ptr().cast(), index, Conv::ASSIGN)?;
        write_bitfield(unit, bits, scratch[0]);
    }
    Ok(())
}

// ---- small helpers shared with the metamethods ----------------------------------------

/// The error for dereferencing a NULL pointer or reference of type `ty` (LuaJIT would
/// crash; we refuse).
pub fn null_access(types: &TypeTable, ty: TypeId) -> LuaError {
    LuaError::msg(format!(
        "attempt to dereference a NULL pointer of type '{}'",
        types.type_name(ty)
    ))
}

/// The numeric value of a cdata that holds a number (for 64-bit keys, `ffi.new` sizes);
/// a ctype object's is its number ([`ctype_number`]).
///
/// # Safety
/// `header` is a live cdata.
pub unsafe fn cdata_as_i64(types: &TypeTable, header: *const CDataHeader) -> Option<i64> {
    // SAFETY: forwarded from the caller; a ctype object has no value to read.
    unsafe {
        if (*header).kind() == CDataKind::CType {
            return Some(i64::from(ctype_number(types, (*header).ty)));
        }
        let (base, _) = types.unqualified((*header).ty);
        match read_num(types, base, cdata::payload(header))? {
            Num::Int(i) => Some(i),
            Num::UInt(u) => Some(u as i64),
            Num::Float(n) | Num::Complex(n, _) => Some(f64_to_i64(n)),
        }
    }
}

/// The number a ctype object stands for where a number is expected (a conversion,
/// arithmetic, an index): LuaJIT's ctype objects are cdata holding their type id, an
/// `int32_t`. The types LuaJIT predefines get LuaJIT's ids (`CTID_*` in `lj_ctype.h`:
/// `int` is 9, `double` 14), every other type our own id, the number an anonymous
/// struct prints with (`ctype<struct 97>`). Numbers of distinct types may coincide
/// (ours are not LuaJIT's), so ctype objects compare by type, not by number.
pub fn ctype_number(types: &TypeTable, ty: TypeId) -> i32 {
    let plain_char = types.target().char_type();
    let luajit_id = match types.get(ty) {
        CType::Void => 1,
        CType::Bool => 3,
        CType::Int(int) => match (int.bytes, int.signed) {
            (1, true) => 5,
            (1, false) => 6,
            (2, true) => 7,
            (2, false) => 8,
            (4, true) => 9,
            (4, false) => 10,
            (8, true) => 11,
            _ => 12,
        },
        CType::Float(FloatKind::Float) => 13,
        CType::Float(FloatKind::Double) => 14,
        CType::Complex(FloatKind::Float) => 15,
        CType::Complex(FloatKind::Double) => 16,
        // `const char` and `const char *`: plain char, signed or not as the target says.
        CType::Qualified { base, quals } if *quals == Quals::CONST => match types.get(*base) {
            CType::Void => 2,
            CType::Int(int) if *int == plain_char => 4,
            _ => 0,
        },
        CType::Pointer(target) => match types.get(*target) {
            CType::Void => 17,
            CType::Int(IntType::U8) => 20,
            CType::Qualified { base, quals } if *quals == Quals::CONST => match types.get(*base) {
                CType::Void => 18,
                CType::Int(int) if *int == plain_char => 19,
                _ => 0,
            },
            _ => 0,
        },
        _ => 0,
    };
    if luajit_id != 0 {
        luajit_id
    } else {
        ty.0 as i32
    }
}

/// Array and function parameters are pointers (C11 6.7.6.3p7-8).
pub fn decay(types: &mut TypeTable, ty: TypeId) -> TypeId {
    match types.get(types.unqualified(ty).0) {
        CType::Array { elem, .. } => {
            let elem = *elem;
            types.pointer_to(elem)
        }
        CType::Func(_) => types.pointer_to(ty),
        _ => ty,
    }
}

/// Pushes the C value of type `ty` at `value` as what a call returns or a callback
/// receives: aggregates, complex numbers, vectors and `long double` as a new cdata
/// holding a copy, everything else as [`convert::push_c_value`] converts it.
///
/// # Safety
/// `l` is live with three free slots; `st` is its state; `value` holds a value of `ty`.
pub unsafe fn push_value_copy(
    l: *mut State,
    st: &FfiState,
    ty: TypeId,
    value: *const u8,
) -> LuaResult<()> {
    let (base, _) = st.types().unqualified(ty);
    let boxed = matches!(
        st.types().get(base),
        CType::Record(_)
            | CType::Complex(_)
            | CType::Vector { .. }
            | CType::Float(FloatKind::LongDouble)
    );
    // SAFETY: `value` holds a value of `ty` (caller); the new cdata has its size.
    unsafe {
        if boxed {
            let size = st.types().size_of(base).unwrap_or(0) as usize;
            let align = st.types().align_of(base);
            let payload = crate::cdata::new_cdata(l, st, base, size, align)?;
            std::ptr::copy_nonoverlapping(value, payload, size);
        } else {
            push_c_value(l, st, ty, value)?;
        }
    }
    Ok(())
}
