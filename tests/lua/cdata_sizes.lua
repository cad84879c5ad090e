-- The largest C object is LuaJIT's, 2^31 - 1 bytes: above it ffi.new (fixed sizes, VLA
-- and VLS counts) and ffi.typeof raise "size of C type is unknown or too large". And
-- ffi.new honours every power-of-two alignment up to LuaJIT's largest, 32768.
local ffi = require "ffi"
local check = require "check"

local TOO_LARGE = "size of C type is unknown or too large"

-- Counts of variable-length arrays and structs.
check.fails(TOO_LARGE, ffi.new, "char[?]", 2^31)
check.fails(TOO_LARGE, ffi.new, "int[?]", 2^29)
check.fails(TOO_LARGE, ffi.new, "double[?]", 2^60)
check.fails(TOO_LARGE, ffi.new, "int[?]", -1)
check.fails(TOO_LARGE, ffi.typeof("char[?]"), 2^31)
ffi.cdef "struct sz_vls { int n; char data[?]; };"
check.fails(TOO_LARGE, ffi.new, "struct sz_vls", 2^31)
check.fails(TOO_LARGE, ffi.new, "struct sz_vls", 2^31 - 4)
assert(ffi.sizeof(ffi.new("struct sz_vls", 10)) >= 14)
-- A count given as a 64-bit cdata.
check.fails(TOO_LARGE, ffi.new, "char[?]", ffi.new("int64_t", 2^31))

-- Fixed sizes: the bound itself is a valid type (not allocated here: 2 GiB).
assert(ffi.sizeof(ffi.typeof("char[2147483647]")) == 2^31 - 1)
check.fails(TOO_LARGE, ffi.typeof, "char[2147483648]")
check.fails(TOO_LARGE, ffi.typeof, "int[1073741824]")
check.fails(TOO_LARGE, ffi.typeof, "struct { char a[2147483647]; char b; }")
-- A declared type above the bound: refused by ffi.cdef, or else by ffi.new.
local declared = pcall(ffi.cdef, "typedef char sz_huge[2147483648];")
if declared then
  check.fails(TOO_LARGE, ffi.new, "sz_huge")
else
  check.fails(TOO_LARGE, ffi.cdef, "typedef char sz_huge2[2147483648];")
end

-- Alignment: every object of an over-aligned type starts at a multiple of its
-- alignment, fixed-size or variable-length, and keeps its whole size.
local keep = {}
for _, align in ipairs({ 16, 32, 64, 128, 256, 1024, 4096, 32768 }) do
  local name = "sz_aligned" .. align
  ffi.cdef(("typedef struct { char c; } __attribute__((aligned(%d))) %s;"):format(align, name))
  assert(ffi.alignof(name) == align, name)
  local count = align >= 4096 and 8 or 64
  for i = 1, count do
    local fixed = ffi.new(name)
    local array = ffi.new(name .. "[?]", 3)
    local number = ffi.new("double[1]")
    keep[#keep + 1] = { fixed, array, number }
    for _, object in ipairs({ fixed, array }) do
      local address = tonumber(ffi.cast("uintptr_t", ffi.cast("void *", object)))
      if address % align ~= 0 then
        error(("%s #%d at 0x%x is not aligned to %d"):format(name, i, address, align))
      end
    end
    assert(ffi.sizeof(fixed) == align and ffi.sizeof(array) == 3 * align, name)
    -- The whole value is usable: its last byte and its neighbours stay apart.
    ffi.cast("char *", array)[3 * align - 1] = 7
    assert(ffi.cast("char *", array)[3 * align - 1] == 7)
  end
end
-- An alignment above LuaJIT's largest: refused by ffi.cdef, or else by ffi.new.
local huge_align = pcall(ffi.cdef, "typedef struct { char c; } __attribute__((aligned(65536))) sz_over;")
if huge_align and ffi.alignof("sz_over") > 32768 then
  check.fails(TOO_LARGE, ffi.new, "sz_over")
end
print("cdata_sizes: ok")
