/* Functions the call tests (tests/lua/calls.lua, tests/diff/calls.lua) call: each
 * returns something that proves it received every argument intact. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <complex.h>

int8_t ct_i8(int8_t x) { return (int8_t)(x - 1); }
uint8_t ct_u8(uint8_t x) { return (uint8_t)(x + 1); }
int16_t ct_i16(int16_t x) { return (int16_t)(x - 1); }
uint16_t ct_u16(uint16_t x) { return (uint16_t)(x + 1); }
int32_t ct_i32(int32_t x) { return x - 1; }
uint32_t ct_u32(uint32_t x) { return x + 1; }
int64_t ct_i64(int64_t x) { return x - 1; }
uint64_t ct_u64(uint64_t x) { return x + 1; }
bool ct_not(bool b) { return !b; }
float ct_f32(float x) { return x * 2.0f; }
double ct_f64(double x) { return x * 2.0; }
/* The callee sees the value widened as the ABI says: proves sign/zero extension. */
int64_t ct_widen_i8(int8_t x) { return x; }
int64_t ct_widen_u16(uint16_t x) { return x; }
int64_t ct_widen_i32(int32_t x) { return x; }

enum ct_color { CT_RED = 1, CT_GREEN = 2, CT_BLUE = -3 };
int ct_color_value(enum ct_color c) { return (int)c * 10; }
enum ct_color ct_next_color(enum ct_color c) { return c == CT_RED ? CT_GREEN : CT_BLUE; }

const char *ct_echo(const char *s) { return s; }
size_t ct_len(const char *s) { return s ? strlen(s) : (size_t)-1; }
int *ct_null(void) { return 0; }
int ct_deref(const int *p) { return p ? *p : -1; }
void ct_fill(int *p, int n) { for (int i = 0; i < n; i++) p[i] = i * i; }
void ct_nothing(void) {}

int ct_set_errno(int e) { errno = e; return -1; }

/* Many arguments: 12 integers and 12 doubles, interleaved. */
double ct_many(int a1, double b1, int a2, double b2, int a3, double b3, int a4, double b4,
               int a5, double b5, int a6, double b6, int a7, double b7, int a8, double b8,
               int a9, double b9, int a10, double b10, int a11, double b11, int a12, double b12) {
    return a1 + 2.0 * a2 + 3.0 * a3 + 4.0 * a4 + 5.0 * a5 + 6.0 * a6 + 7.0 * a7 + 8.0 * a8 +
           9.0 * a9 + 10.0 * a10 + 11.0 * a11 + 12.0 * a12 +
           100 * (b1 + 2 * b2 + 3 * b3 + 4 * b4 + 5 * b5 + 6 * b6 + 7 * b7 + 8 * b8 + 9 * b9 +
                  10 * b10 + 11 * b11 + 12 * b12);
}
/* Small integers past the registers: on the stack, each in its own 8-byte slot. */
int64_t ct_stack_small(int a, int b, int c, int d, int e, int f, int8_t g, uint16_t h, int32_t i) {
    return a + b + c + d + e + f + g * 1000 + h * 100000LL + i * 1000000000LL;
}

/* Aggregates by value: INTEGER, SSE, mixed, MEMORY, arrays, packed, unions. */
struct ct_ii { int a, b; };
struct ct_dd { double x, y; };
struct ct_id { int a; double x; };
struct ct_fff { float a, b, c; };
struct ct_big { int64_t a, b, c; };
struct ct_arr { char tag; short v[3]; };
struct __attribute__((packed)) ct_packed { char c; int i; };
union ct_u { int i; float f; };
struct ct_nested { struct ct_ii in; float f; };

int ct_ii_sum(struct ct_ii s) { return s.a * 10 + s.b; }
double ct_dd_sum(struct ct_dd s) { return s.x * 10 + s.y; }
double ct_id_sum(struct ct_id s) { return s.a * 10 + s.x; }
double ct_fff_sum(struct ct_fff s) { return s.a * 100 + s.b * 10 + s.c; }
int64_t ct_big_sum(struct ct_big s) { return s.a * 100 + s.b * 10 + s.c; }
int ct_arr_sum(struct ct_arr s) { return s.tag * 1000 + s.v[0] * 100 + s.v[1] * 10 + s.v[2]; }
int ct_packed_sum(struct ct_packed s) { return s.c * 1000 + s.i; }
int ct_union_int(union ct_u u) { return u.i; }
double ct_nested_sum(struct ct_nested s) { return s.in.a * 100 + s.in.b * 10 + s.f; }
/* After six integer registers are used, a struct that needs two goes to the stack. */
int ct_ii_after_regs(int a, int b, int c, int d, int e, struct ct_ii s) {
    return a + b + c + d + e + s.a * 10 + s.b;
}

struct ct_ii ct_ii_make(int a, int b) { struct ct_ii s = { a, b }; return s; }
struct ct_dd ct_dd_make(double x, double y) { struct ct_dd s = { x, y }; return s; }
struct ct_id ct_id_make(int a, double x) { struct ct_id s = { a, x }; return s; }
struct ct_fff ct_fff_make(float a, float b, float c) { struct ct_fff s = { a, b, c }; return s; }
struct ct_big ct_big_make(int64_t a, int64_t b, int64_t c) { struct ct_big s = { a, b, c }; return s; }
struct ct_packed ct_packed_make(char c, int i) { struct ct_packed s = { c, i }; return s; }

double complex ct_cmul(double complex a, double complex b) { return a * b; }
float complex ct_cmulf(float complex a, float complex b) { return a * b; }

/* Varargs: a count, then that many (type, value) pairs; types 'i' int, 'l' int64,
 * 'd' double, 's' string. Returns a checksum. */
double ct_vsum(const char *types, ...) {
    va_list ap;
    double sum = 0;
    va_start(ap, types);
    for (int k = 0; types[k]; k++) {
        double w = k + 1;
        switch (types[k]) {
        case 'i': sum += w * va_arg(ap, int); break;
        case 'l': sum += w * (double)va_arg(ap, int64_t); break;
        case 'd': sum += w * va_arg(ap, double); break;
        case 's': sum += w * (double)strlen(va_arg(ap, const char *)); break;
        case 'p': sum += w * (va_arg(ap, void *) == 0 ? 7 : 9); break;
        }
    }
    va_end(ap);
    return sum;
}

typedef int (*ct_binop)(int, int);
static int ct_add(int a, int b) { return a + b; }
static int ct_mul(int a, int b) { return a * b; }
ct_binop ct_pick(int which) { return which ? ct_mul : ct_add; }
int ct_apply(ct_binop f, int a, int b) { return f(a, b); }
