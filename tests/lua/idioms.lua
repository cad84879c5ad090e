-- The LuaJIT idioms jitffi makes work on PUC Lua (see crates/ffi/src/api/idioms.rs):
-- type(x) == "cdata", tonumber(cdata), NULL pointers read as nil, 64-bit integers read
-- as Lua integers on 5.3+. Each decision is checked on every Lua version.
local ffi = require "ffi"
local check = require "check"
local fails, eq = check.fails, check.eq

local integers = math.type ~= nil   -- Lua 5.3 and 5.4

ffi.cdef [[
struct id_rec {
  int *p; void *v; const char *s; int (*fn)(int);
  int64_t i64; uint64_t u64; int32_t i32; double d; bool b;
};
]]

-- type: "cdata" for cdata and ctype objects, unchanged for everything else
eq(type(ffi.new("int")), "cdata", "cdata")
eq(type(ffi.typeof("int")), "cdata", "ctype object")
eq(type(ffi.gc(ffi.new("int *"), function() end)), "cdata", "cdata with a finalizer")
eq(type(ffi.NULL), "cdata", "ffi.NULL")
eq(type(io.stdout), "userdata", "foreign userdata")
eq(type(nil), "nil", "nil")
eq(type(1), "number", "number")
eq(type("x"), "string", "string")
eq(type({}), "table", "table")
eq(type(print), "function", "function")
eq(type(true), "boolean", "boolean")
eq(type(coroutine.create(function() end)), "thread", "thread")
fails("value expected", type)
eq(ffi.type(ffi.new("int")), "cdata", "ffi.type")
eq(ffi.type(5), "number", "ffi.type of a number")

-- tonumber: numeric cdata convert; integers exact (Lua integers on 5.3+)
eq(tonumber(ffi.new("int", 5)), 5, "int")
eq(tonumber(ffi.new("int64_t", 10)) == 10, true, "tonumber(x) == 10")
eq(tonumber(ffi.new("int64_t", -2^62)), -2^62, "int64")
eq(tonumber(ffi.new("uint32_t", -1)), 4294967295, "uint32")
eq(tonumber(ffi.new("int8_t", -3)), -3, "int8")
eq(tonumber(ffi.new("bool", true)), 1, "bool")
eq(tonumber(ffi.new("double", 2.5)), 2.5, "double")
eq(tonumber(ffi.new("float", 0.5)), 0.5, "float")
eq(tonumber(ffi.new("complex", 1.5, 2)), 1.5, "complex gives its real part")
eq(tonumber(ffi.new("complex float", 3, 2)), 3, "complex float")
eq(tonumber(ffi.new("uint64_t", 2^63)), 2^63, "uint64 from 2^63")
ffi.cdef "enum id_e { ID_A, ID_B = 7 };"
eq(tonumber(ffi.new("enum id_e", "ID_B")), 7, "enum")
eq(tonumber(ffi.new("void *")), nil, "pointer gives nil")
eq(tonumber(ffi.cast("int *", 8)), nil, "non-NULL pointer gives nil")
eq(tonumber(ffi.new("int[2]")), nil, "array gives nil")
eq(tonumber(ffi.new("struct id_rec")), nil, "struct gives nil")
eq(tonumber(ffi.typeof("int")), 9, "ctype object gives its type id, as LuaJIT's")
eq(tonumber(ffi.new("int __attribute__((vector_size(8)))")), nil, "vector gives nil")
fails("NULL", tonumber, ffi.new("int &"))
if integers then
  eq(math.type(tonumber(ffi.new("int64_t", 10))), "integer", "int64 gives an integer")
  eq(math.type(tonumber(ffi.new("int", 10))), "integer", "int gives an integer")
  eq(math.type(tonumber(ffi.new("uint64_t", 2^63))), "float", "uint64 beyond int64 a float")
  eq(tonumber(ffi.new("int64_t", 2^53 + 1)), 2^53 + 1, "exact beyond 2^53")
  eq(math.type(tonumber(ffi.new("double", 2))), "float", "double gives a float")
  eq(tostring(tonumber(ffi.new("int64_t", 10))), "10", "prints as LuaJIT prints")
end
-- strings and other values as the base library converts them
eq(tonumber("10"), 10, "decimal string")
eq(tonumber(" 0x10 "), 16, "hex string")
eq(tonumber("1e1"), 10, "exponent")
eq(tonumber("abc"), nil, "not a number")
eq(tonumber(""), nil, "empty string")
eq(tonumber("10", 16), 16, "with a base")
eq(tonumber("z", 36), 35, "base 36")
eq(tonumber("ff", 16), 255, "hex digits")
eq(tonumber(7), 7, "number")
eq(tonumber(nil), nil, "nil")
eq(tonumber({}), nil, "table")
eq(tonumber(io.stdout), nil, "foreign userdata")
fails("value expected", tonumber)
fails("base out of range", tonumber, "10", 99)
eq(ffi.tonumber(ffi.new("int", 3)), 3, "ffi.tonumber")
eq(ffi.tonumber("4"), 4, "ffi.tonumber of a string")

-- NULL pointers read from C memory are nil; others stay cdata
local rec = ffi.new("struct id_rec")
eq(rec.p, nil, "NULL int *")
eq(rec.p == nil, true, "p == nil")
eq(rec.v, nil, "NULL void *")
eq(rec.s, nil, "NULL const char *")
eq(rec.fn, nil, "NULL function pointer")
local x = ffi.new("int[1]", 42)
rec.p = x
eq(type(rec.p), "cdata", "non-NULL pointer is cdata")
eq(rec.p[0], 42, "and usable")
rec.p = nil
eq(rec.p, nil, "writing nil stores NULL")
local ptrs = ffi.new("int *[2]")
ptrs[1] = x
eq(ptrs[0], nil, "NULL element")
eq(ptrs[1][0], 42, "non-NULL element")
-- values made by ffi.new and ffi.cast stay typed cdata
eq(type(ffi.new("int *")), "cdata", "ffi.new of a pointer")
eq(type(ffi.cast("void *", 0)), "cdata", "ffi.cast to NULL")
eq(tostring(ffi.NULL), "cdata<void *>: NULL", "ffi.NULL")
eq(ffi.istype("void *", ffi.NULL), true, "ffi.NULL is a void *")
rec.v = ffi.NULL
eq(rec.v, nil, "storing ffi.NULL")

-- 64-bit integers read from C memory: Lua integers on 5.3+ when they fit, cdata on
-- 5.1/5.2 (as in LuaJIT, where `==` against a number works through the cdata; PUC
-- Lua never calls __eq between a userdata and a number)
rec.i64 = 10
rec.u64 = 10
rec.i32 = 10
eq(rec.i32, 10, "32-bit reads are numbers everywhere")
eq(tonumber(rec.i64), 10, "tonumber of a 64-bit read works everywhere")
if integers then
  eq(rec.i64, 10, "n == 10 for int64_t")
  eq(math.type(rec.i64), "integer", "int64_t reads as an integer")
  eq(rec.u64, 10, "n == 10 for uint64_t")
  rec.i64 = ffi.new("int64_t", -2^63)
  eq(rec.i64, math.mininteger, "INT64_MIN")
  rec.i64 = 2^53 + 1
  eq(rec.i64, 2^53 + 1, "exact")
  rec.u64 = ffi.new("uint64_t", 2^63)
  eq(type(rec.u64), "cdata", "uint64_t from 2^63 stays cdata")
  eq(tostring(rec.u64), "9223372036854775808ULL", "and prints as LuaJIT")
  local a = ffi.new("int64_t[2]", 7)
  eq(a[1], 7, "array element")
else
  eq(type(rec.i64), "cdata", "int64_t stays cdata")
  eq(tostring(rec.i64), "10LL", "as LuaJIT prints it")
  eq(tostring(rec.u64), "10ULL", "uint64_t too")
  eq(rec.i64 == 10, false, "no __eq between userdata and number")
end
-- a 64-bit cdata made by ffi.new stays cdata everywhere
eq(type(ffi.new("int64_t", 1)), "cdata", "ffi.new int64_t")
eq(tostring(ffi.new("int64_t", 1)), "1LL", "prints as LuaJIT")
