# shellcheck shell=bash disable=SC2034,SC2154  # sourced: $root comes from, and the variables go to, the script
# Sourced by tests/modules.sh, diff.sh and callgen.sh (after `cd "$root"`): where the
# binaries under test are and which compiler builds the tests' C, for the host by
# default or, by environment, for another architecture. scripts/aarch64.sh sets these
# for AArch64 under qemu-user; unset, every test runs as it always has on x86-64.
#
#   JITFFI_TARGET  a Rust target triple (aarch64-unknown-linux-gnu); empty for the host.
#                  Everything built for it lives under target/<triple>/: release/jitffi,
#                  modules/lua5.X/ffi.so (`JITFFI_TARGET=... cargo xtask modules`),
#                  testlib/, callgen/.
#   JITFFI_RUNNER  the command that runs the runner (default: the release build's
#                  jitffi); for another architecture, a wrapper that starts it under qemu.
#   JITFFI_CC      the C compiler of the test libraries (default cc), the oracle for
#                  layouts and calls: aarch64-linux-gnu-gcc for AArch64.
#
# The interpreters (lua5.1 ... lua5.4, luajit) come from PATH: for another architecture,
# put wrappers that start that architecture's interpreters first on it (scripts/aarch64.sh
# makes them in target/aarch64-env/bin).

test_target=${JITFFI_TARGET:-}
# What cargo and the test scripts build for the target: target/ or target/<triple>/.
target_build_dir=$root/target${test_target:+/$test_target}
jitffi=${JITFFI_RUNNER:-$target_build_dir/release/jitffi}
modules_dir=$target_build_dir/modules
testlib_dir=$target_build_dir/testlib
test_cc=${JITFFI_CC:-cc}
