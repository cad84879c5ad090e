//! Callbacks: Lua functions as C function pointers (LuaJIT's `lj_ccallback.c`), and raw
//! callbacks that receive the whole CPU state (the `cbframe` module).
//!
//! A Lua function converted to a pointer-to-function type (`ffi.cast`, `ffi.new`, an
//! argument, a field) takes a slot of the process-wide typed pool (`jitffi_jit`'s
//! [`SlotPool`]); the slot's code is the pointer. The slot's words say whose it is:
//!
//! - `thread`: the OS thread that made it; only that thread may run it;
//! - `owner`: the address of the state's [`StateBox`], or [`OWNER_CLOSED`] once the Lua
//!   state has closed;
//! - `data`: the [`CallbackRecord`] (the function's registry reference, the signature).
//!
//! When C calls the pointer, the handler checks the thread and the owner first, so that
//! a call from another thread or after the state closed never touches the state: it
//! writes a line to stderr and C gets a zero result. Otherwise it runs the callback on
//! the Lua thread of the innermost C call in progress (the stubs keep it in the state's
//! [`CallCells`]; outside any call, a thread of the ffi's own), under `lua_pcall`.
//! Callbacks whose arguments are integers, pointers, bools and floating-point numbers in
//! registers and whose result is void or a scalar in one register (most of them:
//! comparators, event handlers) and cbframe callbacks run directly ([`run_direct`], [`run_raw`]): the function is called
//! under `lua_pcall` with the arguments pushed straight from the registers, pointer
//! cdata taken from a reserve made ahead under protection ([`BoxReserve`]), so that
//! nothing that could raise runs unprotected. The others go through [`callback_body`],
//! called under `lua_pcall`, which converts the saved registers into Lua arguments by the
//! callback's [`CallPlan`] (the one calls use), calls the function and converts its
//! result into the return registers.
//!
//! An error in the callback must not unwind the C frames between the stub and the
//! callback. It is caught, C gets a zero result, and the error (its message with the
//! callback's traceback) waits in the registry; the stub of the enclosing C call raises
//! it when that call returns (the call stubs' `raise_pending` helper). Until then the state's other callbacks
//! return zero at once, as if the error were unwinding through them.
//!
//! Callbacks are permanent (as in LuaJIT) until `cb:free()`. A freed slot stays the
//! state's (a late call from C raises "bad callback" through the same path) and is the
//! next one the state reuses. Slots of a closed state are never reused: a late call into
//! them is reported, not run.

use crate::cdata;
use crate::cdata::convert::{self, Conv, LuaNumber};
use crate::cdata::state::{FfiState, StateBox};
use crate::cdata::CDataHeader;
use crate::lua::stack::Peeked;
use crate::lua::{self, LuaError, LuaResult, State};
use crate::scalar::number::ScalarStore;
use jitffi_abi::{ArgPlan, CallPlan, Convention, Ext, Loc, PieceKind, RetPlan};
use jitffi_ctype::table::FxMap;
use jitffi_ctype::{CType, FloatKind, IntType, TypeId};
use jitffi_jit::{
    current_thread, ArgFrame, CallbackSlot, CpuState, EntryKind, RefusedResult, SlotPool,
};
use mlua_sys as sys;
use std::cell::{RefCell, RefMut};
use std::io::Write as _;
use std::os::raw::c_int;
use std::sync::atomic::Ordering;
use std::sync::OnceLock;

/// The `owner` word of a slot whose Lua state has closed.
const OWNER_CLOSED: usize = 1;

/// A state's callbacks.
pub struct Callbacks {
    /// The records of every slot the state has used, live or freed, by the slot's C
    /// function pointer (a slot stays the state's: creating and freeing a callback
    /// changes no entry).
    by_code: FxMap<usize, *mut CallbackRecord>,
    /// The code pointer and record of the callback made last, the one most often freed
    /// next: found without hashing.
    newest: Option<(usize, *mut CallbackRecord)>,
    /// The records of every slot the state has used (live or freed); boxed, so that
    /// their addresses (in the slots, `by_code`, `newest` and `free`) last as long as the state.
    #[allow(clippy::vec_box)]
    records: Vec<Box<CallbackRecord>>,
    /// The records of freed slots, typed then raw ([`free_list`]).
    free: [Vec<*mut CallbackRecord>; 2],
    signatures: FxMap<TypeId, Box<CallbackSignature>>,
    /// The signature asked for last (boxed in `signatures`): a loop making callbacks of
    /// one type finds it without hashing.
    last_signature: Option<(TypeId, *const CallbackSignature)>,
    refs: Refs,
    /// Pointer cdata made ahead for the arguments of direct callbacks.
    boxes: BoxReserve,
}

/// How many pointer cdata a state makes ahead for the arguments of direct callbacks
/// ([`run_direct`]): a refill (one protected call) every 30 calls of a two-pointer
/// comparator. More would cost the collector more than the refills they save (every
/// box waiting in the reserve is marked at each cycle): 64 measured best, against 20
/// (the room a new thread has without growing), 40, 80, 128 and 256. The reserve's
/// thread grows its stack under protection ([`grow_reserve`]).
const RESERVE_BOXES: usize = 64;

// A refill leaves at least `RESERVE_BOXES` minus what it found: callbacks run by
// finalizers while it allocates may take boxes, but only from those already there. It
// runs when fewer than a call's pointers (at most one per argument register) are left,
// so twice that many boxes always leave enough for the call.
const _: () = assert!(RESERVE_BOXES >= 2 * Convention::host().registers().gpr_args as usize);

/// Fresh pointer cdata, made under protection ahead of the callbacks that hand them out,
/// so that a direct callback allocates nothing before its function runs under
/// `lua_pcall` (an out-of-memory error there would unwind the C frames). Each box is
/// handed out once: the handler moves it to the callback's stack (`lua_xmove`, which
/// allocates nothing) and writes its type and value.
struct BoxReserve {
    /// A Lua thread of the ffi's own whose stack holds the boxes not handed out, the
    /// last made on top (a registry reference anchors it): moving one off costs less
    /// than reading a registry reference, and a refill stores no reference.
    thread: *mut State,
    /// The boxes' blocks; the first `available` are on the thread's stack, in order.
    blocks: [*mut CDataHeader; RESERVE_BOXES],
    available: usize,
}

/// Registry references made when the module opens.
#[derive(Copy, Clone, Debug)]
struct Refs {
    /// Holds the error a callback left for the enclosing call to raise.
    pending: c_int,
    /// [`callback_body`] and the message handler that adds the traceback.
    body: c_int,
    traceback: c_int,
    /// The callback methods `free` and `set`.
    free: c_int,
    set: c_int,
    /// The thread callbacks run on when no C call is in progress.
    idle_thread: c_int,
    /// The thread that holds the box reserve ([`BoxReserve::thread`]).
    reserve_thread: c_int,
    /// The string "bad callback": the error of a freed callback, made in advance so
    /// that raising it needs no allocation outside a protected call.
    bad_callback: c_int,
    /// [`refill_boxes`] and [`result_body`], run under `lua_pcall` by direct callbacks.
    refill: c_int,
    result_body: c_int,
    /// [`grow_stack`], run under `lua_pcall` where `lua_checkstack` is not protected
    /// (5.1), by [`ensure_room`].
    grow: c_int,
}

impl Default for Callbacks {
    fn default() -> Callbacks {
        Callbacks {
            by_code: FxMap::default(),
            newest: None,
            records: Vec::new(),
            free: [Vec::new(), Vec::new()],
            signatures: FxMap::default(),
            last_signature: None,
            refs: Refs {
                pending: sys::LUA_NOREF,
                body: sys::LUA_NOREF,
                traceback: sys::LUA_NOREF,
                free: sys::LUA_NOREF,
                set: sys::LUA_NOREF,
                idle_thread: sys::LUA_NOREF,
                reserve_thread: sys::LUA_NOREF,
                bad_callback: sys::LUA_NOREF,
                refill: sys::LUA_NOREF,
                result_body: sys::LUA_NOREF,
                grow: sys::LUA_NOREF,
            },
            boxes: BoxReserve {
                thread: std::ptr::null_mut(),
                blocks: [std::ptr::null_mut(); RESERVE_BOXES],
                available: 0,
            },
        }
    }
}

impl Drop for Callbacks {
    /// The Lua state is closing: every slot it used is marked, so that a later call
    /// from C is reported instead of run.
    fn drop(&mut self) {
        for record in &self.records {
            let slot = record.slot;
            slot.data.store(0, Ordering::Relaxed);
            slot.owner.store(OWNER_CLOSED, Ordering::Release);
        }
    }
}

/// What a slot of this state runs.
struct CallbackRecord {
    slot: &'static CallbackSlot,
    /// Registry reference that holds the Lua function: made at the slot's first claim
    /// and kept for the state's life, so that a freed slot (the reference holds false)
    /// takes its next function without a new reference.
    function: c_int,
    /// Freed by `cb:free()`: a call raises "bad callback".
    freed: bool,
    kind: RecordKind,
    cells: *mut StateBox,
    /// The state's [`Callbacks`] (see [`callbacks_cell`]), kept here so that a call from
    /// C reaches the box reserve and the references without looking them up.
    callbacks: *const RefCell<Callbacks>,
}

#[derive(Copy, Clone)]
enum RecordKind {
    Typed(*const CallbackSignature),
    /// A cbframe callback: the function gets a cdata of this pointer type.
    Raw {
        cpu_ptr_ty: TypeId,
    },
}

/// Arguments the handler pushes straight from their register.
#[derive(Copy, Clone)]
enum QuickArg {
    /// An integer that every Lua version holds exactly: extended from its width.
    Int(IntType),
    /// A pointer: a new pointer cdata of this type, or nil for NULL (crate::api::idioms).
    Pointer(TypeId),
}

/// A callback's C signature, as its handler needs it.
struct CallbackSignature {
    /// Parameter types as the callee receives them (decayed).
    params: Box<[TypeId]>,
    /// For each parameter passed in one integer register: how to push it without the
    /// general conversion.
    quick: Box<[Option<QuickArg>]>,
    ret: TypeId,
    plan: CallPlan,
    /// What C gets back from a call the handler refuses (the slot keeps it).
    refused: RefusedResult,
    /// How a Lua number result is stored, for scalar results (the fast path).
    ret_store: Option<(ScalarStore, bool)>,
    /// Where a number result goes, for a scalar result in one register.
    ret_register: Option<ResultRegister>,
    /// The arguments, if the handler may run the callback directly ([`run_direct`]):
    /// every one a [`DirectArg`], and a void result or a scalar in one register.
    direct: Option<Box<[DirectArg]>>,
    /// How many of the direct arguments are pointers (boxes from the reserve).
    direct_pointers: usize,
    /// If every direct argument is a pointer (a comparator's): each one's type and
    /// register, for boxes that leave the reserve in one move, already in order.
    direct_boxes: Option<Box<[(TypeId, u8)]>>,
    /// For an integer result in one integer register: how a number result is stored
    /// there without the general conversion.
    int_result: Option<IntResult>,
}

/// An integer result in integer register `gpr`: a number that converts exactly as
/// [`convert::store_lua_number`] would (an integer of the type's range or, for types of
/// at most 4 bytes, a float in `int32_t`'s range, truncated) is cut to the type's width
/// and extended as the register wants it, `int` saying how (the type's width, signed if
/// the plan sign-extends; the plan's other extensions leave the bits zero-extended).
#[derive(Copy, Clone)]
struct IntResult {
    int: IntType,
    gpr: u8,
}

/// A scalar result in one register: how a Lua number is stored, and into which register
/// (a plan location of [`ArgFrame::set_result_word`], integers extended as the plan says).
#[derive(Copy, Clone)]
struct ResultRegister {
    store: ScalarStore,
    wide: bool,
    place: ResultPlace,
}

#[derive(Copy, Clone)]
enum ResultPlace {
    Gpr(u8, Ext),
    Vec(u8),
}

/// An argument of a direct callback: how to push it, from which register (the number of
/// a plan location `Loc::Gpr`/`Loc::Vec`, read with [`ArgFrame::register_word`]).
#[derive(Copy, Clone)]
enum DirectArg {
    Gpr(QuickArg, u8),
    Bool(u8),
    F32(u8),
    F64(u8),
}

// ---- the pools -----------------------------------------------------------------------------

/// The process-wide slot pool of one entry kind (typed or raw), made on first use.
fn pool(kind: EntryKind) -> LuaResult<&'static SlotPool> {
    static POOLS: [OnceLock<Result<SlotPool, String>>; 2] = [OnceLock::new(), OnceLock::new()];
    let (index, handler) = match kind {
        EntryKind::Typed => (0, typed_handler as jitffi_jit::TypedHandler as usize),
        EntryKind::Raw => (1, raw_handler as jitffi_jit::RawHandler as usize),
    };
    // SAFETY: `handler` is the static handler function of `kind`, with its signature.
    POOLS[index]
        .get_or_init(|| unsafe { SlotPool::new(kind, handler) }.map_err(|e| e.message))
        .as_ref()
        .map_err(|e| LuaError::msg(e.clone()))
}

/// Index of a slot kind's free list in [`Callbacks::free`].
fn free_list(raw: bool) -> usize {
    usize::from(raw)
}

// ---- creation and lifetime -----------------------------------------------------------------

/// Makes the registry references and the idle thread, and points the state's cells at
/// it. Called once, when the module opens.
///
/// # Safety
/// `l` is live with 4 free slots; `state_index` holds the state userdata of `st`.
pub unsafe fn install(l: *mut State, st: &mut FfiState, state_index: c_int) {
    st.upper.add(RefCell::new(Callbacks::default()));
    st.hooks.new_callback = new_typed;
    st.hooks.callback_method = callback_method;
    // SAFETY: `l` is live (caller); each value is pushed, then moved into the registry.
    unsafe {
        let registry_ref = |l: *mut State| sys::luaL_ref(l, sys::LUA_REGISTRYINDEX);
        sys::lua_pushboolean(l, 0);
        callbacks(st).refs.pending = registry_ref(l);
        sys::lua_pushcclosure(l, callback_body, 0);
        callbacks(st).refs.body = registry_ref(l);
        sys::lua_pushcclosure(l, add_traceback, 0);
        callbacks(st).refs.traceback = registry_ref(l);
        sys::lua_pushvalue(l, state_index);
        lua::push_closure(l, method_free, 1);
        callbacks(st).refs.free = registry_ref(l);
        sys::lua_pushvalue(l, state_index);
        lua::push_closure(l, method_set, 1);
        callbacks(st).refs.set = registry_ref(l);
        lua::push_str(l, "bad callback");
        callbacks(st).refs.bad_callback = registry_ref(l);
        sys::lua_pushcclosure(l, refill_boxes, 0);
        callbacks(st).refs.refill = registry_ref(l);
        sys::lua_pushcclosure(l, result_body, 0);
        callbacks(st).refs.result_body = registry_ref(l);
        sys::lua_pushcclosure(l, grow_stack, 0);
        callbacks(st).refs.grow = registry_ref(l);
        let reserve = sys::lua_newthread(l);
        callbacks(st).refs.reserve_thread = registry_ref(l);
        callbacks(st).boxes.thread = reserve;
        let thread = sys::lua_newthread(l);
        callbacks(st).refs.idle_thread = registry_ref(l);
        (*st.cells).cells.caller = thread.cast();
    }
}

/// Makes the Lua function at `index` a callback of the function type `func_ty` and
/// returns its C function pointer.
///
/// # Safety
/// `l` is live with two free slots; `st` is its state; `index` is a valid index.
pub unsafe fn new_typed(
    l: *mut State,
    st: &FfiState,
    func_ty: TypeId,
    index: c_int,
) -> LuaResult<*const u8> {
    let cell = callbacks_cell(st);
    // SAFETY: the cell lives as long as the state.
    let sig = signature(st, unsafe { &*cell }, func_ty)?;
    // SAFETY: signatures live as long as the state; the rest is forwarded.
    let slot = unsafe { claim(l, st, cell, RecordKind::Typed(sig), index, (*sig).refused)? };
    Ok(slot.code())
}

/// Makes the Lua function at `index` a raw (cbframe) callback: it is called with one
/// argument, a cdata of the pointer type `cpu_ptr_ty` pointing at the saved
/// [`CpuState`], and whatever it leaves there is the state C sees on return.
///
/// # Safety
/// As [`new_typed`]; `cpu_ptr_ty` is a pointer type of this state.
pub unsafe fn new_raw(
    l: *mut State,
    st: &FfiState,
    index: c_int,
    cpu_ptr_ty: TypeId,
) -> LuaResult<&'static CallbackSlot> {
    // SAFETY: forwarded.
    unsafe {
        claim(
            l,
            st,
            callbacks_cell(st),
            RecordKind::Raw { cpu_ptr_ty },
            index,
            RefusedResult::default(),
        )
    }
}

/// Takes a slot (a freed one of the state first) and points it at the function at
/// `index`.
///
/// # Safety
/// As [`new_typed`]; `cell` is [`callbacks_cell`] of `st`.
unsafe fn claim(
    l: *mut State,
    st: &FfiState,
    cell: *const RefCell<Callbacks>,
    kind: RecordKind,
    index: c_int,
    refused: RefusedResult,
) -> LuaResult<&'static CallbackSlot> {
    let raw = matches!(kind, RecordKind::Raw { .. });
    // A freed slot of the state first.
    // SAFETY: the cell lives as long as the state; each borrow ends before a Lua call.
    let reused = unsafe { (*cell).borrow_mut().free[free_list(raw)].pop() };
    let record = match reused {
        // A freed slot's record keeps its registry reference: storing the function
        // there (an existing key) allocates nothing and cannot raise.
        Some(record) => {
            // SAFETY: `l` is live with two free slots (caller); the record lives as long
            // as the state and is not borrowed across the call.
            unsafe {
                sys::lua_pushvalue(l, index);
                sys::lua_rawseti(
                    l,
                    sys::LUA_REGISTRYINDEX,
                    sys::lua_Integer::from((*record).function),
                );
            }
            record
        }
        None => {
            // The reference first: it may raise (out of memory), before a slot is taken.
            // SAFETY: `l` is live with two free slots (caller).
            let function = unsafe {
                sys::lua_pushvalue(l, index);
                sys::luaL_ref(l, sys::LUA_REGISTRYINDEX)
            };
            let kind_of_pool = if raw {
                EntryKind::Raw
            } else {
                EntryKind::Typed
            };
            let slot = match pool(kind_of_pool)
                .and_then(|pool| pool.fresh_slot().map_err(|e| LuaError::msg(e.message)))
            {
                Ok(slot) => slot,
                Err(error) => {
                    // SAFETY: `l` is live; unref does not raise.
                    unsafe { sys::luaL_unref(l, sys::LUA_REGISTRYINDEX, function) };
                    return Err(error);
                }
            };
            let mut record = Box::new(CallbackRecord {
                slot,
                function,
                freed: false,
                kind,
                cells: st.cells,
                callbacks: cell,
            });
            let pointer: *mut CallbackRecord = &mut *record;
            // SAFETY: as above.
            unsafe {
                let mut callbacks = (*cell).borrow_mut();
                callbacks.by_code.insert(slot.code() as usize, pointer);
                callbacks.records.push(record);
            }
            pointer
        }
    };
    // SAFETY: the record is boxed and lives as long as the state; no Lua call below.
    unsafe {
        let slot = (*record).slot;
        (*record).freed = false;
        (*record).kind = kind;
        slot.claim(
            current_thread(),
            st.cells as usize,
            record as usize,
            refused,
        );
        (*cell).borrow_mut().newest = Some((slot.code() as usize, record));
        Ok(slot)
    }
}

/// Points the callback at the Lua function at `index` (`cb:set(f)`).
///
/// # Safety
/// `l` is live with one free slot; `slot` is a live callback of `st`.
pub unsafe fn set_function(
    l: *mut State,
    st: &FfiState,
    slot: &'static CallbackSlot,
    index: c_int,
) -> LuaResult<()> {
    let record = record_of(st, slot)?;
    // SAFETY: `l` is live (caller); the record's registry slot exists, so the store
    // allocates nothing; the record is boxed and lives as long as the state.
    unsafe {
        sys::lua_pushvalue(l, index);
        sys::lua_rawseti(
            l,
            sys::LUA_REGISTRYINDEX,
            sys::lua_Integer::from((*record).function),
        );
    }
    Ok(())
}

/// Frees the callback (`cb:free()`): its function is released and its slot becomes the
/// state's next one; a later call from C raises "bad callback".
///
/// # Safety
/// `l` is live with a free slot; `slot` is a live callback of `st`.
pub unsafe fn free(l: *mut State, st: &FfiState, slot: &'static CallbackSlot) -> LuaResult<()> {
    // SAFETY: forwarded.
    unsafe { free_code(l, st, slot.code() as usize) }
}

/// [`free`] of the callback whose C function pointer is `code` ("bad callback" if no
/// live callback of `st` has it).
///
/// # Safety
/// `l` is live with a free slot.
unsafe fn free_code(l: *mut State, st: &FfiState, code: usize) -> LuaResult<()> {
    let record = {
        let mut callbacks = callbacks(st);
        let record = live_record(&callbacks, code).ok_or_else(|| LuaError::msg("bad callback"))?;
        // SAFETY: records are boxed and live as long as the state.
        let raw = matches!(unsafe { (*record).kind }, RecordKind::Raw { .. });
        callbacks.free[free_list(raw)].push(record);
        record
    };
    // SAFETY: `l` is live (caller); the record's registry reference exists, so the store
    // allocates nothing (false, not nil: the key stays).
    unsafe {
        (*record).freed = true;
        sys::lua_pushboolean(l, 0);
        sys::lua_rawseti(
            l,
            sys::LUA_REGISTRYINDEX,
            sys::lua_Integer::from((*record).function),
        );
    }
    Ok(())
}

/// The record of the live (not freed) callback whose C function pointer is `code`.
fn live_record(callbacks: &Callbacks, code: usize) -> Option<*mut CallbackRecord> {
    let record = match callbacks.newest {
        Some((newest, record)) if newest == code => record,
        _ => callbacks.by_code.get(&code).copied()?,
    };
    // SAFETY: records are boxed and live as long as the state.
    (!unsafe { (*record).freed }).then_some(record)
}

/// The record of a live callback of `st` (boxed: its address lasts as long as the state).
fn record_of(st: &FfiState, slot: &'static CallbackSlot) -> LuaResult<*mut CallbackRecord> {
    live_record(&callbacks(st), slot.code() as usize).ok_or_else(|| LuaError::msg("bad callback"))
}

/// The live callback whose C function pointer is `code`.
pub fn live_callback(st: &FfiState, code: usize) -> Option<&'static CallbackSlot> {
    let record = live_record(&callbacks(st), code)?;
    // SAFETY: records are boxed and live as long as the state.
    Some(unsafe { (*record).slot })
}

/// The signature of callbacks of function type `func_ty`, made once per state (`cell`
/// is the state's [`Callbacks`]); the last one asked for is kept at hand.
fn signature(
    st: &FfiState,
    cell: &RefCell<Callbacks>,
    func_ty: TypeId,
) -> LuaResult<*const CallbackSignature> {
    {
        let mut callbacks = cell.borrow_mut();
        if let Some((ty, sig)) = callbacks.last_signature {
            if ty == func_ty {
                return Ok(sig);
            }
        }
        if let Some(sig) = callbacks.signatures.get(&func_ty) {
            let sig: *const CallbackSignature = &**sig;
            callbacks.last_signature = Some((func_ty, sig));
            return Ok(sig);
        }
    }
    let func = match &st.ctype(func_ty) {
        CType::Func(func) if !func.variadic => func.clone(),
        _ => {
            let ptr = st.types_mut()?.pointer_to(func_ty);
            return Err(LuaError::msg(format!(
                "cannot convert 'function' to '{}'",
                st.types().type_name(ptr)
            )));
        }
    };
    let plan = Convention::host()
        .classify(&st.types(), &func, &[])
        .map_err(|e| LuaError::msg(e.message))?;
    let params: Box<[TypeId]> = {
        let mut types = st.types_mut()?;
        func.params
            .iter()
            .map(|&p| convert::decay(&mut types, p))
            .collect()
    };
    let quick: Box<[Option<QuickArg>]> = params
        .iter()
        .zip(&plan.args)
        .map(|(&param, arg)| {
            let in_gpr = matches!(arg, ArgPlan::Pieces(pieces)
                if matches!(pieces.as_slice(), [piece] if matches!(piece.loc, Loc::Gpr(_))));
            let base = st.types().unqualified(param).0;
            match &st.ctype(base) {
                _ if !in_gpr => None,
                CType::Int(int) if int.bytes < 8 => Some(QuickArg::Int(*int)),
                CType::Pointer(_) => Some(QuickArg::Pointer(base)),
                _ => None,
            }
        })
        .collect();
    let ret_base = st.types().unqualified(func.ret).0;
    let ret_store = crate::scalar::number::scalar_store(&st.types(), ret_base).map(|store| {
        let wide = matches!(store, ScalarStore::Int(int) if int.bytes == 8);
        (store, wide)
    });
    let ret_register = match (&plan.ret, ret_store) {
        (RetPlan::Pieces(pieces), Some((store, wide))) => match pieces.as_slice() {
            [piece] => match (piece.kind, piece.loc) {
                (PieceKind::Int(ext), Loc::Gpr(n)) => Some(ResultPlace::Gpr(n, ext)),
                (_, Loc::Vec(n)) => Some(ResultPlace::Vec(n)),
                _ => None,
            },
            _ => None,
        }
        .map(|place| ResultRegister { store, wide, place }),
        _ => None,
    };
    let direct_result = match &plan.ret {
        RetPlan::Void => true,
        RetPlan::Pieces(pieces) => pieces.len() == 1 && ret_store.is_some(),
        _ => false,
    };
    let direct: Option<Box<[DirectArg]>> = params
        .iter()
        .zip(&plan.args)
        .zip(&quick)
        .map(|((&param, arg), quick)| {
            let ArgPlan::Pieces(pieces) = arg else {
                return None;
            };
            let [piece] = pieces.as_slice() else {
                return None;
            };
            let base = st.types().unqualified(param).0;
            match (quick, st.types().get(base), piece.loc) {
                (Some(quick), _, Loc::Gpr(n)) => Some(DirectArg::Gpr(*quick, n)),
                (None, CType::Bool, Loc::Gpr(n)) => Some(DirectArg::Bool(n)),
                (None, CType::Float(FloatKind::Float), Loc::Vec(n)) => Some(DirectArg::F32(n)),
                (None, CType::Float(FloatKind::Double), Loc::Vec(n)) => Some(DirectArg::F64(n)),
                _ => None,
            }
        })
        .collect::<Option<_>>()
        .filter(|_| direct_result);
    let direct_pointers = direct.as_deref().map_or(0, |args| {
        args.iter()
            .filter(|arg| matches!(arg, DirectArg::Gpr(QuickArg::Pointer(_), _)))
            .count()
    });
    let direct_boxes = direct.as_deref().and_then(|args| {
        args.iter()
            .map(|&arg| match arg {
                DirectArg::Gpr(QuickArg::Pointer(ty), n) => Some((ty, n)),
                _ => None,
            })
            .collect::<Option<Box<[_]>>>()
            .filter(|boxes| !boxes.is_empty())
    });
    let int_result = match ret_register {
        Some(ResultRegister {
            store: ScalarStore::Int(int),
            place: ResultPlace::Gpr(gpr, ext),
            ..
        }) => match ext {
            Ext::None => Some(false),
            Ext::Sign(bytes) if bytes == int.bytes => Some(true),
            Ext::Zero(bytes) if bytes == int.bytes => Some(false),
            _ => None,
        }
        .map(|signed| IntResult {
            int: IntType {
                bytes: int.bytes,
                signed,
            },
            gpr,
        }),
        _ => None,
    };
    let refused = RefusedResult {
        memory: match plan.ret {
            RetPlan::Memory { size, .. } => size,
            _ => 0,
        },
        x87: match plan.ret {
            RetPlan::X87 { parts } => u32::from(parts),
            _ => 0,
        },
    };
    let sig = Box::new(CallbackSignature {
        params,
        quick,
        ret: func.ret,
        plan,
        refused,
        ret_store,
        ret_register,
        direct,
        direct_pointers,
        direct_boxes,
        int_result,
    });
    let ptr: *const CallbackSignature = &*sig;
    let mut callbacks = cell.borrow_mut();
    callbacks.signatures.insert(func_ty, sig);
    callbacks.last_signature = Some((func_ty, ptr));
    Ok(ptr)
}

// ---- methods -------------------------------------------------------------------------------

/// `cb.free` and `cb.set` of a function-pointer cdata (`__index` asks when the type has
/// no such member): the registry reference of the method the key at argument 2 names,
/// if `ty` is a function pointer and the key is `free` or `set`. The answer depends on
/// the type and the key's bytes only, so `__index` may keep it in its field cache.
///
/// # Safety
/// `l` is live inside `__index` (cdata at 1, key at 2); `ty` is the cdata's type.
pub unsafe fn callback_method(l: *mut State, st: &FfiState, ty: TypeId) -> Option<c_int> {
    let is_function_pointer = {
        let types = st.types();
        match types.get(types.unqualified(ty).0) {
            CType::Pointer(target) => {
                matches!(types.get(types.unqualified(*target).0), CType::Func(_))
            }
            _ => false,
        }
    };
    if !is_function_pointer {
        return None;
    }
    // SAFETY: `l` is live with the key at 2 (caller).
    match unsafe { lua::to_string_only(l, 2) } {
        Some(b"free") => Some(callbacks(st).refs.free),
        Some(b"set") => Some(callbacks(st).refs.set),
        _ => None,
    }
}

/// The live callback a function-pointer cdata at argument 1 points to.
///
/// # Safety
/// `l` is live; `st` is its state.
unsafe fn callback_arg(l: *mut State, st: &FfiState) -> LuaResult<&'static CallbackSlot> {
    // SAFETY: forwarded.
    let code = unsafe { pointer_arg(l, st)? };
    live_callback(st, code).ok_or_else(|| LuaError::msg("bad callback"))
}

/// The address a pointer cdata at argument 1 holds ("bad callback" for anything else).
///
/// # Safety
/// `l` is live; `st` is its state.
unsafe fn pointer_arg(l: *mut State, st: &FfiState) -> LuaResult<usize> {
    // SAFETY: `l` is live; the payload is read only for pointer types.
    unsafe {
        let header = cdata::to_cdata(l, st, 1).ok_or_else(|| LuaError::msg("bad callback"))?;
        let types = st.types();
        if !matches!(
            types.get(types.unqualified((*header).ty).0),
            CType::Pointer(_)
        ) {
            return Err(LuaError::msg("bad callback"));
        }
        Ok(cdata::payload(header).cast::<usize>().read())
    }
}

/// `cb:free()`.
unsafe extern "C-unwind" fn method_free(l: *mut State) -> c_int {
    // SAFETY: called by Lua as a method closure with the state upvalue.
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            let code = pointer_arg(l, st)?;
            free_code(l, st, code)?;
            Ok(0)
        })
    }
}

/// `cb:set(f)`.
unsafe extern "C-unwind" fn method_set(l: *mut State) -> c_int {
    // SAFETY: called by Lua as a method closure with the state upvalue.
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            let slot = callback_arg(l, st)?;
            if sys::lua_type(l, 2) != sys::LUA_TFUNCTION {
                // Lua's message names this #1 in a method call `cb:set(x)`, as LuaJIT.
                return Err(LuaError::arg(
                    2,
                    format!("function expected, got {}", lua::type_name(l, 2)),
                ));
            }
            set_function(l, st, slot, 2)?;
            Ok(0)
        })
    }
}

// ---- entering from C -----------------------------------------------------------------------

/// Why a handler did not run a callback.
#[derive(Copy, Clone, Debug)]
enum Refusal {
    /// Called on an OS thread other than the one that made it.
    ForeignThread,
    /// Its Lua state has closed (or the slot was never handed out).
    Closed,
    /// An error of an earlier callback is on its way to the enclosing call.
    Unwinding,
}

/// The state and record of `slot`, if the calling thread may run it now.
///
/// # Safety
/// `slot` is a slot of one of the pools.
unsafe fn admit(slot: &CallbackSlot) -> Result<(*mut StateBox, *const CallbackRecord), Refusal> {
    if slot.thread.load(Ordering::Acquire) != current_thread() {
        return Err(Refusal::ForeignThread);
    }
    let owner = slot.owner.load(Ordering::Relaxed);
    if owner == 0 || owner == OWNER_CLOSED {
        return Err(Refusal::Closed);
    }
    let cells = owner as *mut StateBox;
    // SAFETY: a slot whose owner is a state box belongs to a state that has not closed
    // (closing marks it), and only this thread touches it.
    unsafe {
        if (*cells).state.is_null() {
            return Err(Refusal::Closed);
        }
        if (*cells).cells.pending_error != 0 {
            return Err(Refusal::Unwinding);
        }
    }
    Ok((
        cells,
        slot.data.load(Ordering::Relaxed) as *const CallbackRecord,
    ))
}

/// Tells stderr why C got a zero result (an unwinding error says nothing: it is raised
/// in Lua soon).
fn report(slot: &CallbackSlot, refusal: Refusal) {
    let why = match refusal {
        Refusal::ForeignThread => "on a thread other than the one that created it",
        Refusal::Closed => "after its Lua state was closed",
        Refusal::Unwinding => return,
    };
    // A failed write to stderr leaves nothing better to do.
    let _ = writeln!(
        std::io::stderr(),
        "jitffi: callback {:p} called {why}; it did not run and C got a zero result",
        slot.code()
    );
}

/// Tells stderr that a callback found no Lua stack to run on (C gets a zero result).
fn report_no_stack() {
    // A failed write to stderr leaves nothing better to do.
    let _ = writeln!(
        std::io::stderr(),
        "jitffi: no Lua stack left to run a callback; C got a zero result"
    );
}

/// One invocation of a typed callback, handed to [`callback_body`] and [`result_body`]
/// as a light userdata.
struct Invocation {
    frame: *mut ArgFrame,
    record: *const CallbackRecord,
    /// Set by the body: x87 values to load on return.
    x87: u32,
}

/// The typed pool's handler: runs the callback, or returns zero.
///
/// # Safety
/// Called by the typed entry with its slot and its live frame.
unsafe extern "C" fn typed_handler(slot: &'static CallbackSlot, frame: *mut ArgFrame) -> u32 {
    // SAFETY: the entry passes its frame; `admit` vouches for the state and record.
    unsafe {
        match admit(slot) {
            Ok((cells, record)) => {
                if let RecordKind::Typed(sig) = (*record).kind {
                    if let Some(args) = &(*sig).direct {
                        if !(*record).freed {
                            if run_direct(cells, record, &*sig, args, frame) {
                                return 0;
                            }
                            return zero_typed(slot, &mut *frame);
                        }
                    }
                }
                let mut invocation = Invocation {
                    frame,
                    record,
                    x87: 0,
                };
                if run(cells, &mut invocation) {
                    return invocation.x87;
                }
            }
            Err(refusal) => report(slot, refusal),
        }
        zero_typed(slot, &mut *frame)
    }
}

/// The raw pool's handler.
///
/// # Safety
/// Called by the raw entry with its slot and its live CPU state.
unsafe extern "C" fn raw_handler(slot: &'static CallbackSlot, cpu: *mut CpuState) {
    // SAFETY: as in `typed_handler`.
    unsafe {
        match admit(slot) {
            Ok((cells, record)) => {
                if run_raw(cells, record, cpu) {
                    return;
                }
            }
            Err(refusal) => report(slot, refusal),
        }
        // The result registers of any C signature.
        (*cpu).clear_results();
    }
}

/// A zero result for a typed callback that did not complete.
///
/// # Safety
/// `frame` is the entry's frame for a call through `slot`.
unsafe fn zero_typed(slot: &CallbackSlot, frame: &mut ArgFrame) -> u32 {
    frame.clear_results();
    let memory = slot.ret_memory.load(Ordering::Relaxed) as usize;
    if memory > 0 {
        // The caller's result buffer (no plan at hand: where the convention passes it).
        let buffer = frame.convention_memory_result();
        // SAFETY: the caller passed a buffer of the result's size.
        unsafe { buffer.write_bytes(0, memory) };
    }
    slot.ret_x87.load(Ordering::Relaxed)
}

thread_local! {
    /// The light userdata argument that the next protected body ([`callback_body`],
    /// [`result_body`], [`refill_boxes`]) may take: set by its caller just before
    /// `lua_pcall`, taken by the body, cleared by the caller after. The bodies sit in
    /// the registry, where `debug.getregistry` reaches them, so Lua code could call
    /// them with any light userdata: they refuse anything but what was handed over.
    static HANDED_OVER: std::cell::Cell<*mut std::ffi::c_void> =
        const { std::cell::Cell::new(std::ptr::null_mut()) };
}

/// Pushes `pointer` as a light userdata and hands it over to the body about to run.
///
/// # Safety
/// `l` is live with a free slot.
unsafe fn push_handed_over(l: *mut State, pointer: *mut std::ffi::c_void) {
    HANDED_OVER.set(pointer);
    // SAFETY: `l` is live (caller).
    unsafe { sys::lua_pushlightuserdata(l, pointer) };
}

/// Argument 1 of a protected body if it is what its caller handed over (taking it, so
/// that it is honoured once); else raises an error. The body's frame must own nothing.
///
/// # Safety
/// `l` is live, running a body.
unsafe fn take_handed_over(l: *mut State) -> *mut std::ffi::c_void {
    let expected = HANDED_OVER.replace(std::ptr::null_mut());
    // SAFETY: `l` is live (caller); the error is raised from a frame that owns nothing.
    unsafe {
        let given = sys::lua_touserdata(l, 1);
        if sys::lua_type(l, 1) != sys::LUA_TLIGHTUSERDATA || given.is_null() || given != expected {
            sys::luaL_error(
                l,
                c"bad argument #1 (an internal function of the ffi called directly)".as_ptr(),
            );
        }
        given
    }
}

/// Runs the callback under `lua_pcall` on the thread of the innermost C call. Returns
/// whether it completed; if not, its error is pending.
///
/// # Safety
/// `cells` is the live box of the state that owns `invocation.record`, on its thread.
unsafe fn run(cells: *mut StateBox, invocation: &mut Invocation) -> bool {
    // SAFETY: the state is live (admit); only registry references are read from it
    // before Lua runs, and nothing borrowed from it is held across the call.
    unsafe {
        if (*invocation.record).freed {
            leave_bad_callback(cells);
            return false;
        }
        let l = (*cells).cells.caller.cast::<State>();
        let refs = record_callbacks(invocation.record).refs;
        if !ensure_room(l, cells, 4) {
            return false;
        }
        let top = sys::lua_gettop(l);
        push_message_handler(l, refs.traceback);
        sys::lua_rawgeti(l, sys::LUA_REGISTRYINDEX, sys::lua_Integer::from(refs.body));
        push_handed_over(l, (invocation as *mut Invocation).cast());
        let completed = lua::call_deferred(l, 1, 0, top + 1).is_ok();
        HANDED_OVER.set(std::ptr::null_mut());
        finish_run(l, cells, top, completed)
    }
}

/// Runs a callback whose signature allows it ([`CallbackSignature::direct`]) without
/// the protected body of [`run`]: its function and arguments are pushed straight from
/// the registers (pointers in boxes from the state's reserve, so nothing is allocated
/// unprotected) and called under `lua_pcall`, and a number result is stored straight
/// into the return register. Anything else the function returns is converted by
/// [`result_body`], protected too. Returns whether it completed; if not, its error is
/// pending.
///
/// # Safety
/// As [`run`]; `record` is a live typed callback with a function, `sig` its signature,
/// `args` its direct arguments, `frame` the entry's frame.
#[inline(always)]
unsafe fn run_direct(
    cells: *mut StateBox,
    record: *const CallbackRecord,
    sig: &CallbackSignature,
    args: &[DirectArg],
    frame: *mut ArgFrame,
) -> bool {
    // SAFETY: the state is live (admit) and this is its thread; see `enter_direct`.
    unsafe {
        let Some(l) = enter_direct(cells, record, args.len(), sig.direct_pointers) else {
            return false;
        };
        let frame_ref = &*frame;
        if let Some(boxes) = &sig.direct_boxes {
            push_reserved_pointers(l, record, boxes, frame_ref);
        } else {
            for &arg in args {
                push_direct_argument(l, record, arg, frame_ref);
            }
        }
        let results = c_int::from(!matches!(sig.plan.ret, RetPlan::Void));
        // The message handler lies below the function and its arguments.
        let nargs = args.len() as c_int;
        let mut completed = lua::call_deferred(l, nargs, results, -nargs - 2).is_ok();
        // What stays above the top the run found: the message handler and the result.
        let kept = if completed { 1 + results } else { 1 };
        if completed && results == 1 {
            let stored = match sig.int_result {
                Some(result) => {
                    store_int_result(result, &mut *frame, crate::lua::stack::number_on_top(l))
                }
                None => false,
            } || result_number(l)
                .is_some_and(|number| store_number_result(sig, &mut *frame, number));
            if !stored {
                // Not a number: the general conversion, which may raise.
                let mut invocation = Invocation {
                    frame,
                    record,
                    x87: 0,
                };
                sys::lua_rawgeti(
                    l,
                    sys::LUA_REGISTRYINDEX,
                    sys::lua_Integer::from(record_callbacks(record).refs.result_body),
                );
                push_handed_over(l, (&mut invocation as *mut Invocation).cast());
                sys::lua_pushvalue(l, -3);
                // handler, result, body, invocation, result
                completed = lua::call_deferred(l, 2, 0, -5).is_ok();
                HANDED_OVER.set(std::ptr::null_mut());
            }
        }
        finish_direct(l, cells, kept, completed)
    }
}

/// Pushes one direct argument from its register.
///
/// # Safety
/// As [`push_reserved_pointer`], for a pointer argument.
#[inline(always)]
unsafe fn push_direct_argument(
    l: *mut State,
    record: *const CallbackRecord,
    arg: DirectArg,
    frame: &ArgFrame,
) {
    // SAFETY: as documented.
    unsafe {
        match arg {
            DirectArg::Gpr(quick, n) => {
                let bits = frame.register_word(Loc::Gpr(n));
                match quick {
                    QuickArg::Int(int) => sys::lua_pushinteger(
                        l,
                        crate::scalar::number::extend(bits, int) as i64 as sys::lua_Integer,
                    ),
                    QuickArg::Pointer(_) if bits == 0 => sys::lua_pushnil(l),
                    QuickArg::Pointer(ty) => push_reserved_pointer(l, record, ty, bits),
                }
            }
            DirectArg::Bool(n) => {
                sys::lua_pushboolean(l, c_int::from(frame.register_word(Loc::Gpr(n)) as u8 != 0))
            }
            DirectArg::F32(n) => {
                let x = f32::from_bits(frame.register_word(Loc::Vec(n)) as u32);
                sys::lua_pushnumber(l, f64::from(x));
            }
            DirectArg::F64(n) => {
                sys::lua_pushnumber(l, f64::from_bits(frame.register_word(Loc::Vec(n))));
            }
        }
    }
}

/// Stores a number result (as the stack holds it) of an [`IntResult`] signature into
/// its register; false if it is not a number that converts this simply.
#[inline(always)]
fn store_int_result(result: IntResult, frame: &mut ArgFrame, number: Peeked) -> bool {
    let bits = match number {
        Peeked::Int(i) if result.int.bytes == 8 || i32::try_from(i).is_ok() => i as u64,
        Peeked::Float(x)
            if result.int.bytes <= 4 && x > -2_147_483_649.0 && x < 2_147_483_648.0 =>
        {
            // SAFETY: `x` is a number whose truncation lies in `i32`'s range.
            unsafe { x.to_int_unchecked::<i32>() as u64 }
        }
        _ => return false,
    };
    frame.set_result_word(
        Loc::Gpr(result.gpr),
        crate::scalar::number::extend(bits, result.int),
    );
    true
}

/// Runs a cbframe callback: its function gets one argument, a pointer (of the record's
/// type) to the saved CPU state, in a box from the reserve, and runs under `lua_pcall`.
/// Returns whether it completed; if not, its error is pending.
///
/// # Safety
/// As [`run`]; `record` is a live raw callback, `cpu` the entry's CPU state.
unsafe fn run_raw(cells: *mut StateBox, record: *const CallbackRecord, cpu: *mut CpuState) -> bool {
    // SAFETY: as in `run_direct`.
    unsafe {
        let RecordKind::Raw { cpu_ptr_ty } = (*record).kind else {
            return false;
        };
        if (*record).freed {
            leave_bad_callback(cells);
            return false;
        }
        let Some(l) = enter_direct(cells, record, 1, 1) else {
            return false;
        };
        push_reserved_pointer(l, record, cpu_ptr_ty, cpu as u64);
        let completed = lua::call_deferred(l, 1, 0, -3).is_ok();
        finish_direct(l, cells, 1, completed)
    }
}

/// The start of a direct run: on the thread of the innermost C call, with room for
/// `args` arguments and a result and at least `pointers` boxes in the reserve, pushes
/// the message handler and the function of `record`. Returns the thread, or `None` if
/// the callback cannot run (its error is pending, or reported).
///
/// # Safety
/// `cells` is the live box of a state, on its thread; `record` a live record of that
/// state with a function. The state is reached through raw pointers, never a reference
/// held across a Lua call (which may run other callbacks); the reserve is touched only
/// between calls that run no Lua code.
#[inline(always)]
unsafe fn enter_direct(
    cells: *mut StateBox,
    record: *const CallbackRecord,
    args: usize,
    pointers: usize,
) -> Option<*mut State> {
    // SAFETY: as documented.
    unsafe {
        let l = (*cells).cells.caller.cast::<State>();
        // The message handler, the function and its arguments, then the result (a
        // refill or a conversion of the result needs no more).
        if !ensure_room(l, cells, args + 3) {
            return None;
        }
        let (available, traceback) = {
            let callbacks = record_callbacks(record);
            (callbacks.boxes.available, callbacks.refs.traceback)
        };
        if available < pointers && !refill(l, cells) {
            return None;
        }
        push_message_handler(l, traceback);
        push_function(l, (*record).function);
        Some(l)
    }
}

/// Makes sure `l` has room for `n` more values, as `lua_checkstack` does, without
/// raising: a handler runs between C frames that an error must not unwind. The room is
/// usually there already (the C function the callback comes through was given
/// `LUA_MINSTACK` slots), which direct reads tell without a call; else the stack grows
/// under protection: `lua_checkstack` itself where it is protected (5.2 on), else
/// [`grow_stack`] under `lua_pcall`, after which `lua_checkstack` finds the room and
/// allocates nothing. Returns false if the stack cannot grow: reported on stderr, or
/// (5.1) the error that stopped it pending.
///
/// # Safety
/// `l` is the live thread a callback of `cells`' state runs on (the thread of the
/// innermost C call, whose top lies within its current function's room, so that the
/// two values pushed for [`grow_stack`] fit: Lua keeps `EXTRA_STACK` slots beyond
/// `stack_last` besides).
#[inline(always)]
unsafe fn ensure_room(l: *mut State, cells: *mut StateBox, n: usize) -> bool {
    // SAFETY: forwarded.
    unsafe { crate::lua::stack::has_room(l, n) || grow_room(l, cells, n) }
}

/// The slow path of [`ensure_room`].
///
/// # Safety
/// As [`ensure_room`].
#[cold]
#[inline(never)]
unsafe fn grow_room(l: *mut State, cells: *mut StateBox, n: usize) -> bool {
    // SAFETY: as documented; the grow function was made at install, so pushing it
    // allocates nothing, and on 5.1 the stack has room for it and its argument.
    unsafe {
        let Ok(slots) = c_int::try_from(n) else {
            report_no_stack();
            return false;
        };
        if !lua::version::CHECKSTACK_PROTECTED {
            let grow = callbacks(&*(*cells).state).refs.grow;
            sys::lua_rawgeti(l, sys::LUA_REGISTRYINDEX, sys::lua_Integer::from(grow));
            sys::lua_pushinteger(l, sys::lua_Integer::from(slots));
            if sys::lua_pcall(l, 1, 0, 0) != sys::LUA_OK {
                // Out of memory, or Lua's limit of nested C calls: the enclosing call
                // raises it, as it would an error of the callback.
                leave_pending(l, cells);
                return false;
            }
        }
        if sys::lua_checkstack(l, slots) == 0 {
            report_no_stack();
            return false;
        }
        true
    }
}

/// Under `lua_pcall` from [`grow_room`] (5.1): grows the caller's stack so that it has
/// room for the number of values at argument 1 above the caller's top (this function's
/// frame sits at that top: its own slot and argument count too).
unsafe extern "C-unwind" fn grow_stack(l: *mut State) -> c_int {
    // SAFETY: called by Lua with an argument; `lua_checkstack` raises only out of
    // memory, through this frame, which owns nothing.
    unsafe {
        let wanted = sys::lua_tointeger(l, 1);
        let slots = c_int::try_from(wanted)
            .unwrap_or(0)
            .clamp(0, MAX_GROW_SLOTS);
        sys::lua_checkstack(l, slots);
        0
    }
}

/// The most [`grow_stack`] grows by: more than any handler asks for (its arguments, at
/// most one per argument register, and three) or the box reserve holds, far below
/// Lua's stack limit.
const MAX_GROW_SLOTS: c_int = 2 * RESERVE_BOXES as c_int;

/// Makes room for `n` more values on the reserve's `thread` (inside [`refill_boxes`],
/// on `l`, which has a free slot), so that moving boxes there allocates nothing.
/// `lua_checkstack` on that thread is protected on 5.2 on; on 5.1 it would raise on a
/// thread with no handler of its own (Lua would abort), so [`grow_stack`] (registry
/// reference `grow`) runs under `lua_pcall` on that thread, after which
/// `lua_checkstack` finds the room. Returns false if the stack cannot grow.
///
/// # Safety
/// `l` and `thread` are live threads of one state; `thread` holds only boxes and has
/// room for two values beyond them (it holds few when a refill runs, and its stack has
/// at least `LUA_MINSTACK` slots).
unsafe fn grow_reserve(l: *mut State, thread: *mut State, grow: c_int, n: c_int) -> bool {
    // SAFETY: as documented: moving a value between two threads and pushing an
    // integer allocate nothing; the pushed function was made at install.
    unsafe {
        // After the first refill the room is usually there (`lua_checkstack` raised the
        // thread's `ci->top`, and the boxes handed out since lowered its top).
        if crate::lua::stack::has_room(thread, n as usize) {
            return true;
        }
        if !lua::version::CHECKSTACK_PROTECTED {
            sys::lua_rawgeti(l, sys::LUA_REGISTRYINDEX, sys::lua_Integer::from(grow));
            sys::lua_xmove(l, thread, 1);
            sys::lua_pushinteger(thread, sys::lua_Integer::from(n));
            if sys::lua_pcall(thread, 1, 0, 0) != sys::LUA_OK {
                sys::lua_settop(thread, -2);
                return false;
            }
        }
        sys::lua_checkstack(thread, n) != 0
    }
}

/// Pushes the message handler of callbacks, [`add_traceback`]: a light C function where
/// Lua has them (pushing one allocates nothing, and costs less than a registry read),
/// else the closure made at install (registry reference `traceback`).
///
/// # Safety
/// `l` is live with a free slot.
#[inline(always)]
unsafe fn push_message_handler(l: *mut State, traceback: c_int) {
    // SAFETY: as documented.
    unsafe {
        if lua::version::LIGHT_C_FUNCTIONS {
            sys::lua_pushcclosure(l, add_traceback, 0);
        } else {
            sys::lua_rawgeti(l, sys::LUA_REGISTRYINDEX, sys::lua_Integer::from(traceback));
        }
    }
}

/// Pushes a pointer cdata of type `ty` holding `bits`, a box from the reserve.
///
/// # Safety
/// `l` is live with a free slot (`lua_checkstack`); `record` a live record of its
/// state, whose reserve is not empty.
#[inline]
unsafe fn push_reserved_pointer(
    l: *mut State,
    record: *const CallbackRecord,
    ty: TypeId,
    bits: u64,
) {
    // SAFETY: as documented; nothing here runs Lua code, and moving a value between
    // two threads' stacks allocates nothing (`l` has room for it).
    unsafe {
        let header = {
            let boxes = &mut record_callbacks(record).boxes;
            boxes.available -= 1;
            sys::lua_xmove(boxes.thread, l, 1);
            boxes.blocks[boxes.available]
        };
        fill_box(header, ty, bits);
    }
}

/// Pushes the arguments of a direct callback whose arguments are all pointers
/// ([`CallbackSignature::direct_boxes`]: each one's type and register): their boxes
/// leave the reserve in one move, in order, and take their types and values; a null
/// pointer is nil instead (its box is dropped).
///
/// # Safety
/// `l` is live with room for `args.len()` values; `record` a live record of its state,
/// whose reserve holds at least that many boxes; `frame` the entry's frame.
#[inline(always)]
unsafe fn push_reserved_pointers(
    l: *mut State,
    record: *const CallbackRecord,
    args: &[(TypeId, u8)],
    frame: &ArgFrame,
) {
    // SAFETY: as documented; nothing here runs Lua code (moving values between two
    // threads' stacks, pushing nil and replacing a slot allocate nothing).
    unsafe {
        let count = args.len();
        let mut callbacks = record_callbacks(record);
        let boxes = &mut callbacks.boxes;
        boxes.available -= count;
        sys::lua_xmove(boxes.thread, l, count as c_int);
        let moved = &boxes.blocks[boxes.available..boxes.available + count];
        for (i, (&(ty, n), &header)) in args.iter().zip(moved).enumerate() {
            let bits = frame.register_word(Loc::Gpr(n));
            if bits == 0 {
                sys::lua_pushnil(l);
                sys::lua_replace(l, -1 - (count - i) as c_int);
            } else {
                fill_box(header, ty, bits);
            }
        }
    }
}

/// Gives a box of the reserve its pointer type and value.
///
/// # Safety
/// `header` is the block of a box of the reserve (a plain pointer-sized value).
#[inline(always)]
unsafe fn fill_box(header: *mut CDataHeader, ty: TypeId, bits: u64) {
    // SAFETY: as documented.
    unsafe {
        debug_assert!((*header).is_plain_value(), "a reserve box is a plain value");
        (*header).ty = ty;
        cdata::plain_payload(header).cast::<u64>().write(bits);
    }
}

/// The end of a direct run: an error (on top) becomes pending unless the run
/// `completed`; then the `kept` values below (the message handler, the result) are
/// popped, leaving the stack as [`enter_direct`] found it. Returns `completed`.
///
/// # Safety
/// As [`enter_direct`], which returned `l`.
#[inline(always)]
unsafe fn finish_direct(l: *mut State, cells: *mut StateBox, kept: c_int, completed: bool) -> bool {
    // SAFETY: as documented.
    unsafe {
        if !completed {
            leave_pending(l, cells);
        }
        sys::lua_settop(l, -kept - 1);
    }
    completed
}

/// The end of [`run`]: an error (on top) becomes pending unless the run `completed`;
/// the stack goes back to `top`. Returns `completed`.
///
/// # Safety
/// `cells` is the live box of `l`'s state, on its thread; `top` at most `l`'s top.
unsafe fn finish_run(l: *mut State, cells: *mut StateBox, top: c_int, completed: bool) -> bool {
    // SAFETY: as documented.
    unsafe {
        if !completed {
            leave_pending(l, cells);
        }
        sys::lua_settop(l, top);
    }
    completed
}

/// A freed callback was called: LuaJIT's error, as is (no traceback: nothing ran),
/// becomes the state's pending error.
///
/// # Safety
/// `cells` is the live box of a state, on its thread.
unsafe fn leave_bad_callback(cells: *mut StateBox) {
    // SAFETY: as documented; the string was made at install.
    unsafe {
        let l = (*cells).cells.caller.cast::<State>();
        let refs = callbacks(&*(*cells).state).refs;
        sys::lua_rawgeti(
            l,
            sys::LUA_REGISTRYINDEX,
            sys::lua_Integer::from(refs.bad_callback),
        );
        leave_pending(l, cells);
    }
}

/// Makes the error on top of `l` the state's pending error (popping it).
///
/// # Safety
/// `cells` is the live box of `l`'s state, on its thread; the error is on top.
unsafe fn leave_pending(l: *mut State, cells: *mut StateBox) {
    // SAFETY: as documented; the registry slot exists (made at install), so this store
    // cannot allocate.
    unsafe {
        let pending = callbacks(&*(*cells).state).refs.pending;
        sys::lua_rawseti(l, sys::LUA_REGISTRYINDEX, sys::lua_Integer::from(pending));
        (*cells).cells.pending_error = 1;
    }
}

/// Fills the state's box reserve under `lua_pcall`. Returns whether it did; if not,
/// the error (out of memory) is pending.
///
/// # Safety
/// As [`run_direct`]; `l` has two free slots.
unsafe fn refill(l: *mut State, cells: *mut StateBox) -> bool {
    // SAFETY: as documented.
    unsafe {
        let refs = callbacks(&*(*cells).state).refs;
        sys::lua_rawgeti(
            l,
            sys::LUA_REGISTRYINDEX,
            sys::lua_Integer::from(refs.refill),
        );
        push_handed_over(l, cells.cast());
        let completed = lua::call_deferred(l, 1, 0, 0).is_ok();
        HANDED_OVER.set(std::ptr::null_mut());
        if completed {
            return true;
        }
        leave_pending(l, cells);
        false
    }
}

/// Under `lua_pcall` from [`refill`] (argument 1: the [`StateBox`]): makes boxes until
/// the reserve is full. Making one may run finalizers, and they callbacks that take
/// boxes or refill the reserve, so the count is read again before the boxes join it.
unsafe extern "C-unwind" fn refill_boxes(l: *mut State) -> c_int {
    // SAFETY: argument 1 is the live state box (refill). `new_small_cdata` raises only
    // out of memory, through this frame, which owns nothing; the reserve is borrowed
    // only between calls that run no Lua code.
    unsafe {
        let cells = take_handed_over(l).cast::<StateBox>();
        lua::entry(l, || refill_reserve(l, cells))
    }
}

/// The body of [`refill_boxes`].
///
/// # Safety
/// `cells` is the live state box of `l`; nothing in the calling frames owns anything.
unsafe fn refill_reserve(l: *mut State, cells: *mut StateBox) -> LuaResult<c_int> {
    // SAFETY: as documented; see `refill_boxes`.
    unsafe {
        let st = (*cells).state;
        let (meta, ty) = ((*st).cdata_meta, (*st).types().builtins().void_ptr);
        let cell = callbacks_cell(&*st);
        let wanted = RESERVE_BOXES - (*cell).borrow().boxes.available;
        // The boxes are made on this stack, with one read of the metatable, then moved
        // to the reserve's thread at once (the slot above is for `grow_reserve`).
        lua::ensure_stack(l, wanted as c_int + 2)?;
        sys::lua_rawgeti(l, sys::LUA_REGISTRYINDEX, sys::lua_Integer::from(meta));
        let meta_index = sys::lua_gettop(l);
        let mut made = [std::ptr::null_mut::<CDataHeader>(); RESERVE_BOXES];
        for block in &mut made[..wanted] {
            let value = cdata::new_small_cdata_meta_at(l, meta_index, ty, 8);
            *block = value.sub(cdata::HEADER_BYTES).cast();
        }
        // A finalizer run by an allocation may have run callbacks that took boxes, or
        // refilled the reserve: as many as there is room for now join it (the last
        // made; the others are dropped with this stack).
        let (thread, grow) = {
            let callbacks = (*cell).borrow();
            (callbacks.boxes.thread, callbacks.refs.grow)
        };
        if !grow_reserve(l, thread, grow, wanted as c_int) {
            return Err(LuaError::msg("not enough memory"));
        }
        let mut callbacks = (*cell).borrow_mut();
        let boxes = &mut callbacks.boxes;
        let moved = wanted.min(RESERVE_BOXES - boxes.available);
        sys::lua_xmove(l, boxes.thread, moved as c_int);
        boxes.blocks[boxes.available..boxes.available + moved]
            .copy_from_slice(&made[wanted - moved..wanted]);
        boxes.available += moved;
        Ok(0)
    }
}

/// Under `lua_pcall` from [`run_direct`]: converts a result that is not a number
/// (argument 2) by the general rules. Argument 1 is the [`Invocation`].
unsafe extern "C-unwind" fn result_body(l: *mut State) -> c_int {
    // SAFETY: called only by `run_direct` with these arguments; the conversion runs
    // inside `lua::entry`.
    unsafe {
        let invocation = take_handed_over(l).cast::<Invocation>();
        lua::entry(l, || {
            (*invocation).x87 = store_result(l, &*invocation)
                .map_err(|error| result_error(l, &*invocation, error))?;
            Ok(0)
        })
    }
}

/// The protected part of a callback: arguments in, the Lua call, the result out.
/// Argument 1 is the [`Invocation`].
unsafe extern "C-unwind" fn callback_body(l: *mut State) -> c_int {
    // SAFETY: called only by `run`, with the invocation as argument 1; the Rust steps
    // run inside `lua::entry`, and the Lua call happens in this frame, which owns
    // nothing.
    unsafe {
        let invocation = take_handed_over(l).cast::<Invocation>();
        sys::lua_settop(l, 0);
        let nargs = lua::entry(l, || push_call(l, &*invocation));
        sys::lua_call(l, nargs, 1);
        lua::entry(l, || {
            (*invocation).x87 = store_result(l, &*invocation)
                .map_err(|error| result_error(l, &*invocation, error))?;
            Ok(0)
        })
    }
}

/// Pushes the function and its arguments; returns the argument count.
///
/// # Safety
/// `l` is live inside [`callback_body`]; the invocation's record and frame are live.
unsafe fn push_call(l: *mut State, invocation: &Invocation) -> LuaResult<c_int> {
    // SAFETY: the record belongs to a live state (admit); the frame is the entry's.
    unsafe {
        let record = &*invocation.record;
        let st = &*(*record.cells).state;
        match record.kind {
            RecordKind::Typed(sig) => {
                let sig = &*sig;
                let count = c_int::try_from(sig.params.len())
                    .map_err(|_| LuaError::msg("too many callback arguments"))?;
                if sys::lua_checkstack(l, count.saturating_add(4)) == 0 {
                    return Err(LuaError::msg("too many callback arguments"));
                }
                push_function(l, record.function);
                let frame = &*invocation.frame;
                for ((&param, arg), quick) in sig.params.iter().zip(&sig.plan.args).zip(&sig.quick)
                {
                    match (quick, arg) {
                        (Some(quick), ArgPlan::Pieces(pieces)) => {
                            let Loc::Gpr(n) = pieces[0].loc else {
                                unreachable!("quick arguments are in one integer register")
                            };
                            push_quick(l, st, *quick, frame.register_word(Loc::Gpr(n)));
                        }
                        _ => push_argument(l, st, param, arg, frame)?,
                    }
                }
                Ok(count)
            }
            RecordKind::Raw { .. } => Err(LuaError::msg(
                "jitffi internal error (a bug, please report): callback kind mismatch",
            )),
        }
    }
}

/// # Safety
/// `l` is live with a free slot; `function` is a registry reference.
unsafe fn push_function(l: *mut State, function: c_int) {
    // SAFETY: as documented.
    unsafe { sys::lua_rawgeti(l, sys::LUA_REGISTRYINDEX, sys::lua_Integer::from(function)) };
}

/// Pushes a [`QuickArg`] whose register held `bits`.
///
/// # Safety
/// `l` is live with two free slots; `st` is its state.
#[inline]
unsafe fn push_quick(l: *mut State, st: &FfiState, quick: QuickArg, bits: u64) {
    // SAFETY: `l` is live (caller); a pointer cdata has 8 value bytes.
    unsafe {
        match quick {
            QuickArg::Int(int) => sys::lua_pushinteger(
                l,
                crate::scalar::number::extend(bits, int) as i64 as sys::lua_Integer,
            ),
            QuickArg::Pointer(_) if bits == 0 => sys::lua_pushnil(l),
            QuickArg::Pointer(ty) => {
                let value = cdata::new_small_cdata(l, st.cdata_meta, ty, 8);
                value.cast::<u64>().write(bits);
            }
        }
    }
}

/// A register-sized image of a value, aligned for any scalar.
#[repr(C, align(16))]
struct Image([u8; 32]);

/// Pushes the argument that travelled as `arg` (of type `param`).
///
/// # Safety
/// `l` is live with three free slots; `frame` is the entry's frame of a call whose
/// arguments follow the plan.
unsafe fn push_argument(
    l: *mut State,
    st: &FfiState,
    param: TypeId,
    arg: &ArgPlan,
    frame: &ArgFrame,
) -> LuaResult<()> {
    let mut image = Image([0; 32]);
    let value: *const u8 = match arg {
        ArgPlan::Pieces(pieces) => {
            for piece in pieces {
                let len = if piece.kind == PieceKind::V128 {
                    16
                } else {
                    usize::from(piece.size)
                };
                // The saved register, or the caller's stack slot.
                let source = frame.arg_ptr(piece.loc);
                let at = piece.offset as usize;
                // SAFETY: pieces lie inside the value, which fits the image when passed
                // in registers (at most 16 bytes); the source holds `len` bytes.
                unsafe { std::ptr::copy_nonoverlapping(source, image.0.as_mut_ptr().add(at), len) };
            }
            image.0.as_ptr()
        }
        // A memory-class argument is a copy in the caller's stack area.
        ArgPlan::Stack { offset, .. } => frame.arg_ptr(Loc::Stack(*offset)),
        ArgPlan::Nothing => image.0.as_ptr(),
        // A copy the caller made (AAPCS64 B.4), its address in a register or a stack slot.
        // SAFETY: the location holds the 8-byte address, read while the frame lives.
        ArgPlan::Indirect { pointer, .. } => unsafe {
            frame.arg_ptr(*pointer).cast::<*const u8>().read_unaligned()
        },
    };
    // SAFETY: `value` holds a value of `param`.
    unsafe { convert::push_value_copy(l, st, param, value) }
}

/// Converts the callback's Lua result (at the top) into the return registers; returns
/// the number of x87 values.
///
/// # Safety
/// `l` is live inside [`callback_body`] with the result at the top.
unsafe fn store_result(l: *mut State, invocation: &Invocation) -> LuaResult<u32> {
    // SAFETY: as in `push_call`.
    unsafe {
        let record = &*invocation.record;
        let st = &*(*record.cells).state;
        let RecordKind::Typed(sig) = record.kind else {
            return Ok(0);
        };
        let (sig, frame) = (&*sig, &mut *invocation.frame);
        let mut image = Image([0; 32]);
        let top = sys::lua_gettop(l);
        match &sig.plan.ret {
            RetPlan::Void => Ok(0),
            RetPlan::Memory { pointer, .. } => {
                let buffer = frame.memory_result(*pointer);
                convert::store_lua_value(l, st, sig.ret, buffer, top, Conv::ASSIGN)?;
                Ok(0)
            }
            RetPlan::X87 { parts } => {
                convert::store_lua_value(l, st, sig.ret, image.0.as_mut_ptr(), top, Conv::ASSIGN)?;
                frame.set_x87_results(&image.0);
                Ok(u32::from(*parts))
            }
            RetPlan::Pieces(pieces) => {
                let number = sig
                    .ret_store
                    .and_then(|store| Some((store, convert::read_lua_number(l, top)?)));
                if let Some((_, number)) = number {
                    if store_number_result(sig, frame, number) {
                        return Ok(0);
                    }
                }
                match number {
                    Some(((store, wide), number)) => {
                        convert::store_lua_number(image.0.as_mut_ptr(), store, wide, number)
                    }
                    None => convert::store_lua_value(
                        l,
                        st,
                        sig.ret,
                        image.0.as_mut_ptr(),
                        top,
                        Conv::ASSIGN,
                    )?,
                }
                for piece in pieces {
                    let at = piece.offset as usize;
                    match (piece.kind, piece.loc) {
                        (PieceKind::Int(ext), loc @ Loc::Gpr(_)) => {
                            let mut raw = [0u8; 8];
                            let size = usize::from(piece.size);
                            raw[..size].copy_from_slice(&image.0[at..at + size]);
                            frame.set_result_word(loc, extend(u64::from_le_bytes(raw), ext));
                        }
                        (kind, loc @ Loc::Vec(_)) => {
                            let len = if kind == PieceKind::V128 {
                                16
                            } else {
                                usize::from(piece.size)
                            };
                            frame.set_result_vec(loc, &image.0[at..at + len]);
                        }
                        _ => {
                            return Err(LuaError::msg(
                                "jitffi internal error (a bug, please report): result piece",
                            ))
                        }
                    }
                }
                Ok(0)
            }
        }
    }
}

/// An error converting the callback's result, with LuaJIT's position: the callback
/// function's source and last line (`file:line: `; none for a C function).
///
/// # Safety
/// `l` is live with two free slots; the invocation's record is live.
unsafe fn result_error(l: *mut State, invocation: &Invocation, error: LuaError) -> LuaError {
    let LuaError::Message(message) = error else {
        return error;
    };
    // SAFETY: `l` is live (caller); a zeroed `lua_Debug` is a valid blank record;
    // `lua_getinfo` with '>' pops the function pushed for it.
    unsafe {
        let mut ar = std::mem::MaybeUninit::<sys::lua_Debug>::zeroed().assume_init();
        push_function(l, (*invocation.record).function);
        if sys::lua_getinfo(l, c">S".as_ptr(), &mut ar) == 0 || ar.lastlinedefined <= 0 {
            return LuaError::Plain(message);
        }
        let source = std::ffi::CStr::from_ptr(ar.short_src.as_ptr()).to_string_lossy();
        LuaError::Plain(format!("{source}:{}: {message}", ar.lastlinedefined))
    }
}

/// The number on top of `l` (a direct callback's result), `None` if it is not one: read
/// straight from the stack slot where [`crate::lua::stack`] can.
///
/// # Safety
/// `l` is live with a value on top.
#[inline(always)]
unsafe fn result_number(l: *mut State) -> Option<LuaNumber> {
    // SAFETY: forwarded.
    unsafe {
        match crate::lua::stack::number_on_top(l) {
            Peeked::Int(i) => Some(LuaNumber::Int(i)),
            Peeked::Float(x) => Some(LuaNumber::Float(x)),
            Peeked::Unknown if crate::lua::stack::enabled() => None,
            Peeked::Unknown => convert::read_lua_number(l, -1),
        }
    }
}

/// Stores a number result of a scalar in one register straight into that register;
/// false for other results.
#[inline(always)]
fn store_number_result(sig: &CallbackSignature, frame: &mut ArgFrame, number: LuaNumber) -> bool {
    let Some(ResultRegister { store, wide, place }) = sig.ret_register else {
        return false;
    };
    let mut word = 0u64;
    // SAFETY: the word has room for any scalar that fits one register.
    unsafe {
        convert::store_lua_number(
            std::ptr::addr_of_mut!(word).cast::<u8>(),
            store,
            wide,
            number,
        )
    };
    match place {
        ResultPlace::Gpr(n, ext) => frame.set_result_word(Loc::Gpr(n), extend(word, ext)),
        ResultPlace::Vec(n) => frame.set_result_word(Loc::Vec(n), word),
    }
    true
}

/// An integer result's register, extended from its width as the plan says.
#[inline(always)]
fn extend(bits: u64, ext: Ext) -> u64 {
    match ext {
        Ext::Sign(bytes) => crate::scalar::number::extend(
            bits,
            IntType {
                bytes,
                signed: true,
            },
        ),
        Ext::Zero(bytes) => crate::scalar::number::extend(
            bits,
            IntType {
                bytes,
                signed: false,
            },
        ),
        Ext::None => bits,
    }
}

/// Message handler of callbacks: a string error gets the traceback of where it was
/// raised (once: an error passing through nested callbacks keeps the innermost).
unsafe extern "C-unwind" fn add_traceback(l: *mut State) -> c_int {
    // SAFETY: called by Lua as a message handler with the error as argument 1.
    unsafe {
        if sys::lua_type(l, 1) == sys::LUA_TSTRING {
            let text = lua::to_bytes(l, 1).unwrap_or_default();
            let traced = text
                .windows(b"stack traceback:".len())
                .any(|w| w == b"stack traceback:");
            if !traced {
                let message = sys::lua_tolstring(l, 1, std::ptr::null_mut());
                sys::luaL_traceback(l, l, message, 1);
            }
        }
        1
    }
}

/// The state's [`Callbacks`], for one statement or a block that makes no Lua call.
fn callbacks(st: &FfiState) -> RefMut<'_, Callbacks> {
    st.upper.part::<RefCell<Callbacks>>().borrow_mut()
}

/// The cell of the state's [`Callbacks`]: boxed among the state's parts, so its address
/// lasts as long as the state.
fn callbacks_cell(st: &FfiState) -> *const RefCell<Callbacks> {
    st.upper.part::<RefCell<Callbacks>>()
}

/// The [`Callbacks`] of the state that owns `record`, without looking them up, for one
/// statement or a block that makes no Lua call.
///
/// # Safety
/// `record` is a live record, whose state is open (the handlers' `admit` vouches for it).
unsafe fn record_callbacks<'a>(record: *const CallbackRecord) -> RefMut<'a, Callbacks> {
    // SAFETY: as documented: the cell lives as long as the record's state.
    unsafe { (*(*record).callbacks).borrow_mut() }
}

/// The registry reference that holds the error a callback left for the enclosing C call
/// to raise (the call stubs' `raise_pending` helper reads and clears it).
pub fn pending_error_ref(st: &FfiState) -> c_int {
    callbacks(st).refs.pending
}
