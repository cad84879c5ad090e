-- Calls into C beyond what tests/diff/calls.lua compares with LuaJIT: cases where
-- LuaJIT is wrong or refuses (packed structs by value, long double), jitffi's own
-- error texts, integer arguments that only 5.3+ can pass exactly, errno capture, calls
-- inside coroutines, and stubs shared between signatures. tests/modules.sh runs it with
-- the direct stack reads on and off (JITFFI_NO_STACK_PEEK).
local ffi = require "ffi"
local check = require "check"
local fails, eq = check.fails, check.eq

local dir = assert(os.getenv("JITFFI_TESTLIB_DIR"), "JITFFI_TESTLIB_DIR is not set")
local lib = ffi.load(dir .. "/libjitffi_calltest.so")
ffi.cdef [[
int32_t ct_i32(int32_t); uint32_t ct_u32(uint32_t); int64_t ct_i64(int64_t); uint64_t ct_u64(uint64_t);
int8_t ct_i8(int8_t); double ct_f64(double); float ct_f32(float);
int64_t ct_widen_i8(int8_t); int64_t ct_widen_u16(uint16_t);
struct __attribute__((packed)) ct_packed { char c; int i; };
int ct_packed_sum(struct ct_packed); struct ct_packed ct_packed_make(char, int);
int ct_set_errno(int); int ct_deref(const int *);
double ct_vsum(const char *, ...);
typedef int (*ct_binop)(int, int);
ct_binop ct_pick(int); int ct_apply(ct_binop, int, int);
long double fabsl(long double);
size_t strlen(const char *);
]]

-- packed structs by value: an unaligned member makes the struct MEMORY class
eq(lib.ct_packed_sum({ 2, 345 }), 2345, "packed struct argument")
local p = lib.ct_packed_make(5, -6)
eq(p.c * 1000 + p.i, 5 * 1000 - 6, "packed struct result")

-- small integer results are Lua numbers; 64-bit results follow the idioms
eq(lib.ct_i32(-5), -6, "int32")
eq(lib.ct_u32(0xffffffff), 0, "uint32 wraps in C")
eq(tonumber(lib.ct_widen_i8(200)), -56, "int8_t argument sign-extended")
eq(tonumber(lib.ct_widen_u16(-1)), 65535, "uint16_t argument zero-extended")
if math.type then
  eq(math.type(lib.ct_i64(5)), "integer", "int64_t result is an integer on 5.3+")
  eq(lib.ct_i64(9007199254740993), 9007199254740992, "exact 64-bit integer argument")
  eq(type(lib.ct_u64(ffi.new("uint64_t", 0) - 2)), "cdata", "uint64_t above 2^63-1 stays cdata")
  -- a Lua integer beyond int32 converts through a double, as every conversion does
  -- (2^31 becomes INT_MIN, and INT_MIN - 1 wraps in C)
  eq(lib.ct_i32(2147483648), 2147483647, "int32 from 2^31 (cvttsd2si)")
else
  eq(type(lib.ct_i64(5)), "cdata", "int64_t result is a cdata on 5.1/5.2")
  eq(tostring(lib.ct_i64(5)), "4LL", "int64_t result value")
end
eq(lib.ct_f32(0.1), tonumber(ffi.new("float", 0.2)), "float result widened exactly")
eq(lib.ct_f64(-0.0), 0, "double")

-- a Lua string passes its own bytes: short and long strings (stored apart on 5.3+),
-- the empty string, bytes after a NUL; nil is NULL, a char array its address
eq(tonumber(ffi.C.strlen("abc")), 3, "short string argument")
eq(tonumber(ffi.C.strlen(("x"):rep(300))), 300, "long string argument")
eq(tonumber(ffi.C.strlen("")), 0, "empty string argument")
eq(tonumber(ffi.C.strlen("ab\0cd")), 2, "string with a NUL")
eq(tonumber(ffi.C.strlen(ffi.new("char[8]", "four"))), 4, "char array argument")
eq(tonumber(lib.ct_vsum("", 1)), 0, "string as the fixed argument of a variadic call")
fails("bad argument #1 to 'strlen' (cannot convert 'number' to 'const char *')", ffi.C.strlen, 1)
if math.type then
  eq(math.type(ffi.C.strlen("abc")), "integer", "size_t result is an integer on 5.3+")
end

-- variadic calls: each list of extra argument types has its own signature (cached),
-- also through a function pointer of the same type
local vsum_ptr = ffi.cast("double (*)(const char *, ...)", lib.ct_vsum)
for _ = 1, 3 do
  eq(lib.ct_vsum("dd", 1.5, 2), 5.5, "varargs double, double")
  eq(lib.ct_vsum("sd", "abc", 2), 7, "varargs string, double")
  eq(lib.ct_vsum("ds", 2, "abc"), 8, "varargs double, string")
  eq(lib.ct_vsum("i", ffi.new("int", 4)), 4, "varargs int cdata")
  eq(lib.ct_vsum("d", 1), 1, "varargs double")
  eq(vsum_ptr("sd", "abc", 2), 7, "varargs through a function pointer")
  eq(vsum_ptr(""), 0, "no varargs through a function pointer")
end

-- errno is the value the last C call left, even if Lua changes errno afterwards
lib.ct_set_errno(7)
local _ = io.open("/nonexistent/jitffi/file") -- sets the thread's errno to ENOENT
eq(ffi.errno(), 7, "ffi.errno() after a C call")
eq(ffi.errno(3), 7, "ffi.errno(n) returns the previous value")
eq(ffi.errno(), 3, "and sets it")

-- errors name the function and the argument
fails("bad argument #1 to 'ct_i32' (cannot convert 'string' to 'int')", lib.ct_i32, "x")
fails("wrong number of arguments for function call to 'ct_i32' (1 expected, got 2)", lib.ct_i32, 1, 2)
fails("wrong number of arguments for function call to 'ct_vsum' (at least 1 expected, got 0)", lib.ct_vsum)
fails("bad argument #3 to 'ct_vsum' (cannot convert 'table' to 'void *')", lib.ct_vsum, "ii", 1, {})
-- a Lua function becomes a callback (tests/lua/callbacks.lua); an error in it, here a
-- missing result, is raised when the C call returns
fails("cannot convert 'nil' to 'int'", lib.ct_apply, function() end, 1, 2)
eq(lib.ct_apply(function(a, b) return a * b end, 6, 7), 42, "a Lua function as a callback")
fails("attempt to call a NULL function pointer", function() return ffi.cast("ct_binop", nil)(1, 2) end)
fails("'int' is not callable", function() return ffi.new("int")() end)
fails("bad argument #1 to 'fabsl' (cannot convert 'number' to 'long double')", ffi.C.fabsl, 1)

-- long double passes from and to long double cdata (LuaJIT cannot call these)
local ld = ffi.C.fabsl(ffi.new("long double"))
eq(tostring(ffi.typeof(ld)), "ctype<long double>", "long double result is a cdata")
ffi.cdef "long double strtold(const char *, char **);"
local u = ffi.new("union { long double ld; uint8_t b[16]; }")
u.ld = ffi.C.strtold("2.5", nil)
local positive = ffi.string(u.b, 10)
u.ld = ffi.C.fabsl(ffi.C.strtold("-2.5", nil))
eq(ffi.string(u.b, 10), positive, "fabsl(-2.5L) is 2.5L, through the x87 stack")

-- C functions are Lua functions: they convert to function pointers and back
local add = lib.ct_pick(0)
eq(lib.ct_apply(add, 2, 3), 5, "function pointer result passed back to C")
eq(lib.ct_apply(ffi.cast("ct_binop", add), 4, 5), 9, "cast function pointer")
eq(tonumber(ffi.cast("intptr_t", ffi.C.strlen)) ~= 0, true, "a C function's address")
eq(tonumber(ffi.cast("size_t (*)(const char *)", ffi.C.strlen)("abc")), 3, "called through a cast")

-- calls inside coroutines, and errors inside them
local co = coroutine.wrap(function(n)
  for i = 1, 3 do n = coroutine.yield(lib.ct_i32(n)) end
  return lib.ct_i32("bad")
end)
eq(co(10), 9, "call in a coroutine")
eq(co(20), 19, "after resuming")
eq(co(30), 29, "again")
fails("cannot convert 'string' to 'int'", co, 40)

-- a stub is shared by every function of the same signature
eq(lib.ct_i32(1) + lib.ct_i8(1), 0, "two signatures")
for i = 1, 1000 do assert(lib.ct_i32(i) == i - 1) end

print("calls.lua: ok")
