//! A small cache of struct and union member lookups, so that `p.x` costs a hash probe
//! instead of a walk over the record's members (and its anonymous members).
//!
//! Keys are the record's type id and the address of the Lua string naming the member:
//! Lua interns short strings, so the same name arrives at the same address. The name's
//! bytes are kept and compared too, so a string collected and another allocated at the
//! same address can never hit a stale entry. Records never change once complete, and
//! only lookups in complete records are cached, so entries need no invalidation. A name
//! that is no member is cached too (a method name looked up in a metatype's `__index`
//! through the general path, `ring:push`, would otherwise search the record each time).

use jitffi_ctype::{BitField, TypeId, TypeTable};
use std::cell::RefCell;

/// Number of slots (direct-mapped; a power of two).
const SLOTS: usize = 256;
/// Longest member name cached; longer names take the slow path every time.
const MAX_NAME: usize = 30;

/// A found member: where it is and what it holds.
#[derive(Copy, Clone, Debug)]
pub struct Member {
    pub offset: u64,
    pub ty: TypeId,
    pub bits: Option<BitField>,
    /// The member's own type is const-qualified, or an anonymous member it is found
    /// through is.
    pub is_const: bool,
}

#[derive(Copy, Clone)]
struct Slot {
    record: TypeId,
    name_addr: usize,
    len: u8,
    name: [u8; MAX_NAME],
    /// `None`: the record has no such member.
    member: Option<Member>,
}

pub struct MemberCache {
    slots: RefCell<Box<[Option<Slot>]>>,
}

impl Default for MemberCache {
    fn default() -> MemberCache {
        MemberCache {
            slots: RefCell::new(vec![None; SLOTS].into_boxed_slice()),
        }
    }
}

impl MemberCache {
    /// Member `name` of the record `record` (unqualified), from the cache or found and
    /// cached. `name` is the bytes of a Lua string, which may be any bytes.
    pub fn find(&self, types: &TypeTable, record: TypeId, name: &[u8]) -> Option<Member> {
        let addr = name.as_ptr() as usize;
        let index = slot_index(record, addr);
        let Ok(mut slots) = self.slots.try_borrow_mut() else {
            return find_uncached(types, record, name);
        };
        if let Some(slot) = &slots[index] {
            if slot.record == record
                && slot.name_addr == addr
                && slot.name[..usize::from(slot.len)] == *name
            {
                return slot.member;
            }
        }
        let member = find_uncached(types, record, name);
        // An incomplete record may still be completed: only what it lacks once complete
        // is known for good.
        let known = member.is_some() || types.size_of(record).is_some();
        if name.len() <= MAX_NAME && known {
            let mut bytes = [0u8; MAX_NAME];
            bytes[..name.len()].copy_from_slice(name);
            slots[index] = Some(Slot {
                record,
                name_addr: addr,
                len: name.len() as u8,
                name: bytes,
                member,
            });
        }
        member
    }
}

fn slot_index(record: TypeId, addr: usize) -> usize {
    let mixed = (addr >> 3) ^ (record.0 as usize).wrapping_mul(0x9E37_79B9);
    (mixed ^ (mixed >> 8)) & (SLOTS - 1)
}

fn find_uncached(types: &TypeTable, record: TypeId, name: &[u8]) -> Option<Member> {
    let name = std::str::from_utf8(name).ok()?;
    let (offset, field, enclosing) = types.find_member_quals(record, name)?;
    Some(Member {
        offset,
        ty: field.ty,
        bits: field.bits,
        is_const: enclosing.is_const || types.unqualified(field.ty).1.is_const,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jitffi_ctype::Target;

    #[test]
    fn same_address_different_name_never_hits() {
        let mut types = TypeTable::new(Target::host());
        types.cdef("struct mc { int a; double b; };", &[]).unwrap();
        let record = types.parse_type("struct mc", &[]).unwrap();
        let cache = MemberCache::default();
        let mut buffer = *b"a";
        assert_eq!(cache.find(&types, record, &buffer).unwrap().offset, 0);
        assert_eq!(cache.find(&types, record, &buffer).unwrap().offset, 0);
        buffer[0] = b'b';
        assert_eq!(cache.find(&types, record, &buffer).unwrap().offset, 8);
        buffer[0] = b'c';
        assert!(cache.find(&types, record, &buffer).is_none());
        assert!(
            cache.find(&types, record, &buffer).is_none(),
            "a cached miss"
        );
        buffer[0] = b'a';
        assert_eq!(cache.find(&types, record, &buffer).unwrap().offset, 0);
    }

    #[test]
    fn misses_in_incomplete_records_are_not_kept() {
        let mut types = TypeTable::new(Target::host());
        types.cdef("struct mc_late;", &[]).unwrap();
        let record = types.parse_type("struct mc_late", &[]).unwrap();
        let cache = MemberCache::default();
        assert!(cache.find(&types, record, b"x").is_none());
        types.cdef("struct mc_late { int y, x; };", &[]).unwrap();
        assert_eq!(cache.find(&types, record, b"x").unwrap().offset, 4);
    }
}
