-- SQLite: open an in-memory database, create and fill a table, query it with a
-- prepared statement, and run sqlite3_exec with a Lua function as its row callback
-- (libsqlite3.so.0, Debian's libsqlite3-0).
--   jitffi examples/sqlite.lua
--   LUA_CPATH='target/modules/lua5.4/?.so' lua5.4 examples/sqlite.lua
local ffi = require "ffi"

ffi.cdef [[
typedef struct sqlite3 sqlite3;
typedef struct sqlite3_stmt sqlite3_stmt;
const char *sqlite3_libversion(void);
int sqlite3_open(const char *filename, sqlite3 **db);
int sqlite3_close(sqlite3 *db);
const char *sqlite3_errmsg(sqlite3 *db);
int sqlite3_exec(sqlite3 *db, const char *sql,
                 int (*callback)(void *arg, int ncols, char **values, char **names),
                 void *arg, char **errmsg);
void sqlite3_free(void *p);
int sqlite3_prepare_v2(sqlite3 *db, const char *sql, int nbytes,
                       sqlite3_stmt **stmt, const char **tail);
int sqlite3_bind_int(sqlite3_stmt *stmt, int index, int value);
int sqlite3_step(sqlite3_stmt *stmt);
const unsigned char *sqlite3_column_text(sqlite3_stmt *stmt, int col);
int sqlite3_column_int(sqlite3_stmt *stmt, int col);
double sqlite3_column_double(sqlite3_stmt *stmt, int col);
int sqlite3_finalize(sqlite3_stmt *stmt);
]]

-- libsqlite3.so is the -dev package's; the runtime library is libsqlite3.so.0.
local ok, sqlite = pcall(ffi.load, "sqlite3")
if not ok then sqlite = ffi.load("libsqlite3.so.0") end

local SQLITE_OK, SQLITE_ROW, SQLITE_DONE, SQLITE_ABORT = 0, 100, 101, 4

local pdb = ffi.new("sqlite3 *[1]")
assert(sqlite.sqlite3_open(":memory:", pdb) == SQLITE_OK, "sqlite3_open")
local db = ffi.gc(pdb[0], sqlite.sqlite3_close)   -- closed when collected

local function check(status, what)
  if status ~= SQLITE_OK then
    error(what .. ": " .. ffi.string(sqlite.sqlite3_errmsg(db)), 2)
  end
end

-- sqlite3_exec with no callback: statements without rows.
local errmsg = ffi.new("char *[1]")
check(sqlite.sqlite3_exec(db, [[
  CREATE TABLE planet (name TEXT, moons INTEGER, au REAL);
  INSERT INTO planet VALUES ('Mercury', 0, 0.39), ('Venus', 0, 0.72),
    ('Earth', 1, 1.0), ('Mars', 2, 1.52), ('Jupiter', 95, 5.2);
]], nil, nil, errmsg), "create")

-- A prepared statement with a bound parameter, one row per sqlite3_step.
local pstmt = ffi.new("sqlite3_stmt *[1]")
check(sqlite.sqlite3_prepare_v2(db,
  "SELECT name, moons, au FROM planet WHERE moons >= ? ORDER BY au", -1, pstmt, nil), "prepare")
local stmt = pstmt[0]
check(sqlite.sqlite3_bind_int(stmt, 1, 1), "bind")
local rows = {}
while sqlite.sqlite3_step(stmt) == SQLITE_ROW do
  local name = ffi.string(sqlite.sqlite3_column_text(stmt, 0))
  local moons = sqlite.sqlite3_column_int(stmt, 1)
  local au = sqlite.sqlite3_column_double(stmt, 2)
  rows[#rows + 1] = ("%s:%d:%.2f"):format(name, moons, au)
end
check(sqlite.sqlite3_finalize(stmt), "finalize")
assert(table.concat(rows, " ") == "Earth:1:1.00 Mars:2:1.52 Jupiter:95:5.20", table.concat(rows, " "))

-- sqlite3_exec with a Lua function as the row callback. ffi.cast makes the C function
-- pointer, which lives until cb:free() (a Lua function passed straight as the argument
-- works too, but its callback is permanent, as in LuaJIT). Returning non-zero stops
-- the query (sqlite3_exec then returns SQLITE_ABORT).
local seen = {}
local cb = ffi.cast("int (*)(void *, int, char **, char **)",
  function(_, ncols, values, names)
    local row = {}
    for i = 0, ncols - 1 do
      -- A NULL column value is a NULL pointer: compare it with nil, which works on
      -- every engine (here it even arrives as nil; in LuaJIT it is a NULL cdata).
      if values[i] ~= nil then row[ffi.string(names[i])] = ffi.string(values[i]) end
    end
    seen[#seen + 1] = row
    return #seen == 3 and 1 or 0             -- stop after three rows
  end)
local status = sqlite.sqlite3_exec(db, "SELECT name, moons, NULL AS rings FROM planet ORDER BY name",
  cb, nil, errmsg)
cb:free()
assert(status == SQLITE_ABORT, "the callback stopped the query: " .. status)
sqlite.sqlite3_free(errmsg[0])
assert(#seen == 3, "three rows")
assert(seen[1].name == "Earth" and seen[1].moons == "1" and seen[1].rings == nil)
assert(seen[2].name == "Jupiter" and seen[2].moons == "95")
assert(seen[3].name == "Mars" and seen[3].moons == "2")

print(("sqlite %s: %d rows by sqlite3_step, %d by the sqlite3_exec callback"):format(
  ffi.string(sqlite.sqlite3_libversion()), #rows, #seen))
db = nil
collectgarbage()   -- runs sqlite3_close through ffi.gc
