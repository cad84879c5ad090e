/* Functions the callback tests (tests/diff/callbacks.lua, tests/lua/callbacks.lua) give
 * Lua functions to: each calls the callback it receives with known arguments and returns
 * (or records) what the callback returned, so that Lua can check both directions. */
#include <complex.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Basics: one call, many calls, a callback kept and called later. */
int cb_call_int(int (*f)(int, int), int a, int b) { return f(a, b); }
int cb_sum_calls(int (*f)(int), int n) {
    int sum = 0;
    for (int i = 0; i < n; i++) sum += f(i);
    return sum;
}
struct cb_holder { int (*fn)(int); int base; };
void cb_hold(struct cb_holder *h, int (*f)(int), int base) { h->fn = f; h->base = base; }
int cb_call_held(const struct cb_holder *h, int x) { return h->fn(h->base + x); }
static int (*cb_registered)(int);
void cb_register(int (*f)(int)) { cb_registered = f; }
int cb_fire(int x) { return cb_registered ? cb_registered(x) : -1; }
void cb_void(void (*f)(int), int x) { f(x * 2); }
/* A callback made by C from a callback: C calls what Lua returned. */
typedef int (*cb_unop)(int);
int cb_call_returned(cb_unop (*pick)(int), int which, int x) { return pick(which)(x); }
int cb_twice(int x) { return 2 * x; }

/* Every scalar type through the callback and back: what C sees of the result. */
#define CB_PASS(name, type) \
    type cb_pass_##name(type (*f)(type), type x) { return f(x); }
CB_PASS(i8, int8_t)
CB_PASS(u8, uint8_t)
CB_PASS(i16, int16_t)
CB_PASS(u16, uint16_t)
CB_PASS(i32, int32_t)
CB_PASS(u32, uint32_t)
CB_PASS(i64, int64_t)
CB_PASS(u64, uint64_t)
CB_PASS(bool, bool)
CB_PASS(f32, float)
CB_PASS(f64, double)
CB_PASS(char, char)
CB_PASS(ulong, unsigned long)
CB_PASS(ptr, void *)
enum cb_color { CB_RED = 1, CB_GREEN = 2, CB_BLUE = -3 };
CB_PASS(enum, enum cb_color)
/* Narrow results as C reads them after the call, widened by C itself. */
int64_t cb_widen_i8(int8_t (*f)(void)) { return f(); }
int64_t cb_widen_u16(uint16_t (*f)(void)) { return f(); }
/* Strings and pointers as arguments. */
size_t cb_with_string(size_t (*f)(const char *), const char *s) { return f(s); }
const char *cb_string_result(const char *(*f)(int), int n) { return f(n); }
int cb_null_arg(int (*f)(void *)) { return f(NULL); }
/* The callback reads and writes n ints through the pointer; C returns their sum after. */
int cb_with_array(void (*f)(int *, int), int n) {
    int a[16] = { 0 };
    if (n > 16) n = 16;
    for (int i = 0; i < n; i++) a[i] = i + 1;
    f(a, n);
    int sum = 0;
    for (int i = 0; i < n; i++) sum += a[i];
    return sum;
}

/* Many arguments: past the six integer and eight vector registers, onto the stack. */
int64_t cb_many_ints(int64_t (*f)(int, int, int, int, int, int, int, int, int, int)) {
    return f(1, 2, 3, 4, 5, 6, 7, 8, 9, 10);
}
double cb_many_doubles(double (*f)(double, double, double, double, double, double,
                                   double, double, double, double, double, double)) {
    return f(0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5, 10.5, 11.5);
}
/* 16 arguments (LuaJIT's most), integers and doubles interleaved. */
double cb_mixed(double (*f)(int, double, int, double, int, double, int, double,
                            int, double, int, double, int, double, int, double)) {
    return f(1, 0.25, 2, 0.5, 3, 0.75, 4, 1.0, 5, 1.25, 6, 1.5, 7, 1.75, 8, 2.0);
}
/* Small integers and a float on the stack, each in its own 8-byte slot. */
int64_t cb_stack_small(int64_t (*f)(int, int, int, int, int, int, int8_t, uint16_t, int32_t,
                                    float, bool)) {
    return f(1, 2, 3, 4, 5, 6, -7, 65535, -100000, 2.5f, true);
}

/* Structs and unions by value (jitffi only: LuaJIT cannot make these callbacks). */
struct cb_vec2 { double x, y; };
struct cb_vec2 cb_apply_vec2(struct cb_vec2 (*f)(struct cb_vec2, struct cb_vec2),
                             struct cb_vec2 a, struct cb_vec2 b) {
    return f(a, b);
}
struct cb_ii { int a, b; };
struct cb_id { int a; double x; };
struct cb_fff { float a, b, c; };
struct cb_big { int64_t a, b, c; };
struct __attribute__((packed)) cb_packed { char c; int i; };
union cb_u { int i; float f; };
struct cb_nested { struct cb_ii in; float f; };
int cb_ii_in(int (*f)(struct cb_ii), int a, int b) { struct cb_ii s = { a, b }; return f(s); }
int cb_ii_out(struct cb_ii (*f)(int, int), int a, int b) {
    struct cb_ii s = f(a, b);
    return s.a * 1000 + s.b;
}
double cb_id_in(double (*f)(struct cb_id), int a, double x) { struct cb_id s = { a, x }; return f(s); }
double cb_id_out(struct cb_id (*f)(int, double), int a, double x) {
    struct cb_id s = f(a, x);
    return s.a * 1000 + s.x;
}
double cb_fff_round(struct cb_fff (*f)(struct cb_fff), float a, float b, float c) {
    struct cb_fff s = { a, b, c };
    s = f(s);
    return s.a * 10000.0 + s.b * 100.0 + s.c;
}
/* More than 16 bytes: in memory both ways (the result through a hidden pointer). */
int64_t cb_big_round(struct cb_big (*f)(struct cb_big, int), int64_t a, int64_t b, int64_t c) {
    struct cb_big s = { a, b, c };
    s = f(s, 7);
    return s.a * 10000 + s.b * 100 + s.c;
}
int cb_packed_round(struct cb_packed (*f)(struct cb_packed), char c, int i) {
    struct cb_packed s = { c, i };
    s = f(s);
    return s.c * 1000 + s.i;
}
float cb_union_round(union cb_u (*f)(union cb_u), float x) {
    union cb_u u;
    u.f = x;
    u = f(u);
    return u.f;
}
double cb_nested_round(struct cb_nested (*f)(struct cb_nested), int a, int b, float x) {
    struct cb_nested s = { { a, b }, x };
    s = f(s);
    return s.in.a * 10000.0 + s.in.b * 100.0 + s.f;
}
/* Aggregates after the registers are used up: on the stack. */
double cb_structs_on_stack(double (*f)(int, int, int, int, int, int, struct cb_ii,
                                       double, double, double, double, double, double,
                                       double, double, struct cb_vec2, struct cb_big)) {
    struct cb_ii ii = { 7, 8 };
    struct cb_vec2 v = { 0.5, 0.25 };
    struct cb_big big = { 100, 200, 300 };
    return f(1, 2, 3, 4, 5, 6, ii, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, v, big);
}
/* 20 arguments of every class. */
double cb_twenty(double (*f)(int8_t, double, struct cb_ii, float, int64_t, struct cb_vec2,
                             uint16_t, double, bool, float, struct cb_id, int, double,
                             double, double, double, double, double, int, double)) {
    struct cb_ii ii = { -1, -2 };
    struct cb_vec2 v = { 3.5, -4.5 };
    struct cb_id id = { 9, 0.125 };
    return f(-5, 1.5, ii, 2.5f, 1LL << 40, v, 65000, -6.5, true, 7.25f, id, 11, 12.5, 13.5,
             14.5, 15.5, 16.5, 17.5, 18, 19.5);
}

/* Shapes the x86-64 classification treats specially (gcc as the oracle): a struct of one
 * long double is X87 + X87UP (an argument in memory, the result in st0); a packed struct
 * with a complex float at an odd offset has an unaligned field: MEMORY both ways. */
struct cb_ld1 { long double x; };
double cb_ld1_round(struct cb_ld1 (*f)(struct cb_ld1, int), double x) {
    struct cb_ld1 s = { x };
    s = f(s, 3);
    return (double)s.x;
}
#pragma pack(push, 1)
struct cb_pcf { char c; float complex z; };
#pragma pack(pop)
double cb_pcf_round(struct cb_pcf (*f)(struct cb_pcf), char c, float re, float im) {
    struct cb_pcf s = { c, CMPLXF(re, im) };
    s = f(s);
    return s.c * 100.0 + crealf(s.z) * 10.0 + cimagf(s.z);
}

/* long double and complex (jitffi only). Lua cannot read a long double: the callback
 * gives it to cb_ld_scale and returns what that returns. */
long double cb_ld_scale(long double x, int n) { return x * n; }
double cb_ld_round(long double (*f)(long double, int), double x) { return (double)f(x, 3); }
double complex cb_complex_round(double complex (*f)(double complex, float complex),
                                double re, double im) {
    return f(CMPLX(re, im), CMPLXF(1.5f, -2.0f));
}
float complex cb_complexf_out(float complex (*f)(float), float x) { return f(x); }

/* Errors inside callbacks: the callback's result as C saw it, and whether C went on after
 * the call (jitffi gives C a zeroed result and raises the error when the C call returns). */
static int cb_last_int = -1;
static double cb_last_double = -1;
static struct cb_big cb_last_big = { -1, -1, -1 };
static int cb_returns;
int cb_guarded(int (*f)(int), int x) {
    cb_last_int = f(x);
    cb_returns++;
    return cb_last_int + 1000;
}
double cb_guarded_double(double (*f)(double), double x) {
    cb_last_double = f(x);
    cb_returns++;
    return cb_last_double;
}
int64_t cb_guarded_big(struct cb_big (*f)(void)) {
    cb_last_big = f();
    cb_returns++;
    return cb_last_big.a + cb_last_big.b + cb_last_big.c;
}
int cb_last_result(void) { return cb_last_int; }
double cb_last_double_result(void) { return cb_last_double; }
int64_t cb_last_big_sum(void) { return cb_last_big.a + cb_last_big.b + cb_last_big.c; }
int cb_return_count(void) { return cb_returns; }

/* A callback called on another OS thread (jitffi refuses to run it there: C gets 0). */
struct cb_thread_call { int (*f)(int); int x; int result; };
static void *cb_thread_main(void *arg) {
    struct cb_thread_call *call = arg;
    call->result = call->f(call->x);
    return NULL;
}
int cb_call_in_thread(int (*f)(int), int x) {
    struct cb_thread_call call = { f, x, -1 };
    pthread_t thread;
    if (pthread_create(&thread, NULL, cb_thread_main, &call) != 0) return -2;
    pthread_join(thread, NULL);
    return call.result;
}
