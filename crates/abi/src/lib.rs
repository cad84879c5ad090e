//! Calling conventions: a C function type in, a [`CallPlan`] out — for every argument
//! and the result, the registers and stack slots its bytes travel in.
//!
//! May use: `jitffi-ctype` for types and layouts. Knows nothing of Lua, raw pointers or
//! machine code: the call stubs (issue 4) and callback handlers (issue 5) read the plan,
//! and the runner prints it (`--plan`).
//!
//! Promises: one interface, [`Convention`], chosen once from the target
//! ([`Convention::host`] at build time, [`Convention::for_target`] for `--plan`), whose
//! pure [`Convention::classify`] each convention implements (x86-64 System V, AAPCS64
//! for Linux and Apple arm64, Win64); every rule cites its section of the ABI document;
//! a type the ABI module cannot pass is an [`AbiError`] naming it, never a wrong plan. A
//! build for a target without a convention stops with a `compile_error!`.
#![forbid(unsafe_code)]

pub mod aarch64;
mod convention;
pub mod plan;
pub mod win64;
pub mod x86_64;

pub use convention::{Convention, Registers, Variadic};
pub use plan::{AbiError, ArgPlan, CallPlan, Ext, Loc, Piece, PieceKind, PlanText, RetPlan};
