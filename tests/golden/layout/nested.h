// layout: struct outer
// layout: union u
struct inner { short x, y; };
struct outer {
  int a;
  struct inner in;
  union { double d; char bytes[8]; };
  struct { char c; long double ld; } named;
  char tail[];
};
union u { char c; int i; struct inner s[3]; };
