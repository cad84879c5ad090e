#!/usr/bin/env bash
# The LuaRocks package: `luarocks make` of jitffi-*.rockspec, from this checkout, for
# Lua 5.1 and 5.4, each into a temporary tree (`--tree`); then each stock lua5.X, with
# only the package paths that `luarocks path` gives for that tree, runs
# tests/luarocks/smoke.lua (ffi, cbframe, bit and jit found in the tree, a C call and a
# callback). Also checks that the rockspec passes `luarocks lint` and carries the
# workspace's version.
#
# Needs luarocks (Debian's `luarocks`), lua5.1, lua5.4 and cargo; fails if one is
# missing. Works offline when cargo's registry already holds the dependencies.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

for tool in luarocks lua5.1 lua5.4; do
    if ! command -v "$tool" >/dev/null; then
        echo "luarocks.sh: $tool is not installed (apt-get install $tool)" >&2
        exit 1
    fi
done

rockspecs=(jitffi-*.rockspec)
if [ ${#rockspecs[@]} -ne 1 ] || [ ! -f "${rockspecs[0]}" ]; then
    echo "luarocks.sh: expected exactly one jitffi-*.rockspec at the root, found: ${rockspecs[*]}" >&2
    exit 1
fi
rockspec=${rockspecs[0]}
crate_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
case $rockspec in
"jitffi-$crate_version-"*.rockspec) ;;
*)
    echo "luarocks.sh: $rockspec does not carry the workspace version $crate_version (Cargo.toml)" >&2
    exit 1
    ;;
esac
luarocks lint "$rockspec"
echo "ok    luarocks lint $rockspec"

trees=$(mktemp -d)
trap 'rm -rf "$trees"' EXIT
failures=()
for v in 5.1 5.4; do
    tree=$trees/lua$v
    echo "== luarocks --lua-version $v make --tree $tree"
    if ! luarocks --lua-version "$v" make --tree "$tree" "$rockspec"; then
        echo "FAIL  lua$v   luarocks make"
        failures+=("lua$v: luarocks make")
        continue
    fi
    # Only LuaRocks' paths: nothing of the caller's environment, nothing of ours.
    paths=$(luarocks --lua-version "$v" --tree "$tree" path)
    if output=$(env -u LUA_PATH -u LUA_CPATH -u LUA_INIT \
        -u LUA_PATH_5_4 -u LUA_CPATH_5_4 -u LUA_INIT_5_4 \
        bash -c "$paths"'
        exec "$0" "$@"' "lua$v" tests/luarocks/smoke.lua "$tree" 2>&1); then
        echo "ok    lua$v   $output"
    else
        echo "FAIL  lua$v   tests/luarocks/smoke.lua:"
        echo "$output" | sed 's/^/      /'
        failures+=("lua$v: smoke.lua")
    fi
done

if [ ${#failures[@]} -ne 0 ]; then
    echo "luarocks.sh: ${#failures[@]} failure(s):" >&2
    printf '  %s\n' "${failures[@]}" >&2
    exit 1
fi
echo "luarocks.sh: all passed"
