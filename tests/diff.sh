#!/usr/bin/env bash
# Differential tests against LuaJIT: every tests/diff/*.lua runs under `luajit` (the
# reference), under target/release/jitffi and under each stock lua5.X with its ffi.so;
# each output must equal LuaJIT's, byte for byte. A script whose output under another
# interpreter starts with a line "SKIP: <reason>" tests a feature that ffi lacks yet
# (it checks that first): reported as SKIP, not a failure. luajit never skips.
#
# Needs luajit, lua5.1 ... lua5.4 and cc on PATH, a release build and the modules
# (`cargo build --release && cargo xtask modules`; scripts/test.sh runs both first).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
jitffi=$root/target/release/jitffi
limit=${JITFFI_TEST_TIMEOUT:-300}
# Helpers shared by the scripts (tests/diff/lib), for every interpreter below.
export LUA_PATH="$root/tests/diff/lib/?.lua;;"
# The C libraries of the tests (tests/c), for ffi.load by path and by bare name.
export JITFFI_TESTLIB_DIR=$root/target/testlib
export LD_LIBRARY_PATH="$JITFFI_TESTLIB_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

if ! command -v luajit >/dev/null; then
    echo "diff.sh: luajit is not installed (apt-get install luajit)" >&2
    exit 1
fi

tests/c/build.sh "$JITFFI_TESTLIB_DIR"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
skips=0
shopt -s nullglob
for script in tests/diff/*.lua; do
    name=$(basename "$script" .lua)
    if ! timeout "$limit" luajit "$script" >"$work/$name.luajit" 2>&1; then
        echo "FAIL  $script under luajit itself:"
        sed 's/^/      /' "$work/$name.luajit"
        failures=$((failures + 1))
        continue
    fi
    if head -n 1 "$work/$name.luajit" | grep -q '^SKIP: '; then
        echo "FAIL  $script skipped under luajit, the reference: $(head -n 1 "$work/$name.luajit")"
        failures=$((failures + 1))
        continue
    fi
    for runner in jitffi 5.1 5.2 5.3 5.4; do
        if [ "$runner" = jitffi ]; then
            command=("$jitffi" "$script")
        else
            command=(env LUA_CPATH="$root/target/modules/lua$runner/?.so;;" "lua$runner" "$script")
            runner=lua$runner
        fi
        timeout "$limit" "${command[@]}" >"$work/$name.$runner" 2>&1 || true
        if head -n 1 "$work/$name.$runner" | grep -q '^SKIP: '; then
            echo "SKIP  $script  $runner: $(head -n 1 "$work/$name.$runner" | cut -c 7-)"
            skips=$((skips + 1))
        elif diff -u "$work/$name.luajit" "$work/$name.$runner" >"$work/$name.$runner.diff"; then
            echo "ok    $script  $runner = luajit"
        else
            echo "FAIL  $script  $runner differs from luajit:"
            head -40 "$work/$name.$runner.diff" | sed 's/^/      /'
            failures=$((failures + 1))
        fi
    done
done
if [ "$skips" -ne 0 ]; then
    echo "diff.sh: $skips skipped (a feature not available yet)"
fi
if [ "$failures" -ne 0 ]; then
    echo "diff.sh: $failures failure(s)" >&2
    exit 1
fi
