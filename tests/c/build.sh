#!/usr/bin/env bash
# Builds the C libraries of the Lua tests into the directory $1 (created if needed):
# tests/c/X.c becomes $1/libjitffi_X.so. Rebuilds only what is older than its source.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:?usage: build.sh OUTPUT_DIR}
mkdir -p "$out"
cc=${CC:-cc}
for src in "$here"/*.c; do
    lib=$out/libjitffi_$(basename "$src" .c).so
    if [ ! -e "$lib" ] || [ "$src" -nt "$lib" ]; then
        "$cc" -shared -fPIC -O1 -o "$lib" "$src"
    fi
done
