-- Differential test: NULL references (`ffi.new("int &")`, a reference member holding
-- NULL) where LuaJIT does not read through them. Where it does (a NULL reference
-- converted to its value: call arguments, initializers, casts, arithmetic,
-- comparisons), LuaJIT crashes and the ffi raises instead: tests/lua/null_refs.lua.
local ffi = require "ffi"
local try = require("diffshow").try

ffi.cdef [[
struct nr_point { int x; };
struct nr_holder { int &r; };
]]
local r = ffi.new("int &")
try("shown as NULL", function() return tostring(r) end)
try("its type", function() return tostring(ffi.typeof(r)), ffi.istype("int &", r), ffi.sizeof(r) end)
try("concatenated", function() return r .. "x" end)
try("length", function() return #r end)
try("array reference to a pointer", function()
  return tostring(ffi.cast("int *", ffi.new("int (&)[4]")))
end)
try("struct reference to a pointer", function()
  return tostring(ffi.cast("struct nr_point *", ffi.new("struct nr_point &")))
end)
try("struct reference initializes a pointer", function()
  return tostring(ffi.new("struct nr_point *", ffi.new("struct nr_point &")))
end)
try("reference member from a NULL reference", ffi.new, "struct nr_holder", { r })
try("reference member from an int", ffi.new, "struct nr_holder", { ffi.new("int", 1) })
try("reference member, single value", ffi.new, "struct nr_holder", r)
