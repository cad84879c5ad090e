//! The C `errno` of the calling thread.

use std::os::raw::c_int;

/// The C `errno` of the calling thread. The call machinery reads it right after a C
/// function returns, before anything else can change it, if it needs to keep it.
pub fn get_errno() -> c_int {
    // SAFETY: the location is the calling thread's own errno, valid for its lifetime.
    unsafe { errno_location().read() }
}

/// Sets the C `errno` of the calling thread (what `ffi.errno(n)` does, and what the
/// call machinery restores before a C call if it saved it).
pub fn set_errno(value: c_int) {
    // SAFETY: as in `get_errno`.
    unsafe { errno_location().write(value) }
}

/// The address of the calling thread's `errno` (glibc and musl: `__errno_location`;
/// the BSDs and macOS: `__error`). Call stubs call it right after each C call.
pub extern "C" fn errno_location() -> *mut c_int {
    extern "C" {
        #[cfg_attr(
            any(target_os = "macos", target_os = "ios", target_os = "freebsd"),
            link_name = "__error"
        )]
        #[cfg_attr(
            any(target_os = "netbsd", target_os = "openbsd", target_os = "android"),
            link_name = "__errno"
        )]
        fn __errno_location() -> *mut c_int;
    }
    // SAFETY: the C library function takes no arguments and returns the thread's errno
    // address.
    unsafe { __errno_location() }
}

#[cfg(test)]
mod tests {
    use super::{get_errno, set_errno};

    #[test]
    fn errno_round_trips() {
        set_errno(42);
        assert_eq!(get_errno(), 42);
        set_errno(0);
        assert_eq!(get_errno(), 0);
    }
}
