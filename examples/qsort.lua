-- qsort from libc with a Lua comparator: an array of structs sorted by two keys, then
-- an array of doubles, the comparator called back from C for every comparison.
--   jitffi examples/qsort.lua
--   LUA_CPATH='target/modules/lua5.4/?.so' lua5.4 examples/qsort.lua
local ffi = require "ffi"

ffi.cdef [[
void qsort(void *base, size_t nmemb, size_t size,
           int (*compar)(const void *, const void *));
struct score { char name[8]; int points; };
]]

-- Typed comparators: the ffi converts each C argument to a Lua value (here a pointer
-- cdata) and the Lua result to C's int.
local scores = ffi.new("struct score[5]", {
  { "ada", 30 }, { "bob", 12 }, { "cy", 30 }, { "dee", 7 }, { "eve", 12 },
})
local calls = 0
local by_points = ffi.cast("int (*)(const struct score *, const struct score *)",
  function(a, b)
    calls = calls + 1
    if a.points ~= b.points then return b.points - a.points end   -- descending
    local an, bn = ffi.string(a.name), ffi.string(b.name)          -- then by name
    return an < bn and -1 or (an > bn and 1 or 0)
  end)
-- qsort wants int (*)(const void *, const void *): cast the callback's pointer.
ffi.C.qsort(scores, 5, ffi.sizeof("struct score"),
  ffi.cast("int (*)(const void *, const void *)", by_points))
by_points:free()

local order = {}
for i = 0, 4 do order[#order + 1] = ffi.string(scores[i].name) .. "=" .. scores[i].points end
print(table.concat(order, " "), "(" .. calls .. " comparisons)")
assert(table.concat(order, " ") == "ada=30 cy=30 bob=12 eve=12 dee=7")
assert(calls > 0)

-- A comparator of the exact type qsort takes, casting the void pointers itself.
local n = 1000
local values = ffi.new("double[?]", n)
local seed = 12345
for i = 0, n - 1 do       -- Park-Miller: exact in doubles, the same on every Lua
  seed = seed * 16807 % 2147483647
  values[i] = seed / 2147483647
end
local double_ptr = ffi.typeof("const double *")
local ascending = ffi.cast("int (*)(const void *, const void *)", function(a, b)
  local x, y = ffi.cast(double_ptr, a)[0], ffi.cast(double_ptr, b)[0]
  return x < y and -1 or (x > y and 1 or 0)
end)
ffi.C.qsort(values, n, ffi.sizeof("double"), ascending)
ascending:free()
for i = 1, n - 1 do
  assert(values[i - 1] <= values[i], "sorted at " .. i)
end
print(("%d doubles sorted, from %.4f to %.4f"):format(n, values[0], values[n - 1]))
