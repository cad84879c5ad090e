//! Asking the kernel whether memory can be read, so that a guessed pointer is tested
//! before anything dereferences it.

use std::ffi::c_void;
use std::os::fd::AsRawFd;
use std::os::raw::c_int;

extern "C" {
    fn write(fd: c_int, buf: *const c_void, count: usize) -> isize;
}

/// Whether the `len` bytes at `address` are mapped and readable. The kernel copies them
/// into a pipe: an unreadable address makes `write` fail with `EFAULT` instead of
/// faulting. Costs a pipe and a system call: for one-time checks only.
pub fn is_readable(address: *const u8, len: usize) -> bool {
    if address.is_null() || len == 0 || len > 4096 {
        return !address.is_null() && len == 0;
    }
    let Ok((_reader, writer)) = std::io::pipe() else {
        return false;
    };
    // SAFETY: `write` takes any address: the kernel checks it and reports EFAULT; the
    // pipe is empty and its buffer (at least a page) takes `len` bytes without blocking.
    let written = unsafe { write(writer.as_raw_fd(), address.cast(), len) };
    written == len as isize
}

#[cfg(test)]
mod tests {
    use super::is_readable;

    #[test]
    fn readable_memory_is_told_from_unmapped_addresses() {
        let local = [7u8; 16];
        assert!(is_readable(local.as_ptr(), local.len()));
        assert!(!is_readable(std::ptr::null(), 8));
        assert!(!is_readable(8 as *const u8, 8));
        assert!(!is_readable((usize::MAX - 64) as *const u8, 8));
    }
}
