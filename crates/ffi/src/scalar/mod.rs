//! The pure numeric core: scalar C values read, converted and written as Rust numbers.
//!
//! May use: `jitffi-ctype` (type facts) and `std`. Nothing of Lua, nothing else of this
//! crate; everything here is testable without a Lua state.

pub mod bitfield;
pub mod number;
