-- A NULL reference converted to its value raises the NULL-dereference error on every
-- path (LuaJIT itself crashes on these; tests/diff/null_refs.lua has the cases where it
-- does not read through the reference).
local ffi = require "ffi"
local check = require "check"

ffi.cdef [[
int abs(int);
double fabs(double);
struct nr_holder { int &r; double &d; };
]]
local NULL_INT = "attempt to dereference a NULL pointer of type 'int &'"
local NULL_DOUBLE = "attempt to dereference a NULL pointer of type 'double &'"
local r = ffi.new("int &")
local holder = ffi.new("struct nr_holder")

-- Call arguments (a segfault before), through the stub's fast and general paths.
check.fails(NULL_INT, ffi.C.abs, r)
check.fails(NULL_DOUBLE, ffi.C.fabs, ffi.new("double &"))
check.fails(NULL_INT, function() return ffi.C.abs(ffi.cast("int &", ffi.new("int *"))) end)

-- Initializers and casts.
check.fails(NULL_INT, ffi.new, "int", r)
check.fails(NULL_INT, ffi.new, "int[2]", r)
check.fails(NULL_INT, ffi.new, "int[2]", { r, r })
check.fails(NULL_INT, ffi.new, "double", r)
check.fails(NULL_INT, ffi.cast, "int", r)
check.fails(NULL_INT, ffi.cast, "int *", r)
check.fails(NULL_INT, ffi.typeof("int"), r)
local box = ffi.new("int[1]")
check.fails(NULL_INT, function() box[0] = r end)

-- Comparisons name the NULL dereference, whichever side the reference is on.
-- (Lua 5.1 calls __lt and __le only for two operands of the same type.)
local MIXED = _VERSION == "Lua 5.1" and "attempt to compare" or NULL_INT
check.fails(MIXED, function() return r < 1 end)
check.fails(MIXED, function() return 1 <= r end)
check.fails(NULL_INT, function() return r < ffi.new("int", 1) end)
-- Both userdata: Lua calls __eq, which must not answer false silently. (A number on
-- one side never reaches __eq in PUC Lua: `r == 1` is false by the language.)
check.fails(NULL_INT, function() return r == ffi.new("int", 0) end)
check.fails(NULL_INT, function() return ffi.new("int", 0) == r end)
check.fails(NULL_INT, function() return r == ffi.new("int &") end)

-- Arithmetic.
check.fails(NULL_INT, function() return r + 1 end)
check.fails(NULL_INT, function() return 1 - r end)
check.fails(NULL_INT, function() return -r end)
check.fails(NULL_INT, function() return r * ffi.new("int64_t", 2) end)
check.fails(NULL_INT, function() return r ^ 2 end)

-- tonumber and reading a NULL reference member.
check.fails(NULL_INT, tonumber, r)
check.fails(NULL_INT, function() return holder.r end)
check.fails(NULL_DOUBLE, function() return holder.d + 1 end)

-- A reference that is not NULL still converts.
local cell = ffi.new("int[1]", -7)
local good = ffi.new("int &", cell)
assert(ffi.C.abs(good) == 7)
assert(tonumber(good + 1) == -6 and good < ffi.new("int", 0) and tonumber(ffi.new("int", good)) == -7)
assert(good == ffi.new("int", -7))

-- A NULL reference made by ffi.cast (from 0, nil or a NULL pointer) raises the same.
for _, from in ipairs({ 0, ffi.new("int *") }) do
  local z = ffi.cast("int &", from)
  check.fails(NULL_INT, function() return z + 1 end)
  check.fails(NULL_INT, tonumber, z)
  check.fails(NULL_INT, function() return z[0] end)
  check.fails(NULL_INT, function() z[0] = 1 end)
end
check.fails(NULL_INT, function() return ffi.cast("int &", nil) < ffi.new("int", 1) end)
local NULL_STRUCT = "attempt to dereference a NULL pointer of type 'struct nr_point &'"
ffi.cdef "struct nr_point { int x; };"
local zs = ffi.cast("struct nr_point &", 0)
check.fails(NULL_STRUCT, function() return zs.x end)
check.fails(NULL_STRUCT, function() zs.x = 1 end)
-- A cast from an address that is not NULL refers to it.
local cell2 = ffi.new("int[1]", 41)
local at = ffi.cast("int &", ffi.cast("uintptr_t", cell2))
assert(tonumber(at) == 41 and tonumber(at + 1) == 42)
-- A cast to the reference's own type returns it unconverted (as LuaJIT): no NULL
-- dereference, and a good reference keeps its target.
assert(rawequal(ffi.cast("int &", r), r))
assert(rawequal(ffi.cast("int &", at), at) and tonumber(ffi.cast("int &", at)) == 41)
print("null_refs: ok")
