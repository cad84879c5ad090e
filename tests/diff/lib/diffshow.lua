-- Output helpers shared by the tests/diff scripts (tests/diff.sh puts this directory on
-- package.path for luajit and every Lua): `local d = require "diffshow"`.
local d = {}

-- "ok v1 v2 ..." for a successful pcall, else "error <message>" without the position and
-- without the function name of argument errors, which depend on the Lua version
-- (`bad argument #1 to 'ffi.sizeof'` in 5.4, `to '?'` in LuaJIT).
function d.show(ok, ...)
  if ok then
    local out = {}
    for i = 1, select("#", ...) do out[i] = tostring((select(i, ...))) end
    return "ok " .. table.concat(out, " ")
  end
  local msg = tostring((...))
  msg = msg:gsub("^[^:]*:%d+: ", ""):gsub("(argument #%d+) to '[^']*'", "%1 to '?'")
  return "error " .. msg
end

-- Prints `label` and what calling f(...) gave.
function d.try(label, f, ...)
  print(label, d.show(pcall(f, ...)))
end

return d
