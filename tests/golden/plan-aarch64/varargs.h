// Variadic calls on Linux: the variadic arguments (after C's default promotions) are
// passed exactly like named ones (§6.8.2); nothing like x86-64's %al count is passed.
// varargs: double, struct h3d, long double, char
// plan: int printf(const char *, ...)
// varargs: double, double, double, double, double, double, double, double, double, float
// plan: int printf(const char *, ...)
// plan: int printf(const char *, ...)
struct h3d { double a, b, c; };
