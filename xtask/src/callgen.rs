//! `cargo xtask callgen [--seed N] [--count N] [--out DIR]`: writes a C test library with
//! random signatures (`callgen.c`) and the Lua driver that calls every function of it
//! through `ffi.load` (`callgen.lua`), for tests/callgen.sh. Issue 4, item 4: the C
//! compiler is the oracle for calls.
//!
//! Every generated function folds each argument into a `uint64_t` checksum and either
//! returns it or returns a value derived from it (a scalar, a struct or union built field
//! by field, a string from a fixed table), writes it through an `uint64_t *out` first
//! parameter (`void` functions), or echoes one of its aggregate arguments back (and writes
//! the checksum through `out`). The driver computes the same checksum in Lua from the
//! values it passes, with `uint64_t` cdata arithmetic only, so that it runs on Lua 5.1/5.2
//! too (tests/callgen/callgen_rt.lua), and compares.
//!
//! The checksum, the same on both sides:
//!
//! ```text
//! mix(h, v)  = x + (x >> 29)   where x = (h + v) * 1099511628211   (mod 2^64)
//! h0         = 0xcbf29ce484222325
//! fold(h, a) = mix over the bit patterns ("parts") of each scalar inside a, in
//!              declaration order: integers, bool, enum, float, double, pointer are one
//!              part of their own width (zero-extended); complex numbers two (re, im);
//!              a long double two (x86-64's x87: the mantissa, then sign and exponent,
//!              16 bits; AArch64's IEEE quad: its low and high 64 bits, the high ones
//!              sign, exponent and the top 48 mantissa bits); structs fold their members (arrays element by element), unions only
//!              their active member, so padding never counts; a `const char *` folds
//!              its bytes, then its length.
//! step(h)    = mix(h, 0x2545F491): a derived value takes one step per part, from the
//!              checksum, and makes the part from it (low bits for integers, an exact
//!              float or double from high bits, one enum constant, ...).
//! ```
//!
//! Values are baked into the driver by this generator (deterministic from `--seed`), in
//! the forms LuaJIT's conversion rules accept for each place: Lua numbers, booleans,
//! strings and enum names for fixed parameters; for varargs (LuaJIT passes a Lua number as
//! `double`, a struct cdata as a pointer to it, a `float` cdata promoted to `double`)
//! integers boxed as cdata of their type, doubles as plain numbers.
//!
//! LuaJIT is the generator's own check (it must pass there), except for what it cannot
//! do, which the driver skips under LuaJIT and names in its summary: long double values
//! (it refuses such calls as NYI) and packed aggregates with
//! unaligned members by value (gcc passes and returns them in memory, psABI 3.2.3; LuaJIT
//! uses registers). The driver's dry run (`CALLGEN_DRY=1`) prints what every check
//! expects, computed in Lua alone, so the Lua half can be compared across interpreters;
//! `CALLGEN_TRACE=1` with a library built with `-DCALLGEN_TRACE` prints the checksum after
//! each argument on both sides.
//!
//! Callbacks (issue 5): after the `--count` functions `cg_f<i>`, `--count / 5` functions
//! `cg_c<i>` (drawn from a second random stream, so that adding them leaves the `cg_f`
//! functions of a seed unchanged) also take one or two function pointers
//! (`Ty::Callback`, a typedef `cg_cb<i>` of a random `CallbackType`: scalars of every
//! kind, `const char *`, structs and unions by value, complex, long double, up to 24
//! arguments so that some go on the stack, float/double mixes; any result). Where the
//! fold reaches such a parameter, the C function calls it once:
//!
//! ```text
//! k          = h                   (a copy: the callback's arguments are made from it)
//! c0, c1 ... = make(k) per parameter, in order (a `const char *` picks a string)
//! r          = callback(c0, c1, ...)
//! h          = fold(h, r)          (nothing for a `void` callback)
//! ```
//!
//! The driver passes a Lua function (as it is, as an `ffi.cast` callback, or as a cast one
//! whose function `cb:set` replaced) that folds what it receives from `h0` into `hc`
//! and returns the value made from `hc`; the driver expects `fold(h, make(fold(h0,
//! c0, c1, ...)))` and also compares each argument the function received with the
//! values made from `k`. Under LuaJIT the driver skips (and names) the callbacks it
//! refuses: aggregates, complex or long double as argument or result, more than 16
//! arguments. Where the ffi has no callbacks yet (`ffi.cast` of a Lua function fails)
//! the driver skips every `cg_c` function and says so in its summary.
//!
//! Records are also packed with `#pragma pack(push, n)` or `__attribute__((packed))`, and
//! members may carry `__attribute__((aligned(n)))`; structs that are not packed may have
//! bitfield members (integers of at most 4 bytes, folded as their value, made as C's
//! assignment truncates it). The C library asserts that the generator's layout of every
//! record is gcc's.
//!
//! The model is data (`Ty`, `Record`, `Signature`, `CallbackType`, `Value`), one emitter
//! per output (`c_source`, `lua_driver`).
//!
//! `--target` (a Rust triple: x86_64-... or aarch64-..., default the host's) chooses the
//! data model the program is written for: plain `char` is unsigned on AArch64, `long
//! double` is x87 extended on x86-64 and IEEE quad on AArch64, and what LuaJIT is known
//! to get wrong differs (the packed-aggregate rule is x86-64's). No value there needs a
//! number converted to an integer type it does not fit, where LuaJIT's answer depends on
//! the machine (a C cast of an out-of-range double: x86-64 gives INT_MIN, arm64
//! saturates): so `-2147483648` as an enum constant, which LuaJIT's 32-bit constant
//! expressions read as unsigned (making the enum `uint32_t` for it), is written
//! `(-2147483647 - 1)` there.
//! tests/callgen.sh passes it when it runs for another architecture (tests/target.sh).

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

/// What `cargo xtask callgen` was asked for.
pub struct Options {
    pub seed: u64,
    /// Number of generated test functions.
    pub count: usize,
    /// Directory for callgen.c and callgen.lua.
    pub out: PathBuf,
    pub target: Target,
}

/// The data model a program is written for (its C compiler's).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Target {
    /// x86-64 System V: signed `char` and `wchar_t`, x87 `long double`.
    X86_64,
    /// AArch64 Linux (AAPCS64): unsigned `char` and `wchar_t`, IEEE quad `long double`.
    Aarch64,
}

impl Target {
    /// The machine xtask itself was built for.
    fn host() -> Target {
        if cfg!(target_arch = "aarch64") {
            Target::Aarch64
        } else {
            Target::X86_64
        }
    }

    /// From a Rust target triple (its architecture part).
    fn from_triple(triple: &str) -> Option<Target> {
        match triple.split('-').next()? {
            "x86_64" => Some(Target::X86_64),
            "aarch64" => Some(Target::Aarch64),
            _ => None,
        }
    }
}

const USAGE: &str =
    "usage: cargo xtask callgen [--seed N] [--count N] [--out DIR] [--target TRIPLE]";

/// Calls (sets of argument values) per generated function.
const CALLS_PER_FUNCTION: usize = 2;
/// Strings a function returning `const char *` picks from (by checksum modulo).
const RETURN_STRINGS: usize = 16;
/// Largest aggregate generated, in bytes.
const MAX_RECORD_SIZE: u64 = 40;
/// One function taking callbacks (`cg_c<i>`) per this many plain ones.
const FUNCTIONS_PER_CALLBACK_FUNCTION: usize = 5;
/// Most arguments a callback has (LuaJIT's limit is 16: `callback_checkfunc`).
const MAX_CALLBACK_ARGS: usize = 24;
const LUAJIT_MAX_CALLBACK_ARGS: usize = 16;
/// Seeds the second random stream, the one of the callback functions.
const CALLBACK_STREAM: u64 = 0xC411_BAC5;

/// Parses the arguments after `callgen` and runs it.
pub fn main(root: &Path, args: &[String]) -> Result<(), String> {
    let mut options = Options {
        seed: 1,
        count: 300,
        out: root.join("target/callgen"),
        target: Target::host(),
    };
    let mut rest = args.iter();
    while let Some(flag) = rest.next() {
        let value = rest
            .next()
            .ok_or_else(|| format!("callgen: {flag} needs a value\n{USAGE}"))?;
        let bad = || format!("callgen: bad value for {flag}: {value}");
        match flag.as_str() {
            "--seed" => options.seed = parse_u64(value).ok_or_else(bad)?,
            "--count" => options.count = value.parse().map_err(|_| bad())?,
            "--out" => options.out = PathBuf::from(value),
            "--target" => options.target = Target::from_triple(value).ok_or_else(bad)?,
            _ => return Err(USAGE.to_owned()),
        }
    }
    run(root, &options)
}

/// A decimal or `0x` hexadecimal `u64`.
fn parse_u64(text: &str) -> Option<u64> {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// Generates the program for `options` and writes callgen.c and callgen.lua.
pub fn run(root: &Path, options: &Options) -> Result<(), String> {
    let program = Program::generate(options.seed, options.count, options.target);
    fs::create_dir_all(&options.out)
        .map_err(|err| format!("cannot create {}: {err}", options.out.display()))?;
    let runtime_dir = root.join("tests/callgen");
    let files = [
        ("callgen.c", program.c_source(options)),
        ("callgen.lua", program.lua_driver(options, &runtime_dir)),
    ];
    for (name, text) in files {
        let path = options.out.join(name);
        fs::write(&path, text).map_err(|err| format!("cannot write {}: {err}", path.display()))?;
        println!("wrote {}", path.display());
    }
    println!("{}", program.summary());
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Random numbers.

/// SplitMix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
/// 2014): one `u64` of state, every seed good.
struct Rng {
    state: u64,
}

impl Rng {
    fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`; the modulo bias is irrelevant here).
    fn below(&mut self, n: usize) -> usize {
        debug_assert!(n > 0, "Rng::below(0)");
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in `low..=high`.
    fn between(&mut self, low: usize, high: usize) -> usize {
        low + self.below(high - low + 1)
    }

    fn percent(&mut self, chance: usize) -> bool {
        self.below(100) < chance
    }

    /// One of `choices`, each as likely as its weight.
    fn weighted<T: Copy>(&mut self, choices: &[(usize, T)]) -> T {
        let total: usize = choices.iter().map(|&(weight, _)| weight).sum();
        let mut ticket = self.below(total);
        for &(weight, choice) in choices {
            if ticket < weight {
                return choice;
            }
            ticket -= weight;
        }
        unreachable!("ticket below the total weight")
    }
}

// ---------------------------------------------------------------------------------------
// The model: types, records, signatures, values.

/// An integer type as C and the ffi spell it.
struct IntKind {
    /// Short name for helper functions (`cg_fold_i8`) and the Lua kinds table (`K.i8`).
    key: &'static str,
    c: &'static str,
    size: u64,
    signed: bool,
}

const fn int(key: &'static str, c: &'static str, size: u64, signed: bool) -> IntKind {
    IntKind {
        key,
        c,
        size,
        signed,
    }
}

/// Every integer type tested, all x86-64 and AArch64 Linux sizes, with x86-64's
/// signedness (`char` is unsigned on AArch64: [`Program::int_signed`]).
const INTS: &[IntKind] = &[
    int("i8", "int8_t", 1, true),
    int("u8", "uint8_t", 1, false),
    int("i16", "int16_t", 2, true),
    int("u16", "uint16_t", 2, false),
    int("i32", "int32_t", 4, true),
    int("u32", "uint32_t", 4, false),
    int("i64", "int64_t", 8, true),
    int("u64", "uint64_t", 8, false),
    int("char", "char", 1, true),
    int("schar", "signed char", 1, true),
    int("uchar", "unsigned char", 1, false),
    int("short", "short", 2, true),
    int("ushort", "unsigned short", 2, false),
    int("int", "int", 4, true),
    int("uint", "unsigned int", 4, false),
    int("long", "long", 8, true),
    int("ulong", "unsigned long", 8, false),
    int("llong", "long long", 8, true),
    int("ullong", "unsigned long long", 8, false),
    int("size", "size_t", 8, false),
    int("ptrdiff", "ptrdiff_t", 8, true),
    int("intptr", "intptr_t", 8, true),
    int("uintptr", "uintptr_t", 8, false),
    int("wchar", "wchar_t", 4, true),
];

/// A scalar C type: one that folds into parts of its own bits.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Scalar {
    /// Index into [`INTS`].
    Int(usize),
    Bool,
    /// Index into [`Program::enums`].
    Enum(usize),
    Float,
    Double,
    ComplexFloat,
    ComplexDouble,
    /// x87 80-bit extended in 16 bytes, only its first 10 bytes a value (x86-64), or
    /// IEEE quad (AArch64).
    LongDouble,
    Pointer(Pointee),
}

/// What a pointer parameter or member points to (its value is what is tested).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Pointee {
    Void,
    /// Index into [`INTS`].
    Int(usize),
    Double,
    /// Index into [`Program::records`].
    Record(usize),
}

/// The type of a parameter, vararg, result or member.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ty {
    Scalar(Scalar),
    /// `const char *` from a Lua string (never a member).
    CString,
    /// A struct or union by value; index into [`Program::records`].
    Record(usize),
    /// A function pointer (`cg_cb<index>`) the function calls; index into
    /// [`Program::callbacks`]. Only a fixed parameter.
    Callback(usize),
}

/// How a scalar's part is derived from a checksum step (`make` on both sides).
#[derive(Clone, Copy)]
enum PartMake {
    /// The low bits of the step.
    Int,
    /// The lowest bit.
    Bool,
    /// One of the enum's constants, by the step modulo their number.
    Enum,
    /// `((step >> 40) - 2^23) / 64`, exact in a `float`.
    F32,
    /// `((step >> 11) - 2^52) / 2^20`, exact in a `double`.
    F64,
    /// The whole step as an address.
    Pointer,
    /// Long double: the step with bit 63 set (the mantissa, or its low half), then
    /// `16351 + step % 64` (a positive exponent near 1.0): x87's second part, of which
    /// only 16 bits count, or quad's top 16 bits (the 48 mantissa bits below are 0).
    LongDouble,
}

impl PartMake {
    fn lua_name(self) -> &'static str {
        match self {
            PartMake::Int => "int",
            PartMake::Bool => "bool",
            PartMake::Enum => "enum",
            PartMake::F32 => "f32",
            PartMake::F64 => "f64",
            PartMake::Pointer => "ptr",
            PartMake::LongDouble => "ld",
        }
    }
}

/// The unsigned C type of a part of `size` bytes.
fn part_type(size: u64) -> &'static str {
    match size {
        1 => "uint8_t",
        2 => "uint16_t",
        4 => "uint32_t",
        8 => "uint64_t",
        _ => unreachable!("no part of {size} bytes"),
    }
}

/// One member of a struct or union: `<ty> f<i>` or `<ty> f<i>[count]`, with
/// `__attribute__((aligned(n)))` after it when `aligned` is set.
struct Member {
    ty: Ty,
    count: Option<u64>,
    /// An alignment the member asks for beyond its type's (gcc: the larger one wins, and
    /// it holds inside a packed struct too).
    aligned: Option<u64>,
    /// `<ty> f<i> : bits`: a bitfield (an integer of at most 4 bytes, in a struct that
    /// is not packed, never an array).
    bits: Option<u64>,
}

/// How a record is packed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Pack {
    /// `#pragma pack(push, n)` around the declaration: members aligned to at most n.
    Pragma(u64),
    /// `struct __attribute__((packed))`: members at byte alignment, except that a
    /// member's own `aligned` attribute still applies.
    Attribute,
}

struct Record {
    union: bool,
    pack: Option<Pack>,
    members: Vec<Member>,
    /// Byte offset of each member.
    offsets: Vec<u64>,
    /// The union member that is set, passed and folded (the largest); 0 for structs.
    active: usize,
    size: u64,
    align: u64,
}

impl Record {
    /// The members that hold values: all of a struct's, the active one of a union's.
    fn live_members(&self) -> impl Iterator<Item = (usize, &Member)> {
        self.members
            .iter()
            .enumerate()
            .filter(move |&(index, _)| !self.union || index == self.active)
    }
}

struct EnumDecl {
    constants: Vec<i64>,
}

/// What a function gives back.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Ret {
    /// The checksum as `uint64_t`.
    Checksum,
    /// A value of this type made from the checksum (a `const char *` picks a string).
    Made(Ty),
    /// Parameter `n` (an aggregate) returned as received; the checksum goes to `*out`.
    Echo(usize),
    /// `void`; the checksum goes to `*out`.
    Void,
}

/// A C function type as generated: the model issue 5 reuses for callbacks.
struct Signature {
    ret: Ret,
    /// Fixed parameters after the `uint64_t *out` that [`Signature::has_out`] adds.
    params: Vec<Ty>,
    /// `Some(types)` for a variadic function: the types passed at every call.
    varargs: Option<Vec<Ty>>,
}

impl Signature {
    /// Whether the first parameter is `uint64_t *out`, where the checksum goes.
    fn has_out(&self) -> bool {
        matches!(self.ret, Ret::Echo(_) | Ret::Void)
    }
}

/// The type of a callback parameter: C calls it with values made from the checksum.
struct CallbackType {
    /// `None` for `void`; never a `const char *`.
    ret: Option<Ty>,
    params: Vec<Ty>,
}

/// How the driver passes the Lua function of a callback parameter.
#[derive(Clone, Copy)]
enum Passing {
    /// The Lua function itself: the ffi makes a (permanent) callback of it.
    Function,
    /// `ffi.cast(cg_cb<i>, f)`, freed after the call.
    Cast,
    /// A cast of another function, then `cb:set(f)`; freed after the call.
    Set,
}

impl Passing {
    fn lua_name(self) -> &'static str {
        match self {
            Passing::Function => "function",
            Passing::Cast => "cast",
            Passing::Set => "set",
        }
    }
}

struct Function {
    name: String,
    signature: Signature,
    calls: Vec<Call>,
}

/// One set of argument values.
struct Call {
    args: Vec<Value>,
    varargs: Vec<Value>,
}

/// A generated value, interpreted by its type.
enum Value {
    /// The bits of the integer (its width's worth); `boxed` passes it as a 64-bit cdata
    /// even when a Lua number would hold it.
    Int {
        bits: u64,
        boxed: bool,
    },
    Bool(bool),
    /// Constant number `index` of the enum, by name (a string) or by value.
    Enum {
        index: usize,
        by_name: bool,
    },
    /// A float or double (a float's is exact in `float`).
    Real(f64),
    Complex(f64, f64),
    /// The mantissa (explicit integer bit set; quad: its low 64 bits) and the sign and
    /// exponent of a long double.
    LongDouble(u64, u16),
    Pointer(PointerValue),
    Str(Vec<u8>),
    /// One entry per member; `None` for the inactive members of a union.
    Record(Vec<Option<MemberValue>>),
    /// A Lua function, made by the driver at the call.
    Callback(Passing),
}

enum MemberValue {
    One(Value),
    Array(Vec<Value>),
}

enum PointerValue {
    Null,
    Address(u64),
    /// A fresh zeroed array of that many elements (its address is what gets folded).
    Array(u64),
}

/// Where a value is written in the driver: the conversions differ.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Arg,
    Vararg,
    Member,
}

struct Program {
    seed: u64,
    target: Target,
    enums: Vec<EnumDecl>,
    records: Vec<Record>,
    callbacks: Vec<CallbackType>,
    functions: Vec<Function>,
    strings: Vec<Vec<u8>>,
}

// ---------------------------------------------------------------------------------------
// Generation.

impl Program {
    fn generate(seed: u64, count: usize, target: Target) -> Program {
        let mut rng = Rng::new(seed);
        let mut program = Program {
            seed,
            target,
            enums: Vec::new(),
            records: Vec::new(),
            callbacks: Vec::new(),
            functions: Vec::new(),
            strings: Vec::new(),
        };
        program.enums = (0..6).map(|index| gen_enum(&mut rng, index)).collect();
        program.add_fixed_records();
        let random_records = (count / 4).max(24);
        for _ in 0..random_records {
            let record = program.gen_record(&mut rng);
            program.records.push(record);
        }
        program.strings = (0..RETURN_STRINGS)
            .map(|index| {
                if index == 0 {
                    Vec::new()
                } else {
                    gen_string(&mut rng)
                }
            })
            .collect();
        for index in 0..count {
            let function = program.gen_function(&mut rng, format!("cg_f{index}"), &[]);
            program.functions.push(function);
        }
        let mut rng = Rng::new(seed ^ CALLBACK_STREAM);
        for index in 0..count / FUNCTIONS_PER_CALLBACK_FUNCTION {
            let mut callbacks = Vec::new();
            for _ in 0..rng.weighted(&[(8, 1), (2, 2)]) {
                let callback = program.gen_callback_type(&mut rng);
                program.callbacks.push(callback);
                callbacks.push(program.callbacks.len() - 1);
            }
            let function = program.gen_function(&mut rng, format!("cg_c{index}"), &callbacks);
            program.functions.push(function);
        }
        program
    }

    /// Records every seed has: the shapes the x86-64 classification treats specially.
    fn add_fixed_records(&mut self) {
        let int =
            |key: &str| Ty::Scalar(Scalar::Int(INTS.iter().position(|k| k.key == key).unwrap()));
        let float = Ty::Scalar(Scalar::Float);
        let double = Ty::Scalar(Scalar::Double);
        let one = |ty| Member {
            ty,
            count: None,
            aligned: None,
            bits: None,
        };
        let array = |ty, count| Member {
            ty,
            count: Some(count),
            aligned: None,
            bits: None,
        };
        let aligned = |ty, aligned| Member {
            ty,
            count: None,
            aligned: Some(aligned),
            bits: None,
        };
        let bitfield = |ty, bits| Member {
            ty,
            count: None,
            aligned: None,
            bits: Some(bits),
        };
        let pragma = |n| Some(Pack::Pragma(n));
        let shapes: Vec<(bool, Option<Pack>, Vec<Member>)> = vec![
            // SSE, one eightbyte.
            (false, None, vec![one(float), one(float)]),
            // SSE, then SSE in the low half of the second eightbyte.
            (false, None, vec![one(float), one(float), one(float)]),
            // SSE + INTEGER.
            (false, None, vec![one(double), one(int("i32"))]),
            // INTEGER + SSE.
            (false, None, vec![one(int("i64")), one(double)]),
            // float and int in one eightbyte: INTEGER.
            (false, None, vec![one(float), one(int("i32")), one(float)]),
            // Odd sizes.
            (false, None, vec![array(int("i8"), 3)]),
            (false, None, vec![one(int("u8"))]),
            (false, None, vec![array(int("u16"), 3), one(int("u8"))]),
            // Two SSE eightbytes from one array.
            (false, None, vec![array(float, 4)]),
            // Two INTEGER eightbytes.
            (false, None, vec![one(int("i64")), one(int("u64"))]),
            // More than 16 bytes: MEMORY.
            (false, None, vec![one(double), one(double), one(double)]),
            (false, None, vec![array(int("i32"), 9)]),
            // Unions mixing classes.
            (true, None, vec![one(float), one(int("i32"))]),
            (
                true,
                None,
                vec![one(double), one(int("i64")), array(float, 2)],
            ),
            (true, None, vec![array(int("u8"), 12), one(double)]),
            // Packed: unaligned members make it MEMORY.
            (false, pragma(1), vec![one(int("char")), one(int("i32"))]),
            (false, pragma(1), vec![one(int("u8")), one(double)]),
            (
                false,
                pragma(2),
                vec![one(int("i16")), one(double), one(int("i8"))],
            ),
            // __attribute__((packed)): unaligned members, MEMORY; all aligned, registers.
            (
                false,
                Some(Pack::Attribute),
                vec![one(int("u8")), one(int("i32")), one(float)],
            ),
            (
                false,
                Some(Pack::Attribute),
                vec![one(int("i32")), one(float)],
            ),
            (
                false,
                Some(Pack::Attribute),
                vec![one(int("i8")), one(double), array(int("u16"), 3)],
            ),
            // aligned members: padding the classification must skip, a 16-aligned
            // struct, one over 16 bytes (MEMORY), and aligned inside a packed struct.
            (false, None, vec![one(int("i8")), aligned(int("i32"), 8)]),
            (false, None, vec![one(float), aligned(float, 8)]),
            (false, None, vec![aligned(int("u8"), 16)]),
            (false, None, vec![one(double), aligned(int("i16"), 16)]),
            (
                false,
                Some(Pack::Attribute),
                vec![one(int("u8")), aligned(int("i32"), 4), one(int("i16"))],
            ),
            (true, None, vec![one(float), aligned(int("i32"), 8)]),
            // Bitfields: several in one unit, one that must start a new unit, and
            // bitfields next to a double (INTEGER then SSE).
            (
                false,
                None,
                vec![
                    bitfield(int("u8"), 3),
                    bitfield(int("i32"), 5),
                    bitfield(int("u16"), 9),
                ],
            ),
            (
                false,
                None,
                vec![
                    bitfield(int("i32"), 30),
                    bitfield(int("u32"), 7),
                    one(double),
                ],
            ),
            (
                false,
                None,
                vec![
                    one(int("i8")),
                    bitfield(int("short"), 4),
                    bitfield(int("uint"), 17),
                    one(float),
                ],
            ),
            // Complex members.
            (false, None, vec![one(Ty::Scalar(Scalar::ComplexFloat))]),
            (false, None, vec![one(Ty::Scalar(Scalar::ComplexDouble))]),
            (
                false,
                None,
                vec![one(Ty::Scalar(Scalar::Bool)), one(int("u16"))],
            ),
            (
                false,
                None,
                vec![one(Ty::Scalar(Scalar::Pointer(Pointee::Void))), one(float)],
            ),
        ];
        for (union, pack, members) in shapes {
            let record = self.finish_record(union, pack, members);
            self.records.push(record);
        }
        // Nested: a struct of a struct, then one with the nested aggregate in an array.
        let inner = 0;
        let nested = vec![one(Ty::Record(inner)), one(double)];
        let record = self.finish_record(false, None, nested);
        self.records.push(record);
        let nested_array = vec![array(Ty::Record(inner), 2), one(int("i32"))];
        let record = self.finish_record(false, None, nested_array);
        self.records.push(record);
    }

    /// Computes the layout of a record as gcc does and picks a union's active member.
    fn finish_record(&self, union: bool, pack: Option<Pack>, members: Vec<Member>) -> Record {
        let mut offset: u64 = 0;
        let mut size: u64 = 0;
        let mut align: u64 = 1;
        let mut active = 0;
        let mut active_size = 0;
        let mut offsets = Vec::new();
        // Bits used so far, for bitfields (gcc, x86-64: a bitfield never straddles a
        // boundary of its type's alignment; it adds that alignment to the record's).
        let mut bit_offset: u64 = 0;
        for (index, member) in members.iter().enumerate() {
            if let (Some(bits), false) = (member.bits, union) {
                let (_, type_align) = self.size_align(member.ty);
                let unit = 8 * type_align;
                if bit_offset / unit != (bit_offset + bits - 1) / unit {
                    bit_offset = bit_offset.next_multiple_of(unit);
                }
                offsets.push(bit_offset / 8);
                bit_offset += bits;
                align = align.max(type_align);
                offset = bit_offset.div_ceil(8);
                size = offset;
                continue;
            }
            let (member_size, natural_align) = self.size_align(member.ty);
            let member_align = match pack {
                None => natural_align.max(member.aligned.unwrap_or(1)),
                Some(Pack::Pragma(n)) => natural_align.max(member.aligned.unwrap_or(1)).min(n),
                Some(Pack::Attribute) => member.aligned.unwrap_or(1),
            };
            let total = member_size * member.count.unwrap_or(1);
            align = align.max(member_align);
            if union {
                offsets.push(0);
                size = size.max(total);
                if total > active_size {
                    active = index;
                    active_size = total;
                }
            } else {
                offset = offset.next_multiple_of(member_align);
                offsets.push(offset);
                offset += total;
                bit_offset = 8 * offset;
                size = offset;
            }
        }
        Record {
            union,
            pack,
            members,
            offsets,
            active,
            size: size.next_multiple_of(align),
            align,
        }
    }

    /// Whether a scalar inside `ty`, placed at `offset` in an argument, sits off its
    /// natural alignment (a packed aggregate): gcc then passes and returns the whole
    /// aggregate in memory (x86-64 psABI 3.2.3, "unaligned fields"), LuaJIT in registers.
    fn misaligned(&self, ty: Ty, offset: u64) -> bool {
        match ty {
            Ty::Record(index) => {
                let record = &self.records[index];
                record
                    .members
                    .iter()
                    .zip(&record.offsets)
                    // A bitfield's bits sit anywhere in its unit; that is not packing.
                    .filter(|(member, _)| member.bits.is_none())
                    .any(|(member, member_offset)| {
                        let element_size = self.size_align(member.ty).0;
                        (0..member.count.unwrap_or(1)).any(|element| {
                            self.misaligned(
                                member.ty,
                                offset + member_offset + element * element_size,
                            )
                        })
                    })
            }
            _ => !offset.is_multiple_of(self.size_align(ty).1),
        }
    }

    /// Whether `ty` is an aggregate whose scalars are all floating-point (an HFA
    /// candidate, AAPCS64 5.9.5) with an array member at any depth: Debian's LuaJIT
    /// 2.1.0-beta3 for arm64 passes `struct { float f[2]; }` as 0 and crashes on some
    /// (`struct { struct { float a, b; } x; float c; }` and `int f[4]` work).
    fn floating_with_array(&self, ty: Ty) -> bool {
        fn floating_only(program: &Program, ty: Ty) -> bool {
            match ty {
                Ty::Scalar(
                    Scalar::Float | Scalar::Double | Scalar::ComplexFloat | Scalar::ComplexDouble,
                ) => true,
                Ty::Record(index) => program.records[index]
                    .members
                    .iter()
                    .all(|member| floating_only(program, member.ty)),
                _ => false,
            }
        }
        fn has_array(program: &Program, ty: Ty) -> bool {
            match ty {
                Ty::Record(index) => program.records[index]
                    .members
                    .iter()
                    .any(|member| member.count.is_some() || has_array(program, member.ty)),
                _ => false,
            }
        }
        matches!(ty, Ty::Record(_)) && floating_only(self, ty) && has_array(self, ty)
    }

    /// The HFA `ty` is (AAPCS64 5.9.5.1), as (whether its members are `float`, their
    /// number), counting a complex member as two; unions as their largest member.
    fn hfa(&self, ty: Ty) -> Option<(bool, u64)> {
        let record = match ty {
            Ty::Record(index) => &self.records[index],
            _ => return None,
        };
        let mut kind = None;
        let mut count = 0;
        for member in &record.members {
            let (is_float, n) = match member.ty {
                Ty::Scalar(Scalar::Float) => (true, 1),
                Ty::Scalar(Scalar::Double) => (false, 1),
                Ty::Scalar(Scalar::ComplexFloat) => (true, 2),
                Ty::Scalar(Scalar::ComplexDouble) => (false, 2),
                Ty::Record(_) => self.hfa(member.ty)?,
                _ => return None,
            };
            if member.bits.is_some() || kind.is_some_and(|kind| kind != is_float) {
                return None;
            }
            kind = Some(is_float);
            let n = n * member.count.unwrap_or(1);
            count = if record.union {
                count.max(n)
            } else {
                count + n
            };
        }
        let is_float = kind?;
        let element = if is_float { 4 } else { 8 };
        // Padding (an aligned or packed member) makes it no HFA.
        (count <= 4 && record.size == count * element).then_some((is_float, count))
    }

    /// Whether an argument is an HFA of one or three `float`s whose last register is v7
    /// (AAPCS64 5.4.2, C.2-C.3: v-registers in order, an HFA whole or not at all):
    /// Debian's LuaJIT 2.1.0-beta3 for arm64 then overwrites the first integer argument
    /// register (`int f(char c, double, double, double, double, double, struct { float
    /// a, b, c; } s)` receives `c` as 0).
    fn odd_float_hfa_ends_at_v7(&self, signature: &Signature) -> bool {
        let mut next = 0; // The next free v-register (NSRN).
        for &ty in signature
            .params
            .iter()
            .chain(signature.varargs.iter().flatten())
        {
            let registers = match ty {
                Ty::Scalar(Scalar::Float | Scalar::Double | Scalar::LongDouble) => 1,
                Ty::Scalar(Scalar::ComplexFloat | Scalar::ComplexDouble) => 2,
                Ty::Record(_) => match self.hfa(ty) {
                    Some((true, count)) if count % 2 == 1 && next + count == 8 => return true,
                    Some((_, count)) => count,
                    None => 0,
                },
                _ => 0,
            };
            next = if next + registers <= 8 {
                next + registers
            } else {
                8
            };
        }
        false
    }

    /// Whether `ty` is or holds a long double (in any member).
    fn has_long_double(&self, ty: Ty) -> bool {
        match ty {
            Ty::Scalar(scalar) => scalar == Scalar::LongDouble,
            // A callback's own long double is a callback reason (`callback_luajit_skip`).
            Ty::CString | Ty::Callback(_) => false,
            Ty::Record(index) => self.records[index]
                .members
                .iter()
                .any(|member| self.has_long_double(member.ty)),
        }
    }

    /// Whether a function passes or returns a long double: LuaJIT refuses such calls
    /// (NYI; the dry run has them); the driver flags them `long_double`.
    fn needs_long_double(&self, signature: &Signature) -> bool {
        let ret = match signature.ret {
            Ret::Made(ty) => Some(ty),
            Ret::Echo(index) => Some(signature.params[index]),
            Ret::Checksum | Ret::Void => None,
        };
        signature
            .params
            .iter()
            .chain(signature.varargs.iter().flatten())
            .chain(&ret)
            .any(|&ty| self.has_long_double(ty))
    }

    /// Whether `ty` is or holds (in any member, through callbacks too) an aggregate
    /// with an `aligned` member.
    fn has_aligned_member(&self, ty: Ty) -> bool {
        match ty {
            Ty::Scalar(_) | Ty::CString => false,
            Ty::Callback(index) => {
                let callback = &self.callbacks[index];
                callback
                    .params
                    .iter()
                    .chain(&callback.ret)
                    .any(|&ty| self.has_aligned_member(ty))
            }
            Ty::Record(index) => self.records[index]
                .members
                .iter()
                .any(|member| member.aligned.is_some() || self.has_aligned_member(member.ty)),
        }
    }

    /// Whether a function passes or returns (or its callbacks take or give) an aggregate
    /// with an aligned member by value; the driver flags them `aligned`.
    fn needs_aligned_member(&self, signature: &Signature) -> bool {
        let ret = match signature.ret {
            Ret::Made(ty) => Some(ty),
            Ret::Echo(index) => Some(signature.params[index]),
            Ret::Checksum | Ret::Void => None,
        };
        signature
            .params
            .iter()
            .chain(signature.varargs.iter().flatten())
            .chain(&ret)
            .any(|&ty| self.has_aligned_member(ty))
    }

    /// Why LuaJIT cannot be the reference for a function, if it cannot.
    fn luajit_skip(&self, signature: &Signature) -> Option<&'static str> {
        if self.needs_long_double(signature) {
            return Some("long double (LuaJIT: NYI)");
        }
        if self.needs_aligned_member(signature) {
            return Some("an aggregate with an aligned member by value (LuaJIT crashes on some)");
        }
        let ret = match signature.ret {
            Ret::Made(ty) => Some(ty),
            Ret::Echo(index) => Some(signature.params[index]),
            Ret::Checksum | Ret::Void => None,
        };
        // AAPCS64 passes a composite by its size alone, packed or not (5.4.2): no such
        // disagreement there.
        let in_registers_by_luajit = |ty: Ty| {
            self.target == Target::X86_64
                && matches!(ty, Ty::Record(_))
                && self.size_align(ty).0 <= 16
                && self.misaligned(ty, 0)
        };
        if signature
            .params
            .iter()
            .chain(&ret)
            .any(|&ty| in_registers_by_luajit(ty))
        {
            return Some("a packed aggregate with unaligned members by value (LuaJIT uses registers, gcc memory)");
        }
        if self.target == Target::Aarch64
            && signature
                .params
                .iter()
                .chain(&ret)
                .any(|&ty| self.floating_with_array(ty))
        {
            return Some("a floating-point aggregate with an array member by value (LuaJIT arm64 passes and returns it wrong)");
        }
        if self.target == Target::Aarch64 && self.odd_float_hfa_ends_at_v7(signature) {
            return Some(
                "a 1- or 3-float HFA in v-registers up to v7 (LuaJIT arm64 overwrites x0)",
            );
        }
        signature.params.iter().find_map(|&ty| match ty {
            Ty::Callback(index) => self.callback_luajit_skip(&self.callbacks[index]),
            _ => None,
        })
    }

    /// Why LuaJIT refuses to make a callback of this type (`callback_checkfunc` in
    /// lj_ccallback.c accepts only integers, bool, enums, float, double and pointers, at
    /// most 16 of them, and no varargs), if it does.
    fn callback_luajit_skip(&self, callback: &CallbackType) -> Option<&'static str> {
        let refused = |ty: Ty| {
            matches!(
                ty,
                Ty::Record(_)
                    | Ty::Scalar(Scalar::ComplexFloat | Scalar::ComplexDouble | Scalar::LongDouble)
            )
        };
        if callback
            .params
            .iter()
            .chain(&callback.ret)
            .any(|&ty| refused(ty))
        {
            Some("a callback taking or returning an aggregate, complex or long double (LuaJIT: cannot convert 'function')")
        } else if callback.params.len() > LUAJIT_MAX_CALLBACK_ARGS {
            Some("a callback with more than 16 arguments (LuaJIT: cannot convert 'function')")
        } else {
            None
        }
    }

    /// Whether a function takes a callback.
    fn takes_callback(signature: &Signature) -> bool {
        signature
            .params
            .iter()
            .any(|ty| matches!(ty, Ty::Callback(_)))
    }

    /// Whether the integer type `INTS[index]` is signed on the target, as the ffi sees
    /// it: LuaJIT's `wchar_t` is a signed 32-bit int on every Linux, gcc's unsigned on
    /// AArch64 (values are written as LuaJIT reads them back; the bits are the same).
    fn int_signed(&self, index: usize) -> bool {
        let kind = &INTS[index];
        match (self.target, kind.key) {
            (Target::Aarch64, "char") => false,
            _ => kind.signed,
        }
    }

    fn size_align(&self, ty: Ty) -> (u64, u64) {
        match ty {
            Ty::Scalar(Scalar::Int(index)) => (INTS[index].size, INTS[index].size),
            Ty::Scalar(Scalar::Bool) => (1, 1),
            Ty::Scalar(Scalar::Enum(_) | Scalar::Float) => (4, 4),
            Ty::Scalar(Scalar::Double | Scalar::Pointer(_)) | Ty::CString | Ty::Callback(_) => {
                (8, 8)
            }
            Ty::Scalar(Scalar::ComplexFloat) => (8, 4),
            Ty::Scalar(Scalar::ComplexDouble) => (16, 8),
            Ty::Scalar(Scalar::LongDouble) => (16, 16),
            Ty::Record(index) => (self.records[index].size, self.records[index].align),
        }
    }

    /// A random struct or union of at most [`MAX_RECORD_SIZE`] bytes whose aggregate
    /// members are earlier records.
    fn gen_record(&self, rng: &mut Rng) -> Record {
        let union = rng.percent(15);
        let pack = match union || !rng.percent(12) {
            true => None,
            false => match rng.percent(30) {
                true => Some(Pack::Attribute),
                false => Some(Pack::Pragma(rng.weighted(&[(6, 1), (3, 2), (1, 4)]))),
            },
        };
        for _ in 0..32 {
            let member_count = if union {
                rng.between(2, 4)
            } else {
                rng.between(1, 6)
            };
            let members = (0..member_count)
                .map(|_| {
                    let ty = self.gen_member_type(rng);
                    let element_size = self.size_align(ty).0;
                    let count = match rng.percent(22) {
                        true => {
                            Some(rng.between(1, (24 / element_size as usize).clamp(1, 5)) as u64)
                        }
                        false => None,
                    };
                    // An aligned attribute now and then (not under #pragma pack, which
                    // would cap it), larger than the type's own alignment.
                    let natural = self.size_align(ty).1;
                    let aligned = match matches!(pack, Some(Pack::Pragma(_))) || !rng.percent(8) {
                        true => None,
                        false => Some(rng.weighted(&[(3, 4), (3, 8), (1, 16)]).max(natural * 2)),
                    };
                    // A bitfield now and then, in a struct that is not packed.
                    let bits = match (
                        ty,
                        union || pack.is_some() || count.is_some() || aligned.is_some(),
                    ) {
                        (Ty::Scalar(Scalar::Int(int)), false)
                            if INTS[int].size <= 4 && rng.percent(20) =>
                        {
                            Some(rng.between(1, 8 * INTS[int].size as usize) as u64)
                        }
                        _ => None,
                    };
                    // A `wchar_t` bitfield is unsigned for gcc on AArch64 and signed
                    // for LuaJIT: their values differ (drawn all the same, so that the
                    // rest of the program stays the one of the seed).
                    let bits = match ty {
                        Ty::Scalar(Scalar::Int(int))
                            if self.target == Target::Aarch64 && INTS[int].key == "wchar" =>
                        {
                            None
                        }
                        _ => bits,
                    };
                    Member {
                        ty,
                        count,
                        aligned,
                        bits,
                    }
                })
                .collect();
            let record = self.finish_record(union, pack, members);
            if record.size <= MAX_RECORD_SIZE {
                return record;
            }
        }
        let member = Member {
            ty: Ty::Scalar(Scalar::Int(rng.below(INTS.len()))),
            count: None,
            aligned: None,
            bits: None,
        };
        self.finish_record(union, pack, vec![member])
    }

    fn gen_member_type(&self, rng: &mut Rng) -> Ty {
        if rng.percent(15) {
            let small: Vec<usize> = (0..self.records.len())
                .filter(|&index| self.records[index].size <= 24)
                .collect();
            if !small.is_empty() {
                return Ty::Record(small[rng.below(small.len())]);
            }
        }
        Ty::Scalar(self.gen_scalar(
            rng,
            &[
                (40, ScalarClass::Int),
                (18, ScalarClass::Float),
                (14, ScalarClass::Double),
                (5, ScalarClass::Bool),
                (6, ScalarClass::Enum),
                (5, ScalarClass::Complex),
                (1, ScalarClass::LongDouble),
                (6, ScalarClass::Pointer),
            ],
        ))
    }

    fn gen_scalar(&self, rng: &mut Rng, weights: &[(usize, ScalarClass)]) -> Scalar {
        match rng.weighted(weights) {
            ScalarClass::Int => Scalar::Int(rng.below(INTS.len())),
            ScalarClass::Float => Scalar::Float,
            ScalarClass::Double => Scalar::Double,
            ScalarClass::Bool => Scalar::Bool,
            ScalarClass::Enum => Scalar::Enum(rng.below(self.enums.len())),
            ScalarClass::Complex => match rng.percent(50) {
                true => Scalar::ComplexFloat,
                false => Scalar::ComplexDouble,
            },
            ScalarClass::LongDouble => Scalar::LongDouble,
            ScalarClass::Pointer => Scalar::Pointer(match rng.below(4) {
                0 => Pointee::Void,
                1 => Pointee::Int(rng.below(INTS.len())),
                2 => Pointee::Double,
                _ => Pointee::Record(rng.below(self.records.len())),
            }),
        }
    }

    /// A parameter or vararg type; `small` keeps aggregates to 16 bytes (for functions
    /// with many arguments, where registers run out).
    fn gen_param_type(&self, rng: &mut Rng, small: bool) -> Ty {
        let aggregate_weight = if small { 12 } else { 26 };
        match rng.weighted(&[(74, false), (aggregate_weight, true)]) {
            true => {
                let limit = if small { 16 } else { MAX_RECORD_SIZE };
                let fitting: Vec<usize> = (0..self.records.len())
                    .filter(|&index| self.records[index].size <= limit)
                    .collect();
                Ty::Record(fitting[rng.below(fitting.len())])
            }
            false => {
                if !small && rng.percent(7) {
                    return Ty::CString;
                }
                Ty::Scalar(self.gen_scalar(
                    rng,
                    &[
                        (40, ScalarClass::Int),
                        (14, ScalarClass::Float),
                        (16, ScalarClass::Double),
                        (5, ScalarClass::Bool),
                        (6, ScalarClass::Enum),
                        (6, ScalarClass::Complex),
                        (1, ScalarClass::LongDouble),
                        (9, ScalarClass::Pointer),
                    ],
                ))
            }
        }
    }

    /// A random function named `name`; `callbacks` (indexes into [`Program::callbacks`])
    /// become parameters at random places. Without callbacks it draws exactly what it
    /// drew before callbacks existed, so that a seed's `cg_f` functions stay the same.
    fn gen_function(&self, rng: &mut Rng, name: String, callbacks: &[usize]) -> Function {
        #[derive(Clone, Copy)]
        enum Shape {
            Plain,
            Many,
            Variadic,
        }
        let shape = rng.weighted(&[(70, Shape::Plain), (12, Shape::Many), (18, Shape::Variadic)]);
        let param_count = match shape {
            Shape::Plain => rng.weighted(&[
                (3, 0),
                (10, 1),
                (10, 2),
                (10, 3),
                (6, 4),
                (5, 6),
                (4, 8),
                (2, 12),
            ]),
            Shape::Many => rng.between(24, 32),
            Shape::Variadic => rng.between(0, 3),
        };
        let small = matches!(shape, Shape::Many);
        let mut params: Vec<Ty> = (0..param_count)
            .map(|_| self.gen_param_type(rng, small))
            .collect();
        for &callback in callbacks {
            let position = rng.between(0, params.len());
            params.insert(position, Ty::Callback(callback));
        }
        let varargs = match shape {
            Shape::Variadic => Some(
                (0..rng.between(1, 8))
                    .map(|_| self.gen_param_type(rng, false))
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        };
        #[derive(Clone, Copy)]
        enum RetKind {
            Checksum,
            Scalar,
            Aggregate,
            String,
            Void,
            Echo,
        }
        let aggregate_params: Vec<usize> = (0..params.len())
            .filter(|&index| matches!(params[index], Ty::Record(_)))
            .collect();
        let ret = match rng.weighted(&[
            (40, RetKind::Checksum),
            (25, RetKind::Scalar),
            (18, RetKind::Aggregate),
            (4, RetKind::String),
            (6, RetKind::Void),
            (7, RetKind::Echo),
        ]) {
            RetKind::Echo if aggregate_params.is_empty() => Ret::Checksum,
            RetKind::Echo => Ret::Echo(aggregate_params[rng.below(aggregate_params.len())]),
            RetKind::Checksum => Ret::Checksum,
            RetKind::Scalar => Ret::Made(Ty::Scalar(self.gen_scalar(
                rng,
                &[
                    (40, ScalarClass::Int),
                    (12, ScalarClass::Float),
                    (12, ScalarClass::Double),
                    (6, ScalarClass::Bool),
                    (8, ScalarClass::Enum),
                    (10, ScalarClass::Complex),
                    (2, ScalarClass::LongDouble),
                    (8, ScalarClass::Pointer),
                ],
            ))),
            RetKind::Aggregate => Ret::Made(Ty::Record(rng.below(self.records.len()))),
            RetKind::String => Ret::Made(Ty::CString),
            RetKind::Void => Ret::Void,
        };
        if varargs.is_some() && params.is_empty() && !matches!(ret, Ret::Void) {
            // C needs a named parameter before `...` (`out` is one).
            params.push(Ty::Scalar(Scalar::Int(rng.below(INTS.len()))));
        }
        let signature = Signature {
            ret,
            params,
            varargs,
        };
        let calls = (0..CALLS_PER_FUNCTION)
            .map(|_| Call {
                args: signature
                    .params
                    .iter()
                    .map(|&ty| self.gen_value(rng, ty, Place::Arg))
                    .collect(),
                varargs: signature
                    .varargs
                    .iter()
                    .flatten()
                    .map(|&ty| self.gen_value(rng, ty, Place::Vararg))
                    .collect(),
            })
            .collect();
        Function {
            name,
            signature,
            calls,
        }
    }

    /// A random callback type: mostly ones LuaJIT can make (scalars, up to 16 of them,
    /// float/double mixes), the rest with aggregates, complex, long double or 17 to
    /// [`MAX_CALLBACK_ARGS`] arguments.
    fn gen_callback_type(&self, rng: &mut Rng) -> CallbackType {
        #[derive(Clone, Copy, PartialEq)]
        enum Shape {
            /// A few LuaJIT scalars.
            Scalars,
            /// 7 to 16 of them: stack arguments once six integers or eight floats are in.
            Many,
            /// floats and doubles with a few integers.
            FloatMix,
            /// A few of anything, aggregates by value included.
            Any,
            /// More arguments than LuaJIT takes, aggregates of at most 16 bytes.
            Huge,
        }
        const LUAJIT_SCALARS: &[(usize, ScalarClass)] = &[
            (40, ScalarClass::Int),
            (14, ScalarClass::Float),
            (16, ScalarClass::Double),
            (5, ScalarClass::Bool),
            (6, ScalarClass::Enum),
            (9, ScalarClass::Pointer),
        ];
        const FLOAT_MIX: &[(usize, ScalarClass)] = &[
            (15, ScalarClass::Int),
            (40, ScalarClass::Float),
            (40, ScalarClass::Double),
            (5, ScalarClass::Bool),
        ];
        const ANY_SCALARS: &[(usize, ScalarClass)] = &[
            (30, ScalarClass::Int),
            (12, ScalarClass::Float),
            (12, ScalarClass::Double),
            (4, ScalarClass::Bool),
            (5, ScalarClass::Enum),
            (14, ScalarClass::Complex),
            (8, ScalarClass::LongDouble),
            (6, ScalarClass::Pointer),
        ];
        let shape = rng.weighted(&[
            (25, Shape::Scalars),
            (15, Shape::Many),
            (13, Shape::FloatMix),
            (30, Shape::Any),
            (17, Shape::Huge),
        ]);
        let count = match shape {
            Shape::Scalars | Shape::Any => {
                rng.weighted(&[(1, 0), (4, 1), (5, 2), (5, 3), (3, 4), (2, 6)])
            }
            Shape::Many => rng.between(7, LUAJIT_MAX_CALLBACK_ARGS),
            Shape::FloatMix => rng.between(6, 14),
            Shape::Huge => rng.between(LUAJIT_MAX_CALLBACK_ARGS + 1, MAX_CALLBACK_ARGS),
        };
        let params = (0..count)
            .map(|_| match shape {
                Shape::Scalars | Shape::Many if rng.percent(5) => Ty::CString,
                Shape::Scalars | Shape::Many => Ty::Scalar(self.gen_scalar(rng, LUAJIT_SCALARS)),
                Shape::FloatMix => Ty::Scalar(self.gen_scalar(rng, FLOAT_MIX)),
                Shape::Any | Shape::Huge => {
                    let limit = if shape == Shape::Huge {
                        16
                    } else {
                        MAX_RECORD_SIZE
                    };
                    if rng.percent(30) {
                        let fitting: Vec<usize> = (0..self.records.len())
                            .filter(|&index| self.records[index].size <= limit)
                            .collect();
                        Ty::Record(fitting[rng.below(fitting.len())])
                    } else {
                        Ty::Scalar(self.gen_scalar(rng, ANY_SCALARS))
                    }
                }
            })
            .collect();
        let ret = match shape {
            Shape::Scalars | Shape::Many | Shape::FloatMix => match rng.percent(12) {
                true => None,
                false => Some(Ty::Scalar(self.gen_scalar(
                    rng,
                    match shape {
                        Shape::FloatMix => FLOAT_MIX,
                        _ => LUAJIT_SCALARS,
                    },
                ))),
            },
            Shape::Any | Shape::Huge => match rng.below(20) {
                0 => None,
                1..=10 => Some(Ty::Record(rng.below(self.records.len()))),
                _ => Some(Ty::Scalar(self.gen_scalar(rng, ANY_SCALARS))),
            },
        };
        CallbackType { ret, params }
    }

    fn gen_value(&self, rng: &mut Rng, ty: Ty, place: Place) -> Value {
        match ty {
            Ty::Scalar(Scalar::Int(index)) => {
                let kind = &INTS[index];
                let width = kind.size * 8;
                let mask = if width == 64 {
                    u64::MAX
                } else {
                    (1 << width) - 1
                };
                let bits = match rng.below(9) {
                    0 => 0,
                    1 => 1,
                    2 => u64::MAX,
                    3 => 1 << (width - 1),
                    4 => (1 << (width - 1)) - 1,
                    5 => rng.below(1000) as u64,
                    6 => (rng.below(1000) as u64).wrapping_neg(),
                    _ => rng.next_u64(),
                } & mask;
                Value::Int {
                    bits,
                    boxed: kind.size == 8 && rng.percent(40),
                }
            }
            Ty::Scalar(Scalar::Bool) => Value::Bool(rng.percent(50)),
            Ty::Scalar(Scalar::Enum(index)) => Value::Enum {
                index: rng.below(self.enums[index].constants.len()),
                by_name: place != Place::Vararg && rng.percent(40),
            },
            Ty::Scalar(Scalar::Float) => Value::Real(gen_f32(rng)),
            Ty::Scalar(Scalar::Double) => Value::Real(gen_f64(rng)),
            Ty::Scalar(Scalar::ComplexFloat) => Value::Complex(gen_f32(rng), gen_f32(rng)),
            Ty::Scalar(Scalar::ComplexDouble) => Value::Complex(gen_f64(rng), gen_f64(rng)),
            Ty::Scalar(Scalar::LongDouble) => {
                // A normal number: integer bit set, exponent neither 0 nor all ones.
                let exponent = rng.between(1, 0x7ffe) as u16;
                let sign = if rng.percent(50) { 0x8000 } else { 0 };
                Value::LongDouble(rng.next_u64() | 1 << 63, sign | exponent)
            }
            Ty::Scalar(Scalar::Pointer(_)) => Value::Pointer(match rng.below(10) {
                0 | 1 => PointerValue::Null,
                2 | 3 if place != Place::Member => PointerValue::Array(rng.between(1, 4) as u64),
                4..=6 => PointerValue::Address(rng.next_u64() & 0x7fff_ffff_fff8),
                _ => PointerValue::Address(rng.next_u64()),
            }),
            Ty::CString => Value::Str(gen_string(rng)),
            Ty::Callback(_) => Value::Callback(rng.weighted(&[
                (3, Passing::Function),
                (5, Passing::Cast),
                (2, Passing::Set),
            ])),
            Ty::Record(index) => {
                let record = &self.records[index];
                let values = record
                    .members
                    .iter()
                    .enumerate()
                    .map(|(member_index, member)| {
                        if record.union && member_index != record.active {
                            return None;
                        }
                        Some(match member.count {
                            None => MemberValue::One(self.gen_value(rng, member.ty, Place::Member)),
                            Some(count) => MemberValue::Array(
                                (0..count)
                                    .map(|_| self.gen_value(rng, member.ty, Place::Member))
                                    .collect(),
                            ),
                        })
                    })
                    .collect();
                Value::Record(values)
            }
        }
    }
}

#[derive(Clone, Copy)]
enum ScalarClass {
    Int,
    Float,
    Double,
    Bool,
    Enum,
    Complex,
    LongDouble,
    Pointer,
}

fn gen_enum(rng: &mut Rng, index: usize) -> EnumDecl {
    let count = rng.between(1, 6);
    let mut constants = Vec::new();
    while constants.len() < count {
        let value = match index % 3 {
            // Non-negative: gcc makes the enum `unsigned int`.
            0 => rng.below(1000) as i64,
            1 => rng.below(2000) as i64 - 1000,
            _ => match rng.below(3) {
                0 => i32::MIN as i64,
                1 => i32::MAX as i64,
                _ => rng.next_u64() as i32 as i64,
            },
        };
        if !constants.contains(&value) {
            constants.push(value);
        }
    }
    EnumDecl { constants }
}

/// A value exact in `float`, in its normal range (no NaN, infinity or -0).
fn gen_f32(rng: &mut Rng) -> f64 {
    match rng.below(8) {
        0 => 0.0,
        1 => 1.0,
        2 => -2.5,
        _ => {
            let mantissa = rng.below(1 << 24) as f64;
            let exponent = rng.between(0, 50) as i32 - 40;
            let value = mantissa * 2f64.powi(exponent);
            if rng.percent(50) {
                -value
            } else {
                value
            }
        }
    }
}

/// A finite double (no NaN, infinity or -0).
fn gen_f64(rng: &mut Rng) -> f64 {
    match rng.below(8) {
        0 => 0.0,
        1 => -1.0,
        2 => rng.below(100_000) as f64 - 50_000.0,
        3 => f64::from_bits(rng.next_u64() & 0x000f_ffff_ffff_ffff | 1), // subnormal
        _ => {
            let exponent = (rng.between(0, 600) as u64 + 1023 - 300) << 52;
            let sign = rng.next_u64() & (1 << 63);
            f64::from_bits(sign | exponent | (rng.next_u64() & 0x000f_ffff_ffff_ffff))
        }
    }
}

/// 0 to 24 bytes, no NUL, mostly printable.
fn gen_string(rng: &mut Rng) -> Vec<u8> {
    (0..rng.between(0, 24))
        .map(|_| match rng.percent(75) {
            true => rng.between(32, 126) as u8,
            false => rng.between(1, 255) as u8,
        })
        .collect()
}

impl Program {
    /// What the program covers, in one paragraph.
    fn summary(&self) -> String {
        let functions = &self.functions;
        let count = |test: &dyn Fn(&Function) -> bool| functions.iter().filter(|f| test(f)).count();
        let uses = |f: &Function, test: &dyn Fn(Ty) -> bool| {
            let signature = &f.signature;
            signature
                .params
                .iter()
                .chain(signature.varargs.iter().flatten())
                .any(|&ty| test(ty))
        };
        let returns = |test: &dyn Fn(Ret) -> bool| count(&|f| test(f.signature.ret));
        let callbacks = |test: &dyn Fn(Ty) -> bool| {
            self.callbacks
                .iter()
                .filter(|callback| {
                    callback
                        .params
                        .iter()
                        .chain(&callback.ret)
                        .any(|&ty| test(ty))
                })
                .count()
        };
        format!(
            "seed {}: {} functions ({} variadic, {} with 24+ arguments, {} taking aggregates, \
             {} complex, {} strings); results: {} checksums, {} scalars, {} aggregates, \
             {} strings, {} void, {} echoes; {} records ({} unions, {} packed); \
             {} taking callbacks ({} callback types: {} with aggregates, {} with complex \
             or long double, {} with 17+ arguments); {} not checkable under LuaJIT",
            self.seed,
            functions.len(),
            count(&|f| f.signature.varargs.is_some()),
            count(&|f| f.signature.params.len() >= 24),
            count(&|f| uses(f, &|ty| matches!(ty, Ty::Record(_)))),
            count(&|f| {
                uses(f, &|ty| {
                    matches!(ty, Ty::Scalar(Scalar::ComplexFloat | Scalar::ComplexDouble))
                })
            }),
            count(&|f| uses(f, &|ty| ty == Ty::CString)),
            returns(&|ret| ret == Ret::Checksum),
            returns(&|ret| matches!(ret, Ret::Made(Ty::Scalar(_)))),
            returns(&|ret| matches!(ret, Ret::Made(Ty::Record(_)))),
            returns(&|ret| ret == Ret::Made(Ty::CString)),
            returns(&|ret| ret == Ret::Void),
            returns(&|ret| matches!(ret, Ret::Echo(_))),
            self.records.len(),
            self.records.iter().filter(|r| r.union).count(),
            self.records.iter().filter(|r| r.pack.is_some()).count(),
            count(&|f| Self::takes_callback(&f.signature)),
            self.callbacks.len(),
            callbacks(&|ty| matches!(ty, Ty::Record(_))),
            callbacks(&|ty| {
                matches!(
                    ty,
                    Ty::Scalar(Scalar::ComplexFloat | Scalar::ComplexDouble | Scalar::LongDouble)
                )
            }),
            self.callbacks
                .iter()
                .filter(|callback| callback.params.len() > LUAJIT_MAX_CALLBACK_ARGS)
                .count(),
            count(&|f| self.luajit_skip(&f.signature).is_some()),
        )
    }
}

// ---------------------------------------------------------------------------------------
// Names shared by the C and Lua outputs.

impl Program {
    fn enum_name(index: usize) -> String {
        format!("enum cg_e{index}")
    }

    fn enum_constant(index: usize, constant: usize) -> String {
        format!("CG_E{index}_{constant}")
    }

    /// The helper-function suffix of a record (`r3`; distinct from every scalar's).
    fn record_key(&self, index: usize) -> String {
        format!("r{index}")
    }

    /// The typedef of a callback type.
    fn callback_c_type(index: usize) -> String {
        format!("cg_cb{index}")
    }

    /// `struct cg_s<index>` or `union cg_u<index>`.
    fn record_c_type(&self, index: usize) -> String {
        match self.records[index].union {
            true => format!("union cg_u{index}"),
            false => format!("struct cg_s{index}"),
        }
    }

    /// The helper-function suffix of a scalar (`i8`, `f64`, `p_r3`).
    fn scalar_key(&self, scalar: Scalar) -> String {
        match scalar {
            Scalar::Int(index) => INTS[index].key.to_owned(),
            Scalar::Bool => "bool".to_owned(),
            Scalar::Enum(index) => format!("e{index}"),
            Scalar::Float => "f32".to_owned(),
            Scalar::Double => "f64".to_owned(),
            Scalar::ComplexFloat => "cf32".to_owned(),
            Scalar::ComplexDouble => "cf64".to_owned(),
            Scalar::LongDouble => "ld".to_owned(),
            Scalar::Pointer(Pointee::Void) => "p_void".to_owned(),
            Scalar::Pointer(Pointee::Int(index)) => format!("p_{}", INTS[index].key),
            Scalar::Pointer(Pointee::Double) => "p_f64".to_owned(),
            Scalar::Pointer(Pointee::Record(index)) => format!("p_{}", self.record_key(index)),
        }
    }

    fn scalar_c_type(&self, scalar: Scalar) -> String {
        match scalar {
            Scalar::Int(index) => INTS[index].c.to_owned(),
            Scalar::Bool => "bool".to_owned(),
            Scalar::Enum(index) => Self::enum_name(index),
            Scalar::Float => "float".to_owned(),
            Scalar::Double => "double".to_owned(),
            Scalar::ComplexFloat => "complex float".to_owned(),
            Scalar::ComplexDouble => "complex double".to_owned(),
            Scalar::LongDouble => "long double".to_owned(),
            Scalar::Pointer(pointee) => format!("{} *", self.pointee_c_type(pointee)),
        }
    }

    fn pointee_c_type(&self, pointee: Pointee) -> String {
        match pointee {
            Pointee::Void => "void".to_owned(),
            Pointee::Int(index) => INTS[index].c.to_owned(),
            Pointee::Double => "double".to_owned(),
            Pointee::Record(index) => self.record_c_type(index),
        }
    }

    fn c_type(&self, ty: Ty) -> String {
        match ty {
            Ty::Scalar(scalar) => self.scalar_c_type(scalar),
            Ty::CString => "const char *".to_owned(),
            Ty::Record(index) => self.record_c_type(index),
            Ty::Callback(index) => Self::callback_c_type(index),
        }
    }

    /// A callback type as an abstract declarator: `double (*)(int, struct cg_s3)`.
    fn callback_prototype(&self, callback: &CallbackType, name: &str) -> String {
        let ret = callback.ret.map_or("void".to_owned(), |ty| self.c_type(ty));
        let params: Vec<String> = callback.params.iter().map(|&ty| self.c_type(ty)).collect();
        let params = match params.is_empty() {
            true => "void".to_owned(),
            false => params.join(", "),
        };
        format!("{ret} (*{name})({params})")
    }

    /// `<type> <name>`, without a space after a `*`.
    fn c_declaration(&self, ty: Ty, name: &str) -> String {
        let c_type = self.c_type(ty);
        match c_type.ends_with('*') {
            true => format!("{c_type}{name}"),
            false => format!("{c_type} {name}"),
        }
    }

    /// The parts of a scalar: the unsigned type of each and how it is made.
    fn parts(scalar: Scalar) -> (&'static str, usize, PartMake) {
        match scalar {
            Scalar::Int(index) => (part_type(INTS[index].size), 1, PartMake::Int),
            Scalar::Bool => ("uint8_t", 1, PartMake::Bool),
            Scalar::Enum(_) => ("uint32_t", 1, PartMake::Enum),
            Scalar::Float => ("uint32_t", 1, PartMake::F32),
            Scalar::Double => ("uint64_t", 1, PartMake::F64),
            Scalar::ComplexFloat => ("uint32_t", 2, PartMake::F32),
            Scalar::ComplexDouble => ("uint64_t", 2, PartMake::F64),
            Scalar::LongDouble => ("uint64_t", 2, PartMake::LongDouble),
            Scalar::Pointer(_) => ("uint64_t", 1, PartMake::Pointer),
        }
    }

    /// Every scalar type the helpers exist for, in an order where each helper's
    /// dependencies come first (float before complex float).
    fn all_scalars(&self) -> Vec<Scalar> {
        let mut scalars: Vec<Scalar> = (0..INTS.len()).map(Scalar::Int).collect();
        scalars.extend([
            Scalar::Bool,
            Scalar::Float,
            Scalar::Double,
            Scalar::ComplexFloat,
            Scalar::ComplexDouble,
            Scalar::LongDouble,
        ]);
        scalars.extend((0..self.enums.len()).map(Scalar::Enum));
        let mut pointees: BTreeSet<Pointee> = [Pointee::Void, Pointee::Double].into();
        pointees.extend((0..INTS.len()).map(Pointee::Int));
        pointees.extend((0..self.records.len()).map(Pointee::Record));
        scalars.extend(pointees.into_iter().map(Scalar::Pointer));
        scalars
    }

    /// The C prototype of a function (also shown by the driver when a call fails).
    fn prototype(&self, function: &Function) -> String {
        let signature = &function.signature;
        let ret = match signature.ret {
            Ret::Checksum => "uint64_t".to_owned(),
            Ret::Made(ty) => self.c_type(ty),
            Ret::Echo(index) => self.c_type(signature.params[index]),
            Ret::Void => "void".to_owned(),
        };
        let mut params: Vec<String> = Vec::new();
        if signature.has_out() {
            params.push("uint64_t *out".to_owned());
        }
        for (index, &ty) in signature.params.iter().enumerate() {
            params.push(self.c_declaration(ty, &format!("a{index}")));
        }
        if signature.varargs.is_some() {
            params.push("...".to_owned());
        }
        if params.is_empty() {
            params.push("void".to_owned());
        }
        let separator = if ret.ends_with('*') { "" } else { " " };
        format!("{ret}{separator}{}({})", function.name, params.join(", "))
    }

    /// The enum and record declarations, for C and for `ffi.cdef` alike.
    fn declarations(&self) -> String {
        let mut text = String::new();
        for (index, decl) in self.enums.iter().enumerate() {
            let constants: Vec<String> = decl
                .constants
                .iter()
                .enumerate()
                .map(|(constant, &value)| {
                    let name = Self::enum_constant(index, constant);
                    match (self.target, value == i64::from(i32::MIN)) {
                        (Target::Aarch64, true) => format!("{name} = (-2147483647 - 1)"),
                        _ => format!("{name} = {value}"),
                    }
                })
                .collect();
            writeln!(
                text,
                "{} {{ {} }};",
                Self::enum_name(index),
                constants.join(", ")
            )
            .unwrap();
        }
        for (index, record) in self.records.iter().enumerate() {
            if let Some(Pack::Pragma(pack)) = record.pack {
                writeln!(text, "#pragma pack(push, {pack})").unwrap();
            }
            let c_type = self.record_c_type(index);
            match record.pack {
                // `struct __attribute__((packed)) cg_sN`: the attribute after the keyword.
                Some(Pack::Attribute) => {
                    let (keyword, tag) = c_type.split_once(' ').expect("a record type");
                    write!(text, "{keyword} __attribute__((packed)) {tag} {{").unwrap();
                }
                _ => write!(text, "{c_type} {{").unwrap(),
            }
            for (member_index, member) in record.members.iter().enumerate() {
                let mut declaration = self.c_declaration(member.ty, &format!("f{member_index}"));
                if let Some(count) = member.count {
                    write!(declaration, "[{count}]").unwrap();
                }
                if let Some(bits) = member.bits {
                    write!(declaration, " : {bits}").unwrap();
                }
                if let Some(aligned) = member.aligned {
                    write!(declaration, " __attribute__((aligned({aligned})))").unwrap();
                }
                write!(text, " {declaration};").unwrap();
            }
            writeln!(text, " }}; /* {} bytes */", record.size).unwrap();
            if let Some(Pack::Pragma(_)) = record.pack {
                writeln!(text, "#pragma pack(pop)").unwrap();
            }
        }
        for (index, callback) in self.callbacks.iter().enumerate() {
            let name = Self::callback_c_type(index);
            writeln!(
                text,
                "typedef {};",
                self.callback_prototype(callback, &name)
            )
            .unwrap();
        }
        text
    }
}

// ---------------------------------------------------------------------------------------
// The C library.

impl Program {
    fn c_source(&self, options: &Options) -> String {
        let mut c = String::new();
        writeln!(
            c,
            "/* Generated by `cargo xtask callgen --seed {} --count {}` (xtask/src/callgen.rs);\n   \
             do not edit. The checksum and the values are described there. */",
            self.seed, options.count
        )
        .unwrap();
        c.push_str(C_PRELUDE);
        c.push('\n');
        c.push_str(&self.declarations());
        c.push('\n');
        for scalar in self.all_scalars() {
            self.c_scalar_helpers(&mut c, scalar);
        }
        for index in 0..self.records.len() {
            // The generator's layout (which decides what LuaJIT can be checked on) is
            // gcc's, or the library does not build.
            let record = &self.records[index];
            let ty = self.record_c_type(index);
            writeln!(
                c,
                "_Static_assert(sizeof({ty}) == {} && __alignof__({ty}) == {}, \"layout of {ty}\");",
                record.size, record.align
            )
            .unwrap();
            self.c_record_helpers(&mut c, index);
        }
        writeln!(
            c,
            "static const char *const cg_strings[{RETURN_STRINGS}] = {{"
        )
        .unwrap();
        for string in &self.strings {
            writeln!(c, "    {},", c_string_literal(string)).unwrap();
        }
        c.push_str("};\n\n");
        c.push_str("CG_EXPORT uint64_t cg_probe(uint64_t x) { return x + 1; }\n\n");
        for function in &self.functions {
            self.c_function(&mut c, function);
        }
        c
    }

    /// `cg_fold_<key>` (the parts into the checksum) and `cg_make_<key>` (a value from
    /// checksum steps) for one scalar type.
    fn c_scalar_helpers(&self, c: &mut String, scalar: Scalar) {
        let key = self.scalar_key(scalar);
        let ty = self.scalar_c_type(scalar);
        let (part, count, make) = Self::parts(scalar);
        writeln!(
            c,
            "_Static_assert(sizeof({ty}) == {count} * sizeof({part}), \"parts of {ty}\");"
        )
        .unwrap();
        writeln!(
            c,
            "static inline uint64_t cg_fold_{key}(uint64_t h, {ty} v) {{"
        )
        .unwrap();
        writeln!(c, "    {part} u[{count}];\n    memcpy(u, &v, sizeof u);").unwrap();
        for index in 0..count {
            match make {
                // Bytes 10 to 15 of an x87 long double are padding.
                PartMake::LongDouble if index == 1 && self.target == Target::X86_64 => {
                    c.push_str("    h = cg_mix(h, u[1] & 0xffff);\n")
                }
                _ => writeln!(c, "    h = cg_mix(h, u[{index}]);").unwrap(),
            }
        }
        c.push_str("    return h;\n}\n");
        writeln!(c, "static inline {ty} cg_make_{key}(uint64_t *h) {{").unwrap();
        match (scalar, make) {
            (Scalar::ComplexFloat, _) => c.push_str(
                "    float re = cg_make_f32(h);\n    float im = cg_make_f32(h);\n    \
                 return CMPLXF(re, im);\n",
            ),
            (Scalar::ComplexDouble, _) => c.push_str(
                "    double re = cg_make_f64(h);\n    double im = cg_make_f64(h);\n    \
                 return CMPLX(re, im);\n",
            ),
            (_, PartMake::Int) => writeln!(
                c,
                "    {part} b = ({part})cg_step(h);\n    {ty} r;\n    memcpy(&r, &b, sizeof r);\n    return r;"
            )
            .unwrap(),
            (_, PartMake::Bool) => c.push_str("    return (cg_step(h) & 1) != 0;\n"),
            (_, PartMake::LongDouble) if self.target == Target::Aarch64 => c.push_str(
                "    uint64_t u[2];\n    u[0] = cg_step(h) | 1ULL << 63;\n    \
                 u[1] = (16351 + cg_step(h) % 64) << 48;\n    long double r;\n    \
                 memcpy(&r, u, 16);\n    return r;\n",
            ),
            (_, PartMake::LongDouble) => c.push_str(
                "    uint64_t u[2];\n    u[0] = cg_step(h) | 1ULL << 63;\n    \
                 u[1] = 16351 + cg_step(h) % 64;\n    long double r = 0;\n    \
                 memcpy(&r, u, 10);\n    return r;\n",
            ),
            (Scalar::Enum(index), _) => {
                let constants = &self.enums[index].constants;
                let names: Vec<String> = (0..constants.len())
                    .map(|constant| Self::enum_constant(index, constant))
                    .collect();
                writeln!(
                    c,
                    "    static const {ty} values[{}] = {{ {} }};\n    return values[cg_step(h) % {}];",
                    constants.len(),
                    names.join(", "),
                    constants.len()
                )
                .unwrap();
            }
            (_, PartMake::F32) => c.push_str(
                "    return (float)((int64_t)(cg_step(h) >> 40) - 8388608) / 64.0f;\n",
            ),
            (_, PartMake::F64) => c.push_str(
                "    return (double)((int64_t)(cg_step(h) >> 11) - 4503599627370496LL) / 1048576.0;\n",
            ),
            (_, PartMake::Pointer) => writeln!(c, "    return ({ty})(uintptr_t)cg_step(h);").unwrap(),
            (_, PartMake::Enum) => unreachable!("only enums make enum parts"),
        }
        c.push_str("}\n");
    }

    /// `cg_fold_<key>` and `cg_make_<key>` for one record: member by member (only the
    /// active one of a union), arrays element by element.
    fn c_record_helpers(&self, c: &mut String, index: usize) {
        let record = &self.records[index];
        let key = self.record_key(index);
        let ty = self.record_c_type(index);
        writeln!(
            c,
            "static inline uint64_t cg_fold_{key}(uint64_t h, {ty} v) {{"
        )
        .unwrap();
        for (member_index, member) in record.live_members() {
            let fold = self.c_helper(member.ty, "fold");
            match member.count {
                None => writeln!(c, "    h = {fold}(h, v.f{member_index});").unwrap(),
                Some(count) => writeln!(
                    c,
                    "    for (int i = 0; i < {count}; i++) h = {fold}(h, v.f{member_index}[i]);"
                )
                .unwrap(),
            }
        }
        c.push_str("    return h;\n}\n");
        writeln!(c, "static inline {ty} cg_make_{key}(uint64_t *h) {{").unwrap();
        writeln!(c, "    {ty} r;\n    memset(&r, 0, sizeof r);").unwrap();
        for (member_index, member) in record.live_members() {
            let make = self.c_helper(member.ty, "make");
            match member.count {
                None => writeln!(c, "    r.f{member_index} = {make}(h);").unwrap(),
                Some(count) => writeln!(
                    c,
                    "    for (int i = 0; i < {count}; i++) r.f{member_index}[i] = {make}(h);"
                )
                .unwrap(),
            }
        }
        c.push_str("    return r;\n}\n");
    }

    /// The name of a type's fold or make helper.
    fn c_helper(&self, ty: Ty, which: &str) -> String {
        match ty {
            Ty::Scalar(scalar) => format!("cg_{which}_{}", self.scalar_key(scalar)),
            Ty::CString => format!("cg_{which}_str"),
            Ty::Record(index) => format!("cg_{which}_{}", self.record_key(index)),
            Ty::Callback(_) => unreachable!("a callback is called, not folded or made"),
        }
    }

    /// `va_arg` for a vararg of type `ty`, as LuaJIT passes it: integers narrower than
    /// `int` (and bool, enums) as `int`, `float` as `double`, aggregates by pointer.
    fn c_va_arg(&self, ty: Ty) -> String {
        let c_type = self.c_type(ty);
        match ty {
            Ty::Scalar(Scalar::Int(index)) if INTS[index].size < 4 => {
                format!("({c_type})va_arg(ap, int)")
            }
            Ty::Scalar(Scalar::Bool | Scalar::Enum(_)) => format!("({c_type})va_arg(ap, int)"),
            Ty::Scalar(Scalar::Float) => "(float)va_arg(ap, double)".to_owned(),
            Ty::Record(_) => format!("*va_arg(ap, {c_type} *)"),
            _ => format!("va_arg(ap, {c_type})"),
        }
    }

    /// Calls callback parameter `a<param>` with values made from a copy of the checksum
    /// and folds what it returns.
    fn c_callback_call(&self, c: &mut String, callback: usize, param: usize) {
        let callback = &self.callbacks[callback];
        c.push_str("    {\n        uint64_t k = h;\n");
        let mut args = Vec::new();
        for (index, &ty) in callback.params.iter().enumerate() {
            let name = format!("c{index}");
            let value = match ty {
                Ty::CString => format!("cg_strings[cg_step(&k) % {RETURN_STRINGS}]"),
                _ => format!("{}(&k)", self.c_helper(ty, "make")),
            };
            writeln!(c, "        {} = {value};", self.c_declaration(ty, &name)).unwrap();
            args.push(name);
        }
        let call = format!("a{param}({})", args.join(", "));
        match callback.ret {
            None => writeln!(c, "        {call};").unwrap(),
            Some(ty) => writeln!(
                c,
                "        {} = {call};\n        h = {}(h, r);",
                self.c_declaration(ty, "r"),
                self.c_helper(ty, "fold")
            )
            .unwrap(),
        }
        writeln!(c, "    }}\n    CG_TRACE(\"a{param}\");").unwrap();
    }

    fn c_function(&self, c: &mut String, function: &Function) {
        let signature = &function.signature;
        writeln!(c, "CG_EXPORT {} {{", self.prototype(function)).unwrap();
        c.push_str("    uint64_t h = CG_H0;\n");
        for (index, &ty) in signature.params.iter().enumerate() {
            match ty {
                Ty::Callback(callback) => self.c_callback_call(c, callback, index),
                _ => writeln!(
                    c,
                    "    h = {}(h, a{index}); CG_TRACE(\"a{index}\");",
                    self.c_helper(ty, "fold")
                )
                .unwrap(),
            }
        }
        if let Some(varargs) = &signature.varargs {
            let last = match signature.params.len() {
                0 => "out".to_owned(),
                count => format!("a{}", count - 1),
            };
            writeln!(c, "    va_list ap;\n    va_start(ap, {last});").unwrap();
            for (index, &ty) in varargs.iter().enumerate() {
                writeln!(
                    c,
                    "    {{ {} = {}; h = {}(h, v); CG_TRACE(\"v{index}\"); }}",
                    self.c_declaration(ty, "v"),
                    self.c_va_arg(ty),
                    self.c_helper(ty, "fold")
                )
                .unwrap();
            }
            c.push_str("    va_end(ap);\n");
        }
        match signature.ret {
            Ret::Checksum => c.push_str("    return h;\n"),
            Ret::Made(Ty::CString) => {
                writeln!(c, "    return cg_strings[h % {RETURN_STRINGS}];").unwrap()
            }
            Ret::Made(ty) => writeln!(c, "    return {}(&h);", self.c_helper(ty, "make")).unwrap(),
            Ret::Echo(index) => writeln!(c, "    *out = h;\n    return a{index};").unwrap(),
            Ret::Void => c.push_str("    *out = h;\n"),
        }
        c.push_str("}\n\n");
    }
}

const C_PRELUDE: &str = r#"
#include <complex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define CG_EXPORT __attribute__((visibility("default")))
/* Built with -DCALLGEN_TRACE, every function prints the checksum after each argument, as the
   driver does with CALLGEN_TRACE=1 in its environment: the first line that differs
   names the argument that went wrong. */
#ifdef CALLGEN_TRACE
#include <stdio.h>
#define CG_TRACE(arg) fprintf(stderr, "trace %s %s %llu\n", __func__, arg, (unsigned long long)h)
#else
#define CG_TRACE(arg) ((void)0)
#endif
#define CG_H0 0xcbf29ce484222325ULL

static inline uint64_t cg_mix(uint64_t h, uint64_t v) {
    uint64_t x = (h + v) * 1099511628211ULL;
    return x + (x >> 29);
}
static inline uint64_t cg_step(uint64_t *h) {
    *h = cg_mix(*h, 0x2545F491u);
    return *h;
}
static inline uint64_t cg_fold_str(uint64_t h, const char *s) {
    size_t n = 0;
    for (; s[n]; n++) h = cg_mix(h, (unsigned char)s[n]);
    return cg_mix(h, n);
}
"#;

/// A C string literal with octal escapes (always three digits) for anything unusual.
fn c_string_literal(bytes: &[u8]) -> String {
    let mut literal = String::from("\"");
    for &byte in bytes {
        match byte {
            b'"' | b'\\' | b'?' => write!(literal, "\\{}", byte as char).unwrap(),
            32..=126 => literal.push(byte as char),
            _ => write!(literal, "\\{byte:03o}").unwrap(),
        }
    }
    literal.push('"');
    literal
}

// ---------------------------------------------------------------------------------------
// The Lua driver.

impl Program {
    fn lua_driver(&self, options: &Options, runtime_dir: &Path) -> String {
        let mut lua = String::new();
        writeln!(
            lua,
            "-- Generated by `cargo xtask callgen --seed {} --count {}` (xtask/src/callgen.rs);\n\
             -- do not edit. Run: <lua> callgen.lua [LIBRARY [FUNCTION...]]",
            self.seed, options.count
        )
        .unwrap();
        writeln!(
            lua,
            "package.path = {} .. \";\" .. package.path",
            lua_string_literal(runtime_dir.join("?.lua").to_string_lossy().as_bytes())
        )
        .unwrap();
        lua.push_str(
            "local ffi = require \"ffi\"\nlocal rt = require \"callgen_rt\"\n\
             local I64, U64, P, A, C, LD, S, box, NULL =\n  \
             rt.I64, rt.U64, rt.P, rt.A, rt.C, rt.LD, rt.S, rt.box, rt.NULL\n",
        );
        if self.target == Target::Aarch64 {
            lua.push_str("rt.quad_long_double = true\n");
        }
        lua.push_str("ffi.cdef [==[\n");
        lua.push_str(&self.declarations());
        lua.push_str("uint64_t cg_probe(uint64_t x);\n");
        for function in &self.functions {
            writeln!(lua, "{};", self.prototype(function)).unwrap();
        }
        lua.push_str("]==]\n\n");
        lua.push_str("local K = {}\n");
        for scalar in self.all_scalars() {
            let (part, count, make) = Self::parts(scalar);
            let mut line = format!(
                "K.{} = rt.scalar({}, \"{part}\", {count}, \"{}\"",
                self.scalar_key(scalar),
                lua_string_literal(self.scalar_c_type(scalar).as_bytes()),
                make.lua_name()
            );
            if let Scalar::Enum(index) = scalar {
                let values: Vec<String> = self.enums[index]
                    .constants
                    .iter()
                    .map(i64::to_string)
                    .collect();
                write!(line, ", {{{}}}", values.join(", ")).unwrap();
            }
            writeln!(lua, "{line})").unwrap();
        }
        lua.push_str("local R = {}\n");
        for (index, record) in self.records.iter().enumerate() {
            let members: Vec<String> = record
                .members
                .iter()
                .enumerate()
                .map(|(member_index, member)| match (member.count, member.bits) {
                    (None, Some(bits)) => format!(
                        "{{\"f{member_index}\", {}, nil, {bits}}}",
                        self.lua_type(member.ty)
                    ),
                    (None, None) => {
                        format!("{{\"f{member_index}\", {}}}", self.lua_type(member.ty))
                    }
                    (Some(count), _) => format!(
                        "{{\"f{member_index}\", {}, {count}}}",
                        self.lua_type(member.ty)
                    ),
                })
                .collect();
            writeln!(
                lua,
                "R[{index}] = rt.record(\"{}\", {}, {{{}}}, {})",
                self.record_c_type(index),
                record.union,
                members.join(", "),
                record.active + 1
            )
            .unwrap();
        }
        lua.push_str("local CB = {}\n");
        for (index, callback) in self.callbacks.iter().enumerate() {
            let params: Vec<String> = callback
                .params
                .iter()
                .map(|&ty| self.lua_type(ty))
                .collect();
            let mut line = format!(
                "CB[{index}] = rt.callback(\"{}\", {}, {{{}}}",
                Self::callback_c_type(index),
                lua_string_literal(self.callback_prototype(callback, "").as_bytes()),
                params.join(", ")
            );
            if let Some(ty) = callback.ret {
                write!(line, ", {}", self.lua_type(ty)).unwrap();
            }
            writeln!(lua, "{line})").unwrap();
        }
        lua.push_str("local F = {}\n");
        for function in &self.functions {
            self.lua_function(&mut lua, function);
        }
        let strings: Vec<String> = self.strings.iter().map(|s| lua_string_literal(s)).collect();
        writeln!(
            lua,
            "\nos.exit(rt.run {{ functions = F, strings = {{{}}}, seed = {}, library = {} }})",
            strings.join(", "),
            self.seed,
            lua_string_literal(
                options
                    .out
                    .join("libcallgen.so")
                    .to_string_lossy()
                    .as_bytes()
            )
        )
        .unwrap();
        lua
    }

    /// The driver's descriptor of a type: `K.<key>`, `R[<index>]` or `rt.CSTRING`.
    fn lua_type(&self, ty: Ty) -> String {
        match ty {
            Ty::Scalar(scalar) => format!("K.{}", self.scalar_key(scalar)),
            Ty::CString => "rt.CSTRING".to_owned(),
            Ty::Record(index) => format!("R[{index}]"),
            Ty::Callback(index) => format!("CB[{index}]"),
        }
    }

    fn lua_function(&self, lua: &mut String, function: &Function) {
        let signature = &function.signature;
        let types = |types: &[Ty]| -> String {
            let list: Vec<String> = types.iter().map(|&ty| self.lua_type(ty)).collect();
            format!("{{{}}}", list.join(", "))
        };
        let ret = match signature.ret {
            Ret::Checksum => "ret = \"checksum\"".to_owned(),
            Ret::Made(Ty::CString) => "ret = \"string\"".to_owned(),
            Ret::Made(ty) => format!("ret = \"made\", ret_type = {}", self.lua_type(ty)),
            Ret::Echo(index) => format!("ret = \"echo\", echo = {}", index + 1),
            Ret::Void => "ret = \"void\"".to_owned(),
        };
        let mut skip = match self.luajit_skip(signature) {
            Some(reason) => format!("\n  luajit_skip = \"{reason}\","),
            None => String::new(),
        };
        if self.needs_long_double(signature) {
            skip.push_str(" long_double = true,");
        }
        if Self::takes_callback(signature) {
            skip.push_str(" callback = true,");
        }
        if self.needs_aligned_member(signature) {
            skip.push_str(" aligned = true,");
        }
        writeln!(
            lua,
            "F[#F + 1] = {{ name = \"{}\", proto = {},\n  params = {}, varargs = {}, {ret}, out = {},{skip}\n  calls = {{",
            function.name,
            lua_string_literal(self.prototype(function).as_bytes()),
            types(&signature.params),
            signature.varargs.as_deref().map_or("nil".to_owned(), types),
            signature.has_out(),
        )
        .unwrap();
        for call in &function.calls {
            let mut values: Vec<String> = signature
                .params
                .iter()
                .zip(&call.args)
                .map(|(&ty, value)| self.lua_value(ty, value, Place::Arg))
                .collect();
            values.extend(
                signature
                    .varargs
                    .iter()
                    .flatten()
                    .zip(&call.varargs)
                    .map(|(&ty, value)| self.lua_value(ty, value, Place::Vararg)),
            );
            writeln!(lua, "    function() return {} end,", values.join(", ")).unwrap();
        }
        lua.push_str("  } }\n");
    }

    /// A Lua expression for `value` of type `ty`, in the form LuaJIT converts at `place`.
    fn lua_value(&self, ty: Ty, value: &Value, place: Place) -> String {
        let boxed = |text: String| match place {
            Place::Vararg => format!(
                "box({}, {text})",
                lua_string_literal(self.c_type(ty).as_bytes())
            ),
            _ => text,
        };
        match (ty, value) {
            (
                Ty::Scalar(Scalar::Int(index)),
                &Value::Int {
                    bits,
                    boxed: as_cdata,
                },
            ) => {
                let kind = &INTS[index];
                let signed = self.int_signed(index);
                let width = kind.size * 8;
                let number: i128 = match signed && bits >> (width - 1) & 1 == 1 {
                    true => bits as i128 - (1i128 << width),
                    false => bits as i128,
                };
                let text = if number.abs() <= 1 << 53 && !as_cdata {
                    number.to_string()
                } else {
                    let constructor = if signed { "I64" } else { "U64" };
                    format!("{constructor}({}, {})", bits >> 32, bits & 0xffff_ffff)
                };
                boxed(text)
            }
            (_, &Value::Bool(flag)) => flag.to_string(),
            (
                Ty::Scalar(Scalar::Enum(index)),
                &Value::Enum {
                    index: constant,
                    by_name,
                },
            ) => match by_name {
                true => format!("\"{}\"", Self::enum_constant(index, constant)),
                false => boxed(self.enums[index].constants[constant].to_string()),
            },
            (Ty::Scalar(Scalar::Float), &Value::Real(real)) => boxed(lua_number(real)),
            (_, &Value::Real(real)) => lua_number(real),
            (_, &Value::LongDouble(mantissa, sign_exponent)) => format!(
                "LD({}, {}, {sign_exponent})",
                mantissa >> 32,
                mantissa & 0xffff_ffff
            ),
            (_, &Value::Complex(re, im)) => format!(
                "C({}, {}, {})",
                lua_string_literal(self.c_type(ty).as_bytes()),
                lua_number(re),
                lua_number(im)
            ),
            (Ty::Scalar(Scalar::Pointer(pointee)), Value::Pointer(pointer)) => match *pointer {
                PointerValue::Null if place == Place::Member => "NULL".to_owned(),
                PointerValue::Null => "nil".to_owned(),
                PointerValue::Address(address) => format!(
                    "P({}, {}, {})",
                    lua_string_literal(self.c_type(ty).as_bytes()),
                    address >> 32,
                    address & 0xffff_ffff
                ),
                PointerValue::Array(count) => {
                    let element = match pointee {
                        Pointee::Void => "uint8_t".to_owned(),
                        _ => self.pointee_c_type(pointee),
                    };
                    format!("A(\"{element}[{count}]\")")
                }
            },
            (Ty::CString, Value::Str(bytes)) => lua_string_literal(bytes),
            (Ty::Callback(index), Value::Callback(passing)) => {
                format!("rt.cb(CB[{index}], \"{}\")", passing.lua_name())
            }
            (Ty::Record(index), Value::Record(members)) => {
                let record = &self.records[index];
                let fields: Vec<String> = record
                    .members
                    .iter()
                    .zip(members)
                    .enumerate()
                    .filter_map(|(member_index, (member, value))| {
                        let text = match value.as_ref()? {
                            MemberValue::One(value) => {
                                self.lua_value(member.ty, value, Place::Member)
                            }
                            MemberValue::Array(values) => {
                                let elements: Vec<String> = values
                                    .iter()
                                    .map(|value| self.lua_value(member.ty, value, Place::Member))
                                    .collect();
                                format!("{{{}}}", elements.join(", "))
                            }
                        };
                        Some(format!("f{member_index} = {text}"))
                    })
                    .collect();
                let tree = format!("{{{}}}", fields.join(", "));
                match place {
                    Place::Member => tree,
                    _ => format!("S(R[{index}], {tree})"),
                }
            }
            _ => unreachable!("value generated for another type"),
        }
    }
}

/// A Lua number literal that reads back as exactly `value` (finite).
fn lua_number(value: f64) -> String {
    debug_assert!(value.is_finite(), "only finite numbers are generated");
    // Debug formatting is the shortest text that round-trips.
    format!("{value:?}")
}

/// A Lua string literal with decimal escapes (always three digits): valid in 5.1 to 5.4.
fn lua_string_literal(bytes: &[u8]) -> String {
    let mut literal = String::from("\"");
    for &byte in bytes {
        match byte {
            b'"' | b'\\' => write!(literal, "\\{}", byte as char).unwrap(),
            32..=126 => literal.push(byte as char),
            _ => write!(literal, "\\{byte:03}").unwrap(),
        }
    }
    literal.push('"');
    literal
}
