-- Hello from the ffi module. Run it with the runner, `cargo run --release -- examples/hello.lua`,
-- or with a stock interpreter and the built module (`cargo xtask modules` first):
--   LUA_CPATH='target/modules/lua5.4/?.so' lua5.4 examples/hello.lua
local ffi = require "ffi"

ffi.cdef [[
typedef struct point { double x, y; } point_t;
struct shape {
  int kind : 4;
  unsigned visible : 1;
  point_t corners[4];
  const char *name;
};
]]

print(("ffi on %s, %s/%s"):format(_VERSION, ffi.os, ffi.arch))
print(ffi.typeof("point_t *"), "sizeof", ffi.sizeof("struct shape"), "alignof", ffi.alignof("struct shape"))
print("offsetof(corners)", ffi.offsetof("struct shape", "corners"))
print("visible bitfield (offset, bit, width):", ffi.offsetof("struct shape", "visible"))

assert(ffi.sizeof("struct shape") == 80 and ffi.alignof("struct shape") == 8)
assert(ffi.offsetof("struct shape", "corners") == 8)
local offset, bit, width = ffi.offsetof("struct shape", "visible")
assert(offset == 0 and bit == 4 and width == 1)
