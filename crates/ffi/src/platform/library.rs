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

/// Keeps the shared object holding this code loaded for the life of the process.
///
/// `lua_close` dlcloses the C libraries `require` opened. Unloading `ffi.so` would
/// leave callback pointers C still holds jumping into unmapped code (instead of being
/// refused, see `crate::calls::callback`), and would drop the process-wide caches (code
/// pages, the callback slot pools) so that every new state made them again. So the
/// first `luaopen_ffi` reopens the object it lives in with `RTLD_NODELETE` (and
/// `RTLD_NOLOAD`, so that nothing new is ever loaded), which makes every `dlclose` of it
/// leave it mapped. When the ffi is linked into an executable (the `jitffi` runner)
/// there is nothing to pin: `dlopen` finds no shared object by that name and the
/// executable is never unloaded anyway.
pub fn keep_loaded() {
    /// glibc's `<dlfcn.h>` value (libloading exports only the POSIX flags).
    const RTLD_NOLOAD: c_int = 0x4;
    #[repr(C)]
    struct DlInfo {
        fname: *const std::os::raw::c_char,
        fbase: *mut std::ffi::c_void,
        sname: *const std::os::raw::c_char,
        saddr: *mut std::ffi::c_void,
    }
    extern "C" {
        fn dladdr(address: *const std::ffi::c_void, info: *mut DlInfo) -> c_int;
    }
    static PINNED: std::sync::Once = std::sync::Once::new();
    PINNED.call_once(|| {
        let mut info = std::mem::MaybeUninit::<DlInfo>::zeroed();
        // SAFETY: `dladdr` writes `info` for an address inside a loaded object (this
        // function) and returns zero, leaving it untouched, otherwise.
        let found = unsafe { dladdr(keep_loaded as *const std::ffi::c_void, info.as_mut_ptr()) };
        // SAFETY: zero-initialised or written by `dladdr`.
        let info = unsafe { info.assume_init() };
        if found == 0 || info.fname.is_null() {
            return;
        }
        // SAFETY: `dladdr` returned the object's path, a C string that lives as long as
        // the object (which is loaded: this code runs from it).
        let path = unsafe { std::ffi::CStr::from_ptr(info.fname) };
        let path: &std::ffi::OsStr = std::os::unix::ffi::OsStrExt::from_bytes(path.to_bytes());
        let flags = libloading::os::unix::RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE;
        // SAFETY: with RTLD_NOLOAD nothing is loaded (no initialisers run): the call only
        // marks the object already mapped as never to be unloaded. The handle is leaked
        // on purpose: it is one more reference that no `dlclose` takes away.
        if let Ok(library) = unsafe { libloading::os::unix::Library::open(Some(path), flags) } {
            std::mem::forget(library);
        }
    });
}
