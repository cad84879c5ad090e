-- Differential test: reference cdata made by ffi.new and ffi.cast from a struct, an
-- array or a pointer, and read and written through.
local ffi = require "ffi"

local try = require("diffshow").try
local function kind(x) return (tostring(x):match("^cdata<[^>]*>")) end

ffi.cdef "typedef struct rf { int x, y; } rf_t;"
local a = ffi.new("rf_t", 10, 20)
local q = ffi.new("rf_t &", a)
try("struct reference reads", function() return q.x, q.y, kind(q) end)
try("writes reach the struct", function() q.y = 7; a.x = 5; return a.y, q.x end)
try("from a pointer", function() local r = ffi.new("rf_t &", ffi.new("rf_t *", a)); return r.x end)
try("from a number", ffi.new, "rf_t &", 5)
try("from nothing", function() return tostring(ffi.new("int &")) end)
local ia = ffi.new("int[2]", 7, 8)
local ir = ffi.new("int &", ia)
try("int reference arithmetic", function() return ir + 1, -ir end)
try("int reference from a number", ffi.new, "int &", 5)
try("cast to a reference", function() local r = ffi.cast("int &", ia); return r + 0, kind(r) end)
try("cast a struct to a reference", function() return ffi.cast("rf_t &", a).y end)
