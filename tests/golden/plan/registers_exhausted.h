// More arguments than registers (6 integer, 8 vector): the rest go to 8-byte stack
// slots in order; an aggregate whose eightbytes do not all fit goes wholly to the stack
// and later arguments may still take registers (psABI 3.2.3, "Parameter Passing").
// plan: long eight_ints(int, int, int, int, int, int, int, long)
// plan: double ten_doubles(double, double, double, double, double, double, double, double, float, double)
// plan: void split_pair(int, int, int, int, int, struct two_longs, int)
struct two_longs { long a, b; };
