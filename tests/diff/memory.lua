-- Differential test: ffi.string, ffi.copy, ffi.fill and ffi.errno, printed the same way
-- under luajit and jitffi (tests/diff.sh compares the outputs). Left out: what LuaJIT
-- does by crashing (NULL pointers, negative lengths) or by reading past an array, the
-- errno of the C library before the ffi is loaded, and values whose form differs by Lua
-- version.
local ffi = require "ffi"
-- No C call yet: 0 (LuaJIT's live errno, which nothing has set; the ffi's saved one).
print("errno at start", ffi.errno())

-- A string with its unprintable bytes as \ddd (%q differs between Lua versions).
local function quote(s)
  return '"' .. (s:gsub("[^%w%p ]", function(c) return "\\" .. c:byte() end)) .. '"'
end

-- Error texts without the position and the function name (see types.lua).
local function show(ok, ...)
  if ok then
    local out = {}
    for i = 1, select("#", ...) do
      local v = select(i, ...)
      out[i] = type(v) == "string" and quote(v) or tostring(v)
    end
    return "ok " .. table.concat(out, " ")
  end
  local msg = tostring((...))
  msg = msg:gsub("^[^:]*:%d+: ", ""):gsub("(argument #%d+) to '[^']*'", "%1 to '?'")
  return "error " .. msg
end

local function try(label, f, ...)
  print(label, show(pcall(f, ...)))
end

local function bytes(p, n)
  local out = {}
  for i = 0, n - 1 do out[#out + 1] = tostring(p[i]) end
  return table.concat(out, ",")
end

ffi.cdef [[
struct dm_rec { int a; char name[6]; };
]]

-- ffi.string
local rec = ffi.new("struct dm_rec", 0x41424344, "hello")
local args = {
  { "string", "abc" },
  { "string+len", "abc", 2 },
  { "string+0", "abc", 0 },
  { "string+frac", "abc", 2.7 },
  { "string+int64", "abc", ffi.new("int64_t", 2) },
  { "string+uint64", "abc", ffi.new("uint64_t", 1) },
  { "string+double", "abc", ffi.new("double", 2) },
  { "string+bool", "abc", true },
  { "string+nil", "abc", nil },
  { "nul", "a\0b" },
  { "nul+len", "a\0b", 3 },
  { "char[4]", ffi.new("char[4]", "hi") },
  { "uint8_t[4]", ffi.new("uint8_t[4]", 65, 66, 67) },
  { "int8_t[3]", ffi.new("int8_t[3]", 66, 67) },
  { "int[2]+len", ffi.new("int[2]", 0x41424344), 4 },
  { "member", rec.name },
  { "struct+len", rec, 4 },
  { "const char *", ffi.cast("const char *", "xyz") },
  { "unsigned char *", ffi.cast("unsigned char *", "xyz") },
  { "signed char *", ffi.cast("signed char *", "xyz") },
  { "NULL+0", ffi.cast("void *", 0), 0 },
  { "fnptr+0", ffi.new("int (*)(int)"), 0 },
  { "userdata+0", io.stdout, 0 },
  { "number", 1 },
  { "table", {} },
  { "bool", true },
  { "int", ffi.new("int", 65) },
  { "int[4]", ffi.new("int[4]", 65) },
  { "bool[3]", ffi.new("bool[3]") },
  { "int *", ffi.cast("int *", "abc") },
  { "intptr_t", ffi.cast("intptr_t", 0) },
  { "char *[2]", ffi.new("char *[2]") },
  { "len string", "abc", "2" },
  { "len table", "abc", {} },
  { "len -1", "abc", -1 },
  { "len 2^31", "abc", 2^31 },
  { "len 1e10", "abc", 1e10 },
}
local unpack = unpack or table.unpack
for _, a in ipairs(args) do
  try(a[1], ffi.string, unpack(a, 2, 3))
end
try("no args", ffi.string)
print("in function", select(2, pcall(function() local s = ffi.string("abc", -1) return s end)))

-- ffi.copy
local buf = ffi.new("char[8]")
try("copy str", ffi.copy, buf, "hello")
print(bytes(buf, 8))
ffi.fill(buf, 8, 0x2e)
try("copy str len", ffi.copy, buf, "hello", 2)
print(bytes(buf, 8))
try("copy cdata", ffi.copy, buf, ffi.new("char[3]", "XY"), 3)
print(bytes(buf, 8))
try("copy int[] len", ffi.copy, buf, ffi.new("int[1]", 0x01020304), 4)
print(bytes(buf, 8))
try("copy bool len", ffi.copy, buf, "zz", true)
print(bytes(buf, 8))
try("copy into int[]", ffi.copy, ffi.new("int[3]"), "x")
try("copy into struct", ffi.copy, rec, "\1\0\0\0")
print(rec.a)
local d = ffi.new("double[1]")
try("copy int64 to double", ffi.copy, d, ffi.new("int64_t[1]", 0x3ff8000000000000), 8)
print(d[0])
try("copy NULL len 0", ffi.copy, buf, nil, 0)
try("copy to NULL len 0", ffi.copy, nil, buf, 0)
try("copy no args", ffi.copy)
try("copy one arg", ffi.copy, buf)
try("copy no len", ffi.copy, buf, ffi.new("int[3]"))
try("copy nil len", ffi.copy, buf, "x", nil)
try("copy string len", ffi.copy, buf, "x", "1")
try("copy number src", ffi.copy, buf, 5)
try("copy table src", ffi.copy, buf, {}, 1)
try("copy string dst", ffi.copy, "x", buf, 1)
try("copy number dst", ffi.copy, 1, "x")
try("copy const dst", ffi.copy, ffi.new("const char[3]"), "x")
try("copy const ptr dst", ffi.copy, ffi.cast("const char *", "abc"), "x")
try("copy int dst", ffi.copy, ffi.new("int"), "x")

-- ffi.fill
local f = ffi.new("char[6]", 1)
try("fill byte", ffi.fill, f, 3, 65)
print(bytes(f, 6))
try("fill zero", ffi.fill, f, 2)
print(bytes(f, 6))
try("fill nil byte", ffi.fill, f, 1, nil)
try("fill wide byte", ffi.fill, f, 2, 0x141)
print(bytes(f, 6))
try("fill -1", ffi.fill, f, 2, -1)
print(bytes(f, 6))
try("fill frac", ffi.fill, f, 1, 66.9)
try("fill bool", ffi.fill, f, 2, true)
print(bytes(f, 6))
try("fill int64 len", ffi.fill, f, ffi.new("int64_t", 6), 9)
print(bytes(f, 6))
try("fill NULL len 0", ffi.fill, nil, 0)
try("fill no args", ffi.fill)
try("fill no len", ffi.fill, f)
try("fill string len", ffi.fill, f, "x")
try("fill string byte", ffi.fill, f, 1, "x")
try("fill table byte", ffi.fill, f, 0, {})
try("fill string dst", ffi.fill, "abc", 1)
try("fill const dst", ffi.fill, ffi.new("const int[2]"), 0)

-- ffi.errno (the starting value is the C library's business: set it first)
ffi.errno(0)
try("errno", ffi.errno)
try("errno set", ffi.errno, 5)
try("errno get", ffi.errno)
try("errno int64", ffi.errno, ffi.new("int64_t", 9))
try("errno frac", ffi.errno, 1.5)
try("errno bool", ffi.errno, true)
try("errno get", ffi.errno)
try("errno two args", ffi.errno, 3, 4)
try("errno get", ffi.errno)
try("errno nil", ffi.errno, nil)
try("errno string", ffi.errno, "7")
try("errno table", ffi.errno, {})
try("errno get", ffi.errno)
ffi.errno(0)
