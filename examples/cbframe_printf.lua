-- A variadic C callback written in Lua with cbframe: a small snprintf
-- (`int fmt(char *buf, size_t size, const char *format, ...)`) that reads its extra
-- arguments with cpu:va_list as C's va_arg would. Typed ffi callbacks cannot be
-- variadic (in LuaJIT neither); a cbframe callback receives the raw CPU state.
-- cbframe (x86-64 System V) has the API of luapower's cbframe for LuaJIT plus the typed
-- readers used here (cpu:arg, cpu:va_list, cpu:ret).
--   jitffi examples/cbframe_printf.lua
--   LUA_CPATH='target/modules/lua5.4/?.so' lua5.4 examples/cbframe_printf.lua
local ffi = require "ffi"
local cbframe = require "cbframe"

local proto = "int (*)(char *, size_t, const char *, ...)"

local cb = cbframe.new(function(cpu)
  local buf = cpu:arg(1, "char *")            -- the 1st, 2nd, 3rd integer-class arguments
  local size = tonumber(cpu:arg(2, "size_t"))
  local format = ffi.string(cpu:arg(3, "const char *"))
  local ap = cpu:va_list(proto)               -- positioned after the fixed arguments
  local out = format:gsub("%%(.)", function(conv)
    if conv == "d" then return tostring(ap:arg("int")) end
    if conv == "f" then return ("%g"):format(ap:arg("double")) end
    if conv == "s" then return ffi.string(ap:arg("const char *")) end
    if conv == "%" then return "%" end
    error("fmt: unknown conversion %" .. conv)
  end)
  local n = math.min(#out, size - 1)
  ffi.copy(buf, out, n)
  buf[n] = 0
  cpu:ret(#out, "int")                        -- the result in eax, as C returns an int
end)

-- cb.p is a void (*)(): cast it to the type the C side expects. Calling it through
-- the ffi makes a real C variadic call (as gcc would: %al holds the number of vector
-- registers used); with LuaJIT's rules a Lua number goes to `...` as a double, a
-- string as a const char *, and a cdata keeps its type (ffi.new("int", 7) is an int).
local fmt = ffi.cast(proto, cb.p)
local int = ffi.typeof("int")
local buf = ffi.new("char[64]")

local n = fmt(buf, 64, "%s has %d moons, %f AU", "Mars", int(2), 1.52)
assert(ffi.string(buf) == "Mars has 2 moons, 1.52 AU", ffi.string(buf))
assert(n == #"Mars has 2 moons, 1.52 AU")
print(ffi.string(buf))

-- More arguments than registers: the integers after the sixth and the doubles after
-- the eighth come from the stack, and va_arg finds them there.
n = fmt(buf, 64, "%d %d %d %d %d %d %f %f %f %f %f %f %f %f %f %f",
  int(1), int(2), int(3), int(4), int(5), int(6),
  0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5)
assert(ffi.string(buf) == "1 2 3 4 5 6 0.5 1.5 2.5 3.5 4.5 5.5 6.5 7.5 8.5 9.5", ffi.string(buf))
print(ffi.string(buf))

-- The result is cut to the buffer, the length is the whole text's, as snprintf does.
n = fmt(buf, 8, "%s%%", "truncated")
assert(ffi.string(buf) == "truncat" and n == 10)

-- An error in the callback gives C a zero result and is raised in Lua when the C call
-- returns (here at once: the ffi's own call is the enclosing one).
local ok, err = pcall(fmt, buf, 64, "%q")
assert(not ok and err:find("fmt: unknown conversion %%q"), err)

cb:free()
print("cbframe variadic callback: ok")
