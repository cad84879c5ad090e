#!/usr/bin/env bash
# The Lua test scripts (tests/lua/*.lua) under valgrind's memcheck, inside the stock
# interpreters lua5.4, lua5.1 and lua5.5 (tests/lua_versions.sh) with their ffi.so: any invalid read or write, use of
# uninitialised memory in a decision, bad free or overlapping copy fails the script
# (--error-exitcode). Leaks are not checked: a script ends with its state open.
#
# No suppressions: PUC Lua and the module are clean under memcheck, and the generated
# code pages need none (valgrind sees the stubs through mprotect as any code). If one
# is ever needed, it goes in tests/valgrind.supp with the reason, and --suppressions
# is added below.
#
# JITFFI_VALGRIND_LUAS (default "5.4 5.1 5.5") chooses the interpreters; valgrind's own
# VALGRIND_OPTS adds options (--track-origins=yes to find where an uninitialised value
# came from). Needs valgrind, cc and those interpreters, and the modules (scripts/test.sh
# builds them first; by hand: cargo xtask modules). Exits non-zero if anything failed or
# nothing ran.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=tests/expected_skips.sh
source tests/expected_skips.sh
# shellcheck source=tests/lua_versions.sh
source tests/lua_versions.sh

read -r -a versions <<<"${JITFFI_VALGRIND_LUAS:-5.4 5.1 5.5}"
# Under valgrind a script runs 20 to 50 times slower.
limit=${JITFFI_TEST_TIMEOUT:-600}
# A status of our own, so that a script's own failure (status 1) is told apart.
memcheck_status=99

for tool in valgrind cc "${versions[@]/#/lua}"; do
    if ! command -v "$tool" >/dev/null; then
        echo "valgrind.sh: $tool is not installed" >&2
        exit 1
    fi
done
for v in "${versions[@]}"; do
    if [ ! -e "target/modules/lua$v/ffi.so" ]; then
        echo "valgrind.sh: target/modules/lua$v/ffi.so is missing; run 'cargo xtask modules' first" >&2
        exit 1
    fi
done

testlib=$root/target/testlib
tests/c/build.sh "$testlib"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The canary: a read of freed memory through the ffi must fail under this very setup,
# or a clean run below would prove nothing.
canary='local ffi = require "ffi"
ffi.cdef "void *malloc(size_t); void free(void *);"
local p = ffi.cast("int *", ffi.C.malloc(16))
ffi.C.free(p)
io.write(tostring(p[1] == 12345))'
for v in "${versions[@]}"; do
    status=0
    LUA_CPATH="$root/target/modules/lua$v/?.so;;" valgrind --error-exitcode=$memcheck_status \
        --log-file="$work/canary.log" "lua$v" -e "$canary" >/dev/null 2>&1 || status=$?
    if [ "$status" -ne "$memcheck_status" ] || ! grep -q "Invalid read" "$work/canary.log"; then
        echo "valgrind.sh: memcheck did not report a read of freed memory under lua$v (exit status $status):" >&2
        head -n 30 "$work/canary.log" >&2
        exit 1
    fi
done
echo "ok    memcheck reports a read of freed memory under ${versions[*]/#/lua} (the canary)"

shopt -s nullglob
scripts=(tests/lua/*.lua)
failures=()
ran=0
echo "== Lua test scripts under valgrind memcheck (${versions[*]/#/lua})"
for v in "${versions[@]}"; do
    for script in "${scripts[@]}"; do
        log=$work/lua$v.$(basename "$script").log
        status=0
        env -u LUA_INIT -u LUA_INIT_5_1 -u LUA_INIT_5_2 -u LUA_INIT_5_3 -u LUA_INIT_5_4 -u LUA_INIT_5_5 \
            -u LUA_PATH_5_2 -u LUA_PATH_5_3 -u LUA_PATH_5_4 -u LUA_PATH_5_5 \
            -u LUA_CPATH_5_2 -u LUA_CPATH_5_3 -u LUA_CPATH_5_4 -u LUA_CPATH_5_5 \
            LUA_CPATH="$root/target/modules/lua$v/?.so;;" \
            LUA_PATH="$root/tests/lua/lib/?.lua;;" \
            JITFFI_TESTLIB_DIR="$testlib" \
            LD_LIBRARY_PATH="$testlib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
            timeout "$limit" valgrind --tool=memcheck --error-exitcode=$memcheck_status \
            --leak-check=no --log-file="$log" \
            "lua$v" "$script" >"$work/out" 2>&1 || status=$?
        ran=$((ran + 1))
        if [ "$status" -eq 0 ]; then
            echo "ok    lua$v   $script"
        elif [ "$status" -eq 77 ] && skip_is_expected "valgrind.sh lua$v $script"; then
            echo "SKIP  lua$v   $script (expected): $(tail -n 1 "$work/out")"
        else
            case $status in
                "$memcheck_status") why="memcheck found errors" ;;
                124) why="timed out after ${limit}s" ;;
                *) why="exit status $status" ;;
            esac
            echo "FAIL  lua$v   $script: $why"
            grep -v '^==[0-9]*== *$' "$log" | head -n 60 | sed 's/^/      /'
            tail -n 10 "$work/out" | sed 's/^/      | /'
            failures+=("lua$v: $script ($why)")
        fi
    done
done

if [ "$ran" -eq 0 ]; then
    echo "valgrind.sh: ran no script" >&2
    exit 1
fi
if [ ${#failures[@]} -ne 0 ]; then
    echo "valgrind.sh: ${#failures[@]} failure(s):" >&2
    printf '  %s\n' "${failures[@]}" >&2
    exit 1
fi
echo "valgrind.sh: $ran runs clean"
