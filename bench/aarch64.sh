#!/usr/bin/env bash
# The call benchmark (bench/calls.lua) and bench/cdata.lua's field workloads on AArch64
# under qemu-user next to x86-64, in one session: stock lua5.4 with ffi.so and with the
# hand-written bindings (cbind_calls.so, cbind.so, cbind_tight.so), the two
# architectures' runs interleaved, REPS times; prints per workload the median seconds
# per operation of each and the ratio ffi / binding per architecture. Also
# `bench/aarch64.sh stubs` prints the instructions of the generated call stub on the
# straight path of one call, for the bench signatures, on both architectures.
#
# qemu translates every arm64 instruction into several host ones: absolute times under it
# mean nothing, and relative costs are distorted (helper calls, loads and stores are
# translated differently from arithmetic). No ARM hardware was measured. See
# bench/README.md, "AArch64 under qemu".
#
# Needs: target/aarch64-env (scripts/aarch64.sh's setup stage), ffi.so for both
# (`cargo xtask modules`; `JITFFI_TARGET=aarch64-unknown-linux-gnu cargo xtask modules`),
# cc and aarch64-linux-gnu-gcc, host lua5.4, and for `stubs` the host runner
# (target/release/jitffi, or $JITFFI).
#
#   bench/aarch64.sh [SCALE [REPS]]   (defaults 0.1 and 5; the x86-64 runs use SCALE too)
#   bench/aarch64.sh stubs
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
triple=aarch64-unknown-linux-gnu
a64_lua=$root/target/aarch64-env/bin/lua5.4

# Instructions of the call stub on the straight path of one call (conditional branches
# not taken) to its `ret`: from the caller entry, the `lua_CFunction` that `ffi.C.NAME`
# is (its `call binding` fetches the context, then `jmp body`), or for a variadic
# function from the direct entry, which the ffi's variadic closure enters with the stub
# of the call's argument types (the closure's own Rust is not counted). A helper call
# (`call NAME`) is the instructions that load its address and the call; the helper's own
# instructions are not counted (the number of helper calls is printed beside).
stubs() {
    local jitffi=${JITFFI:-$root/target/release/jitffi}
    local cdef
    cdef=$(mktemp)
    echo 'struct vec2 { double x, y; };' >"$cdef"
    local protos=(
        'int add(int, int)'
        'double mixed6(int8_t, uint16_t, int64_t, float, double, const char *)'
        'size_t strlen(const char *)'
        'struct vec2 vec2_add(struct vec2, struct vec2)'
        'int printf(const char *, ...)|int, double'
    )
    local entry proto varargs target entry_kind
    printf '%-72s %-8s %6s %6s\n' prototype target insns helpers
    for entry in "${protos[@]}"; do
        proto=${entry%%|*}
        varargs=()
        entry_kind=caller
        if [ "$entry" != "$proto" ]; then
            varargs=(--varargs "${entry#*|}")
            entry_kind=direct
        fi
        for target in x86_64 aarch64; do
            "$jitffi" --plan "$proto" --cdef "$cdef" "${varargs[@]}" --target "$target" \
                --disasm | awk -v target="$target" -v entry="$entry_kind" -v label="$proto${varargs[1]:+ [${varargs[1]}]}" '
                # A listing line: offset, bytes (empty when folded into the next line),
                # then the instructions separated by "; ".
                /^stub:/ { listing = 1; counting = (entry == "caller"); next }
                !listing { next }
                /; direct entry/ { if (entry == "direct") counting = 1; next }
                /^ +[0-9a-f]+ +body:$/ { counting = 1; next }
                !counting || /^ +[0-9a-f]+ +[a-z_]+:$/ { next }
                {
                    text = $0
                    sub(/^ +[0-9a-f]+ +(([0-9a-f][0-9a-f]|<address>) )* */, "", text)
                    n = split(text, parts, "; ")
                    for (i = 1; i <= n; i++) {
                        if (parts[i] ~ /^call [a-z_][a-z_0-9]*$/ && parts[i] !~ /^call r[0-9]+$/) {
                            # x86-64: mov rax, imm64; call rax. AArch64: movz and three
                            # movk into x16, blr x16.
                            insns += (target == "x86_64") ? 2 : 5
                            helpers++
                        } else {
                            insns++
                        }
                        if (parts[i] ~ /^ret/) done = 1
                        if (parts[i] ~ /^(jmp|b) body$/) counting = 0
                    }
                    if (done) { printf "%-72s %-8s %6d %6d\n", label, target, insns, helpers; exit }
                }'
        done
    done
    rm -f "$cdef"
}

if [ "${1:-}" = stubs ]; then
    stubs
    exit 0
fi

scale=${1:-0.1}
reps=${2:-5}
# The Lua 5.4 headers the lua-src crate vendors, as xtask finds them (the same for both).
lua_include=${LUA54_INCLUDE:-$(ls -d "$HOME"/.cargo/registry/src/*/lua-src-*/lua-5.4* 2>/dev/null | tail -1 || true)}
[ -f "$lua_include/lua.h" ] || { echo "aarch64.sh: no lua.h (set LUA54_INCLUDE)" >&2; exit 1; }
[ -x "$a64_lua" ] || { echo "aarch64.sh: no $a64_lua (run scripts/aarch64.sh)" >&2; exit 1; }

# The bindings and the library, per architecture, as xtask/src/bench_native.rs builds them.
build_native() { # compiler, output directory
    local cc=$1 dir=$2 flags=(-std=c99 -O2 -fPIC -shared -Wall -Wextra)
    mkdir -p "$dir"
    "$cc" "${flags[@]}" -I bench/native bench/native/callee.c -o "$dir/libcallee.so"
    "$cc" "${flags[@]}" -I "$lua_include" -I bench/native bench/native/cbind_calls.c \
        -o "$dir/cbind_calls.so" -L "$dir" -lcallee '-Wl,-rpath,$ORIGIN'
    local module
    for module in cbind cbind_tight; do
        "$cc" "${flags[@]}" -I "$lua_include" "bench/native/$module.c" -o "$dir/$module.so"
    done
}
declare -A lua dir ffi
lua[x86_64]=lua5.4
lua[aarch64]=$a64_lua
dir[x86_64]=$root/target/bench-arch/x86_64
dir[aarch64]=$root/target/bench-arch/aarch64
ffi[x86_64]=$root/target/modules/lua5.4
ffi[aarch64]=$root/target/$triple/modules/lua5.4
build_native "${CC:-cc}" "${dir[x86_64]}"
build_native aarch64-linux-gnu-gcc "${dir[aarch64]}"
for arch in x86_64 aarch64; do
    [ -f "${ffi[$arch]}/ffi.so" ] || { echo "aarch64.sh: no ${ffi[$arch]}/ffi.so" >&2; exit 1; }
done

# Each run: every workload of calls.lua, and cdata.lua's field workloads (the labels that
# contain "field": field, field_int, field_double, field_tagged, ref_field, ptr_field).
results=$(mktemp)
trap 'rm -f "$results"' EXIT
for rep in $(seq "$reps"); do
    for arch in x86_64 aarch64; do
        echo "== run $rep/$reps $arch" >&2
        for script in "bench/calls.lua $scale" "bench/cdata.lua $scale field"; do
            # shellcheck disable=SC2086  # the script and its arguments
            LUA_CPATH="${ffi[$arch]}/?.so;${dir[$arch]}/?.so" \
                JITFFI_BENCH_CALLEE="${dir[$arch]}/libcallee.so" \
                "${lua[$arch]}" $script | awk -v arch="$arch" '/^RESULT/ { print arch, $2, $3 }' >>"$results"
        done
    done
done
# Medians, and the ratio of the ffi to each binding per architecture.
sort -k1,1 -k2,2 -k3,3g "$results" | awk '
    { key = $1 " " $2; v[key, ++n[key]] = $3; if (!(key in seen)) { seen[key] = 1; keys[++k] = key } }
    END {
        for (i = 1; i <= k; i++) { key = keys[i]; m = n[key]; med[key] = (m % 2) ? v[key, (m + 1) / 2] : (v[key, m / 2] + v[key, m / 2 + 1]) / 2 }
        printf "%-8s %-14s %-6s %12s %12s %7s\n", "arch", "workload", "floor", "ffi s/op", "floor s/op", "ratio"
        for (i = 1; i <= k; i++) {
            split(keys[i], p, " "); split(p[2], w, "/")
            if (w[2] == "ffi") continue
            f = p[1] " " w[1] "/ffi"
            if (f in med) printf "%-8s %-14s %-6s %12.3e %12.3e %7.2f\n", p[1], w[1], w[2], med[f], med[keys[i]], med[f] / med[keys[i]]
        }
    }'
