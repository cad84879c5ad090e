//! Arithmetic, comparison and concatenation on cdata (`lj_carith.c`): 64-bit integer
//! arithmetic, pointer arithmetic and comparisons, and the fallback to the operands'
//! metatypes.

use mlua_sys as sys;

/// The cdata metamethods this module implements, for the shared cdata metatable.
pub const METHODS: &[(&str, sys::lua_CFunction)] = &[];
