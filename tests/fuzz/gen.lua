-- The generator of tests/fuzz.sh: writes on stdout a random Lua program that uses the
-- ffi API wrongly and rightly (wrong types, counts and sizes, NULLs, freed and
-- re-pointed callbacks, errors and API re-entry in finalizers, callbacks and
-- metamethods, garbage cdef text, out-of-range numbers), under random GC stress
-- settings. Every statement runs in pcall: Lua errors are expected and fine. What must
-- never happen is a crash, a panic, a hang or a memory error (fuzz.sh checks those).
--
--   lua5.4 tests/fuzz/gen.lua SEED [STATEMENTS] > prog.lua
--
-- The program depends only on SEED and STATEMENTS (the random numbers are exact in a
-- double, so any Lua generates the same text). It runs unchanged on LuaJIT and on PUC
-- Lua 5.1-5.5 with the ffi module.
--
-- Only misuse the ffi must survive is generated, not what is undefined in C and crashes
-- LuaJIT too, by design: pointers are made only from 0, nil or the anchors K (objects
-- of 256 bytes that live as long as the program; a pointer to a temporary would
-- dangle), function pointers only from 0, nil or Lua functions (never from data),
-- numeric indexes that write stay inside an anchor, copies and strings stay inside
-- their objects, and C is called only with scalars or with buffers it may use. KNOWN_BUGS below lists the kinds of statement
-- that crash today because of a known, reported bug; they are generated only with
-- JITFFI_API_FUZZ_ALL=1, so that CI stays green until the fix lands.

local seed = tonumber(arg and arg[1]) or 1
local statements = tonumber(arg and arg[2]) or 60
local all = os.getenv("JITFFI_API_FUZZ_ALL") == "1"

-- Kinds of statement left out (with the bug each hits) unless JITFFI_API_FUZZ_ALL=1.
local KNOWN_BUGS = {
  -- name = "why" (the kind of statement and the bug it hits)
}

-- Park-Miller minimal standard generator: every product stays below 2^53.
local state = (seed % 2147483646) + 1
local function rand(n)
  state = (state * 16807) % 2147483647
  return state % n + 1
end
local function pick(list) return list[rand(#list)] end
local function chance(percent) return rand(100) <= percent end

local out = {}
local function emit(fmt, ...) out[#out + 1] = string.format(fmt, ...) end

-- Values ------------------------------------------------------------------------------

local numbers = { "0", "1", "-1", "3", "17", "255", "-128", "65536", "2^31", "-2^31", "2^32", "2^53",
  "2^63", "-2^63", "2^64", "1e308", "-1e308", "0/0", "1/0", "-1/0", "0.5", "-0.5", "1e-310" }
local strings = { '""', '"abc"', '"int"', '"struct fz_a"', '"\\0x\\255"', '("x"):rep(300)', '"3"', '"0x10"',
  '"FZ_ONE"', '"nope"' }
local others = { "nil", "true", "false", "{}", "{1, 2, 3}", "{x = 1, y = 2}", "{ {1, 2}, 3 }", "function() end",
  "io.stdout", "coroutine.create(function() end)", "print", "V", "ffi", "ffi.C",
  "setmetatable({}, {__index = function() error('index boom') end})" }
local anchors = { "K[1]", "K[2]", "K[3]", "K[4]", "K[5]", "K[6]" }
local cdata = { 'ffi.new("int", 7)', 'ffi.new("int64_t", -1)', 'ffi.new("uint64_t", 2^63)',
  'ffi.new("double", 0.5)', 'ffi.new("int[4]", 1, 2, 3, 4)', 'ffi.new("struct fz_a")',
  'ffi.new("struct fz_a[2]")', 'ffi.new("char[8]", "abc")', 'ffi.cast("void *", 0)', 'ffi.cast("int *", 0)',
  'ffi.new("struct fz_vls", 3)', 'ffi.new("union fz_u")', 'ffi.new("struct fz_bf")', 'ffi.new("bool", true)',
  'ffi.new("complex", 1, 2)', 'ffi.new("enum fz_e", 1)', 'ffi.new("struct fz_a *")', 'ffi.typeof("int")',
  'ffi.typeof("struct fz_a")', 'ffi.new("char *")', 'ffi.new("fz_fn")', 'ffi.cast("fz_fn", 0)',
  "K[1]", "K[3]", "K[5]", 'ffi.cast("int *", K[1])', 'ffi.cast("struct fz_a *", K[2])' }

local function slot() return string.format("V[%d]", rand(12)) end

-- An expression of any kind.
local function value()
  local r = rand(100)
  if r <= 25 then return pick(numbers)
  elseif r <= 35 then return pick(strings)
  elseif r <= 50 then return pick(others)
  elseif r <= 75 then return pick(cdata)
  else return slot()
  end
end

-- Type names, good and bad, by what they may be made from.
local types = { "int", "int8_t", "uint8_t", "int16_t", "uint32_t", "int64_t", "uint64_t", "double", "float",
  "bool", "char", "int[4]", "int[?]", "char[?]", "struct fz_a", "struct fz_a[?]", "union fz_u", "struct fz_vls",
  "struct fz_bf", "enum fz_e", "complex double", "complex float", "long double", "size_t", "intptr_t", "void",
  "struct fz_incomplete", "int[0]", "int[2][3]", "struct fz_nested",
  "int int", "struct", "[", "", "int[-1]", "int[4294967296]", "unsigned float", "struct fz_a[2147483648]",
  "int[?][?]", "$", "int ($)", "struct { int x; }", "union { double d; char c[3]; }" }
local pointer_types = { "char *", "const char *", "void *", "int *", "struct fz_a *", "struct fz_incomplete *",
  "union fz_u *", "double *", "struct fz_nested *", "long double *" }
local function_types = { "fz_fn", "int (*)(int)", "int (*)(...)", "void (*)(void)", "double (*)(double, double)",
  "struct fz_a (*)(int)", "bool (*)(int8_t, uint64_t)", "int (*)(const void *, const void *)" }
if all then
  types[#types + 1] = "int &"
  types[#types + 1] = "struct fz_a &"
end

-- A type and a value to make an object of it from (the value safe for the type).
local function typed_value()
  local r = rand(100)
  if r <= 70 then return string.format("%q", pick(types)), value()
  elseif r <= 85 then
    return string.format("%q", pick(pointer_types)), pick({ "0", "nil", pick(anchors), "K[1] + 1" })
  elseif r <= 93 then
    return string.format("%q", pick(function_types)), pick({ "0", "nil", "function() end", "print" })
  else
    return pick({ 'ffi.typeof("int")', 'ffi.typeof("struct fz_a")', 'ffi.typeof("int[?]")' }), value()
  end
end
-- A type only (for sizeof, istype, typeof, ffi.new without a value).
local function ctype()
  local r = rand(100)
  if r <= 60 then return string.format("%q", pick(types))
  elseif r <= 75 then return string.format("%q", pick(pointer_types))
  elseif r <= 85 then return string.format("%q", pick(function_types))
  elseif r <= 92 then return pick({ 'ffi.typeof("int")', 'ffi.typeof("struct fz_a")', 'ffi.typeof("int[?]")',
    'ffi.typeof("fz_fn")', 'ffi.typeof("$ *", ffi.typeof("int"))' })
  else return value()
  end
end

-- Counts and sizes: small, zero, negative, huge, not a number.
local counts = { "0", "1", "2", "3", "-1", "2^31", "2^32", "2^53", "0/0", "1/0", "-1/0", "0.5", '"3"', '"x"',
  "nil", "{}", 'ffi.new("int64_t", -1)', 'ffi.new("uint64_t", 2^40)' }

-- Garbage and near-miss C declarations, made fresh each time (names may collide).
local decl_parts = { "int", "struct", "union", "enum", "typedef", "const", "volatile", "unsigned", "long",
  "double", "*", "&", "(", ")", "[", "]", "{", "}", ";", ",", ":", "=", "3", "-1", "0x7fffffff",
  "18446744073709551615", "...", "__attribute__((packed))", "__attribute__((aligned(16)))",
  "__attribute__((aligned(3)))", "#pragma pack(1)\n", "fz_a", "fz_t", "x", "y", "f", "$", "?", "\"s\"",
  "/*", "*/", "//", "\n", "sizeof", "static const int", "extern", "__asm__(\"abs\")" }
local function garbage_cdef()
  local parts = {}
  for i = 1, rand(14) do parts[i] = pick(decl_parts) end
  return string.format("%q", table.concat(parts, " "))
end
local good_decls = {
  "struct fz_s%d { int a; double b; }", "typedef int fz_t%d", "enum fz_e%d { FZ_A%d = 1, FZ_B%d }",
  "struct fz_p%d { char c; int x : 3; unsigned y : 7; }", "int fz_fn%d(int, ...)",
  "union fz_w%d { int i; float f; }", "struct fz_v%d { int n; double d[?]; }",
  "static const int FZ_K%d = 5", "struct fz_a", "int fz_r%d[?]",
}
local function cdef_text()
  local n = rand(1000)
  if chance(50) then return garbage_cdef() end
  local decl = pick(good_decls):gsub("%%d", tostring(n))
  return string.format("%q", decl .. (chance(80) and ";" or ""))
end

-- A function body that misbehaves: errors, returns junk, re-enters the ffi, collects.
local function misbehaving_body()
  return pick({
    "error('boom')",
    "error(setmetatable({}, {__tostring = function() error('tostring boom') end}))",
    "return " .. value(),
    "ffi.cdef(" .. cdef_text() .. ")",
    "local x = ffi.new(" .. ctype() .. ", " .. pick(counts) .. "); return x",
    "collectgarbage(); return 1",
    slot() .. " = " .. value(),
    "return ffi.gc(ffi.new(\"int[3]\"), function() error('gc boom') end)",
    "local c = ffi.cast(\"fz_fn\", function() return 1 end); return c",
    "return ffi.string(\"abc\", 2)",
    "return (" .. value() .. ") + 1",
    "return nil",
  })
end
local function misbehaving_function()
  return "function(...) " .. misbehaving_body() .. " end"
end

-- Statements ----------------------------------------------------------------------------

local kinds = {}

kinds.new = function()
  -- A count only means something to a VLA or VLS; anything else must refuse it.
  local t = pick({ '"int[?]"', '"char[?]"', '"struct fz_a[?]"', '"struct fz_vls"', '"int[?][?]"', ctype() })
  emit("%s = ffi.new(%s%s)", slot(), t, chance(80) and (", " .. pick(counts)) or "")
end
kinds.new_init = function()
  local t, v = typed_value()
  local args = { v }
  if not t:find("%*") and not t:find("fz_fn") then
    for i = 2, rand(5) - 1 do args[i] = value() end
  end
  emit("%s = ffi.new(%s, %s)", slot(), t, table.concat(args, ", "))
end
kinds.cast = function()
  local t, v = typed_value()
  emit("%s = ffi.cast(%s, %s)", slot(), t, v)
end
kinds.typeof = function() emit("%s = ffi.typeof(%s%s)", slot(), ctype(), chance(30) and (", " .. value()) or "") end
kinds.istype = function() emit("local _ = ffi.istype(%s, %s)", ctype(), value()) end
kinds.sizes = function()
  emit("local _ = ffi.%s(%s%s)", pick({ "sizeof", "alignof", "offsetof" }), ctype(),
    chance(50) and (", " .. pick({ '"a"', '"b"', '"c"', '"nope"', "1", "nil", pick(counts) })) or "")
end
kinds.cdef = function() emit("ffi.cdef(%s)", cdef_text()) end
kinds.cdef_params = function() emit("local _ = ffi.typeof(%q, %s, %s)", pick({ "$", "$ *", "struct { $ x; }", "$[$]", "int[$]" }), value(), value()) end
kinds.string = function()
  -- Within the object, or NULL, or a non-pointer: never past an object's end.
  if chance(50) then
    emit("local _ = ffi.string(%s, %s)", pick({ 'ffi.new("char[8]", "abcdefg")', "nil", "ffi.cast('char *', 0)",
      '"literal"', 'ffi.new("int[2]")', pick(anchors) }), pick({ "0", "3", "-1", "0/0", '"2"', "nil", "{}", "2^70" }))
  else
    emit("local _ = ffi.string(%s%s)", value(), chance(30) and ", 0" or "")
  end
end
kinds.copy_fill = function()
  local buf = pick({ 'ffi.new("char[16]")', pick(anchors) })
  local r = rand(4)
  if r == 1 then emit("ffi.copy(%s, %s, %s)", buf, pick({ '"abcd"', pick(anchors), "nil", "ffi.cast('void *', 0)", "{}" }),
    pick({ "0", "3", "16", "nil", '"x"', "-1", "0/0" }))
  elseif r == 2 then emit("ffi.copy(%s, %s)", buf, pick({ '"abcdefghijklmno"', pick({ '""', '"ab"', '"\\0\\1"' }), "nil", "{}",
    'ffi.new("int[4]")' }))
  elseif r == 3 then emit("ffi.fill(%s, %s%s)", buf, pick({ "0", "16", "8", '"x"', "nil", "{}" }), chance(50) and (", " .. value()) or "")
  else emit("ffi.fill(%s, %s)", value(), pick({ "0", '"x"', "{}" }))
  end
end
kinds.arith = function()
  emit("local _ = (%s) %s (%s)", value(), pick({ "+", "-", "*", "/", "%", "^", "==", "<", "<=", ".." }), value())
end
kinds.unary = function() emit("local _ = %s(%s)", pick({ "-", "#", "tostring", "tonumber", "type", "not " }), value()) end
kinds.index = function()
  -- Fields by name anywhere; numbers only where they stay inside the object (0 to 3 in
  -- the anchors and pointers into them).
  local names = { '"a"', '"b"', '"c"', '"n"', '"d"', '"i"', '"x"', '"nope"', "nil", "{}", "true", "print" }
  local obj, key
  if chance(40) then
    obj = pick({ pick(anchors), 'ffi.cast("int *", K[1])', 'ffi.cast("struct fz_nested *", K[4])',
      'ffi.cast("char *", K[3])', 'ffi.cast("long double *", K[6])', 'ffi.cast("union fz_u *", K[2])' })
    key = pick({ "0", "1", "2", "3", 'ffi.new("int64_t", 2)', 'ffi.new("uint8_t", 1)', "2.5", pick(names) })
  else
    -- (not 0: a VLA may have no element, and LuaJIT does not check bounds either)
    obj = pick({ slot(), value() })
    key = pick(names)
  end
  if chance(50) then emit("local _ = (%s)[%s]", obj, key) else emit("(%s)[%s] = %s", obj, key, value()) end
end
kinds.call = function()
  local args = {}
  for i = 1, rand(5) - 1 do args[i] = value() end
  emit("local _ = (%s)(%s)", pick({ slot(), value(), "ffi.C.abs", "ffi.C.labs", "ffi.C.fabs", "ffi.C.pow",
    "ffi.C.fz_vsum", "ffi.C.fz_missing" }), table.concat(args, ", "))
end
kinds.c_call = function()
  -- Wrong counts and types into scalar-only C functions.
  local args = {}
  for i = 1, rand(4) - 1 do args[i] = pick({ pick(numbers), pick(strings), "nil", "true", 'ffi.new("int64_t", -5)',
    'ffi.new("struct fz_a")', "{}", 'ffi.new("double", 2)', '"FZ_ONE"' }) end
  emit("local _ = ffi.C.%s(%s)", pick({ "abs", "labs", "llabs", "fabs", "pow", "floor", "fmod", "atan2", "fz_vsum" }),
    table.concat(args, ", "))
end
kinds.callback = function()
  local s = slot()
  emit("%s = ffi.cast(%q, %s)", s, pick(function_types),
    pick({ misbehaving_function(), "function(...) return ... end", "0", "nil", "print", "{}", "true" }))
  local then_ = rand(6)
  if then_ == 1 then emit("%s:free()", s)
  elseif then_ == 2 then emit("%s:free(); %s:free()", s, s)
  elseif then_ == 3 then emit("%s:set(%s)", s, pick({ misbehaving_function(), value(), "nil" }))
  elseif then_ == 4 then emit("%s:free(); local _ = %s(1, 2)", s, s)
  elseif then_ == 5 then emit("local _ = %s(%s, %s)", s, value(), value())
  else emit("%s:set(nil)", s)
  end
end
kinds.qsort = function()
  -- C calls back into Lua; the comparator misbehaves (errors propagate through qsort).
  emit("local a = ffi.new('int[8]', 5, 3, 8, 1, 9, 2, 7, 4)")
  emit("local cb = ffi.cast('int (*)(const void *, const void *)', %s)",
    pick({ misbehaving_function(), "function(x, y) return ffi.cast('int *', x)[0] - ffi.cast('int *', y)[0] end",
      "function(x, y) collectgarbage(); return 0 end" }))
  emit("local ok = pcall(ffi.C.qsort, a, 8, 4, cb)")
  if chance(50) then emit("cb:free()") end
end
kinds.gc = function()
  emit("%s = ffi.gc(%s, %s)", slot(), pick({ 'ffi.new("int[2]")', 'ffi.new("struct fz_a")', value() }),
    pick({ misbehaving_function(), "nil", value(), "function(c) " .. slot() .. " = c end" }))
end
kinds.metatype = function()
  local n = rand(1000)
  emit("ffi.cdef(%q)", string.format("struct fz_m%d { int a; double b; }", n))
  local mt = pick({ "{}", "{__index = " .. misbehaving_function() .. "}",
    "{__gc = " .. misbehaving_function() .. "}", "{__new = " .. misbehaving_function() .. "}",
    "{__add = " .. misbehaving_function() .. ", __tostring = " .. misbehaving_function() .. "}",
    "{__index = {f = " .. misbehaving_function() .. "}}", "{__len = " .. misbehaving_function() .. "}", value() })
  emit("local T = ffi.metatype(%q, %s)", string.format("struct fz_m%d", n), mt)
  emit("%s = T(%s)", slot(), pick({ "", "1", "1, 2", value() }))
  if chance(40) then emit("local _ = %s + 1", slot()) end
  if chance(40) then emit("local _ = ffi.metatype(%q, {})", string.format("struct fz_m%d", n)) end
end
kinds.misc = function()
  local r = rand(6)
  if r == 1 then emit("ffi.errno(%s)", pick({ value(), "0", "-1", "2^40" }))
  elseif r == 2 then emit("local _ = ffi.abi(%s)", pick({ '"64bit"', '"le"', '"nope"', value() }))
  elseif r == 3 then emit("local _ = ffi.load(%s)", pick({ '"nope"', '""', '"/"', value(), '"c"', '"m"' }))
  elseif r == 4 then emit("local _ = tostring(%s), tonumber(%s)", slot(), slot())
  elseif r == 5 then emit("for _ = 1, 20 do local _ = ffi.new(%s) end", ctype())
  else emit("local _ = ffi.C[%s]", value())
  end
end
kinds.gc_stress = function()
  local r = rand(5)
  if r == 1 then emit("collectgarbage()")
  elseif r == 2 then emit("collectgarbage('step', %d)", rand(100))
  elseif r == 3 then emit("for i = 1, 12 do %s = nil end; collectgarbage()", "V[i]")
  elseif r == 4 then emit("for _ = 1, 50 do ffi.gc(ffi.new('int[4]'), %s) end", misbehaving_function())
  else emit("setmetatable({}, {__gc = %s})", misbehaving_function())
  end
end
kinds.null_reference = function()
  emit("local r = ffi.new(%q)", pick({ "int &", "struct fz_a &" }))
  emit("local _ = %s", pick({ "ffi.C.abs(r)", "r + 1", "r < 1", "r == 1", "ffi.new('int', r)", "tonumber(r)" }))
end
kinds.raw_metamethods = function()
  emit("local mt = debug.getmetatable(%s)", pick(cdata))
  emit("local f = mt and mt[%q]", pick({ "__index", "__newindex", "__call", "__add", "__eq", "__lt", "__len",
    "__concat", "__tostring", "__gc", "__unm" }))
  local args = {}
  for i = 1, rand(4) - 1 do args[i] = value() end
  emit("if f then local _ = f(%s) end", table.concat(args, ", "))
end

local weights = {
  new = 8, new_init = 8, cast = 8, typeof = 5, istype = 2, sizes = 4, cdef = 7, cdef_params = 3, string = 3,
  copy_fill = 3, arith = 7, unary = 3, index = 8, call = 5, c_call = 5, callback = 6, qsort = 3, gc = 5,
  metatype = 4, misc = 4, gc_stress = 5, null_reference = 2, raw_metamethods = 3,
}
local names, total = {}, 0
for name in pairs(weights) do
  if all or not KNOWN_BUGS[name] then names[#names + 1] = name end
end
table.sort(names)
for _, name in ipairs(names) do total = total + weights[name] end
local function pick_kind()
  local r = rand(total)
  for _, name in ipairs(names) do
    r = r - weights[name]
    if r <= 0 then return name end
  end
end

-- The program ------------------------------------------------------------------------------

emit("-- tests/fuzz/gen.lua seed %d, %d statements%s", seed, statements, all and " (JITFFI_API_FUZZ_ALL=1)" or "")
emit("local ffi = require 'ffi'")
emit("local V, errors = {}, 0")
emit([[local function step(f)
  local ok = pcall(f)
  if not ok then errors = errors + 1 end
end]])
-- Declarations every program starts from (pcall'd: a runner without some feature must
-- still run the rest).
emit([[step(function() ffi.cdef [=[
  struct fz_a { int a; double b; char c[3]; };
  union fz_u { int64_t i; double d; uint8_t b[8]; };
  struct fz_vls { int n; int d[?]; };
  struct fz_nested { struct fz_a x; union fz_u u[2]; };
  struct fz_incomplete;
  enum fz_e { FZ_ZERO, FZ_ONE, FZ_BIG = 0x7fffffff };
  typedef int (*fz_fn)(int);
  int abs(int); long labs(long); long long llabs(long long); double fabs(double); double pow(double, double);
  double floor(double); double fmod(double, double); double atan2(double, double);
  void qsort(void *, size_t, size_t, int (*)(const void *, const void *));
  int printf(const char *, ...);
  double fz_vsum(int, ...) __asm__("fz_no_such_symbol");
]=] end)
-- Wider than LuaJIT's bitfields (32 bits): alone, so that the rest stands without it.
step(function() ffi.cdef "struct fz_bf { unsigned a : 3; int b : 5; bool c : 1; uint64_t d : 40; };" end)
step(function() ffi.cdef "struct fz_bf { unsigned a : 3; int b : 5; bool c : 1; uint32_t d : 20; };" end)]])
-- The anchors: 256 bytes or more each, alive to the end; pointers point only into these.
emit("local K = { ffi.new('int[64]'), ffi.new('union fz_u[32]'), ffi.new('char[256]'), ffi.new('struct fz_nested[8]'),")
emit("  ffi.new('struct fz_bf[32]'), ffi.new('long double[16]') }")
-- GC stress: a setting per program.
-- gc(name, value) sets a parameter of the collector as each Lua spells it (5.5 dropped
-- collectgarbage's "setpause" and "setstepmul" for "param").
emit([[local function gc(name, value)
  if _VERSION == "Lua 5.5" then return collectgarbage("param", name, value) end
  return collectgarbage("set" .. name, value)
end]])
local gc_settings = {
  "gc('pause', 0)", "gc('pause', 0); gc('stepmul', 1000)",
  "gc('stepmul', 100)", "collectgarbage('generational')", "collectgarbage('incremental', 0, 100)",
  "collectgarbage('stop')", "",
}
emit("pcall(function() %s end)", pick(gc_settings))
-- The statements, made before any runs (no finalizer exists yet that could raise
-- while they are made), then run in order. An error that escapes a statement's pcall
-- (Lua 5.1 raises a finalizer's error at whatever allocation ran it) ends only the
-- inner loop: the outer one goes on with the next statement.
emit("local S = {}")
for i = 1, statements do
  local before = #out
  kinds[pick_kind()]()
  local body = table.concat(out, "\n  ", before + 1)
  for j = #out, before + 1, -1 do out[j] = nil end
  emit("S[%d] = function()\n  %s\nend", i, body)
  if chance(15) then emit("S[%s] = function() collectgarbage('step', %d) end", i .. '.5', rand(50)) end
end
emit([==[local order = {}
for k in pairs(S) do order[#order + 1] = k end
table.sort(order)
local next_step, escaped = 1, 0
while next_step <= #order do
  local ok = pcall(function()
    while next_step <= #order do
      local f = S[order[next_step]]
      next_step = next_step + 1
      step(f)
    end
  end)
  if not ok then escaped = escaped + 1 end
end
pcall(collectgarbage, 'restart')
step(function() for i = 1, 12 do V[i] = nil end; collectgarbage(); collectgarbage() end)
pcall(collectgarbage, 'stop')]==])
emit("print(string.format('fuzz: done, %%d of %d statements raised errors, %%d outside them', errors, escaped))", statements)
-- Flushed, so that fuzz.sh can tell a crash at lua_close (after this line) from others.
emit("io.stdout:flush()")

io.write(table.concat(out, "\n"), "\n")
