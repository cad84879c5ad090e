//! Call stubs, the architecture-neutral part: what a stub is made from ([`StubSpec`]:
//! the signature's [`CallPlan`], the conversion helpers, how the result is pushed), what
//! it reads and keeps up to date ([`CallContext`], [`CallCells`]), the layout of its
//! frame ([`Frame`]: offsets, stack probes, the order registers are loaded in), what
//! every emitter checks of a plan before it pushes a result, and the process-wide cache
//! of published stubs ([`stub_for`]). The code itself is emitted by the architecture's
//! `call_stub` module (`crate::arch::emit_stub`, an [`EmittedStub`] with its listing),
//! which follows the plan exactly.
//!
//! A stub fetches each argument through a conversion helper, moves the values into
//! registers and stack slots as the plan says, calls the target, saves `errno`, and hands
//! the result to a push helper. Around the call it keeps its owner's [`CallCells`]:
//! `caller` names the innermost call in progress (what a callback runs on), and a
//! `pending_error` left by a callback is raised when the call returns.
//!
//! The stub knows nothing of Lua: its first argument, `caller`, is passed unchanged to
//! every helper, and the helpers (supplied in [`StubSpec`]) do the conversions. A stub
//! has two entries, both called indirectly (so both begin with the architecture's
//! landing pad):
//!
//! - the *caller entry* `fn(caller) -> c_int` (a `lua_CFunction`): gets the
//!   [`CallContext`] from the `context` helper; arguments start at index 1;
//! - the *direct entry* `fn(caller, ctx, base) -> c_int`: the context and the index of
//!   the first argument are given (calls through a function-pointer cdata, variadic
//!   calls).
//!
//! Every argument is converted before any argument register is loaded, so helpers may
//! clobber every caller-saved register. A helper that raises a Lua error longjmps out of
//! the stub: the stub owns nothing, so that is safe.

use crate::arch;
use crate::code::{publish, PublishedCode};
use crate::listing::Listing;
use jitffi_abi::{ArgPlan, CallPlan, Convention, Ext, Loc, Piece, PieceKind, RetPlan};
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void};
use std::fmt;
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

pub(crate) const CONTEXT_TARGET: i32 = 0;
pub(crate) const CONTEXT_CELLS: i32 = 8;

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

pub(crate) const CELLS_ERRNO: i32 = 0;
pub(crate) const CELLS_PENDING: i32 = 4;
pub(crate) const CELLS_CALLER: i32 = 8;

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

pub(crate) fn error(message: impl Into<String>) -> JitError {
    JitError {
        message: message.into(),
    }
}

/// The bytes an assembler finalized into, or the bug that it could not (`what`: "a call
/// stub", "a callback entry").
pub(crate) fn assembled_code(
    what: &str,
    assembled: Result<Vec<u8>, impl fmt::Display>,
) -> Result<Vec<u8>, JitError> {
    assembled.map_err(|err| error(format!("bug: assembling {what} failed: {err}")))
}

/// Frames larger than this are refused: a by-value argument this big is a mistake, and
/// the stack it would take is not probed beyond it.
pub const MAX_FRAME_BYTES: u32 = 1 << 20;
/// The largest alignment of a by-reference copy in a stub's frame.
const MAX_COPY_ALIGN: u32 = 4096;
/// Stack pages are touched one by one (from the top) when a frame is larger than this,
/// so that the guard page of a thread's stack is never jumped over.
const PAGE_BYTES: u32 = 4096;

/// A stub's code before publication, as an architecture's `emit_stub` returns it.
pub struct EmittedStub {
    pub bytes: Vec<u8>,
    /// Where the direct entry starts (the caller entry starts at 0).
    pub direct_offset: usize,
    /// The instructions with their offsets and bytes, one per line (`--disasm`).
    pub listing: String,
}

impl EmittedStub {
    /// The stub from its assembler's result, the direct entry's offset and the listing
    /// written beside it (`address`: where a helper's address sits in a call's bytes).
    pub(crate) fn new(
        assembled: Result<Vec<u8>, impl fmt::Display>,
        direct_offset: usize,
        listing: &Listing,
        address: std::ops::Range<usize>,
    ) -> Result<Self, JitError> {
        let bytes = assembled_code("a call stub", assembled)?;
        let listing = listing.render(&bytes, address);
        Ok(EmittedStub {
            bytes,
            direct_offset,
            listing,
        })
    }
}

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

    /// Bytes of code (both entries).
    pub fn len(&self) -> usize {
        self.code.len()
    }

    pub fn is_empty(&self) -> bool {
        self.code.is_empty()
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
    let EmittedStub {
        bytes,
        direct_offset,
        listing,
    } = arch::emit_stub(spec)?;
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
    arch::emit_stub(spec).map(|emitted| emitted.listing)
}

/// The listing of the code `spec` makes for `convention`, whose plan it holds: the
/// AArch64 emitter is pure and lists on every host; x86-64 System V lists where it
/// runs.
pub fn listing_for_convention(convention: Convention, spec: &StubSpec) -> Result<String, JitError> {
    match convention {
        Convention::Aapcs64 => crate::aarch64::emit_stub(spec).map(|emitted| emitted.listing),
        #[cfg(target_arch = "x86_64")]
        Convention::SysV64 => crate::x86_64::emit_stub(spec).map(|emitted| emitted.listing),
        other => Err(error(format!(
            "no code generation for {other:?} on this host"
        ))),
    }
}

/// Where each argument's converted value lives in a stub's frame, from the stack
/// pointer in the body: the outgoing stack arguments at 0 (stack-passed values are
/// converted straight into their slots), then one 16-aligned image per register-passed
/// argument (the helper's 8-byte result, or the aggregate it wrote), then the
/// [`ResultArea`] followed by the buffer of a result returned in memory.
pub(crate) struct Frame {
    pub images: Vec<u32>,
    pub results: u32,
    pub size: u32,
    /// The alignment of rsp in the body (the plan's stack alignment): beyond 16 the
    /// prologue rounds rsp down to it.
    pub align: u32,
}

pub(crate) fn frame_of(spec: &StubSpec, result_area_bytes: u32) -> Result<Frame, JitError> {
    let plan = &spec.plan;
    if plan.args.len() != spec.args.len() {
        return Err(error("bug: plan and argument fetches differ in length"));
    }
    let mut next = plan.stack_bytes.next_multiple_of(16);
    let mut images = Vec::with_capacity(plan.args.len());
    // The largest alignment of a by-reference copy: the frame is aligned to it.
    let mut copy_align = 16;
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
            // The caller's copy of a value passed by reference: the helper converts
            // into it, and its address goes where the plan says.
            ArgPlan::Indirect {
                size: copy, align, ..
            } => {
                if *copy != size {
                    return Err(error(
                        "bug: by-reference argument size differs from its fetch",
                    ));
                }
                if !align.is_power_of_two() || *align > MAX_COPY_ALIGN {
                    return Err(error("bug: by-reference argument alignment"));
                }
                copy_align = copy_align.max(*align);
                next = next.next_multiple_of(*align);
                take(&mut next, size)?
            }
        };
        images.push(image);
    }
    let memory = match plan.ret {
        RetPlan::Memory { size, .. } => size,
        _ => 0,
    };
    let results = take(&mut next, result_area_bytes + memory)?;
    let align = plan.stack_align.max(copy_align);
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

impl Frame {
    /// The offsets below the stack pointer an entry's prologue touches, from the top,
    /// before it reserves the frame: one a page while the reservation is larger (rounding
    /// down to an alignment over 16 takes up to `align - 16` bytes more).
    pub fn probes(&self) -> impl Iterator<Item = u32> {
        let reserved = self.size + (self.align - 16);
        (1..)
            .map(|page| page * PAGE_BYTES)
            .take_while(move |&probe| probe < reserved)
    }
}

/// The argument pieces a stub loads into registers, each with its byte offset in the
/// frame, in the order it loads them: vector registers, then integer registers (stack
/// pieces were converted in place and are not listed).
pub(crate) fn register_loads<'a>(
    plan: &'a CallPlan,
    images: &'a [u32],
) -> impl Iterator<Item = (&'a Piece, u32)> {
    let pieces = move |vec: bool| {
        plan.args
            .iter()
            .zip(images)
            .filter_map(|(arg, &image)| match arg {
                ArgPlan::Pieces(pieces) => Some((pieces, image)),
                _ => None,
            })
            .flat_map(|(pieces, image)| pieces.iter().map(move |p| (p, image + p.offset)))
            .filter(move |(p, _)| match p.loc {
                Loc::Vec(_) => vec,
                Loc::Gpr(_) => !vec,
                Loc::Stack(_) => false,
            })
    };
    pieces(true).chain(pieces(false))
}

/// The extension of an integer result pushed by `ResultPush::Integer`: the plan must
/// return one integer piece in the first integer register.
pub(crate) fn integer_push_ext(ret: &RetPlan) -> Result<Ext, JitError> {
    match ret {
        RetPlan::Pieces(pieces) => match pieces.as_slice() {
            [Piece {
                kind: PieceKind::Int(ext),
                loc: Loc::Gpr(0),
                ..
            }] => Ok(*ext),
            _ => Err(error("bug: integer push of a non-integer result")),
        },
        _ => Err(error("bug: integer push of a non-register result")),
    }
}

/// The kind (`F32` or `F64`) of a result pushed by `ResultPush::Number`: the plan must
/// return one floating-point piece in the first vector register.
pub(crate) fn number_push_kind(ret: &RetPlan) -> Result<PieceKind, JitError> {
    match ret {
        RetPlan::Pieces(pieces) => match pieces.as_slice() {
            [Piece {
                kind: kind @ (PieceKind::F32 | PieceKind::F64),
                loc: Loc::Vec(0),
                ..
            }] => Ok(*kind),
            _ => Err(error("bug: number push of a non-float result")),
        },
        _ => Err(error("bug: number push of a non-register result")),
    }
}

/// The helpers of the emitters' unit tests, all at `address`.
#[cfg(test)]
pub(crate) fn test_helpers(address: usize) -> Helpers {
    let helper = |name| Helper { address, name };
    Helpers {
        context: helper("context"),
        arg_count: helper("arg_count"),
        count_error: helper("count_error"),
        errno_location: helper("errno_location"),
        pending_error: helper("pending_error"),
    }
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
