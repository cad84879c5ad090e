// Structs and unions of up to 16 bytes, classified eightbyte by eightbyte (psABI 3.2.3,
// "Classification"): INTEGER when any field in the eightbyte is an integer, SSE when
// all are floating point; padding-only eightbytes pass nothing.
// plan: void int_float(struct int_float)
// plan: void double_int(struct double_int)
// plan: void floats(struct two_floats_double)
// plan: struct double_int returns_double_int(struct int_float)
// plan: struct two_floats_double returns_sse_pair(void)
// plan: void small(struct small, union int_or_float)
// plan: struct vec3 returns_vec3(struct vec3)
// plan: void nothing_to_pass(struct empty, int)
struct int_float { int i; float f; };
struct double_int { double d; int i; };
struct two_floats_double { float a, b; double c; };
struct small { char c; short s; };
union int_or_float { int i; float f; };
struct vec3 { float v[3]; };
struct empty { };
