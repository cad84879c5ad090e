//! The x86-64 System V calling convention (System V AMD64 psABI 1.0, §3.2.3
//! "Parameter Passing"), for calls and callbacks.
//!
//! Each argument is classified eightbyte by eightbyte ([`Class`], §3.2.3 "Classification");
//! the classes decide the registers (rdi, rsi, rdx, rcx, r8, r9 and xmm0–xmm7 for
//! arguments; rax, rdx, xmm0, xmm1 and the x87 stack for results) or a copy on the stack.
//!
//! ```text
//!   outgoing stack area at the call (rsp 16-aligned)
//!   rsp+0    first stack argument, in 8-byte slots; a value aligned beyond 8 starts
//!            at a multiple of its alignment (after a padding slot if needed)
//!   rsp+8    ...
//! ```

use crate::plan::{AbiError, ArgPlan, CallPlan, Ext, Loc, Piece, PieceKind, RetPlan};
use jitffi_ctype::{ArrayLen, CType, FloatKind, FuncType, IntType, TypeId, TypeTable};

/// Integer argument registers: rdi, rsi, rdx, rcx, r8, r9 (§3.2.3, "Parameter Passing").
pub const GPR_ARGS: u8 = 6;
/// Vector argument registers: xmm0–xmm7.
pub const VEC_ARGS: u8 = 8;
/// Integer result registers: rax, rdx.
pub const GPR_RESULTS: u8 = 2;
/// Vector result registers: xmm0, xmm1.
pub const VEC_RESULTS: u8 = 2;
/// Aggregates larger than this are passed in memory (§3.2.3, rule 1 of "Classification").
const MAX_REGISTER_AGGREGATE: u64 = 16;

/// The class of one eightbyte (§3.2.3, "Classification").
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum Class {
    NoClass,
    Integer,
    Sse,
    SseUp,
    X87,
    X87Up,
    ComplexX87,
    Memory,
}

impl Class {
    /// Rule 4 of "Classification": how the classes of two fields sharing an eightbyte
    /// merge.
    fn merge(self, other: Class) -> Class {
        use Class::*;
        match (self, other) {
            (a, b) if a == b => a,
            (NoClass, x) | (x, NoClass) => x,
            (Memory, _) | (_, Memory) => Memory,
            (Integer, _) | (_, Integer) => Integer,
            (X87 | X87Up | ComplexX87, _) | (_, X87 | X87Up | ComplexX87) => Memory,
            _ => Sse,
        }
    }
}

/// How a value is passed, before registers are assigned.
enum Shape {
    /// Nothing to pass (an empty struct).
    Empty,
    /// Eightbytes in registers, each with its piece kind and size; `size` and `align`
    /// are the whole value's, for when it goes to the stack instead.
    Regs {
        eightbytes: Vec<(Class, PieceKind, u8)>,
        size: u32,
        align: u32,
    },
    /// In memory: `size` bytes aligned to `align` on the stack.
    Memory { size: u32, align: u32 },
    /// `long double` (parts = 1) or `complex long double` (2): memory as an argument,
    /// the x87 stack as a result.
    X87 { size: u32, align: u32, parts: u8 },
}

/// Where the next argument goes.
struct Cursor {
    gpr: u8,
    vec: u8,
    stack: u32,
    /// The largest alignment of a stack argument, at least 16.
    stack_align: u32,
}

/// The plan of a call of `func` whose variadic part (if any) holds values of the types
/// `varargs`, already promoted by C's default argument promotions.
pub(crate) fn classify(
    types: &TypeTable,
    func: &FuncType,
    varargs: &[TypeId],
) -> Result<CallPlan, AbiError> {
    let mut at = Cursor {
        gpr: 0,
        vec: 0,
        stack: 0,
        stack_align: 16,
    };
    let ret = match shape(types, func.ret, true)? {
        Shape::Empty => RetPlan::Void,
        Shape::Regs { eightbytes, .. } => {
            let (mut gpr, mut vec) = (0u8, 0u8);
            let pieces = eightbytes
                .iter()
                .enumerate()
                // The upper half of a vector register (SSEUP) rides with the V128 piece
                // before it (§3.2.3 "Returning of Values", class SSEUP).
                .filter(|(_, &(class, _, _))| class != Class::SseUp)
                .map(|(i, &(class, kind, size))| {
                    let loc = match class {
                        Class::Integer => {
                            gpr += 1;
                            Loc::Gpr(gpr - 1)
                        }
                        _ => {
                            vec += 1;
                            Loc::Vec(vec - 1)
                        }
                    };
                    let offset = 8 * i as u32;
                    Piece {
                        offset,
                        size,
                        kind,
                        loc,
                    }
                })
                .collect();
            debug_assert!(gpr <= GPR_RESULTS && vec <= VEC_RESULTS);
            RetPlan::Pieces(pieces)
        }
        // §3.2.3 "Returning of Values", MEMORY: the caller's buffer address goes in rdi
        // as if it were the first argument, and comes back in rax.
        Shape::Memory { size, .. } => {
            at.gpr = 1;
            RetPlan::Memory {
                size,
                pointer: Loc::Gpr(0),
            }
        }
        Shape::X87 { parts, .. } => RetPlan::X87 { parts },
    };
    let mut args = Vec::with_capacity(func.params.len() + varargs.len());
    for &ty in func.params.iter().chain(varargs) {
        let plan = match shape(types, ty, false)? {
            Shape::Empty => ArgPlan::Nothing,
            Shape::Regs {
                eightbytes,
                size,
                align,
            } => assign(&mut at, &eightbytes, size, align),
            // Memory-class values and x87 values are copied onto the stack (§3.2.3,
            // "Parameter Passing": MEMORY, X87, X87UP and COMPLEX_X87 classes).
            Shape::Memory { size, align } | Shape::X87 { size, align, .. } => {
                stack_copy(&mut at, size, align)
            }
        };
        args.push(plan);
    }
    Ok(CallPlan {
        args,
        ret,
        stack_bytes: at.stack.next_multiple_of(8),
        stack_align: at.stack_align,
        vec_regs: at.vec,
        variadic: func.variadic,
    })
}

/// Assigns registers to the eightbytes of one argument of `size` bytes aligned to
/// `align`, or the stack when too few remain for all of them (§3.2.3 "Passing": "If there
/// are no registers available for any eightbyte of an argument, the whole argument is
/// passed on the stack"; the registers it would have used stay free for later arguments).
fn assign(
    at: &mut Cursor,
    eightbytes: &[(Class, PieceKind, u8)],
    size: u32,
    align: u32,
) -> ArgPlan {
    let gprs = eightbytes.iter().filter(|e| e.0 == Class::Integer).count() as u8;
    let vecs = eightbytes.iter().filter(|e| e.0 == Class::Sse).count() as u8;
    if at.gpr + gprs > GPR_ARGS || at.vec + vecs > VEC_ARGS {
        if size <= 8 {
            // A scalar (or an aggregate of one eightbyte) takes one 8-byte slot.
            let (_, kind, piece_size) = eightbytes[0];
            let offset = at.stack;
            at.stack += 8;
            return ArgPlan::Pieces(vec![Piece {
                offset: 0,
                size: piece_size,
                kind,
                loc: Loc::Stack(offset),
            }]);
        }
        // Bigger values are copied whole, padding eightbytes (NO_CLASS, which took no
        // register) included: `struct { _Alignas(16) int x; }` is 16 bytes on the stack.
        return stack_copy(at, size, align);
    }
    let mut pieces = Vec::with_capacity(eightbytes.len());
    for (i, &(class, kind, size)) in eightbytes.iter().enumerate() {
        let loc = match class {
            Class::Integer => {
                at.gpr += 1;
                Loc::Gpr(at.gpr - 1)
            }
            Class::Sse => {
                at.vec += 1;
                Loc::Vec(at.vec - 1)
            }
            // The upper half of the register the previous SSE eightbyte opened: the
            // piece before it already covers it as a V128.
            _ => continue,
        };
        pieces.push(Piece {
            offset: 8 * i as u32,
            size,
            kind,
            loc,
        });
    }
    ArgPlan::Pieces(pieces)
}

/// Places a copy of `size` bytes in the stack area, in 8-byte slots, at an offset that is
/// a multiple of the type's alignment (§3.2.3 "Passing": "If the class is MEMORY, align
/// and pass the argument on the stack"). gcc aligns to the type's full alignment (16 for
/// `long double` and `_Alignas(16)`, 32 or 64 for over-aligned records), and beyond 16
/// it also aligns the stack pointer at the call to it, so that the address is aligned:
/// its `va_arg` rounds the address of such an argument up to its alignment.
fn stack_copy(at: &mut Cursor, size: u32, align: u32) -> ArgPlan {
    let align = align.max(8);
    at.stack_align = at.stack_align.max(align);
    let offset = at.stack.next_multiple_of(align);
    at.stack = offset + size.next_multiple_of(8);
    ArgPlan::Stack { offset, size }
}

/// The shape of a value of type `ty` as an argument or (`is_result`) a result.
fn shape(types: &TypeTable, ty: TypeId, is_result: bool) -> Result<Shape, AbiError> {
    let (base, _) = types.unqualified(ty);
    let cant = |what: &str| AbiError::cannot_pass(types, ty, what);
    let scalar = |kind: PieceKind, size: u8| {
        Ok(Shape::Regs {
            eightbytes: vec![(class_of(kind), kind, size)],
            size: u32::from(size),
            align: u32::from(size),
        })
    };
    match types.get(base) {
        CType::Void if is_result => Ok(Shape::Empty),
        CType::Void => Err(cant("a value of type")),
        CType::Bool => scalar(PieceKind::Int(Ext::Zero(1)), 1),
        CType::BoolInt => scalar(PieceKind::of_int(IntType::U32), 4),
        CType::Int(int) => scalar(PieceKind::of_int(*int), int.bytes),
        CType::Enum(eid) => match types.enum_def(*eid).int_type {
            Some(int) => scalar(PieceKind::of_int(int), int.bytes),
            None => Err(cant("incomplete")),
        },
        CType::Pointer(_) | CType::Ref(_) => scalar(PieceKind::Int(Ext::None), 8),
        CType::Float(FloatKind::Float) => scalar(PieceKind::F32, 4),
        CType::Float(FloatKind::Double) => scalar(PieceKind::F64, 8),
        CType::Float(FloatKind::LongDouble) => Ok(Shape::X87 {
            size: 16,
            align: 16,
            parts: 1,
        }),
        CType::Complex(FloatKind::LongDouble) => Ok(Shape::X87 {
            size: 32,
            align: 16,
            parts: 2,
        }),
        CType::Func(_) => Err(cant("a function as a value of type")),
        CType::Array { .. } if !is_result => {
            // An array parameter is a pointer (C11 6.7.6.3p7).
            scalar(PieceKind::Int(Ext::None), 8)
        }
        _ => aggregate_shape(types, ty).ok_or_else(|| cant("incomplete")),
    }
}

fn class_of(kind: PieceKind) -> Class {
    match kind {
        PieceKind::Int(_) => Class::Integer,
        _ => Class::Sse,
    }
}

/// Classifies a struct, union, array, complex number or vector (§3.2.3,
/// "Classification", rules for aggregates and the post merger cleanup); `None` if its
/// size is unknown.
fn aggregate_shape(types: &TypeTable, ty: TypeId) -> Option<Shape> {
    let size = types.size_of(ty)?;
    let align = types.align_of(ty);
    let memory = Shape::Memory {
        size: size as u32,
        align,
    };
    if size == 0 {
        return Some(Shape::Empty);
    }
    if size > MAX_REGISTER_AGGREGATE {
        return Some(memory);
    }
    let count = size.div_ceil(8) as usize;
    let mut classes = [Class::NoClass; 2];
    if !classify_at(types, ty, 0, &mut classes[..count]) {
        return Some(memory);
    }
    let classes = &mut classes[..count];
    // Post merger cleanup (rule 5).
    if classes.contains(&Class::Memory) {
        return Some(memory);
    }
    // An aggregate that is exactly one long double (X87 then X87UP) travels as one:
    // memory as an argument, st0 as a result (§3.2.3 "Returning of Values", class X87).
    if classes == [Class::X87, Class::X87Up] {
        return Some(Shape::X87 {
            size: size as u32,
            align,
            parts: 1,
        });
    }
    if classes
        .iter()
        .any(|c| matches!(c, Class::X87 | Class::X87Up | Class::ComplexX87))
    {
        return Some(memory);
    }
    if classes[0] == Class::SseUp {
        classes[0] = Class::Sse;
    }
    let mut eightbytes = Vec::with_capacity(count);
    for (i, &class) in classes.iter().enumerate() {
        let bytes = (size - 8 * i as u64).min(8) as u8;
        let entry = match class {
            Class::Integer => (class, PieceKind::Int(Ext::None), bytes),
            Class::Sse if classes.get(i + 1) == Some(&Class::SseUp) => (class, PieceKind::V128, 16),
            Class::Sse if bytes <= 4 => (class, PieceKind::F32, bytes),
            Class::Sse => (class, PieceKind::F64, bytes),
            Class::SseUp => (class, PieceKind::V128, 0),
            // Padding only: nothing to pass for this eightbyte.
            _ => (Class::NoClass, PieceKind::Int(Ext::None), 0),
        };
        eightbytes.push(entry);
    }
    eightbytes.retain(|e| e.0 != Class::NoClass);
    Some(Shape::Regs {
        eightbytes,
        size: size as u32,
        align,
    })
}

/// Merges the classes of the value of type `ty` at byte `offset` into `classes` (one per
/// eightbyte of the outermost aggregate); false if the value is unaligned, which makes
/// the whole aggregate MEMORY (rule 3 of "Classification", as gcc applies it).
fn classify_at(types: &TypeTable, ty: TypeId, offset: u64, classes: &mut [Class]) -> bool {
    let (base, _) = types.unqualified(ty);
    let Some(size) = types.size_of(base) else {
        return true;
    };
    let align = u64::from(types.align_of(base));
    fn put_in(classes: &mut [Class], offset: u64, class: Class) {
        if let Some(slot) = classes.get_mut((offset / 8) as usize) {
            *slot = slot.merge(class);
        }
    }
    // A member placed below its type's alignment (a packed record) makes the whole
    // aggregate MEMORY, whatever its type.
    if offset & (align - 1) != 0 {
        return false;
    }
    match types.get(base) {
        CType::Bool
        | CType::BoolInt
        | CType::Int(_)
        | CType::Enum(_)
        | CType::Pointer(_)
        | CType::Ref(_) => {
            put_in(classes, offset, Class::Integer);
        }
        CType::Float(FloatKind::LongDouble) => {
            put_in(classes, offset, Class::X87);
            put_in(classes, offset + 8, Class::X87Up);
        }
        CType::Float(_) => put_in(classes, offset, Class::Sse),
        CType::Complex(FloatKind::LongDouble) => put_in(classes, offset, Class::ComplexX87),
        CType::Complex(_) => {
            let part = size / 2;
            put_in(classes, offset, Class::Sse);
            put_in(classes, offset + part, Class::Sse);
        }
        CType::Vector { bytes, .. } => match bytes {
            16 => {
                put_in(classes, offset, Class::Sse);
                put_in(classes, offset + 8, Class::SseUp);
            }
            1..=8 => put_in(classes, offset, Class::Sse),
            _ => put_in(classes, offset, Class::Memory),
        },
        // __int128 is two INTEGER eightbytes (psABI §3.2.3); wider ones are MEMORY.
        CType::WideInt { bytes: 16, .. } => {
            put_in(classes, offset, Class::Integer);
            put_in(classes, offset + 8, Class::Integer);
        }
        CType::Array { elem, len } => {
            let ArrayLen::Fixed(n) = len else {
                return true;
            };
            let esize = types.size_of(*elem).unwrap_or(0);
            for i in 0..*n {
                if !classify_at(types, *elem, offset + i * esize, classes) {
                    return false;
                }
            }
        }
        CType::Record(rid) => {
            let Some(body) = &types.record(*rid).body else {
                return true;
            };
            for field in &body.fields {
                match field.bits {
                    Some(bits) if bits.width == 0 => {}
                    Some(bits) => {
                        let first = (offset + field.offset) * 8 + u64::from(bits.pos);
                        let last = first + u64::from(bits.width) - 1;
                        for byte in (first / 64..=last / 64).map(|e| e * 8) {
                            put_in(classes, byte, Class::Integer);
                        }
                    }
                    None => {
                        if !classify_at(types, field.ty, offset + field.offset, classes) {
                            return false;
                        }
                    }
                }
            }
        }
        _ => put_in(classes, offset, Class::Memory),
    }
    true
}
