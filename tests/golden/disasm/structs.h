// Call stubs for structs by value: a 16-byte struct in two vector registers both ways,
// and a 24-byte struct copied to the stack with its result in memory through the
// hidden pointer in rdi (psABI 3.2.3).
// plan: struct vec2 vec2_add(struct vec2, struct vec2)
// plan: struct big big_scale(struct big, int)
struct vec2 { double x, y; };
struct big { long a, b, c; };
struct vec2 vec2_add(struct vec2, struct vec2);
struct big big_scale(struct big, int);
