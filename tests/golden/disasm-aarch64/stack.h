// More arguments than registers: the ninth integer and ninth floating-point arguments
// on, in the outgoing stack area in 8-byte slots in order (AAPCS64 6.8.2 C.12-C.16).
// plan: long many(long, long, long, long, long, long, long, long, double, double, double, double, double, double, double, double, double, int8_t)
long many(long, long, long, long, long, long, long, long, double, double, double, double,
          double, double, double, double, double, int8_t);
