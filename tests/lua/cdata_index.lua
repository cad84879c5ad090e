-- Indexing cdata: elements, members, bitfields, references, const, NULL, errors
-- (each expectation was checked against luajit 2.1 on x86-64).
local ffi = require "ffi"

local fails = require("check").fails

ffi.cdef [[
struct ci_inner { int a; };
struct ci_foo { int x, y; struct ci_inner inner; int arr[3]; unsigned b:3; int sb:4; const int c;
                union { int u1; float u2; }; };
struct ci_pk { char c; int x:22; } __attribute__((packed));
struct ci_bits { unsigned a:3, b:5; int c:20; int d:10; bool f:1; };
]]

local s = ffi.new("struct ci_foo")
s.x, s.y = 1, -2
assert(s.x == 1 and s.y == -2, "int fields")
s.inner.a = 4
assert(s.inner.a == 4, "writes through a struct reference")
local r = s.inner
assert(string.find(tostring(r), "^cdata<struct ci_inner &>: 0x"), "aggregates read as references")
assert(tostring(ffi.typeof(r)) == "ctype<struct ci_inner &>", "typeof a reference")
assert(ffi.sizeof(r) == 4, "sizeof a reference")
r.a = 9
assert(s.inner.a == 9, "a reference aliases its struct")
assert(string.find(tostring(s.arr), "^cdata<int %(&%)%[3%]>: 0x"), "arrays read as references")
s.arr[2] = 7
assert(s.arr[2] == 7, "array member elements")
s.inner = {11}
assert(s.inner.a == 11, "struct member from a table")
s.arr = {9, 8}
assert(s.arr[0] == 9 and s.arr[1] == 8 and s.arr[2] == 0, "array member from a table")
s.u1 = 3
assert(s.u1 == 3, "anonymous union member")

-- bitfields
s.b = 9
s.sb = -3
assert(s.b == 1 and s.sb == -3, "bitfields truncate and sign-extend")
s.sb = 8
assert(s.sb == -8, "signed bitfield wraps")
assert(s.x == 1 and s.c == 0, "neighbours untouched")
local pk = ffi.new("struct ci_pk")
pk.c = 65
pk.x = -5
assert(pk.x == -5 and pk.c == 65, "packed bitfield past its unit")
pk.x = 2097151
assert(pk.x == 2097151, "largest 22-bit value")
local bits = ffi.new("struct ci_bits")
bits.a, bits.b, bits.c, bits.d, bits.f = 7, 31, -1, 511, true
assert(bits.a == 7 and bits.b == 31 and bits.c == -1 and bits.d == 511 and bits.f == true, "bitfields")
bits.b = 0
assert(bits.a == 7 and bits.b == 0 and bits.c == -1, "clearing one bitfield")

-- errors
fails("attempt to write to constant location", function() s.c = 1 end)
fails("cannot convert 'string' to 'int'", function() s.x = "a" end)
fails("'struct ci_foo' has no member named 'z'", function() return s.z end)
fails("'struct ci_foo' has no member named 'z'", function() s.z = 1 end)
fails("'struct ci_foo' cannot be indexed with 'number'", function() return s[1] end)
fails("'int' has no member named 'x'", function() return ffi.new("int").x end)
fails("'int' cannot be indexed with 'number'", function() return ffi.new("int")[0] end)
fails("'int64_t' has no member named 'x'", function() return ffi.new("int64_t", 5).x end)
fails("'struct ci_foo' has no member named 'x'", function() return ffi.typeof("struct ci_foo").x end)
if not require("check").luajit then -- LuaJIT crashes here; jitffi refuses
  fails("NULL", function() return ffi.new("int *")[0] end)
  fails("NULL", function() return ffi.new("struct ci_foo *").x end)
  fails("NULL", function() return ffi.new("struct ci_inner &").a end)
end
fails("attempt to write to constant location", function() ffi.new("const int[2]")[0] = 1 end)

-- pointers: elements, negative indices, members through pointers
local arr = ffi.new("int[4]", 10, 20, 30, 40)
local p = ffi.cast("int *", arr)
assert(p[0] == 10 and p[3] == 40, "pointer elements")
p[1] = 21
assert(arr[1] == 21, "writes through a pointer")
local halves = ffi.new("struct { int lo[2]; int hi[2]; }", {{10, 21}})
local q = ffi.cast("int *", halves.hi)
assert(q[-1] == 21 and q[-2] == 10, "negative indices")
local sp = ffi.cast("struct ci_foo *", s)
assert(sp.x == 1, "members through a pointer")
sp.y = 5
assert(s.y == 5, "member writes through a pointer")
assert(sp[0].y == 5, "pointer to struct indexed by number")
local cs = ffi.cast("const struct ci_foo *", s)
assert(cs.x == 1, "read through a const pointer")
fails("attempt to write to constant location", function() cs.x = 2 end)
local pp = ffi.new("int *[2]")
pp[0] = p
assert(pp[0][2] == 30, "pointers read as pointer cdata")
-- 64-bit elements: boxed on 5.1/5.2 as in LuaJIT, Lua integers on 5.3+ (idioms.lua)
local boxed64 = math.type == nil
local i64 = ffi.new("int64_t[2]", 5)
assert(tostring(i64[1]) == (boxed64 and "5LL" or "5"), "64-bit elements")
i64[0] = ffi.new("int64_t", -7)
assert(tostring(i64[0]) == (boxed64 and "-7LL" or "-7"), "64-bit element from cdata")

-- Constants in record bodies (LuaJIT's struct namespace; tests/diff/record_constants.lua
-- compares the rest with luajit): read through the ctype, instances and pointers, never
-- written, no room taken.
ffi.cdef [[
struct ci_k { static const int K = 7; enum { CI_KA = 3, CI_KB }; int a; };
]]
local K = ffi.typeof("struct ci_k")
assert(K.K == 7 and K.CI_KB == 4 and K().K == 7 and ffi.sizeof(K) == 4, "record constants")
assert(ffi.cast("struct ci_k *", nil).CI_KA == 3, "a constant through NULL needs no memory")
fails("attempt to write to constant location", function() K().K = 1 end)
fails("attempt to write to constant location", function() K.CI_KA = 1 end)
fails("has no member named 'a'", function() return K.a end)
fails("'struct ci_k [1]' has no member named 'a'", function() return ffi.new("struct ci_k[1]").a end)
if not require("check").luajit then
  -- Beyond LuaJIT (which takes only 32-bit integers): 64-bit and bool constants, read
  -- as 64-bit values are (Lua integers on 5.3+, cdata on 5.1/5.2).
  ffi.cdef [[ struct ci_k64 { static const uint64_t BIG = 0xffffffffffffffffULL;
                               static const long long NEG = -5; static const bool T = 2; int a; }; ]]
  local K64 = ffi.typeof("struct ci_k64")
  assert(tostring(K64.BIG) == "18446744073709551615ULL", "uint64 constant beyond 2^63 stays cdata")
  assert(tostring(K64.NEG) == (boxed64 and "-5LL" or "-5"), "int64 constant")
  assert(K64.T == true, "bool constant")
end

-- Scalar elements by number: after its first access a pointer or array type takes the
-- fast path of __index/__newindex (tests/diff/elements.lua compares every kind with
-- luajit); here what LuaJIT cannot show. A cdata key always takes the general path.
local one = ffi.new("int32_t", 1)
local lua_int = math.type ~= nil -- 5.3+: integer reads, exact 64-bit stores
local ia = ffi.new("int32_t[2]", 1, 2)
local da = ffi.new("double[2]", 1, 2)
for _ = 1, 2 do
  if lua_int then
    assert(math.type(ia[1]) == "integer" and math.type(ia[one]) == "integer", "int elements read as integers")
    assert(math.type(da[1]) == "float" and math.type(da[one]) == "float", "double elements read as floats")
    assert(ia[1.0] == 2 and ia[2 ^ 0] == 2, "integral float keys")
  end
  assert(ia[1] == 2 and da[1] == 2, "integral elements")
end
local w64 = ffi.new("int64_t[2]")
local uw64 = ffi.new("uint64_t[2]")
for _ = 1, 2 do
  if lua_int then
    local big = math.tointeger(2 ^ 53) + 1
    w64[0], w64[one] = big, big
    assert(w64[0] == big and w64[one] == big and math.type(w64[0]) == "integer", "exact 64-bit stores")
    w64[0] = math.mininteger
    assert(w64[0] == math.mininteger, "smallest int64_t")
    uw64[0], uw64[one] = -1, -1
    assert(tostring(uw64[0]) == "18446744073709551615ULL", "uint64_t from 2^63 up reads as cdata")
    assert(tostring(uw64[one]) == "18446744073709551615ULL", "the same through the general path")
    uw64[0] = math.maxinteger
    assert(uw64[0] == math.maxinteger and math.type(uw64[0]) == "integer", "uint64_t below 2^63")
    local nudged = ffi.cast("uint64_t *", uw64)
    nudged[0] = nudged[0] + 1
    assert(tostring(nudged[0]) == "9223372036854775808ULL", "2^63 through a pointer")
  else
    w64[0] = 5
    assert(tostring(w64[0]) == "5LL" and tostring(w64[one]) == "0LL", "64-bit elements stay cdata")
    uw64[0] = 2 ^ 63
    assert(tostring(uw64[0]) == "9223372036854775808ULL", "uint64_t elements stay cdata")
  end
end
if not require("check").luajit then -- LuaJIT crashes here; jitffi refuses
  local live, null = ffi.cast("int *", ia), ffi.new("int *")
  for _ = 1, 2 do
    assert(live[1] == 2, "a pointer type the fast path knows")
    fails("attempt to dereference a NULL pointer of type 'int *'", function() return null[0] end)
    fails("attempt to dereference a NULL pointer of type 'int *'", function() null[1] = 1 end)
    fails("attempt to dereference a NULL pointer of type 'int *'", function() return null[one] end)
  end
end
ia[0] = 3
for _ = 1, 2 do
  fails("attempt to write to constant location", function() ffi.cast("const int *", ia)[0] = 1 end)
  fails("attempt to write to constant location", function() ffi.cast("const int *", ia)[1] = true end)
end
assert(ia[0] == 3 and ia[1] == 2, "const writes leave the elements")

-- Members by name: after its first access a member of a cdata type takes the fast path
-- of __index/__newindex (tests/diff/fields.lua compares every kind with luajit); here
-- what LuaJIT cannot show: a NULL pointer or reference met by a member the fast path
-- knows, and a key that is a long string or a cdata of another type.
ffi.cdef [[
struct ci_fast { int x; struct ci_inner in; };
]]
local fast = ffi.new("struct ci_fast[2]")
local fast_ptr = ffi.cast("struct ci_fast *", fast)
local fast_ref = fast[1]
for _ = 1, 3 do
  fast_ptr.x, fast_ref.x = fast_ptr.x + 1, fast_ref.x + 2
  fast_ptr["in"].a = fast_ref["in"].a + 1
end
assert(fast[0].x == 3 and fast[1].x == 6 and fast[0]["in"].a == 1, "members through a pointer and a reference")
if not require("check").luajit then -- LuaJIT crashes here; jitffi refuses
  local null_ptr = ffi.new("struct ci_fast *")
  local null_ref = ffi.cast("struct ci_fast &", null_ptr)
  for _ = 1, 2 do
    fails("attempt to dereference a NULL pointer of type 'struct ci_fast *'", function() return null_ptr.x end)
    fails("attempt to dereference a NULL pointer of type 'struct ci_fast *'", function() null_ptr.x = 1 end)
    fails("attempt to dereference a NULL pointer of type 'struct ci_fast *'", function() return null_ptr["in"] end)
    fails("NULL", function() return null_ref.x end)
    fails("NULL", function() null_ref.x = 1 end)
  end
end
-- A ctype object is no value: its member names reach only the record's constants.
for _ = 1, 2 do
  fails("'struct ci_fast' has no member named 'x'", function() return ffi.typeof("struct ci_fast").x end)
end
-- The fast path checks the whole tag word of argument 1 and the kind of key each time.
local index = debug.getmetatable(fast_ptr).__index
local newindex = debug.getmetatable(fast_ptr).__newindex
for _ = 1, 2 do
  assert(index(fast_ptr, "x") == 3, "a direct call")
  fails("cdata expected", function() return index(io.stdout, "x") end)
  fails("cdata expected", function() return index(newproxy and newproxy() or io.stderr, "x") end)
  fails("cdata expected", function() newindex(io.stdout, "x", 1) end)
  fails("'struct ci_fast' has no member named 'y'", function() return index(fast_ptr, "y") end)
end

-- A method name (answered by the metatype's __index table) on the fast path, then the
-- same name through a NULL pointer of the same type: the general path's error.
ffi.cdef "struct ci_m { int n; };"
ffi.metatype("struct ci_m", { __index = { get = function(self) return self.n end } })
local m_arr = ffi.new("struct ci_m[1]", { { 4 } })
local m_ptr = ffi.cast("struct ci_m *", m_arr)
for _ = 1, 3 do
  assert(m_ptr:get() == 4 and m_arr[0]:get() == 4, "methods through a pointer and a reference")
end
if not require("check").luajit then -- LuaJIT crashes here; jitffi refuses
  local m_null = ffi.new("struct ci_m *")
  for _ = 1, 2 do
    fails("attempt to dereference a NULL pointer of type 'struct ci_m *'", function() return m_null:get() end)
  end
end

-- The cdata the fast paths make (a pointer member, a struct element, `ffi.new(ct)`) get
-- the cdata metatable by a store into the userdata header where that is verified: each
-- is a cdata in every way, and stays one through a full collection.
ffi.cdef "struct ci_store { int32_t *p; int n; };"
local store_t = ffi.typeof("struct ci_store")
local backing = ffi.new("int32_t[2]", 5, 6)
local holders = ffi.new("struct ci_store[1]")
holders[0].p = backing
for _ = 1, 3 do
  local q, element, fresh = holders[0].p, holders[0], ffi.new(store_t)
  collectgarbage()
  assert(getmetatable(q) == "ffi" and ffi.istype("int32_t *", q) and q[1] == 6, "a pointer member")
  assert(tostring(ffi.typeof(element)) == "ctype<struct ci_store &>" and element.p == q, "an element")
  assert(getmetatable(fresh) == "ffi" and ffi.istype(store_t, fresh) and fresh.n == 0, "ffi.new(ct)")
  q[0], element.n, fresh.n = q[0] + 1, 7, 8
end
assert(backing[0] == 8 and holders[0].n == 7, "writes through the new cdata")
