-- Differential test: C type names, sizes, alignments, offsets and errors, printed the
-- same way under luajit and jitffi (tests/diff.sh compares the outputs).
-- Known, documented differences (docs/porting.md "Differences from LuaJIT") are left out.
local ffi = require "ffi"

local show = require("diffshow").show

local names = {
  "int8_t", "uint8_t", "char", "signed char", "unsigned char", "short", "int16_t",
  "unsigned short int", "long", "unsigned long", "long long", "int64_t", "size_t",
  "ssize_t", "intptr_t", "uintptr_t", "ptrdiff_t", "wchar_t", "bool", "_Bool", "float",
  "double", "long double", "complex", "complex float", "complex double", "va_list",
  "__builtin_va_list", "__int8", "__int16", "__int32", "__int64", "unsigned", "signed",
  "long int", "unsigned long long int", "long long long", "uint32_t", "void", "void *",
  "const char *", "int (*)()", "int (*)(int, ...)", "int [3]", "int [?]", "int [2][3][4]",
  "int (*[3])(double)", "const int", "volatile int *", "int *const", "char (*)[4]",
  "int __attribute__((vector_size(16)))", "float __attribute__((vector_size(8))) *",
  "int (void)", "int &", "const int &", "int (&)[3]", "const volatile int",
  "volatile const char *", "int (*)[?]", "int *const *", "int **",
  "const int *const *const", "int (**)[3]", "int *[3]", "int (*[2])[3]",
  "int (*(*)(int))[3]", "int *(*)(int)", "void (*(*)[2])()", "const int [3]",
  "const int (*)[3]", "complex float *", "int (*const)(int)", "int *volatile const",
  "int (__stdcall *)(int)", "int (__cdecl *)(void)", "__int64 *",
  -- errors
  "int x", "struct", "int [", "int (*)(int)[1]", "foo_t_undeclared", "struct nope",
  "int [-1]", "",
}
-- wchar_t is gcc's on each platform (unsigned on AArch64, as plain char), while LuaJIT
-- makes it a signed int everywhere: compared on x86-64 only.
if ffi.arch == "arm64" then
  for i, name in ipairs(names) do
    if name == "wchar_t" then table.remove(names, i) break end
  end
end
for _, name in ipairs(names) do
  local ok, ct = pcall(ffi.typeof, name)
  if ok then
    print(name, tostring(ct), show(pcall(ffi.sizeof, ct)), show(pcall(ffi.alignof, ct)))
  else
    print(name, show(false, ct))
  end
end

ffi.cdef [[
struct pt { int x, y; };
typedef struct pt pt_t;
typedef int myint;
enum color { RED, GREEN = 5, BLUE };
struct fwd;
struct bits { unsigned a:3, b:5; int c:20; int d:10; };
struct nested { char c; struct pt p; union { double d; int i; }; struct { short s; } named; };
struct vls { int n; double d[?]; };
static const int K = 6;
enum { E_SIZE = sizeof(struct pt) * 2, E_ALIGN = __alignof__(double), E_EXPR = (1 << 4) | 3 };
typedef int arr_k[K];
]]

for _, name in ipairs {
  "struct pt", "pt_t", "pt_t *", "myint", "enum color", "struct fwd *", "struct pt [2]",
  "struct bits", "struct nested", "arr_k", "struct vls",
} do
  local ct = ffi.typeof(name)
  print(name, tostring(ct), show(pcall(ffi.sizeof, ct)), ffi.alignof(ct))
end
print("vls sizes", ffi.sizeof("struct vls", 0), ffi.sizeof("struct vls", 3), ffi.sizeof("int[?]", 7))
print("consts", ffi.sizeof("arr_k"), ffi.offsetof("struct nested", "d"), ffi.offsetof("struct nested", "i"))
for _, f in ipairs { "a", "b", "c", "d", "zz" } do
  print("bits." .. f, show(pcall(ffi.offsetof, "struct bits", f)))
end
for _, f in ipairs { "c", "p", "d", "i", "named" } do
  print("nested." .. f, show(pcall(ffi.offsetof, "struct nested", f)))
end

-- typeof with a ctype, $ parameters, identity
local int_t = ffi.typeof("int")
print(ffi.typeof(int_t), ffi.typeof("$ *", int_t), ffi.typeof("$ [$]", int_t, 4))
print(ffi.typeof("struct pt") == ffi.typeof("pt_t"), ffi.typeof("int") == ffi.typeof("int"))
print(ffi.typeof("int") == ffi.typeof("unsigned int"), getmetatable(int_t))

-- istype
print(ffi.istype("int", int_t), ffi.istype("const int", int_t), ffi.istype("int", 1),
  ffi.istype("struct pt", ffi.typeof("struct pt *")), ffi.istype("int *", ffi.typeof("const int *")),
  ffi.istype("void *", ffi.typeof("int *")), ffi.istype("double", int_t))

-- abi, os, arch
for _, p in ipairs { "32bit", "64bit", "le", "be", "fpu", "softfp", "hardfp", "eabi", "win", "uwp", "gc64", "bogus" } do
  io.write(p, "=", tostring(ffi.abi(p)), " ")
end
print()
print(ffi.os, ffi.arch)

-- cdef errors and their texts
for _, src in ipairs {
  "int x;\n\nfoo y;", "struct { int", "struct pt { int z; };", "int 1x;", "int x y;",
  "struct q1 {int a} x;", "enum { E1 = 1/0 };", "enum { E4 = zz };", "struct s1 { struct s1 x; };",
  "struct b1 { int x : 33; };", "\"abc\"", "@", "int f7(int x, ..., int y);",
  "typedef int (fr(void))[3];", "struct v2 { int a[?]; int n; };",
} do
  print(("%q"):format(src):gsub("\\\n", "\\n"), show(pcall(ffi.cdef, src)))
end
print("after errors", show(pcall(ffi.typeof, "struct q1")), ffi.sizeof("struct pt"))

-- argument errors
print(show(pcall(ffi.sizeof, nil)), show(pcall(ffi.sizeof, {})), show(pcall(ffi.typeof, 1)))
print(show(pcall(ffi.sizeof, "int[?]", "x")), show(pcall(ffi.offsetof, "struct pt")))
print(show(pcall(ffi.cdef)), show(pcall(ffi.abi)), show(pcall(ffi.typeof, "int", {})))

-- ffi.istype: qualifiers and references ignored; numbers by kind, size and signedness;
-- pointers and arrays by size and target (signedness ignored one level down, not two)
ffi.cdef "struct ist { int a; }; enum ist_e { IST_A }; enum ist_f { IST_B };"
local istype_cases = {
  { "int", "int" }, { "int", "const int" }, { "int", "unsigned int" }, { "long", "int64_t" },
  { "int64_t", "uint64_t" }, { "int", "int &" }, { "float", "double" }, { "bool", "int8_t" },
  { "int *", "const int *" }, { "const int *", "int *const" }, { "int *", "unsigned int *" },
  { "char *", "int *" }, { "void *", "char *" }, { "char *", "void *" }, { "int **", "int **" },
  { "int **", "unsigned **" }, { "int **", "const int **" }, { "int [3]", "unsigned [3]" },
  { "int [3]", "int [4]" }, { "int [3]", "int *" }, { "struct ist", "struct ist *" },
  { "struct ist *", "struct ist" }, { "struct ist", "const struct ist &" },
  { "enum ist_e", "enum ist_f" }, { "enum ist_e *", "enum ist_f *" }, { "enum ist_e", "int" },
  { "complex", "complex double" }, { "complex float", "complex" }, { "int (*)(int)", "int (*)(double)" },
  { "struct ist *", "void *" }, { "uint8_t *", "bool *" },
}
for _, case in ipairs(istype_cases) do
  local want, have = case[1], case[2]
  local obj = ffi.new(have:find("&") and "int[1]" or have)
  if have:find("&") then obj = ffi.typeof(have) end
  print("istype", want, have, ffi.istype(want, obj), ffi.istype(want, ffi.typeof(have)))
end
print("istype non-cdata", ffi.istype("int", 1), ffi.istype("int", "int"), ffi.istype("int", nil))
