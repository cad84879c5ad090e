/*
 * cbind_tight: the tightest hand-written binding of a small struct, the lower floor of
 * field access (issue 14). Beside cbind.c (a binding written the usual way: luaL_checkudata
 * on self, luaL_checklstring on the key, luaL_checknumber on the value), its metamethods
 * do nothing but compare the key and push or store the field: self is trusted
 * (lua_touserdata, as the ffi trusts its hidden metatable), the key is compared by its
 * length and first byte, the value read with lua_tonumber/lua_tointeger.
 *
 *   struct tpoint { int x; double y; };            -- what bench/cdata.lua declares,
 *   struct touter { int id; struct tpoint inner; } -- typedef'd and tagged
 *
 *   cbind_tight.point()      a struct tpoint userdata (zeroed); p.x, p.y
 *   cbind_tight.outer()      a struct touter; o.id, and o.inner: a new reference userdata
 *                            to the inner struct, as the ffi's `s.inner` is a new cdata
 *   cbind_tight.array(n)     struct tpoint[n] (zeroed); a[i] (0 .. n-1, bounds-checked) is
 *                            a new reference userdata to the element
 *   cbind_tight.pointer(a)   a `struct tpoint *` to a's first element; p[i] as a[i], not
 *                            bounds-checked (a C pointer knows no length)
 *   cbind_tight.ref(a, i)    the reference a[i] makes, to hold in a local
 *
 * A reference userdata is a bare `struct tpoint *` with the same field metamethods.
 * No user values (lua_newuserdatauv(L, size, 0) on 5.4), as the ffi's cdata. Builds for
 * Lua 5.4 and, through the few lines under LUA_VERSION_NUM, for Lua 5.1: xtask compiles it
 * against both headers of the lua-src crate (target/bench/cbind_tight.so and
 * target/bench/lua5.1/cbind_tight.so).
 */
#include <stddef.h>

#include "lauxlib.h"
#include "lua.h"

#if LUA_VERSION_NUM < 502
#define lua_newuserdatauv(L, size, nuv) lua_newuserdata(L, size)
#endif

struct tpoint {
    int x;
    double y;
};

struct touter {
    int id;
    struct tpoint inner;
};

struct tarray {
    lua_Integer length;
    struct tpoint elements[];
};

/* Registry references of the metatables, set once by luaopen. */
static int point_meta, ref_meta, outer_meta, array_meta, pointer_meta;

static void set_metatable(lua_State *L, int reference) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, reference);
    lua_setmetatable(L, -2);
}

/* ---- the struct's fields: the whole of a field access ---- */

static int fields_index(lua_State *L, const struct tpoint *p) {
    size_t length;
    const char *key = lua_tolstring(L, 2, &length);
    if (length == 1 && key[0] == 'x') {
        lua_pushinteger(L, p->x);
        return 1;
    }
    if (length == 1 && key[0] == 'y') {
        lua_pushnumber(L, p->y);
        return 1;
    }
    return luaL_error(L, "'struct tpoint' has no member named '%s'", lua_tostring(L, 2));
}

static int fields_newindex(lua_State *L, struct tpoint *p) {
    size_t length;
    const char *key = lua_tolstring(L, 2, &length);
    if (length == 1 && key[0] == 'x') {
        p->x = (int)lua_tointeger(L, 3);
        return 0;
    }
    if (length == 1 && key[0] == 'y') {
        p->y = lua_tonumber(L, 3);
        return 0;
    }
    return luaL_error(L, "'struct tpoint' has no member named '%s'", lua_tostring(L, 2));
}

static int point_index(lua_State *L) {
    return fields_index(L, lua_touserdata(L, 1));
}

static int point_newindex(lua_State *L) {
    return fields_newindex(L, lua_touserdata(L, 1));
}

static int ref_index(lua_State *L) {
    return fields_index(L, *(struct tpoint **)lua_touserdata(L, 1));
}

static int ref_newindex(lua_State *L) {
    return fields_newindex(L, *(struct tpoint **)lua_touserdata(L, 1));
}

/* A new reference userdata to p. */
static void push_ref(lua_State *L, struct tpoint *p) {
    struct tpoint **ref = lua_newuserdatauv(L, sizeof *ref, 0);
    *ref = p;
    set_metatable(L, ref_meta);
}

/* ---- constructors ---- */

static int point_new(lua_State *L) {
    struct tpoint *p = lua_newuserdatauv(L, sizeof *p, 0);
    p->x = 0;
    p->y = 0;
    set_metatable(L, point_meta);
    return 1;
}

static int outer_new(lua_State *L) {
    struct touter *o = lua_newuserdatauv(L, sizeof *o, 0);
    o->id = 0;
    o->inner.x = 0;
    o->inner.y = 0;
    set_metatable(L, outer_meta);
    return 1;
}

static int array_new(lua_State *L) {
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 0 && n < 100000000, 1, "bad length");
    struct tarray *a =
        lua_newuserdatauv(L, sizeof(struct tarray) + (size_t)n * sizeof(struct tpoint), 0);
    a->length = n;
    for (lua_Integer i = 0; i < n; i++) {
        a->elements[i].x = 0;
        a->elements[i].y = 0;
    }
    set_metatable(L, array_meta);
    return 1;
}

static struct tarray *check_array(lua_State *L, int index) {
    lua_getmetatable(L, index);
    lua_rawgeti(L, LUA_REGISTRYINDEX, array_meta);
    luaL_argcheck(L, lua_rawequal(L, -1, -2), index, "cbind_tight.array expected");
    lua_pop(L, 2);
    return lua_touserdata(L, index);
}

static int pointer_new(lua_State *L) {
    struct tarray *a = check_array(L, 1);
    struct tpoint **p = lua_newuserdatauv(L, sizeof *p, 0);
    *p = a->elements;
    set_metatable(L, pointer_meta);
    return 1;
}

static int ref_new(lua_State *L) {
    struct tarray *a = check_array(L, 1);
    lua_Integer i = luaL_checkinteger(L, 2);
    luaL_argcheck(L, 0 <= i && i < a->length, 2, "index out of range");
    push_ref(L, &a->elements[i]);
    return 1;
}

/* ---- nested struct, array and pointer indexing ---- */

static int outer_index(lua_State *L) {
    struct touter *o = lua_touserdata(L, 1);
    size_t length;
    const char *key = lua_tolstring(L, 2, &length);
    if (length == 5 && key[0] == 'i') {
        push_ref(L, &o->inner);
        return 1;
    }
    if (length == 2 && key[0] == 'i') {
        lua_pushinteger(L, o->id);
        return 1;
    }
    return luaL_error(L, "'struct touter' has no member named '%s'", lua_tostring(L, 2));
}

static int outer_newindex(lua_State *L) {
    struct touter *o = lua_touserdata(L, 1);
    size_t length;
    const char *key = lua_tolstring(L, 2, &length);
    if (length == 2 && key[0] == 'i') {
        o->id = (int)lua_tointeger(L, 3);
        return 0;
    }
    return luaL_error(L, "cannot assign '%s' of 'struct touter'", lua_tostring(L, 2));
}

static int array_index(lua_State *L) {
    struct tarray *a = lua_touserdata(L, 1);
    lua_Integer i = lua_tointeger(L, 2);
    if ((size_t)i >= (size_t)a->length)
        return luaL_error(L, "index out of range");
    push_ref(L, &a->elements[i]);
    return 1;
}

static int pointer_index(lua_State *L) {
    struct tpoint *p = *(struct tpoint **)lua_touserdata(L, 1);
    push_ref(L, p + lua_tointeger(L, 2));
    return 1;
}

/* ---- module ---- */

/* A metatable with __index and __newindex (newindex may be NULL), hidden from
   getmetatable as the ffi's is; its registry reference. */
static int new_metatable(lua_State *L, lua_CFunction index, lua_CFunction newindex) {
    lua_newtable(L);
    lua_pushcfunction(L, index);
    lua_setfield(L, -2, "__index");
    if (newindex != NULL) {
        lua_pushcfunction(L, newindex);
        lua_setfield(L, -2, "__newindex");
    }
    lua_pushliteral(L, "cbind_tight");
    lua_setfield(L, -2, "__metatable");
    return luaL_ref(L, LUA_REGISTRYINDEX);
}

int luaopen_cbind_tight(lua_State *L) {
    static const struct {
        const char *name;
        lua_CFunction function;
    } functions[] = {{"point", point_new},     {"outer", outer_new}, {"array", array_new},
                     {"pointer", pointer_new}, {"ref", ref_new}};
    point_meta = new_metatable(L, point_index, point_newindex);
    ref_meta = new_metatable(L, ref_index, ref_newindex);
    outer_meta = new_metatable(L, outer_index, outer_newindex);
    array_meta = new_metatable(L, array_index, NULL);
    pointer_meta = new_metatable(L, pointer_index, NULL);
    lua_newtable(L);
    for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
        lua_pushcfunction(L, functions[i].function);
        lua_setfield(L, -2, functions[i].name);
    }
    lua_pushinteger(L, (lua_Integer)sizeof(struct tpoint));
    lua_setfield(L, -2, "point_size");
    lua_pushinteger(L, (lua_Integer)sizeof(struct touter));
    lua_setfield(L, -2, "outer_size");
    return 1;
}
