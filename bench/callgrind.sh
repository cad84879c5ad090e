#!/bin/sh
# Instructions per operation of one benchmark workload, from two callgrind runs at
# different iteration counts (the difference cancels start-up, the cdef and the library
# loads), and the profile of the larger run for callgrind_annotate. Repeatable where
# times are not.
#
#   bench/callgrind.sh field/ffi            # stock lua5.4 with ffi.so (and cbind)
#   bench/callgrind.sh add/cbind            # a call workload (bench/calls.lua)
#   bench/callgrind.sh -r luajit-joff C.add/ffi
#   bench/callgrind.sh qsort/cbind          # a callback workload, counted inside qsort
#   callgrind_annotate --inclusive=yes target/bench/callgrind.lua5.4.field_ffi.out | less
#
# Options: -r RUNTIME (lua5.4, the default; lua5.1, with its ffi.so and the 5.1 builds of
# cbind_tight.so and cbind_callbacks.so; jitffi, the release runner; luajit-joff).
# The label is `<workload>/<impl>` exactly as the scripts print it; the script that
# measures it (bench/cdata.lua, bench/calls.lua, ...) is found by asking each. A label
# the script says to count inside a function (`# qsort/ffi: count inside qsort`) is
# counted there only (callgrind --toggle-collect), leaving out setup that grows with
# the scale. Needs `cargo xtask modules` (or `cargo xtask bench`) to have built
# target/modules/lua5.X/ffi.so, and for the C bindings' workloads `cargo xtask bench` to
# have built target/bench/ (cbind.so, cbind_tight.so, cbind_calls.so, ...) once.
set -eu
runtime=lua5.4
if [ "${1:-}" = -r ]; then
    runtime=${2:?usage: bench/callgrind.sh [-r RUNTIME] <workload>/<impl> [scale]}
    shift 2
fi
label=${1:?usage: bench/callgrind.sh [-r RUNTIME] <workload>/<impl> [scale]}
scale=${2:-0.02}
root=$(cd "$(dirname "$0")/.." && pwd)
case $runtime in
    lua5.4) run="lua5.4" ;;
    lua5.1) run="lua5.1" ;;
    jitffi) run="$root/target/release/jitffi" ;;
    luajit-joff) run="luajit -joff" ;;
    *)
        echo "bench/callgrind.sh: unknown runtime '$runtime' (lua5.4, lua5.1, jitffi, luajit-joff)" >&2
        exit 1
        ;;
esac
out="$root/target/bench/callgrind.$runtime.$(echo "$label" | tr / _).out"
mkdir -p "$root/target/bench"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
export LUA_CPATH_5_4="$root/target/modules/lua5.4/?.so;$root/target/bench/?.so"
if [ "$runtime" = lua5.1 ]; then
    export LUA_CPATH="$root/target/modules/lua5.1/?.so;$root/target/bench/lua5.1/?.so"
fi
if [ "$runtime" = jitffi ]; then
    # The runner has the ffi built in; only the C bindings come from target/bench.
    export LUA_CPATH_5_4="$root/target/bench/?.so"
fi

# The operations that a run's output ($1) reports for $label ('' if none).
operations_in() {
    printf '%s\n' "$1" | sed -n "s|^# $label: \([0-9]*\) operations\$|\1|p"
}

script=
for candidate in "$root"/bench/*.lua; do
    grep -q ' operations' "$candidate" || continue
    listing=$($run "$candidate" 1e-9 "$label" || true)
    if [ -n "$(operations_in "$listing")" ]; then
        script=$candidate
        break
    fi
done
if [ -z "$script" ]; then
    echo "bench/callgrind.sh: no bench script measures '$label' under $runtime" >&2
    exit 1
fi
# A workload whose setup grows with the scale (qsort's copies and checks) names the
# function its operations run inside; only that function's instructions are counted.
inside=$(printf '%s\n' "$listing" | sed -n "s|^# $label: count inside \(.*\)\$|\1|p")

# Runs $script at scale $1 under callgrind (profile into $2); sets $operations and
# $instructions.
measure() {
    operations=$(operations_in "$(valgrind --tool=callgrind --callgrind-out-file="$2" \
        --log-file="$log" ${inside:+--toggle-collect="$inside"} $run "$script" "$1" "$label")")
    case $operations in
        '' | *[!0-9]*)
            echo "bench/callgrind.sh: '$label' must name exactly one workload/impl" >&2
            exit 1
            ;;
    esac
    instructions=$(sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$log")
}
measure "$(echo "$scale / 2" | bc -l)" /dev/null
small_operations=$operations small_instructions=$instructions
measure "$scale" "$out"
per_operation=$(((instructions - small_instructions) / (operations - small_operations)))
echo "$label: $per_operation instructions per operation"
echo "profile: $out"
