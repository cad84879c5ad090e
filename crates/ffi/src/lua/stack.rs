//! Direct reads of a running C function's arguments and first upvalue, for the call
//! helpers' fast path (`crate::calls::call`): a number argument costs two loads and a compare
//! instead of two Lua API calls (`lua_type`, `lua_tonumberx`), which is most of what a
//! call of `int add(int, int)` would otherwise cost above a hand-written binding; a
//! string argument's bytes cost one load more instead of `lua_tolstring`.
//!
//! The Lua C API has no such reads, so this reads the interpreter's structures, whose
//! layout each Lua version fixes (`lstate.h`, `lobject.h`):
//!
//! ```text
//!   lua_State  +CI_AT           CallInfo *ci     (5.1: +40, then ci->func at +8)
//!   CallInfo   +FUNC_AT         StkId func       the called closure; argument i is the
//!                                                16-byte TValue at func + 16*i
//!   TValue     +0 value, +8 tag (a byte on 5.4, an int before)
//!   CClosure   +UPVALUE_AT      TValue upvalue[0] (a light or full userdata)
//!   TString    +STRING_CHARS_AT char contents[]  (a string TValue's value points here)
//!   Udata      +USERDATA_AT     the payload      (a full userdata TValue's value points
//!                                                to its Udata)
//!              +USERDATA_LEN_AT size_t len       the payload's size
//! ```
//!
//! Every version keeps a string's bytes right after a 24-byte header: 5.1/5.2 `getstr`
//! is `(ts) + 1` on a `union TString` of the header (`next`, `tt`, `marked`, a byte,
//! `hash`, `len`) aligned to 8; 5.3 adds `sizeof(UTString)`, the same 24 bytes; 5.4 has
//! `contents` as the struct's last member after the same fields, for short and long
//! strings alike (`lobject.h`). (5.5's external long strings would break this; it is not
//! a supported version.)
//!
//! A full userdata's payload follows its header: 40 bytes on 5.1/5.2 (`union Udata`:
//! `next`, `tt`, `marked`, `metatable`, `env`, `len`), 40 on 5.3 (`sizeof(UUdata)`); on
//! 5.4 `udatamemoffset` is 32 (`offsetof(Udata0, bindata)`) for a userdata without user
//! values, whose count (`nuvalue`, a u16 at +10) is read first: one with user values
//! takes the API path. The cdata and the state userdata have none
//! ([`crate::lua::new_userdata`]).
//!
//! Nothing is trusted blindly: [`verify`] runs when the module opens, pushes known values
//! and calls known closures, and compares every direct read with the Lua API's answer.
//! Only if all agree does [`enabled`] become true; otherwise every read here says
//! "unknown" and callers take the API path. Full userdata reads ([`userdata`],
//! [`userdata_upvalue`]) are checked after the others and turned on or off on their own.
//! A wrong guess can cost speed, never correctness. `JITFFI_NO_STACK_PEEK=1` in the
//! environment turns direct reads off (the tests run the call suite and the element
//! accesses of `tests/lua/cdata_index.lua` both ways).

use crate::lua::{self, State};
use mlua_sys as sys;
use std::ffi::c_char;
use std::os::raw::c_int;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

#[cfg(feature = "lua51")]
mod layout {
    pub const CI_AT: usize = 40;
    pub const FUNC_AT: usize = 8;
    pub const UPVALUE_AT: usize = 40;
    pub const INT_TAG: Option<u32> = None;
    pub const FLOAT_TAG: u32 = 3;
    pub const TAG_BYTES: usize = 4;
    pub const STRING_TAGS: [u32; 2] = [4, 4];
    pub const STRING_CHARS_AT: usize = 24;
    pub const USERDATA_TAG: u32 = 7;
    pub const USERDATA_AT: usize = 40;
    pub const USER_VALUES_AT: Option<usize> = None;
    pub const USERDATA_LEN_AT: usize = 32;
}

#[cfg(feature = "lua52")]
mod layout {
    pub const CI_AT: usize = 32;
    pub const FUNC_AT: usize = 0;
    pub const UPVALUE_AT: usize = 32;
    pub const INT_TAG: Option<u32> = None;
    pub const FLOAT_TAG: u32 = 3;
    pub const TAG_BYTES: usize = 4;
    /// Short and long strings, with the collectable bit (1 << 6).
    pub const STRING_TAGS: [u32; 2] = [0x44, 0x54];
    pub const STRING_CHARS_AT: usize = 24;
    pub const USERDATA_TAG: u32 = 0x47;
    pub const USERDATA_AT: usize = 40;
    pub const USER_VALUES_AT: Option<usize> = None;
    pub const USERDATA_LEN_AT: usize = 32;
}

#[cfg(feature = "lua53")]
mod layout {
    pub const CI_AT: usize = 32;
    pub const FUNC_AT: usize = 0;
    pub const UPVALUE_AT: usize = 32;
    /// `LUA_TNUMINT` = 3 | (1 << 4); `LUA_TNUMFLT` = 3.
    pub const INT_TAG: Option<u32> = Some(0x13);
    pub const FLOAT_TAG: u32 = 0x03;
    pub const TAG_BYTES: usize = 4;
    pub const STRING_TAGS: [u32; 2] = [0x44, 0x54];
    pub const STRING_CHARS_AT: usize = 24;
    pub const USERDATA_TAG: u32 = 0x47;
    pub const USERDATA_AT: usize = 40;
    pub const USER_VALUES_AT: Option<usize> = None;
    pub const USERDATA_LEN_AT: usize = 24;
}

#[cfg(feature = "lua54")]
mod layout {
    pub const CI_AT: usize = 32;
    pub const FUNC_AT: usize = 0;
    pub const UPVALUE_AT: usize = 32;
    /// `LUA_VNUMINT` = 3; `LUA_VNUMFLT` = 3 | (1 << 4).
    pub const INT_TAG: Option<u32> = Some(0x03);
    pub const FLOAT_TAG: u32 = 0x13;
    pub const TAG_BYTES: usize = 1;
    pub const STRING_TAGS: [u32; 2] = [0x44, 0x54];
    pub const STRING_CHARS_AT: usize = 24;
    /// `LUA_VUSERDATA` with the collectable bit.
    pub const USERDATA_TAG: u32 = 0x47;
    /// `offsetof(Udata0, bindata)`, for a userdata whose `nuvalue` (at +10) is 0.
    pub const USERDATA_AT: usize = 32;
    pub const USER_VALUES_AT: Option<usize> = Some(10);
    pub const USERDATA_LEN_AT: usize = 16;
}

use layout::*;

const TVALUE_BYTES: usize = 16;

/// `L->top` (`StkId`, or 5.4.6's `StkIdRel` holding a pointer while Lua runs): at +16
/// in every version, after the common header and a few bytes of status.
const TOP_AT: usize = 16;

/// 0: not verified yet; 1: verified and enabled; 2: disabled.
static STATE: AtomicU8 = AtomicU8::new(0);

/// Whether direct reads are in use.
#[inline]
pub fn enabled() -> bool {
    STATE.load(Ordering::Relaxed) == 1
}

/// Whether direct reads of full userdata are in use too (verified on their own).
static USERDATA: AtomicBool = AtomicBool::new(false);

/// A number argument as the stack holds it.
#[derive(Copy, Clone, PartialEq, Debug)]
pub enum Peeked {
    Int(i64),
    Float(f64),
    /// Not a number, or direct reads are off: ask the Lua API.
    Unknown,
}

/// The address of the running C function's stack slot `index` (1 = first argument).
///
/// # Safety
/// `l` is live and running a C function; direct reads are enabled.
#[inline]
unsafe fn slot(l: *mut State, index: c_int) -> *const u8 {
    // SAFETY: the layout was verified for this interpreter (`verify`).
    unsafe {
        let ci = *(l.cast::<u8>().add(CI_AT).cast::<*const u8>());
        let func = *(ci.add(FUNC_AT).cast::<*const u8>());
        func.add(TVALUE_BYTES * index as usize)
    }
}

/// `lua_gettop(l)` for the running C function: the distance from its slot to the top,
/// read straight from the state, else the API's answer.
///
/// # Safety
/// `l` is live and running a C function.
#[inline(always)]
pub unsafe fn arg_count(l: *mut State) -> c_int {
    // SAFETY: enabled means the layout was verified, `L->top` included.
    unsafe {
        if enabled() {
            let top = *(l.cast::<u8>().add(TOP_AT).cast::<*const u8>());
            return ((top as usize - slot(l, 0) as usize) / TVALUE_BYTES) as c_int - 1;
        }
        sys::lua_gettop(l)
    }
}

/// Reads a tag.
///
/// # Safety
/// `value` is a TValue.
#[inline]
unsafe fn tag(value: *const u8) -> u32 {
    // SAFETY: forwarded.
    unsafe {
        if TAG_BYTES == 1 {
            u32::from(*value.add(8))
        } else {
            *value.add(8).cast::<u32>()
        }
    }
}

/// The number argument at `index` of the running C function, if it is one.
///
/// # Safety
/// `l` is live and running a C function with at least `index` arguments.
#[inline]
pub unsafe fn number(l: *mut State, index: c_int) -> Peeked {
    if !enabled() {
        return Peeked::Unknown;
    }
    // SAFETY: enabled means the layout was verified; `index` is a valid argument.
    unsafe {
        let value = slot(l, index);
        let tag = tag(value);
        if tag == FLOAT_TAG {
            Peeked::Float(*value.cast::<f64>())
        } else if Some(tag) == INT_TAG {
            Peeked::Int(*value.cast::<i64>())
        } else {
            Peeked::Unknown
        }
    }
}

/// Whether argument `index` of the running C function may be a number: false only when
/// direct reads are on and its tag says it is not. A test without calls, for a fast path
/// that needs a number to tell other arguments away before it sets up anything.
///
/// # Safety
/// As [`number`].
#[inline(always)]
pub unsafe fn may_be_number(l: *mut State, index: c_int) -> bool {
    // SAFETY: enabled means the layout was verified; `index` is a valid argument.
    unsafe {
        if !enabled() {
            return true;
        }
        let tag = tag(slot(l, index));
        tag == FLOAT_TAG || Some(tag) == INT_TAG
    }
}

/// A string argument as the stack holds it.
#[derive(Copy, Clone, PartialEq, Debug)]
pub enum PeekedString {
    /// The string's bytes, NUL-terminated (valid while the string is on the stack).
    Chars(*const c_char),
    /// Not a string.
    Other,
    /// Direct reads are off: ask the Lua API.
    Unknown,
}

/// The bytes of the string argument at `index` of the running C function, if it is one.
///
/// # Safety
/// As [`number`].
#[inline]
pub unsafe fn string(l: *mut State, index: c_int) -> PeekedString {
    if !enabled() {
        return PeekedString::Unknown;
    }
    // SAFETY: as in `number`; a string TValue's value is its TString.
    unsafe {
        let value = slot(l, index);
        if STRING_TAGS.contains(&tag(value)) {
            let string = *value.cast::<*const u8>();
            PeekedString::Chars(string.add(STRING_CHARS_AT).cast())
        } else {
            PeekedString::Other
        }
    }
}

/// The value of upvalue 1 of the running C closure, which must be a light userdata.
///
/// # Safety
/// `l` is live and running a C closure whose upvalue 1 is a light userdata.
#[inline]
pub unsafe fn light_upvalue(l: *mut State) -> *mut std::ffi::c_void {
    // SAFETY: verified layout, or the API.
    unsafe {
        if enabled() {
            let closure = *slot(l, 0).cast::<*const u8>();
            *closure.add(UPVALUE_AT).cast::<*mut std::ffi::c_void>()
        } else {
            sys::lua_touserdata(l, lua::upvalue(1))
        }
    }
}

/// The payload of the full userdata that the TValue at `value` holds, if it is one whose
/// payload direct reads find (on 5.4: without user values) and it is at least
/// `min_len` bytes long.
///
/// # Safety
/// `value` is a TValue; direct userdata reads are enabled (or being verified).
#[inline(always)]
unsafe fn userdata_payload(value: *const u8, min_len: usize) -> Option<*mut std::ffi::c_void> {
    // SAFETY: a full userdata TValue's value is its Udata block, whose header holds the
    // user value count and is followed by the payload (verified layout).
    unsafe {
        if tag(value) != USERDATA_TAG {
            return None;
        }
        let block = *value.cast::<*mut u8>();
        if let Some(at) = USER_VALUES_AT {
            if *block.add(at).cast::<u16>() != 0 {
                return None;
            }
        }
        if *block.add(USERDATA_LEN_AT).cast::<usize>() < min_len {
            return None;
        }
        Some(block.add(USERDATA_AT).cast())
    }
}

/// `lua_touserdata(l, index)` for argument `index` of the running C function if it is
/// a full userdata of at least `min_len` bytes (else null): its payload read straight
/// from the stack, else the API's answer.
///
/// # Safety
/// `l` is live and running a C function with at least `index` arguments.
#[inline(always)]
pub unsafe fn userdata(l: *mut State, index: c_int, min_len: usize) -> *mut std::ffi::c_void {
    // SAFETY: USERDATA means the layout was verified; `index` is a valid argument.
    unsafe {
        if USERDATA.load(Ordering::Relaxed) {
            if let Some(payload) = userdata_payload(slot(l, index), min_len) {
                return payload;
            }
        }
        full_userdata(l, index, min_len)
    }
}

/// `lua_touserdata(l, lua_upvalueindex(1))` for the running C closure if the upvalue is
/// a full userdata of at least `min_len` bytes (else null): its payload read straight
/// from the closure, else the API's answer.
///
/// # Safety
/// `l` is live and running a C closure with at least one upvalue.
#[inline(always)]
pub unsafe fn userdata_upvalue(l: *mut State, min_len: usize) -> *mut std::ffi::c_void {
    // SAFETY: as in `light_upvalue`, under USERDATA.
    unsafe {
        if USERDATA.load(Ordering::Relaxed) {
            let closure = *slot(l, 0).cast::<*const u8>();
            if let Some(payload) = userdata_payload(closure.add(UPVALUE_AT), min_len) {
                return payload;
            }
        }
        full_userdata(l, lua::upvalue(1), min_len)
    }
}

/// The payload of the full userdata at `index` of at least `min_len` bytes, through the
/// Lua API; null for anything else.
///
/// # Safety
/// `l` is live and `index` valid.
#[inline(never)]
unsafe fn full_userdata(l: *mut State, index: c_int, min_len: usize) -> *mut std::ffi::c_void {
    // SAFETY: `l` is live (caller).
    unsafe {
        if sys::lua_type(l, index) != sys::LUA_TUSERDATA || sys::lua_rawlen(l, index) < min_len {
            return std::ptr::null_mut();
        }
        sys::lua_touserdata(l, index)
    }
}

/// Checks every direct read against the Lua API, once per process; turns direct reads on
/// only if all agree.
///
/// # Safety
/// Called from a C function (`luaopen_ffi`) with `l` live and 8 free stack slots.
pub unsafe fn verify(l: *mut State) {
    if STATE.load(Ordering::Relaxed) != 0 {
        return;
    }
    if std::env::var_os("JITFFI_NO_STACK_PEEK").is_some() {
        // For tests of the API path (and a way out should a Lua build fool the checks).
        STATE.store(2, Ordering::Relaxed);
        return;
    }
    // SAFETY: `l` is live with free slots (caller); the reads below happen only while
    // STATE is 0, against values this function pushed, under the layout being checked.
    unsafe {
        STATE.store(1, Ordering::Relaxed);
        let ok = verify_numbers(l) && verify_upvalue(l);
        STATE.store(if ok { 1 } else { 2 }, Ordering::Relaxed);
        // Userdata reads are checked on their own (on while they are), so that a Lua
        // whose userdata differ still keeps the number and string reads.
        USERDATA.store(ok, Ordering::Relaxed);
        let userdata_ok = ok && verify_userdata(l);
        USERDATA.store(userdata_ok, Ordering::Relaxed);
    }
}

/// Pushes numbers, a boolean and strings and compares what [`number`] and [`string`] read
/// with what the API says.
///
/// # Safety
/// As [`verify`], with STATE tentatively 1.
unsafe fn verify_numbers(l: *mut State) -> bool {
    // SAFETY: as above; every slot read is one this function pushed.
    unsafe {
        let top = sys::lua_gettop(l);
        sys::lua_pushnumber(l, 2.5);
        sys::lua_pushinteger(l, 0x1234_5678_9abc as sys::lua_Integer);
        sys::lua_pushboolean(l, 1);
        lua::push_str(l, "short");
        lua::push_str(l, &"long string, beyond any short-string limit ".repeat(4));
        let float_ok = number(l, top + 1) == Peeked::Float(2.5);
        let chars = |index| PeekedString::Chars(sys::lua_tolstring(l, index, std::ptr::null_mut()));
        let strings_ok = string(l, top + 4) == chars(top + 4)
            && string(l, top + 5) == chars(top + 5)
            && string(l, top + 1) == PeekedString::Other
            && string(l, top + 3) == PeekedString::Other;
        let int_ok = match INT_TAG {
            Some(_) => number(l, top + 2) == Peeked::Int(0x1234_5678_9abc),
            // Lua 5.1/5.2 store every number as a double.
            None => number(l, top + 2) == Peeked::Float(0x1234_5678_9abc_i64 as f64),
        };
        let other_ok = number(l, top + 3) == Peeked::Unknown;
        let count_ok = arg_count(l) == top + 5;
        sys::lua_settop(l, top);
        float_ok && int_ok && other_ok && strings_ok && count_ok && arg_count(l) == top
    }
}

/// Pushes full userdata (on 5.4 also one with user values, which must be left to the
/// API), a light userdata and a number, and calls a closure with a full userdata
/// upvalue, and compares what [`userdata_payload`] reads with what `lua_touserdata`
/// says.
///
/// # Safety
/// As [`verify`], with STATE 1 and USERDATA tentatively true.
unsafe fn verify_userdata(l: *mut State) -> bool {
    unsafe extern "C-unwind" fn probe(l: *mut State) -> c_int {
        // SAFETY: called below as a closure with one full userdata upvalue.
        unsafe {
            let closure = *slot(l, 0).cast::<*const u8>();
            let direct = userdata_payload(closure.add(UPVALUE_AT), 16);
            let api = sys::lua_touserdata(l, lua::upvalue(1));
            let same = direct == Some(api)
                && userdata_payload(closure.add(UPVALUE_AT), 17).is_none()
                && userdata_upvalue(l, 16) == api
                && !api.is_null();
            sys::lua_pushboolean(l, c_int::from(same));
        }
        1
    }
    static SENTINEL: u8 = 0;
    // SAFETY: as above; every slot read is one this function pushed.
    unsafe {
        let top = sys::lua_gettop(l);
        let small = lua::new_userdata(l, 1);
        let large = lua::new_userdata(l, 256);
        sys::lua_pushlightuserdata(l, std::ptr::addr_of!(SENTINEL) as *mut _);
        sys::lua_pushinteger(l, 7);
        let direct = |index| userdata_payload(slot(l, index), 0);
        let ok = direct(top + 1) == Some(small)
            && direct(top + 2) == Some(large)
            && userdata_payload(slot(l, top + 1), 1) == Some(small)
            && userdata_payload(slot(l, top + 1), 2).is_none()
            && userdata_payload(slot(l, top + 2), 256) == Some(large)
            && userdata_payload(slot(l, top + 2), 257).is_none()
            && sys::lua_touserdata(l, top + 1) == small
            && direct(top + 3).is_none()
            && direct(top + 4).is_none();
        #[cfg(feature = "lua54")]
        let ok = ok && {
            let with_values = sys::lua_newuserdatauv(l, 8, 2);
            direct(top + 5).is_none_or(|p| p == with_values)
                && userdata(l, top + 5, 8) == with_values
                && userdata(l, top + 5, 9).is_null()
        };
        sys::lua_settop(l, top);
        lua::new_userdata(l, 16);
        lua::push_closure(l, probe, 1);
        sys::lua_pushinteger(l, 7);
        sys::lua_call(l, 1, 1);
        let upvalue_ok = sys::lua_toboolean(l, -1) != 0;
        sys::lua_settop(l, top);
        ok && upvalue_ok
    }
}

/// Calls a closure with a known light userdata upvalue and compares [`light_upvalue`]
/// with `lua_touserdata`.
///
/// # Safety
/// As [`verify`], with STATE tentatively 1.
unsafe fn verify_upvalue(l: *mut State) -> bool {
    unsafe extern "C-unwind" fn probe(l: *mut State) -> c_int {
        // SAFETY: called below as a closure with one light userdata upvalue.
        unsafe {
            let direct = light_upvalue(l);
            let api = sys::lua_touserdata(l, lua::upvalue(1));
            sys::lua_pushboolean(l, c_int::from(direct == api && !api.is_null()));
        }
        1
    }
    static SENTINEL: u8 = 0;
    // SAFETY: `l` is live with free slots; `probe` neither raises nor leaves extra values.
    unsafe {
        sys::lua_pushlightuserdata(l, std::ptr::addr_of!(SENTINEL) as *mut _);
        lua::push_closure(l, probe, 1);
        sys::lua_pushinteger(l, 7);
        sys::lua_call(l, 1, 1);
        let ok = sys::lua_toboolean(l, -1) != 0;
        sys::lua_settop(l, -2);
        ok
    }
}
