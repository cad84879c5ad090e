#!/bin/sh
# Instructions per operation of one benchmark workload, from two callgrind runs at
# different iteration counts (the difference cancels start-up, the cdef and the library
# loads), and the profile of the larger run for callgrind_annotate. Repeatable where
# times are not.
#
#   bench/callgrind.sh field/ffi            # stock lua5.4 with ffi.so (and cbind)
#   bench/callgrind.sh add/cbind            # a call workload (bench/calls.lua)
#   bench/callgrind.sh -r luajit-joff C.add/ffi
#   callgrind_annotate --inclusive=yes target/bench/callgrind.lua5.4.field_ffi.out | less
#
# Options: -r RUNTIME (lua5.4, the default; jitffi, the release runner; luajit-joff).
# The label is `<workload>/<impl>` exactly as the scripts print it; the script that
# measures it (bench/cdata.lua, bench/calls.lua, ...) is found by asking each.
# Needs `cargo xtask bench` to have built target/modules/lua5.4/ffi.so and target/bench/
# (cbind.so, cbind_calls.so, libcallee.so) once.
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
    jitffi) run="$root/target/release/jitffi" ;;
    luajit-joff) run="luajit -joff" ;;
    *)
        echo "bench/callgrind.sh: unknown runtime '$runtime' (lua5.4, jitffi, luajit-joff)" >&2
        exit 1
        ;;
esac
out="$root/target/bench/callgrind.$runtime.$(echo "$label" | tr / _).out"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
export LUA_CPATH_5_4="$root/target/modules/lua5.4/?.so;$root/target/bench/?.so"
if [ "$runtime" = jitffi ]; then
    # The runner has the ffi built in; only the C bindings come from target/bench.
    export LUA_CPATH_5_4="$root/target/bench/?.so"
fi

# The operations one run of $script at scale $1 reports for $label ('' if none).
operations_of() {
    $run "$script" "$1" "$label" | sed -n "s|^# $label: \([0-9]*\) operations\$|\1|p"
}

script=
for candidate in "$root"/bench/*.lua; do
    grep -q ' operations' "$candidate" || continue
    script=$candidate
    if [ -n "$(operations_of 1e-9)" ]; then
        break
    fi
    script=
done
if [ -z "$script" ]; then
    echo "bench/callgrind.sh: no bench script measures '$label' under $runtime" >&2
    exit 1
fi

# Runs $script at scale $1 under callgrind (profile into $2); sets $operations and
# $instructions.
measure() {
    operations=$(valgrind --tool=callgrind --callgrind-out-file="$2" --log-file="$log" \
        $run "$script" "$1" "$label" |
        sed -n "s|^# $label: \([0-9]*\) operations\$|\1|p")
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
