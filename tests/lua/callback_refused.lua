-- A callback called on another OS thread is refused (a line on stderr, C gets a zero
-- result), under every Lua: a struct result returned in memory is zeroed in the caller's
-- buffer, whose address comes back in rax, and an int result is 0. On the thread that
-- made it, the same callback runs. The C side is tests/c/cbthread.c.
-- (crates/ffi/tests/callback_refused_struct.rs covers results in registers and a closed
-- state, on the embedded Lua 5.4.)
local ffi = require "ffi"
local check = require "check"
local eq = check.eq

local dir = assert(os.getenv("JITFFI_TESTLIB_DIR"), "JITFFI_TESTLIB_DIR is not set")
local lib = ffi.load(dir .. "/libjitffi_cbthread.so")
ffi.cdef [[
struct cbt_big { int64_t v[5]; };
int cbt_call_big(void *fn, int threaded, struct cbt_big *out);
int cbt_call_int_threaded(void *fn);
]]

local calls = 0
local big = ffi.cast("struct cbt_big (*)(int)", function(x)
  calls = calls + 1
  return { { x, x + 1, x + 2, x + 3, x + 4 } }
end)
local out = ffi.new("struct cbt_big")

-- On this thread: it runs and fills the buffer.
eq(lib.cbt_call_big(big, 0, out), 1, "the buffer's address returned")
for i = 0, 4 do eq(tonumber(out.v[i]), 7 + i, "v[" .. i .. "] on the creating thread") end
eq(calls, 1, "the function ran")

-- On another thread: refused, the buffer zeroed, its address returned.
eq(lib.cbt_call_big(big, 1, out), 1, "the buffer's address returned by the refused call")
for i = 0, 4 do eq(tonumber(out.v[i]), 0, "v[" .. i .. "] zeroed by the refused call") end
eq(calls, 1, "the function did not run on the other thread")

local int_calls = 0
local int_cb = ffi.cast("int (*)(int)", function(x) int_calls = int_calls + 1; return x * 6 end)
eq(lib.cbt_call_int_threaded(int_cb), 0, "an int result of a refused call")
eq(int_calls, 0, "the int callback did not run")

-- And again on this thread, both still work.
eq(lib.cbt_call_big(big, 0, out), 1, "the buffer's address returned")
eq(tonumber(out.v[4]), 11, "v[4] after the refused calls")
eq(calls, 2, "ran once more")
big:free()
int_cb:free()
print("callback_refused.lua: ok")
