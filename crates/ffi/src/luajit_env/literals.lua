-- The module `ffi.literals`: Lua's loaders, reading LuaJIT's number literals (`123LL`,
-- `0x10ULL`, `1llu`, `12.5i`). Called with the C function that rewrites a source text
-- (see crates/luajit-literals); returns the module table.
--
-- Every function behaves as the base library's function of the same name, for sources
-- with or without such literals (a source without any goes to the original function
-- untouched). `install()` makes them the global functions and the Lua-file searcher
-- of `require`.
local rewrite = ...

local base_load, base_loadstring, base_loadfile = load, loadstring, loadfile
local setfenv, select, type, error, assert = setfenv, select, type, error, assert
local io_open, concat = io.open, table.concat
local is_51 = _VERSION == "Lua 5.1"
local package = package

local M = { rewrite = rewrite }

-- Loads the text `source` (already rewritten) with the original loader.
local function load_text(source, chunkname, mode, env, has_env)
  if is_51 then
    local f, err = base_loadstring(source, chunkname)
    if f and has_env then setfenv(f, env) end
    return f, err
  elseif has_env then
    return base_load(source, chunkname, mode, env)
  else
    return base_load(source, chunkname, mode)
  end
end

-- load(chunk [, chunkname [, mode [, env]]]): `chunk` a string or a reader function.
function M.load(...)
  local chunk, chunkname, mode, env = ...
  local has_env = select("#", ...) >= 4
  if type(chunk) == "function" then
    local pieces = {}
    while true do
      local piece = chunk()
      if piece == nil or piece == "" then break end
      if type(piece) ~= "string" then
        return nil, "reader function must return a string"
      end
      pieces[#pieces + 1] = piece
    end
    chunk = concat(pieces)
    if chunkname == nil then chunkname = "=(load)" end
  elseif type(chunk) ~= "string" then
    return base_load(...)
  end
  if chunkname == nil then chunkname = chunk end
  return load_text(rewrite(chunk), chunkname, mode, env, has_env)
end

-- loadstring(s [, chunkname]), as in Lua 5.1 and LuaJIT.
function M.loadstring(...)
  local s, chunkname = ...
  if type(s) ~= "string" and type(s) ~= "number" then
    return (base_loadstring or base_load)(...)
  end
  s = tostring(s)
  return load_text(rewrite(s), chunkname == nil and s or chunkname)
end

-- loadfile([filename [, mode [, env]]]): stdin, a missing file, an unreadable file and
-- a file without LuaJIT literals go to the original loadfile.
function M.loadfile(...)
  local filename, mode, env = ...
  local has_env = select("#", ...) >= 3
  local file = filename ~= nil and io_open(filename, "rb")
  if not file then return base_loadfile(...) end
  local text = file:read("*a")
  file:close()
  if not text then return base_loadfile(...) end
  -- As luaL_loadfile: skip a UTF-8 byte order mark and a first line starting with
  -- '#' (keeping its newline, so that line numbers stay right).
  local source = text
  if source:sub(1, 3) == "\239\187\191" then source = source:sub(4) end
  if source:sub(1, 1) == "#" then source = source:gsub("^[^\n]*", "", 1) end
  local rewritten = rewrite(source)
  if rewritten == source then return base_loadfile(...) end
  return load_text(rewritten, "@" .. filename, mode, env, has_env)
end

-- dofile([filename]).
function M.dofile(filename)
  local f = assert(M.loadfile(filename))
  return f()
end

-- package.searchpath, for Lua 5.1.
local searchpath = package.searchpath or function(name, path)
  name = name:gsub("%.", "/")
  local tried = {}
  for template in path:gmatch("[^;]+") do
    local filename = template:gsub("%?", name)
    local file = io_open(filename, "r")
    if file then
      file:close()
      return filename
    end
    tried[#tried + 1] = "\n\tno file '" .. filename .. "'"
  end
  return nil, concat(tried)
end

-- The searcher of Lua files on package.path (the second of package.searchers).
function M.searcher(name)
  if type(package.path) ~= "string" then
    error("'package.path' must be a string", 2)
  end
  local filename, err = searchpath(name, package.path)
  if not filename then return err end
  local loader, message = M.loadfile(filename)
  if not loader then
    error(("error loading module '%s' from file '%s':\n\t%s"):format(name, filename, message), 0)
  end
  return loader, filename
end

-- Makes load, loadstring (where it exists), loadfile and dofile read LuaJIT literals,
-- and require too (M.searcher replaces the standard Lua-file searcher).
function M.install()
  _G.load, _G.loadfile, _G.dofile = M.load, M.loadfile, M.dofile
  if _G.loadstring ~= nil then _G.loadstring = M.loadstring end
  local searchers = package.searchers or package.loaders
  searchers[2] = M.searcher
end

return M
