// Call stubs of variadic calls: the stub of the concrete type (fixed parameters, then
// the promoted extra arguments), with %al holding the number of vector registers.
// varargs: double, char, const char *
// plan: int printf(const char *, ...)
// plan: int printf(const char *, ...)
int printf(const char *, ...);
