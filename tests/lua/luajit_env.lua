-- LuaJIT's environment around the ffi (crates/ffi/src/luajit_env): bit, jit, table.new,
-- table.clear, unpack/loadstring/setfenv/getfenv, tonumber(n, base), ffi.core, and
-- LuaJIT's number literals through the documented loader `require "ffi.literals"`
-- (stock Lua cannot parse them itself; the runner can, see crates/cli/tests/runner.rs).
local in_runner = rawget(_G, "bit") ~= nil   -- the runner defines it from the start

-- Nothing that exists is replaced: a global `bit` of the program's own stays.
local mine = {}
if not in_runner then bit = mine end
local ffi = require "ffi"
local check = require "check"
local fails, eq = check.fails, check.eq
if not in_runner then
  eq(bit, mine, "an existing global bit is kept")
  bit = nil
  bit = require "bit"
end
eq(require "bit", bit, "require \"bit\"")
eq(package.loaded.bit, bit, "package.loaded.bit")
eq(rawget(_G, "ffi"), nil, "ffi is not a global")

-- ffi.core: the same module, and no global change of its own.
eq(require "ffi.core", ffi, "ffi.core is the ffi module")

-- bit on numbers: 32-bit signed results, as lua-bitop and LuaJIT
eq(bit.tobit(0xffffffff), -1, "tobit wraps")
eq(bit.tobit(2^32 + 5), 5, "tobit modulo 2^32")
eq(bit.tobit(1.5), 2, "tobit rounds to even")
eq(bit.tobit(2.5), 2, "tobit rounds to even")
eq(bit.tobit(0/0), 0, "tobit of NaN")
eq(bit.tobit(1e300), -2013235812, "tobit beyond 2^53")
eq(bit.tobit("10"), 10, "a numeric string")
eq(bit.band(0xff, 0x0f, 0x3), 3, "band")
eq(bit.bor(1, 2, 4), 7, "bor")
eq(bit.bxor(5, 3), 6, "bxor")
eq(bit.bnot(0), -1, "bnot")
eq(bit.lshift(1, 31), -2147483648, "lshift")
eq(bit.lshift(1, 33), 2, "shift count modulo 32")
eq(bit.rshift(-1, 28), 15, "rshift")
eq(bit.arshift(-256, 4), -16, "arshift")
eq(bit.rol(0x80000001, 1), 3, "rol")
eq(bit.ror(1, 1), -2147483648, "ror")
eq(bit.bswap(0x12345678), 0x78563412, "bswap")
eq(bit.tohex(255), "000000ff", "tohex")
eq(bit.tohex(255, -4), "00FF", "tohex upper case")
eq(bit.tohex(-1, 4), "ffff", "tohex narrow")
eq(bit.tohex(1, 0), "", "tohex of no digits")
if math.type then eq(math.type(bit.band(5, 3)), "integer", "integer results on 5.3+") end
fails("number expected, got no value", bit.band)
fails("number expected, got table", bit.bor, 1, {})
fails("number expected, got string", bit.tobit, "x")

-- bit with 64-bit cdata: a 64-bit result, uint64_t if any argument is one
local i64, u64 = ffi.typeof("int64_t"), ffi.typeof("uint64_t")
local function is(x, ct, value, what)
  assert(ffi.istype(ct, x), what .. ": wrong type " .. tostring(ffi.typeof(x)))
  eq(tostring(x), value, what)
end
is(bit.band(i64(1), 3), i64, "1LL", "band with an int64_t")
is(bit.band(u64(1), 3), u64, "1ULL", "band with a uint64_t")
is(bit.band(i64(1), u64(3)), u64, "1ULL", "uint64_t wins")
is(bit.band(ffi.new("int", 5), 3), i64, "1LL", "any numeric cdata is 64-bit")
is(bit.bor(i64(1), 2^40), i64, "1099511627777LL", "numbers convert in full")
is(bit.lshift(i64(1), 33), i64, "8589934592LL", "64-bit shift")
is(bit.lshift(i64(1), 64), i64, "1LL", "shift count modulo 64")
is(bit.arshift(u64(0) - 8, 1), u64, "18446744073709551612ULL", "arshift keeps uint64_t")
is(bit.bnot(i64(0)), i64, "-1LL", "bnot")
is(bit.bswap(i64(0x1234)), i64, "3752061439553044480LL", "bswap")
is(bit.ror(u64(1), 1), u64, "9223372036854775808ULL", "ror")
eq(bit.tohex(i64(1)), "0000000000000001", "tohex of a cdata: 16 digits")
eq(bit.tohex(ffi.new("int", -1)), "ffffffffffffffff", "tohex of an int cdata")
eq(bit.tobit(i64(0x100000001)), 1, "tobit of a cdata is a number")
eq(bit.lshift(1, i64(2)), 4, "a cdata shift count keeps 32 bits")
fails("cannot convert 'int [1]' to 'int64_t'", bit.band, ffi.new("int[1]"), 1)

-- jit: LuaJIT 2.1's facts, no compiler
eq(require "jit", jit, "require \"jit\"")
eq(jit.os, ffi.os, "jit.os")
eq(jit.arch, ffi.arch, "jit.arch")
eq(jit.version_num, 20100, "jit.version_num")
eq(jit.version:sub(1, 10), "LuaJIT 2.1", "jit.version")
eq(jit.status(), false, "jit.status")
eq(select("#", jit.on()), 0, "jit.on does nothing")
jit.off(); jit.flush(); jit.opt.start("hotloop=1")

-- table.new, table.clear
local new = require "table.new"
eq(table.new, new, "require sets table.new")
local t = new(10, 4)
eq(next(t), nil, "table.new is empty")
t[1], t.x = 1, 2
local clear = require "table.clear"
eq(table.clear, clear, "require sets table.clear")
local same = t
clear(t)
eq(next(t), nil, "table.clear empties")
eq(t, same, "table.clear keeps the table")
fails("table expected", clear, 1)

-- unpack, loadstring, setfenv and getfenv on every version (tests/diff/setfenv.lua
-- compares the last two with LuaJIT's)
eq(select(2, unpack({ 1, 2, 3 })), 2, "unpack")
eq(loadstring("return 7")(), 7, "loadstring")
local env = {}
local chunk = setfenv(loadstring("x = 8; return x"), env)
eq(chunk(), 8, "setfenv")
eq(env.x, 8, "the chunk's globals are the table")
eq(rawget(_G, "x"), nil, "not the globals")
eq(getfenv(chunk), env, "getfenv")
fails("cannot change environment", setfenv, print, {})

-- tonumber(n, base) with a number n, as LuaJIT reads it
eq(tonumber(10, 16), 16, "tonumber(10, 16)")
eq(tonumber(-10, 16), -16, "tonumber(-10, 16)")
eq(tonumber(255, 10), 255, "base 10")
eq(tonumber(1.5, 10), 1.5, "base 10 keeps a float")
eq(tonumber(1.5, 16), nil, "a float in base 16")
eq(tonumber("ff", 16), 255, "a string still works")
eq(tonumber(0/0, 36), 30191, "nan in base 36")

-- LuaJIT literals through ffi.literals
local literals = require "ffi.literals"
local function value(source) return assert(literals.load("return " .. source))() end
is(value("123LL"), i64, "123LL", "123LL")
is(value("0x10ULL"), u64, "16ULL", "0x10ULL")
is(value("1llu"), u64, "1ULL", "1llu")
is(value("9007199254740993LL"), i64, "9007199254740993LL", "exact beyond 2^53")
is(value("0x7fffffffffffffffLL"), i64, "9223372036854775807LL", "largest int64_t")
is(value("0xffffffffffffffffLL"), i64, "-1LL", "hex wraps to int64_t")
is(value("18446744073709551615ULL"), u64, "18446744073709551615ULL", "largest uint64_t")
is(value("12.5i"), ffi.typeof("complex"), "0+12.5i", "12.5i")
is(value("-0x10ULL + 1"), u64, "18446744073709551601ULL", "in an expression")
eq(value("'1LL' .. [[2i]]"), "1LL2i", "strings are not rewritten")
local f, err = literals.load("return 1.5LL", "=lit")
eq(f, nil, "a literal LuaJIT rejects stays malformed")
-- The message is the Lua version's own ("malformed number near '1.5L'" or "<eof>
-- expected near 'LL'").
assert(err:find("near '1.5L", 1, true) or err:find("near 'LL'", 1, true), err)
f, err = literals.load("\nerror('here')", "=lines")
local ok, msg = pcall(f)
assert(not ok and msg:find("^lines:2: here"), msg)
f, err = literals.load("x = 1LL\nerror('here')", "=lines")
ok, msg = pcall(f)
assert(not ok and msg:find("^lines:2: here"), "line numbers kept: " .. msg)
eq(literals.loadstring("return 2LL")(), i64(2), "literals.loadstring")
eq(literals.rewrite("return 1"), "return 1", "rewrite without literals")
local env = { y = 3 }
assert(literals.load("x = 5LL + y", "=env", "t", env))()
eq(env.x, i64(8), "literals.load with an environment")
local pieces = { "return ", "4LL" }
eq(literals.load(function() return table.remove(pieces, 1) end)(), i64(4), "a reader")

-- files, dofile and require through the searcher
local dir = os.tmpname()
os.remove(dir)
local path = dir .. "_literal_mod.lua"
local file = assert(io.open(path, "w"))
file:write("#!/shebang 1LL\nlocal M = { big = 0x8000000000000000ULL }\nM.line = debug.getinfo(1, 'l').currentline\nreturn M\n")
file:close()
local m = assert(literals.loadfile(path))()
is(m.big, u64, "9223372036854775808ULL", "loadfile")
eq(m.line, 3, "loadfile keeps line numbers after a # line")
m = literals.dofile(path)
is(m.big, u64, "9223372036854775808ULL", "dofile")
local name = path:match("([^/]+)%.lua$")
local saved_path = package.path
package.path = dir:match("^(.*/)") .. "?.lua;" .. package.path
literals.install()
eq(load, literals.load, "install replaces load")
m = require(name)
is(m.big, u64, "9223372036854775808ULL", "require after install")
ok, msg = pcall(require, "no_such_module_for_literals")
assert(not ok and msg:find("no file"), msg)
package.path = saved_path
os.remove(path)
is(load("return 5LL")(), i64, "5LL", "the global load after install")

print("luajit_env: ok")
