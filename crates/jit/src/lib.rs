//! Machine code for jitffi: call stubs generated per C signature with dynasm-rs, and
//! callback slots (C function pointers that enter a Rust handler with the registers they
//! were called with), in executable memory that is never writable and executable at once.
//!
//! May use: `jitffi-abi` plans, `dynasmrt`. Knows nothing of Lua: a stub calls helper
//! functions whose addresses its [`StubSpec`] supplies, passing them an opaque `caller`
//! pointer (the `lua_State`).
//!
//! Promises: [`stub_for`] returns the one stub for a spec, shared process-wide and never
//! freed ([`code`] says why); its code follows the spec's `CallPlan` exactly; every
//! problem is a [`JitError`], never a panic.

// dynasm! expands register operands with `.into()`, which clippy flags on every use.
#![allow(clippy::useless_conversion)]

pub mod call_stub;
pub mod callback;
pub mod code;

pub use call_stub::{
    listing_for, stub_for, ArgFetch, CallCells, CallContext, CallStub, CallerEntry, DirectEntry,
    Helper, Helpers, JitError, ResultArea, ResultPush, StubSpec,
};
pub use callback::{
    current_thread, ArgFrame, CallbackSlot, CpuState, EntryKind, RawHandler, RefusedResult,
    SlotPool, TypedHandler,
};
