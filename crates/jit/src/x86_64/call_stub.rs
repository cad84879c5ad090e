//! x86-64 System V call stubs: the code for a [`StubSpec`] (see `crate::call_stub` for
//! what a stub does and [`Frame`] for its layout).
//!
//! ```text
//!   stub frame (rsp 16-aligned after the prologue, or aligned to the plan's stack_align
//!   when that is more; rbx = caller, r12 = ctx, r13 = base)
//!   rsp+0        outgoing stack arguments (CallPlan::stack_bytes); stack-passed values
//!                are converted straight into their slots
//!   rsp+images   one image per register-passed argument: the helper's 8-byte result,
//!                or the aggregate the helper wrote (16-aligned, padded to 16)
//!   rsp+results  ResultArea: rax, rdx, xmm0, xmm1, st0, st1, the outer caller, then the buffer of a
//!                result returned in memory
//!   (saved rbp, rbx, r12, r13, r14, return address)
//! ```
//!
//! Both entries begin with ENDBR64: C (Lua) calls them through pointers.

use super::frames::{ResultArea, OUTER_CALLER, RESULT_GPR, RESULT_VEC, RESULT_X87};
use super::LANDING_PAD;
use crate::call_stub::{
    error, frame_of, integer_push_ext, number_push_kind, register_loads, ArgFetch, EmittedStub,
    Frame, Helper, JitError, ResultPush, StubSpec, CELLS_CALLER, CELLS_ERRNO, CELLS_PENDING,
    CONTEXT_CELLS, CONTEXT_TARGET,
};
use crate::listing::Listing;
use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, DynasmApi, DynasmLabelApi, VecAssembler};
use jitffi_abi::{ArgPlan, Ext, Loc, PieceKind, RetPlan};

/// x86-64 register numbers.
const RAX: u8 = 0;
const RCX: u8 = 1;
const RDX: u8 = 2;
const RSI: u8 = 6;
const RDI: u8 = 7;
const R8: u8 = 8;
const R9: u8 = 9;
/// Integer argument registers in psABI order (§3.2.3).
const ARG_GPRS: [u8; 6] = [RDI, RSI, RDX, RCX, R8, R9];

fn gpr_name(reg: u8) -> &'static str {
    [
        "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12",
        "r13", "r14", "r15",
    ][usize::from(reg)]
}

/// Where a helper's address sits in the bytes of [`Emitter::call`]: `mov rax, imm64`
/// has two opcode bytes, then the address.
const CALL_ADDRESS: std::ops::Range<usize> = 2..10;

/// An assembler that also writes a listing line per instruction.
struct Emitter {
    ops: VecAssembler<X64Relocation>,
    listing: Listing,
}

impl Emitter {
    fn at(&mut self, text: impl Into<String>) {
        self.listing.line(self.ops.offset().0, text);
    }

    fn call(&mut self, helper: Helper) {
        self.at(format!("call {}", helper.name));
        self.listing.mark_address();
        let address = helper.address as i64;
        dynasm!(self.ops
            ; .arch x64
            ; mov rax, QWORD address
            ; call rax
        );
    }

    fn mov_reg(&mut self, dst: u8, src: u8) {
        self.at(format!("mov {}, {}", gpr_name(dst), gpr_name(src)));
        dynasm!(self.ops ; .arch x64 ; mov Rq(dst), Rq(src));
    }

    fn store_rax(&mut self, disp: u32) {
        self.at(format!("mov [rsp+{disp}], rax"));
        dynasm!(self.ops ; .arch x64 ; mov QWORD [rsp + disp as i32], rax);
    }

    fn lea_frame(&mut self, dst: u8, disp: u32) {
        self.at(format!("lea {}, [rsp+{disp}]", gpr_name(dst)));
        dynasm!(self.ops ; .arch x64 ; lea Rq(dst), [rsp + disp as i32]);
    }

    /// Loads an integer piece into `dst`.
    fn load_gpr(&mut self, dst: u8, disp: u32) {
        self.at(format!("mov {}, [rsp+{disp}]", gpr_name(dst)));
        dynasm!(self.ops ; .arch x64 ; mov Rq(dst), QWORD [rsp + disp as i32]);
    }

    /// Loads a vector piece into xmm`dst`.
    fn load_vec(&mut self, dst: u8, kind: PieceKind, disp: u32) {
        let d = disp as i32;
        match kind {
            PieceKind::F32 => {
                self.at(format!("movss xmm{dst}, [rsp+{disp}]"));
                dynasm!(self.ops ; .arch x64 ; movss Rx(dst), DWORD [rsp + d]);
            }
            PieceKind::V128 => {
                self.at(format!("movups xmm{dst}, [rsp+{disp}]"));
                dynasm!(self.ops ; .arch x64 ; movups Rx(dst), OWORD [rsp + d]);
            }
            _ => {
                self.at(format!("movsd xmm{dst}, [rsp+{disp}]"));
                dynasm!(self.ops ; .arch x64 ; movsd Rx(dst), QWORD [rsp + d]);
            }
        }
    }

    /// Loads the integer result saved at `disp` into rsi, extended as `ext` says.
    fn load_result_int(&mut self, ext: Ext, disp: u32) {
        let d = disp as i32;
        match ext {
            Ext::Sign(1) => {
                self.at(format!("movsx rsi, byte [rsp+{disp}]"));
                dynasm!(self.ops ; .arch x64 ; movsx rsi, BYTE [rsp + d]);
            }
            Ext::Sign(2) => {
                self.at(format!("movsx rsi, word [rsp+{disp}]"));
                dynasm!(self.ops ; .arch x64 ; movsx rsi, WORD [rsp + d]);
            }
            Ext::Sign(4) => {
                self.at(format!("movsxd rsi, dword [rsp+{disp}]"));
                dynasm!(self.ops ; .arch x64 ; movsxd rsi, DWORD [rsp + d]);
            }
            Ext::Zero(1) => {
                self.at(format!("movzx esi, byte [rsp+{disp}]"));
                dynasm!(self.ops ; .arch x64 ; movzx esi, BYTE [rsp + d]);
            }
            Ext::Zero(2) => {
                self.at(format!("movzx esi, word [rsp+{disp}]"));
                dynasm!(self.ops ; .arch x64 ; movzx esi, WORD [rsp + d]);
            }
            Ext::Zero(4) => {
                self.at(format!("mov esi, dword [rsp+{disp}]"));
                dynasm!(self.ops ; .arch x64 ; mov esi, DWORD [rsp + d]);
            }
            _ => self.load_gpr(RSI, disp),
        }
    }
}

/// Emits the stub: its bytes, the offset of the direct entry, and the listing.
pub fn emit_stub(spec: &StubSpec) -> Result<EmittedStub, JitError> {
    let frame = frame_of(spec, ResultArea::BYTES)?;
    let plan = &spec.plan;
    if plan
        .args
        .iter()
        .any(|a| matches!(a, ArgPlan::Indirect { .. }))
    {
        return Err(error("bug: x86-64 System V passes nothing by reference"));
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
    e.mov_reg(3, RDI);
    e.call(spec.helpers.context);
    e.mov_reg(12, RAX);
    e.at("mov r13d, 1");
    dynasm!(e.ops ; .arch x64 ; mov r13d, 1);
    e.at("jmp body");
    dynasm!(e.ops ; .arch x64 ; jmp =>body);

    // Direct entry: fn(caller, ctx, base).
    let direct_offset = e.ops.offset().0;
    e.at("; direct entry");
    prologue(&mut e, &frame);
    e.mov_reg(3, RDI);
    e.mov_reg(12, RSI);
    e.at("mov r13d, edx");
    dynasm!(e.ops ; .arch x64 ; mov r13d, edx);

    e.at("body:");
    dynasm!(e.ops ; .arch x64 ; =>body);
    // The argument count must be exact: index of the last argument == base + n - 1.
    e.mov_reg(RDI, 3);
    e.call(spec.helpers.arg_count);
    let last = spec.args.len() as i32 - 1;
    e.at(format!("lea ecx, [r13+{last}]"));
    e.at("cmp eax, ecx");
    e.at("jne bad_count");
    dynasm!(e.ops
        ; .arch x64
        ; lea ecx, [r13 + last]
        ; cmp eax, ecx
        ; jne =>bad_count
    );

    // Convert every argument into its image.
    for (param, (fetch, &image)) in spec.args.iter().zip(&frame.images).enumerate() {
        let param = param as i32;
        e.mov_reg(RDI, 3);
        e.at(format!("lea esi, [r13+{param}]"));
        dynasm!(e.ops ; .arch x64 ; lea esi, [r13 + param]);
        e.mov_reg(RDX, 12);
        e.at(format!("mov ecx, {param}"));
        dynasm!(e.ops ; .arch x64 ; mov ecx, param);
        match fetch {
            ArgFetch::Scalar(helper) => {
                e.at("xor r8d, r8d");
                dynasm!(e.ops ; .arch x64 ; xor r8d, r8d);
                e.call(*helper);
                e.store_rax(image);
            }
            ArgFetch::Memory { helper, .. } => {
                e.lea_frame(R8, image);
                e.call(*helper);
            }
        }
    }

    // The cells' caller is this call's for its duration (before any argument register is loaded).
    let r = frame.results as i32;
    let outer = r + OUTER_CALLER;
    e.at(format!("mov rcx, [r12+{CONTEXT_CELLS}]"));
    e.at(format!("mov rax, [rcx+{CELLS_CALLER}]"));
    e.at(format!("mov [rsp+{outer}], rax"));
    e.at(format!("mov [rcx+{CELLS_CALLER}], rbx"));
    dynasm!(e.ops
        ; .arch x64
        ; mov rcx, QWORD [r12 + CONTEXT_CELLS]
        ; mov rax, QWORD [rcx + CELLS_CALLER]
        ; mov QWORD [rsp + outer], rax
        ; mov QWORD [rcx + CELLS_CALLER], rbx
    );
    // Load the registers: vector registers, then integer registers.
    for (piece, disp) in register_loads(plan, &frame.images) {
        match piece.loc {
            Loc::Vec(n) => e.load_vec(n, piece.kind, disp),
            Loc::Gpr(n) => {
                let reg = *ARG_GPRS
                    .get(usize::from(n))
                    .ok_or_else(|| error("bug: no such argument register"))?;
                e.load_gpr(reg, disp);
            }
            Loc::Stack(_) => {}
        }
    }
    if let RetPlan::Memory { pointer, .. } = plan.ret {
        let Loc::Gpr(n) = pointer else {
            return Err(error("bug: result buffer pointer not in a register"));
        };
        e.lea_frame(ARG_GPRS[usize::from(n)], frame.results + ResultArea::BYTES);
    }
    if plan.variadic {
        // %al: an upper bound on the vector registers used (§3.2.3, "Variable Argument
        // Lists").
        let count = i32::from(plan.vec_regs);
        e.at(format!("mov eax, {count}"));
        dynasm!(e.ops ; .arch x64 ; mov eax, count);
    }
    e.at(format!("mov r11, [r12+{CONTEXT_TARGET}]"));
    e.at("call r11");
    dynasm!(e.ops
        ; .arch x64
        ; mov r11, QWORD [r12 + CONTEXT_TARGET]
        ; call r11
    );

    // Save the result registers, then errno; restore the cells' caller.
    let (g, v) = (r + RESULT_GPR, r + RESULT_VEC);
    e.at(format!("mov [rsp+{g}], rax"));
    e.at(format!("mov [rsp+{}], rdx", g + 8));
    e.at(format!("movups [rsp+{v}], xmm0"));
    e.at(format!("movups [rsp+{}], xmm1", v + 16));
    dynasm!(e.ops
        ; .arch x64
        ; mov QWORD [rsp + g], rax
        ; mov QWORD [rsp + g + 8], rdx
        ; movups OWORD [rsp + v], xmm0
        ; movups OWORD [rsp + v + 16], xmm1
    );
    if let RetPlan::X87 { parts } = plan.ret {
        for part in 0..i32::from(parts) {
            let d = r + RESULT_X87 + 16 * part;
            e.at(format!("fstp tword [rsp+{d}]"));
            dynasm!(e.ops ; .arch x64 ; fstp TWORD [rsp + d]);
        }
    }
    e.call(spec.helpers.errno_location);
    e.at("mov eax, [rax]");
    e.at(format!("mov rcx, [r12+{CONTEXT_CELLS}]"));
    e.at(format!("mov [rcx+{CELLS_ERRNO}], eax"));
    e.at(format!("mov rax, [rsp+{outer}]"));
    e.at(format!("mov [rcx+{CELLS_CALLER}], rax"));
    e.at(format!("cmp dword [rcx+{CELLS_PENDING}], 0"));
    e.at("jne pending");
    dynasm!(e.ops
        ; .arch x64
        ; mov eax, DWORD [rax]
        ; mov rcx, QWORD [r12 + CONTEXT_CELLS]
        ; mov DWORD [rcx + CELLS_ERRNO], eax
        ; mov rax, QWORD [rsp + outer]
        ; mov QWORD [rcx + CELLS_CALLER], rax
        ; cmp DWORD [rcx + CELLS_PENDING], 0
        ; jne =>pending
    );

    // Hand the result over.
    match spec.result {
        ResultPush::Nothing => {
            e.at("xor eax, eax");
            dynasm!(e.ops ; .arch x64 ; xor eax, eax);
        }
        ResultPush::Integer(helper) => {
            let ext = integer_push_ext(&plan.ret)?;
            e.mov_reg(RDI, 3);
            e.load_result_int(ext, frame.results + RESULT_GPR as u32);
            e.call(helper);
            e.at("mov eax, 1");
            dynasm!(e.ops ; .arch x64 ; mov eax, 1);
        }
        ResultPush::Number(helper) => {
            let kind = number_push_kind(&plan.ret)?;
            e.mov_reg(RDI, 3);
            let d = r + RESULT_VEC;
            if kind == PieceKind::F32 {
                e.at(format!("cvtss2sd xmm0, [rsp+{d}]"));
                dynasm!(e.ops ; .arch x64 ; cvtss2sd xmm0, DWORD [rsp + d]);
            } else {
                e.at(format!("movsd xmm0, [rsp+{d}]"));
                dynasm!(e.ops ; .arch x64 ; movsd xmm0, QWORD [rsp + d]);
            }
            e.call(helper);
            e.at("mov eax, 1");
            dynasm!(e.ops ; .arch x64 ; mov eax, 1);
        }
        ResultPush::Generic(helper) => {
            e.mov_reg(RDI, 3);
            e.mov_reg(RSI, 12);
            e.lea_frame(RDX, frame.results);
            e.call(helper);
        }
    }
    epilogue(&mut e, &frame);

    e.at("bad_count:");
    dynasm!(e.ops ; .arch x64 ; =>bad_count);
    e.mov_reg(RDI, 3);
    e.mov_reg(RSI, 12);
    e.at("mov edx, r13d");
    dynasm!(e.ops ; .arch x64 ; mov edx, r13d);
    e.call(spec.helpers.count_error);
    e.at("ud2");
    dynasm!(e.ops ; .arch x64 ; ud2);

    e.at("pending:");
    dynasm!(e.ops ; .arch x64 ; =>pending);
    e.mov_reg(RDI, 3);
    e.mov_reg(RSI, 12);
    e.call(spec.helpers.pending_error);
    e.at("ud2");
    dynasm!(e.ops ; .arch x64 ; ud2);

    EmittedStub::new(e.ops.finalize(), direct_offset, &e.listing, CALL_ADDRESS)
}

/// Begins an entry: the landing pad (C calls both entries indirectly), then saves the
/// callee-saved registers the stub uses and reserves the frame, touching each
/// page of a large frame from the top so a stack guard page is never skipped; rounds rsp
/// down to the frame's alignment when that is over 16.
fn prologue(e: &mut Emitter, frame: &Frame) {
    e.at("endbr64");
    e.ops.extend(LANDING_PAD);
    e.at("push rbp; mov rbp, rsp; push rbx; push r12; push r13; push r14");
    dynasm!(e.ops
        ; .arch x64
        ; push rbp
        ; mov rbp, rsp
        ; push rbx
        ; push r12
        ; push r13
        ; push r14
    );
    for probe in frame.probes() {
        let d = -(probe as i32);
        e.at(format!("or qword [rsp-{probe}], 0"));
        dynasm!(e.ops ; .arch x64 ; or QWORD [rsp + d], 0);
    }
    let f = frame.size as i32;
    e.at(format!("sub rsp, {}", frame.size));
    dynasm!(e.ops ; .arch x64 ; sub rsp, f);
    if frame.align > 16 {
        let mask = -(frame.align as i32);
        e.at(format!("and rsp, -{}", frame.align));
        dynasm!(e.ops ; .arch x64 ; and rsp, mask);
    }
}

fn epilogue(e: &mut Emitter, frame: &Frame) {
    if frame.align > 16 {
        // rsp was rounded down: the saved registers are found from rbp.
        e.at("lea rsp, [rbp-32]; pop r14; pop r13; pop r12; pop rbx; pop rbp; ret");
        dynasm!(e.ops ; .arch x64 ; lea rsp, [rbp - 32]);
    } else {
        let f = frame.size as i32;
        e.at(format!(
            "add rsp, {}; pop r14; pop r13; pop r12; pop rbx; pop rbp; ret",
            frame.size
        ));
        dynasm!(e.ops ; .arch x64 ; add rsp, f);
    }
    dynasm!(e.ops
        ; .arch x64
        ; pop r14
        ; pop r13
        ; pop r12
        ; pop rbx
        ; pop rbp
        ; ret
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call_stub::{listing_for, test_helpers, Helpers, MAX_FRAME_BYTES};
    use jitffi_abi::{ArgPlan, CallPlan, Ext, Loc, Piece, PieceKind, RetPlan};

    fn helper(name: &'static str) -> Helper {
        Helper {
            address: 0x1000,
            name,
        }
    }

    fn helpers() -> Helpers {
        test_helpers(0x1000)
    }

    fn int_piece(loc: Loc) -> Piece {
        Piece {
            offset: 0,
            size: 4,
            kind: PieceKind::Int(Ext::Sign(4)),
            loc,
        }
    }

    #[test]
    fn frame_puts_stack_arguments_in_place_and_registers_in_images() {
        let spec = StubSpec {
            plan: CallPlan {
                args: vec![
                    ArgPlan::Pieces(vec![int_piece(Loc::Gpr(0))]),
                    ArgPlan::Pieces(vec![int_piece(Loc::Stack(0))]),
                    ArgPlan::Stack {
                        offset: 8,
                        size: 24,
                    },
                ],
                ret: RetPlan::Memory {
                    size: 40,
                    pointer: Loc::Gpr(0),
                },
                stack_bytes: 32,
                stack_align: 16,
                vec_regs: 0,
                variadic: false,
            },
            args: vec![
                ArgFetch::Scalar(helper("a")),
                ArgFetch::Scalar(helper("b")),
                ArgFetch::Memory {
                    helper: helper("c"),
                    size: 24,
                },
            ],
            result: ResultPush::Generic(helper("push")),
            helpers: helpers(),
        };
        let frame = frame_of(&spec, ResultArea::BYTES).unwrap();
        assert_eq!(frame.images, vec![32, 0, 8]);
        assert_eq!(frame.results, 48);
        assert_eq!(
            frame.size,
            48 + (ResultArea::BYTES + 40).next_multiple_of(16)
        );
        let listing = listing_for(&spec).unwrap();
        assert!(listing.contains("lea rdi, [rsp+144]"), "{listing}");
        assert!(listing.contains("call push"), "{listing}");
    }

    #[test]
    fn over_aligned_stack_arguments_align_the_frame() {
        // A 32-aligned struct on the stack: rsp is rounded down to 32 after the frame is
        // reserved, and restored from rbp.
        let spec = StubSpec {
            plan: CallPlan {
                args: vec![ArgPlan::Stack {
                    offset: 0,
                    size: 32,
                }],
                ret: RetPlan::Void,
                stack_bytes: 32,
                stack_align: 32,
                vec_regs: 0,
                variadic: false,
            },
            args: vec![ArgFetch::Memory {
                helper: helper("w"),
                size: 32,
            }],
            result: ResultPush::Nothing,
            helpers: helpers(),
        };
        let listing = listing_for(&spec).unwrap();
        assert_eq!(listing.matches("and rsp, -32").count(), 2, "{listing}");
        assert!(listing.contains("lea rsp, [rbp-32]; pop r14"), "{listing}");
        let mut not_a_power_of_two = spec.clone();
        not_a_power_of_two.plan.stack_align = 48;
        assert!(emit_stub(&not_a_power_of_two).is_err());
    }

    #[test]
    fn huge_frames_are_refused() {
        let spec = StubSpec {
            plan: CallPlan {
                args: vec![ArgPlan::Stack {
                    offset: 0,
                    size: MAX_FRAME_BYTES,
                }],
                ret: RetPlan::Void,
                stack_bytes: MAX_FRAME_BYTES,
                stack_align: 16,
                vec_regs: 0,
                variadic: false,
            },
            args: vec![ArgFetch::Memory {
                helper: helper("big"),
                size: MAX_FRAME_BYTES,
            }],
            result: ResultPush::Nothing,
            helpers: helpers(),
        };
        assert!(emit_stub(&spec).is_err());
    }
}
