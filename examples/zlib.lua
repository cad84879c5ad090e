-- zlib: compress a string and uncompress it again (libz.so.1, Debian's zlib1g).
--   jitffi examples/zlib.lua
--   LUA_CPATH='target/modules/lua5.4/?.so' lua5.4 examples/zlib.lua
local ffi = require "ffi"

ffi.cdef [[
unsigned long compressBound(unsigned long sourceLen);
int compress2(uint8_t *dest, unsigned long *destLen,
              const uint8_t *source, unsigned long sourceLen, int level);
int uncompress(uint8_t *dest, unsigned long *destLen,
               const uint8_t *source, unsigned long sourceLen);
const char *zlibVersion(void);
]]

-- ffi.load("z") needs libz.so, which only the -dev package installs; the runtime
-- library is libz.so.1.
local ok, zlib = pcall(ffi.load, "z")
if not ok then zlib = ffi.load("libz.so.1") end

local Z_OK = 0

local function compress(text)
  local room = ffi.new("unsigned long[1]", zlib.compressBound(#text))
  local buf = ffi.new("uint8_t[?]", room[0])
  local status = zlib.compress2(buf, room, text, #text, 9)
  assert(status == Z_OK, "compress2 failed: " .. status)
  return ffi.string(buf, room[0])
end

local function uncompress(data, size)
  local room = ffi.new("unsigned long[1]", size)
  local buf = ffi.new("uint8_t[?]", size)
  local status = zlib.uncompress(buf, room, data, #data)
  assert(status == Z_OK, "uncompress failed: " .. status)
  return ffi.string(buf, room[0])
end

local text = string.rep("jitffi calls zlib through the ffi. ", 100)
local packed = compress(text)
local unpacked = uncompress(packed, #text)

print(("zlib %s: %d bytes -> %d bytes -> %d bytes"):format(
  ffi.string(zlib.zlibVersion()), #text, #packed, #unpacked))
assert(#packed < #text / 10, "repetitive text compresses well")
assert(unpacked == text, "round trip gives the original text")
