-- Assertion helpers shared by the tests/lua scripts (tests/modules.sh puts this
-- directory on package.path): `local check = require "check"`.
local check = {}

-- Whether this is LuaJIT itself: jitffi defines a global `jit` too (LuaJIT's
-- environment), but only jitffi's ffi sets package.loaded["ffi.core"].
check.luajit = rawget(_G, "jit") ~= nil and package.loaded["ffi.core"] == nil

-- Calls f(...) and asserts that it raises an error whose text contains `text` (plain,
-- not a pattern).
function check.fails(text, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error containing '" .. text .. "'")
  assert(string.find(tostring(err), text, 1, true),
    "error '" .. tostring(err) .. "' does not contain '" .. text .. "'")
end

-- Asserts a == b, naming both values and what was checked.
function check.eq(a, b, what)
  if a ~= b then
    error((what or "values") .. ": expected " .. tostring(b) .. ", got " .. tostring(a), 2)
  end
end

-- Sets the collector's parameter `name` ("pause" or "stepmul") and returns its previous
-- value: collectgarbage("setpause", value) before Lua 5.5 (and on LuaJIT),
-- collectgarbage("param", "pause", value) on 5.5, which dropped the "set" options.
function check.gc_param(name, value)
  if _VERSION == "Lua 5.5" then
    return collectgarbage("param", name, value)
  end
  return collectgarbage("set" .. name, value)
end

return check
