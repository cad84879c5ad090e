//! Machine code for jitffi: call stubs generated per C signature with dynasm-rs, and
//! callback slots (C function pointers that enter a Rust handler with the registers they
//! were called with), in executable memory that is never writable and executable at once.
//!
//! May use: `jitffi-abi` plans, `dynasmrt`, `libc` (the code arena's mappings). Knows
//! nothing of Lua: a stub calls helper functions whose addresses its [`StubSpec`]
//! supplies, passing them an opaque `caller` pointer (the `lua_State`).
//!
//! Layout: a neutral part ([`call_stub`]: specs, helpers, cells, frame layout and the
//! stub cache; [`callback`]: slot records and pools; [`code`]: the one executable
//! arena; [`frames`]: the register blocks' shared shape and accessors) and one folder
//! per architecture, chosen here and nowhere else, that emits the code and owns the
//! register blocks ([`ResultArea`], [`ArgFrame`], [`CpuState`]: their sizes, offsets
//! and what only it has). Code
//! outside an architecture folder names no register: it reads and writes those blocks
//! through plan locations (`jitffi_abi::Loc`). `x86_64.rs` lists what an
//! architecture folder provides.
//!
//! Promises: [`stub_for`] returns the one stub for a spec, shared process-wide and never
//! freed ([`code`] says why); its code follows the spec's `CallPlan` exactly; every
//! problem is a [`JitError`], never a panic.

// dynasm! expands register operands with `.into()`, which clippy flags on every use.
#![allow(clippy::useless_conversion)]

// The architecture folders. AArch64's emitter is pure (bytes and listings, no
// executable memory), so it builds on every host, for listings and byte-level tests;
// x86-64's is built where it runs.
pub mod aarch64;
#[cfg(target_arch = "x86_64")]
pub mod x86_64;

#[cfg(all(target_arch = "aarch64", target_os = "linux"))]
pub use aarch64 as arch;
/// The host's architecture folder: the one place that chooses it.
#[cfg(target_arch = "x86_64")]
pub use x86_64 as arch;

#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "aarch64", target_os = "linux")
)))]
compile_error!(
    "jitffi-jit generates code for x86-64 and AArch64 Linux only: no code generator for \
     this target"
);

pub mod call_stub;
pub mod callback;
pub mod code;
pub mod frames;
mod listing;

pub use arch::{ArgFrame, CpuState, ResultArea};
pub use call_stub::{
    listing_for, listing_for_convention, stub_for, ArgFetch, CallCells, CallContext, CallStub,
    CallerEntry, DirectEntry, Helper, Helpers, JitError, ResultPush, StubSpec,
};
pub use callback::{
    current_thread, CallbackSlot, EntryKind, RawHandler, RefusedResult, SlotPool, TypedHandler,
};
