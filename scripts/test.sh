#!/usr/bin/env bash
# The whole test suite, as CI runs it: release build, every crate's tests, then the
# module built for each stock Lua and the Lua test scripts (tests/modules.sh).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cargo build --release
cargo test --release --workspace
tests/modules.sh
tests/diff.sh
tests/callgen.sh
tests/host.sh
