/*
 * cbind_callbacks: the floor for callbacks (bench/callbacks.lua), a hand-written Lua 5.4
 * C module in which C code calls Lua functions the way a binding author writes it with
 * the C API: the C function pointer that C calls pushes the Lua function and the C
 * arguments as Lua values, lua_call, and reads the result back as the C return type
 * (checked, as the ffi checks a callback's result).
 *
 *   cbind_callbacks.ints(n)                a userdata holding n C ints (malloc'd, outside
 *                                          the Lua heap as in bench/callbacks.lua; __gc
 *                                          frees them)
 *   cbind_callbacks.fill(ints, seed)       fills it from the benchmark's generator
 *                                          (below); returns the sum of the ints
 *   cbind_callbacks.sort(ints, compare)    libc qsort with a C comparator that calls
 *                                          compare(a, b) with the two ints as Lua integers;
 *                                          returns the number of comparator calls
 *   cbind_callbacks.sort_pointers(ints, compare)
 *                                          the same with compare(a, b) given the two
 *                                          `const int *` as userdata whose C __index
 *                                          reads a[i]: what the ffi hands a comparator
 *                                          (a new object per argument, an index
 *                                          metamethod), with the least C can do for it
 *   cbind_callbacks.sorted_sum(ints)       the sum if the ints ascend, else false
 *   cbind_callbacks.call_repeatedly(f, n)  callee.c's call_repeatedly (n calls of a C
 *                                          `int (*)(int, int)`) with a C function that
 *                                          calls f(a, b); returns its result
 *   cbind_callbacks.new(f)                 keeps f for C (a registry reference in a
 *                                          userdata); handle:free() drops it: what a
 *                                          binding does where the ffi makes a callback
 *
 * qsort's comparator and call_repeatedly's function take no context argument, so the
 * running lua_State is a file static and the Lua function is read from a fixed slot of
 * that state's stack (the argument of sort or call_repeatedly): the fastest way to reach
 * it, and the one such a binding uses. Not reentrant, and an error in the Lua function
 * longjmps through qsort (leaking glibc's merge buffer): a benchmark, not a library.
 *
 * Built by xtask against the Lua 5.4 headers and linked to target/bench/libcallee.so:
 * cc -shared -fPIC -O2 ... -lcallee, plus $CBIND_CFLAGS; and, through the few lines
 * under LUA_VERSION_NUM, against the Lua 5.1 headers into target/bench/lua5.1/, so that
 * lua5.1's ffi.so has its floor in the same interpreter.
 */
#include <stdint.h>
#include <stdlib.h>

#include "callee.h"
#include "lauxlib.h"
#include "lua.h"

#if LUA_VERSION_NUM < 502
#define lua_newuserdatauv(L, size, nuv) lua_newuserdata(L, size)
#define luaL_setmetatable(L, name) (luaL_getmetatable(L, name), lua_setmetatable(L, -2))
#define luaL_newlib(L, functions) (lua_newtable(L), luaL_register(L, NULL, functions))
/* A number (5.1 has no integer subtype; the comparators' results are whole). */
static lua_Integer lua_tointegerx(lua_State *L, int index, int *is_number) {
    *is_number = lua_type(L, index) == LUA_TNUMBER;
    return lua_tointeger(L, index);
}
#endif

#define INTS_META "cbind_callbacks.ints"
#define HANDLE_META "cbind_callbacks.handle"

/* The stack slot of the Lua function while sort and call_repeatedly run. */
#define SORT_COMPARATOR 2
#define REPEATED_FUNCTION 1

/* The benchmark's data: the Park-Miller generator x' = 16807 x mod (2^31 - 1), which
 * bench/callbacks.lua runs too. Every product is below 2^46, exact in doubles, so Lua
 * 5.1-5.4, LuaJIT and C make the same numbers; they lie in [1, 2^31 - 2], so the
 * comparator's a - b never overflows an int. */
#define LCG_MULTIPLIER 16807u
#define LCG_MODULUS 2147483647u

struct ints {
    size_t length;
    int *items; /* malloc'd; NULL once collected */
};

/* A `const int *` handed to Lua: a userdata holding the pointer, whose metatable's
 * __index reads the int at p + i. */
#define POINTER_META "cbind_callbacks.int_pointer"

struct handle {
    int reference; /* f in the registry, or LUA_NOREF once freed */
};

/* The state whose sort or call_repeatedly is running. */
static lua_State *calling_state;
/* The registry reference of POINTER_META, so that a new pointer takes no name lookup. */
static int pointer_meta = LUA_NOREF;
static lua_Integer sort_comparisons;

static uint32_t lcg_next(uint32_t x) {
    return (uint32_t)((uint64_t)x * LCG_MULTIPLIER % LCG_MODULUS);
}

/* Calls the function below the two arguments on top of L and returns its result
 * converted to int (checked, as the ffi checks a callback's result). */
static inline int call_for_int(lua_State *L) {
    int is_integer;
    lua_Integer result;
    lua_call(L, 2, 1);
    result = lua_tointegerx(L, -1, &is_integer);
    if (!is_integer)
        luaL_error(L, "callback returned %s, not an integer", luaL_typename(L, -1));
    lua_pop(L, 1);
    return (int)result;
}

/* f(a, b), f the Lua function at stack slot `function` of L, its result converted to
 * int. Uses 3 stack slots, within the LUA_MINSTACK a C function is given. */
static inline int call_lua_int2(lua_State *L, int function, lua_Integer a,
                                lua_Integer b) {
    lua_pushvalue(L, function);
    lua_pushinteger(L, a);
    lua_pushinteger(L, b);
    return call_for_int(L);
}

/* qsort's comparator: the Lua comparator with the two ints as Lua integers. */
static int compare_through_lua(const void *a, const void *b) {
    sort_comparisons++;
    return call_lua_int2(calling_state, SORT_COMPARATOR, *(const int *)a, *(const int *)b);
}

/* `p[i]` of a pointer userdata: the int at p + i (no bounds, as C). */
static int int_pointer_index(lua_State *L) {
    const int *const *p = lua_touserdata(L, 1);
    int is_integer;
    lua_Integer i = lua_tointegerx(L, 2, &is_integer);
    if (!is_integer)
        return luaL_error(L, "int pointer indexed with %s", luaL_typename(L, 2));
    lua_pushinteger(L, (*p)[i]);
    return 1;
}

static void push_int_pointer(lua_State *L, const int *p) {
    const int **box = lua_newuserdatauv(L, sizeof *box, 0);
    *box = p;
    lua_rawgeti(L, LUA_REGISTRYINDEX, pointer_meta);
    lua_setmetatable(L, -2);
}

/* qsort's comparator: the Lua comparator with the two pointers as userdata. */
static int compare_pointers_through_lua(const void *a, const void *b) {
    lua_State *L = calling_state;
    sort_comparisons++;
    lua_pushvalue(L, SORT_COMPARATOR);
    push_int_pointer(L, a);
    push_int_pointer(L, b);
    return call_for_int(L);
}

/* call_repeatedly's function: the Lua function with the two ints. */
static int call_through_lua(int a, int b) {
    return call_lua_int2(calling_state, REPEATED_FUNCTION, a, b);
}

static int ints_new(lua_State *L) {
    lua_Integer length = luaL_checkinteger(L, 1);
    struct ints *ints;
    luaL_argcheck(L, length > 0 && (size_t)length < SIZE_MAX / 2 / sizeof(int), 1,
                  "length out of range");
    ints = lua_newuserdatauv(L, sizeof *ints, 0);
    ints->length = 0;
    ints->items = NULL;
    luaL_setmetatable(L, INTS_META);
    ints->items = malloc((size_t)length * sizeof(int));
    if (ints->items == NULL)
        return luaL_error(L, "not enough memory for %d ints", (int)length);
    ints->length = (size_t)length;
    return 1;
}

static int ints_gc(lua_State *L) {
    struct ints *ints = luaL_checkudata(L, 1, INTS_META);
    free(ints->items);
    ints->items = NULL;
    ints->length = 0;
    return 0;
}

static int ints_fill(lua_State *L) {
    struct ints *ints = luaL_checkudata(L, 1, INTS_META);
    lua_Integer seed = luaL_checkinteger(L, 2);
    uint32_t x;
    uint64_t sum = 0;
    luaL_argcheck(L, seed > 0 && seed < (lua_Integer)LCG_MODULUS, 2, "seed out of range");
    x = (uint32_t)seed;
    for (size_t i = 0; i < ints->length; i++) {
        x = lcg_next(x);
        ints->items[i] = (int)x;
        sum += x;
    }
    lua_pushinteger(L, (lua_Integer)sum);
    return 1;
}

/* sort and sort_pointers: qsort of the ints at 1 with `compare`, which calls the Lua
 * function at 2; returns the number of comparator calls. */
static int sort_through(lua_State *L, int (*compare)(const void *, const void *)) {
    struct ints *ints = luaL_checkudata(L, 1, INTS_META);
    luaL_checktype(L, SORT_COMPARATOR, LUA_TFUNCTION);
    lua_settop(L, SORT_COMPARATOR);
    calling_state = L;
    sort_comparisons = 0;
    qsort(ints->items, ints->length, sizeof ints->items[0], compare);
    lua_pushinteger(L, sort_comparisons);
    return 1;
}

static int ints_sort(lua_State *L) { return sort_through(L, compare_through_lua); }

static int ints_sort_pointers(lua_State *L) {
    return sort_through(L, compare_pointers_through_lua);
}

static int ints_sorted_sum(lua_State *L) {
    const struct ints *ints = luaL_checkudata(L, 1, INTS_META);
    int64_t sum = 0;
    for (size_t i = 0; i < ints->length; i++) {
        if (i > 0 && ints->items[i - 1] > ints->items[i]) {
            lua_pushboolean(L, 0);
            return 1;
        }
        sum += ints->items[i];
    }
    lua_pushinteger(L, (lua_Integer)sum);
    return 1;
}

static int repeat_call(lua_State *L) {
    lua_Integer n;
    luaL_checktype(L, REPEATED_FUNCTION, LUA_TFUNCTION);
    n = luaL_checkinteger(L, 2);
    luaL_argcheck(L, n >= 0 && n <= INT32_MAX, 2, "count out of range");
    lua_settop(L, 2);
    calling_state = L;
    lua_pushinteger(L, call_repeatedly(call_through_lua, (int)n));
    return 1;
}

static int handle_new(lua_State *L) {
    struct handle *handle;
    luaL_checktype(L, 1, LUA_TFUNCTION);
    handle = lua_newuserdatauv(L, sizeof *handle, 0);
    handle->reference = LUA_NOREF;
    luaL_setmetatable(L, HANDLE_META);
    lua_pushvalue(L, 1);
    handle->reference = luaL_ref(L, LUA_REGISTRYINDEX);
    return 1;
}

static int handle_free(lua_State *L) {
    struct handle *handle = luaL_checkudata(L, 1, HANDLE_META);
    luaL_unref(L, LUA_REGISTRYINDEX, handle->reference);
    handle->reference = LUA_NOREF;
    return 0;
}

int luaopen_cbind_callbacks(lua_State *L) {
    static const luaL_Reg functions[] = {
        {"ints", ints_new},       {"fill", ints_fill},
        {"sort", ints_sort},      {"sort_pointers", ints_sort_pointers},
        {"sorted_sum", ints_sorted_sum},
        {"call_repeatedly", repeat_call}, {"new", handle_new},
        {NULL, NULL}};
    static const luaL_Reg handle_methods[] = {{"free", handle_free}, {NULL, NULL}};
    luaL_newmetatable(L, INTS_META);
    lua_pushcfunction(L, ints_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    luaL_newmetatable(L, POINTER_META);
    lua_pushcfunction(L, int_pointer_index);
    lua_setfield(L, -2, "__index");
    pointer_meta = luaL_ref(L, LUA_REGISTRYINDEX);
    luaL_newmetatable(L, HANDLE_META);
    luaL_newlib(L, handle_methods);
    lua_setfield(L, -2, "__index");
    lua_pop(L, 1);
    luaL_newlib(L, functions);
    return 1;
}
