-- Differential test: `long double` values can be made, copied and pointed to, but never
-- converted to or from a Lua number (LuaJIT converts C numbers through a double only):
-- reading one as a field, an element, through a pointer or with tonumber is an error
-- naming the type with its qualifiers.
local ffi = require "ffi"

local try = require("diffshow").try

ffi.cdef [[
typedef long double ld_t;
struct ld_s { long double x; const long double c; ld_t t; volatile long double v; int a; };
]]
-- A cdata shows as its type only: addresses differ between runs.
local function kind(x) return (tostring(x):gsub(": 0x%x+$", "")) end

local s = ffi.new("struct ld_s")
try("field", function() return s.x end)
try("const field", function() return s.c end)
try("typedef field", function() return s.t end)
try("volatile field", function() return s.v end)
try("other field", function() return s.a end)
try("write a number", function() s.x = 1 end)
local a = ffi.new("long double[2]")
try("element", function() return a[1] end)
try("through a pointer", function() return ffi.cast("long double *", a)[0] end)
try("through a reference", function() return kind(ffi.cast("long double &", a)) end)
try("new", function() return kind(ffi.new("long double")) end)
try("new from a number", function() return kind(ffi.new("long double", 1)) end)
try("new const", function() return kind(ffi.new("const long double")) end)
try("index a value", function() return ffi.new("long double")[0] end)
try("tonumber", function() return tonumber(ffi.new("long double")) end)
try("tonumber const", function() return tonumber(ffi.new("const long double")) end)
try("tonumber typedef", function() return tonumber(ffi.new("ld_t")) end)
try("copy", function() return kind(ffi.new("long double", ffi.new("long double"))) end)
try("copy from const", function() return kind(ffi.new("ld_t", ffi.new("const long double"))) end)
try("to double", function() return ffi.new("double", ffi.new("long double")) end)
try("from double", function() return ffi.new("long double", ffi.new("double")) end)
try("to int by cast", function() return ffi.cast("int", ffi.new("long double")) end)
try("to bool", function() return ffi.new("bool", ffi.new("long double")) end)
try("array from values", function()
  local x = ffi.new("long double")
  return kind(ffi.new("long double[2]", x, x)), kind(ffi.new("long double[2]", { x, x }))
end)
try("struct from a table", function()
  local x = ffi.new("long double")
  return kind(ffi.new("struct ld_s", { x, x, x, x, 5 })), ffi.new("struct ld_s", { x, x, x, x, 5 }).a
end)
try("struct copy", function() return kind(ffi.new("struct ld_s", s)) end)
try("arithmetic", function() return ffi.new("long double") + 1 end)
try("truth", function() if ffi.new("long double") then return "true" end end)
try("size", function() return ffi.sizeof("long double"), ffi.alignof("long double") end)
try("istype", function() return ffi.istype("long double", ffi.new("long double")) end)
