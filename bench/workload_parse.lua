-- Workload: a parser that walks a byte buffer through a `const uint8_t *`, as FFI code
-- scans input it got from C: a CSV-like text of records `name,count,price\n` (names of
-- letters, decimal integers) is copied into a `uint8_t[?]` once, then parsed byte by byte
-- with `p[i]`, each number accumulated digit by digit and each name hashed. The parse is
-- repeated over the same buffer.
--
-- Two implementations run the same parser: `ffi`, through the `const uint8_t *`, and
-- `lua`, over a Lua table of the same bytes indexed from 0: what the interpreter alone
-- costs on each runtime, which tells the FFI's share (`p[i]`) apart.
--
-- Prints `RESULT parse/<impl> <seconds per byte>`, `# parse/<impl>: <n> operations` and
-- `CHECKSUM parse/<impl> <value>`, which is the same under every engine (`cargo xtask
-- bench` checks it; crates/cli/tests/bench_scripts.rs checks its value at scale 0.001).
-- A second argument runs only that label (`parse/ffi`).
local ffi = require "ffi"

local SCALE = tonumber(arg and arg[1]) or 1
local PASSES = math.max(1, math.floor(150 * SCALE))
local RECORDS = math.max(1, math.floor(math.min(1, SCALE * 150) * 2000))
local ONLY = arg and arg[2]

-- The text: RECORDS records from a Park-Miller sequence.
local parts, x = {}, 42
local function random(n)
  x = x * 16807 % 2147483647
  return x % n
end
for i = 1, RECORDS do
  local name = {}
  for j = 1, 3 + random(8) do name[j] = string.char(97 + random(26)) end
  parts[i] = ("%s,%d,%d\n"):format(table.concat(name), random(1000), random(100000))
end
local text = table.concat(parts)
local length = #text
local buffer = ffi.new("uint8_t[?]", length)
ffi.copy(buffer, text, length)

local COMMA, NEWLINE, ZERO, NINE = 44, 10, 48, 57

-- Parses the records in p[0 .. n-1]; the record count, the sums of the two number
-- fields and a hash of the names.
local function parse(p, n)
  local records, counts, prices, hash = 0, 0, 0, 0
  local i = 0
  while i < n do
    -- name: letters up to the comma
    local c = p[i]
    while c ~= COMMA do
      hash = (hash * 31 + c) % 1000000007
      i = i + 1
      c = p[i]
    end
    i = i + 1
    -- count
    local value = 0
    c = p[i]
    while c >= ZERO and c <= NINE do
      value = value * 10 + (c - ZERO)
      i = i + 1
      c = p[i]
    end
    counts = counts + value
    assert(c == COMMA, "comma expected")
    i = i + 1
    -- price
    value = 0
    c = p[i]
    while c >= ZERO and c <= NINE do
      value = value * 10 + (c - ZERO)
      i = i + 1
      c = p[i]
    end
    prices = prices + value
    assert(c == NEWLINE, "newline expected")
    i = i + 1
    records = records + 1
  end
  return records, counts, prices, hash
end

-- The bytes as a Lua table, for the `lua` implementation.
local function byte_table()
  local bytes = {}
  for i = 0, length - 1 do bytes[i] = text:byte(i + 1) end
  return bytes
end

for _, implementation in ipairs {
  { "ffi", function() return ffi.cast("const uint8_t *", buffer) end },
  { "lua", byte_table },
} do
  local label = "parse/" .. implementation[1]
  if not ONLY or ONLY == label then
    local p = implementation[2]()
    collectgarbage("collect")
    local start = os.clock()
    local checksum = 0
    for _ = 1, PASSES do
      local records, counts, prices, hash = parse(p, length)
      assert(records == RECORDS)
      checksum = (checksum + counts + prices + hash) % 1000000007
    end
    local elapsed = os.clock() - start
    print(("RESULT %s %.6e"):format(label, elapsed / (PASSES * length)))
    print(("# %s: %d operations"):format(label, PASSES * length))
    print(("CHECKSUM %s %d"):format(label, checksum))
  end
end
