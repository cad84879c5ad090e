-- Differential test: an alignment written after the tag of a struct or union reference
-- is the declaration's (gcc, and LuaJIT), as glibc's and Linux's headers write it
-- (`typedef struct vring_desc __attribute__((aligned(16))) vring_desc_t;`). The
-- record itself keeps its own alignment. gcc gives the same numbers.
local ffi = require "ffi"

ffi.cdef [[
struct pair { char c; long long a; };
struct three { char c[3]; };
typedef struct pair __attribute__((aligned(16))) pair16;
typedef struct three __attribute__((__aligned__(8))) three8;
typedef struct pair __attribute__((packed)) pair_packed;   /* gcc ignores packed here */
typedef union later __attribute__((aligned(16))) later16;  /* completed below */
union later { int x; };
struct holder {
  char c;
  struct pair __attribute__((aligned(32))) m;
  three8 t;
  pair16 p[2];
};
]]

local function show(name)
  print(name, ffi.sizeof(name), ffi.alignof(name))
end
show("pair16")
show("three8")
show("pair_packed")
show("later16")
show("struct pair")
show("struct three")
show("union later")
show("struct holder")
for _, field in ipairs({ "m", "t", "p" }) do
  print("offset", field, ffi.offsetof("struct holder", field))
end
show("pair16[3]")
