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
}
