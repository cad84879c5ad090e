# Sourced by the test scripts (tests/modules.sh, diff.sh, callgen.sh, fuzz.sh,
# valgrind.sh) after they set $root: the stock Lua versions that ffi.so is built for and
# tested under, and where lua5.5 comes from.
# shellcheck shell=bash

# shellcheck disable=SC2034 # used by the scripts that source this
LUA_VERSIONS=(5.1 5.2 5.3 5.4 5.5)
# For another architecture (JITFFI_TARGET, tests/target.sh) the interpreters are that
# architecture's Debian builds, and Debian has no lua5.5: 5.5 is tested on the host only.
if [ -n "${JITFFI_TARGET:-}" ]; then
    LUA_VERSIONS=(5.1 5.2 5.3 5.4)
fi

# Debian has no lua5.5: `cargo xtask modules` (or `cargo xtask lua55`) builds one into
# target/lua5.5 from the Lua 5.5 sources of the lua-src crate, those the 5.5 ffi.so is
# built against. It comes first on PATH, so that the tests use that very build.
PATH="$root/target/lua5.5:$PATH"
