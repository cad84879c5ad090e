//! Calls and callbacks: calling C functions from Lua (`call`), Lua functions made into
//! C function pointers (`callback`), and the raw-frame callbacks of the `cbframe` module.

pub mod call;
pub mod callback;
pub mod cbframe;
