-- Workload: a ring buffer library over cdata, as FFI code writes one: a struct with its
-- methods attached by ffi.metatype, the storage an `int32_t[?]` reached through the
-- struct's `int32_t *` field, and the head and count in struct fields. The workload
-- keeps a moving window of the last 64 values of a Park-Miller sequence: each step
-- pops the oldest value when the ring is full and pushes the new one, and sums what it
-- popped.
--
-- Two implementations run the same methods: `ffi`, on the struct above, and `lua`, on a
-- plain Lua table with the same fields and its metatable, the storage a table: what the
-- interpreter alone costs on each runtime, which tells the FFI's share apart.
--
-- Prints `RESULT ring/<impl> <seconds per push-and-pop step>`, `# ring/<impl>: <n>
-- operations` and `CHECKSUM ring/<impl> <sum>`, which is the same under every engine
-- (`cargo xtask bench` checks it; crates/cli/tests/bench_scripts.rs checks its value at
-- scale 0.001). A second argument runs only that label (`ring/ffi`).
local ffi = require "ffi"

local SCALE = tonumber(arg and arg[1]) or 1
local STEPS = math.max(1, math.floor(100000 * SCALE))
local ONLY = arg and arg[2]
local WINDOW = 64

ffi.cdef [[
struct ring { int32_t *data; uint32_t capacity, head, count; };
]]

local Ring = {}
Ring.__index = Ring
-- The storage of each ring, kept alive as long as the ring (the struct holds only a
-- pointer to it).
local storage = setmetatable({}, { __mode = "k" })

local ring_t = ffi.metatype("struct ring", Ring)
local int32_array_t = ffi.typeof("int32_t[?]")

function Ring.new(capacity)
  local data = int32_array_t(capacity)
  local ring = ring_t(data, capacity, 0, 0)
  storage[ring] = data
  return ring
end

-- The same ring as a Lua table, its storage a table indexed from 0.
function Ring.new_table(capacity)
  local data = {}
  for i = 0, capacity - 1 do data[i] = 0 end
  return setmetatable({ data = data, capacity = capacity, head = 0, count = 0 }, Ring)
end

function Ring:full() return self.count == self.capacity end
function Ring:empty() return self.count == 0 end

function Ring:push(value)
  assert(self.count < self.capacity, "ring full")
  local tail = self.head + self.count
  if tail >= self.capacity then tail = tail - self.capacity end
  self.data[tail] = value
  self.count = self.count + 1
end

function Ring:pop()
  assert(self.count > 0, "ring empty")
  local value = self.data[self.head]
  local head = self.head + 1
  if head == self.capacity then head = 0 end
  self.head = head
  self.count = self.count - 1
  return value
end

for _, implementation in ipairs { { "ffi", Ring.new }, { "lua", Ring.new_table } } do
  local label = "ring/" .. implementation[1]
  if not ONLY or ONLY == label then
    local ring = implementation[2](WINDOW)
    collectgarbage("collect")
    local start = os.clock()
    local x, sum = 42, 0
    for _ = 1, STEPS do
      x = x * 16807 % 2147483647
      if ring:full() then
        sum = (sum + ring:pop()) % 1000000007
      end
      ring:push(x % 1000000)
    end
    local elapsed = os.clock() - start
    while not ring:empty() do sum = (sum + ring:pop()) % 1000000007 end
    print(("RESULT %s %.6e"):format(label, elapsed / STEPS))
    print(("# %s: %d operations"):format(label, STEPS))
    print(("CHECKSUM %s %d"):format(label, sum))
  end
end
