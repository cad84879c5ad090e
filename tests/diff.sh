#!/usr/bin/env bash
# Differential tests against LuaJIT: every tests/diff/*.lua runs under `luajit` (the
# reference), under target/release/jitffi and under each stock lua5.X with its ffi.so;
# each output must equal LuaJIT's, byte for byte, and each must exit with status 0 (a
# crash after the last print fails). A script whose output under another interpreter
# starts with a line "SKIP: <reason>" tests a feature that ffi lacks (it checks that
# first): a failure unless tests/expected_skips.sh expects it ("diff.sh RUNNER SCRIPT").
# luajit never skips. Fails when it compared no script at all.
#
# Needs luajit, lua5.1 ... lua5.4 and cc on PATH, a release build and the modules
# (`cargo build --release && cargo xtask modules`; scripts/test.sh runs both first).
# JITFFI_TARGET, JITFFI_RUNNER and JITFFI_CC run it for another architecture, against
# that architecture's luajit (tests/target.sh; scripts/aarch64.sh).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=tests/target.sh
source tests/target.sh
limit=${JITFFI_TEST_TIMEOUT:-300}
# Helpers shared by the scripts (tests/diff/lib), for every interpreter below.
export LUA_PATH="$root/tests/diff/lib/?.lua;;"
# The C libraries of the tests (tests/c), for ffi.load by path and by bare name.
export JITFFI_TESTLIB_DIR=$testlib_dir
export LD_LIBRARY_PATH="$JITFFI_TESTLIB_DIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

# shellcheck source=tests/expected_skips.sh
source tests/expected_skips.sh

for tool in luajit lua5.1 lua5.2 lua5.3 lua5.4 "$test_cc"; do
    if ! command -v "$tool" >/dev/null; then
        echo "diff.sh: $tool is not installed" >&2
        exit 1
    fi
done

CC=$test_cc tests/c/build.sh "$JITFFI_TESTLIB_DIR"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
skips=0
compared=0
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
            command=(env LUA_CPATH="$modules_dir/lua$runner/?.so;;" "lua$runner" "$script")
            runner=lua$runner
        fi
        status=0
        timeout "$limit" "${command[@]}" >"$work/$name.$runner" 2>&1 || status=$?
        if head -n 1 "$work/$name.$runner" | grep -q '^SKIP: '; then
            reason=$(head -n 1 "$work/$name.$runner" | cut -c 7-)
            if skip_is_expected "diff.sh $runner $script" && [ "$status" -eq 0 ]; then
                echo "SKIP  $script  $runner (expected): $reason"
                skips=$((skips + 1))
            else
                echo "FAIL  $script  $runner skipped (exit status $status), and tests/expected_skips.sh does not expect it: $reason"
                failures=$((failures + 1))
            fi
        elif [ "$status" -ne 0 ]; then
            echo "FAIL  $script  $runner exited with status $status (luajit: 0):"
            diff -u "$work/$name.luajit" "$work/$name.$runner" | head -40 | sed 's/^/      /'
            tail -n 5 "$work/$name.$runner" | sed 's/^/      | /'
            failures=$((failures + 1))
        elif diff -u "$work/$name.luajit" "$work/$name.$runner" >"$work/$name.$runner.diff"; then
            echo "ok    $script  $runner = luajit"
            compared=$((compared + 1))
        else
            echo "FAIL  $script  $runner differs from luajit:"
            head -40 "$work/$name.$runner.diff" | sed 's/^/      /'
            failures=$((failures + 1))
        fi
    done
done
if [ "$skips" -ne 0 ]; then
    echo "diff.sh: $skips skipped, as tests/expected_skips.sh expects"
fi
if [ "$compared" -eq 0 ]; then
    echo "diff.sh: compared no script with luajit: nothing was tested" >&2
    exit 1
fi
if [ "$failures" -ne 0 ]; then
    echo "diff.sh: $failures failure(s)" >&2
    exit 1
fi
echo "diff.sh: $compared comparisons with luajit, all equal"
