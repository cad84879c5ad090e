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

-- ffi.cast makes a reference from what it would make a pointer from: a number or nil
-- is the address (0 and nil a NULL reference), a string its bytes, an integer cdata its
-- value; a boolean, a double cdata or a table is refused.
try("cast 0 to a reference", function() return tostring(ffi.cast("int &", 0)) end)
try("cast nil to a reference", function() return tostring(ffi.cast("int &", nil)) end)
try("cast an address to a reference", function() return tostring(ffi.cast("int &", 0x1000)) end)
try("cast -1 to a reference", function() return tostring(ffi.cast("int &", -1)) end)
try("cast 1.5 to a reference", function() return tostring(ffi.cast("int &", 1.5)) end)
try("cast 0 to a struct reference", function()
  return tostring(ffi.cast("struct nr_point &", 0)), tostring(ffi.typeof(ffi.cast("struct nr_point &", 0)))
end)
try("cast a string to a reference", function()
  local s = "abc"
  local r = ffi.cast("const char &", s)
  return tostring(r):match("^cdata<const char &>: 0x%x+$") ~= nil, tonumber(r)
end)
try("cast an int cdata to a reference", function() return tostring(ffi.cast("int &", ffi.new("int", 16))) end)
try("cast an int64 cdata to a reference", function() return tostring(ffi.cast("int &", ffi.new("int64_t", 0))) end)
try("cast a NULL pointer to a reference", function() return tostring(ffi.cast("int &", ffi.new("double *"))) end)
try("cast a boolean to a reference", ffi.cast, "int &", true)
try("cast a double cdata to a reference", ffi.cast, "int &", ffi.new("double", 0))
try("cast a table to a reference", ffi.cast, "int &", {})
try("new from a number is refused", ffi.new, "int &", 0)
