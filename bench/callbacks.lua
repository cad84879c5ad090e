-- Benchmark: callbacks, Lua functions that C calls through a C function pointer, made
-- with the ffi (`ffi.cast("int (*)(int, int)", f)`) and, where the C module
-- `cbind_callbacks` loads (stock lua5.4 and lua5.1, see bench/native/cbind_callbacks.c), by
-- hand-written C that calls the Lua function through the Lua C API: the floor on PUC Lua.
--
--   qsort          libc's qsort of 200,000 ints with a Lua comparator; per comparator call
--                  (cbind: the ints as Lua integers, the floor; cbind_ptr: the
--                  ffi's comparator given C-made `const int *` userdata, the floor of
--                  handing Lua the pointers)
--   callback_call  callee.c's call_repeatedly(f, n): a C loop calling an `int (*)(int,
--                  int)` n times, f a Lua `a + b`; per call. The bare C -> Lua -> C round
--                  trip, without qsort's pointers and its own work
--   callback_new   `local cb = ffi.cast(T, f); cb:free()` with T a cached ctype; per
--                  pair. cbind: `cbind_callbacks.new(f)` and `handle:free()`, a userdata
--                  holding a registry reference to f, which is how C keeps a Lua function
--                  (no machine code: a reference point, not a floor)
--
-- qsort in detail:
-- * The data: the Park-Miller generator x' = 16807 x mod (2^31 - 1) from 42, exact in
--   doubles and integers, so Lua 5.1-5.4, LuaJIT and cbind's C make the same 200,000
--   ints (each side checks the sum); they lie in [1, 2^31 - 2], so `a - b` never
--   overflows the int result. glibc's qsort makes the same comparator calls on the same
--   data and answers, whoever answers (3,272,575 per sort with glibc 2.36).
-- * The ints live outside the Lua heap (malloc, as in cbind): two 800 KB cdata would
--   count in the collector's pace and make it run several times less often per
--   comparator call than in a heap of ordinary objects (luajit -joff: 1615 instead of
--   1993 instructions per call), and the 2,000-int sorts that callgrind counts (see
--   below) would not cost per call what the full ones do.
-- * The comparator is declared with the element type, qsort's prototype given to
--   ffi.cdef with `int (*)(const int *, const int *)`: that is how LuaJIT code declares
--   it (the ffi takes any prototype the C side is compatible with), and the arguments
--   then arrive as `const int *` cdata that `a[0]` reads. The `const void *` prototype
--   of the C header would need `ffi.cast(int_ptr, a)[0]` in the comparator, two more
--   conversions and cdata per call, measuring ffi.cast rather than the callback.
-- * The floor: cbind's C comparator pushes the Lua function and the two ints as Lua
--   integers, lua_call, and reads the result with lua_tointegerx (checked, as the ffi
--   checks a callback's result); its Lua function is `a - b`. Both Lua functions do the
--   same comparison, one subtraction; what the ffi does on top, two `const int *`
--   cdata per call and the two reads through them, is its price for handing Lua the C
--   arguments as they are, and part of what is measured.
-- * Timed: the qsort call alone. The copy of the data in before and the check after
--   (ascending, same sum) are outside; the comparator calls are counted by cbind in C
--   and, for the ffi, in a calibration sort before the timed ones (a counting
--   comparator on the same data). Each sort starts from a collected heap.
--
-- Prints `RESULT <workload>/<impl> <seconds per operation>` (per comparator call, per
-- call, per pair), `# <workload>/<impl>: <n> operations`, and `NA <workload>/<impl>
-- <reason>` for an ffi that cannot make callbacks (yet); `cargo xtask bench` runs it
-- under stock lua5.4 (ffi.so and cbind_callbacks in the same process), jitffi, luajit
-- -joff and luajit. `lua5.4 bench/callbacks.lua 0.01` does a hundredth of the work; a
-- second argument runs only that `<workload>/<impl>` (`qsort/ffi`) or, without a `/`,
-- every label that contains it (`callback`). Below one whole sort (SCALE < 0.5) qsort
-- sorts 2,000 ints instead, SCALE * 200 times: a comparator call costs the same, and
-- callgrind at scale 0.02 then compares 4 sorts with 2 of the same length. For that,
-- the script names the function to count inside (`# qsort/ffi: count inside qsort`),
-- and bench/callgrind.sh counts only there, leaving out the copies and checks.
local ffi = require "ffi"

local SCALE = tonumber(arg and arg[1]) or 1
local ONLY = arg and arg[2]
local unpack = table.unpack or unpack

local script_dir = (arg and arg[0] or ""):match("^(.*)/[^/]*$") or "."
local CALLEE = os.getenv("JITFFI_BENCH_CALLEE") or script_dir .. "/../target/bench/libcallee.so"

local has_cbind, cbind = pcall(require, "cbind_callbacks")
if not has_cbind then
  print("# cbind_callbacks not loaded: " .. tostring(cbind):match("[^\n]*"))
end

ffi.cdef [[
void qsort(void *base, size_t nmemb, size_t size, int (*compare)(const int *, const int *));
void *malloc(size_t size);
void free(void *p);
int call_repeatedly(int (*f)(int, int), int n);
]]

-- The library's namespace (call_repeatedly), held for the whole run: collecting it
-- would unload the library.
local callee_namespace
-- Why callback_call/ffi cannot run here, or nil.
local callee_unavailable
do
  local ok, err = pcall(function()
    if type(ffi.load) ~= "function" then error("no ffi.load", 0) end
    callee_namespace = ffi.load(CALLEE, true)
  end)
  if not ok then
    callee_unavailable = tostring(err):match("[^\n]*")
    print("# call_repeatedly not loaded: " .. callee_unavailable)
  end
end

local function iterations(n) return math.max(1, math.floor(n * SCALE)) end

local SORT_LENGTH, SORTS = 200000, 2 -- per run at SCALE 1
local SMALL_SORT_LENGTH = 2000 -- below one whole sort
local SEED = 42
local INT_SIZE = ffi.sizeof("int")

-- How many sorts of how many ints SCALE asks for.
local function sort_plan()
  local ints = SCALE * SORTS * SORT_LENGTH
  if ints >= SORT_LENGTH then return math.floor(ints / SORT_LENGTH), SORT_LENGTH end
  return math.max(1, math.floor(ints / SMALL_SORT_LENGTH)), SMALL_SORT_LENGTH
end

-- The generator (see the header), its next number.
local function lcg_next(x) return x * 16807 % 2147483647 end

-- The sum of the first `length` numbers from SEED: what a sorted array adds up to.
local function lcg_sum(length)
  local x, sum = SEED, 0
  for _ = 1, length do
    x = lcg_next(x)
    sum = sum + x
  end
  return sum
end

local int_ptr = ffi.typeof("int *")
local compare_ptr = ffi.typeof("int (*)(const int *, const int *)")
local int2_ptr = ffi.typeof("int (*)(int, int)")

-- Fails unless ints[0 .. length-1] ascend and add up to `sum`.
local function check_sorted(ints, length, sum)
  local previous, total = ints[0], 0
  for i = 0, length - 1 do
    local value = ints[i]
    if value < previous then error(("not sorted at %d"):format(i)) end
    total = total + value
    previous = value
  end
  assert(total == sum, "qsort lost or changed elements")
end

-- Each body is given its sizes and returns the seconds it timed, the operations in
-- them and, optionally, a note for the output.
local function qsort_ffi(sorts, length)
  local C = ffi.C
  local sum = lcg_sum(length)
  local bytes = length * INT_SIZE
  local source = ffi.cast(int_ptr, C.malloc(bytes))
  local ints = ffi.cast(int_ptr, C.malloc(bytes))
  local x = SEED
  for i = 0, length - 1 do
    x = lcg_next(x)
    source[i] = x
  end

  local calls = 0
  local counting = ffi.cast(compare_ptr, function(a, b)
    calls = calls + 1
    return a[0] - b[0]
  end)
  ffi.copy(ints, source, bytes)
  C.qsort(ints, length, INT_SIZE, counting)
  counting:free()
  check_sorted(ints, length, sum)

  local compare = ffi.cast(compare_ptr, function(a, b) return a[0] - b[0] end)
  local elapsed = 0
  for _ = 1, sorts do
    ffi.copy(ints, source, bytes)
    collectgarbage("collect")
    local start = os.clock()
    C.qsort(ints, length, INT_SIZE, compare)
    elapsed = elapsed + (os.clock() - start)
    check_sorted(ints, length, sum)
  end
  compare:free()
  C.free(source)
  C.free(ints)
  return elapsed, sorts * calls,
    ("%d sort(s) of %d ints, %d comparator calls each"):format(sorts, length, calls)
end

-- cbind's sorts: `sort` (of cbind_callbacks) with `compare` on the same data.
local function qsort_through_cbind(sort, compare, sorts, length)
  local sum = lcg_sum(length)
  local ints = cbind.ints(length)
  local elapsed, calls = 0, 0
  for _ = 1, sorts do
    assert(cbind.fill(ints, SEED) == sum, "cbind_callbacks made other data")
    collectgarbage("collect")
    local start = os.clock()
    calls = calls + sort(ints, compare)
    elapsed = elapsed + (os.clock() - start)
    assert(cbind.sorted_sum(ints) == sum, "not sorted, or elements lost")
  end
  return elapsed, calls,
    ("%d sort(s) of %d ints, %d comparator calls each"):format(sorts, length, calls / sorts)
end

-- The floor: the ints as Lua integers.
local function qsort_cbind(sorts, length)
  return qsort_through_cbind(cbind.sort, function(a, b) return a - b end, sorts, length)
end

-- The same sort with the ffi's comparator: C hands it the two `const int *` as userdata
-- whose C __index reads a[0] (see cbind_callbacks.c).
local function qsort_cbind_pointers(sorts, length)
  return qsort_through_cbind(cbind.sort_pointers, function(a, b) return a[0] - b[0] end,
    sorts, length)
end

local function callback_call_ffi(n)
  if callee_unavailable then error(callee_unavailable, 0) end
  local add = ffi.cast(int2_ptr, function(a, b) return a + b end)
  local call_repeatedly = ffi.C.call_repeatedly
  local start = os.clock()
  local result = call_repeatedly(add, n)
  local elapsed = os.clock() - start
  add:free()
  assert(result == n)
  return elapsed, n
end

local function callback_call_cbind(n)
  local add = function(a, b) return a + b end
  local start = os.clock()
  local result = cbind.call_repeatedly(add, n)
  local elapsed = os.clock() - start
  assert(result == n)
  return elapsed, n
end

local function callback_new_ffi(n)
  local add = function(a, b) return a + b end
  local probe = ffi.cast(int2_ptr, add)
  assert(probe(2, 3) == 5) -- a working callback, called through its pointer
  probe:free()
  local start = os.clock()
  for _ = 1, n do
    local cb = ffi.cast(int2_ptr, add)
    cb:free()
  end
  return os.clock() - start, n
end

local function callback_new_cbind(n)
  local add = function(a, b) return a + b end
  local new = cbind.new
  local start = os.clock()
  for _ = 1, n do
    local handle = new(add)
    handle:free()
  end
  return os.clock() - start, n
end

-- Each workload: its bodies, their arguments for the measurement and for the probe
-- (the smallest run, which tells whether this ffi can run it at all), and the function
-- callgrind should count inside, if not the whole run.
local workloads = {
  {
    name = "qsort",
    ffi = qsort_ffi,
    cbind = qsort_cbind,
    cbind_ptr = qsort_cbind_pointers,
    args = { sort_plan() },
    probe = { 1, 16 },
    count_inside = "qsort",
  },
  {
    name = "callback_call",
    ffi = callback_call_ffi,
    cbind = callback_call_cbind,
    args = { iterations(3000000) },
    probe = { 1 },
  },
  {
    name = "callback_new",
    ffi = callback_new_ffi,
    cbind = callback_new_cbind,
    args = { iterations(1000000) },
    probe = { 1 },
  },
}

local function selected(label)
  if not ONLY then return true end
  if ONLY:find("/", 1, true) then return label == ONLY end
  return label:find(ONLY, 1, true) ~= nil
end

for _, workload in ipairs(workloads) do
  for _, impl in ipairs { "ffi", "cbind", "cbind_ptr" } do
    local label = workload.name .. "/" .. impl
    local available = workload[impl] and (impl == "ffi" or has_cbind)
    if available and selected(label) then
      local run = workload[impl]
      -- The smallest run first: an ffi that cannot make callbacks (or this kind) is
      -- reported, not fatal; once this passes, any failure below is a bug and stops
      -- the script.
      local probe_ok, probe_err = true, nil
      if impl == "ffi" then probe_ok, probe_err = pcall(run, unpack(workload.probe)) end
      if probe_ok then
        collectgarbage("collect")
        local elapsed, operations, note = run(unpack(workload.args))
        print(("RESULT %s %.6e"):format(label, elapsed / operations))
        print(("# %s: %d operations"):format(label, operations))
        if note then print(("# %s: %s"):format(label, note)) end
        if workload.count_inside then
          print(("# %s: count inside %s"):format(label, workload.count_inside))
        end
      else
        -- The first line, without the `file:line: ` of the cast or call that failed.
        local reason = tostring(probe_err):match("[^\n]*"):gsub("^[^:]*:%d+: ", "")
        print(("NA %s %s"):format(label, reason))
      end
    end
  end
end
assert(callee_namespace or callee_unavailable) -- the namespace lived to the end
