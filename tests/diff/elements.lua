-- Differential test: scalar elements of arrays and pointers read and written by number.
-- The first access to a type takes the general path of __index/__newindex, which
-- records the type in the element cache; later ones with an integer key take the fast
-- path; a cdata key always takes the general path. Every kind of element, both paths,
-- and what falls back (const, other element types, other keys) must give what LuaJIT
-- gives.
local ffi = require "ffi"

local d = require "diffshow"
local try = d.try

-- A read element, printed alike everywhere: 64-bit values as the C type's cdata text
-- (Lua integers on 5.3+, cdata in LuaJIT), numbers with every bit (5.3+ print an
-- integral float as `1.0`).
local function show(ctype, v)
  if ctype:find("64") then return tostring(ffi.new(ctype, v)) end
  if type(v) == "number" then return ("%.17g"):format(v) end
  return tostring(v)
end

-- The bytes of element i of an array of n-byte elements, in hex.
local function bytes(cd, i, n)
  local p = ffi.cast("const uint8_t *", cd)
  local out = {}
  for k = i * n, i * n + n - 1 do out[#out + 1] = ("%02x"):format(p[k]) end
  return table.concat(out)
end

local key1 = ffi.new("int32_t", 1)

-- Element 1 of a fresh `ctype[3]` holding v, read twice through the array by number
-- (the first read of a type takes the general path), twice through a pointer, and with a
-- cdata key through both (always the general path).
local function read(ctype, v)
  local arr = ffi.new(ctype .. "[3]", v, v, v)
  local p = ffi.cast(ctype .. " *", arr)
  local a1, a2 = arr[1], arr[1]
  local p1, p2 = p[1], p[1]
  return show(ctype, a1), show(ctype, a2), show(ctype, p1), show(ctype, p2),
    show(ctype, arr[key1]), show(ctype, p[key1])
end

-- v stored into fresh `ctype[3]` arrays: element 0 by number (the general path if the
-- type is new), element 1 by number (the fast path), element 2 through a pointer (twice:
-- the pointer type may be new), and element 1 of another array with a cdata key (the
-- general path); the bytes of each.
local function store(ctype, v)
  local n = ffi.sizeof(ctype)
  local arr, other = ffi.new(ctype .. "[3]"), ffi.new(ctype .. "[3]")
  arr[0] = v
  arr[1] = v
  local p = ffi.cast(ctype .. " *", arr)
  p[2] = v
  p[2] = v
  other[key1] = v
  return bytes(arr, 0, n), bytes(arr, 1, n), bytes(arr, 2, n), bytes(other, 1, n)
end

-- A value in a test's name.
local function label(v)
  if type(v) == "number" then return ("%.17g"):format(v) end
  return tostring(v)
end

local u64 = ffi.new("uint64_t", 2 ^ 63)
local reads = {
  { "bool", true }, { "bool", false },
  { "int8_t", -128 }, { "int8_t", -1 }, { "int8_t", 127 },
  { "uint8_t", 255 }, { "uint8_t", 128 },
  { "char", -3 }, { "unsigned char", 200 },
  { "int16_t", -32768 }, { "int16_t", 32767 }, { "uint16_t", 65535 }, { "short", -2 },
  { "int32_t", -2 ^ 31 }, { "int32_t", 2 ^ 31 - 1 }, { "int", -7 },
  { "uint32_t", 2 ^ 32 - 1 }, { "uint32_t", 2 ^ 31 }, { "unsigned int", 3 },
  { "int64_t", ffi.new("int64_t", -2 ^ 63) }, { "int64_t", 2 ^ 53 }, { "int64_t", -5 },
  { "uint64_t", u64 + 5 }, { "uint64_t", u64 - 1 }, { "uint64_t", ffi.new("uint64_t", 0) - 1 },
  { "uint64_t", 5 },
  { "float", 0.1 }, { "float", -1e-30 }, { "float", 1e39 }, { "float", 16777217 },
  { "double", 1 / 3 }, { "double", -1e300 }, { "double", 5 },
}
for _, case in ipairs(reads) do
  local ctype, v = case[1], case[2]
  try(("read %s %s"):format(ctype, label(v)), read, ctype, v)
end

-- Computed at run time: Lua 5.1 merges the constants 0 and -0.0 of a chunk.
local nz = -1 / math.huge
try("read double -0", function()
  local a = ffi.new("double[2]", nz, nz)
  return 1 / a[0], 1 / a[1]
end)
try("read raw byte 2 as bool", function()
  local b = ffi.new("bool[2]")
  ffi.cast("uint8_t *", b)[1] = 2
  return b[1], b[key1]
end)

local stores = {
  { "uint8_t", { 300, -1, 255.9, 1e10, -0.5, 256 } },
  { "int8_t", { 200, -129, 127.5 } },
  { "uint16_t", { 70000, -1 } },
  { "int16_t", { 40000, -32769 } },
  { "int32_t", { 1e10, -1e10, 2.7, -2.7, 2 ^ 31, -2 ^ 31 } },
  { "uint32_t", { -1, 2 ^ 32 + 5, 1e10, -1e19, 2 ^ 31 } },
  { "int64_t", { 2 ^ 63, -2 ^ 63, 2.5, 1e19, -3, 2 ^ 53 } },
  { "uint64_t", { 2 ^ 63, 2 ^ 64, -1.5, 1.5e19, 7 } },
  { "float", { 0.1, 1 / 3, 1e39, -1e-50, 16777217, 3 } },
  { "double", { 0.1, 1 / 3, -2 } },
  { "bool", { 2, 0.5, 0, 1e-300 } },
}
-- A number whose integer part is outside an integer type's range converts with a C cast,
-- which LuaJIT leaves undefined: x86-64's wraps, as jitffi does everywhere, arm64's
-- saturates. Compared on x86-64 only.
local int_ranges = { -- [low, high)
  uint8_t = { 0, 2 ^ 8 }, int8_t = { -2 ^ 7, 2 ^ 7 }, uint16_t = { 0, 2 ^ 16 },
  int16_t = { -2 ^ 15, 2 ^ 15 }, uint32_t = { 0, 2 ^ 32 }, int32_t = { -2 ^ 31, 2 ^ 31 },
  uint64_t = { 0, 2 ^ 64 }, int64_t = { -2 ^ 63, 2 ^ 63 },
}
local function undefined_store(ctype, v)
  local range = int_ranges[ctype]
  if ffi.arch ~= "arm64" or not range then return false end
  local integer = v < 0 and math.ceil(v) or math.floor(v)
  return integer < range[1] or integer >= range[2]
end
for _, case in ipairs(stores) do
  local ctype = case[1]
  for _, v in ipairs(case[2]) do
    if not undefined_store(ctype, v) then
      try(("store %s %s"):format(ctype, label(v)), store, ctype, v)
    end
  end
end
for _, ctype in ipairs { "bool", "int32_t", "uint8_t", "int64_t", "float", "double" } do
  try("store " .. ctype .. " true", store, ctype, true)
  try("store " .. ctype .. " false", store, ctype, false)
end
try("store bool -0", store, "bool", nz)
try("store double -0", store, "double", nz)

-- What the general path refuses, refused the same after the type is cached.
local ints = ffi.new("int32_t[3]", 1, 2, 3)
ints[0] = ints[1]
try("store nil", function() ints[1] = nil end)
try("store a string", function() ints[1] = "5" end)
try("store a table", function() ints[1] = {} end)
try("store a cdata", function() ints[1] = ffi.new("int8_t", -4); return ints[1] end)
try("store a pointer", function() ints[1] = ffi.new("int *") end)
try("bools refuse nil", function() local b = ffi.new("bool[1]"); b[0] = true; b[0] = nil end)
local cints = ffi.new("const int[2]", 5, 6)
try("const array read", function() return cints[0], cints[1] end)
try("const array write", function() cints[1] = 1 end)
local cp = ffi.cast("const double *", ffi.new("double[2]", 1.5, 2.5))
try("const pointer read", function() return show("double", cp[0]), show("double", cp[1]) end)
try("const pointer write", function() cp[1] = 1 end)
try("const pointer write true", function() cp[0] = true end)
local cpi = ffi.cast("int *const", ints)
try("const pointer to int", function() cpi[2] = 9; return cpi[2], ints[2] end)

-- Keys: integral floats, fractions (truncated, as LuaJIT does), negative indices, cdata,
-- strings.
try("float keys", function() return ints[1.0], ints[1.5], ints[-0.5], ints[2.99] end)
try("store with a fraction key", function() ints[1.5] = 11; return ints[1] end)
local mid = ffi.cast("int32_t *", ints) + 1
try("negative index", function() mid[-1] = -8; return mid[-1], mid[-1.0], ints[0] end)
try("cdata keys", function() return ints[ffi.new("uint8_t", 2)], ints[ffi.new("int64_t", 1)] end)
try("string key read", function() return ints.x end)
try("string key write", function() ints.x = 1 end)
try("number string key", function() return ints["1"] end)
try("boolean key", function() return ints[true] end)

-- A type that qualifies, then types that do not (struct, enum, complex, pointer and
-- 64-bit elements under 5.1/5.2, references), then the first type again.
ffi.cdef [[
struct el_s { int x; double y; };
enum el_e { EL_A = 3, EL_B };
struct el_arr { int arr[3]; };
]]
local first = ffi.new("int16_t[2]", 4, 5)
try("qualifying type", function() return first[0], first[1] end)
local structs = ffi.new("struct el_s[2]", { { 1, 1.5 }, { 2, 2.5 } })
local sp = ffi.cast("struct el_s *", structs)
try("struct elements", function()
  sp[1].x = 7
  return sp[0].x, show("double", sp[1].y), sp[1].x, structs[1].x, tostring(ffi.typeof(sp[1]))
end)
try("struct element store", function() sp[0] = structs[1]; return sp[0].x, show("double", sp[0].y) end)
try("struct element from a number", function() sp[0] = 1 end)
local enums = ffi.new("enum el_e[2]", "EL_B", 3)
try("enum elements", function()
  enums[0] = 3
  return tostring(enums[0]), tonumber(enums[1]), tostring(ffi.typeof(enums[1]))
end)
local cplx = ffi.new("complex double[2]", 1, { 2, 3 })
try("complex elements", function() return tostring(cplx[0]), tostring(cplx[1]) end)
local ptrs = ffi.new("int *[2]")
try("pointer elements", function()
  ptrs[0] = ints
  return ptrs[0][1], ptrs[1] == nil
end)
local holder = ffi.new("struct el_arr", { { 1, 2, 3 } })
try("reference to an array", function()
  holder.arr[1] = 20
  return holder.arr[1], tostring(ffi.typeof(holder.arr))
end)
try("qualifying type again", function() first[1] = 9; return first[0], first[1] end)

-- A cdata with a finalizer (another metatable, the same metamethods).
local finalized = ffi.gc(ffi.cast("double *", ffi.new("double[2]")), function() end)
try("with a finalizer", function()
  finalized[1] = 0.25
  return show("double", finalized[1]), show("double", finalized[0])
end)
ffi.gc(finalized, nil)

-- Arrays of unknown extent and of one element.
local vla = ffi.new("uint16_t[?]", 4)
try("variable-length array", function()
  vla[3] = 65537
  return vla[3], vla[key1]
end)
