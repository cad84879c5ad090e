//! What `p[i]` needs to know of a pointer or array type, kept per type, so that reading
//! or writing one scalar element, or reading a struct element, skips the general path
//! of `__index`/`__newindex`.
//!
//! The general path (`metamethods::locate`, then `push_c_value`/`store_lua_value`)
//! asks the type table the same questions at every access: is the cdata a pointer or an
//! array, what is the element, its size, its qualifiers, how does it convert. For the
//! commonest cases, a scalar element (`a[0]` in a `qsort` comparator, `a[i] = a[i] + 1`
//! over a `double[]`) and a struct element (`code[pc].op`, where `code[pc]` is a new
//! reference), those answers cost more than the access. Here they are answered
//! once per type and kept in a table indexed by the type id, so that the fast path in
//! `metamethods` (which runs before `lua::entry` and may neither raise nor allocate, except
//! the one reference cdata a struct element reads as) costs one array load to find them.
//!
//! Entries are written only by the general path, inside `lua::entry`, the first time it
//! finds an element of a cdata of the type by number (`metamethods::locate_place`); the
//! fast path only reads them and treats an unknown type as one it cannot handle. A type
//! that does not qualify is remembered too, so it reaches the general path after one
//! load.
//!
//! Entries need no invalidation: types are interned and never change once complete (the
//! elements cached here are scalars, complete by nature, or aggregates of known size),
//! and a type id is reused only
//! after a failed `cdef` rolled back types that no cdata, and so no entry, can have seen.

use crate::cdata::value_shape::{value_shape, DirectRead, ValueShape};
use jitffi_ctype::{CType, TypeId, TypeTable};

/// How the fast path reaches and converts the elements of one pointer or array type.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct ElementAccess {
    /// How an element reads into Lua: a scalar (bool, an integer, 64-bit ones only
    /// where Lua 5.3+ holds them as integers, float or double; never an enum), or a new
    /// reference to a struct, union or array element.
    pub read: DirectRead,
    /// The element size in bytes (the stride), as the type table gives it.
    pub size: u32,
    /// The cdata holds the address of the elements (a pointer), not the elements
    /// themselves (an array).
    pub through_pointer: bool,
    /// The element is not written by the fast path: its type is const-qualified (the
    /// general path raises), or it is not a scalar (the general path converts).
    pub read_only: bool,
}

/// What is known of one type id.
#[derive(Copy, Clone, Debug, Default)]
enum Entry {
    /// Not looked at yet: the general path fills it in.
    #[default]
    Unknown,
    /// Not a pointer or array of elements the fast path handles.
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

    /// Whether `ty` was met already (its entry is known, fast or not).
    #[inline]
    pub fn knows(&self, ty: TypeId) -> bool {
        matches!(
            self.entries.get(ty.index()),
            Some(Entry::Fast(_) | Entry::General)
        )
    }

    /// Records what the fast path needs of the cdata type `ty` (`None`: the type takes
    /// the general path). For the general path (it may allocate); `types_len` is the
    /// type table's length, to size the table once for the types there are.
    #[cold]
    pub fn record(&mut self, types_len: usize, ty: TypeId, access: Option<ElementAccess>) {
        let index = ty.index();
        if index >= self.entries.len() {
            self.entries
                .resize(types_len.max(index + 1), Entry::Unknown);
        }
        self.entries[index] = match access {
            Some(access) => Entry::Fast(access),
            None => Entry::General,
        };
    }
}

/// The elements of a cdata type the fast path handles, before the reference type of an
/// aggregate element is known.
#[derive(Copy, Clone, Debug, PartialEq)]
pub struct ElementPlan {
    /// The element type, qualifiers kept (what a reference to an element refers to).
    pub elem: TypeId,
    /// How an element reads (see [`value_shape`]): a scalar or an aggregate.
    pub shape: ValueShape,
    pub size: u32,
    pub through_pointer: bool,
    pub read_only: bool,
}

/// The [`ElementPlan`] of a cdata of type `ty`: a pointer or an array (not a
/// reference) whose element reads as a scalar the fast path handles (bool, an integer
/// narrower than 8 bytes or of 8 bytes on Lua 5.3+, float or double) or as a reference
/// (a struct, union or array of known size).
pub fn element_plan(types: &TypeTable, ty: TypeId) -> Option<ElementPlan> {
    let (base, _) = types.unqualified(ty);
    let (elem, through_pointer) = match types.get(base) {
        CType::Pointer(elem) => (*elem, true),
        CType::Array { elem, .. } => (*elem, false),
        _ => return None,
    };
    let (elem_base, elem_quals) = types.unqualified(elem);
    let size = types.size_of(elem)?;
    let shape = value_shape(types, elem_base);
    let read_only = match shape {
        ValueShape::Scalar(scalar) => {
            // On 5.1/5.2 every 64-bit element reads as a cdata box (see `push_c_value`).
            if scalar.is_wide_int() && !crate::lua::version::INTEGERS {
                return None;
            }
            if size != u64::from(scalar.size()) {
                return None;
            }
            elem_quals.is_const
        }
        // A function is no element; an array of unknown size has none to step over.
        ValueShape::Aggregate if !matches!(types.get(elem_base), CType::Func(_)) => true,
        _ => return None,
    };
    Some(ElementPlan {
        elem,
        shape,
        size: u32::try_from(size).ok()?,
        through_pointer,
        read_only,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scalar::number::{Scalar, ScalarStore};
    use jitffi_ctype::{IntType, Target};

    /// The plan of `text`, its shape and flags (the element type left out).
    fn plan(types: &mut TypeTable, text: &str) -> Option<(ValueShape, u32, bool, bool)> {
        let ty = types.parse_type(text, &[]).expect(text);
        element_plan(types, ty).map(|p| (p.shape, p.size, p.through_pointer, p.read_only))
    }

    #[test]
    fn scalar_and_aggregate_elements_of_pointers_and_arrays_qualify() {
        let mut types = TypeTable::new(Target::host());
        types.cdef("struct eg { int a; double b; };", &[]).unwrap();
        let wide = crate::lua::version::INTEGERS;
        let int = |bytes, signed| {
            Some(ValueShape::Scalar(Scalar::of(ScalarStore::Int(IntType {
                bytes,
                signed,
            }))))
        };
        // 64-bit elements only where Lua holds them as integers.
        let (i64_elem, u64_elem) = if wide {
            (int(8, true), int(8, false))
        } else {
            (None, None)
        };
        let aggregate = Some(ValueShape::Aggregate);
        // (type, element shape, size, through a pointer, read-only)
        let cases: &[(&str, Option<ValueShape>, u32, bool, bool)] = &[
            ("int *", int(4, true), 4, true, false),
            ("const int *", int(4, true), 4, true, true),
            ("int *const", int(4, true), 4, true, false),
            ("volatile uint8_t *", int(1, false), 1, true, false),
            ("int16_t[3]", int(2, true), 2, false, false),
            ("const uint32_t[2]", int(4, false), 4, false, true),
            (
                "double[?]",
                Some(ValueShape::Scalar(Scalar::F64)),
                8,
                false,
                false,
            ),
            (
                "float *",
                Some(ValueShape::Scalar(Scalar::F32)),
                4,
                true,
                false,
            ),
            (
                "bool[4]",
                Some(ValueShape::Scalar(Scalar::Bool)),
                1,
                false,
                false,
            ),
            // Plain char's signedness is the target's (unsigned on AArch64).
            (
                "char *",
                Some(ValueShape::Scalar(Scalar::of(ScalarStore::Int(
                    Target::host().char_type(),
                )))),
                1,
                true,
                false,
            ),
            ("int64_t *", i64_elem, 8, true, false),
            ("uint64_t[2]", u64_elem, 8, false, false),
            ("struct eg *", aggregate, 16, true, true),
            ("struct eg[2]", aggregate, 16, false, true),
            ("const struct eg *", aggregate, 16, true, true),
            ("int[2][3]", aggregate, 12, false, true),
        ];
        for &(text, shape, size, through_pointer, read_only) in cases {
            let expected = shape.map(|shape| (shape, size, through_pointer, read_only));
            assert_eq!(plan(&mut types, text), expected, "{text}");
        }
        // A reference reads the element type with its qualifiers.
        let const_point = types.parse_type("const struct eg *", &[]).unwrap();
        let elem = element_plan(&types, const_point).unwrap().elem;
        assert!(types.unqualified(elem).1.is_const);
    }

    #[test]
    fn everything_else_takes_the_general_path() {
        let mut types = TypeTable::new(Target::host());
        types
            .cdef("struct ec { int a; }; struct ec_open; enum ec_e { EC_A }; typedef int ec_v __attribute__((vector_size(8)));", &[])
            .unwrap();
        for text in [
            "int",
            "double",
            "struct ec",
            "struct ec_open *",
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
            assert_eq!(plan(&mut types, text), None, "{text}");
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
        assert!(!cache.knows(int_ptr));
        let access = ElementAccess {
            read: DirectRead::Scalar(Scalar::I32),
            size: 4,
            through_pointer: true,
            read_only: false,
        };
        cache.record(types.len(), int_ptr, Some(access));
        cache.record(types.len(), void_ptr, None);
        assert_eq!(cache.get(int_ptr), Some(access));
        assert_eq!(cache.get(void_ptr), None);
        assert!(cache.knows(int_ptr) && cache.knows(void_ptr));
        assert_eq!(cache.get(TypeId(u32::MAX)), None, "ids beyond the table");
    }
}
