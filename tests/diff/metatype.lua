-- Differential test: ffi.metatype and the metamethods a C type's metatable adds
-- (index tables and functions, newindex, call, new, tostring; through pointers and
-- ctype objects), printed the same way under luajit and jitffi.
local ffi = require "ffi"

local try = require("diffshow").try

ffi.cdef [[
struct dm_pt { int x, y; };
struct dm_plain { int a; };
struct dm_fn { int a; };
struct dm_newer { double v; };
typedef struct dm_pt dm_pt_t;
]]

local set_log = {}
local Pt = ffi.metatype("struct dm_pt", {
  __index = { sum = function(p) return p.x + p.y end, k = 7 },
  __tostring = function(p) return "pt(" .. p.x .. "," .. p.y .. ")" end,
  __call = function(p, a, b) return "called", a, b end,
  __new = function(ct, x) return ffi.new(ct, x, x + 1) end,
})
print("metatype returns the ctype", Pt == ffi.typeof("struct dm_pt"), tostring(Pt))
try("second metatype", ffi.metatype, "struct dm_pt", {})
try("typedef name, same type", ffi.metatype, "dm_pt_t", {})
try("not a record", ffi.metatype, "int", {})
try("pointer", ffi.metatype, "struct dm_pt *", {})
try("no table", ffi.metatype, "struct dm_plain", 5)

local p = Pt(3)
try("__new and fields", function() return p.x, p.y end)
try("method through __index table", function() return p:sum(), p.k end)
try("tostring", tostring, p)
try("__call", p, 1, 2)
try("missing name", function() return p.zz end)
try("missing name, assignment without __newindex", function() p.zz = 1 end)
try("number key on a struct", function() return p[1] end)
try("fields win over __index", function() p.x = 10; return p.x end)
local pp = ffi.new("struct dm_pt *", p)
try("through a pointer", function() return pp:sum(), pp.k, tostring(pp) end)
try("pointer __call", pp, "a")
try("pointer element", function() return pp[0].x, pp[0]:sum() end)
local ref = ffi.new("struct dm_pt[1]", {{1, 2}})[0]
try("through a reference", function() return ref:sum(), tostring(ref) end)
try("ctype object indexes its metatype", function() return Pt.k, Pt.sum(p) end)
try("ctype object, missing", function() return Pt.zz end)
try("ffi.new skips __new", function() local q = ffi.new("struct dm_pt", 1, 2); return q.x, q.y end)
try("array is not the struct", function() return tostring(ffi.new("struct dm_pt[1]")):match("^cdata<[^>]*>") end)

local plain = ffi.new("struct dm_plain")
try("no metatype, missing", function() return plain.q end)
try("no metatype, call", plain, 1)
try("no metatype, pointer call", ffi.new("struct dm_plain *", plain), 1)

local Fn = ffi.metatype("struct dm_fn", {
  __index = function(s, k) return tostring(k) .. "!" end,
  __newindex = function(s, k, v) set_log[#set_log + 1] = tostring(k) .. "=" .. tostring(v) end,
})
local f = Fn()
try("__index function", function() return f.foo, f[3], f.a end)
try("__newindex function", function() f.bar = 5; f[2] = true; f.a = 9; return f.a end)
print("newindex log", table.concat(set_log, " "))

local chain = setmetatable({}, { __index = function(t, k) return "chained " .. k end })
local N = ffi.metatype("struct dm_newer", { __index = chain, __newindex = chain })
local n = N(1.5)
try("__index table honours its own metatable", function() return n.anything end)
try("__newindex table", function() n.w = 3; return rawget(chain, "w") end)
try("error in __index propagates", function()
  local t = setmetatable({}, { __index = function() error("boom", 0) end })
  ffi.cdef "struct dm_err { int a; };"
  local E = ffi.metatype("struct dm_err", { __index = t })
  return E().zz
end)

-- A const struct refuses new keys too, even where its metatype has __newindex.
local cs = ffi.new("const struct dm_newer", 2.5)
try("const struct, metatype __index", function() return cs.v, cs.anything end)
try("const struct, new key", function() cs.other = 1 end)
try("const struct, field", function() cs.v = 1 end)

-- A method name, once looked up (the fast path keeps the metatype's `__index` table),
-- still reads the table's contents as they are now: a replaced, a removed and an added
-- method.
ffi.cdef "struct dm_live { int n; };"
local live_methods = { get = function(s) return s.n end }
local Live = ffi.metatype("struct dm_live", { __index = live_methods })
local live = Live(5)
for _ = 1, 3 do assert(live:get() == 5) end
live_methods.get = function(s) return s.n * 10 end
print("replaced method", live:get(), live:get())
live_methods.get = nil
try("removed method", function() return live:get() end)
live_methods.twice = function(s) return 2 * s.n end
print("added method", live:twice(), ffi.new("struct dm_live *", live):twice())
