-- ffi.C and ffi.load: resolution of functions (asm labels too), extern variables read
-- and written through a namespace, constants, errors, library names as LuaJIT finds
-- them, global loading, and unloading when a namespace is collected. The C side is
-- tests/c/nstest.c and tests/c/nsgc.c, built by tests/modules.sh into
-- $JITFFI_TESTLIB_DIR (also on LD_LIBRARY_PATH, for bare names).
local ffi = require "ffi"
local check = require "check"
local fails, eq = check.fails, check.eq

-- ffi.C: a table whose missing names resolve on first use
eq(type(ffi.C), "table", "ffi.C is a table (userdata in LuaJIT)")
assert(tostring(ffi.C):match("^userdata: 0x%x+$"), "tostring(ffi.C) as LuaJIT's")
eq(ffi.load, ffi.load, "ffi.load exists")

ffi.cdef [[
int abs(int);
int labs_alias(int) __asm__("abs");
double sqrt(double);
long labs(long);
extern char **environ;
enum ns_color { NS_RED, NS_GREEN = 5, NS_BIG = 0x80000000 };
static const int NS_K = 42;
static const unsigned int NS_KU = 4294967295;
static const char NS_KC = -3;
int ns_no_such_function(void);
extern int ns_no_such_variable;
typedef int ns_myint;
struct ns_s { int a; };
]]

-- functions: a Lua C function (a cdata in LuaJIT: see docs/porting.md, compatibility), stored
-- in the namespace after the first lookup
local function address(f) return tonumber(ffi.cast("intptr_t", f)) end
local abs = ffi.C.abs
eq(type(abs), "function", "type of a C function")
eq(rawget(ffi.C, "abs"), abs, "a resolved function is cached in the table")
eq(ffi.C.abs, abs, "cached")
assert(tostring(ffi.typeof(abs)):match("^ctype<int"), "function ctype: " .. tostring(ffi.typeof(abs)))
local alias = ffi.C.labs_alias
eq(type(alias), "function", "asm-labelled function")
eq(address(alias), address(abs), "asm label resolves to the same address")
eq(type(ffi.C.sqrt), "function", "libm through ffi.C")

-- extern variables: every read goes through __index, nothing is cached in the table
local env = ffi.C.environ
eq(type(env), "cdata", "environ is a cdata")
eq(tostring(ffi.typeof(env)), "ctype<char **>", "environ's type")
assert(env[0] ~= nil and #ffi.string(env[0]) > 0, "environ[0] is a string")
eq(rawget(ffi.C, "environ"), nil, "variables are not cached in the table")

-- constants: numbers, as LuaJIT returns them
eq(ffi.C.NS_RED, 0, "enum constant")
eq(ffi.C.NS_GREEN, 5, "enum constant")
eq(type(ffi.C.NS_GREEN), "number", "enum constants are numbers")
eq(ffi.C.NS_BIG, 2147483648, "unsigned enum constant")
eq(ffi.C.NS_K, 42, "static const")
eq(ffi.C.NS_KU, 4294967295, "static const unsigned")
-- plain char is signed on x86-64, unsigned on arm64 (as gcc and LuaJIT there)
eq(ffi.C.NS_KC, ffi.arch == "arm64" and 253 or -3, "static const char")
eq(rawget(ffi.C, "NS_K"), nil, "constants are not cached in the table")
-- beyond LuaJIT: 64-bit constants (numbers while a double holds them exactly)
ffi.cdef [[
enum ns_wide { NS_WIDE = 0x100000000 };
#define NS_DEF 17
#define NS_HUGE 0x7fffffffffffffff
]]
eq(ffi.C.NS_WIDE, 4294967296, "64-bit enum constant")
eq(ffi.C.NS_DEF, 17, "#define constant")
assert(tostring(ffi.C.NS_HUGE):find("^9223372036854775807"), "a constant beyond 2^53 stays exact")

-- errors: missing declarations, missing symbols, non-string keys, writes
fails("missing declaration for symbol 'ns_undeclared'", function() return ffi.C.ns_undeclared end)
fails("missing declaration for symbol 'ns_myint'", function() return ffi.C.ns_myint end)
fails("missing declaration for symbol 'ns_s'", function() return ffi.C.ns_s end)
fails("undefined symbol: ns_no_such_function", function() return ffi.C.ns_no_such_function end)
fails("undefined symbol: ns_no_such_variable", function() return ffi.C.ns_no_such_variable end)
fails("undefined symbol: ns_no_such_variable", function() ffi.C.ns_no_such_variable = 1 end)
fails("string expected, got number", function() return ffi.C[1] end)
fails("string expected, got boolean", function() ffi.C[true] = 1 end)
fails("attempt to write to constant location", function() ffi.C.labs = 1 end)
eq(rawget(ffi.C, "labs"), nil, "a refused write stores nothing")
fails("attempt to write to constant location", function() ffi.C.NS_K = 1 end)
fails("attempt to write to constant location", function() ffi.C.NS_RED = 1 end)
fails("missing declaration for symbol 'ns_undeclared'", function() ffi.C.ns_undeclared = 1 end)
eq(rawget(ffi.C, "ns_undeclared"), nil, "a failed write stores nothing")

-- ffi.load: errors
fails("string expected, got no value", ffi.load)
fails("libns_no_such_lib.so: cannot open shared object file", ffi.load, "ns_no_such_lib")
fails("/nonexistent/libfoo.so: cannot open shared object file", ffi.load, "/nonexistent/libfoo.so")
fails("lib.so: cannot open shared object file", ffi.load, "")
-- ld scripts: libm.so and libc.so are GNU ld scripts on Debian
local libm = ffi.load("m")
eq(type(libm), "table", "a library namespace")
assert(tostring(libm):match("^userdata: 0x%x+$"), "tostring of a library as LuaJIT's")
eq(type(libm.sqrt), "function", "sqrt from libm")
fails("libm.so.6: undefined symbol: ns_no_such_function", function() return libm.ns_no_such_function end)
eq(type(ffi.load("c").abs), "function", "libc by its ld script")

local dir = assert(os.getenv("JITFFI_TESTLIB_DIR"),
  "JITFFI_TESTLIB_DIR unset: run this script through tests/modules.sh")
local path = dir .. "/libjitffi_nstest.so"

ffi.cdef [[
extern int nstest_counter;
extern double nstest_scale;
extern const int nstest_fixed;
struct nstest_point { int x, y; };
extern struct nstest_point nstest_origin;
extern int nstest_table[4];
extern const char *nstest_name;
extern int *nstest_null;
extern long long nstest_big;
extern int nstest_counter_alias __asm__("nstest_counter");
int nstest_add(int, int);
int nstest_sub(int, int) __asm__("nstest_sym_sub");
int nstest_sym_sub(int, int);
int nstest_bump(void);
int nstest_nowhere(void) __asm__("nstest_really_nowhere");
]]

-- not global yet: ffi.C does not see the library
fails("undefined symbol: nstest_add", function() return ffi.C.nstest_add end)

local lib = ffi.load(path)
eq(type(lib), "table", "ffi.load by path")
-- variables: read, write, asm labels
eq(lib.nstest_counter, 7, "read an int variable")
lib.nstest_counter = 9
eq(lib.nstest_counter, 9, "write an int variable")
eq(lib.nstest_counter_alias, 9, "asm-labelled variable")
lib.nstest_counter_alias = 10
eq(lib.nstest_counter, 10, "write through the asm label")
eq(rawget(lib, "nstest_counter"), nil, "variables are not cached")
eq(lib.nstest_scale, 1.5, "double variable")
lib.nstest_scale = 2.25
eq(lib.nstest_scale, 2.25, "double written")
eq(lib.nstest_fixed, 11, "const variable read")
fails("attempt to write to constant location", function() lib.nstest_fixed = 1 end)
eq(lib.nstest_fixed, 11, "const variable unchanged")
fails("cannot convert 'string' to 'int'", function() lib.nstest_counter = "x" end)
fails("cannot convert 'nil' to 'int'", function() lib.nstest_counter = nil end)
eq(lib.nstest_counter, 10, "failed writes change nothing")
lib.nstest_counter = ffi.new("int64_t", 4)
eq(lib.nstest_counter, 4, "int64 cdata stored into an int")
-- aggregates are references: writes through them reach the library
local origin = lib.nstest_origin
eq(tostring(ffi.typeof(origin)), "ctype<struct nstest_point &>", "struct variable is a reference")
eq(origin.y, 2, "struct member")
origin.y = 5
eq(lib.nstest_origin.y, 5, "member written through the reference")
lib.nstest_origin = { 3, 4 }
eq(origin.x * 10 + origin.y, 34, "whole struct assigned from a table")
eq(tostring(ffi.typeof(lib.nstest_table)), "ctype<int (&)[4]>", "array variable")
eq(lib.nstest_table[2], 30, "array element")
lib.nstest_table[3] = 41
eq(lib.nstest_table[3], 41, "array element written")
eq(ffi.string(lib.nstest_name), "nstest", "const char * variable")
eq(lib.nstest_null, nil, "a NULL pointer variable reads as nil (jitffi)")
eq(tonumber(lib.nstest_big), 1234567890123, "long long variable")
lib.nstest_big = 5
eq(tonumber(lib.nstest_big), 5, "long long written")
-- functions and errors
eq(type(lib.nstest_add), "function", "function from the library")
eq(rawget(lib, "nstest_add"), lib.nstest_add, "cached")
eq(type(lib.nstest_sub), "function", "function by its asm label")
eq(address(lib.nstest_sub), address(lib.nstest_sym_sub), "asm label and symbol name give the same address")
fails("libjitffi_nstest.so: undefined symbol: nstest_really_nowhere", function() return lib.nstest_nowhere end)
fails("libjitffi_nstest.so: undefined symbol: ns_no_such_variable",
  function() return lib.ns_no_such_variable end)
fails("missing declaration for symbol 'nstest_undeclared'", function() return lib.nstest_undeclared end)
fails("attempt to write to constant location", function() lib.nstest_bump = nil end)
fails("attempt to write to constant location", function() lib.NS_K = 1 end)
eq(lib.NS_GREEN, 5, "constants through any namespace")

-- calls
eq(lib.nstest_add(2, 3), 5, "lib.nstest_add(2, 3)")
eq(lib.nstest_sub(7, 2), 5, "call through an asm label")
eq(lib.nstest_bump(), 5, "a call sees the variable written from Lua")
eq(lib.nstest_counter, 5, "and Lua sees the call's write")
eq(ffi.C.abs(-4), 4, "ffi.C.abs")
eq(ffi.C.labs_alias(-5), 5, "ffi.C through an asm label")
-- a function keeps its library loaded after the namespace is gone
do
  local add = ffi.load(path).nstest_add
  collectgarbage()
  collectgarbage()
  eq(add(20, 22), 42, "a function outlives its namespace")
end

-- the same library by bare name (LD_LIBRARY_PATH), and with "lib" and ".so" given
eq(ffi.load("jitffi_nstest").nstest_scale, 2.25, "bare name: same library, same variables")
eq(ffi.load("libjitffi_nstest").nstest_fixed, 11, "name with lib prefix")
eq(ffi.load("libjitffi_nstest.so").nstest_fixed, 11, "full file name")
eq(ffi.load("jitffi_nstest.so").nstest_fixed, 11, "name with .so only")

-- a file that is a GNU ld script stands for the library it names
local script = os.tmpname()
local f = assert(io.open(script, "w"))
f:write("/* GNU ld script\n*/\nOUTPUT_FORMAT(elf64-x86-64)\nGROUP ( ", path, " )\n")
f:close()
local ok2, via_script = pcall(ffi.load, script)
local f2 = assert(io.open(script, "w"))
f2:write(("not an ELF file and not a linker script either\n"):rep(4))
f2:close()
local ok3, err3 = pcall(ffi.load, script)
os.remove(script)
assert(ok2, via_script)
eq(via_script.nstest_fixed, 11, "library through an ld script")
assert(not ok3 and err3:find(script .. ": invalid ELF header", 1, true), err3)

-- global: the library's symbols become visible to ffi.C
local global_lib = ffi.load("jitffi_nstest", true)
eq(type(ffi.C.nstest_add), "function", "ffi.C sees a global library's function")
ffi.C.nstest_counter = 12
eq(lib.nstest_counter, 12, "ffi.C writes the global library's variable")
eq(global_lib.nstest_counter, 12, "same variable through the global namespace")

-- a collected namespace closes its library (nothing else holds libjitffi_nsgc.so)
local function mapped(name)
  local maps = io.open("/proc/self/maps")
  if not maps then return nil end
  local text = maps:read("*a")
  maps:close()
  return text:find(name, 1, true) ~= nil
end
ffi.cdef "extern int nsgc_value;"
local gc_lib = ffi.load(dir .. "/libjitffi_nsgc.so")
eq(gc_lib.nsgc_value, 3, "nsgc loaded")
local weak = setmetatable({ gc_lib }, { __mode = "v" })
if mapped("libjitffi_nsgc.so") ~= nil then
  eq(mapped("libjitffi_nsgc.so"), true, "library mapped while referenced")
  collectgarbage()
  eq(mapped("libjitffi_nsgc.so"), true, "still mapped while referenced")
  gc_lib = nil
  collectgarbage()
  collectgarbage()
  eq(weak[1], nil, "namespace collected")
  eq(mapped("libjitffi_nsgc.so"), false, "library unloaded after collection")
end

-- a namespace's metamethods refuse what is not a namespace
local meta = getmetatable(lib)
fails("table expected", meta.__index, 1, "nstest_add")

print("namespace.lua: ok")
