/* Bitfield structs for tests/lua/bitfield_writes.lua: gcc is the reference for their
 * layout and for what a write of each field does to the bytes around it. The
 * declarations are written once, in BF_DECLS, compiled here and handed to the test as
 * text (bf_cdef) for ffi.cdef. For every field f of struct S, bf_set_S_f(p, v) does
 * `p->f = v` and bf_get_S_f(p) returns `p->f`, as compiled code does them. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BF_DECLS                                                                          \
    struct bf_plain { unsigned a : 3, b : 5, c : 1, d : 7; unsigned e : 16; int f : 4; };   \
    struct bf_mixed {                                                                    \
        signed char x : 3; int y : 5; short z : 9; long long w : 33;                     \
        unsigned long long v : 31; unsigned char u : 8;                                  \
    };                                                                                   \
    struct bf_zero {                                                                     \
        char c; int a : 4; int : 0; int b : 12; unsigned char u : 2; bool t : 1;         \
        int : 3; uint16_t s : 7;                                                         \
    };                                                                                   \
    struct __attribute__((packed)) bf_packed {                                           \
        char c; unsigned a : 13; unsigned long long b : 40; unsigned d : 3; int e : 9;  \
    };                                                                                   \
    struct bf_bytes {                                                                    \
        uint8_t a : 1, b : 1, c : 1, d : 1, e : 1, f : 1, g : 1, h : 1;                  \
        uint16_t i : 15; int64_t j : 63; uint64_t k : 64; int8_t l : 1;                  \
    };                                                                                   \
    struct bf_wide { int a : 31; int b : 31; int c : 2; long long d : 60; unsigned e : 32; }; \
    struct bf_aligned {                                                                  \
        char c; int a : 6 __attribute__((aligned(8))); unsigned b : 10;                  \
        long long d : 20 __attribute__((packed)); unsigned e : 30;                       \
    };

BF_DECLS

#define BF_STR_(...) #__VA_ARGS__
#define BF_STR(...) BF_STR_(__VA_ARGS__)
const char *bf_cdef = BF_STR(BF_DECLS);

#define FIELD(S, f)                                                                       \
    void bf_set_##S##_##f(struct S *p, long long v) { p->f = v; }                         \
    long long bf_get_##S##_##f(const struct S *p) { return (long long)p->f; }
#define SIZE(S) size_t bf_sizeof_##S(void) { return sizeof(struct S); }

SIZE(bf_plain) FIELD(bf_plain, a) FIELD(bf_plain, b) FIELD(bf_plain, c) FIELD(bf_plain, d)
FIELD(bf_plain, e) FIELD(bf_plain, f)
SIZE(bf_mixed) FIELD(bf_mixed, x) FIELD(bf_mixed, y) FIELD(bf_mixed, z) FIELD(bf_mixed, w)
FIELD(bf_mixed, v) FIELD(bf_mixed, u)
SIZE(bf_zero) FIELD(bf_zero, c) FIELD(bf_zero, a) FIELD(bf_zero, b) FIELD(bf_zero, u)
FIELD(bf_zero, t) FIELD(bf_zero, s)
SIZE(bf_packed) FIELD(bf_packed, c) FIELD(bf_packed, a) FIELD(bf_packed, b) FIELD(bf_packed, d)
FIELD(bf_packed, e)
SIZE(bf_bytes) FIELD(bf_bytes, a) FIELD(bf_bytes, b) FIELD(bf_bytes, c) FIELD(bf_bytes, d)
FIELD(bf_bytes, e) FIELD(bf_bytes, f) FIELD(bf_bytes, g) FIELD(bf_bytes, h) FIELD(bf_bytes, i)
FIELD(bf_bytes, j) FIELD(bf_bytes, k) FIELD(bf_bytes, l)
SIZE(bf_wide) FIELD(bf_wide, a) FIELD(bf_wide, b) FIELD(bf_wide, c) FIELD(bf_wide, d)
FIELD(bf_wide, e)
SIZE(bf_aligned) FIELD(bf_aligned, c) FIELD(bf_aligned, a) FIELD(bf_aligned, b)
FIELD(bf_aligned, d) FIELD(bf_aligned, e)
