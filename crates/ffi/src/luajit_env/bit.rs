//! `bit`: LuaJIT's BitOp library (`lib_bit.c` of LuaJIT 2.1).
//!
//! On numbers every operation works on 32 bits and returns a signed 32-bit number, as
//! lua-bitop does: an argument is normalized as LuaJIT does it (add 2^52 + 2^51 and keep
//! the low 32 bits of the double, which also defines the result for NaN, infinities
//! and numbers beyond 2^53), and a numeric string is read as a number.
//!
//! With a cdata argument the operation is 64-bit (LuaJIT 2.1) and the result is a new
//! cdata: `uint64_t` if any argument is a `uint64_t`, else `int64_t`. The value of a
//! cdata argument is converted as a C assignment to that type would; in `band`, `bor`
//! and `bxor` so are the plain numbers (`bit.bor(1LL, 2^40)` is `1099511627777LL`),
//! while shift counts and `tohex` widths are read as 32-bit numbers.

use crate::cdata::state::FfiState;
use crate::cdata::{new_cdata, payload, to_cdata, CDataKind};
use crate::lua::{self, LuaError, LuaResult, State};
use crate::scalar::number::{num_to_int_bits, read_num, Num};
use jitffi_ctype::{CType, IntType};
use mlua_sys as sys;
use std::os::raw::c_int;

/// The functions of the table `bit`, each a closure over the ffi state.
pub const FUNCTIONS: [(&str, sys::lua_CFunction); 12] = [
    ("tobit", tobit),
    ("tohex", tohex),
    ("bnot", bnot),
    ("band", band),
    ("bor", bor),
    ("bxor", bxor),
    ("lshift", lshift),
    ("rshift", rshift),
    ("arshift", arshift),
    ("rol", rol),
    ("ror", ror),
    ("bswap", bswap),
];

/// The 64-bit type an operation works in once a cdata argument was seen.
#[derive(Copy, Clone, PartialEq, Debug)]
enum Wide {
    Int64,
    UInt64,
}

impl Wide {
    fn int_type(self) -> IntType {
        match self {
            Wide::Int64 => IntType::I64,
            Wide::UInt64 => IntType::U64,
        }
    }
}

/// LuaJIT's `lj_num2bit`: the low 32 bits of `n` after adding 2^52 + 2^51, which
/// rounds to an integer and wraps modulo 2^32 for every double.
pub fn num_to_bit(n: f64) -> i32 {
    (n + 6_755_399_441_055_744.0).to_bits() as u32 as i32
}

/// One argument read as `lj_carith_check64` reads it.
enum Arg {
    /// A number (or numeric string), as a double: LuaJIT's numbers are doubles.
    Number(f64),
    /// The value of a numeric cdata.
    CData(Num),
}

impl Arg {
    /// The 32-bit value of a number (the low 32 bits of a cdata's value).
    fn bits32(&self, wide: Option<Wide>) -> u64 {
        match *self {
            Arg::Number(n) => u64::from(num_to_bit(n) as u32),
            Arg::CData(num) => num_to_int_bits(num, wide.unwrap_or(Wide::Int64).int_type()),
        }
    }

    /// The value converted to the 64-bit type `wide`, as a C assignment converts it.
    fn bits64(&self, wide: Wide) -> u64 {
        let num = match *self {
            Arg::Number(n) => Num::Float(n),
            Arg::CData(num) => num,
        };
        num_to_int_bits(num, wide.int_type())
    }
}

/// Reads argument `index`; a cdata argument sets `wide` (to `uint64_t` if it is one,
/// else to `int64_t` unless already set).
///
/// # Safety
/// `l` is live; `st` is its ffi state.
unsafe fn check_arg(
    l: *mut State,
    st: &FfiState,
    index: c_int,
    wide: &mut Option<Wide>,
) -> LuaResult<Arg> {
    // SAFETY: `l` is live (caller); a cdata's value is read through its own type, a
    // reference's target only after a NULL check.
    unsafe {
        match sys::lua_type(l, index) {
            sys::LUA_TNUMBER => {
                // A Lua integer (5.3+) too is read as LuaJIT's double.
                return Ok(Arg::Number(sys::lua_tonumber(l, index)));
            }
            sys::LUA_TSTRING if sys::lua_isnumber(l, index) != 0 => {
                return Ok(Arg::Number(sys::lua_tonumber(l, index)));
            }
            sys::LUA_TUSERDATA => {
                if let Some(header) = to_cdata(l, st, index) {
                    if (*header).kind() == CDataKind::Value {
                        let types = st.types();
                        let ty = (*header).ty;
                        let mut ptr: *const u8 = payload(header);
                        let (mut base, _) = types.unqualified(ty);
                        if let CType::Ref(target) = types.get(base) {
                            ptr = ptr.cast::<*const u8>().read();
                            if ptr.is_null() {
                                return Err(crate::cdata::convert::null_access(&types, ty));
                            }
                            base = types.unqualified(*target).0;
                        }
                        if let Some(num) = read_num(&types, base, ptr) {
                            let unsigned64 = matches!(
                                types.get(base),
                                CType::Int(IntType {
                                    bytes: 8,
                                    signed: false
                                })
                            );
                            if unsigned64 {
                                *wide = Some(Wide::UInt64);
                            } else if wide.is_none() {
                                *wide = Some(Wide::Int64);
                            }
                            return Ok(Arg::CData(num));
                        }
                        let target = if wide == &Some(Wide::UInt64) {
                            "uint64_t"
                        } else {
                            "int64_t"
                        };
                        return Err(LuaError::arg(
                            index,
                            format!("cannot convert '{}' to '{target}'", types.type_name(ty)),
                        ));
                    }
                }
            }
            _ => {}
        }
        let got = if sys::lua_type(l, index) == sys::LUA_TNONE {
            "no value"
        } else {
            lua::type_name(l, index)
        };
        Err(LuaError::arg(index, format!("number expected, got {got}")))
    }
}

/// Pushes a 32-bit result as a Lua number (an integer on 5.3+).
///
/// # Safety
/// `l` is live with one free slot.
unsafe fn push_bit(l: *mut State, value: u64) -> LuaResult<c_int> {
    // SAFETY: `l` is live (caller).
    unsafe { sys::lua_pushinteger(l, sys::lua_Integer::from(value as u32 as i32)) };
    Ok(1)
}

/// Pushes a 64-bit result as a new `int64_t` or `uint64_t` cdata.
///
/// # Safety
/// `l` is live with two free slots; `st` is its ffi state.
unsafe fn push_wide(l: *mut State, st: &FfiState, wide: Wide, value: u64) -> LuaResult<c_int> {
    let builtins = *st.types().builtins();
    let ty = match wide {
        Wide::Int64 => builtins.i64,
        Wide::UInt64 => builtins.u64,
    };
    // SAFETY: `l` is live (caller); the new cdata holds 8 bytes aligned to 8.
    unsafe {
        let ptr = new_cdata(l, st, ty, 8, 8)?;
        ptr.cast::<u64>().write(value);
    }
    Ok(1)
}

/// The body of every `bit` function: the ffi state, then `op`.
///
/// # Safety
/// Called by Lua as a C function whose upvalue 1 is the ffi state.
unsafe fn run(l: *mut State, op: impl FnOnce(&FfiState) -> LuaResult<c_int>) -> c_int {
    // SAFETY: forwarded from the caller.
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            op(st)
        })
    }
}

/// `bit.tobit(x)`: `x` normalized to a signed 32-bit number.
unsafe extern "C-unwind" fn tobit(l: *mut State) -> c_int {
    // SAFETY: called by Lua with the state as upvalue 1.
    unsafe {
        run(l, |st| {
            let mut wide = None;
            let x = check_arg(l, st, 1, &mut wide)?;
            push_bit(l, x.bits32(wide))
        })
    }
}

/// A unary operation: `bnot` and `bswap`.
///
/// # Safety
/// As [`tobit`].
unsafe fn unary(l: *mut State, op32: fn(u32) -> u32, op64: fn(u64) -> u64) -> c_int {
    // SAFETY: forwarded from the caller.
    unsafe {
        run(l, |st| {
            let mut wide = None;
            let x = check_arg(l, st, 1, &mut wide)?;
            match wide {
                Some(wide) => push_wide(l, st, wide, op64(x.bits32(Some(wide)))),
                None => push_bit(l, u64::from(op32(x.bits32(None) as u32))),
            }
        })
    }
}

unsafe extern "C-unwind" fn bnot(l: *mut State) -> c_int {
    // SAFETY: called by Lua with the state as upvalue 1.
    unsafe { unary(l, |x| !x, |x| !x) }
}

unsafe extern "C-unwind" fn bswap(l: *mut State) -> c_int {
    // SAFETY: called by Lua with the state as upvalue 1.
    unsafe { unary(l, u32::swap_bytes, u64::swap_bytes) }
}

/// `band`, `bor`, `bxor` over all their arguments (at least one).
///
/// # Safety
/// As [`tobit`].
unsafe fn nary(l: *mut State, op: fn(u64, u64) -> u64) -> c_int {
    // SAFETY: forwarded from the caller.
    unsafe {
        run(l, |st| {
            let count = sys::lua_gettop(l).max(1);
            let mut wide = None;
            for index in 1..=count {
                check_arg(l, st, index, &mut wide)?;
            }
            let mut result = None;
            for index in 1..=count {
                let arg = check_arg(l, st, index, &mut None)?;
                let bits = match wide {
                    Some(wide) => arg.bits64(wide),
                    None => arg.bits32(None),
                };
                result = Some(result.map_or(bits, |r| op(r, bits)));
            }
            let result = result.unwrap_or(0);
            match wide {
                Some(wide) => push_wide(l, st, wide, result),
                None => push_bit(l, result),
            }
        })
    }
}

unsafe extern "C-unwind" fn band(l: *mut State) -> c_int {
    // SAFETY: called by Lua with the state as upvalue 1.
    unsafe { nary(l, |a, b| a & b) }
}

unsafe extern "C-unwind" fn bor(l: *mut State) -> c_int {
    // SAFETY: called by Lua with the state as upvalue 1.
    unsafe { nary(l, |a, b| a | b) }
}

unsafe extern "C-unwind" fn bxor(l: *mut State) -> c_int {
    // SAFETY: called by Lua with the state as upvalue 1.
    unsafe { nary(l, |a, b| a ^ b) }
}

/// A shift or rotation of argument 1 by argument 2 (taken modulo the width).
///
/// # Safety
/// As [`tobit`].
unsafe fn shift(l: *mut State, op32: fn(u32, u32) -> u32, op64: fn(u64, u32) -> u64) -> c_int {
    // SAFETY: forwarded from the caller.
    unsafe {
        run(l, |st| {
            let mut wide = None;
            let x = check_arg(l, st, 1, &mut wide)?;
            let mut count_wide = None;
            let count = check_arg(l, st, 2, &mut count_wide)?.bits32(count_wide) as u32;
            match wide {
                Some(wide) => push_wide(l, st, wide, op64(x.bits32(Some(wide)), count & 63)),
                None => push_bit(l, u64::from(op32(x.bits32(None) as u32, count & 31))),
            }
        })
    }
}

unsafe extern "C-unwind" fn lshift(l: *mut State) -> c_int {
    // SAFETY: called by Lua with the state as upvalue 1.
    unsafe { shift(l, |x, n| x << n, |x, n| x << n) }
}

unsafe extern "C-unwind" fn rshift(l: *mut State) -> c_int {
    // SAFETY: called by Lua with the state as upvalue 1.
    unsafe { shift(l, |x, n| x >> n, |x, n| x >> n) }
}

unsafe extern "C-unwind" fn arshift(l: *mut State) -> c_int {
    // SAFETY: called by Lua with the state as upvalue 1.
    unsafe {
        shift(
            l,
            |x, n| ((x as i32) >> n) as u32,
            |x, n| ((x as i64) >> n) as u64,
        )
    }
}

unsafe extern "C-unwind" fn rol(l: *mut State) -> c_int {
    // SAFETY: called by Lua with the state as upvalue 1.
    unsafe { shift(l, u32::rotate_left, u64::rotate_left) }
}

unsafe extern "C-unwind" fn ror(l: *mut State) -> c_int {
    // SAFETY: called by Lua with the state as upvalue 1.
    unsafe { shift(l, u32::rotate_right, u64::rotate_right) }
}

/// `bit.tohex(x [, n])`: `|n|` hex digits of `x` (8 for a number, 16 for a cdata by
/// default), upper case when `n` is negative. As LuaJIT 2.1: more than 8 (or 16)
/// digits pad with zeros, and 0 digits give an empty string.
unsafe extern "C-unwind" fn tohex(l: *mut State) -> c_int {
    // SAFETY: called by Lua with the state as upvalue 1.
    unsafe {
        run(l, |st| {
            let mut wide = None;
            let x = check_arg(l, st, 1, &mut wide)?;
            let digits = if sys::lua_gettop(l) >= 2 {
                let mut digits_wide = None;
                check_arg(l, st, 2, &mut digits_wide)?.bits32(digits_wide) as u32 as i32
            } else if wide.is_some() {
                16
            } else {
                8
            };
            // A stack buffer: pushing the text may raise, and no owned value may be live
            // across that.
            let mut buffer = [0u8; HEX_TEXT_MAX];
            let len = hex_text(x.bits32(wide), digits, &mut buffer);
            sys::lua_pushlstring(l, buffer.as_ptr().cast(), len);
            Ok(1)
        })
    }
}

/// The longest `tohex` text: a precision of at most 254 digits.
const HEX_TEXT_MAX: usize = 256;

/// Writes the text of `tohex(value, digits)` into `out` and returns its length, as
/// LuaJIT's `%x` with a precision formats it.
fn hex_text(value: u64, digits: i32, out: &mut [u8; HEX_TEXT_MAX]) -> usize {
    let alphabet = if digits < 0 {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let digits = digits.unsigned_abs();
    // LuaJIT keeps the precision in 8 bits (plus one): wider widths wrap.
    let precision = ((digits.wrapping_add(1) & 255) as usize).saturating_sub(1);
    let value = if digits < 16 {
        value & ((1u64 << (4 * digits)) - 1)
    } else {
        value
    };
    let significant = if value == 0 {
        // `%.0x` of 0 prints nothing; without a precision (255 wraps to none) "0".
        usize::from(digits & 255 == 255)
    } else {
        (16 - value.leading_zeros() as usize / 4).max(1)
    };
    let len = significant.max(precision);
    for (i, slot) in out[..len].iter_mut().rev().enumerate() {
        *slot = if i < 16 {
            alphabet[((value >> (4 * i)) & 15) as usize]
        } else {
            b'0'
        };
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_normalize_as_luajit() {
        assert_eq!(num_to_bit(5.0), 5);
        assert_eq!(num_to_bit(4294967295.0), -1);
        assert_eq!(num_to_bit(4294967301.0), 5);
        assert_eq!(num_to_bit(f64::NAN), 0);
        assert_eq!(num_to_bit(1e300), -2013235812);
        assert_eq!(num_to_bit(1.5), 2);
        assert_eq!(num_to_bit(2.5), 2);
        assert_eq!(num_to_bit(-0.5), 0);
    }

    fn hex(value: u64, digits: i32) -> String {
        let mut buffer = [0u8; HEX_TEXT_MAX];
        let len = hex_text(value, digits, &mut buffer);
        String::from_utf8(buffer[..len].to_vec()).unwrap()
    }

    #[test]
    fn hex_widths() {
        assert_eq!(hex(255, 8), "000000ff");
        assert_eq!(hex(255, -4), "00FF");
        assert_eq!(hex(0xffff_ffff, 4), "ffff");
        assert_eq!(hex(0x1234, 2), "34");
        assert_eq!(hex(1, 0), "");
        assert_eq!(hex(0, 8), "00000000");
        assert_eq!(hex(1, 9), "000000001");
        assert_eq!(hex(u64::MAX, -20), "0000FFFFFFFFFFFFFFFF");
        assert_eq!(hex(1, 16), "0000000000000001");
        assert_eq!(hex(1, 100).len(), 100);
        assert_eq!(hex(0xabc, 255), "abc");
    }
}
