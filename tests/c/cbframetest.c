/* C side of tests/lua/cbframe.lua: functions that call a function pointer (given as
 * `void *`, as a cbframe's `.p` is passed) with known arguments of various signatures
 * and return what it returned, so that the Lua callback can check where each argument
 * arrived and set the result by hand. */
#include <stdint.h>

/* Integer-class arguments of every width in registers, with a string and a pointer. */
int64_t cf_ints(void *f) {
    return ((int64_t (*)(int, unsigned char, short, long long, const char *, void *))f)(
        -5, 200, -300, 1LL << 40, "hello", (void *)0x1234);
}

/* Vector-class arguments between integer ones: each class counts its own registers. */
double cf_floats(void *f) {
    return ((double (*)(double, int, float, double, int))f)(1.5, 7, 2.25f, -4.75, 8);
}

/* Eight integers then ten doubles: the 7th and 8th integers and the 9th and 10th
 * doubles go on the stack, in that order. */
long long cf_stack(void *f) {
    return ((long long (*)(long long, long long, long long, long long, long long, long long,
                           long long, long long, double, double, double, double, double,
                           double, double, double, double, double))f)(
        1, 2, 3, 4, 5, 6, 7, 8, 0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5, 8.5, 9.5);
}

/* A variadic call as C makes it: the format, then promoted values (%al holds the
 * number of vector registers used). 7 ints and 10 doubles spill past the registers. */
double cf_variadic(void *f) {
    return ((double (*)(const char *, ...))f)("isdfiiiiiiddddddddd", 11, "str", 2.5,
        (double)0.25f, 12, 13, 14, 15, 16, 17, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0);
}

struct cf_pair { double x; int y; };
struct cf_big { long a, b, c; };

/* Structs by value: one split over xmm0 and rdi, one copied onto the stack. */
long cf_structs(void *f) {
    struct cf_pair p = { 2.5, -7 };
    struct cf_big b = { 100, 200, 300 };
    return ((long (*)(struct cf_pair, int, struct cf_big))f)(p, 9, b);
}

/* Results the callback sets: a struct in xmm0 + rax, a struct returned through the
 * hidden pointer, a float, a small signed integer, a bool. */
struct cf_pair cf_ret_pair(void *f) { return ((struct cf_pair (*)(int))f)(3); }
long cf_ret_big_sum(void *f) {
    struct cf_big b = ((struct cf_big (*)(int))f)(4);
    return b.a + b.b + b.c;
}
float cf_ret_float(void *f) { return ((float (*)(void))f)(); }
int cf_ret_int8(void *f) { return ((int8_t (*)(void))f)(); }
int cf_ret_bool(void *f) { return ((_Bool (*)(void))f)() ? 1 : 0; }

/* Recursion through C: f(n) may call cf_recurse again. */
int cf_recurse(void *f, int n) { return ((int (*)(int))f)(n); }

/* Calls f twice, for :set between calls from Lua. */
int cf_call_int(void *f, int x) { return ((int (*)(int))f)(x); }

/* Calls f() with callee-saved registers and a caller-saved one set to known values and
 * the carry flag clear, and stores what they and the carry flag hold right after it
 * returns into out[0..3]: the state a cbframe callback leaves is the one its caller
 * sees. The callee-saved ones are saved and restored here (in assembly, so that the
 * compiler makes no assumption about them across the call).
 * x86-64: rbx = 0x1111..., r12 = 0x1212..., r10 = 0x1010...
 * AArch64: x19 = 0x1111..., x20 = 0x1212..., x9 = 0x1010... */
void cf_registers(void *f, uint64_t *out);
#if defined(__x86_64__)
__asm__(
    ".text\n"
    ".globl cf_registers\n"
    ".type cf_registers, @function\n"
    "cf_registers:\n"
    "    push %rbx\n"
    "    push %r12\n"
    "    push %r13\n" /* rsp is 16-aligned again */
    "    mov %rsi, %r13\n"
    "    mov %rdi, %rax\n"
    "    movabs $0x1111111111111111, %rbx\n"
    "    movabs $0x1212121212121212, %r12\n"
    "    movabs $0x1010101010101010, %r10\n"
    "    clc\n"
    "    call *%rax\n"
    "    setc %cl\n"
    "    movzbq %cl, %rcx\n"
    "    mov %rbx, 0(%r13)\n"
    "    mov %r12, 8(%r13)\n"
    "    mov %r10, 16(%r13)\n"
    "    mov %rcx, 24(%r13)\n"
    "    pop %r13\n"
    "    pop %r12\n"
    "    pop %rbx\n"
    "    ret\n"
    ".size cf_registers, .-cf_registers\n");
#elif defined(__aarch64__)
__asm__(
    ".text\n"
    ".globl cf_registers\n"
    ".type cf_registers, %function\n"
    "cf_registers:\n"
    "    stp x29, x30, [sp, #-48]!\n"
    "    mov x29, sp\n"
    "    stp x19, x20, [sp, #16]\n"
    "    str x21, [sp, #32]\n"
    "    mov x21, x1\n"
    "    mov x11, x0\n"
    "    mov x19, #0x1111\n"
    "    movk x19, #0x1111, lsl #16\n"
    "    movk x19, #0x1111, lsl #32\n"
    "    movk x19, #0x1111, lsl #48\n"
    "    mov x20, #0x1212\n"
    "    movk x20, #0x1212, lsl #16\n"
    "    movk x20, #0x1212, lsl #32\n"
    "    movk x20, #0x1212, lsl #48\n"
    "    mov x9, #0x1010\n"
    "    movk x9, #0x1010, lsl #16\n"
    "    movk x9, #0x1010, lsl #32\n"
    "    movk x9, #0x1010, lsl #48\n"
    "    msr nzcv, xzr\n"
    "    blr x11\n"
    "    cset x10, cs\n"
    "    stp x19, x20, [x21]\n"
    "    stp x9, x10, [x21, #16]\n"
    "    ldr x21, [sp, #32]\n"
    "    ldp x19, x20, [sp, #16]\n"
    "    ldp x29, x30, [sp], #48\n"
    "    ret\n"
    ".size cf_registers, .-cf_registers\n");
#else
#error "cbframetest.c: no cf_registers for this architecture"
#endif
