/* The test library of the namespace tests (tests/lua/namespace.lua,
 * tests/diff/namespace.lua): variables to read and write through ffi.load and ffi.C,
 * functions to resolve, one of them exported under an asm label. Built by
 * tests/c/build.sh into target/testlib/libjitffi_nstest.so. */

int nstest_counter = 7;
double nstest_scale = 1.5;
const int nstest_fixed = 11;
struct nstest_point { int x, y; } nstest_origin = { 1, 2 };
int nstest_table[4] = { 10, 20, 30, 40 };
const char *nstest_name = "nstest";
int *nstest_null = 0;
long long nstest_big = 1234567890123LL;

int nstest_add(int a, int b) { return a + b; }

/* Exported as "nstest_sym_sub", declared to Lua under another name with __asm__. */
int nstest_sub(int a, int b) __asm__("nstest_sym_sub");
int nstest_sub(int a, int b) { return a - b; }

int nstest_bump(void) { return ++nstest_counter; }
