//! The seam between Rust and the Lua C API: entry points, error raising, and the few
//! helpers that differ between Lua 5.1 and 5.5. The bottom layer of the crate.
//!
//! May use: `mlua-sys`, `std` and [`crate::platform`] (the readability probe of the
//! direct stack reads); nothing above it, in particular no call or cdata types: a layer
//! above hands its own steps to [`entry_continue`] through the [`Continue`] trait.
//!
//! # The entry protocol
//!
//! Every Rust function that Lua or machine code calls runs its work as a *body*: a
//! closure that returns `LuaResult`, run by one of the entries below. The entry catches
//! a panic (an error that says it is a bug), lets the body return, so that every Rust
//! value it owned is dropped, and only then raises. The variants differ only in what a
//! body gives back and where the error goes:
//! - [`entry`]: a Lua C function; the body returns its result count.
//! - [`entry_next`], [`entry_continue`]: the same, plus a tail step ([`Next`]) that may
//!   run Lua code (a metamethod, a call through a stub), in the C function's own frame
//!   after the body's values are gone.
//! - [`entry_value`]: a helper that a call stub's machine code calls inside a Lua C
//!   function; the body returns the helper's value (a converted argument), and its
//!   error may be reworded first (a metamethod's position).
//! - [`call_deferred`]: a callback handler, which machine code calls on a C stack that a
//!   longjmp must never cross: it runs a protected C function (itself an [`entry`])
//!   under `lua_pcall` and gets the error back on the stack, to raise later from the
//!   stub of the enclosing call.
//!
//! Inside a body:
//! - A Lua error is a longjmp. No Lua API call that can raise runs while a Rust value
//!   with a destructor is alive in the body or a frame between it and the entry (a
//!   `String`, `Vec`, `Box`, and RefCell guards `Ref`/`RefMut`: a guard skipped by a
//!   longjmp leaves its cell borrowed for good). Calls that cannot raise: raw access,
//!   pushing numbers, booleans, light userdata and existing values, `lua_touserdata`,
//!   `lua_checkstack` ([`ensure_stack`], never `luaL_checkstack`). Allocating calls
//!   (strings, tables, userdata, `luaL_ref`) can raise out of memory, and on 5.1-5.3 the
//!   error of a finalizer they ran: they run before any such value exists, or
//!   protected ([`push_str_protected`], [`call_protected`]), as mlua does. Calls that
//!   run Lua code (metamethods, `lua_call`) belong in a [`Next`] step, unless the body
//!   owns nothing at all (the module loaders).
//! - Lua code can re-enter the module at any allocation (finalizers, callbacks): the
//!   per-state data is only ever shared (`&FfiState`), with short borrows of its cells.
//! - A panic never unwinds into Lua: the entry turns it into an error. The `extern "C"`
//!   callback handlers run Lua only through [`call_deferred`]; a panic outside it
//!   aborts (see the crate docs).

pub mod stack;
pub mod tagged;

// The one file of facts about the Lua version this build is for.
#[cfg_attr(feature = "lua51", path = "lua51.rs")]
#[cfg_attr(feature = "lua52", path = "lua52.rs")]
#[cfg_attr(feature = "lua53", path = "lua53.rs")]
#[cfg_attr(feature = "lua54", path = "lua54.rs")]
#[cfg_attr(feature = "lua55", path = "lua55.rs")]
pub mod version;

use mlua_sys as lua;
use std::ffi::c_void;
use std::os::raw::{c_char, c_int};
use std::panic::{catch_unwind, AssertUnwindSafe};

pub use lua::lua_State as State;

/// A failure to report to Lua as an error.
#[derive(Debug)]
pub enum LuaError {
    /// An error with a message; Lua adds the caller's position, like `luaL_error`
    /// (LuaJIT's `lj_err_caller`, which every conversion error uses).
    Message(String),
    /// An error with a message and no position, like LuaJIT's `lj_err_msg` (for
    /// example "string length overflow").
    Plain(String),
    /// `bad argument #index to 'fn' (message)`, like `luaL_argerror`.
    Arg { index: c_int, message: String },
    /// The error value is already on top of the stack (from a failed `lua_pcall`).
    Raised,
}

pub type LuaResult<T> = Result<T, LuaError>;

impl LuaError {
    pub fn msg(message: impl Into<String>) -> LuaError {
        LuaError::Message(message.into())
    }

    /// The message text, without the position Lua adds when raising.
    pub fn text(&self) -> &str {
        match self {
            LuaError::Message(message)
            | LuaError::Plain(message)
            | LuaError::Arg { message, .. } => message,
            LuaError::Raised => "",
        }
    }

    /// An error without the caller's position (see [`LuaError::Plain`]).
    pub fn plain(message: impl Into<String>) -> LuaError {
        LuaError::Plain(message.into())
    }

    pub fn arg(index: c_int, message: impl Into<String>) -> LuaError {
        LuaError::Arg {
            index,
            message: message.into(),
        }
    }
}

impl From<jitffi_ctype::CdefError> for LuaError {
    fn from(err: jitffi_ctype::CdefError) -> LuaError {
        LuaError::Message(err.message().to_owned())
    }
}

/// Runs `body` as the body of a Lua C function: returns its result count, or raises its
/// error after every Rust value it owned has been dropped.
///
/// # Safety
/// `state` is the live Lua state that called the C function, and this is called directly
/// from that C function (so that raising unwinds only frames that own nothing).
#[inline(always)]
pub unsafe fn entry(state: *mut State, body: impl FnOnce() -> LuaResult<c_int>) -> c_int {
    // SAFETY: forwarded from the caller.
    unsafe { entry_value(state, body, |error| error) }
}

/// Runs `body` as the body of a call stub's helper: returns its value, or raises its
/// error (passed through `reword` first) after every Rust value it owned has been
/// dropped.
///
/// # Safety
/// `state` is the live Lua state of the C function the stub runs as, and the frames
/// between here and that function own nothing (stub frames).
#[inline(always)]
pub unsafe fn entry_value<T>(
    state: *mut State,
    body: impl FnOnce() -> LuaResult<T>,
    reword: impl FnOnce(LuaError) -> LuaError,
) -> T {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => value,
        // SAFETY: forwarded; the body's frame is gone.
        Ok(Err(error)) => unsafe { raise(state, reword(error)) },
        // SAFETY: as above.
        Err(panic) => unsafe { raise(state, reword(panic_error(panic))) },
    }
}

/// The error for a panic caught at an entry (the payload is dropped here).
#[cold]
#[inline(never)]
fn panic_error(panic: Box<dyn std::any::Any + Send>) -> LuaError {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    LuaError::Message(format!(
        "jitffi internal error (a bug, please report): {what}"
    ))
}

/// Calls the function below the top `args` values under `lua_pcall` with message
/// handler `handler` (a stack index, or 0), keeping `results` results: the entry of a
/// callback handler, which cannot raise. An error is left on top as
/// [`LuaError::Raised`] for the caller to keep until it can be raised.
///
/// # Safety
/// `state` is live and holds the function and its arguments on top.
#[inline(always)]
pub unsafe fn call_deferred(
    state: *mut State,
    args: c_int,
    results: c_int,
    handler: c_int,
) -> LuaResult<()> {
    // SAFETY: forwarded from the caller.
    if unsafe { lua::lua_pcall(state, args, results, handler) } == lua::LUA_OK {
        Ok(())
    } else {
        Err(LuaError::Raised)
    }
}

/// What a C function does once its Rust body has returned and dropped everything it
/// owned: the steps that may run Lua code (and so raise) happen here, in a frame that
/// owns nothing.
#[derive(Copy, Clone, Debug)]
pub enum Next<C: Continue = Never> {
    /// Return this many values from the top of the stack.
    Return(c_int),
    /// Call the function below the top `args` values with them and return all its
    /// results (a metamethod forwarded to a user's function).
    Call { args: c_int },
    /// The stack ends with `table, key, value`: do `table[key] = value`, return nothing.
    Set,
    /// Call this C function in place of the one running, with the same stack, and return
    /// its results (a metamethod handing a call to the layer that owns it).
    Delegate(lua::lua_CFunction),
    /// Run this continuation in the C function's own frame (a layer above's tail step,
    /// such as a call through a stub), and return its results.
    Continue(C),
}

/// A step that runs after an entry's body returned and dropped everything it owned
/// ([`Next::Continue`]); it may raise.
pub trait Continue {
    /// Runs the step; returns the C function's result count.
    ///
    /// # Safety
    /// `state` is the live state of the C function whose body returned this step.
    unsafe fn run(self, state: *mut State) -> c_int;
}

/// No continuation: the [`Next`] of bodies that never continue.
#[derive(Copy, Clone, Debug)]
pub enum Never {}

impl Continue for Never {
    unsafe fn run(self, _: *mut State) -> c_int {
        match self {}
    }
}

/// As [`entry`] for a body that may hand a Lua call back to its C function ([`Next`]).
///
/// # Safety
/// As [`entry`]; for each `Next` the body leaves the stack as that variant describes.
pub unsafe fn entry_next(state: *mut State, body: impl FnOnce() -> LuaResult<Next>) -> c_int {
    // SAFETY: forwarded from the caller.
    unsafe { entry_continue(state, body) }
}

/// As [`entry_next`] for a body that may also return a continuation of its own.
///
/// # Safety
/// As [`entry_next`].
pub unsafe fn entry_continue<C: Continue>(
    state: *mut State,
    body: impl FnOnce() -> LuaResult<Next<C>>,
) -> c_int {
    let mut next = Next::Return(0);
    // SAFETY: forwarded from the caller.
    let results = unsafe {
        entry(state, || {
            next = body()?;
            Ok(0)
        })
    };
    debug_assert_eq!(results, 0);
    // SAFETY: `state` is live; the body left the values `next` describes on the stack;
    // nothing in this frame needs dropping if the calls below raise.
    unsafe {
        match next {
            Next::Return(n) => n,
            Next::Call { args } => {
                let base = lua::lua_gettop(state) - args - 1;
                lua::lua_call(state, args, lua::LUA_MULTRET);
                lua::lua_gettop(state) - base
            }
            Next::Set => {
                lua::lua_settable(state, -3);
                0
            }
            Next::Delegate(function) => function(state),
            Next::Continue(step) => step.run(state),
        }
    }
}

/// Raises `error` in Lua. Never returns.
///
/// # Safety
/// `state` is live and the frames between here and Lua's error handler own nothing
/// that needs dropping.
#[cold]
#[inline(never)]
pub unsafe fn raise(state: *mut State, error: LuaError) -> ! {
    // SAFETY: `state` is live (caller); each String is copied into Lua under protection
    // and dropped before anything that may raise runs unprotected.
    unsafe {
        match error {
            LuaError::Message(message) => {
                let pushed = push_str_protected(state, &message);
                drop(message);
                if pushed.is_ok() {
                    lua::luaL_where(state, 1);
                    lua::lua_insert(state, -2);
                    lua::lua_concat(state, 2);
                }
                lua::lua_error(state);
            }
            LuaError::Plain(message) => {
                // Pushed, or the error of the push on top: either is raised.
                let _ = push_str_protected(state, &message);
                drop(message);
                lua::lua_error(state);
            }
            LuaError::Arg { index, message } => {
                let pushed = push_str_protected(state, &message);
                drop(message);
                if pushed.is_err() {
                    lua::lua_error(state);
                }
                let text = lua::lua_tolstring(state, -1, std::ptr::null_mut());
                lua::luaL_argerror(state, index, text);
            }
            LuaError::Raised => {
                lua::lua_error(state);
            }
        }
    }
    unreachable!("lua_error returned")
}

/// Pushes `s` as a Lua string under protection (`lua_pcall` of a small C function, as
/// mlua does): an error of the allocation (out of memory, or on 5.1-5.3 the error of a
/// finalizer it ran) is left on top as [`LuaError::Raised`] instead of jumping over the
/// caller's frames, which may own Rust values. Use it while a value with a destructor is
/// alive (a `String` being pushed); plain [`push_str`] otherwise.
///
/// # Safety
/// `state` is live with three free stack slots.
pub unsafe fn push_str_protected(state: *mut State, s: &str) -> LuaResult<()> {
    // SAFETY: forwarded.
    unsafe { push_bytes_protected(state, s.as_bytes()) }
}

/// As [`push_str_protected`] for bytes that need not be UTF-8.
///
/// # Safety
/// As [`push_str_protected`].
pub unsafe fn push_bytes_protected(state: *mut State, s: &[u8]) -> LuaResult<()> {
    unsafe extern "C-unwind" fn push(l: *mut State) -> c_int {
        // SAFETY: argument 1 points to the `&[u8]` below, alive during the call.
        unsafe {
            let s = *lua::lua_touserdata(l, 1).cast::<&[u8]>();
            lua::lua_pushlstring(l, s.as_ptr().cast::<c_char>(), s.len());
        }
        1
    }
    let mut s = s;
    // SAFETY: `state` is live (caller); `push` returns one value.
    unsafe { call_protected(state, push, std::ptr::addr_of_mut!(s).cast()) }
}

/// Calls `function` under protection with `data` as its light userdata argument 1,
/// keeping its one result on top; an error (out of memory, a finalizer's) is left on top
/// as [`LuaError::Raised`] instead of jumping over the caller's frames. `function` must
/// own nothing with a destructor when it raises (or be an [`entry`]).
///
/// # Safety
/// `state` is live with three free stack slots; `function` returns exactly one value.
pub unsafe fn call_protected(
    state: *mut State,
    function: lua::lua_CFunction,
    data: *mut c_void,
) -> LuaResult<()> {
    // SAFETY: forwarded from the caller.
    if unsafe { version::call_protected(state, function, data) } {
        Ok(())
    } else {
        Err(LuaError::Raised)
    }
}

/// Makes room for `slots` more values on the stack, or an error (`lua_checkstack`, which
/// reports instead of raising as `luaL_checkstack` would).
///
/// # Safety
/// `state` is live.
pub unsafe fn ensure_stack(state: *mut State, slots: c_int) -> LuaResult<()> {
    // SAFETY: `state` is live (caller).
    if unsafe { lua::lua_checkstack(state, slots) } == 0 {
        return Err(LuaError::msg(
            "stack overflow (not enough Lua stack for ffi)",
        ));
    }
    Ok(())
}

/// Pushes a Rust string as a Lua string.
///
/// # Safety
/// `state` is live with one free stack slot.
pub unsafe fn push_str(state: *mut State, s: &str) {
    // SAFETY: pointer and length describe `s`, which Lua copies.
    unsafe {
        lua::lua_pushlstring(state, s.as_ptr().cast::<c_char>(), s.len());
    }
}

/// The string at `index` (a string or a number, which Lua converts in place), if any.
///
/// # Safety
/// `state` is live; the returned slice lives as long as the value stays on the stack.
pub unsafe fn to_bytes<'a>(state: *mut State, index: c_int) -> Option<&'a [u8]> {
    let mut len = 0usize;
    // SAFETY: `state` is live; Lua returns a pointer to `len` bytes owned by the value.
    unsafe {
        let ptr = lua::lua_tolstring(state, index, &mut len);
        if ptr.is_null() {
            None
        } else {
            Some(std::slice::from_raw_parts(ptr.cast::<u8>(), len))
        }
    }
}

/// Only a real string (not a number) at `index`.
///
/// # Safety
/// As [`to_bytes`].
pub unsafe fn to_string_only<'a>(state: *mut State, index: c_int) -> Option<&'a [u8]> {
    // SAFETY: `state` is live (caller).
    unsafe {
        if lua::lua_type(state, index) == lua::LUA_TSTRING {
            to_bytes(state, index)
        } else {
            None
        }
    }
}

/// The Lua type name of the value at `index` (`"nil"`, `"no value"`, ...).
///
/// # Safety
/// `state` is live.
pub unsafe fn type_name(state: *mut State, index: c_int) -> &'static str {
    // SAFETY: `state` is live; lua_typename returns a static string.
    unsafe {
        let t = lua::lua_type(state, index);
        let name = lua::lua_typename(state, t);
        std::ffi::CStr::from_ptr(name).to_str().unwrap_or("?")
    }
}

/// A full userdata of `size` bytes with no user values (Lua 5.4 would add one, 16 bytes
/// of overhead, for each).
///
/// # Safety
/// `state` is live with one free stack slot.
pub unsafe fn new_userdata(state: *mut State, size: usize) -> *mut c_void {
    // SAFETY: forwarded.
    unsafe { version::new_userdata(state, size) }
}

/// Pushes a C closure with `upvalues` values taken from the stack.
///
/// # Safety
/// `state` is live and holds `upvalues` values on top.
pub unsafe fn push_closure(state: *mut State, function: lua::lua_CFunction, upvalues: c_int) {
    // SAFETY: `state` is live (caller).
    unsafe { lua::lua_pushcclosure(state, function, upvalues) }
}

/// Index of upvalue `n` (1-based) of the running C function.
pub fn upvalue(n: c_int) -> c_int {
    lua::lua_upvalueindex(n)
}

/// Sets `t[name] = v` on the table at `table` for the value on top (popped), raw.
///
/// # Safety
/// `state` is live; `table` is a table (not a relative index below the pushed name).
pub unsafe fn set_field_raw(state: *mut State, table: c_int, name: &str) {
    // SAFETY: `state` is live; the value is on top, the table at an absolute index.
    unsafe {
        let table = lua::lua_absindex(state, table);
        push_str(state, name);
        lua::lua_insert(state, -2);
        lua::lua_rawset(state, table);
    }
}
