-- Benchmark: everyday cdata operations, each run with the ffi and, where the C module
-- `cbind` loads (stock lua5.4 with target/bench/cbind.so, see bench/native/cbind.c), with a
-- hand-written C userdata binding of the same shape: the floor on PUC Lua. The loops are
-- the same text for both; only the constructors differ. Where `cbind_tight` loads
-- (bench/native/cbind_tight.c, in stock lua5.4 and lua5.1), a second floor: the
-- tightest binding, whose `__index`/`__newindex` only compare the key and push or store
-- the field (impl `tight`), for the field, nested, array-of-struct, pointer and
-- reference workloads on `struct { int x; double y; }` and for the empty constructor.
--
-- Prints `RESULT <workload>/<impl> <seconds per operation>` and
-- `BYTES <object>/<impl> <bytes per object>`; `cargo xtask bench` runs it under stock
-- lua5.4 (ffi.so and cbind in the same process), jitffi, luajit -joff and luajit.
-- `lua5.4 bench/cdata.lua 0.01` runs a hundredth of the iterations (for callgrind);
-- a second argument runs only that `<workload>/<impl>` (`new/cbind`, `bytes_int/ffi`)
-- or, without a `/`, every label that contains it (`field`).
local ffi = require "ffi"

local SCALE = tonumber(arg and arg[1]) or 1
local ONLY = arg and arg[2]

local has_cbind, cbind = pcall(require, "cbind")
if not has_cbind then
  print("# cbind not loaded: " .. tostring(cbind):match("[^\n]*"))
end

local has_tight, tight = pcall(require, "cbind_tight")
if not has_tight then
  print("# cbind_tight not loaded: " .. tostring(tight):match("[^\n]*"))
end

ffi.cdef [[
struct bench_point { double x, y; int id; };
typedef struct { int x; double y; } tpoint_t;
struct tpoint { int x; double y; };
typedef struct { int id; tpoint_t inner; } touter_t;
]]
local point_t = ffi.typeof("struct bench_point")
local tpoint_t = ffi.typeof("tpoint_t")
local tpoint_tagged = ffi.typeof("struct tpoint")
local touter_t = ffi.typeof("touter_t")
local tpoint_array_t = ffi.typeof("tpoint_t[?]")
local tpoint_ptr_t = ffi.typeof("tpoint_t *")
local ARRAY_LENGTH = 1000000

-- What each implementation makes; the workloads below only call these.
local impls = {
  {
    name = "ffi",
    point = point_t,
    darray = function(n) return ffi.new("double[?]", n) end,
    u64 = function(n) return ffi.new("uint64_t", n) end,
    bytes = {
      int = function() return ffi.new("int") end,
      point = function() return point_t() end,
    },
    -- the struct { int x; double y; } shapes, typedef'd anonymous unless named tagged
    tpoint = function() return tpoint_t() end,
    tpoint_tagged = function() return tpoint_tagged() end,
    -- `new_empty` calls `tpoint_new(tpoint_ct)`: ffi.new(ct) itself, no Lua wrapper
    tpoint_new = ffi.new,
    tpoint_ct = tpoint_t,
    touter = function() return touter_t() end,
    tarray = function(n) return tpoint_array_t(n) end,
    tpointer = function(a) return ffi.cast(tpoint_ptr_t, a) end,
    tref = function(a, i) return a[i] end,
  },
}
if has_cbind then
  assert(cbind.point_size == ffi.sizeof(point_t), "cbind's struct point differs")
  impls[2] = {
    name = "cbind",
    point = cbind.point,
    darray = cbind.darray,
    u64 = cbind.u64,
    bytes = {
      int = function() return cbind.bare(ffi.sizeof("int")) end,
      point = function() return cbind.bare(ffi.sizeof(point_t)) end,
    },
  }
end
if has_tight then
  assert(tight.point_size == ffi.sizeof(tpoint_t), "cbind_tight's struct tpoint differs")
  assert(tight.outer_size == ffi.sizeof(touter_t), "cbind_tight's struct touter differs")
  impls[#impls + 1] = {
    name = "tight",
    tpoint = tight.point,
    tpoint_tagged = tight.point,
    tpoint_new = tight.point, -- ignores its argument
    touter = tight.outer,
    tarray = tight.array,
    tpointer = tight.pointer,
    tref = tight.ref,
  }
end

local function iterations(n) return math.max(1, math.floor(n * SCALE)) end

-- Each workload: how many operations, and a body that performs them and returns a
-- value to check. `impl` is one of `impls`.
-- A workload with `needs` runs only for the impls that have that maker.
local STRUCT_ARRAY_LENGTH = 1000
local workloads = {
  {
    name = "field", -- one member read and one member write
    needs = "point",
    count = iterations(3000000),
    run = function(impl, n)
      local p = impl.point(1, 2, 3)
      for _ = 1, n do
        p.x = p.x + 1
      end
      assert(p.x == n + 1)
    end,
  },
  {
    name = "array", -- one element read and one element write of a double[1e6]
    needs = "darray",
    count = iterations(3000000),
    run = function(impl, n)
      local a = impl.darray(ARRAY_LENGTH)
      local passes = math.ceil(n / ARRAY_LENGTH)
      local length = math.min(n, ARRAY_LENGTH)
      for _ = 1, passes do
        for i = 0, length - 1 do
          a[i] = a[i] + 1
        end
      end
      assert(a[0] == passes)
    end,
    count_of = function(n) return math.ceil(n / ARRAY_LENGTH) * math.min(n, ARRAY_LENGTH) end,
  },
  {
    name = "new", -- a small struct made with its three initializers (and collected)
    needs = "point",
    count = iterations(3000000),
    run = function(impl, n)
      local new = impl.point
      local p
      for i = 1, n do
        p = new(i, 2, 3)
      end
      assert(p.x == n)
    end,
  },
  {
    name = "new_string", -- the same, naming the type by its C text each time
    count = iterations(3000000),
    only = "ffi",
    run = function(_, n)
      local p
      for i = 1, n do
        p = ffi.new("struct bench_point", i, 2, 3)
      end
      assert(p.x == n)
    end,
  },
  {
    name = "new_array", -- `ffi.new(ct, i, 2, 3, 4)` of a double[4] (and collected)
    count = iterations(3000000),
    only = "ffi",
    run = function(_, n)
      local double4_t = ffi.typeof("double[4]")
      local a
      for i = 1, n do
        a = ffi.new(double4_t, i, 2, 3, 4)
      end
      assert(a[0] == n and a[3] == 4)
    end,
  },
  {
    name = "field_int", -- `p.x = p.x + 1`, an int field, on a typedef'd anonymous struct
    count = iterations(1000000),
    needs = "tpoint",
    run = function(impl, n)
      local p = impl.tpoint()
      for _ = 1, n do
        p.x = p.x + 1
      end
      assert(p.x == n)
    end,
  },
  {
    name = "field_double", -- `p.y = p.y + 1`, a double field, same struct
    count = iterations(1000000),
    needs = "tpoint",
    run = function(impl, n)
      local p = impl.tpoint()
      for _ = 1, n do
        p.y = p.y + 1
      end
      assert(p.y == n)
    end,
  },
  {
    name = "field_tagged", -- `p.x = p.x + 1` on `struct tpoint` (tight: the same C)
    count = iterations(1000000),
    needs = "tpoint_tagged",
    run = function(impl, n)
      local p = impl.tpoint_tagged()
      for _ = 1, n do
        p.x = p.x + 1
      end
      assert(p.x == n)
    end,
  },
  {
    name = "nested", -- `s.inner.x = s.inner.x + 1`: two member reads, one write
    count = iterations(1000000),
    needs = "touter",
    run = function(impl, n)
      local s = impl.touter()
      for _ = 1, n do
        s.inner.x = s.inner.x + 1
      end
      assert(s.inner.x == n)
    end,
  },
  {
    name = "aos", -- `a[i].x = a[i].x + 1` on a tpoint_t[1000]
    count = iterations(1000000),
    needs = "tarray",
    run = function(impl, n)
      local a = impl.tarray(STRUCT_ARRAY_LENGTH)
      local passes = math.ceil(n / STRUCT_ARRAY_LENGTH)
      local last = math.min(n, STRUCT_ARRAY_LENGTH) - 1
      for _ = 1, passes do
        for i = 0, last do
          a[i].x = a[i].x + 1
        end
      end
      assert(a[0].x == passes)
    end,
    count_of = function(n)
      return math.ceil(n / STRUCT_ARRAY_LENGTH) * math.min(n, STRUCT_ARRAY_LENGTH)
    end,
  },
  {
    name = "aos_ptr", -- `p[i].x = p[i].x + 1` through a tpoint_t * to the same array
    count = iterations(1000000),
    needs = "tpointer",
    run = function(impl, n)
      local a = impl.tarray(STRUCT_ARRAY_LENGTH)
      local p = impl.tpointer(a)
      local passes = math.ceil(n / STRUCT_ARRAY_LENGTH)
      local last = math.min(n, STRUCT_ARRAY_LENGTH) - 1
      for _ = 1, passes do
        for i = 0, last do
          p[i].x = p[i].x + 1
        end
      end
      assert(p[0].x == passes)
    end,
    count_of = function(n)
      return math.ceil(n / STRUCT_ARRAY_LENGTH) * math.min(n, STRUCT_ARRAY_LENGTH)
    end,
  },
  {
    name = "ref_field", -- `r.x = r.x + 1` on a held reference `local r = a[5]` (tpoint_t &)
    count = iterations(1000000),
    needs = "tref",
    run = function(impl, n)
      local a = impl.tarray(STRUCT_ARRAY_LENGTH)
      local r = impl.tref(a, 5)
      for _ = 1, n do
        r.x = r.x + 1
      end
      assert(a[5].x == n)
    end,
  },
  {
    name = "ptr_field", -- `q.x = q.x + 1` on a tpoint_t * (tight: the reference again)
    count = iterations(1000000),
    needs = "tpointer",
    run = function(impl, n)
      local a = impl.tarray(STRUCT_ARRAY_LENGTH)
      local q = impl.name == "tight" and impl.tref(a, 0) or impl.tpointer(a)
      for _ = 1, n do
        q.x = q.x + 1
      end
      assert(a[0].x == n)
    end,
  },
  {
    name = "new_empty", -- `ffi.new(ct)` with a cached ctype, no initializer (collected)
    count = iterations(1000000),
    needs = "tpoint_new",
    run = function(impl, n)
      local new, ct = impl.tpoint_new, impl.tpoint_ct
      local p
      for _ = 1, n do
        p = new(ct)
      end
      assert(p.x == 0)
    end,
  },
  {
    name = "new_empty_string", -- `ffi.new("tpoint_t")`, the type named by its C text
    count = iterations(1000000),
    only = "ffi",
    run = function(_, n)
      local p
      for _ = 1, n do
        p = ffi.new("tpoint_t")
      end
      assert(p.x == 0)
    end,
  },
  {
    name = "u64_add", -- `acc = acc + 1` on a uint64_t: one addition, one new object
    needs = "u64",
    count = iterations(3000000),
    run = function(impl, n)
      local acc = impl.u64(0)
      for _ = 1, n do
        acc = acc + 1
      end
      assert(tostring(acc) == ("%dULL"):format(n), tostring(acc))
    end,
  },
  -- The two accesses on which `ring` (workload_ring.lua) pays more than LuaJIT's
  -- interpreter. Last: once a metatype exists, `ffi.new` of a record takes its general
  -- path (it may have to attach a finalizer), which would slow the constructors above.
  {
    name = "method", -- `f = s.get`: a name the struct lacks, from its metatype's __index
    count = iterations(1000000),
    only = "ffi",
    run = function(_, n)
      ffi.cdef "struct bench_methods { int n; };"
      local methods = { get = function(self) return self.n end }
      local s = ffi.metatype("struct bench_methods", { __index = methods })()
      local f
      for _ = 1, n do
        f = s.get
      end
      assert(f == methods.get)
    end,
  },
  {
    name = "ptr_read", -- `q = h.data`: a pointer member, read as a new pointer cdata
    count = iterations(1000000),
    only = "ffi",
    run = function(_, n)
      local h = ffi.new("struct { int32_t *data; }")
      local storage = ffi.new("int32_t[1]")
      h.data = storage
      local q
      for _ = 1, n do
        q = h.data
      end
      assert(q == storage)
    end,
  },
}

local function selected(label)
  if not ONLY then return true end
  if ONLY:find("/", 1, true) then return label == ONLY end
  return label:find(ONLY, 1, true) ~= nil
end

for _, workload in ipairs(workloads) do
  for _, impl in ipairs(impls) do
    local label = workload.name .. "/" .. impl.name
    if selected(label) and (not workload.only or workload.only == impl.name)
      and (not workload.needs or impl[workload.needs])
    then
      local n = workload.count
      collectgarbage("collect")
      local start = os.clock()
      local ok, err = pcall(workload.run, impl, n)
      local elapsed = os.clock() - start
      if ok then
        local operations = workload.count_of and workload.count_of(n) or n
        print(("RESULT %s %.6e"):format(label, elapsed / operations))
        print(("# %s: %d operations"):format(label, operations))
      else
        print(("# %s not measured: %s"):format(label, tostring(err)))
      end
    end
  end
end

-- Bytes per live object, from the collector's count over many objects held in a table
-- whose array part is allocated before the first count.
-- LuaJIT's compiled code allocates cdata that the count does not show, so only the
-- interpreter is measured.
local OBJECTS = 100000
local jit_on = jit and jit.status()
if jit_on then
  print("# bytes not measured: collectgarbage('count') misses the JIT's allocations")
end
for _, object in ipairs { "int", "point" } do
  for _, impl in ipairs(impls) do
    if not jit_on and impl.bytes and selected("bytes_" .. object .. "/" .. impl.name) then
      local make = impl.bytes[object]
      local held = {}
      for i = 1, OBJECTS do held[i] = false end
      collectgarbage("collect")
      collectgarbage("collect")
      local before = collectgarbage("count")
      for i = 1, OBJECTS do held[i] = make() end
      collectgarbage("collect")
      collectgarbage("collect")
      local after = collectgarbage("count")
      print(("BYTES %s/%s %.1f"):format(object, impl.name, (after - before) * 1024 / OBJECTS))
      held = nil
    end
  end
end
