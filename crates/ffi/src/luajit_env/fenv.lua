-- LuaJIT's (and Lua 5.1's) `setfenv` and `getfenv` for Lua 5.2+, where a Lua
-- function's environment is its upvalue `_ENV`. Called with the `debug` library (loaded
-- with the globals table as `_ENV`); returns the two functions.
--
-- As in 5.1: `setfenv(f, t)` changes the environment of `f` alone (the upvalue is
-- replaced, not written, so closures sharing `f`'s `_ENV` keep theirs) and returns `f`;
-- a level (1: the caller) names the function running there; `getfenv(f)` gives what
-- `f`'s globals resolve through. Where 5.2+ has no equivalent: a function without an
-- `_ENV` upvalue (it reads no global) has the globals table as environment and ignores
-- `setfenv`, and level 0 (the thread's environment) is the globals table to `getfenv`
-- and cannot be changed. Returns nothing without a `debug` library to build them on.
local debug = ...
if type(debug) ~= "table" or type(debug.upvaluejoin) ~= "function" then return end
local globals = _ENV
local getupvalue, upvaluejoin, getinfo = debug.getupvalue, debug.upvaluejoin, debug.getinfo
local type, error, select = type, error, select

-- The index of `f`'s upvalue `_ENV`, or nil.
local function env_index(f)
  local i = 1
  while true do
    local name = getupvalue(f, i)
    if name == "_ENV" then return i end
    if name == nil then return nil end
    i = i + 1
  end
end

-- Raises an error about argument 1 at the position of the code that called `fname`
-- (levels: this function, `target`, `fname`, its caller).
local function arg_error(fname, message)
  error(("bad argument #1 to '%s' (%s)"):format(fname, message), 4)
end

-- The function that argument 1 of `fname` names: a function, or a level counted from
-- the caller of `fname` (two frames up from here); level 0 gives 0.
local function target(fname, f)
  local kind = type(f)
  if kind == "function" then return f end
  if kind ~= "number" then
    arg_error(fname, "number expected, got " .. kind)
  end
  local level = f - f % 1   -- floor, without the math library
  if level == 0 then return 0 end
  local info = level > 0 and level < 1e9 and getinfo(level + 2, "f")
  if not info then arg_error(fname, "invalid level") end
  return info.func
end

local function getfenv(f)
  if f == nil then f = 1 end
  local fn = target("getfenv", f)
  if fn == 0 or type(fn) ~= "function" then return globals end
  local i = env_index(fn)
  if i == nil then return globals end
  local _, env = getupvalue(fn, i)
  return env
end

local function setfenv(...)
  local f, env = ...
  if type(env) ~= "table" then
    error(("bad argument #2 to 'setfenv' (table expected, got %s)"):format(
      select("#", ...) < 2 and "no value" or type(env)), 2)
  end
  local fn = target("setfenv", f)
  if fn == 0 or getinfo(fn, "S").what == "C" then
    error("'setfenv' cannot change environment of given object", 2)
  end
  local i = env_index(fn)
  if i then
    upvaluejoin(fn, i, function() return env end, 1)
  end
  return fn
end

return setfenv, getfenv
