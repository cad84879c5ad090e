-- Workload: a bytecode-style interpreter over an array of instruction structs, as FFI
-- code writes one: the program is a `struct insn[?]`, the registers an `int32_t[8]`,
-- and the dispatch loop reads `code[pc]` and its fields at every step. The program
-- computes acc = (acc * 31 + i) % 1000003 for i = 0 .. N-1 with five instructions per
-- round and a conditional jump.
--
-- Two implementations run the same interpreter function: `ffi`, over the cdata above,
-- and `lua`, over plain Lua tables (a table per instruction, a table of registers): what
-- the interpreter alone costs on each runtime, which tells the FFI's share apart.
--
-- Prints `RESULT vm/<impl> <seconds per executed instruction>`, `# vm/<impl>: <n>
-- operations` and `CHECKSUM vm/<impl> <acc>`, which is the same under every engine
-- (`cargo xtask bench` checks it; crates/cli/tests/bench_scripts.rs checks its value at
-- scale 0.001). `lua5.4 bench/workload_vm.lua 0.01` runs a hundredth of the rounds; a
-- second argument runs only that label (`vm/ffi`).
local ffi = require "ffi"

local SCALE = tonumber(arg and arg[1]) or 1
local ROUNDS = math.max(1, math.floor(200000 * SCALE))
local ONLY = arg and arg[2]

ffi.cdef [[
struct insn { uint8_t op, a, b, c; int32_t k; };
]]
local insn_t = ffi.typeof("struct insn[?]")

local OP = { LOADK = 0, ADD = 1, MUL = 2, MOD = 3, JLT = 4, HALT = 5 }

-- Assembles { {op, a, b, c, k}, ... } into a struct insn array, or with `new_insn`
-- into what it makes (indexed from 0 as well).
local function assemble(listing, new_insn)
  local code = new_insn and {} or insn_t(#listing)
  for i, line in ipairs(listing) do
    if new_insn then code[i - 1] = new_insn() end
    local ins = code[i - 1]
    ins.op = OP[line[1]]
    ins.a, ins.b, ins.c = line[2] or 0, line[3] or 0, line[4] or 0
    ins.k = line[5] or 0
  end
  return code
end

-- Runs code on regs until HALT; the number of instructions executed.
local function run(code, regs)
  local pc, executed = 0, 0
  while true do
    local ins = code[pc]
    local op = ins.op
    executed = executed + 1
    if op == 1 then -- ADD a b c
      regs[ins.a] = regs[ins.b] + regs[ins.c]
      pc = pc + 1
    elseif op == 2 then -- MUL a b c
      regs[ins.a] = regs[ins.b] * regs[ins.c]
      pc = pc + 1
    elseif op == 3 then -- MOD a b c
      regs[ins.a] = regs[ins.b] % regs[ins.c]
      pc = pc + 1
    elseif op == 4 then -- JLT a b k: if regs[a] < regs[b] then pc = k
      if regs[ins.a] < regs[ins.b] then pc = ins.k else pc = pc + 1 end
    elseif op == 0 then -- LOADK a k
      regs[ins.a] = ins.k
      pc = pc + 1
    else -- HALT
      return executed
    end
  end
end

local listing = {
  { "LOADK", 0, 0, 0, 0 }, -- i = 0
  { "LOADK", 1, 0, 0, ROUNDS }, -- n
  { "LOADK", 2, 0, 0, 7 }, -- acc
  { "LOADK", 3, 0, 0, 31 },
  { "LOADK", 4, 0, 0, 1000003 },
  { "LOADK", 5, 0, 0, 1 },
  { "MUL", 2, 2, 3 }, -- 6: acc = acc * 31
  { "ADD", 2, 2, 0 }, -- acc = acc + i
  { "MOD", 2, 2, 4 }, -- acc = acc % 1000003
  { "ADD", 0, 0, 5 }, -- i = i + 1
  { "JLT", 0, 1, 0, 6 }, -- if i < n goto 6
  { "HALT" },
}

-- Each implementation: its program and its registers (8, indexed from 0).
local implementations = {
  {
    name = "ffi",
    make = function() return assemble(listing), ffi.new("int32_t[8]") end,
  },
  {
    name = "lua",
    make = function()
      local function new_insn() return { op = 0, a = 0, b = 0, c = 0, k = 0 } end
      return assemble(listing, new_insn), { [0] = 0, 0, 0, 0, 0, 0, 0, 0 }
    end,
  },
}

for _, implementation in ipairs(implementations) do
  local label = "vm/" .. implementation.name
  if not ONLY or ONLY == label then
    local code, regs = implementation.make()
    collectgarbage("collect")
    local start = os.clock()
    local executed = run(code, regs)
    local elapsed = os.clock() - start
    assert(executed == 7 + 5 * ROUNDS, executed)
    print(("RESULT %s %.6e"):format(label, elapsed / executed))
    print(("# %s: %d operations"):format(label, executed))
    print(("CHECKSUM %s %d"):format(label, regs[2]))
  end
end
