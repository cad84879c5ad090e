-- Runs one file of LuaJIT-test-cleanup's test/lib/ffi on the engine that runs this
-- script (luajit, the jitffi runner, or a stock lua5.x with ffi.so) and reports every
-- failing check on stdout, for scripts/luajit-suite.sh:
--
--   FAIL <TAB> file:line: detail    a failed assert (detail: its message, or
--                                   "assertion failed!"), a `fails` that did not fail,
--                                   or an error (detail: the message)
--   ABORT                           an error ended the file (or a harness test) early
--   DONE                            the file ran to its end
--
-- file:line is the innermost position in the test file itself (a check made by
-- common/ffi_util.inc is reported at its caller). Checks do not stop the file: `assert`
-- records and goes on, as does ffi_util.inc's `fails`, so that one run lists every
-- failing check. Usage:
--   engine luajit-suite.lua standalone path/to/ffi_x.lua
--   engine luajit-suite.lua harness path/to/test.lua path/to/lib/ffi/x.lua
local mode, file, harness_file = ...
if mode == "harness" then file, harness_file = harness_file, file end

require "ffi"
if not (loadstring or load)("return 1LL") then
  -- A stock interpreter: let load, loadfile, dofile and require read LuaJIT literals.
  require("ffi.literals").install()
end

local base = file:match("[^/]+$")
local source = "@" .. file
local reported = {}
local aborted = false

local function say(line)
  io.stdout:write(line, "\n")
  io.stdout:flush()
end

-- The current line of the innermost frame of the test file, from stack level `level`.
local function test_file_line(level)
  while true do
    local info = debug.getinfo(level, "Sl")
    if not info then return "?" end
    if info.source == source then return info.currentline end
    level = level + 1
  end
end

local function record(line, detail)
  -- Addresses differ from run to run.
  detail = tostring(detail):gsub("0x%x+", "0x?"):gsub("[\r\n].*", "")
  local key = base .. ":" .. line .. ": " .. detail
  if not reported[key] then
    reported[key] = true
    say("FAIL\t" .. key)
  end
end

-- An error: the message without its position when that position is in the test file.
local function record_error(message, level)
  aborted = true
  local line = test_file_line(level)
  message = tostring(message)
  local at, rest = message:match("^(.-:%d+): (.*)$")
  if at and source:sub(2) == at:match("^(.-):%d+$") then message = rest end
  record(line, message)
end

-- How many pcall/xpcall frames are on the stack: 1 is this script's (or test.lua's)
-- protection of the whole file (or test); more means the test itself expects an error.
local function protected_depth()
  local depth, level = 0, 3
  while true do
    local info = debug.getinfo(level, "f")
    if not info then return depth end
    if info.func == pcall or info.func == xpcall then depth = depth + 1 end
    level = level + 1
  end
end

local real_assert = assert
function assert(v, message, ...)
  if not v and protected_depth() <= 1 then
    record(test_file_line(3), message == nil and "assertion failed!" or message)
    return v, message, ...
  end
  return real_assert(v, message, ...)
end

-- ffi_util.inc defines the global `fails`; replace it after it is loaded.
local real_dofile = dofile
function dofile(name)
  local results = { real_dofile(name) }
  if name and name:match("ffi_util%.inc$") then
    function fails(f, ...)
      if pcall(f, ...) ~= false then record(test_file_line(3), "failure expected") end
    end
  end
  return (table.unpack or unpack)(results)
end

if mode == "harness" then
  -- test.lua runs each test under xpcall(test, debug.traceback) and calls os.exit(1)
  -- when one failed; both are looked up when test.lua loads, that is after this.
  local real_traceback, real_exit = debug.traceback, os.exit
  debug.traceback = function(message, ...)
    if type(message) ~= "thread" and protected_depth() <= 1 then
      record_error(message, 3)
    end
    return real_traceback(message, ...)
  end
  os.exit = function(...)
    say(aborted and "ABORT" or "DONE")
    return real_exit(...)
  end
  local chunk = real_assert(loadfile(harness_file))
  -- --quiet: test.lua prints only failures, which the caller does not read.
  chunk("--quiet", file)
  say(aborted and "ABORT" or "DONE")
else
  arg = { [0] = file }
  local chunk, err = loadfile(file)
  if not chunk then
    record(err:match(":(%d+):") or "?", err:match(":%d+: (.*)") or err)
    say("ABORT")
    return
  end
  local ok = xpcall(chunk, function(message)
    record_error(message, 3)
    return message
  end)
  say(ok and "DONE" or "ABORT")
end
