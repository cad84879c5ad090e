//! The metatable shared by every cdata and ctype object, and its metamethods.

use crate::cdata::{payload, to_cdata, CDataHeader, CDataKind};
use crate::convert::{
    cdata_as_i64, f64_to_i64, null_access, push_bitfield, push_c_value, store_bitfield,
    store_lua_value, Conv,
};
use crate::lua::{self, LuaError, LuaResult, State};
use crate::state::FfiState;
use crate::types_api::push_ctype_name;
use jitffi_ctype::{BitField, CType, FloatKind, IntType, TypeId, TypeTable};
use mlua_sys as sys;
use std::os::raw::c_int;

/// Builds the cdata metatable (its functions get the state at `state_index` as upvalue 1)
/// and returns its registry reference.
///
/// # Safety
/// `l` is live with four free slots; `state_index` is an absolute index of the state.
pub unsafe fn new_cdata_metatable(l: *mut State, state_index: c_int) -> c_int {
    // SAFETY: `l` is live (caller).
    unsafe {
        sys::lua_createtable(l, 0, 8);
        let methods: [(&str, sys::lua_CFunction); 4] = [
            ("__tostring", tostring),
            ("__index", index),
            ("__newindex", newindex),
            ("__call", call),
        ];
        for &(name, function) in methods.iter().chain(crate::arith::METHODS) {
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

/// `__tostring`: `ctype<int>` for a ctype object.
unsafe extern "C-unwind" fn tostring(l: *mut State) -> c_int {
    // SAFETY: Lua calls `__tostring` with one of our userdata as argument 1.
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            let header: CDataHeader = *sys::lua_touserdata(l, 1).cast::<CDataHeader>();
            match header.kind {
                CDataKind::CType => push_ctype_name(l, st, header.ty),
                CDataKind::Value => {
                    let value = payload(sys::lua_touserdata(l, 1).cast());
                    let text = cdata_text(&st.types, header.ty, value);
                    lua::push_str(l, &text);
                }
            }
            Ok(1)
        })
    }
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
        // LuaJIT's own quirk: `1.5+nanI`.
        "+nanI".to_owned()
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
/// its bitfield placement, and whether it may not be written.
struct Place {
    ty: TypeId,
    ptr: *mut u8,
    bits: Option<BitField>,
    is_const: bool,
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
/// `l` is live with two free slots; the key stays on the stack while used.
unsafe fn read_key<'a>(l: *mut State, st: &FfiState, index: c_int) -> Key<'a> {
    // SAFETY: `l` is live (caller).
    unsafe {
        match sys::lua_type(l, index) {
            sys::LUA_TNUMBER => {
                #[cfg(any(feature = "lua53", feature = "lua54"))]
                if sys::lua_isinteger(l, index) != 0 {
                    return Key::Number(sys::lua_tointegerx(l, index, std::ptr::null_mut()));
                }
                Key::Number(f64_to_i64(sys::lua_tonumber(l, index)))
            }
            sys::LUA_TSTRING => Key::Name(lua::to_bytes(l, index).unwrap_or_default()),
            sys::LUA_TUSERDATA => match to_cdata(l, st, index) {
                Some(header) => match cdata_as_i64(&st.types, header) {
                    Some(n) => Key::Number(n),
                    None => Key::Other("cdata"),
                },
                None => Key::Other("userdata"),
            },
            _ => Key::Other(lua::type_name(l, index)),
        }
    }
}

fn cannot_index(types: &TypeTable, ty: TypeId, key: &Key<'_>) -> LuaError {
    let name = types.type_name(ty);
    match key {
        Key::Name(member) => LuaError::msg(format!(
            "'{name}' has no member named '{}'",
            String::from_utf8_lossy(member)
        )),
        Key::Number(_) => LuaError::msg(format!("'{name}' cannot be indexed with 'number'")),
        Key::Other(what) => LuaError::msg(format!("'{name}' cannot be indexed with '{what}'")),
    }
}

/// Resolves `cdata[key]` for the cdata at argument 1 and the key at argument 2
/// (`lj_cdata_index`): pointers and arrays by element number (no bounds checks, as in
/// LuaJIT), records by member name (through a pointer too), complex numbers by `re`/`im`;
/// references are looked through. A NULL pointer is an error instead of a crash.
///
/// # Safety
/// `l` is live; argument 1 is one of our userdata.
unsafe fn locate(l: *mut State, st: &FfiState, header: *const CDataHeader) -> LuaResult<Place> {
    let types = &st.types;
    // SAFETY: `header` is a live cdata block (caller); every address computed below is
    // the one C would compute, read only after the NULL checks.
    unsafe {
        let key = read_key(l, st, 2);
        if (*header).kind == CDataKind::CType {
            return Err(cannot_index(types, (*header).ty, &key));
        }
        let mut ty = (*header).ty;
        let mut ptr = payload(header);
        let (mut base, mut quals) = types.unqualified(ty);
        if let CType::Ref(target) = types.get(base) {
            ptr = ptr.cast::<*mut u8>().read();
            if ptr.is_null() {
                return Err(null_access(types, ty));
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
                }
                let (elem_base, elem_quals) = types.unqualified(elem);
                match key {
                    Key::Number(i) => {
                        let Some(esize) = types.size_of(elem) else {
                            return Err(LuaError::msg(format!(
                                "size of C type '{}' is unknown",
                                types.type_name(elem)
                            )));
                        };
                        if ptr.is_null() {
                            return Err(null_access(types, ty));
                        }
                        let offset = i.wrapping_mul(esize as i64) as isize;
                        Ok(Place {
                            ty: elem,
                            ptr: ptr.wrapping_offset(offset),
                            bits: None,
                            is_const: elem_quals.is_const,
                        })
                    }
                    Key::Name(name) if matches!(types.get(elem_base), CType::Record(_)) => {
                        if ptr.is_null() {
                            return Err(null_access(types, ty));
                        }
                        member(types, elem_base, ptr, name, elem_quals.is_const)
                    }
                    _ => Err(cannot_index(types, ty, &key)),
                }
            }
            (CType::Record(_), Key::Name(name)) => member(types, base, ptr, name, is_const),
            (CType::Complex(kind), Key::Name(_) | Key::Number(_)) => {
                let part = match key {
                    Key::Name(b"re") | Key::Number(0) => 0,
                    Key::Name(b"im") | Key::Number(1) => 1,
                    _ => return Err(cannot_index(types, ty, &key)),
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
                })
            }
            _ => Err(cannot_index(types, ty, &key)),
        }
    }
}

/// Member `name` of the record `record` stored at `ptr`.
fn member(
    types: &TypeTable,
    record: TypeId,
    ptr: *mut u8,
    name: &[u8],
    container_const: bool,
) -> LuaResult<Place> {
    let found = std::str::from_utf8(name)
        .ok()
        .and_then(|name| types.find_member(record, name));
    let Some((offset, field)) = found else {
        return Err(cannot_index(types, record, &Key::Name(name)));
    };
    Ok(Place {
        ty: field.ty,
        ptr: ptr.wrapping_add(offset as usize),
        bits: field.bits,
        is_const: container_const || types.unqualified(field.ty).1.is_const,
    })
}

/// `__index`: reads an element or member (see [`locate`]).
unsafe extern "C-unwind" fn index(l: *mut State) -> c_int {
    // SAFETY: Lua calls `__index` with one of our userdata as argument 1.
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            let header = sys::lua_touserdata(l, 1).cast::<CDataHeader>();
            let place = locate(l, st, header)?;
            match place.bits {
                Some(bits) => push_bitfield(l, &st.types, place.ty, place.ptr, bits),
                None => push_c_value(l, st, place.ty, place.ptr)?,
            }
            Ok(1)
        })
    }
}

/// `__newindex`: converts argument 3 and stores it into an element or member.
unsafe extern "C-unwind" fn newindex(l: *mut State) -> c_int {
    // SAFETY: Lua calls `__newindex` with one of our userdata as argument 1.
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            let header = sys::lua_touserdata(l, 1).cast::<CDataHeader>();
            let place = locate(l, st, header)?;
            if place.is_const {
                return Err(LuaError::msg("attempt to write to constant location"));
            }
            match place.bits {
                Some(bits) => store_bitfield(l, st, place.ty, place.ptr, bits, 3)?,
                None => store_lua_value(l, st, place.ty, place.ptr, 3, Conv::ASSIGN)?,
            }
            Ok(0)
        })
    }
}

/// `__call`: a ctype object makes a new cdata (as `ffi.new`); calling C functions
/// through cdata comes with the call machinery.
unsafe extern "C-unwind" fn call(l: *mut State) -> c_int {
    // SAFETY: Lua calls `__call` with one of our userdata as argument 1.
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            let header: CDataHeader = *sys::lua_touserdata(l, 1).cast::<CDataHeader>();
            if header.kind == CDataKind::CType {
                crate::cdata_api::new_value(l, st, header.ty, 2)?;
                return Ok(1);
            }
            Err(LuaError::msg(format!(
                "'{}' is not callable",
                st.types.type_name(header.ty)
            )))
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
