-- The Lua half of the module `cbframe` (see crates/ffi/src/calls/cbframe.rs, which runs
-- this chunk once per Lua state with the ffi module, the native helpers, a table to keep
-- the module in, and the architecture's facts: the C view of the saved state, register
-- names and offsets, from crates/jit's architecture folder; this file names no
-- register).
--
-- A callback made by cbframe.new(f) calls f(cpu) with `cpu` a `struct jitffi_cpu *`
-- pointing at the registers the C caller left (saved by the raw entry of
-- crates/jit/src/<arch>/callback.rs); whatever f leaves in them is what the caller gets
-- back, except the stack pointer. The pointer is valid only until f returns. Changing a
-- callee-saved register breaks an ordinary C caller, which expects them intact.
-- docs/cbframe.md documents the API.
local ffi, native, store, arch = ...
if store.module then
  return store.module
end

local error, pcall, select, setmetatable, tostring, type =
  error, pcall, select, setmetatable, tostring, type
local floor, format, concat = math.floor, string.format, table.concat
local unpack = table.unpack or unpack

-- The views of one register, then the architecture's vector and flags unions and
-- struct jitffi_cpu: the layout of jitffi_jit::CpuState, field for field (a Rust test
-- compares every offset).
ffi.cdef([[
typedef union jitffi_cpu_dword {
  int32_t i; uint32_t u; float f; uint8_t b[4];
} jitffi_cpu_dword;
typedef union jitffi_cpu_qword {
  uint64_t u; int64_t i; void *p; double d;
  struct { jitffi_cpu_dword lo, hi; };
  uint8_t b[8];
} jitffi_cpu_qword;
]] .. arch.cdef)

local CPU = ffi.typeof("struct jitffi_cpu")
local CPU_PTR = ffi.typeof("struct jitffi_cpu *")
local QWORD_PTR = ffi.typeof("jitffi_cpu_qword *")
local BYTES = ffi.typeof("uint8_t *")
local BUFFER = ffi.typeof("uint8_t[?]")
local CODE = ffi.typeof("void (*)()")
local INT64_PTR = ffi.typeof("int64_t *")
local UINT64_PTR = ffi.typeof("uint64_t *")
local POINTER_PTR = ffi.typeof("uint8_t **")
local SIGNED_PTR = {
  [1] = ffi.typeof("int8_t *"), [2] = ffi.typeof("int16_t *"), [4] = ffi.typeof("int32_t *"),
}
-- The prototype of a cursor with no fixed arguments.
local ANY_ARGS = ffi.typeof("void (*)(...)")

-- The state offsets of the argument registers, integer and vector, in the convention's
-- order (x86-64: rdi, rsi, rdx, rcx, r8, r9 and xmm0-7; arm64: x0-x7 and v0-v7).
local GPR_ARG_OFFSET, VEC_ARG_OFFSET = arch.gpr_args, arch.vec_args
-- Offsets in the state below this one are vector registers.
local GPR_OFFSET = ffi.offsetof(CPU, "GPR")
local SP, VEC, FLAGS = arch.sp, arch.vec, arch.flags
-- Bytes from the saved stack pointer to the first stack argument (x86-64: 8, the
-- return address; arm64: 0), and the lowest stack slot cpu:stack reads (slot 0 is the
-- return address where the stack holds it).
local STACK_ARGS = arch.stack_args
local FIRST_SLOT = STACK_ARGS >= 8 and 0 or 1

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

-- The address of the caller's stack slot i (1: the first stack argument; 0: the return
-- address on x86-64). A state made with ffi.new has no stack until its stack pointer
-- is set: an error, not a read near address 0.
local function stack_slot(cpu, i)
  local sp = cpu[SP].p
  if sp == nil then
    error(format("cbframe: %s is NULL: this state has no stack to read", SP), 0)
  end
  return ffi.cast(BYTES, sp) + STACK_ARGS + 8 * (i - 1)
end

-- The address of one piece of a plan (of the caller's copy, for an argument passed by
-- reference).
local function address(cpu, piece)
  local at
  if piece.cpu then
    at = ffi.cast(BYTES, cpu) + piece.cpu
  else
    at = stack_slot(cpu, 1) + piece.stack
  end
  if piece.indirect then
    return ffi.cast(POINTER_PTR, at)[0]
  end
  return at
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
-- register class, the conventions counting integer and vector arguments separately:
-- cpu:arg(2, "int") is esi (arm64: w1) whatever doubles came before, cpu:arg(2,
-- "double") is xmm1 (v1). Past the registers (n > 6 on x86-64, 8 on arm64, or n > 8 for
-- float and double), the argument is read from stack slot n - 6 (n - 8), which is right
-- when no argument of the other class went on the stack before it. Any type passed in one register
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
  local offsets = arg[1].cpu < GPR_OFFSET and VEC_ARG_OFFSET or GPR_ARG_OFFSET
  if n <= #offsets then
    return native.load(ct, ffi.cast(BYTES, cpu) + offsets[n])
  end
  return native.load(ct, stack_slot(cpu, n - #offsets))
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

-- cpu:stack(i [, ctype]): stack slot i (8 bytes each) of the caller: slot 1 is the
-- first stack argument, slot 0 the return address (x86-64 only: arm64 has it in X30).
-- With a ctype, the value of that type stored there; without, a `jitffi_cpu_qword *` to
-- read or write the slot with the register views (.i, .u, .p, .d, .lo, .hi).
function methods.stack(cpu, i, t)
  check_index(i, FIRST_SLOT, 1, "stack")
  local at = stack_slot(cpu, i)
  if t == nil then
    return ffi.cast(QWORD_PTR, at)
  end
  return native.load(ctype(t, 2, "stack"), at)
end

-- cpu:ret(value, ctype): makes the callback return value as a ctype, where the host
-- convention's plan puts it. x86-64: rax (integers and pointers, extended to 64 bits),
-- xmm0 (float, double), rax/rdx/xmm0/xmm1 for structs of up to 16 bytes as the psABI
-- classifies them, or a copy into the caller's buffer (whose address came in rdi; it is
-- returned in rax) for larger ones; long double (the x87 stack) is refused. arm64: x0
-- (extended to 64 bits), v0, x0/x1 or v0-v3 (HFAs), long double in q0, or a copy into
-- the buffer whose address came in x8.
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
  local base = ffi.cast(BYTES, cpu)
  if result.kind == "memory" then
    local buffer = ffi.cast(POINTER_PTR, base + result.pointer)[0]
    ffi.copy(buffer, bytes, result.size)
    if result.address then
      ffi.cast(POINTER_PTR, base + result.address)[0] = buffer
    end
    return
  end
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

local GPR_ORDER = arch.dump_gprs
local FLAG_NAMES = arch.flag_bits
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
  local flags = cpu[FLAGS]
  local set = {}
  for _, name in ipairs(FLAG_NAMES) do
    if flags[name] ~= 0 then
      set[#set + 1] = name
    end
  end
  lines[#lines + 1] = format("%-6s 0x%s  %s", FLAGS, hex64(ffi.cast(QWORD_PTR, flags)),
    concat(set, " "))
  local vectors = cpu[VEC]
  for i = 0, ffi.sizeof(vectors) / ffi.sizeof(vectors[0]) - 1 do
    local x = vectors[i]
    lines[#lines + 1] = format("%-6s 0x%s%s  d: %s %s  f: %s %s %s %s", VEC .. i,
      hex64(x.hi), hex64(x.lo), double_text(x.d[0]), double_text(x.d[1]),
      float_text(x.f[0]), float_text(x.f[1]), float_text(x.f[2]), float_text(x.f[3]))
  end
  if ffi.istype(CPU_PTR, cpu) and cpu[SP].p ~= nil then
    -- The caller's stack (not saved with the state: read through the stack pointer
    -- while it lives).
    for i = FIRST_SLOT, DUMP_STACK_SLOTS do
      local slot = methods.stack(cpu, i)
      lines[#lines + 1] = format("%-6s 0x%s  %s", SP .. "+" .. (STACK_ARGS + 8 * (i - 1)),
        hex64(slot), i == 0 and "return address" or "stack argument " .. i)
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
