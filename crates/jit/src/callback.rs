//! Callback slots, the architecture-neutral part: C function pointers that enter Rust
//! with the CPU state they were called with. The mechanism of LuaJIT's
//! `lj_ccallback.c`, with pages that grow one by one.
//!
//! A [`SlotPool`] owns one *entry* (machine code made once per pool) and pages of
//! *slots*. Every slot is [`SLOT_BYTES`] of code that hands the address of its
//! [`CallbackSlot`] record to the entry, which it reaches through the literal at the
//! start of its page (the architecture's `callback` module draws its page):
//!
//! ```text
//!   slot page (PAGE_BYTES, page-aligned, written once, then read+execute)
//!   +0            entry address (8-byte literal), padding to SLOT_BYTES
//!   +SLOT_BYTES   slot 0: landing pad, record address into a scratch register, jump
//!   ...           up to SLOTS_PER_PAGE slots
//! ```
//!
//! Records live in a leaked array per page, so a slot's record address never changes
//! and the handler finds its record without any lookup.
//!
//! There are two entries ([`EntryKind`]): the typed one saves the argument registers
//! and the address of the stack arguments into an [`ArgFrame`], calls the handler, then
//! loads the result registers from the frame; the raw one (cbframe) saves every
//! register into a [`CpuState`], calls the handler and restores them all. Both types
//! are the architecture's (`crate::arch::frames`), read and written through plan
//! locations.
//!
//! Slots are never unmapped (a C library may keep a pointer forever: a late call must
//! land in a slot whose record says what became of it) and never handed back to the
//! pool: the owner (crates/ffi) keeps its own free list and marks what it stops using.
//! The records' words are atomics: the handler may be entered on any thread, and it
//! must be able to tell "not mine" ([`CallbackSlot::thread`]) before it reads anything
//! else the owner keeps.

use crate::arch::{self, ArgFrame, CpuState, SLOT_BYTES};
use crate::call_stub::JitError;
use crate::code::{publish_aligned, PublishedCode};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Mutex;

pub use crate::arch::current_thread;

/// Bytes of a slot page; the first slot-sized cell holds the entry's address.
pub const PAGE_BYTES: usize = 4096;
/// Slots per page.
pub const SLOTS_PER_PAGE: usize = PAGE_BYTES / SLOT_BYTES - 1;

/// What one slot is for, as its owner sets it. Every word is 0 for a fresh slot.
#[derive(Debug, Default)]
pub struct CallbackSlot {
    /// [`current_thread`] of the only thread that may run the owner's code through this
    /// slot (0: none).
    pub thread: AtomicUsize,
    /// The owner's word: who the slot belongs to (crates/ffi: the state box; 0 never
    /// used; see there for the other values).
    pub owner: AtomicUsize,
    /// The owner's second word (crates/ffi: the callback record).
    pub data: AtomicUsize,
    /// Bytes of a result the callback returns in memory (through the plan's result
    /// pointer), so that a handler refusing a call can still hand the buffer back.
    pub ret_memory: AtomicU32,
    /// `long double` values the callback returns on the x87 stack (0, 1 or 2; x86-64
    /// only), for the same reason.
    pub ret_x87: AtomicU32,
    /// Global number of the slot in its pool (for messages and tables).
    id: u32,
    /// Address of the slot's code: the C function pointer.
    code: usize,
}

impl CallbackSlot {
    /// The C function pointer that enters this slot.
    pub fn code(&self) -> *const u8 {
        self.code as *const u8
    }

    /// The slot's number in its pool, from 0.
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Sets every owner word at once (on the owner's thread, before publishing the
    /// pointer).
    pub fn claim(&self, thread: usize, owner: usize, data: usize, ret: RefusedResult) {
        self.ret_memory.store(ret.memory, Ordering::Relaxed);
        self.ret_x87.store(ret.x87, Ordering::Relaxed);
        self.data.store(data, Ordering::Relaxed);
        self.owner.store(owner, Ordering::Relaxed);
        // Release: a thread that sees the new thread word also sees the others.
        self.thread.store(thread, Ordering::Release);
    }
}

/// What a handler that refuses a call must still hand back: the buffer of a result
/// returned in memory (`memory` bytes) and the x87 values of a `long double` result.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct RefusedResult {
    pub memory: u32,
    pub x87: u32,
}

/// Which state an entry saves and what its handler receives.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// `handler(&CallbackSlot, *mut ArgFrame) -> u32`: the number of x87 results.
    Typed,
    /// `handler(&CallbackSlot, *mut CpuState)`.
    Raw,
}

/// The typed entry's handler.
pub type TypedHandler =
    unsafe extern "C" fn(slot: &'static CallbackSlot, frame: *mut ArgFrame) -> u32;
/// The raw entry's handler.
pub type RawHandler = unsafe extern "C" fn(slot: &'static CallbackSlot, cpu: *mut CpuState);

/// A growable set of slots sharing one entry.
pub struct SlotPool {
    entry: PublishedCode,
    inner: Mutex<PoolPages>,
}

#[derive(Default)]
struct PoolPages {
    pages: Vec<PublishedCode>,
    /// Fresh slots of the newest page, in order.
    fresh: Vec<&'static CallbackSlot>,
    next_id: u32,
}

impl SlotPool {
    /// A pool whose entry is of `kind` and calls `handler`.
    ///
    /// # Safety
    /// `handler` is a function of the type [`EntryKind`] names for `kind`
    /// ([`TypedHandler`] or [`RawHandler`]) that lives as long as the process.
    pub unsafe fn new(kind: EntryKind, handler: usize) -> Result<SlotPool, JitError> {
        let bytes = match kind {
            EntryKind::Typed => arch::typed_entry(handler)?,
            EntryKind::Raw => arch::raw_entry(handler)?,
        };
        let entry = publish_aligned(&bytes, 16).map_err(|e| JitError {
            message: format!("cannot map code memory: {e}"),
        })?;
        Ok(SlotPool {
            entry,
            inner: Mutex::new(PoolPages::default()),
        })
    }

    /// A slot never handed out before, with every owner word 0. Maps a new page when
    /// the newest is used up.
    pub fn fresh_slot(&self) -> Result<&'static CallbackSlot, JitError> {
        // A poisoned lock means a panic elsewhere while holding it; the lists are
        // consistent at every await point (a page is pushed whole).
        let mut inner = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if inner.fresh.is_empty() {
            let first_id = inner.next_id;
            let (page, records) = self.new_page(first_id)?;
            inner.pages.push(page);
            inner.next_id =
                first_id
                    .checked_add(SLOTS_PER_PAGE as u32)
                    .ok_or_else(|| JitError {
                        message: "too many callbacks".into(),
                    })?;
            inner.fresh = records.iter().rev().collect();
        }
        Ok(inner.fresh.pop().expect("a fresh page has slots"))
    }

    /// Writes one page of slots for the records `first_id..`, then publishes it.
    fn new_page(
        &self,
        first_id: u32,
    ) -> Result<(PublishedCode, &'static [CallbackSlot]), JitError> {
        // The page's records must exist (at fixed addresses) before its code, which holds
        // their addresses; their `code` words are filled once the page is mapped.
        let records: &'static mut [CallbackSlot] = Box::leak(
            (0..SLOTS_PER_PAGE)
                .map(|i| CallbackSlot {
                    id: first_id + i as u32,
                    ..CallbackSlot::default()
                })
                .collect::<Vec<_>>()
                .into_boxed_slice(),
        );
        let mut bytes = vec![arch::CODE_FILL; PAGE_BYTES];
        bytes[..8].copy_from_slice(&(self.entry.address(0) as u64).to_le_bytes());
        for (i, record) in records.iter().enumerate() {
            let at = SLOT_BYTES * (i + 1);
            arch::write_slot(
                &mut bytes[at..at + SLOT_BYTES],
                at,
                record as *const CallbackSlot as usize,
            );
        }
        let page = publish_aligned(&bytes, PAGE_BYTES).map_err(|e| JitError {
            message: format!("cannot map code memory: {e}"),
        })?;
        for (i, record) in records.iter_mut().enumerate() {
            record.code = page.address(SLOT_BYTES * (i + 1)) as usize;
        }
        Ok((page, records))
    }

    /// Slots handed out so far, over all pages (for tests and statistics).
    pub fn pages(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pages
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threads_have_distinct_identities() {
        let here = current_thread();
        assert_ne!(here, 0);
        assert_eq!(here, current_thread());
        let there = std::thread::spawn(current_thread).join().unwrap();
        assert_ne!(here, there);
    }
}
