//! Arithmetic, comparison and concatenation on cdata (`lj_carith.c` and the
//! `ffi_meta___xxx` functions of `lib_ffi.c`): 64-bit integer arithmetic, pointer
//! arithmetic and comparisons, and the fallback to the operands' metatypes.
//!
//! Every operator metamethod runs the same three steps as `lj_carith_op`:
//!
//! 1. **64-bit integers.** When both operands are numbers (a Lua number, or a cdata
//!    integer, `bool`, enum, `float` or `double`), both are converted to `int64_t`, or to
//!    `uint64_t` if either is a `uint64_t`, and the result is a new `int64_t`/`uint64_t`
//!    cdata (comparisons give a boolean). So `ffi.new("int", 5) + 1` is `6LL` and
//!    `ffi.new("double", 7.5) / 2` is `3LL`, as in LuaJIT. Nothing traps: `x / 0` and
//!    `x % 0` are `0x8000000000000000`, `INT64_MIN / -1` is `INT64_MIN`, `INT64_MIN % -1`
//!    is 0; `/` and `%` truncate toward zero as in C; `^` is integer power (a negative
//!    exponent gives 0, except for bases 0, 1 and -1). Lua floats convert by truncation
//!    (NaN and out-of-range values as x86-64's `cvttsd2si`, negative values to `uint64_t`
//!    as 2^63); on Lua 5.3+ a Lua integer is used exactly.
//! 2. **Pointers.** `p + n`, `n + p`, `p - n` (arrays decay to pointers to their first
//!    element; the result is a pointer to the element type), `p - q` (the element
//!    difference as a Lua number, for compatible pointers whose elements have a size),
//!    `p == q` for any two pointers, `p < q` and `p <= q` (unsigned address order) for
//!    compatible ones: element types of the same kind and size, qualifiers ignored, and
//!    `void` only with `void`. `nil` acts as a NULL `void *`.
//! 3. **Metatypes.** Otherwise the metamethod of the first operand's metatype (a
//!    pointer's: that of the type it points to), else of the second's, is called with
//!    both operands. Without one, `==` compares the addresses (it never raises) and the
//!    other operators raise LuaJIT's error (`attempt to perform arithmetic on 'struct
//!    foo' and 'number'`, `attempt to compare ...`, `attempt to concatenate ...`,
//!    `attempt to get length of ...`). `..` and `#` only ever take step 3.
//!
//! A string operand next to an enum cdata stands for the constant it names (`e ==
//! "RED"` style comparisons); a string that names none is `cannot convert 'string' to
//! 'enum e'`. A ctype object is never a value here: two ctype objects are equal when
//! they name the same type, anything else with one is an error (`ctype<int>`).
//!
//! Lua 5.3/5.4 operators LuaJIT lacks, on the same operands as step 1, computed in the
//! same type (for shifts: the left operand's type, a Lua integer if it is a Lua number):
//! `//` floors (`x // 0` as `x / 0` above), `&`, `|`, `~`, unary `~` work bitwise, and
//! `<<`, `>>` shift as Lua shifts integers (`>>` is logical also for `int64_t`, a count
//! of 64 or more gives 0, a negative count shifts the other way). Floats convert by
//! truncation, as in arithmetic, instead of Lua's "no integer representation" error.
//!
//! What each Lua version lets reach these metamethods (the operators that do not reach
//! them are the ones documented as differences from LuaJIT):
//! - `==`: only two userdata (5.1/5.2: with the same `__eq`, as all cdata have), so
//!   `cdata == number`, `ptr == nil` and `enum == "RED"` are false without a call.
//! - `<`, `<=`: 5.1 only for two userdata; 5.2+ also for a cdata and a number or
//!   string.
//! - Arithmetic, `..`, `#`: every version, with any second operand.

use crate::cdata::convert::{ctype_number, lua_num, null_access, same_kind};
use crate::cdata::metatype::push_operand_metamethod;
use crate::cdata::state::FfiState;
use crate::cdata::{self, payload, to_cdata, CDataHeader, CDataKind};
use crate::lua::stack::{self, Peeked};
use crate::lua::{self, LuaError, LuaResult, Next, State};
use crate::scalar::number::{num_to_int_bits, read_num, Num};
use jitffi_ctype::{CType, IntType, TypeId, TypeTable};
use mlua_sys as sys;
use std::ffi::CStr;
use std::io::Write;
use std::os::raw::c_int;
use std::sync::atomic::{AtomicBool, Ordering};

/// The cdata metamethods this module implements on every Lua version, for the shared
/// cdata metatable.
pub const METHODS: &[(&str, sys::lua_CFunction)] = &[
    ("__eq", eq),
    ("__len", len),
    ("__lt", lt),
    ("__le", le),
    ("__concat", concat),
    ("__add", add),
    ("__sub", sub),
    ("__mul", mul),
    ("__div", div),
    ("__mod", mod_),
    ("__pow", pow),
    ("__unm", unm),
];

/// The integer-operator metamethods of Lua 5.3 and 5.4 (none before).
pub const INTEGER_METHODS: &[(&str, sys::lua_CFunction)] = if !lua::version::INTEGERS {
    &[]
} else {
    &[
        ("__idiv", idiv),
        ("__band", band),
        ("__bor", bor),
        ("__bxor", bxor),
        ("__shl", shl),
        ("__shr", shr),
        ("__bnot", bnot),
    ]
};

/// An operator, named by its metamethod.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
enum Op {
    Eq,
    Len,
    Lt,
    Le,
    Concat,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    Unm,
    IDiv,
    BAnd,
    BOr,
    BXor,
    Shl,
    Shr,
    BNot,
}

impl Op {
    /// The metamethod name a metatype provides for this operator.
    fn event(self) -> &'static str {
        match self {
            Op::Eq => "__eq",
            Op::Len => "__len",
            Op::Lt => "__lt",
            Op::Le => "__le",
            Op::Concat => "__concat",
            Op::Add => "__add",
            Op::Sub => "__sub",
            Op::Mul => "__mul",
            Op::Div => "__div",
            Op::Mod => "__mod",
            Op::Pow => "__pow",
            Op::Unm => "__unm",
            Op::IDiv => "__idiv",
            Op::BAnd => "__band",
            Op::BOr => "__bor",
            Op::BXor => "__bxor",
            Op::Shl => "__shl",
            Op::Shr => "__shr",
            Op::BNot => "__bnot",
        }
    }

    fn is_comparison(self) -> bool {
        matches!(self, Op::Eq | Op::Lt | Op::Le)
    }
}

macro_rules! metamethods {
    ($($(#[$attr:meta])* $name:ident => $op:expr;)*) => {$(
        $(#[$attr])*
        unsafe extern "C-unwind" fn $name(l: *mut State) -> c_int {
            // SAFETY: Lua calls a metamethod of the cdata metatable (a closure with the
            // ffi state as upvalue 1) with the operands as arguments 1 and 2.
            unsafe { operate(l, $op) }
        }
    )*};
}

metamethods! {
    eq => Op::Eq;
    len => Op::Len;
    lt => Op::Lt;
    le => Op::Le;
    concat => Op::Concat;
    add => Op::Add;
    sub => Op::Sub;
    mul => Op::Mul;
    div => Op::Div;
    mod_ => Op::Mod;
    pow => Op::Pow;
    unm => Op::Unm;
    idiv => Op::IDiv;
    band => Op::BAnd;
    bor => Op::BOr;
    bxor => Op::BXor;
    shl => Op::Shl;
    shr => Op::Shr;
    bnot => Op::BNot;
}

/// Runs operator `op` on arguments 1 and 2 (`lj_carith_op`).
///
/// # Safety
/// Called directly from a metamethod of the cdata metatable, with its state upvalue.
unsafe fn operate(l: *mut State, op: Op) -> c_int {
    // SAFETY: as the caller guarantees; a metatype's metamethod runs once the body has
    // returned (`Next::Call`, standing for LuaJIT's `lj_meta_tailcall`).
    unsafe { lua::entry_next(l, || evaluate(l, op)) }
}

/// The body of [`operate`]: pushes the result, or a metatype's metamethod and the
/// operands to call it with.
///
/// # Safety
/// As [`operate`]; runs inside `lua::entry`.
unsafe fn evaluate(l: *mut State, op: Op) -> LuaResult<Next> {
    // SAFETY: `l` is live with the operands at 1 and 2 (caller); classification reads
    // only values whose type it checked, and pushes at most two slots (Lua guarantees
    // LUA_MINSTACK).
    unsafe {
        let st = FfiState::get(l)?;
        if sys::lua_gettop(l) != 2 {
            // Only a direct call (through `debug.getmetatable`) passes another count:
            // exactly two operands, so that a metamethod call sees them at 1 and 2.
            sys::lua_settop(l, 2);
        }
        let a = classify(l, st, 1, 2);
        let b = classify(l, st, 2, 1);
        if op != Op::Len && op != Op::Concat {
            for (operand, other) in [(&a, 2), (&b, 1)] {
                if let Some(ref_ty) = operand.null_ref {
                    // A NULL reference equals nil, as in LuaJIT (nil converts to NULL
                    // and the reference's address is compared); any other use reads it.
                    if op == Op::Eq && sys::lua_type(l, other) == sys::LUA_TNIL {
                        sys::lua_pushboolean(l, 1);
                        return Ok(Next::Return(1));
                    }
                    return Err(null_access(&st.types(), ref_ty));
                }
            }
        }
        if let (Some(x), Some(y)) = (a.ctype, b.ctype) {
            if op == Op::Eq {
                sys::lua_pushboolean(l, c_int::from(x == y));
                return Ok(Next::Return(1));
            }
        }
        if op != Op::Len && op != Op::Concat {
            if let (Value::Num(x), Value::Num(y)) = (a.value, b.value) {
                integer_op(l, st, op, x, y, a.from_lua)?;
                return Ok(Next::Return(1));
            }
            if pointer_op(l, st, op, a.value, b.value)? {
                return Ok(Next::Return(1));
            }
        }
        for operand in [&a, &b] {
            if let Some(ty) = operand.cdata {
                if push_operand_metamethod(l, st, ty, op.event()) {
                    sys::lua_pushvalue(l, 1);
                    sys::lua_pushvalue(l, 2);
                    return Ok(Next::Call { args: 2 });
                }
            }
        }
        if op == Op::Eq {
            // Equality never raises: unrelated values compare by address.
            let same = a.identity.is_some() && a.identity == b.identity;
            sys::lua_pushboolean(l, c_int::from(same));
            return Ok(Next::Return(1));
        }
        Err(failure(l, &st.types(), op, &a, &b))
    }
}

// ---- operands -------------------------------------------------------------------------

/// An operand of an operator (`carith_checkarg`).
#[derive(Copy, Clone)]
struct Operand {
    value: Value,
    /// The declared type of a cdata value, whose metatype may apply.
    cdata: Option<TypeId>,
    /// The type a ctype object names (two compare equal by type, not by number).
    ctype: Option<TypeId>,
    /// The address `==` compares when nothing else applies: a pointer's value, else
    /// the address of a cdata's value; none for Lua values.
    identity: Option<usize>,
    /// How an error message names the operand.
    shown: Shown,
    /// A Lua value, not a cdata (a shift of a Lua number gives a Lua integer).
    from_lua: bool,
    /// The reference type of a NULL reference to a scalar: its value cannot be read.
    null_ref: Option<TypeId>,
}

#[derive(Copy, Clone)]
enum Value {
    /// A number: a Lua number or a cdata integer, `bool`, enum or `float`/`double`,
    /// widened.
    Num(Wide),
    /// A pointer, or an array (decayed): its address and element type; `ty` is the
    /// pointer type itself (unqualified), none for an array.
    Ptr {
        address: usize,
        ty: Option<TypeId>,
        elem: TypeId,
    },
    /// A string next to an enum cdata that names none of its constants.
    NotAConstant { enum_ty: TypeId },
    /// Anything else.
    Other,
}

/// A numeric operand and whether its type is `uint64_t` (which makes the operation
/// unsigned).
#[derive(Copy, Clone, Debug)]
struct Wide {
    num: Num,
    is_u64: bool,
}

#[derive(Copy, Clone)]
enum Shown {
    /// By its C type.
    Type(TypeId),
    /// By its Lua type (`number`, `string`, ...).
    Lua,
}

impl Operand {
    fn lua(value: Value) -> Operand {
        Operand {
            value,
            cdata: None,
            ctype: None,
            identity: None,
            shown: Shown::Lua,
            from_lua: true,
            null_ref: None,
        }
    }
}

/// Classifies argument `index`; `other` is the other operand (for enum constants).
///
/// # Safety
/// `l` is live with two free slots, running a C function with at least `index`
/// arguments; `st` is its ffi state.
unsafe fn classify(l: *mut State, st: &FfiState, index: c_int, other: c_int) -> Operand {
    // SAFETY: `l` is live (caller); a userdata is read only once known to be a cdata.
    unsafe {
        // A number read straight from its slot where direct reads are on: an integer
        // tag is what `lua_num`'s `lua_isinteger` finds, a float one its float.
        let num = match stack::number(l, index) {
            Peeked::Int(i) => Some(Num::Int(i)),
            Peeked::Float(x) => Some(Num::Float(x)),
            Peeked::Unknown => None,
        };
        if let Some(num) = num {
            return Operand::lua(Value::Num(Wide { num, is_u64: false }));
        }
        match sys::lua_type(l, index) {
            sys::LUA_TNUMBER => Operand::lua(Value::Num(Wide {
                num: lua_num(l, index, true),
                is_u64: false,
            })),
            sys::LUA_TUSERDATA => match to_cdata(l, st, index) {
                Some(header) => classify_cdata(&st.types(), header),
                None => Operand::lua(Value::Other),
            },
            sys::LUA_TNIL => {
                let builtins = *st.types().builtins();
                Operand::lua(Value::Ptr {
                    address: 0,
                    ty: Some(builtins.void_ptr),
                    elem: builtins.void,
                })
            }
            sys::LUA_TSTRING => enum_constant(l, st, index, other),
            _ => Operand::lua(Value::Other),
        }
    }
}

/// Classifies a cdata or ctype object. References are looked through.
///
/// # Safety
/// `header` is a live cdata or ctype object.
unsafe fn classify_cdata(types: &TypeTable, header: *const CDataHeader) -> Operand {
    // SAFETY: the payload holds a value of the header's type (a reference: a non-null
    // address of its target, checked before reading through it).
    unsafe {
        let declared = (*header).ty;
        if (*header).kind() == CDataKind::CType {
            // As in LuaJIT, an `int32_t` holding the type's number, named `int`; no
            // metatype applies.
            return Operand {
                value: Value::Num(Wide {
                    num: Num::Int(i64::from(ctype_number(types, declared))),
                    is_u64: false,
                }),
                cdata: None,
                ctype: Some(declared),
                identity: None,
                shown: Shown::Type(types.builtins().i32),
                from_lua: false,
                null_ref: None,
            };
        }
        let mut ty = declared;
        let mut ptr: *const u8 = payload(header);
        let mut base = types.unqualified(ty).0;
        if let CType::Ref(target) = types.get(base) {
            ty = *target;
            base = types.unqualified(ty).0;
            ptr = ptr.cast::<*const u8>().read();
        }
        let mut operand = Operand {
            value: Value::Other,
            cdata: Some(declared),
            ctype: None,
            identity: Some(ptr as usize),
            shown: Shown::Type(ty),
            from_lua: false,
            null_ref: None,
        };
        if ptr.is_null() {
            let scalar = matches!(
                types.get(base),
                CType::Int(_)
                    | CType::Bool
                    | CType::BoolInt
                    | CType::Float(_)
                    | CType::Enum(_)
                    | CType::Pointer(_)
                    | CType::Complex(_)
            );
            if scalar {
                operand.null_ref = Some(declared);
            }
            return operand;
        }
        match types.get(base) {
            CType::Int(int) => {
                operand.value = Value::Num(Wide {
                    num: read_num(types, base, ptr).unwrap_or(Num::Int(0)),
                    is_u64: *int == IntType::U64,
                });
            }
            CType::Bool | CType::BoolInt | CType::Float(_) => {
                if let Some(num @ (Num::UInt(_) | Num::Float(_))) = read_num(types, base, ptr) {
                    operand.value = Value::Num(Wide { num, is_u64: false });
                }
            }
            CType::Enum(eid) => {
                if let Some(int) = types.enum_def(*eid).int_type {
                    operand.value = Value::Num(Wide {
                        num: read_num(types, base, ptr).unwrap_or(Num::Int(0)),
                        is_u64: int == IntType::U64,
                    });
                    // LuaJIT names an enum operand by its integer type.
                    operand.shown = Shown::Type(int_type_id(types, int));
                }
            }
            CType::Pointer(elem) => {
                let address = ptr.cast::<usize>().read();
                operand.identity = Some(address);
                operand.value = Value::Ptr {
                    address,
                    ty: Some(base),
                    elem: *elem,
                };
            }
            CType::Array { elem, .. } => {
                operand.value = Value::Ptr {
                    address: ptr as usize,
                    ty: None,
                    elem: *elem,
                };
            }
            _ => {}
        }
        operand
    }
}

/// The builtin type of an integer type.
fn int_type_id(types: &TypeTable, int: IntType) -> TypeId {
    let b = types.builtins();
    match (int.bytes, int.signed) {
        (1, true) => b.i8,
        (1, false) => b.u8,
        (2, true) => b.i16,
        (2, false) => b.u16,
        (4, true) => b.i32,
        (4, false) => b.u32,
        (_, true) => b.i64,
        (_, false) => b.u64,
    }
}

/// A string operand: the value of the constant it names when the other operand is an
/// enum cdata.
///
/// # Safety
/// `l` is live with two free slots; `index` holds a string.
unsafe fn enum_constant(l: *mut State, st: &FfiState, index: c_int, other: c_int) -> Operand {
    // SAFETY: `l` is live (caller); the string stays on the stack while compared.
    unsafe {
        if sys::lua_type(l, other) != sys::LUA_TUSERDATA {
            return Operand::lua(Value::Other);
        }
        let Some(header) = to_cdata(l, st, other) else {
            return Operand::lua(Value::Other);
        };
        if (*header).kind() != CDataKind::Value {
            return Operand::lua(Value::Other);
        }
        let types = &st.types();
        let enum_ty = types.unqualified((*header).ty).0;
        let CType::Enum(eid) = types.get(enum_ty) else {
            return Operand::lua(Value::Other);
        };
        let def = types.enum_def(*eid);
        let name = lua::to_bytes(l, index).unwrap_or_default();
        let found = def.constants.iter().find(|(n, _)| n.as_bytes() == name);
        match (found, def.int_type) {
            (Some(&(_, value)), Some(int)) => Operand::lua(Value::Num(Wide {
                num: if int.signed {
                    Num::Int(value)
                } else {
                    Num::UInt(value as u64)
                },
                is_u64: int == IntType::U64,
            })),
            _ => Operand::lua(Value::NotAConstant { enum_ty }),
        }
    }
}

// ---- 64-bit integers --------------------------------------------------------------------

/// Step 1 of the module docs: `x op y` in `int64_t` or `uint64_t`; pushes the result.
/// `left_is_lua`: the left operand is a Lua number (a shift then gives a Lua integer).
///
/// # Safety
/// `l` is live with two free slots; `st` is its ffi state.
unsafe fn integer_op(
    l: *mut State,
    st: &FfiState,
    op: Op,
    x: Wide,
    y: Wide,
    left_is_lua: bool,
) -> LuaResult<()> {
    let shift = matches!(op, Op::Shl | Op::Shr);
    let unsigned = x.is_u64 || (y.is_u64 && !shift);
    let int = if unsigned { IntType::U64 } else { IntType::I64 };
    let a = num_to_int_bits(x.num, int);
    let b = num_to_int_bits(y.num, if shift { IntType::I64 } else { int });
    let compared = match op {
        Op::Eq => Some(a == b),
        Op::Lt if unsigned => Some(a < b),
        Op::Lt => Some((a as i64) < (b as i64)),
        Op::Le if unsigned => Some(a <= b),
        Op::Le => Some((a as i64) <= (b as i64)),
        _ => None,
    };
    // SAFETY: `l` is live with two free slots (caller); the new cdata's payload is 8
    // bytes, aligned for a u64.
    unsafe {
        if let Some(result) = compared {
            sys::lua_pushboolean(l, c_int::from(result));
            return Ok(());
        }
        let bits = integer_result(op, a, b, unsigned);
        if shift && left_is_lua {
            sys::lua_pushinteger(l, bits as i64 as sys::lua_Integer);
            return Ok(());
        }
        let builtins = *st.types().builtins();
        let ty = if unsigned { builtins.u64 } else { builtins.i64 };
        let out = cdata::new_cdata(l, st, ty, 8, 8)?;
        out.cast::<u64>().write(bits);
    }
    Ok(())
}

/// The bits of `a op b` for a non-comparison operator, in `uint64_t` if `unsigned`,
/// else in `int64_t` (for shifts, `b` is the count as an `int64_t`).
fn integer_result(op: Op, a: u64, b: u64, unsigned: bool) -> u64 {
    let (sa, sb) = (a as i64, b as i64);
    match op {
        Op::Add => a.wrapping_add(b),
        Op::Sub => a.wrapping_sub(b),
        Op::Mul => a.wrapping_mul(b),
        Op::Div if unsigned => div_u64(a, b),
        Op::Div => div_i64(sa, sb) as u64,
        Op::Mod if unsigned => mod_u64(a, b),
        Op::Mod => mod_i64(sa, sb) as u64,
        Op::Pow if unsigned => pow_u64(a, b),
        Op::Pow => pow_i64(sa, sb) as u64,
        Op::Unm => a.wrapping_neg(),
        Op::IDiv if unsigned => div_u64(a, b),
        Op::IDiv => floor_div_i64(sa, sb) as u64,
        Op::BAnd => a & b,
        Op::BOr => a | b,
        Op::BXor => a ^ b,
        Op::Shl => shift_left(a, sb),
        Op::Shr => shift_left(a, sb.wrapping_neg()),
        Op::BNot => !a,
        Op::Eq | Op::Lt | Op::Le | Op::Len | Op::Concat => {
            debug_assert!(false, "bug: {op:?} is not an integer operator");
            0
        }
    }
}

/// What `x / 0` and `x % 0` give (`lj_carith_divi64` and friends never trap).
const DIVIDE_BY_ZERO: u64 = 1 << 63;

/// `lj_carith_divu64`.
pub fn div_u64(a: u64, b: u64) -> u64 {
    a.checked_div(b).unwrap_or(DIVIDE_BY_ZERO)
}

/// `lj_carith_divi64`: C's truncating division; `x / 0` and `INT64_MIN / -1` give
/// `INT64_MIN`.
pub fn div_i64(a: i64, b: i64) -> i64 {
    if b == 0 || (a == i64::MIN && b == -1) {
        i64::MIN
    } else {
        a / b
    }
}

/// `lj_carith_modu64`.
pub fn mod_u64(a: u64, b: u64) -> u64 {
    a.checked_rem(b).unwrap_or(DIVIDE_BY_ZERO)
}

/// `lj_carith_modi64`: C's remainder (the sign of `a`); `x % 0` gives `INT64_MIN`,
/// `INT64_MIN % -1` gives 0.
pub fn mod_i64(a: i64, b: i64) -> i64 {
    if b == 0 {
        i64::MIN
    } else if b == -1 {
        0
    } else {
        a % b
    }
}

/// `lj_carith_powu64`: `x^k` by squaring, wrapping.
pub fn pow_u64(x: u64, k: u64) -> u64 {
    let (mut x, mut k) = (x, k);
    let mut y: u64 = 1;
    while k != 0 {
        if k & 1 != 0 {
            y = y.wrapping_mul(x);
        }
        x = x.wrapping_mul(x);
        k >>= 1;
    }
    y
}

/// `lj_carith_powi64`: a negative exponent gives 0, except `0^-k` (`INT64_MAX`),
/// `1^-k` (1) and `(-1)^-k` (±1).
pub fn pow_i64(x: i64, k: i64) -> i64 {
    if k >= 0 {
        return pow_u64(x as u64, k as u64) as i64;
    }
    match x {
        0 => i64::MAX,
        1 => 1,
        -1 if k & 1 != 0 => -1,
        -1 => 1,
        _ => 0,
    }
}

/// `//` on `int64_t` (Lua 5.3+): floor division; `x // 0` as `x / 0`, `INT64_MIN // -1`
/// wraps to `INT64_MIN` (as Lua's integer `//`).
pub fn floor_div_i64(a: i64, b: i64) -> i64 {
    if b == 0 || (a == i64::MIN && b == -1) {
        return i64::MIN;
    }
    let q = a / b;
    if a % b != 0 && ((a < 0) != (b < 0)) {
        q - 1
    } else {
        q
    }
}

/// Lua's integer shift (`luaV_shiftl`): left by `n`, right for a negative `n`, 0 once
/// every bit is shifted out.
pub fn shift_left(x: u64, n: i64) -> u64 {
    if n <= -64 || n >= 64 {
        0
    } else if n >= 0 {
        x << n
    } else {
        x >> -n
    }
}

// ---- pointers ------------------------------------------------------------------------

/// Says once per process, on stderr, that a pointer was compared with a NULL pointer
/// cdata. Such a comparison is a porting hazard: a NULL pointer read from C is `nil`
/// here and PUC Lua never calls `__eq` between a cdata and `nil`, so `p[i] ~= NULL`
/// stays true at the terminating NULL and `while p[i] ~= NULL do` runs off the end of
/// the array (docs/porting.md, "NULL is nil when it comes from C"). This is the only
/// moment the ffi sees the constant: the comparison with the non-NULL elements before it.
///
/// # Safety
/// `l` is live, in a metamethod called from Lua. Nothing here allocates in Lua or
/// raises (callers hold a borrow of the type table).
unsafe fn warn_null_constant(l: *mut State) {
    static WARNED: AtomicBool = AtomicBool::new(false);
    if WARNED.swap(true, Ordering::Relaxed) {
        return;
    }
    // SAFETY: `l` is live (caller); a zeroed `lua_Debug` is a valid blank record that
    // `lua_getstack` fills; `lua_getinfo` with "Sl" only writes the record (level 1 is
    // the Lua code that compared) and pushes nothing.
    let place = unsafe {
        let mut ar = std::mem::MaybeUninit::<sys::lua_Debug>::zeroed().assume_init();
        if sys::lua_getstack(l, 1, &mut ar) != 0
            && sys::lua_getinfo(l, c"Sl".as_ptr(), &mut ar) != 0
            && ar.currentline > 0
        {
            let source = CStr::from_ptr(ar.short_src.as_ptr()).to_string_lossy();
            format!("{source}:{}: ", ar.currentline)
        } else {
            String::new()
        }
    };
    let _ = writeln!(
        std::io::stderr(),
        "jitffi: warning: {place}pointer compared with a NULL pointer cdata; a NULL \
         pointer read from C is nil and never equals it: compare with nil instead"
    );
}

/// Step 2 of the module docs (`carith_ptr`): pushes the result and returns true, or
/// returns false when pointer arithmetic does not apply.
///
/// # Safety
/// `l` is live with two free slots; `st` is its ffi state.
unsafe fn pointer_op(l: *mut State, st: &FfiState, op: Op, a: Value, b: Value) -> LuaResult<bool> {
    let types_borrow = st.types();
    let types = &*types_borrow;
    let (address, ty, elem, index) = match (a, b) {
        (Value::Ptr { address, ty, elem }, other) => {
            if let Value::Ptr {
                address: address2,
                elem: elem2,
                ..
            } = other
            {
                if !matches!(op, Op::Sub | Op::Eq | Op::Lt | Op::Le) {
                    return Ok(false);
                }
                let result = if op == Op::Eq {
                    if (address == 0) != (address2 == 0) {
                        // SAFETY: `l` is live with two free slots (caller).
                        unsafe { warn_null_constant(l) };
                    }
                    // Any two pointers compare, compatible or not.
                    address == address2
                } else if !comparable(types, elem, elem2) {
                    return Ok(false);
                } else if op == Op::Lt {
                    address < address2
                } else if op == Op::Le {
                    address <= address2
                } else {
                    let size = match types.size_of(elem) {
                        Some(size) if size > 0 => size,
                        _ => return Ok(false),
                    };
                    let bytes = (address as isize).wrapping_sub(address2 as isize);
                    // SAFETY: `l` is live with a free slot (caller).
                    unsafe { sys::lua_pushinteger(l, (bytes / size as isize) as _) };
                    return Ok(true);
                };
                // SAFETY: as above.
                unsafe { sys::lua_pushboolean(l, c_int::from(result)) };
                return Ok(true);
            }
            let Value::Num(n) = other else {
                return Ok(false);
            };
            let index = num_to_int_bits(n.num, IntType::I64) as i64;
            match op {
                Op::Add => (address, ty, elem, index),
                Op::Sub => (address, ty, elem, index.wrapping_neg()),
                _ => return Ok(false),
            }
        }
        (Value::Num(n), Value::Ptr { address, ty, elem }) if op == Op::Add => (
            address,
            ty,
            elem,
            num_to_int_bits(n.num, IntType::I64) as i64,
        ),
        _ => return Ok(false),
    };
    let Some(size) = types.size_of(elem) else {
        return Ok(false);
    };
    let address = address.wrapping_add(index.wrapping_mul(size as i64) as usize);
    // Neither interning nor allocating runs with the table borrowed.
    drop(types_borrow);
    let ty = match ty {
        Some(ty) => ty,
        None => st.types_mut()?.pointer_to(elem),
    };
    // SAFETY: `l` is live with two free slots (caller); the payload holds a pointer.
    unsafe {
        let out = cdata::new_cdata(l, st, ty, 8, 8)?;
        out.cast::<usize>().write(address);
    }
    Ok(true)
}

/// Whether pointers to `a` and to `b` may be subtracted or ordered
/// (`lj_cconv_compatptr` with `CCF_IGNQUAL`): the element types, qualifiers aside, must
/// be the same kind and size (unlike conversions, `void` matches only `void`).
fn comparable(types: &TypeTable, a: TypeId, b: TypeId) -> bool {
    let (a, _) = types.unqualified(a);
    let (b, _) = types.unqualified(b);
    same_kind(types, a, b, 0)
}

// ---- errors ----------------------------------------------------------------------------

/// LuaJIT's error for an operator that applies to neither operand (`lj_carith_meta`).
///
/// # Safety
/// `l` is live with the operands at 1 and 2.
unsafe fn failure(l: *mut State, types: &TypeTable, op: Op, a: &Operand, b: &Operand) -> LuaError {
    for operand in [a, b] {
        if let Value::NotAConstant { enum_ty } = operand.value {
            return LuaError::msg(format!(
                "cannot convert 'string' to '{}'",
                types.type_name(enum_ty)
            ));
        }
    }
    // SAFETY: forwarded from the caller.
    let (x, y) = unsafe { (shown(l, types, 1, a), shown(l, types, 2, b)) };
    LuaError::msg(match op {
        Op::Len => format!("attempt to get length of '{x}'"),
        Op::Concat => format!("attempt to concatenate '{x}' and '{y}'"),
        _ if op.is_comparison() => format!("attempt to compare '{x}' with '{y}'"),
        _ => format!("attempt to perform arithmetic on '{x}' and '{y}'"),
    })
}

/// How an error message names the operand at `index`.
///
/// # Safety
/// `l` is live.
unsafe fn shown(l: *mut State, types: &TypeTable, index: c_int, operand: &Operand) -> String {
    match operand.shown {
        Shown::Type(ty) => types.type_name(ty),
        // SAFETY: `l` is live (caller).
        Shown::Lua => unsafe { lua::type_name(l, index) }.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = i64::MIN;

    #[test]
    fn division_never_traps() {
        assert_eq!(div_i64(7, 2), 3);
        assert_eq!(div_i64(-7, 2), -3);
        assert_eq!(div_i64(5, 0), MIN);
        assert_eq!(div_i64(0, 0), MIN);
        assert_eq!(div_i64(MIN, -1), MIN);
        assert_eq!(div_u64(5, 0), 1 << 63);
        assert_eq!(div_u64(u64::MAX, 2), u64::MAX / 2);
    }

    #[test]
    fn modulo_takes_the_sign_of_the_dividend() {
        assert_eq!(mod_i64(-7, 2), -1);
        assert_eq!(mod_i64(7, -2), 1);
        assert_eq!(mod_i64(5, 0), MIN);
        assert_eq!(mod_i64(MIN, -1), 0);
        assert_eq!(mod_i64(7, -1), 0);
        assert_eq!(mod_u64(7, 0), 1 << 63);
        assert_eq!(mod_u64(u64::MAX, 10), 5);
    }

    #[test]
    fn integer_powers() {
        assert_eq!(pow_i64(2, 10), 1024);
        assert_eq!(pow_i64(3, 40), 3i64.wrapping_pow(40));
        assert_eq!(pow_i64(3, 40), -6289078614652622815);
        assert_eq!(pow_i64(-2, 3), -8);
        assert_eq!(pow_i64(7, 0), 1);
        assert_eq!(pow_i64(0, 0), 1);
        assert_eq!(pow_i64(0, -1), i64::MAX);
        assert_eq!(pow_i64(1, -5), 1);
        assert_eq!(pow_i64(-1, -3), -1);
        assert_eq!(pow_i64(-1, -4), 1);
        assert_eq!(pow_i64(2, -1), 0);
        assert_eq!(pow_u64(2, 64), 0);
        assert_eq!(pow_u64(3, 1 << 63), {
            let mut x = 3u64;
            for _ in 0..63 {
                x = x.wrapping_mul(x);
            }
            x
        });
    }

    #[test]
    fn floor_division() {
        assert_eq!(floor_div_i64(7, 2), 3);
        assert_eq!(floor_div_i64(-7, 2), -4);
        assert_eq!(floor_div_i64(7, -2), -4);
        assert_eq!(floor_div_i64(-7, -2), 3);
        assert_eq!(floor_div_i64(-8, 2), -4);
        assert_eq!(floor_div_i64(1, 0), MIN);
        assert_eq!(floor_div_i64(MIN, -1), MIN);
    }

    #[test]
    fn shifts_follow_lua() {
        assert_eq!(shift_left(1, 63), 1 << 63);
        assert_eq!(shift_left(1, 64), 0);
        assert_eq!(shift_left(8, -3), 1);
        assert_eq!(shift_left(u64::MAX, -63), 1);
        assert_eq!(shift_left(u64::MAX, -64), 0);
        assert_eq!(shift_left(5, MIN), 0);
        assert_eq!(integer_result(Op::Shr, 1 << 63, 63, false), 1);
        assert_eq!(integer_result(Op::Shr, 4, MIN as u64, false), 0);
    }

    #[test]
    fn integer_results() {
        assert_eq!(integer_result(Op::Unm, 2, 2, true), u64::MAX - 1);
        assert_eq!(integer_result(Op::Sub, 5, 6, true), u64::MAX);
        assert_eq!(
            integer_result(Op::Mod, -7i64 as u64, 2, false),
            -1i64 as u64
        );
        assert_eq!(
            integer_result(Op::Mod, -7i64 as u64, 2, true),
            (-7i64 as u64) % 2
        );
        assert_eq!(
            integer_result(Op::IDiv, -7i64 as u64, 2, false),
            -4i64 as u64
        );
        assert_eq!(integer_result(Op::BNot, 0, 0, false), u64::MAX);
    }
}
