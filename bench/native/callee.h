/* The functions of bench/native/callee.c, for the C bindings that call them. The same
 * declarations are given to ffi.cdef in bench/calls.lua and bench/callbacks.lua. */
#ifndef BENCH_CALLEE_H
#define BENCH_CALLEE_H

#include <stdint.h>

struct vec2 {
    double x, y;
};

int add(int a, int b);
double mixed6(int8_t a, uint16_t b, int64_t c, float d, double e, const char *s);
struct vec2 vec2_add(struct vec2 a, struct vec2 b);
int call_repeatedly(int (*f)(int, int), int n);

#endif
