// long double and complex: long double is X87/X87UP, passed in memory (16 bytes,
// 16-aligned on the stack) and returned in st0; complex float packs both halves in one
// xmm register, complex double takes two; complex long double is COMPLEX_X87, passed in
// memory and returned in st0 and st1 (psABI 3.2.3).
// plan: long double ld(int, long double, double)
// plan: double after_ld(long double, long double, int)
// plan: float _Complex cf(float _Complex, int)
// plan: double _Complex cd(double _Complex, double _Complex)
// plan: long double _Complex cld(long double _Complex)
// plan: void struct_with_ld(struct with_ld)
struct with_ld { long double x; };
