//! AAPCS64, the AArch64 procedure call standard (Arm IHI 0055, 2025Q4), as gcc applies
//! it on aarch64-linux-gnu, and Apple's arm64 variant of it ([`Flavor`]).
//!
//! Stage B of §6.8.2 "Parameter passing rules" turns each argument into a [`Shape`];
//! stage C assigns x0-x7 (NGRN), v0-v7 (NSRN) and the stack (NSAA) in argument order.
//! Results (§6.9 "Result return") use the registers the same value would take as the
//! only argument, or a caller buffer whose address travels in x8.
//!
//! Integer extension (recorded here because the standard leaves it open): the standard
//! leaves the bits of a register beyond a narrow argument unspecified (stage C preamble:
//! "any unused bits in the register have unspecified value"), and gcc's callers do not
//! extend (a `signed char` is loaded with `ldrb`) while its callees narrow (`sxtb`).
//! Apple's callers must sign- or zero-extend to 32 bits. So a jitffi caller extends as
//! the piece's [`Ext`] says (to the full register, which satisfies both) and a callee
//! reads only the low `size` bytes. Results are the same: a caller narrows them.
//!
//! ```text
//!   outgoing stack area at the call (sp 16-aligned)
//!   sp+0    first stack argument; Linux: 8-byte slots, a value of alignment 16 at a
//!           multiple of 16 (C.4, C.14); Apple: each at its own natural alignment
//!   sp+8    ...
//! ```

use crate::plan::{AbiError, ArgPlan, CallPlan, Ext, Loc, Piece, PieceKind, RetPlan};
use jitffi_ctype::{
    ArrayLen, CType, FloatKind, FuncType, IntType, RecordKind, Target, TypeId, TypeTable,
};

/// Integer argument registers: x0-x7 (§6.8.2, stage C, NGRN < 8).
pub const GPR_ARGS: u8 = 8;
/// SIMD and floating-point argument registers: v0-v7 (NSRN < 8).
pub const VEC_ARGS: u8 = 8;
/// Integer result registers: x0, x1 (a composite of up to 16 bytes, `__int128`).
pub const GPR_RESULTS: u8 = 2;
/// Vector result registers: v0-v3 (an HFA of up to four members).
pub const VEC_RESULTS: u8 = 4;
/// Where the address of a result returned in memory travels: x8, the indirect result
/// location register (§6.9 "Result return"), which is not an argument register.
pub const INDIRECT_RESULT: Loc = Loc::Gpr(8);
/// Largest composite passed by value (rule B.4: larger ones go by reference).
const MAX_BY_VALUE: u64 = 16;
/// Most members of a homogeneous aggregate (§5.9.5 "Homogeneous Aggregates").
const MAX_HFA_MEMBERS: u64 = 4;

/// Which platform's AAPCS64.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum Flavor {
    /// The standard as gcc has it on Linux: variadic arguments like named ones, stack
    /// arguments in 8-byte slots.
    Linux,
    /// Apple arm64 ("Writing ARM64 code for Apple platforms"): variadic arguments all on
    /// the stack in 8-byte slots; named stack arguments at their natural alignment and
    /// size, not widened to 8 bytes; `long double` is `double`; and, as LLVM's Darwin
    /// convention does, no even register pair for 16-byte values and HFAs on the stack
    /// at their member alignment. Not checked against an Apple compiler.
    Apple,
}

/// The fundamental type of an HFA or HVA member (§5.9.5: members of one such type).
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
enum Base {
    F32,
    F64,
    /// IEEE quad `long double`.
    F128,
    /// 64-bit short vector.
    V64,
    /// 128-bit short vector (a different fundamental type from `F128`).
    V128,
}

impl Base {
    fn bytes(self) -> u8 {
        match self {
            Base::F32 => 4,
            Base::F64 | Base::V64 => 8,
            Base::F128 | Base::V128 => 16,
        }
    }

    fn kind(self) -> PieceKind {
        match self {
            Base::F32 => PieceKind::F32,
            Base::F64 | Base::V64 => PieceKind::F64,
            Base::F128 | Base::V128 => PieceKind::V128,
        }
    }
}

/// How a value is passed, after stage B.
enum Shape {
    /// Nothing (an empty struct: gcc passes no bytes for it in C).
    Empty,
    /// A floating-point or short vector scalar: one v register (C.1) or the stack.
    Fp(Base),
    /// An HFA or HVA: one v register per member (C.2), or the stack (C.3-C.6).
    Hfa { base: Base, count: u8, size: u32 },
    /// An integral or pointer type of up to 8 bytes: one x register (C.9).
    Int { kind: PieceKind, size: u8 },
    /// `__int128`: an even-numbered pair of x registers (C.10, C.11).
    Int128,
    /// Any other composite of up to 16 bytes: consecutive x registers (C.12), or the
    /// stack. `align` is its natural alignment (§5.9: the largest member alignment).
    Composite { size: u32, align: u32 },
    /// A composite over 16 bytes: a pointer to a caller copy (B.4).
    Reference { size: u32, align: u32 },
}

/// NGRN, NSRN, NSAA (stage A).
struct Cursor {
    ngrn: u8,
    nsrn: u8,
    nsaa: u32,
    flavor: Flavor,
}

/// The plan of a call of `func` whose variadic part holds values of the (promoted)
/// types `varargs`.
pub(crate) fn classify(
    types: &TypeTable,
    func: &FuncType,
    varargs: &[TypeId],
    flavor: Flavor,
) -> Result<CallPlan, AbiError> {
    let ret = result_plan(types, func.ret)?;
    let mut at = Cursor {
        ngrn: 0,
        nsrn: 0,
        nsaa: 0,
        flavor,
    };
    let mut args = Vec::with_capacity(func.params.len() + varargs.len());
    for &ty in func.params.iter() {
        args.push(assign(&mut at, shape(types, ty)?));
    }
    for &ty in varargs {
        let plan = match flavor {
            // §6.8.2: a variadic argument is passed like a named one.
            Flavor::Linux => assign(&mut at, shape(types, ty)?),
            Flavor::Apple => variadic_on_stack(&mut at, shape(types, ty)?),
        };
        args.push(plan);
    }
    Ok(CallPlan {
        args,
        ret,
        stack_bytes: at.nsaa.next_multiple_of(8),
        stack_align: 16,
        vec_regs: at.nsrn,
        variadic: func.variadic,
    })
}

/// §6.9 "Result return": the registers of the same value passed as the only argument,
/// else memory at the address in x8.
fn result_plan(types: &TypeTable, ty: TypeId) -> Result<RetPlan, AbiError> {
    let (base, _) = types.unqualified(ty);
    if matches!(types.get(base), CType::Void) {
        return Ok(RetPlan::Void);
    }
    let shape = shape(types, ty)?;
    if let Shape::Reference { size, .. } = shape {
        return Ok(RetPlan::Memory {
            size,
            pointer: INDIRECT_RESULT,
        });
    }
    let mut fresh = Cursor {
        ngrn: 0,
        nsrn: 0,
        nsaa: 0,
        flavor: Flavor::Linux,
    };
    match assign(&mut fresh, shape) {
        ArgPlan::Nothing => Ok(RetPlan::Void),
        ArgPlan::Pieces(pieces) => Ok(RetPlan::Pieces(pieces)),
        // Every shape but a reference fits the registers of a call's first argument.
        _ => Err(AbiError {
            message: format!("bug: no result registers for '{}'", types.type_name(ty)),
        }),
    }
}

/// Stage C for one named argument (or, on Linux, a variadic one).
fn assign(at: &mut Cursor, shape: Shape) -> ArgPlan {
    match shape {
        Shape::Empty => ArgPlan::Nothing,
        // C.1: the next v register.
        Shape::Fp(base) if at.nsrn < VEC_ARGS => {
            at.nsrn += 1;
            one(base.kind(), base.bytes(), Loc::Vec(at.nsrn - 1))
        }
        // C.4-C.6: a quad or 128-bit vector at a multiple of 16; a float or double (or
        // 64-bit vector) in an 8-byte slot (C.5).
        Shape::Fp(base) => {
            at.nsrn = VEC_ARGS;
            let align = u32::from(base.bytes()).max(8);
            stack_scalar(at, base.kind(), base.bytes(), align)
        }
        // C.2: one v register per member when all of them fit.
        Shape::Hfa { base, count, .. } if at.nsrn + count <= VEC_ARGS => {
            let pieces = (0..count)
                .map(|i| Piece {
                    offset: u32::from(i) * u32::from(base.bytes()),
                    size: base.bytes(),
                    kind: base.kind(),
                    loc: Loc::Vec(at.nsrn + i),
                })
                .collect();
            at.nsrn += count;
            ArgPlan::Pieces(pieces)
        }
        // C.3: no v register for the rest of the call; C.4: at a multiple of 8 or 16
        // (the member alignment); C.6: copied whole, size rounded up to 8. Apple (LLVM's
        // CC_AArch64_Custom_Block on Darwin): at the member alignment, not rounded.
        Shape::Hfa { base, size, .. } => {
            at.nsrn = VEC_ARGS;
            let member = u32::from(base.bytes());
            match at.flavor {
                Flavor::Linux => stack_copy(at, size, if member >= 16 { 16 } else { 8 }),
                Flavor::Apple => {
                    let offset = stack_slot(at, size, member);
                    copy_at(offset, size)
                }
            }
        }
        // C.9: the next x register.
        Shape::Int { kind, size } if at.ngrn < GPR_ARGS => {
            at.ngrn += 1;
            one(kind, size, Loc::Gpr(at.ngrn - 1))
        }
        // C.13 (NGRN = 8), C.14, C.16: an 8-byte slot (Apple: its own size).
        Shape::Int { kind, size } => {
            at.ngrn = GPR_ARGS;
            stack_scalar(at, kind, size, u32::from(size).max(8))
        }
        Shape::Int128 => {
            // C.10: alignment 16 starts at an even register (Apple: any register).
            if at.flavor == Flavor::Linux {
                at.ngrn = at.ngrn.next_multiple_of(2);
            }
            // C.11: a pair x[NGRN], x[NGRN+1], lower-addressed half first.
            if at.ngrn + 2 <= GPR_ARGS {
                at.ngrn += 2;
                return ArgPlan::Pieces(gpr_pieces(16, at.ngrn - 2));
            }
            at.ngrn = GPR_ARGS;
            stack_copy(at, 16, 16)
        }
        Shape::Composite { size, align } => {
            // C.10: a composite of natural alignment 16 starts at an even register.
            if align >= 16 && at.flavor == Flavor::Linux {
                at.ngrn = at.ngrn.next_multiple_of(2);
            }
            // C.12: consecutive x registers when all the double-words fit, as if loaded
            // with LDRs from a double-word-aligned copy.
            let dwords = size.div_ceil(8) as u8;
            if at.ngrn + dwords <= GPR_ARGS {
                at.ngrn += dwords;
                return ArgPlan::Pieces(gpr_pieces(size, at.ngrn - dwords));
            }
            // C.13: never split: no x register for the rest of the call. C.14: at a
            // multiple of 8, or of 16 for natural alignment 16 (B.6); C.15: copied whole.
            at.ngrn = GPR_ARGS;
            stack_copy(at, size, if align >= 16 { 16 } else { 8 })
        }
        // B.4: the argument is now a pointer to the caller's copy, passed by C.9/C.16.
        Shape::Reference { size, align } => {
            let pointer = if at.ngrn < GPR_ARGS {
                at.ngrn += 1;
                Loc::Gpr(at.ngrn - 1)
            } else {
                Loc::Stack(stack_slot(at, 8, 8))
            };
            ArgPlan::Indirect {
                pointer,
                size,
                align,
            }
        }
    }
}

/// Apple arm64: "the NSAA is rounded up to the next multiple of 8 bytes, and each
/// variadic argument is assigned to the appropriate number of 8-byte stack slots";
/// stage B still applies (a composite over 16 bytes is passed by reference).
fn variadic_on_stack(at: &mut Cursor, shape: Shape) -> ArgPlan {
    at.nsaa = at.nsaa.next_multiple_of(8);
    // Laid out like a Linux stack argument, 8-byte slots, with no register free.
    let linux = Flavor::Linux;
    let mut stack_only = Cursor {
        ngrn: GPR_ARGS,
        nsrn: VEC_ARGS,
        nsaa: at.nsaa,
        flavor: linux,
    };
    let plan = assign(&mut stack_only, shape);
    at.nsaa = stack_only.nsaa;
    plan
}

fn one(kind: PieceKind, size: u8, loc: Loc) -> ArgPlan {
    ArgPlan::Pieces(vec![Piece {
        offset: 0,
        size,
        kind,
        loc,
    }])
}

/// The x-register pieces of `size` bytes from register `first` on: 8 bytes each, the
/// last one what remains.
fn gpr_pieces(size: u32, first: u8) -> Vec<Piece> {
    (0..size.div_ceil(8))
        .map(|i| Piece {
            offset: 8 * i,
            size: (size - 8 * i).min(8) as u8,
            kind: PieceKind::Int(Ext::None),
            loc: Loc::Gpr(first + i as u8),
        })
        .collect()
}

/// A stack slot of `size` bytes at the NSAA rounded up to `align` (the callers choose
/// both: 8-byte multiples on Linux, a scalar's own size and alignment on Apple).
fn stack_slot(at: &mut Cursor, size: u32, align: u32) -> u32 {
    let offset = at.nsaa.next_multiple_of(align);
    at.nsaa = offset + size;
    offset
}

/// A scalar on the stack: one piece. `slot_align` is its Linux slot alignment (at least
/// 8, C.14/C.16); Apple packs it at its own size (its natural alignment).
fn stack_scalar(at: &mut Cursor, kind: PieceKind, size: u8, slot_align: u32) -> ArgPlan {
    if size as u32 > 8 {
        return stack_copy(at, u32::from(size), slot_align);
    }
    let offset = match at.flavor {
        Flavor::Linux => stack_slot(at, 8, slot_align),
        Flavor::Apple => stack_slot(at, u32::from(size), u32::from(size)),
    };
    one(kind, size, Loc::Stack(offset))
}

/// A copy of a composite (or a 16-byte scalar) on the stack at a multiple of `align`,
/// taking its size rounded up to 8 (B.5, C.3). One of up to 8 bytes is a single piece
/// of its bytes, as on x86-64.
fn stack_copy(at: &mut Cursor, size: u32, align: u32) -> ArgPlan {
    let offset = stack_slot(at, size.next_multiple_of(8), align);
    copy_at(offset, size)
}

/// A copy of `size` bytes at stack offset `offset`: a single piece of its bytes when it
/// is up to 8 bytes, as on x86-64.
fn copy_at(offset: u32, size: u32) -> ArgPlan {
    if size <= 8 {
        return one(PieceKind::Int(Ext::None), size as u8, Loc::Stack(offset));
    }
    ArgPlan::Stack { offset, size }
}

/// Stage B: the shape of a value of type `ty`.
fn shape(types: &TypeTable, ty: TypeId) -> Result<Shape, AbiError> {
    let (base, _) = types.unqualified(ty);
    let cant = |what: &str| AbiError::cannot_pass(types, ty, what);
    let int = |int: IntType| Shape::Int {
        kind: PieceKind::of_int(int),
        size: int.bytes,
    };
    Ok(match types.get(base) {
        CType::Void => return Err(cant("a value of type")),
        CType::Bool => Shape::Int {
            kind: PieceKind::Int(Ext::Zero(1)),
            size: 1,
        },
        CType::BoolInt => int(IntType::U32),
        CType::Int(i) => int(*i),
        CType::Enum(eid) => match types.enum_def(*eid).int_type {
            Some(i) => int(i),
            None => return Err(cant("incomplete")),
        },
        // An array parameter is a pointer (C11 6.7.6.3p7).
        CType::Pointer(_) | CType::Ref(_) | CType::Array { .. } => Shape::Int {
            kind: PieceKind::Int(Ext::None),
            size: 8,
        },
        CType::WideInt { bytes: 16, .. } => Shape::Int128,
        CType::WideInt { .. } => return Err(cant("a value of type")),
        CType::Func(_) => return Err(cant("a function as a value of type")),
        CType::Float(kind) => Shape::Fp(float_base(types, *kind)),
        CType::Vector { bytes: 8, .. } => Shape::Fp(Base::V64),
        CType::Vector { bytes: 16, .. } => Shape::Fp(Base::V128),
        _ => composite_shape(types, ty).ok_or_else(|| cant("incomplete"))?,
    })
}

/// `long double` is a quad on Linux, a `double` on Apple arm64.
fn float_base(types: &TypeTable, kind: FloatKind) -> Base {
    match kind {
        FloatKind::Float => Base::F32,
        FloatKind::Double => Base::F64,
        FloatKind::LongDouble if types.target().long_double_is_double() => Base::F64,
        FloatKind::LongDouble => Base::F128,
    }
}

/// A struct, union, complex number or vector other than a short vector; `None` if its
/// size is unknown. B.3: an HFA/HVA stays a value whatever its size; B.4: another
/// composite over 16 bytes goes by reference.
fn composite_shape(types: &TypeTable, ty: TypeId) -> Option<Shape> {
    let size = types.size_of(ty)?;
    if size == 0 {
        return Some(Shape::Empty);
    }
    if let Homogeneous::Of(base, count) = homogeneous(types, ty) {
        if (1..=MAX_HFA_MEMBERS).contains(&count) && count * u64::from(base.bytes()) == size {
            return Some(Shape::Hfa {
                base,
                count: count as u8,
                size: size as u32,
            });
        }
    }
    // Apple follows its compiler: the type's alignment, `aligned` attribute included
    // (clang's Darwin lowering), for the stack slot; it has no even register pairs.
    let align = match types.target() {
        Target::AppleArm64 => types.align_of(ty),
        _ => natural_align(types, ty),
    };
    Some(if size > MAX_BY_VALUE {
        Shape::Reference {
            size: size as u32,
            align: types.align_of(ty),
        }
    } else {
        Shape::Composite {
            size: size as u32,
            align,
        }
    })
}

/// What the members of a type are made of, for the HFA/HVA test (§5.9.5).
enum Homogeneous {
    /// No member with a size (an empty struct, a zero-length array).
    Empty,
    /// `count` members of one fundamental floating-point or short vector type.
    Of(Base, u64),
    /// Anything else.
    No,
}

fn homogeneous(types: &TypeTable, ty: TypeId) -> Homogeneous {
    let (ty, _) = types.unqualified(ty);
    let combine = |acc: Homogeneous, next: Homogeneous, union: bool| match (acc, next) {
        (Homogeneous::No, _) | (_, Homogeneous::No) => Homogeneous::No,
        (Homogeneous::Empty, x) | (x, Homogeneous::Empty) => x,
        (Homogeneous::Of(a, n), Homogeneous::Of(b, m)) if a == b => {
            Homogeneous::Of(a, if union { n.max(m) } else { n + m })
        }
        _ => Homogeneous::No,
    };
    match types.get(ty) {
        CType::Float(kind) => Homogeneous::Of(float_base(types, *kind), 1),
        // A complex number is two members of its float type (§10.1.1, Table 3).
        CType::Complex(kind) => Homogeneous::Of(float_base(types, *kind), 2),
        CType::Vector { bytes: 8, .. } => Homogeneous::Of(Base::V64, 1),
        CType::Vector { bytes: 16, .. } => Homogeneous::Of(Base::V128, 1),
        CType::Array {
            elem,
            len: ArrayLen::Fixed(n),
        } => match homogeneous(types, *elem) {
            Homogeneous::Of(base, count) if *n > 0 => Homogeneous::Of(base, count * n),
            Homogeneous::No => Homogeneous::No,
            _ => Homogeneous::Empty,
        },
        CType::Record(rid) => {
            let record = types.record(*rid);
            let Some(body) = &record.body else {
                return Homogeneous::No;
            };
            let union = record.kind == RecordKind::Union;
            let mut acc = Homogeneous::Empty;
            for field in &body.fields {
                let member = match field.bits {
                    // Bitfields are integers; an unnamed zero-width one is no member.
                    Some(bits) if bits.width == 0 && field.name.is_none() => continue,
                    Some(_) => Homogeneous::No,
                    None => homogeneous(types, field.ty),
                };
                acc = combine(acc, member, union);
            }
            acc
        }
        _ => Homogeneous::No,
    }
}

/// The natural alignment of a composite (§5.9 "Composite Types"): the largest alignment
/// of its top-level members, before an `aligned` attribute on the composite itself.
/// gcc (since 9) follows this: `struct { long a, b; } __attribute__((aligned(16)))`
/// starts at any x register, `struct { _Alignas(16) long a; long b; }` at an even one.
fn natural_align(types: &TypeTable, ty: TypeId) -> u32 {
    let (ty, _) = types.unqualified(ty);
    match types.get(ty) {
        CType::Record(rid) => types.record(*rid).body.as_ref().map_or(1, |body| {
            body.fields
                .iter()
                .map(|field| match field.bits {
                    // A bitfield counts its declared type's alignment (gcc 11 and later).
                    Some(_) => field.align.max(types.layout_align_of(field.ty)),
                    None => field.align,
                })
                .max()
                .unwrap_or(1)
        }),
        _ => types.layout_align_of(ty),
    }
}
