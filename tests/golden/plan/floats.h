// float and double in xmm registers (SSE class), results in xmm0.
// plan: double scale(float, double, float, double)
// plan: float returns_float(double)
// plan: void mixed(int, double, unsigned char, float, const char *)
