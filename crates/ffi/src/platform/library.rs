//! Dynamic loading: `dlopen` with the flags `ffi.load` needs, and its error text.

pub use libloading::os::unix::{Library, RTLD_GLOBAL, RTLD_LAZY, RTLD_LOCAL};
use std::os::raw::c_int;

/// `dlopen`'s flag that makes `dlclose` keep the library mapped (Linux, BSDs, macOS).
#[cfg(target_os = "macos")]
pub const RTLD_NODELETE: c_int = 0x80;
#[cfg(not(target_os = "macos"))]
pub const RTLD_NODELETE: c_int = 0x1000;

/// `dlopen(file, flags)`, or `dlerror`'s text.
pub fn dlopen(file: &str, flags: c_int) -> Result<Library, String> {
    // SAFETY: loading a library runs its initializers; that is what `ffi.load` asks for
    // (as in LuaJIT, the Lua code loading it vouches for the library).
    let opened = unsafe { Library::open(Some(file), flags) };
    opened.map_err(|err| match std::error::Error::source(&err) {
        Some(text) => text.to_string(),
        None => err.to_string(),
    })
}
