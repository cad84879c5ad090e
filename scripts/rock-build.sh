#!/bin/sh
# The build step of jitffi-*.rockspec (`luarocks make`): builds the `ffi` module with
# cargo for the Lua that LuaRocks is configured for, and leaves it as target/rock/ffi.so
# with its copy target/rock/cbframe.so (`require "cbframe"` finds `luaopen_cbframe` in
# a library of that name; see xtask's `modules`), which the rockspec's build.install
# then installs.
#
# usage: scripts/rock-build.sh LUA   (LUA: the interpreter, LuaRocks' $(LUA))
#
# The Lua version comes from the interpreter itself (LuaRocks passes no version
# variable); the module needs no Lua headers or library (mlua-sys's `module` feature:
# the symbols come from the interpreter at load time). Runs $CARGO, else cargo from PATH
# or ~/.cargo/bin (where rustup puts it).
set -eu
cd "$(dirname "$0")/.."

lua=${1:?usage: scripts/rock-build.sh LUA}
version=$("$lua" -e 'io.write(jit and "luajit" or _VERSION:match("^Lua (5%.%d)$") or _VERSION)')
case $version in
5.[1-5]) ;;
luajit)
    echo "rock-build.sh: $lua is LuaJIT, which has its own ffi; install jitffi for a PUC Lua 5.x" >&2
    exit 1
    ;;
*)
    echo "rock-build.sh: $lua reports $version; jitffi builds for PUC Lua 5.1-5.5 only" >&2
    exit 1
    ;;
esac
cargo=${CARGO:-cargo}
if ! command -v "$cargo" >/dev/null 2>&1; then
    if [ -z "${CARGO:-}" ] && [ -x "${HOME:-}/.cargo/bin/cargo" ]; then
        cargo=$HOME/.cargo/bin/cargo
    else
        echo "rock-build.sh: $cargo not found: building jitffi needs a Rust toolchain (cargo, Rust 1.87 or newer)" >&2
        exit 1
    fi
fi
feature=lua$(echo "$version" | tr -d .)
target_dir=target/modules-build/$feature

echo "rock-build.sh: building ffi.so for Lua $version (cargo feature $feature)"
"$cargo" build --release -p jitffi-lua --no-default-features \
    --features "$feature,module" --target-dir "$target_dir"
mkdir -p target/rock
cp "$target_dir/release/libjitffi_lua.so" target/rock/ffi.so
cp "$target_dir/release/libjitffi_lua.so" target/rock/cbframe.so
