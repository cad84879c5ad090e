-- LuaRocks package of jitffi: `luarocks make` in a checkout builds `ffi.so` with cargo
-- for the Lua that LuaRocks is configured for (`--lua-version 5.1` ... `5.5` to
-- choose) and installs it with `cbframe` and the loaders of LuaJIT's `bit` and `jit`.
-- The version is the workspace's (Cargo.toml); tests/luarocks.sh checks that they agree.
rockspec_format = "3.0"
package = "jitffi"
version = "0.1.0-1"

source = {
   url = "git+https://github.com/jitffi/jitffi.git",
   tag = "v0.1.0",
}

description = {
   summary = "LuaJIT's ffi library for PUC Lua 5.1-5.5",
   detailed = [[
jitffi is LuaJIT's `ffi` library for the standard Lua interpreters (PUC Lua 5.1, 5.2,
5.3, 5.4 and 5.5), written in Rust: ffi.cdef with a full C declaration parser, cdata,
calls to C functions through generated machine code, callbacks, metatypes. Code
written for LuaJIT's FFI runs unchanged after `local ffi = require "ffi"`.
x86-64 and AArch64 Linux. Building needs a Rust toolchain (cargo, Rust 1.87 or newer).
]],
   homepage = "https://github.com/jitffi/jitffi",
   license = "MIT",
   labels = { "ffi", "luajit", "c" },
}

dependencies = {
   "lua >= 5.1, < 5.6",
}

-- External build dependency: a Rust toolchain (cargo, Rust 1.87 or newer), found on PATH
-- or in ~/.cargo/bin. It is not listed in external_dependencies, whose program search
-- looks only in LuaRocks' external_deps_dirs (/usr/local/bin, /usr/bin, /bin), never
-- where rustup installs cargo; scripts/rock-build.sh says what is missing instead.

supported_platforms = { "linux" }

build = {
   type = "command",
   build_command = [[sh scripts/rock-build.sh "$(LUA)"]],
   install = {
      lib = {
         ffi = "target/rock/ffi.so",
         cbframe = "target/rock/cbframe.so",
      },
      lua = {
         bit = "lua/bit.lua",
         jit = "lua/jit.lua",
      },
   },
}
