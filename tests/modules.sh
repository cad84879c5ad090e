#!/usr/bin/env bash
# The ffi module inside unmodified interpreters.
#
# 1. `cargo xtask modules` builds target/modules/lua5.X/ffi.so (and its copy cbframe.so)
#    for X = 1..5, and target/lua5.5/lua5.5 (tests/lua_versions.sh).
# 2. Each stock lua5.X loads its ffi.so: `require "ffi"` must return a table; and its
#    cbframe.so: `require "cbframe"` before ffi must load both.
# 3. Each Lua test script tests/lua/*.lua runs under every stock lua5.X (with that
#    ffi.so) and under target/release/jitffi; it passes when it exits with status 0.
#    Exit status 77 means the script found a feature it tests missing (it prints why):
#    reported as SKIP, which fails the run unless tests/expected_skips.sh expects it
#    ("modules.sh RUNNER SCRIPT"). Helper modules for those scripts go in
#    tests/lua/lib/ (on package.path).
#
# Fails when it ran no script at all.
#
# The C libraries of the tests (tests/c, built into target/testlib) are found through
# JITFFI_TESTLIB_DIR and LD_LIBRARY_PATH.
#
# Needs lua5.1 ... lua5.4 and cc on PATH (fails if one is missing) and a release build
# of the runner (`cargo build --release`). Exits non-zero if anything failed.
# JITFFI_TARGET, JITFFI_RUNNER and JITFFI_CC run it for another architecture
# (tests/target.sh; scripts/aarch64.sh).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

# shellcheck source=tests/expected_skips.sh
source tests/expected_skips.sh
# shellcheck source=tests/target.sh
source tests/target.sh
# shellcheck source=tests/lua_versions.sh
source tests/lua_versions.sh

versions=("${LUA_VERSIONS[@]}")
# Per-script limit, so that a hanging test cannot hang CI.
limit=${JITFFI_TEST_TIMEOUT:-300}

if [ ! -x "$jitffi" ]; then
    echo "modules.sh: $jitffi is missing; run 'cargo build --release${test_target:+ --target $test_target}' first" >&2
    exit 1
fi

cargo xtask modules
for v in "${versions[@]}"; do
    if ! command -v "lua$v" >/dev/null; then
        echo "modules.sh: lua$v is not installed (apt-get install lua$v)" >&2
        exit 1
    fi
done
testlib=$testlib_dir
CC=$test_cc tests/c/build.sh "$testlib"

# Runs "$@" with the module path of Lua $1 and nothing else from the environment
# that could change what `require` finds or what runs first.
with_lua_env() {
    local v=$1
    shift
    env -u LUA_INIT -u LUA_INIT_5_1 -u LUA_INIT_5_2 -u LUA_INIT_5_3 -u LUA_INIT_5_4 -u LUA_INIT_5_5 \
        -u LUA_PATH_5_2 -u LUA_PATH_5_3 -u LUA_PATH_5_4 -u LUA_PATH_5_5 \
        -u LUA_CPATH_5_2 -u LUA_CPATH_5_3 -u LUA_CPATH_5_4 -u LUA_CPATH_5_5 \
        LUA_CPATH="$modules_dir/lua$v/?.so;;" \
        LUA_PATH="$root/tests/lua/lib/?.lua;;" \
        JITFFI_TESTLIB_DIR="$testlib" \
        LD_LIBRARY_PATH="$testlib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
        "$@"
}

failures=()
skips=()

echo "== require \"ffi\" in stock interpreters"
load_check='local ffi = require "ffi"
assert(type(ffi) == "table", "require \"ffi\" returned a " .. type(ffi))
io.write(_VERSION, ": ", type(ffi))'
for v in "${versions[@]}"; do
    if output=$(with_lua_env "$v" "lua$v" -e "$load_check" 2>&1); then
        echo "ok    lua$v   $output"
    else
        echo "FAIL  lua$v   require \"ffi\":"
        echo "$output" | sed 's/^/      /'
        failures+=("lua$v: require \"ffi\"")
    fi
done

# cbframe.so (a copy of ffi.so) loaded before ffi: its luaopen_cbframe requires ffi.
echo "== require \"cbframe\" first (cbframe.so) in stock interpreters"
cbframe_check='local cbframe = require "cbframe"
assert(type(cbframe.new) == "function", "require \"cbframe\" returned no module")
assert(package.loaded.ffi, "cbframe did not load ffi")
io.write(_VERSION, ": ", type(cbframe))'
for v in "${versions[@]}"; do
    if output=$(with_lua_env "$v" "lua$v" -e "$cbframe_check" 2>&1); then
        echo "ok    lua$v   $output"
    else
        echo "FAIL  lua$v   require \"cbframe\":"
        echo "$output" | sed 's/^/      /'
        failures+=("lua$v: require \"cbframe\"")
    fi
done

# ffi.core: the bare module, with no global change (no bit or jit, the base type).
echo "== require \"ffi.core\" changes no global in stock interpreters"
core_check='local type0, tonumber0 = type, tonumber
local ffi = require "ffi.core"
assert(type(ffi.cdef) == "function", "require \"ffi.core\" returned no module")
assert(bit == nil and jit == nil and type == type0 and tonumber == tonumber0, "a global changed")
assert(type(ffi.new("int")) == "userdata" and ffi.type(ffi.new("int")) == "cdata")
assert(require "ffi" == ffi and bit and jit and type ~= type0, "ffi after ffi.core")
io.write(_VERSION, ": ok")'
for v in "${versions[@]}"; do
    if output=$(with_lua_env "$v" "lua$v" -e "$core_check" 2>&1); then
        echo "ok    lua$v   $output"
    else
        echo "FAIL  lua$v   require \"ffi.core\":"
        echo "$output" | sed 's/^/      /'
        failures+=("lua$v: require \"ffi.core\"")
    fi
done

shopt -s nullglob
scripts=(tests/lua/*.lua)
echo "== Lua test scripts (${#scripts[@]} in tests/lua)"
if [ ${#scripts[@]} -eq 0 ]; then
    echo "modules.sh: no Lua test scripts in tests/lua: nothing was tested" >&2
    exit 1
fi
ran=0
for script in "${scripts[@]}"; do
    for runner in "${versions[@]}" jitffi; do
        if [ "$runner" = jitffi ]; then
            name=jitffi
            command=("$jitffi" "$script")
            v=5.4
        else
            name=lua$runner
            command=("lua$runner" "$script")
            v=$runner
        fi
        status=0
        output=$(with_lua_env "$v" timeout "$limit" "${command[@]}" 2>&1) || status=$?
        ran=$((ran + 1))
        if [ "$status" -eq 0 ]; then
            echo "ok    $name   $script"
        elif [ "$status" -eq 77 ] && skip_is_expected "modules.sh $name $script"; then
            echo "SKIP  $name   $script (expected): $(echo "$output" | tail -n 1 | sed "s/^SKIP: //")"
            skips+=("$name: $script")
        elif [ "$status" -eq 77 ]; then
            echo "FAIL  $name   $script skipped, and tests/expected_skips.sh does not expect it:"
            echo "$output" | tail -n 5 | sed 's/^/      /'
            failures+=("$name: $script (unexpected SKIP)")
        else
            echo "FAIL  $name   $script (exit status $status)"
            echo "$output" | tail -n 40 | sed 's/^/      /'
            failures+=("$name: $script")
        fi
    done
done

# Direct stack reads must pass their verification on every Lua (else they turn off
# silently and only speed would tell): JITFFI_REQUIRE_STACK_PEEK=1 makes a failed
# verification an error of `require "ffi"`.
echo "== direct stack reads verified (JITFFI_REQUIRE_STACK_PEEK=1)"
for v in "${versions[@]}"; do
    if output=$(with_lua_env "$v" env JITFFI_REQUIRE_STACK_PEEK=1 timeout "$limit" "lua$v" tests/lua/calls.lua 2>&1); then
        echo "ok    lua$v   direct stack reads verified"
    else
        echo "FAIL  lua$v   direct stack reads failed verification"
        echo "$output" | tail -n 40 | sed 's/^/      /'
        failures+=("lua$v: direct stack reads (JITFFI_REQUIRE_STACK_PEEK)")
    fi
done

# The scripts whose fast paths read arguments straight from the stack (calls, the
# elements of cdata_index, and callbacks, whose handler reads the stack's room), again
# with those reads off (callbacks then make their room under protection every time).
echo "== calls, elements and callbacks through the Lua API (JITFFI_NO_STACK_PEEK=1: no direct stack reads)"
for script in tests/lua/calls.lua tests/lua/cdata_index.lua tests/lua/callbacks.lua; do
    for v in "${versions[@]}"; do
        if output=$(with_lua_env "$v" env JITFFI_NO_STACK_PEEK=1 timeout "$limit" "lua$v" "$script" 2>&1); then
            echo "ok    lua$v   $script"
        else
            echo "FAIL  lua$v   $script without direct stack reads"
            echo "$output" | tail -n 40 | sed 's/^/      /'
            failures+=("lua$v: $script (JITFFI_NO_STACK_PEEK)")
        fi
    done
done

if [ ${#skips[@]} -ne 0 ]; then
    echo "modules.sh: ${#skips[@]} skipped, as tests/expected_skips.sh expects"
fi
if [ "$ran" -eq 0 ]; then
    echo "modules.sh: ran no test script" >&2
    exit 1
fi
if [ ${#failures[@]} -ne 0 ]; then
    echo "modules.sh: ${#failures[@]} failure(s):" >&2
    printf '  %s\n' "${failures[@]}" >&2
    exit 1
fi
echo "modules.sh: all passed"
