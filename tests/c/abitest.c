// Calls beyond LuaJIT's (tests/lua/abi_calls.lua): structs passed by value to a variadic
// function, and over-aligned structs passed on the stack after an odd number of stack
// slots, both ways (calls and callbacks).
//
// Every callee records each field it received, in order, as a double (abi_seen) and
// returns a checksum of them. The abi_gcc_* functions make the very calls the Lua test
// makes through the ffi, from code gcc compiled: the test compares the two checksums
// and every recorded field, so gcc is the reference for where each byte travels.
#include <stdarg.h>

struct abi_i2 { int a, b; };                               // INTEGER
struct abi_d2 { double x, y; };                            // SSE, SSE
struct abi_f3 { float x, y, z; };                          // SSE, SSE
struct abi_mix { long l; double d; };                      // INTEGER, SSE
struct abi_fi { float f; int i; };                         // INTEGER (merged)
struct abi_big { long a, b, c; };                          // MEMORY (over 16 bytes)
struct abi_ld { long double x; };                          // X87, X87UP: memory
struct abi_a16 { _Alignas(16) int x; };                    // INTEGER, NO_CLASS; 16-aligned
struct abi_p16 { long a, b; } __attribute__((aligned(16))); // INTEGER, INTEGER; 16-aligned
struct abi_a32 { _Alignas(32) int x; int y; };             // MEMORY, 32-aligned (gcc notes
                                                           // that 4.6 changed how it passes)

static double seen[64];
static int nseen;
static int sum;

static void reset(void) {
    nseen = 0;
    sum = 0;
}

// Records one received value (values are small, exact multiples of 1/8).
static void see(double v) {
    if (nseen < 64) seen[nseen++] = v;
    sum = (int)((sum * 31L + (long)(v * 8)) % 1000000007L);
}

double abi_seen(int i) { return i >= 0 && i < nseen ? seen[i] : -12345; }
int abi_seen_count(void) { return nseen; }

// long double values to and from Lua, which has no number conversion for them.
long double abi_ld_of(double x) { return x; }
double abi_ld_value(long double x) { return (double)x; }
double abi_ld_field(struct abi_ld s) { return (double)s.x; }

// A printf-like callee: one letter of `fmt` per extra argument says its type.
int abi_va(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    reset();
    for (const char *c = fmt; *c; c++) {
        switch (*c) {
        case 'i': see(va_arg(ap, int)); break;
        case 'd': see(va_arg(ap, double)); break;
        case 'e': see((double)va_arg(ap, long double)); break;
        case 'I': { struct abi_i2 s = va_arg(ap, struct abi_i2); see(s.a); see(s.b); break; }
        case 'D': { struct abi_d2 s = va_arg(ap, struct abi_d2); see(s.x); see(s.y); break; }
        case 'F': {
            struct abi_f3 s = va_arg(ap, struct abi_f3);
            see(s.x); see(s.y); see(s.z);
            break;
        }
        case 'M': { struct abi_mix s = va_arg(ap, struct abi_mix); see(s.l); see(s.d); break; }
        case 'X': { struct abi_fi s = va_arg(ap, struct abi_fi); see(s.f); see(s.i); break; }
        case 'B': {
            struct abi_big s = va_arg(ap, struct abi_big);
            see(s.a); see(s.b); see(s.c);
            break;
        }
        case 'L': { struct abi_ld s = va_arg(ap, struct abi_ld); see((double)s.x); break; }
        case 'A': { struct abi_a16 s = va_arg(ap, struct abi_a16); see(s.x); break; }
        case 'P': { struct abi_p16 s = va_arg(ap, struct abi_p16); see(s.a); see(s.b); break; }
        case 'W': { struct abi_a32 s = va_arg(ap, struct abi_a32); see(s.x); see(s.y); break; }
        case 'p': { struct abi_i2 *s = va_arg(ap, struct abi_i2 *); see(s->a); see(s->b); break; }
        default: see(-999); break;
        }
    }
    va_end(ap);
    return sum;
}

// Every kind of small struct in registers; only structs use vector registers, so the
// callee's prologue saves xmm0-7 only if %al says they are used.
int abi_gcc_va_regs(void) {
    return abi_va("IDFMX", (struct abi_i2){1, -2}, (struct abi_d2){3.5, -4.25},
                  (struct abi_f3){5.5, 6.5, -7.5}, (struct abi_mix){8, 9.125},
                  (struct abi_fi){10.5, -11});
}

// Seven doubles leave one vector register: the two-SSE struct goes to the stack whole,
// and the double after it still takes xmm7. Integer registers run out the same way.
int abi_gcc_va_exhausted(void) {
    return abi_va("dddddddDdiiiiIiI", 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0,
                  (struct abi_d2){8.5, 9.5}, 10.0, 11, 12, 13, 14,
                  (struct abi_i2){15, 16}, 17, (struct abi_i2){18, 19});
}

// Memory-class and over-aligned structs after an odd number of stack slots.
int abi_gcc_va_stack(void) {
    return abi_va("iiiiiiAiPBLiWe", 1, 2, 3, 4, 5, 6, (struct abi_a16){7}, 8,
                  (struct abi_p16){9, 10}, (struct abi_big){11, 12, 13},
                  (struct abi_ld){14.5L}, 15, (struct abi_a32){16, 17}, 18.25L);
}

// A 32-aligned struct first on the stack: gcc aligns its stack pointer to 32 for the
// call, and va_arg rounds the address of the struct up to 32.
int abi_gcc_va_a32(void) { return abi_va("W", (struct abi_a32){16, 17}); }

int abi_gcc_va_i2(void) { return abi_va("I", (struct abi_i2){1, -2}); }

// A pointer to a struct, what LuaJIT passes for a struct cdata among the extra arguments.
int abi_gcc_va_pointer(void) {
    struct abi_i2 s = {21, -22};
    return abi_va("p", &s);
}

// The same over-aligned structs in registers: the NO_CLASS half of abi_a16 takes none.
int abi_gcc_va_aligned_regs(void) {
    return abi_va("AiP", (struct abi_a16){-1}, 2, (struct abi_p16){3, -4});
}

// ---- fixed parameters on the stack -------------------------------------------------------

#define SIX long r1, long r2, long r3, long r4, long r5, long r6
#define SEE_SIX see(r1); see(r2); see(r3); see(r4); see(r5); see(r6)

int abi_stack_a16(SIX, long s7, struct abi_a16 a, int after) {
    reset(); SEE_SIX; see(s7); see(a.x); see(after);
    return sum;
}

int abi_stack_p16(SIX, long s7, struct abi_p16 p, int after) {
    reset(); SEE_SIX; see(s7); see(p.a); see(p.b); see(after);
    return sum;
}

int abi_stack_ld(SIX, long s7, struct abi_ld l, int s9, long double e, int after) {
    reset(); SEE_SIX; see(s7); see((double)l.x); see(s9); see((double)e); see(after);
    return sum;
}

int abi_stack_a32(SIX, long s7, struct abi_a32 w, int after) {
    reset(); SEE_SIX; see(s7); see(w.x); see(w.y); see(after);
    return sum;
}

int abi_regs_a16(struct abi_a16 a, int b, struct abi_a16 c, struct abi_p16 p) {
    reset(); see(a.x); see(b); see(c.x); see(p.a); see(p.b);
    return sum;
}

int abi_gcc_stack_a16(void) { return abi_stack_a16(1, 2, 3, 4, 5, 6, 7, (struct abi_a16){8}, 9); }
int abi_gcc_stack_p16(void) {
    return abi_stack_p16(1, 2, 3, 4, 5, 6, 7, (struct abi_p16){8, -9}, 10);
}
int abi_gcc_stack_ld(void) {
    return abi_stack_ld(1, 2, 3, 4, 5, 6, 7, (struct abi_ld){8.5L}, 9, 10.75L, 11);
}
int abi_gcc_stack_a32(void) {
    return abi_stack_a32(1, 2, 3, 4, 5, 6, 7, (struct abi_a32){8, 9}, 10);
}
int abi_gcc_regs_a16(void) {
    return abi_regs_a16((struct abi_a16){1}, 2, (struct abi_a16){3}, (struct abi_p16){4, 5});
}

// ---- callbacks receiving such stack arguments -------------------------------------------

typedef int (*abi_cb_a16)(SIX, long s7, struct abi_a16 a, int after);
typedef int (*abi_cb_p16)(SIX, long s7, struct abi_p16 p, int after);
typedef int (*abi_cb_ld)(SIX, long s7, struct abi_ld l, int s9, long double e, int after);
typedef int (*abi_cb_a32)(SIX, long s7, struct abi_a32 w, int after);

int abi_call_cb_a16(abi_cb_a16 cb) { return cb(1, 2, 3, 4, 5, 6, 7, (struct abi_a16){8}, 9); }
int abi_call_cb_p16(abi_cb_p16 cb) {
    return cb(1, 2, 3, 4, 5, 6, 7, (struct abi_p16){8, -9}, 10);
}
int abi_call_cb_ld(abi_cb_ld cb) {
    return cb(1, 2, 3, 4, 5, 6, 7, (struct abi_ld){8.5L}, 9, 10.75L, 11);
}
int abi_call_cb_a32(abi_cb_a32 cb) {
    return cb(1, 2, 3, 4, 5, 6, 7, (struct abi_a32){8, 9}, 10);
}
