-- Differential test: callbacks (Lua functions as C function pointers) as LuaJIT has
-- them, printed the same way under luajit and jitffi (tests/c/cbtest.c calls them):
-- ffi.cast and ffi.new of function pointer types, Lua functions passed to and stored in
-- function pointer parameters and fields, cb:set, cb:free and the "bad callback"
-- errors, tostring and type, every scalar type as argument and result, many arguments
-- (stack arguments), qsort with a Lua comparator (nested too), recursion through C,
-- coroutines, and the errors of creation. What LuaJIT cannot do (aggregates, complex,
-- long double, more than 16 arguments) and errors raised inside callbacks are in
-- tests/lua/callbacks.lua.
--
-- Prints a first line "SKIP: ..." and nothing else where ffi.cast cannot make a callback
-- (tests/diff.sh reports that as SKIP for that interpreter; luajit never skips).
local ffi = require "ffi"
local d = require "diffshow"

local dir = assert(os.getenv("JITFFI_TESTLIB_DIR"), "JITFFI_TESTLIB_DIR is not set")
local lib = ffi.load(dir .. "/libjitffi_cbtest.so")

local available, probe = pcall(ffi.cast, "int (*)(int)", function(x) return x end)
if not available then
  print("SKIP: callbacks not available (" .. tostring(probe) .. ")")
  return
end
probe:free()

ffi.cdef [[
int cb_call_int(int (*f)(int, int), int a, int b);
int cb_sum_calls(int (*f)(int), int n);
struct cb_holder { int (*fn)(int); int base; };
void cb_hold(struct cb_holder *h, int (*f)(int), int base);
int cb_call_held(const struct cb_holder *h, int x);
void cb_register(int (*f)(int)); int cb_fire(int x);
void cb_void(void (*f)(int), int x);
typedef int (*cb_unop)(int);
int cb_call_returned(cb_unop (*pick)(int), int which, int x);
int cb_twice(int x);
int8_t cb_pass_i8(int8_t (*)(int8_t), int8_t); uint8_t cb_pass_u8(uint8_t (*)(uint8_t), uint8_t);
int16_t cb_pass_i16(int16_t (*)(int16_t), int16_t); uint16_t cb_pass_u16(uint16_t (*)(uint16_t), uint16_t);
int32_t cb_pass_i32(int32_t (*)(int32_t), int32_t); uint32_t cb_pass_u32(uint32_t (*)(uint32_t), uint32_t);
int64_t cb_pass_i64(int64_t (*)(int64_t), int64_t); uint64_t cb_pass_u64(uint64_t (*)(uint64_t), uint64_t);
bool cb_pass_bool(bool (*)(bool), bool); float cb_pass_f32(float (*)(float), float);
double cb_pass_f64(double (*)(double), double); char cb_pass_char(char (*)(char), char);
unsigned long cb_pass_ulong(unsigned long (*)(unsigned long), unsigned long);
void *cb_pass_ptr(void *(*)(void *), void *);
enum cb_color { CB_RED = 1, CB_GREEN = 2, CB_BLUE = -3 };
enum cb_color cb_pass_enum(enum cb_color (*)(enum cb_color), enum cb_color);
int64_t cb_widen_i8(int8_t (*f)(void)); int64_t cb_widen_u16(uint16_t (*f)(void));
size_t cb_with_string(size_t (*f)(const char *), const char *s);
const char *cb_string_result(const char *(*f)(int), int n);
int cb_null_arg(int (*f)(void *));
int cb_with_array(void (*f)(int *, int), int n);
int64_t cb_many_ints(int64_t (*f)(int, int, int, int, int, int, int, int, int, int));
double cb_many_doubles(double (*f)(double, double, double, double, double, double,
                                   double, double, double, double, double, double));
double cb_mixed(double (*f)(int, double, int, double, int, double, int, double,
                            int, double, int, double, int, double, int, double));
int64_t cb_stack_small(int64_t (*f)(int, int, int, int, int, int, int8_t, uint16_t, int32_t,
                                    float, bool));
void qsort(void *base, size_t count, size_t size, int (*compare)(const void *, const void *));
]]

-- A value as text, alike everywhere: integers (numbers, 5.3+ integers, 64-bit cdata)
-- in decimal, other numbers with 17 digits, enums by value, pointers by address (NULL
-- cdata in LuaJIT and nil in jitffi alike as NULL).
local function v(x)
  if x == nil then
    return "NULL"
  elseif type(x) == "number" then
    if math.type and math.type(x) == "integer" then return ("%d"):format(x) end
    if x == math.floor(x) and math.abs(x) < 2 ^ 53 then return ("%d"):format(x) end
    return ("%.17g"):format(x)
  elseif type(x) == "cdata" then
    if ffi.istype("int64_t", x) or ffi.istype("uint64_t", x) then
      return (tostring(x):gsub("U?LL$", ""))
    elseif ffi.istype("enum cb_color", x) then
      return v(tonumber(x))
    elseif tostring(ffi.typeof(x)):find("*", 1, true) then
      if x == nil then return "NULL" end
      return ("0x%x"):format(tonumber(ffi.cast("uintptr_t", x)))
    end
  end
  return tostring(x)
end
local function list(...)
  local out = {}
  for i = 1, select("#", ...) do out[i] = v((select(i, ...))) end
  return table.concat(out, " ")
end
local function report(label, ok, ...)
  if ok then
    print(label, "ok " .. list(...))
  else
    -- jitffi adds the function's name and the counts to LuaJIT's message.
    print(label, (d.show(false, (...)):gsub("(wrong number of arguments for function call).*", "%1")))
  end
end
local function try(label, f, ...) report(label, pcall(f, ...)) end
local function addr(text) return (text:gsub("0x%x+", "ADDRESS")) end

-- Creation, identity, calls from Lua and from C
local add = ffi.cast("int (*)(int, int)", function(a, b) return a + b end)
print("type", type(add))
print("tostring", addr(tostring(add)))
print("typeof", tostring(ffi.typeof(add)))
print("istype", ffi.istype("int (*)(int, int)", add), ffi.istype("int", add))
print("sizeof", ffi.sizeof(add))
try("call from Lua", add, 2, 3)
try("call from C", lib.cb_call_int, add, 40, 2)
try("wrong argument count from Lua", add, 1)
local made = ffi.new("int (*)(int, int)", function(a, b) return a * b end)
try("ffi.new of a function", lib.cb_call_int, made, 6, 7)
local binop = ffi.typeof("int (*)(int, int)")
local called = binop(function(a, b) return a - b end)
try("ctype called with a function", lib.cb_call_int, called, 6, 7)
try("ffi.cast with a ctype", lib.cb_call_int, ffi.cast(binop, function(a, b) return b - a end), 6, 7)
try("Lua function as argument", lib.cb_call_int, function(a, b) return a * 100 + b end, 3, 4)
try("callback through void *", function()
  local p = ffi.cast("void *", add)
  return ffi.cast("int (*)(int, int)", p)(20, 22), ffi.cast("int (*)(int, int)", p) == add
end)
local calls = 0
try("called n times", lib.cb_sum_calls, function(i) calls = calls + 1 return i * i end, 10)
print("calls", calls)
try("called zero times", lib.cb_sum_calls, function() error("not called") end, 0)
try("void callback", function()
  local seen
  lib.cb_void(function(x) seen = x end, 21)
  return seen
end)
try("results after the first are ignored", lib.cb_call_int, function(a, b) return a + b, 99, "x" end, 1, 2)

-- Kept by C and called later: in a struct field, in a global
local holder = ffi.new("struct cb_holder")
holder.fn = function(x) return x * 3 end
holder.base = 1
try("field set to a Lua function", lib.cb_call_held, holder, 4)
try("field read and called from Lua", holder.fn, 5)
print("field tostring", addr(tostring(holder.fn)))
local init = ffi.new("struct cb_holder", { function(x) return -x end, 5 })
try("initializer with a Lua function", lib.cb_call_held, init, 2)
local kept = ffi.cast("cb_unop", function(x) return x + 1000 end)
lib.cb_hold(holder, kept, 10)
try("stored by C", lib.cb_call_held, holder, 1)
lib.cb_register(kept)
try("registered, fired", function() return lib.cb_fire(1), lib.cb_fire(2), lib.cb_fire(3) end)
do
  -- C keeps the callback; Lua drops its cdata: the callback lives on until freed.
  lib.cb_register(ffi.cast("cb_unop", function(x) return x + 500 end))
  collectgarbage()
  collectgarbage()
  try("registered, cdata collected, fired", lib.cb_fire, 1)
  lib.cb_register(kept)
end
kept:set(function(x) return x - 1000 end)
try("after set, from C", function() return lib.cb_fire(1), lib.cb_call_held(holder, 0) end)
try("after set, from Lua", kept, 5)

-- A callback returning a function pointer that C then calls: a C function or a callback
local twice_cb = ffi.cast("cb_unop", function(x) return x * 2 end)
local square_cb = ffi.cast("cb_unop", function(x) return x * x end)
local pick = ffi.cast("cb_unop (*)(int)", function(which)
  if which == 0 then return lib.cb_twice elseif which == 1 then return twice_cb end
  return square_cb
end)
try("returns a C function", lib.cb_call_returned, pick, 0, 21)
try("returns a callback", lib.cb_call_returned, pick, 1, 22)
try("returns another callback", lib.cb_call_returned, pick, 2, 9)

-- set and free
local cb = ffi.cast("cb_unop", function(x) return x + 1 end)
try("before set", lib.cb_sum_calls, cb, 4)
cb:set(function(x) return x * 10 end)
try("after set", lib.cb_sum_calls, cb, 4)
try("set to a non-function", cb.set, cb, 1)
try("set to nil", cb.set, cb, nil)
try("free", cb.free, cb)
try("call after free", cb, 1)
try("free after free", cb.free, cb)
try("set after free", cb.set, cb, function() return 0 end)
print("tostring after free", addr(tostring(cb)))
try("free of a C function pointer", function() return ffi.cast("cb_unop", lib.cb_twice):free() end)
try("free of NULL", function() return ffi.cast("cb_unop", nil):free() end)
try("free of an int", function() return ffi.new("int"):free() end)
try("set of a pointer", function() return ffi.cast("int *", nil):set(print) end)
try("other member of a callback", function() return add.foo end)
-- the methods again and again (read from a cache once met), the same for every callback
-- of the type and for none of the ctype's, and still not written
for i = 1, 3 do
  local temp = ffi.cast("cb_unop", function(x) return x + i end)
  print("methods, round " .. i, type(temp.free), temp.free == add.free, temp.set == add.set,
    temp.free == temp.set)
  try("other member, round " .. i, function() return temp.foo end)
  try("free, round " .. i, temp.free, temp)
end
try("free of the ctype", function() return ffi.typeof("cb_unop").free end)
try("set of the ctype", function() return ffi.typeof("int (*)(int, int)").set end)
try("write free", function() add.free = print end)
do
  local self_setting
  self_setting = ffi.cast("cb_unop", function(x)
    self_setting:set(function(y) return y * 100 end)
    return x
  end)
  try("set inside itself", lib.cb_sum_calls, self_setting, 3)
  self_setting:free()
end
for _ = 1, 3 do
  local temp = ffi.cast("cb_unop", function(x) return x + 7 end)
  try("create, call, free", lib.cb_sum_calls, temp, 3)
  temp:free()
end

-- Errors at creation
local f = function() return 0 end
try("cast to int", ffi.cast, "int", f)
try("cast to int *", ffi.cast, "int *", f)
try("cast to void *", ffi.cast, "void *", f)
try("cast to a struct pointer", ffi.cast, "struct cb_holder *", f)
try("cast to a function type", ffi.cast, "int (int)", f)
try("new of a function type", ffi.new, "int (int)", f)
try("cast of a table", ffi.cast, "cb_unop", {})
try("new of a table", ffi.new, "cb_unop", {})
try("table as argument", lib.cb_call_int, {}, 1, 2)
try("string as argument", lib.cb_call_int, "add", 1, 2)
try("number as argument", lib.cb_call_int, 5, 1, 2)
try("int field set to a function", function() ffi.new("struct cb_holder").base = f end)

-- Every scalar type: what the callback receives, what C gets back
local function pass(name, input, result)
  local seen
  local ok, got = pcall(lib["cb_pass_" .. name], function(x)
    seen = x
    if type(result) == "function" then return result(x) end
    return result
  end, input)
  if ok then
    print("pass " .. name, v(input), "received " .. v(seen), "C got " .. v(got))
  else
    print("pass " .. name, v(input), d.show(false, got))
  end
end
local function same(x) return x end
for _, x in ipairs({ 0, 1, -1, 127, -128 }) do pass("i8", x, same) end
pass("i8", 5, 300)
pass("i8", 5, -129)
pass("i8", 5, 2.75)
pass("i8", 5, -2.75)
pass("i8", 5, true)
pass("u8", 255, same)
pass("u8", 7, 256 + 3)
pass("u8", 7, -1)
pass("i16", -32768, same)
pass("i16", 1, 65535)
pass("u16", 65535, same)
pass("u16", 1, 70000)
pass("i32", -2147483648, same)
pass("i32", 1, 2 ^ 31 - 1)
pass("i32", 1, -2 ^ 31)
pass("i32", 1, 1e3 + 0.5)
pass("u32", 4294967295, same)
pass("u32", 1, 2 ^ 32 - 2)
pass("i64", ffi.new("int64_t", -2 ^ 62) * 2, same)
pass("i64", 5, 2 ^ 40)
pass("i64", 5, ffi.new("int64_t", 7) * 1000000000000)
pass("i64", 5, ffi.new("uint64_t", 9))
pass("u64", ffi.new("uint64_t", 2 ^ 63) + 5, same)
pass("u64", 1, 2 ^ 53)
pass("u64", 1, ffi.new("uint64_t", 0) - 1)
pass("ulong", ffi.new("uint64_t", 2 ^ 40), same)
pass("char", 65, same)
pass("char", 65, 200)
pass("bool", true, same)
pass("bool", false, same)
pass("bool", true, function(x) return not x end)
pass("bool", true, 0)
pass("bool", true, 2)
pass("f32", 0.1, same)
pass("f32", 1.5, 1 / 3)
pass("f32", 1.5, 2 ^ 200)
pass("f32", 2, 3)
pass("f64", 1 / 3, same)
pass("f64", 1, 2 ^ -1074)
pass("f64", 1, ffi.new("float", 0.1))
pass("f64", 1, ffi.new("int64_t", 12345))
pass("enum", 2, same)
pass("enum", "CB_BLUE", same)
pass("enum", 1, "CB_GREEN")
pass("enum", 1, -3)
pass("ptr", nil, same)
pass("ptr", ffi.cast("void *", 4096), same)
pass("ptr", ffi.cast("void *", 4096), function(p) return ffi.cast("char *", p) + 1 end)
pass("ptr", ffi.cast("void *", 4096), nil)
try("pointer result kept", function()
  local base = ffi.new("int[4]")
  local r = lib.cb_pass_ptr(function(p) return ffi.cast("int *", p) + 2 end, base)
  return ffi.cast("int *", r) - base
end)
try("int8_t result widened by C", function()
  return lib.cb_widen_i8(function() return -1 end), lib.cb_widen_i8(function() return 255 end)
end)
try("uint16_t result widened by C", function()
  return lib.cb_widen_u16(function() return -1 end), lib.cb_widen_u16(function() return 70000 end)
end)

-- Strings and pointers as arguments
try("const char * argument", lib.cb_with_string, function(s)
  return ffi.string(s) == "hello" and type(s) == "cdata" and tostring(ffi.typeof(s)) == "ctype<const char *>" and #ffi.string(s) or 0
end, "hello")
try("NULL argument", lib.cb_null_arg, function(p) return p == nil and 1 or 0 end)
try("int * argument written", lib.cb_with_array, function(p, n)
  for i = 0, n - 1 do p[i] = p[i] * 10 end
end, 5)
local keep = "from Lua"
try("const char * result", function() return ffi.string(lib.cb_string_result(function() return keep end, 1)) end)

-- Many arguments: on the stack past the registers
try("10 ints", lib.cb_many_ints, function(...)
  local sum = 0
  for i = 1, select("#", ...) do sum = sum + i * select(i, ...) end
  return sum * 1000 + select("#", ...)
end)
try("12 doubles", lib.cb_many_doubles, function(...)
  local sum = 0
  for i = 1, select("#", ...) do sum = sum + i * select(i, ...) end
  return sum
end)
try("16 mixed", lib.cb_mixed, function(...)
  print("  16 mixed received", list(...))
  local sum = 0
  for i = 1, select("#", ...) do sum = sum + i * select(i, ...) end
  return sum
end)
try("small integers on the stack", lib.cb_stack_small, function(...)
  print("  small received", list(...))
  local a, b, c, dd, e, ff, g, h, i, j, k = ...
  return a + b + c + dd + e + ff + g * 1000 + h * 100000 + i * 10 + j * 1000000 + (k and 7 or 0)
end)

-- qsort with a Lua comparator
local n = 1000
local ints = ffi.new("int[?]", n)
local seed, total = 12345, 0
for i = 0, n - 1 do
  seed = seed * 16807 % 2147483647 -- exact in doubles and in 5.3+ integers alike
  ints[i] = seed % 100000 - 50000
  total = total + ints[i]
end
local compare = ffi.cast("int (*)(const void *, const void *)", function(a, b)
  local x, y = ffi.cast("const int *", a)[0], ffi.cast("const int *", b)[0]
  return x < y and -1 or (x > y and 1 or 0)
end)
ffi.C.qsort(ints, n, ffi.sizeof("int"), compare)
local sorted, sum = true, ints[0]
for i = 1, n - 1 do
  if ints[i - 1] > ints[i] then sorted = false end
  sum = sum + ints[i]
end
print("qsort 1000", sorted, sum == total, ints[0], ints[n - 1])
local few = ffi.new("int[5]", { 5, -1, 4, 2, 3 })
ffi.C.qsort(few, 5, 4, function(a, b) return ffi.cast("const int *", b)[0] - ffi.cast("const int *", a)[0] end)
print("qsort with a Lua function, descending", few[0], few[1], few[2], few[3], few[4])

-- Nested: the comparator sorts copies of both rows with qsort (and its own comparator)
-- to compare the rows' smallest elements.
local rows = ffi.new("int[8][5]")
for r = 0, 7 do
  for c = 0, 4 do
    seed = seed * 16807 % 2147483647
    rows[r][c] = seed % 1000
  end
  rows[r][4] = r -- the row's id sorts last: it is not compared
end
local inner_calls, depth, deepest = 0, 0, 0
local smallest = function(row)
  local copy = ffi.new("int[4]")
  ffi.copy(copy, row, 4 * 4)
  ffi.C.qsort(copy, 4, 4, compare)
  inner_calls = inner_calls + 1
  return copy[0]
end
local by_min = ffi.cast("int (*)(const void *, const void *)", function(a, b)
  depth = depth + 1
  deepest = math.max(deepest, depth)
  local x, y = smallest(ffi.cast("const int *", a)), smallest(ffi.cast("const int *", b))
  depth = depth - 1
  return x < y and -1 or (x > y and 1 or 0)
end)
ffi.C.qsort(rows, 8, ffi.sizeof("int[5]"), by_min)
local order, ordered = {}, true
for r = 0, 7 do
  order[#order + 1] = rows[r][4]
  if r > 0 and smallest(rows[r - 1]) > smallest(rows[r]) then ordered = false end
end
print("nested qsort", ordered, table.concat(order, " "), inner_calls > 0, deepest)
compare:free()
by_min:free()

-- Recursion through C: each level a new call of the same callback
local fact
fact = ffi.cast("int (*)(int, int)", function(k, acc)
  if k <= 1 then return acc end
  return lib.cb_call_int(fact, k - 1, acc * k)
end)
try("recursion through C", lib.cb_call_int, fact, 10, 1)

-- Coroutines
try("called inside a coroutine", coroutine.wrap(function(a, b) return lib.cb_call_int(add, a, b) end), 30, 12)
try("inside nested coroutines", coroutine.wrap(function()
  return coroutine.wrap(function() return lib.cb_call_int(add, 1, 2) end)() + lib.cb_call_int(add, 3, 4)
end))
try("coroutine yields between calls", function()
  local co = coroutine.wrap(function()
    coroutine.yield(lib.cb_call_int(add, 1, 1))
    coroutine.yield(lib.cb_call_int(add, 2, 2))
    return lib.cb_call_int(add, 3, 3)
  end)
  return co(), co(), co()
end)
try("callback resumes a coroutine", function()
  local gen = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i * 10) end end)
  return lib.cb_sum_calls(function() return gen() end, 3)
end)
do
  -- Made and registered inside a coroutine that has ended (and been collected), then
  -- called from the main thread.
  local co = coroutine.create(function()
    local inner = ffi.cast("cb_unop", function(x) return x * 5 end)
    lib.cb_register(inner)
    return lib.cb_fire(1)
  end)
  local _, first = coroutine.resume(co)
  print("made inside a coroutine", v(first), coroutine.status(co))
end
collectgarbage()
collectgarbage()
try("called after its coroutine ended", lib.cb_fire, 2)
try("coroutine inside a callback", lib.cb_call_int, function(a, b)
  local co = coroutine.wrap(function(x) local y = coroutine.yield(x + 1) return y * 2 end)
  return co(a) + co(b)
end, 10, 20)
