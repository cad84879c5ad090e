//! The platform layer: what the module needs from the operating system and the C
//! library, behind plain Rust functions.
//!
//! May use: `std`, `libloading`. Nothing of Lua and nothing else of this crate.

pub mod errno;
pub mod library;
pub mod memory;
