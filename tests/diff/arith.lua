-- Differential test: arithmetic, comparisons and concatenation on cdata, printed the same
-- way under luajit and jitffi (tests/diff.sh compares the outputs). Addresses are never
-- printed, only pointer differences and comparisons.
-- Left out, being documented differences: comparisons that Lua 5.1 refuses before any
-- metamethod runs (a cdata with a number or string), `==` between a cdata and a
-- non-cdata (never a metamethod call in PUC Lua), negative integer numbers meeting a
-- uint64_t (exact on Lua 5.3+), and arithmetic on ctype objects.
local ffi = require "ffi"

-- Error texts without the position (absent when Lua 5.4's string arithmetic forwards to
-- the cdata metamethod).
local function show(ok, ...)
  if ok then return tostring((...)) end
  local msg = tostring((...))
  return "error(" .. msg:gsub("^[^:]*:%d+: ", "") .. ")"
end

local function i64(n) return ffi.new("int64_t", n) end
local function u64(n) return ffi.new("uint64_t", n) end

local operands = {
  { "i64(0)", i64(0) }, { "i64(1)", i64(1) }, { "i64(-7)", i64(-7) }, { "i64(7)", i64(7) },
  { "i64(2^62)", i64(2^62) }, { "i64(min)", i64(-2^63) }, { "i64(max)", i64(-2^63) - 1 },
  { "u64(0)", u64(0) }, { "u64(3)", u64(3) }, { "u64(2^63)", u64(2^63) },
  { "u64(max)", u64(0) - 1 },
  { "int(-3)", ffi.new("int", -3) }, { "uint8(200)", ffi.new("uint8_t", 200) },
  { "double(7.5)", ffi.new("double", 7.5) }, { "bool(true)", ffi.new("bool", true) },
  { "0", 0 }, { "2", 2 }, { "3.5", 3.5 }, { "-1.5", -1.5 }, { "-2.5", -2.5 },
  { "2^53", 2^53 },
}
-- Numbers no 64-bit integer holds, which LuaJIT converts with a C cast (undefined):
-- x86-64's wraps, as jitffi does everywhere, arm64's saturates. Compared on x86-64 only.
if ffi.arch ~= "arm64" then
  operands[#operands + 1] = { "2^63", 2^63 }
  operands[#operands + 1] = { "nan", 0/0 }
end

local binary = {
  { "+", function(a, b) return a + b end }, { "-", function(a, b) return a - b end },
  { "*", function(a, b) return a * b end }, { "/", function(a, b) return a / b end },
  { "%", function(a, b) return a % b end }, { "^", function(a, b) return a ^ b end },
}
local comparisons = {
  { "==", function(a, b) return a == b end }, { "<", function(a, b) return a < b end },
  { "<=", function(a, b) return a <= b end },
}

print("-- 64-bit arithmetic")
-- A negative fractional number meeting a uint64_t is converted to it with a C cast
-- (undefined: x86-64 wraps, as jitffi does everywhere; arm64 saturates to 0). Compared
-- on x86-64 only.
local function undefined_pair(x, y)
  local function negative_fraction(v) return type(v) == "number" and v < 0 and v % 1 ~= 0 end
  local function unsigned(v) return ffi.istype("uint64_t", v) end
  return ffi.arch == "arm64"
    and (negative_fraction(x) and unsigned(y) or unsigned(x) and negative_fraction(y))
end
for _, x in ipairs(operands) do
  for _, y in ipairs(operands) do
    local xc, yc = type(x[2]) ~= "number", type(y[2]) ~= "number"
    if (xc or yc) and not undefined_pair(x[2], y[2]) then
      local out = {}
      for _, op in ipairs(binary) do
        out[#out + 1] = op[1] .. " " .. show(pcall(op[2], x[2], y[2]))
      end
      if xc and yc then
        for _, op in ipairs(comparisons) do
          out[#out + 1] = op[1] .. " " .. show(pcall(op[2], x[2], y[2]))
        end
      end
      print(x[1], y[1], table.concat(out, "  "))
    end
  end
end
for _, x in ipairs(operands) do
  if type(x[2]) ~= "number" then
    print("-" .. x[1], show(pcall(function() return -x[2] end)))
  end
end

print("-- pointers")
ffi.cdef [[
struct ar_pt { int x, y; };
struct ar_outer { int n; struct ar_pt inner; };
struct ar_incomplete;
enum ar_color { AR_RED, AR_GREEN = 5, AR_BLUE };
]]
local a = ffi.new("int[10]")
local p = a + 3
local cp = ffi.cast("const int *", p)
local pts = ffi.new("struct ar_pt[4]")
print("types", ffi.typeof(a + 1), ffi.typeof(p + 1), ffi.typeof(1 + p), ffi.typeof(cp + 1),
  ffi.typeof(pts + 1), ffi.typeof(ffi.new("const int[2]") + 1),
  ffi.typeof(ffi.cast("int *const", p) + 1), ffi.typeof(ffi.cast("int (*)[3]", p) + 1))
print("differences", p - a, a - p, (p + 2) - p, (2 + p) - a, (p - 1) - a, (a + 1.9) - a,
  (p + i64(2)) - a, (p - u64(1)) - a, (p + ffi.new("int8_t", -2)) - a, (pts + 3) - pts,
  ffi.cast("char *", p) - ffi.cast("char *", a), (cp + 1) - p, p - cp)
print("sizes", ffi.cast("char *", pts + 1) - ffi.cast("char *", pts),
  ffi.cast("char *", ffi.cast("int (*)[3]", p) + 1) - ffi.cast("char *", p))
print("compare", p == a + 3, p == a, p < a, a < p, p <= p, p < p, a <= p, cp == p, cp < p + 1,
  ffi.cast("char *", p) == p, ffi.cast("void *", p) == p, ffi.cast("uint32_t *", p) <= p,
  ffi.cast("void *", p) <= ffi.cast("const void *", p + 1))
print("address order", ffi.cast("int *", 16) < ffi.cast("int *", 32),
  ffi.cast("int *", -1) < ffi.cast("int *", 32), ffi.cast("int *", 16) - ffi.cast("int *", 15),
  ffi.cast("int *", 16) - ffi.cast("int *", 24), ffi.cast("int *", 16) - ffi.cast("int *", 8))
local vp, fp = ffi.cast("void *", p), ffi.cast("int (*)(int)", 16)
for _, case in ipairs {
  { "p + p", function() return p + p end }, { "p * 2", function() return p * 2 end },
  { "2 - p", function() return 2 - p end }, { "-p", function() return -p end },
  { "p / 2", function() return p / 2 end }, { "p + true", function() return p + true end },
  { "p + nil", function() return p + nil end }, { "p + 'x'", function() return p + "x" end },
  { "p + {}", function() return p + {} end },
  { "char* - int*", function() return ffi.cast("char *", p) - p end },
  { "char* < int*", function() return ffi.cast("char *", p) < p end },
  { "void* <= int*", function() return ffi.cast("void *", p) <= p end },
  { "int* < void*", function() return p < ffi.cast("void *", p) end },
  { "float* < int*", function() return ffi.cast("float *", p) < p end },
  { "void** < int**", function() return ffi.cast("void **", p) < ffi.cast("int **", p) end },
  { "int** < const int**", function() return ffi.cast("int **", p) < ffi.cast("const int **", p) end },
  { "int** <= int**", function() return ffi.cast("int **", p) <= ffi.cast("int **", p) end },
  { "void* + 1", function() return vp + 1 end }, { "void* - void*", function() return vp - vp end },
  { "fptr + 1", function() return fp + 1 end },
  { "incomplete + 1", function() return ffi.cast("struct ar_incomplete *", p) + 1 end },
  { "p + complex", function() return p + ffi.new("complex", 1) end },
  { "p .. 'x'", function() return p .. "x" end }, { "#p", function() return #p end },
  { "#a", function() return #a end }, { "a + a", function() return a + a end },
  { "p < i64", function() return p < i64(1) end },
} do
  print(case[1], show(pcall(case[2])))
end

print("-- structs, enums, other operands")
local s, t = ffi.new("struct ar_pt"), ffi.new("struct ar_pt")
local o = ffi.new("struct ar_outer")
print("equality", s == t, s == s, o.inner == o.inner, o.inner == o, ffi.cast("struct ar_pt *", s) == s,
  pts[0] == pts, pts[1] == pts, pts + 1 == pts[1], i64(1) == s, s == i64(1), p == s,
  ffi.new("complex", 1) == ffi.new("complex", 1), ffi.new("int", 1) == ffi.new("double", 1.5),
  ffi.new("float", 2) == i64(2), ffi.typeof("int") == ffi.typeof("int"),
  ffi.typeof("int") == ffi.typeof("int *"), ffi.new("int[2]") == ffi.new("int[2]"))
local green = ffi.new("enum ar_color", "AR_GREEN")
for _, case in ipairs {
  { "s + 1", function() return s + 1 end }, { "1 + s", function() return 1 + s end },
  { "s - s", function() return s - s end }, { "-s", function() return -s end },
  { "s < t", function() return s < t end }, { "s <= t", function() return s <= t end },
  { "s < i64", function() return s < i64(1) end }, { "i64 <= s", function() return i64(1) <= s end },
  { "#s", function() return #s end }, { "s .. 'x'", function() return s .. "x" end },
  { "'x' .. s", function() return "x" .. s end }, { "1 .. s", function() return 1 .. s end },
  { "o.inner + 1", function() return o.inner + 1 end },
  { "o.inner < o.inner", function() return o.inner < o.inner end },
  { "pts[0] * 2", function() return pts[0] * 2 end },
  { "i64 + 'x'", function() return i64(1) + "x" end }, { "'x' + i64", function() return "x" + i64(1) end },
  { "'10' + i64", function() return "10" + i64(1) end },
  { "i64 + {}", function() return i64(1) + {} end }, { "i64 + nil", function() return i64(1) + nil end },
  { "i64 + true", function() return i64(1) + true end },
  { "i64 + print", function() return i64(1) + print end },
  { "i64 + complex", function() return i64(1) + ffi.new("complex", 1) end },
  { "complex * 2", function() return ffi.new("complex", 1) * 2 end },
  { "complex .. 'x'", function() return ffi.new("complex", 1) .. "x" end },
  { "#complex", function() return #ffi.new("complex", 1) end },
  { "i64 .. 'x'", function() return i64(1) .. "x" end }, { "'x' .. i64", function() return "x" .. i64(1) end },
  { "1 .. u64", function() return 1 .. u64(1) end }, { "#i64", function() return #i64(1) end },
  { "i64 < complex", function() return i64(1) < ffi.new("complex", 1) end },
  { "const i64 + {}", function() return ffi.new("const int64_t", 1) + {} end },
  { "enum + enum", function() return green + green end },
  { "enum * i64", function() return green * i64(3) end },
  { "enum + 'AR_BLUE'", function() return green + "AR_BLUE" end },
  { "'AR_BLUE' - enum", function() return "AR_BLUE" - green end },
  { "enum + 'nope'", function() return green + "nope" end },
  { "'nope' + enum", function() return "nope" + green end },
  { "enum .. 'x'", function() return green .. "x" end },
  { "enum .. 'AR_RED'", function() return green .. "AR_RED" end },
  { "enum + {}", function() return green + {} end },
  { "enum < enum", function() return green < ffi.new("enum ar_color", "AR_BLUE") end },
  { "enum == enum", function() return green == ffi.new("enum ar_color", 5) end },
} do
  print(case[1], show(pcall(case[2])))
end

print("-- metatypes")
ffi.cdef [[
struct ar_vec { int x, y; };
struct ar_plain { int v; };
]]
-- type(cdata) is "userdata" in PUC Lua.
local function kind(v) return (type(v) == "userdata" or type(v) == "cdata") and "cdata" or type(v) end
local vec
vec = ffi.metatype("struct ar_vec", {
  __add = function(a, b)
    if type(a) == "number" then return vec(a + b.x, a + b.y) end
    if type(b) == "number" then return vec(a.x + b, a.y + b) end
    return vec(a.x + b.x, a.y + b.y)
  end,
  __sub = function(a, b) return "sub " .. kind(a) .. " " .. kind(b) end,
  __unm = function(a) return vec(-a.x, -a.y) end,
  __eq = function(a, b) return a.x == b.x and a.y == b.y end,
  __lt = function(a, b) return a.x < b.x end,
  __le = function(a, b) return a.x <= b.x end,
  __len = function(a) return math.floor(math.sqrt(a.x * a.x + a.y * a.y)) end,
  __concat = function(a, b)
    local function s(v) return kind(v) == "cdata" and ("vec(" .. v.x .. "," .. v.y .. ")") or tostring(v) end
    return s(a) .. s(b)
  end,
  __div = function(a, b) error("custom error") end,
})
local v, w = vec(3, 4), vec(1, 2)
local function xy(r) return kind(r) == "cdata" and (r.x .. "," .. r.y) or tostring(r) end
print("add", xy(v + w), xy(v + 1), xy(1 + v), xy(-v))
print("sub", v - w, v - 1, 2 - v)
print("compare", v == vec(3, 4), v == w, w < v, v < w, v <= vec(3, 0), w <= v)
print("len", #v, "concat", v .. "!", "<" .. v, v .. w)
print("div", show(pcall(function() return v / w end)))
print("mul", show(pcall(function() return v * w end)), show(pcall(function() return v % 2 end)))
-- (the array stays referenced: a pointer into it does not keep it alive)
local vp2_array = ffi.new("struct ar_vec[1]", {{5, 6}})
local vp2 = vp2_array + 0
print("through a pointer", xy(vp2 + w), #vp2, vp2 .. "", show(pcall(function() return vp2 * 2 end)))
print("pointer arithmetic first", ffi.typeof(vp2 + 1), (vp2 + 1) - vp2, xy((vp2 + 0)[0]))
print("plain", show(pcall(function() return ffi.new("struct ar_plain") + v end)),
  show(pcall(function() return ffi.new("struct ar_plain") .. v end)))
