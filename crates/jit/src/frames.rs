//! The register blocks' shared shape: what a call stub saves of a result
//! ([`ResultArea`]) and what a typed callback entry saves and loads ([`ArgFrame`]),
//! generic over how many registers of each kind an architecture has, with the
//! accessors that read and write them through plan locations ([`Loc`]) written once.
//!
//! Each architecture folder's `frames` instantiates them (`x86_64::ArgFrame` is
//! `ArgFrame<6, 2, X87Results>`, `aarch64::ArgFrame` is `ArgFrame<9, 4, ()>`), says what
//! `Gpr(n)` and `Vec(n)` name there, adds what only it has (x87 results, x8 as the
//! result pointer) and pins the field offsets its emitted code relies on. Both are
//! `repr(C)`: the layout is the fields in this order, and an architecture's `Extra`
//! (zero-sized where it has nothing) sits after the shared fields.

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
