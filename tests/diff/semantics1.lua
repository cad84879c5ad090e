-- Differential test: semantics LuaJIT code relies on (issue 13, item 3): a metatype's
-- __pairs/__ipairs on cdata, Lua files passed as `FILE *`, other values refused where a
-- pointer is wanted, and the positions of errors raised while converting a callback's
-- result or by a C function used as a metamethod. Light userdata are in
-- semantics1_light.lua; what LuaJIT cannot be the oracle for (it crashes or passes an
-- address) is in tests/lua/semantics1.lua.
local ffi = require "ffi"

-- The first line of an error (jitffi adds a traceback to errors from callbacks).
local function first_line(err)
  return (tostring(err):match("^[^\n]*"))
end
local function try(f, ...)
  local ok, err = pcall(f, ...)
  if ok then
    print("ok", err)
  else
    print("error", first_line(err))
  end
end

ffi.cdef [[
struct sem_list { int n; int a[4]; };
struct sem_plain { int n; };
struct sem_meta { int x; };
typedef struct FILE FILE;
int fileno(FILE *);
int ferror(FILE *);
int strcmp(const char *, const char *);
size_t strlen(const char *);
void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *));
]]

-- pairs/ipairs: a metatype's __pairs/__ipairs, also through a pointer to the struct
print("-- pairs")
local list_t = ffi.metatype("struct sem_list", {
  __pairs = function(p)
    return function(_, i)
      i = i + 1
      if i <= p.n then return i, p.a[i - 1] end
    end, p, 0
  end,
  __ipairs = function(p)
    return function(_, i)
      if i < p.n then return i + 1, -p.a[i] end
    end, p, 0
  end,
})
local list = list_t(3, {10, 20, 30})
for k, v in pairs(list) do print("pairs", k, v) end
for k, v in ipairs(list) do print("ipairs", k, v) end
for k, v in pairs(ffi.new("struct sem_list *", list)) do print("pairs via pointer", k, v) end
-- every result of the method is returned
local many_t = ffi.metatype("struct { int x; }", { __pairs = function() return 1, 2, 3, 4, 5 end })
print(pairs(many_t()))
-- no method: LuaJIT's error, with the caller's position when called from Lua code
try(pairs, ffi.new("int[3]"))
try(ipairs, ffi.new("int[3]"))
try(pairs, ffi.new("struct sem_plain"))
try(pairs, ffi.new("struct sem_plain *"))
try(ipairs, ffi.new("struct sem_plain *"))
try(pairs, ffi.typeof("int"))
try(function() for _ in pairs(ffi.new("int[2]")) do end end)
try(function() for _ in ipairs(ffi.new("double")) do end end)
-- tables are iterated as before
local keys = {}
for k in pairs({a = 1, b = 2}) do keys[#keys + 1] = k end
table.sort(keys)
print(table.concat(keys, " "))
for i, v in ipairs({"x", "y", nil, "z"}) do print("table ipairs", i, v) end

-- Lua files where a FILE * is expected: the real FILE *
print("-- files")
print(ffi.C.fileno(io.stdout), ffi.C.fileno(io.stderr), ffi.C.fileno(io.stdin))
print(ffi.C.ferror(io.stdout))
print(ffi.cast("FILE *", io.stdout) ~= nil)
print(ffi.cast("intptr_t", io.stdout) == ffi.cast("intptr_t", ffi.cast("FILE *", io.stdout)))
local files = ffi.new("FILE *[1]")
files[0] = io.stderr
print(ffi.C.fileno(files[0]))
print(ffi.new("struct { FILE *f; }", {io.stdin}).f == ffi.cast("FILE *", io.stdin))
local tmp = io.tmpfile()
print(ffi.C.fileno(tmp) > 2)
tmp:close()
-- a file is no integer without a cast
try(function() local x = ffi.new("int[1]"); x[0] = io.stdout end)
-- other values are refused where a pointer is wanted
try(function() local p = ffi.new("void *[1]"); p[0] = {} end)
try(function() local p = ffi.new("void *[1]"); p[0] = true end)
try(function() local p = ffi.new("FILE *[1]"); p[0] = coroutine.create(function() end) end)
try(ffi.cast, "FILE *", {})

-- errors converting a callback's result carry the callback's position
print("-- callbacks")
local bad_result = ffi.cast("int (*)(int)", function(x)
  if x > 0 then
    return "text"
  end
  return {}
end)
try(function() return bad_result(1) end)
try(function() return bad_result(0) end)
local values = ffi.new("int[3]", 3, 1, 2)
try(function()
  ffi.C.qsort(values, 3, 4, function() return "x" end)
end)
bad_result:free()

-- errors raised by a C function used as a metamethod name the event and carry the
-- position of the code that ran it; as __call or from a C caller, '?' and none
print("-- C functions as metamethods")
local C = ffi.C
local meta_t = ffi.metatype("struct sem_meta", {
  __add = C.strcmp, __sub = C.strcmp, __concat = C.strcmp, __lt = C.strcmp,
  __le = C.strcmp, __eq = C.strcmp, __unm = C.strcmp, __len = C.strcmp,
  __call = C.strcmp, __tostring = C.strlen,
})
local v, w = meta_t(1), meta_t(2)
try(function() return v + 1 end)
try(function() return 1 + v end)
try(function() return v - w end)
try(function() return v .. "s" end)
try(function() return v < w end)
try(function() return v <= w end)
try(function() return v == w end)
try(function() return -v end)
try(function() return #v end)
try(function() return v("a") end)
try(function() return tostring(v) end)
