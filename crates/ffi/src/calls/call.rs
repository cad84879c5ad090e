//! Calls into C: the Lua value that stands for a C function, the conversion helpers the
//! generated call stubs (`jitffi-jit`) call, and calls through function-pointer cdata.
//!
//! A declared C function reaches Lua as a C closure whose code *is* the stub of its
//! signature (shared by every function of that signature) and whose upvalues are
//!
//! 1. a light userdata: the address of the [`Binding`] inside upvalue 2, which the stub
//!    reads straight from the closure ([`crate::lua::stack::light_upvalue`]);
//! 2. the [`Binding`] userdata: the stub's [`CallContext`] (target address, errno cell,
//!    signature, name) and the state's cell (Lua never moves a userdata's memory);
//! 3. the ffi state userdata, which keeps the errno cell and the state cell alive;
//! 4. for a library's function, the library (so it stays loaded while the function
//!    is reachable).
//!
//! So `ffi.C.add(1, 2)` costs one Lua call of machine code that calls one conversion
//! helper per argument (numbers and strings read straight from the stack by
//! [`crate::lua::stack`], the general conversion of [`crate::cdata::convert`] otherwise), the
//! target, and `lua_pushinteger` (or `lua_pushnumber`, `lua_pushboolean`, a small
//! helper for `uint64_t`, or [`push_result`] for everything else).
//!
//! Variadic functions get a Rust closure instead ([`call_variadic`]): the types of the
//! extra arguments are known only per call (LuaJIT's rules: numbers are `double`,
//! strings `const char *`, cdata keep their type), so it picks the stub of the concrete
//! signature each time, from a cache keyed by the function type and the extra arguments'
//! types (a call with types seen before allocates nothing). Function-pointer cdata are called through `__call`, which
//! builds a binding on the stack and enters the stub directly ([`prepare_cdata_call`]).
//!
//! Errors raised by helpers (a bad argument, a wrong count) longjmp out of the stub,
//! which owns nothing; each helper drops everything it owns before raising.

use crate::cdata::convert::{self, Conv};
use crate::cdata::state::{FfiState, StateBox, STATE_UPVALUE};
use crate::cdata::{self, CDataHeader};
use crate::lua::stack::{self, Peeked, PeekedString};
use crate::lua::tagged::{self, Kind};
use crate::lua::{self, LuaError, LuaResult, Next, State};
use crate::scalar::number::Num;
use jitffi_abi::{Convention, Loc, PieceKind, RetPlan};
use jitffi_ctype::table::FxMap;
use jitffi_ctype::{CType, FloatKind, FuncType, IntType, TypeId, TypeTable};
use jitffi_jit::{
    stub_for, ArgFetch, CallContext, CallStub, DirectEntry, Helper, Helpers, ResultArea,
    ResultPush, StubSpec,
};
use mlua_sys as sys;
use std::cell::{RefCell, RefMut};
use std::ffi::{c_char, c_void};
use std::os::raw::c_int;

/// What the helpers know of one C signature. Owned by the state's [`CallCache`], so it
/// lives until the state closes.
#[derive(Debug)]
pub struct Signature {
    pub func_ty: TypeId,
    /// Parameter types as the callee receives them (arrays and functions decayed to
    /// pointers).
    pub params: Box<[TypeId]>,
    pub ret: TypeId,
    pub stub: &'static CallStub,
    /// The result plan, for [`push_result`].
    ret_plan: RetPlan,
}

/// The signatures of one state, by function type, and those of the variadic calls made
/// so far.
#[derive(Debug)]
pub struct CallCache {
    signatures: FxMap<TypeId, Box<Signature>>,
    /// By a variadic function type followed by the types of a call's extra arguments
    /// (see [`concrete_signature`]); the signatures are those of `signatures`.
    variadic: FxMap<Box<[TypeId]>, *const Signature>,
    /// The key of the variadic call being looked up, kept so that a call of types seen
    /// before allocates nothing.
    variadic_key: Vec<TypeId>,
    /// Registry reference and address of the metatable of C function bindings.
    binding_meta: c_int,
    binding_meta_ptr: *const c_void,
}

/// Adds the state's [`CallCache`], with the metatable of C function bindings (a table
/// whose `__metatable` hides it), and installs the hooks the layers below call.
///
/// # Safety
/// `l` is live with 2 free slots; `st` is its state, being opened.
pub unsafe fn install(l: *mut State, st: &mut FfiState) {
    // SAFETY: `l` is live (caller).
    let (binding_meta_ptr, binding_meta) = unsafe {
        sys::lua_createtable(l, 0, 1);
        lua::push_str(l, "ffi function");
        lua::set_field_raw(l, -2, "__metatable");
        (
            sys::lua_topointer(l, -1),
            sys::luaL_ref(l, sys::LUA_REGISTRYINDEX),
        )
    };
    st.upper.add(RefCell::new(CallCache {
        signatures: FxMap::default(),
        variadic: FxMap::default(),
        variadic_key: Vec::new(),
        binding_meta,
        binding_meta_ptr,
    }));
    st.hooks.function_value = function_value;
    st.hooks.call_cdata = call_cdata;
}

/// The state's [`CallCache`], for one statement or a block that makes no Lua call.
fn call_cache(st: &FfiState) -> RefMut<'_, CallCache> {
    st.upper.part::<RefCell<CallCache>>().borrow_mut()
}

/// Upvalue 1 of a C function's closure, and the context of a direct stub call.
#[repr(C)]
#[derive(Copy, Clone, Debug)]
pub struct Binding {
    /// First, so that a `*const CallContext` from the stub is a `*const Binding`.
    pub ctx: CallContext,
    /// The state box of the Lua state that made the binding; its `state` is null once the
    /// state began closing.
    pub state: *const StateBox,
    /// The function type (not a concrete variadic one).
    pub func_ty: TypeId,
    /// [`tagged::tag`]`(Kind::Binding)`: tells a binding from a foreign userdata given
    /// its metatable or put in its place (`debug.setmetatable`, `debug.setupvalue`).
    pub tag: u64,
}

/// Upvalue 2 of a C function's closure is its binding userdata (upvalue 1 its address,
/// upvalue 3 the state userdata the binding points into).
const BINDING_UPVALUE: c_int = 2;

impl Binding {
    /// A binding of the C function at `target` for the state whose box is `cells`.
    ///
    /// # Safety
    /// `cells` is the live box of the state that owns `owner` (a signature, or null
    /// until one is chosen); `name` is null or a NUL-terminated string that lives as
    /// long as the binding.
    unsafe fn new(
        cells: *mut StateBox,
        target: *const c_void,
        func_ty: TypeId,
        owner: *const Signature,
        name: *const c_char,
    ) -> Binding {
        Binding {
            ctx: CallContext {
                target,
                // SAFETY: `cells` is live (caller); only the field's address is taken.
                cells: unsafe { std::ptr::addr_of_mut!((*cells).cells) },
                owner: owner.cast(),
                name,
            },
            state: cells,
            func_ty,
            tag: tagged::tag(Kind::Binding),
        }
    }

    /// The binding userdata at `index`, if the value there is one; else null.
    ///
    /// # Safety
    /// `l` is live; `index` is valid.
    unsafe fn at(l: *mut State, index: c_int) -> *mut Binding {
        // SAFETY: `tagged::check` reads inside the block only.
        unsafe {
            tagged::check(
                l,
                index,
                Kind::Binding,
                std::mem::size_of::<Binding>(),
                std::mem::offset_of!(Binding, tag),
            )
            .cast()
        }
    }
}

/// Pushes the Lua value for the C function of type `func_ty` (a `CType::Func`) at
/// `address`: what `ffi.C.name` and a library namespace return. `name` (the declared C
/// name) is for error messages; the value at stack index `anchor`, if given, stays
/// reachable as long as the function (its library).
///
/// # Safety
/// Called from a C function of this module (state as upvalue 1); `l` is live with four
/// free slots; `st` is its ffi state; `address` is the entry of a function of type
/// `func_ty` (calling it with arguments of that type is sound); `anchor`, if given, is a
/// valid (pseudo-)index.
pub unsafe fn push_function(
    l: *mut State,
    st: &FfiState,
    func_ty: TypeId,
    address: *const c_void,
    name: Option<&str>,
    anchor: Option<c_int>,
) -> LuaResult<()> {
    let func_ty = st.types().unqualified(func_ty).0;
    let (code, owner): (sys::lua_CFunction, *const Signature) =
        if function_type(&st.types(), func_ty)?.variadic {
            (call_variadic, std::ptr::null())
        } else {
            let sig = signature(st, func_ty)?;
            // SAFETY: the caller entry has the lua_CFunction signature (jitffi_jit docs);
            // `sig` lives as long as the state.
            let entry = unsafe { (*sig).stub.caller_entry() };
            // SAFETY: same ABI and argument list: `fn(*mut c_void) -> c_int` called as
            // `fn(*mut lua_State) -> c_int`.
            (
                unsafe {
                    std::mem::transmute::<jitffi_jit::CallerEntry, sys::lua_CFunction>(entry)
                },
                sig,
            )
        };
    let name = name.unwrap_or("");
    // SAFETY: `l` is live with three slots (caller); the userdata is sized for the
    // binding plus the NUL-terminated name, which `ctx.name` points into; upvalue 1 of the
    // running function is the state userdata (caller).
    unsafe {
        let cells = StateBox::of_running_function(l);
        let size = std::mem::size_of::<Binding>() + name.len() + 1;
        let block = lua::new_userdata(l, size).cast::<Binding>();
        let name_at = block.cast::<u8>().add(std::mem::size_of::<Binding>());
        std::ptr::copy_nonoverlapping(name.as_ptr(), name_at, name.len());
        name_at.add(name.len()).write(0);
        let name_ptr = if name.is_empty() {
            std::ptr::null()
        } else {
            name_at.cast::<c_char>()
        };
        block.write(Binding::new(cells, address, func_ty, owner, name_ptr));
        sys::lua_rawgeti(
            l,
            sys::LUA_REGISTRYINDEX,
            sys::lua_Integer::from(call_cache(st).binding_meta),
        );
        sys::lua_setmetatable(l, -2);
        sys::lua_pushlightuserdata(l, block.cast());
        sys::lua_insert(l, -2);
        sys::lua_pushvalue(l, lua::upvalue(STATE_UPVALUE));
        match anchor {
            Some(index) => {
                sys::lua_pushvalue(l, index);
                lua::push_closure(l, code, 4);
            }
            None => lua::push_closure(l, code, 3),
        }
    }
    Ok(())
}

/// If the value at `index` is a C function made by [`push_function`]: its
/// function type and address.
///
/// # Safety
/// `l` is live with one free slot; `st` is its state.
pub unsafe fn function_value(
    l: *mut State,
    st: &FfiState,
    index: c_int,
) -> Option<(TypeId, *const c_void)> {
    // SAFETY: `l` is live; the upvalue is only read after its metatable proved it a
    // binding.
    unsafe {
        if sys::lua_iscfunction(l, index) == 0
            || sys::lua_getupvalue(l, index, BINDING_UPVALUE).is_null()
        {
            return None;
        }
        let binding = Binding::at(l, -1);
        let ours = !binding.is_null() && sys::lua_getmetatable(l, -1) != 0 && {
            let meta = sys::lua_topointer(l, -1);
            sys::lua_settop(l, -2);
            meta == call_cache(st).binding_meta_ptr
        };
        sys::lua_settop(l, -2);
        ours.then(|| ((*binding).func_ty, (*binding).ctx.target))
    }
}

/// The function type behind `ty` (a function, or a pointer or reference to one).
fn function_type(types: &TypeTable, ty: TypeId) -> LuaResult<FuncType> {
    match types.get(types.unqualified(ty).0) {
        CType::Func(func) => Ok(func.clone()),
        _ => Err(LuaError::msg(format!(
            "'{}' is not callable",
            types.type_name(ty)
        ))),
    }
}

/// The signature of the (non-variadic, or concrete variadic) function type `func_ty`,
/// made once per state.
fn signature(st: &FfiState, func_ty: TypeId) -> LuaResult<*const Signature> {
    if let Some(sig) = call_cache(st).signatures.get(&func_ty) {
        return Ok(&**sig);
    }
    let func = function_type(&st.types(), func_ty)?;
    let (params, spec) = stub_spec(&mut *st.types_mut()?, &func).map_err(LuaError::msg)?;
    let stub = stub_for(&spec).map_err(|e| LuaError::msg(e.message))?;
    let sig = Box::new(Signature {
        func_ty,
        params,
        ret: func.ret,
        stub,
        ret_plan: spec.plan.ret,
    });
    let ptr: *const Signature = &*sig;
    call_cache(st).signatures.insert(func_ty, sig);
    Ok(ptr)
}

/// The parameter types as passed and the stub spec of a (non-variadic or concrete)
/// function type.
fn stub_spec(types: &mut TypeTable, func: &FuncType) -> Result<(Box<[TypeId]>, StubSpec), String> {
    stub_spec_for(types, func, Convention::host())
}

/// [`stub_spec`] for `convention`, whose target `types` is laid out for.
fn stub_spec_for(
    types: &mut TypeTable,
    func: &FuncType,
    convention: Convention,
) -> Result<(Box<[TypeId]>, StubSpec), String> {
    let params: Box<[TypeId]> = func
        .params
        .iter()
        .map(|&p| convert::decay(types, p))
        .collect();
    let plan = convention
        .classify(types, func, &[])
        .map_err(|e| e.message)?;
    let args = params.iter().map(|&p| fetch_for(types, p)).collect();
    let spec = StubSpec {
        plan,
        args,
        result: push_for(types, func.ret),
        helpers: helpers(),
    };
    Ok((params, spec))
}

/// The listing of the stub a call of `func_ty` uses (the runner's `--disasm`); for a
/// variadic type, that of a call with no extra arguments (a call with extras uses the
/// stub of the concrete type: the fixed parameters, then the extra arguments' types).
/// `types` is laid out for `convention`'s target; listing another architecture's stub
/// needs no executable memory, so AArch64's lists on every host.
pub fn stub_listing(
    types: &mut TypeTable,
    func_ty: TypeId,
    convention: Convention,
) -> Result<String, String> {
    let func = function_type(types, func_ty).map_err(|e| e.text().to_owned())?;
    let (_, spec) = stub_spec_for(types, &func, convention)?;
    jitffi_jit::listing_for_convention(convention, &spec).map_err(|e| e.message)
}

fn helper(address: *const (), name: &'static str) -> Helper {
    Helper {
        address: address as usize,
        name,
    }
}

/// The helpers every stub of this module uses.
fn helpers() -> Helpers {
    Helpers {
        context: helper(binding_of_running_function as *const (), "binding"),
        arg_count: helper(sys::lua_gettop as *const (), "lua_gettop"),
        count_error: helper(count_error as *const (), "count_error"),
        errno_location: helper(
            crate::platform::errno::errno_location as *const (),
            "errno_location",
        ),
        pending_error: helper(raise_pending as *const (), "raise_pending"),
    }
}

/// How a parameter of type `ty` is fetched.
fn fetch_for(types: &TypeTable, ty: TypeId) -> ArgFetch {
    let (base, _) = types.unqualified(ty);
    let int = |int: IntType| {
        ArgFetch::Scalar(match (int.bytes, int.signed) {
            (1, true) => helper(arg_int::<1, true> as *const (), "arg_i8"),
            (1, false) => helper(arg_int::<1, false> as *const (), "arg_u8"),
            (2, true) => helper(arg_int::<2, true> as *const (), "arg_i16"),
            (2, false) => helper(arg_int::<2, false> as *const (), "arg_u16"),
            (4, true) => helper(arg_int::<4, true> as *const (), "arg_i32"),
            (4, false) => helper(arg_int::<4, false> as *const (), "arg_u32"),
            (_, true) => helper(arg_int::<8, true> as *const (), "arg_i64"),
            (_, false) => helper(arg_int::<8, false> as *const (), "arg_u64"),
        })
    };
    match types.get(base) {
        CType::Int(i) => int(*i),
        CType::Float(FloatKind::Double) => {
            ArgFetch::Scalar(helper(arg_float::<false> as *const (), "arg_f64"))
        }
        CType::Float(FloatKind::Float) => {
            ArgFetch::Scalar(helper(arg_float::<true> as *const (), "arg_f32"))
        }
        CType::Pointer(target) if is_const_char(types, *target) => {
            ArgFetch::Scalar(helper(arg_cstring as *const (), "arg_cstring"))
        }
        CType::Bool | CType::BoolInt | CType::Enum(_) | CType::Pointer(_) | CType::Ref(_) => {
            ArgFetch::Scalar(helper(arg_scalar as *const (), "arg_scalar"))
        }
        _ => ArgFetch::Memory {
            helper: helper(arg_memory as *const (), "arg_memory"),
            size: types.size_of(base).unwrap_or(0) as u32,
        },
    }
}

fn is_const_char(types: &TypeTable, ty: TypeId) -> bool {
    let (base, quals) = types.unqualified(ty);
    quals.is_const
        && matches!(types.get(base), CType::Int(IntType { bytes: 1, .. }))
        && base == types.builtins().char_
}

/// How a result of type `ret` reaches Lua.
fn push_for(types: &TypeTable, ret: TypeId) -> ResultPush {
    let (base, _) = types.unqualified(ret);
    match types.get(base) {
        CType::Void => ResultPush::Nothing,
        // The plan zero-extends the register from the bool's width.
        CType::Bool | CType::BoolInt => {
            ResultPush::Integer(helper(sys::lua_pushboolean as *const (), "lua_pushboolean"))
        }
        CType::Int(int) if int.bytes < 8 || (int.signed && lua::version::INTEGERS) => {
            ResultPush::Integer(helper(sys::lua_pushinteger as *const (), "lua_pushinteger"))
        }
        CType::Float(FloatKind::Float | FloatKind::Double) => {
            ResultPush::Number(helper(sys::lua_pushnumber as *const (), "lua_pushnumber"))
        }
        CType::Int(IntType {
            bytes: 8,
            signed: false,
        }) if lua::version::INTEGERS => {
            ResultPush::Generic(helper(push_u64 as *const (), "push_u64"))
        }
        _ => ResultPush::Generic(helper(push_result as *const (), "push_result")),
    }
}

// ---- helpers the stubs call ---------------------------------------------------------------

/// The binding of the running C function (caller-entry helper).
unsafe extern "C-unwind" fn binding_of_running_function(l: *mut State) -> *const CallContext {
    // SAFETY: only stubs entered as closures made by `push_function` call this:
    // their upvalue 1 is the binding's address.
    unsafe { crate::lua::stack::light_upvalue(l).cast() }
}

/// Runs a helper body by the entry protocol ([`lua::entry_value`]): a plain error of a
/// helper running as a cdata's metamethod gets the metamethod's position.
///
/// # Safety
/// `l` is live and the frames up to Lua's error handler own nothing (stub frames).
unsafe fn helper_entry<T>(l: *mut State, body: impl FnOnce() -> LuaResult<T>) -> T {
    // SAFETY: forwarded from the caller.
    unsafe { lua::entry_value(l, body, |error| metamethod_error(l, error)) }
}

/// A helper's error as its C function raises it: with a metamethod's position (see
/// [`as_metamethod`]) when it runs as one.
#[cold]
#[inline(never)]
fn metamethod_error(l: *mut State, error: LuaError) -> LuaError {
    match error {
        // SAFETY: `l` is the live state of the helper's C function.
        LuaError::Message(message) => match unsafe { as_metamethod(l) } {
            Some((_, position)) => LuaError::Plain(position + &message),
            None => LuaError::Message(message),
        },
        other => other,
    }
}

/// For a C function run as a cdata's metamethod: the name and position its errors give,
/// as LuaJIT's. Our metamethod closures call the metatype's method from C, so the
/// function's caller (level 1) is one of them, where LuaJIT's VM calls it from the Lua
/// code below (level 2 here): the event (`__add`) and that code's `file:line: `, or
/// `'?'` and no position for `__call` and when no Lua code is below. `None` for any
/// other caller.
///
/// # Safety
/// `l` is live, inside a C function, with two free slots.
unsafe fn as_metamethod(l: *mut State) -> Option<(&'static str, String)> {
    // SAFETY: `l` is live (caller); a zeroed `lua_Debug` is a valid blank record, filled
    // by `lua_getstack`; `lua_getinfo` with "f" pushes the function, popped at once.
    unsafe {
        let mut ar = std::mem::MaybeUninit::<sys::lua_Debug>::zeroed().assume_init();
        if sys::lua_getstack(l, 1, &mut ar) == 0 || sys::lua_getinfo(l, c"f".as_ptr(), &mut ar) == 0
        {
            return None;
        }
        let caller = sys::lua_tocfunction(l, -1);
        sys::lua_settop(l, -2);
        let event = crate::cdata::metamethods::event_of(caller?)?;
        let mut below = std::mem::MaybeUninit::<sys::lua_Debug>::zeroed().assume_init();
        let lua_below = event != "__call"
            && sys::lua_getstack(l, 2, &mut below) != 0
            && sys::lua_getinfo(l, c"l".as_ptr(), &mut below) != 0
            && below.currentline > 0;
        if !lua_below {
            return Some(("?", String::new()));
        }
        sys::luaL_where(l, 2);
        let position =
            String::from_utf8_lossy(lua::to_bytes(l, -1).unwrap_or_default()).into_owned();
        sys::lua_settop(l, -2);
        Some((event, position))
    }
}

/// The name errors give the called function: its own, or as [`as_metamethod`] says.
///
/// # Safety
/// As [`parts`]; `l` is live, inside a C function, with two free slots.
unsafe fn shown_callee_name(l: *mut State, types: &TypeTable, ctx: *const CallContext) -> String {
    // SAFETY: forwarded.
    unsafe {
        match as_metamethod(l) {
            Some((name, _)) => name.to_owned(),
            None => callee_name(types, ctx),
        }
    }
}

/// The state and signature behind a stub's context.
///
/// # Safety
/// `ctx` is the context of a binding made by this module, alive for the call.
unsafe fn parts<'a>(ctx: *const CallContext) -> LuaResult<(&'a FfiState, &'a Signature)> {
    // SAFETY: `ctx` is the first field of a live Binding (module invariant); the state
    // pointer is null once the state began closing, and signatures live as long as it.
    unsafe {
        let binding = ctx.cast::<Binding>();
        let st = (*(*binding).state).state;
        if st.is_null() {
            return Err(LuaError::msg(
                "C function called after its Lua state began closing",
            ));
        }
        Ok((&*st, &*(*ctx).owner.cast::<Signature>()))
    }
}

/// The name error messages give the called function.
///
/// # Safety
/// As [`parts`].
unsafe fn callee_name(types: &TypeTable, ctx: *const CallContext) -> String {
    // SAFETY: `name` is null or a NUL-terminated string inside the binding (or static).
    unsafe {
        let name = (*ctx).name;
        if name.is_null() {
            let func_ty = (*ctx.cast::<Binding>()).func_ty;
            types.type_name(func_ty)
        } else {
            std::ffi::CStr::from_ptr(name)
                .to_string_lossy()
                .into_owned()
        }
    }
}

/// Converts argument `param` (at stack `index`) by the general rules into `dst`.
///
/// # Safety
/// `l` is live; `ctx` as in [`parts`]; `dst` holds the parameter's type.
unsafe fn convert_arg(
    l: *mut State,
    index: c_int,
    ctx: *const CallContext,
    param: usize,
    dst: *mut u8,
) -> LuaResult<()> {
    // SAFETY: forwarded.
    unsafe {
        let (st, sig) = parts(ctx)?;
        let ty = sig.params[param];
        lua::ensure_stack(l, 4)?;
        convert::store_lua_value(l, st, ty, dst, index, Conv::ASSIGN).map_err(|e| {
            LuaError::msg(format!(
                "bad argument #{} to '{}' ({})",
                param + 1,
                shown_callee_name(l, &st.types(), ctx),
                e.text()
            ))
        })
    }
}

/// An integer parameter of `BYTES` bytes, extended to 64 bits.
unsafe extern "C-unwind" fn arg_int<const BYTES: u8, const SIGNED: bool>(
    l: *mut State,
    index: c_int,
    ctx: *const CallContext,
    param: usize,
    _dst: *mut u8,
) -> u64 {
    let int = IntType {
        bytes: BYTES,
        signed: SIGNED,
    };
    // SAFETY: called by a stub with a live state and its binding's context, after the
    // argument count was checked.
    let bits = match unsafe { stack::number(l, index) } {
        // Wide destinations take Lua integers exactly; narrower ones convert through a
        // double, as every other conversion does (`convert::lua_num`).
        Peeked::Int(i) if BYTES == 8 => i as u64,
        Peeked::Int(i) => crate::scalar::number::num_to_int_bits(Num::Float(i as f64), int),
        Peeked::Float(x) => crate::scalar::number::num_to_int_bits(Num::Float(x), int),
        // SAFETY: as above.
        Peeked::Unknown => unsafe { int_slow(l, index, ctx, param, int) },
    };
    crate::scalar::number::extend(bits, int)
}

/// [`arg_int`] when the argument is not a number the stack can be read for.
///
/// # Safety
/// As [`arg_int`].
#[cold]
#[inline(never)]
unsafe fn int_slow(
    l: *mut State,
    index: c_int,
    ctx: *const CallContext,
    param: usize,
    int: IntType,
) -> u64 {
    // SAFETY: forwarded.
    unsafe {
        if sys::lua_type(l, index) == sys::LUA_TNUMBER {
            return crate::scalar::number::num_to_int_bits(
                convert::lua_num(l, index, int.bytes == 8),
                int,
            );
        }
        general_bits(l, index, ctx, param)
    }
}

/// Converts argument `param` by the general rules; its first 8 bytes.
///
/// # Safety
/// As [`convert_arg`].
#[cold]
#[inline(never)]
unsafe fn general_bits(l: *mut State, index: c_int, ctx: *const CallContext, param: usize) -> u64 {
    let mut value = [0u64; 2];
    // SAFETY: forwarded; the buffer holds any scalar.
    unsafe {
        helper_entry(l, || {
            convert_arg(l, index, ctx, param, value.as_mut_ptr().cast())
        })
    };
    value[0]
}

/// The argument at `index` as a double, if it is a Lua number (read straight from the
/// stack where possible).
///
/// # Safety
/// `l` is live, running the stub's C function, with at least `index` arguments.
#[inline]
unsafe fn number_arg(l: *mut State, index: c_int) -> Option<f64> {
    // SAFETY: forwarded.
    unsafe {
        match stack::number(l, index) {
            Peeked::Float(x) => Some(x),
            Peeked::Int(i) => Some(i as f64),
            Peeked::Unknown if sys::lua_type(l, index) == sys::LUA_TNUMBER => {
                Some(sys::lua_tonumberx(l, index, std::ptr::null_mut()))
            }
            Peeked::Unknown => None,
        }
    }
}

/// `double` (or `float` when `SINGLE`): a Lua number directly, anything else converted.
unsafe extern "C-unwind" fn arg_float<const SINGLE: bool>(
    l: *mut State,
    index: c_int,
    ctx: *const CallContext,
    param: usize,
    _dst: *mut u8,
) -> u64 {
    // SAFETY: called by a stub with a live state and its binding's context.
    unsafe {
        match number_arg(l, index) {
            Some(x) if SINGLE => u64::from((x as f32).to_bits()),
            Some(x) => x.to_bits(),
            None => general_bits(l, index, ctx, param),
        }
    }
}

/// `const char *`: a Lua string passes its own bytes (valid during the call).
unsafe extern "C-unwind" fn arg_cstring(
    l: *mut State,
    index: c_int,
    ctx: *const CallContext,
    param: usize,
    dst: *mut u8,
) -> u64 {
    // SAFETY: called by a stub with a live state and its binding's context; the string
    // stays on the stack (as the argument) until the call returns.
    unsafe {
        match stack::string(l, index) {
            PeekedString::Chars(chars) => chars as u64,
            _ => cstring_slow(l, index, ctx, param, dst),
        }
    }
}

/// [`arg_cstring`] when the argument is not a string the stack can be read for.
///
/// # Safety
/// As [`arg_cstring`].
#[cold]
#[inline(never)]
unsafe fn cstring_slow(
    l: *mut State,
    index: c_int,
    ctx: *const CallContext,
    param: usize,
    dst: *mut u8,
) -> u64 {
    // SAFETY: forwarded.
    unsafe {
        if sys::lua_type(l, index) == sys::LUA_TSTRING {
            return sys::lua_tolstring(l, index, std::ptr::null_mut()) as u64;
        }
        arg_scalar(l, index, ctx, param, dst)
    }
}

/// Pointers, bools and enums: `nil` is NULL; everything else by the general rules.
unsafe extern "C-unwind" fn arg_scalar(
    l: *mut State,
    index: c_int,
    ctx: *const CallContext,
    param: usize,
    _dst: *mut u8,
) -> u64 {
    // SAFETY: called by a stub with a live state and its binding's context.
    unsafe {
        let mut value = [0u64; 2];
        helper_entry(l, || {
            convert_arg(l, index, ctx, param, value.as_mut_ptr().cast())?;
            let (st, sig) = parts(ctx)?;
            value[0] = scalar_register(&st.types(), sig.params[param], value[0]);
            Ok(())
        });
        value[0]
    }
}

/// The register value of a scalar stored as the low bytes of `bits`.
fn scalar_register(types: &TypeTable, ty: TypeId, bits: u64) -> u64 {
    let (base, _) = types.unqualified(ty);
    match types.get(base) {
        CType::Int(int) => crate::scalar::number::extend(bits, *int),
        CType::Enum(eid) => match types.enum_def(*eid).int_type {
            Some(int) => crate::scalar::number::extend(bits, int),
            None => bits,
        },
        CType::Bool => bits & 0xff,
        CType::BoolInt => bits & 0xffff_ffff,
        _ => bits,
    }
}

/// Aggregates and other values passed by their bytes: converted straight into `dst`.
unsafe extern "C-unwind" fn arg_memory(
    l: *mut State,
    index: c_int,
    ctx: *const CallContext,
    param: usize,
    dst: *mut u8,
) -> u64 {
    // SAFETY: called by a stub with a live state, its binding's context and an image of
    // the parameter's size.
    unsafe {
        // A cdata of exactly the parameter's type (the common case: a struct made by
        // ffi.new or returned by C) is copied as it is.
        if let Ok((st, sig)) = parts(ctx) {
            let ty = sig.params[param];
            if let Some(header) = cdata::to_cdata(l, st, index) {
                let header = &*header;
                if header.kind() == cdata::CDataKind::Value && header.ty == ty {
                    if let Some(size) = st.types().size_of(ty) {
                        std::ptr::copy_nonoverlapping(cdata::payload(header), dst, size as usize);
                        return 0;
                    }
                }
            }
        }
        helper_entry(l, || convert_arg(l, index, ctx, param, dst));
    }
    0
}

/// Reports a wrong argument count. Never returns.
unsafe extern "C-unwind" fn count_error(l: *mut State, ctx: *const CallContext, base: c_int) {
    // SAFETY: called by a stub with a live state and its binding's context.
    unsafe {
        helper_entry(l, || {
            let (st, sig) = parts(ctx)?;
            let got = sys::lua_gettop(l) - base + 1;
            Err::<(), _>(LuaError::msg(format!(
                "wrong number of arguments for function call to '{}' ({} expected, got {})",
                shown_callee_name(l, &st.types(), ctx),
                sig.params.len(),
                got.max(0)
            )))
        })
    }
}

/// Pushes a `uint64_t` result on 5.3+: a Lua integer when it fits (`size_t strlen(...)`),
/// else as [`push_result`] does.
unsafe extern "C-unwind" fn push_u64(
    l: *mut State,
    ctx: *const CallContext,
    results: *const ResultArea,
) -> c_int {
    // SAFETY: called by a stub with a live state (one free slot: a C function's stack
    // has LUA_MINSTACK), its binding's context and the saved result registers.
    unsafe {
        let value = (*results).word(Loc::Gpr(0));
        if value <= i64::MAX as u64 {
            sys::lua_pushinteger(l, value as i64);
            1
        } else {
            push_result(l, ctx, results)
        }
    }
}

/// Pushes a result the stub cannot push with one Lua API call: aggregates, 64-bit
/// integers on 5.1/5.2 (and `uint64_t` on 5.3+), pointers, enums, complex, vectors,
/// `long double`.
unsafe extern "C-unwind" fn push_result(
    l: *mut State,
    ctx: *const CallContext,
    results: *const ResultArea,
) -> c_int {
    // SAFETY: called by a stub with a live state, its binding's context and the saved
    // result registers.
    unsafe {
        let results = &*results;
        helper_entry(l, || {
            let (st, sig) = parts(ctx)?;
            lua::ensure_stack(l, 4)?;
            let ret = sig.ret;
            let mut bytes = [0u8; 32];
            let value: *const u8 = match &sig.ret_plan {
                RetPlan::Memory { .. } => results.memory.as_ptr(),
                RetPlan::X87 { parts } => {
                    bytes[..10].copy_from_slice(&results.x87(0)[..10]);
                    if *parts == 2 {
                        bytes[16..26].copy_from_slice(&results.x87(1)[..10]);
                    }
                    bytes.as_ptr()
                }
                RetPlan::Pieces(pieces) => {
                    for piece in pieces {
                        let source = results
                            .bytes(piece.loc)
                            .ok_or_else(|| LuaError::msg("bug: a result piece in no register"))?;
                        let len = if piece.kind == PieceKind::V128 {
                            16
                        } else {
                            usize::from(piece.size)
                        };
                        let at = piece.offset as usize;
                        bytes[at..at + len].copy_from_slice(&source[..len]);
                    }
                    bytes.as_ptr()
                }
                RetPlan::Void => return Ok(0),
            };
            convert::push_value_copy(l, st, ret, value)?;
            Ok(1)
        })
    }
}

// ---- variadic calls and calls through cdata -------------------------------------------------

/// LuaJIT's type of a value passed in the variadic part of a call: numbers are
/// `double`, strings `const char *`, booleans `bool`, nil and other values `void *`,
/// cdata keep their type except that arrays and aggregates pass as pointers to them
/// and `float` is promoted to `double`.
///
/// # Safety
/// `l` is live with one free slot; `st` is its state.
unsafe fn vararg_type(l: *mut State, st: &FfiState, index: c_int) -> LuaResult<TypeId> {
    // SAFETY: `l` is live (caller).
    unsafe {
        Ok(match sys::lua_type(l, index) {
            sys::LUA_TNUMBER => st.types().builtins().double,
            sys::LUA_TSTRING => st.types().builtins().const_char_ptr,
            sys::LUA_TBOOLEAN => st.types().builtins().bool_,
            _ => match cdata::to_cdata(l, st, index) {
                Some(header) => {
                    let types = &mut *st.types_mut()?;
                    let mut ty = (*header).ty;
                    if let CType::Ref(target) = types.get(types.unqualified(ty).0) {
                        ty = *target;
                    }
                    let (base, _) = types.unqualified(ty);
                    match types.get(base) {
                        CType::Array { elem, .. } => {
                            let elem = *elem;
                            types.pointer_to(elem)
                        }
                        CType::Record(_) | CType::Func(_) => types.pointer_to(ty),
                        CType::Float(FloatKind::Float) => types.builtins().double,
                        _ => ty,
                    }
                }
                None => st.types().builtins().void_ptr,
            },
        })
    }
}

/// The concrete signature of a variadic call with the arguments from `base` on.
///
/// # Safety
/// `l` is live with one free slot; `st` is its state.
unsafe fn concrete_signature(
    l: *mut State,
    st: &FfiState,
    ctx: &CallContext,
    func_ty: TypeId,
    base: c_int,
) -> LuaResult<*const Signature> {
    // A fixed signature is a cache hit; only the variadic part needs work per call.
    let fixed = match &st.ctype(func_ty) {
        CType::Func(func) if func.variadic => func.params.len() as c_int,
        _ => return signature(st, func_ty),
    };
    // SAFETY: `l` is live (caller).
    let top = unsafe { sys::lua_gettop(l) };
    let given = top - base + 1;
    if given < fixed {
        return Err(LuaError::msg(format!(
            "wrong number of arguments for function call to '{}' (at least {} expected, got {})",
            // SAFETY: `ctx` belongs to a binding of this state.
            unsafe { callee_name(&st.types(), ctx) },
            fixed,
            given.max(0)
        )));
    }
    let mut key = std::mem::take(&mut call_cache(st).variadic_key);
    key.clear();
    key.push(func_ty);
    for index in base + fixed..=top {
        // SAFETY: forwarded.
        key.push(unsafe { vararg_type(l, st, index)? });
    }
    let found = call_cache(st).variadic.get(key.as_slice()).copied();
    let sig = match found {
        Some(sig) => Ok(sig),
        None => new_concrete_signature(st, &key),
    };
    call_cache(st).variadic_key = key;
    sig
}

/// Makes and caches the signature of a variadic call: `key` is the variadic function
/// type followed by the types of the extra arguments.
#[cold]
fn new_concrete_signature(st: &FfiState, key: &[TypeId]) -> LuaResult<*const Signature> {
    let func = function_type(&st.types(), key[0])?;
    let mut params = func.params.to_vec();
    params.extend_from_slice(&key[1..]);
    let concrete = st.types_mut()?.intern(CType::Func(FuncType {
        ret: func.ret,
        params: params.into(),
        variadic: true,
        conv: func.conv,
    }));
    let sig = signature(st, concrete)?;
    call_cache(st).variadic.insert(key.into(), sig);
    Ok(sig)
}

/// `lua_CFunction` of variadic C functions: picks the stub of the concrete signature.
unsafe extern "C-unwind" fn call_variadic(l: *mut State) -> c_int {
    // SAFETY: Lua calls this closure made by `push_function`: upvalue 2 is its binding
    // userdata.
    unsafe {
        lua::entry_continue(l, || {
            let holder = Binding::at(l, lua::upvalue(BINDING_UPVALUE));
            if holder.is_null() {
                // Only `debug.setupvalue` can take the binding away from its function.
                return Err(LuaError::msg("C function without its binding"));
            }
            let mut binding = *holder;
            let st = (*binding.state).state;
            if st.is_null() {
                return Err(LuaError::msg(
                    "C function called after its Lua state began closing",
                ));
            }
            let sig = concrete_signature(l, &*st, &binding.ctx, binding.func_ty, 1)?;
            binding.ctx.owner = sig.cast();
            Ok(Next::Continue(CallThroughStub {
                entry: (*sig).stub.direct_entry(),
                binding,
                base: 1,
            }))
        })
    }
    .max(0)
}

/// A call of C through a stub's direct entry with the arguments from stack index `base`
/// on; the binding lives in the frame that runs it, during the call.
#[derive(Copy, Clone)]
struct CallThroughStub {
    entry: DirectEntry,
    binding: Binding,
    base: c_int,
}

impl lua::Continue for CallThroughStub {
    unsafe fn run(self, state: *mut State) -> c_int {
        // SAFETY: `state` is live (caller); the binding's context stays in this frame
        // for the whole call.
        unsafe { (self.entry)(state.cast(), &self.binding.ctx, self.base) }
    }
}

/// [`crate::cdata::state::CallHooks::call_cdata`]: calls the function or
/// function-pointer cdata at index 1 with the arguments from index 2.
unsafe extern "C-unwind" fn call_cdata(l: *mut State) -> c_int {
    // SAFETY: the cdata metamethod `__call` delegates here with its stack unchanged: a
    // cdata of this state at index 1 (state as upvalue 1).
    unsafe {
        lua::entry_continue(l, || {
            let st = FfiState::get(l)?;
            let Some(block) = cdata::to_cdata(l, st, 1) else {
                return Err(LuaError::arg(1, "cdata expected"));
            };
            if let Some((entry, binding)) = prepare_cdata_call(l, st, block)? {
                return Ok(Next::Continue(CallThroughStub {
                    entry,
                    binding,
                    base: 2,
                }));
            }
            let ty = (*block).ty;
            let (base, _) = st.types().unqualified(ty);
            let shown = match &st.ctype(base) {
                CType::Pointer(target) => *target,
                _ => ty,
            };
            Err(LuaError::msg(format!(
                "'{}' is not callable",
                st.types().type_name(shown)
            )))
        })
    }
}

/// For `__call` on a cdata of function or function-pointer type at stack index 1: the
/// direct entry and binding that call it with the arguments from index 2.
///
/// # Safety
/// `l` is live; `st` is its state; `header` is the cdata at index 1.
pub unsafe fn prepare_cdata_call(
    l: *mut State,
    st: &FfiState,
    header: *const CDataHeader,
) -> LuaResult<Option<(DirectEntry, Binding)>> {
    // SAFETY: `header` is a live cdata (caller).
    unsafe {
        let ty = (*header).ty;
        let payload = cdata::payload(header);
        let (base, _) = st.types().unqualified(ty);
        let (func_ty, target) = match &st.ctype(base) {
            // A function cdata (ffi.C.f before binding, or a reference to a function):
            // its payload is the address.
            CType::Ref(target) | CType::Pointer(target)
                if matches!(
                    st.types().get(st.types().unqualified(*target).0),
                    CType::Func(_)
                ) =>
            {
                (*target, payload.cast::<*const c_void>().read())
            }
            _ => return Ok(None),
        };
        if target.is_null() {
            return Err(LuaError::msg(format!(
                "attempt to call a NULL function pointer of type '{}'",
                st.types().type_name(ty)
            )));
        }
        let func_ty = st.types().unqualified(func_ty).0;
        let mut binding = Binding::new(
            st.cells,
            target,
            func_ty,
            std::ptr::null(),
            std::ptr::null(),
        );
        let sig = concrete_signature(l, st, &binding.ctx, func_ty, 2)?;
        binding.ctx.owner = sig.cast();
        Ok(Some(((*sig).stub.direct_entry(), binding)))
    }
}

/// Raises the error a callback left pending (the call stubs' `pending_error` helper,
/// when the C call that ran the callback has returned).
///
/// # Safety
/// Called by a stub with its live state and the context of a [`Binding`].
unsafe extern "C-unwind" fn raise_pending(l: *mut State, ctx: *const CallContext) {
    // SAFETY: the context is the first field of a live binding, whose state box lives
    // as long as the closure or call that uses it.
    unsafe {
        let cells = (*ctx.cast::<Binding>()).state.cast_mut();
        (*cells).cells.pending_error = 0;
        let st = (*cells).state;
        if st.is_null() {
            lua::push_str(l, "error in a callback while the Lua state was closing");
        } else {
            let pending = sys::lua_Integer::from(crate::calls::callback::pending_error_ref(&*st));
            sys::lua_rawgeti(l, sys::LUA_REGISTRYINDEX, pending);
            sys::lua_pushboolean(l, 0);
            sys::lua_rawseti(l, sys::LUA_REGISTRYINDEX, pending);
        }
        helper_entry(l, || Err::<(), _>(LuaError::Raised));
    }
}
