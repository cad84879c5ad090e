-- The module `cbframe`: the CPU state view, its typed readers and writers, and raw
-- callbacks called from C (tests/c/cbframetest.c) with arguments of many signatures.
local ffi = require "ffi"
local cbframe = require "cbframe"
local check = require "check"
local fails, eq = check.fails, check.eq

local dir = assert(os.getenv("JITFFI_TESTLIB_DIR"), "JITFFI_TESTLIB_DIR is not set")
local lib = ffi.load(dir .. "/libjitffi_cbframetest.so")
ffi.cdef [[
struct cf_pair { double x; int y; };
struct cf_big { long a, b, c; };
int64_t cf_ints(void *f);
double cf_floats(void *f);
long long cf_stack(void *f);
double cf_variadic(void *f);
long cf_structs(void *f);
struct cf_pair cf_ret_pair(void *f);
long cf_ret_big_sum(void *f);
float cf_ret_float(void *f);
int cf_ret_int8(void *f);
int cf_ret_bool(void *f);
int cf_recurse(void *f, int n);
int cf_call_int(void *f, int x);
void cf_registers(void *f, uint64_t *out);
]]

-- The registers the portable parts below use by name: the first integer argument and
-- result, the first vector register, two callee-saved and one caller-saved integer
-- register (as tests/c/cbframetest.c's cf_registers sets them), the flags and carry.
local arm64 = ffi.arch == "arm64"
local ARG1, RET, VEC0 = "RDI", "RAX", "XMM0"
local SAVED1, SAVED2, SCRATCH, FLAGS, CARRY = "RBX", "R12", "R10", "RFLAGS", "CF"
if arm64 then
  ARG1, RET, VEC0 = "X0", "X0", "V0"
  SAVED1, SAVED2, SCRATCH, FLAGS, CARRY = "X19", "X20", "X9", "NZCV", "C"
end

-- The 16 hex digits of a 64-bit register view (exact on every Lua version).
local function hex(q)
  return string.format("%08x%08x", q.hi.u, q.lo.u)
end

eq(require "cbframe", cbframe, "require returns the same module")
eq(type(cbframe.new), "function", "cbframe.new")

-- ---- the view of the state --------------------------------------------------------

local CPU = cbframe.cpu_state
if not arm64 then
  eq(ffi.sizeof(CPU), 400, "size of the state")
  eq(ffi.offsetof(CPU, "XMM0"), 0, "xmm registers first")
  eq(ffi.offsetof(CPU, "XMM15"), 240, "xmm15")
  eq(ffi.offsetof(CPU, "RAX"), 256, "general registers after them")
  eq(ffi.offsetof(CPU, "RDI"), 256 + 7 * 8, "in encoding order")
  eq(ffi.offsetof(CPU, "R15"), 256 + 15 * 8, "r15")
  eq(ffi.offsetof(CPU, "RFLAGS"), 384, "rflags")

  local cpu = ffi.new(CPU)
  fails("cbframe: RSP is NULL: this state has no stack to read", function() return cpu:arg(7, "int") end)
  fails("cbframe: RSP is NULL", function() return cpu:stack(1) end)
  assert(not cbframe.format(ffi.cast("struct jitffi_cpu *", cpu)):find("RSP+", 1, true),
    "no stack in the dump without a stack")
  cpu.RAX.i = -2
  eq(hex(cpu.RAX), "fffffffffffffffe", "int64 view")
  eq(cpu.RAX.lo.i, -2, "low half signed")
  eq(cpu.RAX.lo.u, 4294967294, "low half unsigned")
  eq(cpu.RAX.hi.i, -1, "high half signed")
  eq(cpu.RAX.hi.u, 4294967295, "high half unsigned")
  cpu.RBX.lo.u = 0xdeadbeef
  cpu.RBX.hi.u = 0x01234567
  eq(hex(cpu.RBX), "01234567deadbeef", "halves make the register")
  eq(tonumber(cpu.RBX.u), 0x01234567deadbeef, "uint64 view")
  cpu.RCX.p = ffi.cast("void *", 0x1234)
  eq(tonumber(cpu.RCX.u), 0x1234, "pointer view")
  eq(cpu.GPR[1].lo.i, 0x1234, "GPR[1] is rcx")
  cpu.RDX.d = 0.5
  eq(cpu.RDX.lo.u, 0, "double view, low half")
  eq(cpu.RDX.hi.u, 0x3fe00000, "double view, high half")
  cpu.RDX.lo.f = 1.5
  eq(cpu.RDX.lo.f, 1.5, "float view of the low half")
  cpu.XMM0.d[0] = 1.5
  eq(cpu.XMM0.f[1], 1.9375, "float lanes over double lanes")
  eq(cpu.XMM0.u32[1], 0x3ff80000, "integer lanes")
  eq(cpu.XMM0.lo.hi.u, 0x3ff80000, "qword views of a vector register")
  cpu.XMM[15].f[3] = -2
  eq(cpu.XMM15.f[3], -2, "XMM[15] is XMM15")
  eq(cpu.XMM15.i16[7], -16384, "16-bit lanes")
  cpu.RFLAGS.u = 0x246
  eq(cpu.RFLAGS.ZF, 1, "flag bits by name")
  eq(cpu.EFLAGS.CF, 0, "EFLAGS is RFLAGS")
  cpu.RFLAGS.CF = 1
  eq(tonumber(cpu.RFLAGS.u), 0x247, "setting a flag")

  -- ---- readers and writers on a state made by hand ----------------------------------

  -- A fake caller stack: slot 0 is the return address, slots 1.. the stack arguments.
  local stack = ffi.new("uint64_t[8]")
  cpu = ffi.new(CPU)
  local p = ffi.cast("struct jitffi_cpu *", cpu)
  p.RSP.p = stack
  p.RDI.i, p.RSI.i, p.RDX.i, p.RCX.i, p.R8.i, p.R9.i = 1, -2, 3, 4, 5, 6
  for i = 0, 7 do
    p.XMM[i].d[0] = i + 0.5
  end
  stack[1], stack[2] = 7, 8
  ffi.cast("double *", stack)[3] = 8.5
  eq(p:arg(1, "int"), 1, "arg 1 int")
  eq(p:arg(2, "int"), -2, "arg 2 int (sign)")
  eq(p:arg(2, "unsigned char"), 254, "arg 2 read as its own width")
  eq(tonumber(p:arg(6, "long")), 6, "arg 6 int")
  eq(tonumber(p:arg(7, "long")), 7, "arg 7: first stack slot")
  eq(p:arg(8, "int"), 8, "arg 8: second stack slot")
  eq(p:arg(1, "double"), 0.5, "arg 1 double is xmm0")
  eq(p:arg(8, "double"), 7.5, "arg 8 double is xmm7")
  eq(p:arg(9, "double"), tonumber(ffi.cast("double *", stack)[1]), "arg 9 double: stack slot 1")
  eq(p:arg(2, "float"), tonumber(ffi.cast("float *", p.XMM1.f)[0]), "float from the low lane")
  eq(tonumber(p:stack(1).i), 7, "stack slot view")
  eq(p:stack(3, "double"), 8.5, "stack slot as a type")
  p:stack(2).i = 80
  eq(tonumber(stack[2]), 80, "stack slots are writable")
  eq(p:arg(1, "void *"), ffi.cast("void *", 1), "pointer argument")
  eq(p:arg(1, "bool"), true, "bool argument")
  fails("bad argument #2 to 'arg' ('struct cf_big' is not passed in one register: use cpu:args)",
    p.arg, p, 1, "struct cf_big")
  fails("bad argument #1 to 'arg' (integer >= 1 expected, got 0)", p.arg, p, 0, "int")
  fails("bad argument #2 to 'arg' (", p.arg, p, 1, "no_such_type")
  fails("bad argument #2 to 'arg' (C type expected, got no value)", p.arg, p, 1)

  -- Whole signatures: the struct takes xmm0 + rdi, the next int rsi, the big struct
  -- goes on the stack.
  p.XMM0.d[0] = 2.5
  p.RDI.i = -7
  p.RSI.i = 9
  stack[1], stack[2], stack[3] = 100, 200, 300
  local pair, n, big = p:args("long (*)(struct cf_pair, int, struct cf_big)")
  eq(ffi.istype("struct cf_pair", pair), true, "struct argument is a struct cdata")
  eq(pair.x, 2.5, "struct argument, sse part")
  eq(pair.y, -7, "struct argument, integer part")
  eq(n, 9, "int after a struct")
  eq(tonumber(big.a + big.b + big.c), 600, "memory-class struct from the stack")
  stack[1] = 0
  eq(tonumber(big.a), 100, "struct arguments are copies")
  eq(select("#", p:args("void (*)(void)")), 0, "no arguments")
  fails("bad argument #1 to 'args' (function type expected, got 'int')", p.args, p, "int")
  fails("is not variadic", p.args, p, "void (*)(int)", "int")

  -- A result in memory: the hidden pointer takes rdi, arguments start at rsi.
  p.RSI.i = 44
  eq(p:args("struct cf_big (*)(int)"), 44, "argument after the hidden result pointer")

  -- Writing results.
  p:ret(-1, "int8_t")
  eq(hex(p.RAX), "ffffffffffffffff", "int8_t result sign-extended")
  p:ret(-1, "uint16_t")
  eq(hex(p.RAX), "000000000000ffff", "uint16_t result zero-extended")
  p:ret(true, "bool")
  eq(hex(p.RAX), "0000000000000001", "bool result")
  p:ret(2.5, "double")
  eq(p.XMM0.d[0], 2.5, "double result in xmm0")
  p:ret(0.25, "float")
  eq(p.XMM0.f[0], 0.25, "float result in xmm0")
  p:ret(ffi.cast("void *", 0xabc), "void *")
  eq(tonumber(p.RAX.u), 0xabc, "pointer result")
  p:ret({ 1.25, 33 }, "struct cf_pair")
  eq(p.XMM0.d[0], 1.25, "struct result, sse part")
  eq(tonumber(p.RAX.i), 33, "struct result, integer part")
  local buffer = ffi.new("struct cf_big")
  p.RDI.p = buffer
  p.RAX.u = 0
  p:ret({ 1, 2, 3 }, "struct cf_big")
  eq(tonumber(buffer.c), 3, "memory result copied to the caller's buffer")
  eq(p.RAX.p, ffi.cast("void *", buffer), "and its address returned in rax")
  p:ret(nil, "void")
  fails("cannot return 'long double'", p.ret, p, 0, "long double")

  -- Dump.
  local text = cbframe.format(p)
  assert(text:find("RAX    0x0000000000000000", 1, true) or text:find("RAX    0x", 1, true), text)
  assert(text:find("\nXMM15  0x", 1, true), text)
  assert(text:find("RSP+8  0x0000000000000000  stack argument 1", 1, true), text)
  fails("struct jitffi_cpu * expected", cbframe.format, 42)

else
  -- AArch64: v0-v31, x0-x30, sp, nzcv; the stack arguments start at sp (no return
  -- address on the stack: it is in x30), so cpu:stack(1) is sp + 0.
  eq(ffi.sizeof(CPU), 784, "size of the state")
  eq(ffi.offsetof(CPU, "V0"), 0, "vector registers first")
  eq(ffi.offsetof(CPU, "V31"), 496, "v31")
  eq(ffi.offsetof(CPU, "X0"), 512, "general registers after them")
  eq(ffi.offsetof(CPU, "X30"), 512 + 30 * 8, "x30")
  eq(ffi.offsetof(CPU, "LR"), 512 + 30 * 8, "LR is x30")
  eq(ffi.offsetof(CPU, "FP"), 512 + 29 * 8, "FP is x29")
  eq(ffi.offsetof(CPU, "SP"), 512 + 31 * 8, "sp")
  eq(ffi.offsetof(CPU, "NZCV"), 768, "nzcv")

  local cpu = ffi.new(CPU)
  fails("cbframe: SP is NULL: this state has no stack to read", function() return cpu:arg(9, "int") end)
  fails("bad argument #1 to 'stack' (integer >= 1 expected, got 0)", function() return cpu:stack(0) end)
  cpu.X3.i = -2
  eq(hex(cpu.X3), "fffffffffffffffe", "int64 view")
  eq(cpu.X3.lo.i, -2, "low half signed")
  eq(cpu.GPR[3].hi.u, 4294967295, "GPR[3] is x3")
  cpu.V31.d[1] = 1.5
  eq(cpu.V[31].u32[3], 0x3ff80000, "V[31] is V31, integer lanes")
  cpu.NZCV.u = 0x60000000
  eq(cpu.NZCV.Z, 1, "flag bits by name")
  eq(cpu.NZCV.C, 1, "carry")
  eq(cpu.NZCV.N, 0, "negative")
  cpu.NZCV.N = 1
  eq(tonumber(cpu.NZCV.u), 0xe0000000, "setting a flag")

  local stack = ffi.new("uint64_t[8]")
  cpu = ffi.new(CPU)
  local p = ffi.cast("struct jitffi_cpu *", cpu)
  p.SP.p = stack
  for i = 0, 7 do
    p.GPR[i].i = i % 2 == 0 and i + 1 or -(i + 1)
    p.V[i].d[0] = i + 0.5
  end
  stack[0], stack[1] = 9, 10
  ffi.cast("double *", stack)[2] = 8.5
  eq(p:arg(1, "int"), 1, "arg 1 int is x0")
  eq(p:arg(2, "int"), -2, "arg 2 int (sign)")
  eq(p:arg(2, "unsigned char"), 254, "arg 2 read as its own width")
  eq(tonumber(p:arg(8, "long")), -8, "arg 8 is x7")
  eq(tonumber(p:arg(9, "long")), 9, "arg 9: first stack slot, at sp")
  eq(p:arg(10, "int"), 10, "arg 10: second stack slot")
  eq(p:arg(1, "double"), 0.5, "arg 1 double is v0")
  eq(p:arg(8, "double"), 7.5, "arg 8 double is v7")
  eq(p:stack(3, "double"), 8.5, "stack slot 3 as a type")
  p:stack(2).i = 80
  eq(tonumber(stack[1]), 80, "stack slots are writable")

  -- Whole signatures: the 16-byte struct (no HFA) takes x0 and x1, the int x2, and the
  -- 24-byte struct is passed by reference (AAPCS64 B.4): its address in x3.
  local big_copy = ffi.new("struct cf_big", 100, 200, 300)
  p.X0.d = 2.5
  p.X1.i = -7
  p.X2.i = 9
  p.X3.p = big_copy
  local pair, n, big = p:args("long (*)(struct cf_pair, int, struct cf_big)")
  eq(pair.x, 2.5, "struct argument, first doubleword")
  eq(pair.y, -7, "struct argument, second doubleword")
  eq(n, 9, "int after a struct")
  eq(tonumber(big.a + big.b + big.c), 600, "struct by reference")
  big_copy.a = 0
  eq(tonumber(big.a), 100, "struct arguments are copies")
  ffi.cdef "struct cf_hfa3 { float a, b, c; };"
  p.V0.f[0], p.V1.f[0], p.V2.f[0] = 1.5, 2.5, 3.5
  local hfa = p:args("void (*)(struct cf_hfa3)")
  eq(hfa.a + hfa.b + hfa.c, 7.5, "an HFA from v0-v2")

  -- A result in memory: its address comes in x8, the arguments start at x0.
  p.X0.i = 44
  eq(p:args("struct cf_big (*)(int)"), 44, "argument with a result in memory")

  -- Writing results.
  p:ret(-1, "int8_t")
  eq(hex(p.X0), "ffffffffffffffff", "int8_t result sign-extended")
  p:ret(-1, "uint16_t")
  eq(hex(p.X0), "000000000000ffff", "uint16_t result zero-extended")
  p:ret(2.5, "double")
  eq(p.V0.d[0], 2.5, "double result in v0")
  p:ret(0.25, "float")
  eq(p.V0.f[0], 0.25, "float result in v0")
  p:ret({ 1.25, 33 }, "struct cf_pair")
  eq(p.X0.d, 1.25, "struct result, x0")
  eq(tonumber(p.X1.i), 33, "struct result, x1")
  p:ret({ 0.5, 1.5, 2.5 }, "struct cf_hfa3")
  eq(p.V2.f[0], 2.5, "HFA result in v0-v2")
  -- long double is IEEE quad in q0 (3.25: 0x400a0000... in the high doubleword).
  p.V0.u64[0], p.V0.u64[1] = 0, 0
  p.V0.hi.hi.u = 0x400a0000
  local quad = p:args("void (*)(long double)")
  eq(ffi.istype("long double", quad), true, "long double argument from q0")
  p.V0.u64[1] = 0
  p:ret(quad, "long double")
  eq(hex(p.V0.hi), "400a000000000000", "long double result in q0")
  local buffer = ffi.new("struct cf_big")
  p.X8.p = buffer
  p.X0.u = 0
  p:ret({ 1, 2, 3 }, "struct cf_big")
  eq(tonumber(buffer.c), 3, "memory result copied to the buffer x8 points at")
  eq(tonumber(p.X0.u), 0, "and x0 left alone (AAPCS64 returns no address)")

  local text = cbframe.format(p)
  assert(text:find("X0     0x", 1, true), text)
  assert(text:find("\nV31    0x", 1, true), text)
  assert(text:find("NZCV   0x", 1, true), text)
  assert(text:find("SP+0   0x0000000000000009  stack argument 1", 1, true), text)
  fails("struct jitffi_cpu * expected", cbframe.format, 42)
end

-- ---- callbacks called from C ------------------------------------------------------

-- Integer-class arguments in registers.
local seen
local cb = cbframe.new(function(cpu)
  seen = { cpu:args("int64_t (*)(int, unsigned char, short, long long, const char *, void *)") }
  eq(cpu[ARG1].lo.i, -5, "first argument register, low half")
  eq(cpu:arg(2, "unsigned char"), 200, "second integer argument")
  cpu[RET].i = 12345
end)
assert(tostring(cb):match("^cbframe: 0x%x+$"), tostring(cb))
eq(tostring(ffi.typeof(cb.p)), "ctype<void (*)()>", ".p is a function pointer")
eq(tonumber(lib.cf_ints(cb.p)), 12345, "result set in rax")
eq(seen[1], -5, "int")
eq(seen[2], 200, "unsigned char")
eq(seen[3], -300, "short")
eq(tonumber(seen[4]), 2 ^ 40, "long long")
eq(ffi.string(seen[5]), "hello", "string")
eq(seen[6], ffi.cast("void *", 0x1234), "pointer")

-- Doubles and floats count their own registers.
cb:set(function(cpu)
  seen = { cpu:arg(1, "double"), cpu:arg(1, "int"), cpu:arg(2, "float"), cpu:arg(3, "double"),
    cpu:arg(2, "int") }
  cpu[VEC0].d[0] = -0.125
end)
eq(lib.cf_floats(cb.p), -0.125, "result set in xmm0")
eq(seen[1], 1.5, "double arg")
eq(seen[2], 7, "int after a double")
eq(seen[3], 2.25, "float arg")
eq(seen[4], -4.75, "third vector argument")
eq(seen[5], 8, "second int")

-- Arguments on the stack.
cb:set(function(cpu)
  seen = { cpu:args("long long (*)(long long, long long, long long, long long, long long,"
    .. " long long, long long, long long, double, double, double, double, double, double,"
    .. " double, double, double, double)") }
  seen.seventh = cpu:arg(7, "long long")
  seen.eighth = cpu:arg(8, "long long")
  -- x86-64: the 7th and 8th integers are in slots 1 and 2; arm64: all in registers.
  seen.slot3 = cpu:stack(arm64 and 1 or 3, "double")
  cpu:ret(-77, "long long")
end)
eq(tonumber(lib.cf_stack(cb.p)), -77, "long long result")
for i = 1, 8 do
  eq(tonumber(seen[i]), i, "integer argument " .. i)
end
for i = 1, 10 do
  eq(seen[8 + i], i - 0.5, "double argument " .. i)
end
eq(tonumber(seen.seventh), 7, "7th integer by class")
eq(tonumber(seen.eighth), 8, "8th integer by class")
eq(seen.slot3, 8.5, "9th double in stack slot 3")

-- A variadic callee: the format first, then each argument by the type it names.
local kinds = { i = "int", s = "const char *", d = "double", f = "double" }
cb:set(function(cpu)
  local ap = cpu:va_list("double (*)(const char *, ...)")
  local format = ffi.string(cpu:args("double (*)(const char *, ...)"))
  seen = { format = format }
  for c in format:gmatch(".") do
    seen[#seen + 1] = ap:arg(kinds[c])
  end
  cpu:ret(#seen, "double")
end)
eq(lib.cf_variadic(cb.p), 19, "variadic result")
eq(seen.format, "isdfiiiiiiddddddddd", "fixed argument")
eq(seen[1], 11, "first variadic int")
eq(ffi.string(seen[2]), "str", "variadic string")
eq(seen[3], 2.5, "variadic double")
eq(seen[4], 0.25, "float promoted to double")
for i = 5, 10 do
  eq(seen[i], i + 7, "variadic int " .. i .. " (registers, then the stack)")
end
for i = 11, 19 do
  eq(seen[i], i - 10, "variadic double " .. i .. " (registers, then the stack)")
end

-- The same with a cursor from the first argument (no prototype).
cb:set(function(cpu)
  local ap = cpu:va_list()
  seen = { ffi.string(ap:arg("const char *")), ap:arg("int"), ffi.string(ap:arg("char *")) }
  cpu[VEC0].d[0] = 0
end)
lib.cf_variadic(cb.p)
eq(seen[1], "isdfiiiiiiddddddddd", "cursor: first argument")
eq(seen[2], 11, "cursor: second")
eq(seen[3], "str", "cursor: third")

-- Structs by value.
cb:set(function(cpu)
  local pair, n, big = cpu:args("long (*)(struct cf_pair, int, struct cf_big)")
  seen = { pair.x, pair.y, n, tonumber(big.a), tonumber(big.b), tonumber(big.c) }
  cpu:ret(99, "long")
end)
eq(tonumber(lib.cf_structs(cb.p)), 99, "struct call result")
eq(table.concat(seen, " "), "2.5 -7 9 100 200 300", "struct arguments")

-- Results.
cb:set(function(cpu)
  cpu:ret({ cpu:arg(1, "int") + 0.5, -42 }, "struct cf_pair")
end)
local pair = lib.cf_ret_pair(cb.p)
eq(pair.x, 3.5, "struct result, double")
eq(pair.y, -42, "struct result, int")
cb:set(function(cpu)
  local n = cpu:args("struct cf_big (*)(int)")
  cpu:ret({ n, 10 * n, 100 * n }, "struct cf_big")
end)
eq(tonumber(lib.cf_ret_big_sum(cb.p)), 444, "struct result through the hidden pointer")
cb:set(function(cpu) cpu[VEC0].f[0] = 0.75 end)
eq(lib.cf_ret_float(cb.p), 0.75, "float result")
cb:set(function(cpu) cpu:ret(-3, "int8_t") end)
eq(lib.cf_ret_int8(cb.p), -3, "int8_t result")
cb:set(function(cpu) cpu:ret(true, "bool") end)
eq(lib.cf_ret_bool(cb.p), 1, "bool result")

-- What the callback leaves in the state is what the caller sees: caller-saved r10
-- (x9), callee-saved rbx and r12 (x19, x20; cf_registers saves them itself), the carry
-- flag. Changing callee-saved registers under an ordinary C caller breaks it:
-- cf_registers is written in assembly for that.
cb:set(function(cpu)
  seen = { hex(cpu[SAVED1]), hex(cpu[SAVED2]), hex(cpu[SCRATCH]) }
  cpu[SAVED1].u = 0xbb
  cpu[SAVED2].lo.u = 0x12
  cpu[SCRATCH].hi.u = 0x10
  cpu[FLAGS][CARRY] = 1
end)
local out = ffi.new("jitffi_cpu_qword[4]")
lib.cf_registers(cb.p, ffi.cast("uint64_t *", out))
eq(table.concat(seen, " "), "1111111111111111 1212121212121212 1010101010101010",
  "registers as the caller set them")
eq(hex(out[0]), "00000000000000bb", "rbx as the callback left it")
eq(hex(out[1]), "1212121200000012", "r12 as the callback left it")
eq(hex(out[2]), "0000001010101010", "r10 as the callback left it")
eq(hex(out[3]), "0000000000000001", "carry flag as the callback left it")

-- :set keeps the pointer.
local before = cb.p
cb:set(function(cpu) cpu:ret(cpu:arg(1, "int") * 3, "int") end)
eq(lib.cf_call_int(cb.p, 5), 15, "after set")
eq(cb.p, before, "set keeps the function pointer")
fails("bad argument #1 to 'set' (function expected, got number)", cb.set, cb, 5)
-- Inside a coroutine: the callback runs on the coroutine making the C call.
local co
cb:set(function(cpu)
  cpu:ret(coroutine.running() == co and 1 or 0, "int")
end)
co = coroutine.create(function() return lib.cf_call_int(cb.p, 0) end)
local ok, result = coroutine.resume(co)
eq(ok, true, "call inside a coroutine")
eq(result, 1, "callback on the calling coroutine")

-- An error in the callback returns zero to C and is raised when the C call returns.
cb:set(function(cpu)
  cpu[RET].i = 5
  error("raised in a cbframe")
end)
fails("raised in a cbframe", lib.cf_call_int, cb.p, 1)
cb:set(function(cpu) cpu:ret(7, "int") end)
eq(lib.cf_call_int(cb.p, 5), 7, "usable after an error")
local code = cb.p
cb:free()
fails("bad callback", lib.cf_call_int, code, 1)
fails("bad argument #1 to 'free' (live cbframe expected", cb.free, cb)
fails("bad argument #1 to 'set' (live cbframe expected", cb.set, cb, print)
fails("bad argument #1 to 'new' (function expected, got no value)", cbframe.new)

-- Deep recursion through C: no limit of cbframe's own (the state lives on the C
-- stack, not in a fixed array as the seed's 64). The limit is Lua's nesting of C calls
-- (LUAI_MAXCCALLS, 200: a callback level is one lua_pcall, about 195 levels on every version).
local depth = 180
local rec
rec = cbframe.new(function(cpu)
  local n = cpu:arg(1, "int")
  if n == 0 then
    cpu[RET].i = 0
  else
    cpu:ret(lib.cf_recurse(rec.p, n - 1) + 1, "int")
  end
end)
eq(lib.cf_recurse(rec.p, depth), depth, "recursion " .. depth .. " deep")
rec:free()

-- Many callbacks at once: slots come in pages, with no fixed limit.
local many = {}
for i = 1, 600 do
  many[i] = cbframe.new(function(cpu) cpu:ret(cpu:arg(1, "int") + i, "int") end)
end
eq(lib.cf_call_int(many[1].p, 1), 2, "first of many")
eq(lib.cf_call_int(many[600].p, 1), 601, "last of many")
for i = 1, 600 do
  many[i]:free()
end
