// layout: struct bits
// layout: struct packed_bits
struct bits { char a; unsigned b:3, c:7; int :0; short d:4; long long e:40; _Bool f:1; };
struct packed_bits { char a; int b:30; unsigned c:4; } __attribute__((packed));
