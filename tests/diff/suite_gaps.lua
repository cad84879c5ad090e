-- Differential test: gaps LuaJIT's own FFI test suite found (scripts/luajit-suite.sh):
-- unnamed members of named record types (embedded, as gcc -fms-extensions lays them
-- out), a complex indexed with any number (LuaJIT masks the index to 0 or 1), and a
-- unary minus folded into an imaginary literal (`-2.5i` is a constant in LuaJIT; a
-- complex cdata has no arithmetic at run time), and LuaJIT's four-byte `_Bool int`.
local ffi = require "ffi"
local d = require "diffshow"
local try = d.try

-- LuaJIT (and the runner) parse literals themselves; stock Lua needs ffi.literals.
local load_literal = loadstring
if not (loadstring and loadstring("return 1LL")) then
  load_literal = require("ffi.literals").load
end

-- Numbers printed the same by every Lua (5.3+ writes 3.0 for a float 3).
local function num(x)
  if type(x) ~= "number" then return tostring(x) end
  if x ~= x then return "nan" end
  if x == 0 then return 1 / x < 0 and "-0" or "0" end
  if x == math.floor(x) and x > -1e15 and x < 1e15 then return ("%d"):format(x) end
  return ("%.17g"):format(x)
end

local function show(x)
  if type(x) == "cdata" then
    if ffi.istype("complex", x) then
      return "complex " .. num(x.re) .. " " .. num(x.im)
    end
    return tostring(ffi.typeof(x)) .. " " .. tostring(x)
  end
  return num(x)
end

-- 1. Unnamed members of named record types.
ffi.cdef [[
struct sg_foo { int x, y; };
typedef struct { int x, y; } sg_pt_t;
union sg_u { int a; double b; };
struct sg_al { char c; double d; } __attribute__((aligned(16)));
typedef const struct sg_foo sg_cfoo_t;
struct sg_a1 { struct sg_foo; };
struct sg_a2 { sg_pt_t; int z; };
struct sg_a3 { char c; struct sg_foo; char d; };
struct sg_a4 { char c; union sg_u; char d; };
struct sg_a5 { char c; const sg_pt_t; };
struct sg_a6 { sg_cfoo_t; int z; };
struct sg_a7 { char c; struct sg_al; char e; };
struct sg_a8 { struct sg_in { int a; }; int b; };
struct sg_a9 { struct sg_foo; int x; };
union sg_a10 { struct sg_foo; double d; };
]]
for _, name in ipairs { "struct sg_a1", "struct sg_a2", "struct sg_a3", "struct sg_a4",
  "struct sg_a5", "struct sg_a6", "struct sg_a7", "struct sg_a8", "struct sg_a9",
  "union sg_a10" } do
  local fields = {}
  for _, f in ipairs { "x", "y", "z", "c", "d", "e", "a", "b" } do
    local offset = ffi.offsetof(name, f)
    if offset then fields[#fields + 1] = f .. "@" .. offset end
  end
  print(name, ffi.sizeof(name), ffi.alignof(name), table.concat(fields, " "))
end
try("positional", function()
  local s = ffi.new("struct sg_a3", 1, 2, 3, 4)
  return s.c, s.x, s.y, s.d
end)
try("table", function()
  local s = ffi.new("struct sg_a2", { 5, 6, 7 })
  return s.x, s.y, s.z
end)
try("named", function()
  local s = ffi.new("struct sg_a2", { z = 9, y = 8, x = 7 })
  return s.x, s.y, s.z
end)
try("store", function()
  local s = ffi.new("struct sg_a4")
  s.b = 2.5
  s.d = 3
  return s.b, s.d, ffi.sizeof(s)
end)
try("union init", function()
  local u = ffi.new("union sg_a10", 3)
  return u.x, u.y
end)
try("first of two x", function()
  local s = ffi.new("struct sg_a9", 1, 2, 3)
  return s.x, s.y
end)
for _, name in ipairs { "struct sg_a5", "struct sg_a6", "struct sg_a2" } do
  try("write " .. name, function()
    local s = ffi.new(name)
    s.x = 1
    return s.x
  end)
end
try("typeof", function()
  local t = ffi.typeof("struct { sg_pt_t; int z; }")
  local v = t(1, 2, 3)
  return v.x, v.y, v.z, ffi.sizeof(t), ffi.offsetof(t, "z")
end)
for _, src in ipairs {
  "struct sg_b1 { struct sg_undefined; };",
  "struct sg_b2 { int q; struct sg_b2; };",
  "typedef int sg_int; struct sg_b3 { sg_int; };",
  "struct sg_b4 { int; };",
  "typedef struct { int n; int a[?]; } sg_vls; struct sg_b5 { sg_vls; };",
  "struct sg_b6 { sg_pt_t *; };",
} do
  try(src, ffi.cdef, src)
end

-- 2. A complex indexed with numbers.
for _, ct in ipairs { "complex", "complex float" } do
  local c = ffi.new(ct, 3, 4)
  for _, k in ipairs { 0, 1, 2, 3, -1, -2, 1.5, 0.5, -0.5, 100, 1e10, 2^53 } do
    try(ct .. "[" .. num(k) .. "]", function() return num(c[k]) end)
  end
  try(ct .. "[int64 2]", function() return num(c[ffi.new("int64_t", 2)]) end)
  try(ct .. "[uint64 3]", function() return num(c[ffi.new("uint64_t", 3)]) end)
  try(ct .. "[true]", function() return c[true] end)
  try(ct .. ".x", function() return c.x end)
  try(ct .. "[2] = 1", function() c[2] = 1 end)
  try(ct .. "[0] = 1", function() c[0] = 1 end)
end

-- 3. A minus sign before a literal.
for _, text in ipairs { "-2.5i", "- 2.5i", "-(2.5i)", "- -2.5i", "-(-2.5i)", "-((2i))",
  "-0i", "-1e400i", "-0x1p2i", "{-2i, - 3i, -(4i)}", "(-2.5i).im", "-(2i).re", "-(2i)^2",
  "-2i^2", "2^-2i", "3 - 2i", "3-2i", "#-2i", "not -2i", "-2i + 1", "- -2i == nil",
  "-2LL", "- 2LL", "-0x10ULL", "2^-3LL", "-2LL^2", "-(2LL)", "- - 2LL", "1 - -2LL",
  "-9223372036854775808LL", "-0ULL", "-1ULL" } do
  try("literal " .. text, function()
    local f = load_literal("return " .. text, "=literal")
    if not f then return "load error" end
    local v = f()
    if type(v) == "table" then
      local out = {}
      for i, x in ipairs(v) do out[i] = show(x) end
      return table.concat(out, ", ")
    end
    return show(v)
  end)
end
try("negated variable", function()
  local f = load_literal("local c = 2.5i return -c", "=literal")
  return show(f())
end)

-- LuaJIT's `_Bool int` (ffi_parse_basic.lua): a four-byte boolean, printed as bool.
ffi.cdef [[
typedef _Bool int sg_bi;
struct sg_bs { char c; _Bool int b; char d; };
int abs(int);
]]
try("_Bool int layout", function()
  return ffi.sizeof("sg_bi"), ffi.alignof("sg_bi"), tostring(ffi.typeof("sg_bi")),
    ffi.sizeof("struct sg_bs"), ffi.offsetof("struct sg_bs", "d")
end)
try("_Bool int specifiers", function()
  return ffi.sizeof("int _Bool"), ffi.sizeof("unsigned _Bool"), ffi.sizeof("signed _Bool"),
    ffi.sizeof("_Bool _Bool")
end)
for _, bad in ipairs { "_Bool long", "_Bool char", "_Bool short", "_Bool double", "long _Bool" } do
  try(bad, ffi.typeof, bad)
end
try("_Bool int values", function()
  local x = ffi.new("sg_bi", 5)
  return tonumber(x), tonumber(ffi.new("int", x)), tonumber(ffi.cast("int", ffi.new("sg_bi", -1))),
    ffi.new("sg_bi", 0) == ffi.new("sg_bi", false), ffi.istype("bool", x)
end)
try("_Bool int member", function()
  local s = ffi.new("struct sg_bs")
  local raw = ffi.cast("int *", ffi.cast("char *", s) + 4)
  local out = { s.b }
  s.b = 7
  out[2], out[3] = s.b, raw[0]
  raw[0] = 0x1000000
  out[4] = s.b
  s.b = false
  out[5], out[6] = s.b, raw[0]
  return out[1], out[2], out[3], out[4], out[5], out[6]
end)
try("_Bool int array", function()
  local a = ffi.new("sg_bi[3]", { true, false, 3 })
  return a[0], a[1], a[2], ffi.cast("int *", a)[2]
end)
try("_Bool int argument", function() return ffi.C.abs(ffi.new("sg_bi", 1)) end)
try("_Bool int callback", function()
  local seen = {}
  local cb = ffi.cast("_Bool int (*)(_Bool int, int)", function(b, n)
    seen[#seen + 1] = tostring(b)
    return n
  end)
  local r = { cb(true, 0), cb(false, 5), cb(1, 256), cb(0, -1) }
  cb:free()
  return table.concat(seen, " "), r[1], r[2], r[3], r[4]
end)
try("_Bool int bitfield", function()
  ffi.cdef "struct sg_bbf { _Bool int f : 1; int g : 3; };"
  local v = ffi.new("struct sg_bbf")
  v.f, v.g = 5, 2
  return ffi.sizeof(v), v.f, v.g
end)
try("_Bool int bitfield of 2 bits", ffi.cdef, "struct sg_bbf2 { _Bool int f : 2; };")
try("bool to a pointer", ffi.cast, "void *", ffi.new("sg_bi", 1))
try("bool to a pointer", ffi.cast, "int *", ffi.new("bool", 0))
try("bool to an integer", function() return tostring(ffi.cast("intptr_t", ffi.new("bool", 1))) end)
