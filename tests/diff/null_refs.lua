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
try("cast a C function to a reference", function()
  ffi.cdef "int abs(int);"
  local r = ffi.cast("const char &", ffi.C.abs)
  local address = tostring(ffi.cast("void *", ffi.C.abs)):match("0x%x+$")
  return tostring(r):match("0x%x+$") == address, tostring(ffi.typeof(r))
end)

-- ffi.cast to the type a cdata already has returns that cdata (LuaJIT's rule): a
-- reference stays bound to its target, a NULL one included, instead of converting the
-- value it refers to.
try("cast a reference to its own type", function()
  local arr = ffi.new("int[2]", 3, 4)
  local r = ffi.new("int &", arr)
  local z = ffi.cast("int &", r)
  return rawequal(z, r), tonumber(z)
end)
try("cast a NULL reference to its own type", function()
  local r = ffi.new("int &")
  return rawequal(ffi.cast("int &", r), r), tostring(ffi.cast("int &", r))
end)
try("cast a value to its own type", function()
  local a, p = ffi.new("int", 5), ffi.new("int *")
  return rawequal(ffi.cast("int", a), a), rawequal(ffi.cast("int *", p), p),
    rawequal(ffi.cast("const int", a), a), rawequal(ffi.cast("long", a), a)
end)
