-- Runs the code blocks of README.md and docs/*.md (driven by tests/docs.sh, under lua5.4).
--
--   lua5.4 tests/docs.lua ROOT JITFFI FILE...
--
-- ```lua blocks: each runs as a script under the jitffi runner and under stock lua5.1 and
-- lua5.4 with their ffi.so (LUA_CPATH set by docs.sh); it passes when it exits with
-- status 0, so a block asserts what it shows. Markers, an HTML comment on the line
-- before the block's fence:
--   <!-- doctest: fragment -->        not run: a deliberate fragment (say why nearby)
--   <!-- doctest: runners A B -->     run only under these (jitffi, lua5.1, lua5.4)
-- A ```text block marked <!-- doctest: output --> is the exact standard output of the
-- Lua block before it, on every runner.
--
-- ```sh blocks: each command line whose program (after VAR=value assignments) is
-- jitffi, target/release/jitffi, lua5.N or `cargo run` runs from ROOT (`jitffi` is the
-- runner) and must exit with status 0; other lines (cargo builds, luarocks, the test
-- scripts, which CI runs itself) are listed as not run. Every `--cdef FILE` of an
-- inspection command must name a file under examples/ or tests/golden/.
--
-- ```text blocks that begin with `$ jitffi ...`: the command runs, and every line shown
-- after it, except `...` elisions, must appear in its output in that order.
--
-- Links: every relative Markdown link names a file that exists, and its #anchor a
-- heading of that file.
--
-- Exits non-zero if a block failed or if no block ran.

local root, jitffi = arg[1], arg[2]
local files = { table.unpack(arg, 3) }
assert(root and jitffi and #files > 0, "usage: lua5.4 tests/docs.lua ROOT JITFFI FILE...")

local all_runners = { "jitffi", "lua5.1", "lua5.4" }
local tmp = os.tmpname()
local failures, ran, not_run = {}, 0, {}

local function shell_quote(s)
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function read(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  return text
end

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
end

-- Runs a shell command from ROOT; returns success, stdout, stderr.
local function run(command)
  local ok = os.execute("cd " .. shell_quote(root) .. " && ( " .. command .. " ) >"
    .. tmp .. ".out 2>" .. tmp .. ".err")
  return ok == true, read(tmp .. ".out"), read(tmp .. ".err")
end

-- The code blocks of a Markdown file: { lang, text, line, marker }.
local function blocks_of(path)
  local blocks, marker, current = {}, nil, nil
  local n = 0
  for line in (read(path) .. "\n"):gmatch("(.-)\n") do
    n = n + 1
    if current then
      if line:match("^```%s*$") then
        blocks[#blocks + 1] = current
        current = nil
      else
        current.lines[#current.lines + 1] = line
      end
    elseif line:match("^```") then
      current = { lang = line:match("^```(%S*)"), lines = {}, line = n, marker = marker }
      marker = nil
    elseif line:match("^<!%-%- doctest: .* %-%->$") then
      marker = line:match("^<!%-%- doctest: (.-) %-%->$")
    elseif line:match("%S") then
      marker = nil
    end
  end
  assert(not current, path .. ": a code block is not closed")
  return blocks
end

local function fail(where, why, detail)
  failures[#failures + 1] = where .. ": " .. why
  print("FAIL  " .. where .. ": " .. why)
  if detail and detail ~= "" then
    print((detail:gsub("\n$", ""):gsub("[^\n]+", "      %0")))
  end
end

local function check_cdef_files(where, command)
  for file in command:gmatch("%-%-cdef%s+(%S+)") do
    file = file:gsub("^['\"]", ""):gsub("['\"]$", "")
    if not (file:match("^examples/") or file:match("^tests/golden/")) then
      fail(where, "--cdef " .. file .. " is not a file under examples/ or tests/golden/")
    end
  end
end

local function run_lua_block(where, block, expected)
  local runners = all_runners
  if block.marker and block.marker:match("^runners ") then
    runners = {}
    for name in block.marker:sub(9):gmatch("%S+") do runners[#runners + 1] = name end
  end
  local script = tmp .. ".lua"
  write(script, table.concat(block.lines, "\n") .. "\n")
  for _, runner in ipairs(runners) do
    local program = runner == "jitffi" and jitffi or runner
    local v = runner == "jitffi" and "5.4" or runner:match("^lua(5%.%d)$")
    assert(v, where .. ": unknown runner " .. runner)
    local ok, out, err = run("LUA_CPATH=" .. shell_quote(root .. "/target/modules/lua" .. v .. "/?.so;;")
      .. " " .. program .. " " .. script)
    ran = ran + 1
    if not ok then
      fail(where .. " (" .. runner .. ")", "the block failed", out .. err)
    elseif expected and out ~= expected then
      fail(where .. " (" .. runner .. ")", "output differs from the block shown after it",
        "expected:\n" .. expected .. "got:\n" .. out)
    else
      print("ok    " .. where .. " (" .. runner .. ")")
    end
  end
end

-- The program of a shell command line, after VAR=value assignments.
local function program_of(command)
  local rest = command
  while true do
    local assignment = rest:match("^[%w_]+='[^']*'%s+") or rest:match('^[%w_]+="[^"]*"%s+')
      or rest:match("^[%w_]+=%S*%s+")
    if not assignment then break end
    rest = rest:sub(#assignment + 1)
  end
  return rest:match("^(%S+)"), rest
end

-- A line's trailing `# comment`, outside quotes, removed.
local function strip_comment(line)
  local quote
  for i = 1, #line do
    local c = line:sub(i, i)
    if quote then
      if c == quote then quote = nil end
    elseif c == "'" or c == '"' then
      quote = c
    elseif c == "#" and (i == 1 or line:sub(i - 1, i - 1):match("%s")) then
      return line:sub(1, i - 1):gsub("%s+$", "")
    end
  end
  return line
end

-- The command with `jitffi` on PATH and, for a stock lua5.N, the ffi.so built for it on
-- LUA_CPATH (standing in for `luarocks make`, which tests/luarocks.sh tests; an
-- assignment in the command itself comes later and wins).
local function with_runner(command)
  local _, rest = program_of(command)
  local v = rest:match("^lua(5%.[1-4])%s") or "5.4"
  return "PATH=" .. shell_quote(tmp .. ".bin") .. ":\"$PATH\" LUA_CPATH="
    .. shell_quote(root .. "/target/modules/lua" .. v .. "/?.so;;") .. " " .. command
end

local function run_shell_block(where, block)
  for i, raw in ipairs(block.lines) do
    local command = strip_comment(raw)
    local program = program_of(command)
    local here = where .. "+" .. i
    if program == nil then
      -- a blank or comment line
    elseif program == "jitffi" or program == "target/release/jitffi"
      or program:match("^lua5%.[1-4]$") or command:match("^cargo run ") then
      check_cdef_files(here, command)
      local ok, out, err = run(with_runner(command))
      ran = ran + 1
      if ok then
        print("ok    " .. here .. ": " .. command)
      else
        fail(here, "`" .. command .. "` failed", out .. err)
      end
    else
      not_run[#not_run + 1] = here .. ": " .. command
    end
  end
end

local function run_transcript(where, block)
  local command = block.lines[1]:sub(3)
  check_cdef_files(where, command)
  local ok, out, err = run(with_runner(command))
  ran = ran + 1
  if not ok then
    fail(where, "`" .. command .. "` failed", out .. err)
    return
  end
  local from = 1
  for i = 2, #block.lines do
    local shown = block.lines[i]:gsub("%s+$", "")
    if not shown:match("^%s*%.%.%.$") then
      local s, e = out:find(shown, from, true)
      if not s then
        fail(where, "`" .. command .. "` does not print, in this order: " .. shown, out)
        return
      end
      from = e + 1
    end
  end
  print("ok    " .. where .. ": " .. command)
end

-- GitHub's anchor of a heading: lower case, punctuation dropped, spaces as hyphens.
local function slug(heading)
  return (heading:lower():gsub("[^%w%- _]", ""):gsub(" ", "-"))
end

local anchors_of = {}
local function anchors(path)
  if not anchors_of[path] then
    local set, in_code = {}, false
    for line in (read(path) .. "\n"):gmatch("(.-)\n") do
      if line:match("^```") then in_code = not in_code end
      local heading = not in_code and line:match("^#+%s+(.-)%s*$")
      if heading then set[slug(heading)] = true end
    end
    anchors_of[path] = set
  end
  return anchors_of[path]
end

-- Every relative link [text](target[#anchor]) outside code names a file that exists,
-- and an anchor names a heading of it.
local function check_links(file)
  local dir = file:match("^(.*)/[^/]*$") or "."
  local in_code = false
  local n = 0
  for line in (read(root .. "/" .. file) .. "\n"):gmatch("(.-)\n") do
    n = n + 1
    if line:match("^```") then in_code = not in_code end
    if not in_code then
      for target in line:gsub("`[^`]*`", ""):gmatch("%]%(([^)%s]+)%)") do
        if not target:match("^%a+:") then
          local path, anchor = target:match("^([^#]*)#?(.*)$")
          local full = path == "" and file or (dir .. "/" .. path)
          local f = io.open(root .. "/" .. full, "rb")
          if not f then
            fail(file .. ":" .. n, "link to a missing file: " .. target)
          else
            f:close()
            if anchor ~= "" and full:match("%.md$") and not anchors(root .. "/" .. full)[anchor] then
              fail(file .. ":" .. n, "link to a missing heading: " .. target)
            end
          end
        end
      end
    end
  end
end

-- `jitffi` on PATH is the runner.
os.execute("mkdir -p " .. tmp .. ".bin && ln -sf " .. shell_quote(jitffi) .. " " .. tmp .. ".bin/jitffi")

for _, file in ipairs(files) do
  check_links(file)
  local blocks = blocks_of(root .. "/" .. file)
  for i, block in ipairs(blocks) do
    local where = file .. ":" .. block.line
    local marker = block.marker
    if marker == "fragment" then
      print("--    " .. where .. ": a fragment, not run")
    elseif block.lang == "lua" then
      local after = blocks[i + 1]
      local expected
      if after and after.marker == "output" then
        expected = table.concat(after.lines, "\n") .. "\n"
      end
      run_lua_block(where, block, expected)
    elseif block.lang == "sh" then
      run_shell_block(where, block)
    elseif block.lang == "text" and block.lines[1] and block.lines[1]:match("^%$ jitffi ") then
      run_transcript(where, block)
    elseif marker == "output" then
      local before = blocks[i - 1]
      if not (before and before.lang == "lua") then
        fail(where, "an output block must follow a ```lua block")
      end
    elseif marker then
      fail(where, "unknown doctest marker '" .. marker .. "' on a ```" .. block.lang .. " block")
    end
  end
end

os.execute("rm -rf " .. tmp .. " " .. tmp .. ".out " .. tmp .. ".err " .. tmp .. ".lua " .. tmp .. ".bin")

print(("docs: %d commands not run (builds, luarocks and test scripts, which CI runs itself):"):format(#not_run))
for _, line in ipairs(not_run) do print("      " .. line) end
if ran == 0 then
  print("docs: ran no code block")
  os.exit(1)
end
if #failures > 0 then
  print(("docs: %d failure(s):"):format(#failures))
  for _, f in ipairs(failures) do print("  " .. f) end
  os.exit(1)
end
print(("docs: all %d runs passed"):format(ran))
