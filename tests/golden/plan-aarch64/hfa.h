// Homogeneous floating-point aggregates (§5.9.5): up to four members of one float type
// (a complex number counts two), one v register each (C.2); an HFA that does not fit
// goes to the stack and closes the v registers for the rest of the call (C.3).
// plan: void two_and_three(struct f2, struct f3)
// plan: void four_and_four(struct f4, struct d4)
// plan: void nested(struct nest)
// plan: void complexes(_Complex float, struct cf, _Complex double, _Complex long double)
// plan: void quads(struct ld2)
// plan: void not_homogeneous(struct fd, struct fpad, union ufd)
// plan: void five_floats(struct f5)
// plan: void closes_v_registers(double, double, double, double, double, double, struct h3d, double, float)
// plan: struct h3d returns_hfa(void)
// plan: struct ld2 returns_quads(void)
struct f2 { float a, b; };
struct f3 { float a, b, c; };
struct f4 { float v[4]; };
struct f5 { float v[5]; };
struct d4 { double a, b, c, d; };
struct h3d { double a, b, c; };
struct ld2 { long double a, b; };
struct nest { struct { float x, y; } p; float z; };
struct cf { _Complex float z; float w; };
struct fd { float f; double d; };
struct fpad { float f; _Alignas(8) float g; };
union ufd { float f; double d; };
