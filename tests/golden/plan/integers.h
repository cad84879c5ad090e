// Integers of each width (psABI 3.2.3: INTEGER class, rdi rsi rdx rcx r8 r9). The
// caller extends narrower values: sign for signed types, zero for unsigned and _Bool.
// plan: void narrow(signed char, unsigned char, short, unsigned short, int, unsigned int)
// plan: long wide(long, unsigned long long, _Bool, enum level, void *, int (*)(int))
// plan: unsigned char returns_u8(void)
// plan: short returns_s16(void)
// plan: _Bool returns_bool(void)
// plan: enum level returns_enum(char)
enum level { LOW = -1, HIGH = 1 };
