#!/bin/sh
# Instructions per operation of one cdata workload under stock lua5.4, from two callgrind
# runs at different iteration counts (the difference cancels start-up and the cdef), and
# the profile of the larger run for callgrind_annotate. Repeatable where times are not.
#
#   bench/callgrind.sh field/ffi          # or new/cbind, array/ffi, u64_add/cbind, ...
#   callgrind_annotate --inclusive=yes target/bench/callgrind.field_ffi.out | less
#
# Needs `cargo xtask bench` to have built target/modules/lua5.4/ffi.so and
# target/bench/cbind.so once.
set -eu
label=${1:?usage: bench/callgrind.sh <workload>/<impl> [scale]}
scale=${2:-0.02}
root=$(cd "$(dirname "$0")/.." && pwd)
out="$root/target/bench/callgrind.$(echo "$label" | tr / _).out"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
export LUA_CPATH_5_4="$root/target/modules/lua5.4/?.so;$root/target/bench/?.so"

# Runs bench/cdata.lua at scale $1 under callgrind (profile into $2); sets $operations
# and $instructions.
measure() {
    operations=$(valgrind --tool=callgrind --callgrind-out-file="$2" --log-file="$log" \
        lua5.4 "$root/bench/cdata.lua" "$1" "$label" |
        sed -n 's/^# .*: \([0-9]*\) operations$/\1/p')
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
