-- Run by tests/luarocks.sh with a stock interpreter whose package paths are only
-- LuaRocks' (`luarocks path` for the tree given as arg[1]): the modules the rock
-- installed load from that tree, each one first in a fresh state, and ffi calls C.
local tree = assert(arg[1], "usage: smoke.lua TREE")

-- package.searchpath, which Lua 5.1 lacks: the first file of `path` that opens.
local function search(name, path)
  for template in path:gmatch("[^;]+") do
    local file = template:gsub("%?", (name:gsub("%.", "/")))
    local handle = io.open(file)
    if handle then
      handle:close()
      return file
    end
  end
  error(name .. " not found on " .. path)
end

local function from_tree(name, path)
  local file = search(name, path)
  assert(file:sub(1, #tree + 1) == tree .. "/",
         name .. " found at " .. file .. ", not in the tree " .. tree)
end
from_tree("ffi", package.cpath)
from_tree("cbframe", package.cpath)
from_tree("bit", package.path)
from_tree("jit", package.path)

-- `require "bit"` and `require "jit"` work without a `require "ffi"` before them.
local bit = require "bit"
assert(bit.band(0xff, 0x0f) == 0x0f and bit.tohex(255) == "000000ff", "bit")
assert(package.loaded.ffi, "require \"bit\" loaded ffi")
local jit = require "jit"
assert(jit.os == "Linux" and jit.arch == "x64", "jit.os/jit.arch")

local cbframe = require "cbframe"
assert(type(cbframe.new) == "function", "cbframe")

local ffi = require "ffi"
assert(package.loaded.bit == bit and package.loaded.jit == jit)
ffi.cdef [[
size_t strlen(const char *s);
void qsort(void *base, size_t n, size_t size, int (*compare)(const void *, const void *));
]]
assert(tonumber(ffi.C.strlen("hello")) == 5, "a call to strlen")
local values = ffi.new("int[4]", 3, 1, 4, 2)
local compare = ffi.cast("int (*)(const void *, const void *)", function(a, b)
  return ffi.cast("const int *", a)[0] - ffi.cast("const int *", b)[0]
end)
ffi.C.qsort(values, 4, ffi.sizeof("int"), compare)
compare:free()
assert(values[0] == 1 and values[1] == 2 and values[2] == 3 and values[3] == 4, "qsort")
io.write(_VERSION, ": ffi, cbframe, bit and jit from ", tree, "\n")
