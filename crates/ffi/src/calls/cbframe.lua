-- The Lua half of the module `cbframe` (see crates/ffi/src/cbframe.rs, which runs this
-- chunk once per Lua state with the ffi module, the native helpers and a table to keep
-- the module in). x86-64 System V only, like the callback entry.
--
-- A callback made by cbframe.new(f) calls f(cpu) with `cpu` a `struct jitffi_cpu *`
-- pointing at the registers the C caller left (saved by the raw entry of
-- crates/jit/src/callback.rs); whatever f leaves in them is what the caller gets back,
-- except RSP. The pointer is valid only until f returns. Changing a callee-saved
-- register (rbx, rbp, r12-r15) breaks an ordinary C caller, which expects them intact.
-- docs/cbframe.md documents the API.
local ffi, native, store = ...
if store.module then
  return store.module
end

local error, pcall, select, setmetatable, tostring, type =
  error, pcall, select, setmetatable, tostring, type
local floor, format, concat = math.floor, string.format, table.concat
local unpack = table.unpack or unpack

-- The layout of jitffi_jit::CpuState, field for field: xmm0-15, the general registers
-- in encoding order, rflags, padding (a Rust test compares every offset).
ffi.cdef [[
typedef union jitffi_cpu_dword {
  int32_t i; uint32_t u; float f; uint8_t b[4];
} jitffi_cpu_dword;
typedef union jitffi_cpu_qword {
  uint64_t u; int64_t i; void *p; double d;
  struct { jitffi_cpu_dword lo, hi; };
  uint8_t b[8];
} jitffi_cpu_qword;
typedef union jitffi_cpu_xmm {
  float f[4]; double d[2];
  int8_t i8[16]; uint8_t u8[16]; int16_t i16[8]; uint16_t u16[8];
  int32_t i32[4]; uint32_t u32[4]; int64_t i64[2]; uint64_t u64[2];
  struct { jitffi_cpu_qword lo, hi; };
} jitffi_cpu_xmm;
typedef union jitffi_cpu_rflags {
  uint64_t u;
  struct {
    uint32_t CF: 1; uint32_t : 1; uint32_t PF: 1; uint32_t : 1;
    uint32_t AF: 1; uint32_t : 1; uint32_t ZF: 1; uint32_t SF: 1;
    uint32_t TF: 1; uint32_t IF: 1; uint32_t DF: 1; uint32_t OF: 1;
    uint32_t IOPL: 2; uint32_t NT: 1; uint32_t : 1; uint32_t RF: 1;
    uint32_t VM: 1; uint32_t AC: 1; uint32_t VIF: 1; uint32_t VIP: 1; uint32_t ID: 1;
  };
} jitffi_cpu_rflags;
struct jitffi_cpu {
  union {
    jitffi_cpu_xmm XMM[16];
    struct {
      jitffi_cpu_xmm XMM0, XMM1, XMM2, XMM3, XMM4, XMM5, XMM6, XMM7,
        XMM8, XMM9, XMM10, XMM11, XMM12, XMM13, XMM14, XMM15;
    };
  };
  union {
    jitffi_cpu_qword GPR[16];
    struct {
      jitffi_cpu_qword RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI,
        R8, R9, R10, R11, R12, R13, R14, R15;
    };
  };
  union { jitffi_cpu_rflags RFLAGS; jitffi_cpu_rflags EFLAGS; };
  uint64_t _pad;
};
]]

local CPU = ffi.typeof("struct jitffi_cpu")
local CPU_PTR = ffi.typeof("struct jitffi_cpu *")
local QWORD_PTR = ffi.typeof("jitffi_cpu_qword *")
local BYTES = ffi.typeof("uint8_t *")
local BUFFER = ffi.typeof("uint8_t[?]")
local CODE = ffi.typeof("void (*)()")
local INT64_PTR = ffi.typeof("int64_t *")
local UINT64_PTR = ffi.typeof("uint64_t *")
local SIGNED_PTR = {
  [1] = ffi.typeof("int8_t *"), [2] = ffi.typeof("int16_t *"), [4] = ffi.typeof("int32_t *"),
}
-- The prototype of a cursor with no fixed arguments.
local ANY_ARGS = ffi.typeof("void (*)(...)")

-- psABI §3.2.3: rdi, rsi, rdx, rcx, r8, r9, then xmm0-7, then the stack.
local GPR_ARGS = { "RDI", "RSI", "RDX", "RCX", "R8", "R9" }
local VEC_ARGS = 8
local GPR_ARG_OFFSET = {}
for n, name in ipairs(GPR_ARGS) do
  GPR_ARG_OFFSET[n] = ffi.offsetof(CPU, name)
end
-- Offsets in the state below this one are vector registers.
local GPR_OFFSET = ffi.offsetof(CPU, "GPR")

-- ---- arguments --------------------------------------------------------------------

-- The C text of a ctype.
local function type_name(ct)
  return (tostring(ct):match("^ctype<(.*)>$")) or tostring(ct)
end

local function arg_error(n, fname, message, level)
  error(format("bad argument #%d to '%s' (%s)", n, fname, message), level + 1)
end

-- Without the position an error message got where it was raised.
local function bare(message)
  return (tostring(message):gsub("^[^:]*:%d+: ", ""))
end

-- The ctype object of t (a C type string, a ctype or a cdata), or an error naming
-- argument n of fname, blamed on the caller `depth` levels up (default: the caller of
-- ctype's caller).
local function ctype(t, n, fname, depth)
  depth = (depth or 1) + 2
  if t == nil then
    arg_error(n, fname, "C type expected, got no value", depth)
  end
  local ok, ct = pcall(ffi.typeof, t)
  if not ok then
    arg_error(n, fname, bare(ct), depth)
  end
  return ct
end

local function check_index(i, least, n, fname)
  if type(i) ~= "number" or i ~= floor(i) or i < least then
    arg_error(n, fname, format("integer >= %d expected, got %s", least, tostring(i)), 3)
  end
end

-- native.plan, raising its complaint about proto (a string) as an error instead.
local function native_plan(proto, ...)
  local plan, complaint = native.plan(proto, ...)
  if not plan then
    error(complaint, 0)
  end
  return plan
end

-- Plans from native.plan, one per prototype and list of variadic types (each a ctype
-- object, one per type, so that they can be keys). A plan node is a table keyed by
-- the next variadic type; its own plan is under PLAN.
local PLAN = {}
local plans = {}
local function plan_for(proto, ...)
  local node = plans[proto]
  if not node then
    node = {}
    plans[proto] = node
  end
  for i = 1, select("#", ...) do
    local t = select(i, ...)
    local next_node = node[t]
    if not next_node then
      next_node = {}
      node[t] = next_node
    end
    node = next_node
  end
  local plan = node[PLAN]
  if not plan then
    plan = native_plan(proto, ...)
    node[PLAN] = plan
  end
  return plan
end

-- Derived types, made once per type.
local function derived(pattern)
  local made = {}
  return function(ct)
    local t = made[ct]
    if not t then
      t = ffi.typeof(pattern, ct)
      made[ct] = t
    end
    return t
  end
end
local takes_one = derived("void (*)($)")
local returns = derived("$ (*)()")
local array_of_one = derived("$[1]")

-- The address of the caller's stack slot i (0: the return address). A state made with
-- ffi.new has no stack until its RSP is set: an error, not a read at address 8.
local function stack_slot(cpu, i)
  local rsp = cpu.RSP.p
  if rsp == nil then
    error("cbframe: RSP is NULL: this state has no stack to read", 0)
  end
  return ffi.cast(BYTES, rsp) + 8 * i
end

-- The address of one piece of a plan.
local function address(cpu, piece)
  if piece.cpu then
    return ffi.cast(BYTES, cpu) + piece.cpu
  end
  return stack_slot(cpu, 1) + piece.stack
end

-- The value of one argument of a plan: a Lua value for scalars, a new cdata (a copy)
-- for structs, unions, complex numbers and long double.
local function read(cpu, arg)
  local n = #arg
  if n == 1 and arg[1].at == 0 then
    -- One register, one stack slot, or a whole copy on the stack.
    return native.load(arg.type, address(cpu, arg[1]))
  end
  -- Split over registers (or empty): gather the bytes first.
  local size = ffi.sizeof(arg.type)
  local bytes = ffi.new(BUFFER, size > 0 and size or 1)
  for i = 1, n do
    local piece = arg[i]
    ffi.copy(bytes + piece.at, address(cpu, piece), piece.size)
  end
  return native.load(arg.type, bytes)
end

-- Checks the prototype argument n of fname and the variadic types after it; returns
-- the plan.
local function plan_of(n, fname, proto, ...)
  local count = select("#", ...)
  local types = { ... }
  proto = ctype(proto, n, fname, 2)
  for i = 1, count do
    types[i] = ctype(types[i], n + i, fname, 2)
  end
  local ok, plan = pcall(plan_for, proto, unpack(types, 1, count))
  if not ok then
    if tostring(plan):find("^function type expected") then
      arg_error(n, fname, plan, 3)
    end
    error(plan, 3)
  end
  return plan
end

local methods = {}

-- cpu:arg(n, ctype): the n-th argument of type ctype among the arguments of its own
-- register class, the psABI counting integer-class and vector-class arguments
-- separately: cpu:arg(2, "int") is esi whatever doubles came before, cpu:arg(2,
-- "double") is xmm1. Past the registers (n > 6, or n > 8 for float and double), the
-- argument is read from stack slot n - 6 (n - 8), which is right when no argument of
-- the other class went on the stack before it. Any type passed in one register
-- works (scalars, and structs of up to 8 bytes of one class); for others use cpu:args.
function methods.arg(cpu, n, t)
  check_index(n, 1, 1, "arg")
  local ct = ctype(t, 2, "arg")
  local ok, plan = pcall(plan_for, takes_one(ct))
  if not ok then
    error(plan, 2)
  end
  local arg = plan.args[1]
  if #arg ~= 1 or not arg[1].cpu then
    arg_error(2, "arg", format("'%s' is not passed in one register: use cpu:args",
      type_name(ct)), 2)
  end
  local slot
  if arg[1].cpu < GPR_OFFSET then
    if n <= VEC_ARGS then
      return native.load(ct, ffi.cast(BYTES, cpu.XMM[n - 1]))
    end
    slot = n - VEC_ARGS
  else
    if n <= #GPR_ARGS then
      return native.load(ct, ffi.cast(BYTES, cpu) + GPR_ARG_OFFSET[n])
    end
    slot = n - #GPR_ARGS
  end
  return native.load(ct, stack_slot(cpu, slot))
end

-- cpu:args(proto, ...): every argument of a call of proto (a function type or a
-- pointer to one, as a string or a ctype), in order; for a variadic proto, the extra
-- arguments give the types of the variadic arguments (as promoted: double for float,
-- int for char and short). Structs and unions by value, complex numbers and long
-- double are read as the classifier of the ffi's own calls places them.
function methods.args(cpu, proto, ...)
  local args = plan_of(1, "args", proto, ...).args
  local values = {}
  for i = 1, #args do
    values[i] = read(cpu, args[i])
  end
  return unpack(values, 1, #args)
end

-- cpu:va_list([proto]): a cursor over the variadic arguments of proto (default
-- `void (*)(...)`: from the first argument), like C's va_start; cursor:arg(ctype)
-- reads the next one, like va_arg.
local cursor_methods = {}
local cursor_meta = { __index = cursor_methods }

function methods.va_list(cpu, proto)
  if proto == nil then
    proto = ANY_ARGS
  end
  local fixed = #plan_of(1, "va_list", proto).args
  return setmetatable({ cpu = cpu, proto = ffi.typeof(proto), fixed = fixed, types = {} },
    cursor_meta)
end

function cursor_methods.arg(cursor, t)
  local types = cursor.types
  local count = #types + 1
  types[count] = ctype(t, 1, "arg")
  local ok, plan = pcall(plan_for, cursor.proto, unpack(types, 1, count))
  if not ok then
    types[count] = nil
    error(plan, 2)
  end
  return read(cursor.cpu, plan.args[cursor.fixed + count])
end

-- cpu:stack(i [, ctype]): stack slot i (8 bytes each) of the caller: slot 0 is the
-- return address, slot 1 the first stack argument. With a ctype, the value of that
-- type stored there; without, a `jitffi_cpu_qword *` to read or write the slot with
-- the register views (.i, .u, .p, .d, .lo, .hi).
function methods.stack(cpu, i, t)
  check_index(i, 0, 1, "stack")
  local at = stack_slot(cpu, i)
  if t == nil then
    return ffi.cast(QWORD_PTR, at)
  end
  return native.load(ctype(t, 2, "stack"), at)
end

-- cpu:ret(value, ctype): makes the callback return value as a ctype: rax (integers
-- and pointers, extended to 64 bits), xmm0 (float, double), rax/rdx/xmm0/xmm1 for
-- structs of up to 16 bytes as the psABI classifies them, or a copy into the caller's
-- buffer (whose address came in rdi; it is returned in rax) for larger ones. long
-- double (the x87 stack) is refused.
function methods.ret(cpu, value, t)
  local ct = ctype(t, 2, "ret")
  local ok, plan = pcall(plan_for, returns(ct))
  if not ok then
    error(plan, 2)
  end
  local result = plan.ret
  if result.kind == "void" then
    return
  elseif result.kind == "x87" then
    arg_error(2, "ret", format("cannot return '%s': the x87 stack is not part of the saved state",
      type_name(ct)), 2)
  end
  local made, box = pcall(ffi.new, array_of_one(ct), { value })
  if not made then
    arg_error(1, "ret", bare(box), 2)
  end
  local bytes = ffi.cast(BYTES, box)
  if result.kind == "memory" then
    local buffer = cpu.RDI.p
    ffi.copy(buffer, bytes, result.size)
    cpu.RAX.p = buffer
    return
  end
  local base = ffi.cast(BYTES, cpu)
  for i = 1, #result do
    local piece = result[i]
    local register = base + piece.cpu
    if piece.ext then
      -- An integer register: all 64 bits, zero- or sign-extended as the type says.
      ffi.cast(UINT64_PTR, register)[0] = 0
      ffi.copy(register, bytes + piece.at, piece.size)
      local signed = SIGNED_PTR[piece.ext]
      if signed then
        ffi.cast(INT64_PTR, register)[0] = ffi.cast(signed, bytes + piece.at)[0]
      end
    else
      ffi.copy(register, bytes + piece.at, piece.size)
    end
  end
end

-- ---- dump ---------------------------------------------------------------------------

local GPR_ORDER = {
  "RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "RSP",
  "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15",
}
local FLAG_NAMES = { "CF", "PF", "AF", "ZF", "SF", "TF", "IF", "DF", "OF" }
-- Stack slots shown: the return address and this many stack arguments.
local DUMP_STACK_SLOTS = 6

local function hex64(qword)
  return format("%08x%08x", qword.hi.u, qword.lo.u)
end

local function integer_text(value)
  return (tostring(value):gsub("U?LL$", ""))
end

local function double_text(x)
  return format("%.10g", x)
end

local function float_text(x)
  return format("%.7g", x)
end

-- The text of cbframe.dump: one line per register, then the first stack slots.
local function format_cpu(cpu)
  if not ffi.istype(CPU_PTR, cpu) and not ffi.istype(CPU, cpu) then
    arg_error(1, "format", "struct jitffi_cpu * expected", 2)
  end
  local lines = {}
  for _, name in ipairs(GPR_ORDER) do
    local reg = cpu[name]
    lines[#lines + 1] = format("%-6s 0x%s  %s", name, hex64(reg), integer_text(reg.i))
  end
  local flags = cpu.RFLAGS
  local set = {}
  for _, name in ipairs(FLAG_NAMES) do
    if flags[name] ~= 0 then
      set[#set + 1] = name
    end
  end
  lines[#lines + 1] = format("RFLAGS 0x%s  %s", hex64(ffi.cast(QWORD_PTR, flags)), concat(set, " "))
  for i = 0, 15 do
    local x = cpu.XMM[i]
    lines[#lines + 1] = format("XMM%-3d 0x%s%s  d: %s %s  f: %s %s %s %s", i,
      hex64(x.hi), hex64(x.lo), double_text(x.d[0]), double_text(x.d[1]),
      float_text(x.f[0]), float_text(x.f[1]), float_text(x.f[2]), float_text(x.f[3]))
  end
  if ffi.istype(CPU_PTR, cpu) and cpu.RSP.p ~= nil then
    -- The caller's stack (not saved with the state: read through RSP while it lives).
    for i = 0, DUMP_STACK_SLOTS do
      local slot = methods.stack(cpu, i)
      lines[#lines + 1] = format("RSP+%-2d 0x%s  %s", 8 * i, hex64(slot),
        i == 0 and "return address" or "stack argument " .. i)
    end
  end
  return concat(lines, "\n") .. "\n"
end

methods.dump = function(cpu)
  io.write(format_cpu(cpu))
end

ffi.metatype(CPU, { __index = methods })

-- ---- callbacks ----------------------------------------------------------------------

-- The code address (light userdata, the handle of native.set and native.free) of each
-- live cbframe. Weak: a cbframe dropped without free keeps its slot and function
-- forever, like an ffi callback.
local slots = setmetatable({}, { __mode = "k" })
local frame_methods = {}
local frame_meta = { __index = frame_methods, __metatable = "cbframe" }

function frame_meta.__tostring(frame)
  return "cbframe: " .. (tostring(frame.p):match("0x%x+") or "NULL")
end

local function live_slot(frame, fname)
  local slot = slots[frame]
  if slot == nil then
    arg_error(1, fname, "live cbframe expected (freed, or not a cbframe)", 3)
  end
  return slot
end

local function check_function(f, n, fname)
  if type(f) ~= "function" then
    arg_error(n, fname, "function expected, got " .. (f == nil and "no value" or type(f)), 3)
  end
end

-- frame:set(f): the same function pointer calls f from now on.
function frame_methods.set(frame, f)
  local slot = live_slot(frame, "set")
  check_function(f, 1, "set")
  native.set(slot, f)
end

-- frame:free(): releases the slot; a call through frame.p after this is an error
-- raised in Lua when the C call returns, not a crash.
function frame_methods.free(frame)
  local slot = live_slot(frame, "free")
  native.free(slot)
  slots[frame] = nil
end

local M = {
  -- The ctype of the state a callback receives a pointer to (for ffi.new in tests).
  cpu_state = CPU,
  format = format_cpu,
}

-- cbframe.new(f): a callback whose function pointer (frame.p, `void (*)()`, cast it to
-- the type the C side expects) calls f(cpu).
function M.new(f)
  check_function(f, 1, "new")
  local code = native.new(f, CPU_PTR)
  local frame = setmetatable({ p = ffi.cast(CODE, code) }, frame_meta)
  slots[frame] = code
  return frame
end

-- cbframe.dump(cpu): writes cbframe.format(cpu) to io.stdout.
M.dump = methods.dump

store.module = M
return M
