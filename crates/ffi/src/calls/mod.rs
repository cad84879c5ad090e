//! Calls and callbacks: calling C functions from Lua (`call`), Lua functions made into
//! C function pointers (`callback`), and the raw-frame callbacks of the `cbframe` module.
//!
//! May use: [`crate::lua`], [`crate::platform`], [`crate::scalar`], [`crate::cdata`],
//! `jitffi-abi`, `jitffi-jit`, `jitffi-ctype`. Within the layer, `call` may use
//! `callback` (a call stub raises the error a callback left), never the reverse. Each
//! file keeps its per-state part in the state's [`crate::cdata::state::UpperParts`]
//! and installs its [`crate::cdata::state::CallHooks`] when the module opens.

pub mod call;
pub mod callback;
pub mod cbframe;
