#!/usr/bin/env bash
# The documentation's code: every ```lua block of README.md and docs/*.md runs under the
# jitffi runner and stock lua5.1 and lua5.4 with their ffi.so, an output block shown after
# one must be its exact output, and the inspection and run commands of the ```sh blocks
# and `$ jitffi` transcripts run too (tests/docs.lua says how blocks are chosen and
# marked). Fails when a block fails or when no block ran.
#
# Needs lua5.1 and lua5.4 on PATH and a release build of the runner
# (`cargo build --release`). Exits non-zero if anything failed.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

for v in 5.1 5.4; do
    if ! command -v "lua$v" >/dev/null; then
        echo "docs.sh: lua$v is not installed (apt-get install lua$v)" >&2
        exit 1
    fi
done
jitffi=$root/target/release/jitffi
if [ ! -x "$jitffi" ]; then
    echo "docs.sh: $jitffi is missing; run 'cargo build --release' first" >&2
    exit 1
fi

cargo xtask modules

shopt -s nullglob
files=(README.md docs/*.md)
echo "== code blocks of ${files[*]}"
exec env -u LUA_INIT -u LUA_INIT_5_1 -u LUA_INIT_5_4 \
    -u LUA_PATH -u LUA_PATH_5_4 -u LUA_CPATH -u LUA_CPATH_5_4 \
    lua5.4 tests/docs.lua "$root" "$jitffi" "${files[@]}"
