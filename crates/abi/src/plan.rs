//! The data a classifier returns: where each piece of each value travels.

use jitffi_ctype::{IntType, TypeId, TypeTable};
use std::fmt;

/// A machine location of one piece of a value.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum Loc {
    /// General-purpose argument/result register number `n` of the convention's sequence
    /// (x86-64 System V: rdi, rsi, rdx, rcx, r8, r9 for arguments, rax, rdx for results;
    /// AAPCS64: `xn`, x0-x7 for arguments and results, and `Gpr(8)` = x8, the indirect
    /// result register, which is never an argument; Win64: rcx, rdx, r8, r9 for
    /// arguments, rax for results).
    Gpr(u8),
    /// Vector register number `n` (x86-64: xmm0..xmm7; AAPCS64: v0..v7).
    Vec(u8),
    /// Byte offset in the outgoing argument area (from the stack pointer at the call;
    /// Win64's start at 32, after the shadow space). A piece there takes `size` bytes;
    /// its slot may be larger (8 bytes, except Apple arm64's named arguments).
    Stack(u32),
}

/// How a piece's bytes are interpreted in its register.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum PieceKind {
    /// Integer bytes, extended to the full register as [`Ext`] says.
    Int(Ext),
    /// A `float` in the low 32 bits of a vector register.
    F32,
    /// A `double` (or two packed floats, or a 64-bit vector) in the low 64 bits of a
    /// vector register.
    F64,
    /// 16 bytes filling a whole vector register (a 128-bit vector type; AAPCS64's quad
    /// `long double` in `qn`).
    V128,
}

impl PieceKind {
    /// The piece of a C integer of type `int`: extended as its signedness says when
    /// narrower than 8 bytes (every convention's caller widens the same way, where it
    /// widens at all).
    pub(crate) fn of_int(int: IntType) -> PieceKind {
        PieceKind::Int(match (int.bytes, int.signed) {
            (8, _) => Ext::None,
            (n, true) => Ext::Sign(n),
            (n, false) => Ext::Zero(n),
        })
    }
}

/// How an integer narrower than its register is widened by the caller. A callee must
/// not count on it under AAPCS64, whose callers leave the upper bits unspecified (gcc
/// passes a `signed char` loaded with `ldrb`): it reads the low bytes and narrows.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum Ext {
    /// Already register-sized (8 bytes), or bytes of an aggregate.
    None,
    /// Sign-extend from this many bytes.
    Sign(u8),
    /// Zero-extend from this many bytes.
    Zero(u8),
}

/// One register-sized piece of a value: `size` bytes at byte `offset` of the value.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub struct Piece {
    pub offset: u32,
    pub size: u8,
    pub kind: PieceKind,
    pub loc: Loc,
}

/// How one argument travels.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum ArgPlan {
    /// In registers, or for a scalar that did not fit, one stack slot.
    Pieces(Vec<Piece>),
    /// A copy of the whole value (`size` bytes) in the stack area at `offset`.
    Stack { offset: u32, size: u32 },
    /// By reference: the caller copies the value (`size` bytes aligned to `align`) to
    /// memory of its own and passes the copy's address in `pointer`, a register or a
    /// stack slot (AAPCS64 rule B.4 for composites over 16 bytes; Win64 for aggregates
    /// not of 1, 2, 4 or 8 bytes). The callee may write the copy.
    Indirect { pointer: Loc, size: u32, align: u32 },
    /// Occupies nothing (an empty struct).
    Nothing,
}

/// How the result comes back.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum RetPlan {
    Void,
    /// In result registers.
    Pieces(Vec<Piece>),
    /// The caller passes the address of a buffer of `size` bytes in `pointer`: as a
    /// hidden first argument on x86-64 (rdi, `Gpr(0)`; Win64 rcx), and the callee
    /// returns that address in rax; in AAPCS64's x8 (`Gpr(8)`, not an argument
    /// register), and the callee need not return it (see
    /// [`crate::Convention::returns_result_address`]).
    Memory {
        size: u32,
        pointer: Loc,
    },
    /// On the x87 stack: `long double` in st0, `complex long double` in st0 and st1.
    X87 {
        parts: u8,
    },
}

/// Where every argument and the result of one call travel.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct CallPlan {
    pub args: Vec<ArgPlan>,
    pub ret: RetPlan,
    /// Bytes of outgoing stack arguments (a multiple of 8).
    pub stack_bytes: u32,
    /// The alignment of the stack pointer at the call: 16, or the largest alignment of a
    /// stack argument's type beyond that (gcc places such an argument at an address of
    /// its alignment, and its `va_arg` rounds the address up to it).
    pub stack_align: u32,
    /// Vector registers used by arguments: what x86-64 System V passes in %al to a
    /// variadic function (see [`crate::Variadic::vector_count`]); other conventions
    /// count them too, and pass nothing.
    pub vec_regs: u8,
    pub variadic: bool,
}

/// A type the calling convention cannot pass (yet), named as C text.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct AbiError {
    pub message: String,
}

impl AbiError {
    /// "cannot pass {what} '{type}'": what every classifier says of a value it has no
    /// rule for (`what`: "a value of type", "incomplete", ...).
    pub(crate) fn cannot_pass(types: &TypeTable, ty: TypeId, what: &str) -> AbiError {
        AbiError {
            message: format!("cannot pass {what} '{}'", types.type_name(ty)),
        }
    }
}

impl fmt::Display for AbiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for AbiError {}

impl fmt::Display for Piece {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.kind {
            PieceKind::Int(Ext::None) => format!("i{}", u32::from(self.size) * 8),
            PieceKind::Int(Ext::Sign(n)) => format!("s{}", u32::from(n) * 8),
            PieceKind::Int(Ext::Zero(n)) => format!("u{}", u32::from(n) * 8),
            PieceKind::F32 => "f32".into(),
            PieceKind::F64 => "f64".into(),
            PieceKind::V128 => "v128".into(),
        };
        write!(f, "{kind}@{} {}", self.offset, self.loc)
    }
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loc::Gpr(n) => write!(f, "gpr{n}"),
            Loc::Vec(n) => write!(f, "vec{n}"),
            Loc::Stack(o) => write!(f, "stack+{o}"),
        }
    }
}

fn write_pieces(f: &mut fmt::Formatter<'_>, pieces: &[Piece]) -> fmt::Result {
    for (i, piece) in pieces.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{piece}")?;
    }
    Ok(())
}

impl fmt::Display for ArgPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ArgPlan::Pieces(pieces) => write_pieces(f, pieces),
            ArgPlan::Stack { offset, size } => write!(f, "memory {size} bytes stack+{offset}"),
            ArgPlan::Indirect {
                pointer,
                size,
                align,
            } => write!(
                f,
                "copy of {size} bytes (align {align}), address in {pointer}"
            ),
            ArgPlan::Nothing => f.write_str("nothing"),
        }
    }
}

impl fmt::Display for RetPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RetPlan::Void => f.write_str("void"),
            RetPlan::Pieces(pieces) => write_pieces(f, pieces),
            RetPlan::Memory { size, pointer } => {
                write!(f, "memory {size} bytes, address in {pointer}")
            }
            RetPlan::X87 { parts } => {
                write!(f, "x87 st0{}", if *parts == 2 { ", st1" } else { "" })
            }
        }
    }
}

impl CallPlan {
    /// The plan as text for a plan of `convention`: what `Display` prints, except that
    /// the vector register count of a variadic call appears only where the convention
    /// passes it (x86-64 System V's %al).
    pub fn display(&self, convention: crate::Convention) -> PlanText<'_> {
        PlanText {
            plan: self,
            vector_count: convention.variadic().vector_count,
        }
    }
}

/// [`CallPlan::display`]'s text.
pub struct PlanText<'a> {
    plan: &'a CallPlan,
    vector_count: bool,
}

/// One line per argument, then the result, the stack size (with its alignment when over
/// 16) and (for variadic calls) the vector register count: the text `jitffi --plan`
/// prints and golden tests compare. This is the x86-64 System V text; other conventions
/// print through [`CallPlan::display`].
impl fmt::Display for CallPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.display(crate::Convention::SysV64).fmt(f)
    }
}

impl fmt::Display for PlanText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plan = self.plan;
        for (i, arg) in plan.args.iter().enumerate() {
            writeln!(f, "arg {}: {arg}", i + 1)?;
        }
        writeln!(f, "result: {}", plan.ret)?;
        write!(f, "stack: {} bytes", plan.stack_bytes)?;
        if plan.stack_align > 16 {
            write!(f, " aligned to {}", plan.stack_align)?;
        }
        if plan.variadic && self.vector_count {
            write!(f, ", vector registers: {}", plan.vec_regs)?;
        }
        Ok(())
    }
}
