#!/usr/bin/env bash
# Seeded fuzzing of the ffi API: tests/fuzz/gen.lua writes a random Lua program per seed
# (wrong types, counts and sizes, NULLs, freed callbacks, errors and API re-entry in
# finalizers, callbacks and metamethods, garbage cdef text, under random GC settings),
# and each program runs under target/release/jitffi and the stock lua5.1, lua5.4 and
# lua5.5 (tests/lua_versions.sh) with their ffi.so. Lua errors are expected. A run fails on
#   - a signal (a crash) or a timeout (a hang),
#   - a panic's or an internal error's text in the output ("panicked", "internal error"),
#   - with JITFFI_API_FUZZ_VALGRIND=1, any error valgrind's memcheck reports.
# On a failure the program's text is printed, with the command that reruns it.
#
# CI runs a bounded number of seeds (JITFFI_API_FUZZ_COUNT, default 150, from
# JITFFI_API_FUZZ_SEED, default 1). A longer run, with any seeds, is one command:
#   JITFFI_API_FUZZ_SEED=1000 JITFFI_API_FUZZ_COUNT=5000 tests/fuzz.sh
# More knobs: JITFFI_API_FUZZ_STATEMENTS (per program, default 80), JITFFI_API_FUZZ_RUNNERS
# (default "jitffi lua5.1 lua5.4 lua5.5"; lua5.2 and lua5.3 work too), JITFFI_API_FUZZ_ALL=1 (also
# the statement kinds that hit known bugs: KNOWN_BUGS in tests/fuzz/gen.lua),
# JITFFI_API_FUZZ_VALGRIND=1 (every run under memcheck, much slower). To rerun one program:
#   lua5.4 tests/fuzz/gen.lua SEED 80 > prog.lua && target/release/jitffi prog.lua
#
# Programs run under `ulimit -v` (JITFFI_API_FUZZ_MEMORY_KB, default 2 GiB), so that a
# huge allocation fails as "not enough memory" instead of taking the machine's memory.
#
# Needs lua5.4 (the generator), lua5.1, a release build and the modules (scripts/test.sh
# builds both first). Exits non-zero if anything failed or nothing ran.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=tests/lua_versions.sh
source tests/lua_versions.sh

first=${JITFFI_API_FUZZ_SEED:-1}
count=${JITFFI_API_FUZZ_COUNT:-150}
statements=${JITFFI_API_FUZZ_STATEMENTS:-80}
read -r -a runners <<<"${JITFFI_API_FUZZ_RUNNERS:-jitffi lua5.1 lua5.4 lua5.5}"
memory_kb=${JITFFI_API_FUZZ_MEMORY_KB:-2000000}
limit=${JITFFI_API_FUZZ_TIMEOUT:-60}
jitffi=$root/target/release/jitffi

# Known bugs: a crash of these runners after the program printed its last line ("fuzz:
# done", flushed), that is inside lua_close, is reported as XFAIL, not as a failure,
# until the bug is fixed. Empty since ffi.so stays loaded for the life of the process
# (lua_close used to unload it before the last cdata finalizers ran).
KNOWN_CRASH_AT_CLOSE=()

if [ "$count" -lt 1 ]; then
    echo "fuzz.sh: JITFFI_API_FUZZ_COUNT=$count: nothing would be tested" >&2
    exit 1
fi
for tool in lua5.4; do
    if ! command -v "$tool" >/dev/null; then
        echo "fuzz.sh: $tool is not installed" >&2
        exit 1
    fi
done
valgrind=()
if [ "${JITFFI_API_FUZZ_VALGRIND:-0}" = 1 ]; then
    valgrind=(valgrind -q --error-exitcode=99 --leak-check=no)
    limit=$((limit * 20))
fi

command_for() {
    case $1 in
        jitffi)
            [ -x "$jitffi" ] || { echo "fuzz.sh: $jitffi is missing; run 'cargo build --release'" >&2; exit 1; }
            echo "$jitffi"
            ;;
        lua5.[1-5])
            command -v "$1" >/dev/null || { echo "fuzz.sh: $1 is not installed" >&2; exit 1; }
            [ -e "target/modules/$1/ffi.so" ] || { echo "fuzz.sh: target/modules/$1/ffi.so is missing; run 'cargo xtask modules'" >&2; exit 1; }
            echo "$1"
            ;;
        *) echo "fuzz.sh: unknown runner $1" >&2; exit 1 ;;
    esac
}
for runner in "${runners[@]}"; do command_for "$runner" >/dev/null; done

crash_at_close_is_known() {
    local entry
    for entry in "${KNOWN_CRASH_AT_CLOSE[@]}"; do
        [ "$entry" = "$1" ] && return 0
    done
    return 1
}

work=$root/target/fuzz
mkdir -p "$work"
failures=()
xfails=()
runs=0
last=$((first + count - 1))
echo "== fuzzing the ffi API: seeds $first..$last, $statements statements each, under ${runners[*]}"
for ((seed = first; seed <= last; seed++)); do
    program=$work/prog_$seed.lua
    lua5.4 tests/fuzz/gen.lua "$seed" "$statements" >"$program"
    for runner in "${runners[@]}"; do
        runs=$((runs + 1))
        status=0
        output=$(
            ulimit -v "$memory_kb"
            env -u LUA_INIT -u LUA_INIT_5_1 -u LUA_INIT_5_4 -u LUA_INIT_5_5 \
                LUA_CPATH="$root/target/modules/${runner/jitffi/lua5.4}/?.so;;" \
                timeout "$limit" "${valgrind[@]}" "$(command_for "$runner")" "$program" 2>&1
        ) || status=$?
        why=
        if [ "$status" -eq 124 ]; then
            why="hung (no exit after ${limit}s)"
        elif [ "$status" -gt 128 ]; then
            why="crashed (signal $((status - 128)))"
        elif [ "$status" -eq 99 ] && [ ${#valgrind[@]} -ne 0 ]; then
            why="memcheck found errors"
        elif grep -q -e "panicked" -e "internal error" <<<"$output"; then
            why="a panic or internal error"
        fi
        if [ -z "$why" ]; then
            continue
        fi
        if [ "$status" -gt 128 ] && grep -q "^fuzz: done" <<<"$output" && crash_at_close_is_known "$runner"; then
            echo "XFAIL $runner seed $seed: $why inside lua_close (a known bug: KNOWN_CRASH_AT_CLOSE in tests/fuzz.sh)"
            xfails+=("$runner seed $seed")
            continue
        fi
        echo "FAIL  $runner seed $seed: $why"
        echo "      rerun: lua5.4 tests/fuzz/gen.lua $seed $statements > prog.lua && $runner prog.lua"
        echo "$output" | tail -n 20 | sed 's/^/      | /'
        echo "      the program ($program):"
        sed 's/^/      /' "$program"
        failures+=("$runner seed $seed: $why")
    done
done

echo "fuzz.sh: $runs runs of $count programs"
if [ ${#xfails[@]} -ne 0 ]; then
    echo "fuzz.sh: ${#xfails[@]} known failure(s) (XFAIL): ${xfails[*]}"
fi
if [ "$runs" -eq 0 ]; then
    echo "fuzz.sh: ran nothing" >&2
    exit 1
fi
if [ ${#failures[@]} -ne 0 ]; then
    echo "fuzz.sh: ${#failures[@]} failure(s):" >&2
    printf '  %s\n' "${failures[@]}" >&2
    exit 1
fi
echo "fuzz.sh: no crash, panic or hang"
