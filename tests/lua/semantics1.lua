-- Semantics of issue 13, item 3, where LuaJIT cannot be the oracle
-- (tests/diff/semantics1.lua has the rest): closed files and foreign userdata where a
-- pointer is wanted (LuaJIT passes NULL or the userdata's address), what the replaced
-- pairs/ipairs keep of each Lua version's own, and positions LuaJIT has no case for.
local ffi = require "ffi"
local check = require "check"
local fails, eq = check.fails, check.eq
local version = _VERSION:match("%d+%.%d+")

ffi.cdef [[
typedef struct FILE FILE;
int fileno(FILE *);
int ferror(FILE *);
struct sem1_s { int n; };
]]

-- a Lua file passes its FILE *; a closed one is refused
eq(ffi.C.fileno(io.stdout), 1, "io.stdout as FILE *")
eq(ffi.C.fileno(io.stderr), 2, "io.stderr as FILE *")
local tmp = io.tmpfile()
local fd = ffi.C.fileno(tmp)
assert(fd > 2, "a new file's descriptor: " .. fd)
eq(ffi.C.fileno(ffi.cast("FILE *", tmp)), fd, "cast to FILE *")
tmp:close()
fails("bad argument #1 to 'fileno' (attempt to use a closed file)", function() return ffi.C.fileno(tmp) end)
fails("attempt to use a closed file", ffi.cast, "FILE *", tmp)
fails("attempt to use a closed file", ffi.cast, "intptr_t", tmp)
fails("attempt to use a closed file", function() local p = ffi.new("void *[1]"); p[0] = tmp end)

-- any other userdata is refused, never passed as its address
-- (5.1 lets no Lua code read a C function's upvalues, but has newproxy)
local library = newproxy and newproxy(false)
  or select(2, debug.getupvalue(getmetatable(ffi.C).__index, 2))
eq(type(library), "userdata", "a foreign userdata")
fails("bad argument #1 to 'fileno' (cannot convert 'userdata' to 'struct FILE *')",
  function() return ffi.C.fileno(library) end)
fails("cannot convert 'userdata' to 'void *'", ffi.cast, "void *", library)
fails("cannot convert 'userdata' to 'unsigned int'", ffi.cast, "unsigned int", library)
fails("cannot convert 'userdata' to 'int *'", ffi.new, "int *", library)
-- and so are tables, booleans and threads, naming the argument
fails("bad argument #1 to 'fileno' (cannot convert 'table' to 'struct FILE *')",
  function() return ffi.C.fileno({}) end)
fails("bad argument #1 to 'fileno' (cannot convert 'bool' to 'struct FILE *')",
  function() return ffi.C.fileno(false) end)
fails("bad argument #1 to 'fileno' (cannot convert 'thread' to 'struct FILE *')",
  function() return ffi.C.fileno(coroutine.create(function() end)) end)

-- pairs/ipairs on anything but cdata: the version's own behaviour and errors
local plain = ffi.new("struct sem1_s")
fails("'struct sem1_s' has no '__pairs' metamethod", pairs, plain)
local with_meta = setmetatable({}, {
  __pairs = function() return next, {p = 1}, nil end,
  __ipairs = function() return ipairs({"i"}) end,
})
local function first_key(iterate, t)
  for k, v in iterate(t) do return k, v end
end
if version == "5.1" then
  eq(first_key(pairs, with_meta), nil, "5.1: no __pairs for tables")
  eq(first_key(ipairs, with_meta), nil, "5.1: no __ipairs for tables")
else
  eq(first_key(pairs, with_meta), "p", "__pairs of a table")
  if version == "5.2" then
    eq(select(2, first_key(ipairs, with_meta)), "i", "5.2: __ipairs of a table")
  elseif version == "5.4" or version == "5.5" then
    eq(first_key(ipairs, with_meta), nil, "5.4+: no __ipairs")
  end
end
if version == "5.1" or version == "5.2" then
  fails("bad argument #1 to 'pairs' (table expected, got nil)", function() return pairs(nil) end)
  fails("bad argument #1 to 'ipairs' (table expected, got number)", function() return ipairs(1) end)
  fails("bad argument #1 to 'pairs' (table expected, got no value)", function() return pairs() end)
else
  fails("bad argument #1 to 'pairs' (value expected)", function() return pairs() end)
  fails("bad argument #1 to 'ipairs' (value expected)", function() return ipairs() end)
  -- 5.5 adds a fourth value, the generic for's to-be-closed variable (nil).
  eq(select("#", pairs(1)), version == "5.5" and 4 or 3, "5.3+: pairs of a number returns next, 1, nil")
end
-- errors of the original keep the caller's position
fails("semantics1.lua:", function() for _ in pairs(plain) do end end)

-- a callback that is a C function: its result error has no position
local c_callback = ffi.cast("int (*)(int)", tostring)
local ok, err = pcall(c_callback, 1)
assert(not ok and tostring(err):find("^cannot convert 'string' to 'int'"), tostring(err))
c_callback:free()

print("semantics1.lua: ok")
