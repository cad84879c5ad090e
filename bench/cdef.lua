-- Benchmark: ffi.cdef over a large generated declaration set (structs, unions,
-- typedefs, enums, prototypes, function pointers, bitfields, arrays).
-- Runs unchanged under jitffi, stock lua5.x with ffi.so, and luajit.
-- Prints `RESULT cdef <seconds per round>`; `cargo xtask bench` runs it everywhere.
local ffi = require "ffi"

-- One round by default: LuaJIT holds at most 64K C types per state, and 1000 groups
-- (8000 declarations, about 20K types) is as large as stays well within that.
local ROUNDS = tonumber(arg and arg[1]) or 1
local PER_ROUND = 1000 -- declaration groups per round

local function declarations(prefix)
  local out = {}
  local n = 0
  local function add(s) n = n + 1; out[n] = s end
  for i = 1, PER_ROUND do
    local p = prefix .. i
    add(("enum %s_e { %s_A = %d, %s_B, %s_C = %s_A << 3, %s_D = sizeof(int) * 2 };")
      :format(p, p, i, p, p, p, p))
    add(("typedef struct %s_s { int a; double b; char name[16]; struct %s_s *next; " ..
      "unsigned flags : 3; unsigned mode : 5; enum %s_e kind; } %s_t;"):format(p, p, p, p))
    add(("typedef union %s_u { int64_t i; double d; void *p; uint8_t bytes[8]; } %s_u_t;")
      :format(p, p))
    add(("typedef int (*%s_cb)(%s_t *self, const char *msg, size_t len);"):format(p, p))
    add(("struct %s_outer { %s_t inner; %s_u_t u[4]; %s_cb callbacks[2]; " ..
      "struct { short x, y; } point; const volatile unsigned long long counter; };")
      :format(p, p, p, p))
    add(("int %s_open(const char *path, int flags, ...);"):format(p))
    add(("%s_t *%s_create(struct %s_outer *o, double scale, uint32_t count);"):format(p, p, p))
    add(("void %s_free(%s_t *obj);"):format(p, p))
  end
  return table.concat(out, "\n")
end

-- Build every source text first so that only ffi.cdef is timed.
local sources = {}
for r = 1, ROUNDS do sources[r] = declarations("b" .. r .. "_") end

local start = os.clock()
for r = 1, ROUNDS do ffi.cdef(sources[r]) end
local elapsed = os.clock() - start

-- A sanity check that the declarations took effect.
assert(ffi.sizeof("struct b1_1_s") >= 48)
print(("RESULT cdef %.6f"):format(elapsed / ROUNDS))
print(("# %d declarations per round, %d bytes"):format(PER_ROUND * 8, #sources[1]))
