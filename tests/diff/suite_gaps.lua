-- Differential test: gaps LuaJIT's own FFI test suite found (scripts/luajit-suite.sh):
-- unnamed members of named record types (embedded, as gcc -fms-extensions lays them
-- out), a complex indexed with any number (LuaJIT masks the index to 0 or 1), and a
-- unary minus folded into an imaginary literal (`-2.5i` is a constant in LuaJIT; a
-- complex cdata has no arithmetic at run time).
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
