#!/usr/bin/env bash
# The AArch64 Linux suite, on any x86-64 Debian machine: everything is built with
# `--target aarch64-unknown-linux-gnu` and runs under qemu-user, with
# aarch64-linux-gnu-gcc as the oracle for layouts and calls and Debian's arm64 lua5.1 ...
# lua5.4 and luajit as the stock interpreters and the reference.
#
# Stages (each says when it starts; a failed one is named at the end, and the stages
# that need it are not run; the exit status is non-zero if any failed):
#  1. setup: the cross toolchain (rustup's aarch64 target, Debian's gcc-aarch64-linux-gnu,
#     libc6-dev-arm64-cross, qemu-user: installed when missing and run as root) and a
#     tree of arm64 interpreters in target/aarch64-env/: Debian's arm64 .debs of
#     lua5.1 ... lua5.4 and luajit with their libraries, fetched once with `apt-get
#     download` (after `dpkg --add-architecture arm64`; never `apt-get install`, which
#     would replace the host's interpreters) and unpacked with `dpkg -x` into sysroot/,
#     and wrappers bin/lua5.X, bin/luajit, bin/jitffi that start them under
#     `qemu-aarch64 -L sysroot`. Idempotent; once cached it works offline.
#  2. crates: `cargo test` of the crates with no machine code of their own (ctype, abi,
#     luajit-literals) built for AArch64 and run under qemu.
#  3. layout: crates/ctype/tests/layout_vs_cc.rs on the host with Target::Aarch64
#     against aarch64-linux-gnu-gcc (its program runs under qemu).
#  4. build: the release build of the workspace (the runner) for AArch64.
#  5. workspace: `cargo test` of the other crates (jit, ffi, cli) for AArch64 under qemu.
#  6. modules: tests/modules.sh (ffi.so in arm64 lua5.1 ... lua5.4, tests/lua/*.lua).
#  7. diff: tests/diff.sh against arm64 luajit.
#  8. callgen: tests/callgen.sh with aarch64-linux-gnu-gcc compiling the C side.
# Stages 6-8 are the x86-64 scripts, pointed at AArch64 by the variables of
# tests/target.sh and by the wrappers first on PATH; they need stage 4.
#
# JITFFI_AARCH64_STAGES (default "crates layout build workspace modules diff callgen")
# runs a subset, in that order; setup always runs first.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

triple=aarch64-unknown-linux-gnu
env_dir=$root/target/aarch64-env
sysroot=$env_dir/sysroot
debs=$env_dir/debs
bin=$env_dir/bin
cross_packages=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user)
# The interpreters and what they load (libc6 and libgcc-s1 too: the tree is complete
# without the cross packages' copies), libc6-dev for the linker scripts libc.so and
# libm.so that `ffi.load("c")` and `ffi.load("m")` open, as on the host, and
# lua-filesystem, the distribution's C module that crates/cli/tests/package_paths.rs
# loads.
arm64_packages=(lua5.1 lua5.2 lua5.3 lua5.4 luajit liblua5.1-0 liblua5.2-0 liblua5.3-0
    liblua5.4-0 libluajit-5.1-2 libreadline8 libtinfo6 libstdc++6 libgcc-s1 libc6 libc6-dev
    lua-filesystem)
stages="setup ${JITFFI_AARCH64_STAGES:-crates layout build workspace modules diff callgen}"

if ! command -v cargo >/dev/null && [ -x "$HOME/.cargo/bin/cargo" ]; then
    export PATH="$HOME/.cargo/bin:$PATH"
fi

say() { echo "== aarch64.sh: $*"; }

# Runs "$@" as root's apt would: as is when root, else fails with the command to run.
as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    else
        echo "aarch64.sh: needs root for: $*" >&2
        return 1
    fi
}

setup_toolchain() {
    local missing=() package
    for package in "${cross_packages[@]}"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    if [ ${#missing[@]} -ne 0 ]; then
        say "installing ${missing[*]}"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
    if ! rustup target list --installed | grep -qx "$triple"; then
        say "adding the Rust target $triple"
        rustup target add "$triple"
    fi
}

# The arm64 .debs (downloaded once) unpacked into $sysroot, and the wrappers.
setup_sysroot() {
    local stamp=$sysroot/.packages want
    want="${arm64_packages[*]}"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
        write_wrappers
        return
    fi
    mkdir -p "$debs"
    local package missing=()
    for package in "${arm64_packages[@]}"; do
        compgen -G "$debs/${package}_*_arm64.deb" >/dev/null || missing+=("$package:arm64")
    done
    if [ ${#missing[@]} -ne 0 ]; then
        if ! apt-cache show lua5.4:arm64 >/dev/null 2>&1; then
            say "adding the arm64 architecture to dpkg (for apt-get download only)"
            as_root dpkg --add-architecture arm64
            as_root apt-get update -qq
        fi
        say "downloading ${missing[*]}"
        # As root, apt's sandbox user cannot write here: download as root (-o ...).
        (cd "$debs" && apt-get download -q -o APT::Sandbox::User=root "${missing[@]}")
    fi
    rm -rf "$sysroot"
    mkdir -p "$sysroot"
    local deb
    for deb in "$debs"/*_arm64.deb; do
        dpkg -x "$deb" "$sysroot"
    done
    # Absolute links (libm.so -> /lib/aarch64-linux-gnu/libm.so.6) point into the tree:
    # qemu's -L prefix applies to the path opened, not to a link's target.
    local link target
    while IFS= read -r link; do
        target=$(readlink "$link")
        case $target in /*) ln -sfr "$sysroot$target" "$link" ;; esac
    done < <(find "$sysroot" -type l)
    echo "$want" >"$stamp"
    write_wrappers
}

# bin/NAME runs NAME of the tree (or the runner) under qemu. `-0 "$0"` makes the
# program's argv[0] the wrapper, so a script that starts its own interpreter again
# (arg[-1], as tests/lua/gc.lua does) starts it under qemu too: this machine has no
# binfmt_misc entry that would run an arm64 executable directly. A caller that wants
# another argv[0] (the runner's tests run lua5.4 as "jitffi") sets JITFFI_ARGV0, which
# the wrapper takes for this one start and does not pass on.
# luajit runs with its JIT off (-joff): Debian's arm64 LuaJIT 2.1.0-beta3 miscompiles
# traces (tests/callgen/callgen_rt.lua's uint64_t arithmetic gives other checksums than
# its own interpreter, gcc's C and jitffi) and now and then segfaults with the JIT on;
# its interpreter is the reference.
write_wrappers() {
    mkdir -p "$bin"
    local name program options
    for name in lua5.1 lua5.2 lua5.3 lua5.4 luajit jitffi; do
        options=
        if [ "$name" = jitffi ]; then
            program=$root/target/$triple/release/jitffi
        else
            program=$sysroot/usr/bin/$name
        fi
        [ "$name" = luajit ] && options=" -joff"
        cat >"$bin/$name.tmp" <<EOF
#!/bin/sh
# $name for AArch64 under qemu-user (written by scripts/aarch64.sh)
if [ ! -f "$program" ]; then
    echo "\$0: $program is missing (scripts/aarch64.sh builds it)" >&2
    exit 127
fi
argv0=\${JITFFI_ARGV0:-\$0}
unset JITFFI_ARGV0
exec qemu-aarch64 -L "$sysroot" -0 "\$argv0" "$program"$options "\$@"
EOF
        chmod +x "$bin/$name.tmp"
        mv "$bin/$name.tmp" "$bin/$name"
    done
}

# Proves the tree: arm64 luajit and each lua5.X start under qemu.
check_sysroot() {
    local arch
    arch=$("$bin/luajit" -e 'io.write(jit.arch)')
    if [ "$arch" != arm64 ]; then
        echo "aarch64.sh: luajit under qemu says jit.arch = '$arch', not arm64" >&2
        return 1
    fi
    local v version
    for v in 5.1 5.2 5.3 5.4; do
        version=$("$bin/lua$v" -e 'io.write(_VERSION)')
        if [ "$version" != "Lua $v" ]; then
            echo "aarch64.sh: lua$v under qemu says '$version'" >&2
            return 1
        fi
    done
    say "arm64 interpreters run under qemu: luajit (jit.arch = arm64), lua5.1 ... lua5.4"
}

# The environment of the x86-64 scripts, pointed at AArch64 (tests/target.sh).
export JITFFI_TARGET=$triple
export JITFFI_RUNNER=$bin/jitffi
export JITFFI_CC=aarch64-linux-gnu-gcc
export PATH="$bin:$PATH"

failed=()
not_run=()
# Runs stage $1 (the command "${@:2}") if asked for, and sets stage_status to its exit
# status (0 when not asked for); records a failure. Always returns 0: called as a plain
# command (never under `if`, `||` or `!`, where bash ignores `set -e` in everything the
# call runs), its subshell keeps `set -e` for the stage's functions.
stage() {
    local name=$1
    shift
    stage_status=0
    case " $stages " in *" $name "*) ;; *) return 0 ;; esac
    local started=$SECONDS status
    say "stage $name: $*"
    set +e
    (
        set -e
        "$@"
    )
    status=$?
    set -e
    if [ "$status" -eq 0 ]; then
        say "stage $name passed ($((SECONDS - started)) s)"
    else
        say "stage $name FAILED (exit status $status, $((SECONDS - started)) s)"
        failed+=("$name")
    fi
    stage_status=$status
}
# Records that stage $1 was asked for but not run, because stage $2 failed.
skip_stage() {
    case " $stages " in *" $1 "*) not_run+=("$1 (needs $2)") ;; esac
}

pure_crates=(-p jitffi-ctype -p jitffi-abi -p luajit-literals)
setup() {
    setup_toolchain
    setup_sysroot
    check_sysroot
}
crate_tests() { cargo test --release --target "$triple" "${pure_crates[@]}"; }
layout_test() {
    # On the host (the layout engine is pure); only the compiler and its program are
    # AArch64's. Uses the host build of ctype's tests.
    env -u JITFFI_TARGET JITFFI_LAYOUT_TARGET=aarch64 JITFFI_LAYOUT_CC=aarch64-linux-gnu-gcc \
        JITFFI_LAYOUT_RUN="qemu-aarch64 -L $sysroot" \
        cargo test --release -p jitffi-ctype --test layout_vs_cc
}
build() { cargo build --release --target "$triple"; }
# The cli tests start the runner they built (an arm64 executable, which a test under
# qemu cannot exec itself) through JITFFI_RUN_PREFIX (crates/cli/tests/target_program).
workspace_tests() {
    JITFFI_RUN_PREFIX="qemu-aarch64 -L $sysroot" \
        cargo test --release --target "$triple" --workspace --exclude xtask \
        --exclude jitffi-ctype --exclude jitffi-abi --exclude luajit-literals
}

setup_started=$SECONDS
stage setup setup
if [ "$stage_status" -ne 0 ]; then
    echo "aarch64.sh: FAILED: setup (toolchain or arm64 interpreters); nothing else ran" >&2
    exit 1
fi
stage crates crate_tests
stage layout layout_test
stage build build
if [ "$stage_status" -eq 0 ]; then
    stage workspace workspace_tests
    stage modules tests/modules.sh
    stage diff tests/diff.sh
    stage callgen tests/callgen.sh
else
    for later in workspace modules diff callgen; do
        skip_stage "$later" "build: the workspace for $triple"
    done
fi

say "done in $((SECONDS - setup_started)) s"
if [ ${#not_run[@]} -ne 0 ]; then
    echo "aarch64.sh: not run: ${not_run[*]}" >&2
fi
if [ ${#failed[@]} -ne 0 ]; then
    echo "aarch64.sh: FAILED stage(s): ${failed[*]}" >&2
    exit 1
fi
if [ ${#not_run[@]} -ne 0 ]; then
    exit 1
fi
echo "aarch64.sh: all stages passed"
