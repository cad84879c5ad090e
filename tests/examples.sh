#!/usr/bin/env bash
# The examples: every examples/*.lua runs under the jitffi runner and under each stock
# lua5.1 ... lua5.4 with the ffi.so built for it (`cargo xtask modules`), and under
# luajit unless it uses jitffi's own `require "cbframe"`, so that the examples stay
# LuaJIT FFI code that runs on both. An example
# asserts its own results, so it passes when it exits with status 0 (and fails on any
# other status, a timeout included). Fails when it ran no example.
#
# The examples call libz.so.1 (zlib1g) and libsqlite3.so.0 (libsqlite3-0), which
# .ci/run installs; a missing library fails the run, it is never skipped.
#
# Needs lua5.1 ... lua5.4 and luajit on PATH and a release build of the runner
# (`cargo build --release`). Exits non-zero if anything failed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

versions=(5.1 5.2 5.3 5.4)
jitffi=$root/target/release/jitffi
limit=${JITFFI_TEST_TIMEOUT:-300}

for program in "${versions[@]/#/lua}" luajit; do
    if ! command -v "$program" >/dev/null; then
        echo "examples.sh: $program is not installed (apt-get install $program)" >&2
        exit 1
    fi
done
if [ ! -x "$jitffi" ]; then
    echo "examples.sh: $jitffi is missing; run 'cargo build --release' first" >&2
    exit 1
fi

cargo xtask modules

# Runs "$@" with the module path of Lua $1 and nothing else from the environment that
# could change what `require` finds or what runs first.
with_lua_env() {
    local v=$1
    shift
    env -u LUA_INIT -u LUA_INIT_5_1 -u LUA_INIT_5_2 -u LUA_INIT_5_3 -u LUA_INIT_5_4 \
        -u LUA_PATH -u LUA_PATH_5_2 -u LUA_PATH_5_3 -u LUA_PATH_5_4 \
        -u LUA_CPATH_5_2 -u LUA_CPATH_5_3 -u LUA_CPATH_5_4 \
        LUA_CPATH="$root/target/modules/lua$v/?.so;;" \
        "$@"
}

shopt -s nullglob
examples=(examples/*.lua)
if [ ${#examples[@]} -eq 0 ]; then
    echo "examples.sh: no examples in examples/: nothing was tested" >&2
    exit 1
fi

failures=()
ran=0
echo "== examples (${#examples[@]} in examples/)"
for example in "${examples[@]}"; do
    runners=(jitffi "${versions[@]}")
    grep -q 'require "cbframe"' "$example" || runners+=(luajit)
    for runner in "${runners[@]}"; do
        if [ "$runner" = jitffi ]; then
            name=jitffi
            command=("$jitffi" "$example")
            v=5.4
        elif [ "$runner" = luajit ]; then
            name=luajit
            command=(luajit "$example")
            v=5.1
        else
            name=lua$runner
            command=("lua$runner" "$example")
            v=$runner
        fi
        status=0
        output=$(with_lua_env "$v" timeout "$limit" "${command[@]}" 2>&1) || status=$?
        ran=$((ran + 1))
        if [ "$status" -eq 0 ]; then
            echo "ok    $name   $example"
        else
            echo "FAIL  $name   $example (exit status $status)"
            echo "$output" | tail -n 20 | sed 's/^/      /'
            failures+=("$name: $example")
        fi
    done
done

if [ "$ran" -eq 0 ]; then
    echo "examples.sh: ran no example" >&2
    exit 1
fi
if [ ${#failures[@]} -ne 0 ]; then
    echo "examples.sh: ${#failures[@]} failure(s):" >&2
    printf '  %s\n' "${failures[@]}" >&2
    exit 1
fi
echo "examples.sh: all $ran runs passed"
