/*
 * cbind_calls: a hand-written Lua 5.4 C binding of the functions the call benchmarks
 * call (bench/native/callee.h, and libc's strlen), written the way a binding author
 * would: check each argument with the auxiliary library, convert it to the parameter's
 * C type, call, push the result. It is the floor `ffi.C.name(...)` is measured against
 * in the same lua5.4 process (bench/calls.lua, `cargo xtask bench`).
 *
 *   cbind_calls.add(a, b)            int add(int, int)
 *   cbind_calls.mixed6(a, ..., s)    double mixed6(int8_t, uint16_t, int64_t, float,
 *                                    double, const char *)
 *   cbind_calls.strlen(s)            size_t strlen(const char *), of a Lua string
 *   cbind_calls.vec2([x, y])         struct vec2 { double x, y; } as a userdata with
 *                                    __index on x and y
 *   cbind_calls.vec2_add(a, b)       struct vec2 vec2_add(struct vec2, struct vec2): the
 *                                    structs by value, the result in a new userdata
 *
 * Built by xtask against the Lua 5.4 headers and linked to target/bench/libcallee.so:
 * cc -shared -fPIC -O2 ... -lcallee, plus $CBIND_CFLAGS (-DCBIND_UNCHECKED: trust the
 * metatable instead of luaL_checkudata, as in cbind.c).
 */
#include <stdint.h>
#include <string.h>

#include "callee.h"
#include "lauxlib.h"
#include "lua.h"

#define VEC2_META "cbind_calls.vec2"

#ifdef CBIND_UNCHECKED
#define CHECK_VEC2(L, index) ((struct vec2 *)lua_touserdata(L, index))
#else
#define CHECK_VEC2(L, index) ((struct vec2 *)luaL_checkudata(L, index, VEC2_META))
#endif

static int call_add(lua_State *L) {
    int a = (int)luaL_checkinteger(L, 1);
    int b = (int)luaL_checkinteger(L, 2);
    lua_pushinteger(L, add(a, b));
    return 1;
}

static int call_mixed6(lua_State *L) {
    int8_t a = (int8_t)luaL_checkinteger(L, 1);
    uint16_t b = (uint16_t)luaL_checkinteger(L, 2);
    int64_t c = (int64_t)luaL_checkinteger(L, 3);
    float d = (float)luaL_checknumber(L, 4);
    double e = luaL_checknumber(L, 5);
    const char *s = luaL_checkstring(L, 6);
    lua_pushnumber(L, mixed6(a, b, c, d, e, s));
    return 1;
}

static int call_strlen(lua_State *L) {
    lua_pushinteger(L, (lua_Integer)strlen(luaL_checkstring(L, 1)));
    return 1;
}

static struct vec2 *vec2_push(lua_State *L) {
    struct vec2 *v = lua_newuserdatauv(L, sizeof *v, 0);
    luaL_setmetatable(L, VEC2_META);
    return v;
}

static int vec2_new(lua_State *L) {
    double x = luaL_optnumber(L, 1, 0);
    double y = luaL_optnumber(L, 2, 0);
    struct vec2 *v = vec2_push(L);
    v->x = x;
    v->y = y;
    return 1;
}

static int vec2_index(lua_State *L) {
    const struct vec2 *v = CHECK_VEC2(L, 1);
    size_t length;
    const char *key = luaL_checklstring(L, 2, &length);
    if (length == 1 && key[0] == 'x')
        lua_pushnumber(L, v->x);
    else if (length == 1 && key[0] == 'y')
        lua_pushnumber(L, v->y);
    else
        return luaL_error(L, "'struct vec2' has no member named '%s'", key);
    return 1;
}

static int call_vec2_add(lua_State *L) {
    struct vec2 a = *CHECK_VEC2(L, 1);
    struct vec2 b = *CHECK_VEC2(L, 2);
    *vec2_push(L) = vec2_add(a, b);
    return 1;
}

int luaopen_cbind_calls(lua_State *L) {
    static const luaL_Reg functions[] = {
        {"add", call_add}, {"mixed6", call_mixed6}, {"strlen", call_strlen},
        {"vec2", vec2_new}, {"vec2_add", call_vec2_add}, {NULL, NULL}};
    luaL_newmetatable(L, VEC2_META);
    lua_pushcfunction(L, vec2_index);
    lua_setfield(L, -2, "__index");
    lua_pushstring(L, VEC2_META);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
    luaL_newlib(L, functions);
    lua_pushinteger(L, (lua_Integer)sizeof(struct vec2));
    lua_setfield(L, -2, "vec2_size");
    return 1;
}
