//! Calls into C: the Lua value that stands for a C function, and calling it.
//!
//! (Issue 4, in progress.) [`push_function`] is the one way the rest of the module turns
//! a C function address into a Lua value; today it pushes a function cdata.

use crate::lua::{LuaResult, State};
use crate::state::FfiState;
use jitffi_ctype::TypeId;
use std::ffi::c_void;

/// Pushes the Lua value for the C function of type `func_ty` (a `CType::Func`) at
/// `address`: what `ffi.C.name` and a library namespace return.
///
/// # Safety
/// `l` is live with three free slots; `st` is its ffi state; `address` is the entry of a
/// function of type `func_ty` (calling it with arguments of that type is sound).
pub unsafe fn push_function(
    l: *mut State,
    st: &mut FfiState,
    func_ty: TypeId,
    address: *const c_void,
) -> LuaResult<()> {
    // SAFETY: forwarded; a function cdata keeps the address as its payload.
    unsafe { crate::convert::push_c_value(l, st, func_ty, address.cast()) }
}
