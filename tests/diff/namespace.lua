-- Differential test: ffi.C and ffi.load (resolution, extern variables, constants,
-- errors, library names) printed the same way under luajit and jitffi. The library is
-- tests/c/nstest.c, built by tests/diff.sh into $JITFFI_TESTLIB_DIR (also on
-- LD_LIBRARY_PATH). Left out: type(ffi.C) ("table" in jitffi), NULL pointers and 64-bit
-- integers read from variables (see docs/porting.md), how function ctypes print, and calls
-- (not implemented yet: add them here when they land).
local ffi = require "ffi"
local d = require "diffshow"

local dir = assert(os.getenv("JITFFI_TESTLIB_DIR"), "JITFFI_TESTLIB_DIR is not set")
local path = dir .. "/libjitffi_nstest.so"

-- d.show, with the parts of dlerror's texts that name this machine made neutral:
-- the test library's directory, and the program that ffi.C's errors name.
-- The interpreter: the lowest index of `arg` (after it come its options, if any).
local program_index = -1
while _G.arg[program_index - 1] do program_index = program_index - 1 end
local program = _G.arg[program_index]
local function try(label, f, ...)
  local text = d.show(pcall(f, ...))
  text = text:gsub(dir:gsub("%p", "%%%0"), "<dir>")
  text = text:gsub("^error " .. program:gsub("%p", "%%%0") .. ": ", "error <program>: ")
  print(label, text)
end

ffi.cdef [[
int abs(int);
int ns_abs_alias(int) __asm__("abs");
long labs(long);
double sqrt(double);
extern char **environ;
enum ns_color { NS_RED, NS_GREEN = 5, NS_BIG = 0x80000000, NS_NEG = -7 };
static const int NS_K = 42;
static const unsigned int NS_KU = 4294967295;
static const char NS_KC = -3;
static const uint8_t NS_K8 = 255;
int ns_no_such_function(void);
extern int ns_no_such_variable;
typedef int ns_myint;
struct ns_s { int a; };

extern int nstest_counter;
extern double nstest_scale;
extern const int nstest_fixed;
struct nstest_point { int x, y; };
extern struct nstest_point nstest_origin;
extern int nstest_table[4];
extern const char *nstest_name;
extern int nstest_counter_alias __asm__("nstest_counter");
int nstest_add(int, int);
int nstest_sub(int, int) __asm__("nstest_sym_sub");
int nstest_sym_sub(int, int);
int nstest_bump(void);
int nstest_nowhere(void) __asm__("nstest_really_nowhere");
]]

print("tostring(ffi.C)", tostring(ffi.C):match("^userdata: 0x") ~= nil)

-- ffi.C: functions, variables, constants
-- A C function is a Lua function in jitffi (a cdata in LuaJIT): compare its type and
-- what calling it gives.
try("C.abs", function() return tostring(ffi.typeof(ffi.C.abs)), ffi.C.abs(-3) end)
try("C.alias", function() return tostring(ffi.typeof(ffi.C.ns_abs_alias)), ffi.C.ns_abs_alias(-4) end)
try("C.sqrt", function() return tostring(ffi.typeof(ffi.C.sqrt)), ("%g"):format(ffi.C.sqrt(16)) end)
try("C.environ", function() return ffi.typeof(ffi.C.environ), ffi.C.environ[0] ~= nil end)
for _, name in ipairs { "NS_RED", "NS_GREEN", "NS_BIG", "NS_NEG", "NS_K", "NS_KU", "NS_KC", "NS_K8" } do
  try("C." .. name, function() return ffi.C[name], type(ffi.C[name]) end)
end

-- ffi.C: errors
try("undeclared", function() return ffi.C.ns_undeclared end)
try("typedef", function() return ffi.C.ns_myint end)
try("struct tag", function() return ffi.C.ns_s end)
try("no function", function() return ffi.C.ns_no_such_function end)
try("no variable", function() return ffi.C.ns_no_such_variable end)
try("write no variable", function() ffi.C.ns_no_such_variable = 1 end)
try("write function", function() ffi.C.labs = 1 end)
try("write enum", function() ffi.C.NS_RED = 1 end)
try("write const", function() ffi.C.NS_K = 1 end)
try("write undeclared", function() ffi.C.ns_undeclared = 1 end)
try("write typedef", function() ffi.C.ns_myint = 1 end)
try("number key", function() return ffi.C[1] end)
try("boolean key", function() return ffi.C[true] end)
try("not global yet", function() return ffi.C.nstest_add end)

-- ffi.load: names and errors
try("load no arg", ffi.load)
try("load table", ffi.load, {})
try("load missing", ffi.load, "ns_no_such_lib")
try("load missing path", ffi.load, "/nonexistent/libfoo.so")
try("load empty", ffi.load, "")
try("load number", ffi.load, 1)
try("load embedded NUL", ffi.load, "a\0b")
try("load dir", ffi.load, "/tmp")
try("load m", function() return ("%g"):format(ffi.load("m").sqrt(4)) end)
try("load c", function() return ffi.load("c").abs(-2) end)
try("load m.so.6", function() return ("%g"):format(ffi.load("m.so.6").sqrt(9)) end)
try("libm missing", function() return ffi.load("m").ns_no_such_function end)
try("load path", function() return tostring(ffi.load(path)):match("^userdata: 0x") ~= nil end)
for _, name in ipairs { "jitffi_nstest", "libjitffi_nstest", "jitffi_nstest.so", "libjitffi_nstest.so" } do
  try("load " .. name, function() return ffi.load(name).nstest_fixed end)
end

-- variables of a library
local lib = ffi.load(path)
try("counter", function() return lib.nstest_counter end)
try("counter=9", function() lib.nstest_counter = 9 return lib.nstest_counter end)
try("alias", function() return lib.nstest_counter_alias end)
try("alias=10", function() lib.nstest_counter_alias = 10 return lib.nstest_counter end)
try("counter=int64", function() lib.nstest_counter = ffi.new("int64_t", 4) return lib.nstest_counter end)
-- 2^40 into an int: a C cast LuaJIT leaves undefined (x86-64 wraps, as jitffi does
-- everywhere; arm64 saturates). Compared on x86-64 only.
if ffi.arch ~= "arm64" then
  try("counter=2^40", function() lib.nstest_counter = 2^40 return lib.nstest_counter end)
end
try("counter=string", function() lib.nstest_counter = "x" end)
try("counter=nil", function() lib.nstest_counter = nil end)
try("counter=table", function() lib.nstest_counter = {} end)
try("scale", function() lib.nstest_scale = 2.25 return lib.nstest_scale end)
try("fixed", function() return lib.nstest_fixed end)
try("fixed=1", function() lib.nstest_fixed = 1 end)
try("origin", function() return ffi.typeof(lib.nstest_origin), lib.nstest_origin.x, lib.nstest_origin.y end)
try("origin.y=5", function() lib.nstest_origin.y = 5 return lib.nstest_origin.y end)
try("origin={3,4}", function() lib.nstest_origin = { 3, 4 } return lib.nstest_origin.x, lib.nstest_origin.y end)
try("table", function() return ffi.typeof(lib.nstest_table), lib.nstest_table[2] end)
try("table={1}", function() lib.nstest_table = { 1 } return lib.nstest_table[0], lib.nstest_table[3] end)
try("name", function() return ffi.typeof(lib.nstest_name), ffi.string(lib.nstest_name) end)

-- functions of a library
try("add", function() return tostring(ffi.typeof(lib.nstest_add)), lib.nstest_add(2, 3) end)
try("sub by asm label", function() return lib.nstest_sub(7, 2) end)
try("same address", function()
  local function address(f) return tonumber(ffi.cast("intptr_t", f)) end
  return address(lib.nstest_sub) == address(lib.nstest_sym_sub)
end)
try("nowhere", function() return lib.nstest_nowhere end)
try("undeclared", function() return lib.nstest_undeclared end)
try("write function", function() lib.nstest_bump = nil end)
try("constant", function() return lib.NS_GREEN end)

-- global: ffi.C sees the library
local global_lib = ffi.load("jitffi_nstest", true)
try("C after global", function() return ffi.C.nstest_add(1, 1) end)
try("C variable", function() ffi.C.nstest_counter = 12 return lib.nstest_counter, global_lib.nstest_counter end)
