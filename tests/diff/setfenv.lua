-- Differential test: `setfenv` and `getfenv`, which code written for LuaJIT calls
-- (`setfenv(loadstring(s), env)`): 5.1's own, and on 5.2+ those that `require "ffi"`
-- defines over the `debug` library (crates/ffi/src/luajit_env/fenv.lua).
local ffi = require "ffi"
local try = require("diffshow").try
assert(ffi)

-- A loaded chunk runs in the table it is given, and so do the closures it makes.
local env = { tostring = tostring }
local chunk = assert(loadstring("y = 3; return function() return y, tostring(z) end"))
print("returns f", setfenv(chunk, env) == chunk)
local inner = chunk()
print("globals", env.y, rawget(_G, "y"), inner())
env.z = "set later"
print("closure", inner())
print("getfenv f", getfenv(chunk) == env, getfenv(inner) == env)

-- Only that function changes: one made by the same chunk keeps the globals.
local function a() return tostring(rawget(_G, "marker")) end
local function b() return marker end
marker = "global"
setfenv(b, { marker = "own" })
print("separate", a(), b(), getfenv(a) == _G)
marker = nil

-- Levels: 1 is the caller of setfenv/getfenv, 2 its caller.
local function set_caller_env(t) setfenv(2, t) end
local function uses_x()
  set_caller_env({ x = "from level 2" })
  return x
end
print("level 2", uses_x())
local function env_of_caller() return getfenv(2) end
print("getfenv levels", getfenv() == _G, getfenv(1) == _G, getfenv(0) == _G,
  env_of_caller() == _G, getfenv(nil) == _G)
local function own_level()
  setfenv(1, { answer = 42 })
  return answer
end
print("level 1", own_level())
print("level 1 is pcall, a C function", pcall(setfenv, 1.5, {}))

-- C functions have the globals and cannot change.
print("C function", getfenv(print) == _G)
try("setfenv(print)", setfenv, print, {})
try("setfenv(f, 1)", setfenv, function() end, 1)
try("setfenv()", setfenv)
try("setfenv('x')", setfenv, "x", {})
try("setfenv(100)", setfenv, 100, {})
try("getfenv(100)", getfenv, 100)
try("getfenv('x')", getfenv, "x")
