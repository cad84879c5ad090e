-- Cases of tests/diff/semantics2.lua where LuaJIT cannot be the oracle: it writes
-- through a NULL reference member (a crash) and copies a string or table into a
-- flexible array member past the end of a variable-length struct it allocated.
local ffi = require "ffi"
local check = require "check"

ffi.cdef [[
struct s2l_nh { int &r; };
struct s2l_fv { int n; char s[?]; };
struct s2l_fz { int n; char s[0]; };
]]

-- Writing through a reference member that holds NULL is an error, not a crash.
local nulls = ffi.new("struct s2l_nh")
check.fails("attempt to dereference a NULL pointer of type 'int &'", function() nulls.r = 5 end)
check.fails("attempt to dereference a NULL pointer of type 'int &'", function() return nulls.r end)

-- A string or table stored into a flexible member of a struct value from ffi.new fills
-- at most what that cdata holds: the copy is cut at its end, never past it.
local vls = ffi.new("struct s2l_fv", 2)
vls.n = 77
local room = ffi.sizeof(vls) - ffi.offsetof("struct s2l_fv", "s")
check.eq(room, 2, "room of the [?] member")
vls.s = "hello"
check.eq(ffi.string(vls.s, room), "he", "string cut at the member's room")
check.eq(vls.n, 77, "the member before it")
check.fails("too many initializers for 'char [?]'", function() vls.s = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17} end)
local fixed = ffi.new("struct s2l_fz[2]")
fixed[0].n, fixed[1].n = 5, 6
fixed[0].s = "hi"
-- Reached through an array element (a reference), the member's room is unknown: the
-- string and its NUL are copied as LuaJIT copies them, into the next element here.
check.eq(fixed[1].n, 0x6968, "string copied whole through a reference")
print("semantics2 ok")
