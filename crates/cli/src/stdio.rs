//! The runner's own console I/O, done through C's `stdin`/`stdout`/`stderr`.
//!
//! Lua's `print`, `io.write` and `io.read` use C stdio. Going through the same `FILE`s
//! keeps our prompts and banners in order with the script's output when stdout is a
//! pipe, and lets `io.read()` inside the REPL see the line right after the one we read
//! (a second buffer, like Rust's `Stdin`, would swallow it).

use std::os::raw::c_int;

extern "C" {
    #[cfg_attr(target_vendor = "apple", link_name = "__stdinp")]
    static stdin: *mut libc::FILE;
    #[cfg_attr(target_vendor = "apple", link_name = "__stdoutp")]
    static stdout: *mut libc::FILE;
    #[cfg_attr(target_vendor = "apple", link_name = "__stderrp")]
    static stderr: *mut libc::FILE;
}

/// Writes `bytes` to C's stdout and flushes it (as `lua_writestring` + `fflush` do).
pub fn write_stdout(bytes: &[u8]) {
    // SAFETY: `stdout` is initialised by the C runtime before `main`; fwrite reads
    // exactly `bytes.len()` bytes from a live slice.
    unsafe {
        libc::fwrite(bytes.as_ptr().cast(), 1, bytes.len(), stdout);
        libc::fflush(stdout);
    }
}

/// Writes `bytes` to C's stderr and flushes it (as `lua_writestringerror` does).
pub fn write_stderr(bytes: &[u8]) {
    // SAFETY: as in `write_stdout`, for `stderr`.
    unsafe {
        libc::fwrite(bytes.as_ptr().cast(), 1, bytes.len(), stderr);
        libc::fflush(stderr);
    }
}

/// Reads one line from C's stdin into `line` (replacing its contents), without the
/// newline. Returns false at end of input with nothing read.
pub fn read_line(line: &mut Vec<u8>) -> bool {
    line.clear();
    let mut chunk = [0u8; 512];
    loop {
        // SAFETY: fgets writes at most `chunk.len()` bytes, NUL-terminated, into our
        // buffer; `stdin` is initialised by the C runtime.
        let got = unsafe { libc::fgets(chunk.as_mut_ptr().cast(), chunk.len() as c_int, stdin) };
        if got.is_null() {
            return !line.is_empty();
        }
        let filled = chunk.iter().position(|&b| b == 0).unwrap_or(chunk.len());
        let piece = &chunk[..filled];
        if let Some(without_newline) = piece.strip_suffix(b"\n") {
            line.extend_from_slice(without_newline);
            return true;
        }
        line.extend_from_slice(piece);
    }
}
