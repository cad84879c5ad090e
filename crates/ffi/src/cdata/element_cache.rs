//! What `p[i]` needs to know of a pointer or array type, kept per type, so that reading
//! or writing one scalar element skips the general path of `__index`/`__newindex`.
//!
//! The general path (`metamethods::locate`, then `push_c_value`/`store_lua_value`)
//! asks the type table the same questions at every access: is the cdata a pointer or an
//! array, what is the element, its size, its qualifiers, how does it convert. For the
//! commonest case, a scalar element (`a[0]` in a `qsort` comparator, `a[i] = a[i] + 1`
//! over a `double[]`), those answers cost more than the access. Here they are answered
//! once per type and kept in a table indexed by the type id, so that the fast path in
//! `metamethods` (which runs before `lua::entry` and may neither raise nor allocate) costs
//! one array load to find them.
//!
//! Entries are written only by the general path, inside `lua::entry`, the first time it
//! finds an element of a cdata of the type by number (`metamethods::locate_place`); the
//! fast path only reads them and treats an unknown type as one it cannot handle. A type that does not qualify is remembered too, so it
//! reaches the general path after one load.
//!
//! Entries need no invalidation: types are interned and never change once complete (the
//! elements cached here are scalars, complete by nature), and a type id is reused only
//! after a failed `cdef` rolled back types that no cdata, and so no entry, can have seen.

use crate::scalar::number::{scalar_store, ScalarStore};
use jitffi_ctype::{CType, FloatKind, TypeId, TypeTable};

/// How the fast path reaches and converts the elements of one pointer or array type.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct ElementAccess {
    /// The element's kind: bool, an integer (64-bit ones only where Lua 5.3+ holds
    /// them as integers), float or double; never an enum.
    pub scalar: ScalarStore,
    /// The element size in bytes (the stride), as the type table gives it.
    pub size: u8,
    /// The cdata holds the address of the elements (a pointer), not the elements
    /// themselves (an array).
    pub through_pointer: bool,
    /// The element type is const-qualified: writes take the general path, which raises.
    pub is_const: bool,
}

/// What is known of one type id.
#[derive(Copy, Clone, Debug, Default)]
enum Entry {
    /// Not looked at yet: the general path fills it in.
    #[default]
    Unknown,
    /// Not a pointer or array of a scalar the fast path handles.
    General,
    Fast(ElementAccess),
}

/// The per-state table `type id -> entry`.
#[derive(Default)]
pub struct ElementCache {
    entries: Vec<Entry>,
}

impl ElementCache {
    /// The element access of `ty`, if the fast path handles its elements and the
    /// general path has met the type before.
    #[inline(always)]
    pub fn get(&self, ty: TypeId) -> Option<ElementAccess> {
        match self.entries.get(ty.index()) {
            Some(Entry::Fast(access)) => Some(*access),
            _ => None,
        }
    }

    /// Records what the fast path needs of the cdata type `ty`, unless known already.
    /// For the general path (it may allocate).
    #[inline]
    pub fn learn(&mut self, types: &TypeTable, ty: TypeId) {
        if !matches!(
            self.entries.get(ty.index()),
            Some(Entry::Fast(_) | Entry::General)
        ) {
            self.learn_new(types, ty);
        }
    }

    #[cold]
    #[inline(never)]
    fn learn_new(&mut self, types: &TypeTable, ty: TypeId) {
        let index = ty.index();
        if index >= self.entries.len() {
            self.entries
                .resize(types.len().max(index + 1), Entry::Unknown);
        }
        self.entries[index] = match element_access(types, ty) {
            Some(access) => Entry::Fast(access),
            None => Entry::General,
        };
    }
}

/// The [`ElementAccess`] of a cdata of type `ty`: a pointer or an array (not a
/// reference) whose unqualified element is bool, an integer narrower than 8 bytes (or
/// of 8 bytes on Lua 5.3+), float or double.
pub fn element_access(types: &TypeTable, ty: TypeId) -> Option<ElementAccess> {
    let (base, _) = types.unqualified(ty);
    let (elem, through_pointer) = match types.get(base) {
        CType::Pointer(elem) => (*elem, true),
        CType::Array { elem, .. } => (*elem, false),
        _ => return None,
    };
    let (elem_base, elem_quals) = types.unqualified(elem);
    let natural_size = match types.get(elem_base) {
        CType::Bool => 1,
        CType::Int(int) if int.bytes < 8 => int.bytes,
        // On 5.1/5.2 every 64-bit element reads as a cdata box (see `push_c_value`).
        CType::Int(int) if int.bytes == 8 && crate::lua::version::INTEGERS => 8,
        CType::Float(FloatKind::Float) => 4,
        CType::Float(FloatKind::Double) => 8,
        _ => return None,
    };
    let scalar = scalar_store(types, elem_base)?;
    let size = types.size_of(elem)?;
    if size != u64::from(natural_size) {
        return None;
    }
    Some(ElementAccess {
        scalar,
        size: natural_size,
        through_pointer,
        is_const: elem_quals.is_const,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jitffi_ctype::{IntType, Target};

    fn access(types: &mut TypeTable, text: &str) -> Option<ElementAccess> {
        let ty = types.parse_type(text, &[]).expect(text);
        element_access(types, ty)
    }

    #[test]
    fn scalar_elements_of_pointers_and_arrays_qualify() {
        let mut types = TypeTable::new(Target::host());
        let wide = crate::lua::version::INTEGERS;
        let int = |bytes, signed| Some(ScalarStore::Int(IntType { bytes, signed }));
        // 64-bit elements only where Lua holds them as integers.
        let (i64_elem, u64_elem) = if wide {
            (int(8, true), int(8, false))
        } else {
            (None, None)
        };
        // (type, element kind, size, through a pointer, const element)
        let cases: &[(&str, Option<ScalarStore>, u8, bool, bool)] = &[
            ("int *", int(4, true), 4, true, false),
            ("const int *", int(4, true), 4, true, true),
            ("int *const", int(4, true), 4, true, false),
            ("volatile uint8_t *", int(1, false), 1, true, false),
            ("int16_t[3]", int(2, true), 2, false, false),
            ("const uint32_t[2]", int(4, false), 4, false, true),
            ("double[?]", Some(ScalarStore::F64), 8, false, false),
            ("float *", Some(ScalarStore::F32), 4, true, false),
            ("bool[4]", Some(ScalarStore::Bool), 1, false, false),
            ("char *", int(1, true), 1, true, false),
            ("int64_t *", i64_elem, 8, true, false),
            ("uint64_t[2]", u64_elem, 8, false, false),
        ];
        for &(text, scalar, size, through_pointer, is_const) in cases {
            let expected = scalar.map(|scalar| ElementAccess {
                scalar,
                size,
                through_pointer,
                is_const,
            });
            assert_eq!(access(&mut types, text), expected, "{text}");
        }
    }

    #[test]
    fn everything_else_takes_the_general_path() {
        let mut types = TypeTable::new(Target::host());
        types
            .cdef("struct ec { int a; }; enum ec_e { EC_A }; typedef int ec_v __attribute__((vector_size(8)));", &[])
            .unwrap();
        for text in [
            "int",
            "double",
            "struct ec *",
            "struct ec[2]",
            "enum ec_e *",
            "int **",
            "int (&)[2]",
            "int &",
            "complex double *",
            "long double *",
            "ec_v *",
            "void *",
            "int (*)(int)",
        ] {
            assert_eq!(access(&mut types, text), None, "{text}");
        }
    }

    #[test]
    fn the_cache_remembers_both_answers() {
        let mut types = TypeTable::new(Target::host());
        let int_ptr = types.parse_type("int *", &[]).unwrap();
        let void_ptr = types.parse_type("void *", &[]).unwrap();
        let mut cache = ElementCache::default();
        assert_eq!(
            cache.get(int_ptr),
            None,
            "unknown until the general path met it"
        );
        cache.learn(&types, int_ptr);
        cache.learn(&types, void_ptr);
        assert!(cache.get(int_ptr).is_some());
        assert_eq!(cache.get(void_ptr), None);
        assert!(matches!(cache.entries[void_ptr.index()], Entry::General));
        assert_eq!(cache.get(TypeId(u32::MAX)), None, "ids beyond the table");
    }
}
