//! Executable memory: machine code is written into a private read+write mapping, which
//! is then flipped to read+execute, once. A mapping is never writable and executable at
//! the same time, and a published block is never written again.
//!
//! Published code lives as long as the process: call stubs are shared by every Lua state
//! and may be reached from a finalizer that runs while a state closes, so freeing them
//! would turn a late call into a jump into unmapped memory. Their number is bounded by the
//! number of distinct C signatures the process calls.

use dynasmrt::mmap::MutableBuffer;
use std::io;

/// Machine code that has been published: read+execute, never written again.
#[derive(Debug)]
pub struct PublishedCode {
    start: *const u8,
    len: usize,
}

// SAFETY: the code is immutable after publication and lives for the whole process, so
// sharing its address between threads is sound.
unsafe impl Send for PublishedCode {}
// SAFETY: as above: nothing mutates it.
unsafe impl Sync for PublishedCode {}

impl PublishedCode {
    /// The address of byte `offset` of the code.
    pub fn address(&self, offset: usize) -> *const u8 {
        assert!(
            offset < self.len,
            "bug: code offset {offset} past {}",
            self.len
        );
        self.start.wrapping_add(offset)
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Copies `bytes` into fresh memory, makes it read+execute and keeps it for the life of
/// the process.
pub fn publish(bytes: &[u8]) -> io::Result<PublishedCode> {
    if bytes.is_empty() {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty code"));
    }
    let mut buffer = MutableBuffer::new(bytes.len())?;
    buffer.set_len(bytes.len());
    buffer[..bytes.len()].copy_from_slice(bytes);
    // make_exec flips the mapping with mprotect(PROT_READ | PROT_EXEC): from here on
    // nobody can write it. x86-64 keeps instruction fetch coherent with data writes, so
    // no cache flush is needed (AArch64 would need one here).
    let executable = buffer.make_exec()?;
    let code = PublishedCode {
        start: executable.ptr(dynasmrt::AssemblyOffset(0)),
        len: bytes.len(),
    };
    // Never unmapped: see the module docs.
    std::mem::forget(executable);
    Ok(code)
}

#[cfg(test)]
mod tests {
    use super::publish;

    #[test]
    fn published_code_runs() {
        // mov eax, 42; ret
        let code = publish(&[0xb8, 42, 0, 0, 0, 0xc3]).unwrap();
        // SAFETY: the bytes are a complete function of that type.
        let f: extern "C" fn() -> i32 = unsafe { std::mem::transmute(code.address(0)) };
        assert_eq!(f(), 42);
    }

    #[test]
    fn empty_code_is_refused() {
        assert!(publish(&[]).is_err());
    }
}
