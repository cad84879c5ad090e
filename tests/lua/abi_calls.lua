-- Calls beyond LuaJIT's, on x86-64 System V as gcc makes them (tests/c/abitest.c):
-- structs passed by value to variadic functions, and over-aligned structs on the stack
-- after an odd number of stack slots, in calls and in callbacks. Each C callee records every field it received and returns a
-- checksum; abi_gcc_* make the same call from gcc-compiled code, and both must agree.
local ffi = require "ffi"
local check = require "check"
local eq = check.eq

local dir = assert(os.getenv("JITFFI_TESTLIB_DIR"), "JITFFI_TESTLIB_DIR is not set")
local lib = ffi.load(dir .. "/libjitffi_abitest.so")
ffi.cdef [[
struct abi_i2 { int a, b; };
struct abi_d2 { double x, y; };
struct abi_f3 { float x, y, z; };
struct abi_mix { long l; double d; };
struct abi_fi { float f; int i; };
struct abi_big { long a, b, c; };
struct abi_ld { long double x; };
struct abi_a16 { _Alignas(16) int x; };
struct abi_p16 { long a, b; } __attribute__((aligned(16)));
struct abi_a32 { _Alignas(32) int x; int y; };
double abi_seen(int i);
int abi_seen_count(void);
long double abi_ld_of(double x);
double abi_ld_value(long double x);
double abi_ld_field(struct abi_ld s);
int abi_va(const char *fmt, ...);
int abi_gcc_va_regs(void);
int abi_gcc_va_exhausted(void);
int abi_gcc_va_stack(void);
int abi_gcc_va_aligned_regs(void);
int abi_gcc_va_a32(void);
int abi_gcc_va_pointer(void);
int abi_gcc_va_i2(void);
int abi_stack_a16(long, long, long, long, long, long, long s7, struct abi_a16 a, int after);
int abi_stack_p16(long, long, long, long, long, long, long s7, struct abi_p16 p, int after);
int abi_stack_ld(long, long, long, long, long, long, long s7, struct abi_ld l, int s9,
                 long double e, int after);
int abi_stack_a32(long, long, long, long, long, long, long s7, struct abi_a32 w, int after);
int abi_regs_a16(struct abi_a16 a, int b, struct abi_a16 c, struct abi_p16 p);
int abi_gcc_stack_a16(void);
int abi_gcc_stack_p16(void);
int abi_gcc_stack_ld(void);
int abi_gcc_stack_a32(void);
int abi_gcc_regs_a16(void);
typedef int (*abi_cb_a16)(long, long, long, long, long, long, long, struct abi_a16, int);
typedef int (*abi_cb_p16)(long, long, long, long, long, long, long, struct abi_p16, int);
typedef int (*abi_cb_ld)(long, long, long, long, long, long, long, struct abi_ld, int,
                         long double, int);
typedef int (*abi_cb_a32)(long, long, long, long, long, long, long, struct abi_a32, int);
int abi_call_cb_a16(abi_cb_a16 cb);
int abi_call_cb_p16(abi_cb_p16 cb);
int abi_call_cb_ld(abi_cb_ld cb);
int abi_call_cb_a32(abi_cb_a32 cb);
]]

-- What the last callee received, one number per field.
local function seen()
  local values = {}
  for i = 0, lib.abi_seen_count() - 1 do
    values[#values + 1] = lib.abi_seen(i)
  end
  return values
end

-- Makes the gcc-compiled call `reference`, then `call` through the ffi: the checksums and
-- every field the callee recorded must be equal.
local function same_as_gcc(what, reference, call)
  local expected_sum = reference()
  local expected = seen()
  local sum = call()
  local got = seen()
  eq(#got, #expected, what .. ": number of fields received")
  for i = 1, #expected do
    eq(got[i], expected[i], what .. ": field " .. i)
  end
  eq(sum, expected_sum, what .. ": checksum")
end

local S = ffi.new
local ld = lib.abi_ld_of

-- Structs by value to a `...` function: a struct cdata among the extra arguments passes
-- as a pointer to it (LuaJIT's rule, which code written for LuaJIT relies on: ioctl,
-- fcntl), so a struct passes by value through a prototype that names it before the
-- `...` (this works on LuaJIT too). The call is still variadic (%al counts the vector
-- registers: the callee saves xmm0-7 only if it is nonzero), and the callee reads the
-- struct with va_arg, from where gcc's call through the plain prototype puts it.
same_as_gcc("a struct cdata among the extra arguments is a pointer", lib.abi_gcc_va_pointer,
  function()
    return lib.abi_va("p", S("struct abi_i2", 21, -22))
  end)

local prototypes = {}
-- abi_va as a variadic function whose fixed part has the types `types` after fmt.
local function va_with(types)
  local f = prototypes[types]
  if not f then
    f = ffi.cast("int (*)(const char *, " .. types .. ", ...)", lib.abi_va)
    prototypes[types] = f
  end
  return f
end

same_as_gcc("structs by value to ... in registers", lib.abi_gcc_va_regs, function()
  return va_with("struct abi_i2, struct abi_d2, struct abi_f3, struct abi_mix, struct abi_fi")(
    "IDFMX", { 1, -2 }, { 3.5, -4.25 }, { 5.5, 6.5, -7.5 }, { 8, 9.125 }, { 10.5, -11 })
end)

-- a two-SSE struct with one vector register left goes to the stack whole, and the
-- double after it still takes xmm7; the same with integer registers
same_as_gcc("structs by value to ... when registers run out", lib.abi_gcc_va_exhausted, function()
  local f = va_with("double, double, double, double, double, double, double, struct abi_d2, "
    .. "double, int, int, int, int, struct abi_i2, int, struct abi_i2")
  return f("dddddddDdiiiiIiI", 1, 2, 3, 4, 5, 6, 7, { 8.5, 9.5 }, 10, 11, 12, 13, 14,
    { 15, 16 }, 17, { 18, 19 })
end)

-- memory-class and over-aligned structs after an odd number of stack slots (16- and
-- 32-aligned offsets), and a long double
same_as_gcc("structs by value to ... on the stack", lib.abi_gcc_va_stack, function()
  local f = va_with("int, int, int, int, int, int, struct abi_a16, int, struct abi_p16, "
    .. "struct abi_big, struct abi_ld, int, struct abi_a32, long double")
  return f("iiiiiiAiPBLiWe", 1, 2, 3, 4, 5, 6, { 7 }, 8, { 9, 10 }, { 11, 12, 13 },
    S("struct abi_ld", ld(14.5)), 15, { 16, 17 }, ld(18.25))
end)

-- a 32-aligned struct first on the stack: the call aligns the stack pointer to 32
-- (gcc's va_arg rounds the struct's address up to 32), at every depth of C frames below
-- it (nested pcalls add some)
local function a32_first()
  return va_with("struct abi_a32")("W", S("struct abi_a32", 16, 17))
end
local function nested(depth)
  if depth == 0 then return a32_first() end
  return select(2, assert(pcall(nested, depth - 1)))
end
for depth = 0, 3 do
  same_as_gcc("32-aligned struct to ..., depth " .. depth, lib.abi_gcc_va_a32, function()
    return nested(depth)
  end)
end
same_as_gcc("32-aligned struct to ... in a coroutine", lib.abi_gcc_va_a32, function()
  return coroutine.wrap(a32_first)()
end)

same_as_gcc("over-aligned structs by value to ... in registers", lib.abi_gcc_va_aligned_regs,
  function()
    return va_with("struct abi_a16, int, struct abi_p16")("AiP", { -1 }, 2, { 3, -4 })
  end)

-- a struct reached through a reference (an array element) passes its value
local pairs_of_ints = ffi.new("struct abi_i2[1]", { { 1, -2 } })
same_as_gcc("struct by value to ... through a reference", lib.abi_gcc_va_i2, function()
  return va_with("struct abi_i2")("I", pairs_of_ints[0])
end)

-- fixed parameters: over-aligned structs after an odd number of stack slots take the
-- next aligned offset (a padding slot before them)
same_as_gcc("16-aligned struct on the stack", lib.abi_gcc_stack_a16, function()
  return lib.abi_stack_a16(1, 2, 3, 4, 5, 6, 7, S("struct abi_a16", 8), 9)
end)
same_as_gcc("16-aligned two-long struct on the stack", lib.abi_gcc_stack_p16, function()
  return lib.abi_stack_p16(1, 2, 3, 4, 5, 6, 7, { 8, -9 }, 10)
end)
same_as_gcc("long double struct and long double on the stack", lib.abi_gcc_stack_ld, function()
  return lib.abi_stack_ld(1, 2, 3, 4, 5, 6, 7, S("struct abi_ld", ld(8.5)), 9, ld(10.75), 11)
end)
same_as_gcc("32-aligned struct on the stack", lib.abi_gcc_stack_a32, function()
  return lib.abi_stack_a32(1, 2, 3, 4, 5, 6, 7, { 8, 9 }, 10)
end)
same_as_gcc("over-aligned structs in registers", lib.abi_gcc_regs_a16, function()
  return lib.abi_regs_a16({ 1 }, 2, { 3 }, { 4, 5 })
end)

-- callbacks receive the same stack arguments where gcc's caller put them: each callback
-- checks its fields against what abitest.c passes, then forwards them to the C callee,
-- whose checksum must be gcc's
local function check_first_seven(...)
  for i = 1, 7 do
    eq(tonumber((select(i, ...))), i, "callback argument " .. i)
  end
end

local cb_a16 = ffi.cast("abi_cb_a16", function(r1, r2, r3, r4, r5, r6, s7, a, after)
  check_first_seven(r1, r2, r3, r4, r5, r6, s7)
  eq(a.x, 8, "callback: 16-aligned struct")
  eq(after, 9, "callback: argument after the 16-aligned struct")
  return lib.abi_stack_a16(r1, r2, r3, r4, r5, r6, s7, a, after)
end)
eq(lib.abi_call_cb_a16(cb_a16), lib.abi_gcc_stack_a16(), "callback with a 16-aligned struct")

local cb_p16 = ffi.cast("abi_cb_p16", function(r1, r2, r3, r4, r5, r6, s7, p, after)
  check_first_seven(r1, r2, r3, r4, r5, r6, s7)
  eq(tonumber(p.a), 8, "callback: 16-aligned struct field a")
  eq(tonumber(p.b), -9, "callback: 16-aligned struct field b")
  eq(after, 10, "callback: argument after the 16-aligned struct")
  return lib.abi_stack_p16(r1, r2, r3, r4, r5, r6, s7, p, after)
end)
eq(lib.abi_call_cb_p16(cb_p16), lib.abi_gcc_stack_p16(), "callback with a 16-aligned pair")

local cb_ld = ffi.cast("abi_cb_ld", function(r1, r2, r3, r4, r5, r6, s7, l, s9, e, after)
  check_first_seven(r1, r2, r3, r4, r5, r6, s7)
  eq(lib.abi_ld_field(l), 8.5, "callback: long double struct")
  eq(s9, 9, "callback: argument between the long doubles")
  eq(lib.abi_ld_value(e), 10.75, "callback: long double")
  eq(after, 11, "callback: argument after the long doubles")
  return lib.abi_stack_ld(r1, r2, r3, r4, r5, r6, s7, l, s9, e, after)
end)
eq(lib.abi_call_cb_ld(cb_ld), lib.abi_gcc_stack_ld(), "callback with long doubles")

local cb_a32 = ffi.cast("abi_cb_a32", function(r1, r2, r3, r4, r5, r6, s7, w, after)
  check_first_seven(r1, r2, r3, r4, r5, r6, s7)
  eq(w.x, 8, "callback: 32-aligned struct field x")
  eq(w.y, 9, "callback: 32-aligned struct field y")
  eq(after, 10, "callback: argument after the 32-aligned struct")
  return lib.abi_stack_a32(r1, r2, r3, r4, r5, r6, s7, w, after)
end)
eq(lib.abi_call_cb_a32(cb_a32), lib.abi_gcc_stack_a32(), "callback with a 32-aligned struct")

for _, cb in ipairs { cb_a16, cb_p16, cb_ld, cb_a32 } do
  cb:free()
end
print("abi_calls: ok")
