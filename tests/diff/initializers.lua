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
