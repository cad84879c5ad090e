//! The one interface to the calling conventions: [`Convention`] names one, is chosen once
//! from the target ([`Convention::host`], [`Convention::for_target`]), and classifies a
//! call ([`Convention::classify`]); the facts a code generator needs beyond the plan
//! (variadic rules, who returns the result address) are its methods too.

use crate::plan::{AbiError, CallPlan};
use crate::{aarch64, win64, x86_64};
use jitffi_ctype::{FuncType, Target, TypeId, TypeTable};

/// A calling convention jitffi can plan calls for.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum Convention {
    /// x86-64 System V (psABI 1.0 §3.2.3): Linux, the BSDs.
    SysV64,
    /// AArch64 AAPCS64 (§6.8.2 "Parameter passing rules") as gcc has it on Linux.
    Aapcs64,
    /// Apple arm64: AAPCS64 with Apple's changes (variadic arguments on the stack, stack
    /// arguments packed by their alignment). Classifier only: no code generation.
    AppleArm64,
    /// Windows x64: four register slots shared by position. Classifier only.
    Win64,
}

/// How a convention passes the variadic part of a call.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct Variadic {
    /// The caller puts an upper bound of the vector registers used in %al
    /// ([`CallPlan::vec_regs`]; x86-64 System V §3.2.3 "Variable Argument Lists").
    pub vector_count: bool,
    /// Every variadic argument goes on the stack, in 8-byte slots, whatever registers
    /// are free (Apple arm64).
    pub all_on_stack: bool,
    /// A floating-point variadic argument is passed in its integer register as well as
    /// its vector register (Win64), so a callee can spill the four registers as one
    /// array; the plan has both pieces.
    pub floats_in_gprs: bool,
}

/// The register numbering a convention's plans use ([`crate::Loc`]).
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct Registers {
    /// Integer argument registers: `Gpr(0..gpr_args)`.
    pub gpr_args: u8,
    /// Vector argument registers: `Vec(0..vec_args)`.
    pub vec_args: u8,
    /// Integer result registers: `Gpr(0..gpr_results)`.
    pub gpr_results: u8,
    /// Vector result registers: `Vec(0..vec_results)`.
    pub vec_results: u8,
}

// The host's convention, chosen once. A target without one stops the build here rather
// than compiling code for a wrong ABI.
#[cfg(all(target_arch = "x86_64", unix))]
const HOST: Convention = Convention::SysV64;
#[cfg(all(target_arch = "aarch64", target_os = "linux"))]
const HOST: Convention = Convention::Aapcs64;
#[cfg(not(any(
    all(target_arch = "x86_64", unix),
    all(target_arch = "aarch64", target_os = "linux")
)))]
compile_error!(
    "jitffi supports x86-64 System V (Linux, BSDs) and AArch64 Linux (AAPCS64) only; \
     Windows x64 and Apple arm64 have classifiers in jitffi-abi but no code generation"
);

impl Convention {
    /// The convention of the target this library is compiled for.
    pub const fn host() -> Convention {
        HOST
    }

    /// The convention of a data model's platform.
    pub const fn for_target(target: Target) -> Convention {
        match target {
            Target::X86_64SysV => Convention::SysV64,
            Target::Aarch64 => Convention::Aapcs64,
            Target::AppleArm64 => Convention::AppleArm64,
            Target::Win64 => Convention::Win64,
        }
    }

    /// The data model the convention's type sizes come from.
    pub const fn target(self) -> Target {
        match self {
            Convention::SysV64 => Target::X86_64SysV,
            Convention::Aapcs64 => Target::Aarch64,
            Convention::AppleArm64 => Target::AppleArm64,
            Convention::Win64 => Target::Win64,
        }
    }

    /// The plan of a call of `func` whose variadic part (if any) holds values of the
    /// types `varargs`, already promoted by C's default argument promotions. `types`
    /// must be laid out for this convention's [`Convention::target`].
    pub fn classify(
        self,
        types: &TypeTable,
        func: &FuncType,
        varargs: &[TypeId],
    ) -> Result<CallPlan, AbiError> {
        if types.target() != self.target() {
            return Err(AbiError {
                message: format!(
                    "bug: {self:?} plans calls with {:?} types, not {:?}",
                    self.target(),
                    types.target()
                ),
            });
        }
        match self {
            Convention::SysV64 => x86_64::classify(types, func, varargs),
            Convention::Aapcs64 => aarch64::classify(types, func, varargs, aarch64::Flavor::Linux),
            Convention::AppleArm64 => {
                aarch64::classify(types, func, varargs, aarch64::Flavor::Apple)
            }
            Convention::Win64 => win64::classify(types, func, varargs),
        }
    }

    /// How the variadic part of a call travels.
    pub const fn variadic(self) -> Variadic {
        Variadic {
            vector_count: matches!(self, Convention::SysV64),
            all_on_stack: matches!(self, Convention::AppleArm64),
            floats_in_gprs: matches!(self, Convention::Win64),
        }
    }

    /// True when a callee returning through a caller's buffer ([`crate::RetPlan::Memory`])
    /// also returns the buffer's address (x86-64 in rax); AAPCS64's callee need not
    /// ("Result return": x8 is not preserved).
    pub const fn returns_result_address(self) -> bool {
        matches!(self, Convention::SysV64 | Convention::Win64)
    }

    /// The registers the convention's plans name.
    pub const fn registers(self) -> Registers {
        match self {
            Convention::SysV64 => Registers {
                gpr_args: x86_64::GPR_ARGS,
                vec_args: x86_64::VEC_ARGS,
                gpr_results: x86_64::GPR_RESULTS,
                vec_results: x86_64::VEC_RESULTS,
            },
            Convention::Aapcs64 | Convention::AppleArm64 => Registers {
                gpr_args: aarch64::GPR_ARGS,
                vec_args: aarch64::VEC_ARGS,
                gpr_results: aarch64::GPR_RESULTS,
                vec_results: aarch64::VEC_RESULTS,
            },
            Convention::Win64 => Registers {
                gpr_args: win64::SLOTS,
                vec_args: win64::SLOTS,
                gpr_results: 1,
                vec_results: 1,
            },
        }
    }
}
