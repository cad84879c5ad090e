-- Integer extension as the callee sees it: tests/c/regprobe.c's regprobe_args is an
-- assembly function that saves the raw 64-bit argument registers (rdi ... r9) and its
-- first two stack slots, and regprobe_result returns rax exactly as a callback left it.
-- A C callee cannot check this (gcc re-extends narrow arguments from their low bits), so
-- only the raw registers show a caller that forgot to extend.
--
-- What is checked, for every narrow integer type, in every register and stack slot:
-- - the low 32 bits hold the value sign- or zero-extended to 32 bits: the convention
--   gcc's and clang's callers follow (clang's callees rely on it), which LuaJIT follows
--   too;
-- - all 64 bits hold the value extended to 64 bits: what jitffi's call plans promise
--   (crates/abi: "Sign-extend" / "Zero-extend" to the full register; `jitffi --plan`
--   prints them as s8/u16 pieces).
-- Callback results (rax as the callback returns it to C) are checked the same way.
local ffi = require "ffi"
local check = require "check"
local eq = check.eq

local dir = assert(os.getenv("JITFFI_TESTLIB_DIR"), "JITFFI_TESTLIB_DIR is not set")
local lib = ffi.load(dir .. "/libjitffi_regprobe.so")
ffi.cdef [[
void regprobe_poison(void);
uint64_t regprobe_reg(int);
uint64_t regprobe_result(void *);
void regprobe_gcc_narrow(int8_t, uint8_t, int16_t, uint16_t, bool, int32_t, int8_t, uint8_t);
enum rp_enum { RP_MINUS = -2, RP_ONE = 1 };
]]

local uint64_t, int64_t, uint32_t = ffi.typeof("uint64_t"), ffi.typeof("int64_t"), ffi.typeof("uint32_t")

-- A register as a string of 16 hex digits (the same under every Lua).
local function hex(v)
  v = uint64_t(v)
  local hi = tonumber(v / 4294967296)
  local lo = tonumber(ffi.cast(uint32_t, v))
  return string.format("%08x%08x", hi, lo)
end

-- The 64-bit and the 32-bit extension of the C value `c` (a Lua number).
local function extended64(c) return hex(ffi.cast(uint64_t, ffi.cast(int64_t, c))) end
local function extended32(c) return string.format("%08x", c % 4294967296) end

-- Plain char is signed on x86-64 and unsigned on arm64 (as gcc has it there).
local arm64 = ffi.arch == "arm64"
local char_values = arm64 and { { -1, 255 }, { 200, 200 }, { 65, 65 } }
  or { { -1, -1 }, { 200, -56 }, { 65, 65 } }

-- Each type, the prototype's name, and (Lua value passed, C value it converts to).
local cases = {
  { "int8_t", { { -1, -1 }, { -128, -128 }, { 127, 127 }, { 255, -1 }, { 128, -128 }, { 0, 0 },
                { ffi.new("int8_t", -5), -5 }, { ffi.new("int64_t", -3), -3 } } },
  { "uint8_t", { { 255, 255 }, { -1, 255 }, { 128, 128 }, { 0, 0 }, { ffi.new("uint8_t", 200), 200 } } },
  { "int16_t", { { -1, -1 }, { -32768, -32768 }, { 32767, 32767 }, { 65535, -1 }, { 40000, 40000 - 65536 },
                 { ffi.new("int16_t", -300), -300 } } },
  { "uint16_t", { { 65535, 65535 }, { -1, 65535 }, { 32768, 32768 }, { ffi.new("uint16_t", 40000), 40000 } } },
  { "bool", { { true, 1 }, { false, 0 }, { 1, 1 }, { 0, 0 } } },
  { "char", char_values },
  { "signed char", { { -100, -100 }, { 156, -100 } } },
  { "unsigned char", { { 200, 200 }, { -56, 200 } } },
  { "short", { { -2, -2 }, { 65534, -2 } } },
  { "unsigned short", { { 65534, 65534 }, { -2, 65534 } } },
  { "int32_t", { { -1, -1 }, { -2147483648, -2147483648 }, { 2147483647, 2147483647 },
                 { ffi.new("int32_t", -7), -7 } } },
  { "uint32_t", { { 4294967295, 4294967295 }, { 2147483648, 2147483648 }, { -1, 4294967295 } } },
  { "enum rp_enum", { { -2, -2 }, { "RP_MINUS", -2 }, { "RP_ONE", 1 } } },
}

local checked = 0
for n, case in ipairs(cases) do
  local ctype, values = case[1], case[2]
  local name = "rp_probe" .. n
  local params = {}
  for i = 1, 8 do params[i] = ctype end
  ffi.cdef(string.format('void %s(%s) __asm__("regprobe_args");', name, table.concat(params, ", ")))
  local probe = lib[name]
  -- Every value in every position: argument k gets values[(k - 1 + shift) % #values + 1].
  for shift = 0, 7 do
    local args, want = {}, {}
    for k = 1, 8 do
      local v = values[(k - 1 + shift) % #values + 1]
      args[k], want[k] = v[1], v[2]
    end
    lib.regprobe_poison()
    probe(args[1], args[2], args[3], args[4], args[5], args[6], args[7], args[8])
    for k = 1, 8 do
      local where = string.format("%s argument %d (%s) = %s", ctype, k,
        arm64 and "x" .. (k - 1)
          or k <= 6 and ({ "rdi", "rsi", "rdx", "rcx", "r8", "r9" })[k] or "stack slot " .. (k - 6),
        tostring(args[k]))
      local got = hex(lib.regprobe_reg(k - 1))
      eq(got:sub(9), extended32(want[k]), where .. ": low 32 bits (the C convention)")
      eq(got, extended64(want[k]), where .. ": 64 bits (jitffi's plan)")
      checked = checked + 1
    end
  end
end

-- gcc's own call of the probe: the low 32 bits agree with what jitffi passes.
lib.regprobe_poison()
lib.regprobe_gcc_narrow(-1, 255, -2, 65535, true, -3, -128, 200)
local by_gcc = {}
for k = 1, 8 do by_gcc[k] = hex(lib.regprobe_reg(k - 1)):sub(9) end
ffi.cdef [[void rp_mixed(int8_t, uint8_t, int16_t, uint16_t, bool, int32_t, int8_t, uint8_t) __asm__("regprobe_args");]]
lib.regprobe_poison()
lib.rp_mixed(-1, 255, -2, 65535, true, -3, -128, 200)
for k = 1, 8 do
  eq(hex(lib.regprobe_reg(k - 1)):sub(9), by_gcc[k], "mixed argument " .. k .. ": low 32 bits as gcc passes them")
end

-- Callback results: rax as the callback hands it back to C.
local results = {
  { "int8_t", -1, -1 }, { "int8_t", 200, -56 }, { "uint8_t", -1, 255 }, { "int16_t", -2, -2 },
  { "uint16_t", -2, 65534 }, { "bool", true, 1 }, { "int32_t", -1, -1 }, { "uint32_t", -1, 4294967295 },
  { "char", -3, arm64 and 253 or -3 }, { "enum rp_enum", "RP_MINUS", -2 },
}
for _, r in ipairs(results) do
  local ctype, value, want = r[1], r[2], r[3]
  local cb = ffi.cast(ctype .. " (*)(void)", function() return value end)
  local got = hex(lib.regprobe_result(cb))
  cb:free()
  local where = string.format("callback result %s = %s", ctype, tostring(value))
  eq(got:sub(9), extended32(want), where .. ": low 32 bits of rax")
  eq(got, extended64(want), where .. ": rax (jitffi extends to 64 bits)")
  checked = checked + 1
end

assert(checked > 500, "checked only " .. checked .. " registers")
print("arg_extension: " .. checked .. " registers checked")
