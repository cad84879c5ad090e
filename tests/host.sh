#!/usr/bin/env bash
# The ffi module in a C program that embeds Lua (tests/host/host.c): built with cc
# against Debian's liblua5.4-dev and liblua5.1-0-dev, and against the Lua 5.5 core that
# `cargo xtask modules` builds for target/lua5.5/lua5.5 (Debian has none), it opens and closes many states
# on several threads, each loading target/modules/lua5.X/ffi.so through `require`, and
# calls their callbacks after lua_close. It must exit 0 (its own checks: callbacks run
# while their state is open and return zero after, resident memory stays bounded), and
# every late call must have written the refusal line to stderr, and nothing else. It also
# runs a state under a capped allocator, where large cdata fail with "not enough memory".
# Then `host CPATH oom` runs every case of its API list with allocation failing at each
# allocation in turn, under valgrind memcheck (no invalid access, the ffi still works).
#
# Needs cc, valgrind, the Lua headers and libraries (apt-get install liblua5.4-dev
# liblua5.1-0-dev; fails if they are missing) and the modules and Lua 5.5 (`cargo xtask
# modules`).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
limit=${JITFFI_TEST_TIMEOUT:-300}
states=${JITFFI_HOST_STATES:-1000}
threads=4

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
for v in 5.4 5.1 5.5; do
    if [ "$v" = 5.5 ]; then
        # The static core, exported (-E) so that ffi.so finds all of it at load time.
        include=$root/target/lua5.5/build/include
        lua_library=(-Wl,-E -Wl,--whole-archive "$root/target/lua5.5/build/lib/liblua5.5.a"
            -Wl,--no-whole-archive)
        install="run 'cargo xtask modules' first"
    else
        include=/usr/include/lua$v
        lua_library=(-llua"$v")
        install="apt-get install liblua5.4-dev liblua5.1-0-dev"
    fi
    if [ ! -e "$include/lua.h" ]; then
        echo "host.sh: $include/lua.h is missing ($install)" >&2
        exit 1
    fi
    module=$root/target/modules/lua$v/ffi.so
    if [ ! -e "$module" ]; then
        echo "host.sh: $module is missing; run 'cargo xtask modules' first" >&2
        exit 1
    fi
    host=$work/host$v
    cc -O1 -pthread -I"$include" -o "$host" tests/host/host.c "${lua_library[@]}" -lm -ldl
    status=0
    # The direct stack reads must be on (5.5: external strings go through them).
    env -u LUA_INIT -u LUA_CPATH JITFFI_REQUIRE_STACK_PEEK=1 timeout "$limit" "$host" \
        "$root/target/modules/lua$v/?.so" "$states" "$threads" >"$work/out" 2>"$work/err" \
        || status=$?
    late=$(sed -n 's/^late calls: \([0-9]*\)$/\1/p' "$work/out")
    refused=$(grep -c '^jitffi: callback 0x[0-9a-f]* called after its Lua state was closed; ' \
        "$work/err" || true)
    other=$(grep -vc '^jitffi: callback 0x[0-9a-f]* called after its Lua state was closed; ' \
        "$work/err" || true)
    if [ "$status" -ne 0 ] || [ -z "$late" ] || [ "$late" -eq 0 ] \
        || [ "$refused" -ne "$late" ] || [ "$other" -ne 0 ]; then
        echo "FAIL  lua$v host (exit status $status, $refused refusal lines for ${late:-no} late calls, $other other stderr lines)"
        sed 's/^/      /' "$work/out"
        head -n 20 "$work/err" | sed 's/^/      /'
        failures=$((failures + 1))
    else
        echo "ok    lua$v host: $(head -n 1 "$work/out"); $late late calls refused"
    fi
    # Allocation failure at every allocation of every case, under valgrind memcheck.
    status=0
    env -u LUA_INIT -u LUA_CPATH timeout "$limit" valgrind -q --error-exitcode=99 \
        "$host" "$root/target/modules/lua$v/?.so" oom >"$work/out" 2>"$work/err" || status=$?
    if [ "$status" -ne 0 ] || ! grep -q '^oom: [1-9][0-9]* cases' "$work/out" || [ -s "$work/err" ]; then
        echo "FAIL  lua$v host oom (exit status $status)"
        sed 's/^/      /' "$work/out"
        head -n 20 "$work/err" | sed 's/^/      /'
        failures=$((failures + 1))
    else
        echo "ok    lua$v host oom: $(head -n 1 "$work/out")"
    fi
done
if [ "$failures" -ne 0 ]; then
    echo "host.sh: $failures failure(s)" >&2
    exit 1
fi
echo "host.sh: all passed"
