-- jitffi's own type behaviour, where it goes beyond LuaJIT or LuaJIT is not the
-- reference (see tests/diff for what must equal LuaJIT). Runs on jitffi and on every
-- stock Lua with ffi.so; exits non-zero on the first failed assertion.
local ffi = require "ffi"

local function fails(pattern, f, ...)
  local ok, err = pcall(f, ...)
  assert(not ok, "expected an error matching " .. pattern)
  assert(tostring(err):find(pattern), "error '" .. tostring(err) .. "' does not match " .. pattern)
end

-- A failed cdef changes nothing: the typedef and tag from its first half are absent.
fails("declaration specifier expected near 'oops' at line 2", ffi.cdef,
  "typedef struct half { int a; } half_t;\noops;")
fails("undeclared or implicit tag 'half'", ffi.typeof, "struct half")
fails("declaration specifier expected near 'half_t'", ffi.typeof, "half_t")
ffi.cdef "typedef struct half { double d; } half_t;"
assert(ffi.sizeof("half_t") == 8)

-- Identical redeclaration is a no-op; a conflicting one names the symbol.
ffi.cdef "typedef struct half { double d; } half_t; int puts(const char *);"
ffi.cdef "int puts(const char *);"
fails("attempt to redefine 'half_t'", ffi.cdef, "typedef int half_t;")
fails("attempt to redefine 'puts'", ffi.cdef, "int puts(int);")
fails("attempt to redefine 'half'", ffi.cdef, "struct half { int other; };")

-- Forward declarations completed later keep the pointer types made before.
ffi.cdef "struct later; typedef struct later *later_p;"
assert(ffi.sizeof("struct later") == nil)
ffi.cdef "struct later { int a, b; };"
assert(ffi.sizeof("struct later") == 8)
assert(ffi.typeof("later_p") == ffi.typeof("struct later *"))

-- Beyond LuaJIT: 64-bit bitfields, enum : type, _Alignas, _Static_assert, #define.
ffi.cdef [[
#define BUF_SIZE (4 * 16)
#define NOT_A_CONSTANT "text"
#define FUNCTION_LIKE(x) ((x) + 1)
struct wide { unsigned long long lo : 40, hi : 24; };
enum small : unsigned char { S0, S1 = 200 };
struct al { char c; _Alignas(16) int x; };
_Static_assert(sizeof(struct wide) == 8, "wide is one word");
typedef char buffer[BUF_SIZE];
]]
assert(ffi.sizeof("buffer") == 64)
assert(ffi.sizeof("struct wide") == 8)
local off, pos, width = ffi.offsetof("struct wide", "hi")
assert(off == 0 and pos == 40 and width == 24, "hi at " .. tostring(off) .. "," .. tostring(pos))
assert(ffi.sizeof("enum small") == 1)
assert(ffi.offsetof("struct al", "x") == 16 and ffi.alignof("struct al") == 16)
fails("static assertion failed", ffi.cdef, [[_Static_assert(sizeof(int) == 8, "int is not 8");]])

-- Function types are interned like all others: one ctype object per type.
assert(ffi.typeof("int (*)(int)") == ffi.typeof("int (*)(int)"))
assert(rawequal(ffi.typeof("int"), ffi.typeof("int")))

-- Layout follows gcc where LuaJIT's differs: on x86-64 a 32-byte vector is placed at 32
-- in a struct (its _Alignof, like LuaJIT's alignof, is 16) and a zero-width bitfield
-- does not align the struct; on AArch64 the vector aligns to 16 and the bitfield gives
-- the struct its type's alignment (aarch64-linux-gnu-gcc).
local arm64 = ffi.arch == "arm64"
assert(ffi.alignof("float __attribute__((vector_size(32)))") == 16)
ffi.cdef "struct v32s { char c; float v __attribute__((vector_size(32))); };"
assert(ffi.offsetof("struct v32s", "v") == (arm64 and 16 or 32))
assert(ffi.sizeof("struct v32s") == (arm64 and 48 or 64))
ffi.cdef "struct zw { char a; int : 0; char b; };"
assert(ffi.sizeof("struct zw") == (arm64 and 8 or 5) and ffi.offsetof("struct zw", "b") == 4)

-- Bad input is an error, never a crash or hang.
fails("too many syntax levels", ffi.cdef, "int " .. string.rep("*", 100000) .. " p;")
fails("size of C type is unknown or too large", ffi.typeof, "char[0x7fffffffffffffff]")
fails("size of C type is unknown or too large", ffi.cdef, "struct self { struct self s; };")
fails("C type expected, got nil", ffi.sizeof, nil)
for i = 1, 200 do
  local src = "struct t" .. i .. " { int a[" .. i .. "]; unsigned b : " .. (i % 33) .. "; };"
  pcall(ffi.cdef, src:sub(1, i % #src))
end

-- LuaJIT's `_Bool int`: a four-byte boolean (gcc refuses it). Stores write 0 or 1 into
-- all four bytes; a read is true when any of them is set.
ffi.cdef "typedef _Bool int ty_bi; struct ty_bs { char c; _Bool int b; char d; };"
assert(ffi.sizeof("ty_bi") == 4 and ffi.alignof("ty_bi") == 4)
assert(tostring(ffi.typeof("ty_bi")) == "ctype<bool>" and ffi.typeof("ty_bi") ~= ffi.typeof("bool"))
assert(ffi.sizeof("int _Bool") == 4 and ffi.sizeof("unsigned _Bool") == 1)
local bs = ffi.new("struct ty_bs")
assert(ffi.sizeof(bs) == 12 and ffi.offsetof("struct ty_bs", "d") == 8)
local bs_int = ffi.cast("int *", ffi.cast("char *", bs) + 4)
bs.b = 7
assert(bs.b == true and bs_int[0] == 1)
bs_int[0] = 0x1000000
assert(bs.b == true)
bs.b = false
assert(bs.b == false and bs_int[0] == 0)
assert(tonumber(ffi.new("ty_bi", 256)) == 1 and tonumber(ffi.cast("int", ffi.new("ty_bi", -1))) == 1)
for _, bad in ipairs { "_Bool long", "_Bool char", "_Bool short", "_Bool double", "long _Bool" } do
  fails("invalid C type", ffi.typeof, bad)
end
fails("cannot convert 'bool' to 'void %*'", ffi.cast, "void *", ffi.new("ty_bi", 1))

print("types.lua: ok")
