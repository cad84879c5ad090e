// Other composites: up to 16 bytes in consecutive x registers (C.12), starting at an
// even register when their natural alignment (the largest member alignment, not an
// aligned attribute on the struct itself) is 16 (C.10); never split between registers
// and the stack (C.13); larger ones by reference to a caller copy (B.4), and returned
// through x8 (gpr8), which is not an argument register.
// plan: void small(struct i2, struct l2, struct c3, struct df)
// plan: void even_pair(int, struct ma, struct sa)
// plan: void packed(int, struct pk)
// plan: void not_split(long, long, long, long, long, long, long, struct ma, long)
// plan: void by_reference(long, long, long, long, long, long, long, struct big, struct big)
// plan: struct big returns_big(long)
// plan: struct c3 returns_small(void)
// plan: struct empty nothing_to_pass(struct empty, int)
struct i2 { int a, b; };
struct l2 { long a, b; };
struct c3 { char c[3]; };
struct df { double d; float f; };
struct big { long a, b, c; };
struct sa { long a, b; } __attribute__((aligned(16)));
struct ma { _Alignas(16) long a; long b; };
struct pk { char c; long l; } __attribute__((packed));
struct empty { };
