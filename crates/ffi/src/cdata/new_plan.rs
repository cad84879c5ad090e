//! What `ffi.new` needs to know of a type, computed once per type: its size and
//! alignment and, for a scalar, a struct of plain scalar members or a short array of
//! plain scalars, where positional
//! number initializers go. With it, `point_t(x, y, id)` skips the general type queries
//! and the general conversion path (see `cdata_api::new_value`).
//!
//! Only complete, fixed-size types get a plan. Types never change once complete and a
//! type id is only reused after a failed `cdef` rolled back types that no plan can have
//! seen, so plans need no invalidation.

use crate::scalar::number::{scalar_store, ScalarStore};
use jitffi_ctype::{ArrayLen, CType, RecordKind, TypeId, TypeTable};

/// Size, alignment and the scalar slots of one type.
pub struct NewPlan {
    pub size: u64,
    pub align: u32,
    /// A struct, union, complex number or vector: the types `ffi.metatype` takes, whose
    /// metatype, if any, may have a `__gc` to attach.
    pub may_have_metatype: bool,
    /// For a scalar or a struct whose members are all named scalars (no bitfields,
    /// nested aggregates or pointers): each slot in initializer order. Empty otherwise
    /// (the plan then makes only zero-filled values). An array of at most
    /// [`MAX_ARRAY_SLOTS`] plain scalars has a slot per element.
    pub slots: Box<[Slot]>,
    /// An array: a single initializer fills every element (LuaJIT's array rule), where a
    /// struct's fills only its first member.
    pub fills_from_one: bool,
}

/// Most elements of an array whose plan lists them as slots (a longer one gets a plan
/// without slots: only its zero-filled values are made by the plan).
pub const MAX_ARRAY_SLOTS: u64 = 16;

/// One scalar a positional initializer fills.
#[derive(Copy, Clone)]
pub struct Slot {
    pub offset: u32,
    pub store: ScalarStore,
    /// A 64-bit integer: a Lua integer converts exactly (5.3+), not through a double.
    pub wide: bool,
}

#[derive(Default)]
pub struct NewPlans {
    plans: Vec<Option<Box<NewPlan>>>,
}

impl NewPlans {
    /// The plan of `ty`, made on first use; `None` for types `ffi.new` handles only on
    /// the general path (variable-length, references, incomplete, flexible arrays).
    #[inline]
    pub fn get(&mut self, types: &TypeTable, ty: TypeId) -> Option<&NewPlan> {
        let index = ty.index();
        if self.plans.get(index).is_some_and(Option::is_some) {
            return self.plans[index].as_deref();
        }
        self.make(types, ty)
    }

    /// The plan of `ty` if made already (for the fast path of `ffi.new`, which makes
    /// none).
    #[inline(always)]
    pub fn known(&self, ty: TypeId) -> Option<&NewPlan> {
        self.plans.get(ty.index())?.as_deref()
    }

    /// The slow path of [`NewPlans::get`]: makes (or fails to make) the plan of `ty`.
    #[cold]
    fn make(&mut self, types: &TypeTable, ty: TypeId) -> Option<&NewPlan> {
        let index = ty.index();
        if index >= self.plans.len() {
            self.plans.resize_with(types.len().max(index + 1), || None);
        }
        if self.plans[index].is_none() {
            self.plans[index] = make_plan(types, ty).map(Box::new);
        }
        self.plans[index].as_deref()
    }
}

fn make_plan(types: &TypeTable, ty: TypeId) -> Option<NewPlan> {
    if types.is_vla(ty) {
        return None;
    }
    let (base, _) = types.unqualified(ty);
    let slot = |offset: u64, ty: TypeId| {
        let store = scalar_store(types, types.unqualified(ty).0).expect("is_plain_scalar checked");
        Slot {
            offset: offset as u32,
            store,
            wide: matches!(store, ScalarStore::Int(int) if int.bytes == 8),
        }
    };
    let slots: Option<Box<[Slot]>> = match types.get(base) {
        CType::Record(rid) => {
            let record = types.record(*rid);
            let body = record.body.as_ref()?;
            let flat = record.kind == RecordKind::Struct
                && body
                    .fields
                    .iter()
                    .all(|f| f.name.is_some() && f.bits.is_none() && is_plain_scalar(types, f.ty));
            flat.then(|| body.fields.iter().map(|f| slot(f.offset, f.ty)).collect())
        }
        CType::Array {
            elem,
            len: ArrayLen::Fixed(len),
        } => {
            let elem_size = types.size_of(*elem)?;
            (*len <= MAX_ARRAY_SLOTS && is_plain_scalar(types, *elem))
                .then(|| (0..*len).map(|i| slot(i * elem_size, *elem)).collect())
        }
        CType::Array { .. } | CType::Ref(_) | CType::Void | CType::Func(_) => return None,
        _ if is_plain_scalar(types, base) => Some(Box::new([slot(0, base)])),
        _ => None,
    };
    Some(NewPlan {
        size: types.size_of(base)?,
        align: types.align_of(ty),
        may_have_metatype: matches!(
            types.get(base),
            CType::Record(_) | CType::Complex(_) | CType::Vector { .. }
        ),
        slots: slots.unwrap_or_default(),
        fills_from_one: matches!(types.get(base), CType::Array { .. }),
    })
}

/// A type a Lua number converts into by [`store_scalar`](crate::scalar::number::store_scalar).
fn is_plain_scalar(types: &TypeTable, ty: TypeId) -> bool {
    scalar_store(types, types.unqualified(ty).0).is_some()
}
