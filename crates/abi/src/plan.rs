//! The data a classifier returns: where each piece of each value travels.

use std::fmt;

/// A machine location of one piece of a value.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum Loc {
    /// General-purpose argument/result register number `n` of the ABI's sequence
    /// (x86-64: rdi, rsi, rdx, rcx, r8, r9 for arguments; rax, rdx for results).
    Gpr(u8),
    /// Vector register number `n` (x86-64: xmm0..xmm7).
    Vec(u8),
    /// Byte offset in the outgoing argument area (from the stack pointer at the call).
    Stack(u32),
}

/// How a piece's bytes are interpreted in its register.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum PieceKind {
    /// Integer bytes, extended to the full register as [`Ext`] says.
    Int(Ext),
    /// A `float` in the low 32 bits of a vector register.
    F32,
    /// A `double` (or two packed floats) in the low 64 bits of a vector register.
    F64,
    /// 16 bytes filling a whole vector register (a 128-bit vector type).
    V128,
}

/// How an integer narrower than its register is widened by the caller.
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
    /// Occupies nothing (an empty struct).
    Nothing,
}

/// How the result comes back.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum RetPlan {
    Void,
    /// In result registers.
    Pieces(Vec<Piece>),
    /// The caller passes the address of a buffer of `size` bytes as a hidden first
    /// argument in `pointer` (x86-64: rdi); the callee returns that address (in rax).
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
    /// Vector registers used by arguments: what x86-64 passes in %al to a variadic
    /// function.
    pub vec_regs: u8,
    pub variadic: bool,
}

/// A type the calling convention cannot pass (yet), named as C text.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct AbiError {
    pub message: String,
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
        write!(f, "{kind}@{}", self.offset)?;
        match self.loc {
            Loc::Gpr(n) => write!(f, " gpr{n}"),
            Loc::Vec(n) => write!(f, " vec{n}"),
            Loc::Stack(o) => write!(f, " stack+{o}"),
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
                let reg = match pointer {
                    Loc::Gpr(n) => format!("gpr{n}"),
                    Loc::Vec(n) => format!("vec{n}"),
                    Loc::Stack(o) => format!("stack+{o}"),
                };
                write!(f, "memory {size} bytes, address in {reg}")
            }
            RetPlan::X87 { parts } => {
                write!(f, "x87 st0{}", if *parts == 2 { ", st1" } else { "" })
            }
        }
    }
}

/// One line per argument, then the result, the stack size (with its alignment when over
/// 16) and (for variadic calls) the vector register count: the text `jitffi --plan` prints and golden tests compare.
impl fmt::Display for CallPlan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, arg) in self.args.iter().enumerate() {
            writeln!(f, "arg {}: {arg}", i + 1)?;
        }
        writeln!(f, "result: {}", self.ret)?;
        write!(f, "stack: {} bytes", self.stack_bytes)?;
        if self.stack_align > 16 {
            write!(f, " aligned to {}", self.stack_align)?;
        }
        if self.variadic {
            write!(f, ", vector registers: {}", self.vec_regs)?;
        }
        Ok(())
    }
}
