//! The ffi functions that make cdata: `ffi.new`, calling a ctype object, `ffi.cast`.

use crate::cdata::convert::{
    init_value, read_lua_number, store_lua_number, store_lua_value, Conv, LuaNumber,
};
use crate::cdata::ctype_arg::check_ctype;
use crate::cdata::new_plan::{NewPlan, Slot};
use crate::cdata::state::{FfiState, StateBox};
use crate::cdata::{
    new_cdata, new_cdata_with, new_small_cdata, new_small_cdata_in, to_cdata, CDataKind,
};
use crate::lua::{self, stack, LuaError, LuaResult, State};
use crate::scalar::number::f64_to_i64;
use jitffi_ctype::{ArrayLen, CType, TypeId};
use mlua_sys as sys;
use std::mem::MaybeUninit;
use std::os::raw::c_int;

/// `ffi.new(ct [, nelem] [, init...])`.
///
/// # Safety
/// Called by Lua as a C function of this module (state as upvalue 1).
pub unsafe extern "C-unwind" fn new(l: *mut State) -> c_int {
    // SAFETY: called by Lua as a C function of this module.
    unsafe {
        if let Some(frame) = stack::Frame::of(l) {
            if new_fast(l, frame).is_some() {
                return 1;
            }
        }
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            let ty = check_ctype(l, st, 1, None)?;
            new_value(l, st, ty, 2)?;
            Ok(1)
        })
    }
}

/// The fast path of `ffi.new(ct, init...)` and `ffi.new("T", init...)`: the type named
/// by a ctype object or by a type string met before
/// ([`crate::cdata::type_strings::TypeStrings`]), then [`new_from_frame`].
/// `None` (nothing pushed) leaves the call to the general path.
///
/// # Safety
/// Called from `ffi.new` (the state as upvalue 1), `frame` its frame. Runs outside
/// `lua::entry`: nothing here may raise or panic, except the allocation of the new
/// cdata (out of memory), in a frame that owns nothing.
#[inline(always)]
unsafe fn new_fast(l: *mut State, frame: stack::Frame) -> Option<()> {
    // The state and the ctype object are read only once their tags say so (see
    // `StateBox::state_of_frame` and `cdata::frame_cdata`).
    // SAFETY: argument 1 is read once the count says it was passed; the type-string
    // cache is only read, with no Lua call meanwhile.
    unsafe {
        if !frame.has_args(1) {
            return None;
        }
        let st = StateBox::state_of_frame(frame)?;
        let ty = match frame.key_class(1) {
            stack::KeyClass::ShortString(text) => {
                (*st).type_strings.try_borrow().ok()?.get(text as usize)?
            }
            _ => {
                let header = crate::cdata::frame_cdata(frame, 1)?;
                if (*header).kind() != CDataKind::CType {
                    return None;
                }
                (*header).ty
            }
        };
        new_from_frame(l, frame, st, ty, 2)
    }
}

/// The fast path of calling a ctype object, `CT(init...)`: as `ffi.new(CT, init...)`
/// while no metatype exists (none can have a `__new` to call instead).
///
/// # Safety
/// Called from the cdata metatable's `__call` (the state as upvalue 1), `frame` its
/// frame; as [`new_fast`] otherwise.
#[inline(always)]
pub unsafe fn call_fast(l: *mut State, frame: stack::Frame) -> Option<()> {
    // SAFETY: as in `new_fast`; `__call` may also be called directly with anything.
    unsafe {
        if !frame.has_args(1) {
            return None;
        }
        let st = StateBox::state_of_frame(frame)?;
        let header = crate::cdata::frame_cdata(frame, 1)?;
        if (*header).kind() != CDataKind::CType || (*st).has_metatypes.get() {
            return None;
        }
        new_from_frame(l, frame, st, (*header).ty, 2)
    }
}

/// Most initializers the fast path reads before it allocates.
const FAST_INITIALIZERS: usize = 8;

/// Pushes a cdata of `ty` from the arguments from `first` on, if its plan says how (see
/// [`crate::cdata::new_plan`]) and they take no conversion but a number's: a type whose
/// plan the general path made, aligned to at most 8 bytes, with no metatype finalizer
/// to attach (a type that can have a metatype, once any exists, takes the general path),
/// and as initializers only numbers, no more than its slots (and than
/// [`FAST_INITIALIZERS`]). They are stored as [`new_planned`] stores them; the slots
/// after the last are left zero, or for an array given one, filled with it. `None`
/// (nothing pushed) leaves the call to the general path, which raises the errors.
///
/// # Safety
/// As [`new_fast`]; `st` is the state of `frame`'s upvalue 1.
#[inline(always)]
unsafe fn new_from_frame(
    l: *mut State,
    frame: stack::Frame,
    st: *const FfiState,
    ty: TypeId,
    first: c_int,
) -> Option<()> {
    // Nothing runs Lua between the reads of the arguments and the allocation, and the
    // frame is not read after it.
    // SAFETY: the plan is boxed and lives as long as the state (`new_planned`), which the
    // running function's upvalue keeps; arguments are read once the count says they were
    // passed; each slot lies inside the new value.
    unsafe {
        let plan: *const NewPlan = {
            let plans = (*st).new_plans.try_borrow().ok()?;
            plans.known(ty)?
        };
        let plan = &*plan;
        let needs_finalizer = plan.may_have_metatype && (*st).has_metatypes.get();
        if plan.align > 8 || plan.size > crate::cdata::MAX_OBJECT_SIZE || needs_finalizer {
            return None;
        }
        let size = plan.size as usize;
        if !frame.has_args(first) {
            new_small_cdata_in(l, &*st, ty, size);
            return Some(());
        }
        let mut numbers = [MaybeUninit::<LuaNumber>::uninit(); FAST_INITIALIZERS];
        let mut count = 0;
        while frame.has_args(first + count as c_int) {
            if count == plan.slots.len() || count == FAST_INITIALIZERS {
                return None;
            }
            numbers[count].write(match frame.number(first + count as c_int) {
                stack::Peeked::Int(int) => LuaNumber::Int(int),
                stack::Peeked::Float(float) => LuaNumber::Float(float),
                stack::Peeked::Unknown => return None,
            });
            count += 1;
        }
        let value = new_small_cdata_in(l, &*st, ty, size);
        for (slot, number) in plan.slots.iter().zip(&numbers[..count]) {
            // Written by the loop above: the first `count`.
            let number = number.assume_init();
            store_slot(value, slot, number);
        }
        if count == 1 {
            fill_from_one(value, plan, numbers[0].assume_init());
        }
        Some(())
    }
}

/// Allocates a cdata of `ty` from the arguments from `first` on (`[nelem,] init...`)
/// and pushes it: what `ffi.new` and a call of a ctype object share.
///
/// # Safety
/// `l` is live with four free slots; `st` is its ffi state.
pub unsafe fn new_value(l: *mut State, st: &FfiState, ty: TypeId, first: c_int) -> LuaResult<()> {
    // SAFETY: `l` is live (caller); the arguments are on its stack.
    unsafe {
        let top = sys::lua_gettop(l);
        if !new_planned(l, st, ty, first, top)? {
            return new_general(l, st, ty, first, top);
        }
        crate::cdata::gc::attach_metatype_finalizer(l, st, ty)
    }
}

/// [`new_value`] for what [`new_planned`] does not take: variable-length types,
/// references, arrays of more than a few elements or of aggregates, tables, strings and
/// cdata as initializers.
///
/// # Safety
/// As [`new_value`]; `top` is the index of the last argument.
#[inline(never)]
unsafe fn new_general(
    l: *mut State,
    st: &FfiState,
    ty: TypeId,
    first: c_int,
    top: c_int,
) -> LuaResult<()> {
    // SAFETY: `l` is live (caller); the arguments are on its stack.
    unsafe {
        let mut first_init = first;
        let size = if st.types().is_vla(ty) {
            let count = element_count(l, st, first)?;
            first_init += 1;
            count.and_then(|n| st.types().size_of_vla(ty, n))
        } else {
            allocatable_size(&st.types(), ty)
        };
        let Some(size) = size.filter(|&size| size <= crate::cdata::MAX_OBJECT_SIZE) else {
            return Err(LuaError::arg(1, "size of C type is unknown or too large"));
        };
        let (base, _) = st.types().unqualified(ty);
        if let CType::Ref(_) = st.ctype(base) {
            // `ffi.new("T &", x)` refers to what `x` is or points to, as a `T *` made from
            // `x` would; without `x`, a NULL reference, as LuaJIT makes it.
            let value = new_cdata(l, st, ty, 8, 8)?;
            if first_init <= top {
                store_reference(l, st, ty, value, first_init, Conv::ASSIGN)?;
            }
            return Ok(());
        }
        let align = st.types().align_of(ty);
        let value = new_cdata(l, st, ty, size as usize, align)?;
        let count = (top - first_init + 1).max(0);
        init_value(l, st, ty, value, size, first_init, count)?;
        crate::cdata::gc::attach_metatype_finalizer(l, st, ty)
    }
}

/// The fast path of [`new_value`]: a type with a [`NewPlan`](crate::cdata::new_plan::NewPlan)
/// whose initializers (from `first` to `top`) are all numbers, no more than its slots.
/// Pushes the new cdata and returns true, or pushes nothing and returns false.
///
/// # Safety
/// As [`new_value`].
#[inline(always)]
unsafe fn new_planned(
    l: *mut State,
    st: &FfiState,
    ty: TypeId,
    first: c_int,
    top: c_int,
) -> LuaResult<bool> {
    let count = (top - first + 1).max(0) as usize;
    let cdata_meta = st.cdata_meta;
    // The cache is not kept borrowed while the value is allocated (which may run
    // finalizers that use it): plans are boxed and never dropped before the state.
    let Some(plan) = st
        .new_plans
        .borrow_mut()
        .get(&st.types(), ty)
        .map(|plan| plan as *const NewPlan)
    else {
        return Ok(false);
    };
    // SAFETY: as above, the plan lives as long as `st`.
    let plan = unsafe { &*plan };
    let Some(slots) = plan.slots.get(..count) else {
        return Ok(false);
    };
    if plan.size > crate::cdata::MAX_OBJECT_SIZE {
        // The general path refuses it.
        return Ok(false);
    }
    // SAFETY: `l` is live (caller); the arguments are on its stack; each slot lies
    // inside the new value.
    unsafe {
        // Read every initializer before allocating (a non-number sends the call to the
        // general path); more than fit the buffer are read twice.
        let mut numbers = [MaybeUninit::<LuaNumber>::uninit(); 8];
        for i in 0..count {
            let Some(number) = read_lua_number(l, first + i as c_int) else {
                return Ok(false);
            };
            if let Some(place) = numbers.get_mut(i) {
                place.write(number);
            }
        }
        let value = if plan.align <= 8 {
            new_small_cdata(l, cdata_meta, ty, plan.size as usize)
        } else {
            new_cdata_with(l, cdata_meta, ty, plan.size as usize, plan.align)?
        };
        for (i, slot) in slots.iter().enumerate() {
            let number = match numbers.get(i) {
                // Written by the loop above: `i < count`.
                Some(n) => n.assume_init(),
                None => read_lua_number(l, first + i as c_int).unwrap_or(LuaNumber::Int(0)),
            };
            store_slot(value, slot, number);
        }
        if count == 1 {
            fill_from_one(value, plan, numbers[0].assume_init());
        }
    }
    Ok(true)
}

/// LuaJIT's rule for an array given a single initializer: it fills every element, not
/// only the first (which the caller stored). Nothing for a plan that is not an array's.
///
/// # Safety
/// `value` is a new value of `plan`'s type.
#[inline(always)]
unsafe fn fill_from_one(value: *mut u8, plan: &NewPlan, number: LuaNumber) {
    if !plan.fills_from_one {
        return;
    }
    for slot in plan.slots.iter().skip(1) {
        // SAFETY: each slot lies inside the value (caller).
        unsafe { store_slot(value, slot, number) };
    }
}

/// Stores `number` into `slot` of the new value at `value`, as every constructor path
/// does.
///
/// # Safety
/// `slot` lies inside the value.
#[inline(always)]
unsafe fn store_slot(value: *mut u8, slot: &Slot, number: LuaNumber) {
    // SAFETY: as documented.
    unsafe {
        store_lua_number(
            value.add(slot.offset as usize),
            slot.store,
            slot.wide,
            number,
        )
    }
}

/// Stores into the reference of type `ref_ty` at `ptr` the address the Lua value at
/// `index` gives, converted as to a pointer to its target; only cdata can give one.
///
/// # Safety
/// `l` is live with three free slots; `ptr` is 8 writable bytes.
unsafe fn store_reference(
    l: *mut State,
    st: &FfiState,
    ref_ty: TypeId,
    ptr: *mut u8,
    index: c_int,
    conv: Conv,
) -> LuaResult<()> {
    // SAFETY: `l` is live (caller); the pointer conversion writes 8 bytes at `ptr`.
    unsafe {
        if to_cdata(l, st, index).is_none() {
            let got = lua::type_name(l, index);
            return Err(LuaError::msg(format!(
                "cannot convert '{got}' to '{}'",
                st.types().type_name(ref_ty)
            )));
        }
        store_lua_value(l, st, ref_ty, ptr, index, conv)
    }
}

/// The size `ffi.new` allocates for a type of fixed size: none for `void`, functions,
/// incomplete types and `T[]` outside a struct.
fn allocatable_size(types: &jitffi_ctype::TypeTable, ty: TypeId) -> Option<u64> {
    let (base, _) = types.unqualified(ty);
    match types.get(base) {
        CType::Array {
            len: ArrayLen::Flexible,
            ..
        } => None,
        CType::Ref(_) => Some(8),
        _ => types.size_of(base),
    }
}

/// The `nelem` argument of a variable-length type: `None` if negative.
///
/// # Safety
/// `l` is live.
unsafe fn element_count(l: *mut State, st: &FfiState, index: c_int) -> LuaResult<Option<u64>> {
    // SAFETY: `l` is live (caller).
    unsafe {
        let n = match sys::lua_type(l, index) {
            sys::LUA_TNUMBER => f64_to_i64(sys::lua_tonumber(l, index)),
            sys::LUA_TNONE | sys::LUA_TNIL => {
                return Err(LuaError::arg(index, "value expected"));
            }
            _ => match to_cdata(l, st, index)
                .and_then(|h| crate::cdata::convert::cdata_as_i64(&st.types(), h))
            {
                Some(n) => n,
                None => {
                    let got = lua::type_name(l, index);
                    return Err(LuaError::arg(
                        index,
                        format!("cannot convert '{got}' to 'int'"),
                    ));
                }
            },
        };
        Ok(u64::try_from(n).ok())
    }
}

/// `ffi.cast(ct, value)`: a new cdata of the scalar type `ct` holding `value` converted
/// by the cast rules (pointers and integers convert freely).
///
/// # Safety
/// Called by Lua as a C function of this module (state as upvalue 1).
pub unsafe extern "C-unwind" fn cast(l: *mut State) -> c_int {
    // SAFETY: called by Lua as a C function of this module.
    unsafe {
        lua::entry(l, || {
            let st = FfiState::get(l)?;
            let ty = check_ctype(l, st, 1, None)?;
            // One borrow of the table for every question about the type (no copy of it).
            let target = {
                let types = st.types();
                let (base, _) = types.unqualified(ty);
                match types.get(base) {
                    CType::Ref(_) => CastTarget::Reference,
                    // As LuaJIT, no cast makes a complex number or a vector.
                    CType::Bool
                    | CType::BoolInt
                    | CType::Int(_)
                    | CType::Float(_)
                    | CType::Enum(_)
                    | CType::Pointer(_) => match types.size_of(base) {
                        Some(size) => CastTarget::Scalar {
                            size,
                            align: types.align_of(ty),
                        },
                        None => CastTarget::Invalid,
                    },
                    _ => CastTarget::Invalid,
                }
            };
            // As LuaJIT, a missing value is reported before a type no cast makes.
            if sys::lua_type(l, 2) == sys::LUA_TNONE {
                return Err(LuaError::arg(2, "value expected"));
            }
            let (size, align) = match target {
                // As LuaJIT, whatever casts to a pointer casts to a reference: a number
                // or nil gives its address (0 and nil a NULL reference, whose use is an
                // error: crate::cdata::convert), a string its bytes.
                CastTarget::Reference => (8, 8),
                CastTarget::Scalar { size, align } => (size, align),
                CastTarget::Invalid => return Err(LuaError::arg(1, "invalid C type")),
            };
            // As LuaJIT, a cdata of exactly this type is the result itself: a reference
            // stays bound where it is (converting it would read the value it refers to).
            if let Some(header) = to_cdata(l, st, 2) {
                if (*header).kind() == CDataKind::Value && (*header).ty == ty {
                    sys::lua_settop(l, 2);
                    return Ok(1);
                }
            }
            let value = new_cdata(l, st, ty, size as usize, align)?;
            store_lua_value(l, st, ty, value, 2, Conv::CAST)?;
            Ok(1)
        })
    }
}

/// What `ffi.cast` makes of a type.
enum CastTarget {
    /// A reference: stored as a pointer would be.
    Reference,
    /// A scalar (a number, an enum or a pointer) of this size and alignment.
    Scalar { size: u64, align: u32 },
    /// Nothing: the type is an aggregate, a complex number, a vector or of unknown size.
    Invalid,
}
