//! Several threads open Lua states and load `ffi` at the same moment: the one-time
//! verification of the direct stack reads (`lua/stack.rs`) runs once, no thread reads
//! through an unverified guess meanwhile, and once it is done the reads are on for all.
//! Each state then runs calls whose arguments take the direct path.

use mlua_sys as sys;
use std::ffi::CString;
use std::sync::{Arc, Barrier};

/// Opens a state, loads `ffi` and runs calls; the error message if anything failed.
fn open_and_call() -> Result<(), String> {
    let code = CString::new(
        r#"
        local ffi = require "ffi"
        ffi.cdef "int abs(int); size_t strlen(const char *);"
        for i = 1, 200 do
          assert(ffi.C.abs(-i) == i)
          assert(ffi.C.strlen("four") == 4)
          local p = ffi.new("double[4]", i, 2, 3, 4)
          assert(p[0] == i)
        end
        "#,
    )
    .unwrap();
    // SAFETY: a new state, used only by this thread through the Lua API, then closed.
    unsafe {
        let l = sys::luaL_newstate();
        if l.is_null() {
            return Err("no state".into());
        }
        sys::luaL_openlibs(l);
        sys::luaL_getsubtable(l, sys::LUA_REGISTRYINDEX, c"_PRELOAD".as_ptr());
        sys::lua_pushcfunction(l, jitffi_lua::luaopen_ffi);
        sys::lua_setfield(l, -2, c"ffi".as_ptr());
        sys::lua_settop(l, 0);
        let mut status = sys::luaL_loadstring(l, code.as_ptr());
        if status == sys::LUA_OK {
            status = sys::lua_pcall(l, 0, 0, 0);
        }
        let result = if status == sys::LUA_OK {
            Ok(())
        } else {
            let mut len = 0;
            let text = sys::lua_tolstring(l, -1, &mut len);
            Err(String::from_utf8_lossy(std::slice::from_raw_parts(text.cast(), len)).into_owned())
        };
        sys::lua_close(l);
        result
    }
}

#[test]
fn states_opened_at_once_by_eight_threads_share_one_verification() {
    let threads = 8;
    let barrier = Arc::new(Barrier::new(threads));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            std::thread::spawn(move || {
                barrier.wait();
                open_and_call()
            })
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().expect("thread panicked"), Ok(()));
    }
    if std::env::var_os("JITFFI_NO_STACK_PEEK").is_none() {
        assert!(
            jitffi_lua::lua::stack::all_enabled(),
            "the direct stack reads passed their verification and are on"
        );
    }
}
