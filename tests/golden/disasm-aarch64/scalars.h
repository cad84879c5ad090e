// AArch64 call stubs for scalars: integers in x0-x7 fetched by width and extended (the
// helper extends to 64 bits, which satisfies gcc's callees and Apple's rule alike),
// `float` and `double` in s and d registers, results pushed by one API call.
// plan: int add(int, int)
// plan: double mix(float, double, int8_t, uint16_t)
// plan: float half(float)
int add(int, int);
double mix(float, double, int8_t, uint16_t);
float half(float);
