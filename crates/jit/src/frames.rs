//! The register blocks' shared shape: what a call stub saves of a result
//! ([`ResultArea`]), what a typed callback entry saves and loads ([`ArgFrame`]) and the
//! whole state a raw (cbframe) entry hands over ([`CpuState`]), generic over how many
//! registers of each kind an architecture has, with the accessors that read and write
//! them through plan locations ([`Loc`]) and their byte offsets written once.
//!
//! Each architecture folder's `frames` instantiates them (`x86_64::ArgFrame` is
//! `ArgFrame<6, 2, X87Results>`, `aarch64::ArgFrame` is `ArgFrame<9, 4, ()>`;
//! `CpuState<16, 16>` and `CpuState<32, 32>`), says what `Gpr(n)` and `Vec(n)` name
//! there (for the state, its [`CpuLocations`]), adds what only it has (x87 results, x8
//! as the result pointer; cbframe's register names and C view of the state) and pins
//! the field offsets its emitted code relies on. All are `repr(C)`: the layout is the
//! fields in this order, and an architecture's `Extra` (zero-sized where it has
//! nothing) sits after the shared fields.

use jitffi_abi::Loc;

/// Forces the field after it to a 16-byte boundary (and the block to 16-byte
/// alignment, which the entries' stack frames have): vector images start there.
#[repr(C, align(16))]
#[derive(Debug)]
struct Align16;

/// What the stub saves of the call's result, for a `ResultPush::Generic` helper:
/// two integer result registers, `VECS` vector result registers, the architecture's
/// `Extra` results, and the cells' outer caller; the buffer of a result returned in
/// memory follows.
#[repr(C)]
pub struct ResultArea<const VECS: usize, Extra> {
    /// The integer result registers (8 bytes each).
    pub(crate) gpr: [[u8; 8]; 2],
    /// The vector result registers (16 bytes each).
    pub(crate) vec: [[u8; 16]; VECS],
    /// What only this architecture returns (x87 values on x86-64).
    pub(crate) extra: Extra,
    /// The cells' `caller` before the call, restored after it.
    pub(crate) outer_caller: u64,
    _pad: u64,
    /// The buffer a result returned in memory was written to follows here.
    pub memory: [u8; 0],
}

impl<const VECS: usize, Extra> ResultArea<VECS, Extra> {
    /// Bytes of the area (the memory buffer follows at this offset).
    pub const BYTES: u32 = std::mem::size_of::<Self>() as u32;

    /// The saved bytes of result location `loc` (8 for an integer register, 16 for a
    /// vector register); `None` for a location no result uses.
    #[inline]
    pub fn bytes(&self, loc: Loc) -> Option<&[u8]> {
        match loc {
            Loc::Gpr(n) => self.gpr.get(usize::from(n)).map(|r| &r[..]),
            Loc::Vec(n) => self.vec.get(usize::from(n)).map(|r| &r[..]),
            Loc::Stack(_) => None,
        }
    }

    /// The low 8 bytes of result location `loc` as an integer.
    ///
    /// # Panics
    /// When no result uses `loc` (a bug of the caller).
    #[inline]
    pub fn word(&self, loc: Loc) -> u64 {
        let bytes = self.bytes(loc).expect("bug: not a result location");
        u64::from_le_bytes(bytes[..8].try_into().expect("8 bytes"))
    }
}

/// Registers a typed callback entry saves (`ARG_GPRS` integer argument registers, the
/// address of the stack arguments, eight vector argument registers) and the results it
/// loads on return (two integer registers, `RET_VECS` vector registers, the
/// architecture's `Extra`).
#[repr(C)]
#[derive(Debug)]
pub struct ArgFrame<const ARG_GPRS: usize, const RET_VECS: usize, Extra> {
    /// The integer argument registers as the caller left them.
    pub(crate) gpr: [u64; ARG_GPRS],
    /// The first stack argument.
    pub(crate) stack: *mut u8,
    _align: [Align16; 0],
    /// The vector argument registers (16 bytes each).
    pub(crate) vec: [[u8; 16]; 8],
    /// Loaded into the integer result registers on return.
    pub(crate) ret_gpr: [u64; 2],
    /// Loaded into the vector result registers on return.
    pub(crate) ret_vec: [[u8; 16]; RET_VECS],
    /// What only this architecture loads on return (x87 values on x86-64).
    pub(crate) ret_extra: Extra,
}

impl<const ARG_GPRS: usize, const RET_VECS: usize, Extra: Default>
    ArgFrame<ARG_GPRS, RET_VECS, Extra>
{
    /// The integer in argument register `loc` (`Gpr`), or the low 8 bytes of a vector
    /// argument register (`Vec`).
    ///
    /// # Panics
    /// For a stack location or a register no argument uses (a bug of the caller).
    #[inline(always)]
    pub fn register_word(&self, loc: Loc) -> u64 {
        match loc {
            Loc::Gpr(n) => self.gpr[usize::from(n)],
            Loc::Vec(n) => {
                u64::from_le_bytes(self.vec[usize::from(n)][..8].try_into().expect("8 bytes"))
            }
            Loc::Stack(_) => panic!("bug: a stack location read as a register"),
        }
    }

    /// The address of the bytes of argument location `loc`: the saved register, or the
    /// caller's stack slot. Reading it is valid while the entry's frame is (during the
    /// handler), for the location's size.
    #[inline(always)]
    pub fn arg_ptr(&self, loc: Loc) -> *const u8 {
        match loc {
            Loc::Gpr(n) => std::ptr::addr_of!(self.gpr[usize::from(n)]).cast(),
            Loc::Vec(n) => self.vec[usize::from(n)].as_ptr(),
            Loc::Stack(offset) => self.stack.wrapping_add(offset as usize),
        }
    }

    /// The caller's stack arguments (`Loc::Stack(0)`).
    #[inline]
    pub fn stack_args(&self) -> *mut u8 {
        self.stack
    }

    /// Sets result location `loc` to `word` (an integer register whole, or the low 8
    /// bytes of a vector register).
    ///
    /// # Panics
    /// For a location no result uses (a bug of the caller).
    #[inline(always)]
    pub fn set_result_word(&mut self, loc: Loc, word: u64) {
        match loc {
            Loc::Gpr(n) => self.ret_gpr[usize::from(n)] = word,
            Loc::Vec(n) => self.ret_vec[usize::from(n)][..8].copy_from_slice(&word.to_le_bytes()),
            Loc::Stack(_) => panic!("bug: a result on the stack"),
        }
    }

    /// Sets the first `bytes.len()` bytes (at most 16) of vector result location `loc`.
    #[inline]
    pub fn set_result_vec(&mut self, loc: Loc, bytes: &[u8]) {
        let Loc::Vec(n) = loc else {
            panic!("bug: not a vector result location")
        };
        self.ret_vec[usize::from(n)][..bytes.len()].copy_from_slice(bytes);
    }

    /// Zeroes every result location: what a call that did not complete returns.
    pub fn clear_results(&mut self) {
        self.ret_gpr = [0; 2];
        self.ret_vec = [[0; 16]; RET_VECS];
        self.ret_extra = Extra::default();
    }
}

/// The whole register state a raw (cbframe) entry hands over: `VECS` vector registers
/// (16 bytes each), `GPRS` general registers in the architecture's order, the flags.
/// Its field layout is the user-facing `struct jitffi_cpu` of cbframe; each
/// architecture's `frames` gives the register names, that C view and which registers
/// plan locations name ([`CpuLocations`]).
#[repr(C)]
#[derive(Debug)]
pub struct CpuState<const VECS: usize, const GPRS: usize> {
    /// The vector registers, by number.
    pub vec: [[u8; 16]; VECS],
    /// The general registers in the architecture's order (its `GPR_NAMES`).
    pub gpr: [u64; GPRS],
    /// The flags register.
    pub flags: u64,
    _pad: u64,
}

/// Which registers of an architecture's [`CpuState`] the plan locations name.
pub trait CpuLocations {
    /// [`CpuState::gpr`] index of argument location `Gpr(n)`, by n.
    const ARG_GPRS: &'static [usize];
    /// [`CpuState::gpr`] index of result location `Gpr(n)`, by n.
    const RESULT_GPRS: &'static [usize];
    /// Vector registers that carry arguments (`Vec(0)` up).
    const ARG_VECS: usize;
    /// Vector registers that carry results (`Vec(0)` up).
    const RESULT_VECS: usize;
}

impl<const VECS: usize, const GPRS: usize> CpuState<VECS, GPRS> {
    /// Vector registers in the state.
    pub const VEC_COUNT: usize = VECS;

    /// Byte offset of general register `index` (in [`CpuState::gpr`] order).
    pub const fn gpr_offset(index: usize) -> usize {
        std::mem::offset_of!(Self, gpr) + 8 * index
    }

    /// Byte offset of vector register `n`.
    pub const fn vec_offset(n: usize) -> usize {
        std::mem::offset_of!(Self, vec) + 16 * n
    }

    /// Byte offset of the flags.
    pub const fn flags_offset() -> usize {
        std::mem::offset_of!(Self, flags)
    }
}

impl<const VECS: usize, const GPRS: usize> CpuState<VECS, GPRS>
where
    Self: CpuLocations,
{
    /// Byte offset in the state of argument location `loc`; `None` for a stack
    /// location or a register no argument uses.
    pub fn arg_offset(loc: Loc) -> Option<usize> {
        match loc {
            Loc::Gpr(n) => Self::ARG_GPRS
                .get(usize::from(n))
                .map(|&r| Self::gpr_offset(r)),
            Loc::Vec(n) if usize::from(n) < Self::ARG_VECS => {
                Some(Self::vec_offset(usize::from(n)))
            }
            _ => None,
        }
    }

    /// Byte offset in the state of result location `loc`; `None` for a location no
    /// result uses.
    pub fn result_offset(loc: Loc) -> Option<usize> {
        match loc {
            Loc::Gpr(n) => Self::RESULT_GPRS
                .get(usize::from(n))
                .map(|&r| Self::gpr_offset(r)),
            Loc::Vec(n) if usize::from(n) < Self::RESULT_VECS => {
                Some(Self::vec_offset(usize::from(n)))
            }
            _ => None,
        }
    }

    /// Zeroes the result registers of every C signature: what a call that did not
    /// complete returns.
    pub fn clear_results(&mut self) {
        for &r in Self::RESULT_GPRS {
            self.gpr[r] = 0;
        }
        for v in &mut self.vec[..Self::RESULT_VECS] {
            *v = [0; 16];
        }
    }
}
