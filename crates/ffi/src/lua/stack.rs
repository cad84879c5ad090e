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
//!              +TOP_AT, +STACK_LAST_AT, +STACK_AT  StkId top, stack_last, stack
//!   CallInfo   +FUNC_AT         StkId func       the called closure; argument i is the
//!                                                16-byte TValue at func + 16*i
//!              +CI_TOP_AT       StkId top        the end of the room the running
//!                                                function was given (`lua_checkstack`
//!                                                raises it)
//!   TValue     +0 value, +8 tag (a byte on 5.4 and 5.5, an int before)
//!   CClosure   +UPVALUE_AT      TValue upvalue[0] (a light or full userdata)
//!   TString    +STRING_CHARS_AT char contents[]  (a string TValue's value points here;
//!                                                5.5's long strings: char *contents)
//!   Udata      +USERDATA_AT     the payload      (a full userdata TValue's value points
//!                                                to its Udata)
//!              +USERDATA_LEN_AT size_t len       the payload's size
//!              +USERDATA_METATABLE_AT            its metatable (`Table *`, or null)
//! ```
//!
//! Every version up to 5.4 keeps a string's bytes right after a 24-byte header: 5.1/5.2
//! `getstr` is `(ts) + 1` on a `union TString` of the header (`next`, `tt`, `marked`, a
//! byte, `hash`, `len`) aligned to 8; 5.3 adds `sizeof(UTString)`, the same 24 bytes; 5.4
//! has `contents` as the struct's last member after the same fields, for short and long
//! strings alike (`lobject.h`). 5.5 keeps a short string's bytes there too, but a long
//! string's `contents` at +24 is a pointer to them: right after the header for a regular
//! one, the caller's NUL-terminated buffer for an external one (`lua_pushexternalstring`;
//! external strings are always long). The tag tells the two apart (`LUA_VSHRSTR`,
//! `LUA_VLNGSTR`), so on 5.5 a long string costs one load more
//! (`LONG_STRING_CHARS_BEHIND_POINTER`); the verification checks an external string too.
//!
//! A full userdata's payload follows its header: 40 bytes on 5.1/5.2 (`union Udata`:
//! `next`, `tt`, `marked`, `metatable`, `env`, `len`), 40 on 5.3 (`sizeof(UUdata)`); on
//! 5.4 `udatamemoffset` is 32 (`offsetof(Udata0, bindata)`) for a userdata without user
//! values, whose count (`nuvalue`, a u16 at +10) is read first: one with user values
//! takes the API path. The cdata and the state userdata have none
//! ([`crate::lua::new_userdata`]).
//!
//! The offsets are per version facts ([`crate::lua::version::layout`]). Nothing is
//! trusted blindly: [`verify`] runs when the module first opens, pushes known values and
//! calls known closures, and compares every direct read with the Lua API's answer. Every
//! pointer it guesses is checked before it is read through: a stack slot must lie
//! inside the state's own stack (`stack <= slot < top`, the bounds read from the
//! `lua_State` and checked against pushes and pops of known sizes), and a pointer into
//! other structures (the `CallInfo`, a closure) must be one the kernel says is readable
//! ([`crate::platform::memory::is_readable`]) and, where the API can tell, the same
//! address the API reports. Only if all agree does [`enabled`] become true; an
//! unfamiliar build turns direct reads off instead of crashing, and callers take the API
//! path. Full userdata reads ([`userdata`], [`userdata_upvalue`]) are checked after the
//! others and turned on or off on their own. A wrong guess can cost speed, never
//! correctness. Verification runs once per process, by the first thread that opens the
//! module (a compare-and-swap); other threads use the API path until it has finished,
//! and nothing is turned on before it is checked. `JITFFI_NO_STACK_PEEK=1` in the
//! environment turns direct reads off (the tests run the call suite and the element
//! accesses of `tests/lua/cdata_index.lua` both ways).
//!
//! One write goes the same way: [`set_new_metatable`] gives a userdata that was just made
//! its metatable with one store into the header (where `lua_setmetatable` takes two API
//! calls with the table pushed first), at the place the verified reads found the
//! metatable; [`verify`] checks it with `lua_getmetatable` before turning it on.

use crate::lua::{self, version, State};
use crate::platform::memory::is_readable;
use mlua_sys as sys;
use std::ffi::c_char;
use std::os::raw::c_int;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use crate::lua::version::layout::*;

const TVALUE_BYTES: usize = 16;

/// [`STATE`] before any thread began verifying.
const UNVERIFIED: u8 = 0;
/// [`STATE`] once verified: direct reads are in use.
const ON: u8 = 1;
/// [`STATE`] once verification failed or was turned off.
const OFF: u8 = 2;
/// [`STATE`] while one thread verifies (the others use the API path meanwhile).
const VERIFYING: u8 = 3;

static STATE: AtomicU8 = AtomicU8::new(UNVERIFIED);

/// Whether direct reads are in use.
#[inline]
pub fn enabled() -> bool {
    STATE.load(Ordering::Acquire) == ON
}

/// Whether direct reads of full userdata are in use too (verified on their own).
static USERDATA: AtomicBool = AtomicBool::new(false);

/// Whether every kind of direct read is in use (verified, and not turned off): one
/// flag, so that a fast path ([`Frame::of`]) tests one load.
static ALL: AtomicBool = AtomicBool::new(false);

/// Whether [`set_new_metatable`] stores into the userdata header (verified after the
/// userdata reads, on its own).
static METATABLE_STORES: AtomicBool = AtomicBool::new(false);

/// Whether every kind of direct read is in use (verified, and not turned off).
pub fn all_enabled() -> bool {
    ALL.load(Ordering::Acquire)
}

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

/// The stack bounds of `l` as its `lua_State` records them: (`stack`, `top`).
///
/// # Safety
/// `l` is live. Reads two words inside the `lua_State` itself (at offsets far below its
/// size in every version), never through them.
unsafe fn stack_bounds(l: *mut State) -> (usize, usize) {
    // SAFETY: as documented; the words are initialized pointers in every version.
    unsafe {
        let at = |offset: usize| *(l.cast::<u8>().add(offset).cast::<usize>());
        (at(STACK_AT), at(TOP_AT))
    }
}

/// [`slot`] for the verification: the address of slot `index` of the running C
/// function, if every pointer read on the way checks out (the `CallInfo` readable, the
/// slot inside the state's stack and below its top).
///
/// # Safety
/// `l` is live and running a C function.
unsafe fn checked_slot(l: *mut State, index: c_int) -> Option<*const u8> {
    // SAFETY: each pointer is checked before it is read through.
    unsafe {
        let (stack, top) = stack_bounds(l);
        let ci = *(l.cast::<u8>().add(CI_AT).cast::<*const u8>());
        if !(ci as usize).is_multiple_of(8) || !is_readable(ci.wrapping_add(FUNC_AT), 8) {
            return None;
        }
        let func = *(ci.add(FUNC_AT).cast::<*const u8>()) as usize;
        let at = func.checked_add(TVALUE_BYTES * usize::try_from(index).ok()?)?;
        let inside = stack <= func && (func - stack).is_multiple_of(TVALUE_BYTES);
        (inside && at + TVALUE_BYTES <= top).then_some(at as *const u8)
    }
}

/// [`arg_count`] for the verification: the running C function's argument count from
/// its checked slot and the state's `top`, or -1 if a pointer does not check out.
///
/// # Safety
/// `l` is live and running a C function.
unsafe fn arg_count_direct(l: *mut State) -> c_int {
    // SAFETY: only the bounds words of the state and a checked slot address are used.
    unsafe {
        let (_, top) = stack_bounds(l);
        match checked_slot(l, 0) {
            Some(func) if top >= func as usize => {
                c_int::try_from((top - func as usize) / TVALUE_BYTES).unwrap_or(0) - 1
            }
            _ => -1,
        }
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

/// The number the TValue at `value` holds, if it is one.
///
/// # Safety
/// `value` is a readable TValue.
#[inline]
unsafe fn number_at(value: *const u8) -> Peeked {
    // SAFETY: forwarded; the value word is read as the tag says it is stored.
    unsafe {
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
    unsafe { number_at(slot(l, index)) }
}

/// The number on top of `l`'s stack, if it is one (a callback's result, which is not an
/// argument of a running C function).
///
/// # Safety
/// `l` is live with a value on top.
#[inline]
pub unsafe fn number_on_top(l: *mut State) -> Peeked {
    if !enabled() {
        return Peeked::Unknown;
    }
    // SAFETY: enabled means the layout was verified; the top slot holds a value.
    unsafe {
        let (_, top) = stack_bounds(l);
        number_at((top - TVALUE_BYTES) as *const u8)
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

/// What a metamethod's key argument is, as the fast paths of `__index`/`__newindex`
/// tell keys apart before they set up anything ([`Frame::key_class`]).
#[derive(Copy, Clone, PartialEq, Debug)]
pub enum KeyClass {
    /// A number.
    Number,
    /// A short string (interned by every Lua version: the same bytes are always the same
    /// string object while it lives): the address of its bytes.
    ShortString(*const c_char),
    /// Anything else (a long string, a boolean, a table, a cdata, ...).
    Other,
}

/// The running C function's frame as direct reads see it, read once for a fast path that
/// looks at several arguments and its upvalue: the address of its function slot (its
/// arguments follow) and the stack top.
#[derive(Copy, Clone)]
pub struct Frame {
    func: *const u8,
    top: *const u8,
}

impl Frame {
    /// The running C function's frame, if every kind of direct read is on (see
    /// [`all_enabled`]); else `None`, and the API must be asked.
    ///
    /// # Safety
    /// `l` is live and running a C function.
    #[inline(always)]
    pub unsafe fn of(l: *mut State) -> Option<Frame> {
        if !ALL.load(Ordering::Acquire) {
            return None;
        }
        // SAFETY: ALL means the layout was verified, `L->top` and `ci->func` included.
        unsafe {
            Some(Frame {
                func: slot(l, 0),
                top: *(l.cast::<u8>().add(TOP_AT).cast::<*const u8>()),
            })
        }
    }

    /// Whether the function was called with at least `n` arguments.
    #[inline(always)]
    pub fn has_args(self, n: c_int) -> bool {
        self.func.wrapping_add(TVALUE_BYTES * (n as usize + 1)) <= self.top
    }

    /// The TValue of argument `index` (inside the frame, which Lua gives at least
    /// `LUA_MINSTACK` slots; its value is meaningful only if [`Frame::has_args`] says the
    /// argument was passed).
    #[inline(always)]
    fn arg(self, index: c_int) -> *const u8 {
        self.func.wrapping_add(TVALUE_BYTES * index as usize)
    }

    /// The [`KeyClass`] of argument `index`.
    ///
    /// # Safety
    /// `index` is at least 1 and at most `LUA_MINSTACK`.
    #[inline(always)]
    pub unsafe fn key_class(self, index: c_int) -> KeyClass {
        // SAFETY: the slot lies inside the frame (caller); the layout was verified, the
        // short-string tag included.
        unsafe {
            let value = self.arg(index);
            let tag = tag(value);
            if tag == STRING_TAGS[0] {
                let string = *value.cast::<*const u8>();
                KeyClass::ShortString(string.wrapping_add(STRING_CHARS_AT).cast())
            } else if tag == FLOAT_TAG || Some(tag) == INT_TAG {
                KeyClass::Number
            } else {
                KeyClass::Other
            }
        }
    }

    /// The number argument `index` holds, if it is one.
    ///
    /// # Safety
    /// Argument `index` was passed ([`Frame::has_args`]).
    #[inline(always)]
    pub unsafe fn number(self, index: c_int) -> Peeked {
        // SAFETY: a passed argument is a TValue of the frame.
        unsafe { number_at(self.arg(index)) }
    }

    /// The payload of argument `index` if it is a full userdata of at least `min_len`
    /// bytes whose payload direct reads find (on 5.4: without user values); else null.
    ///
    /// # Safety
    /// Argument `index` was passed ([`Frame::has_args`]).
    #[inline(always)]
    pub unsafe fn userdata(self, index: c_int, min_len: usize) -> *mut std::ffi::c_void {
        // SAFETY: a passed argument is a TValue of the frame; the layout was verified.
        unsafe { userdata_payload(self.arg(index), min_len).unwrap_or(std::ptr::null_mut()) }
    }

    /// The payload of the function's upvalue 1 if it is a full userdata of at least
    /// `min_len` bytes whose payload direct reads find; else null.
    ///
    /// # Safety
    /// The running function is a C closure with at least one upvalue.
    #[inline(always)]
    pub unsafe fn userdata_upvalue(self, min_len: usize) -> *mut std::ffi::c_void {
        // SAFETY: the function slot holds the running closure; the layout was verified.
        unsafe {
            let closure = *self.func.cast::<*const u8>();
            userdata_payload(closure.add(UPVALUE_AT), min_len).unwrap_or(std::ptr::null_mut())
        }
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

/// The bytes of the string the TValue at `value` holds, if it is one (their address
/// only: nothing behind the string pointer is read, except on 5.5 a long string's
/// `contents` pointer, a word of its header).
///
/// # Safety
/// `value` is a readable TValue.
#[inline]
unsafe fn string_at(value: *const u8) -> PeekedString {
    // SAFETY: forwarded; a string TValue's value is its TString, whose header holds the
    // bytes or (5.5's long strings) a pointer to them at STRING_CHARS_AT.
    unsafe {
        let tag = tag(value);
        if !STRING_TAGS.contains(&tag) {
            return PeekedString::Other;
        }
        let string = *value.cast::<*const u8>();
        let chars = string.wrapping_add(STRING_CHARS_AT);
        if LONG_STRING_CHARS_BEHIND_POINTER && tag == STRING_TAGS[1] {
            PeekedString::Chars(*chars.cast::<*const c_char>())
        } else {
            PeekedString::Chars(chars.cast())
        }
    }
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
    // SAFETY: as in `number`.
    unsafe { string_at(slot(l, index)) }
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

/// The Udata block of the full userdata that the TValue at `value` holds, if it is one.
///
/// # Safety
/// `value` is a readable TValue.
#[inline(always)]
unsafe fn userdata_block(value: *const u8) -> Option<*mut u8> {
    // SAFETY: forwarded; a full userdata TValue's value is its Udata block.
    unsafe { (tag(value) == USERDATA_TAG).then(|| *value.cast::<*mut u8>()) }
}

/// The payload of the Udata `block`, if direct reads find it (on 5.4: no user values).
///
/// # Safety
/// `block` is a Udata block (verified layout).
#[inline(always)]
unsafe fn block_payload(block: *mut u8) -> Option<*mut std::ffi::c_void> {
    // SAFETY: the header holds the user value count and is followed by the payload.
    unsafe {
        if let Some(at) = USER_VALUES_AT {
            if *block.add(at).cast::<u16>() != 0 {
                return None;
            }
        }
        Some(block.add(USERDATA_AT).cast())
    }
}

/// The payload of the full userdata that the TValue at `value` holds, if it is one whose
/// payload direct reads find (on 5.4: without user values) and it is at least
/// `min_len` bytes long.
///
/// # Safety
/// `value` is a TValue; direct userdata reads are enabled.
#[inline(always)]
unsafe fn userdata_payload(value: *const u8, min_len: usize) -> Option<*mut std::ffi::c_void> {
    // SAFETY: forwarded.
    match unsafe { sized_userdata(value, min_len) } {
        UserdataRead::Payload(payload) => Some(payload),
        UserdataRead::No | UserdataRead::Unknown => None,
    }
}

/// What direct reads tell of a TValue asked for a full userdata of at least some length.
enum UserdataRead {
    /// It is one, with this payload.
    Payload(*mut std::ffi::c_void),
    /// It is not one (another type, or a shorter userdata): the API would say so too.
    No,
    /// Its payload is for the API to find (on 5.4: a userdata with user values).
    Unknown,
}

/// [`userdata_payload`], telling "not one" from "ask the API".
///
/// # Safety
/// As [`userdata_payload`].
#[inline(always)]
unsafe fn sized_userdata(value: *const u8, min_len: usize) -> UserdataRead {
    // SAFETY: forwarded; the Udata header holds the payload's size (verified layout).
    unsafe {
        let Some(block) = userdata_block(value) else {
            return UserdataRead::No;
        };
        if *block.add(USERDATA_LEN_AT).cast::<usize>() < min_len {
            return UserdataRead::No;
        }
        match block_payload(block) {
            Some(payload) => UserdataRead::Payload(payload),
            None => UserdataRead::Unknown,
        }
    }
}

/// Whether `l` has room for `n` more values without `lua_checkstack`: true only when
/// direct reads are on and `lua_checkstack(l, n)` would change nothing (the stack has
/// more than `n` free slots before `stack_last`, and the running function's room,
/// `ci->top`, reaches `n` slots above the top). A callback's handler asks this first:
/// on 5.1 `lua_checkstack` may raise (out of memory) where nothing may, and on every
/// version the call costs more than the three loads.
///
/// # Safety
/// `l` is live.
#[inline(always)]
pub unsafe fn has_room(l: *mut State, n: usize) -> bool {
    if !enabled() {
        return false;
    }
    // SAFETY: enabled means the layout was verified, `ci->top` and `stack_last`
    // included; only words of the state and of its current `CallInfo` are read.
    unsafe {
        let word = |at: *const u8, offset: usize| *(at.add(offset).cast::<usize>());
        let state = l.cast::<u8>().cast_const();
        let wanted_top = word(state, TOP_AT) + n * TVALUE_BYTES;
        let ci = word(state, CI_AT) as *const u8;
        wanted_top < word(state, STACK_LAST_AT) && wanted_top <= word(ci, CI_TOP_AT)
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

/// `lua_touserdata(l, index)` for argument `index` of the running C function if it is
/// a full userdata of at least `min_len` bytes (else null): its payload read straight
/// from the stack (null at once for a value they see is none), else the API's answer.
///
/// # Safety
/// `l` is live and running a C function with at least `index` arguments.
#[inline(always)]
pub unsafe fn userdata(l: *mut State, index: c_int, min_len: usize) -> *mut std::ffi::c_void {
    // SAFETY: USERDATA means the layout was verified; `index` is a valid argument.
    unsafe {
        if USERDATA.load(Ordering::Acquire) {
            match sized_userdata(slot(l, index), min_len) {
                UserdataRead::Payload(payload) => return payload,
                UserdataRead::No => return std::ptr::null_mut(),
                UserdataRead::Unknown => {}
            }
        }
        full_userdata(l, index, min_len)
    }
}

/// [`userdata`] with the userdata's metatable, when direct reads can tell: `Some((payload,
/// metatable))` for a full userdata of at least `min_len` bytes (`metatable` the address
/// `lua_topointer` gives for its metatable, null for none), `Some((null, null))` for any
/// other value, `None` when the API must be asked.
///
/// # Safety
/// As [`userdata`].
#[inline(always)]
pub unsafe fn userdata_and_metatable(
    l: *mut State,
    index: c_int,
    min_len: usize,
) -> Option<(*mut std::ffi::c_void, *const std::ffi::c_void)> {
    // SAFETY: USERDATA means the layout was verified, the metatable's place included;
    // `index` is a valid argument.
    unsafe {
        if !USERDATA.load(Ordering::Acquire) {
            return None;
        }
        let value = slot(l, index);
        match sized_userdata(value, min_len) {
            UserdataRead::Payload(payload) => {
                let block = *value.cast::<*const u8>();
                Some((
                    payload,
                    *block
                        .add(USERDATA_METATABLE_AT)
                        .cast::<*const std::ffi::c_void>(),
                ))
            }
            UserdataRead::No => Some((std::ptr::null_mut(), std::ptr::null())),
            UserdataRead::Unknown => None,
        }
    }
}

/// `lua_touserdata(l, lua_upvalueindex(1))` for the running C closure if the upvalue is
/// a full userdata of at least `min_len` bytes (else null): its payload read straight
/// from the closure (null at once for a value they see is none), else the API's answer.
///
/// # Safety
/// `l` is live and running a C closure with at least one upvalue.
#[inline(always)]
pub unsafe fn userdata_upvalue(l: *mut State, min_len: usize) -> *mut std::ffi::c_void {
    // SAFETY: as in `light_upvalue`, under USERDATA.
    unsafe {
        if USERDATA.load(Ordering::Acquire) {
            let closure = *slot(l, 0).cast::<*const u8>();
            match sized_userdata(closure.add(UPVALUE_AT), min_len) {
                UserdataRead::Payload(payload) => return payload,
                UserdataRead::No => return std::ptr::null_mut(),
                UserdataRead::Unknown => {}
            }
        }
        full_userdata(l, lua::upvalue(1), min_len)
    }
}

/// Gives the full userdata whose payload [`lua::new_userdata`] just returned the
/// metatable `table` (the table's `lua_topointer`) with one store into the userdata's
/// header, where that store is verified; `false`, with nothing done, where it is not,
/// and the caller uses `lua_setmetatable`.
///
/// What `lua_setmetatable` does besides the store is not needed here: its write barrier
/// keeps the collector from missing a table that only a black object points to, and
/// `table` is kept alive by the registry whatever points to it; its finalizer check
/// registers a userdata whose metatable has `__gc`, which `table` has not.
///
/// # Safety
/// `payload` is the payload of a userdata just made by [`lua::new_userdata`] that has no
/// metatable; `table` is a table without `__gc` that stays anchored in the registry for
/// the life of its state.
#[inline(always)]
pub unsafe fn set_new_metatable(
    payload: *mut std::ffi::c_void,
    table: *const std::ffi::c_void,
) -> bool {
    if !METATABLE_STORES.load(Ordering::Acquire) {
        return false;
    }
    // SAFETY: such a userdata has no user values, so its header lies USERDATA_AT bytes
    // before the payload, with the metatable's place at USERDATA_METATABLE_AT (both
    // verified).
    unsafe {
        let block = payload.cast::<u8>().sub(USERDATA_AT);
        block
            .add(USERDATA_METATABLE_AT)
            .cast::<*const std::ffi::c_void>()
            .write(table);
    }
    true
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
/// only if all agree. Safe to call from several threads at once: one verifies, the others
/// return at once and use the API path until it has finished.
///
/// # Safety
/// Called from a C function (`luaopen_ffi`) with `l` live and 8 free stack slots.
pub unsafe fn verify(l: *mut State) {
    if STATE
        .compare_exchange(UNVERIFIED, VERIFYING, Ordering::AcqRel, Ordering::Acquire)
        .is_err()
    {
        return;
    }
    if std::env::var_os("JITFFI_NO_STACK_PEEK").is_some() {
        // For tests of the API path (and a way out should a Lua build fool the checks).
        STATE.store(OFF, Ordering::Release);
        return;
    }
    // SAFETY: `l` is live with free slots (caller); every read below goes through
    // `checked_slot` or a pointer the API confirmed first.
    unsafe {
        let ok = verify_bounds(l) && verify_numbers(l) && verify_upvalue(l);
        // Userdata reads are checked on their own, so that a Lua whose userdata differ
        // still keeps the number and string reads.
        let userdata_ok = ok && verify_userdata(l);
        let stores_ok = userdata_ok && verify_metatable_store(l);
        METATABLE_STORES.store(stores_ok, Ordering::Release);
        USERDATA.store(userdata_ok, Ordering::Release);
        STATE.store(if ok { ON } else { OFF }, Ordering::Release);
        ALL.store(ok && userdata_ok, Ordering::Release);
    }
}

/// Checks the stack bounds read from the `lua_State`: `stack <= top`, and `top` moves by
/// one TValue per value pushed and back when they are popped.
///
/// # Safety
/// As [`verify`].
unsafe fn verify_bounds(l: *mut State) -> bool {
    // SAFETY: `l` is live with free slots; only words inside the lua_State are read.
    unsafe {
        let (stack, top) = stack_bounds(l);
        let last = *(l.cast::<u8>().add(STACK_LAST_AT).cast::<usize>());
        let base = sys::lua_gettop(l);
        sys::lua_pushinteger(l, 1);
        sys::lua_pushinteger(l, 2);
        let (stack_after, top_after) = stack_bounds(l);
        sys::lua_settop(l, base);
        let (_, top_back) = stack_bounds(l);
        stack != 0
            && stack.is_multiple_of(8)
            && stack <= top
            && top <= last
            && (top - stack).is_multiple_of(TVALUE_BYTES)
            && stack_after == stack
            && top_after == top + 2 * TVALUE_BYTES
            && top_back == top
            && verify_room(l)
    }
}

/// The running function's room (`ci->top`, read by [`has_room`]): it lies between the
/// top and `stack_last`, and `lua_checkstack` asked for more raises it to exactly that
/// many slots above the top, within `stack_last`.
///
/// # Safety
/// As [`verify`], with the stack bounds verified.
unsafe fn verify_room(l: *mut State) -> bool {
    // SAFETY: `l` is live; the `CallInfo` word is read only after the kernel says it is
    // readable, and only words inside the state are read otherwise.
    unsafe {
        let ci_top = |l: *mut State| -> Option<usize> {
            let ci = *(l.cast::<u8>().add(CI_AT).cast::<*const u8>());
            let at = ci.wrapping_add(CI_TOP_AT);
            ((ci as usize).is_multiple_of(8) && is_readable(at, 8)).then(|| *at.cast::<usize>())
        };
        let last = |l: *mut State| *(l.cast::<u8>().add(STACK_LAST_AT).cast::<usize>());
        let (_, top) = stack_bounds(l);
        let Some(room_end) = ci_top(l) else {
            return false;
        };
        if room_end < top || room_end > last(l) || !(room_end - top).is_multiple_of(TVALUE_BYTES) {
            return false;
        }
        let room = (room_end - top) / TVALUE_BYTES;
        // More than the function has: lua_checkstack raises `ci->top` to exactly this.
        let wanted = room + 3;
        let Ok(wanted_c) = c_int::try_from(wanted) else {
            return false;
        };
        if sys::lua_checkstack(l, wanted_c) == 0 {
            return false;
        }
        // What lua_checkstack promises, as `has_room` reads it (a stack grown to the
        // slot may end right there).
        let (_, top) = stack_bounds(l);
        let wanted_top = top + wanted * TVALUE_BYTES;
        ci_top(l) == Some(wanted_top) && wanted_top <= last(l)
    }
}

/// Pushes numbers, a boolean and strings and compares what direct reads find with what
/// the API says.
///
/// # Safety
/// As [`verify`].
unsafe fn verify_numbers(l: *mut State) -> bool {
    // SAFETY: as above; every slot read is one this function pushed, inside the stack.
    unsafe {
        let top = sys::lua_gettop(l);
        sys::lua_pushnumber(l, 2.5);
        sys::lua_pushinteger(l, 0x1234_5678_9abc as sys::lua_Integer);
        sys::lua_pushboolean(l, 1);
        lua::push_str(l, "short");
        // A literal, not a `String`: the push may raise (out of memory).
        lua::push_str(
            l,
            "long string, beyond any short-string limit long string, beyond any short-string \
             limit long string, beyond any short-string limit long string, beyond any \
             short-string limit ",
        );
        // 5.5: an external string, whose bytes stay in the caller's buffer (a long string
        // whatever its length).
        let external = version::push_external_string(l, EXTERNAL_STRING);
        let pushed = if external { 6 } else { 5 };
        let number = |index| checked_slot(l, index).map(|value| number_at(value));
        let string = |index| checked_slot(l, index).and_then(|value| checked_string_at(value));
        let chars = |index| {
            Some(PeekedString::Chars(sys::lua_tolstring(
                l,
                index,
                std::ptr::null_mut(),
            )))
        };
        let float_ok = number(top + 1) == Some(Peeked::Float(2.5));
        // A short string has the first of the string tags, and the same bytes pushed
        // again are the same string ([`Frame::key_class`] relies on both).
        lua::push_str(l, "short");
        let again = top + pushed + 1;
        let short_ok = checked_slot(l, top + 4).is_some_and(|value| tag(value) == STRING_TAGS[0])
            && checked_slot(l, again).is_some_and(|value| tag(value) == STRING_TAGS[0])
            && string(again) == string(top + 4);
        sys::lua_settop(l, top + pushed);
        let strings_ok = short_ok
            && string(top + 4) == chars(top + 4)
            && string(top + 5) == chars(top + 5)
            && string(top + 1) == Some(PeekedString::Other)
            && string(top + 3) == Some(PeekedString::Other)
            && (!external
                || (string(top + 6) == Some(PeekedString::Chars(EXTERNAL_STRING.as_ptr()))
                    && chars(top + 6) == string(top + 6)));
        let int_ok = match INT_TAG {
            Some(_) => number(top + 2) == Some(Peeked::Int(0x1234_5678_9abc)),
            // Lua 5.1/5.2 store every number as a double.
            None => number(top + 2) == Some(Peeked::Float(0x1234_5678_9abc_i64 as f64)),
        };
        let other_ok = number(top + 3) == Some(Peeked::Unknown);
        let count_ok =
            checked_slot(l, top + pushed).is_some() && arg_count_direct(l) == top + pushed;
        sys::lua_settop(l, top);
        float_ok && int_ok && other_ok && strings_ok && count_ok && arg_count_direct(l) == top
    }
}

/// The bytes of the external string [`verify_numbers`] pushes (5.5), short enough to be
/// a short string if it were not external.
const EXTERNAL_STRING: &std::ffi::CStr = c"external";

/// [`string_at`] for the verification: where the read goes through the string's header
/// (5.5's long strings), the header's word is checked readable first.
///
/// # Safety
/// `value` is a readable TValue.
unsafe fn checked_string_at(value: *const u8) -> Option<PeekedString> {
    // SAFETY: the header's word is checked aligned and readable before `string_at`
    // reads it.
    unsafe {
        if LONG_STRING_CHARS_BEHIND_POINTER && tag(value) == STRING_TAGS[1] {
            let chars = (*value.cast::<*const u8>()).wrapping_add(STRING_CHARS_AT);
            if !(chars as usize).is_multiple_of(8) || !is_readable(chars, 8) {
                return None;
            }
        }
        Some(string_at(value))
    }
}

/// In a C closure called by the verification with its own closure's address as argument
/// 1 (a light userdata): the closure's upvalue 1, read directly, if every pointer on the
/// way checks out.
///
/// # Safety
/// `l` is live and running such a closure.
unsafe fn checked_upvalue(l: *mut State) -> Option<*const u8> {
    // SAFETY: the closure pointer is compared with the API's before it is read through.
    unsafe {
        let function = checked_slot(l, 0)?;
        let closure = *function.cast::<*const u8>();
        let expected = sys::lua_touserdata(l, 1).cast_const().cast::<u8>();
        // From the header's first word to the upvalue's tag (bytes of initialized fields).
        (closure == expected && is_readable(closure, UPVALUE_AT + 9))
            .then(|| closure.add(UPVALUE_AT))
    }
}

/// Pushes `probe` as a closure over the value on top, calls it with its own address and
/// returns whether it returned true.
///
/// # Safety
/// `l` is live with 3 free slots and a value on top; `probe` neither raises nor leaves
/// other values.
unsafe fn call_probe(l: *mut State, probe: sys::lua_CFunction) -> bool {
    // SAFETY: as the caller guarantees.
    unsafe {
        lua::push_closure(l, probe, 1);
        sys::lua_pushlightuserdata(l, sys::lua_topointer(l, -1).cast_mut());
        sys::lua_call(l, 1, 1);
        let ok = sys::lua_toboolean(l, -1) != 0;
        sys::lua_settop(l, -2);
        ok
    }
}

/// Pushes full userdata (on 5.4 also one with user values, which must be left to the
/// API; one with a metatable), a light userdata and a number, and calls a closure with
/// a full userdata upvalue, and compares what direct reads find with what
/// `lua_touserdata` (and `lua_topointer` of the metatable) says.
///
/// # Safety
/// As [`verify`], with the number reads verified.
unsafe fn verify_userdata(l: *mut State) -> bool {
    unsafe extern "C-unwind" fn probe(l: *mut State) -> c_int {
        // SAFETY: called by `call_probe` with one full userdata upvalue.
        unsafe {
            let api = sys::lua_touserdata(l, lua::upvalue(1));
            let same = checked_upvalue(l).is_some_and(|value| checked_payload(value, api));
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
        let block = |index| checked_slot(l, index).map(|value| userdata_block(value));
        // The payload length (read by `userdata`'s `min_len` check) is checked too.
        let sized = |index, len: usize, expected| {
            checked_slot(l, index).is_some_and(|v| {
                checked_payload(v, expected)
                    && userdata_payload(v, len) == Some(expected)
                    && userdata_payload(v, len + 1).is_none()
            })
        };
        // The metatable's place: `small` gets one, `large` has none.
        sys::lua_createtable(l, 0, 0);
        let metatable = sys::lua_topointer(l, -1);
        sys::lua_setmetatable(l, top + 1);
        let meta = |index| {
            checked_slot(l, index).and_then(|value| {
                let block = userdata_block(value)?;
                is_readable(block, USERDATA_AT).then(|| {
                    *block
                        .add(USERDATA_METATABLE_AT)
                        .cast::<*const std::ffi::c_void>()
                })
            })
        };
        let metatables_ok = !metatable.is_null()
            && USERDATA_METATABLE_AT + 8 <= USERDATA_AT
            && meta(top + 1) == Some(metatable)
            && meta(top + 2) == Some(std::ptr::null());
        let ok = metatables_ok
            && sized(top + 1, 1, small)
            && sized(top + 2, 256, large)
            && block(top + 3) == Some(None)
            && block(top + 4) == Some(None);
        let ok = ok
            && match version::new_userdata_with_user_values(l, 8) {
                // Left to the API: direct reads must not find its payload.
                Some(with_values) => checked_slot(l, top + 5).is_some_and(|value| {
                    userdata_block(value).is_some_and(|block| {
                        is_readable(block, USERDATA_AT) && block_payload(block).is_none()
                    }) && sys::lua_touserdata(l, top + 5) == with_values
                }),
                None => true,
            };
        sys::lua_settop(l, top);
        lua::new_userdata(l, 16);
        let upvalue_ok = ok && call_probe(l, probe);
        sys::lua_settop(l, top);
        ok && upvalue_ok
    }
}

/// Gives a new userdata a metatable by the store of [`set_new_metatable`] and checks
/// that `lua_getmetatable` finds it.
///
/// # Safety
/// As [`verify`], with the userdata reads verified (the metatable's place included).
unsafe fn verify_metatable_store(l: *mut State) -> bool {
    // SAFETY: the store goes to the place the verified reads found the metatable at, in
    // a userdata this function made; the table stays on the stack while the userdata
    // does.
    unsafe {
        let top = sys::lua_gettop(l);
        sys::lua_createtable(l, 0, 0);
        let table = sys::lua_topointer(l, -1);
        let payload = lua::new_userdata(l, 16);
        METATABLE_STORES.store(true, Ordering::Release);
        set_new_metatable(payload, table);
        METATABLE_STORES.store(false, Ordering::Release);
        let ok = sys::lua_getmetatable(l, top + 2) != 0 && sys::lua_rawequal(l, -1, top + 1) != 0;
        sys::lua_settop(l, top);
        ok
    }
}

/// Whether the full userdata the TValue at `value` holds has the payload `api`, the
/// block's header checked readable before it is read.
///
/// # Safety
/// `value` is a readable TValue.
unsafe fn checked_payload(value: *const u8, api: *mut std::ffi::c_void) -> bool {
    // SAFETY: the block is compared with the API's payload address first (the header
    // ends where the payload begins), then its header is checked readable.
    unsafe {
        match userdata_block(value) {
            Some(block) => {
                block.wrapping_add(USERDATA_AT).cast() == api
                    && is_readable(block, USERDATA_AT)
                    && block_payload(block) == Some(api)
            }
            None => false,
        }
    }
}

/// Calls a closure with a known light userdata upvalue and compares the direct read of
/// it with `lua_touserdata`.
///
/// # Safety
/// As [`verify`].
unsafe fn verify_upvalue(l: *mut State) -> bool {
    unsafe extern "C-unwind" fn probe(l: *mut State) -> c_int {
        // SAFETY: called by `call_probe` with one light userdata upvalue.
        unsafe {
            let api = sys::lua_touserdata(l, lua::upvalue(1));
            let direct = checked_upvalue(l)
                .filter(|&value| is_readable(value, 8))
                .map(|value| *value.cast::<*mut std::ffi::c_void>());
            sys::lua_pushboolean(l, c_int::from(direct == Some(api) && !api.is_null()));
        }
        1
    }
    static SENTINEL: u8 = 0;
    // SAFETY: `l` is live with free slots; `probe` neither raises nor leaves extra values.
    unsafe {
        sys::lua_pushlightuserdata(l, std::ptr::addr_of!(SENTINEL) as *mut _);
        call_probe(l, probe)
    }
}
