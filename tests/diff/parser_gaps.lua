-- Differential test: the edges of LuaJIT's C parser (issues 12 and 13): the maximum
-- object size, incomplete arrays, pointer-size keywords, machine modes and vectors,
-- line splices, sizeof of a string, record constants in constant expressions, and the
-- errors for a missing final ';', static variables and a record that redefines itself.
-- Printed the same way under luajit and jitffi (tests/diff.sh compares the outputs).
-- Left out: what jitffi refuses on purpose (__ptr32, gcc-invalid modes, records of
-- 512 MiB to 2 GiB; docs/porting.md "Differences from LuaJIT").
local ffi = require "ffi"

-- An error's text without its position, without the function an argument error names
-- (Lua versions name it differently), and up to the ':' jitffi adds to name a member
-- (LuaJIT names none).
local function short(message)
  message = tostring(message):gsub("^[^:]*:%d+: ", "")
  message = message:gsub("^bad argument #(%d+) to '[^']*'", "bad argument #%1")
  return (message:gsub(": [^:]*member.*$", ""))
end

local function try(label, f, ...)
  local ok, a, b, c = pcall(f, ...)
  if ok then
    print(label, "ok", tostring(a), tostring(b), tostring(c))
  else
    print(label, "error", short(a))
  end
end

local function size(label, ct, n)
  local ok, ty = pcall(ffi.typeof, ct)
  if not ok then
    print(label, "typeof error", short(ty))
    return
  end
  if n then
    print(label, tostring(ty), ffi.sizeof(ty, n))
  else
    print(label, tostring(ty), ffi.sizeof(ty), ffi.alignof(ty))
  end
end

-- Maximum object size: 2^31 - 1 bytes.
size("max char", "char[0x7fffffff]")
size("max int", "int[0x1fffffff]")
size("over char", "char[0x80000000]")
size("over int", "int[0x20000000]")
size("over 2d", "char[0x40000000][2]")
try("cdef over", ffi.cdef, "typedef char big1[0x80000000];")
try("struct over", ffi.cdef, "struct sbig { char a[0x7fffffff]; char b; };")
try("union over", ffi.cdef, "union ubig { char a[0x7fffffff]; int b; };")
ffi.cdef "typedef char big2[0x7fffffff];"
size("big[1]", "big2[1]")
size("big[2]", "big2[2]")
ffi.cdef "struct pg_vls { int n; int a[?]; }; struct pg_dv { double d; char c[?]; };"
size("vla max", "int[?]", 0x1fffffff)
size("vla over", "int[?]", 0x20000000)
size("vla neg", "int[?]", -1)
size("vls max", "struct pg_vls", 0x1ffffffe)
size("vls over", "struct pg_vls", 0x1fffffff)
size("vls 0", "struct pg_dv", 0)
size("vls 1", "struct pg_dv", 1)
size("vls 9", "struct pg_dv", 9)
try("new vla over", function() return ffi.new("int[?]", 0x20000000) ~= nil end)
try("new vla neg", function() return ffi.new("int[?]", -1) ~= nil end)

-- Incomplete arrays.
size("int []", "int []")
size("int [][10]", "int [][10]")
for _, ct in ipairs { "int [10][]", "int [][]", "int [?][]", "int [10][?]" } do
  size(ct, ct)
end
try("union vla", ffi.cdef, "union pg_uv { int n; int a[?]; };")
try("union flex", ffi.cdef, "union pg_uf { int n; int a[]; };")
try("union vls", ffi.cdef, "union pg_us { int n; struct pg_vls s; };")
try("array of []", ffi.cdef, "typedef int pg_ia[]; typedef pg_ia pg_iaa[3];")
try("param [][]", ffi.cdef, "int pg_f(int a[][]);")
ffi.cdef "struct pg_fl { int n; int a[]; };"
size("flex struct", "struct pg_fl")
size("flex struct[3]", "struct pg_fl[3]")

-- Keywords LuaJIT reads and drops; __ptr64 is every pointer's size here.
for _, ct in ipairs {
  "int * __ptr64", "int __ptr64 *", "int * __restrict", "int * __restrict__",
  "__extension__ int", "int (__cdecl *)(int)", "int (__stdcall *)(int)",
  "int (__fastcall *)(int)", "int __cdecl (*)(int)", "int * __unaligned", "int __w64",
} do
  size(ct, ct)
end

-- Machine modes and vectors (the ones gcc accepts too).
for _, ct in ipairs {
  "int __attribute__((mode(QI)))", "int __attribute__((mode(HI)))",
  "int __attribute__((mode(SI)))", "int __attribute__((mode(DI)))",
  "int __attribute__((mode(TI)))", "unsigned __attribute__((mode(TI)))",
  "int __attribute__((mode(__TI__)))", "int __attribute__((mode(OI)))",
  "double __attribute__((mode(SF)))", "float __attribute__((mode(DF)))",
  "float __attribute__((mode(V2SF)))", "float __attribute__((mode(V4SF)))",
  "float __attribute__((mode(V8SF)))", "float __attribute__((mode(V16SF)))",
  "double __attribute__((mode(V2DF)))", "double __attribute__((mode(V4DF)))",
  "int __attribute__((mode(V4SI)))", "int __attribute__((mode(V8SI)))",
  "int __attribute__((mode(V16QI)))", "char __attribute__((mode(V32QI)))",
  "short __attribute__((mode(V8HI)))", "long __attribute__((mode(V2DI)))",
  "int __attribute__((mode(V1TI)))", "int __attribute__((vector_size(16)))",
  "int __attribute__((vector_size(32)))", "int __attribute__((vector_size(64)))",
  "char __attribute__((vector_size(64)))", "double __attribute__((vector_size(32)))",
} do
  size(ct, ct)
end
ffi.cdef "typedef int pg_ti __attribute__((mode(TI))); struct pg_s128 { char c; pg_ti x; };"
size("struct int128", "struct pg_s128")
try("offsetof int128", ffi.offsetof, "struct pg_s128", "x")
try("new int128", function() return ffi.new("pg_ti") ~= nil end)
-- Debian's arm64 LuaJIT converts a number to a 16-byte integer (x86-64's refuses, as
-- jitffi does everywhere): compared on x86-64 only.
if ffi.arch ~= "arm64" then try("number to int128", ffi.new, "pg_ti", 5) end

-- Line splices, anywhere.
try("splice", ffi.cdef, "typedef unsigned \\\nint pg_bsnl_t;")
size("splice type", "pg_bsnl_t")
try("splice in a name", ffi.cdef, "typedef int pg_bs\\\nnl2_t[1\\\r\n6];")
size("spliced name", "pg_bsnl2_t")
try("splice line count", ffi.cdef, "typedef int \\\n pg_x1; \n@")

-- sizeof of a string literal.
try("sizeof string", ffi.cdef, [[typedef int pg_s3[sizeof("abc")]; typedef int pg_s5[sizeof "abc" "de"];
  typedef int pg_s0[sizeof("")]; enum { PG_EK = sizeof("hello") };]])
size("sizeof \"abc\"", "pg_s3")
size("sizeof \"abc\" \"de\"", "pg_s5")
size("sizeof \"\"", "pg_s0")
print("enum sizeof", ffi.C.PG_EK)
try("string value", ffi.cdef, "enum { PG_EB = \"abc\" };")

-- Record constants and members in constant expressions.
ffi.cdef [[struct pg_rk { static const int K = 4; int x; char c[3]; struct { enum { PG_AK = 7 }; int y; }; };
  extern struct pg_rk pg_rkvar; extern struct pg_rk *pg_rkptr; extern struct pg_rk &pg_rkref;]]
for _, ct in ipairs {
  "int[((struct pg_rk *)0)->K]", "int[(((struct pg_rk *)0))->K + 1]", "int[pg_rkvar.K]",
  "int[pg_rkptr->K * 2]", "int[pg_rkref.K]", "int[pg_rkvar.PG_AK]", "int[sizeof(pg_rkvar.x)]",
  "int[sizeof pg_rkvar.c]", "int[sizeof(pg_rkvar)]", "int[sizeof(((struct pg_rk *)0)->c)]",
  "int[sizeof(pg_rkptr->y)]", "int[sizeof(*pg_rkptr) / 4]", "int[sizeof(pg_rkptr[1])]",
  "int[sizeof(pg_rkvar.c[1])]", "int[sizeof(&pg_rkvar)]", "int[((struct pg_rk *)0)->nope]",
  "int[pg_rkvar->K]", "int[sizeof(*1)]", "int[((struct pg_rk)0).K]", "int[((struct pg_rk)0).nope]",
} do
  size(ct, ct)
end

-- A missing final ';' is accepted for one declaration only.
try("one decl", ffi.cdef, "int pg_b1")
try("one struct", ffi.cdef, "struct pg_ms1 { int x; } ")
try("two decls", ffi.cdef, "int pg_a1; int pg_a2")
try("two structs", ffi.cdef, "struct pg_ms2 { int x; }; struct pg_ms3 { int x; }")
try("after ;", ffi.cdef, "; int pg_a3")

-- static objects: constants only.
for _, src in ipairs {
  "static int pg_sv1;", "static int pg_sv2 = 3;", "static double pg_sv4;",
  "static const double pg_sv5 = 1;", "static const char *pg_sv7;", "static const int pg_sv8;",
  "struct pg_sr { static int k; };", "static const int pg_sv3 = 3;",
} do
  try(src, ffi.cdef, src)
end
print("static const", ffi.C.pg_sv3)

-- A record may not define itself inside its own body.
for _, src in ipairs {
  "struct pg_self { struct pg_self { int x; } a; };",
  "struct pg_self5 { struct { struct pg_self5 { int z; } q; } a; };",
  "union pg_selfu { union pg_selfu { int x; } a; };",
  "struct pg_self4 { int y; struct pg_self4 a; };",
  "struct pg_list { struct pg_list *next; };",
} do
  try(src, ffi.cdef, src)
end

-- ffi.offsetof through a reference.
ffi.cdef "struct pg_ofs { int a; int x; int b : 3; static const int K = 5; };"
try("offsetof ref", ffi.offsetof, "struct pg_ofs &", "x")
try("offsetof const ref bitfield", ffi.offsetof, "const struct pg_ofs &", "b")
try("offsetof pointer", ffi.offsetof, "struct pg_ofs *", "x")
try("offsetof constant", ffi.offsetof, "struct pg_ofs &", "K")

-- An attribute after the tag of a struct, union or enum that starts no definition is
-- the declaration's (gcc's reading): a typedef's alignment, smaller or larger, a
-- member's larger one.
ffi.cdef [[
struct pg_sa { int x; };
union pg_ua { int x; };
enum pg_ef { PG_EF };
typedef struct pg_sa __attribute__((aligned(16))) pg_sa16;
typedef struct pg_sa __attribute__((aligned(2))) pg_sa2;
typedef struct pg_sa __attribute__((aligned(16))) *pg_psa16;
typedef union pg_ua __attribute__((aligned(16))) pg_ua16;
typedef enum pg_ef __attribute__((aligned(8))) pg_ef8;
struct pg_sg { char c; struct pg_sa __attribute__((aligned(16))) m; };
]]
for _, ct in ipairs { "pg_sa16", "pg_sa2", "pg_psa16", "pg_ua16", "pg_ef8", "struct pg_sa",
  "union pg_ua", "enum pg_ef", "struct pg_sg" } do
  size("attribute after a tag: " .. ct, ct)
end
try("offset of an aligned member", ffi.offsetof, "struct pg_sg", "m")
