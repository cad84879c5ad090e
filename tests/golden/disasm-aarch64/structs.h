// AArch64 call stubs for composites (AAPCS64 6.8.2): an HFA of two doubles in d0-d1 both
// ways; an HFA of four floats in s0-s3; a 12-byte struct in x0/x1; a 24-byte struct by
// reference to the stub's copy (B.4) with a result of the same type through x8 (6.9).
// plan: struct vec2 vec2_add(struct vec2, struct vec2)
// plan: float quad_sum(struct quad)
// plan: struct three three_make(int, int, int)
// plan: struct big big_scale(struct big, int)
struct vec2 { double x, y; };
struct quad { float a, b, c, d; };
struct three { int a, b, c; };
struct big { long a, b, c; };
struct vec2 vec2_add(struct vec2, struct vec2);
float quad_sum(struct quad);
struct three three_make(int, int, int);
struct big big_scale(struct big, int);
