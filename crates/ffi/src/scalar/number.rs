//! Scalar C values as numbers: reading and writing integers and floats of every width,
//! the widened [`Num`] conversions pass between types, and LuaJIT's rules for turning a
//! double into an integer.

use jitffi_ctype::{CType, FloatKind, IntType, TypeId, TypeTable};

/// A scalar C value, widened: what numeric conversions pass between types.
#[derive(Copy, Clone, Debug)]
pub enum Num {
    Int(i64),
    UInt(u64),
    Float(f64),
    Complex(f64, f64),
}

/// Reads an integer of width < 8 bytes, sign- or zero-extended.
///
/// # Safety
/// `ptr` points to `int.bytes` readable bytes, aligned for them.
pub unsafe fn read_int(ptr: *const u8, int: IntType) -> i64 {
    // SAFETY: forwarded from the caller.
    unsafe {
        match (int.bytes, int.signed) {
            (1, true) => i64::from(ptr.cast::<i8>().read()),
            (1, false) => i64::from(ptr.read()),
            (2, true) => i64::from(ptr.cast::<i16>().read()),
            (2, false) => i64::from(ptr.cast::<u16>().read()),
            (4, true) => i64::from(ptr.cast::<i32>().read()),
            (4, false) => i64::from(ptr.cast::<u32>().read()),
            (_, true) => ptr.cast::<i64>().read(),
            (_, false) => ptr.cast::<u64>().read() as i64,
        }
    }
}

/// Reads a scalar C value of (unqualified) type `base`, if it is numeric.
///
/// # Safety
/// `ptr` points to a readable, aligned value of `base`.
pub unsafe fn read_num(types: &TypeTable, base: TypeId, ptr: *const u8) -> Option<Num> {
    // SAFETY: forwarded from the caller.
    unsafe {
        Some(match types.get(base) {
            CType::Bool => Num::UInt(u64::from(ptr.read() != 0)),
            CType::BoolInt => Num::UInt(u64::from(ptr.cast::<u32>().read() != 0)),
            CType::Int(int) => int_num(read_int(ptr, *int), *int),
            CType::Enum(eid) => {
                let int = types.enum_def(*eid).int_type?;
                int_num(read_int(ptr, int), int)
            }
            CType::Float(FloatKind::Float) => Num::Float(f64::from(ptr.cast::<f32>().read())),
            CType::Float(FloatKind::Double) => Num::Float(ptr.cast::<f64>().read()),
            CType::Complex(FloatKind::Float) => {
                let parts = ptr.cast::<[f32; 2]>().read();
                Num::Complex(f64::from(parts[0]), f64::from(parts[1]))
            }
            CType::Complex(FloatKind::Double) => {
                let parts = ptr.cast::<[f64; 2]>().read();
                Num::Complex(parts[0], parts[1])
            }
            _ => return None,
        })
    }
}

fn int_num(value: i64, int: IntType) -> Num {
    if int.signed {
        Num::Int(value)
    } else {
        Num::UInt(value as u64)
    }
}

// ---- numbers to C -------------------------------------------------------------------------

const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// `cvttsd2si` with a 64-bit result: truncation toward zero, and the "integer
/// indefinite" value `i64::MIN` for NaN and out-of-range inputs (what LuaJIT gets on
/// x86-64, where Rust's `as` would saturate instead).
pub fn f64_to_i64(n: f64) -> i64 {
    if n.is_nan() || !(-TWO_POW_63..TWO_POW_63).contains(&n) {
        i64::MIN
    } else {
        n as i64
    }
}

/// `cvttsd2si` with a 32-bit result.
fn f64_to_i32(n: f64) -> i32 {
    if n.is_nan() || !(-2_147_483_648.0..2_147_483_648.0).contains(&n) {
        i32::MIN
    } else {
        n as i32
    }
}

/// LuaJIT's double to `uint64_t` on x86-64: values from 2^63 wrap through the signed
/// conversion, values at or below -1 (and NaN) give 2^63.
fn f64_to_u64(n: f64) -> u64 {
    if n >= TWO_POW_63 {
        f64_to_i64(n - 2.0 * TWO_POW_63) as u64
    } else if n <= -1.0 || n.is_nan() {
        1 << 63
    } else {
        f64_to_i64(n) as u64
    }
}

/// The bits of `num` converted to an integer of width `int` (the low bytes matter).
pub fn num_to_int_bits(num: Num, int: IntType) -> u64 {
    match num {
        Num::Int(i) => i as u64,
        Num::UInt(u) => u,
        Num::Float(n) | Num::Complex(n, _) => match (int.bytes, int.signed) {
            (8, true) => f64_to_i64(n) as u64,
            (8, false) => f64_to_u64(n),
            // LuaJIT: unsigned 32-bit through the 64-bit conversion, every narrower or
            // signed type through the 32-bit one, then truncated.
            (4, false) => f64_to_i64(n) as u64,
            _ => f64_to_i32(n) as i64 as u64,
        },
    }
}

fn num_to_f64(num: Num) -> f64 {
    match num {
        Num::Int(i) => i as f64,
        Num::UInt(u) => u as f64,
        Num::Float(n) | Num::Complex(n, _) => n,
    }
}

fn num_is_nonzero(num: Num) -> bool {
    match num {
        Num::Int(i) => i != 0,
        Num::UInt(u) => u != 0,
        Num::Float(n) => n != 0.0,
        Num::Complex(re, im) => re != 0.0 || im != 0.0,
    }
}

/// Writes the low `int.bytes` bytes of `bits`.
///
/// # Safety
/// `ptr` points to `int.bytes` writable bytes, aligned for them.
pub unsafe fn write_int(ptr: *mut u8, int: IntType, bits: u64) {
    // SAFETY: forwarded from the caller.
    unsafe {
        match int.bytes {
            1 => ptr.write(bits as u8),
            2 => ptr.cast::<u16>().write(bits as u16),
            4 => ptr.cast::<u32>().write(bits as u32),
            _ => ptr.cast::<u64>().write(bits),
        }
    }
}

/// How a number is stored into a real scalar C type: what [`store_num`] decides from
/// the type, kept by callers that store into the same type often (and what
/// the cdata layer's `push_scalar` reads).
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum ScalarStore {
    Bool,
    /// LuaJIT's `_Bool int`: 0 or 1 in four bytes.
    BoolInt,
    Int(IntType),
    F32,
    F64,
}

/// A [`ScalarStore`] flattened to one kind: what the fast paths of `p.x` and `p[i]`
/// keep per member and element type, so that reading or writing one dispatches with a
/// single jump where a [`ScalarStore`] takes two levels and the integer's width and sign.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Scalar {
    Bool,
    /// LuaJIT's `_Bool int`.
    BoolInt,
    I8,
    U8,
    I16,
    U16,
    I32,
    U32,
    I64,
    U64,
    F32,
    F64,
}

impl Scalar {
    /// The flat kind of `store`.
    pub const fn of(store: ScalarStore) -> Scalar {
        match store {
            ScalarStore::Bool => Scalar::Bool,
            ScalarStore::BoolInt => Scalar::BoolInt,
            ScalarStore::Int(IntType { bytes: 1, signed }) => pick(signed, Scalar::I8, Scalar::U8),
            ScalarStore::Int(IntType { bytes: 2, signed }) => {
                pick(signed, Scalar::I16, Scalar::U16)
            }
            ScalarStore::Int(IntType { bytes: 4, signed }) => {
                pick(signed, Scalar::I32, Scalar::U32)
            }
            ScalarStore::Int(IntType { signed, .. }) => pick(signed, Scalar::I64, Scalar::U64),
            ScalarStore::F32 => Scalar::F32,
            ScalarStore::F64 => Scalar::F64,
        }
    }

    /// The size of a value of this kind in bytes.
    pub const fn size(self) -> u8 {
        match self {
            Scalar::Bool | Scalar::I8 | Scalar::U8 => 1,
            Scalar::I16 | Scalar::U16 => 2,
            Scalar::BoolInt | Scalar::I32 | Scalar::U32 | Scalar::F32 => 4,
            Scalar::I64 | Scalar::U64 | Scalar::F64 => 8,
        }
    }

    /// A 64-bit integer (which Lua 5.1/5.2 cannot hold as a number, and 5.3+ holds as
    /// an integer exactly).
    pub const fn is_wide_int(self) -> bool {
        matches!(self, Scalar::I64 | Scalar::U64)
    }

    /// The [`ScalarStore`] this kind flattens.
    pub const fn store(self) -> ScalarStore {
        match self {
            Scalar::Bool => ScalarStore::Bool,
            Scalar::BoolInt => ScalarStore::BoolInt,
            Scalar::I8 => ScalarStore::Int(IntType::I8),
            Scalar::U8 => ScalarStore::Int(IntType::U8),
            Scalar::I16 => ScalarStore::Int(IntType::I16),
            Scalar::U16 => ScalarStore::Int(IntType::U16),
            Scalar::I32 => ScalarStore::Int(IntType::I32),
            Scalar::U32 => ScalarStore::Int(IntType::U32),
            Scalar::I64 => ScalarStore::Int(IntType::I64),
            Scalar::U64 => ScalarStore::Int(IntType::U64),
            Scalar::F32 => ScalarStore::F32,
            Scalar::F64 => ScalarStore::F64,
        }
    }
}

/// `signed` if the integer is signed, else `unsigned` (`if` in a const fn).
const fn pick(signed: bool, if_signed: Scalar, if_unsigned: Scalar) -> Scalar {
    if signed {
        if_signed
    } else {
        if_unsigned
    }
}

/// The [`ScalarStore`] of an unqualified type: bool, integers, enums of known width,
/// float and double.
pub fn scalar_store(types: &TypeTable, base: TypeId) -> Option<ScalarStore> {
    Some(match types.get(base) {
        CType::Bool => ScalarStore::Bool,
        CType::BoolInt => ScalarStore::BoolInt,
        CType::Int(int) => ScalarStore::Int(*int),
        CType::Enum(eid) => ScalarStore::Int(types.enum_def(*eid).int_type?),
        CType::Float(FloatKind::Float) => ScalarStore::F32,
        CType::Float(FloatKind::Double) => ScalarStore::F64,
        _ => return None,
    })
}

/// Stores a number as `kind` says.
///
/// # Safety
/// `ptr` points to writable storage of the scalar, aligned for it.
#[inline]
pub unsafe fn store_scalar(ptr: *mut u8, kind: ScalarStore, num: Num) {
    // SAFETY: forwarded from the caller; each arm writes the scalar's own width.
    unsafe {
        match kind {
            ScalarStore::Bool => ptr.write(u8::from(num_is_nonzero(num))),
            ScalarStore::BoolInt => ptr.cast::<u32>().write(u32::from(num_is_nonzero(num))),
            ScalarStore::Int(int) => write_int(ptr, int, num_to_int_bits(num, int)),
            ScalarStore::F32 => ptr.cast::<f32>().write(num_to_f64(num) as f32),
            ScalarStore::F64 => ptr.cast::<f64>().write(num_to_f64(num)),
        }
    }
}

/// Stores a number into a numeric C type; `false` if `base` is not numeric.
///
/// # Safety
/// `ptr` points to a writable, aligned value of `base`.
pub unsafe fn store_num(types: &TypeTable, base: TypeId, ptr: *mut u8, num: Num) -> bool {
    // SAFETY: forwarded from the caller.
    unsafe {
        if let Some(kind) = scalar_store(types, base) {
            store_scalar(ptr, kind, num);
            return true;
        }
        match types.get(base) {
            CType::Complex(kind) => {
                let (re, im) = match num {
                    Num::Complex(re, im) => (re, im),
                    other => (num_to_f64(other), 0.0),
                };
                match kind {
                    FloatKind::Float => ptr.cast::<[f32; 2]>().write([re as f32, im as f32]),
                    FloatKind::Double => ptr.cast::<[f64; 2]>().write([re, im]),
                    FloatKind::LongDouble => return false,
                }
            }
            // A scalar converts to the element type and fills every element (LuaJIT's
            // splat, `CCX(V, I)`/`CCX(V, F)`/`CCX(V, C)` in `lj_cconv_ct_ct`).
            CType::Vector { elem, bytes } => {
                let (elem, _) = types.unqualified(*elem);
                let esize = types.size_of(elem).unwrap_or(0) as usize;
                if esize == 0 || !store_num(types, elem, ptr, num) {
                    return false;
                }
                for at in (esize..*bytes as usize).step_by(esize) {
                    std::ptr::copy_nonoverlapping(ptr, ptr.add(at), esize);
                }
            }
            _ => return false,
        }
    }
    true
}

/// `bits` as a register holds an `int`: sign- or zero-extended from its width.
pub fn extend(bits: u64, int: IntType) -> u64 {
    let shift = 64 - 8 * u32::from(int.bytes);
    if shift == 0 {
        bits
    } else if int.signed {
        (((bits << shift) as i64) >> shift) as u64
    } else {
        (bits << shift) >> shift
    }
}

#[cfg(test)]
mod tests {
    use super::extend;
    use jitffi_ctype::IntType;

    #[test]
    fn flat_scalar_kinds_name_the_same_stores() {
        use super::{Scalar, ScalarStore};
        let all = [
            Scalar::Bool,
            Scalar::BoolInt,
            Scalar::I8,
            Scalar::U8,
            Scalar::I16,
            Scalar::U16,
            Scalar::I32,
            Scalar::U32,
            Scalar::I64,
            Scalar::U64,
            Scalar::F32,
            Scalar::F64,
        ];
        for kind in all {
            assert_eq!(Scalar::of(kind.store()), kind);
        }
        assert_eq!(
            Scalar::store(Scalar::U16),
            ScalarStore::Int(IntType {
                bytes: 2,
                signed: false
            })
        );
    }

    #[test]
    fn registers_hold_values_extended_from_their_width() {
        let i8_ = IntType {
            bytes: 1,
            signed: true,
        };
        let u16_ = IntType {
            bytes: 2,
            signed: false,
        };
        assert_eq!(extend(0xff, i8_), u64::MAX);
        assert_eq!(extend(0x1_7f, i8_), 0x7f);
        assert_eq!(extend(0xdead_ffff, u16_), 0xffff);
        let i64_ = IntType {
            bytes: 8,
            signed: true,
        };
        assert_eq!(extend(0x8000_0000_0000_0000, i64_), 0x8000_0000_0000_0000);
    }
}
