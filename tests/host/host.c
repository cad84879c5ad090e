/* A C program that embeds Lua and loads the ffi module through `require`, as a server
 * would: it opens and closes many states, on several threads, and keeps running.
 *
 *   host CPATH STATES THREADS
 *
 * CPATH is the `package.cpath` that finds ffi.so. Each state requires ffi, makes a
 * callback and some cdata, calls the callback from C (which must run it), then closes.
 * Calling that callback again after the close must be refused: the module writes a line
 * to stderr and C gets zero (tests/host.sh counts the lines). Lua's lua_close dlcloses
 * ffi.so, so this only works if the module keeps itself loaded.
 *
 * Memory: the main thread runs STATES states, reads its resident size, runs STATES more
 * and reads it again; the growth of the second half must be small (the first half may
 * fill process-wide caches once). Then THREADS threads each run STATES / 4 states at
 * once. Prints "late calls: N" (the number of refused calls it made) and exits 0 if every
 * check passed, else prints what failed and exits 1.
 *
 * Out of memory: one state runs with an allocator capped at 64 MiB. Cdata too large for
 * it (ffi.new of a fixed size, VLA counts, many at once) must fail with Lua's
 * "not enough memory" error, and the state must go on working after a collection.
 *
 *   host CPATH oom
 *
 * Allocation failure everywhere: a state whose allocator fails every allocation after
 * the first N runs each case of oom_setup (every ffi API, calls, callbacks, metatypes,
 * finalizers) for N = 0, 1, 2, ... until the case completes. After each failed attempt
 * the error must be an ordinary Lua error (no "internal error"), and with the allocator
 * unlimited again the state must still work: a new cdef, a callback, a call (a RefCell
 * borrow left behind by a longjmp would fail every later ffi call). Loading the module
 * itself gets the same treatment. Meant to run under valgrind too (tests/host.sh).
 *
 * Builds against Lua 5.1 ... 5.5: it uses only the C API they share (new_state below
 * for 5.5's lua_newstate, which takes a hash seed). */
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int (*int_fn)(int);

#if LUA_VERSION_NUM >= 505
#define new_state(alloc, ud) lua_newstate((alloc), (ud), 0)
#else
#define new_state(alloc, ud) lua_newstate((alloc), (ud))
#endif

static const char *cpath;
static int failed;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long late_calls;

static void fail(const char *what, const char *detail) {
    pthread_mutex_lock(&lock);
    fprintf(stdout, "FAIL: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    failed = 1;
    pthread_mutex_unlock(&lock);
}

/* The Lua side of one state: returns the callback's address as a number. */
static const char *script =
    "package.cpath = ...\n"
    "local ffi = require 'ffi'\n"
    "ffi.cdef 'typedef struct { int a; double b[4]; } host_pair;'\n"
    "local p = ffi.new('host_pair', 7, {1, 2, 3, 4})\n"
    "assert(p.a == 7 and p.b[3] == 4)\n"
    "local v = ffi.new('int[?]', 100)\n"
    "v[99] = 5\n"
    "assert(ffi.string(ffi.new('char[3]', 'ok'), 2) == 'ok')\n"
    "local cb = ffi.cast('int (*)(int)', function(x) return x * 2 + v[99] end)\n"
    "return tonumber(ffi.cast('uintptr_t', cb))\n";

/* Opens a state, runs the script, calls its callback, closes the state; returns the
 * callback (now refused) or NULL after a failure. */
static int_fn run_state(void) {
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        fail("luaL_newstate", NULL);
        return NULL;
    }
    luaL_openlibs(L);
    int_fn cb = NULL;
    if (luaL_loadstring(L, script) != 0) {
        fail("load", lua_tostring(L, -1));
    } else {
        lua_pushstring(L, cpath);
        if (lua_pcall(L, 1, 1, 0) != 0) {
            fail("script", lua_tostring(L, -1));
        } else {
            cb = (int_fn)(uintptr_t)lua_tonumber(L, -1);
            if (cb == NULL) {
                fail("callback address", NULL);
            } else if (cb(20) != 45) {
                fail("callback in its open state did not run", NULL);
                cb = NULL;
            }
        }
    }
    lua_close(L);
    return cb;
}

/* Calls a callback of a closed state: it must be refused with a zero result. */
static void call_late(int_fn cb) {
    if (cb == NULL) return;
    int result = cb(20);
    if (result != 0) fail("a callback after lua_close returned non-zero", NULL);
    pthread_mutex_lock(&lock);
    late_calls++;
    pthread_mutex_unlock(&lock);
}

static void run_states(long count) {
    for (long i = 0; i < count; i++) {
        int_fn cb = run_state();
        /* Only some late calls: each writes a line to stderr. */
        if (i % 50 == 0) call_late(cb);
    }
}

/* Resident set size in bytes, from /proc/self/statm. */
static long resident_bytes(void) {
    long pages_total = 0, pages_resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL || fscanf(f, "%ld %ld", &pages_total, &pages_resident) != 2) {
        fail("reading /proc/self/statm", NULL);
    }
    if (f) fclose(f);
    return pages_resident * sysconf(_SC_PAGESIZE);
}

/* lua_Alloc that refuses to hold more than *ud bytes in total. */
struct capped {
    size_t used, cap;
};

static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    struct capped *c = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        c->used -= old;
        return NULL;
    }
    if (nsize > old && c->used - old + nsize > c->cap) return NULL;
    void *p = realloc(ptr, nsize);
    if (p != NULL) c->used = c->used - old + nsize;
    return p;
}

static const char *oom_script =
    "package.cpath = ...\n"
    "local ffi = require 'ffi'\n"
    "local function refused(f, ...)\n"
    "  local ok, err = pcall(f, ...)\n"
    "  assert(not ok, 'an allocation beyond the cap succeeded')\n"
    "  assert(tostring(err):find('not enough memory', 1, true), tostring(err))\n"
    "end\n"
    "refused(ffi.new, 'char[?]', 2^31 - 1)\n"
    "refused(ffi.new, 'char[100000000]')\n"
    "refused(ffi.new, 'double[?]', 20000000)\n"
    "refused(function() local t = {} for i = 1, 1000 do t[i] = ffi.new('char[?]', 2^20) end end)\n"
    "collectgarbage()\n"
    "local v = ffi.new('int[?]', 1000, 7)\n"
    "assert(v[999] == 7)\n"
    "return 'ok'\n";

/* A state under a 64 MiB cap: large cdata fail with Lua's error, the state survives. */
static void run_capped_state(void) {
    struct capped cap = { 0, 64u << 20 };
    lua_State *L = new_state(capped_alloc, &cap);
    if (L == NULL) {
        fail("lua_newstate", NULL);
        return;
    }
    luaL_openlibs(L);
    if (luaL_loadstring(L, oom_script) != 0) {
        fail("load", lua_tostring(L, -1));
    } else {
        lua_pushstring(L, cpath);
        if (lua_pcall(L, 1, 1, 0) != 0) fail("out of memory in a capped state", lua_tostring(L, -1));
    }
    lua_close(L);
    if (cap.used != 0) fail("the capped state did not free all it allocated", NULL);
}

#if LUA_VERSION_NUM >= 505
/* Lua 5.5's external strings (lua_pushexternalstring: Lua keeps the caller's buffer),
 * which only C can make, passed to C functions: C must get the buffer itself, short
 * text or long (the direct stack reads follow a 5.5 long string's contents pointer;
 * tests/host.sh requires them on with JITFFI_REQUIRE_STACK_PEEK). */
static const char *external_script =
    "package.cpath = ...\n"
    "local ffi = require 'ffi'\n"
    "ffi.cdef 'size_t strlen(const char *); char *strchr(const char *, int);'\n"
    "return function(s)\n"
    "  return tonumber(ffi.C.strlen(s)), tonumber(ffi.cast('uintptr_t', ffi.C.strchr(s, 0)))\n"
    "end\n";

static void run_external_strings(void) {
    static const char short_text[] = "ext";
    static const char long_text[] = "an external string longer than any short string of Lua";
    const char *texts[] = { short_text, long_text };
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        fail("luaL_newstate", NULL);
        return;
    }
    luaL_openlibs(L);
    if (luaL_loadstring(L, external_script) != 0) {
        fail("load", lua_tostring(L, -1));
        lua_close(L);
        return;
    }
    lua_pushstring(L, cpath);
    if (lua_pcall(L, 1, 1, 0) != 0) {
        fail("external strings", lua_tostring(L, -1));
        lua_close(L);
        return;
    }
    for (int i = 0; i < 2; i++) {
        size_t len = strlen(texts[i]);
        lua_pushvalue(L, -1);
        lua_pushexternalstring(L, texts[i], len, NULL, NULL);
        if (lua_pcall(L, 1, 2, 0) != 0) {
            fail("an external string passed to C", lua_tostring(L, -1));
            break;
        }
        if ((size_t)lua_tointeger(L, -2) != len
            || (uintptr_t)lua_tointeger(L, -1) != (uintptr_t)(texts[i] + len))
            fail("an external string passed to C is not its buffer", texts[i]);
        lua_pop(L, 2);
    }
    lua_close(L);
}
#endif

/* lua_Alloc that fails every growing allocation once `left` reaches 0 (-1: never). */
struct countdown {
    long left;
};

static void *countdown_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
    struct countdown *c = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    if (nsize > old && c->left >= 0) {
        if (c->left == 0) return NULL;
        c->left--;
    }
    return realloc(ptr, nsize);
}

/* Returns the cases ({name, function} each) and the health check. */
static const char *oom_setup =
    "package.cpath = ...\n"
    "local ffi = require 'ffi'\n"
    "ffi.cdef [[\n"
    "  typedef struct { int x; double y; } oom_pt;\n"
    "  typedef struct { oom_pt a; int n[3]; union { int i; float f; }; } oom_nest;\n"
    "  typedef struct { int quot; int rem; } oom_div;\n"
    "  typedef struct { int k; int (*f)(int); } oom_cbs;\n"
    "  oom_div div(int, int);\n"
    "  size_t strlen(const char *);\n"
    "  int abs(int);\n"
    "  void qsort(void *, size_t, size_t, int (*)(const void *, const void *));\n"
    "  int snprintf(char *, size_t, const char *, ...);\n"
    "]]\n"
    "local n = 0\n"
    "local function fresh() n = n + 1 return n end\n"
    "local function int_at(p) return ffi.cast('const int *', p)[0] end\n"
    "local function sort(v, count)\n"
    "  local cmp = ffi.cast('int (*)(const void *, const void *)',\n"
    "    function(a, b) return int_at(a) - int_at(b) end)\n"
    "  ffi.C.qsort(v, count, 4, cmp)\n"
    "  cmp:free()\n"
    "end\n"
    "local cases = {\n"
    " {'cdef', function() local k = fresh()\n"
    "   ffi.cdef('struct oom_s' .. k .. ' { int a; double b; }; typedef int oom_t' .. k ..\n"
    "     '; int oom_f' .. k .. '(struct oom_s' .. k .. ' *); enum oom_e' .. k .. ' { OOM_A' .. k .. ' = 3 };')\n"
    "   assert(ffi.C['OOM_A' .. k] == 3) end},\n"
    " {'new positional', function() local p = ffi.new('oom_pt', 1, 2.5) assert(p.y == 2.5) end},\n"
    " {'new by name', function()\n"
    "   local p = ffi.new('oom_nest', {a = {x = 1, y = 2}, n = {1, 2, 3}, i = 5})\n"
    "   assert(p.n[2] == 3 and p.a.y == 2 and p.i == 5) end},\n"
    " {'new array of records', function()\n"
    "   local v = ffi.new('oom_pt[3]', {{1, 2}, {3, 4}}) assert(v[1].x == 3) end},\n"
    " {'new vla', function() local v = ffi.new('int[?]', 100, 7) assert(v[99] == 7) end},\n"
    " {'typeof', function() local k = fresh()\n"
    "   assert(ffi.sizeof(ffi.typeof('int[' .. k .. ']')) == 4 * k)\n"
    "   local t = ffi.typeof('$ *', ffi.typeof('oom_pt'))\n"
    "   assert(ffi.istype(t, ffi.new(t))) end},\n"
    " {'cast', function() assert(tonumber(ffi.cast('uintptr_t', 42)) == 42)\n"
    "   assert(tonumber(ffi.cast('intptr_t', ffi.cast('oom_pt *', 8))) == 8) end},\n"
    " {'sizeof', function() assert(ffi.sizeof('oom_nest') > 0 and ffi.alignof('oom_pt') == 8\n"
    "   and ffi.offsetof('oom_pt', 'y') == 8) end},\n"
    " {'memory', function() local b = ffi.new('char[16]') ffi.copy(b, 'hello')\n"
    "   ffi.fill(b + 5, 3, 33) assert(ffi.string(b) == 'hello!!!' and ffi.string(b, 2) == 'he') end},\n"
    " {'tostring', function() assert(tostring(ffi.new('oom_pt')):find('cdata<struct', 1, true))\n"
    "   assert(tostring(ffi.typeof('int *')) == 'ctype<int *>')\n"
    "   assert(tostring(ffi.new('int64_t', -5)) == '-5LL') end},\n"
    " {'int64', function() local a = ffi.new('int64_t', 40)\n"
    "   assert(tonumber(a + 2) == 42 and a < ffi.new('int64_t', 41) and tonumber(-a) == -40)\n"
    "   assert(tostring(ffi.new('uint64_t', 1) * 3) == '3ULL') end},\n"
    " {'calls', function() assert(tonumber(ffi.C.strlen('four')) == 4 and ffi.C.abs(-3) == 3)\n"
    "   local d = ffi.C.div(7, 2) assert(d.quot == 3 and d.rem == 1) end},\n"
    " {'variadic', function() local b = ffi.new('char[32]')\n"
    "   ffi.C.snprintf(b, 32, '%d-%s', ffi.new('int', 5), 'x') assert(ffi.string(b) == '5-x') end},\n"
    " {'call errors', function() assert(not pcall(ffi.C.abs)) assert(not pcall(ffi.C.abs, {}))\n"
    "   assert(not pcall(ffi.C.strlen, 5)) assert(not pcall(ffi.C.div, 1)) end},\n"
    " {'callback', function() local cb = ffi.cast('int (*)(int)', function(x) return x + 1 end)\n"
    "   assert(cb(1) == 2) cb:free() end},\n"
    " {'callback by value', function()\n"
    "   local cb = ffi.cast('double (*)(oom_pt)', function(p) return p.x + p.y end)\n"
    "   assert(cb(ffi.new('oom_pt', 1, 0.5)) == 1.5) cb:free() end},\n"
    " {'callback field', function() local s = ffi.new('oom_cbs', {k = 1, f = function(x) return x * 2 end})\n"
    "   assert(s.f(3) == 6) end},\n"
    " {'qsort', function() local v = ffi.new('int[5]', {5, 3, 4, 1, 2}) sort(v, 5)\n"
    "   assert(v[0] == 1 and v[4] == 5) end},\n"
    " {'callback error', function()\n"
    "   local cb = ffi.cast('int (*)(int)', function() error('inner') end)\n"
    "   assert(not pcall(cb, 1)) cb:free() end},\n"
    " {'metatype', function() local k = fresh()\n"
    "   ffi.cdef('struct oom_m' .. k .. ' { int v; };')\n"
    "   local T = ffi.metatype('struct oom_m' .. k, {__index = {get = function(s) return s.v end},\n"
    "     __add = function(a, b) return a.v + b end, __tostring = function() return 'm' end})\n"
    "   local m = T(4) assert(m:get() == 4 and m + 1 == 5 and tostring(m) == 'm') end},\n"
    " {'gc', function() ffi.gc(ffi.new('int[4]'), function(p) p[0] = 1 end) collectgarbage() end},\n"
    " {'errors', function() assert(not pcall(ffi.new, 'struct oom_nope'))\n"
    "   assert(not pcall(ffi.cdef, 'int x(')) assert(not pcall(ffi.cast, 'int', {}))\n"
    "   local p = ffi.new('oom_pt')\n"
    "   assert(not pcall(function() return p.nope end))\n"
    "   assert(not pcall(function() return p .. 'x' end))\n"
    "   assert(not pcall(ffi.new, 'oom_pt', {x = {}})) end},\n"
    " {'fields', function() local q = ffi.new('oom_pt[?]', 4) q[3].y = 1.5 q[2] = {7, 8}\n"
    "   assert(q[3].y == 1.5 and q[2].x == 7) end},\n"
    " {'misc', function() assert(tonumber(ffi.new('int', 7)) == 7) ffi.errno(0)\n"
    "   assert(ffi.errno() == 0 and ffi.abi('64bit')) end},\n"
    "}\n"
    "local function health() local k = fresh()\n"
    "  ffi.cdef('struct oom_h' .. k .. ' { int a; };')\n"
    "  assert(ffi.new('struct oom_h' .. k, {a = 3}).a == 3)\n"
    "  local v = ffi.new('int[3]', {3, 1, 2}) sort(v, 3) assert(v[0] == 1 and v[2] == 3)\n"
    "  assert(tonumber(ffi.C.strlen('abc')) == 3)\n"
    "end\n"
    "return cases, health\n";

#if LUA_VERSION_NUM >= 502
#define oom_rawlen lua_rawlen
#else
#define oom_rawlen lua_objlen
#endif

static long oom_attempts;

/* A state with the ffi loaded and oom_setup run (stack: cases, health), or NULL. */
static lua_State *oom_state(struct countdown *cd) {
    cd->left = -1;
    lua_State *L = new_state(countdown_alloc, cd);
    if (L == NULL) {
        fail("lua_newstate", NULL);
        return NULL;
    }
    luaL_openlibs(L);
    if (luaL_loadstring(L, oom_setup) != 0) {
        fail("load", lua_tostring(L, -1));
        lua_close(L);
        return NULL;
    }
    lua_pushstring(L, cpath);
    if (lua_pcall(L, 1, 2, 0) != 0) {
        fail("oom setup", lua_tostring(L, -1));
        lua_close(L);
        return NULL;
    }
    return L;
}

/* Runs case `i` in a fresh state whose allocator fails after n allocations; after a
 * failure the state must still work. Returns 1 when the case completed, 0 when it
 * failed (or the test did), -1 on a test failure. */
static int oom_attempt(struct countdown *cd, int i, long n, char *name, size_t size) {
    lua_State *L = oom_state(cd);
    if (L == NULL) return -1;
    lua_rawgeti(L, 1, i);
    lua_rawgeti(L, -1, 1);
    snprintf(name, size, "%s", lua_tostring(L, -1));
    lua_rawgeti(L, -2, 2);
    cd->left = n;
    int status = lua_pcall(L, 0, 0, 0);
    cd->left = -1;
    oom_attempts++;
    int result = status == 0;
    if (status != 0) {
        const char *err = lua_tostring(L, -1);
        if (n < 0) {
            fail(name, err);
            result = -1;
        } else if (err != NULL && (strstr(err, "internal error") || strstr(err, "a bug, please report"))) {
            fail(name, err);
            result = -1;
        }
        lua_gc(L, LUA_GCCOLLECT, 0);
        lua_pushvalue(L, 2);
        if (result == 0 && lua_pcall(L, 0, 0, 0) != 0) {
            char detail[512];
            snprintf(detail, sizeof detail, "after '%s' failed at allocation %ld: %s", name, n,
                     lua_tostring(L, -1));
            fail("the ffi no longer works after an allocation failure", detail);
            result = -1;
        }
    }
    lua_close(L);
    return result;
}

static int require_ffi(lua_State *L) {
    lua_getglobal(L, "require");
    lua_pushstring(L, "ffi");
    lua_call(L, 1, 0);
    return 0;
}

/* Every case of oom_setup under allocation failure, then loading the module itself. */
static void run_oom_cases(void) {
    struct countdown cd = { -1 };
    lua_State *L = oom_state(&cd);
    if (L == NULL) return;
    int count = (int)oom_rawlen(L, 1);
    lua_close(L);
    for (int i = 1; i <= count; i++) {
        char name[64];
        /* First without a limit: the case itself must pass. */
        if (oom_attempt(&cd, i, -1, name, sizeof name) != 1) continue;
        long n = 0;
        int result;
        while ((result = oom_attempt(&cd, i, n, name, sizeof name)) == 0 && n < 10000) n++;
        if (result == 0) fail("never completed", name);
    }

    /* Loading the module: a fresh state for each count, then a plain require must work. */
    for (long n = 0; n < 100000; n++) {
        cd.left = -1;
        L = new_state(countdown_alloc, &cd);
        if (L == NULL) {
            fail("lua_newstate", NULL);
            return;
        }
        luaL_openlibs(L);
        lua_getglobal(L, "package");
        lua_pushstring(L, cpath);
        lua_setfield(L, -2, "cpath");
        lua_pop(L, 1);
        lua_pushcfunction(L, require_ffi);
        cd.left = n;
        int status = lua_pcall(L, 0, 0, 0);
        cd.left = -1;
        oom_attempts++;
        if (status != 0) {
            const char *err = lua_tostring(L, -1);
            if (err != NULL && (strstr(err, "internal error") || strstr(err, "a bug, please report"))) {
                fail("require 'ffi'", err);
            }
            lua_pop(L, 1);
            /* Lua 5.1 leaves a failed module's sentinel in package.loaded. */
            lua_getglobal(L, "package");
            lua_getfield(L, -1, "loaded");
            lua_pushnil(L);
            lua_setfield(L, -2, "ffi");
            lua_pop(L, 2);
            lua_pushcfunction(L, require_ffi);
            if (lua_pcall(L, 0, 0, 0) != 0) fail("require after a failed require", lua_tostring(L, -1));
        }
        lua_close(L);
        if (status == 0) break;
    }
    printf("oom: %d cases, %ld attempts\n", count, oom_attempts);
}

static long thread_states;

static void *thread_main(void *unused) {
    (void)unused;
    run_states(thread_states);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[2], "oom") == 0) {
        cpath = argv[1];
        run_oom_cases();
        return failed;
    }
    if (argc != 4) {
        fprintf(stderr, "usage: %s CPATH STATES THREADS | %s CPATH oom\n", argv[0], argv[0]);
        return 2;
    }
    cpath = argv[1];
    long states = atol(argv[2]);
    int threads = atoi(argv[3]);
    if (states < 4 || threads < 1 || threads > 64) {
        fprintf(stderr, "host: STATES must be >= 4 and THREADS 1..64\n");
        return 2;
    }

    /* Warm-up: the first states fill the process-wide caches (code pages, slot pool). */
    run_states(states);
    long after_first = resident_bytes();
    run_states(states);
    long after_second = resident_bytes();
    long growth = after_second - after_first;
    printf("resident: %ld KiB after %ld states, %ld KiB after %ld (growth %ld KiB)\n",
           after_first / 1024, states, after_second / 1024, 2 * states, growth / 1024);
    /* Each state's callback slot stays reserved for the life of the process (so that a
     * late call is refused, not run in another state): 16 bytes per state, plus what
     * malloc keeps. A leak of the module's per-state data (tens of KiB per state when
     * ffi.so was unloaded and reloaded) would be many times the bound. */
    if (growth > 256 * states + 256 * 1024) {
        char detail[96];
        snprintf(detail, sizeof detail, "%ld KiB for %ld states", growth / 1024, states);
        fail("memory grows with states opened and closed", detail);
    }

    thread_states = states / 4;
    pthread_t ids[64];
    for (int t = 0; t < threads; t++) {
        if (pthread_create(&ids[t], NULL, thread_main, NULL) != 0) fail("pthread_create", NULL);
    }
    for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL);

    run_capped_state();
#if LUA_VERSION_NUM >= 505
    run_external_strings();
#endif

    /* The process still works after all of that: one more state. */
    call_late(run_state());
    printf("late calls: %ld\n", late_calls);
    return failed;
}
