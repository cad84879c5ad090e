//! The register blocks of AAPCS64: what a call stub saves of a result
//! ([`ResultArea`]), what a typed callback entry saves and loads ([`ArgFrame`]), and the
//! whole state a raw (cbframe) entry hands over ([`CpuState`]).
//!
//! Code outside this folder reads and writes them only through plan locations
//! ([`Loc`]): `Gpr(n)` is x`n` (x0-x7 for arguments, x0-x1 for results, `Gpr(8)` = x8
//! the indirect result register), `Vec(n)` is v`n` (v0-v7 for arguments, v0-v3 for
//! results), `Stack(offset)` a byte of the caller's stack arguments (AAPCS64 §6.8.2,
//! §6.9). The shared shape and its accessors are `crate::frames`'; the emitters in
//! this folder rely on the field offsets, which the asserts below pin.

use jitffi_abi::Loc;

/// What the stub saves of the call's result, for a `ResultPush::Generic` helper: x0,
/// x1; q0-q3 (an HFA has up to four members). The buffer a result returned in memory
/// (address in x8) was written to follows.
pub type ResultArea = crate::frames::ResultArea<4, ()>;

pub(crate) const RESULT_GPR: u32 = std::mem::offset_of!(ResultArea, gpr) as u32;
pub(crate) const RESULT_VEC: u32 = std::mem::offset_of!(ResultArea, vec) as u32;
pub(crate) const OUTER_CALLER: u32 = std::mem::offset_of!(ResultArea, outer_caller) as u32;

impl ResultArea {
    /// AArch64 has no x87 results: no plan asks for them.
    ///
    /// # Panics
    /// Always (a bug of the caller).
    pub fn x87(&self, part: usize) -> &[u8; 16] {
        panic!("bug: x87 result part {part} on AArch64")
    }
}

/// Registers a typed callback entry saves and the results it loads: x0-x7, and x8 (the
/// address of a result returned in memory), as the caller left them; the first stack
/// argument (the caller's sp at the call); q0-q7. Loaded on return: x0, x1; q0-q3.
pub type ArgFrame = crate::frames::ArgFrame<9, 4, ()>;

/// Bytes of an [`ArgFrame`].
pub const ARG_FRAME_BYTES: usize = std::mem::size_of::<ArgFrame>();
// The offsets the typed entry and the stubs' code use.
const _: () = {
    use std::mem::offset_of;
    assert!(offset_of!(ArgFrame, stack) == 72);
    assert!(offset_of!(ArgFrame, vec) == 80);
    assert!(offset_of!(ArgFrame, ret_gpr) == 208);
    assert!(offset_of!(ArgFrame, ret_vec) == 224);
    assert!(ARG_FRAME_BYTES == 288);
    assert!(RESULT_GPR == 0 && RESULT_VEC == 16 && OUTER_CALLER == 80);
    assert!(ResultArea::BYTES == 96);
};

impl ArgFrame {
    /// AArch64 has no x87 results: no plan asks for them.
    ///
    /// # Panics
    /// Always (a bug of the caller).
    pub fn set_x87_results(&mut self, _image: &[u8; 32]) {
        panic!("bug: x87 results on AArch64")
    }

    /// For a result returned in memory (`RetPlan::Memory { pointer, .. }`): the caller's
    /// buffer, whose address came in `pointer` (x8). The callee need not return it
    /// (AAPCS64 §6.9), so nothing else is set.
    #[inline]
    pub fn memory_result(&mut self, pointer: Loc) -> *mut u8 {
        self.register_word(pointer) as *mut u8
    }

    /// As [`ArgFrame::memory_result`] for the convention's own result pointer (x8), for
    /// a handler that has no plan at hand (a refused call).
    #[inline]
    pub fn convention_memory_result(&mut self) -> *mut u8 {
        self.memory_result(Loc::Gpr(8))
    }
}

/// The whole register state a raw (cbframe) entry hands over: q0-q31; x0-x30, then sp
/// (the caller's, at the call; writing it changes nothing); nzcv. Its field layout is the
/// user-facing `struct jitffi_cpu` of cbframe on AArch64, whose names
/// [`CpuState::GPR_NAMES`] and the others give.
pub type CpuState = crate::frames::CpuState<32, 32>;

/// Bytes of a [`CpuState`].
pub const CPU_STATE_BYTES: usize = std::mem::size_of::<CpuState>();
// The offsets the raw entry's code uses.
const _: () = assert!(
    CpuState::vec_offset(0) == 0
        && CpuState::gpr_offset(31) == 512 + 248
        && CpuState::flags_offset() == 768
        && CPU_STATE_BYTES == 784
);

impl crate::frames::CpuLocations for CpuState {
    /// x0-x7, and x8 (the address of a result returned in memory).
    const ARG_GPRS: &'static [usize] = &[0, 1, 2, 3, 4, 5, 6, 7, 8];
    /// x0, x1.
    const RESULT_GPRS: &'static [usize] = &[0, 1];
    /// v0-v7.
    const ARG_VECS: usize = 8;
    /// v0-v3 (an HFA has up to four members).
    const RESULT_VECS: usize = 4;
}

impl CpuState {
    /// cbframe's names of the general registers, in [`CpuState::gpr`] order.
    pub const GPR_NAMES: [&'static str; 32] = [
        "X0", "X1", "X2", "X3", "X4", "X5", "X6", "X7", "X8", "X9", "X10", "X11", "X12", "X13",
        "X14", "X15", "X16", "X17", "X18", "X19", "X20", "X21", "X22", "X23", "X24", "X25", "X26",
        "X27", "X28", "X29", "X30", "SP",
    ];
    /// cbframe's name of vector register n is this prefix and n.
    pub const VEC_PREFIX: &'static str = "V";
    /// cbframe's names of the flags register.
    pub const FLAGS_NAMES: &'static [&'static str] = &["NZCV"];
    /// The flags cbframe's dump lists when set (bit fields of the flags view).
    pub const FLAG_BITS: &'static [&'static str] = &["N", "Z", "C", "V"];
    /// The general registers in the order cbframe's dump lists them.
    pub const DUMP_ORDER: [usize; 32] = {
        let mut order = [0; 32];
        let mut i = 0;
        while i < 32 {
            order[i] = i;
            i += 1;
        }
        order
    };
    /// Index in [`CpuState::GPR_NAMES`] of the stack pointer.
    pub const STACK_POINTER: usize = 31;
    /// Bytes from the saved stack pointer to the first stack argument: none, the
    /// return address is in x30 (AAPCS64 §6.8.2: the NSAA starts at the caller's sp).
    pub const STACK_ARGS_FROM_SP: usize = 0;
    /// The C declaration of cbframe's view of the state, `struct jitffi_cpu`, field for
    /// field this layout (the vector and flags unions and the struct; the caller
    /// declares `jitffi_cpu_qword` first). FP and LR alias X29 and X30.
    pub const C_VIEW: &'static str = "
typedef union jitffi_cpu_v {
  float f[4]; double d[2];
  int8_t i8[16]; uint8_t u8[16]; int16_t i16[8]; uint16_t u16[8];
  int32_t i32[4]; uint32_t u32[4]; int64_t i64[2]; uint64_t u64[2];
  struct { jitffi_cpu_qword lo, hi; };
} jitffi_cpu_v;
typedef union jitffi_cpu_nzcv {
  uint64_t u;
  struct { uint32_t : 28; uint32_t V: 1; uint32_t C: 1; uint32_t Z: 1; uint32_t N: 1; };
} jitffi_cpu_nzcv;
struct jitffi_cpu {
  union {
    jitffi_cpu_v V[32];
    struct {
      jitffi_cpu_v V0, V1, V2, V3, V4, V5, V6, V7, V8, V9, V10, V11, V12, V13, V14, V15,
        V16, V17, V18, V19, V20, V21, V22, V23, V24, V25, V26, V27, V28, V29, V30, V31;
    };
  };
  union {
    jitffi_cpu_qword GPR[32];
    struct {
      jitffi_cpu_qword X0, X1, X2, X3, X4, X5, X6, X7, X8, X9, X10, X11, X12, X13, X14,
        X15, X16, X17, X18, X19, X20, X21, X22, X23, X24, X25, X26, X27, X28;
      union { jitffi_cpu_qword X29, FP; };
      union { jitffi_cpu_qword X30, LR; };
      jitffi_cpu_qword SP;
    };
  };
  jitffi_cpu_nzcv NZCV;
  uint64_t _pad;
};
";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_name_the_aapcs64_registers() {
        assert_eq!(
            CpuState::arg_offset(Loc::Gpr(8)),
            Some(CpuState::gpr_offset(8))
        );
        assert_eq!(CpuState::result_offset(Loc::Gpr(2)), None);
        assert_eq!(
            CpuState::result_offset(Loc::Vec(3)),
            Some(CpuState::vec_offset(3))
        );
        assert_eq!(CpuState::arg_offset(Loc::Stack(0)), None);
    }
}
