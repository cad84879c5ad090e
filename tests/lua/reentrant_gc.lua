-- Finalizers that re-enter the module while it is busy: every allocation inside an ffi
-- function may run a __gc that calls cdef, new, cast, typeof, metatype, gc, string,
-- copy, fill, a C function and a callback. Under a collector that runs at every
-- allocation, each of those must work (or fail with a Lua error the finalizer sees), and
-- the interrupted functions must finish with the right result. No crash, no panic.
local ffi = require "ffi"
local check = require "check"
local eq = check.eq

local version = tonumber(_VERSION:match("%d+%.%d+"))

ffi.cdef [[
int abs(int);
struct big { int x; double y; int z[3]; };
]]

local runs, failures = 0, {}

-- What a finalizer does: a little of every API, on fresh types so that the type table
-- must change while the interrupted function may be using it.
local function reenter()
  runs = runs + 1
  local n = runs
  local ok, err = pcall(function()
    local name = "reentrant_" .. n
    ffi.cdef("struct " .. name .. " { int a; double b; int64_t c; };")
    local T = ffi.typeof("struct " .. name)
    ffi.metatype(T, {
      __index = { sum = function(s) return s.a + s.b end },
      __gc = function(s) return s.a end,
    })
    local v = ffi.new(T, n, 0.5, 7)
    assert(v:sum() == n + 0.5, "metatype method")
    assert(ffi.sizeof(T) == 24, "sizeof")
    local arr = ffi.new("int[?]", 8, 1, 2, 3)
    ffi.fill(arr, 4 * 8, 0)
    ffi.copy(arr, "abcd", 4)
    assert(ffi.string(arr, 4) == "abcd", "copy and string")
    local p = ffi.cast("int *", arr)
    assert(ffi.istype("int *", p), "cast")
    ffi.gc(ffi.new("char[16]"), function() end)
    local x = ffi.new("int64_t", n) * 3 + 1
    assert(tonumber(x) == 3 * n + 1, "64-bit arithmetic")
    assert(ffi.C.abs(-n) == n, "C call")
    local cb = ffi.cast("int (*)(int)", function(i) return i + 1 end)
    assert(cb(n) == n + 1, "callback")
    cb:free()
    ffi.typeof("struct " .. name .. " *[" .. (n % 7 + 1) .. "]")
  end)
  if not ok then
    failures[#failures + 1] = tostring(err)
  end
end

-- A Lua object whose finalizer re-enters the module (no ffi function owns it, so it
-- can run inside any allocation).
local function lua_finalized()
  if version >= 5.2 then
    setmetatable({}, { __gc = reenter })
  else
    local proxy = newproxy(true)
    getmetatable(proxy).__gc = reenter
  end
end

-- Allocation-heavy work through every API, with finalizable garbage made all along.
local function work(rounds)
  for i = 1, rounds do
    ffi.gc(ffi.new("int[4]"), reenter)
    lua_finalized()
    local s = ffi.new("struct big", { i, i * 2, { 1, 2, 3 } })
    eq(s.x + s.z[2], i + 3, "initializer table")
    local a = ffi.typeof("struct big[?]")(3)
    a[1].x = i
    eq(a[1].x, i, "VLA element")
    eq(ffi.string(ffi.cast("const char *", "hello"), 5), "hello", "string")
    local c = ffi.cast("int64_t", i) + ffi.new("uint64_t", 2)
    eq(tonumber(c), i + 2, "int64 + uint64")
    ffi.cdef("typedef struct { int v[" .. (i % 5 + 1) .. "]; } main_t" .. i .. ";")
    local m = ffi.new("main_t" .. i)
    eq(ffi.sizeof(m), 4 * (i % 5 + 1), "new typedef")
    local cb = ffi.cast("int (*)(int, int)", function(x, y)
      lua_finalized()
      return x * y
    end)
    eq(cb(i, 3), 3 * i, "callback under collection")
    cb:free()
    eq(ffi.C.abs(-i), i, "C call")
    eq(tostring(ffi.typeof("struct big *")), "ctype<struct big *>", "typeof")
  end
end

check.gc_param("pause", 0)
check.gc_param("stepmul", 1000)
work(150)
collectgarbage()
collectgarbage()
if version >= 5.4 then
  collectgarbage("generational")
  work(150)
  collectgarbage()
  collectgarbage("incremental")
end
check.gc_param("pause", 200)
collectgarbage()
collectgarbage()

eq(#failures, 0, "finalizers failed: " .. table.concat(failures, "; "))
assert(runs >= 200, "finalizers ran: " .. runs)
print("reentrant_gc: " .. runs .. " re-entrant finalizers")
