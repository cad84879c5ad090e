-- Finalizers at lua_close that collect or make new finalizable cdata: each case runs in
-- a child interpreter (this one, arg[-1]) under `timeout`, which must print its lines
-- and exit 0. On Lua 5.3 a finalizer that calls collectgarbage while the state closes
-- used to spin for ever when the collector had just run the last pending finalizer of
-- an ordinary step (see UNSTICK_COLLECTOR_AT_CLOSE in crates/ffi/src/cdata/gc.rs).
local check = require "check"
local eq = check.eq

local interpreter = assert(arg and arg[-1], "needs arg[-1]: the interpreter to run children with")
local limit = 60

-- Leaves the collector right after an ordinary step ran the last pending finalizer (on
-- 5.3: phase GCScallfin, no finalizer to run), then ends the chunk: the state closes
-- in that phase. The garbage is made in a coroutine, as Lua 5.1 would keep it alive
-- through the dead copies that ffi.gc leaves in the registers of the main chunk.
local stop_after_a_step = [[
local finalized = false
coroutine.wrap(function() ffi.gc(ffi.new("int[1]"), function() finalized = true end) end)()
while not finalized do local _ = {} end
print("done")
]]

local cases = {
  { name = "the first report: metatype __gc collects, ffi.gc finalizers make finalizable cdata",
    script = [[
local ffi = require "ffi"
ffi.cdef "struct s { int a; };"
local T = ffi.metatype("struct s", { __gc = function() collectgarbage() end })
keep = T()
for _ = 1, 50 do
  ffi.gc(ffi.new("int[4]"), function() ffi.gc(ffi.new("int[3]"), function() end) end)
end
print("done")
]], lines = { "done" } },

  { name = "metatype __gc calls collectgarbage('collect')",
    script = [[
local ffi = require "ffi"
ffi.cdef "struct s { int a; };"
local T = ffi.metatype("struct s", {
  __gc = function() collectgarbage("collect"); print("collected") end,
})
keep = T()
]] .. stop_after_a_step, lines = { "done", "collected" } },

  { name = "metatype __gc calls collectgarbage('step', 100)",
    script = [[
local ffi = require "ffi"
ffi.cdef "struct s { int a; };"
local T = ffi.metatype("struct s", {
  __gc = function() collectgarbage("step", 100); print("stepped") end,
})
keep = T()
]] .. stop_after_a_step, lines = { "done", "stepped" } },

  { name = "metatype __gc calls collectgarbage('step')",
    script = [[
local ffi = require "ffi"
ffi.cdef "struct s { int a; };"
local T = ffi.metatype("struct s", {
  __gc = function() collectgarbage("step"); print("stepped") end,
})
keep = T()
]] .. stop_after_a_step, lines = { "done", "stepped" } },

  -- A collection at close runs every pending finalizer, that of the ffi state too
  -- (5.1-5.3; 5.4 and 5.5 ignore it): the cdata made after may find the ffi gone.
  { name = "ffi.gc finalizers collect and make finalizable cdata, three deep",
    script = [[
local ffi = require "ffi"
local function finalizer(depth)
  return function()
    if depth > 0 then pcall(function() ffi.gc(ffi.new("int[3]"), finalizer(depth - 1)) end) end
    pcall(collectgarbage)
  end
end
keep = {}
for i = 1, 20 do keep[i] = ffi.gc(ffi.new("int[4]"), finalizer(3)) end
last = ffi.gc(ffi.new("int[2]"), function() pcall(collectgarbage); print("last") end)
]] .. stop_after_a_step, lines = { "done", "last" } },
}

-- os.execute's result as ("exit" or "signal", code) on every version (5.1 returns the
-- status of system()).
local function execute(command)
  local a, how, code = os.execute(command)
  if type(a) == "number" then
    if a % 256 == 0 then return "exit", a / 256 end
    return "signal", a % 256
  end
  return how, code
end

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

for _, case in ipairs(cases) do
  local script = os.tmpname()
  local output = os.tmpname()
  local file = assert(io.open(script, "w"))
  file:write(case.script)
  file:close()
  local how, code = execute(string.format("timeout %d %s %s >%s 2>&1", limit,
    shell_quote(interpreter), shell_quote(script), shell_quote(output)))
  file = assert(io.open(output))
  local text = file:read("*a")
  file:close()
  os.remove(script)
  os.remove(output)
  local lines = {}
  for line in text:gmatch("[^\n]+") do lines[#lines + 1] = line end
  local what = case.name .. " (" .. how .. " " .. tostring(code) .. "): " .. text
  eq(how .. " " .. tostring(code), "exit 0", "exits at once: " .. what)
  eq(table.concat(lines, ","), table.concat(case.lines, ","), "output: " .. what)
end
print("gc_close: " .. #cases .. " cases")
