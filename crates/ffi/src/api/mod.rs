//! The `ffi.*` API: the functions of the module table, the `ffi.C` and library
//! namespaces, and the cdata-aware `type`/`tonumber` idioms. The top layer, with
//! `lib.rs`, which assembles the state and the module table.
//!
//! May use: every layer below ([`crate::lua`], [`crate::platform`], [`crate::scalar`],
//! [`crate::cdata`], [`crate::calls`]) and `libloading` through [`crate::platform`].

pub mod idioms;
pub mod memory;
pub mod namespace;
pub mod types;
