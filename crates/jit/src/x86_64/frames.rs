//! The register blocks of x86-64 System V: what a call stub saves of a result
//! ([`ResultArea`]), what a typed callback entry saves and loads ([`ArgFrame`]), and the
//! whole state a raw (cbframe) entry hands over ([`CpuState`]).
//!
//! Code outside this folder reads and writes them only through plan locations
//! ([`Loc`]): `Gpr(n)` is the n-th integer register of the psABI's sequence (rdi, rsi,
//! rdx, rcx, r8, r9 for arguments; rax, rdx for results, §3.2.3), `Vec(n)` is xmm`n`,
//! `Stack(offset)` a byte of the caller's stack arguments. The shared shape and its
//! accessors are `crate::frames`'; the emitters in this folder rely on the field
//! offsets, which the asserts below pin.

use jitffi_abi::Loc;

/// The x87 values of a `long double` result (`RetPlan::X87`), 80 bits in each 16-byte
/// slot: st0, st1.
pub type X87Results = [[u8; 16]; 2];

/// What the stub saves of the call's result, for a `ResultPush::Generic` helper: rax,
/// rdx; xmm0, xmm1; st0, st1.
pub type ResultArea = crate::frames::ResultArea<2, X87Results>;

pub(crate) const RESULT_GPR: i32 = std::mem::offset_of!(ResultArea, gpr) as i32;
pub(crate) const RESULT_VEC: i32 = std::mem::offset_of!(ResultArea, vec) as i32;
pub(crate) const RESULT_X87: i32 = std::mem::offset_of!(ResultArea, extra) as i32;
pub(crate) const OUTER_CALLER: i32 = std::mem::offset_of!(ResultArea, outer_caller) as i32;

impl ResultArea {
    /// Part `part` (0 or 1) of a result on the x87 stack (`RetPlan::X87`): 10 bytes of
    /// an 80-bit value in a 16-byte slot.
    #[inline]
    pub fn x87(&self, part: usize) -> &[u8; 16] {
        &self.extra[part]
    }
}

/// Registers a typed callback entry saves and the results it loads: rdi, rsi, rdx, rcx,
/// r8, r9 as the caller left them; the first stack argument (the caller's rsp + 8 at
/// the call); xmm0-xmm7. Loaded on return: rax, rdx; xmm0, xmm1; and onto the x87 stack
/// as many 80-bit values as the handler's result says (`ret_extra[0]` ends in st0).
pub type ArgFrame = crate::frames::ArgFrame<6, 2, X87Results>;

/// Bytes of an [`ArgFrame`].
pub const ARG_FRAME_BYTES: usize = std::mem::size_of::<ArgFrame>();
// The offsets the typed entry and the stubs' code use.
const _: () = {
    use std::mem::offset_of;
    assert!(offset_of!(ArgFrame, stack) == 48);
    assert!(offset_of!(ArgFrame, vec) == 64);
    assert!(offset_of!(ArgFrame, ret_gpr) == 192);
    assert!(offset_of!(ArgFrame, ret_vec) == 208);
    assert!(offset_of!(ArgFrame, ret_extra) == 240);
    assert!(ARG_FRAME_BYTES == 272);
    assert!(RESULT_GPR == 0 && RESULT_VEC == 16 && RESULT_X87 == 48 && OUTER_CALLER == 80);
    assert!(ResultArea::BYTES == 96);
};

impl ArgFrame {
    /// Sets the x87 results (`RetPlan::X87`) from a `long double` or `complex long
    /// double` image: 80-bit values at bytes 0 and 16.
    pub fn set_x87_results(&mut self, image: &[u8; 32]) {
        self.ret_extra[0][..10].copy_from_slice(&image[..10]);
        self.ret_extra[1][..10].copy_from_slice(&image[16..26]);
    }

    /// For a result returned in memory (`RetPlan::Memory { pointer, .. }`): the caller's
    /// buffer, whose address came in `pointer`; the callee returns that address in rax
    /// (psABI §3.2.3), which this arranges.
    #[inline]
    pub fn memory_result(&mut self, pointer: Loc) -> *mut u8 {
        let address = self.register_word(pointer);
        self.ret_gpr[0] = address;
        address as *mut u8
    }

    /// As [`ArgFrame::memory_result`] for the convention's own result pointer (rdi), for
    /// a handler that has no plan at hand (a refused call).
    #[inline]
    pub fn convention_memory_result(&mut self) -> *mut u8 {
        self.memory_result(Loc::Gpr(0))
    }
}

/// The whole register state a raw (cbframe) entry hands over: xmm0-xmm15; the general
/// registers in encoding order (rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi, r8-r15); rflags.
/// rsp is the stack pointer the caller's `call` left (it points at the return address;
/// stack arguments start 8 bytes above); writing it changes nothing. r11 holds the slot
/// record's address (the slot's code loads it: r11 is scratch in the psABI). Its field
/// layout is the user-facing `struct jitffi_cpu` of cbframe, whose names
/// [`CpuState::GPR_NAMES`] and the others give.
pub type CpuState = crate::frames::CpuState<16, 16>;

/// Bytes of a [`CpuState`].
pub const CPU_STATE_BYTES: usize = std::mem::size_of::<CpuState>();
pub(crate) const CPU_GPR: i32 = CpuState::gpr_offset(0) as i32;
pub(crate) const CPU_RFLAGS: i32 = CpuState::flags_offset() as i32;
// The offsets the raw entry's code uses.
const _: () = assert!(
    CpuState::vec_offset(0) == 0 && CPU_GPR == 256 && CPU_RFLAGS == 384 && CPU_STATE_BYTES == 400
);

impl crate::frames::CpuLocations for CpuState {
    /// psABI §3.2.3, by encoding: rdi, rsi, rdx, rcx, r8, r9.
    const ARG_GPRS: &'static [usize] = &[7, 6, 2, 1, 8, 9];
    /// rax, rdx.
    const RESULT_GPRS: &'static [usize] = &[0, 2];
    /// xmm0-xmm7.
    const ARG_VECS: usize = 8;
    /// xmm0, xmm1.
    const RESULT_VECS: usize = 2;
}

impl CpuState {
    /// cbframe's names of the general registers, in [`CpuState::gpr`] order.
    pub const GPR_NAMES: [&'static str; 16] = [
        "RAX", "RCX", "RDX", "RBX", "RSP", "RBP", "RSI", "RDI", "R8", "R9", "R10", "R11", "R12",
        "R13", "R14", "R15",
    ];
    /// cbframe's name of vector register n is this prefix and n.
    pub const VEC_PREFIX: &'static str = "XMM";
    /// cbframe's names of the flags register (aliases).
    pub const FLAGS_NAMES: &'static [&'static str] = &["RFLAGS", "EFLAGS"];
    /// The flags cbframe's dump lists when set (bit fields of the flags view).
    pub const FLAG_BITS: &'static [&'static str] =
        &["CF", "PF", "AF", "ZF", "SF", "TF", "IF", "DF", "OF"];
    /// The general registers in the order cbframe's dump lists them.
    pub const DUMP_ORDER: [usize; 16] = [0, 3, 1, 2, 6, 7, 5, 4, 8, 9, 10, 11, 12, 13, 14, 15];
    /// Index in [`CpuState::GPR_NAMES`] of the stack pointer.
    pub const STACK_POINTER: usize = 4;
    /// Bytes from the saved stack pointer to the first stack argument: the return
    /// address is in between (8 bytes, the slot `call` pushed).
    pub const STACK_ARGS_FROM_SP: usize = 8;
    /// The C declaration of cbframe's view of the state, `struct jitffi_cpu`, field for
    /// field this layout (the vector and flags unions and the struct; the caller
    /// declares `jitffi_cpu_qword` first).
    pub const C_VIEW: &'static str = "
typedef union jitffi_cpu_xmm {
  float f[4]; double d[2];
  int8_t i8[16]; uint8_t u8[16]; int16_t i16[8]; uint16_t u16[8];
  int32_t i32[4]; uint32_t u32[4]; int64_t i64[2]; uint64_t u64[2];
  struct { jitffi_cpu_qword lo, hi; };
} jitffi_cpu_xmm;
typedef union jitffi_cpu_rflags {
  uint64_t u;
  struct {
    uint32_t CF: 1; uint32_t : 1; uint32_t PF: 1; uint32_t : 1;
    uint32_t AF: 1; uint32_t : 1; uint32_t ZF: 1; uint32_t SF: 1;
    uint32_t TF: 1; uint32_t IF: 1; uint32_t DF: 1; uint32_t OF: 1;
    uint32_t IOPL: 2; uint32_t NT: 1; uint32_t : 1; uint32_t RF: 1;
    uint32_t VM: 1; uint32_t AC: 1; uint32_t VIF: 1; uint32_t VIP: 1; uint32_t ID: 1;
  };
} jitffi_cpu_rflags;
struct jitffi_cpu {
  union {
    jitffi_cpu_xmm XMM[16];
    struct {
      jitffi_cpu_xmm XMM0, XMM1, XMM2, XMM3, XMM4, XMM5, XMM6, XMM7,
        XMM8, XMM9, XMM10, XMM11, XMM12, XMM13, XMM14, XMM15;
    };
  };
  union {
    jitffi_cpu_qword GPR[16];
    struct {
      jitffi_cpu_qword RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI,
        R8, R9, R10, R11, R12, R13, R14, R15;
    };
  };
  union { jitffi_cpu_rflags RFLAGS; jitffi_cpu_rflags EFLAGS; };
  uint64_t _pad;
};
";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_name_the_psabi_registers() {
        let named = |name: &str| {
            let index = CpuState::GPR_NAMES.iter().position(|&r| r == name).unwrap();
            Some(CpuState::gpr_offset(index))
        };
        // psABI §3.2.3: rdi, rsi, rdx, rcx, r8, r9; results in rax, rdx.
        for (n, name) in ["RDI", "RSI", "RDX", "RCX", "R8", "R9"].iter().enumerate() {
            assert_eq!(
                CpuState::arg_offset(Loc::Gpr(n as u8)),
                named(name),
                "{name}"
            );
        }
        assert_eq!(CpuState::result_offset(Loc::Gpr(0)), named("RAX"));
        assert_eq!(CpuState::result_offset(Loc::Gpr(1)), named("RDX"));
        assert_eq!(
            CpuState::arg_offset(Loc::Vec(7)),
            Some(CpuState::vec_offset(7))
        );
        assert_eq!(CpuState::arg_offset(Loc::Gpr(6)), None);
        assert_eq!(CpuState::arg_offset(Loc::Stack(0)), None);
        assert_eq!(CpuState::result_offset(Loc::Vec(2)), None);
    }
}
