//! The Windows x64 calling convention (Microsoft Learn, "x64 calling convention":
//! "Parameter passing", "Varargs", "Return values"). A pure classifier: jitffi generates
//! no Win64 code.
//!
//! Argument N (counting a hidden result pointer) takes slot N: slots 0-3 are the
//! register pairs rcx/xmm0, rdx/xmm1, r8/xmm2, r9/xmm3 (`Gpr(N)` or `Vec(N)`: an integer
//! takes the integer register of its slot, a float the vector one, and the other stays
//! unused); later slots are 8-byte stack slots above the 32-byte shadow space the caller
//! always reserves for the four registers.
//!
//! ```text
//!   outgoing stack area at the call (rsp 16-aligned)
//!   rsp+0    shadow space: home of rcx, rdx, r8, r9 (the callee's to use)
//!   rsp+32   slot 4 (the fifth argument)
//!   rsp+40   slot 5 ...
//! ```

use crate::plan::{AbiError, ArgPlan, CallPlan, Ext, Loc, Piece, PieceKind, RetPlan};
use jitffi_ctype::{CType, FloatKind, FuncType, IntType, TypeId, TypeTable};

/// Register slots: rcx/xmm0, rdx/xmm1, r8/xmm2, r9/xmm3.
pub const SLOTS: u8 = 4;
/// The caller's home area for the four register arguments ("Parameter passing").
pub const SHADOW_SPACE: u32 = 32;

/// How a value is passed.
enum Shape {
    /// An integer, pointer, or aggregate of 1, 2, 4 or 8 bytes: an integer register.
    Int { kind: PieceKind, size: u8 },
    /// `float` or `double` (`long double` is `double`): a vector register.
    Float { kind: PieceKind, size: u8 },
    /// A 16-byte vector (`__m128`): by reference as an argument, xmm0 as a result.
    Vector128,
    /// Any other aggregate: "Structs or unions of other sizes are passed as a pointer to
    /// memory allocated by the caller".
    Reference { size: u32, align: u32 },
}

/// The plan of a call of `func` whose variadic part holds values of the (promoted)
/// types `varargs`.
pub(crate) fn classify(
    types: &TypeTable,
    func: &FuncType,
    varargs: &[TypeId],
) -> Result<CallPlan, AbiError> {
    let mut slot = 0u8;
    let (base, _) = types.unqualified(func.ret);
    let ret = if matches!(types.get(base), CType::Void) {
        RetPlan::Void
    } else {
        match shape(types, func.ret)? {
            Shape::Int { kind, size } => one_piece(kind, size, Loc::Gpr(0)),
            Shape::Float { kind, size } => one_piece(kind, size, Loc::Vec(0)),
            Shape::Vector128 => one_piece(PieceKind::V128, 16, Loc::Vec(0)),
            // "Return values": otherwise the caller passes a buffer's address as the
            // first argument (rcx), and the callee returns it in rax.
            Shape::Reference { size, .. } => {
                slot = 1;
                RetPlan::Memory {
                    size,
                    pointer: Loc::Gpr(0),
                }
            }
        }
    };
    let mut vec_regs = 0;
    let mut args = Vec::with_capacity(func.params.len() + varargs.len());
    let all = func.params.iter().map(|&t| (t, false));
    for (ty, variadic) in all.chain(varargs.iter().map(|&t| (t, true))) {
        let here = slot;
        slot += 1;
        let loc_int = if here < SLOTS {
            Loc::Gpr(here)
        } else {
            Loc::Stack(SHADOW_SPACE + 8 * u32::from(here - SLOTS))
        };
        let piece = |kind, size, loc| Piece {
            offset: 0,
            size,
            kind,
            loc,
        };
        let plan = match shape(types, ty)? {
            Shape::Int { kind, size } => ArgPlan::Pieces(vec![piece(kind, size, loc_int)]),
            Shape::Float { kind, size } if here < SLOTS => {
                vec_regs += 1;
                let mut pieces = vec![piece(kind, size, Loc::Vec(here))];
                // "Varargs": a floating-point value in the variadic part is also in the
                // slot's integer register.
                if variadic {
                    pieces.push(piece(PieceKind::Int(Ext::None), size, Loc::Gpr(here)));
                }
                ArgPlan::Pieces(pieces)
            }
            Shape::Float { kind, size } => ArgPlan::Pieces(vec![piece(kind, size, loc_int)]),
            Shape::Vector128 => ArgPlan::Indirect {
                pointer: loc_int,
                size: 16,
                align: 16,
            },
            Shape::Reference { size, align } => ArgPlan::Indirect {
                pointer: loc_int,
                size,
                align,
            },
        };
        args.push(plan);
    }
    Ok(CallPlan {
        args,
        ret,
        stack_bytes: SHADOW_SPACE + 8 * u32::from(slot.saturating_sub(SLOTS)),
        stack_align: 16,
        vec_regs,
        variadic: func.variadic,
    })
}

fn one_piece(kind: PieceKind, size: u8, loc: Loc) -> RetPlan {
    RetPlan::Pieces(vec![Piece {
        offset: 0,
        size,
        kind,
        loc,
    }])
}

/// The shape of a value of type `ty`.
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
        CType::Float(FloatKind::Float) => Shape::Float {
            kind: PieceKind::F32,
            size: 4,
        },
        // `long double` is `double` in the Microsoft data model.
        CType::Float(_) => Shape::Float {
            kind: PieceKind::F64,
            size: 8,
        },
        // Microsoft's convention has no rule for a 128-bit integer (MSVC has none; gcc
        // and clang disagree on its result register): refused rather than guessed.
        CType::WideInt { .. } => return Err(cant("a value of type")),
        CType::Func(_) => return Err(cant("a function as a value of type")),
        CType::Vector { bytes: 16, .. } => Shape::Vector128,
        _ => {
            let size = types.size_of(ty).ok_or_else(|| cant("incomplete"))?;
            match size {
                // "Structs and unions of size 8, 16, 32, or 64 bits, and __m64 types,
                // are passed as if they were integers of the same size."
                1 | 2 | 4 | 8 => Shape::Int {
                    kind: PieceKind::Int(Ext::None),
                    size: size as u8,
                },
                // An empty struct is not C (MSVC rejects it): no rule to follow.
                0 => return Err(cant("an empty aggregate")),
                _ => Shape::Reference {
                    size: size as u32,
                    align: types.align_of(ty),
                },
            }
        }
    })
}
