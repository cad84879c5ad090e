-- Differential test: constants in struct and union bodies, as LuaJIT's parser keeps
-- them in the record's namespace: `static const` integer members and the constants of
-- an enum member without a declarator. A ctype object (also of a pointer or reference
-- to the record) and every instance read them; nobody writes them; they take no room.
local ffi = require "ffi"

local try = require("diffshow").try

ffi.cdef [[
struct rc_s { static const int X = 5, Y = -1; static const unsigned char Z = 300; int a; };
struct rc_t { enum { RC_A = 1, RC_B }; int a; };
enum rc_e { RC_P = 7, RC_Q };
struct rc_u { enum rc_e; int a; };
union rc_v { static const unsigned int U = 0xffffffff; int a; float f; };
struct rc_w { struct { static const short K = 11; int x; }; enum { RC_BIG = 0x80000000 }; int a; };
]]
local S = ffi.typeof("struct rc_s")
local s = ffi.new(S, 42)
try("from the ctype", function() return S.X, S.Y, S.Z end)
try("from an instance", function() return s.X, s.Y, s.Z, s.a end)
try("types", function() return type(S.X), type(s.Z) end)
try("sizes", function() return ffi.sizeof("struct rc_s"), ffi.sizeof("struct rc_t"), ffi.sizeof("union rc_v") end)
try("anonymous enum", function() return ffi.typeof("struct rc_t").RC_A, ffi.new("struct rc_t").RC_B end)
try("anonymous enum constants are global", function() return tonumber(ffi.new("enum rc_e", "RC_Q")), ffi.new("int", ffi.new("struct rc_t").RC_B) ~= nil end)
try("tagged enum member", function() return ffi.typeof("struct rc_u").RC_P, ffi.new("struct rc_u").RC_Q end)
try("union", function() return ffi.typeof("union rc_v").U, ffi.new("union rc_v").U end)
try("through anonymous members", function() return ffi.typeof("struct rc_w").K, ffi.new("struct rc_w").RC_BIG end)
try("pointer ctype", function() return ffi.typeof("struct rc_s *").X end)
try("reference ctype", function() return ffi.typeof("struct rc_s &").Y end)
try("const ctype", function() return ffi.typeof("const struct rc_s").Z end)
try("pointer", function() return ffi.cast("struct rc_s *", s).X, ffi.cast("struct rc_s *", s).a end)
try("NULL pointer", function() return ffi.cast("struct rc_s *", nil).X end)
try("reference", function() return ffi.new("struct rc_s &", s).Y end)
try("array ctype", function() return ffi.typeof("struct rc_s [2]").X end)
try("array", function() return ffi.new("struct rc_s [2]").X end)
try("array element", function() return ffi.new("struct rc_s [2]")[1].X end)
try("a field through the ctype", function() return S.a end)
try("missing", function() return S.nope end)
try("missing in an instance", function() return s.nope end)
try("write through an instance", function() s.X = 1 end)
try("write through the ctype", function() S.X = 1 end)
try("write through a pointer", function() ffi.cast("struct rc_s *", s).Y = 1 end)
try("offsetof a constant", function() return ffi.offsetof("struct rc_s", "X") end)
try("offsetof a field", function() return ffi.offsetof("struct rc_s", "a") end)
try("positional initializers skip constants", function() local t = ffi.new("struct rc_t", 3); return t.a end)
try("table initializer", function() return ffi.new("struct rc_s", { a = 9 }).a end)

-- What LuaJIT refuses, and that a failed cdef declares nothing.
try("double", ffi.cdef, "struct rc_bad { static const double D = 1; int a; };")
try("not const", ffi.cdef, "struct rc_bad { static int D = 1; int a; };")
try("pointer constant", ffi.cdef, "struct rc_bad { static const int *P = 0; int a; };")
try("function", ffi.cdef, "struct rc_bad { static int f(void); int a; };")
try("no value", ffi.cdef, "struct rc_bad { static const int D; int a; };")
try("no name", ffi.cdef, "struct rc_bad { static const int = 1; int a; };")
try("nothing declared", ffi.typeof, "struct rc_bad")

-- A metatype's __index answers what the record lacks, after the constants.
ffi.cdef "struct rc_m { static const int K = 3; int a; };"
ffi.metatype("struct rc_m", { __index = { K = 99, extra = "meta" } })
try("metatype", function()
  local M = ffi.typeof("struct rc_m")
  return M.K, M.extra, M().K, M().extra
end)
