// The stack (§6.8.2 C.4-C.6, C.14-C.17): 8-byte slots for scalars (a float or char
// takes 8 bytes), a multiple of 16 for quads, __int128 and HFAs of quads; composites
// copied whole in multiples of 8.
// plan: void floats_and_quad(double, double, double, double, double, double, double, double, int, long double, float, char)
// plan: void int128_on_stack(long, long, long, long, long, long, long, int128_t, int)
// plan: void composites(long, long, long, long, long, long, long, long, struct c3, struct df, char)
// plan: void quad_hfa(long double, long double, long double, long double, long double, long double, long double, struct ld2, double)
typedef int int128_t __attribute__((mode(TI)));
struct c3 { char c[3]; };
struct df { double d; float f; };
struct ld2 { long double a, b; };
