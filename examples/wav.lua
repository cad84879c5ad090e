-- Reading a binary file format into a struct: a WAV file (RIFF header, "fmt " and
-- "data" chunks, 16-bit samples) is written byte by byte with plain Lua, then read
-- back through the ffi: the header as a struct laid out as C lays it out, the samples
-- as an int16_t array, with no unpacking code.
--   jitffi examples/wav.lua
--   LUA_CPATH='target/modules/lua5.4/?.so' lua5.4 examples/wav.lua
local ffi = require "ffi"

ffi.cdef [[
#pragma pack(push, 1)
struct wav_header {
  char     riff[4];          /* "RIFF" */
  uint32_t riff_size;        /* file size - 8 */
  char     wave[4];          /* "WAVE" */
  char     fmt[4];           /* "fmt " */
  uint32_t fmt_size;         /* 16 for PCM */
  uint16_t format;           /* 1: PCM */
  uint16_t channels;
  uint32_t sample_rate;
  uint32_t byte_rate;        /* sample_rate * block_align */
  uint16_t block_align;      /* channels * bits / 8 */
  uint16_t bits_per_sample;
  char     data[4];          /* "data" */
  uint32_t data_size;        /* bytes of samples that follow */
};
#pragma pack(pop)
]]
assert(ffi.sizeof("struct wav_header") == 44, "the canonical 44-byte header")
assert(ffi.offsetof("struct wav_header", "sample_rate") == 24)

-- Writing: little-endian bytes by hand, so that the reader below is checked against
-- an independent encoder (this file runs on Lua 5.1 too, which has no string.pack).
local function le(n, bytes)
  local out = {}
  for i = 1, bytes do
    out[i] = string.char(n % 256)
    n = math.floor(n / 256)
  end
  return table.concat(out)
end

local rate, count = 8000, 400
local samples = {}
for i = 1, count do   -- a 440 Hz tone, as signed 16-bit values
  samples[i] = math.floor(12000 * math.sin(2 * math.pi * 440 * (i - 1) / rate) + 0.5)
end
local pcm = {}
for i = 1, count do pcm[i] = le(samples[i] % 65536, 2) end   -- two's complement
pcm = table.concat(pcm)

local path = os.tmpname()
local f = assert(io.open(path, "wb"))
f:write("RIFF", le(36 + #pcm, 4), "WAVE",
        "fmt ", le(16, 4), le(1, 2), le(1, 2), le(rate, 4), le(rate * 2, 4), le(2, 2), le(16, 2),
        "data", le(#pcm, 4), pcm)
f:close()

-- Reading: the file's bytes are a Lua string; a pointer cast gives the struct view.
f = assert(io.open(path, "rb"))
local bytes = f:read("*a")
f:close()
os.remove(path)
assert(#bytes >= ffi.sizeof("struct wav_header"), "file too short")

-- Copy the header out of the string into a struct of our own (a cast pointer into a
-- Lua string is valid only while the string is alive and must not be written).
local hdr = ffi.new("struct wav_header")
ffi.copy(hdr, bytes, ffi.sizeof(hdr))
assert(ffi.string(hdr.riff, 4) == "RIFF" and ffi.string(hdr.wave, 4) == "WAVE")
assert(ffi.string(hdr.fmt, 4) == "fmt " and ffi.string(hdr.data, 4) == "data")
assert(hdr.format == 1 and hdr.channels == 1 and hdr.bits_per_sample == 16)
assert(hdr.sample_rate == rate and hdr.byte_rate == rate * hdr.block_align)
assert(hdr.data_size == count * 2 and hdr.riff_size == #bytes - 8)

-- The samples follow the header: an int16_t view of the string's bytes.
local data = ffi.cast("const int16_t *", ffi.cast("const char *", bytes) + ffi.sizeof(hdr))
local peak = 0
for i = 0, count - 1 do
  assert(data[i] == samples[i + 1], "sample " .. i)
  peak = math.max(peak, math.abs(data[i]))
end
assert(peak > 11900 and peak <= 12000, "peak " .. peak)

print(("%s/%s %s: %d Hz, %d channel(s), %d bits, %d samples, peak %d"):format(
  ffi.string(hdr.riff, 4), ffi.string(hdr.wave, 4), tostring(ffi.typeof(hdr)),
  hdr.sample_rate, hdr.channels, hdr.bits_per_sample, hdr.data_size / hdr.block_align, peak))
