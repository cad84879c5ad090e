-- Differential test: positional number initializers of scalars and flat structs (the
-- fast path of ffi.new) convert exactly as the general path and as LuaJIT: wraparound,
-- truncation, bool, enum, float rounding, too many values, const members.
local ffi = require "ffi"

local try = require("diffshow").try

ffi.cdef [[
enum in_e { IN_A, IN_B = 7 };
struct in_flat { int8_t a; uint16_t b; bool c; enum in_e e; float f; double d; const int k; };
struct in_pair { int x, y; };
]]
local Flat = ffi.typeof("struct in_flat")
-- Floats through %.14g: 5.3+ print an integral float as `0.0`.
local function g(x) return ("%.14g"):format(x) end
local function fields(s) return s.a, s.b, s.c, tonumber(s.e), g(s.f), g(s.d), s.k end
try("all positional", function() return fields(Flat(300, -1, 2, 7, 0.1, 1 / 3, 9)) end)
try("fewer values", function() return fields(Flat(-129.7, 65536.9)) end)
try("same through ffi.new", function() return fields(ffi.new("struct in_flat", 300, -1, 0, 7.9, 1e40, -0.5, -1)) end)
try("from a table", function() return fields(Flat({ 300, -1, 2, 7, 0.1, 1 / 3, 9 })) end)
try("too many", Flat, 1, 2, 3, 4, 5, 6, 7, 8)
try("a string among numbers", Flat, 1, "x")
try("enum by name", function() return tonumber(Flat(1, 2, true, "IN_B").e) end)
try("scalar via index", function()
  local a, b, c = ffi.new("int16_t", 40000), ffi.new("double", 2.5), ffi.new("bool", 3)
  return tonumber(a), g(tonumber(b)), tonumber(c), g(tonumber(ffi.new("float", 1 / 3)))
end)
try("too many for a scalar", ffi.new, "int", 1, 2)
try("pair", function() local p = ffi.new("struct in_pair", 1.9, -2.9); return p.x, p.y end)

-- Edge values of the fast path, which converts a Lua integer directly (5.3+): integral
-- floats, -0.0 (whose sign only a double keeps), values just outside a narrow type.
ffi.cdef [[ struct in_edge { double d; float f; int32_t i; uint32_t u; int16_t s; bool b; }; ]]
local Edge = ffi.typeof("struct in_edge")
local function edge(...)
  local e = Edge(...)
  return g(1 / e.d), g(1 / e.f), e.i, e.u, e.s, e.b
end
-- Computed at run time: Lua 5.1 merges the constants 0 and -0.0 of a chunk.
local nz = -1 / math.huge
try("negative zero", edge, nz, nz, nz, nz, nz, nz)
try("zero", edge, 0, 0.0, 0, 0.0, 0, 0)
try("integral floats", function() local e = Edge(2.0, 3.0, 4.0, 5.0, 6.0, 1.0); return g(e.d), g(e.f), e.i, e.u, e.s, e.b end)
-- Values outside a 32-bit type convert with a C cast, which LuaJIT leaves undefined:
-- x86-64's wraps, as jitffi does everywhere, arm64's saturates. The two lines where they
-- differ are compared on x86-64 only.
if ffi.arch ~= "arm64" then
  try("just outside", function() local e = Edge(1, 1, 2^31, 2^32, 32768, 2); return e.i, e.u, e.s, e.b end)
end
try("negative outside", function() local e = Edge(1, 1, -2^31 - 1, -1, -32769); return e.i, e.u, e.s end)
if ffi.arch ~= "arm64" then
  try("large exact in double", function() local e = Edge(2^53, 2^24 + 1, 2^40, 2^40 + 7, 2^20 + 3); return g(e.d), g(e.f), e.i, e.u, e.s end)
end
try("fractions", function() local e = Edge(0.5, -1.5, -2.5, 7.9, -3.9, 0.1); return g(e.d), g(e.f), e.i, e.u, e.s, e.b end)
try("64-bit fields", function()
  local s = ffi.new("struct { int64_t a; uint64_t b; }", -2^53, 2^63)
  return tostring(ffi.new("int64_t", s.a)), tostring(ffi.new("uint64_t", s.b))
end)
