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
 * Builds against Lua 5.1 ... 5.4: it uses only the C API they share. */
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
    lua_State *L = lua_newstate(capped_alloc, &cap);
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

static long thread_states;

static void *thread_main(void *unused) {
    (void)unused;
    run_states(thread_states);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 4) {
        fprintf(stderr, "usage: %s CPATH STATES THREADS\n", argv[0]);
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

    /* The process still works after all of that: one more state. */
    call_late(run_state());
    printf("late calls: %ld\n", late_calls);
    return failed;
}
