//! The per-`lua_State` state of the ffi module: the C type table and the Lua-side caches.
//!
//! One [`FfiState`] lives in a userdata that every ffi function holds as upvalue 1, so
//! reaching it costs one `lua_touserdata`. Its `__gc` frees it when the Lua state closes.
//! Several Lua states in one process each get their own.

use crate::cdata::element_cache::ElementCache;
use crate::cdata::field_cache::FieldCache;
use crate::cdata::member_cache::MemberCache;
use crate::cdata::new_plan::NewPlans;
use crate::cdata::type_strings::TypeStrings;
use crate::lua::tagged::{self, Kind};
use crate::lua::{self, stack, LuaError, LuaResult, State};
use jitffi_ctype::{CType, Quals, Target, TypeId, TypeTable};
use jitffi_jit::CallCells;
use mlua_sys as sys;
use std::any::Any;
use std::cell::{Cell, Ref, RefCell, RefMut};
use std::ffi::c_void;
use std::os::raw::c_int;

/// Upvalue of every ffi C function that holds the state userdata.
pub const STATE_UPVALUE: c_int = 1;

/// What the ffi module keeps for one Lua state.
///
/// Functions reach it shared (`&FfiState`, from [`FfiState::get`]): Lua code can re-enter
/// the module at any allocation (a `__gc` finalizer calling `ffi.new`, a callback), so
/// two calls may use the state at once, and none of them holds it exclusively. What
/// changes is behind cells, borrowed for one expression or a block that makes no Lua
/// call: the type table ([`FfiState::types`], [`FfiState::types_mut`]), the caches, and
/// the calls layer's parts. A change that finds the table still borrowed by an
/// interrupted call is a Lua error, never a panic.
pub struct FfiState {
    types: RefCell<TypeTable>,
    /// Registry reference of the metatable shared by all cdata and ctype objects.
    pub cdata_meta: c_int,
    /// Registry reference of a table `type id + 1 -> ctype object`, so that `ffi.typeof`
    /// hands out one object per type.
    pub ctype_objects: c_int,
    /// Registry reference of a table `type string -> ctype object` for strings whose
    /// parse made no new type (so that caching cannot change meaning).
    pub typeof_cache: c_int,
    /// The types of recent type strings, by address (see [`TypeStrings`]).
    pub type_strings: RefCell<TypeStrings>,
    /// Registry reference of the table `type id + 1 -> metatable` of `ffi.metatype`.
    pub metatypes: c_int,
    /// Whether `ffi.metatype` has been called: until then no metamethod lookup is needed.
    pub has_metatypes: Cell<bool>,
    /// Recent struct and union member lookups.
    pub members: MemberCache,
    /// Per-type facts for `ffi.new`'s fast path.
    pub new_plans: RefCell<NewPlans>,
    /// Per-type facts for the fast path of `p[i]` on scalar elements (read by the
    /// metamethods outside `lua::entry`).
    pub elements: RefCell<ElementCache>,
    /// Per-type facts for the fast path of `p.name` (read by the metamethods outside
    /// `lua::entry`).
    pub fields: RefCell<FieldCache>,
    /// Registry reference of the table that keeps the member names [`FfiState::fields`]
    /// knows alive (see [`crate::cdata::field_cache`]).
    pub field_names: c_int,
    /// Registry reference of the string `"__index"`, for raw lookups of a metatype's
    /// `__index` on the fast path of method names.
    pub index_name: c_int,
    /// `type id -> the reference type T &` of the types whose reference
    /// [`FfiState::reference_to`] made ([`NO_TYPE`] where none is known yet).
    references: RefCell<Vec<TypeId>>,
    /// Registry reference of the metatable of cdata that have a finalizer: the cdata
    /// metatable plus `__gc` (see [`crate::cdata::gc`]).
    pub gc_meta: c_int,
    /// Registry reference of the weak-keyed table `cdata -> finalizer` of `ffi.gc`.
    pub finalizers: c_int,
    /// Addresses of the two cdata metatables (`lua_topointer`), so that recognizing a
    /// cdata is a pointer comparison. Both tables stay anchored in the registry.
    pub cdata_meta_ptr: *const c_void,
    pub gc_meta_ptr: *const c_void,
    /// `const void *`, the type `ffi.copy` converts its source to.
    pub const_void_ptr: TypeId,
    /// This state's box: the errno cell and the state cell that bindings read.
    pub cells: *mut StateBox,
    /// What the calls layer does for conversions (see [`CallHooks`]).
    pub hooks: CallHooks,
    /// The parts of the state the layers above own (see [`UpperParts`]).
    pub upper: UpperParts,
}

/// What the calls layer does for the layers below it: installed by `luaopen_ffi`, so
/// that conversions reach C functions and callbacks without importing them.
#[derive(Copy, Clone)]
pub struct CallHooks {
    /// The function type and address of the C function value at `index` (a function of
    /// a namespace), if it is one.
    pub function_value: unsafe fn(*mut State, &FfiState, c_int) -> Option<(TypeId, *const c_void)>,
    /// A new callback of function type `func_ty` that calls the Lua function at `index`
    /// (`l` has two free slots); its C function pointer.
    pub new_callback: unsafe fn(*mut State, &FfiState, TypeId, c_int) -> LuaResult<*const u8>,
    /// For `cb.name` on a cdata of type `ty`: the registry reference of the callback
    /// method named by the key at index 2, if `ty` is a function pointer and it is one.
    /// Depends on `ty` and the key's bytes only (the field cache keeps it).
    pub callback_method: unsafe fn(*mut State, &FfiState, TypeId) -> Option<c_int>,
    /// `__call` of a cdata of function or function-pointer type at index 1, with the
    /// arguments from index 2 (a C function that the metamethod delegates to).
    pub call_cdata: sys::lua_CFunction,
}

impl CallHooks {
    /// Hooks for a state without the calls layer: no value is a C function or becomes
    /// a callback.
    pub fn none() -> CallHooks {
        CallHooks {
            function_value: |_, _, _| None,
            new_callback: |_, _, _, _| Err(LuaError::msg("callbacks are not available")),
            callback_method: |_, _, _| None,
            call_cdata: no_calls,
        }
    }
}

/// [`CallHooks::call_cdata`] without the calls layer.
unsafe extern "C-unwind" fn no_calls(l: *mut State) -> c_int {
    // SAFETY: Lua calls this as a C function.
    unsafe { lua::entry(l, || Err(LuaError::msg("C calls are not available"))) }
}

/// The parts of the state that layers above this one own (the calls layer's signature
/// cache and callbacks), found by their type so that this layer need not name them.
/// Each part is added once, when the module opens, and keeps what changes in cells of its
/// own (the state is shared, see [`FfiState`]).
/// Each part is kept with its type's id, compared inline: asking each boxed part for its
/// type is a call through its vtable, and callers look parts up per operation.
#[derive(Default)]
pub struct UpperParts(Vec<(std::any::TypeId, Box<dyn Any>)>);

impl UpperParts {
    pub fn add<T: Any>(&mut self, part: T) {
        debug_assert!(self.find::<T>().is_none(), "bug: a state part added twice");
        self.0.push((std::any::TypeId::of::<T>(), Box::new(part)));
    }

    fn find<T: Any>(&self) -> Option<&T> {
        let id = std::any::TypeId::of::<T>();
        let (_, part) = self.0.iter().find(|(part_id, _)| *part_id == id)?;
        part.downcast_ref::<T>()
    }

    /// The part of type `T`.
    pub fn part<T: Any>(&self) -> &T {
        self.find::<T>()
            .expect("bug: a state part used before the module added it")
    }
}

/// The userdata payload: a pointer to the boxed state (boxed so that its address stays
/// put and its alignment is Rust's, not Lua's), and what generated code reads or writes
/// without going through the state. The userdata outlives the state (it is freed by
/// Lua, after every finalizer ran), so bindings that keep it reachable can always
/// check `state` for null.
#[repr(C)]
pub struct StateBox {
    /// Null once the Lua state began closing.
    pub state: *mut FfiState,
    /// What call stubs keep up to date: `errno` as the last C call through the ffi left
    /// it (or `ffi.errno(n)` set it), an error a callback left to raise, and the Lua
    /// thread of the innermost C call in progress (see [`crate::calls::callback`]).
    pub cells: CallCells,
    /// [`tagged::tag`]`(Kind::State)`: tells this box from a foreign userdata put in its
    /// place (`debug.setupvalue`) or passed to its `__gc`.
    pub tag: u64,
}

impl StateBox {
    /// Whether the userdata block `holder` (of at least `size_of::<StateBox>()` bytes)
    /// is a StateBox.
    ///
    /// # Safety
    /// `holder` points to at least `size_of::<StateBox>()` readable bytes.
    #[inline(always)]
    pub unsafe fn has_tag(holder: *const StateBox) -> bool {
        // SAFETY: the field lies inside the block (caller); read unaligned, as the block
        // may be anything.
        unsafe { std::ptr::addr_of!((*holder).tag).read_unaligned() == tagged::tag(Kind::State) }
    }

    /// The StateBox at `index`, if the value there is one; else null.
    ///
    /// # Safety
    /// `l` is live; `index` is valid.
    pub unsafe fn at(l: *mut State, index: c_int) -> *mut StateBox {
        // SAFETY: `tagged::check` reads inside the block only.
        unsafe {
            tagged::check(
                l,
                index,
                Kind::State,
                std::mem::size_of::<StateBox>(),
                std::mem::offset_of!(StateBox, tag),
            )
            .cast()
        }
    }

    /// The state of the running ffi C function for a fast path, read through `frame`
    /// (see [`stack::Frame`]): `None` unless its upvalue 1 is still this module's state
    /// box and the state not yet freed.
    ///
    /// # Safety
    /// Called from a C function of this module, `frame` its frame. The returned state
    /// must not outlive the call.
    #[inline(always)]
    pub unsafe fn state_of_frame(frame: stack::Frame) -> Option<*const FfiState> {
        // SAFETY: `userdata_upvalue` returns a block of at least `size_of::<StateBox>()`
        // bytes or null, and the tag is read inside it; `debug.setupvalue` may have put
        // anything there.
        unsafe {
            let holder = frame
                .userdata_upvalue(std::mem::size_of::<StateBox>())
                .cast::<StateBox>();
            if holder.is_null() || !StateBox::has_tag(holder) {
                return None;
            }
            let state = (*holder).state;
            (!state.is_null()).then_some(state.cast_const())
        }
    }

    /// The box of the running ffi C function (its upvalue 1), if upvalue 1 is still one
    /// (`debug.setupvalue` may have replaced it); else null. Read straight from the
    /// closure where direct reads are on ([`stack::userdata_upvalue`], which checks the
    /// block's length), else through the API; the tag is checked either way.
    ///
    /// # Safety
    /// Called from a C function of this module (a closure with the state userdata as
    /// upvalue 1).
    #[inline]
    pub unsafe fn of_running_function(l: *mut State) -> *mut StateBox {
        const _: () = assert!(STATE_UPVALUE == 1);
        // SAFETY: the closure has an upvalue 1 (caller); `userdata_upvalue` returns a
        // block of at least `size_of::<StateBox>()` bytes or null, and the tag is read
        // inside it.
        unsafe {
            let holder =
                stack::userdata_upvalue(l, std::mem::size_of::<StateBox>()).cast::<StateBox>();
            if holder.is_null() || !StateBox::has_tag(holder) {
                return std::ptr::null_mut();
            }
            holder
        }
    }
}

impl FfiState {
    /// Creates the state and pushes its userdata.
    ///
    /// # Safety
    /// `l` is live with 3 free stack slots.
    pub unsafe fn push_new(l: *mut State) -> *mut FfiState {
        let mut types = TypeTable::new(Target::host());
        let const_void = types.qualified(types.builtins().void, Quals::CONST);
        let const_void_ptr = types.pointer_to(const_void);
        let state = Box::into_raw(Box::new(FfiState {
            types: RefCell::new(types),
            cdata_meta: sys::LUA_NOREF,
            ctype_objects: sys::LUA_NOREF,
            typeof_cache: sys::LUA_NOREF,
            type_strings: RefCell::new(TypeStrings::default()),
            metatypes: sys::LUA_NOREF,
            has_metatypes: Cell::new(false),
            members: MemberCache::default(),
            new_plans: RefCell::new(NewPlans::default()),
            elements: RefCell::new(ElementCache::default()),
            fields: RefCell::new(FieldCache::default()),
            field_names: sys::LUA_NOREF,
            index_name: sys::LUA_NOREF,
            references: RefCell::new(Vec::new()),
            gc_meta: sys::LUA_NOREF,
            finalizers: sys::LUA_NOREF,
            cdata_meta_ptr: std::ptr::null(),
            gc_meta_ptr: std::ptr::null(),
            const_void_ptr,
            cells: std::ptr::null_mut(),
            hooks: CallHooks::none(),
            upper: UpperParts::default(),
        }));
        // SAFETY: `l` is live; the userdata is sized for StateBox and Lua aligns it for a
        // pointer; `state_gc` is the only code that frees `state`.
        unsafe {
            let holder = lua::new_userdata(l, std::mem::size_of::<StateBox>()).cast::<StateBox>();
            holder.write(StateBox {
                state,
                cells: CallCells {
                    // No C call yet: 0, what LuaJIT's `ffi.errno()` gives then (not
                    // whatever the interpreter's start or `require` left in errno).
                    errno: 0,
                    pending_error: 0,
                    caller: std::ptr::null_mut(),
                },
                tag: tagged::tag(Kind::State),
            });
            (*state).cells = holder;
            sys::lua_createtable(l, 0, 2);
            sys::lua_pushcclosure(l, state_gc, 0);
            lua::set_field_raw(l, -2, "__gc");
            push_static(l, "ffi state");
            lua::set_field_raw(l, -2, "__metatable");
            sys::lua_setmetatable(l, -2);
        }
        state
    }

    /// The state of the running ffi C function (from its upvalue 1), shared: several
    /// calls may hold it at once (Lua code re-enters the module at any allocation); what
    /// changes sits in cells (see [`FfiState`]).
    ///
    /// # Safety
    /// Called from a C function created by this module with the state as upvalue 1. The
    /// returned reference must not outlive the call.
    #[inline]
    pub unsafe fn get<'a>(l: *mut State) -> LuaResult<&'a FfiState> {
        // SAFETY: upvalue 1 is the StateBox userdata (module invariant). Its state is null
        // only after `state_gc` ran, which happens when the Lua state closes: finalizers
        // that run after it get an error instead of a dangling pointer.
        unsafe {
            let holder = StateBox::of_running_function(l);
            if holder.is_null() {
                // Only `debug.setupvalue` can take the state away from an ffi function.
                return Err(LuaError::msg("ffi function without its ffi state"));
            }
            let state = (*holder).state;
            if state.is_null() {
                return Err(LuaError::msg("ffi used after its Lua state began closing"));
            }
            Ok(&*state)
        }
    }

    /// The type table, for reading. Borrow it for one expression, or a block that makes
    /// no Lua call; it is never borrowed for a change across a Lua call (see
    /// [`FfiState::types_mut`]), so this cannot fail.
    #[inline]
    pub fn types(&self) -> Ref<'_, TypeTable> {
        self.types.borrow()
    }

    /// The C type `ty` is, copied out of the table (only a function type's parameter
    /// list is allocated), so that matching on it keeps no borrow of the table while the
    /// arms run Lua code or change the table.
    #[inline]
    pub fn ctype(&self, ty: TypeId) -> CType {
        self.types().get(ty).clone()
    }

    /// The reference type `ty &`: what reading a struct, union, array or function value
    /// into Lua makes (a new reference cdata). Interned the first time, then kept per
    /// type, so that `s.inner` and `a[i]` intern nothing.
    #[inline]
    pub fn reference_to(&self, ty: TypeId) -> LuaResult<TypeId> {
        if let Some(&known) = self.references.borrow().get(ty.index()) {
            if known != NO_TYPE {
                return Ok(known);
            }
        }
        self.learn_reference(ty)
    }

    #[cold]
    #[inline(never)]
    fn learn_reference(&self, ty: TypeId) -> LuaResult<TypeId> {
        let reference = self.types_mut()?.intern(CType::Ref(ty));
        let mut references = self.references.borrow_mut();
        if references.len() <= ty.index() {
            references.resize(ty.index() + 1, NO_TYPE);
        }
        references[ty.index()] = reference;
        Ok(reference)
    }

    /// The type table, for a change (a `cdef`, a new pointer or array type). Never held
    /// across a Lua call. An error if an interrupted ffi function still reads the table
    /// (a finalizer run by one of its allocations, or a callback, re-entered the module).
    pub fn types_mut(&self) -> LuaResult<RefMut<'_, TypeTable>> {
        self.types.try_borrow_mut().map_err(|_| {
            LuaError::msg(
                "ffi: cannot change C types here: an ffi function interrupted by this \
                 finalizer or callback is reading them",
            )
        })
    }
}

/// No type: an unknown entry of [`FfiState::reference_to`]'s table (no type table
/// holds 2^32 types).
const NO_TYPE: TypeId = TypeId(u32::MAX);

/// Pushes a short ASCII string constant.
///
/// # Safety
/// `l` is live with one free slot.
pub unsafe fn push_static(l: *mut State, s: &'static str) {
    // SAFETY: forwarded.
    unsafe { lua::push_str(l, s) }
}

/// `__gc` of the state userdata: frees the state when the Lua state closes.
unsafe extern "C-unwind" fn state_gc(l: *mut State) -> c_int {
    // SAFETY: Lua calls `__gc` with the StateBox userdata as argument 1, once.
    unsafe {
        lua::entry(l, || {
            let holder = StateBox::at(l, 1);
            if !holder.is_null() && !(*holder).state.is_null() {
                drop(Box::from_raw((*holder).state));
                (*holder).state = std::ptr::null_mut();
            }
            Ok(0)
        })
    }
}
