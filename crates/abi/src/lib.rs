//! Calling conventions: a C function type in, a [`CallPlan`] out — for every argument
//! and the result, the registers and stack slots its bytes travel in.
//!
//! May use: `jitffi-ctype` for types and layouts. Knows nothing of Lua, raw pointers or
//! machine code: the call stubs (issue 4) and callback handlers (issue 5) read the plan,
//! and the runner prints it (`--plan`).
//!
//! Promises: one pure `classify` per ABI with the same shape ([`x86_64::classify`]);
//! every rule cites its section of the ABI document; a type the ABI module cannot pass
//! is an [`AbiError`] naming it, never a wrong plan.
#![forbid(unsafe_code)]

pub mod plan;
pub mod x86_64;

pub use plan::{AbiError, ArgPlan, CallPlan, Ext, Loc, Piece, PieceKind, RetPlan};
