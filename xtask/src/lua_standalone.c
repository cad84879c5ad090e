/*
 * A small stand-alone Lua interpreter, jitffi's own: `cargo xtask lua55` links it with
 * the Lua 5.5 core and libraries that the lua-src crate vendors (lua-src ships no
 * lua.c) into target/lua5.5/lua5.5, the stock interpreter that tests/*.sh run ffi.so
 * for 5.5 in (Debian has no lua5.5). It does what the tests and a user of a script
 * need from `lua`, no more:
 *
 *   lua5.5 [-v] [-E] [-W] [-e STAT | -l MOD]... [SCRIPT [ARGS] | - [ARGS]]
 *
 * with `arg`, `...`, LUA_INIT_5_5/LUA_INIT, the error message and traceback on stderr
 * and exit status 1 on error, the generational collector as lua.c starts it. Not
 * here: the interactive mode (`-i`, or no script on a terminal: it says so and exits)
 * and the SIGINT handler. The executable exports the Lua API (-Wl,-E), so that C
 * modules such as ffi.so find it at load time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

static const char *progname = "lua5.5";

static void usage(const char *bad) {
    fprintf(stderr, "%s: unrecognized option '%s'\n", progname, bad);
    fprintf(stderr,
            "usage: %s [options] [script [args]]\n"
            "  -e stat   execute string 'stat'\n"
            "  -l mod    require 'mod' into global 'mod'\n"
            "  -v        show version information\n"
            "  -E        ignore environment variables\n"
            "  -W        turn warnings on\n"
            "  --        stop handling options\n"
            "  -         execute stdin and stop handling options\n"
            "(no interactive mode in this build)\n",
            progname);
}

/* Prints the error on top of the stack (a string after msghandler) and pops it. */
static int report(lua_State *L, int status) {
    if (status != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        fprintf(stderr, "%s: %s\n", progname, msg ? msg : "(error object is not a string)");
        fflush(stderr);
        lua_pop(L, 1);
    }
    return status;
}

/* The message handler: the error (its __tostring, or a note of its type) with a
   traceback. */
static int msghandler(lua_State *L) {
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL) {
        if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
            return 1;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* Calls the function below the top `nargs` values with them, under msghandler. */
static int docall(lua_State *L, int nargs, int nresults) {
    int base = lua_gettop(L) - nargs;
    int status;
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    status = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    return status;
}

static int dochunk(lua_State *L, int status) {
    if (status == LUA_OK)
        status = docall(L, 0, 0);
    return report(L, status);
}

static int dostring(lua_State *L, const char *s, const char *name) {
    return dochunk(L, luaL_loadbuffer(L, s, strlen(s), name));
}

/* `require(name)` into the global `name`. */
static int dolibrary(lua_State *L, const char *name) {
    int status;
    lua_getglobal(L, "require");
    lua_pushstring(L, name);
    status = docall(L, 1, 1);
    if (status == LUA_OK)
        lua_setglobal(L, name);
    return report(L, status);
}

/* The global `arg`: the script at 0, its arguments after, what came before below. */
static void createargtable(lua_State *L, char **argv, int argc, int script) {
    int i;
    lua_createtable(L, argc - script - 1, script + 1);
    for (i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - script);
    }
    lua_setglobal(L, "arg");
}

/* Runs the script argv[script] ("-" or none: stdin) with the arguments after it. */
static int handle_script(lua_State *L, char **argv, int argc, int script) {
    const char *name = script < argc ? argv[script] : "-";
    int status, n, i;
    if (strcmp(name, "-") == 0 && (script >= argc || strcmp(argv[script - 1], "--") != 0))
        name = NULL; /* stdin */
    status = luaL_loadfile(L, name);
    if (status == LUA_OK) {
        n = argc - script - 1;
        if (n < 0)
            n = 0;
        luaL_checkstack(L, n + 3, "too many arguments to script");
        for (i = 1; i <= n; i++)
            lua_pushstring(L, argv[script + i]);
        status = docall(L, n, LUA_MULTRET);
    }
    return report(L, status);
}

static int handle_luainit(lua_State *L) {
    const char *name = "=LUA_INIT_5_5";
    const char *init = getenv(name + 1);
    if (init == NULL) {
        name = "=LUA_INIT";
        init = getenv(name + 1);
    }
    if (init == NULL)
        return LUA_OK;
    if (init[0] == '@')
        return dochunk(L, luaL_loadfile(L, init + 1));
    return dostring(L, init, name);
}

/* The protected main: options, then LUA_INIT, -e/-l in order, then the script. */
static int pmain(lua_State *L) {
    int argc = (int)lua_tointeger(L, 1);
    char **argv = (char **)lua_touserdata(L, 2);
    int script = argc, noenv = 0, version = 0, i;
    luaL_checkversion(L);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || strcmp(a, "-") == 0) {
            script = i;
            break;
        }
        if (strcmp(a, "--") == 0) {
            script = i + 1;
            break;
        }
        if (strcmp(a, "-E") == 0)
            noenv = 1;
        else if (strcmp(a, "-v") == 0)
            version = 1;
        else if (strcmp(a, "-W") == 0)
            ;
        else if ((strcmp(a, "-e") == 0 || strcmp(a, "-l") == 0) && i + 1 < argc)
            i++;
        else if ((a[1] == 'e' || a[1] == 'l') && a[2] != '\0')
            ;
        else {
            usage(a);
            return 0;
        }
    }
    if (version)
        printf("%s (jitffi's stand-alone interpreter)\n", LUA_COPYRIGHT);
    if (noenv) {
        lua_pushboolean(L, 1);
        lua_setfield(L, LUA_REGISTRYINDEX, "LUA_NOENV");
    }
    luaL_openlibs(L);
    createargtable(L, argv, argc, script < argc ? script : 0);
    lua_gc(L, LUA_GCRESTART);
    lua_gc(L, LUA_GCGEN);
    if (!noenv && handle_luainit(L) != LUA_OK)
        return 0;
    for (i = 1; i < script && i < argc; i++) {
        const char *a = argv[i];
        const char *value;
        if (strcmp(a, "-W") == 0) {
            lua_warning(L, "@on", 0);
            continue;
        }
        if (a[1] != 'e' && a[1] != 'l')
            continue;
        value = a[2] != '\0' ? a + 2 : argv[++i];
        if ((a[1] == 'e' ? dostring(L, value, "=(command line)") : dolibrary(L, value)) != LUA_OK)
            return 0;
    }
    if (script < argc) {
        if (handle_script(L, argv, argc, script) != LUA_OK)
            return 0;
    } else if (argc > 1) {
        /* only options: done (lua runs the interactive mode here when asked with -i) */
    } else if (isatty(STDIN_FILENO)) {
        fprintf(stderr, "%s: no interactive mode in this build; give a script or -\n", progname);
        return 0;
    } else if (handle_script(L, argv, argc, argc) != LUA_OK) {
        return 0;
    }
    lua_pushboolean(L, 1);
    return 1;
}

int main(int argc, char **argv) {
    int status, ok;
    lua_State *L = luaL_newstate();
    if (argv[0] && argv[0][0]) {
        const char *slash = strrchr(argv[0], '/');
        progname = slash ? slash + 1 : argv[0];
    }
    if (L == NULL) {
        fprintf(stderr, "%s: cannot create state: not enough memory\n", progname);
        return EXIT_FAILURE;
    }
    lua_gc(L, LUA_GCSTOP); /* while building the state */
    lua_pushcfunction(L, pmain);
    lua_pushinteger(L, argc);
    lua_pushlightuserdata(L, argv);
    status = lua_pcall(L, 2, 1, 0);
    ok = lua_toboolean(L, -1);
    report(L, status);
    lua_close(L);
    return (ok && status == LUA_OK) ? EXIT_SUCCESS : EXIT_FAILURE;
}
