-- `require "jit"` for a stock Lua where jitffi is installed (by LuaRocks): LuaJIT's
-- `jit` table is defined by the ffi module (`require "ffi"` registers it in
-- package.loaded where it is missing), so this file only loads ffi and returns it.
-- Lua 5.1's require marks the module being loaded with a sentinel (a light userdata)
-- in package.loaded, which the ffi would take for an existing `jit`: clear it first.
if type(package.loaded.jit) == "userdata" then
  package.loaded.jit = nil
end
require "ffi"
return package.loaded.jit
