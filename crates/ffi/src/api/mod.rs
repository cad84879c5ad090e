//! The `ffi.*` API: the functions of the module table, the `ffi.C` and library
//! namespaces, and the cdata-aware `type`/`tonumber` idioms.

pub mod idioms;
pub mod memory;
pub mod namespace;
pub mod new_cast;
pub mod types;
