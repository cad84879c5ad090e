//! The Lua module `cbframe`: raw callbacks that hand a Lua function the whole CPU state
//! of a C call, after the API of luapower's cbframe for LuaJIT.
//!
//! ```lua
//! local cbframe = require "cbframe"
//! local cb = cbframe.new(function(cpu)      -- cpu: struct jitffi_cpu *
//!   cpu.RAX.i = cpu.RDI.lo.i * 2            -- x86-64: int f(int), argument in edi
//!   -- cpu.X0.i = cpu.X0.lo.i * 2           -- arm64: argument and result in w0
//! end)
//! local f = ffi.cast("int (*)(int)", cb.p)  -- cb.p: the C function pointer
//! ```
//!
//! Most of the module is Lua ([`CHUNK`], `cbframe.lua`): the methods of the `struct
//! jitffi_cpu` view of [`jitffi_jit::CpuState`] and `cbframe.dump`. This file holds what
//! Lua cannot do: claiming, retargeting and freeing slots of the raw callback pool
//! ([`crate::calls::callback`]), the host convention's plans
//! ([`jitffi_abi::Convention::classify`]) that the typed readers (`cpu:args`, `cpu:ret`,
//! ...) follow, with every register location already turned into its byte offset in the
//! `CpuState`, and the architecture's facts ([`push_arch_table`]: the C declaration of
//! the view, register names and offsets), all from the architecture folder of
//! `jitffi_jit`, so that neither file names a register.
//!
//! How `require "cbframe"` finds this code, with one copy of the machine code and the
//! slot pools per process whatever file Lua loaded:
//!
//! - `luaopen_ffi` stores the loader ([`loader`], a closure over the ffi state and the
//!   ffi table) in the registry under [`LOADER_KEY`] and, when nothing else is there,
//!   in `package.preload.cbframe`. So after `require "ffi"` only `ffi.so` is needed,
//!   and the runner preloads it the same way.
//! - [`luaopen_cbframe`], exported next to `luaopen_ffi` so that `cbframe.so` may be a
//!   copy of `ffi.so`, does `require "ffi"` and calls the loader stored in the
//!   registry: the copy runs none of its own Rust state, only Lua API calls.

use crate::calls::callback;
use crate::cdata::convert::{push_c_value, store_lua_value, Conv};
use crate::cdata::ctype_arg::check_ctype;
use crate::cdata::push_ctype;
use crate::cdata::state::{FfiState, STATE_UPVALUE};
use crate::lua::{self, LuaError, LuaResult, State};
use jitffi_abi::{ArgPlan, CallPlan, Convention, Loc, Piece, PieceKind, RetPlan};
use jitffi_ctype::{CType, FloatKind, FuncType, TypeId, TypeTable};
use jitffi_jit::CpuState;
use mlua_sys as sys;
use std::ffi::c_void;
use std::os::raw::{c_char, c_int};

/// The Lua half of the module, run once per Lua state by [`loader`].
pub const CHUNK: &str = include_str!("cbframe.lua");

/// Registry field holding the loader that `luaopen_ffi` made for its state.
const LOADER_KEY: &std::ffi::CStr = c"jitffi.cbframe.loader";
/// Registry field holding the table the chunk keeps its module in (so that requiring
/// it again after `package.loaded.cbframe = nil` returns the same module instead of
/// redefining the metatype).
const STORE_KEY: &std::ffi::CStr = c"jitffi.cbframe.store";

/// Entry point of `require "cbframe"` when Lua finds `cbframe.so` (a copy of `ffi.so`):
/// requires `ffi`, then runs the loader that ffi left in the registry.
///
/// # Safety
/// Called by Lua with a valid state.
#[no_mangle]
pub unsafe extern "C-unwind" fn luaopen_cbframe(l: *mut sys::lua_State) -> c_int {
    // SAFETY: `l` is the live state running `require`. The body owns nothing that needs
    // dropping, so the calls below may raise (longjmp) through it.
    unsafe { lua::entry(l, || open_cbframe(l)) }
}

/// The body of [`luaopen_cbframe`].
///
/// # Safety
/// As [`luaopen_cbframe`].
unsafe fn open_cbframe(l: *mut State) -> LuaResult<c_int> {
    // SAFETY: as in `luaopen_cbframe`.
    unsafe {
        sys::luaL_checkstack(l, 4, c"cbframe: not enough Lua stack".as_ptr());
        let name = sys::lua_gettop(l).min(1);
        sys::lua_getglobal(l, c"require".as_ptr());
        sys::lua_pushstring(l, c"ffi".as_ptr());
        sys::lua_call(l, 1, 0);
        sys::lua_getfield(l, sys::LUA_REGISTRYINDEX, LOADER_KEY.as_ptr());
        if sys::lua_type(l, -1) != sys::LUA_TFUNCTION {
            sys::luaL_error(
                l,
                c"cbframe: the module 'ffi' is not jitffi's (no cbframe loader)".as_ptr(),
            );
        }
        if name == 1 {
            sys::lua_pushvalue(l, 1);
        } else {
            sys::lua_pushstring(l, c"cbframe".as_ptr());
        }
        sys::lua_call(l, 1, 1);
    }
    Ok(1)
}

/// Makes `require "cbframe"` work in the state whose ffi module is being opened: the
/// loader goes into the registry and, unless a preload is already there, into
/// `package.preload.cbframe`. Leaves the stack as it found it.
///
/// # Safety
/// Called from `luaopen_ffi`: `l` is live with 6 free slots, `state_index` holds the
/// state userdata and `ffi_index` the ffi table (both absolute indices).
pub unsafe fn install(l: *mut State, state_index: c_int, ffi_index: c_int) {
    // SAFETY: `l` is live (caller); only raw accesses and the registry (which has no
    // metatable) are touched, so nothing can run Lua code.
    unsafe {
        let top = sys::lua_gettop(l);
        sys::lua_pushvalue(l, state_index);
        sys::lua_pushvalue(l, ffi_index);
        lua::push_closure(l, loader, 2);
        sys::lua_pushvalue(l, -1);
        sys::lua_setfield(l, sys::LUA_REGISTRYINDEX, LOADER_KEY.as_ptr());
        // package.preload, reached as the registry's _LOADED.package.preload (the one
        // path every version shares: 5.1 keeps no _PRELOAD registry field).
        let loader = sys::lua_gettop(l);
        let mut ok = raw_table_field(l, sys::LUA_REGISTRYINDEX, c"_LOADED");
        ok = ok && raw_table_field(l, -1, c"package");
        ok = ok && raw_table_field(l, -1, c"preload");
        if ok {
            sys::lua_pushstring(l, c"cbframe".as_ptr());
            sys::lua_rawget(l, -2);
            let taken = sys::lua_type(l, -1) != sys::LUA_TNIL;
            sys::lua_settop(l, -2);
            if !taken {
                sys::lua_pushstring(l, c"cbframe".as_ptr());
                sys::lua_pushvalue(l, loader);
                sys::lua_rawset(l, -3);
            }
        }
        sys::lua_settop(l, top);
    }
}

/// Pushes `t[name]` (raw) of the table at `table` and says whether it is a table.
///
/// # Safety
/// `l` is live with two free slots.
unsafe fn raw_table_field(l: *mut State, table: c_int, name: &std::ffi::CStr) -> bool {
    // SAFETY: `l` is live (caller); raw access runs no Lua code.
    unsafe {
        if table == sys::LUA_REGISTRYINDEX {
            sys::lua_getfield(l, table, name.as_ptr());
        } else {
            let table = sys::lua_absindex(l, table);
            if sys::lua_type(l, table) != sys::LUA_TTABLE {
                return false;
            }
            sys::lua_pushstring(l, name.as_ptr());
            sys::lua_rawget(l, table);
        }
        sys::lua_type(l, -1) == sys::LUA_TTABLE
    }
}

/// `package.preload.cbframe` (upvalues: the state userdata, the ffi table): runs the
/// chunk with `(ffi, native, store, arch)` and returns the module it returns.
unsafe extern "C-unwind" fn loader(l: *mut State) -> c_int {
    // SAFETY: Lua calls this with the upvalues `install` gave it; the body leaves the
    // chunk and its three arguments on top for `Next::Call`.
    unsafe {
        lua::entry_next(l, || {
            if sys::lua_checkstack(l, 8) == 0 {
                return Err(LuaError::msg("cbframe: not enough Lua stack"));
            }
            let status = sys::luaL_loadbuffer(
                l,
                CHUNK.as_ptr().cast::<c_char>(),
                CHUNK.len(),
                c"=cbframe".as_ptr(),
            );
            if status != 0 {
                return Err(LuaError::Raised);
            }
            sys::lua_pushvalue(l, lua::upvalue(2));
            push_native_table(l);
            sys::lua_getfield(l, sys::LUA_REGISTRYINDEX, STORE_KEY.as_ptr());
            if sys::lua_type(l, -1) != sys::LUA_TTABLE {
                sys::lua_settop(l, -2);
                sys::lua_createtable(l, 0, 1);
                sys::lua_pushvalue(l, -1);
                sys::lua_setfield(l, sys::LUA_REGISTRYINDEX, STORE_KEY.as_ptr());
            }
            push_arch_table(l);
            Ok(lua::Next::Call { args: 4 })
        })
    }
}

/// Pushes the table the chunk calls `arch`: what it must know of the host's registers,
/// from [`CpuState`] and the host [`Convention`]:
///
/// ```text
/// { cdef = <C declaration of the vector and flags unions and struct jitffi_cpu>,
///   gpr_args = { <CpuState offset of each integer argument register, in order> },
///   vec_args = { <the same for the vector argument registers> },
///   sp = <name of the stack pointer>, stack_args = <bytes from it to the first stack
///   argument>, vec = <vector register array name>, flags = <flags field name>,
///   flag_bits = { <flag names dump lists> }, dump_gprs = { <names, in dump order> } }
/// ```
///
/// # Safety
/// `l` is live with 4 free slots.
unsafe fn push_arch_table(l: *mut State) {
    /// A family of argument registers: its key in the table, its count, its location.
    type Family = (&'static str, u8, fn(u8) -> Loc);
    let registers = Convention::host().registers();
    let argument_registers: [Family; 2] = [
        ("gpr_args", registers.gpr_args, Loc::Gpr),
        ("vec_args", registers.vec_args, Loc::Vec),
    ];
    // SAFETY: `l` is live (caller); raw sets on fresh tables run no Lua code. Nothing
    // here owns memory, so an allocation failure (a longjmp) skips no destructor.
    unsafe {
        sys::lua_createtable(l, 0, 10);
        lua::push_str(l, CpuState::C_VIEW);
        lua::set_field_raw(l, -2, "cdef");
        for (name, count, location) in argument_registers {
            sys::lua_createtable(l, c_int::from(count), 0);
            for n in 0..count {
                let at = CpuState::arg_offset(location(n))
                    .expect("bug: an argument register outside the state");
                sys::lua_pushinteger(l, at as sys::lua_Integer);
                sys::lua_rawseti(l, -2, sys::lua_Integer::from(n) + 1);
            }
            lua::set_field_raw(l, -2, name);
        }
        lua::push_str(l, CpuState::GPR_NAMES[CpuState::STACK_POINTER]);
        lua::set_field_raw(l, -2, "sp");
        set_number(l, "stack_args", CpuState::STACK_ARGS_FROM_SP as u64);
        lua::push_str(l, CpuState::VEC_PREFIX);
        lua::set_field_raw(l, -2, "vec");
        lua::push_str(l, CpuState::FLAGS_NAMES[0]);
        lua::set_field_raw(l, -2, "flags");
        sys::lua_createtable(l, CpuState::FLAG_BITS.len() as c_int, 0);
        for (i, name) in CpuState::FLAG_BITS.iter().enumerate() {
            lua::push_str(l, name);
            sys::lua_rawseti(l, -2, i as sys::lua_Integer + 1);
        }
        lua::set_field_raw(l, -2, "flag_bits");
        sys::lua_createtable(l, CpuState::DUMP_ORDER.len() as c_int, 0);
        for (i, &index) in CpuState::DUMP_ORDER.iter().enumerate() {
            lua::push_str(l, CpuState::GPR_NAMES[index]);
            sys::lua_rawseti(l, -2, i as sys::lua_Integer + 1);
        }
        lua::set_field_raw(l, -2, "dump_gprs");
    }
}

/// Pushes the table of functions the chunk calls `native`, each a closure over the
/// running loader's state userdata.
///
/// # Safety
/// Called from [`loader`] (state userdata as upvalue 1) with 3 free slots.
unsafe fn push_native_table(l: *mut State) {
    let functions: [(&str, sys::lua_CFunction); 5] = [
        ("new", native_new),
        ("set", native_set),
        ("free", native_free),
        ("plan", native_plan),
        ("load", native_load),
    ];
    // SAFETY: `l` is live (caller); every closure gets the state as upvalue 1.
    unsafe {
        sys::lua_createtable(l, 0, functions.len() as c_int);
        for (name, function) in functions {
            sys::lua_pushvalue(l, lua::upvalue(STATE_UPVALUE));
            lua::push_closure(l, function, 1);
            lua::set_field_raw(l, -2, name);
        }
    }
}

/// `native.new(f, cpu_ptr_ctype)`: a fresh raw callback calling `f(cpu)`; returns its
/// code address (a light userdata), which is both the C function pointer and the
/// handle `set` and `free` take.
unsafe extern "C-unwind" fn native_new(l: *mut State) -> c_int {
    // SAFETY: a C function of this module (state as upvalue 1); the chunk passes a
    // function and the ctype `struct jitffi_cpu *`.
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            if sys::lua_type(l, 1) != sys::LUA_TFUNCTION {
                return Err(function_expected(l, 1));
            }
            let cpu_ptr_ty = check_ctype(l, st, 2, None)?;
            debug_assert!(
                cpu_state_type_matches(&st.types(), cpu_ptr_ty),
                "bug: struct jitffi_cpu does not match CpuState"
            );
            let slot = callback::new_raw(l, st, 1, cpu_ptr_ty)?;
            sys::lua_pushlightuserdata(l, slot.code().cast_mut().cast::<c_void>());
            Ok(1)
        })
    }
}

/// `native.set(code, f)`: the callback at `code` calls `f` from now on.
unsafe extern "C-unwind" fn native_set(l: *mut State) -> c_int {
    // SAFETY: a C function of this module (state as upvalue 1).
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            let slot = live_slot(l, st, 1)?;
            if sys::lua_type(l, 2) != sys::LUA_TFUNCTION {
                return Err(function_expected(l, 2));
            }
            callback::set_function(l, st, slot, 2)?;
            Ok(0)
        })
    }
}

/// `native.free(code)`: releases the callback at `code`; a later call through the
/// pointer is an error raised when the enclosing C call returns, not a crash.
unsafe extern "C-unwind" fn native_free(l: *mut State) -> c_int {
    // SAFETY: a C function of this module (state as upvalue 1).
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            let slot = live_slot(l, st, 1)?;
            callback::free(l, st, slot)?;
            Ok(0)
        })
    }
}

/// The live callback of `st` whose code address is the light userdata at `index`:
/// looked up, not dereferenced, so that no value from Lua is trusted as a slot.
///
/// # Safety
/// `l` is live.
unsafe fn live_slot(
    l: *mut State,
    st: &FfiState,
    index: c_int,
) -> LuaResult<&'static jitffi_jit::CallbackSlot> {
    // SAFETY: `l` is live (caller); the address is only compared, never read through.
    let code = unsafe {
        if sys::lua_type(l, index) != sys::LUA_TLIGHTUSERDATA {
            return Err(LuaError::msg("bug: cbframe handle expected"));
        }
        sys::lua_touserdata(l, index) as usize
    };
    callback::live_callback(st, code).ok_or_else(|| LuaError::msg("bad callback"))
}

fn function_expected(l: *mut State, index: c_int) -> LuaError {
    // SAFETY: `l` is live (every caller is a C function of this module).
    let got = unsafe { lua::type_name(l, index) };
    LuaError::arg(index, format!("function expected, got {got}"))
}

/// Whether `cpu_ptr_ty` points at a type of [`CpuState`]'s size (the chunk's cdef and
/// the Rust layout are also compared field by field in the tests).
fn cpu_state_type_matches(types: &TypeTable, cpu_ptr_ty: TypeId) -> bool {
    match types.get(types.unqualified(cpu_ptr_ty).0) {
        CType::Pointer(target) => {
            types.size_of(*target) == Some(std::mem::size_of::<CpuState>() as u64)
        }
        _ => false,
    }
}

// ---- plans -----------------------------------------------------------------------------

/// `native.plan(proto, vararg types...)`: where each argument of a call of `proto` (a
/// function type or a pointer to one) and its result are, seen from a cbframe callback.
///
/// ```text
/// { args = { { type = <ctype>, <piece>, ... }, ... },
///   ret = { type = <ctype>, kind = "void" | "regs" | "memory" | "x87", size = n,
///           <piece>, ... } }
/// piece = { at = <byte offset in the value>, size = <bytes>,
///           cpu = <byte offset in struct jitffi_cpu> | stack = <byte offset from the
///           first stack argument>,
///           ext = <result integers: n sign-extend from n bytes, -n zero-extend, 0 as is>,
///           indirect = true <the location holds the address of the caller's copy> }
/// ```
///
/// An argument passed in memory is one piece on the stack holding the whole value; one
/// passed by reference (AAPCS64 B.4) is one `indirect` piece; an empty struct has no
/// pieces. A `memory` result has `pointer`, the state offset of the register that
/// brings the buffer's address, and `address`, that of the register the callee returns
/// it in when the convention says so (x86-64). Array and function parameters are
/// pointers. When
/// `proto` is no function type: `nil, message`; other errors (more types than a
/// non-variadic `proto` takes, a type the ABI cannot pass) are raised without position.
unsafe extern "C-unwind" fn native_plan(l: *mut State) -> c_int {
    // SAFETY: a C function of this module; the tables are built on the stack.
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            let proto = check_ctype(l, st, 1, None)?;
            let Some(mut func) = function_of(&st.types(), proto) else {
                let message = format!(
                    "function type expected, got '{}'",
                    st.types().type_name(proto)
                );
                sys::lua_pushnil(l);
                let pushed = lua::push_str_protected(l, &message);
                drop(message);
                pushed?;
                return Ok(2);
            };
            let top = sys::lua_gettop(l);
            if top > 1 && !func.variadic {
                return Err(LuaError::plain(format!(
                    "'{}' is not variadic: no arguments beyond its {} parameter(s)",
                    st.types().type_name(proto),
                    func.params.len()
                )));
            }
            let mut varargs = Vec::with_capacity((top - 1).max(0) as usize);
            for index in 2..=top {
                let ty = check_ctype(l, st, index, None)?;
                varargs.push(crate::cdata::convert::decay(&mut *st.types_mut()?, ty));
            }
            func.params = {
                let mut types = st.types_mut()?;
                func.params
                    .iter()
                    .map(|&p| crate::cdata::convert::decay(&mut types, p))
                    .collect()
            };
            let plan = Convention::host()
                .classify(&st.types(), &func, &varargs)
                .map_err(|e| LuaError::plain(e.message))?;
            let types: Vec<TypeId> = func.params.iter().chain(&varargs).copied().collect();
            // The tables are built under protection: the plan and the type lists own
            // memory, and building allocates (and may raise).
            let mut build = PlanTables {
                st,
                plan: &plan,
                types: &types,
                ret: func.ret,
            };
            lua::call_protected(l, plan_tables, std::ptr::addr_of_mut!(build).cast())?;
            Ok(1)
        })
    }
}

/// What [`plan_tables`] turns into the tables of [`native_plan`].
struct PlanTables<'a> {
    st: &'a FfiState,
    plan: &'a CallPlan,
    /// The type of each argument of `plan`.
    types: &'a [TypeId],
    ret: TypeId,
}

/// Under `lua::call_protected` from [`native_plan`] (argument 1: the [`PlanTables`]):
/// pushes the plan's table.
unsafe extern "C-unwind" fn plan_tables(l: *mut State) -> c_int {
    // SAFETY: argument 1 points to the `PlanTables` of `native_plan`, alive during this
    // call; nothing here owns memory, so raising (out of memory) skips nothing.
    unsafe {
        let build = &*sys::lua_touserdata(l, 1).cast::<PlanTables>();
        lua::entry(l, || {
            let (st, plan) = (build.st, build.plan);
            if sys::lua_checkstack(l, 8) == 0 {
                return Err(LuaError::msg("cbframe: not enough Lua stack"));
            }
            sys::lua_createtable(l, 0, 2);
            sys::lua_createtable(l, plan.args.len() as c_int, 0);
            for (i, (arg, &ty)) in plan.args.iter().zip(build.types).enumerate() {
                sys::lua_createtable(l, 2, 1);
                push_ctype(l, st, ty)?;
                lua::set_field_raw(l, -2, "type");
                match arg {
                    ArgPlan::Pieces(pieces) => {
                        for (n, piece) in pieces.iter().enumerate() {
                            push_piece(l, piece, false);
                            sys::lua_rawseti(l, -2, n as sys::lua_Integer + 1);
                        }
                    }
                    ArgPlan::Stack { offset, size } => {
                        sys::lua_createtable(l, 0, 3);
                        set_number(l, "at", 0);
                        set_number(l, "size", u64::from(*size));
                        set_number(l, "stack", u64::from(*offset));
                        sys::lua_rawseti(l, -2, 1);
                    }
                    ArgPlan::Indirect { pointer, size, .. } => {
                        sys::lua_createtable(l, 0, 4);
                        set_number(l, "at", 0);
                        set_number(l, "size", u64::from(*size));
                        set_location(l, *pointer, CpuState::arg_offset(*pointer));
                        sys::lua_pushboolean(l, 1);
                        lua::set_field_raw(l, -2, "indirect");
                        sys::lua_rawseti(l, -2, 1);
                    }
                    ArgPlan::Nothing => {}
                }
                sys::lua_rawseti(l, -2, i as sys::lua_Integer + 1);
            }
            lua::set_field_raw(l, -2, "args");

            sys::lua_createtable(l, 2, 3);
            push_ctype(l, st, build.ret)?;
            lua::set_field_raw(l, -2, "type");
            let size = st.types().size_of(build.ret).unwrap_or(0);
            set_number(l, "size", size);
            let kind = match &plan.ret {
                RetPlan::Void => "void",
                RetPlan::Pieces(pieces) => {
                    for (n, piece) in pieces.iter().enumerate() {
                        push_piece(l, piece, true);
                        sys::lua_rawseti(l, -2, n as sys::lua_Integer + 1);
                    }
                    "regs"
                }
                RetPlan::Memory { pointer, .. } => {
                    let at = CpuState::arg_offset(*pointer)
                        .expect("bug: a result address outside the state");
                    set_number(l, "pointer", at as u64);
                    if Convention::host().returns_result_address() {
                        let at = CpuState::result_offset(Loc::Gpr(0))
                            .expect("bug: no integer result register");
                        set_number(l, "address", at as u64);
                    }
                    "memory"
                }
                RetPlan::X87 { .. } => "x87",
            };
            lua::push_str(l, kind);
            lua::set_field_raw(l, -2, "kind");
            lua::set_field_raw(l, -2, "ret");
            Ok(1)
        })
    }
}

/// The function type `ty` names, directly or as a pointer to it.
fn function_of(types: &TypeTable, ty: TypeId) -> Option<FuncType> {
    let mut base = types.unqualified(ty).0;
    if let CType::Pointer(target) = types.get(base) {
        base = types.unqualified(*target).0;
    }
    match types.get(base) {
        CType::Func(func) => Some(func.clone()),
        _ => None,
    }
}

/// Pushes one piece table (see [`native_plan`]); `result` picks the register sequence
/// (the result registers instead of the argument registers).
///
/// # Safety
/// `l` is live with three free slots.
unsafe fn push_piece(l: *mut State, piece: &Piece, result: bool) {
    // SAFETY: `l` is live (caller).
    unsafe {
        sys::lua_createtable(l, 0, 4);
        set_number(l, "at", u64::from(piece.offset));
        set_number(l, "size", u64::from(piece.size));
        let cpu = if result {
            CpuState::result_offset(piece.loc)
        } else {
            CpuState::arg_offset(piece.loc)
        };
        set_location(l, piece.loc, cpu);
        let ext: i64 = match piece.kind {
            PieceKind::Int(jitffi_abi::Ext::Sign(n)) => i64::from(n),
            PieceKind::Int(jitffi_abi::Ext::Zero(n)) => -i64::from(n),
            _ => 0,
        };
        if matches!(piece.kind, PieceKind::Int(_)) {
            sys::lua_pushinteger(l, ext as sys::lua_Integer);
            lua::set_field_raw(l, -2, "ext");
        }
    }
}

/// Sets field `stack` (for a stack location) or `cpu` (`cpu`: its offset in the state) of
/// the table on top.
///
/// # Safety
/// `l` is live with two free slots and a table on top.
unsafe fn set_location(l: *mut State, loc: Loc, cpu: Option<usize>) {
    // SAFETY: `l` is live (caller).
    unsafe {
        match (loc, cpu) {
            (Loc::Stack(offset), _) => set_number(l, "stack", u64::from(offset)),
            (_, Some(at)) => set_number(l, "cpu", at as u64),
            (_, None) => unreachable!("bug: a plan location outside the CPU state"),
        }
    }
}

/// Sets field `name` of the table on top to the number `value`.
///
/// # Safety
/// `l` is live with two free slots and a table on top.
unsafe fn set_number(l: *mut State, name: &str, value: u64) {
    // SAFETY: `l` is live (caller).
    unsafe {
        sys::lua_pushinteger(l, value as sys::lua_Integer);
        lua::set_field_raw(l, -2, name);
    }
}

/// `native.load(ctype, address)`: the value of type `ctype` stored at `address` (any
/// pointer cdata), as reading a C value makes it: numbers, booleans and pointers as
/// Lua values as usual, and aggregates, complex numbers and `long double` as new cdata
/// holding a copy (never a reference into the frame, which dies with the callback).
unsafe extern "C-unwind" fn native_load(l: *mut State) -> c_int {
    // SAFETY: a C function of this module; the chunk passes an address inside the
    // CpuState, the caller's stack arguments or a buffer of at least the type's size.
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            let ty = check_ctype(l, st, 1, None)?;
            let mut address: *const u8 = std::ptr::null();
            let conv = Conv {
                cast: false,
                arg: 2,
            };
            let slot = std::ptr::addr_of_mut!(address).cast::<u8>();
            store_lua_value(l, st, st.const_void_ptr, slot, 2, conv)?;
            if address.is_null() {
                return Err(LuaError::msg("bug: cbframe load from NULL"));
            }
            let (base, _) = st.types().unqualified(ty);
            let copy = matches!(
                st.types().get(base),
                CType::Record(_)
                    | CType::Complex(_)
                    | CType::Vector { .. }
                    | CType::Float(FloatKind::LongDouble)
            );
            if copy {
                let size = st.types().size_of(base).unwrap_or(0) as usize;
                let align = st.types().align_of(base);
                let value = crate::cdata::new_cdata(l, st, base, size, align)?;
                std::ptr::copy_nonoverlapping(address, value, size);
            } else {
                push_c_value(l, st, ty, address)?;
            }
            Ok(1)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `code` in a fresh Lua state with `ffi` and `cbframe` loaded (as the locals
    /// `ffi` and `cbframe`) and returns its integer result.
    fn eval(code: &str) -> i64 {
        let source =
            format!("local ffi = require 'ffi' local cbframe = require 'cbframe' return {code}");
        // SAFETY: a private state, closed before returning; every API call gets valid
        // arguments, and errors are caught by the protected call.
        unsafe {
            let l = sys::luaL_newstate();
            sys::luaL_openlibs(l);
            sys::lua_getglobal(l, c"package".as_ptr());
            sys::lua_getfield(l, -1, c"preload".as_ptr());
            sys::lua_pushcfunction(l, crate::luaopen_ffi);
            sys::lua_setfield(l, -2, c"ffi".as_ptr());
            sys::lua_settop(l, 0);
            let status = sys::luaL_loadbuffer(
                l,
                source.as_ptr().cast::<c_char>(),
                source.len(),
                c"=test".as_ptr(),
            );
            assert_eq!(status, 0, "{code}");
            if sys::lua_pcall(l, 0, 1, 0) != 0 {
                let message =
                    std::ffi::CStr::from_ptr(sys::lua_tolstring(l, -1, std::ptr::null_mut()));
                panic!("{code}: {}", message.to_string_lossy());
            }
            let value = sys::lua_tointeger(l, -1);
            sys::lua_close(l);
            value
        }
    }

    #[test]
    fn struct_jitffi_cpu_matches_cpu_state() {
        let size = std::mem::size_of::<CpuState>() as i64;
        assert_eq!(eval("ffi.sizeof('struct jitffi_cpu')"), size);
        assert_eq!(eval("ffi.alignof('struct jitffi_cpu') <= 16 and 1 or 0"), 1);
        for (index, name) in CpuState::GPR_NAMES.iter().enumerate() {
            let at = eval(&format!("ffi.offsetof('struct jitffi_cpu', '{name}')"));
            assert_eq!(at, CpuState::gpr_offset(index) as i64, "{name}");
            let at = eval(&format!("ffi.offsetof('struct jitffi_cpu', 'GPR') + {index} * ffi.sizeof('jitffi_cpu_qword')"));
            assert_eq!(at, CpuState::gpr_offset(index) as i64, "GPR[{index}]");
        }
        let vec = CpuState::VEC_PREFIX;
        for n in 0..CpuState::VEC_COUNT {
            let at = eval(&format!("ffi.offsetof('struct jitffi_cpu', '{vec}{n}')"));
            assert_eq!(at, CpuState::vec_offset(n) as i64, "{vec}{n}");
        }
        assert_eq!(
            eval(&format!("ffi.offsetof('struct jitffi_cpu', '{vec}')")),
            CpuState::vec_offset(0) as i64
        );
        assert_eq!(
            eval(&format!("ffi.sizeof('jitffi_cpu_{}')", vec.to_lowercase())),
            16
        );
        assert_eq!(eval("ffi.sizeof('jitffi_cpu_qword')"), 8);
        for name in CpuState::FLAGS_NAMES {
            let at = eval(&format!("ffi.offsetof('struct jitffi_cpu', '{name}')"));
            assert_eq!(at, CpuState::flags_offset() as i64, "{name}");
        }
    }
}
