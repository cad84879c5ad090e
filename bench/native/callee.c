/*
 * callee: the C functions the call benchmarks call (bench/calls.lua), built by
 * `cargo xtask bench` into target/bench/libcallee.so. The ffi reaches them through
 * `ffi.load(path, true)` (so `ffi.C.add` resolves too); the hand-written binding
 * bench/native/cbind_calls.c links against the same library, so both pay the same
 * call through the PLT into the same code.
 *
 * The bodies are trivial on purpose: what is measured is the cost of getting the
 * arguments from Lua into registers and the result back. `strlen` is libc's.
 * `call_repeatedly` is the other direction, for the callback benchmarks
 * (bench/callbacks.lua): C calling a function pointer that leads into Lua.
 */
#include <stdint.h>

#include "callee.h"

int add(int a, int b) {
    return a + b;
}

/* Each argument travels in its own register class and width: dil (sign-extended),
 * si (zero-extended), rdx, xmm0 (float), xmm1, rcx. */
double mixed6(int8_t a, uint16_t b, int64_t c, float d, double e, const char *s) {
    return (double)a + (double)b + (double)c + (double)d + e + (double)(unsigned char)s[0];
}

/* Two SSE eightbytes in and out: xmm0:xmm1 for each argument and for the result. */
struct vec2 vec2_add(struct vec2 a, struct vec2 b) {
    struct vec2 sum = {a.x + b.x, a.y + b.y};
    return sum;
}

/* acc = f(acc, 1), n times, from acc = 0: n calls of the function pointer in a plain C
 * loop, which cannot be inlined or hoisted. Returns n when f adds. */
int call_repeatedly(int (*f)(int, int), int n) {
    int acc = 0;
    for (int i = 0; i < n; i++)
        acc = f(acc, 1);
    return acc;
}
