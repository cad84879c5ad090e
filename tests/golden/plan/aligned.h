// Over-aligned values on the stack: after an odd number of 8-byte slots, a value
// aligned to 16 or more starts at the next multiple of its alignment (a padding slot
// before it), whole, padding eightbytes included; beyond 16 the stack pointer at the
// call is aligned to it too (psABI 3.2.3 "Passing": "align and pass the argument on
// the stack"; gcc's placement, tests/c/abitest.c). In registers, an eightbyte of padding
// only (NO_CLASS) takes none.
// plan: void a16_after_odd(long, long, long, long, long, long, long, struct a16, int)
// plan: void p16_after_odd(long, long, long, long, long, long, long, struct p16, int)
// plan: void ld_after_odd(long, long, long, long, long, long, long, struct ld, int, long double)
// plan: void a32_after_odd(long, long, long, long, long, long, long, struct a32, int)
// plan: void a16_in_registers(struct a16, int, struct p16)
// Structs among a variadic call's extra arguments pass as prototyped ones (psABI 3.5.7):
// in registers when all their eightbytes fit, else whole on the stack; %al counts the
// vector registers. (The ffi passes a struct cdata there as a pointer, LuaJIT's rule; it
// passes by value through a prototype that names the struct before the `...`.)
// varargs: struct d2, struct a16, struct big, double
// plan: int printf(const char *, ...)
// varargs: double, double, double, double, double, double, double, struct d2, double, struct a32
// plan: int printf(const char *, ...)
struct a16 { _Alignas(16) int x; };
struct p16 { long a, b; } __attribute__((aligned(16)));
struct ld { long double x; };
struct a32 { _Alignas(32) int x; int y; };
struct d2 { double x, y; };
struct big { long a, b, c; };
