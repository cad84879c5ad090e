-- Hello from the ffi module. Run it with the runner, `jitffi examples/hello.lua`, or
-- with a stock interpreter and the built module:
--   LUA_CPATH='target/modules/lua5.4/?.so' lua5.4 examples/hello.lua
local ffi = require "ffi"

print("ffi is a " .. type(ffi) .. " under " .. _VERSION)
-- ffi.os and ffi.arch arrive with the module's constants; say so until then.
print("ffi.os   = " .. tostring(ffi.os))
print("ffi.arch = " .. tostring(ffi.arch))
