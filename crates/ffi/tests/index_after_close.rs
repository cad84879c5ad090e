//! `p[i]` from a finalizer that runs after the ffi state was freed (while `lua_close`
//! finalizes everything): the fast path of `__index`/`__newindex` must see the freed
//! state and leave the access to the general path, which raises its error, even for a
//! type the element cache knew.

use mlua_sys as sys;
use std::ffi::{c_int, CString};
use std::sync::Mutex;

/// What the Lua function `record` was given, in order.
static RECORDED: Mutex<Vec<String>> = Mutex::new(Vec::new());

unsafe extern "C-unwind" fn record(l: *mut sys::lua_State) -> c_int {
    // SAFETY: called by Lua with a string argument; the bytes are copied at once.
    unsafe {
        let mut len = 0;
        let text = sys::lua_tolstring(l, 1, &mut len);
        let bytes = std::slice::from_raw_parts(text.cast::<u8>(), len);
        let text = String::from_utf8_lossy(bytes).into_owned();
        RECORDED
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(text);
    }
    0
}

/// Runs `code` in `l`, panicking with Lua's message if it fails.
fn run(l: *mut sys::lua_State, code: &str) {
    let code = CString::new(code).unwrap();
    // SAFETY: `l` is a live state.
    unsafe {
        let status = sys::luaL_loadstring(l, code.as_ptr());
        let status = if status == sys::LUA_OK {
            sys::lua_pcall(l, 0, 0, 0)
        } else {
            status
        };
        if status != sys::LUA_OK {
            let message = sys::lua_tolstring(l, -1, std::ptr::null_mut());
            panic!("{:?}", std::ffi::CStr::from_ptr(message));
        }
    }
}

#[test]
fn elements_read_from_a_late_finalizer_raise_instead_of_reading_a_freed_state() {
    // SAFETY: a new state used only through the Lua API, closed once at the end.
    unsafe {
        let l = sys::luaL_newstate();
        assert!(!l.is_null());
        sys::luaL_openlibs(l);
        sys::lua_pushcfunction(l, record);
        sys::lua_setglobal(l, c"record".as_ptr());
        // Lua 5.4 calls finalizers newest first, so this one, set before the ffi
        // state's own, runs after the state is freed.
        run(
            l,
            r#"
            late = setmetatable({}, { __gc = function()
                record(tostring(select(2, pcall(function() return P[1] end))))
                record(tostring(select(2, pcall(function() P[1] = 1 end))))
                record(tostring(select(2, pcall(function() return Q[0] end))))
            end })
            "#,
        );
        sys::lua_pushcfunction(l, jitffi_lua::luaopen_ffi);
        sys::lua_call(l, 0, 1);
        sys::lua_setglobal(l, c"ffi".as_ptr());
        run(
            l,
            r#"
            P = ffi.new("int[2]", 7, 8)
            Q = ffi.cast("double *", ffi.new("double[1]", 2.5))
            for _ = 1, 2 do assert(P[1] == 8 and Q[0] == 2.5); P[1] = 8 end
            record("before close " .. P[1])
            "#,
        );
        sys::lua_close(l);
    }
    let recorded = RECORDED.lock().unwrap().clone();
    assert_eq!(recorded.len(), 4, "{recorded:?}");
    assert_eq!(recorded[0], "before close 8");
    for message in &recorded[1..] {
        assert!(
            message.contains("ffi used after its Lua state began closing"),
            "{recorded:?}"
        );
    }
}
