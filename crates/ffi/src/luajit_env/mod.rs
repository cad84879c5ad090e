//! LuaJIT's environment around the ffi, so that a stock Lua looks like LuaJIT 2.1 to
//! FFI code after `require "ffi"` (product decisions, the same on every Lua version):
//!
//! - globals `bit` ([`bit`]) and `jit` ([`jit`]), also `require "bit"` and
//!   `require "jit"` (`package.loaded`);
//! - `require "table.new"` and `require "table.clear"` ([`table`]);
//! - on 5.2+, the globals `unpack` (`table.unpack`) and `loadstring` (`load`), and
//!   `setfenv` and `getfenv` over the `debug` library ([`fenv`]);
//! - the string method that LuaJIT number literals rewritten by the crate
//!   `luajit-literals` call ([`literals`]), and the module `ffi.literals`, loaders that
//!   read such literals.
//!
//! Each name is defined only where it is missing: nothing that exists is replaced.
//! `require "ffi.core"` gives the module without any of this and without the global
//! `type`/`tonumber`/`pairs`/`ipairs` of [`crate::api::idioms`].
//!
//! May use: [`crate::lua`], [`crate::scalar`], [`crate::cdata`] (64-bit cdata in and
//! out) and the crate root's `ffi.os`/`ffi.arch` names; `crate::api` uses this layer
//! (`tonumber` with a base), never the reverse.

pub mod bit;
pub mod fenv;
pub mod jit;
pub mod literals;
pub mod table;

use crate::lua::{self, State};
use mlua_sys as sys;
use std::os::raw::c_int;

/// Defines the missing names of LuaJIT's environment (see the module docs).
///
/// # Safety
/// `l` is live with eight free slots; `state_index` is the absolute index of the ffi
/// state userdata.
pub unsafe fn install(l: *mut State, state_index: c_int) {
    // SAFETY: `l` is live (caller); every table is checked for its type before use.
    unsafe {
        sys::lua_createtable(l, 0, bit::FUNCTIONS.len() as c_int);
        for (name, function) in bit::FUNCTIONS {
            sys::lua_pushvalue(l, state_index);
            lua::push_closure(l, function, 1);
            lua::set_field_raw(l, -2, name);
        }
        define_module(l, c"bit");
        jit::push_table(l);
        define_module(l, c"jit");

        // package.preload as `_LOADED.package.preload`, the path every version shares.
        sys::lua_getfield(l, sys::LUA_REGISTRYINDEX, c"_LOADED".as_ptr());
        for field in [c"package", c"preload"] {
            if sys::lua_type(l, -1) == sys::LUA_TTABLE {
                sys::lua_getfield(l, -1, field.as_ptr());
            } else {
                sys::lua_pushnil(l);
            }
            sys::lua_remove(l, -2);
        }
        if sys::lua_type(l, -1) == sys::LUA_TTABLE {
            for (name, opener) in table::PRELOADS {
                lua::push_str(l, name);
                sys::lua_rawget(l, -2);
                let missing = sys::lua_type(l, -1) == sys::LUA_TNIL;
                sys::lua_settop(l, -2);
                if missing {
                    sys::lua_pushcfunction(l, opener);
                    lua::set_field_raw(l, -2, name);
                }
            }
        }
        sys::lua_settop(l, -2);

        // 5.1 has these; later versions dropped them (5.2 moved unpack into table, and a
        // function's environment became its `_ENV` upvalue).
        if lua::version::NAME != "5.1" {
            set_global_if_missing(l, c"unpack", |l| {
                sys::lua_getglobal(l, c"table".as_ptr());
                if sys::lua_type(l, -1) == sys::LUA_TTABLE {
                    sys::lua_getfield(l, -1, c"unpack".as_ptr());
                    sys::lua_remove(l, -2);
                }
            });
            set_global_if_missing(l, c"loadstring", |l| {
                sys::lua_getglobal(l, c"load".as_ptr());
            });
            fenv::install(l);
        }
        literals::install_method(l, state_index);
    }
}

/// Pops the value on top and makes it the global `name` and `package.loaded[name]`,
/// each only where it is nil.
///
/// # Safety
/// `l` is live with three free slots and a value on top.
unsafe fn define_module(l: *mut State, name: &std::ffi::CStr) {
    // SAFETY: `l` is live (caller); `_LOADED` is checked to be a table.
    unsafe {
        sys::lua_getfield(l, sys::LUA_REGISTRYINDEX, c"_LOADED".as_ptr());
        if sys::lua_type(l, -1) == sys::LUA_TTABLE {
            sys::lua_getfield(l, -1, name.as_ptr());
            // 5.1's `require` marks a module being loaded with a light userdata: a
            // `bit.lua` that requires the ffi must still get LuaJIT's `bit` defined.
            let missing = matches!(
                sys::lua_type(l, -1),
                sys::LUA_TNIL | sys::LUA_TLIGHTUSERDATA
            );
            sys::lua_settop(l, -2);
            if missing {
                sys::lua_pushvalue(l, -2);
                sys::lua_setfield(l, -2, name.as_ptr());
            }
        }
        sys::lua_settop(l, -2);
        set_global_if_missing(l, name, |l| sys::lua_pushvalue(l, -1));
        sys::lua_settop(l, -2);
    }
}

/// Sets the global `name` to the value `push` pushes, if the global is nil (and the
/// value is not).
///
/// # Safety
/// `l` is live with two free slots; `push` pushes exactly one value.
unsafe fn set_global_if_missing(
    l: *mut State,
    name: &std::ffi::CStr,
    push: impl FnOnce(*mut State),
) {
    // SAFETY: `l` is live (caller).
    unsafe {
        sys::lua_getglobal(l, name.as_ptr());
        let missing = sys::lua_type(l, -1) == sys::LUA_TNIL;
        sys::lua_settop(l, -2);
        if missing {
            push(l);
            if sys::lua_type(l, -1) == sys::LUA_TNIL {
                sys::lua_settop(l, -2);
            } else {
                sys::lua_setglobal(l, name.as_ptr());
            }
        }
    }
}

/// `tonumber(n, base)` with numbers `n` and `base` (the arguments 1 and 2), as LuaJIT
/// reads it: base 10 returns `n`; another base reads `n`'s text ([`number_text`]) as
/// [`read_in_base`] does. Pushes the result.
///
/// # Safety
/// `l` is live, inside a C function, with arguments 1 and 2 numbers.
pub unsafe fn tonumber_in_base(l: *mut State) -> crate::lua::LuaResult<c_int> {
    // SAFETY: `l` is live (caller).
    unsafe {
        let base = sys::lua_tonumber(l, 2);
        if base == 10.0 {
            sys::lua_settop(l, 1);
            return Ok(1);
        }
        if !(2.0..37.0).contains(&base) {
            return Err(crate::lua::LuaError::arg(2, "base out of range"));
        }
        match read_in_base(&number_text(sys::lua_tonumber(l, 1)), base as u32) {
            Some(n) if n.fract() == 0.0 && n.abs() < 9.2e18 => {
                sys::lua_pushinteger(l, n as sys::lua_Integer)
            }
            Some(n) => sys::lua_pushnumber(l, n),
            None => sys::lua_pushnil(l),
        }
        Ok(1)
    }
}

/// LuaJIT's `tonumber(s, base)` for a base other than 10: optional spaces and sign,
/// `strtoul`'s digits (saturating at 2^64 - 1), optional spaces, nothing else.
pub fn read_in_base(text: &str, base: u32) -> Option<f64> {
    let text = text.trim_start_matches(|c: char| c.is_ascii_whitespace());
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let end = digits
        .find(|c: char| !c.is_digit(base))
        .unwrap_or(digits.len());
    if end == 0 || !digits[end..].chars().all(|c| c.is_ascii_whitespace()) {
        return None;
    }
    let value = digits[..end].chars().fold(0u64, |value, c| {
        let digit = u64::from(c.to_digit(base).unwrap_or(0));
        value
            .checked_mul(u64::from(base))
            .and_then(|v| v.checked_add(digit))
            .unwrap_or(u64::MAX)
    });
    let n = value as f64;
    Some(if negative { -n } else { n })
}

/// The text LuaJIT gives a number where a string is wanted (`%.14g`), as far as
/// `tonumber(n, base)` can tell: integers below 10^14 in digits, NaN and infinities
/// as `nan`/`inf`, any other number a text that no base reads.
pub fn number_text(n: f64) -> String {
    if n.is_nan() {
        "nan".into()
    } else if n.is_infinite() {
        if n > 0.0 { "inf" } else { "-inf" }.into()
    } else if n.fract() == 0.0 && n.abs() < 1e14 {
        if n == 0.0 && n.is_sign_negative() {
            "-0".into()
        } else {
            format!("{}", n as i64)
        }
    } else {
        // "1.5", "1e+20": digits cut by a '.' or a sign, which every base rejects.
        format!("{n:.1}")
    }
}

#[cfg(test)]
mod tests {
    use super::number_text;

    #[test]
    fn bases_as_luajit_reads_them() {
        use super::read_in_base;
        assert_eq!(read_in_base("10", 16), Some(16.0));
        assert_eq!(read_in_base("-10", 16), Some(-16.0));
        assert_eq!(read_in_base(" 11 ", 2), Some(3.0));
        assert_eq!(read_in_base("nan", 36), Some(30191.0));
        assert_eq!(read_in_base("1.5", 16), None);
        assert_eq!(read_in_base("", 16), None);
        assert_eq!(read_in_base("-", 16), None);
        assert_eq!(read_in_base("zzzzzzzzzzzzzzzz", 36), Some(u64::MAX as f64));
    }

    #[test]
    fn numbers_as_luajit_texts() {
        assert_eq!(number_text(10.0), "10");
        assert_eq!(number_text(-255.0), "-255");
        assert_eq!(number_text(99_999_999_999_999.0), "99999999999999");
        assert!(number_text(1e14).contains('.'));
        assert!(number_text(1.5).contains('.'));
        assert_eq!(number_text(f64::NAN), "nan");
        assert_eq!(number_text(f64::NEG_INFINITY), "-inf");
    }
}
