#!/usr/bin/env bash
# The whole test suite, as CI runs it: release build, every crate's tests, then the
# module built for each stock Lua and the Lua test scripts (tests/modules.sh), the
# examples on every Lua (tests/examples.sh) and the docs' code blocks (tests/docs.sh), the
# differential runs against LuaJIT, the generated calls, the API fuzzer (a bounded
# number of seeds; a longer run is `JITFFI_API_FUZZ_SEED=N JITFFI_API_FUZZ_COUNT=M tests/fuzz.sh`)
# the Lua test scripts under valgrind memcheck, the instruction counts of the hot
# cdata operations against their bounds (callgrind), and then the AArch64 suite under
# qemu-user (scripts/aarch64.sh: the same crates' tests, Lua scripts, differential and
# generated-call tests, built for aarch64-unknown-linux-gnu). A SKIP anywhere fails
# unless tests/expected_skips.sh expects it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo build --release
cargo test --release --workspace
tests/modules.sh
tests/luarocks.sh
tests/examples.sh
tests/docs.sh
tests/diff.sh
tests/callgen.sh
tests/host.sh
tests/fuzz.sh
tests/valgrind.sh
tests/instructions.sh
scripts/aarch64.sh
