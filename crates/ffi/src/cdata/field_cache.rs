//! What `p.name` needs to know of a struct or union member, kept per cdata type and
//! member name, so that reading or writing a field skips the general path of
//! `__index`/`__newindex` (as [`crate::cdata::element_cache`] does for `p[i]`).
//!
//! The general path (`metamethods::locate`, then `push_c_value`/`store_sized`) asks the
//! type table at every access what the cdata is (a record, a reference or a pointer to
//! one), where the member lies and how its value converts. Here the answer is kept under
//! the cdata's type id and the address of the Lua string naming the member, so that the
//! fast path in `metamethods` (which runs before `lua::entry` and may neither raise nor
//! allocate, except the one cdata an aggregate member reads as) finds it with one hash
//! probe, with no string hashing or comparing of bytes.
//!
//! A string's address names its bytes only while the string lives, and only for strings
//! Lua interns (short strings: the same bytes are the same object). So only short
//! strings are keys (`stack::KeyClass::ShortString`), and the general path anchors
//! each name it records in a Lua table (`FfiState::field_names`) before recording it:
//! a recorded address can never be reused by another string. The names kept are member
//! names of types in use, so the table stays small.
//!
//! Entries are written only by the general path, inside `lua::entry`, once it has
//! found the member itself (`metamethods::locate_place` says how: [`FieldRoute`]); the
//! fast path only reads them. Entries need no invalidation: complete records never
//! change, a metatype's `__index`/`__newindex` only answers keys the C type lacks, and a
//! type id is reused only after a failed `cdef` rolled back types that no cdata, and so
//! no entry, can have seen. A callback method's registry reference ([`FieldKind::Fixed`])
//! is made at install and kept for the state's life.

use crate::cdata::value_shape::DirectRead;
use jitffi_ctype::TypeId;

/// How a member lies in a cdata: what [`crate::cdata::metamethods`] learns when it finds
/// one by name.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct FieldRoute {
    /// The record's address is the pointer the cdata holds (a pointer or a reference
    /// to the record), not the cdata's own value.
    pub indirect: bool,
    /// The member's offset in the record.
    pub offset: u32,
}

/// How the fast path reads and writes one member of one cdata type, or answers a name
/// that is no member.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct FieldAccess {
    /// Where the member lies (for a method, only `indirect` counts: a NULL pointer
    /// or reference still takes the general path, which raises).
    pub route: FieldRoute,
    pub kind: FieldKind,
}

#[derive(Copy, Clone, Debug, PartialEq)]
pub enum FieldKind {
    /// A C member.
    Member {
        /// How its value reads into Lua.
        read: DirectRead,
        /// Not to be written: the member or the record it is reached through is const,
        /// or its value is not a scalar. Writes take the general path, which stores or
        /// raises.
        read_only: bool,
    },
    /// No member of `record`, a record whose metatype's `__index` table the name is
    /// looked up in (a method, as `ring:push`): `index_table` is the registry reference
    /// of that table. A metatype's metatable may not change once `ffi.metatype` made it
    /// (LuaJIT's rule), so its `__index` is read once, when the entry is recorded; the
    /// table's contents may change and are read at every lookup. Reads only; the name
    /// was found in the table when it was recorded.
    Method { record: TypeId, index_table: i32 },
    /// No member: a name that reads as the same value for every cdata of the type, the
    /// one kept in the registry under `value` (a callback method of a function
    /// pointer, `cb:free()`). Reads only.
    Fixed { value: i32 },
}

#[derive(Copy, Clone)]
struct Slot {
    /// The address of the name's bytes; 0 for an empty slot.
    name: usize,
    ty: TypeId,
    access: FieldAccess,
}

const EMPTY: Slot = Slot {
    name: 0,
    ty: TypeId(0),
    access: FieldAccess {
        route: FieldRoute {
            indirect: false,
            offset: 0,
        },
        kind: FieldKind::Member {
            read: DirectRead::Pointer(TypeId(0)),
            read_only: true,
        },
    },
};

/// Most names recorded as methods ([`FieldKind::Method`]) per state: each keeps its name
/// alive, and unlike member names, names a metatype's `__index` table answers need not
/// be few. Beyond it, names that are no member take the general path.
pub const MAX_METHOD_NAMES: usize = 4096;

/// Slots of a new table (a power of two).
const FIRST_CAPACITY: usize = 256;

/// The per-state table `(cdata type id, name address) -> FieldAccess`: open addressing
/// with linear probing, at most a quarter full (so that a probe rarely meets another key).
pub struct FieldCache {
    slots: Box<[Slot]>,
    used: usize,
    /// Entries of kind [`FieldKind::Method`].
    methods: usize,
}

impl Default for FieldCache {
    fn default() -> FieldCache {
        FieldCache {
            slots: vec![EMPTY; FIRST_CAPACITY].into_boxed_slice(),
            used: 0,
            methods: 0,
        }
    }
}

impl FieldCache {
    /// The access of member `name` (the address of a short string's bytes) of the cdata
    /// type `ty`, if recorded.
    #[inline(always)]
    pub fn get(&self, ty: TypeId, name: usize) -> Option<FieldAccess> {
        let mask = self.slots.len() - 1;
        let mut index = slot_index(ty, name, mask);
        loop {
            let slot = &self.slots[index];
            if slot.name == name && slot.ty == ty {
                return Some(slot.access);
            }
            if slot.name == 0 {
                return None;
            }
            index = (index + 1) & mask;
        }
    }

    /// Whether another method name may be recorded (see [`MAX_METHOD_NAMES`]).
    pub fn has_room_for_a_method(&self) -> bool {
        self.methods < MAX_METHOD_NAMES
    }

    /// Records `access` for member `name` of the cdata type `ty`. For the general path,
    /// once the name is anchored (see the module docs); it may allocate.
    pub fn insert(&mut self, ty: TypeId, name: usize, access: FieldAccess) {
        debug_assert!(name != 0, "bug: a field name at address 0");
        if 4 * (self.used + 1) > self.slots.len() {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut index = slot_index(ty, name, mask);
        loop {
            let slot = &mut self.slots[index];
            if slot.name == 0 {
                self.used += 1;
                if matches!(access.kind, FieldKind::Method { .. }) {
                    self.methods += 1;
                }
                *slot = Slot { name, ty, access };
                return;
            }
            if slot.name == name && slot.ty == ty {
                slot.access = access;
                return;
            }
            index = (index + 1) & mask;
        }
    }

    #[cold]
    fn grow(&mut self) {
        let bigger = vec![EMPTY; 2 * self.slots.len()].into_boxed_slice();
        let old = std::mem::replace(&mut self.slots, bigger);
        self.used = 0;
        self.methods = 0;
        for slot in old.iter().filter(|slot| slot.name != 0) {
            self.insert(slot.ty, slot.name, slot.access);
        }
    }
}

/// Where the probe for `(ty, name)` starts: the address (its low bits are alignment)
/// mixed with the type id by a multiplication, the high bits taken.
#[inline(always)]
fn slot_index(ty: TypeId, name: usize, mask: usize) -> usize {
    let key = (name as u64) ^ (u64::from(ty.0) << 48);
    (key.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize & mask
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::number::Scalar;

    fn access(offset: u32) -> FieldAccess {
        FieldAccess {
            route: FieldRoute {
                indirect: false,
                offset,
            },
            kind: FieldKind::Member {
                read: DirectRead::Scalar(Scalar::F64),
                read_only: false,
            },
        }
    }

    #[test]
    fn entries_are_found_by_type_and_name_through_growth() {
        let mut cache = FieldCache::default();
        // Many names for two types, beyond the first capacity.
        for i in 1..=500usize {
            cache.insert(TypeId(7), i * 16, access(i as u32));
            cache.insert(TypeId(8), i * 16, access(1000 + i as u32));
        }
        for i in 1..=500usize {
            assert_eq!(cache.get(TypeId(7), i * 16), Some(access(i as u32)));
            assert_eq!(cache.get(TypeId(8), i * 16), Some(access(1000 + i as u32)));
        }
        assert_eq!(cache.get(TypeId(9), 16), None, "another type");
        assert_eq!(cache.get(TypeId(7), 8), None, "another name");
        cache.insert(TypeId(7), 16, access(3));
        assert_eq!(cache.get(TypeId(7), 16), Some(access(3)), "replaced");
    }
}
