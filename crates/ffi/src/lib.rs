//! The Lua module `ffi`: LuaJIT's FFI API for PUC Lua 5.1-5.5.
//!
//! May use: `jitffi-ctype` for types, `mlua-sys` for the Lua C API (and nothing of Lua
//! beyond the C API, so that the same code builds into the `jitffi` runner with a
//! vendored Lua 5.4 and into `ffi.so` for a stock `lua5.x`).
//!
//! Promises: `luaopen_ffi` returns a table with LuaJIT's `ffi` API. Every function is a
//! C closure whose upvalue 1 is the per-state [`cdata::state::FfiState`] (except `ffi.type`,
//! which needs none); errors are Lua errors with LuaJIT's texts, never crashes or Rust
//! panics (see [`lua`] for the rules). It also replaces the globals `type`,
//! `tonumber`, `pairs` and `ipairs` with cdata-aware versions ([`api::idioms`]) and
//! defines what LuaJIT has
//! around its ffi where it is missing (`bit`, `jit`, ... : [`luajit_env`]);
//! `luaopen_ffi_core` (`require "ffi.core"`) returns the same module table without any
//! of these global changes, and `luaopen_ffi_literals` the loaders of
//! [`luajit_env::literals`].
//!
//! Layers, bottom up (each folder's `mod.rs` says what it may use; no file imports one
//! of a layer above): [`platform`], the Lua seam [`lua`], the numeric core [`scalar`],
//! [`cdata`] (cdata, conversions, the per-state [`cdata::state::FfiState`]), [`calls`]
//! (C calls and callbacks, reached from below through hooks this file installs), and
//! [`api`] with this file, which assembles the state and the module table.
//!
//! Panics: every function Lua calls is `extern "C-unwind"` and runs its body through
//! [`lua::entry`], which catches a panic and raises it as a Lua error that says it is a
//! bug (the entry protocol: see [`lua`]). The callback handlers that machine code calls
//! (`calls::callback`) are `extern "C"` and must not panic: they run Lua code only
//! through [`lua::call_deferred`] (under `lua_pcall`), and a panic that escaped them
//! anyway would abort the process (guaranteed since Rust 1.81), never unwind into C. The crate is built with `panic = "unwind"` for this reason; under
//! `panic = "abort"` every panic aborts.
//!
//! It also provides the module `cbframe` ([`calls::cbframe`]): `luaopen_ffi` registers it in
//! `package.preload`, and [`luaopen_cbframe`] is exported from the same library so
//! that a copy of `ffi.so` named `cbframe.so` loads it too.

pub mod api;
pub mod calls;
pub mod cdata;
pub mod lua;
pub mod luajit_env;
pub mod platform;
pub mod scalar;

use api::{idioms, memory, namespace, types};
pub use calls::cbframe::luaopen_cbframe;
use calls::{call, callback, cbframe};
use cdata::state::FfiState;
use cdata::{construct, gc, metamethods, metatype};
use lua::stack;
use mlua_sys as sys;
use std::os::raw::c_int;

/// Entry point of `require "ffi"`: pushes the module table (the one of `ffi.core`),
/// after defining LuaJIT's environment ([`luajit_env`]) and the global `type` and
/// `tonumber` ([`idioms`]).
///
/// # Safety
/// Called by Lua with a valid state.
#[no_mangle]
pub unsafe extern "C-unwind" fn luaopen_ffi(l: *mut sys::lua_State) -> c_int {
    // SAFETY: `l` is the live state running `require`; the state userdata comes from
    // the core module's own closure.
    unsafe {
        sys::luaL_checkstack(l, 16, c"ffi: not enough Lua stack".as_ptr());
        let (module, state_index, st) = push_core_and_state(l);
        idioms::install_globals(l, &*st, state_index);
        luajit_env::install(l, state_index);
        sys::lua_settop(l, module);
    }
    1
}

/// Entry point of `require "ffi.core"`: the module without any global change.
///
/// # Safety
/// Called by Lua with a valid state.
#[no_mangle]
pub unsafe extern "C-unwind" fn luaopen_ffi_core(l: *mut sys::lua_State) -> c_int {
    // SAFETY: `l` is the live state running `require`.
    unsafe {
        sys::luaL_checkstack(l, 16, c"ffi: not enough Lua stack".as_ptr());
        push_core(l);
    }
    1
}

/// Entry point of `require "ffi.literals"`: loaders that read LuaJIT's number literals
/// ([`luajit_env::literals`]).
///
/// # Safety
/// Called by Lua with a valid state.
#[no_mangle]
pub unsafe extern "C-unwind" fn luaopen_ffi_literals(l: *mut sys::lua_State) -> c_int {
    // SAFETY: `l` is the live state running `require`.
    unsafe {
        sys::luaL_checkstack(l, 16, c"ffi: not enough Lua stack".as_ptr());
        let (_, state_index, _) = push_core_and_state(l);
        luajit_env::literals::push_module(l, state_index);
    }
    1
}

/// Pushes the core module (see [`push_core`]) and its state userdata; returns their
/// indices and the state.
///
/// # Safety
/// `l` is live, inside a C function, with 8 free slots.
unsafe fn push_core_and_state(l: *mut sys::lua_State) -> (c_int, c_int, *mut FfiState) {
    // SAFETY: `l` is live (caller); `ffi.new` is a closure of the core module whose
    // upvalue 1 is the state userdata (module invariant), checked before use.
    unsafe {
        push_core(l);
        let module = sys::lua_gettop(l);
        lua::push_str(l, "new");
        sys::lua_rawget(l, module);
        let holder = if sys::lua_getupvalue(l, -1, cdata::state::STATE_UPVALUE).is_null() {
            std::ptr::null_mut()
        } else {
            sys::lua_touserdata(l, -1).cast::<cdata::state::StateBox>()
        };
        if holder.is_null() || (*holder).state.is_null() {
            sys::luaL_error(
                l,
                c"ffi: package.loaded[\"ffi.core\"] is not the ffi module".as_ptr(),
            );
        }
        sys::lua_remove(l, -2);
        (module, sys::lua_gettop(l), (*holder).state)
    }
}

/// Pushes `package.loaded["ffi.core"]`, building the module (and storing it there) if
/// it is not loaded yet: one module, one type table per Lua state, whichever of `ffi`,
/// `ffi.core` and `ffi.literals` is required first.
///
/// # Safety
/// `l` is live, inside a C function, with 4 free slots.
unsafe fn push_core(l: *mut sys::lua_State) {
    // SAFETY: `l` is live (caller); `_LOADED` is checked to be a table.
    unsafe {
        sys::lua_getfield(l, sys::LUA_REGISTRYINDEX, c"_LOADED".as_ptr());
        let loaded = sys::lua_gettop(l);
        if sys::lua_type(l, loaded) == sys::LUA_TTABLE {
            sys::lua_getfield(l, loaded, c"ffi.core".as_ptr());
            if sys::lua_type(l, -1) == sys::LUA_TTABLE {
                sys::lua_remove(l, loaded);
                return;
            }
            sys::lua_settop(l, loaded);
        }
        sys::lua_pushcfunction(l, open_core);
        sys::lua_call(l, 0, 1);
        if sys::lua_type(l, loaded) == sys::LUA_TTABLE {
            sys::lua_pushvalue(l, -1);
            sys::lua_setfield(l, loaded, c"ffi.core".as_ptr());
        }
        sys::lua_remove(l, loaded);
    }
}

/// Builds the module table.
///
/// # Safety
/// Called by Lua with a valid state.
unsafe extern "C-unwind" fn open_core(l: *mut sys::lua_State) -> c_int {
    // The body owns nothing with a destructor, so the Lua calls in it may raise; `entry`
    // turns a panic into an error.
    // SAFETY: `l` is the live state running `require`; every table and closure below is
    // built on its stack, with the state userdata as upvalue 1 of each function.
    unsafe {
        lua::entry(l, || {
            open_core_body(l);
            Ok(1)
        })
    }
}

/// The body of [`open_core`]: leaves the module table on top.
///
/// # Safety
/// As [`open_core`].
unsafe fn open_core_body(l: *mut sys::lua_State) {
    // SAFETY: as in `open_core`.
    unsafe {
        sys::luaL_checkstack(l, 16, c"ffi: not enough Lua stack".as_ptr());
        platform::library::keep_loaded();
        lua::tagged::init();
        lua::version::check_build(l);
        stack::verify(l);
        // For the tests: a build whose direct reads fail verification fails loudly.
        let required = std::env::var_os("JITFFI_REQUIRE_STACK_PEEK").is_some();
        if required && !stack::all_enabled() {
            sys::luaL_error(l, c"ffi: direct stack reads failed verification".as_ptr());
        }
        let st = FfiState::push_new(l);
        let state_index = sys::lua_gettop(l);
        (*st).ctype_objects = new_registry_table(l);
        (*st).typeof_cache = new_registry_table(l);
        (*st).field_names = new_registry_table(l);
        lua::push_str(l, "__index");
        (*st).index_name = sys::luaL_ref(l, sys::LUA_REGISTRYINDEX);
        (*st).metatypes = new_registry_table(l);
        (*st).cdata_meta = metamethods::new_cdata_metatable(l, state_index);
        gc::install(l, &mut *st);
        call::install(l, &mut *st);
        callback::install(l, &mut *st, state_index);

        sys::lua_createtable(l, 0, 26);
        // `ffi.C` first: the first key of a table sized for all of them keeps its main
        // node (Lua moves only keys outside theirs), so `ffi.C` never walks a collision
        // chain, whatever the string hash seed.
        namespace::install(l, state_index, sys::lua_gettop(l));
        let functions: [(&str, sys::lua_CFunction); 15] = [
            ("cdef", types::cdef),
            ("new", construct::new),
            ("cast", construct::cast),
            ("typeof", types::typeof_),
            ("sizeof", types::sizeof),
            ("alignof", types::alignof),
            ("offsetof", types::offsetof),
            ("istype", types::istype),
            ("abi", types::abi),
            ("metatype", metatype::metatype),
            ("gc", gc::gc),
            ("string", memory::string),
            ("copy", memory::copy),
            ("fill", memory::fill),
            ("errno", memory::errno),
        ];
        for (name, function) in functions {
            sys::lua_pushvalue(l, state_index);
            lua::push_closure(l, function, 1);
            lua::set_field_raw(l, -2, name);
        }
        lua::push_str(l, os_name());
        lua::set_field_raw(l, -2, "os");
        lua::push_str(l, arch_name());
        lua::set_field_raw(l, -2, "arch");
        idioms::install(l, &*st, state_index, sys::lua_gettop(l));
        cbframe::install(l, state_index, sys::lua_gettop(l));
        sys::lua_remove(l, state_index);
    }
}

/// Creates an empty table, stores it in the registry and returns its reference.
///
/// # Safety
/// `l` is live with one free slot.
unsafe fn new_registry_table(l: *mut sys::lua_State) -> c_int {
    // SAFETY: `l` is live (caller).
    unsafe {
        sys::lua_createtable(l, 0, 0);
        sys::luaL_ref(l, sys::LUA_REGISTRYINDEX)
    }
}

/// `ffi.os` as LuaJIT spells it.
pub(crate) fn os_name() -> &'static str {
    if cfg!(target_os = "linux") {
        "Linux"
    } else if cfg!(target_os = "macos") {
        "OSX"
    } else if cfg!(any(
        target_os = "freebsd",
        target_os = "netbsd",
        target_os = "openbsd"
    )) {
        "BSD"
    } else if cfg!(windows) {
        "Windows"
    } else if cfg!(unix) {
        "POSIX"
    } else {
        "Other"
    }
}

/// `ffi.arch` as LuaJIT spells it.
pub(crate) fn arch_name() -> &'static str {
    if cfg!(target_arch = "aarch64") {
        "arm64"
    } else {
        "x64"
    }
}
