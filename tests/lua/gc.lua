-- ffi.gc and the __gc of ffi.metatype: finalizers run on collection and when the Lua
-- state closes; set, replace, remove; errors (checked against luajit 2.1 on x86-64).
local ffi = require "ffi"
local check = require "check"
local fails, eq = check.fails, check.eq

local version = tonumber(_VERSION:match("%d+%.%d+"))

local function full_gc()
  collectgarbage()
  collectgarbage()
end

-- counting runs
local runs = 0
for _ = 1, 100 do
  ffi.gc(ffi.new("int[2]"), function() runs = runs + 1 end)
end
full_gc()
eq(runs, 100, "every finalizer ran once")
full_gc()
eq(runs, 100, "and only once")

-- ffi.gc returns its argument, which stays a working cdata
local p = ffi.new("int[3]", 1, 2, 3)
local seen
eq(rawequal(ffi.gc(p, function(x) seen = ffi.sizeof(x) end), p), true, "returns the cdata")
eq(type(p), "cdata", "still cdata")
eq(getmetatable(p), "ffi", "metatable still hidden")
eq(p[2], 3, "still indexable")
p[2] = 30
eq(p[2], 30, "still writable")
eq(ffi.istype("int[3]", p), true, "still its type")
eq(ffi.sizeof(p), 12, "sizeof")
eq(ffi.string(p, 1), "\1", "ffi.string accepts it")
local q = ffi.new("int *", p)
eq(q[1], 2, "converts to a pointer")
p = nil
full_gc()
eq(seen, 12, "the finalizer got the cdata")

-- replacing and removing
local log = {}
local r = ffi.gc(ffi.new("int *"), function() log[#log + 1] = "A" end)
ffi.gc(r, function() log[#log + 1] = "B" end)
r = nil
full_gc()
eq(table.concat(log), "B", "a replaced finalizer does not run")
log = {}
r = ffi.gc(ffi.new("int *"), function() log[#log + 1] = "A" end)
ffi.gc(r, nil)
eq(getmetatable(r), "ffi", "removing keeps the cdata metatable")
eq(type(r), "cdata", "removing keeps a cdata")
r = nil
full_gc()
eq(#log, 0, "a removed finalizer does not run")
r = ffi.gc(ffi.new("int *"), nil)
ffi.gc(r, function() log[#log + 1] = "C" end)
r = nil
full_gc()
eq(table.concat(log), "C", "set after a removal")

-- accepted types: pointers, arrays, structs, unions; any finalizer value
ffi.cdef [[
struct gc_s { int x; };
union gc_u { int i; float f; };
struct gc_meta { int x; };
struct gc_plain { int x; };
]]
local kinds = 0
ffi.gc(ffi.new("void *"), function() kinds = kinds + 1 end)
ffi.gc(ffi.new("struct gc_s"), function() kinds = kinds + 1 end)
ffi.gc(ffi.new("union gc_u"), function() kinds = kinds + 1 end)
ffi.gc(ffi.new("char[?]", 4), function() kinds = kinds + 1 end)
ffi.gc(ffi.new("int (*)(int)"), function() kinds = kinds + 1 end)
full_gc()
eq(kinds, 5, "pointer, struct, union, VLA, function pointer")

fails("cdata expected, got no value", ffi.gc)
fails("cdata expected, got number", ffi.gc, 1)
fails("cdata expected, got userdata", ffi.gc, io.stdout, print)
fails("bad argument #2", ffi.gc, ffi.new("int *"))
fails("value expected", ffi.gc, ffi.new("int *"))
fails("invalid C type", ffi.gc, ffi.new("int"), print)
fails("invalid C type", ffi.gc, ffi.new("int64_t"), print)
fails("invalid C type", ffi.gc, ffi.new("complex"), print)
fails("invalid C type", ffi.gc, ffi.typeof("int *"), print)

-- the __gc of a metatype: every struct made by ffi.new or a ctype call gets it
local meta_runs = {}
local M = ffi.metatype("struct gc_meta", {
  __gc = function(s) meta_runs[#meta_runs + 1] = s.x end,
})
local m1 = ffi.new("struct gc_meta", 1)
local m2 = M(2)
eq(m2.x, 2, "still indexable")
local m3 = M(3)
ffi.gc(m3, nil)
local m4 = M(4)
ffi.gc(m4, function() meta_runs[#meta_runs + 1] = 40 end)
local cm = ffi.new("const struct gc_meta", 5)   -- LuaJIT: none for a qualified type
local arr = ffi.new("struct gc_meta[2]")        -- nor for arrays of the struct
local ptr = ffi.cast("struct gc_meta *", m1)    -- nor for pointers to it
m1, m2, m3, m4, cm, arr = nil, nil, nil, nil, nil, nil
full_gc()
table.sort(meta_runs)
eq(table.concat(meta_runs, " "), "1 2 40", "metatype __gc, removed, replaced")
ptr = nil

-- the metatable's __gc is read when the cdata is made
ffi.cdef "struct gc_late { int x; };"
local late_mt = {}
local Late = ffi.metatype("struct gc_late", late_mt)
local late_runs = 0
local before = Late()
late_mt.__gc = function() late_runs = late_runs + 1 end
local after = Late()
before, after = nil, nil
full_gc()
eq(late_runs, 1, "__gc added later applies to later cdata only")

-- a metatype without __gc costs nothing
ffi.metatype("struct gc_plain", {})
eq(getmetatable(ffi.new("struct gc_plain")), "ffi", "no finalizer metatable")

-- a finalizer that refers to its own cdata: collected from 5.2 on (the finalizer table
-- is an ephemeron there); on 5.1, as in LuaJIT, the cycle keeps it alive
local self_runs = 0
do
  local s = ffi.new("int[1]")
  ffi.gc(s, function() self_runs = self_runs + 1 local _ = s end)
end
full_gc()
eq(self_runs, version >= 5.2 and 1 or 0, "self-referencing finalizer")

-- errors in finalizers: propagated on 5.1 (as LuaJIT), wrapped on 5.2/5.3, a warning
-- (off by default) on 5.4
do
  ffi.gc(ffi.new("int *"), function() error("boom") end)
end
local ok, err = pcall(full_gc)
if version == 5.1 then
  eq(ok, false, "5.1 propagates a finalizer error")
  assert(tostring(err):find("boom", 1, true), tostring(err))
elseif version < 5.4 then
  eq(ok, false, "5.2/5.3 propagate a finalizer error")
  assert(tostring(err):find("error in __gc", 1, true), tostring(err))
else
  eq(ok, true, "5.4 turns a finalizer error into a warning")
end
full_gc()

-- finalizers run when the state closes: a child interpreter prints from them
local interpreter = arg and arg[-1]
if interpreter then
  local script = os.tmpname()
  local file = assert(io.open(script, "w"))
  file:write([[
local ffi = require "ffi"
ffi.cdef "struct gc_close { int x; };"
ffi.metatype("struct gc_close", { __gc = function(s) print("metatype " .. s.x) end })
keep_array = ffi.gc(ffi.new("int[4]"), function(a) print("array " .. ffi.sizeof(a)) end)
keep_struct = ffi.new("struct gc_close", 7)
keep_removed = ffi.gc(ffi.new("int[1]"), function() print("removed") end)
ffi.gc(keep_removed, nil)
print("end")
]])
  file:close()
  local pipe = assert(io.popen(interpreter .. " " .. script .. " 2>&1"))
  local output = pipe:read("*a")
  pipe:close()
  os.remove(script)
  local lines = {}
  for line in output:gmatch("[^\n]+") do lines[#lines + 1] = line end
  eq(lines[1], "end", "main chunk first: " .. output)
  table.sort(lines)
  eq(table.concat(lines, ","), "array 16,end,metatype 7", "finalizers at close: " .. output)
end
