//! Ctrl-C while Lua code runs: the first SIGINT asks the running code to stop with the
//! error "interrupted!" (through a debug hook, the only thing a signal handler may safely
//! do to a Lua state); a second SIGINT before that happens kills the process as usual.

use mlua_sys as lua;
use std::os::raw::c_int;
use std::panic;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};

/// The state that is running Lua code, while a protected call is under way.
static RUNNING_STATE: AtomicPtr<lua::lua_State> = AtomicPtr::new(ptr::null_mut());

/// Routes SIGINT to `state` until `disarm`.
pub fn arm(state: *mut lua::lua_State) {
    RUNNING_STATE.store(state, Ordering::SeqCst);
    let handler: extern "C" fn(c_int) = on_sigint;
    set_handler(handler as libc::sighandler_t);
}

/// Restores the default action of SIGINT.
pub fn disarm() {
    set_handler(libc::SIG_DFL);
}

fn set_handler(handler: libc::sighandler_t) {
    // SAFETY: a zeroed sigaction is a valid "no flags, empty mask" value that we then
    // fill in. No SA_RESTART, like lua.c: a blocking read is interrupted too.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = handler;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(libc::SIGINT, &action, ptr::null_mut());
    }
}

extern "C" fn on_sigint(_signal: c_int) {
    // Only async-signal-safe work here: no allocation, no locks.
    let outcome = panic::catch_unwind(|| {
        set_handler(libc::SIG_DFL);
        let state = RUNNING_STATE.load(Ordering::SeqCst);
        if !state.is_null() {
            let mask =
                lua::LUA_MASKCALL | lua::LUA_MASKRET | lua::LUA_MASKLINE | lua::LUA_MASKCOUNT;
            // SAFETY: `state` is live while armed; lua_sethook is the one Lua API
            // function documented as safe to call from a signal handler.
            unsafe { lua::lua_sethook(state, Some(stop_hook), mask, 1) };
        }
    });
    if outcome.is_err() {
        std::process::abort();
    }
}

/// The hook set by `on_sigint`: removes itself and raises "interrupted!".
///
/// Not wrapped in catch_unwind: luaL_error longjmps out of this frame, and a longjmp may
/// only cross frames with nothing to clean up (a catch_unwind frame is not one). The
/// body only calls the C API, so there is no panic to catch.
unsafe extern "C-unwind" fn stop_hook(state: *mut lua::lua_State, _ar: *mut lua::lua_Debug) {
    // SAFETY: Lua calls the hook with its live state; the message is a C literal.
    unsafe {
        lua::lua_sethook(state, None, 0, 0);
        lua::luaL_error(state, c"interrupted!".as_ptr());
    }
}
