-- Benchmark: calls into C, each function called through the ffi as `ffi.C.name(...)`
-- (the namespace looked up at every call: workloads `C.<name>`) and through a cached
-- local (`local add = ffi.C.add`: workloads `<name>`), and, where the C module
-- `cbind_calls` loads (stock lua5.4, see bench/native/cbind_calls.c), through a
-- hand-written Lua C binding of the same functions calling the same library: the floor
-- on PUC Lua.
--
--   add      int add(int, int)
--   mixed6   double mixed6(int8_t, uint16_t, int64_t, float, double, const char *)
--   strlen   size_t strlen(const char *) of a Lua string (libc's)
--   vec2_add struct vec2 vec2_add(struct vec2, struct vec2), struct vec2 { double x, y; }
--
-- The callees are in target/bench/libcallee.so (bench/native/callee.c, built by
-- `cargo xtask bench`; $JITFFI_BENCH_CALLEE names another path), loaded with
-- `ffi.load(path, true)` so that `ffi.C.add` finds them.
--
-- Prints `RESULT <workload>/<impl> <seconds per call>`, and `NA <workload>/<impl>
-- <reason>` for an ffi workload that cannot run on this ffi (no calls into C yet, or
-- not this kind of call); `cargo xtask bench` runs it under stock lua5.4 (ffi.so and
-- cbind_calls in the same process), jitffi, luajit -joff and luajit.
-- `lua5.4 bench/calls.lua 0.01` runs a hundredth of the calls (for callgrind); a second
-- argument runs only that `<workload>/<impl>` (`add/ffi`) or, without a `/`, every
-- label that contains it (`strlen`).
local ffi = require "ffi"

local SCALE = tonumber(arg and arg[1]) or 1
local ONLY = arg and arg[2]

local script_dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local CALLEE = os.getenv("JITFFI_BENCH_CALLEE") or script_dir .. "/../target/bench/libcallee.so"

local has_cbind, cbind = pcall(require, "cbind_calls")
if not has_cbind then
  print("# cbind_calls not loaded: " .. tostring(cbind):match("[^\n]*"))
end

-- The declarations of bench/native/callee.h, and libc's strlen.
ffi.cdef [[
struct vec2 { double x, y; };
int add(int a, int b);
double mixed6(int8_t a, uint16_t b, int64_t c, float d, double e, const char *s);
struct vec2 vec2_add(struct vec2 a, struct vec2 b);
size_t strlen(const char *s);
]]
local vec2_t = ffi.typeof("struct vec2")

-- The library's namespace: held for the whole run, since collecting it unloads the
-- library (in LuaJIT too), and ffi.C's functions would point into nothing.
local callee_namespace
-- Why the ffi cannot call at all here, or nil.
local ffi_unavailable
do
  local ok, err = pcall(function()
    if type(ffi.load) ~= "function" then error("no ffi.load", 0) end
    callee_namespace = ffi.load(CALLEE, true)
  end)
  if not ok then
    ffi_unavailable = tostring(err):match("[^\n]*")
    print("# ffi calls not measured: " .. ffi_unavailable)
  end
end

local function iterations(n) return math.max(1, math.floor(n * SCALE)) end

local STRING = "hello, world" -- strlen's argument, 12 bytes
local MIXED6_RESULT_MINUS_I = -1 + 2 + 0.5 + 0.25 + ("x"):byte() -- mixed6(-1, 2, i, ...) - i

-- Each workload: a body per implementation, given the number of calls; it makes them
-- and checks the last result. Bodies of the same workload differ only in how they name
-- the function. The `C.` workloads write the lookup out in the loop, as code does.
local workloads = {
  {
    name = "add",
    ffi = function(n)
      local add = ffi.C.add
      local acc = 0
      for _ = 1, n do acc = add(acc, 1) end
      assert(acc == n)
    end,
    cbind = function(n)
      local add = cbind.add
      local acc = 0
      for _ = 1, n do acc = add(acc, 1) end
      assert(acc == n)
    end,
  },
  {
    name = "C.add",
    ffi = function(n)
      local acc = 0
      for _ = 1, n do acc = ffi.C.add(acc, 1) end
      assert(acc == n)
    end,
    cbind = function(n)
      local acc = 0
      for _ = 1, n do acc = cbind.add(acc, 1) end
      assert(acc == n)
    end,
  },
  {
    name = "mixed6",
    ffi = function(n)
      local mixed6, s = ffi.C.mixed6, "x"
      local r
      for i = 1, n do r = mixed6(-1, 2, i, 0.5, 0.25, s) end
      assert(r == n + MIXED6_RESULT_MINUS_I, r)
    end,
    cbind = function(n)
      local mixed6, s = cbind.mixed6, "x"
      local r
      for i = 1, n do r = mixed6(-1, 2, i, 0.5, 0.25, s) end
      assert(r == n + MIXED6_RESULT_MINUS_I, r)
    end,
  },
  {
    name = "C.mixed6",
    ffi = function(n)
      local s = "x"
      local r
      for i = 1, n do r = ffi.C.mixed6(-1, 2, i, 0.5, 0.25, s) end
      assert(r == n + MIXED6_RESULT_MINUS_I, r)
    end,
    cbind = function(n)
      local s = "x"
      local r
      for i = 1, n do r = cbind.mixed6(-1, 2, i, 0.5, 0.25, s) end
      assert(r == n + MIXED6_RESULT_MINUS_I, r)
    end,
  },
  {
    name = "strlen",
    ffi = function(n)
      local strlen, s = ffi.C.strlen, STRING
      local length
      for _ = 1, n do length = strlen(s) end
      assert(tonumber(length) == #STRING)
    end,
    cbind = function(n)
      local strlen, s = cbind.strlen, STRING
      local length
      for _ = 1, n do length = strlen(s) end
      assert(length == #STRING)
    end,
  },
  {
    name = "C.strlen",
    ffi = function(n)
      local s = STRING
      local length
      for _ = 1, n do length = ffi.C.strlen(s) end
      assert(tonumber(length) == #STRING)
    end,
    cbind = function(n)
      local s = STRING
      local length
      for _ = 1, n do length = cbind.strlen(s) end
      assert(length == #STRING)
    end,
  },
  {
    name = "vec2_add", -- two 16-byte structs in, one out (a new object per call)
    ffi = function(n)
      local vec2_add = ffi.C.vec2_add
      local a, b = vec2_t(1, 2), vec2_t(0.5, 0.25)
      local r
      for _ = 1, n do r = vec2_add(a, b) end
      assert(r.x == 1.5 and r.y == 2.25)
    end,
    cbind = function(n)
      local vec2_add = cbind.vec2_add
      local a, b = cbind.vec2(1, 2), cbind.vec2(0.5, 0.25)
      local r
      for _ = 1, n do r = vec2_add(a, b) end
      assert(r.x == 1.5 and r.y == 2.25)
    end,
  },
  {
    name = "C.vec2_add",
    ffi = function(n)
      local a, b = vec2_t(1, 2), vec2_t(0.5, 0.25)
      local r
      for _ = 1, n do r = ffi.C.vec2_add(a, b) end
      assert(r.x == 1.5 and r.y == 2.25)
    end,
    cbind = function(n)
      local a, b = cbind.vec2(1, 2), cbind.vec2(0.5, 0.25)
      local r
      for _ = 1, n do r = cbind.vec2_add(a, b) end
      assert(r.x == 1.5 and r.y == 2.25)
    end,
  },
}

local CALLS = iterations(3000000)

local function selected(label)
  if not ONLY then return true end
  if ONLY:find("/", 1, true) then return label == ONLY end
  return label:find(ONLY, 1, true) ~= nil
end

if has_cbind then
  assert(cbind.vec2_size == ffi.sizeof(vec2_t), "cbind_calls' struct vec2 differs")
end
for _, workload in ipairs(workloads) do
  for _, impl in ipairs { "ffi", "cbind" } do
    local label = workload.name .. "/" .. impl
    local available = impl == "ffi" or has_cbind
    if available and selected(label) then
      local run = workload[impl]
      -- One call first: an ffi that cannot make this kind of call yet is reported,
      -- not fatal; once this passes, any failure below is a bug and stops the script.
      local probe_ok, probe_err = true, nil
      if impl == "ffi" then
        if ffi_unavailable then
          probe_ok, probe_err = false, ffi_unavailable
        else
          probe_ok, probe_err = pcall(run, 1)
        end
      end
      if probe_ok then
        collectgarbage("collect")
        local start = os.clock()
        run(CALLS)
        local elapsed = os.clock() - start
        print(("RESULT %s %.6e"):format(label, elapsed / CALLS))
        print(("# %s: %d operations"):format(label, CALLS))
      else
        local reason = tostring(probe_err):match("[^\n]*")
        print(("NA %s %s"):format(label, reason))
      end
    end
  end
end
assert(callee_namespace or ffi_unavailable) -- the namespace lived to the end
