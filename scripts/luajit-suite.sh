#!/usr/bin/env bash
# LuaJIT's own FFI tests as a yardstick: runs test/lib/ffi of a local copy of
# LuaJIT-test-cleanup (github.com/LuaJIT/LuaJIT-test-cleanup; this repository neither
# contains nor fetches it) under luajit (the baseline), the jitffi runner and, with
# --stock, lua5.1 and lua5.4 with ffi.so (`require("ffi.literals").install()` first).
#
#   scripts/luajit-suite.sh [--stock] /path/to/LuaJIT-test-cleanup
#
# Each file runs as the suite means it to: the files listed in lib/ffi/index through the
# suite's harness test/test.lua, the other (older, standalone) ffi_*.lua files directly,
# from a directory where their `dofile("../common/ffi_util.inc")` finds the suite's
# test/common and `ffi.load("../clib/ctest")` finds the C functions of the suite's
# test/src/ctest.c, built here with cc. ffi_convert.lua and ffi_jit_conv.lua also
# `require "ctest"` for one function, `lightud(n)` (a light userdata), which a small C
# module written here provides. scripts/luajit-suite.lua runs one file and reports every
# failing check (a failed assert does not stop the file).
#
# Every check that fails on a jitffi engine but passes under luajit must be listed in
# tests/luajit-suite/expected.txt as a documented deviation (named in docs/porting.md) or a
# bug; a check failing under luajit too is LuaJIT's own failure and needs no entry. The
# exit status is non-zero on an unexpected failure or an unexpected pass (an entry whose
# check passed in a file that ran to its end). Not in CI, which cannot fetch the suite.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
driver=$root/scripts/luajit-suite.lua
expected=$root/tests/luajit-suite/expected.txt
runner=$root/target/release/jitffi

stock=no
if [ "${1:-}" = --stock ]; then stock=yes; shift; fi
if [ $# -ne 1 ]; then
    echo "usage: $0 [--stock] /path/to/LuaJIT-test-cleanup" >&2
    exit 2
fi
suite=$(cd "$1" && pwd)
[ -d "$suite/test/lib/ffi" ] && suite=$suite/test
if [ ! -f "$suite/lib/ffi/index" ] || [ ! -f "$suite/test.lua" ]; then
    echo "luajit-suite.sh: $1 has no test/test.lua and test/lib/ffi/index" >&2
    exit 2
fi
for tool in luajit cc; do
    if ! command -v $tool >/dev/null; then
        echo "luajit-suite.sh: $tool is not installed (luajit gives the baseline)" >&2
        exit 2
    fi
done
if [ ! -x "$runner" ]; then
    echo "luajit-suite.sh: $runner is missing; run 'cargo build --release' first" >&2
    exit 2
fi
engines=(luajit jitffi)
if [ $stock = yes ]; then
    (cd "$root" && cargo xtask modules >/dev/null)
    engines+=(lua5.1 lua5.4)
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/run" "$work/clib" "$work/cmod5.1" "$work/cmod5.4"
ln -s "$suite/common" "$work/common"

# ../clib/ctest: the C functions of the suite's ctest.c (the part before its Lua
# module, which is written for the Lua 5.1 API), found under that exact name.
if [ -f "$suite/src/ctest.c" ]; then
    sed '/^static int ct_call(/,$d' "$suite/src/ctest.c" >"$work/clib/ctest.c"
    cc -O1 -shared -fPIC -I/usr/include/lua5.1 -o "$work/clib/ctest" "$work/clib/ctest.c"
else
    echo "luajit-suite.sh: no src/ctest.c in the suite: ffi_call, ffi_enum and" \
        "ffi_jit_call fail at ffi.load(\"../clib/ctest\")" >&2
fi
# require "ctest" for ffi_convert.lua and ffi_jit_conv.lua: only lightud(n).
cat >"$work/lightud.c" <<'EOF'
#include <stddef.h>
#include "lua.h"
#include "lauxlib.h"
static int lightud(lua_State *L) {
    lua_pushlightuserdata(L, (void *)(ptrdiff_t)lua_tonumber(L, 1));
    return 1;
}
int luaopen_ctest(lua_State *L) {
    lua_newtable(L);
    lua_pushcfunction(L, lightud);
    lua_setfield(L, -2, "lightud");
    return 1;
}
EOF
for v in 5.1 5.4; do
    cc -O1 -shared -fPIC -I/usr/include/lua$v -o "$work/cmod$v/ctest.so" "$work/lightud.c"
done

run_engine() { # engine file... -> FAIL/ABORT/DONE lines, each prefixed by the file
    local engine=$1 cmd cpath
    shift
    case $engine in
        luajit) cmd=(luajit); cpath="$work/cmod5.1/?.so" ;;
        jitffi) cmd=("$runner"); cpath="$work/cmod5.4/?.so" ;;
        lua5.*) cmd=("$engine")
            cpath="$work/cmod${engine#lua}/?.so;$root/target/modules/$engine/?.so" ;;
    esac
    local f name
    for f in "$@"; do
        name=$(basename "$f")
        local args=(standalone "$f")
        if grep -q "^$name\( \|$\)" "$suite/lib/ffi/index"; then
            args=(harness "$suite/test.lua" "$f")
        fi
        (cd "$work/run" && LUA_CPATH="$cpath;;" LUA_INIT= timeout 120 "${cmd[@]}" \
            "$driver" "${args[@]}" 2>&1 || true) |
            grep -a '^\(FAIL\|ABORT\|DONE\)' | sed "s|^|$name\t|" || true
    done
}

files=("$suite"/lib/ffi/*.lua)
status=0
for engine in "${engines[@]}"; do
    run_engine "$engine" "${files[@]}" >"$work/$engine.out"
done

# The checks: "<file> FAIL <check>" lines; a file passes when it printed DONE and no FAIL.
summary() { # engine -> "files passing N/M, failing checks K"
    local out=$work/$1.out
    local done_files failing
    done_files=$(awk -F'\t' '$2=="DONE"{d[$1]=1} $2=="FAIL"{f[$1]=1}
        END{n=0; for (x in d) if (!(x in f)) n++; print n}' "$out")
    failing=$(grep -c $'\tFAIL\t' "$out" || true)
    echo "files passing $done_files/${#files[@]}, failing checks $failing"
}

# Expected entries for an engine: "check<TAB>classification".
entries_for() { # engine
    sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$expected" | awk -v e="$1" '
        { only = ""; line = $0
          if (match(line, /^\[[^]]*\] /)) { only = substr(line, 2, RLENGTH - 3); line = substr(line, RLENGTH + 1) }
          if (only != "" && (" " only " ") !~ (" " e " ")) next
          i = index(line, " | "); print substr(line, 1, i - 1) "\t" substr(line, i + 3) }'
}

echo "luajit: $(summary luajit)"
cut -f3 "$work/luajit.out" >"$work/luajit.fails"
grep -a $'\tFAIL\t' "$work/luajit.out" | cut -f3 | sed 's/^/  (fails under luajit too) /' || true
for engine in "${engines[@]:1}"; do
    echo
    echo "$engine: $(summary "$engine")"
    entries_for "$engine" >"$work/expected.$engine"
    grep -a $'\tFAIL\t' "$work/$engine.out" | cut -f3 | sort -u >"$work/$engine.fails"
    while IFS= read -r check; do
        class=$(awk -F'\t' -v c="$check" '$1==c {print $2; exit}' "$work/expected.$engine")
        if grep -qxF -- "$check" "$work/luajit.fails"; then
            echo "  luajit too: $check"
        elif [ -n "$class" ]; then
            echo "  ${class%%:*}: $check  (${class#*: })"
        else
            echo "  UNEXPECTED FAILURE: $check"
            status=1
        fi
    done <"$work/$engine.fails"
    # Entries whose check passed, in files that ran to their end without an error.
    while IFS=$'\t' read -r check class; do
        grep -qxF -- "$check" "$work/$engine.fails" && continue
        file=${check%%:*}
        if grep -qxF -- "$file"$'\tDONE' "$work/$engine.out" &&
            ! grep -q "^$file"$'\tABORT' "$work/$engine.out"; then
            echo "  UNEXPECTED PASS: $check ($class)"
            status=1
        else
            echo "  not reached (its file stopped at an error): $check"
        fi
    done <"$work/expected.$engine"
done
exit $status
