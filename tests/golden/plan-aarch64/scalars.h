// AAPCS64 scalars (§6.8.2 stage C): integers and pointers in x0-x7 (C.9), float,
// double, quad long double and short vectors in v0-v7 (C.1); __int128 in an even pair
// (C.10, C.11). A narrow integer carries the extension a jitffi caller applies (gcc's
// callers leave the upper bits unspecified and its callees narrow). `char` is unsigned.
// plan: int integers(char, signed char, unsigned short, int, long, bool, void *)
// plan: double floats(float, double, int, long double)
// plan: long double quad(long double, long double)
// plan: void int128(int, int128_t, int)
// plan: int128_t returns_int128(void)
// plan: v4f vectors(v2f, v4f)
typedef int int128_t __attribute__((mode(TI)));
typedef float v2f __attribute__((vector_size(8)));
typedef float v4f __attribute__((vector_size(16)));
