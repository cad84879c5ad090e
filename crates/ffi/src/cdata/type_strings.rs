//! The types of recent type strings, by the address of their bytes: the fast path of
//! `ffi.new("T")` (see `construct::new_fast`). A leaf: plain data that
//! [`crate::cdata::state::FfiState`] holds and [`crate::cdata::ctype_arg`] fills.

use jitffi_ctype::TypeId;

/// The types of type strings met before, by the address of the string's bytes: what
/// the fast path of `ffi.new("T")` reads instead of looking the string up in the
/// type-string cache table (see `construct::new`). Only short strings (interned: the
/// same bytes are the same string object) that are keys of that table are recorded;
/// the table keeps them alive, so a recorded address is never another string's. (Lua
/// code that empties the table through `debug.getregistry` could make an address
/// name another string, and that string another type: wrong, never unsafe; the ffi
/// trusts the registry no further.) Direct-mapped: a string that meets another's slot
/// replaces it.
pub struct TypeStrings {
    slots: [(usize, TypeId); TYPE_STRING_SLOTS],
}

/// Slots of [`TypeStrings`] (a power of two).
const TYPE_STRING_SLOTS: usize = 64;

impl Default for TypeStrings {
    fn default() -> TypeStrings {
        TypeStrings {
            slots: [(0, TypeId(0)); TYPE_STRING_SLOTS],
        }
    }
}

impl TypeStrings {
    /// The type of the recorded type string whose bytes are at `text`.
    #[inline(always)]
    pub fn get(&self, text: usize) -> Option<TypeId> {
        let (address, ty) = self.slots[Self::slot(text)];
        (address == text && text != 0).then_some(ty)
    }

    pub(crate) fn set(&mut self, text: usize, ty: TypeId) {
        self.slots[Self::slot(text)] = (text, ty);
    }

    #[inline(always)]
    fn slot(text: usize) -> usize {
        ((text as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58) as usize % TYPE_STRING_SLOTS
    }
}
