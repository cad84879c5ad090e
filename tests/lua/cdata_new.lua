-- ffi.new, ctype calls, ffi.cast and the Lua <-> C conversions, as LuaJIT does them
-- (each expectation was checked against luajit 2.1 on x86-64).
local ffi = require "ffi"

local fails = require("check").fails

ffi.cdef [[
struct cn_inner { int a; };
struct cn_foo { int x, y; struct cn_inner inner; int arr[3]; unsigned b:3; int sb:4; const int c; };
enum cn_e { CN_A, CN_B = 5 };
union cn_u { int a; double b; struct { short lo, hi; }; };
typedef struct { int n; double d[?]; } cn_vls;
]]

-- integers of every width: truncation toward zero, wraparound as LuaJIT on x86-64
assert(ffi.new("int8_t[1]", 300)[0] == 44, "int8 wraps")
assert(ffi.new("uint8_t[1]", 255.9)[0] == 255, "truncation toward zero")
assert(ffi.new("uint16_t[1]", -1)[0] == 65535, "uint16 from -1")
assert(ffi.new("int[1]", -1.9)[0] == -1, "int from -1.9")
assert(ffi.new("int[1]", 2^31)[0] == -2147483648, "int32 overflow is INT_MIN")
assert(ffi.new("unsigned[1]", -1)[0] == 4294967295, "uint32 from -1")
assert(ffi.new("uint32_t[1]", 2^32 + 5)[0] == 5, "uint32 wraps")
assert(ffi.new("int16_t[1]", 2^40)[0] == 0, "int16 from 2^40")
assert(tostring(ffi.new("int64_t", -5)) == "-5LL", "int64 tostring")
assert(tostring(ffi.new("int64_t", 2^53)) == "9007199254740992LL", "int64 2^53")
assert(tostring(ffi.new("uint64_t", 2^63)) == "9223372036854775808ULL", "uint64 2^63")
assert(tostring(ffi.new("uint64_t", 2^64)) == "0ULL", "uint64 2^64")
assert(tostring(ffi.new("int64_t", 2^63)) == "-9223372036854775808LL", "int64 overflow")

-- bool, floating point, complex, enums
assert(ffi.new("bool[1]", 0)[0] == false and ffi.new("bool[1]", 0.5)[0] == true, "bool")
assert(ffi.new("int[1]", true)[0] == 1, "int from true")
assert(math.abs(ffi.new("float[1]", 0.1)[0] - 0.1) < 1e-7, "float")
assert(tostring(ffi.new("complex", 1, 2)) == "1+2i", "complex tostring")
assert(tostring(ffi.new("complex", 1, -2)) == "1-2i", "complex negative")
assert(tostring(ffi.new("complex", {1, 2})) == "1+2i", "complex from table")
assert(tostring(ffi.new("complex float", 1.5)) == "1.5+0i", "complex float")
assert(tostring(ffi.new("complex", 0.5, 1e100)) == "0.5+1e+100i", "%.14g parts")
assert(ffi.new("complex", 1, 2).im == 2 and ffi.new("complex", 1, 2).re == 1, "re/im")
assert(tostring(ffi.new("enum cn_e", "CN_B")) == "cdata<enum cn_e>: 5", "enum by name")
assert(tostring(ffi.new("enum cn_e[1]", 5)[0]) == "cdata<enum cn_e>: 5", "enums read as cdata")
fails("cannot convert 'string' to 'enum cn_e'", ffi.new, "enum cn_e", "CN_C")

-- conversion errors
fails("cannot convert 'string' to 'int'", ffi.new, "int", "x")
fails("cannot convert 'table' to 'int'", ffi.new, "int", {})
fails("cannot convert 'nil' to 'int'", ffi.new, "int", nil)
fails("cannot convert 'number' to 'int *'", ffi.new, "int *", 1)
fails("cannot convert 'string' to 'void *'", ffi.new, "void *", "abc")
fails("cannot convert 'string' to 'char *'", ffi.new, "char *", "abc")
fails("cannot convert 'function' to 'int'", ffi.new, "int", print)
fails("cannot convert 'string' to 'double'", ffi.new, "double", "1")

-- pointers: NULL, compatibility, decay
assert(tostring(ffi.new("int *")) == "cdata<int *>: NULL", "NULL pointer")
assert(tostring(ffi.cast("int *", 1)) == "cdata<int *>: 0x00000001", "%p format")
assert(tostring(ffi.cast("void *", 0xdeadbeef)) == "cdata<void *>: 0xdeadbeef", "cast number")
assert(tostring(ffi.cast("void *", -1)) == "cdata<void *>: 0xffffffffffffffff", "cast -1")
assert(tostring(ffi.cast("int *", nil)) == "cdata<int *>: NULL", "cast nil")
assert(string.find(tostring(ffi.new("const char *", "ab")), "^cdata<const char %*>: 0x"), "string to const char *")
assert(string.find(tostring(ffi.new("void *", ffi.new("double[2]"))), "0x"), "void * takes any pointer")
assert(string.find(tostring(ffi.new("const int *", ffi.new("int[2]"))), "0x"), "adding const")
assert(tostring(ffi.new("int *", ffi.new("unsigned *"))) == "cdata<int *>: NULL", "signedness ignored")
fails("cannot convert 'double [2]' to 'int *'", ffi.new, "int *", ffi.new("double[2]"))
fails("cannot convert 'const int [2]' to 'int *'", ffi.new, "int *", ffi.new("const int[2]"))
fails("cannot convert 'char *' to 'int *'", ffi.new, "int *", ffi.new("char *"))
fails("cannot convert 'struct cn_foo' to 'struct cn_inner *'", ffi.new, "struct cn_inner *", ffi.new("struct cn_foo"))
fails("cannot convert 'int *' to 'int'", ffi.new, "int", ffi.new("int *"))
fails("cannot convert 'int *' to 'bool'", ffi.new, "bool", ffi.new("int *"))
assert(ffi.new("int[1]", ffi.new("double", 2.5))[0] == 2, "cdata double to int")
assert(ffi.new("double[1]", ffi.new("complex", 3, 4))[0] == 3, "complex to double")
assert(tostring(ffi.new("int64_t", ffi.new("int64_t", 7))) == "7LL", "int64 from int64")
assert(string.find(tostring(ffi.new("int *", io.stdout)), "0x"), "userdata to pointer")

-- ffi.cast
fails("invalid C type", ffi.cast, "struct cn_foo", 1)
fails("invalid C type", ffi.cast, "int[2]", 5)
fails("value expected", ffi.cast, "int")
-- as LuaJIT: a missing value is reported first, even for a type no cast makes
fails("value expected", ffi.cast, "struct cn_foo")
fails("value expected", ffi.cast, "int[2]")
fails("value expected", ffi.cast, "int &")
fails("cannot convert 'table' to 'int'", ffi.cast, "int", {})
assert(string.find(tostring(ffi.cast("int64_t", ffi.new("int[2]"))), "^%d+LL$"), "pointer to int64")

-- array initializers
local a = ffi.new("int[3]", 7)
assert(a[0] == 7 and a[2] == 7, "a single initializer fills the array")
a = ffi.new("int[3]", 7, 8)
assert(a[0] == 7 and a[1] == 8 and a[2] == 0, "fewer initializers zero the rest")
a = ffi.new("int[3]", {7})
assert(a[2] == 7, "a single table element fills the array")
a = ffi.new("int[3]", {[0] = 7, 8})
assert(a[0] == 7 and a[1] == 8 and a[2] == 0, "0-based table")
fails("too many initializers for 'int [3]'", ffi.new, "int[3]", 1, 2, 3, 4)
fails("too many initializers for 'int [3]'", ffi.new, "int[3]", {1, 2, 3, 4})
fails("too many initializers for 'int'", ffi.new, "int", 1, 2)
fails("cannot convert 'table' to 'int'", ffi.new, "int[3]", {1, 2, 3}, 4)
fails("cannot convert 'number' to 'int [2]'", ffi.new, "int[2][2]", 5)
assert(ffi.new("int[2][2]", {{1, 2}, {3, 4}})[1][0] == 3, "nested arrays")
assert(ffi.new("char[4]", "abc")[3] == 0, "string into char array, with NUL")
assert(ffi.new("char[?]", 2, "abc")[1] == 98, "string truncated to the array")
assert(ffi.new("uint8_t[4]", "abc")[1] == 98, "string into uint8_t array")
assert(ffi.new("struct cn_inner[1]", {{5}})[0].a == 5, "array of structs")

-- struct and union initializers
local s = ffi.new("struct cn_foo", 1, 2, {3}, {4, 5})
assert(s.x == 1 and s.y == 2 and s.inner.a == 3 and s.arr[1] == 5 and s.arr[2] == 0, "positional")
s = ffi.new("struct cn_foo", {x = 1, inner = {7}})
assert(s.x == 1 and s.y == 0 and s.inner.a == 7, "by name")
assert(ffi.new("struct cn_foo", {x = 1, zz = 2}).x == 1, "unknown names are ignored")
fails("cannot convert 'number' to 'struct cn_inner'", ffi.new, "struct cn_foo", 1, 2, 3)
fails("cannot convert 'number' to 'struct cn_inner'", ffi.new, "struct cn_foo", {1, 2, 3})
fails("cannot convert 'nil' to 'int'", ffi.new, "struct cn_foo", nil)
fails("cannot convert 'table' to 'int'", ffi.new, "struct cn_foo", {}, 2)
local copy = ffi.new("struct cn_foo", ffi.new("struct cn_foo", 4))
assert(copy.x == 4, "struct from struct cdata")
assert(ffi.new("union cn_u", 5).a == 5, "union by its first field")
assert(ffi.new("struct { int a; struct { int b; int c; }; }", 1, 2, 3).c == 3, "anonymous members flatten")
assert(ffi.new("struct { int a; struct { int b; int c; }; }", {a = 1, b = 2, c = 3}).c == 3, "anonymous by name")
assert(ffi.new("union { struct { int a, b; }; int c; }", 1, 2).b == 2, "union's anonymous struct")
fails("too many initializers for", ffi.new, "union { int a; int b; }", 1, 2)
assert(ffi.new("struct { char s[4]; }", "ab").s[1] == 98, "string into a char array field")
assert(ffi.new("struct { int a[2]; int b; }", {1, 2}, 3).b == 3, "array field from a table")

-- variable-length types, ctype calls, sizes, alignment
fails("value expected", ffi.new, "int[?]")
fails("size of C type is unknown or too large", ffi.new, "int[?]", -1)
fails("cannot convert 'string' to 'int'", ffi.new, "int[?]", "2")
fails("size of C type is unknown or too large", ffi.new, "void")
fails("size of C type is unknown or too large", ffi.new, "int[]")
assert(ffi.typeof("int[?]")(2, 3)[1] == 3, "ctype call with nelem")
assert(ffi.sizeof(ffi.new("int[?]", 5)) == 20, "sizeof a VLA cdata")
assert(ffi.sizeof(ffi.new("cn_vls", 3)) == 32, "sizeof a VLS cdata")
assert(ffi.new("struct { int n; int a[?]; }", 2, {7, {8, 9}}).a[1] == 9, "VLS tail from a table")
if not require("check").luajit then -- LuaJIT writes past the end here; jitffi refuses
  fails("too many initializers", ffi.new, "int[?]", 2, {1, 2, 3})
end
assert(tostring(ffi.new("int &")) == "cdata<int &>: NULL", "NULL reference")
assert(tostring(ffi.typeof("int")) == "ctype<int>", "ctype tostring")
assert(ffi.typeof(ffi.new("int[3]")) == ffi.typeof("int[3]"), "typeof cdata")
fails("'int' is not callable", function() return ffi.new("int")() end)
local T = ffi.typeof("struct { char c; double x __attribute__((aligned(64))); }")
for _ = 1, 20 do
  local v = T()
  local address = tonumber(string.match(tostring(v), "0x(%x+)"), 16)
  assert(address % 64 == 0, "over-aligned cdata value at " .. tostring(v))
  v.x = 1.5
  assert(v.x == 1.5, "over-aligned member")
end

-- warm constructors (the fast path of `CT(...)` and `ffi.new(ct, ...)` for a struct of
-- scalars or a scalar, from the second call of a type on): the same conversions and
-- errors as the first call's general path; last, since it makes a metatype
ffi.cdef [[
struct cn_warm { double x; int id; int64_t big; uint8_t small; float f; bool b; };
struct cn_warm_new { int a, b; };
]]
local W = ffi.typeof("struct cn_warm")
local makers = {
  W,
  function(...) return ffi.new(W, ...) end,
  function(...) return ffi.new("struct cn_warm", ...) end,
}
for _, make in ipairs(makers) do
  for i = 1, 3 do
    local v = make(i + 0.5, -i, 2^40 + i, 300, 0.25, 2)
    assert(v.x == i + 0.5 and v.id == -i and tonumber(v.big) == 2^40 + i, "warm positional")
    assert(v.small == 44 and v.f == 0.25 and v.b == true, "warm narrow members")
    v = make(1.9)
    assert(v.x == 1.9 and v.id == 0 and tonumber(v.big) == 0 and v.b == false, "warm missing are zero")
    v = make(0, 2.9, -1.5)
    assert(v.id == 2 and tonumber(v.big) == -1, "warm truncation")
    v = make()
    assert(v.x == 0 and v.id == 0, "warm empty")
    fails("too many initializers for 'struct cn_warm'", make, 1, 2, 3, 4, 5, 6, 7)
    fails("cannot convert 'string' to 'int'", make, 1, "2")
    assert(make({x = 3, id = 4}).id == 4, "warm table initializer")
    fails("cannot convert 'nil' to 'int64_t'", make, 1, 2, nil)
  end
  if math.type then
    local big = load("return 0x4000000000000001")()
    assert(make(0, 0, big).big == big, "warm exact int64")
  end
end
for _ = 1, 3 do
  assert(tonumber(ffi.new("int", 5.7)) == 5 and tonumber(ffi.new("double", 2)) == 2, "warm scalar")
  fails("too many initializers for 'int'", ffi.new, "int", 1, 2)
end
local N = ffi.typeof("struct cn_warm_new")
for _ = 1, 3 do assert(N(1, 2).b == 2, "warm before a metatype") end
ffi.metatype(N, { __new = function(ct, a) return ffi.new(ct, a, 40) end })
assert(N(1, 2).b == 40, "__new once a metatype exists")
assert(ffi.new(N, 1, 2).b == 2, "ffi.new ignores __new")

-- warm short arrays of scalars: one initializer fills every element, more fill the
-- first ones and zero the rest
for _ = 1, 3 do
  local a = ffi.new("double[4]", 1.5)
  assert(a[0] == 1.5 and a[3] == 1.5, "warm array from one initializer")
  a = ffi.new("double[4]", 1, 2)
  assert(a[0] == 1 and a[1] == 2 and a[2] == 0 and a[3] == 0, "warm array from two")
  a = ffi.new("int[3]")
  assert(a[0] == 0 and a[2] == 0, "warm empty array")
  a = ffi.new("const uint8_t[2]", 300)
  assert(a[0] == 44 and a[1] == 44, "warm const array wraps")
  assert(ffi.new("bool[2]", 1)[1] == true, "warm bool array")
  fails("too many initializers for 'int [3]'", ffi.new, "int[3]", 1, 2, 3, 4)
  fails("too many initializers for 'int [0]'", ffi.new, "int[0]", 1)
  assert(ffi.new("int[20]", 7)[19] == 7, "a longer array from one initializer")
  fails("cannot convert 'number' to 'int [2]'", ffi.new, "int[2][2]", 7)
end
