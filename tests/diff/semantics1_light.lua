-- Differential test: light userdata where the ffi wants a pointer, and cast to
-- integers (issue 13, item 3.9), as LuaJIT converts them (a `void *`).
--
-- Lua 5.1 makes no light userdata that Lua code can reach (5.2 on have
-- debug.upvalueid): there the script prints "SKIP: ..." (tests/diff.sh reports it).
-- The conversion is the same code on every version.
local ffi = require "ffi"

if not debug.upvalueid then
  print("SKIP: no light userdata reachable from Lua 5.1 code (debug.upvalueid is 5.2+)")
  return
end

local function try(f, ...)
  local ok, err = pcall(f, ...)
  if ok then
    print("ok", err)
  else
    print("error", (tostring(err):match("^[^\n]*")))
  end
end

-- light userdata: to pointers, and by a cast to integers
print("-- light userdata")
local light = debug.upvalueid(function() return ffi end, 1)
print(type(light))
local as_pointer = ffi.cast("void *", light)
print(ffi.cast("uintptr_t", light) == ffi.cast("uintptr_t", as_pointer))
print(ffi.cast("int32_t", light) == ffi.cast("int32_t", ffi.cast("intptr_t", as_pointer)))
print(ffi.cast("uint8_t", light) == ffi.cast("uint8_t", ffi.cast("uintptr_t", as_pointer)))
print(string.format("%x", tonumber(ffi.cast("uintptr_t", light))) == tostring(light):match("0x0*(%x+)"))
try(ffi.new, "int", light)
try(function() local x = ffi.new("int64_t[1]"); x[0] = light end)
try(ffi.cast, "double", light)
try(ffi.cast, "bool", light)
-- as a call argument
ffi.cdef "int memcmp(const void *, const void *, size_t);"
print(ffi.C.memcmp(light, light, 0))
print(ffi.C.memcmp(light, ffi.cast("void *", light), 0))
