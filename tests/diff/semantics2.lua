-- Differential test: semantics real LuaJIT-FFI code hits (issue 13, item 3): const on
-- every assignment path, strings into flexible array members, ffi.offsetof through a
-- reference, no boolean to complex conversion, reference members bound to arrays and
-- written through, and vector initializers and conversions.
local ffi = require "ffi"

local try = require("diffshow").try

-- Elements as integral numbers print alike on every Lua ("1", never "1.0").
local function elems(v, n)
  local out = {}
  for i = 0, n - 1 do out[#out + 1] = string.format("%g", tonumber(v[i])) end
  return table.concat(out, ",")
end

-- const ---------------------------------------------------------------------------------
ffi.cdef [[
struct s2_cs { const int x; int y; };
struct s2_wrap { struct s2_cs in; int k; };
struct s2_carr { const int a[3]; const char s[4]; int b; };
struct s2_named { const struct { int p; int q; } c; int z; };
struct s2_anon { const struct { int p; int q; }; int z; };
struct s2_anon2 { struct { const int p; int q; }; int z; };
union s2_cu { const int x; int y; };
]]
try("const array initialized", function()
  local a = ffi.new("const int[3]", {1, 2, 3})
  local b = ffi.new("const int[3]", 4, 5, 6)
  local c = ffi.new("const char[4]", "abc")
  local d = ffi.new("const int[2][2]", {{1, 2}, {3, 4}})
  return a[2], b[0], ffi.string(c), d[1][1]
end)
try("const array element", function() ffi.new("const int[3]")[0] = 5 end)
try("const array row from a table", function() ffi.new("const int[2][2]")[1] = {5, 6} end)
try("const char row from a string", function() ffi.new("const char[2][4]")[1] = "xy" end)
try("const array member from a table", function() ffi.new("struct s2_carr").a = {1, 2, 3} end)
try("const char member from a string", function() ffi.new("struct s2_carr").s = "ab" end)
try("const array member initialized", function()
  local s = ffi.new("struct s2_carr", {{1, 2, 3}, "ab", 4})
  return s.a[1], ffi.string(s.s), s.b
end)
try("other members stay writable", function()
  local s = ffi.new("struct s2_carr"); s.b = 7
  local t = ffi.new("struct s2_cs"); t.y = 8
  local w = ffi.new("struct s2_wrap"); w.k = 9; w["in"].y = 10
  return s.b, t.y, w.k, w["in"].y
end)
try("const member", function() ffi.new("struct s2_cs").x = 1 end)
try("struct with a const member, whole", function()
  local w = ffi.new("struct s2_wrap")
  w["in"] = ffi.new("struct s2_cs", 1, 2)
end)
try("struct with a const member, from a table", function()
  ffi.new("struct s2_wrap")["in"] = {1, 2}
end)
try("struct holding one, whole", function() ffi.new("struct s2_wrap[1]")[0] = {{1, 2}, 3} end)
try("array element of such a struct", function() ffi.new("struct s2_cs[2]")[1] = {5, 6} end)
try("through a pointer", function()
  local p = ffi.cast("struct s2_cs *", ffi.new("struct s2_cs[1]"))
  p[0] = {1, 2}
end)
try("union with a const member", function() ffi.new("union s2_cu[1]")[0] = ffi.new("union s2_cu") end)
try("union's other member", function() local u = ffi.new("union s2_cu"); u.y = 3; return u.y end)
try("such structs initialized and copied", function()
  local a = ffi.new("struct s2_cs", 1, 2)
  local b = ffi.new("struct s2_cs", a)
  local w = ffi.new("struct s2_wrap", a, 3)
  local arr = ffi.new("struct s2_cs[2]", {{1, 2}, {3, 4}})
  return b.x, w["in"].x, w.k, arr[1].x
end)
try("named const struct member", function() ffi.new("struct s2_named").c.p = 1 end)
try("named const struct member, whole", function() ffi.new("struct s2_named").c = {1, 2} end)
try("const anonymous struct member", function() ffi.new("struct s2_anon").p = 1 end)
try("const anonymous struct, whole", function() ffi.new("struct s2_anon[1]")[0] = {} end)
try("beside a const anonymous struct", function()
  local s = ffi.new("struct s2_anon"); s.z = 1
  local t = ffi.new("struct s2_anon2"); t.q = 2
  return s.z, t.q
end)
try("const inside an anonymous struct", function() ffi.new("struct s2_anon2").p = 1 end)
try("anonymous struct with a const member, whole", function()
  ffi.new("struct s2_anon2[1]")[0] = {}
end)
try("const anonymous struct initialized", function()
  local s = ffi.new("struct s2_anon", {1, 2, 3})
  return s.p, s.q, s.z
end)

-- strings into flexible array members ----------------------------------------------------
ffi.cdef [[
struct s2_fv { int n; char s[?]; };
struct s2_fz { int n; char s[0]; };
struct s2_fe { int n; char s[]; };
struct s2_fu { int n; unsigned char s[0]; };
struct s2_fc { int n; const char s[0]; };
struct s2_fi { int n; int s[?]; };
]]
try("string into a [?] member", function()
  local s = ffi.new("struct s2_fv", 8); s.s = "hello"
  return ffi.string(s.s), s.n
end)
try("string initializer of a [?] member", function()
  local s = ffi.new("struct s2_fv", 8, 3, "hey")
  return ffi.string(s.s), s.n
end)
try("table into a [?] member", function()
  local s = ffi.new("struct s2_fv", 8); s.s = {65, 66}
  return ffi.string(s.s, 2)
end)
for _, name in ipairs { "struct s2_fz", "struct s2_fe", "struct s2_fu" } do
  try("string into a flexible member through a pointer: " .. name, function()
    local buf = ffi.new("char[32]", 1)
    local p = ffi.cast(name .. " *", buf)
    p.s = "hello"
    return ffi.string(p.s), ffi.string(buf + 4), buf[9], buf[10]
  end)
end
try("const flexible member", function()
  ffi.cast("struct s2_fc *", ffi.new("char[32]")).s = "hello"
end)
try("number into a flexible member", function()
  ffi.cast("struct s2_fz *", ffi.new("char[32]")).s = 65
end)
try("char array into a flexible member", function()
  ffi.cast("struct s2_fz *", ffi.new("char[32]")).s = ffi.new("char[3]", "ab")
end)
try("string into an int [?] member", function() ffi.new("struct s2_fi", 2).s = "abc" end)

-- ffi.offsetof through a reference -------------------------------------------------------
ffi.cdef "struct s2_os { int a; int x; struct { int y; }; int bf : 3; };"
try("offsetof through a reference", function()
  return ffi.offsetof("struct s2_os &", "x"), ffi.offsetof("const struct s2_os &", "x")
end)
try("offsetof of an anonymous member through a reference", function()
  return ffi.offsetof("struct s2_os &", "y")
end)
try("offsetof of a bitfield through a reference", function()
  return ffi.offsetof("struct s2_os &", "bf")
end)
try("offsetof through a reference ctype", function()
  return ffi.offsetof(ffi.typeof("struct s2_os &"), "x")
end)
try("offsetof of nothing", function()
  return ffi.offsetof("struct s2_os &", "zz"), ffi.offsetof("int &", "x"),
    ffi.offsetof("struct s2_os *", "x")
end)

-- no boolean to complex ------------------------------------------------------------------
ffi.cdef "struct s2_sc { complex c; };"
try("bool to complex", function() local c = ffi.new("complex", true); return c end)
try("bool to complex float", function() local c = ffi.new("complex float", false); return c end)
try("bool into a complex element", function() ffi.new("complex[1]")[0] = true end)
try("bool in a table of complex", function() local c = ffi.new("complex[1]", {true}); return c end)
try("bool to complex elements", function() local c = ffi.new("complex[2]", true, false); return c end)
try("bool to complex [?]", function() local c = ffi.new("complex[?]", 1, true); return c end)
try("bool cdata to complex", function()
  local c = ffi.new("complex", ffi.new("bool", true)); return c
end)
try("bool into a complex member", function() ffi.new("struct s2_sc").c = true end)
try("bool initializing a complex member", function()
  local s = ffi.new("struct s2_sc", true); return s
end)
try("bool to numbers", function()
  return string.format("%g", tonumber(ffi.new("double", true))), tonumber(ffi.new("int", true))
end)
try("cast to complex", function() local c = ffi.cast("complex", 1); return c end)

-- reference members ----------------------------------------------------------------------
ffi.cdef [[
struct s2_nh { int &r; };
struct s2_nhc { const int &r; };
struct s2_nhd { double &r; };
]]
try("write through a reference member", function()
  local cell = ffi.new("int[1]", 3)
  local h = ffi.cast("struct s2_nh *", ffi.new("int *[1]", cell))
  h.r = 5
  return cell[0], h.r, type(h.r)
end)
try("table through a reference member", function()
  local cell = ffi.new("int[1]", 3)
  ffi.cast("struct s2_nh *", ffi.new("int *[1]", cell)).r = {7}
end)
try("write through a const reference member", function()
  local cell = ffi.new("int[1]", 3)
  ffi.cast("struct s2_nhc *", ffi.new("int *[1]", cell)).r = 5
end)
try("reference member from an array", function()
  local cell = ffi.new("int[2]", 3, 4)
  local h = ffi.new("struct s2_nh", cell)
  return h.r, ffi.cast("int **", h)[0] == ffi.cast("int *", cell)
end)
try("reference member from an array in a table", function()
  local h = ffi.new("struct s2_nh", {ffi.new("int[2]", 3, 4)}); return h.r
end)
try("reference member from a pointer", function()
  local cell = ffi.new("int[2]", 6, 4)
  local h = ffi.new("struct s2_nh", ffi.cast("int *", cell)); return h.r
end)
try("double reference member from an array, written", function()
  local cell = ffi.new("double[2]", 3.5, 4)
  local h = ffi.new("struct s2_nhd", cell)
  local before = h.r
  h.r = 1.25
  return before, cell[0]
end)
try("reference member from nil", function()
  local h = ffi.new("struct s2_nh", nil); return ffi.cast("int **", h)[0] == nil
end)
try("reference member from an int", function()
  local h = ffi.new("struct s2_nh", ffi.new("int", 3)); return h
end)
try("reference member from a number", function() local h = ffi.new("struct s2_nh", 5); return h end)
try("reference member from a short array", function()
  local h = ffi.new("struct s2_nh", ffi.new("short[2]")); return h
end)
try("reference member from a const array", function()
  local h = ffi.new("struct s2_nh", ffi.new("const int[2]")); return h
end)
try("reference from a short array", function()
  local r = ffi.new("int &", ffi.new("short[2]")); return r
end)
try("reference from an array", function()
  local r = ffi.new("int &", ffi.new("int[2]", 9)); return r + 0
end)

-- vectors --------------------------------------------------------------------------------
ffi.cdef [[
typedef float s2_v4sf __attribute__((vector_size(16)));
typedef int s2_v4si __attribute__((vector_size(16)));
typedef double s2_v2df __attribute__((vector_size(16)));
typedef float s2_v2sf __attribute__((vector_size(8)));
struct s2_sv { int n; s2_v4sf v; };
]]
try("vector from elements", function() return elems(ffi.new("s2_v4sf", 1, 2, 3, 4), 4) end)
try("vector from fewer elements", function() return elems(ffi.new("s2_v4sf", 1, 2), 4) end)
try("vector from one number", function() return elems(ffi.new("s2_v4sf", 7), 4) end)
try("vector from a table", function() return elems(ffi.new("s2_v4sf", {1, 2, 3}), 4) end)
try("vector from a table of one", function() return elems(ffi.new("s2_v4sf", {5}), 4) end)
try("vector from too many", function() local v = ffi.new("s2_v4sf", 1, 2, 3, 4, 5); return v end)
try("vector from too large a table", function()
  local v = ffi.new("s2_v4sf", {1, 2, 3, 4, 5}); return v
end)
try("vector from a vector", function()
  return elems(ffi.new("s2_v4sf", ffi.new("s2_v4sf", 1, 2, 3, 4)), 4)
end)
try("vector bits from a same-size vector", function()
  local v = ffi.new("s2_v4si", ffi.new("s2_v2df", 1.5, 2))
  local f = ffi.new("s2_v4sf", ffi.new("s2_v4si", 0x3f800000, 0x40000000))
  return elems(v, 4), elems(f, 4)
end)
try("vector from another size", function()
  local v = ffi.new("s2_v4sf", ffi.new("s2_v2sf", 1, 2)); return v
end)
try("vector from scalars", function()
  return elems(ffi.new("s2_v4sf", ffi.new("int64_t", 5)), 4), elems(ffi.new("s2_v4si", 2.7), 4),
    elems(ffi.new("s2_v4sf", ffi.new("complex", 1, 2)), 4),
    elems(ffi.new("s2_v2df", ffi.new("int8_t", -3)), 2)
end)
try("vector from a bool", function() local v = ffi.new("s2_v4sf", true); return v end)
try("vector from a bool cdata", function()
  local v = ffi.new("s2_v4sf", ffi.new("bool", true)); return v
end)
try("vector from a string", function() local v = ffi.new("s2_v4sf", "ab"); return v end)
try("vector from nil", function() local v = ffi.new("s2_v4sf", nil); return v end)
try("vector from an array", function()
  local v = ffi.new("s2_v4sf", ffi.new("float[4]", 1, 2, 3, 4)); return v
end)
try("vector from a nested table", function()
  local v = ffi.new("s2_v4sf", {1, 2, 3, 4}, 5); return v
end)
try("vector to a number", function() local d = ffi.new("double", ffi.new("s2_v4sf", 1)); return d end)
try("vector to complex", function()
  local c = ffi.new("complex", ffi.new("s2_v2df", 1, 2)); return c
end)
try("vector element write", function() ffi.new("s2_v4sf")[2] = 9 end)
try("vector assigned", function()
  local a = ffi.new("s2_v4sf[3]")
  a[0] = 3
  a[1] = {1, 2}
  a[2] = ffi.new("s2_v4si", 0x3f800000, 0x40000000)
  return elems(a[0], 4), elems(a[1], 4), elems(a[2], 2)
end)
try("vector member", function()
  local s = ffi.new("struct s2_sv", 1, {1, 2, 3, 4})
  local t = ffi.new("struct s2_sv", 1, 5)
  local u = ffi.new("struct s2_sv"); u.v = 6
  return elems(s.v, 4), elems(t.v, 4), elems(u.v, 4)
end)
try("array of vectors", function()
  local a = ffi.new("s2_v4sf[2]", {{1, 2}, {3}})
  return elems(a[0], 4), elems(a[1], 4)
end)
try("const vector", function() ffi.new("const s2_v4sf[1]")[0] = 1 end)
try("cast to a vector", function() local v = ffi.cast("s2_v4sf", 1); return v end)

-- a member initializer fills its own member, never the next ones ------------------------
ffi.cdef "struct s2_cn { char s[4]; int n; }; struct s2_an { int a[2]; int n; };"
try("string initializer of a char array member", function()
  local s = ffi.new("struct s2_cn", "hello world")
  return s.n, ffi.string(s.s, 4)
end)
try("array initializer of an array member", function()
  local s = ffi.new("struct s2_an", ffi.new("int[2]", 1, 2))
  return s.n, s.a[1]
end)
try("struct initializer of a struct member", function()
  local w = ffi.new("struct s2_wrap", ffi.new("struct s2_cs", 1, 2))
  return w.k, w["in"].y
end)
try("the same from tables", function()
  local s = ffi.new("struct s2_cn", {"hello world"})
  local t = ffi.new("struct s2_an", {ffi.new("int[2]", 1, 2)})
  return s.n, t.n
end)

-- const variables of a library (tests/c/nstest.c, declared here as const) -------------
local lib = ffi.load(assert(os.getenv("JITFFI_TESTLIB_DIR"), "JITFFI_TESTLIB_DIR is not set")
  .. "/libjitffi_nstest.so")
ffi.cdef [[
struct s2_cpoint { const int x; int y; };
extern const int nstest_table[4];
extern struct s2_cpoint nstest_origin;
]]
try("const array variable, whole", function() lib.nstest_table = {1, 2, 3, 4} end)
try("const array variable, element", function() lib.nstest_table[0] = 1 end)
try("variable of a struct with a const member, whole", function()
  lib.nstest_origin = {3, 4}
end)
try("its other member", function()
  lib.nstest_origin.y = 6
  return lib.nstest_table[1], lib.nstest_origin.x, lib.nstest_origin.y
end)
