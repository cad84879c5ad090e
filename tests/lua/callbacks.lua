-- Callbacks beyond what tests/diff/callbacks.lua compares with LuaJIT: structs and unions
-- by value as arguments and results (INTEGER, SSE, mixed, MEMORY with the hidden result
-- pointer, packed, nested, on the stack), long double, complex, more than 16 arguments,
-- errors raised inside callbacks (C gets a zeroed result and goes on; the error is raised
-- again when the C call returns), yields across a callback, 10,000 live callbacks,
-- freed slots reused, and a freed callback called from C (an error, not a crash). The C
-- side is tests/c/cbtest.c.
--
-- Where this ffi cannot make callbacks yet (ffi.cast of a Lua function fails) it prints
-- SKIP and exits with status 77, which tests/modules.sh reports as SKIP.
local ffi = require "ffi"
local check = require "check"
local eq = check.eq

local available, probe = pcall(ffi.cast, "int (*)(int)", function(x) return x end)
if not available then
  print("SKIP: callbacks not available (" .. tostring(probe) .. ")")
  os.exit(77)
end
probe:free()

local dir = assert(os.getenv("JITFFI_TESTLIB_DIR"), "JITFFI_TESTLIB_DIR is not set")
local lib = ffi.load(dir .. "/libjitffi_cbtest.so")
ffi.cdef [[
int cb_call_int(int (*f)(int, int), int a, int b);
int cb_sum_calls(int (*f)(int), int n);
typedef int (*cb_unop)(int);
void cb_register(int (*f)(int)); int cb_fire(int x);
struct cb_vec2 { double x, y; };
struct cb_vec2 cb_apply_vec2(struct cb_vec2 (*f)(struct cb_vec2, struct cb_vec2),
                             struct cb_vec2 a, struct cb_vec2 b);
struct cb_ii { int a, b; };
struct cb_id { int a; double x; };
struct cb_fff { float a, b, c; };
struct cb_big { int64_t a, b, c; };
struct __attribute__((packed)) cb_packed { char c; int i; };
union cb_u { int i; float f; };
struct cb_nested { struct cb_ii in; float f; };
int cb_ii_in(int (*f)(struct cb_ii), int a, int b);
int cb_ii_out(struct cb_ii (*f)(int, int), int a, int b);
double cb_id_in(double (*f)(struct cb_id), int a, double x);
double cb_id_out(struct cb_id (*f)(int, double), int a, double x);
double cb_fff_round(struct cb_fff (*f)(struct cb_fff), float a, float b, float c);
int64_t cb_big_round(struct cb_big (*f)(struct cb_big, int), int64_t a, int64_t b, int64_t c);
int cb_packed_round(struct cb_packed (*f)(struct cb_packed), char c, int i);
float cb_union_round(union cb_u (*f)(union cb_u), float x);
double cb_nested_round(struct cb_nested (*f)(struct cb_nested), int a, int b, float x);
double cb_structs_on_stack(double (*f)(int, int, int, int, int, int, struct cb_ii,
                                       double, double, double, double, double, double,
                                       double, double, struct cb_vec2, struct cb_big));
double cb_twenty(double (*f)(int8_t, double, struct cb_ii, float, int64_t, struct cb_vec2,
                             uint16_t, double, bool, float, struct cb_id, int, double,
                             double, double, double, double, double, int, double));
struct cb_ld1 { long double x; };
double cb_ld1_round(struct cb_ld1 (*f)(struct cb_ld1, int), double x);
#pragma pack(push, 1)
struct cb_pcf { char c; float complex z; };
#pragma pack(pop)
double cb_pcf_round(struct cb_pcf (*f)(struct cb_pcf), char c, float re, float im);
long double cb_ld_scale(long double x, int n);
double cb_ld_round(long double (*f)(long double, int), double x);
double complex cb_complex_round(double complex (*f)(double complex, float complex),
                                double re, double im);
float complex cb_complexf_out(float complex (*f)(float), float x);
int cb_guarded(int (*f)(int), int x);
double cb_guarded_double(double (*f)(double), double x);
int64_t cb_guarded_big(struct cb_big (*f)(void));
int cb_last_result(void); double cb_last_double_result(void); int64_t cb_last_big_sum(void);
int cb_return_count(void);
int cb_call_in_thread(int (*f)(int), int x);
int cb_with_array(void (*f)(int *, int), int n);
void qsort(void *base, size_t count, size_t size, int (*compare)(const void *, const void *));
]]

-- Calls f(...), asserts that it raises an error whose text matches every Lua pattern
-- given, and returns the text.
local function fails_matching(patterns, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error matching '" .. table.concat(patterns, "', '") .. "'")
  local text = tostring(err)
  for _, pattern in ipairs(patterns) do
    assert(text:find(pattern), "error '" .. text .. "' does not match '" .. pattern .. "'")
  end
  return text
end

-- Structs and unions by value ----------------------------------------------------------

-- SSE class both ways; the result as a cdata and as a table
local received
local sum = lib.cb_apply_vec2(function(a, b)
  received = a
  assert(ffi.istype("struct cb_vec2", a), "a struct argument is a cdata of its type")
  return ffi.new("struct cb_vec2", a.x + b.x, a.y * b.y)
end, { 1.5, 2 }, { 2.25, -3 })
eq(sum.x, 3.75, "vec2 result x")
eq(sum.y, -6, "vec2 result y")
eq(received.x, 1.5, "a struct argument kept after the callback returned is intact (a copy)")
sum = lib.cb_apply_vec2(function(a, b) return { a.y, b.x } end, { 1, 2 }, { 3, 4 })
eq(sum.x * 10 + sum.y, 23, "struct result from a table")
sum = lib.cb_apply_vec2(ffi.cast("struct cb_vec2 (*)(struct cb_vec2, struct cb_vec2)",
  function(a) return a end), { 7, 8 }, { 0, 0 })
eq(sum.x * 10 + sum.y, 78, "struct callback made by ffi.cast")

-- INTEGER class, mixed INTEGER + SSE, three floats (SSE + SSE)
eq(lib.cb_ii_in(function(s) return s.a * 100 + s.b end, 12, 34), 1234, "struct cb_ii argument")
eq(lib.cb_ii_out(function(a, b) return ffi.new("struct cb_ii", b, a) end, 5, 6), 6005, "struct cb_ii result")
eq(lib.cb_id_in(function(s) return s.a + s.x end, 3, 0.5), 3.5, "struct cb_id argument")
eq(lib.cb_id_out(function(a, x) return { a * 2, x / 2 } end, 4, 3), 8001.5, "struct cb_id result")
eq(lib.cb_fff_round(function(s) return { s.c, s.b, s.a } end, 1, 2, 3), 30201, "struct cb_fff both ways")

-- MEMORY class (24 bytes): the argument on the stack, the result through a hidden pointer
eq(tonumber(lib.cb_big_round(function(s, n)
  eq(tonumber(s.a) * 100 + tonumber(s.b) * 10 + tonumber(s.c), 123, "struct cb_big argument")
  return { s.c, s.b, tonumber(s.a) + n }
end, 1, 2, 3)), 3 * 10000 + 2 * 100 + 8, "struct cb_big result")

-- packed (unaligned member: MEMORY), union, nested
eq(lib.cb_packed_round(function(s) return { s.c + 1, s.i * 2 } end, 4, 500), 5 * 1000 + 1000, "packed struct both ways")
eq(lib.cb_union_round(function(u) return { f = u.f * 4 } end, 1.25), 5, "union both ways")
eq(lib.cb_union_round(function(u)
  local r = ffi.new("union cb_u")
  r.i = u.i -- the same bits
  return r
end, -2.5), -2.5, "union result as a cdata")
eq(lib.cb_nested_round(function(s)
  return { { s["in"].b, s["in"].a }, s.f + 1 }
end, 1, 2, 0.5), 2 * 10000 + 1 * 100 + 1.5, "nested struct both ways")

-- Aggregates after the registers: on the stack
eq(lib.cb_structs_on_stack(function(a, b, c, d, e, f, ii, d1, d2, d3, d4, d5, d6, d7, d8, v, big)
  local ints = a + b + c + d + e + f -- 21
  local doubles = d1 + d2 + d3 + d4 + d5 + d6 + d7 + d8 -- 36
  return ints + doubles * 100 + ii.a * 1e4 + ii.b * 1e5 + v.x + v.y
    + tonumber(big.a + big.b + big.c) * 1e6
end), 21 + 3600 + 7e4 + 8e5 + 0.75 + 600e6, "structs on the stack")

-- 20 arguments of every class (LuaJIT stops at 16)
eq(lib.cb_twenty(function(i8, d1, ii, f1, i64, v, u16, d2, b, f2, id, i, d3, d4, d5, d6, d7, d8, i2, d9)
  local values = { i8, d1, ii.a, ii.b, f1, tonumber(i64), v.x, v.y, u16, d2, b and 1 or 0, f2, id.a,
    id.x, i, d3, d4, d5, d6, d7, d8, i2, d9 }
  local total = 0
  for k, x in ipairs(values) do total = total + k * x end
  return total
end), (function()
  local values = { -5, 1.5, -1, -2, 2.5, 2 ^ 40, 3.5, -4.5, 65000, -6.5, 1, 7.25, 9, 0.125, 11, 12.5,
    13.5, 14.5, 15.5, 16.5, 17.5, 18, 19.5 }
  local total = 0
  for k, x in ipairs(values) do total = total + k * x end
  return total
end)(), "20 arguments")
eq(lib.cb_ii_in(function(s) return s.a - s.b end, 9, 4), 5, "a Lua function passed for a struct callback")
-- a full collection inside a callback, with struct arguments live
sum = lib.cb_apply_vec2(function(a, b)
  collectgarbage()
  local garbage = {}
  for i = 1, 1000 do garbage[i] = ffi.new("char[100]") end
  garbage = nil
  collectgarbage()
  return { a.x + b.x, a.y + b.y }
end, { 1, 2 }, { 3, 4 })
eq(sum.x * 10 + sum.y, 46, "struct arguments survive a collection inside the callback")

-- long double and complex ------------------------------------------------------------------

eq(lib.cb_ld_round(function(x, n)
  eq(tostring(ffi.typeof(x)), "ctype<long double>", "a long double argument is a long double cdata")
  eq(n, 3, "the int after a long double")
  return lib.cb_ld_scale(x, n)
end, 2.5), 7.5, "long double both ways")
local c = lib.cb_complex_round(function(a, b)
  return ffi.new("complex double", a.re + b.re, a.im * b.im)
end, 1, 2)
eq(c.re, 2.5, "complex result re")
eq(c.im, -4, "complex result im")
c = lib.cb_complexf_out(function(x) return ffi.new("complex float", x, -2 * x) end, 1.5)
eq(c.re * 10 + c.im, 15 - 3, "complex float result")

-- Errors inside callbacks: C gets a zeroed result and goes on; the error is raised again
-- when the C call returns -----------------------------------------------------------------

local returns = lib.cb_return_count()
fails_matching({ "boom in callback" }, lib.cb_guarded, function() error("boom in callback") end, 5)
eq(lib.cb_last_result(), 0, "C received 0 from the callback that raised")
eq(lib.cb_return_count(), returns + 1, "C went on after the callback raised")
fails_matching({ "cannot convert 'string' to 'int'" }, lib.cb_guarded, function() return "x" end, 5)
eq(lib.cb_last_result(), 0, "C received 0 when the result did not convert")
fails_matching({ "cannot convert 'nil' to 'int'" }, lib.cb_guarded, function() end, 5)
fails_matching({ "double went wrong" }, lib.cb_guarded_double, function() error("double went wrong") end, 1.5)
eq(lib.cb_last_double_result(), 0, "a double result is 0")
fails_matching({ "struct went wrong" }, lib.cb_guarded_big, function() error("struct went wrong") end)
eq(tonumber(lib.cb_last_big_sum()), 0, "a struct result is zeroed")
eq(lib.cb_return_count(), returns + 5, "C went on after every error")
do
  local object = { "an error value" }
  local ok, err = pcall(lib.cb_guarded, function() error(object) end, 1)
  assert(not ok, "an error object raised in a callback is raised again")
  assert(err == object or tostring(err):find("table"), "the error object: " .. tostring(err))
end
-- nested: C -> Lua -> C -> Lua raising; the error crosses both C calls
fails_matching({ "deep error" }, lib.cb_call_int, function(a, b)
  return lib.cb_guarded(function() error("deep error") end, a + b)
end, 1, 2)
-- the error handler of the inner C call: caught by a pcall inside the outer callback
eq(lib.cb_call_int(function(a, b)
  local ok = pcall(lib.cb_guarded, function() error("caught inside") end, a)
  return ok and -1 or a + b
end, 20, 22), 42, "an error caught inside an outer callback")
-- qsort goes on with zeroed comparisons; the error comes after it returns
do
  local values = ffi.new("int[8]", { 8, 7, 6, 5, 4, 3, 2, 1 })
  local count = 0
  fails_matching({ "comparator failed" }, ffi.C.qsort, values, 8, 4, function()
    count = count + 1
    error("comparator failed")
  end)
  -- after the error, the comparator returns 0 at once without running (as if the error
  -- were unwinding through qsort)
  eq(count, 1, "the comparator ran once")
end
-- a callback that frees itself: C's next call of it is an error
do
  local cb
  cb = ffi.cast("cb_unop", function(x)
    cb:free()
    return x + 1
  end)
  fails_matching({ "bad callback" }, lib.cb_sum_calls, cb, 3)
end
-- callbacks work as before after errors
eq(lib.cb_call_int(function(a, b) return a * b end, 6, 7), 42, "a callback after errors")
-- an error in a callback called from Lua is raised as any error
fails_matching({ "from Lua" }, ffi.cast("cb_unop", function() error("from Lua") end), 1)
-- yielding across the C call is an error, raised in the coroutine
fails_matching({ "yield" }, coroutine.wrap(function()
  return lib.cb_call_int(function() coroutine.yield(1) return 0 end, 1, 2)
end))
-- a variadic callback type cannot be made
fails_matching({ "function" }, ffi.cast, "int (*)(int, ...)", function() return 0 end)

-- Many callbacks ---------------------------------------------------------------------------

-- 10,000 live at once, each called once from C
local live = {}
for i = 1, 10000 do
  live[i] = ffi.cast("int (*)(int, int)", function(a, b) return a + b + i end)
end
for i = 1, 10000 do
  local got = lib.cb_call_int(live[i], i, 1)
  if got ~= 2 * i + 1 then error("live callback " .. i .. ": got " .. got .. ", want " .. 2 * i + 1) end
end
for i = 1, 10000 do live[i]:free() end
live = nil

-- freed slots are reused: 20,000 made and freed one after another
for i = 1, 20000 do
  local cb = ffi.cast("cb_unop", function(x) return x + i end)
  if i % 1000 == 0 then eq(lib.cb_sum_calls(cb, 2), 1 + 2 * i, "callback " .. i .. " of 20,000") end
  cb:free()
end
-- and with set in between
local reused = ffi.cast("cb_unop", function(x) return x end)
for i = 1, 1000 do reused:set(function(x) return x * i end) end
eq(lib.cb_sum_calls(reused, 3), 3 * 1000, "after 1,000 sets")
reused:free()

-- a freed callback, and the function a set replaced, no longer hold their function
do
  local held = setmetatable({}, { __mode = "k" })
  local first, second = function(x) return x end, function(x) return x + 1 end
  held[first], held[second] = true, true
  local cb = ffi.cast("cb_unop", first)
  cb:set(second)
  eq(lib.cb_sum_calls(cb, 2), 3, "the function set")
  cb:free()
  first, second = nil, nil
  collectgarbage("collect")
  collectgarbage("collect")
  eq(next(held), nil, "functions of a freed callback collected")
  -- the freed slot is taken again, with its new function
  local again = ffi.cast("cb_unop", function(x) return x * 7 end)
  eq(lib.cb_sum_calls(again, 2), 7, "a reused slot calls its new function")
  again:free()
end

-- A freed callback called from C raises an error instead of crashing
do
  local freed = ffi.cast("cb_unop", function(x) return x end)
  lib.cb_register(freed)
  eq(lib.cb_fire(4), 4, "registered callback")
  freed:free()
  fails_matching({ "callback" }, lib.cb_fire, 4)
  local pair = ffi.cast("int (*)(int, int)", function(a, b) return a + b end)
  pair:free()
  fails_matching({ "callback" }, lib.cb_call_int, pair, 1, 2)
end

-- Deep nesting, callback -> C -> callback: each level is one lua_pcall, so Lua's limit on
-- nested C calls (LUAI_MAXCCALLS, 200) allows about 195 levels; beyond, an error
do
  local deepest = 0
  local limit = 180
  local recurse
  recurse = ffi.cast("int (*)(int, int)", function(level, stop)
    if level > deepest then deepest = level end
    if level == stop then return level end
    return lib.cb_call_int(recurse, level + 1, stop)
  end)
  eq(lib.cb_call_int(recurse, 1, limit), limit, "callbacks nested " .. limit .. " deep")
  local ok = pcall(lib.cb_call_int, recurse, 1, 100000)
  assert(not ok, "nesting without end is an error, not a crash")
  assert(deepest < 1000, "stopped by Lua's limit")
  eq(lib.cb_call_int(recurse, 1, 3), 3, "callbacks work after the overflow")
  recurse:free()
end

-- Pointer arguments are new cdata on every call, also when the callback keeps them: jitffi
-- makes them ahead, in batches, and hands each out once
do
  local n = 400
  local values = ffi.new("int[?]", n)
  for i = 0, n - 1 do values[i] = (i * 7919) % n end
  local kept, calls = {}, 0
  ffi.C.qsort(values, n, 4, function(a, b)
    calls = calls + 1
    kept[#kept + 1] = { a, tonumber(ffi.cast("intptr_t", a)) }
    kept[#kept + 1] = { b, tonumber(ffi.cast("intptr_t", b)) }
    local x, y = ffi.cast("const int *", a)[0], ffi.cast("const int *", b)[0]
    return x < y and -1 or (x > y and 1 or 0)
  end)
  for i = 0, n - 1 do eq(values[i], i, "qsort sorted through a keeping comparator") end
  assert(calls > 200, "enough comparisons to use several batches")
  local distinct = {}
  for _, pair in ipairs(kept) do
    eq(tonumber(ffi.cast("intptr_t", pair[1])), pair[2], "a kept pointer argument keeps its value")
    assert(not distinct[pair[1]], "each pointer argument is its own cdata")
    distinct[pair[1]] = true
  end
end
-- ... also when finalizers that run callbacks with pointer arguments run while a batch is
-- being made (a collection step inside it)
do
  local inner_calls = 0
  local inner = ffi.cast("void (*)(int *, int)", function(p, count)
    for i = 0, count - 1 do
      assert(p[i] == i + 1, "a pointer argument inside a finalizer")
    end
    inner_calls = inner_calls + 1
  end)
  collectgarbage("collect")
  local pause = check.gc_param("pause", 10)
  local finalizers = 0
  for round = 1, 20 do
    for _ = 1, 50 do
      ffi.gc(ffi.new("int[4]"), function()
        finalizers = finalizers + 1
        eq(lib.cb_with_array(inner, 3), 6, "a callback from a finalizer")
      end)
    end
    local values = ffi.new("int[64]")
    for i = 0, 63 do values[i] = (i * 37 + round) % 64 end
    ffi.C.qsort(values, 64, 4, function(a, b)
      return ffi.cast("const int *", a)[0] - ffi.cast("const int *", b)[0]
    end)
    for i = 0, 63 do eq(values[i], i, "qsort while finalizers run callbacks") end
  end
  collectgarbage("collect")
  check.gc_param("pause", pause)
  assert(finalizers > 0 and inner_calls == finalizers, "the finalizers ran their callbacks")
  inner:free()
end

-- Called on another OS thread: not run there, C gets 0 (jitffi tells stderr), no crash
do
  local ran = false
  local cb = ffi.cast("cb_unop", function(x) ran = true return x + 1 end)
  eq(lib.cb_call_in_thread(cb, 5), 0, "a callback called on another thread returns 0")
  eq(ran, false, "the Lua function did not run on the other thread")
  eq(lib.cb_sum_calls(cb, 2), 3, "and it still runs on its own thread")
  cb:free()
end

-- Classification corner cases (last: a wrong plan can crash) -------------------------------

-- packed, a complex float at offset 1: an unaligned field, MEMORY both ways (gcc)
eq(lib.cb_pcf_round(function(s)
  eq(s.c * 100 + s.z.re * 10 + s.z.im, 123, "packed struct with a complex float argument")
  return { s.c + 1, ffi.new("complex float", s.z.re + 1, s.z.im + 1) }
end, 1, 2, 3), 234, "packed struct with a complex float both ways")
-- one long double: X87 + X87UP, the argument in memory, the result in st0 (gcc)
eq(lib.cb_ld1_round(function(s, n)
  local x = ffi.new("long double[1]")
  ffi.copy(x, s, ffi.sizeof("long double"))
  return { lib.cb_ld_scale(ffi.new("long double", ffi.cast("long double &", x)), n) }
end, 2.5), 7.5, "struct of one long double both ways")
