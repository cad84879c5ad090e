// Variadic calls: the variadic arguments get C's default promotions and are passed as
// if prototyped; %al carries the number of vector registers used (the
// "vector registers" count).
// varargs: double, int, const char *
// plan: int printf(const char *, ...)
// varargs: float, char, short
// plan: int printf(const char *, ...)
// varargs: double, double, double, double, double, double, double, double, double
// plan: int printf(const char *, ...)
// plan: int printf(const char *, ...)
