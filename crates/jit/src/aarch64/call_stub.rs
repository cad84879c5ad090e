//! AAPCS64 call stubs: the code for a [`StubSpec`] (see `crate::call_stub` for what a
//! stub does and [`Frame`] for its layout), with dynasm-rs's aarch64 assembler.
//!
//! ```text
//!   stub frame (sp 16-aligned, or aligned to the plan's stack_align when that is more;
//!   x19 = caller, x20 = ctx, x21 = base; x16 is the only scratch beyond the arguments)
//!   sp+0         outgoing stack arguments (CallPlan::stack_bytes); stack-passed values
//!                are converted straight into their slots
//!   sp+images    one image per register-passed argument: the helper's 8-byte result,
//!                or the aggregate the helper wrote (16-aligned, padded to 16); for an
//!                argument by reference, the caller's copy, whose address is passed
//!   sp+results   ResultArea: x0, x1, q0-q3, the outer caller, then the buffer of a
//!                result returned in memory (its address goes in x8)
//!   x29+0        saved x29, x30 (the frame record), x19, x20, x21 (48 bytes)
//! ```
//!
//! Both entries begin with `bti c`: C (Lua) calls them through pointers. Helper and
//! target addresses are loaded into x16 (IP0, free at every call, AAPCS64 §6.1.1) and
//! called with `blr`. Every immediate is range-checked here: offsets that do not fit an
//! instruction's field go through x16.

use super::frames::{ResultArea, OUTER_CALLER, RESULT_GPR, RESULT_VEC};
use super::LANDING_PAD;
use crate::call_stub::{
    error, frame_of, integer_push_ext, number_push_kind, register_loads, ArgFetch, EmittedStub,
    Frame, Helper, JitError, ResultPush, StubSpec, CELLS_CALLER, CELLS_ERRNO, CELLS_PENDING,
    CONTEXT_CELLS, CONTEXT_TARGET,
};
use crate::listing::Listing;
use dynasmrt::aarch64::Aarch64Relocation;
use dynasmrt::{dynasm, DynasmApi, DynasmLabelApi, VecAssembler};
use jitffi_abi::{ArgPlan, Ext, Loc, PieceKind, RetPlan};

/// Register numbers (x`n`; 31 is sp where an instruction takes sp).
const SP: u8 = 31;
/// IP0: addresses of helpers and targets, frame offsets too large for a field.
const SCRATCH: u8 = 16;
const CALLER: u8 = 19;
const CTX: u8 = 20;
const BASE: u8 = 21;
/// Integer argument registers x0-x7 and the indirect result register x8 (§6.8.2, §6.9).
const MAX_GPR_LOC: u8 = 8;
/// Vector argument and result registers v0-v7.
const MAX_VEC_LOC: u8 = 7;
/// Bytes the prologue pushes: x29, x30, x19, x20, x21 and 8 bytes of padding.
const SAVED_BYTES: i32 = 48;
/// The largest value of an unsigned 12-bit immediate (add, sub, cmp).
const IMM12: u32 = 4095;

fn reg_name(reg: u8) -> String {
    if reg == SP {
        "sp".into()
    } else {
        format!("x{reg}")
    }
}

/// Where a helper's address sits in the bytes of [`Emitter::call`]: the first four
/// instructions (movz, movk, movk, movk x16).
const CALL_ADDRESS: std::ops::Range<usize> = 0..16;

/// An assembler that also writes a listing line per instruction.
struct Emitter {
    ops: VecAssembler<Aarch64Relocation>,
    listing: Listing,
}

impl Emitter {
    fn at(&mut self, text: impl Into<String>) {
        self.listing.line(self.ops.offset().0, text);
    }

    /// Loads `value` into x`reg` (movz, then movk for every other nonzero half-word).
    fn mov_imm(&mut self, reg: u8, value: u64) {
        self.at(format!("mov {}, #{value}", reg_name(reg)));
        self.mov_imm_quiet(reg, value);
    }

    fn mov_imm_quiet(&mut self, reg: u8, value: u64) {
        let low = (value & 0xffff) as u32;
        dynasm!(self.ops ; .arch aarch64 ; movz X(reg), low);
        for shift in [16u32, 32, 48] {
            let half = ((value >> shift) & 0xffff) as u32;
            if half != 0 {
                dynasm!(self.ops ; .arch aarch64 ; movk X(reg), half, lsl shift);
            }
        }
    }

    /// Calls `helper` through x16: always four instructions for the address, so that
    /// listings can hide it.
    fn call(&mut self, helper: Helper) {
        self.at(format!("call {}", helper.name));
        self.listing.mark_address();
        let address = helper.address as u64;
        for (i, shift) in [0u32, 16, 32, 48].into_iter().enumerate() {
            let half = ((address >> shift) & 0xffff) as u32;
            if i == 0 {
                dynasm!(self.ops ; .arch aarch64 ; movz X(SCRATCH), half);
            } else {
                dynasm!(self.ops ; .arch aarch64 ; movk X(SCRATCH), half, lsl shift);
            }
        }
        dynasm!(self.ops ; .arch aarch64 ; blr X(SCRATCH));
    }

    fn mov_reg(&mut self, dst: u8, src: u8) {
        self.at(format!("mov x{dst}, x{src}"));
        dynasm!(self.ops ; .arch aarch64 ; mov X(dst), X(src));
    }

    /// x`dst` = sp + `disp`.
    fn sp_address(&mut self, dst: u8, disp: u32) {
        if disp <= IMM12 {
            self.at(format!("add x{dst}, sp, #{disp}"));
            dynasm!(self.ops ; .arch aarch64 ; add XSP(dst), sp, disp);
        } else {
            self.mov_imm(dst, u64::from(disp));
            self.at(format!("add x{dst}, sp, x{dst}"));
            dynasm!(self.ops ; .arch aarch64 ; add XSP(dst), sp, X(dst));
        }
    }

    /// A base register and an offset that address sp + `disp` for an access of `scale`
    /// bytes: sp itself when the scaled 12-bit field holds the offset, else x16.
    fn frame_slot(&mut self, disp: u32, scale: u32) -> (u8, u32) {
        if disp.is_multiple_of(scale) && disp / scale <= IMM12 {
            (SP, disp)
        } else {
            self.sp_address(SCRATCH, disp);
            (SCRATCH, 0)
        }
    }

    fn load_gpr(&mut self, dst: u8, disp: u32) {
        let (base, off) = self.frame_slot(disp, 8);
        self.at(format!("ldr x{dst}, [{}, #{off}]", reg_name(base)));
        dynasm!(self.ops ; .arch aarch64 ; ldr X(dst), [XSP(base), off]);
    }

    fn store_gpr(&mut self, src: u8, disp: u32) {
        let (base, off) = self.frame_slot(disp, 8);
        self.at(format!("str x{src}, [{}, #{off}]", reg_name(base)));
        dynasm!(self.ops ; .arch aarch64 ; str X(src), [XSP(base), off]);
    }

    /// Loads a vector piece into v`dst`: s (float), d (double, two floats, a 64-bit
    /// vector) or q (16 bytes).
    fn load_vec(&mut self, dst: u8, kind: PieceKind, disp: u32) {
        match kind {
            PieceKind::F32 => {
                let (base, off) = self.frame_slot(disp, 4);
                self.at(format!("ldr s{dst}, [{}, #{off}]", reg_name(base)));
                dynasm!(self.ops ; .arch aarch64 ; ldr S(dst), [XSP(base), off]);
            }
            PieceKind::V128 => {
                let (base, off) = self.frame_slot(disp, 16);
                self.at(format!("ldr q{dst}, [{}, #{off}]", reg_name(base)));
                dynasm!(self.ops ; .arch aarch64 ; ldr Q(dst), [XSP(base), off]);
            }
            _ => {
                let (base, off) = self.frame_slot(disp, 8);
                self.at(format!("ldr d{dst}, [{}, #{off}]", reg_name(base)));
                dynasm!(self.ops ; .arch aarch64 ; ldr D(dst), [XSP(base), off]);
            }
        }
    }

    /// Loads the integer result saved at `disp` into x1, extended as `ext` says.
    fn load_result_int(&mut self, ext: Ext, disp: u32) {
        let scale = match ext {
            Ext::Sign(n) | Ext::Zero(n) if n < 8 => u32::from(n),
            _ => 8,
        };
        let (base, off) = self.frame_slot(disp, scale);
        let b = reg_name(base);
        match ext {
            Ext::Sign(1) => {
                self.at(format!("ldrsb x1, [{b}, #{off}]"));
                dynasm!(self.ops ; .arch aarch64 ; ldrsb x1, [XSP(base), off]);
            }
            Ext::Sign(2) => {
                self.at(format!("ldrsh x1, [{b}, #{off}]"));
                dynasm!(self.ops ; .arch aarch64 ; ldrsh x1, [XSP(base), off]);
            }
            Ext::Sign(4) => {
                self.at(format!("ldrsw x1, [{b}, #{off}]"));
                dynasm!(self.ops ; .arch aarch64 ; ldrsw x1, [XSP(base), off]);
            }
            Ext::Zero(1) => {
                self.at(format!("ldrb w1, [{b}, #{off}]"));
                dynasm!(self.ops ; .arch aarch64 ; ldrb w1, [XSP(base), off]);
            }
            Ext::Zero(2) => {
                self.at(format!("ldrh w1, [{b}, #{off}]"));
                dynasm!(self.ops ; .arch aarch64 ; ldrh w1, [XSP(base), off]);
            }
            Ext::Zero(4) => {
                self.at(format!("ldr w1, [{b}, #{off}]"));
                dynasm!(self.ops ; .arch aarch64 ; ldr w1, [XSP(base), off]);
            }
            _ => {
                self.at(format!("ldr x1, [{b}, #{off}]"));
                dynasm!(self.ops ; .arch aarch64 ; ldr x1, [XSP(base), off]);
            }
        }
    }

    /// w`dst` = w21 (base) + `value`.
    fn base_plus(&mut self, dst: u8, value: u32) {
        if value <= IMM12 {
            self.at(format!("add w{dst}, w21, #{value}"));
            dynasm!(self.ops ; .arch aarch64 ; add WSP(dst), WSP(BASE), value);
        } else {
            self.mov_imm(dst, u64::from(value));
            self.at(format!("add w{dst}, w21, w{dst}"));
            dynasm!(self.ops ; .arch aarch64 ; add W(dst), W(BASE), W(dst));
        }
    }
}

/// The register `loc` names, checked against what AAPCS64 plans use.
fn gpr_of(loc: Loc) -> Result<u8, JitError> {
    match loc {
        Loc::Gpr(n) if n <= MAX_GPR_LOC => Ok(n),
        _ => Err(error("bug: no such integer register")),
    }
}

/// Emits the stub: its bytes, the offset of the direct entry, and the listing.
pub fn emit_stub(spec: &StubSpec) -> Result<EmittedStub, JitError> {
    let frame = frame_of(spec, ResultArea::BYTES)?;
    let plan = &spec.plan;
    if plan.args.len() > IMM12 as usize {
        return Err(error("too many arguments for a C call"));
    }
    let mut e = Emitter {
        ops: VecAssembler::new(0),
        listing: Listing::default(),
    };
    let body = e.ops.new_dynamic_label();
    let bad_count = e.ops.new_dynamic_label();
    let pending = e.ops.new_dynamic_label();

    // Caller entry: fn(caller).
    prologue(&mut e, &frame);
    e.mov_reg(CALLER, 0);
    e.call(spec.helpers.context);
    e.mov_reg(CTX, 0);
    e.mov_imm(BASE, 1);
    e.at("b body");
    dynasm!(e.ops ; .arch aarch64 ; b =>body);

    // Direct entry: fn(caller, ctx, base).
    let direct_offset = e.ops.offset().0;
    e.at("; direct entry");
    prologue(&mut e, &frame);
    e.mov_reg(CALLER, 0);
    e.mov_reg(CTX, 1);
    e.at("mov w21, w2");
    dynasm!(e.ops ; .arch aarch64 ; mov W(BASE), w2);

    e.at("body:");
    dynasm!(e.ops ; .arch aarch64 ; =>body);
    // The argument count must be exact: index of the last argument == base + n - 1.
    e.mov_reg(0, CALLER);
    e.call(spec.helpers.arg_count);
    let count = spec.args.len() as u32;
    if count == 0 {
        e.at("sub w9, w21, #1");
        dynasm!(e.ops ; .arch aarch64 ; sub w9, WSP(BASE), 1);
    } else {
        e.base_plus(9, count - 1);
    }
    e.at("cmp w0, w9");
    e.at("b.ne bad_count");
    dynasm!(e.ops
        ; .arch aarch64
        ; cmp w0, w9
        ; b.ne =>bad_count
    );

    // Convert every argument into its image.
    for (param, (fetch, &image)) in spec.args.iter().zip(&frame.images).enumerate() {
        let param = param as u32;
        e.mov_reg(0, CALLER);
        e.base_plus(1, param);
        e.mov_reg(2, CTX);
        e.mov_imm(3, u64::from(param));
        match fetch {
            ArgFetch::Scalar(helper) => {
                e.mov_imm(4, 0);
                e.call(*helper);
                e.store_gpr(0, image);
            }
            ArgFetch::Memory { helper, .. } => {
                e.sp_address(4, image);
                e.call(*helper);
            }
        }
    }

    // The cells' caller is this call's for its duration (before any argument register
    // is loaded).
    let outer = frame.results + OUTER_CALLER;
    e.at(format!("ldr x9, [x20, #{CONTEXT_CELLS}]"));
    e.at(format!("ldr x10, [x9, #{CELLS_CALLER}]"));
    dynasm!(e.ops
        ; .arch aarch64
        ; ldr x9, [X(CTX), CONTEXT_CELLS as u32]
        ; ldr x10, [x9, CELLS_CALLER as u32]
    );
    e.store_gpr(10, outer);
    e.at(format!("str x19, [x9, #{CELLS_CALLER}]"));
    dynasm!(e.ops ; .arch aarch64 ; str X(CALLER), [x9, CELLS_CALLER as u32]);

    // Load the registers: vector registers, then integer registers, then what goes by
    // reference.
    for (piece, disp) in register_loads(plan, &frame.images) {
        match piece.loc {
            Loc::Vec(n) if n > MAX_VEC_LOC => return Err(error("bug: no such vector register")),
            Loc::Vec(n) => e.load_vec(n, piece.kind, disp),
            Loc::Gpr(_) => e.load_gpr(gpr_of(piece.loc)?, disp),
            Loc::Stack(_) => {}
        }
    }
    // Arguments by reference (rule B.4): the copy's address, in a register or a stack
    // slot.
    for (arg, &image) in plan.args.iter().zip(&frame.images) {
        if let ArgPlan::Indirect { pointer, .. } = *arg {
            match pointer {
                Loc::Stack(offset) => {
                    e.sp_address(9, image);
                    e.store_gpr(9, offset);
                }
                _ => e.sp_address(gpr_of(pointer)?, image),
            }
        }
    }
    if let RetPlan::Memory { pointer, .. } = plan.ret {
        e.sp_address(gpr_of(pointer)?, frame.results + ResultArea::BYTES);
    }
    e.at(format!("ldr x16, [x20, #{CONTEXT_TARGET}]"));
    e.at("blr x16");
    dynasm!(e.ops
        ; .arch aarch64
        ; ldr X(SCRATCH), [X(CTX), CONTEXT_TARGET as u32]
        ; blr X(SCRATCH)
    );

    // Save the result registers, then errno; restore the cells' caller.
    e.sp_address(9, frame.results);
    let (g, v) = (RESULT_GPR, RESULT_VEC);
    e.at(format!("stp x0, x1, [x9, #{g}]"));
    e.at(format!("stp q0, q1, [x9, #{v}]"));
    e.at(format!("stp q2, q3, [x9, #{}]", v + 32));
    dynasm!(e.ops
        ; .arch aarch64
        ; stp x0, x1, [x9, g as i32]
        ; stp q0, q1, [x9, v as i32]
        ; stp q2, q3, [x9, v as i32 + 32]
    );
    e.call(spec.helpers.errno_location);
    e.at("ldr w0, [x0]");
    e.at(format!("ldr x9, [x20, #{CONTEXT_CELLS}]"));
    e.at(format!("str w0, [x9, #{CELLS_ERRNO}]"));
    dynasm!(e.ops
        ; .arch aarch64
        ; ldr w0, [x0]
        ; ldr x9, [X(CTX), CONTEXT_CELLS as u32]
        ; str w0, [x9, CELLS_ERRNO as u32]
    );
    e.load_gpr(10, outer);
    e.at(format!("str x10, [x9, #{CELLS_CALLER}]"));
    e.at(format!("ldr w10, [x9, #{CELLS_PENDING}]"));
    e.at("cbnz w10, pending");
    dynasm!(e.ops
        ; .arch aarch64
        ; str x10, [x9, CELLS_CALLER as u32]
        ; ldr w10, [x9, CELLS_PENDING as u32]
        ; cbnz w10, =>pending
    );

    // Hand the result over.
    match spec.result {
        ResultPush::Nothing => e.mov_imm(0, 0),
        ResultPush::Integer(helper) => {
            let ext = integer_push_ext(&plan.ret)?;
            e.mov_reg(0, CALLER);
            e.load_result_int(ext, frame.results + RESULT_GPR);
            e.call(helper);
            e.mov_imm(0, 1);
        }
        ResultPush::Number(helper) => {
            let kind = number_push_kind(&plan.ret)?;
            e.mov_reg(0, CALLER);
            e.load_vec(0, kind, frame.results + RESULT_VEC);
            if kind == PieceKind::F32 {
                e.at("fcvt d0, s0");
                dynasm!(e.ops ; .arch aarch64 ; fcvt d0, s0);
            }
            e.call(helper);
            e.mov_imm(0, 1);
        }
        ResultPush::Generic(helper) => {
            e.mov_reg(0, CALLER);
            e.mov_reg(1, CTX);
            e.sp_address(2, frame.results);
            e.call(helper);
        }
    }
    epilogue(&mut e);

    e.at("bad_count:");
    dynasm!(e.ops ; .arch aarch64 ; =>bad_count);
    e.mov_reg(0, CALLER);
    e.mov_reg(1, CTX);
    e.at("mov w2, w21");
    dynasm!(e.ops ; .arch aarch64 ; mov w2, W(BASE));
    e.call(spec.helpers.count_error);
    e.at("brk #0");
    dynasm!(e.ops ; .arch aarch64 ; brk 0);

    e.at("pending:");
    dynasm!(e.ops ; .arch aarch64 ; =>pending);
    e.mov_reg(0, CALLER);
    e.mov_reg(1, CTX);
    e.call(spec.helpers.pending_error);
    e.at("brk #0");
    dynasm!(e.ops ; .arch aarch64 ; brk 0);

    EmittedStub::new(e.ops.finalize(), direct_offset, &e.listing, CALL_ADDRESS)
}

/// Begins an entry: the landing pad (C calls both entries indirectly), the frame record
/// and the callee-saved registers the stub uses, then reserves the frame, touching each
/// page of a large frame from the top so a stack guard page is never skipped; rounds sp
/// down to the frame's alignment when that is over 16.
fn prologue(e: &mut Emitter, frame: &Frame) {
    e.at("bti c");
    e.ops.extend(LANDING_PAD);
    e.at("stp x29, x30, [sp, #-48]!; mov x29, sp; stp x19, x20, [sp, #16]; str x21, [sp, #32]");
    dynasm!(e.ops
        ; .arch aarch64
        ; stp x29, x30, [sp, -SAVED_BYTES]!
        ; add x29, sp, 0
        ; stp X(CALLER), X(CTX), [sp, 16]
        ; str X(BASE), [sp, 32]
    );
    for probe in frame.probes() {
        e.mov_imm(SCRATCH, u64::from(probe));
        e.at("sub x16, sp, x16; str xzr, [x16]");
        dynasm!(e.ops
            ; .arch aarch64
            ; sub XSP(SCRATCH), sp, X(SCRATCH)
            ; str xzr, [X(SCRATCH)]
        );
    }
    if frame.size <= IMM12 {
        e.at(format!("sub sp, sp, #{}", frame.size));
        dynasm!(e.ops ; .arch aarch64 ; sub sp, sp, frame.size);
    } else {
        e.mov_imm(SCRATCH, u64::from(frame.size));
        e.at("sub sp, sp, x16");
        dynasm!(e.ops ; .arch aarch64 ; sub sp, sp, X(SCRATCH));
    }
    if frame.align > 16 {
        let mask = !(u64::from(frame.align) - 1);
        e.at(format!(
            "mov x16, sp; and x16, x16, #-{}; mov sp, x16",
            frame.align
        ));
        dynasm!(e.ops
            ; .arch aarch64
            ; add XSP(SCRATCH), sp, 0
            ; and XSP(SCRATCH), X(SCRATCH), mask
            ; add sp, XSP(SCRATCH), 0
        );
    }
}

fn epilogue(e: &mut Emitter) {
    e.at("mov sp, x29; ldp x19, x20, [sp, #16]; ldr x21, [sp, #32]; ldp x29, x30, [sp], #48; ret");
    dynasm!(e.ops
        ; .arch aarch64
        ; add sp, x29, 0
        ; ldp X(CALLER), X(CTX), [sp, 16]
        ; ldr X(BASE), [sp, 32]
        ; ldp x29, x30, [sp], SAVED_BYTES
        ; ret
    );
}

/// Byte-level tests of the emitted code, in a plain Vec (they run on every host; the
/// stubs are run under qemu by `tests/run_stub_aarch64.rs`).
#[cfg(test)]
mod tests {
    use super::*;
    use crate::call_stub::{test_helpers, Helpers};
    use jitffi_abi::Piece;

    fn helpers() -> Helpers {
        test_helpers(0x1122_3344_5566_7788)
    }

    fn words(bytes: &[u8]) -> Vec<u32> {
        bytes
            .chunks(4)
            .map(|w| u32::from_le_bytes(w.try_into().unwrap()))
            .collect()
    }

    fn int_arg(loc: Loc) -> ArgPlan {
        ArgPlan::Pieces(vec![Piece {
            offset: 0,
            size: 4,
            kind: PieceKind::Int(Ext::Sign(4)),
            loc,
        }])
    }

    fn spec(args: Vec<ArgPlan>, ret: RetPlan, stack_bytes: u32) -> StubSpec {
        let fetch = ArgFetch::Scalar(Helper {
            address: 0x1000,
            name: "fetch",
        });
        StubSpec {
            args: vec![fetch; args.len()],
            plan: jitffi_abi::CallPlan {
                args,
                ret,
                stack_bytes,
                stack_align: 16,
                vec_regs: 0,
                variadic: false,
            },
            result: ResultPush::Generic(Helper {
                address: 0x2000,
                name: "push",
            }),
            helpers: helpers(),
        }
    }

    #[test]
    fn entries_call_helpers_through_x16_and_load_the_plan_registers() {
        let stub = emit_stub(&spec(
            vec![int_arg(Loc::Gpr(7)), int_arg(Loc::Stack(0))],
            RetPlan::Memory {
                size: 24,
                pointer: Loc::Gpr(8),
            },
            16,
        ))
        .unwrap();
        let code = words(&stub.bytes);
        assert_eq!(code[0], 0xd503_245f, "bti c");
        assert_eq!(code[stub.direct_offset / 4], 0xd503_245f, "bti c");
        // The helper address in four moves, then blr x16.
        let at = code.iter().position(|&w| w == 0xd28e_f110).unwrap();
        assert_eq!(
            code[at..at + 5],
            [
                0xd28e_f110,
                0xf2aa_acd0,
                0xf2c6_6890,
                0xf2e2_2450,
                0xd63f_0200
            ]
        );
        // ldr x16, [x20]; blr x16: the target.
        let call = code.iter().position(|&w| w == 0xf940_0290).unwrap();
        assert_eq!(code[call + 1], 0xd63f_0200);
        let listing = &stub.listing;
        assert!(listing.contains("<address> 00 02 3f d6"), "{listing}");
        // The register argument from its image, the stack one converted in place (sp+0),
        // the result buffer's address in x8.
        assert!(listing.contains("str x0, [sp, #0]"), "{listing}");
        assert!(listing.contains("ldr x7, [sp, #16]"), "{listing}");
        assert!(listing.contains("add x8, sp, #"), "{listing}");
    }

    #[test]
    fn offsets_beyond_the_fields_go_through_x16() {
        let big = ArgPlan::Stack {
            offset: 0,
            size: 40000,
        };
        let mut spec = spec(vec![big, int_arg(Loc::Gpr(0))], RetPlan::Void, 40000);
        spec.args[0] = ArgFetch::Memory {
            helper: Helper {
                address: 0x3000,
                name: "copy",
            },
            size: 40000,
        };
        let stub = emit_stub(&spec).unwrap();
        let listing = &stub.listing;
        // The image of the register argument is at 40000: past ldr's 32760.
        assert!(listing.contains("mov x16, #40000"), "{listing}");
        assert!(listing.contains("ldr x0, [x16, #0]"), "{listing}");
        // Ten pages are probed from the top.
        assert_eq!(
            listing.matches("str xzr, [x16]").count(),
            2 * 9,
            "{listing}"
        );
    }

    #[test]
    fn plans_naming_registers_aapcs64_lacks_are_bugs() {
        let bad = spec(vec![int_arg(Loc::Gpr(9))], RetPlan::Void, 0);
        assert!(emit_stub(&bad).is_err());
        let bad = spec(
            vec![ArgPlan::Pieces(vec![Piece {
                offset: 0,
                size: 8,
                kind: PieceKind::F64,
                loc: Loc::Vec(8),
            }])],
            RetPlan::Void,
            0,
        );
        assert!(emit_stub(&bad).is_err());
    }
}
