//! Asking the kernel whether memory can be read, so that a guessed pointer is tested
//! before anything dereferences it.

use std::ffi::c_void;
use std::os::fd::AsRawFd;
use std::os::raw::c_int;

extern "C" {
    fn write(fd: c_int, buf: *const c_void, count: usize) -> isize;
}

/// Whether the `len` bytes at `address` (at most a page) are mapped and readable. The
/// kernel copies their first and last byte into a pipe (memory is readable page by page,
/// and such a range spans at most two pages): an unreadable address makes `write` fail
/// with `EFAULT` instead of faulting. Only those two bytes are read, so a caller picks a
/// range that begins and ends inside initialized fields (memory checkers complain when
/// uninitialized padding reaches a system call). Costs a pipe and two system calls: for
/// one-time checks only.
pub fn is_readable(address: *const u8, len: usize) -> bool {
    if address.is_null() || len == 0 || len > 4096 {
        return false;
    }
    let Ok((_reader, writer)) = std::io::pipe() else {
        return false;
    };
    let last = address.wrapping_add(len - 1);
    [address, last].into_iter().all(|byte| {
        // SAFETY: `write` takes any address: the kernel checks it and reports EFAULT;
        // the empty pipe takes two bytes without blocking.
        unsafe { write(writer.as_raw_fd(), byte.cast(), 1) == 1 }
    })
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
