// What does not go in registers: aggregates over 16 bytes and unaligned fields are
// MEMORY (psABI 3.2.3 rules 1 and 3), copied to the stack as arguments; a MEMORY result
// comes back through a buffer whose address the caller passes in rdi (the hidden first
// argument), so the visible arguments start at rsi.
// plan: void big_arg(int, struct big, double)
// plan: struct big returns_big(int, struct big)
// plan: struct packed_pair returns_packed(struct packed_pair)
// plan: void over_aligned(int, struct aligned32)
struct big { long a, b, c; };
#pragma pack(1)
struct packed_pair { char c; double d; };
#pragma pack()
struct aligned32 { double d[4]; } __attribute__((aligned(32)));
