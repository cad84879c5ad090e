/* A register probe for tests/lua/arg_extension.lua: regprobe_args is an assembly
 * function that stores the raw 64-bit integer argument registers it received (rdi,
 * rsi, rdx, rcx, r8, r9) and its first two stack argument slots, exactly as the caller
 * left them, so that the test sees what the caller extended and how, not what a C
 * callee would re-derive from the low bits (gcc's callees re-extend narrow arguments
 * themselves, so a C fixture cannot tell). Lua declares it under many prototypes with
 * asm labels. regprobe_gcc_* are the same calls made by gcc, to compare with.
 * x86-64 System V and AArch64 (x0-x7: regprobe_reg(0..7) are the eight registers). */
#include <stdbool.h>
#include <stdint.h>

/* Hidden, so that the assembly can address it relative to rip from a shared object. */
__attribute__((visibility("hidden"))) uint64_t regprobe_saved[8];

#if defined(__x86_64__)
__asm__(".text\n"
        ".globl regprobe_args\n"
        ".type regprobe_args, @function\n"
        "regprobe_args:\n"
        "    movq %rdi, regprobe_saved+0(%rip)\n"
        "    movq %rsi, regprobe_saved+8(%rip)\n"
        "    movq %rdx, regprobe_saved+16(%rip)\n"
        "    movq %rcx, regprobe_saved+24(%rip)\n"
        "    movq %r8, regprobe_saved+32(%rip)\n"
        "    movq %r9, regprobe_saved+40(%rip)\n"
        "    movq 8(%rsp), %rax\n"
        "    movq %rax, regprobe_saved+48(%rip)\n"
        "    movq 16(%rsp), %rax\n"
        "    movq %rax, regprobe_saved+56(%rip)\n"
        "    xorl %eax, %eax\n"
        "    ret\n"
        ".size regprobe_args, .-regprobe_args\n");

/* regprobe_result(f): calls f() and returns rax as f left it, all 64 bits, so that the
 * test sees how a callback extends a narrow result. */
__asm__(".text\n"
        ".globl regprobe_result\n"
        ".type regprobe_result, @function\n"
        "regprobe_result:\n"
        "    subq $8, %rsp\n"
        "    movabsq $0x5a5a5a5a5a5a5a5a, %rax\n"
        "    callq *%rdi\n"
        "    addq $8, %rsp\n"
        "    ret\n"
        ".size regprobe_result, .-regprobe_result\n");
#elif defined(__aarch64__)
/* AArch64: the eight argument registers x0-x7 (all eight probe arguments travel in
 * registers here, so no stack slot is read). */
__asm__(".text\n"
        ".globl regprobe_args\n"
        ".type regprobe_args, %function\n"
        "regprobe_args:\n"
        "    adrp x9, regprobe_saved\n"
        "    add x9, x9, :lo12:regprobe_saved\n"
        "    stp x0, x1, [x9]\n"
        "    stp x2, x3, [x9, #16]\n"
        "    stp x4, x5, [x9, #32]\n"
        "    stp x6, x7, [x9, #48]\n"
        "    mov w0, #0\n"
        "    ret\n"
        ".size regprobe_args, .-regprobe_args\n");

/* regprobe_result(f): calls f() and returns x0 as f left it, all 64 bits. */
__asm__(".text\n"
        ".globl regprobe_result\n"
        ".type regprobe_result, %function\n"
        "regprobe_result:\n"
        "    stp x29, x30, [sp, #-16]!\n"
        "    mov x29, sp\n"
        "    mov x9, x0\n"
        "    mov x0, #0x5a5a\n"
        "    movk x0, #0x5a5a, lsl #16\n"
        "    movk x0, #0x5a5a, lsl #32\n"
        "    movk x0, #0x5a5a, lsl #48\n"
        "    blr x9\n"
        "    ldp x29, x30, [sp], #16\n"
        "    ret\n"
        ".size regprobe_result, .-regprobe_result\n");
#else
#error "regprobe.c: no probe for this architecture"
#endif

/* Register i (x86-64: 0 rdi ... 5 r9, 6 and 7 the stack slots; AArch64: x0-x7) of the
 * last regprobe_args call. */
uint64_t regprobe_reg(int i) { return regprobe_saved[i]; }

/* Fills every slot with a pattern, so that a slot the caller did not write is seen. */
void regprobe_poison(void) {
    for (int i = 0; i < 8; i++) regprobe_saved[i] = 0x5a5a5a5a5a5a5a5aull;
}

/* The same probe called by gcc with narrow arguments, for the test to print what gcc
 * passes next to what jitffi passes. */
void regprobe_args(int8_t, uint8_t, int16_t, uint16_t, bool, int32_t, int8_t, uint8_t);
void regprobe_gcc_narrow(int8_t a, uint8_t b, int16_t c, uint16_t d, bool e, int32_t f,
                         int8_t g, uint8_t h) {
    regprobe_args(a, b, c, d, e, f, g, h);
}
