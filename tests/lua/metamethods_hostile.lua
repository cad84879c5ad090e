-- Every function reachable from the ffi's objects through the debug library (the
-- metatables of cdata, ctypes, cdata with finalizers, namespaces, the library and state
-- userdata behind them, callbacks and their methods, cbframe frames) called directly
-- with hostile arguments: nothing, numbers, strings, tables, foreign userdata, foreign
-- userdata given the cdata metatable, objects of the wrong kind. Each call must either
-- succeed or raise a Lua error with a message; no crash, no Rust panic ("internal
-- error"), no huge allocation.
local ffi = require "ffi"
local cbframe = require "cbframe"

ffi.cdef [[
typedef struct { int a; double b; } hostile_pair;
int abs(int);
]]

local cdata_meta = debug.getmetatable(ffi.new("int"))
assert(type(cdata_meta) == "table", "cdata metatable not reachable")
local finalized = ffi.gc(ffi.new("int[1]"), function() end)
local gc_meta = debug.getmetatable(finalized)
local namespace_meta = debug.getmetatable(ffi.C)
assert(type(namespace_meta) == "table", "namespace metatable not reachable")

-- Foreign userdata: file handles (16 bytes on 5.2+, 8 on 5.1), a zero-byte proxy where
-- the interpreter has newproxy, and copies of those wearing the cdata metatable.
local foreign = {}
local function open_null()
  return assert(io.open("/dev/null", "r"))
end
foreign[#foreign + 1] = open_null()
local disguised_file = open_null()
debug.setmetatable(disguised_file, cdata_meta)
foreign[#foreign + 1] = disguised_file
local disguised_gc_file = open_null()
debug.setmetatable(disguised_gc_file, gc_meta)
foreign[#foreign + 1] = disguised_gc_file
if newproxy then
  foreign[#foreign + 1] = newproxy(false)
  local proxy = newproxy(false)
  debug.setmetatable(proxy, cdata_meta)
  foreign[#foreign + 1] = proxy
end

-- The userdata behind the module: the state (upvalue 1 of every ffi function) and the
-- library of ffi.C (upvalue 2 of its __index). They are passed to other functions, but
-- never to their own __gc (which would legitimately close them). Lua 5.1's
-- debug.getupvalue does not read the upvalues of C functions: there they are out of
-- reach, and stand-ins take their places.
local upvalues_reachable = _VERSION ~= "Lua 5.1"
local state_box, library_box = open_null(), open_null()
if upvalues_reachable then
  state_box = select(2, debug.getupvalue(ffi.new, 1))
  assert(type(state_box) == "userdata", "state userdata not reachable")
  library_box = select(2, debug.getupvalue(namespace_meta.__index, 2))
  assert(type(library_box) == "userdata", "library userdata not reachable")
end

local callback = ffi.cast("int (*)(int)", function(x) return x end)
local frame = cbframe.new(function() end)

-- Values a hostile caller passes. Real cdata that are safe to index with any key and
-- store anything into (no arrays or pointers to memory: an index out of bounds is
-- undefined in LuaJIT too).
local values = {
  0, 1, -1, 1.5, 2^53, -2^63, 0/0, math.huge, "", "a", "__index", "abs", true, false,
  {}, { 1, 2 }, print, coroutine.create(function() end), state_box, library_box,
  ffi.typeof("int"), ffi.typeof("hostile_pair"), ffi.typeof("int[?]"),
  ffi.new("hostile_pair"), ffi.new("int64_t", 5), ffi.new("double", 2.5),
  ffi.new("void *"), ffi.new("int *"), ffi.new("int &"), ffi.C, callback,
}
for _, v in ipairs(foreign) do
  values[#values + 1] = v
end
-- A light userdata: the binding address a C function holds as upvalue 1.
if upvalues_reachable then
  local light = select(2, debug.getupvalue(ffi.C.abs, 1))
  assert(type(light) == "userdata", "no light userdata upvalue")
  values[#values + 1] = light
end
-- nil is passed explicitly as well as by omission.
local NIL = {}
values[#values + 1] = NIL

local functions = {}
local function add(where, f)
  if type(f) == "function" then
    functions[#functions + 1] = { where = where, f = f }
  end
end
local function add_table(where, t, skip)
  for k, v in pairs(t) do
    if k ~= skip then
      add(where .. "." .. tostring(k), v)
    end
  end
end
add_table("cdata metatable", cdata_meta)
add_table("cdata-with-finalizer metatable", gc_meta)
add_table("namespace metatable", namespace_meta)
if upvalues_reachable then
  add_table("library metatable", debug.getmetatable(library_box), "__gc")
  add_table("state metatable", debug.getmetatable(state_box), "__gc")
end
add("callback.free", callback.free)
add("callback.set", callback.set)
add_table("cbframe frame metatable", debug.getmetatable(frame) or {})
-- The functions the module keeps in the registry (luaL_ref'd, or under a "jitffi." key):
-- the protected bodies of callbacks, the cbframe loader.
local registered = 0
for k, v in pairs(debug.getregistry()) do
  if type(v) == "function" and (type(k) == "number" or tostring(k):find("^jitffi%.")) then
    add("registry[" .. tostring(k) .. "]", v)
    registered = registered + 1
  end
end
assert(registered >= 5, "the module's registry functions not found")
-- The __gc functions of the state and library, with anything but their own objects.
local own_gc = {}
if upvalues_reachable then
  own_gc = { { where = "state __gc", f = debug.getmetatable(state_box).__gc },
             { where = "library __gc", f = debug.getmetatable(library_box).__gc } }
  assert(type(own_gc[1].f) == "function" and type(own_gc[2].f) == "function")
end

local function arg(v)
  if v == NIL then
    return nil
  end
  return v
end

local calls, errors = 0, 0
local trace = os.getenv("HOSTILE_TRACE")
local function try(entry, ...)
  calls = calls + 1
  if trace then
    local shown = { entry.where }
    for i = 1, select("#", ...) do
      local v = select(i, ...)
      local ok, text = pcall(tostring, v)
      shown[#shown + 1] = ok and text or type(v)
    end
    io.stderr:write(table.concat(shown, " "), "\n")
  end
  local ok, err = pcall(entry.f, ...)
  if not ok then
    errors = errors + 1
    local text = tostring(err)
    if text:find("internal error", 1, true) or text:find("panicked", 1, true) then
      error(entry.where .. ": a Rust panic: " .. text)
    end
    if type(err) ~= "string" or #text == 0 then
      error(entry.where .. ": an error without a message: " .. text)
    end
  end
end

for _, entry in ipairs(functions) do
  try(entry)
  for _, a in ipairs(values) do
    try(entry, arg(a))
    for _, b in ipairs(values) do
      try(entry, arg(a), arg(b))
      try(entry, arg(a), arg(b), arg(b))
    end
  end
end
for _, entry in ipairs(own_gc) do
  try(entry)
  for _, a in ipairs(values) do
    if not rawequal(a, state_box) and not rawequal(a, library_box) then
      try(entry, arg(a))
    end
  end
end

-- A foreign userdata in place of the state (debug.setupvalue) is refused by name, and
-- the real one put back still works.
if upvalues_reachable then
  local new = ffi.new
  debug.setupvalue(new, 1, foreign[1])
  local ok, err = pcall(new, "int")
  assert(not ok and tostring(err):find("without its ffi state", 1, true), tostring(err))
  debug.setupvalue(new, 1, state_box)
  assert(tonumber(new("int", 3)) == 3)
  -- The same for the fast path of p[i], whose closure reads its upvalue directly.
  local index = cdata_meta.__index
  local array = ffi.new("int[4]", 1, 2, 3, 4)
  assert(array[2] == 3 and array[2] == 3)
  debug.setupvalue(index, 1, foreign[1])
  ok, err = pcall(index, array, 2)
  assert(not ok and tostring(err):find("without its ffi state", 1, true), tostring(err))
  debug.setupvalue(index, 1, state_box)
  assert(array[2] == 3)
  -- Every function that reads its state refuses a replaced one, whatever it is (read
  -- straight from the closure where direct reads are on): ffi.errno, and a field read.
  local point = ffi.new("struct { int x; }", 5)
  for _, impostor in ipairs({ foreign[1], 42, "state", ffi.new("char[64]") }) do
    debug.setupvalue(ffi.errno, 1, impostor)
    ok, err = pcall(ffi.errno)
    assert(not ok and tostring(err):find("without its ffi state", 1, true), tostring(err))
    debug.setupvalue(ffi.errno, 1, state_box)
    debug.setupvalue(index, 1, impostor)
    ok, err = pcall(index, point, "x")
    assert(not ok and tostring(err):find("without its ffi state", 1, true), tostring(err))
    debug.setupvalue(index, 1, state_box)
  end
  assert(point.x == 5 and type(ffi.errno()) == "number")
  -- A C function's binding (upvalue 2) replaced by a foreign userdata wearing the
  -- bindings' metatable: a variadic call refuses it, a conversion to a pointer sees no
  -- C function.
  ffi.cdef "int snprintf(char *, size_t, const char *, ...);"
  local snprintf = ffi.C.snprintf
  local binding = select(2, debug.getupvalue(snprintf, 2))
  local disguised_binding = open_null()
  debug.setmetatable(disguised_binding, debug.getmetatable(binding))
  debug.setupvalue(snprintf, 2, disguised_binding)
  ok, err = pcall(snprintf, nil, 0, "x")
  assert(not ok and tostring(err):find("without its binding", 1, true), tostring(err))
  ok, err = pcall(ffi.cast, "void *", snprintf)
  assert(not ok and tostring(err):find("cannot convert", 1, true), tostring(err))
  debug.setupvalue(snprintf, 2, binding)
  assert(snprintf(nil, 0, "%d", ffi.new("int", 12345)) == 5)
end

-- Named errors for the plainest misuse.
local ok, err = pcall(cdata_meta.__index)
assert(not ok and tostring(err):find("bad argument #1 to '__index' (cdata expected, got no value)", 1, true), tostring(err))
ok, err = pcall(cdata_meta.__tostring, disguised_file)
assert(not ok and tostring(err):find("cdata expected, got userdata", 1, true), tostring(err))
ok, err = pcall(cdata_meta.__newindex, 42, 1, 2)
assert(not ok and tostring(err):find("cdata expected, got number", 1, true), tostring(err))
ok, err = pcall(cdata_meta.__call, {})
assert(not ok and tostring(err):find("cdata expected, got table", 1, true), tostring(err))

-- Everything still works.
assert(ffi.C.abs(-3) == 3)
-- (The battery freed `callback`, with its own method.)
local fresh = ffi.cast("int (*)(int)", function(x) return x + 1 end)
assert(fresh(7) == 8)
assert(tostring(ffi.typeof("int")) == "ctype<int>")
print(("metamethods_hostile: %d functions, %d calls, %d errors"):format(#functions, calls, errors))
