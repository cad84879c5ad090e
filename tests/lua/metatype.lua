-- Metatype behaviour beyond LuaJIT's (tests/diff/metatype.lua holds what must equal
-- LuaJIT): the to-be-closed variables of Lua 5.4 and later reach a metatype's __close.
local ffi = require "ffi"
local check = require "check"

ffi.cdef [[
struct mtl_res { int fd; };
struct mtl_plain { int a; };
]]

local closed = {}
local Res = ffi.metatype("struct mtl_res", {
  __close = function(r, err) closed[#closed + 1] = r.fd .. ":" .. tostring(err) end,
})

if tonumber(_VERSION:match("%d+%.%d+")) >= 5.4 and not check.luajit then
  -- `local x <close>` is a syntax error before 5.4, so the chunk is compiled here.
  local run = assert(load([[
    local ffi, Res = ...
    do local r <close> = Res(3) end
    pcall(function() local r <close> = ffi.new("struct mtl_res *", Res(4)); error("e", 0) end)
    local plain_ok, plain_err = pcall(function() local p <close> = ffi.new("struct mtl_plain") end)
    return plain_ok, plain_err
  ]]))
  local ok, err = run(ffi, Res)
  check.eq(table.concat(closed, " "), "3:nil 4:e", "__close runs with the error")
  check.eq(ok, false, "a cdata without __close cannot be closed")
  assert(tostring(err):find("'struct mtl_plain' has no __close metamethod", 1, true), err)
end

-- The association is per type: another struct with the same layout keeps no metatable.
local plain = ffi.new("struct mtl_plain")
check.fails("'struct mtl_plain' has no member named 'fd'", function() return plain.fd end)
