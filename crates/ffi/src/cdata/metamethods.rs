//! The metatable shared by every cdata and ctype object, and its metamethods.

use crate::cdata::convert::{
    cdata_as_i64, holds_const, null_access, push_bitfield, push_c_value, push_direct,
    store_bitfield, store_number, store_sized, Conv, LuaNumber,
};
use crate::cdata::ctype_arg::push_ctype_name;
use crate::cdata::element_cache::{element_plan, ElementAccess};
use crate::cdata::field_cache::{FieldAccess, FieldKind, FieldRoute};
use crate::cdata::metatype::{push_metamethod, push_metatable, push_operand_metamethod};
use crate::cdata::state::{FfiState, StateBox};
use crate::cdata::value_shape::{value_shape, DirectRead, ValueShape};
use crate::cdata::{payload, to_cdata, value_size, CDataHeader, CDataKind};
use crate::lua::stack;
use crate::lua::{self, LuaError, LuaResult, Next, State};
use crate::scalar::number::{f64_to_i64, store_scalar, Num};
use jitffi_ctype::{ArrayLen, BitField, CType, FloatKind, IntType, TypeId, TypeTable};
use mlua_sys as sys;
use std::os::raw::c_int;

/// The metamethods of this module for the shared cdata metatable.
const METHODS: &[(&str, sys::lua_CFunction)] = &[
    ("__tostring", tostring),
    ("__index", index),
    ("__newindex", newindex),
    ("__call", call),
];

/// Lua 5.4's to-be-closed variables reach a metatype's `__close`.
const CLOSE_METHOD: &[(&str, sys::lua_CFunction)] = if lua::version::TO_BE_CLOSED {
    &[("__close", close)]
} else {
    &[]
};

/// Builds the cdata metatable (its functions get the state at `state_index` as upvalue 1)
/// and returns its registry reference.
///
/// # Safety
/// `l` is live with four free slots; `state_index` is an absolute index of the state.
pub unsafe fn new_cdata_metatable(l: *mut State, state_index: c_int) -> c_int {
    // SAFETY: `l` is live (caller).
    unsafe {
        sys::lua_createtable(l, 0, 32);
        let methods = METHODS
            .iter()
            .chain(CLOSE_METHOD)
            .chain(crate::cdata::arith::METHODS)
            .chain(crate::cdata::arith::INTEGER_METHODS);
        for &(name, function) in methods {
            sys::lua_pushvalue(l, state_index);
            lua::push_closure(l, function, 1);
            lua::set_field_raw(l, -2, name);
        }
        // `getmetatable(cdata)` answers "ffi", as in LuaJIT, and the metamethods stay
        // private: a userdata with this metatable is always one of ours.
        lua::push_str(l, "ffi");
        lua::set_field_raw(l, -2, "__metatable");
        sys::luaL_ref(l, sys::LUA_REGISTRYINDEX)
    }
}

/// The event of the cdata metamethod whose C function is `function`, if it is one.
pub fn event_of(function: sys::lua_CFunction) -> Option<&'static str> {
    METHODS
        .iter()
        .chain(CLOSE_METHOD)
        .chain(crate::cdata::arith::METHODS)
        .chain(crate::cdata::arith::INTEGER_METHODS)
        .find(|(_, f)| *f as usize == function as usize)
        .map(|(name, _)| *name)
}

/// Argument 1 of metamethod `name`: one of our cdata or ctype objects. Lua passes one
/// when it runs the metamethod; a direct call (`debug.getmetatable(x).__index(...)`) may
/// pass anything, which is a "bad argument" error.
///
/// # Safety
/// `l` is live with one free slot; `st` is its ffi state.
unsafe fn self_arg(l: *mut State, st: &FfiState, name: &str) -> LuaResult<*mut CDataHeader> {
    // SAFETY: `l` is live (caller).
    unsafe {
        to_cdata(l, st, 1).ok_or_else(|| {
            LuaError::msg(format!(
                "bad argument #1 to '{name}' (cdata expected, got {})",
                lua::type_name(l, 1)
            ))
        })
    }
}

/// `__tostring`: `ctype<int>` for a ctype object, LuaJIT's text for a cdata (see
/// [`cdata_text`]), or the metatype's `__tostring` for a struct, union or vector (also
/// through a pointer or reference).
unsafe extern "C-unwind" fn tostring(l: *mut State) -> c_int {
    // SAFETY: Lua calls `__tostring` with one of our userdata as argument 1.
    unsafe {
        lua::entry_next(l, || {
            let st = FfiState::get(l)?;
            let block = self_arg(l, st, "__tostring")?;
            let header: CDataHeader = *block;
            match header.kind() {
                CDataKind::CType => push_ctype_name(l, st, header.ty)?,
                CDataKind::Value => {
                    if st.has_metatypes.get() {
                        let shown = aggregate_behind(&st.types(), header.ty);
                        let has_hook = matches!(
                            st.types().get(shown),
                            CType::Record(_) | CType::Vector { .. }
                        );
                        if has_hook && push_metamethod(l, st, shown, "__tostring") {
                            sys::lua_pushvalue(l, 1);
                            return Ok(Next::Call { args: 1 });
                        }
                    }
                    let value = payload(block);
                    let text = cdata_text(&st.types(), header.ty, value);
                    let pushed = lua::push_str_protected(l, &text);
                    drop(text);
                    pushed?;
                }
            }
            Ok(Next::Return(1))
        })
    }
}

/// `__close` (Lua 5.4's to-be-closed variables): the metatype's `__close`, for a
/// struct or union or a pointer to one; other cdata cannot be closed.
unsafe extern "C-unwind" fn close(l: *mut State) -> c_int {
    // SAFETY: Lua calls `__close` with one of our userdata and the error (or nil).
    unsafe {
        lua::entry_next(l, || {
            let st = FfiState::get(l)?;
            let header: CDataHeader = *self_arg(l, st, "__close")?;
            sys::lua_settop(l, 2);
            if header.kind() == CDataKind::Value
                && push_operand_metamethod(l, st, header.ty, "__close")
            {
                sys::lua_insert(l, 1);
                return Ok(Next::Call { args: 2 });
            }
            Err(LuaError::msg(format!(
                "'{}' has no __close metamethod",
                st.types().type_name(header.ty)
            )))
        })
    }
}

/// The type whose `__tostring` applies to a cdata of type `ty`: the struct, union or
/// vector itself, or the one a pointer or reference leads to.
fn aggregate_behind(types: &TypeTable, ty: TypeId) -> TypeId {
    let (mut base, _) = types.unqualified(ty);
    if let CType::Ref(target) | CType::Pointer(target) = types.get(base) {
        base = types.unqualified(*target).0;
    }
    base
}

/// The text of `tostring(cdata)` as LuaJIT writes it: `123LL`/`123ULL` for 64-bit
/// integers, `1+2i` for complex numbers, `cdata<enum e>: 5` for enums, the address a
/// pointer or reference holds (`NULL` for none), else the value's own address.
///
/// # Safety
/// `value` is the payload of a live cdata of type `ty`.
unsafe fn cdata_text(types: &TypeTable, ty: TypeId, value: *const u8) -> String {
    let (base, _) = types.unqualified(ty);
    let name = types.type_name(ty);
    // SAFETY: the payload holds a value of `ty` (a reference: its address).
    unsafe {
        match types.get(base) {
            CType::Int(IntType { bytes: 8, signed }) => {
                let bits = value.cast::<u64>().read();
                if *signed {
                    format!("{}LL", bits as i64)
                } else {
                    format!("{bits}ULL")
                }
            }
            CType::Complex(kind @ (FloatKind::Float | FloatKind::Double)) => {
                let (re, im) = if *kind == FloatKind::Float {
                    let p = value.cast::<[f32; 2]>().read();
                    (f64::from(p[0]), f64::from(p[1]))
                } else {
                    let p = value.cast::<[f64; 2]>().read();
                    (p[0], p[1])
                };
                complex_text(re, im)
            }
            CType::Enum(eid) => {
                let int = types.enum_def(*eid).int_type.unwrap_or(IntType::I32);
                let raw = match int.bytes {
                    1 => i64::from(value.read()),
                    2 => i64::from(value.cast::<u16>().read()),
                    4 => i64::from(value.cast::<u32>().read()),
                    _ => value.cast::<i64>().read(),
                };
                let shift = 64 - int.bits();
                let v = if int.signed {
                    (raw << shift) >> shift
                } else {
                    raw
                };
                format!("cdata<{name}>: {v}")
            }
            CType::Pointer(_) | CType::Ref(_) => {
                let address = value.cast::<usize>().read();
                if address == 0 {
                    format!("cdata<{name}>: NULL")
                } else {
                    format!("cdata<{name}>: 0x{address:08x}")
                }
            }
            _ => format!("cdata<{name}>: 0x{:08x}", value as usize),
        }
    }
}

/// `re+imi` with both parts as `%.14g`, as LuaJIT prints a complex number.
fn complex_text(re: f64, im: f64) -> String {
    let im_text = if im.is_nan() {
        // LuaJIT's own quirk: `1.5+nanI`, `1-infI`.
        "+nanI".to_owned()
    } else if im.is_infinite() {
        if im < 0.0 { "-infI" } else { "+infI" }.to_owned()
    } else if im.is_sign_negative() {
        format!("{}i", number_text(im))
    } else {
        format!("+{}i", number_text(im))
    };
    format!("{}{im_text}", number_text(re))
}

/// A number as C's `%.14g` writes it (Lua's and LuaJIT's number format).
pub fn number_text(x: f64) -> String {
    if x.is_nan() {
        return if x.is_sign_negative() { "-nan" } else { "nan" }.to_owned();
    }
    if x.is_infinite() {
        return if x < 0.0 { "-inf" } else { "inf" }.to_owned();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0" } else { "0" }.to_owned();
    }
    let sci = format!("{x:.13e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..14).contains(&exp) {
        let mantissa = trim_fraction(mantissa);
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        let decimals = (13 - exp).max(0) as usize;
        trim_fraction(&format!("{x:.decimals$}")).to_owned()
    }
}

/// Drops trailing zeros of a fraction, and the point if nothing is left after it.
fn trim_fraction(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

/// Where an indexing expression `cdata[key]` lands: the C value's type and address,
/// its bitfield placement, whether it may not be written, and how it was reached.
#[derive(Copy, Clone)]
struct Place {
    ty: TypeId,
    ptr: *mut u8,
    bits: Option<BitField>,
    is_const: bool,
    route: Route,
}

/// How [`locate_place`] reached a place, for the caches of the fast paths: what they
/// may learn from it.
#[derive(Copy, Clone)]
enum Route {
    /// An element by number of a pointer or array cdata (the element cache learns the
    /// cdata's type, see [`learn_elements`]).
    Element,
    /// A member by name of a record cdata or of the record a pointer or reference cdata
    /// leads to (see [`learn_field`]).
    Member(FieldRoute),
    /// Anything else: nothing to learn.
    Other,
}

/// What a key is: an element number, a member name, or something else.
enum Key<'a> {
    Number(i64),
    Name(&'a [u8]),
    Other(&'static str),
}

/// Reads the key at `index`.
///
/// # Safety
/// `l` is live with two free slots, running a C function with at least `index`
/// arguments; the key stays on the stack while used.
unsafe fn read_key<'a>(l: *mut State, st: &FfiState, index: c_int) -> Key<'a> {
    // SAFETY: `l` is live (caller).
    unsafe {
        // A member name, the usual key here, is told by its tag where direct reads are on.
        if let stack::PeekedString::Chars(_) = stack::string(l, index) {
            return Key::Name(lua::to_bytes(l, index).unwrap_or_default());
        }
        match sys::lua_type(l, index) {
            sys::LUA_TNUMBER => {
                if let Some(int) = lua::version::integer(l, index) {
                    return Key::Number(int);
                }
                Key::Number(f64_to_i64(sys::lua_tonumber(l, index)))
            }
            sys::LUA_TSTRING => Key::Name(lua::to_bytes(l, index).unwrap_or_default()),
            sys::LUA_TUSERDATA => match to_cdata(l, st, index) {
                Some(header) => match cdata_as_i64(&st.types(), header) {
                    Some(n) => Key::Number(n),
                    None => Key::Other("cdata"),
                },
                None => Key::Other("userdata"),
            },
            _ => Key::Other(lua::type_name(l, index)),
        }
    }
}

/// LuaJIT's error for a key that type `ty` lacks; a cdata key is named by its C type.
///
/// # Safety
/// `l` is live with two free slots and the key at argument 2.
unsafe fn cannot_index(l: *mut State, st: &FfiState, ty: TypeId, key: &Key<'_>) -> LuaError {
    let name = st.types().type_name(ty);
    match key {
        Key::Name(member) => LuaError::msg(format!(
            "'{name}' has no member named '{}'",
            String::from_utf8_lossy(member)
        )),
        Key::Number(_) => LuaError::msg(format!("'{name}' cannot be indexed with 'number'")),
        Key::Other(what) => {
            // SAFETY: `l` is live with the key at argument 2 (caller).
            let key_name = match unsafe { to_cdata(l, st, 2) } {
                // SAFETY: `to_cdata` returned a live header.
                Some(header) => st.types().type_name(unsafe { (*header).ty }),
                None => (*what).to_owned(),
            };
            LuaError::msg(format!("'{name}' cannot be indexed with '{key_name}'"))
        }
    }
}

/// What `cdata[key]` resolves to: a C value, a named constant of a record, or no C
/// value, in which case the metatype of `ty` (the record a pointer points to, for
/// `p.name`) may answer.
enum Lookup {
    Found(Place),
    /// A record's named constant ([`jitffi_ctype::RecordConst`]): read-only.
    Constant {
        ty: TypeId,
        value: i64,
    },
    /// `is_const`: the value the key was looked up in is const (a new key cannot be
    /// assigned through it either). `via_record`: the key is a name that the record `ty`
    /// lacks, reached through `Some(loads)` pointer reads from the payload (what the
    /// field cache may learn a method from, see [`learn_method`]).
    Missing {
        ty: TypeId,
        is_const: bool,
        via_record: Option<u32>,
    },
}

/// Resolves `cdata[key]` for the cdata at argument 1 and the key at argument 2
/// (`lj_cdata_index`): pointers and arrays by element number (no bounds checks, as in
/// LuaJIT), records by member name (through a pointer too), complex numbers by `re`/`im`;
/// references are looked through. A NULL pointer is an error instead of a crash.
///
/// # Safety
/// `l` is live; argument 1 is one of our userdata.
unsafe fn locate(l: *mut State, st: &FfiState, header: *const CDataHeader) -> LuaResult<Lookup> {
    // SAFETY: forwarded from the caller.
    match unsafe { locate_place(l, st, header) } {
        Ok(place) => Ok(Lookup::Found(place)),
        Err(Miss::Constant(ty, value)) => Ok(Lookup::Constant { ty, value }),
        Err(Miss::Type(ty, is_const)) => Ok(Lookup::Missing {
            ty,
            is_const,
            via_record: None,
        }),
        Err(Miss::NoMember {
            record,
            is_const,
            loads,
        }) => Ok(Lookup::Missing {
            ty: record,
            is_const,
            via_record: Some(loads),
        }),
        Err(Miss::Error(error)) => Err(error),
    }
}

/// Why [`locate_place`] found no C value.
enum Miss {
    /// The key names a constant of the record type: its type and value.
    Constant(TypeId, i64),
    /// The key names nothing in this type (the metatype of the type may answer).
    Type(TypeId, bool),
    /// The key is a name the record lacks (its metatype may answer), reached after
    /// `loads` pointer reads.
    NoMember {
        record: TypeId,
        is_const: bool,
        loads: u32,
    },
    /// A failure no metatype can answer (NULL, unknown size).
    Error(LuaError),
}

impl From<LuaError> for Miss {
    fn from(error: LuaError) -> Miss {
        Miss::Error(error)
    }
}

/// The body of [`locate`]. An element found by number records the cdata's type in the
/// element cache, for the fast path ([`fast_element`]).
///
/// # Safety
/// As [`locate`].
unsafe fn locate_place(
    l: *mut State,
    st: &FfiState,
    header: *const CDataHeader,
) -> Result<Place, Miss> {
    let types = &st.types();
    // SAFETY: `header` is a live cdata block (caller); every address computed below is
    // the one C would compute, read only after the NULL checks.
    unsafe {
        let key = read_key(l, st, 2);
        if (*header).kind() == CDataKind::CType {
            // A ctype object (`ffi.typeof("struct s").K`): a record's constants (also
            // through a pointer or reference type), else only its metatype, or that of
            // the record a pointer type points to, can answer.
            let (base, _) = types.unqualified((*header).ty);
            let target = match types.get(base) {
                CType::Pointer(target) | CType::Ref(target) => types.unqualified(*target).0,
                _ => base,
            };
            if let Key::Name(name) = key {
                if let Some(constant) = record_constant(types, target, name) {
                    return Err(constant);
                }
            }
            return Err(Miss::Type(target, false));
        }
        let mut ty = (*header).ty;
        let mut ptr = payload(header);
        // Pointers read on the way from the payload to the place.
        let mut loads = 0;
        let (mut base, mut quals) = types.unqualified(ty);
        if let CType::Ref(target) = types.get(base) {
            ptr = ptr.cast::<*mut u8>().read();
            loads += 1;
            if ptr.is_null() {
                return Err(null_access(types, ty).into());
            }
            ty = *target;
            (base, quals) = types.unqualified(ty);
        }
        let mut is_const = quals.is_const;
        match (types.get(base), &key) {
            (CType::Pointer(elem) | CType::Array { elem, .. }, _) => {
                let elem = *elem;
                if let CType::Pointer(_) = types.get(base) {
                    ptr = ptr.cast::<*mut u8>().read();
                    loads += 1;
                }
                let (elem_base, elem_quals) = types.unqualified(elem);
                match key {
                    Key::Number(i) => {
                        let Some(esize) = types.size_of(elem) else {
                            return Err(Miss::Error(LuaError::msg(format!(
                                "size of C type '{}' is unknown",
                                types.type_name(elem)
                            ))));
                        };
                        if ptr.is_null() {
                            return Err(null_access(types, ty).into());
                        }
                        let offset = i.wrapping_mul(esize as i64) as isize;
                        Ok(Place {
                            ty: elem,
                            ptr: ptr.wrapping_offset(offset),
                            bits: None,
                            is_const: elem_quals.is_const,
                            route: Route::Element,
                        })
                    }
                    _ if matches!(types.get(elem_base), CType::Record(_))
                        && matches!(types.get(base), CType::Pointer(_)) =>
                    {
                        // `p.name` on a pointer to a record: an automatic `->` (not on
                        // an array of records, as in LuaJIT).
                        let Key::Name(name) = key else {
                            return Err(Miss::Type(elem_base, elem_quals.is_const));
                        };
                        if ptr.is_null() {
                            // A constant needs no memory (LuaJIT reads it through NULL).
                            return Err(record_constant(types, elem_base, name)
                                .unwrap_or_else(|| null_access(types, ty).into()));
                        }
                        member(st, elem_base, ptr, name, elem_quals.is_const, loads)
                    }
                    _ => Err(Miss::Type(base, is_const)),
                }
            }
            (CType::Record(_), Key::Name(name)) => member(st, base, ptr, name, is_const, loads),
            (CType::Vector { elem, .. }, Key::Number(i)) => {
                // As in LuaJIT, a vector's elements are read, never written.
                let esize = types.size_of(*elem).unwrap_or(0);
                Ok(Place {
                    ty: *elem,
                    ptr: ptr.wrapping_offset(i.wrapping_mul(esize as i64) as isize),
                    bits: None,
                    is_const: true,
                    route: Route::Other,
                })
            }
            (CType::Complex(kind), Key::Name(_) | Key::Number(_)) => {
                let part = match key {
                    Key::Name(b"re") => 0,
                    Key::Name(b"im") => 1,
                    // LuaJIT masks a number (`idx &= 1` in lj_cdata_index): c[2] is the
                    // real part, c[-1] and c[3] the imaginary part.
                    Key::Number(i) => (i & 1) as usize,
                    _ => return Err(Miss::Type(base, is_const)),
                };
                let (part_ty, part_size) = match kind {
                    FloatKind::Float => (types.builtins().float, 4),
                    _ => (types.builtins().double, 8),
                };
                is_const = true;
                Ok(Place {
                    ty: part_ty,
                    ptr: ptr.add(part * part_size),
                    bits: None,
                    is_const,
                    route: Route::Other,
                })
            }
            _ => Err(Miss::Type(base, is_const)),
        }
    }
}

/// Member `name` of the record `record` stored at `ptr`, which the cdata's payload
/// leads to after `loads` pointer reads.
fn member(
    st: &FfiState,
    record: TypeId,
    ptr: *mut u8,
    name: &[u8],
    container_const: bool,
    loads: u32,
) -> Result<Place, Miss> {
    let Some(found) = st.members.find(&st.types(), record, name) else {
        return Err(
            record_constant(&st.types(), record, name).unwrap_or(Miss::NoMember {
                record,
                is_const: container_const,
                loads,
            }),
        );
    };
    let route = match (loads, u32::try_from(found.offset)) {
        (0 | 1, Ok(offset)) => Route::Member(FieldRoute {
            indirect: loads == 1,
            offset,
        }),
        _ => Route::Other,
    };
    Ok(Place {
        ty: found.ty,
        ptr: ptr.wrapping_add(found.offset as usize),
        bits: found.bits,
        is_const: container_const || found.is_const,
        route,
    })
}

/// The constant `name` of `record` (a record type, else none), as a [`Miss`].
fn record_constant(types: &TypeTable, record: TypeId, name: &[u8]) -> Option<Miss> {
    let name = std::str::from_utf8(name).ok()?;
    let constant = types.find_constant(record, name)?;
    Some(Miss::Constant(constant.ty, constant.value))
}

// ---- the fast paths of `p[i]` and `p.name` ----------------------------------------------

/// The ffi state and the cdata at argument 1 of the running `__index`/`__newindex`, for
/// the fast paths: `None` unless the function got at least `args` arguments, upvalue 1
/// is still this module's state box (with a state not yet freed) and argument 1 is one
/// of our cdata (not a ctype object).
///
/// # Safety
/// Called from `__index`/`__newindex` of this module (the state as upvalue 1), `frame`
/// its frame. Runs outside `lua::entry`: nothing here may raise or panic.
#[inline(always)]
unsafe fn fast_self(
    frame: stack::Frame,
    args: c_int,
) -> Option<(*const FfiState, *mut CDataHeader)> {
    // A direct call through `debug.getmetatable` may pass any number of arguments and
    // anything as argument 1, and the upvalue can be replaced by `debug.setupvalue`.
    // SAFETY: arguments are read only once the count is known; the upvalue and argument
    // 1 only once their tags say StateBox and cdata, inside long-enough blocks.
    unsafe {
        if !frame.has_args(args) {
            return None;
        }
        let state = StateBox::state_of_frame(frame)?;
        // The whole tag word at once: our tag, and a value right after the header.
        let header = frame
            .userdata(1, crate::cdata::HEADER_BYTES)
            .cast::<CDataHeader>();
        if header.is_null() || !(*header).is_plain_value() {
            return None;
        }
        Some((state, header))
    }
}

/// Element `key` of the cdata at argument 1, for the fast path of `p[i]`: how to access
/// it, the state (for a struct element's new reference) and its address, when argument
/// 2 is an integer (or an integral float) and argument 1 a cdata pointer (not NULL) or
/// array whose type the state's element cache knows (see
/// [`crate::cdata::element_cache`]). The address is the one [`locate_place`] computes.
/// `None` leaves the access to the general path, which handles (and raises for)
/// everything else.
///
/// # Safety
/// As [`fast_self`], with `args` the metamethod's argument count (2 or 3).
#[inline(always)]
unsafe fn fast_element(
    frame: stack::Frame,
    args: c_int,
) -> Option<(ElementAccess, *const FfiState, *mut u8)> {
    // The element cache is only read here; the general path writes it, in calls that
    // never run Lua code while they do. The address is computed as `locate_place` does,
    // and read or written only by the caller after the NULL check.
    // SAFETY: see `fast_self`, which checks the argument count first.
    unsafe {
        let (state, header) = fast_self(frame, args)?;
        let key = match frame.number(2) {
            stack::Peeked::Int(i) => i,
            stack::Peeked::Float(x) => integral(x)?,
            stack::Peeked::Unknown => return None,
        };
        // Unguarded (no borrow count kept): the cache's only writer is the general
        // path, which cannot run while the entry is copied out.
        let access = (*state)
            .elements
            .try_borrow_unguarded()
            .ok()?
            .get((*header).ty)?;
        let mut elements = crate::cdata::plain_payload(header);
        if access.through_pointer {
            elements = elements.cast::<*mut u8>().read();
            if elements.is_null() {
                return None;
            }
        }
        let offset = key.wrapping_mul(i64::from(access.size)) as isize;
        Some((access, state, elements.wrapping_offset(offset)))
    }
}

/// Member `name` (the address of argument 2's bytes, a short string) of the cdata at
/// argument 1, for the fast path of `p.name`: how to access it, the state and its
/// address, when the state's field cache knows the name for the cdata's type (see
/// [`crate::cdata::field_cache`]) and a pointer or reference on the way is not NULL. The
/// address is the one [`locate_place`] computes (for a method, the record's). `None`
/// leaves the access to the general path.
///
/// # Safety
/// As [`fast_element`]; `name` is what `frame.key_class(2)` found.
#[inline(always)]
unsafe fn fast_field(
    frame: stack::Frame,
    args: c_int,
    name: *const std::ffi::c_char,
) -> Option<(FieldAccess, *const FfiState, *mut u8)> {
    // As in `fast_element`, for the field cache; a name is compared by address only,
    // and the address is trusted only once `fast_self` has checked the argument count.
    // SAFETY: as in `fast_element`.
    unsafe {
        let (state, header) = fast_self(frame, args)?;
        // Unguarded, as in `fast_element`.
        let access = (*state)
            .fields
            .try_borrow_unguarded()
            .ok()?
            .get((*header).ty, name as usize)?;
        let mut record = crate::cdata::plain_payload(header);
        if access.route.indirect {
            record = record.cast::<*mut u8>().read();
            if record.is_null() {
                return None;
            }
        }
        Some((
            access,
            state,
            record.wrapping_add(access.route.offset as usize),
        ))
    }
}

/// The integer a float key stands for, if it is integral (which [`read_key`] converts
/// to the same number).
#[inline(always)]
fn integral(x: f64) -> Option<i64> {
    let i = f64_to_i64(x);
    (i as f64 == x).then_some(i)
}

/// Stores argument 3, a number or a boolean, into the scalar at `ptr` as
/// `store_sized(.., Conv::ASSIGN)` would; `false` (nothing written) for a place the
/// fast path does not write (`read` not a scalar) or any other value.
///
/// # Safety
/// As [`fast_element`], with `ptr` the address of a place that `read` reads and that
/// may be written.
#[inline(always)]
unsafe fn store_direct(l: *mut State, frame: stack::Frame, read: DirectRead, ptr: *mut u8) -> bool {
    let DirectRead::Scalar(scalar) = read else {
        return false;
    };
    // SAFETY: `ptr` is the place's address (caller); the stores write its width.
    unsafe {
        let number = match frame.number(3) {
            stack::Peeked::Int(i) => LuaNumber::Int(i),
            stack::Peeked::Float(x) => LuaNumber::Float(x),
            // As `store_sized` converts a boolean to any scalar.
            stack::Peeked::Unknown if sys::lua_type(l, 3) == sys::LUA_TBOOLEAN => {
                let b = sys::lua_toboolean(l, 3) != 0;
                store_scalar(ptr, scalar.store(), Num::Int(i64::from(b)));
                return true;
            }
            stack::Peeked::Unknown => return false,
        };
        store_number(ptr, scalar, number);
    }
    true
}

/// Teaches the fast paths what the general path found at `place` in a cdata of type
/// `ty` (argument 1, with the key at argument 2): the cdata type's elements, or the
/// member named by a short string. Runs in the body of `__index`/`__newindex` once the
/// access is done; owns nothing while it allocates.
///
/// # Safety
/// `l` is live with three free slots, inside `__index`/`__newindex` with at least two
/// arguments; `place` was located in the cdata at argument 1.
unsafe fn learn(l: *mut State, st: &FfiState, ty: TypeId, place: &Place) -> LuaResult<()> {
    // SAFETY: forwarded.
    unsafe {
        match place.route {
            Route::Element if !st.elements.borrow().knows(ty) => learn_elements(st, ty),
            Route::Member(route) => learn_field(l, st, ty, place, route),
            _ => Ok(()),
        }
    }
}

/// Records the elements of the pointer or array type `ty` in the element cache.
#[cold]
fn learn_elements(st: &FfiState, ty: TypeId) -> LuaResult<()> {
    let plan = element_plan(&st.types(), ty);
    let access = match plan {
        Some(plan) => Some(ElementAccess {
            read: match plan.shape {
                ValueShape::Scalar(scalar) => DirectRead::Scalar(scalar),
                _ => DirectRead::Reference(st.reference_to(plan.elem)?),
            },
            size: plan.size,
            through_pointer: plan.through_pointer,
            read_only: plan.read_only,
        }),
        None => None,
    };
    let types_len = st.types().len();
    st.elements.borrow_mut().record(types_len, ty, access);
    Ok(())
}

/// Records member `place` (reached by `route`) of the cdata type `ty` in the field
/// cache, under the address of the name at argument 2, if that is a short string the
/// cache does not know yet and the member reads as a scalar, a reference or a pointer.
///
/// # Safety
/// As [`learn`].
unsafe fn learn_field(
    l: *mut State,
    st: &FfiState,
    ty: TypeId,
    place: &Place,
    route: FieldRoute,
) -> LuaResult<()> {
    // SAFETY: `l` is live inside a metamethod with at least two arguments (caller).
    let Some(frame) = (unsafe { stack::Frame::of(l) }) else {
        return Ok(());
    };
    // SAFETY: argument 2 was passed (caller).
    let stack::KeyClass::ShortString(name) = (unsafe { frame.key_class(2) }) else {
        return Ok(());
    };
    if place.bits.is_some() || st.fields.borrow().get(ty, name as usize).is_some() {
        return Ok(());
    }
    let (shape, read_only) = {
        let types = st.types();
        let (base, _) = types.unqualified(place.ty);
        let read_only = place.is_const || holds_const(&types, place.ty);
        (value_shape(&types, base), read_only)
    };
    let read = match shape {
        // On 5.1/5.2 every 64-bit integer reads as a cdata box (see `push_c_value`).
        ValueShape::Scalar(scalar) if scalar.is_wide_int() && !crate::lua::version::INTEGERS => {
            return Ok(())
        }
        ValueShape::Scalar(scalar) => DirectRead::Scalar(scalar),
        ValueShape::Aggregate => DirectRead::Reference(st.reference_to(place.ty)?),
        ValueShape::Pointer => DirectRead::Pointer(st.types().unqualified(place.ty).0),
        ValueShape::Other => return Ok(()),
    };
    let access = FieldAccess {
        route,
        kind: FieldKind::Member {
            read,
            read_only: read_only || !matches!(read, DirectRead::Scalar(_)),
        },
    };
    // SAFETY: forwarded (caller).
    unsafe { record_field(l, st, ty, name, access) };
    Ok(())
}

/// Records `access` for the name at argument 2 (whose bytes are at `name`) of the cdata
/// type `ty` in the field cache, the name anchored first (see `field_cache`).
///
/// # Safety
/// `l` is live with three free slots, inside `__index`/`__newindex` with the name at
/// argument 2; the calling frames own nothing that an allocation's error could skip.
unsafe fn record_field(
    l: *mut State,
    st: &FfiState,
    ty: TypeId,
    name: *const std::ffi::c_char,
    access: FieldAccess,
) {
    // SAFETY: as documented.
    unsafe {
        sys::lua_rawgeti(
            l,
            sys::LUA_REGISTRYINDEX,
            sys::lua_Integer::from(st.field_names),
        );
        sys::lua_pushvalue(l, 2);
        sys::lua_pushboolean(l, 1);
        sys::lua_rawset(l, -3);
        sys::lua_settop(l, -2);
    }
    st.fields.borrow_mut().insert(ty, name as usize, access);
}

/// Records in the field cache that the name at argument 2, if a short string, reads as
/// the registry value `value` for every cdata of type `ty` (see [`FieldKind::Fixed`]).
/// Runs in the body of `__index`, once the value is pushed.
///
/// # Safety
/// `l` is live with three free slots, inside `__index` with the name at argument 2;
/// the calling frames own nothing that an allocation's error could skip.
unsafe fn learn_fixed(l: *mut State, st: &FfiState, ty: TypeId, value: c_int) {
    // SAFETY: as documented.
    unsafe {
        let Some(frame) = stack::Frame::of(l) else {
            return;
        };
        let stack::KeyClass::ShortString(name) = frame.key_class(2) else {
            return;
        };
        if st.fields.borrow().get(ty, name as usize).is_some() {
            return;
        }
        let access = FieldAccess {
            // Nothing is read from the cdata.
            route: FieldRoute {
                indirect: false,
                offset: 0,
            },
            kind: FieldKind::Fixed { value },
        };
        record_field(l, st, ty, name, access);
    }
}

/// Records in the field cache that the name at argument 2, which the record `record`
/// lacks, is looked up in its metatype's `__index` table for a cdata of type `ty`
/// (reached through `loads` pointer reads): if it is a short string, the metatype's
/// `__index` is a table that has it, and there is room (see
/// [`crate::cdata::field_cache::MAX_METHOD_NAMES`]). Runs before `forward_index`, in the
/// body of `__index`.
///
/// # Safety
/// As [`learn`].
unsafe fn learn_method(
    l: *mut State,
    st: &FfiState,
    ty: TypeId,
    record: TypeId,
    loads: u32,
) -> LuaResult<()> {
    // SAFETY: `l` is live inside `__index` with two arguments and three free slots
    // (caller); only raw lookups, then `luaL_ref` and the anchoring, which allocate
    // while this frame owns nothing.
    unsafe {
        let Some(frame) = stack::Frame::of(l) else {
            return Ok(());
        };
        let stack::KeyClass::ShortString(name) = frame.key_class(2) else {
            return Ok(());
        };
        let known = {
            let fields = st.fields.borrow();
            fields.get(ty, name as usize).is_some() || !fields.has_room_for_a_method()
        };
        if loads > 1 || known || !push_metatable(l, st, record) {
            return Ok(());
        }
        // Only a name the `__index` table has now (raw), so that names looked up in
        // vain are not kept alive.
        let top = sys::lua_gettop(l);
        sys::lua_rawgeti(
            l,
            sys::LUA_REGISTRYINDEX,
            sys::lua_Integer::from(st.index_name),
        );
        sys::lua_rawget(l, top);
        let has_it = sys::lua_type(l, -1) == sys::LUA_TTABLE && {
            sys::lua_pushvalue(l, 2);
            sys::lua_rawget(l, -2) != sys::LUA_TNIL
        };
        if !has_it {
            sys::lua_settop(l, top - 1);
            return Ok(());
        }
        // The `__index` table (the metatable stays as it is: see `FieldKind::Method`).
        sys::lua_settop(l, top + 1);
        let index_table = sys::luaL_ref(l, sys::LUA_REGISTRYINDEX);
        sys::lua_settop(l, top - 1);
        let access = FieldAccess {
            route: FieldRoute {
                indirect: loads == 1,
                offset: 0,
            },
            kind: FieldKind::Method {
                record,
                index_table,
            },
        };
        record_field(l, st, ty, name, access);
        Ok(())
    }
}

/// The fast path of a method name (`ring:push`, see [`FieldKind::Method`]): the
/// metatype's `__index` table looked up with the key as the general path's
/// [`LookUpMember`] does (its error for a name the table lacks included).
///
/// # Safety
/// As [`index`], after [`fast_field`] found a method entry.
#[inline(never)]
unsafe fn index_method(l: *mut State, record: TypeId, index_table: c_int) -> c_int {
    // SAFETY: a raw lookup in the registry (the reference was made with the entry),
    // then the lookup that may run Lua code, in a frame that owns nothing (as
    // `LookUpMember` runs after a body).
    unsafe {
        sys::lua_rawgeti(
            l,
            sys::LUA_REGISTRYINDEX,
            sys::lua_Integer::from(index_table),
        );
        sys::lua_pushvalue(l, 2);
        lua::Continue::run(LookUpMember { ty: record }, l)
    }
}

// ---- __index and __newindex --------------------------------------------------------------

/// `__index`: reads an element or member (see [`locate`]); what the C type does not
/// have, its metatype's `__index` may answer (`ffi_index_meta`). A member named by a
/// short string, and an element by number, take a fast path ([`fast_field`],
/// [`fast_element`]) once the general path has met the cdata's type.
unsafe extern "C-unwind" fn index(l: *mut State) -> c_int {
    // SAFETY: Lua calls `__index` with one of our userdata as argument 1 and the key;
    // each branch is a tail call, so telling the key costs a tag test and no frame.
    unsafe {
        let Some(frame) = stack::Frame::of(l) else {
            return index_general(l);
        };
        match frame.key_class(2) {
            stack::KeyClass::ShortString(name) => index_field(l, frame, name),
            stack::KeyClass::Number => index_element(l, frame),
            stack::KeyClass::Other => index_general(l),
        }
    }
}

/// [`index`] with a key that is a short string: the fast path, else the general one.
///
/// # Safety
/// As [`index`], `frame` its frame and `name` what `frame.key_class(2)` found.
#[inline(never)]
unsafe fn index_field(l: *mut State, frame: stack::Frame, name: *const std::ffi::c_char) -> c_int {
    // SAFETY: forwarded from `index`.
    unsafe {
        if let Some((access, st, ptr)) = fast_field(frame, 2, name) {
            match access.kind {
                FieldKind::Member { read, .. } => {
                    if push_direct(l, &*st, read, ptr) {
                        return 1;
                    }
                }
                FieldKind::Method {
                    record,
                    index_table,
                } => {
                    return index_method(l, record, index_table);
                }
                FieldKind::Fixed { value } => {
                    // SAFETY: the reference was made when the entry was.
                    sys::lua_rawgeti(l, sys::LUA_REGISTRYINDEX, sys::lua_Integer::from(value));
                    return 1;
                }
            }
        }
        index_general(l)
    }
}

/// [`index`] with a key that is a number: the fast path, else the general one.
///
/// # Safety
/// As [`index`], `frame` its frame.
#[inline(never)]
unsafe fn index_element(l: *mut State, frame: stack::Frame) -> c_int {
    // SAFETY: forwarded from `index`.
    unsafe {
        if let Some((access, st, ptr)) = fast_element(frame, 2) {
            if push_direct(l, &*st, access.read, ptr) {
                return 1;
            }
        }
        index_general(l)
    }
}

/// The general path of [`index`], in a function of its own so that the fast path pays
/// for none of its frame.
///
/// # Safety
/// As [`index`].
#[inline(never)]
unsafe fn index_general(l: *mut State) -> c_int {
    // SAFETY: forwarded from `index`.
    unsafe {
        lua::entry_continue(l, || {
            let st = FfiState::get(l)?;
            let header = self_arg(l, st, "__index")?;
            exactly_args(l, 2);
            let place = match locate(l, st, header)? {
                Lookup::Found(place) => place,
                Lookup::Constant { ty, value } => {
                    // The value is converted to `ty` already: on these little-endian
                    // targets its first bytes are the C value, aligned for any integer.
                    let bits = value as u64;
                    push_c_value(l, st, ty, std::ptr::addr_of!(bits).cast::<u8>())?;
                    return Ok(Next::Return(1));
                }
                Lookup::Missing { ty, via_record, .. } => {
                    // A callback's methods, not a ctype object's (LuaJIT raises for
                    // `ffi.typeof("int (*)(int)").free`).
                    let method = match (*header).kind() {
                        CDataKind::CType => None,
                        _ => (st.hooks.callback_method)(l, st, (*header).ty),
                    };
                    if let Some(method) = method {
                        sys::lua_rawgeti(l, sys::LUA_REGISTRYINDEX, sys::lua_Integer::from(method));
                        learn_fixed(l, st, (*header).ty, method);
                        return Ok(Next::Return(1));
                    }
                    if let Some(loads) = via_record {
                        learn_method(l, st, (*header).ty, ty, loads)?;
                    }
                    return forward_index(l, st, ty, "__index");
                }
            };
            match place.bits {
                Some(bits) => push_bitfield(l, &st.types(), place.ty, place.ptr, bits),
                None => push_c_value(l, st, place.ty, place.ptr)?,
            }
            learn(l, st, (*header).ty, &place)?;
            Ok(Next::Return(1))
        })
    }
}

/// Leaves exactly `n` arguments on the stack (`lua_settop(l, n)`), skipping the call
/// in the usual case that Lua passed that many (a direct call may pass any number).
///
/// # Safety
/// `l` is live and running a C function.
#[inline(always)]
unsafe fn exactly_args(l: *mut State, n: c_int) {
    // SAFETY: forwarded.
    unsafe {
        if stack::arg_count(l) != n {
            sys::lua_settop(l, n);
        }
    }
}

/// `__newindex`: converts argument 3 and stores it into an element or member; what the
/// C type does not have goes to its metatype's `__newindex`. A number or boolean stored
/// into a scalar member or element that is not const takes a fast path
/// ([`fast_field`], [`fast_element`]).
unsafe extern "C-unwind" fn newindex(l: *mut State) -> c_int {
    // SAFETY: Lua calls `__newindex` with one of our userdata as argument 1, the key and
    // the value; as in `index`.
    unsafe {
        let Some(frame) = stack::Frame::of(l) else {
            return newindex_general(l);
        };
        match frame.key_class(2) {
            stack::KeyClass::ShortString(name) => newindex_field(l, frame, name),
            stack::KeyClass::Number => newindex_element(l, frame),
            stack::KeyClass::Other => newindex_general(l),
        }
    }
}

/// [`newindex`] with a key that is a short string: the fast path, else the general one.
///
/// # Safety
/// As [`newindex`], `frame` its frame and `name` what `frame.key_class(2)` found.
#[inline(never)]
unsafe fn newindex_field(
    l: *mut State,
    frame: stack::Frame,
    name: *const std::ffi::c_char,
) -> c_int {
    // SAFETY: forwarded from `newindex`.
    unsafe {
        if let Some((access, _, ptr)) = fast_field(frame, 3, name) {
            if let FieldKind::Member {
                read,
                read_only: false,
            } = access.kind
            {
                if store_direct(l, frame, read, ptr) {
                    return 0;
                }
            }
        }
        newindex_general(l)
    }
}

/// [`newindex`] with a key that is a number: the fast path, else the general one.
///
/// # Safety
/// As [`newindex`], `frame` its frame.
#[inline(never)]
unsafe fn newindex_element(l: *mut State, frame: stack::Frame) -> c_int {
    // SAFETY: forwarded from `newindex`.
    unsafe {
        if let Some((access, _, ptr)) = fast_element(frame, 3) {
            if !access.read_only && store_direct(l, frame, access.read, ptr) {
                return 0;
            }
        }
        newindex_general(l)
    }
}

/// The general path of [`newindex`] (see [`index_general`]).
///
/// # Safety
/// As [`newindex`].
#[inline(never)]
unsafe fn newindex_general(l: *mut State) -> c_int {
    // SAFETY: forwarded from `newindex`.
    unsafe {
        lua::entry_continue(l, || {
            let st = FfiState::get(l)?;
            let header = self_arg(l, st, "__newindex")?;
            exactly_args(l, 3);
            let located = match locate(l, st, header)? {
                Lookup::Found(place) => place,
                Lookup::Missing { is_const: true, .. } | Lookup::Constant { .. } => {
                    return Err(LuaError::msg("attempt to write to constant location"));
                }
                Lookup::Missing { ty, .. } => return forward_index(l, st, ty, "__newindex"),
            };
            let mut place = located;
            let reference_target = match st.types().get(st.types().unqualified(place.ty).0) {
                CType::Ref(target) => Some(*target),
                _ => None,
            };
            if let Some(target) = reference_target {
                // A reference member (`int &r`) is written through (`lj_cdata_set`).
                let address = place.ptr.cast::<*mut u8>().read_unaligned();
                if address.is_null() {
                    return Err(null_access(&st.types(), place.ty));
                }
                place.ptr = address;
                place.ty = target;
            }
            // LuaJIT takes a record with a const member, or an array of const elements,
            // as const as a whole.
            if place.is_const || holds_const(&st.types(), place.ty) {
                return Err(LuaError::msg("attempt to write to constant location"));
            }
            match place.bits {
                Some(bits) => store_bitfield(l, st, place.ty, place.ptr, bits, 3)?,
                None => {
                    let room = member_room(l, st, header, &place);
                    store_sized(l, st, place.ty, place.ptr, room, 3, Conv::ASSIGN)?
                }
            }
            learn(l, st, (*header).ty, &located)?;
            Ok(Next::Return(0))
        })
    }
}

/// The bytes from `place` to the end of the cdata at argument 1 (`header`), when
/// `place` is a `[?]`, `[]` or `[0]` array member of that record value (a
/// variable-length struct from `ffi.new`): what a string or table stored there may fill.
/// `None` elsewhere, where the type says nothing of the room (see `store_string`).
///
/// # Safety
/// `l` is live with argument 1 the cdata of `header`; `place` was located in it.
unsafe fn member_room(
    l: *mut State,
    st: &FfiState,
    header: *const CDataHeader,
    place: &Place,
) -> Option<u64> {
    // A short borrow, no copy of the type: this runs on every member store.
    let align = {
        let types = st.types();
        let is_open_array = matches!(
            types.get(types.unqualified(place.ty).0),
            CType::Array {
                len: ArrayLen::Variable | ArrayLen::Flexible | ArrayLen::Fixed(0),
                ..
            }
        );
        if !is_open_array {
            return None;
        }
        // SAFETY: `header` is the live cdata at argument 1 (caller).
        let holder = unsafe { (*header).ty };
        if !matches!(types.get(types.unqualified(holder).0), CType::Record(_)) {
            return None;
        }
        types.align_of(holder)
    };
    // SAFETY: as above; a record value's members lie inside its payload.
    let start = unsafe { payload(header) } as usize;
    // SAFETY: argument 1 is the cdata of `header`, whose type is `holder` (caller).
    let size = unsafe { value_size(l, 1, align) };
    let at = place.ptr as usize;
    (start..=start + size)
        .contains(&at)
        .then(|| (start + size - at) as u64)
}

/// A key the C type `ty` lacks: hands `__index`/`__newindex` (`event`) to the metatype
/// of `ty` (a function is called with the original arguments, a table indexed, a nil
/// result being an error), else raises LuaJIT's error for the key.
///
/// # Safety
/// `l` is live inside an `__index`/`__newindex` call (arguments 1..2 or 1..3).
unsafe fn forward_index(
    l: *mut State,
    st: &FfiState,
    ty: TypeId,
    event: &str,
) -> LuaResult<Next<LookUpMember>> {
    let setting = event == "__newindex";
    // SAFETY: `l` is live with the metamethod's arguments (caller).
    unsafe {
        let nargs = if setting { 3 } else { 2 };
        sys::lua_settop(l, nargs);
        if !push_metamethod(l, st, ty, event) {
            let key = read_key(l, st, 2);
            return Err(cannot_index(l, st, ty, &key));
        }
        if sys::lua_type(l, -1) == sys::LUA_TFUNCTION {
            for i in 1..=nargs {
                sys::lua_pushvalue(l, i);
            }
            return Ok(Next::Call { args: nargs });
        }
        if setting {
            // The stack becomes `handler, key, value`.
            sys::lua_pushvalue(l, 2);
            sys::lua_pushvalue(l, 3);
            return Ok(Next::Set);
        }
        // `handler, key`: the lookup runs once the body has returned; the "no member"
        // error is built only if it finds nothing.
        sys::lua_pushvalue(l, 2);
        Ok(Next::Continue(LookUpMember { ty }))
    }
}

/// The last step of `cdata.name` answered by a metatype's `__index` table: with the
/// stack ending in `table, key` (the cdata and the key at 1 and 2), returns
/// `table[key]` (honouring the table's own metamethods), or raises LuaJIT's error for a
/// key the C type `ty` lacks if that is nil. Runs after the body of [`index`] has
/// dropped everything it owned, so the lookup may run Lua code and raise.
pub struct LookUpMember {
    ty: TypeId,
}

impl lua::Continue for LookUpMember {
    unsafe fn run(self, l: *mut State) -> c_int {
        // The error is built inside an entry of its own, which drops its strings before
        // it raises (with the caller's position: the same function is running).
        // SAFETY: `l` is live with the stack as described; this frame owns nothing
        // with a destructor.
        unsafe {
            if sys::lua_gettable(l, -2) != sys::LUA_TNIL {
                return 1;
            }
            let ty = self.ty;
            lua::entry(l, || {
                let st = FfiState::get(l)?;
                let key = read_key(l, st, 2);
                Err(cannot_index(l, st, ty, &key))
            })
        }
    }
}

/// `__call`: a ctype object makes a new cdata (as `ffi.new`, unless its metatype has
/// `__new`); a cdata whose metatype has `__call` calls it. Calling C functions through
/// cdata comes with the call machinery.
unsafe extern "C-unwind" fn call(l: *mut State) -> c_int {
    // SAFETY: Lua calls `__call` with one of our userdata as argument 1.
    unsafe {
        if let Some(frame) = stack::Frame::of(l) {
            if crate::cdata::construct::call_fast(l, frame).is_some() {
                return 1;
            }
        }
        lua::entry_next(l, || {
            let st = FfiState::get(l)?;
            let block = self_arg(l, st, "__call")?;
            let header: CDataHeader = *block;
            let is_ctype = header.kind() == CDataKind::CType;
            let event = if is_ctype { "__new" } else { "__call" };
            let nargs = sys::lua_gettop(l);
            if push_operand_metamethod(l, st, header.ty, event) {
                sys::lua_insert(l, 1);
                return Ok(Next::Call { args: nargs });
            }
            if is_ctype {
                crate::cdata::construct::new_value(l, st, header.ty, 2)?;
                return Ok(Next::Return(1));
            }
            Ok(Next::Delegate(st.hooks.call_cdata))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::number_text;

    #[test]
    fn numbers_print_as_percent_14g() {
        for (x, text) in [
            (1.0, "1"),
            (-2.0, "-2"),
            (0.5, "0.5"),
            (1e100, "1e+100"),
            (1e15, "1e+15"),
            (1e-5, "1e-05"),
            (0.0001, "0.0001"),
            (123456789012345.0, "1.2345678901234e+14"),
            (0.1, "0.1"),
            (1.0 / 3.0, "0.33333333333333"),
        ] {
            assert_eq!(number_text(x), text, "{x}");
        }
    }
}
