//! The target ABI facts that type layout needs (sizes of the builtin types, signedness of
//! `char`, the bitfield rules to follow). Calling conventions are not here: they belong to
//! the ABI crate.

use crate::types::IntType;

/// A platform ABI whose data layout jitffi knows.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum Target {
    /// x86-64 System V (Linux, BSDs, macOS): LP64, x87 `long double`.
    X86_64SysV,
    /// AArch64 AAPCS64 (Linux): LP64, quad `long double`, unsigned `char`.
    Aarch64,
}

impl Target {
    /// The target this library was compiled for.
    pub fn host() -> Target {
        if cfg!(target_arch = "aarch64") {
            Target::Aarch64
        } else {
            Target::X86_64SysV
        }
    }

    pub fn pointer_bytes(self) -> u32 {
        8
    }

    /// `long` and `unsigned long` are 64-bit on both LP64 targets.
    pub fn long_type(self, signed: bool) -> IntType {
        IntType { bytes: 8, signed }
    }

    /// Plain `char`: signed on x86-64, unsigned on AArch64 (AAPCS64 10.1.3).
    pub fn char_type(self) -> IntType {
        match self {
            Target::X86_64SysV => IntType::I8,
            Target::Aarch64 => IntType::U8,
        }
    }

    /// `wchar_t`: a signed 32-bit int on x86-64 SysV, unsigned on AArch64 Linux.
    pub fn wchar_type(self) -> IntType {
        match self {
            Target::X86_64SysV => IntType::I32,
            Target::Aarch64 => IntType::U32,
        }
    }

    /// Size and alignment of `long double`: 16/16 on both (x87 padded, or IEEE quad).
    pub fn long_double_layout(self) -> (u64, u32) {
        (16, 16)
    }

    /// Alignment of a `vector_size(bytes)` type. x86-64: its size (the psABI aligns
    /// `__m256` to 32 and `__m512` to 64; gcc does so for every size). AArch64: its size,
    /// but at most 16 bytes, gcc's `aarch64_vector_alignment` (AAPCS64 §5.1.4 "Short
    /// Vectors" defines only 8- and 16-byte ones, aligned to their size): `double
    /// __attribute__((vector_size(64)))` is 64 bytes aligned to 16.
    pub fn vector_align(self, bytes: u32) -> u32 {
        if self == Target::Aarch64 {
            bytes.min(16)
        } else {
            bytes
        }
    }

    /// Whether an unnamed bitfield (zero-width or not) gives its record its type's
    /// alignment, as a named one does. AArch64: yes, AAPCS64 §10.1.8 "Bit-fields": "The
    /// container type contributes to the alignment of the containing aggregate in the
    /// same way a plain (not bit-field) member of that type would, without exception for
    /// zero-sized or anonymous bit-fields" (gcc's `TARGET_ALIGN_ANON_BITFIELD`;
    /// `struct { char c; int : 0; }` is 4 bytes aligned to 4). x86-64: no, psABI 3.1.2:
    /// "unnamed bit-fields' types do not affect the alignment of a structure or union"
    /// (the same struct is 4 bytes aligned to 1).
    pub fn unnamed_bitfields_align_record(self) -> bool {
        self == Target::Aarch64
    }
}
