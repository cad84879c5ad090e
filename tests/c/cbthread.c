/* For tests/lua/callback_refused.lua: calls a callback on a new OS thread, where jitffi
 * refuses it, with its struct result returned in memory made explicit (on x86-64 System
 * V, `struct cbt_big f(int)` is `struct cbt_big *f(struct cbt_big *hidden, int)`; on
 * AArch64 the buffer's address goes in x8, set in assembly below), so that the buffer
 * can hold a pattern before the call. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>

struct cbt_big { int64_t v[5]; };
typedef struct cbt_big *(*cbt_raw)(struct cbt_big *, int);

struct cbt_job {
    cbt_raw fn;
    struct cbt_big buffer;
    struct cbt_big *returned;
};

#if defined(__aarch64__)
/* cbt_call_x8(fn, buffer, x): fn(x) with x8 = buffer (AAPCS64 §6.9: the result's memory
 * is the caller's, its address in x8; the callee need not return it). */
__attribute__((visibility("hidden"))) void cbt_call_x8(void *fn, struct cbt_big *buffer, int x);
__asm__(".text\n"
        ".globl cbt_call_x8\n"
        ".hidden cbt_call_x8\n"
        ".type cbt_call_x8, %function\n"
        "cbt_call_x8:\n"
        "    stp x29, x30, [sp, #-16]!\n"
        "    mov x29, sp\n"
        "    mov x9, x0\n"
        "    mov x8, x1\n"
        "    mov w0, w2\n"
        "    blr x9\n"
        "    ldp x29, x30, [sp], #16\n"
        "    ret\n"
        ".size cbt_call_x8, .-cbt_call_x8\n");
#endif

static void *cbt_run(void *arg) {
    struct cbt_job *job = arg;
#if defined(__aarch64__)
    /* No address comes back on AArch64: the call returning is all there is to see. */
    cbt_call_x8((void *)job->fn, &job->buffer, 7);
    job->returned = &job->buffer;
#else
    job->returned = job->fn(&job->buffer, 7);
#endif
    return NULL;
}

/* Calls `fn` (a `struct cbt_big (*)(int)`) with 7, on a new thread if `threaded`, into a
 * buffer filled with 0x5a bytes; copies the buffer to `out`. Returns 1 if the callee
 * returned the buffer's address (as x86-64's ABI requires; always on AArch64, whose ABI
 * returns none), 0 if not, -1 if no thread. */
int cbt_call_big(void *fn, int threaded, struct cbt_big *out) {
    struct cbt_job job;
    job.fn = (cbt_raw)fn;
    memset(&job.buffer, 0x5a, sizeof job.buffer);
    job.returned = NULL;
    if (threaded) {
        pthread_t thread;
        if (pthread_create(&thread, NULL, cbt_run, &job) != 0) return -1;
        pthread_join(thread, NULL);
    } else {
        cbt_run(&job);
    }
    *out = job.buffer;
    return job.returned == &job.buffer;
}

/* The same for `int (*)(int)`: its result, on a new thread. */
static void *cbt_run_int(void *arg) {
    int (*fn)(int) = (int (*)(int))((void **)arg)[0];
    ((intptr_t *)arg)[1] = fn(7);
    return NULL;
}
int cbt_call_int_threaded(void *fn) {
    void *slots[2] = { fn, (void *)(intptr_t)-1 };
    pthread_t thread;
    if (pthread_create(&thread, NULL, cbt_run_int, slots) != 0) return -1;
    pthread_join(thread, NULL);
    return (int)(intptr_t)slots[1];
}
