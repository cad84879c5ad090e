-- Differential test: calls into C (tests/c/calltest.c) printed the same way under
-- luajit and jitffi: every scalar width with its extension, bool, enums, strings,
-- pointers, NULL, structs and unions by value both ways, complex, varargs, many
-- arguments, function pointers, errno, and the errors of bad calls. Numbers are
-- printed by `v` so that 5.3+ integers and LuaJIT's int64 cdata read alike. Packed
-- structs by value are in tests/lua/calls.lua: LuaJIT passes them wrong.
local ffi = require "ffi"
local d = require "diffshow"

local dir = assert(os.getenv("JITFFI_TESTLIB_DIR"), "JITFFI_TESTLIB_DIR is not set")
local lib = ffi.load(dir .. "/libjitffi_calltest.so")

local function v(x)
  if type(x) == "number" then
    if x == math.floor(x) and math.abs(x) < 2^53 then return ("%d"):format(x) end
    return ("%.17g"):format(x)
  elseif type(x) == "cdata" and ffi.istype("int64_t", x) or ffi.istype("uint64_t", x) then
    return (tostring(x):gsub("U?LL$", ""))
  end
  return tostring(x)
end
local function try(label, f, ...)
  local r = { pcall(f, ...) }
  local out = {}
  if r[1] then
    for i = 2, #r do out[#out + 1] = v(r[i]) end
    print(label, "ok " .. table.concat(out, " "))
  else
    -- jitffi adds the function's name and the counts to LuaJIT's message.
    local text = d.show(false, r[2]):gsub("(wrong number of arguments for function call).*", "%1")
    print(label, text)
  end
end

ffi.cdef [[
int8_t ct_i8(int8_t); uint8_t ct_u8(uint8_t); int16_t ct_i16(int16_t); uint16_t ct_u16(uint16_t);
int32_t ct_i32(int32_t); uint32_t ct_u32(uint32_t); int64_t ct_i64(int64_t); uint64_t ct_u64(uint64_t);
bool ct_not(bool); float ct_f32(float); double ct_f64(double);
int64_t ct_widen_i8(int8_t); int64_t ct_widen_u16(uint16_t); int64_t ct_widen_i32(int32_t);
enum ct_color { CT_RED = 1, CT_GREEN = 2, CT_BLUE = -3 };
int ct_color_value(enum ct_color); enum ct_color ct_next_color(enum ct_color);
const char *ct_echo(const char *); size_t ct_len(const char *); int *ct_null(void);
int ct_deref(const int *); void ct_fill(int *, int); void ct_nothing(void); int ct_set_errno(int);
double ct_many(int, double, int, double, int, double, int, double, int, double, int, double,
               int, double, int, double, int, double, int, double, int, double, int, double);
int64_t ct_stack_small(int, int, int, int, int, int, int8_t, uint16_t, int32_t);
struct ct_ii { int a, b; }; struct ct_dd { double x, y; }; struct ct_id { int a; double x; };
struct ct_fff { float a, b, c; }; struct ct_big { int64_t a, b, c; };
struct ct_arr { char tag; short v[3]; };
struct __attribute__((packed)) ct_packed { char c; int i; };
union ct_u { int i; float f; }; struct ct_nested { struct ct_ii in; float f; };
int ct_ii_sum(struct ct_ii); double ct_dd_sum(struct ct_dd); double ct_id_sum(struct ct_id);
double ct_fff_sum(struct ct_fff); int64_t ct_big_sum(struct ct_big); int ct_arr_sum(struct ct_arr);
int ct_packed_sum(struct ct_packed); int ct_union_int(union ct_u); double ct_nested_sum(struct ct_nested);
int ct_ii_after_regs(int, int, int, int, int, struct ct_ii);
struct ct_ii ct_ii_make(int, int); struct ct_dd ct_dd_make(double, double);
struct ct_id ct_id_make(int, double); struct ct_fff ct_fff_make(float, float, float);
struct ct_big ct_big_make(int64_t, int64_t, int64_t); struct ct_packed ct_packed_make(char, int);
double complex ct_cmul(double complex, double complex);
float complex ct_cmulf(float complex, float complex);
double ct_vsum(const char *, ...);
typedef int (*ct_binop)(int, int);
ct_binop ct_pick(int); int ct_apply(ct_binop, int, int);
]]

-- scalars: truncation, wraparound and extension both ways
-- A number whose integer part is outside the parameter's type converts with a C cast,
-- which LuaJIT leaves undefined: x86-64's wraps, as jitffi does everywhere, arm64's
-- saturates. Compared on x86-64 only.
local ranges = { -- [low, high)
  i8 = { -2^7, 2^7 }, u8 = { 0, 2^8 }, i16 = { -2^15, 2^15 }, u16 = { 0, 2^16 },
  i32 = { -2^31, 2^31 }, u32 = { 0, 2^32 },
}
local function defined(x, ...)
  if ffi.arch ~= "arm64" then return true end
  local integer = x < 0 and math.ceil(x) or math.floor(x)
  for i = 1, select("#", ...) do
    local range = ranges[select(i, ...)]
    if integer < range[1] or integer >= range[2] then return false end
  end
  return true
end
for _, x in ipairs({ 0, 1, -1, 127, 128, -128, 255, 256, 32767, 65535, -2.5, 3.99, 2^31, -2^31, 2^32 + 5 }) do
  for _, t in ipairs({ "i8", "u8", "i16", "u16", "i32", "u32" }) do
    if defined(x, t) then try(t .. " " .. v(x), lib["ct_" .. t], x) end
  end
  if defined(x, "i8", "u16", "i32") then
    try("widen " .. v(x), function() return lib.ct_widen_i8(x), lib.ct_widen_u16(x), lib.ct_widen_i32(x) end)
  end
end
try("i64", lib.ct_i64, ffi.new("int64_t", -2^53) - 1)
try("i64 number", lib.ct_i64, 2^40)
try("u64", lib.ct_u64, ffi.new("uint64_t", 0) - 2)
try("u64 wraps", lib.ct_u64, ffi.new("uint64_t", 0) - 1)
try("bool", function() return lib.ct_not(true), lib.ct_not(false), lib.ct_not(0), lib.ct_not(2) end)
try("f32", lib.ct_f32, 1.25)
try("f32 rounds", lib.ct_f32, 0.1)
try("f64", lib.ct_f64, 1e300)
try("int from cdata", lib.ct_i32, ffi.new("uint8_t", 200))
try("double from cdata", lib.ct_f64, ffi.new("float", 0.5))
try("enum", function() return lib.ct_color_value(lib.CT_BLUE), lib.ct_color_value("CT_GREEN") end)
try("enum result", function() return tostring(lib.ct_next_color(1)) end)

-- strings and pointers
try("echo", function() return ffi.string(lib.ct_echo("hello")) end)
try("len", function() return lib.ct_len("four"), lib.ct_len(nil), lib.ct_len("") end)
try("null result", function() return lib.ct_null() == nil end)
try("deref", function() return lib.ct_deref(ffi.new("int[1]", 77)), lib.ct_deref(nil) end)
try("fill", function()
  local a = ffi.new("int[5]")
  lib.ct_fill(a, 5)
  return a[0], a[1], a[4]
end)
try("void", function() return select("#", lib.ct_nothing()) end)
try("errno", function()
  lib.ct_set_errno(34)
  local e = ffi.errno()
  lib.ct_set_errno(0)
  return e, ffi.errno()
end)

-- many arguments, small integers on the stack
try("many", lib.ct_many, 1, 0.5, 2, 0.25, 3, 1, 4, 2, 5, 3, 6, 4, 7, 5, 8, 6, 9, 7, 10, 8, 11, 9, 12, 10)
try("stack small", lib.ct_stack_small, 1, 2, 3, 4, 5, 6, -7, 65535, -2)

-- aggregates by value
try("ii", lib.ct_ii_sum, ffi.new("struct ct_ii", 3, 4))
try("ii table", lib.ct_ii_sum, { 5, 6 })
try("dd", lib.ct_dd_sum, ffi.new("struct ct_dd", 1.5, 2.25))
try("id", lib.ct_id_sum, { 7, 0.5 })
try("fff", lib.ct_fff_sum, { 1, 2, 3 })
try("big", lib.ct_big_sum, { 1, 2, 3 })
try("arr", lib.ct_arr_sum, { 1, { 2, 3, 4 } })
try("union", lib.ct_union_int, ffi.new("union ct_u", { 99 }))
try("nested", lib.ct_nested_sum, { { 1, 2 }, 0.5 })
try("after regs", lib.ct_ii_after_regs, 1, 2, 3, 4, 5, { 6, 7 })
try("ii make", function() local s = lib.ct_ii_make(-1, 2) return ffi.typeof(s), s.a, s.b end)
try("dd make", function() local s = lib.ct_dd_make(0.5, -2) return s.x, s.y end)
try("id make", function() local s = lib.ct_id_make(9, 1.5) return s.a, s.x end)
try("fff make", function() local s = lib.ct_fff_make(1, 2, 3) return s.a, s.b, s.c end)
try("big make", function() local s = lib.ct_big_make(1, -2, 3) return s.a, s.b, s.c end)
try("cmul", function()
  local c = lib.ct_cmul(ffi.new("complex", 1, 2), ffi.new("complex", 3, 4))
  return c.re, c.im
end)
try("cmulf", function()
  local c = lib.ct_cmulf(ffi.new("complex float", 1, 2), ffi.new("complex float", 3, 4))
  return c.re, c.im
end)

-- varargs: numbers pass as double, strings as const char *, cdata keep their type
try("vsum d", lib.ct_vsum, "dd", 1.5, 2)
try("vsum i", lib.ct_vsum, "ii", ffi.new("int", 3), ffi.new("int", -4))
try("vsum l", lib.ct_vsum, "l", ffi.new("int64_t", 5))
try("vsum s", lib.ct_vsum, "sds", "abc", 0.5, "hello")
try("vsum p", lib.ct_vsum, "pp", nil, ffi.new("int[1]"))
try("vsum none", lib.ct_vsum, "")

-- function pointers
try("pick", function() return lib.ct_pick(0)(2, 3), lib.ct_pick(1)(2, 3) end)
try("apply", function() return lib.ct_apply(lib.ct_pick(1), 6, 7) end)
try("cast call", function() return ffi.cast("ct_binop", lib.ct_pick(0))(4, 5) end)

-- bad calls
try("too few", lib.ct_i32)
try("too many", lib.ct_i32, 1, 2)
try("string to int", lib.ct_i32, "12")
try("table to int", lib.ct_i32, {})
try("nil to int", lib.ct_i32, nil)
try("int to pointer", lib.ct_deref, 5)
try("wrong pointer", lib.ct_deref, ffi.new("double[1]"))
try("number to struct", lib.ct_ii_sum, 5)
try("wrong struct", lib.ct_ii_sum, ffi.new("struct ct_dd"))
try("varargs too few", lib.ct_vsum)
try("varargs table", lib.ct_vsum, "i", {})
try("not callable", function() return ffi.new("int", 1)() end)
