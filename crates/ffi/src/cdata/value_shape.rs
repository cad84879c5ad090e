//! How a C value of one type reads into Lua, decided once per type: plain data shared by
//! the conversions ([`crate::cdata::convert`]) and the fast paths' per-type caches
//! (element_cache, field_cache), which keep it without depending on the conversions.
//! A leaf of `cdata`: it uses only `scalar` and the type table.

use crate::scalar::number::{Scalar, ScalarStore};
use jitffi_ctype::{CType, FloatKind, TypeId, TypeTable};

/// What reading a C value of one (unqualified) type into Lua takes: the decision of
/// [`crate::cdata::convert::push_c_value`], shared with the fast paths of `__index` (the element and field
/// caches), which keep its answer per type.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum ValueShape {
    /// A boolean or a number read in place (bool, integers, float, double; not enums).
    Scalar(Scalar),
    /// A struct, union, array or function: a new reference cdata `T &` to it, so that
    /// `s.inner.a = 1` writes through.
    Aggregate,
    /// A pointer: `nil` for NULL, else a new cdata holding the address.
    Pointer,
    /// Anything else (`convert::push_other_value`).
    Other,
}

/// The [`ValueShape`] of the unqualified type `base`.
pub fn value_shape(types: &TypeTable, base: TypeId) -> ValueShape {
    match types.get(base) {
        CType::Bool => ValueShape::Scalar(Scalar::Bool),
        CType::BoolInt => ValueShape::Scalar(Scalar::BoolInt),
        CType::Int(int) => ValueShape::Scalar(Scalar::of(ScalarStore::Int(*int))),
        CType::Float(FloatKind::Float) => ValueShape::Scalar(Scalar::F32),
        CType::Float(FloatKind::Double) => ValueShape::Scalar(Scalar::F64),
        CType::Record(_) | CType::Array { .. } | CType::Func(_) => ValueShape::Aggregate,
        CType::Pointer(_) => ValueShape::Pointer,
        _ => ValueShape::Other,
    }
}

/// A [`ValueShape`] made ready to push with no type table at hand: what the element
/// and field caches keep per type.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum DirectRead {
    Scalar(Scalar),
    /// The reference type `T &` to make (`T` the value's type, qualifiers kept).
    Reference(TypeId),
    /// The (unqualified) pointer type.
    Pointer(TypeId),
}
