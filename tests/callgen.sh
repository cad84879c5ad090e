#!/usr/bin/env bash
# Calls into C against the C compiler: `cargo xtask callgen` writes a C library of random
# signatures (scalars of every kind, structs and unions by value, packed by #pragma pack
# or __attribute__((packed)), with aligned(n) and bitfield members, complex,
# varargs, many arguments, every kind of result) and a Lua driver that calls each
# function through ffi.load and checks the checksum of its arguments (see
# xtask/src/callgen.rs and tests/callgen/callgen_rt.lua). A fifth as many functions again
# take callbacks of random signatures (scalars, aggregates by value, complex, long
# double, up to 24 arguments) and call them with values made from the checksum; the Lua
# functions the driver passes check what they receive and return values C folds in.
#
# 1. Generates target/callgen/callgen.{c,lua} with a fixed seed and builds
#    target/callgen/libcallgen.so with `cc -shared -fPIC -O1`.
# 2. Runs the driver under luajit: the generator's own check, it must pass (the driver
#    skips there what LuaJIT cannot do: see its summary line).
# 3. Runs it under target/release/jitffi and each stock lua5.X with its ffi.so. A run
#    that finds no ffi.load (or a function cdata that is "not callable") reports SKIP,
#    and one where ffi.cast cannot make a callback of a Lua function skips the
#    functions taking callbacks (its summary says "callbacks not available"): either
#    fails the run unless tests/expected_skips.sh expects it ("callgen.sh RUNNER calls"
#    or "callgen.sh RUNNER callbacks"). Functions hitting a known bug of this ffi
#    (KNOWN_FAILURES in tests/callgen/callgen_rt.lua) are reported as XFAIL without
#    failing the run, and as XPASS once they pass. A run that called no function fails.
# 4. Before that, under every interpreter, the driver's dry run (CALLGEN_DRY=1: the
#    checksums and expected results computed in Lua, no calls) must print exactly what
#    it prints under luajit: the Lua half of the test is right before any call is made.
#
# JITFFI_CALLGEN_SEED (default 1) and JITFFI_CALLGEN_COUNT (default 300) choose another
# program; JITFFI_CALLGEN_CFLAGS adds compiler flags (-DCALLGEN_TRACE makes every C
# function print the checksum after each argument, as the driver does under
# CALLGEN_TRACE=1). To rerun a few functions by hand:
#   LUA_CPATH='target/modules/lua5.4/?.so' lua5.4 target/callgen/callgen.lua \
#       target/callgen/libcallgen.so cg_f12 cg_f40
#
# Needs cc, luajit, lua5.1 ... lua5.4, a release build and the modules (scripts/test.sh
# builds both first). Exits non-zero if anything failed. JITFFI_TARGET, JITFFI_RUNNER and
# JITFFI_CC run it for another architecture, with that architecture's gcc as the oracle
# and its luajit as the generator's check (tests/target.sh; scripts/aarch64.sh).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=tests/expected_skips.sh
source tests/expected_skips.sh
# shellcheck source=tests/target.sh
source tests/target.sh
seed=${JITFFI_CALLGEN_SEED:-1}
count=${JITFFI_CALLGEN_COUNT:-300}
out=$target_build_dir/callgen
limit=${JITFFI_TEST_TIMEOUT:-300}

for tool in "$test_cc" luajit lua5.1 lua5.2 lua5.3 lua5.4; do
    if ! command -v "$tool" >/dev/null; then
        echo "callgen.sh: $tool is not installed" >&2
        exit 1
    fi
done
if [ "$count" -lt 1 ]; then
    echo "callgen.sh: JITFFI_CALLGEN_COUNT=$count: nothing would be tested" >&2
    exit 1
fi

cargo xtask callgen --seed "$seed" --count "$count" --out "$out" ${test_target:+--target "$test_target"} | tail -n 1
# -Wno-psabi: gcc's note that the ABI of structs with complex float members changed in
# gcc 4.4, which is the ABI we test.
# shellcheck disable=SC2086
"$test_cc" -shared -fPIC -O1 -Wno-psabi ${JITFFI_CALLGEN_CFLAGS:-} -o "$out/libcallgen.so" "$out/callgen.c"

failures=()
skips=()
callback_skips=()
echo "== calls into C: $count random signatures and $((count / 5)) taking callbacks, seed $seed (JITFFI_CALLGEN_SEED)"
for runner in luajit jitffi 5.1 5.2 5.3 5.4; do
    case $runner in
        luajit) name=luajit; command=(luajit) ;;
        jitffi) name=jitffi; command=("$jitffi") ;;
        *) name=lua$runner; command=(env LUA_CPATH="$modules_dir/lua$runner/?.so;;" "lua$runner") ;;
    esac
    status=0
    CALLGEN_DRY=1 timeout "$limit" "${command[@]}" "$out/callgen.lua" >"$out/dry.$name" 2>&1 || status=$?
    if [ "$runner" != luajit ] && ! diff -u "$out/dry.luajit" "$out/dry.$name" >"$out/dry.$name.diff"; then
        echo "FAIL  $name   dry run (Lua-side checksums) differs from luajit's:"
        head -n 30 "$out/dry.$name.diff" | sed 's/^/      /'
        failures+=("$name (dry run)")
        continue
    elif [ "$status" -ne 0 ]; then
        echo "FAIL  $name   dry run (exit status $status):"
        tail -n 30 "$out/dry.$name" | sed 's/^/      /'
        failures+=("$name (dry run)")
        continue
    fi
    status=0
    output=$(timeout "$limit" "${command[@]}" "$out/callgen.lua" "$out/libcallgen.so" 2>&1) || status=$?
    summary=$(printf '%s\n' "$output" | tail -n 1)
    [ "$runner" = luajit ] || summary="dry run = luajit's; $summary"
    functions=$(printf '%s\n' "$summary" | sed -n 's/.*: \([0-9][0-9]*\) functions, .*/\1/p')
    if [ "$status" -eq 0 ] && [ "${functions:-0}" -eq 0 ]; then
        echo "FAIL  $name   called no function: $summary"
        failures+=("$name (no function called)")
    elif [ "$status" -eq 0 ]; then
        case $summary in
            *"callbacks not available"*)
                if skip_is_expected "callgen.sh $name callbacks"; then
                    echo "ok    $name   $summary (callbacks: expected SKIP)"
                    callback_skips+=("$name")
                else
                    echo "FAIL  $name   skipped the callbacks, and tests/expected_skips.sh does not expect it: $summary"
                    failures+=("$name (callbacks skipped)")
                fi
                ;;
            *) echo "ok    $name   $summary" ;;
        esac
    elif [ "$status" -eq 77 ] && [ "$runner" != luajit ] && skip_is_expected "callgen.sh $name calls"; then
        echo "SKIP  $name   $summary (expected)"
        skips+=("$name")
    else
        echo "FAIL  $name   (exit status $status)"
        printf '%s\n' "$output" | head -n 60 | sed 's/^/      /'
        failures+=("$name")
    fi
done

if [ ${#skips[@]} -ne 0 ]; then
    echo "callgen.sh: calls into C skipped (expected) under: ${skips[*]}"
fi
if [ ${#callback_skips[@]} -ne 0 ]; then
    echo "callgen.sh: callbacks skipped (expected) under: ${callback_skips[*]}"
fi
if [ ${#failures[@]} -ne 0 ]; then
    echo "callgen.sh: failed under ${failures[*]} (seed $seed: rerun with JITFFI_CALLGEN_SEED=$seed)" >&2
    exit 1
fi
echo "callgen.sh: passed"
