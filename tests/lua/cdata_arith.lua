-- Arithmetic, comparisons and concatenation on cdata: 64-bit integers, pointers,
-- metatypes, errors, and what each Lua version lets reach the metamethods (expectations
-- checked against luajit 2.1 on x86-64; branches on _VERSION/jit only for the documented
-- per-version differences).
local ffi = require "ffi"
local check = require "check"
local fails, eq = check.fails, check.eq

local luajit = check.luajit
local lua51 = _VERSION == "Lua 5.1" and not luajit
local integers = math.type ~= nil -- Lua 5.3+: integer numbers are used exactly

local function i64(n) return ffi.new("int64_t", n) end
local function u64(n) return ffi.new("uint64_t", n) end
local function str(v) return tostring(v) end

ffi.cdef [[
struct ca_foo { int a; };
struct ca_num { int v; };
enum ca_color { CA_RED, CA_GREEN = 5, CA_BLUE };
]]

-- 64-bit integers: results are int64_t/uint64_t cdata
eq(str(i64(5) + 1), "6LL", "int64 + number")
eq(str(1 + i64(5)), "6LL", "number + int64")
eq(str(i64(5) - u64(6)), "18446744073709551615ULL", "uint64 wins")
eq(str(i64(2) * i64(-3)), "-6LL", "int64 * int64")
eq(str(i64(-7) / 2), "-3LL", "division truncates")
eq(str(i64(-7) % 2), "-1LL", "modulo takes the dividend's sign (C, not Lua)")
eq(str(i64(7) / 0), "-9223372036854775808LL", "x / 0")
eq(str(u64(7) / 0), "9223372036854775808ULL", "unsigned x / 0")
eq(str(i64(7) % 0), "-9223372036854775808LL", "x % 0")
eq(str(i64(-2^63) / -1), "-9223372036854775808LL", "INT64_MIN / -1")
eq(str(i64(-2^63) % -1), "0LL", "INT64_MIN % -1")
eq(str(i64(2) ^ 62), "4611686018427387904LL", "integer power")
eq(str(i64(2) ^ 64), "0LL", "power wraps")
eq(str(i64(2) ^ -1), "0LL", "negative exponent")
eq(str(i64(0) ^ -1), "9223372036854775807LL", "0 ^ -1")
eq(str(i64(-1) ^ -3), "-1LL", "-1 ^ -3")
eq(str(2 ^ i64(10)), "1024LL", "number ^ int64")
eq(str(-i64(5)), "-5LL", "unary minus")
eq(str(-u64(1)), "18446744073709551615ULL", "unsigned unary minus")
eq(str(-ffi.new("int", 3)), "-3LL", "small integer cdata compute in int64 too")
eq(str(ffi.new("int", 5) + 1), "6LL", "int cdata + number")
eq(str(ffi.new("double", 7.5) / 2), "3LL", "double cdata converts to int64")
eq(str(ffi.new("bool", true) + 1), "2LL", "bool cdata")
eq(str(ffi.new("uint8_t", 200) * u64(2)), "400ULL", "uint8 cdata widens")
eq(str(i64(5) + 1.9), "6LL", "numbers truncate")
eq(str(i64(5) + 2^63), "-9223372036854775803LL", "out of range: INT64_MIN")
eq(str(i64(5) + 0/0), "-9223372036854775803LL", "NaN: INT64_MIN")
eq(str(u64(5) + -1.5), "9223372036854775813ULL", "negative float to uint64: 2^63")
if integers then
  -- Lua integers convert exactly (LuaJIT only has doubles).
  eq(str(u64(5) + -1), "4ULL", "negative integer to uint64 wraps")
  eq(str(i64(0) + 9007199254740993), "9007199254740993LL", "integers beyond 2^53")
  eq(str(i64(0) + math.maxinteger), "9223372036854775807LL", "maxinteger")
else
  eq(str(u64(5) + -1), "9223372036854775813ULL", "negative double to uint64: 2^63")
end

-- comparisons of two cdata (every version calls the metamethods)
assert(i64(1) == i64(1) and i64(1) ~= i64(2), "int64 ==")
assert(i64(-1) < i64(0) and not (i64(0) < i64(-1)), "int64 <")
assert(i64(-1) <= i64(-1) and not (i64(0) <= i64(-1)), "int64 <=")
assert(not (i64(-1) < u64(2)), "int64 -1 compares as uint64 against uint64")
assert(u64(2^63) > u64(1), "uint64 order")
assert(ffi.new("int", 1) == ffi.new("double", 1.5), "both convert to int64")
assert(ffi.new("float", 2) == i64(2), "float cdata == int64")
local green = ffi.new("enum ca_color", "CA_GREEN")
assert(green == ffi.new("enum ca_color", 5) and green < ffi.new("enum ca_color", 6), "enums")

-- comparisons of a cdata and a number: Lua 5.1 refuses them before any metamethod runs
if lua51 then
  fails("attempt to compare userdata with number", function() return i64(1) < 2 end)
  fails("attempt to compare number with userdata", function() return 2 <= i64(1) end)
  fails("attempt to compare userdata with string", function() return green < "CA_BLUE" end)
else
  assert(i64(1) < 2 and 2 <= u64(2) and not (i64(3) < 3.5 - 0.5), "int64 vs number")
  assert(i64(-1) < 0 and not (u64(3) <= 2), "signed and unsigned against numbers")
  assert(green < "CA_BLUE" and green <= "CA_GREEN" and not (green < "CA_RED"), "enum vs constant name")
  fails("cannot convert 'string' to 'enum ca_color'", function() return green < "nope" end)
  fails("attempt to compare 'int64_t' with 'string'", function() return i64(1) < "x" end)
  fails("attempt to compare 'struct ca_foo' with 'number'", function() return ffi.new("struct ca_foo") < 1 end)
end
-- `==` between a cdata and a non-cdata is never a metamethod call in PUC Lua
if luajit then
  assert(i64(1) == 1 and green == "CA_GREEN", "LuaJIT compares cdata with numbers")
else
  assert(i64(1) ~= 1 and green ~= "CA_GREEN" and ffi.cast("void *", 0) ~= nil,
    "PUC Lua: a cdata never equals a number, string or nil")
end

-- equality never raises; unrelated cdata compare by address
local s, t = ffi.new("struct ca_foo"), ffi.new("struct ca_foo")
assert(s ~= t and s == s and i64(1) ~= s and s ~= ffi.new("complex", 1), "address equality")
assert(ffi.cast("struct ca_foo *", s) == s, "a pointer equals the struct it points to")
assert(ffi.cast("char *", 16) == ffi.cast("int *", 16), "any two pointers compare for equality")
-- A ctype object is an int32_t holding its type id, as LuaJIT's ctype objects are: it
-- takes part in arithmetic as that number (no metatype applies), but two ctype objects
-- compare by type.
assert(ffi.typeof("int") == ffi.typeof("int") and ffi.typeof("int") ~= ffi.typeof("long"), "ctypes")
assert(ffi.typeof("int") ~= i64(1) and ffi.typeof("struct ca_foo") ~= s, "a ctype is no such value")
assert(ffi.typeof("int") == ffi.new("int", 9), "int is LuaJIT's type 9")
eq(str(ffi.typeof("int") + 1), "10LL", "ctype + number")
eq(str(2 * ffi.typeof("double")), "28LL", "number * ctype")
eq(str(ffi.typeof("uint64_t") - ffi.typeof("int8_t")), "7LL", "ctype - ctype")
eq(str(-ffi.typeof("int")), "-9LL", "unary minus")
assert(ffi.typeof("int") < ffi.typeof("double") and not (ffi.typeof("int") < ffi.typeof("int")), "ordering")
fails("attempt to get length of 'int'", function() return #ffi.typeof("int") end)
if not luajit then
  -- LuaJIT: "cannot convert 'string' to 'ctype'".
  fails("attempt to concatenate 'int' and 'string'", function() return ffi.typeof("int") .. "x" end)
end

-- pointer arithmetic
local a = ffi.new("int[10]")
for i = 0, 9 do a[i] = i * 10 end
local p = a + 3
eq(p[0], 30, "array + n points at element n")
eq((p + 2)[0], 50, "pointer + n")
eq((2 + p)[0], 50, "n + pointer")
eq((p - 1)[0], 20, "pointer - n")
eq((p + i64(-3))[0], 0, "int64 index")
eq(p - a, 3, "pointer difference in elements")
eq(a - p, -3, "negative difference")
eq(type(p - a), "number", "a difference is a Lua number")
if integers then eq(math.type(p - a), "integer", "an integer on 5.3+") end
assert(p > a and a <= p and not (p < a) and p == a + 3, "pointer order")
eq(str(ffi.typeof(a + 0)), "ctype<int *>", "arrays decay")
eq(str(ffi.typeof(ffi.new("const int[2]") + 1)), "ctype<const int *>", "element qualifiers stay")
fails("attempt to perform arithmetic on 'int *' and 'int *'", function() return p + p end)
fails("attempt to perform arithmetic on 'void *' and 'number'", function() return ffi.cast("void *", p) + 1 end)
fails("attempt to perform arithmetic on 'char *' and 'int *'", function() return ffi.cast("char *", p) - p end)
fails("attempt to compare 'void *' with 'int *'", function() return ffi.cast("void *", p) < p end)

-- errors without a metatype
fails("attempt to perform arithmetic on 'struct ca_foo' and 'number'", function() return s + 1 end)
fails("attempt to perform arithmetic on 'number' and 'struct ca_foo'", function() return 1 * s end)
fails("attempt to perform arithmetic on 'struct ca_foo' and 'struct ca_foo'", function() return -s end)
fails("attempt to compare 'struct ca_foo' with 'struct ca_foo'", function() return s < t end)
fails("attempt to get length of 'struct ca_foo'", function() return #s end)
fails("attempt to concatenate 'struct ca_foo' and 'string'", function() return s .. "x" end)
fails("attempt to concatenate 'string' and 'int64_t'", function() return "x" .. i64(1) end)
fails("attempt to perform arithmetic on 'int64_t' and 'string'", function() return i64(1) + "1" end)
fails("attempt to perform arithmetic on 'string' and 'int64_t'", function() return "1" + i64(1) end)
fails("attempt to perform arithmetic on 'int64_t' and 'nil'", function() return i64(1) + nil end)
fails("cannot convert 'string' to 'enum ca_color'", function() return green + "nope" end)
eq(str(green + "CA_BLUE"), "11LL", "enum constant names are numbers next to an enum")

-- metatypes
local calls = {}
local num
num = ffi.metatype("struct ca_num", {
  __add = function(x, y)
    calls[#calls + 1] = "add"
    local xv = type(x) == "number" and x or x.v
    local yv = type(y) == "number" and y or y.v
    return num(xv + yv)
  end,
  __eq = function(x, y) return x.v == y.v end,
  __lt = function(x, y) return x.v < y.v end,
  __le = function(x, y) return x.v <= y.v end,
  __len = function(x) return x.v end,
  __concat = function(x, y) return "num" end,
  __unm = function(x) return num(-x.v) end,
  __mul = function() error("mul refused") end,
  __div = function() return nil end,
})
local n3, n4 = num(3), num(4)
eq((n3 + n4).v, 7, "__add")
eq((n3 + 1).v, 4, "__add with a number")
eq((1 + n3).v, 4, "__add with the number first")
eq((-n3).v, -3, "__unm")
assert(n3 == num(3) and n3 ~= n4, "__eq")
assert(n3 < n4 and n3 <= n4 and not (n4 <= n3), "__lt, __le")
eq(#n4, 4, "__len")
eq(n3 .. "x", "num", "__concat")
eq("x" .. n3, "num", "__concat, cdata second")
eq(n3 / n4, nil, "a metamethod's nil result")
fails("mul refused", function() return n3 * n4 end)
fails("attempt to perform arithmetic on 'struct ca_num' and 'number'", function() return n3 - 1 end)
-- (the array stays referenced: a pointer into it does not keep it alive)
local pn_array = ffi.new("struct ca_num[2]", {{1}, {2}})
local pn = pn_array + 0
eq(#pn, 1, "a pointer uses its target's metatype")
eq(str(ffi.typeof(pn + 1)), "ctype<struct ca_num *>", "pointer arithmetic comes before the metatype")
eq((pn + n4).v, 5, "pointer + struct: the metatype")
for _ = 1, 1000 do n3 = n3 + 0 end
eq(n3.v, 3, "many metamethod calls")
local ok = pcall(function()
  local deep = ffi.metatype("struct { int z; }", { __add = function(x, y) return x + y end })
  return deep() + 1
end)
assert(not ok, "unbounded recursion through a metamethod is an error, not a crash")

-- metamethods called directly, with too few or too many operands
if not luajit then
  local mt = debug.getmetatable(i64(1))
  eq(str(mt.__add(i64(1), 2, 3)), "3LL", "a direct call")
  fails("attempt to perform arithmetic on 'int64_t' and 'nil'", mt.__add, i64(1))
  eq(mt.__eq(i64(1)), false, "a direct __eq call")
  eq(mt.__concat(n4), "num", "a metatype's metamethod through a direct call")
end

-- Lua 5.3+ operators
if integers and not luajit then
  local ops = assert(load [[
    local i64, u64, ffi, fails, eq, str, num = ...
    eq(str(i64(7) // 2), "3LL", "//")
    eq(str(i64(-7) // 2), "-4LL", "// floors")
    eq(str(u64(7) // 2), "3ULL", "unsigned //")
    eq(str(i64(1) // 0), "-9223372036854775808LL", "x // 0")
    eq(str(i64(6) & 3), "2LL", "&")
    eq(str(u64(6) | 1), "7ULL", "|")
    eq(str(i64(6) ~ 3), "5LL", "~")
    eq(str(~i64(0)), "-1LL", "unary ~")
    eq(str(~u64(0)), "18446744073709551615ULL", "unsigned unary ~")
    eq(str(i64(5) & 1.5), "1LL", "floats truncate")
    eq(str(3 & u64(1)), "1ULL", "number & uint64")
    eq(str(i64(1) << 63), "-9223372036854775808LL", "<<")
    eq(str(i64(1) << 64), "0LL", "shifting everything out")
    eq(str(i64(-1) >> 63), "1LL", ">> is logical, as Lua's")
    eq(str(i64(8) >> -1), "16LL", "negative counts shift the other way")
    eq(str(u64(1) << i64(2)), "4ULL", "the left operand's type")
    eq(str(i64(1) << u64(2)), "4LL", "the count's type does not matter")
    eq(1 << i64(3), 8, "a Lua number shifted stays a Lua integer")
    eq(math.type(1 << i64(3)), "integer", "an integer")
    fails("attempt to perform arithmetic on 'struct ca_foo' and 'number'", function() return ffi.new("struct ca_foo") & 1 end)
    fails("attempt to perform arithmetic on 'int *' and 'number'", function() return ffi.cast("int *", 8) // 1 end)
    fails("attempt to perform arithmetic on 'int64_t' and 'string'", function() return i64(1) | "x" end)
    local band = ffi.metatype("struct { int w; }", { __band = function(x, y) return "band" end,
      __idiv = function() return "idiv" end, __bnot = function() return "bnot" end })
    eq(band() & 1, "band", "__band metatype")
    eq(1 // band(), "idiv", "__idiv metatype")
    eq(~band(), "bnot", "__bnot metatype")
  ]])
  ops(i64, u64, ffi, fails, eq, str, num)
end

-- the hot loop allocates one cdata per step and nothing else
local acc, one = u64(0), u64(1)
for _ = 1, 100000 do acc = acc + one end
eq(str(acc), "100000ULL", "accumulating in uint64_t")
acc = i64(0)
for i = 1, 1000 do acc = acc + i end
eq(str(acc), "500500LL", "accumulating numbers")

print("cdata_arith ok")
