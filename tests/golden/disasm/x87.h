// A `long double` argument (16 bytes in memory) and result (x87 st0, pushed by the
// generic result helper).
// plan: long double ldexpl(long double, int)
long double ldexpl(long double, int);
