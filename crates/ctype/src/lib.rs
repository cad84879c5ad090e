//! C types for jitffi: the declaration parser, the type table, and the data layout of the
//! target ABI.
//!
//! May use: std only. Knows nothing of Lua, raw pointers or machine code.
//!
//! Promises: text in, type ids out. [`TypeTable`] interns types (equal ids mean equal
//! types); every change to it happens inside [`TypeTable::transaction`], so a failed
//! declaration leaves the table as it was. Sizes, alignments and field offsets are those
//! of the C compiler for the [`Target`] (gcc on x86-64 Linux is the oracle in the tests).
//! No type is larger than [`MAX_TYPE_SIZE`] (2^31 - 1 bytes, LuaJIT's limit), `[?]` types
//! sized by [`TypeTable::vla_size`] included; size arithmetic never wraps.
#![forbid(unsafe_code)]

pub mod display;
pub mod error;
pub mod layout;
pub mod lex;
pub mod parse;
pub mod table;
pub mod target;
pub mod types;

pub use error::CdefError;
pub use parse::Param;
pub use table::{Builtins, TypeTable, MAX_TYPE_SIZE};
pub use target::Target;
pub use types::*;
