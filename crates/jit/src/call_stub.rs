//! Call stubs: one function of machine code per C signature that fetches each argument
//! through a conversion helper, moves the values into registers and stack slots as the
//! signature's [`CallPlan`] says, calls the target, saves `errno`, and hands the result
//! to a push helper (x86-64 System V). Around the call it keeps its owner's
//! [`CallCells`]: `caller` names the innermost call in progress (what a callback runs
//! on), and a `pending_error` left by a callback is raised when the call returns.
//!
//! The stub knows nothing of Lua: its first argument, `caller`, is passed unchanged to
//! every helper, and the helpers (supplied in [`StubSpec`]) do the conversions. A stub
//! has two entries:
//!
//! - the *caller entry* `fn(caller) -> c_int` (a `lua_CFunction`): gets the
//!   [`CallContext`] from the `context` helper; arguments start at index 1;
//! - the *direct entry* `fn(caller, ctx, base) -> c_int`: the context and the index of
//!   the first argument are given (calls through a function-pointer cdata, variadic
//!   calls).
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
//! Every argument is converted before any argument register is loaded, so helpers may
//! clobber every caller-saved register. A helper that raises a Lua error longjmps out of
//! the stub: the stub owns nothing, so that is safe.

use crate::code::{publish, PublishedCode};
use dynasmrt::x64::X64Relocation;
use dynasmrt::{dynasm, DynasmApi, DynasmLabelApi, VecAssembler};
use jitffi_abi::{ArgPlan, CallPlan, Ext, Loc, Piece, PieceKind, RetPlan};
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void};
use std::fmt::{self, Write as _};
use std::sync::{Mutex, OnceLock};

/// What a stub reads about the function it calls. The owner keeps it alive for the
/// duration of the call.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct CallContext {
    /// The C function to call (offset 0).
    pub target: *const c_void,
    /// The owner's cells the stub reads and writes around the call (offset 8).
    pub cells: *mut CallCells,
    /// For the helpers: the owner's description of the signature.
    pub owner: *const c_void,
    /// For the helpers' messages: the function's name (NUL-terminated) or null.
    pub name: *const c_char,
}

const CONTEXT_TARGET: i32 = 0;
const CONTEXT_CELLS: i32 = 8;

/// Words the stub keeps up to date for its owner (one per Lua state in crates/ffi).
#[repr(C)]
#[derive(Debug)]
pub struct CallCells {
    /// `errno` as the target left it, saved right after the call.
    pub errno: c_int,
    /// Nonzero when something the call ran (a callback) left an error to raise: after
    /// the call the stub hands over to `Helpers::pending_error` instead of pushing the
    /// result.
    pub pending_error: c_int,
    /// The `caller` of the innermost call in progress: set for the call's duration and
    /// restored after it, so that a callback knows whose stack to run on.
    pub caller: *mut c_void,
}

const CELLS_ERRNO: i32 = 0;
const CELLS_PENDING: i32 = 4;
const CELLS_CALLER: i32 = 8;

/// What the stub saves of the call's result, for a [`ResultPush::Generic`] helper.
#[repr(C)]
pub struct ResultArea {
    pub rax: u64,
    pub rdx: u64,
    pub xmm0: [u8; 16],
    pub xmm1: [u8; 16],
    /// `long double` results, as 80-bit values in 16-byte slots.
    pub st0: [u8; 16],
    pub st1: [u8; 16],
    /// The cells' `caller` before the call, restored after it.
    pub outer_caller: u64,
    _pad: u64,
    /// The buffer a result returned in memory was written to follows here.
    pub memory: [u8; 0],
}

const RESULT_AREA_BYTES: u32 = std::mem::size_of::<ResultArea>() as u32;
const OUTER_CALLER: i32 = std::mem::offset_of!(ResultArea, outer_caller) as i32;

/// A function the stub calls, with the name listings show.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub struct Helper {
    pub address: usize,
    pub name: &'static str,
}

/// The helpers every stub of a caller kind uses.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub struct Helpers {
    /// `fn(caller) -> *const CallContext`, for the caller entry.
    pub context: Helper,
    /// `fn(caller) -> c_int`: the index of the last argument (`lua_gettop`).
    pub arg_count: Helper,
    /// `fn(caller, ctx, base: c_int)`: reports a wrong argument count; never returns.
    pub count_error: Helper,
    /// `fn() -> *mut c_int`: the calling thread's `errno`.
    pub errno_location: Helper,
    /// `fn(caller, ctx)`: raises the error the cells say is pending; never returns.
    pub pending_error: Helper,
}

/// How one argument is converted.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum ArgFetch {
    /// `helper(caller, index, ctx, param, null) -> u64`: the value, integers extended to
    /// 64 bits as the plan's extension says, floating point as its bit pattern.
    Scalar(Helper),
    /// `helper(caller, index, ctx, param, dst)` writes the `size`-byte value at `dst`
    /// (16-aligned, zero-padded to 16 bytes or written into its stack slot).
    Memory { helper: Helper, size: u32 },
}

/// How the result reaches the caller.
#[derive(Copy, Clone, PartialEq, Eq, Hash, Debug)]
pub enum ResultPush {
    /// No result; the stub returns 0.
    Nothing,
    /// `helper(caller, value)` with the integer result extended to 64 bits as the plan
    /// says (`lua_pushinteger`, `lua_pushboolean`); the stub returns 1.
    Integer(Helper),
    /// `helper(caller, value: f64)` with a `float` result widened (`lua_pushnumber`);
    /// the stub returns 1.
    Number(Helper),
    /// `helper(caller, ctx, results: *const ResultArea) -> c_int`, whose result the stub
    /// returns.
    Generic(Helper),
}

/// Everything a stub's code depends on: equal specs make identical code, so stubs are
/// shared through [`stub_for`].
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct StubSpec {
    pub plan: CallPlan,
    pub args: Vec<ArgFetch>,
    pub result: ResultPush,
    pub helpers: Helpers,
}

/// Why no stub could be made.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct JitError {
    pub message: String,
}

impl fmt::Display for JitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for JitError {}

fn error(message: impl Into<String>) -> JitError {
    JitError {
        message: message.into(),
    }
}

/// Frames larger than this are refused: a by-value argument this big is a mistake, and
/// the stack it would take is not probed beyond it.
pub const MAX_FRAME_BYTES: u32 = 1 << 20;
/// Stack pages are touched one by one (from the top) when a frame is larger than this,
/// so that the guard page of a thread's stack is never jumped over.
const PAGE_BYTES: u32 = 4096;

/// Machine code for one spec, published and never freed.
#[derive(Debug)]
pub struct CallStub {
    code: PublishedCode,
    direct_offset: usize,
    listing: String,
}

/// The caller entry: `fn(caller) -> c_int`.
pub type CallerEntry = unsafe extern "C-unwind" fn(caller: *mut c_void) -> c_int;
/// The direct entry: `fn(caller, ctx, base) -> c_int`.
pub type DirectEntry =
    unsafe extern "C-unwind" fn(caller: *mut c_void, ctx: *const CallContext, base: c_int) -> c_int;

impl CallStub {
    pub fn caller_entry(&self) -> CallerEntry {
        // SAFETY: offset 0 starts the caller entry, which has this signature (see
        // `emit`); the code lives for the whole process.
        unsafe { std::mem::transmute::<*const u8, CallerEntry>(self.code.address(0)) }
    }

    pub fn direct_entry(&self) -> DirectEntry {
        // SAFETY: `direct_offset` starts the direct entry, which has this signature.
        unsafe {
            std::mem::transmute::<*const u8, DirectEntry>(self.code.address(self.direct_offset))
        }
    }

    /// The instructions with their offsets and bytes, one per line (`--disasm`).
    pub fn listing(&self) -> &str {
        &self.listing
    }
}

/// The stub for `spec`: made on first use, then shared by every caller in the process.
pub fn stub_for(spec: &StubSpec) -> Result<&'static CallStub, JitError> {
    static STUBS: OnceLock<Mutex<HashMap<StubSpec, &'static CallStub>>> = OnceLock::new();
    let stubs = STUBS.get_or_init(Default::default);
    // A poisoned lock only means another thread panicked while compiling; the map itself
    // is always consistent (entries are inserted whole).
    let mut stubs = stubs
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(stub) = stubs.get(spec) {
        return Ok(stub);
    }
    let (bytes, direct_offset, listing) = emit(spec)?;
    let code = publish(&bytes).map_err(|e| error(format!("cannot map code memory: {e}")))?;
    let stub: &'static CallStub = Box::leak(Box::new(CallStub {
        code,
        direct_offset,
        listing,
    }));
    stubs.insert(spec.clone(), stub);
    Ok(stub)
}

/// The listing of the code `spec` makes, without publishing it.
pub fn listing_for(spec: &StubSpec) -> Result<String, JitError> {
    emit(spec).map(|(_, _, listing)| listing)
}

// ---- code generation -------------------------------------------------------------------

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

/// Where each argument's converted value lives in the frame.
struct Frame {
    images: Vec<u32>,
    results: u32,
    size: u32,
    /// The alignment of rsp in the body (the plan's stack alignment): beyond 16 the
    /// prologue rounds rsp down to it.
    align: u32,
}

fn frame_of(spec: &StubSpec) -> Result<Frame, JitError> {
    let plan = &spec.plan;
    if plan.args.len() != spec.args.len() {
        return Err(error("bug: plan and argument fetches differ in length"));
    }
    let mut next = plan.stack_bytes.next_multiple_of(16);
    let mut images = Vec::with_capacity(plan.args.len());
    for (arg, fetch) in plan.args.iter().zip(&spec.args) {
        let size = match fetch {
            ArgFetch::Scalar(_) => 8,
            ArgFetch::Memory { size, .. } => *size,
        };
        let image = match arg {
            ArgPlan::Stack {
                offset,
                size: stack_size,
            } => {
                if *stack_size != size {
                    return Err(error("bug: stack argument size differs from its fetch"));
                }
                *offset
            }
            ArgPlan::Pieces(pieces) => match pieces.as_slice() {
                [Piece {
                    loc: Loc::Stack(offset),
                    ..
                }] if size <= 8 => *offset,
                pieces if pieces.iter().any(|p| matches!(p.loc, Loc::Stack(_))) => {
                    return Err(error("bug: an argument split between registers and stack"));
                }
                _ => take(&mut next, size)?,
            },
            ArgPlan::Nothing => take(&mut next, size)?,
            ArgPlan::Indirect { .. } => {
                return Err(error("bug: x86-64 passes nothing by reference"))
            }
        };
        images.push(image);
    }
    let memory = match plan.ret {
        RetPlan::Memory { size, .. } => size,
        _ => 0,
    };
    let results = take(&mut next, RESULT_AREA_BYTES + memory)?;
    let align = plan.stack_align.max(16);
    if !align.is_power_of_two() || next.saturating_add(align) > MAX_FRAME_BYTES {
        return Err(error("arguments too large for a C call"));
    }
    Ok(Frame {
        images,
        results,
        size: next,
        align,
    })
}

/// Reserves a 16-aligned, 16-padded block of `size` bytes at `*next`.
fn take(next: &mut u32, size: u32) -> Result<u32, JitError> {
    let at = *next;
    *next = size
        .max(1)
        .checked_next_multiple_of(16)
        .and_then(|s| at.checked_add(s))
        .filter(|&end| end <= MAX_FRAME_BYTES)
        .ok_or_else(|| error("arguments too large for a C call"))?;
    Ok(at)
}

/// An assembler that also writes a listing line per instruction.
struct Emitter {
    ops: VecAssembler<X64Relocation>,
    lines: Vec<Line>,
}

/// One listing line: where its bytes start, its text, and whether its bytes hold a
/// helper's absolute address (shown as `<address>` so that listings are the same in
/// every process).
struct Line {
    offset: usize,
    text: String,
    address: bool,
}

impl Emitter {
    fn at(&mut self, text: impl Into<String>) {
        let offset = self.ops.offset().0;
        self.lines.push(Line {
            offset,
            text: text.into(),
            address: false,
        });
    }

    fn call(&mut self, helper: Helper) {
        self.at(format!("call {}", helper.name));
        if let Some(line) = self.lines.last_mut() {
            line.address = true;
        }
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
fn emit(spec: &StubSpec) -> Result<(Vec<u8>, usize, String), JitError> {
    let frame = frame_of(spec)?;
    let plan = &spec.plan;
    let mut e = Emitter {
        ops: VecAssembler::new(0),
        lines: Vec::new(),
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
    for (arg, &image) in plan.args.iter().zip(&frame.images) {
        if let ArgPlan::Pieces(pieces) = arg {
            for piece in pieces {
                if let Loc::Vec(n) = piece.loc {
                    e.load_vec(n, piece.kind, image + piece.offset);
                }
            }
        }
    }
    for (arg, &image) in plan.args.iter().zip(&frame.images) {
        if let ArgPlan::Pieces(pieces) = arg {
            for piece in pieces {
                if let Loc::Gpr(n) = piece.loc {
                    let reg = *ARG_GPRS
                        .get(usize::from(n))
                        .ok_or_else(|| error("bug: no such argument register"))?;
                    e.load_gpr(reg, image + piece.offset);
                }
            }
        }
    }
    if let RetPlan::Memory { pointer, .. } = plan.ret {
        let Loc::Gpr(n) = pointer else {
            return Err(error("bug: result buffer pointer not in a register"));
        };
        e.lea_frame(ARG_GPRS[usize::from(n)], frame.results + RESULT_AREA_BYTES);
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
    e.at(format!("mov [rsp+{r}], rax"));
    e.at(format!("mov [rsp+{}], rdx", r + 8));
    e.at(format!("movups [rsp+{}], xmm0", r + 16));
    e.at(format!("movups [rsp+{}], xmm1", r + 32));
    dynasm!(e.ops
        ; .arch x64
        ; mov QWORD [rsp + r], rax
        ; mov QWORD [rsp + r + 8], rdx
        ; movups OWORD [rsp + r + 16], xmm0
        ; movups OWORD [rsp + r + 32], xmm1
    );
    if let RetPlan::X87 { parts } = plan.ret {
        for part in 0..i32::from(parts) {
            let d = r + 48 + 16 * part;
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
            let ext = match &plan.ret {
                RetPlan::Pieces(pieces) => match pieces.as_slice() {
                    [Piece {
                        kind: PieceKind::Int(ext),
                        loc: Loc::Gpr(0),
                        ..
                    }] => *ext,
                    _ => return Err(error("bug: integer push of a non-integer result")),
                },
                _ => return Err(error("bug: integer push of a non-register result")),
            };
            e.mov_reg(RDI, 3);
            e.load_result_int(ext, frame.results);
            e.call(helper);
            e.at("mov eax, 1");
            dynasm!(e.ops ; .arch x64 ; mov eax, 1);
        }
        ResultPush::Number(helper) => {
            let kind = match &plan.ret {
                RetPlan::Pieces(pieces) => match pieces.as_slice() {
                    [Piece {
                        kind: kind @ (PieceKind::F32 | PieceKind::F64),
                        loc: Loc::Vec(0),
                        ..
                    }] => *kind,
                    _ => return Err(error("bug: number push of a non-float result")),
                },
                _ => return Err(error("bug: number push of a non-register result")),
            };
            e.mov_reg(RDI, 3);
            let d = r + 16;
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

    let lines = std::mem::take(&mut e.lines);
    let bytes = e
        .ops
        .finalize()
        .map_err(|err| error(format!("bug: assembling a call stub failed: {err}")))?;
    Ok((bytes.clone(), direct_offset, render_listing(&bytes, &lines)))
}

/// Saves the callee-saved registers the stub uses and reserves the frame, touching each
/// page of a large frame from the top so a stack guard page is never skipped; rounds rsp
/// down to the frame's alignment when that is over 16.
fn prologue(e: &mut Emitter, frame: &Frame) {
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
    // Rounding down takes up to `align - 16` bytes more.
    let reserved = frame.size + (frame.align - 16);
    let mut probe = PAGE_BYTES;
    while probe < reserved {
        let d = -(probe as i32);
        e.at(format!("or qword [rsp-{probe}], 0"));
        dynasm!(e.ops ; .arch x64 ; or QWORD [rsp + d], 0);
        probe += PAGE_BYTES;
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

/// One line per listed instruction group: offset, bytes, text.
fn render_listing(bytes: &[u8], lines: &[Line]) -> String {
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let start = line.offset;
        let end = lines
            .iter()
            .skip(i + 1)
            .map(|l| l.offset)
            .find(|&o| o >= start)
            .unwrap_or(bytes.len());
        let mut hex: Vec<String> = bytes[start..end]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        if line.address && hex.len() >= 10 {
            // mov rax, imm64: two opcode bytes, then the address.
            hex.splice(2..10, ["<address>".to_owned()]);
        }
        let _ = writeln!(out, "{start:5x}  {:<30} {}", hex.join(" "), line.text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jitffi_abi::{ArgPlan, CallPlan, Ext, Loc, Piece, PieceKind, RetPlan};

    fn helper(name: &'static str) -> Helper {
        Helper {
            address: 0x1000,
            name,
        }
    }

    fn helpers() -> Helpers {
        Helpers {
            context: helper("context"),
            arg_count: helper("arg_count"),
            count_error: helper("count_error"),
            errno_location: helper("errno_location"),
            pending_error: helper("pending_error"),
        }
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
        let frame = frame_of(&spec).unwrap();
        assert_eq!(frame.images, vec![32, 0, 8]);
        assert_eq!(frame.results, 48);
        assert_eq!(
            frame.size,
            48 + (RESULT_AREA_BYTES + 40).next_multiple_of(16)
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
        assert!(emit(&not_a_power_of_two).is_err());
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
        assert!(emit(&spec).is_err());
    }
}
