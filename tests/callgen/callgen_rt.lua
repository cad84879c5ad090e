-- Run-time support of the driver that `cargo xtask callgen` generates (callgen.lua):
-- the Lua half of the checksum described in xtask/src/callgen.rs, value constructors,
-- the checks of each kind of result, and the run loop with its report.
--
-- Runs unchanged on LuaJIT and on PUC Lua 5.1-5.4 with jitffi: every 64-bit quantity is a
-- uint64_t cdata (no native integers needed), bit patterns come from unions.
--
-- Exit status of rt.run: 0 all passed, 1 something failed, 77 this ffi cannot call C
-- yet (no ffi.load, or a function cdata is "not callable"): tests/callgen.sh says so.
-- Where the ffi cannot make callbacks yet (ffi.cast of a Lua function to a function
-- pointer fails), the functions taking callbacks are skipped and the summary says
-- "callbacks not available"; the run passes.

local ffi = require "ffi"
local unpack = table.unpack or unpack

local rt = {}

-- jitffi defines LuaJIT's `jit` table too (with its version string), and marks itself by
-- `package.loaded["ffi.core"]`, which LuaJIT never sets.
local on_luajit = type(jit) == "table" and type(jit.version) == "string"
  and package.loaded["ffi.core"] == nil

-- Known bugs of this ffi (not LuaJIT), by the flag a function has in the driver: such a
-- function's failures are printed as XFAIL and do not fail the run; when all its calls
-- pass the run says XPASS, and the entry should go.
local KNOWN_FAILURES = {
  -- long_double = "why", (a flag of the driver's functions: long_double, callback, aligned)
}
local uint64_t = ffi.typeof("uint64_t")
local int64_t = ffi.typeof("int64_t")

-- Values -------------------------------------------------------------------------------

-- A uint64_t from its two 32-bit halves (Lua 5.1 has no 64-bit literals).
function rt.U64(hi, lo) return uint64_t(hi) * 4294967296 + lo end
function rt.I64(hi, lo) return ffi.cast(int64_t, rt.U64(hi, lo)) end
-- A pointer of type `ct` with that address.
function rt.P(ct, hi, lo) return ffi.cast(ct, rt.U64(hi, lo)) end
-- A fresh zeroed array: its address is what the callee folds. In a dry run (below) a
-- pointer to a made-up address instead, so that every interpreter folds the same.
local dry = os.getenv("CALLGEN_DRY") ~= nil
local dry_address = 4096
function rt.A(ct)
  if dry then
    dry_address = dry_address + 64
    return ffi.cast((ct:gsub("%[%d+%]$", "*")), dry_address)
  end
  return ffi.new(ct)
end
-- A cdata of type `ct` (varargs: LuaJIT passes a cdata as its own type).
function rt.box(ct, v) return ffi.new(ct, v) end
function rt.C(ct, re, im) return ffi.new(ct, re, im) end
-- The long double is AArch64's IEEE quad, not x86-64's x87 extended: the driver sets
-- this (`callgen --target`). Sign and exponent are then the top 16 bits of the second
-- 64-bit word, not its low 16.
rt.quad_long_double = false
-- A long double cdata from its mantissa halves (quad: its low 64 bits) and
-- sign+exponent. No number converts to a long double and none can be read (as in
-- LuaJIT), but one can be copied from a reference to bytes written as integers.
function rt.LD(hi, lo, sign_exponent)
  local bytes = ffi.new("long double[1]")
  local words = ffi.cast("uint64_t *", bytes)
  words[0] = rt.U64(hi, lo)
  words[1] = rt.quad_long_double and rt.U64(sign_exponent * 65536, 0) or sign_exponent
  return ffi.new("long double", ffi.cast("long double &", bytes))
end
-- A NULL pointer where nil cannot stand (inside a Lua table).
rt.NULL = ffi.cast("void *", 0)
rt.CSTRING = { class = "cstring", ct = "const char *" }

-- The checksum (xtask/src/callgen.rs) -----------------------------------------------------

local PRIME = 1099511628211
local SHIFT = 536870912 -- 2^29
local STEP = 625341585 -- 0x2545F491
local H0 = rt.U64(3421674724, 2216829733) -- 0xcbf29ce484222325

local function mix(h, v)
  local x = (h + v) * PRIME
  return x + x / SHIFT
end

local TWO63 = rt.U64(2147483648, 0)
local TWO48 = rt.U64(65536, 0)

local function same(a, b) return uint64_t(a) == uint64_t(b) end

-- A scalar type: `ct` stored in a union with `nparts` unsigned `part_ct`, so that storing a
-- value converts it as a call would and the parts read back its bit pattern. `make` names
-- how a part is derived from a checksum step; `values` are an enum's constants in order.
function rt.scalar(ct, part_ct, nparts, make, values)
  return {
    class = "scalar",
    ct = ct,
    union = ffi.typeof("union { " .. ct .. " v; " .. part_ct .. " u[" .. nparts .. "]; }"),
    nparts = nparts,
    part_size = ffi.sizeof(part_ct),
    size = ffi.sizeof(ct),
    make = make,
    values = values,
  }
end

-- A struct or union: members are {name, type, count or nil, bitfield width or nil};
-- `active` is the index of the member a union holds. A bitfield's type is its integer
-- kind with `bits` (the width) and `signed`: values made for it keep that many bits.
function rt.record(ct, is_union, members, active)
  local list = {}
  for i, m in ipairs(members) do
    if not is_union or i == active then
      local ty = m[2]
      if m[4] then
        ty = setmetatable({ bits = m[4], signed = tonumber(ffi.new(ty.ct, -1)) < 0 }, { __index = ty })
      end
      list[#list + 1] = { name = m[1], type = ty, count = m[3] }
    end
  end
  local ctype = ffi.typeof(ct)
  return { class = "record", ct = ct, ctype = ctype, pointer = ffi.typeof("$ *", ctype), live = list }
end

-- A callback type: the typedef `ct` of `proto`, its parameter types and its result type
-- (nil: void).
function rt.callback(ct, proto, params, ret)
  return { class = "callback", ct = ct, proto = proto, params = params, ret = ret }
end

-- The value of a callback parameter in a call: how to pass the Lua function the driver
-- makes at the call ("function": as it is, "cast": an ffi.cast callback, "set": a cast
-- one whose function cb:set replaced).
function rt.cb(callback, how)
  return { class = "callback value", callback = callback, how = how }
end

-- The parts of a scalar value, as a list of numbers or uint64_t.
local long_double_ptr = ffi.typeof("long double *")

-- `v` is a value of the kind, or for a long double member a pointer to it (each_element:
-- a long double cannot be read).
local function bits(kind, v)
  local parts = {}
  if kind.make == "ld" and ffi.istype(long_double_ptr, v) then
    local words = ffi.cast("uint64_t *", v)
    parts[1], parts[2] = words[0], words[1]
  else
    local u = kind.union()
    u.v = v
    for i = 0, kind.nparts - 1 do parts[i + 1] = u.u[i] end
  end
  -- Bytes 10 to 15 of an x87 long double are padding.
  if kind.make == "ld" and not rt.quad_long_double then parts[2] = parts[2] % 65536 end
  return parts
end

local f32_kind = rt.scalar("float", "uint32_t", 1, "f32")
local f64_kind = rt.scalar("double", "uint64_t", 1, "f64")

-- The parts a value made from checksum steps has (cg_make_* in C), and the last step.
local function make_parts(kind, h)
  local parts = {}
  for i = 1, kind.nparts do
    h = mix(h, STEP)
    local make = kind.make
    if make == "int" and kind.bits then
      -- C's `r.f = v` into a bitfield: the low bits, sign-extended for a signed type.
      local v = tonumber(h % (2 ^ kind.bits))
      if kind.signed and v >= 2 ^ (kind.bits - 1) then v = v - 2 ^ kind.bits end
      parts[i] = bits(kind, v)[1]
    elseif make == "int" then
      parts[i] = kind.part_size == 8 and h or h % (2 ^ (8 * kind.part_size))
    elseif make == "bool" then
      parts[i] = h % 2
    elseif make == "ptr" then
      parts[i] = h
    elseif make == "enum" then
      parts[i] = bits(kind, kind.values[tonumber(h % #kind.values) + 1])[1]
    elseif make == "f32" then
      parts[i] = bits(f32_kind, (tonumber(h / 1099511627776) - 8388608) / 64)[1]
    elseif make == "ld" and rt.quad_long_double then
      parts[i] = i == 1 and h % TWO63 + TWO63 or (h % 64 + 16351) * TWO48
    elseif make == "ld" then
      parts[i] = i == 1 and h % TWO63 + TWO63 or h % 64 + 16351
    elseif make == "f64" then
      parts[i] = bits(f64_kind, (tonumber(h / 2048) - 4503599627370496) / 1048576)[1]
    else
      error("callgen_rt: bug: unknown make " .. tostring(make))
    end
  end
  return parts, h
end

-- Each element of member `m` of record value `v`, with its path, to `visit(type, value,
-- path)`; a long double element as a pointer to it.
local function each_element(record, v, path, visit)
  for _, m in ipairs(record.live) do
    local field
    if m.type.make == "ld" then
      field = ffi.cast(long_double_ptr, ffi.cast("char *", v) + ffi.offsetof(record.ctype, m.name))
    else
      field = v[m.name]
    end
    if m.count then
      for i = 0, m.count - 1 do
        local element = m.type.make == "ld" and field + i or field[i]
        visit(m.type, element, path .. "." .. m.name .. "[" .. i .. "]")
      end
    else
      visit(m.type, field, path .. "." .. m.name)
    end
  end
end

local function fold(h, ty, v)
  if ty.class == "scalar" then
    for _, part in ipairs(bits(ty, v)) do h = mix(h, part) end
  elseif ty.class == "cstring" then
    for i = 1, #v do h = mix(h, v:byte(i)) end
    h = mix(h, #v)
  else
    each_element(ty, v, "", function(member_type, value) h = fold(h, member_type, value) end)
  end
  return h
end

-- Builds a record of descriptor `record` from a table of member values (union: only the
-- active member is present).
local function assign(record, target, tree)
  for _, m in ipairs(record.live) do
    local value = tree[m.name]
    if m.count then
      for i = 0, m.count - 1 do
        if m.type.class == "record" then
          assign(m.type, target[m.name][i], value[i + 1])
        else
          target[m.name][i] = value[i + 1]
        end
      end
    elseif m.type.class == "record" then
      assign(m.type, target[m.name], value)
    else
      target[m.name] = value
    end
  end
end

function rt.S(record, tree)
  local v = record.ctype()
  assign(record, v, tree)
  return v
end

-- Showing values in failure reports -----------------------------------------------------------

local function show_parts(parts)
  local texts = {}
  for i, part in ipairs(parts) do texts[i] = tostring(uint64_t(part)) end
  return table.concat(texts, ",")
end

local function show(ty, v)
  if ty.class == "callback" then
    return "callback " .. ty.proto
  elseif ty.class == "cstring" then
    return type(v) == "string" and string.format("%q", v) or tostring(v)
  elseif ty.class == "scalar" then
    return tostring(v) .. " (bits " .. show_parts(bits(ty, v)) .. ")"
  elseif type(v) ~= "cdata" then
    return tostring(v)
  end
  local texts = {}
  each_element(ty, v, "", function(member_type, value, path)
    texts[#texts + 1] = path:sub(2) .. " = " .. show(member_type, value)
  end)
  return "{" .. table.concat(texts, ", ") .. "}"
end

-- Checks of results -----------------------------------------------------------------------------

-- Compares a made value `got` of type `ty` with the parts made from checksum `h` (C's
-- cg_make_*), element by element; appends mismatches to `errors`; returns the last step.
local function check_made(ty, got, h, path, errors)
  if ty.class == "scalar" then
    local want
    want, h = make_parts(ty, h)
    local have = bits(ty, got)
    for i = 1, #want do
      if not same(have[i], want[i]) then
        errors[#errors + 1] = string.format("%s: got %s, want bits %s", path, show(ty, got), show_parts(want))
        break
      end
    end
  else
    each_element(ty, got, path, function(member_type, value, member_path)
      h = check_made(member_type, value, h, member_path, errors)
    end)
  end
  return h
end

-- Compares an echoed aggregate with the argument it came from.
local function check_echo(ty, got, sent, errors)
  local flat_got, flat_sent = {}, {}
  local function collect(list)
    return function(member_type, value, path)
      list[#list + 1] = { member_type, value, path }
    end
  end
  each_element(ty, got, "", collect(flat_got))
  each_element(ty, sent, "", collect(flat_sent))
  for i, entry in ipairs(flat_got) do
    local member_type, value, path = entry[1], entry[2], entry[3]
    if member_type.class == "record" then
      check_echo(member_type, value, flat_sent[i][2], errors)
    elseif show_parts(bits(member_type, value)) ~= show_parts(bits(member_type, flat_sent[i][2])) then
      errors[#errors + 1] = string.format("result%s: got %s, sent %s", path,
        show(member_type, value), show(member_type, flat_sent[i][2]))
    end
  end
end

local function pack(...) return { n = select("#", ...), ... } end

-- A string quoted the same way by every Lua version (5.1's %q leaves bytes raw).
local function quote(text)
  return '"' .. text:gsub(".", function(c)
    local byte = c:byte()
    if byte < 32 or byte > 126 or c == '"' or c == "\\" then return string.format("\\%03d", byte) end
  end) .. '"'
end

-- Callbacks ------------------------------------------------------------------------------------

-- The strings a made `const char *` picks from (spec.strings, set by rt.run).
local strings = {}

-- The "flat" form of a value, for folding and comparing: its parts in fold order, a
-- `const char *` as a Lua string. Appends the parts of the value of type `ty` made from
-- checksum `h` (C's cg_make_*, or a string from cg_strings) to `list`; returns the last
-- step.
local function made_flat(ty, h, list)
  if ty.class == "scalar" then
    local parts
    parts, h = make_parts(ty, h)
    for _, part in ipairs(parts) do list[#list + 1] = part end
  elseif ty.class == "cstring" then
    h = mix(h, STEP)
    list[#list + 1] = strings[tonumber(h % #strings) + 1]
  else
    for _, m in ipairs(ty.live) do
      for _ = 1, m.count or 1 do h = made_flat(m.type, h, list) end
    end
  end
  return h
end

-- Appends the flat form of value `v` of type `ty`, as a callback received it, to `list`.
local function received_flat(ty, v, list)
  if ty.class == "scalar" then
    for _, part in ipairs(bits(ty, v)) do list[#list + 1] = part end
  elseif ty.class == "cstring" then
    list[#list + 1] = v == nil and "(NULL)" or type(v) == "string" and v or ffi.string(v)
  else
    each_element(ty, v, "", function(member_type, value) received_flat(member_type, value, list) end)
  end
end

-- Folds a flat value into `h` as `fold` folds the value.
local function fold_flat(h, list)
  for _, item in ipairs(list) do
    if type(item) == "string" then
      for i = 1, #item do h = mix(h, item:byte(i)) end
      h = mix(h, #item)
    else
      h = mix(h, item)
    end
  end
  return h
end

-- A flat value as text: parts as unsigned decimals, strings quoted.
local function flat_text(list)
  local texts = {}
  for i, item in ipairs(list) do
    texts[i] = type(item) == "string" and quote(item) or tostring(uint64_t(item))
  end
  return table.concat(texts, ",")
end

-- What the call of callback type `callback` at checksum `h` should receive (the flat
-- form of each argument), the checksum its function folds from them and the flat form
-- of the value it returns (nil: void).
local function expect_callback(callback, h)
  local expect = { args = {}, hc = H0 }
  local k = h
  for i, ty in ipairs(callback.params) do
    local flat = {}
    k = made_flat(ty, k, flat)
    expect.args[i] = flat
    expect.hc = fold_flat(expect.hc, flat)
  end
  if callback.ret then
    expect.ret = {}
    made_flat(callback.ret, expect.hc, expect.ret)
  end
  return expect
end

-- The parts of a value made from checksum `h` written into the union of scalar kind
-- `kind`; returns the union and the last step.
local function made_union(kind, h)
  local parts
  parts, h = make_parts(kind, h)
  local u = kind.union()
  for i, part in ipairs(parts) do u.u[i - 1] = part end
  return u, h
end

-- Writes the value of record type `record` made from checksum `h` at address `base`
-- (a uint8_t *), member by member; returns the last step.
local function store_made(record, base, h)
  for _, m in ipairs(record.live) do
    local at = base + ffi.offsetof(record.ctype, m.name)
    local size = m.type.class == "record" and ffi.sizeof(m.type.ctype) or m.type.size
    for i = 0, (m.count or 1) - 1 do
      if m.type.class == "record" then
        h = store_made(m.type, at + i * size, h)
      elseif m.type.bits then
        -- A bitfield is assigned (its bytes are shared with its neighbours).
        local u
        u, h = made_union(m.type, h)
        ffi.cast(record.pointer, base)[m.name] = u.v
      else
        local u
        u, h = made_union(m.type, h)
        ffi.copy(at + i * size, u, size)
      end
    end
  end
  return h
end

-- The value of type `ty` made from checksum `h`, as a callback returns it.
local function made_value(ty, h)
  if ty.class == "record" then
    local v = ty.ctype()
    store_made(ty, ffi.cast("uint8_t *", v), h)
    return v
  end
  local u = made_union(ty, h)
  if ty.make == "ld" then
    -- As rt.LD: a long double cannot be read, only copied through a reference.
    local bytes = ffi.new("long double[1]")
    ffi.copy(bytes, u, 16)
    return ffi.new("long double", ffi.cast("long double &", bytes))
  end
  return u.v
end

-- The Lua function of a callback parameter: folds what it receives (into `record.got`,
-- the flat form of each argument) and returns the value made from that checksum. An
-- error inside is kept in `record.error` and raised again.
local function callback_function(callback, record)
  return function(...)
    record.calls = record.calls + 1
    record.nargs = select("#", ...)
    local args = { ... }
    local ok, result = pcall(function()
      local hc, got = H0, {}
      for i, ty in ipairs(callback.params) do
        local flat = {}
        received_flat(ty, args[i], flat)
        got[i] = flat
        hc = fold_flat(hc, flat)
      end
      record.got = got
      if callback.ret then return made_value(callback.ret, hc) end
    end)
    if not ok then
      record.error = tostring(result)
      error(result, 0)
    end
    return result
  end
end

-- The checksum of one call's arguments (and, when tracing, each step of it), and what
-- each callback parameter should receive and return, by parameter index.
local function checksum(f, args)
  local h = H0
  local trace = os.getenv("CALLGEN_TRACE")
  local nparams = #f.params
  local expects = {}
  for i, ty in ipairs(f.params) do
    if ty.class == "callback" then
      expects[i] = expect_callback(ty, h)
      if expects[i].ret then h = fold_flat(h, expects[i].ret) end
    else
      h = fold(h, ty, args[i])
    end
    if trace then io.stderr:write("trace ", f.name, " a", i - 1, " ", tostring(h):sub(1, -4), "\n") end
  end
  for i, ty in ipairs(f.varargs or {}) do
    h = fold(h, ty, args[nparams + i])
    if trace then io.stderr:write("trace ", f.name, " v", i - 1, " ", tostring(h):sub(1, -4), "\n") end
  end
  return h, expects
end

-- The parts of a value of type `ty` made from checksum `h`, appended to `list`, in the
-- order check_made compares them; returns the last step.
local function expected_parts(ty, h, list)
  if ty.class == "scalar" then
    local parts
    parts, h = make_parts(ty, h)
    for _, part in ipairs(parts) do list[#list + 1] = tostring(uint64_t(part)) end
  else
    for _, m in ipairs(ty.live) do
      for _ = 1, m.count or 1 do h = expected_parts(m.type, h, list) end
    end
  end
  return h
end

-- CALLGEN_DRY=1: no library, no calls; prints what each call's checks expect, computed
-- in Lua alone. Every interpreter must print what LuaJIT prints (tests/callgen.sh).
local function dry_run(spec)
  for _, f in ipairs(spec.functions) do
    for index, make_args in ipairs(f.calls) do
      local h = checksum(f, pack(make_args()))
      local line = { f.name, index, tostring(h) }
      if f.ret == "made" then
        local parts = {}
        expected_parts(f.ret_type, h, parts)
        line[#line + 1] = table.concat(parts, ",")
      elseif f.ret == "string" then
        line[#line + 1] = quote(spec.strings[tonumber(h % #spec.strings) + 1])
      end
      print(table.concat(line, " "))
    end
  end
  return 0
end

-- Calls one function with one set of arguments; returns a list of problems (empty when
-- it passed) and, on LuaJIT, whether LuaJIT refused the call (NYI).
local function run_call(lib, f, make_args, strings)
  local args = pack(make_args())
  local h, expects = checksum(f, args)
  local nparams = #f.params

  local first = f.out and 1 or 0
  local call_args, out = { n = args.n + first }, nil
  if f.out then
    out = ffi.new("uint64_t[1]")
    call_args[1] = out
  end
  for i = 1, args.n do call_args[first + i] = args[i] end
  -- The Lua functions of the callback parameters, and the callbacks to free after the call.
  local records, to_free = {}, {}
  for i, expect in pairs(expects) do
    local callback, how = f.params[i], args[i].how
    records[i] = { calls = 0 }
    local fn = callback_function(callback, records[i])
    if how == "function" then
      call_args[first + i] = fn
    else
      local cb = ffi.cast(callback.ct, how == "cast" and fn or function()
        error("callgen: the function that cb:set replaced was called", 0)
      end)
      if how == "set" then cb:set(fn) end
      call_args[first + i] = cb
      to_free[#to_free + 1] = cb
    end
  end
  local ok, result = pcall(function() return lib[f.name](unpack(call_args, 1, call_args.n)) end)
  for _, cb in ipairs(to_free) do cb:free() end
  local errors = {}
  for i, expect in pairs(expects) do
    local record, callback = records[i], f.params[i]
    local label = string.format("callback a%d (%s, passed as %s)", i - 1, callback.proto, args[i].how)
    if record.calls ~= 1 then
      errors[#errors + 1] = string.format("%s: called %d times, want once", label, record.calls)
    end
    if record.error then
      errors[#errors + 1] = string.format("%s raised: %s", label, record.error)
    elseif record.calls > 0 then
      if record.nargs ~= #callback.params then
        errors[#errors + 1] = string.format("%s: got %d arguments, want %d", label, record.nargs, #callback.params)
      end
      for j, ty in ipairs(callback.params) do
        local got, want = flat_text(record.got[j]), flat_text(expect.args[j])
        if got ~= want then
          errors[#errors + 1] = string.format("%s: argument %d (%s): got %s, want %s", label, j, ty.ct, got, want)
        end
      end
    end
    if expect.ret and #errors == 0 then
      -- Then only the result's conversion can make the checksum differ.
      expect.ret_text = string.format("%s: returned %s (%s)", label, flat_text(expect.ret), callback.ret.ct)
    end
  end
  if not ok then
    if on_luajit and tostring(result):find("NYI", 1, true) then return {}, true end
    table.insert(errors, 1, "error: " .. tostring(result))
    return errors
  end
  if f.out and not same(out[0], h) then
    errors[#errors + 1] = string.format("*out: got %s, want %s", tostring(uint64_t(out[0])), tostring(h))
  end
  if f.ret == "checksum" then
    if result == nil or not same(result, h) then
      errors[#errors + 1] = string.format("result: got %s, want %s", tostring(result and uint64_t(result)), tostring(h))
    end
  elseif f.ret == "made" then
    check_made(f.ret_type, result, h, "result", errors)
  elseif f.ret == "string" then
    local want = strings[tonumber(h % #strings) + 1]
    local got = result ~= nil and ffi.string(result) or nil
    if got ~= want then
      errors[#errors + 1] = string.format("result: got %s, want %q", got and string.format("%q", got) or "NULL", want)
    end
  elseif f.ret == "echo" then
    check_echo(f.params[f.echo], result, args[f.echo], errors)
  end
  if #errors > 0 then
    for _, expect in pairs(expects) do
      if expect.ret_text then errors[#errors + 1] = expect.ret_text end
    end
    errors[#errors + 1] = "checksum of the arguments: " .. tostring(h)
    local lines = {}
    for i, ty in ipairs(f.params) do
      lines[#lines + 1] = string.format("a%d = %s", i - 1, show(ty, args[i]))
    end
    for i, ty in ipairs(f.varargs or {}) do
      lines[#lines + 1] = string.format("vararg %d (%s) = %s", i, ty.ct, show(ty, args[nparams + i]))
    end
    for _, line in ipairs(lines) do errors[#errors + 1] = line end
  end
  return errors
end

-- Runs every function of `spec.functions` (or those named on the command line after the
-- library path); returns the exit status.
function rt.run(spec)
  local path = (arg and arg[1]) or spec.library
  local only = nil
  if arg and arg[2] then
    only = {}
    for i = 2, #arg do only[arg[i]] = true end
  end
  local verbose = os.getenv("CALLGEN_VERBOSE")
  local impl = on_luajit and jit.version or _VERSION
  strings = spec.strings
  if dry then return dry_run(spec) end

  if type(ffi.load) ~= "function" then
    print("callgen: SKIP under " .. impl .. ": this ffi has no ffi.load (calls into C not available yet)")
    return 77
  end
  local ok, lib = pcall(ffi.load, path)
  if not ok then
    print("callgen: FAIL: ffi.load(\"" .. path .. "\"): " .. tostring(lib))
    return 1
  end
  local ok_probe, probe = pcall(function() return lib.cg_probe(41) end)
  if not ok_probe and not on_luajit and tostring(probe):find("not callable", 1, true) then
    print("callgen: SKIP under " .. impl .. ": calling a C function fails (" .. tostring(probe) .. ")")
    return 77
  end
  if not ok_probe or not same(probe, 42) then
    print("callgen: FAIL: cg_probe(41) gave " .. tostring(probe) .. ", want 42")
    return 1
  end

  -- Callbacks: the functions taking them are skipped where ffi.cast cannot make one.
  local ok_cb, probe_cb = pcall(ffi.cast, "uint64_t (*)(uint64_t)", function(x) return x + 1 end)
  local no_callbacks = nil
  if ok_cb then
    local ok_call, got = pcall(probe_cb, 41)
    probe_cb:free()
    if not ok_call or not same(got, 42) then
      print("callgen: FAIL: a callback of uint64_t (*)(uint64_t) called from Lua gave " .. tostring(got) .. ", want 42")
      return 1
    end
  elseif on_luajit then
    print("callgen: FAIL: ffi.cast of a Lua function: " .. tostring(probe_cb))
    return 1
  else
    no_callbacks = tostring(probe_cb)
  end

  local failed, calls, functions, refused, skipped = 0, 0, 0, {}, {}
  local xfail, xpass = {}, {}
  local without_callbacks = 0
  for _, f in ipairs(spec.functions) do
    if on_luajit and f.luajit_skip and not (only and only[f.name]) then
      skipped[f.luajit_skip] = (skipped[f.luajit_skip] or 0) + 1
    elseif no_callbacks and f.callback then
      without_callbacks = without_callbacks + 1
    elseif not only or only[f.name] then
      functions = functions + 1
      if verbose then io.stderr:write(f.name, ": ", f.proto, "\n") end
      local known = nil
      for flag, reason in pairs(KNOWN_FAILURES) do
        if not on_luajit and f[flag] then known = reason end
      end
      local function_failed = false
      for index, make_args in ipairs(f.calls) do
        calls = calls + 1
        local ok_call, errors, was_refused = pcall(run_call, lib, f, make_args, spec.strings)
        if not ok_call then
          errors = { "error while making the arguments or checking the result: " .. tostring(errors) }
        end
        if was_refused then
          refused[#refused + 1] = f.name
          break
        end
        if #errors > 0 then
          function_failed = true
          local label = known and "XFAIL" or "FAIL"
          if not known then failed = failed + 1 end
          print(string.format("%s %s (call %d): %s", label, f.name, index, f.proto))
          for _, line in ipairs(errors) do print("    " .. line) end
        end
      end
      if known then
        local list = function_failed and xfail or xpass
        list[known] = (list[known] or 0) + 1
      end
    end
  end
  local summary = string.format("callgen: %s, seed %s: %d functions, %d calls", impl,
    tostring(spec.seed), functions, calls)
  for reason, count in pairs(skipped) do
    summary = summary .. string.format("; %d skipped on LuaJIT: %s", count, reason)
  end
  for reason, count in pairs(xfail) do
    summary = summary .. string.format("; %d XFAIL (known: %s)", count, reason)
  end
  for reason, count in pairs(xpass) do
    if xfail[reason] then
      summary = summary .. string.format("; %d XPASS (known: %s)", count, reason)
    else
      summary = summary .. string.format("; %d XPASS (remove from KNOWN_FAILURES in callgen_rt.lua: %s)", count, reason)
    end
  end
  if no_callbacks then
    summary = summary .. string.format("; %d functions taking callbacks SKIPPED: callbacks not available (%s)",
      without_callbacks, no_callbacks)
  end
  if #refused > 0 then
    summary = summary .. string.format("; LuaJIT refuses %d (NYI): %s", #refused, table.concat(refused, " "))
  end
  if failed > 0 then
    print(summary .. string.format("; %d FAILED", failed))
    return 1
  end
  print(summary .. "; all passed")
  return 0
end

return rt
