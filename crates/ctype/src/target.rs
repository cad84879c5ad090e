//! The target ABI facts that type layout needs — the data model: sizes of the builtin
//! types, signedness of `char`, `wchar_t`, `long double`, the largest alignment.
//! Calling conventions are not here: they belong to the ABI crate, which also refuses to
//! build for a target it has no convention for.

use crate::types::IntType;

/// A platform ABI whose data layout jitffi knows.
///
/// | target        | `long` | `char`   | `wchar_t` | `long double`        |
/// |---------------|--------|----------|-----------|----------------------|
/// | `X86_64SysV`  | 8      | signed   | `int32`   | x87, 16 bytes/16     |
/// | `Aarch64`     | 8      | unsigned | `uint32`  | IEEE quad, 16/16     |
/// | `AppleArm64`  | 8      | signed   | `int32`   | = `double`, 8/8      |
/// | `Win64`       | 4      | signed   | `uint16`  | = `double`, 8/8      |
///
/// Only the first two have code generation; the Apple and Windows models exist for
/// their (pure) classifiers in the ABI crate.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum Target {
    /// x86-64 System V (Linux, BSDs): LP64, x87 `long double`.
    X86_64SysV,
    /// AArch64 AAPCS64 as Linux has it: LP64, quad `long double`, unsigned `char`
    /// (AAPCS64 §10.1 "Arm C and C++ language mappings", Table 3).
    Aarch64,
    /// Apple arm64 (macOS, iOS): LP64 with signed `char` and `long double` = `double`
    /// (Apple's "Writing ARM64 code for Apple platforms").
    AppleArm64,
    /// Windows x64: LLP64 (`long` is 4 bytes), `long double` = `double`, `wchar_t` an
    /// unsigned 16-bit integer (the MSVC data model).
    Win64,
}

impl Target {
    /// The target this library is compiled for. `jitffi-abi` stops the build with a
    /// `compile_error!` for a target it has no calling convention for, so the fallback
    /// to x86-64 System V below is never a wrong answer in a build that completes.
    pub const fn host() -> Target {
        if cfg!(all(target_arch = "aarch64", target_vendor = "apple")) {
            Target::AppleArm64
        } else if cfg!(target_arch = "aarch64") {
            Target::Aarch64
        } else if cfg!(all(target_arch = "x86_64", windows)) {
            Target::Win64
        } else {
            Target::X86_64SysV
        }
    }

    pub fn pointer_bytes(self) -> u32 {
        8
    }

    /// `long` and `unsigned long`: 64-bit on the LP64 targets, 32-bit on Win64 (LLP64).
    pub fn long_type(self, signed: bool) -> IntType {
        let bytes = if self == Target::Win64 { 4 } else { 8 };
        IntType { bytes, signed }
    }

    /// Plain `char`: unsigned on AArch64 Linux (AAPCS64 §10.1.1, Table 3), signed on the
    /// others (Apple deviates from AAPCS64 here).
    pub fn char_type(self) -> IntType {
        match self {
            Target::Aarch64 => IntType::U8,
            Target::X86_64SysV | Target::AppleArm64 | Target::Win64 => IntType::I8,
        }
    }

    /// `wchar_t`: a signed 32-bit int on x86-64 System V and Apple arm64, unsigned on
    /// AArch64 Linux, an unsigned 16-bit int on Win64.
    pub fn wchar_type(self) -> IntType {
        match self {
            Target::X86_64SysV | Target::AppleArm64 => IntType::I32,
            Target::Aarch64 => IntType::U32,
            Target::Win64 => IntType::U16,
        }
    }

    /// Size and alignment of `long double`: 16/16 for x86-64's padded x87 format and
    /// AArch64's IEEE quad; 8/8 where it is `double` (Apple arm64, Win64).
    pub fn long_double_layout(self) -> (u64, u32) {
        match self {
            Target::X86_64SysV | Target::Aarch64 => (16, 16),
            Target::AppleArm64 | Target::Win64 => (8, 8),
        }
    }

    /// True when `long double` is an 8-byte IEEE double, passed and stored as `double`.
    pub fn long_double_is_double(self) -> bool {
        self.long_double_layout().0 == 8
    }

    /// The largest alignment any type has without an `aligned` attribute (the
    /// compiler's `__BIGGEST_ALIGNMENT__`: 16 on all four; a bare `aligned` asks for
    /// it, and `_Alignof` is capped at it).
    pub fn max_align(self) -> u32 {
        16
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
