// layout: struct p1
// layout: struct al
// layout: aint
#pragma pack(push, 2)
struct p1 { char a; double b; int c; };
#pragma pack(pop)
typedef int aint __attribute__((aligned(16)));
struct al { char a; aint b; char c __attribute__((aligned(8))); } __attribute__((aligned(32)));
