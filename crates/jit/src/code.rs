//! Executable memory: one process-wide arena that hands out space for call stubs and
//! callback slot pages from shared pages, never writable and executable at once.
//!
//! **Policy (W^X).** A page is never mapped writable and executable at the same time,
//! and a page that has been executable is never written again. Code is appended to the
//! arena by *replacing* the pages it lands on:
//!
//! 1. a fresh private read+write mapping of those pages is made elsewhere;
//! 2. the bytes already published on the first page (the arena fills pages from the
//!    start) are copied into it, then the new code after them;
//! 3. it is flipped to read+execute (`mprotect`);
//! 4. it is moved over the arena's pages in one `mremap(MREMAP_FIXED)`, which swaps the
//!    page tables atomically: a thread running older code on the page meanwhile sees
//!    the same bytes before and after;
//! 5. the instruction cache is synchronised for the new range (`arch::flush_icache`:
//!    nothing on x86-64, `dc cvau`/`ic ivau` on AArch64).
//!
//! So 300 stubs of a few hundred bytes share a few dozen pages, and the arena's address
//! space is reserved in chunks ([`CHUNK_BYTES`], `PROT_NONE` until used) instead of one
//! mapping per stub. Each replaced run of pages stays one mapping of its own (the kernel
//! cannot merge moved anonymous pages with their neighbours), so the count of mappings
//! grows with the pages of code, not with the number of stubs.
//!
//! Published code lives as long as the process: call stubs are shared by every Lua state
//! and may be reached from a finalizer that runs while a state closes, and callback slots
//! may be kept by C forever, so freeing them would turn a late call into a jump into
//! unmapped memory. Their number is bounded by the number of distinct C signatures the
//! process calls and the callbacks it makes at once.
//!
//! Unsafety, all in this file: the raw `mmap`/`mprotect`/`mremap` calls, and the reads of
//! already published bytes (read+execute memory the arena owns and never unmaps).

use crate::arch;
use std::io;
use std::sync::{Mutex, OnceLock};

/// The system page size (4 KiB on x86-64; 4, 16 or 64 KiB on AArch64 Linux).
fn page_size() -> usize {
    static PAGE: OnceLock<usize> = OnceLock::new();
    // SAFETY: sysconf has no preconditions.
    *PAGE.get_or_init(|| match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        size if size > 0 => size as usize,
        _ => 4096,
    })
}

/// Address space reserved at a time. Code larger than a chunk gets a chunk of its own.
pub const CHUNK_BYTES: usize = 1 << 20;

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

/// The arena's reserved chunk being filled.
struct Chunk {
    base: usize,
    len: usize,
    /// Bytes published so far from `base`.
    used: usize,
}

/// The process's executable arena.
pub struct CodeArena {
    chunk: Mutex<Option<Chunk>>,
}

const _: () = {
    const fn shared<T: Send + Sync>() {}
    shared::<CodeArena>();
    shared::<PublishedCode>();
};

/// The one arena of the process.
pub fn arena() -> &'static CodeArena {
    static ARENA: OnceLock<CodeArena> = OnceLock::new();
    ARENA.get_or_init(|| CodeArena {
        chunk: Mutex::new(None),
    })
}

/// Copies `bytes` into the arena (16-aligned), read+execute for the life of the process.
pub fn publish(bytes: &[u8]) -> io::Result<PublishedCode> {
    arena().publish(bytes, 16)
}

/// As [`publish`], at an address that is a multiple of `align` (a power of two up to the
/// page size).
pub fn publish_aligned(bytes: &[u8], align: usize) -> io::Result<PublishedCode> {
    arena().publish(bytes, align)
}

impl CodeArena {
    /// Appends `bytes` at the next multiple of `align` (see the module docs).
    pub fn publish(&self, bytes: &[u8], align: usize) -> io::Result<PublishedCode> {
        if bytes.is_empty() {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty code"));
        }
        let page = page_size();
        if !align.is_power_of_two() || align > page {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "bug: code alignment",
            ));
        }
        // A poisoned lock means a panic elsewhere while holding it; the chunk's words
        // change only after the code is in place.
        let mut chunk = self.chunk.lock().unwrap_or_else(|p| p.into_inner());
        let fits = |c: &Chunk| c.used.next_multiple_of(align) + bytes.len() <= c.len;
        if !chunk.as_ref().is_some_and(fits) {
            *chunk = Some(reserve(
                bytes.len().next_multiple_of(page).max(CHUNK_BYTES),
            )?);
        }
        let chunk = chunk.as_mut().expect("a chunk was reserved");
        let start = chunk.used.next_multiple_of(align);
        let first_page = chunk.used / page * page;
        let end = start + bytes.len();
        let span = end.next_multiple_of(page) - first_page;
        let mut image = vec![arch::CODE_FILL; span];
        if chunk.used > first_page {
            // SAFETY: `first_page..used` of the chunk is published code: mapped
            // read+execute by an earlier call, never unmapped or written.
            let published = unsafe {
                std::slice::from_raw_parts(
                    (chunk.base + first_page) as *const u8,
                    chunk.used - first_page,
                )
            };
            image[..published.len()].copy_from_slice(published);
        }
        image[start - first_page..end - first_page].copy_from_slice(bytes);
        replace_pages(chunk.base + first_page, &image, page)?;
        chunk.used = end;
        let start = (chunk.base + start) as *const u8;
        // SAFETY: the range was just mapped read+execute above and is never unmapped.
        unsafe { arch::flush_icache(start, bytes.len()) };
        Ok(PublishedCode {
            start,
            len: bytes.len(),
        })
    }
}

fn last_os_error(what: &str) -> io::Error {
    let error = io::Error::last_os_error();
    io::Error::new(error.kind(), format!("{what}: {error}"))
}

/// Reserves `len` bytes of address space (`PROT_NONE`, no memory behind it).
fn reserve(len: usize) -> io::Result<Chunk> {
    // SAFETY: a fresh anonymous mapping at an address the kernel chooses; nothing else
    // is affected.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if base == libc::MAP_FAILED {
        return Err(last_os_error("cannot reserve code memory"));
    }
    Ok(Chunk {
        base: base as usize,
        len,
        used: 0,
    })
}

/// Puts `image` (whole pages) at `at` (page-aligned, inside a chunk) read+execute,
/// through a fresh read+write mapping that is flipped, then moved there.
fn replace_pages(at: usize, image: &[u8], page: usize) -> io::Result<()> {
    debug_assert!(
        at.is_multiple_of(page) && image.len().is_multiple_of(page),
        "bug: pages expected"
    );
    let len = image.len();
    // SAFETY: a fresh anonymous read+write mapping at an address the kernel chooses.
    let fresh = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if fresh == libc::MAP_FAILED {
        return Err(last_os_error("cannot map code memory"));
    }
    // SAFETY: `fresh` is `len` writable bytes nobody else knows of.
    unsafe { std::ptr::copy_nonoverlapping(image.as_ptr(), fresh.cast::<u8>(), len) };
    let executable = libc::PROT_READ | libc::PROT_EXEC;
    // SAFETY: flips our own fresh mapping from read+write to read+execute, with the
    // architecture's guard where it has one (AArch64: PROT_BTI, so that indirect branches
    // may land only on the entries' landing pads).
    let mut flipped = unsafe { libc::mprotect(fresh, len, executable | arch::EXEC_GUARD) };
    if flipped != 0 && arch::EXEC_GUARD != 0 {
        // A kernel or CPU without the guard refuses the flag (EINVAL): plain
        // read+execute, the pads being no-ops there.
        // SAFETY: as above.
        flipped = unsafe { libc::mprotect(fresh, len, executable) };
    }
    if flipped != 0 {
        let error = last_os_error("cannot make code executable");
        // SAFETY: unmaps our own fresh mapping, which nobody uses.
        unsafe { libc::munmap(fresh, len) };
        return Err(error);
    }
    // SAFETY: moves our fresh mapping over pages of a chunk the arena reserved: the
    // pages are either unused (PROT_NONE) or hold exactly the bytes that `image` repeats
    // at the same offsets, so code running there sees no change.
    let moved = unsafe {
        libc::mremap(
            fresh,
            len,
            len,
            libc::MREMAP_MAYMOVE | libc::MREMAP_FIXED,
            at as *mut libc::c_void,
        )
    };
    if moved == libc::MAP_FAILED {
        let error = last_os_error("cannot place code memory");
        // SAFETY: as above.
        unsafe { libc::munmap(fresh, len) };
        return Err(error);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn published_code_runs_and_shares_pages() {
        // mov eax, 42; ret
        let a = publish(&[0xb8, 42, 0, 0, 0, 0xc3]).unwrap();
        // mov eax, 43; ret
        let b = publish(&[0xb8, 43, 0, 0, 0, 0xc3]).unwrap();
        // SAFETY: the bytes are complete functions of that type.
        let (fa, fb): (extern "C" fn() -> i32, extern "C" fn() -> i32) = unsafe {
            (
                std::mem::transmute::<*const u8, extern "C" fn() -> i32>(a.address(0)),
                std::mem::transmute::<*const u8, extern "C" fn() -> i32>(b.address(0)),
            )
        };
        assert_eq!((fa(), fb()), (42, 43));
        assert_eq!(b.address(0) as usize % 16, 0);
        let page = publish_aligned(&[0xc3], 4096).unwrap();
        assert_eq!(page.address(0) as usize % 4096, 0);
    }

    #[cfg(target_arch = "aarch64")]
    #[test]
    fn published_code_runs() {
        let word = |w: u32| w.to_le_bytes();
        // bti c; mov w0, #42; ret, then the same with 43 (the landing pad: the pages are
        // PROT_BTI, and the calls below are indirect)
        let pad = arch::LANDING_PAD;
        let a: Vec<u8> = [pad, word(0x5280_0540), word(0xd65f_03c0)].concat();
        let b: Vec<u8> = [pad, word(0x5280_0560), word(0xd65f_03c0)].concat();
        let (a, b) = (publish(&a).unwrap(), publish(&b).unwrap());
        // SAFETY: the bytes are complete functions of that type.
        let (fa, fb) = unsafe {
            (
                std::mem::transmute::<*const u8, extern "C" fn() -> i32>(a.address(0)),
                std::mem::transmute::<*const u8, extern "C" fn() -> i32>(b.address(0)),
            )
        };
        assert_eq!((fa(), fb()), (42, 43));
    }

    #[test]
    fn empty_code_is_refused() {
        assert!(publish(&[]).is_err());
        assert!(publish_aligned(&[1], 3).is_err());
    }
}
