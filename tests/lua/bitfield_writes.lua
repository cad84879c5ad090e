-- Bitfield writes against gcc: for each field of the structs in tests/c/bitfields.c
-- (plain, mixed widths, zero-width and unnamed fields, bool, packed, 1-bit runs, 64-bit
-- fields, aligned and packed members), a write through the ffi must leave the whole
-- byte image of the struct exactly as gcc's compiled `p->f = v` leaves it, starting
-- from several backgrounds (all zeros, all ones, pseudo-random bytes): every
-- neighbouring field, padding byte and bit is checked, not only the field written.
-- Reads are checked against gcc's `p->f` too, and the sizes against gcc's sizeof.
local ffi = require "ffi"
local check = require "check"
local eq = check.eq

local dir = assert(os.getenv("JITFFI_TESTLIB_DIR"), "JITFFI_TESTLIB_DIR is not set")
local lib = ffi.load(dir .. "/libjitffi_bitfields.so")
ffi.cdef [[ const char *bf_cdef; ]]
local decls = ffi.string(lib.bf_cdef)
ffi.cdef(decls)

-- The fields of each struct, in declaration order (unnamed ones have no accessor).
local structs = {
  bf_plain = { "a", "b", "c", "d", "e", "f" },
  bf_mixed = { "x", "y", "z", "w", "v", "u" },
  bf_zero = { "c", "a", "b", "u", "t", "s" },
  bf_packed = { "c", "a", "b", "d", "e" },
  bf_bytes = { "a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l" },
  bf_wide = { "a", "b", "c", "d", "e" },
  bf_aligned = { "c", "a", "b", "d", "e" },
}
local order = { "bf_plain", "bf_mixed", "bf_zero", "bf_packed", "bf_bytes", "bf_wide", "bf_aligned" }
for _, name in ipairs(order) do
  local protos = { string.format("size_t bf_sizeof_%s(void);", name) }
  for _, field in ipairs(structs[name]) do
    protos[#protos + 1] = string.format("void bf_set_%s_%s(struct %s *, long long);", name, field, name)
    protos[#protos + 1] = string.format("long long bf_get_%s_%s(const struct %s *);", name, field, name)
  end
  ffi.cdef(table.concat(protos, "\n"))
end

-- Fields of a 64-bit unsigned type: a negative Lua number (a double, on 5.1 and 5.2)
-- converts to them as LuaJIT converts a double to uint64_t (x86-64's cvttsd2si: -1
-- gives 2^63), not as C converts long long -1, so those values are written there as
-- int64_t cdata only.
local u64_fields = { ["bf_mixed.v"] = true, ["bf_packed.b"] = true, ["bf_bytes.k"] = true }
local integers = math.type ~= nil and math.type(1) == "integer"

local values = { 0, 1, -1, 2, 3, 5, -2, 0x55, -0x56, 0x1234, 123456789, -123456789, 2147483647, -2147483648 }

-- Backgrounds: zeros, ones, and bytes from a fixed linear congruential sequence.
local function background(kind, size)
  local bytes = {}
  local x = 12345 + kind
  for i = 1, size do
    if kind == 1 then
      bytes[i] = 0
    elseif kind == 2 then
      bytes[i] = 255
    else
      x = (x * 1103515245 + 12345) % 2147483648
      bytes[i] = math.floor(x / 65536) % 256
    end
  end
  return bytes
end

local function hex(p, size)
  local s = ffi.string(p, size)
  return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end))
end

local function fill(p, bytes)
  local b = ffi.cast("uint8_t *", p)
  for i = 1, #bytes do b[i - 1] = bytes[i] end
end

local checked = 0
for _, name in ipairs(order) do
  local size = ffi.sizeof("struct " .. name)
  eq(size, tonumber(lib["bf_sizeof_" .. name]()), "sizeof(struct " .. name .. ") as gcc's")
  local ours = ffi.new("struct " .. name)
  local gccs = ffi.new("struct " .. name)
  for _, field in ipairs(structs[name]) do
    local set = lib["bf_set_" .. name .. "_" .. field]
    local get = lib["bf_get_" .. name .. "_" .. field]
    for kind = 1, 4 do
      local bytes = background(kind, size)
      for n = 1, 2 * #values do
        -- Each value as a Lua number, then as an int64_t cdata.
        local v = values[(n - 1) % #values + 1]
        if n > #values or (v < 0 and u64_fields[name .. "." .. field] and not integers) then
          v = ffi.new("int64_t", v)
        end
        fill(ours, bytes)
        fill(gccs, bytes)
        ours[field] = v
        set(gccs, v)
        local want, got = hex(gccs, size), hex(ours, size)
        if got ~= want then
          error(string.format("struct %s: .%s = %s from background %s\n  gcc:    %s\n  jitffi: %s",
            name, field, tostring(v), hex(ffi.new("uint8_t[?]", size, bytes), size), want, got))
        end
        -- The read of what gcc wrote, as gcc reads it (values exact in a double).
        local read, c = ours[field], get(gccs)
        if type(read) == "boolean" then read = read and 1 or 0 end
        c = tonumber(c)
        if type(read) == "number" and math.abs(read) < 2 ^ 53 and math.abs(c) < 2 ^ 53 then
          eq(read, c, string.format("struct %s: .%s read after = %s", name, field, tostring(v)))
        end
        checked = checked + 1
      end
    end
  end
end
assert(checked > 5000, "checked only " .. checked .. " writes")
print("bitfield_writes: " .. checked .. " writes compared with gcc's")
