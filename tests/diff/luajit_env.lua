-- Differential test: LuaJIT's environment around the ffi (bit with its 64-bit cdata
-- rules, jit, table.new/clear, unpack, loadstring, tonumber(n, base)) and LuaJIT's
-- number literals. Elsewhere than LuaJIT, literals go through `require "ffi.literals"`
-- (stock Lua cannot parse them; the runner could, but shares this script).
local ffi = require "ffi"
local try = require("diffshow").try

-- LuaJIT (and the runner) parse literals themselves; stock Lua needs ffi.literals.
local load_literal = loadstring
if not (loadstring and loadstring("return 1LL")) then
  load_literal = require("ffi.literals").load
end

local function show(x)
  if type(x) == "cdata" then return tostring(ffi.typeof(x)) .. " " .. tostring(x) end
  if math.type and math.type(x) == "float" and x == math.floor(x) and x > -1e14 and x < 1e14 then
    return ("%d"):format(x)
  end
  if math.type and math.type(x) == "float" then
    -- As LuaJIT and Lua 5.1-5.4 write it: 5.5's tostring writes 2^53 + 4 exactly.
    return ("%.14g"):format(x)
  end
  return tostring(x)
end
local function each(...)
  local out = {}
  for i = 1, select("#", ...) do out[i] = show((select(i, ...))) end
  return table.concat(out, " ")
end

-- bit on numbers
local numbers = { 0, 1, -1, 5, 0xff, 0x7fffffff, 0x80000000, 0xffffffff, 2^32 + 5, "10", "0x10" }
-- Fractional numbers and those beyond +-2^51, whose conversion BitOp leaves undefined:
-- x86-64 LuaJIT rounds and wraps, as jitffi does everywhere; arm64's truncates and
-- saturates. Compared on x86-64 only.
if ffi.arch ~= "arm64" then
  for i, x in ipairs({ 1.5, 2.5, -0.5, 2^53 + 3, 2^60, -2^63, 1e300, 0/0, 1/0 }) do
    table.insert(numbers, 9 + i, x)
  end
end
for _, x in ipairs(numbers) do
  local label = x ~= x and "nan" or show(x)
  try("tobit " .. label, function() return each(bit.tobit(x), bit.bnot(x), bit.bswap(x)) end)
  try("tohex " .. label, function() return each(bit.tohex(x), bit.tohex(x, -4), bit.tohex(x, 9)) end)
  for _, n in ipairs({ 0, 1, 4, 31, 32, 33, -1 }) do
    try(("shifts %s %d"):format(label, n), function()
      return each(bit.lshift(x, n), bit.rshift(x, n), bit.arshift(x, n), bit.rol(x, n), bit.ror(x, n))
    end)
  end
end
try("band", function() return each(bit.band(0xff, 0x0f, 3), bit.bor(1, 2, 4), bit.bxor(5, 3, 1)) end)
try("band nothing", function() return bit.band() end)
try("band table", function() return bit.band(1, {}) end)
try("tobit string", function() return bit.tobit("x") end)
try("tohex widths", function() return each(bit.tohex(1, 0), bit.tohex(0, 255), bit.tohex(0xabc, 256), #bit.tohex(1, 100)) end)

-- bit with cdata
local i64, u64 = ffi.typeof("int64_t"), ffi.typeof("uint64_t")
local cdata = { i64(1), u64(1), i64(-1), u64(0) - 1, i64(0x1234), ffi.new("int", 5),
  ffi.new("uint8_t", 1), ffi.new("double", 2^40 + 1), ffi.new("bool", true) }
-- A number meeting a 64-bit cdata in band/bor/bxor: x86-64 LuaJIT (and jitffi
-- everywhere) converts it to the cdata's 64-bit type, Debian's arm64 LuaJIT normalizes it
-- to a signed 32-bit number first (bit.tobit); so only numbers both read alike are
-- compared on arm64 (2^40 and -1 meeting a uint64_t, x86-64 only).
local wide_number = ffi.arch ~= "arm64" and 2^40 or 2^30
local function minus_one(x) return ffi.arch == "arm64" and ffi.istype(u64, x) and 0x7fffffff or -1 end
for i, x in ipairs(cdata) do
  try("cdata unary " .. i, function() return each(bit.tobit(x), bit.bnot(x), bit.bswap(x), bit.tohex(x), bit.tohex(x, -4)) end)
  try("cdata nary " .. i, function()
    return each(bit.band(x, 3), bit.bor(x, wide_number), bit.bxor(x, minus_one(x)), bit.band(x, u64(3)), bit.band(3, x))
  end)
  try("cdata shifts " .. i, function()
    return each(bit.lshift(x, 33), bit.rshift(x, 1), bit.arshift(x, 1), bit.rol(x, 63), bit.ror(x, 1), bit.lshift(x, 64))
  end)
end
try("cdata count", function() return each(bit.lshift(1, i64(2)), bit.tohex(255, i64(4))) end)
try("array", function() return bit.band(ffi.new("int[1]"), 1) end)

-- jit
try("jit", function() return jit.os, jit.arch, jit.version_num, type(jit.on), type(jit.opt.start) end)
try("require jit and bit", function() return require("jit") == jit, require("bit") == bit end)

-- table.new and table.clear
try("table.new", function()
  local new = require "table.new"
  local t = new(4, 4)
  return new == table.new, next(t)
end)
try("table.clear", function()
  local clear = require "table.clear"
  local t = { 1, 2, x = 3 }
  clear(t)
  return clear == table.clear, next(t)
end)
try("table.clear number", function() return require("table.clear")(1) end)

-- unpack and loadstring
try("unpack", function() return unpack({ 1, 2, 3 }) end)
try("loadstring", function() return loadstring("return 1 + 1")() end)

-- tonumber with a base
for _, case in ipairs({ { 10, 16 }, { -10, 16 }, { 255, 10 }, { 1.5, 10 }, { 1.5, 16 },
  { 1e15, 16 }, { 0/0, 36 }, { 1/0, 36 }, { "ff", 16 }, { " 11 ", 2 }, { 10, 1 } }) do
  local label = case[1] ~= case[1] and "nan" or show(case[1])
  try(("tonumber(%s, %s)"):format(label, case[2]), function()
    return show(tonumber(case[1], case[2]))
  end)
end

-- literals
for _, text in ipairs({ "123LL", "0x10ULL", "0X10ull", "1llu", "1LLU", "1uLl", "1Ll",
  "9007199254740993LL", "0x7fffffffffffffffLL", "0x8000000000000000LL",
  "0xffffffffffffffffLL", "18446744073709551615LL", "18446744073709551615ULL", "00012LL",
  "12.5i", "1i", "1I", ".5i", "5.i", "1e2i", "1e+2i", "0x10i", "0x1p4i", "0x.8i",
  "-1LL", "2LL * 3", "1LL + 0.5", "1ULL - 2", "12.5i * 2", "{1LL}",
  "1.5LL", "1e3LL", "1LLL", "1LLi", "0x1ffffffffffffffffLL", "'1LL'", "[[2i]]" }) do
  try("literal " .. text, function()
    local f = load_literal("return " .. text, "=literal")
    -- Only that it is refused: the message is each Lua version's own.
    if not f then return "load error" end
    local v = f()
    if type(v) == "table" then v = v[1] end
    return show(v)
  end)
end

-- error positions stay right after a literal
try("line numbers", function()
  local f = load_literal("local x = 1LL\nlocal y = 2i\nerror('line three')", "=chunk")
  return pcall(f)
end)
