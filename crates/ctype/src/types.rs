//! The C type model: what a [`TypeId`] stands for.
//!
//! Types are interned in a [`crate::TypeTable`]: two structurally equal types (pointers,
//! arrays, functions, qualified types, scalars) have the same id. Records (struct/union)
//! and enums are nominal: each definition is a type of its own, completed in place when a
//! forward declaration gets its body.

use std::fmt;

/// Index of a type in its [`crate::TypeTable`]. Equal ids mean equal types.
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypeId(pub u32);

impl TypeId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

impl fmt::Debug for TypeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Index of a struct or union definition in the table's record list.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub struct RecordId(pub u32);

/// Index of an enum definition in the table's enum list.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub struct EnumId(pub u32);

/// An integer type other than `_Bool` (C11 6.2.5p4-6): its width and signedness.
/// Spelling (`long` vs `long long`) is not part of the type: LuaJIT prints `long` as
/// `int64_t` on LP64 targets, and so do we.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub struct IntType {
    /// Width in bytes: 1, 2, 4 or 8.
    pub bytes: u8,
    pub signed: bool,
}

impl IntType {
    pub const I8: IntType = IntType {
        bytes: 1,
        signed: true,
    };
    pub const U8: IntType = IntType {
        bytes: 1,
        signed: false,
    };
    pub const I16: IntType = IntType {
        bytes: 2,
        signed: true,
    };
    pub const U16: IntType = IntType {
        bytes: 2,
        signed: false,
    };
    pub const I32: IntType = IntType {
        bytes: 4,
        signed: true,
    };
    pub const U32: IntType = IntType {
        bytes: 4,
        signed: false,
    };
    pub const I64: IntType = IntType {
        bytes: 8,
        signed: true,
    };
    pub const U64: IntType = IntType {
        bytes: 8,
        signed: false,
    };

    pub fn bits(self) -> u32 {
        u32::from(self.bytes) * 8
    }

    /// Smallest and largest value, as i128 so that both signednesses fit.
    pub fn range(self) -> (i128, i128) {
        let bits = self.bits();
        if self.signed {
            (-(1i128 << (bits - 1)), (1i128 << (bits - 1)) - 1)
        } else {
            (0, (1i128 << bits) - 1)
        }
    }
}

/// A real floating type (C11 6.2.5p10).
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum FloatKind {
    Float,
    Double,
    /// x87 80-bit extended on x86-64 (16 bytes of storage), quad on AArch64.
    LongDouble,
}

/// Type qualifiers (C11 6.7.3). `restrict` is accepted and dropped, as LuaJIT does.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, Default)]
pub struct Quals {
    pub is_const: bool,
    pub is_volatile: bool,
}

impl Quals {
    pub const NONE: Quals = Quals {
        is_const: false,
        is_volatile: false,
    };
    pub const CONST: Quals = Quals {
        is_const: true,
        is_volatile: false,
    };

    pub fn is_empty(self) -> bool {
        !self.is_const && !self.is_volatile
    }

    pub fn union(self, other: Quals) -> Quals {
        Quals {
            is_const: self.is_const || other.is_const,
            is_volatile: self.is_volatile || other.is_volatile,
        }
    }
}

/// Element count of an array type (C11 6.7.6.2).
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum ArrayLen {
    /// `T[n]`.
    Fixed(u64),
    /// `T[]`: a flexible array member, or an array of unknown size; size 0.
    Flexible,
    /// `T[?]`: LuaJIT's variable-length array, sized when a cdata is created.
    Variable,
}

/// A calling convention named in a declaration. All are the same on x86-64 and AArch64;
/// the type keeps the name so that 32-bit x86 could tell them apart.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug, Default)]
pub enum CallConv {
    #[default]
    Cdecl,
    Stdcall,
    Fastcall,
    Thiscall,
}

/// A function type (C11 6.7.6.3). `int f()` is taken as `int f(void)`, as LuaJIT does.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct FuncType {
    pub ret: TypeId,
    pub params: Box<[TypeId]>,
    pub variadic: bool,
    pub conv: CallConv,
}

/// What a [`TypeId`] is.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub enum CType {
    Void,
    /// `_Bool` / `bool`: one byte.
    Bool,
    /// `_Bool int` (LuaJIT's, not C's): a boolean in the four bytes of an `unsigned
    /// int`, read as true when they are not all zero, written as 0 or 1.
    BoolInt,
    Int(IntType),
    /// An integer wider than 64 bits: gcc's `mode(TI)` (16 bytes) and LuaJIT's
    /// `mode(OI)` (32 bytes), printed `int128_t` / `uint256_t` as LuaJIT prints them.
    /// Storage only: as in LuaJIT, no Lua value converts to or from it; it has a size
    /// and an alignment (16) for layout and allocation.
    WideInt {
        bytes: u8,
        signed: bool,
    },
    Float(FloatKind),
    /// `complex float` / `complex double` (C11 6.2.5p11): two floats of the kind.
    Complex(FloatKind),
    /// GCC's `__attribute__((vector_size(bytes)))` over a scalar element type.
    Vector {
        elem: TypeId,
        bytes: u32,
    },
    Pointer(TypeId),
    /// C++ reference `T &`, which LuaJIT's parser accepts.
    Ref(TypeId),
    Array {
        elem: TypeId,
        len: ArrayLen,
    },
    Record(RecordId),
    Enum(EnumId),
    Func(FuncType),
    /// A qualified version of `base`, which is never itself `Qualified`; `quals` is
    /// never empty. Arrays are never qualified: qualifiers apply to their elements.
    Qualified {
        base: TypeId,
        quals: Quals,
    },
    /// `base` with its alignment set by an attribute on a typedef or declaration
    /// (`typedef int aint __attribute__((aligned(16)))`). GCC lets a typedef lower
    /// alignment too, so this replaces rather than raises it.
    Aligned {
        base: TypeId,
        align: u32,
    },
}

/// `struct` or `union` (C11 6.7.2.1).
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum RecordKind {
    Struct,
    Union,
}

impl RecordKind {
    pub fn keyword(self) -> &'static str {
        match self {
            RecordKind::Struct => "struct",
            RecordKind::Union => "union",
        }
    }
}

/// A struct or union: its tag, and its body once defined.
#[derive(Clone, PartialEq, Debug)]
pub struct Record {
    pub kind: RecordKind,
    pub tag: Option<Box<str>>,
    /// `None` while the record is only forward-declared (incomplete).
    pub body: Option<RecordBody>,
}

/// The laid-out members of a complete record.
#[derive(Clone, PartialEq, Debug)]
pub struct RecordBody {
    pub fields: Vec<Field>,
    /// Named constants in the record's namespace, as LuaJIT has them: `static const`
    /// members and the constants of an enum member without a declarator
    /// (`struct s { enum { A, B }; int x; }`). They take no room.
    pub constants: Vec<RecordConst>,
    /// Size in bytes, a multiple of `align`. For a record ending in a `[?]` array this is
    /// the size with zero elements; see [`crate::TypeTable::size_of_vla`].
    pub size: u64,
    /// The alignment layout uses (gcc's `TYPE_ALIGN`); see
    /// [`crate::TypeTable::layout_align_of`].
    pub align: u32,
    /// An `aligned` attribute on the record, on a member, or in a member's type took part
    /// (gcc's `TYPE_USER_ALIGN`): `_Alignof` is then `align` even above 16.
    pub user_aligned: bool,
}

/// A named integer constant of a record (see [`RecordBody::constants`]).
#[derive(Clone, PartialEq, Debug)]
pub struct RecordConst {
    pub name: Box<str>,
    /// An integer type (or `bool`), unqualified: the declared type of a `static const`,
    /// the integer type of an enum's constants.
    pub ty: TypeId,
    /// The value, converted to `ty`.
    pub value: i64,
}

/// A member of a record, as laid out.
#[derive(Clone, PartialEq, Debug)]
pub struct Field {
    /// `None` for an anonymous struct/union member (whose members are reachable through
    /// the parent) and for an unnamed bitfield.
    pub name: Option<Box<str>>,
    pub ty: TypeId,
    /// Byte offset of the member; for a bitfield, of its storage unit.
    pub offset: u64,
    pub bits: Option<BitField>,
    /// The member's alignment as placed, in bytes (gcc's `DECL_ALIGN`): its type's,
    /// raised by its own `aligned(n)`/`_Alignas`, lowered by `packed` or `#pragma pack`;
    /// for a bitfield, what layout placed its bits at. AAPCS64 reads it: a composite's
    /// "natural alignment" is the largest of its members' (AAPCS64 §5.9 Composite Types).
    pub align: u32,
}

/// Where a bitfield's bits lie within its storage unit: the unit is `unit_bytes` wide at
/// the field's `offset`, and the field is bits `pos .. pos + width` of that unit counted
/// from the least significant bit (little-endian targets). This is the triple LuaJIT's
/// `ffi.offsetof` returns: (offset, pos, width).
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct BitField {
    pub pos: u32,
    pub width: u32,
    /// Width of the storage unit to load and store: 1, 2, 4, 8 or, for a packed field
    /// that straddles its type's natural unit, 16.
    pub unit_bytes: u8,
}

impl Field {
    /// The bit offset of the field's first bit from the start of the record.
    pub fn bit_offset(&self) -> u64 {
        self.offset * 8 + self.bits.map_or(0, |b| u64::from(b.pos))
    }
}

/// An enum: its tag, its underlying integer type once defined, and its constants.
#[derive(Clone, PartialEq, Debug)]
pub struct EnumDef {
    pub tag: Option<Box<str>>,
    /// `None` while only forward-declared.
    pub int_type: Option<IntType>,
    /// The constants in declaration order; each value is to be read in `int_type`.
    pub constants: Vec<(Box<str>, i64)>,
}

/// What an ordinary identifier names (C11 6.2.3: the namespace of ordinary identifiers).
#[derive(Clone, PartialEq, Debug)]
pub enum Symbol {
    Typedef(TypeId),
    /// An enumeration constant: its enum type and value.
    EnumConst {
        ty: TypeId,
        value: i64,
    },
    /// `static const int K = 42;` or `#define K 42`: a named integer constant of `ty`.
    Const {
        ty: TypeId,
        value: i64,
    },
    /// A function declaration; `asm_name` is the symbol of `__asm__("name")`, if given.
    Func {
        ty: TypeId,
        asm_name: Option<Box<str>>,
    },
    /// An `extern` variable.
    Var {
        ty: TypeId,
        asm_name: Option<Box<str>>,
    },
}

impl Symbol {
    pub fn type_id(&self) -> TypeId {
        match self {
            Symbol::Typedef(ty)
            | Symbol::EnumConst { ty, .. }
            | Symbol::Const { ty, .. }
            | Symbol::Func { ty, .. }
            | Symbol::Var { ty, .. } => *ty,
        }
    }
}
