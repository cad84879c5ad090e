//! The Windows x64 classifier (Microsoft Learn, "x64 calling convention") on prototypes
//! whose passing the document spells out; each row names its rule. Not checked against
//! a compiler (no Windows toolchain here): the rows restate the document's examples.
//! `gpr0..3` are rcx, rdx, r8, r9; `vec0..3` xmm0-xmm3; the stack starts at 32, above
//! the shadow space.

mod common;

use common::Abi;
use jitffi_abi::Convention;
use jitffi_ctype::Target;

const DECLS: &str = r#"
typedef int i128 __attribute__((mode(TI)));
typedef float v4f __attribute__((vector_size(16)));
struct s1 { char c; };
struct s2 { short s; };
struct s3 { char c[3]; };
struct s4 { float f; };
struct s8 { int a, b; };
struct s12 { int a, b, c; };
struct d2 { double a, b; };
struct empty { };
"#;

const ABI: Abi = Abi {
    target: Target::Win64,
    convention: Convention::Win64,
    decls: DECLS,
};

#[test]
fn four_slots_shared_by_position() {
    ABI.check(
        "Parameter passing: func1(int a, int b, int c, int d, int e) — a in RCX, b in \
         RDX, c in R8, d in R9, e pushed on stack",
        "void (int, int, int, int, int)",
        &[],
        "arg 1: s32@0 gpr0\narg 2: s32@0 gpr1\narg 3: s32@0 gpr2\narg 4: s32@0 gpr3\n\
         arg 5: s32@0 stack+32\nresult: void\nstack: 40 bytes",
    );
    ABI.check(
        "func2(float a, double b, float c, double d, float e) — a in XMM0, b in XMM1, c \
         in XMM2, d in XMM3, e pushed on stack",
        "void (float, double, float, double, float)",
        &[],
        "arg 1: f32@0 vec0\narg 2: f64@0 vec1\narg 3: f32@0 vec2\narg 4: f64@0 vec3\n\
         arg 5: f32@0 stack+32\nresult: void\nstack: 40 bytes",
    );
    ABI.check(
        "func3(int a, double b, int c, float d, int e, float f) — a in RCX, b in XMM1, c \
         in R8, d in XMM3, e and f pushed on stack",
        "void (int, double, int, float, int, float)",
        &[],
        "arg 1: s32@0 gpr0\narg 2: f64@0 vec1\narg 3: s32@0 gpr2\narg 4: f32@0 vec3\n\
         arg 5: s32@0 stack+32\narg 6: f32@0 stack+40\nresult: void\nstack: 48 bytes",
    );
    ABI.check(
        "the shadow space is reserved even with no argument",
        "int (void)",
        &[],
        "result: s32@0 gpr0\nstack: 32 bytes",
    );
}

#[test]
fn aggregates_not_of_1_2_4_8_bytes_go_by_reference() {
    ABI.check(
        "Structs and unions of size 8, 16, 32, or 64 bits are passed as if they were \
         integers of the same size (a float struct too)",
        "void (struct s1, struct s2, struct s4, struct s8)",
        &[],
        "arg 1: i8@0 gpr0\narg 2: i16@0 gpr1\narg 3: i32@0 gpr2\narg 4: i64@0 gpr3\n\
         result: void\nstack: 32 bytes",
    );
    ABI.check(
        "Structs or unions of other sizes are passed as a pointer to memory allocated by \
         the caller; __m128 is never passed by immediate value",
        "void (struct s3, struct s12, v4f, struct d2, struct d2)",
        &[],
        "arg 1: copy of 3 bytes (align 1), address in gpr0\n\
         arg 2: copy of 12 bytes (align 4), address in gpr1\n\
         arg 3: copy of 16 bytes (align 16), address in gpr2\n\
         arg 4: copy of 16 bytes (align 8), address in gpr3\n\
         arg 5: copy of 16 bytes (align 8), address in stack+32\n\
         result: void\nstack: 40 bytes",
    );
    ABI.check(
        "long double is double; long is 4 bytes (LLP64)",
        "long (long double, long, unsigned long)",
        &[],
        "arg 1: f64@0 vec0\narg 2: s32@0 gpr1\narg 3: u32@0 gpr2\nresult: s32@0 gpr0\n\
         stack: 32 bytes",
    );
}

#[test]
fn results() {
    ABI.check(
        "Return values: a struct of 1, 2, 4 or 8 bytes in RAX",
        "struct s8 (void)",
        &[],
        "result: i64@0 gpr0\nstack: 32 bytes",
    );
    ABI.check(
        "Return values: floats and __m128 in XMM0",
        "v4f (double)",
        &[],
        "arg 1: f64@0 vec0\nresult: v128@0 vec0\nstack: 32 bytes",
    );
    ABI.check(
        "Return values: otherwise the caller passes a buffer's address in RCX and the \
         other arguments shift one slot",
        "struct s12 (int, double, int, int)",
        &[],
        "arg 1: s32@0 gpr1\narg 2: f64@0 vec2\narg 3: s32@0 gpr3\narg 4: s32@0 stack+32\n\
         result: memory 12 bytes, address in gpr0\nstack: 40 bytes",
    );
    assert!(Convention::Win64.returns_result_address());
}

#[test]
fn variadic_floats_are_mirrored_in_integer_registers() {
    ABI.check(
        "Varargs: for floating-point values only, both the integer register and the \
         floating-point register must contain the value",
        "int (const char *, ...)",
        &["double", "int", "double", "double"],
        "arg 1: i64@0 gpr0\narg 2: f64@0 vec1, i64@0 gpr1\narg 3: s32@0 gpr2\n\
         arg 4: f64@0 vec3, i64@0 gpr3\narg 5: f64@0 stack+32\nresult: s32@0 gpr0\n\
         stack: 40 bytes",
    );
    let facts = Convention::Win64.variadic();
    assert!(facts.floats_in_gprs && !facts.vector_count && !facts.all_on_stack);
}

#[test]
fn types_without_a_rule_are_errors() {
    assert_eq!(
        ABI.plan("void (i128)", &[]),
        "error: cannot pass a value of type 'int128_t'"
    );
    assert_eq!(
        ABI.plan("void (struct empty)", &[]),
        "error: cannot pass an empty aggregate 'struct empty'"
    );
}
