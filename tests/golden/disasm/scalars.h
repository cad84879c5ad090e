// Call stubs for scalars: integers fetched by width and extended, `float` and `double`
// in vector registers, integer and floating-point results pushed by one API call.
// plan: int add(int, int)
// plan: double mix(float, double, int8_t, uint16_t)
int add(int, int);
double mix(float, double, int8_t, uint16_t);
