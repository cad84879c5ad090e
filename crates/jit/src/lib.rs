//! Machine code for jitffi: call stubs generated per C signature with dynasm-rs, in
//! executable memory that is never writable and executable at once.
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
pub mod code;

pub use call_stub::{
    listing_for, stub_for, ArgFetch, CallContext, CallStub, CallerEntry, DirectEntry, Helper,
    Helpers, JitError, ResultArea, ResultPush, StubSpec,
};
