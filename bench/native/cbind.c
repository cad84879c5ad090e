/*
 * cbind: a hand-written Lua 5.4 C binding of the shapes the cdata benchmarks use, written
 * the way a binding author would write it by hand. It is the floor the ffi is measured
 * against on the same interpreter (see bench/cdata.lua and `cargo xtask bench`).
 *
 *   cbind.point([x, y, id])  struct point { double x, y; int id; } with field access by
 *                            name (__index/__newindex compare the key's length, then bytes)
 *   cbind.darray(n)          double[n], indexed 0 .. n-1 like a C array (bounds-checked)
 *   cbind.u64([n])           uint64_t with __add (a new userdata per sum, as cdata does),
 *                            __eq and __tostring ("123ULL", as LuaJIT writes it)
 *   cbind.bare(n)            a userdata of n bytes and nothing else: the smallest object
 *                            Lua can hold n bytes in, for the bytes-per-cdata comparison
 *
 * Every userdata is made with no user values (lua_newuserdatauv(L, size, 0)), as the
 * ffi's cdata are. Built by xtask against the Lua 5.4 headers: cc -shared -fPIC -O2, plus
 * $CBIND_CFLAGS.
 *
 * Metamethods check their self argument with luaL_checkudata, as bindings are usually
 * written. -DCBIND_UNCHECKED gives the lower floor of a binding that trusts its own
 * metatable (the ffi's metamethods do, since `__metatable` hides theirs): on field and
 * array access the check is about 40% of the instructions of the checked binding.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lauxlib.h"
#include "lua.h"

#define POINT_META "cbind.point"
#define DARRAY_META "cbind.darray"
#define U64_META "cbind.u64"

#ifdef CBIND_UNCHECKED
#define SELF(L, meta) lua_touserdata(L, 1)
#else
#define SELF(L, meta) luaL_checkudata(L, 1, meta)
#endif

struct point {
    double x, y;
    int id;
};

struct darray {
    lua_Integer length;
    double elements[];
};

/* ---- struct point ---- */

static int point_new(lua_State *L) {
    struct point *p = lua_newuserdatauv(L, sizeof *p, 0);
    p->x = luaL_optnumber(L, 1, 0);
    p->y = luaL_optnumber(L, 2, 0);
    p->id = (int)luaL_optinteger(L, 3, 0);
    luaL_setmetatable(L, POINT_META);
    return 1;
}

/* The field a key names: 'x', 'y', 'i' (id), or 0. */
static char point_field(lua_State *L) {
    size_t length;
    const char *key = luaL_checklstring(L, 2, &length);
    if (length == 1 && (key[0] == 'x' || key[0] == 'y'))
        return key[0];
    if (length == 2 && memcmp(key, "id", 2) == 0)
        return 'i';
    return 0;
}

static int point_index(lua_State *L) {
    struct point *p = SELF(L, POINT_META);
    switch (point_field(L)) {
    case 'x': lua_pushnumber(L, p->x); return 1;
    case 'y': lua_pushnumber(L, p->y); return 1;
    case 'i': lua_pushinteger(L, p->id); return 1;
    default: return luaL_error(L, "'struct point' has no member named '%s'", lua_tostring(L, 2));
    }
}

static int point_newindex(lua_State *L) {
    struct point *p = SELF(L, POINT_META);
    switch (point_field(L)) {
    case 'x': p->x = luaL_checknumber(L, 3); return 0;
    case 'y': p->y = luaL_checknumber(L, 3); return 0;
    case 'i': p->id = (int)luaL_checkinteger(L, 3); return 0;
    default: return luaL_error(L, "'struct point' has no member named '%s'", lua_tostring(L, 2));
    }
}

/* ---- double[n] ---- */

static int darray_new(lua_State *L) {
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 0 && (size_t)n < (SIZE_MAX - sizeof(struct darray)) / sizeof(double), 1,
                  "bad length");
    size_t size = sizeof(struct darray) + (size_t)n * sizeof(double);
    struct darray *a = lua_newuserdatauv(L, size, 0);
    a->length = n;
    memset(a->elements, 0, (size_t)n * sizeof(double));
    luaL_setmetatable(L, DARRAY_META);
    return 1;
}

static double *darray_element(lua_State *L) {
    struct darray *a = SELF(L, DARRAY_META);
    lua_Integer i = luaL_checkinteger(L, 2);
    luaL_argcheck(L, 0 <= i && i < a->length, 2, "index out of range");
    return &a->elements[i];
}

static int darray_index(lua_State *L) {
    lua_pushnumber(L, *darray_element(L));
    return 1;
}

static int darray_newindex(lua_State *L) {
    double *element = darray_element(L);
    *element = luaL_checknumber(L, 3);
    return 0;
}

static int darray_len(lua_State *L) {
    struct darray *a = SELF(L, DARRAY_META);
    lua_pushinteger(L, a->length);
    return 1;
}

/* ---- uint64_t ---- */

static void u64_push(lua_State *L, uint64_t value) {
    uint64_t *u = lua_newuserdatauv(L, sizeof *u, 0);
    *u = value;
    luaL_setmetatable(L, U64_META);
}

/* An operand of a uint64 operation: a cbind.u64 or an integer-valued number. */
static uint64_t u64_operand(lua_State *L, int index) {
    uint64_t *u = luaL_testudata(L, index, U64_META);
    if (u != NULL)
        return *u;
    return (uint64_t)luaL_checkinteger(L, index);
}

static int u64_new(lua_State *L) {
    u64_push(L, lua_isnoneornil(L, 1) ? 0 : u64_operand(L, 1));
    return 1;
}

static int u64_add(lua_State *L) {
    u64_push(L, u64_operand(L, 1) + u64_operand(L, 2));
    return 1;
}

static int u64_eq(lua_State *L) {
    lua_pushboolean(L, u64_operand(L, 1) == u64_operand(L, 2));
    return 1;
}

static int u64_tostring(lua_State *L) {
    const uint64_t *u = luaL_checkudata(L, 1, U64_META);
    char text[32];
    snprintf(text, sizeof text, "%lluULL", (unsigned long long)*u);
    lua_pushstring(L, text);
    return 1;
}

/* ---- bare userdata ---- */

static int bare_new(lua_State *L) {
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 0, 1, "negative size");
    memset(lua_newuserdatauv(L, (size_t)n, 0), 0, (size_t)n);
    return 1;
}

/* ---- module ---- */

/* A metatable in the registry under `name`, hidden from getmetatable as the ffi's is. */
static void new_metatable(lua_State *L, const char *name, const luaL_Reg *methods) {
    luaL_newmetatable(L, name);
    luaL_setfuncs(L, methods, 0);
    lua_pushstring(L, name);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
}

int luaopen_cbind(lua_State *L) {
    static const luaL_Reg point_methods[] = {
        {"__index", point_index}, {"__newindex", point_newindex}, {NULL, NULL}};
    static const luaL_Reg darray_methods[] = {
        {"__index", darray_index}, {"__newindex", darray_newindex}, {"__len", darray_len},
        {NULL, NULL}};
    static const luaL_Reg u64_methods[] = {
        {"__add", u64_add}, {"__eq", u64_eq}, {"__tostring", u64_tostring}, {NULL, NULL}};
    static const luaL_Reg functions[] = {
        {"point", point_new}, {"darray", darray_new}, {"u64", u64_new},
        {"bare", bare_new}, {NULL, NULL}};
    new_metatable(L, POINT_META, point_methods);
    new_metatable(L, DARRAY_META, darray_methods);
    new_metatable(L, U64_META, u64_methods);
    luaL_newlib(L, functions);
    lua_pushinteger(L, (lua_Integer)sizeof(struct point));
    lua_setfield(L, -2, "point_size");
    return 1;
}
