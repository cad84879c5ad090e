// More arguments than registers: the seventh integer and ninth floating-point
// arguments on, in the outgoing stack area in order (psABI 3.2.3).
// plan: long many(long, long, long, long, long, long, long, double, double, double, double, double, double, double, double, double, int8_t)
long many(long, long, long, long, long, long, long, double, double, double, double,
          double, double, double, double, double, int8_t);
