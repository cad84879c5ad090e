-- Differential test: a ctype object where a number is expected is an int32_t holding
-- its type id, as LuaJIT's ctype objects are cdata of their id. Only types LuaJIT
-- predefines appear here: their ids are LuaJIT's (`int` is 9, `double` 14); other
-- types have ids of our own.
local ffi = require "ffi"

local try = require("diffshow").try

local int, double, u64 = ffi.typeof("int"), ffi.typeof("double"), ffi.typeof("uint64_t")
local function g(x) return ("%.14g"):format(tonumber(x)) end

local names = { "void", "const void", "bool", "char", "signed char", "int8_t", "uint8_t",
  "short", "unsigned short", "int", "unsigned int", "long", "unsigned long", "int64_t",
  "uint64_t", "size_t", "intptr_t", "float", "double", "complex float", "complex",
  "void *", "const void *", "const char *", "uint8_t *" }
for _, name in ipairs(names) do
  try("id of " .. name, function() return tonumber(ffi.new("int", ffi.typeof(name))) end)
end
try("tonumber", function() return tonumber(int), tonumber(double) end)
try("into a double", function() return g(ffi.new("double", int)) end)
try("into an int64_t", function() return tostring(ffi.new("int64_t", double)) end)
try("into a uint8_t", function() return tonumber(ffi.new("uint8_t", u64)) end)
try("into a bool", function() return tostring(ffi.new("bool", int)):match("^cdata<bool>") end)
try("into a complex", function() return tostring(ffi.new("complex", int)) end)
try("into a float", function() return g(ffi.new("float", int)) end)
try("into an enum", function() return tonumber(ffi.new("enum { CN_A, CN_B }", int)) end)
try("into a pointer", function() return ffi.new("int *", int) end)
try("cast to a pointer", function() return tostring(ffi.cast("void *", int)) end)
try("cast to an int", function() return tonumber(ffi.cast("int16_t", double)) end)
try("array initializer", function() local a = ffi.new("int[3]", int); return a[0], a[2] end)
try("table initializer", function() local a = ffi.new("int[2]", { int, double }); return a[0], a[1] end)
try("struct fields", function()
  local s = ffi.new("struct { int a; int64_t b; }", int, u64)
  return s.a, tostring(ffi.new("int64_t", s.b))
end)
try("assignment", function() local a = ffi.new("int[1]"); a[0] = double; return a[0] end)
try("element count", function() return ffi.sizeof(ffi.new("char[?]", int)) end)
try("index", function() local a = ffi.new("int[20]"); a[int] = 5; return a[9], a[int] end)
try("arithmetic", function()
  return tostring(int + 1), tostring(1 + int), tostring(int * double), tostring(-int), tostring(u64 - int)
end)
try("division", function() return tostring(double / int), tostring(double % int), tostring(int ^ 2) end)
try("ordering", function() return int < double, double <= int, int < int end)
try("equality", function() return int == ffi.typeof("int32_t"), int == double, int == ffi.new("int", 9) end)
try("length", function() return #int end)
