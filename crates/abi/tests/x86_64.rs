//! The x86-64 System V classifier on prototypes whose passing the psABI (§3.2.3) spells
//! out; each case names the rule it checks. The expected text is `CallPlan`'s Display:
//! one line per argument, then the result and the stack size.

mod common;

use common::Abi;
use jitffi_abi::Convention;
use jitffi_ctype::Target;

const DECLS: &str = r#"
struct i2 { int a, b; };
struct d2 { double a, b; };
struct f3 { float a, b, c; };
struct mix { double d; long l; };
struct lmix { long l; float f; };
struct fi { float f; int i; };
struct big { long a, b, c; };
struct c1 { char c; };
struct c12 { char c[12]; };
struct nested { struct { float x, y; } p; double z; };
struct arr { float v[4]; };
struct pk { char c; int i; } __attribute__((packed));
struct pk_al { int a; int b; } __attribute__((packed));
struct ld { long double x; };
struct pkz { char c; float _Complex z; } __attribute__((packed));
struct empty { };
union ud { double d; long l; };
union fd { float f; double d; };
struct bits { int a : 3; unsigned b : 30; };
struct v16 { float __attribute__((vector_size(16))) v; };
struct undefined_s;
struct a16 { _Alignas(16) int x; };
struct p16 { long a, b; } __attribute__((aligned(16)));
struct a32 { _Alignas(32) int x; int y; };
struct a64 { _Alignas(64) char c; };
"#;

const ABI: Abi = Abi {
    target: Target::X86_64SysV,
    convention: Convention::SysV64,
    decls: DECLS,
};

#[track_caller]
fn check(proto: &str, expected: &str) {
    ABI.check("psABI §3.2.3", proto, &[], expected);
}

#[test]
fn scalars_take_registers_in_order() {
    // §3.2.3: INTEGER class in the next of rdi, rsi, rdx, rcx, r8, r9; SSE in xmm0-7;
    // narrow integers carry their extension.
    check(
        "int (char, unsigned short, int, long, bool, void *)",
        "arg 1: s8@0 gpr0\narg 2: u16@0 gpr1\narg 3: s32@0 gpr2\narg 4: i64@0 gpr3\n\
         arg 5: u8@0 gpr4\narg 6: i64@0 gpr5\nresult: s32@0 gpr0\nstack: 0 bytes",
    );
    check(
        "double (float, double, int, float)",
        "arg 1: f32@0 vec0\narg 2: f64@0 vec1\narg 3: s32@0 gpr0\narg 4: f32@0 vec2\n\
         result: f64@0 vec0\nstack: 0 bytes",
    );
}

#[test]
fn arguments_beyond_registers_go_to_8_byte_stack_slots() {
    // §3.2.3: once the registers of a class run out, arguments go on the stack in order,
    // each in an eightbyte slot, while the other class keeps its registers.
    check(
        "void (int, int, int, int, int, int, int, double, char, int)",
        "arg 1: s32@0 gpr0\narg 2: s32@0 gpr1\narg 3: s32@0 gpr2\narg 4: s32@0 gpr3\n\
         arg 5: s32@0 gpr4\narg 6: s32@0 gpr5\narg 7: s32@0 stack+0\narg 8: f64@0 vec0\n\
         arg 9: s8@0 stack+8\narg 10: s32@0 stack+16\nresult: void\nstack: 24 bytes",
    );
    let nine_doubles = ABI.plan(
        "void (double, double, double, double, double, double, double, double, double, float)",
        &[],
    );
    assert!(
        nine_doubles.contains("arg 8: f64@0 vec7\narg 9: f64@0 stack+0\narg 10: f32@0 stack+8"),
        "{nine_doubles}"
    );
}

#[test]
fn small_aggregates_split_into_eightbytes() {
    // §3.2.3 Classification: each eightbyte of an aggregate of up to 16 bytes gets the
    // merged class of its fields.
    check(
        "void (struct i2)",
        "arg 1: i64@0 gpr0\nresult: void\nstack: 0 bytes",
    );
    check(
        "void (struct d2)",
        "arg 1: f64@0 vec0, f64@8 vec1\nresult: void\nstack: 0 bytes",
    );
    check(
        "void (struct f3)",
        "arg 1: f64@0 vec0, f32@8 vec1\nresult: void\nstack: 0 bytes",
    );
    check(
        "void (struct mix)",
        "arg 1: f64@0 vec0, i64@8 gpr0\nresult: void\nstack: 0 bytes",
    );
    check(
        "void (struct lmix)",
        "arg 1: i64@0 gpr0, f64@8 vec0\nresult: void\nstack: 0 bytes",
    );
    // A float and an int share an eightbyte: INTEGER wins (rule 4c).
    check(
        "void (struct fi)",
        "arg 1: i64@0 gpr0\nresult: void\nstack: 0 bytes",
    );
    check(
        "void (struct c1)",
        "arg 1: i8@0 gpr0\nresult: void\nstack: 0 bytes",
    );
    check(
        "void (struct c12)",
        "arg 1: i64@0 gpr0, i32@8 gpr1\nresult: void\nstack: 0 bytes",
    );
    check(
        "void (struct nested)",
        "arg 1: f64@0 vec0, f64@8 vec1\nresult: void\nstack: 0 bytes",
    );
    check(
        "void (struct arr)",
        "arg 1: f64@0 vec0, f64@8 vec1\nresult: void\nstack: 0 bytes",
    );
    check(
        "void (union ud)",
        "arg 1: i64@0 gpr0\nresult: void\nstack: 0 bytes",
    );
    check(
        "void (union fd)",
        "arg 1: f64@0 vec0\nresult: void\nstack: 0 bytes",
    );
    check(
        "void (struct bits)",
        "arg 1: i64@0 gpr0\nresult: void\nstack: 0 bytes",
    );
    check(
        "void (struct v16)",
        "arg 1: v128@0 vec0\nresult: void\nstack: 0 bytes",
    );
    // §3.2.3 "Returning of Values": SSE then SSEUP come back in xmm0 alone.
    check("struct v16 (void)", "result: v128@0 vec0\nstack: 0 bytes");
    check(
        "void (complex float, complex double)",
        "arg 1: f64@0 vec0\narg 2: f64@0 vec1, f64@8 vec2\nresult: void\nstack: 0 bytes",
    );
}

#[test]
fn memory_class_aggregates_are_copied_to_the_stack() {
    // Rule 1: larger than 16 bytes; rule 3 (as gcc applies it): unaligned fields; X87
    // classes inside aggregates; all become MEMORY, copied into the argument area.
    check(
        "void (struct big, int)",
        "arg 1: memory 24 bytes stack+0\narg 2: s32@0 gpr0\nresult: void\nstack: 24 bytes",
    );
    check(
        "void (struct pk)",
        "arg 1: memory 5 bytes stack+0\nresult: void\nstack: 8 bytes",
    );
    check(
        "void (struct pk_al)",
        "arg 1: i64@0 gpr0\nresult: void\nstack: 0 bytes",
    );
    check(
        "void (int, struct ld)",
        "arg 1: s32@0 gpr0\narg 2: memory 16 bytes stack+0\nresult: void\nstack: 16 bytes",
    );
    // ... and returned like the long double it holds: X87, X87UP in st0.
    check("struct ld (void)", "result: x87 st0\nstack: 0 bytes");
    // An unaligned member of any type (here a complex float at offset 1) makes MEMORY.
    check(
        "struct pkz (struct pkz)",
        "arg 1: memory 9 bytes stack+0\nresult: memory 9 bytes, address in gpr0\nstack: 16 bytes",
    );
    // long double is X87 class: memory, 16-aligned (Figure 3.3).
    check(
        "void (int, int, int, int, int, int, int, long double)",
        "arg 1: s32@0 gpr0\narg 2: s32@0 gpr1\narg 3: s32@0 gpr2\narg 4: s32@0 gpr3\n\
         arg 5: s32@0 gpr4\narg 6: s32@0 gpr5\narg 7: s32@0 stack+0\n\
         arg 8: memory 16 bytes stack+16\nresult: void\nstack: 32 bytes",
    );
    check(
        "void (struct empty, int)",
        "arg 1: nothing\narg 2: s32@0 gpr0\nresult: void\nstack: 0 bytes",
    );
}

#[test]
fn an_aggregate_that_does_not_fit_the_remaining_registers_goes_whole_to_the_stack() {
    // §3.2.3: "If there are no registers available for any eightbyte of an argument, the
    // whole argument is passed on the stack" — and later arguments may still use
    // registers.
    check(
        "void (int, int, int, int, int, struct i2, struct c12, int)",
        "arg 1: s32@0 gpr0\narg 2: s32@0 gpr1\narg 3: s32@0 gpr2\narg 4: s32@0 gpr3\n\
         arg 5: s32@0 gpr4\narg 6: i64@0 gpr5\narg 7: memory 12 bytes stack+0\n\
         arg 8: s32@0 stack+16\nresult: void\nstack: 24 bytes",
    );
}

#[test]
fn results() {
    // §3.2.3 Returning of Values: INTEGER in rax then rdx, SSE in xmm0 then xmm1,
    // MEMORY through a hidden pointer in rdi returned in rax, X87 in st0.
    check("struct i2 (void)", "result: i64@0 gpr0\nstack: 0 bytes");
    check(
        "struct mix (void)",
        "result: f64@0 vec0, i64@8 gpr0\nstack: 0 bytes",
    );
    check(
        "struct c12 (void)",
        "result: i64@0 gpr0, i32@8 gpr1\nstack: 0 bytes",
    );
    check(
        "struct d2 (void)",
        "result: f64@0 vec0, f64@8 vec1\nstack: 0 bytes",
    );
    check(
        "struct big (int)",
        "arg 1: s32@0 gpr1\nresult: memory 24 bytes, address in gpr0\nstack: 0 bytes",
    );
    check("long double (void)", "result: x87 st0\nstack: 0 bytes");
    check(
        "complex long double (void)",
        "result: x87 st0, st1\nstack: 0 bytes",
    );
    check(
        "complex double (void)",
        "result: f64@0 vec0, f64@8 vec1\nstack: 0 bytes",
    );
    check("bool (void)", "result: u8@0 gpr0\nstack: 0 bytes");
}

#[test]
fn variadic_calls_count_vector_registers() {
    // §3.2.3: for a variadic call %al holds an upper bound of the vector registers used.
    assert_eq!(
        ABI.plan("int (const char *, ...)", &["double", "int", "double"]),
        "arg 1: i64@0 gpr0\narg 2: f64@0 vec0\narg 3: s32@0 gpr1\narg 4: f64@0 vec1\n\
         result: s32@0 gpr0\nstack: 0 bytes, vector registers: 2"
    );
}

#[test]
fn unpassable_types_are_errors_naming_the_type() {
    check(
        "void (void (int))",
        "arg 1: i64@0 gpr0\nresult: void\nstack: 0 bytes",
    );
    assert_eq!(
        ABI.plan("void (struct undefined_s)", &[]),
        "error: cannot pass incomplete 'struct undefined_s'"
    );
}

/// Six longs fill the integer registers and a seventh takes stack slot 0, so the next
/// stack argument starts after an odd number of slots.
const ODD: &str = "long, long, long, long, long, long, long";
const ODD_PLAN: &str = "arg 1: i64@0 gpr0\narg 2: i64@0 gpr1\narg 3: i64@0 gpr2\n\
    arg 4: i64@0 gpr3\narg 5: i64@0 gpr4\narg 6: i64@0 gpr5\narg 7: i64@0 stack+0\n";

#[test]
fn over_aligned_values_on_the_stack_start_at_an_aligned_offset() {
    // §3.2.3 "Passing": "If the class is MEMORY, align and pass the argument on the
    // stack", and an argument that finds no registers goes whole to the stack: a value
    // aligned beyond 8 starts at a multiple of its alignment, after a padding slot. gcc
    // (tests/c/abitest.c) uses the type's full alignment, 32 and 64 included, and then
    // aligns the stack pointer at the call to it too (its va_arg aligns the address).
    let after_odd = |arg: &str, rest: &str| {
        assert_eq!(
            ABI.plan(&format!("void ({ODD}, {arg}, int)"), &[]),
            format!("{ODD_PLAN}{rest}"),
            "{arg}"
        );
    };
    // INTEGER, NO_CLASS: the padding eightbyte travels too, 16 bytes at offset 16.
    after_odd(
        "struct a16",
        "arg 8: memory 16 bytes stack+16\narg 9: s32@0 stack+32\nresult: void\nstack: 40 bytes",
    );
    after_odd(
        "struct p16",
        "arg 8: memory 16 bytes stack+16\narg 9: s32@0 stack+32\nresult: void\nstack: 40 bytes",
    );
    // X87 class, as an aggregate and as a scalar.
    after_odd(
        "struct ld",
        "arg 8: memory 16 bytes stack+16\narg 9: s32@0 stack+32\nresult: void\nstack: 40 bytes",
    );
    after_odd(
        "struct a32",
        "arg 8: memory 32 bytes stack+32\narg 9: s32@0 stack+64\nresult: void\nstack: 72 bytes aligned to 32",
    );
    after_odd(
        "struct a64",
        "arg 8: memory 64 bytes stack+64\narg 9: s32@0 stack+128\nresult: void\nstack: 136 bytes aligned to 64",
    );
    // SSE, SSEUP with no vector register left: 16 bytes, 16-aligned.
    check(
        "void (double, double, double, double, double, double, double, double, int, int, \
         int, int, int, int, int, struct v16)",
        "arg 1: f64@0 vec0\narg 2: f64@0 vec1\narg 3: f64@0 vec2\narg 4: f64@0 vec3\n\
         arg 5: f64@0 vec4\narg 6: f64@0 vec5\narg 7: f64@0 vec6\narg 8: f64@0 vec7\n\
         arg 9: s32@0 gpr0\narg 10: s32@0 gpr1\narg 11: s32@0 gpr2\narg 12: s32@0 gpr3\n\
         arg 13: s32@0 gpr4\narg 14: s32@0 gpr5\narg 15: s32@0 stack+0\n\
         arg 16: memory 16 bytes stack+16\nresult: void\nstack: 32 bytes",
    );
}

#[test]
fn over_aligned_aggregates_in_registers_take_one_per_classed_eightbyte() {
    // §3.2.3 Classification: an eightbyte of padding only is NO_CLASS and takes no
    // register (gcc passes `struct a16` in one register).
    check(
        "void (struct a16, int, struct p16)",
        "arg 1: i64@0 gpr0\narg 2: s32@0 gpr1\narg 3: i64@0 gpr2, i64@8 gpr3\n\
         result: void\nstack: 0 bytes",
    );
}

#[test]
fn structs_in_the_variadic_part_pass_as_if_prototyped() {
    // §3.5.7 "Variable Argument Lists": va_arg reads a struct from the register save
    // area when all its eightbytes fit the registers left, else from the overflow area,
    // exactly where §3.2.3 puts a prototyped argument; %al counts the vector registers
    // the structs use.
    assert_eq!(
        ABI.plan(
            "int (const char *, ...)",
            &[
                "struct i2",
                "struct d2",
                "struct f3",
                "struct mix",
                "struct fi"
            ]
        ),
        "arg 1: i64@0 gpr0\narg 2: i64@0 gpr1\narg 3: f64@0 vec0, f64@8 vec1\n\
         arg 4: f64@0 vec2, f32@8 vec3\narg 5: f64@0 vec4, i64@8 gpr2\narg 6: i64@0 gpr3\n\
         result: s32@0 gpr0\nstack: 0 bytes, vector registers: 5"
    );
    // Seven doubles leave one vector register: the two-SSE struct goes whole to the
    // stack and the double after it still takes xmm7.
    let doubles = ["double"; 7];
    let mut extra: Vec<&str> = doubles.to_vec();
    extra.extend(["struct d2", "double", "struct big", "struct a16"]);
    assert_eq!(
        ABI.plan("int (const char *, ...)", &extra),
        "arg 1: i64@0 gpr0\narg 2: f64@0 vec0\narg 3: f64@0 vec1\narg 4: f64@0 vec2\n\
         arg 5: f64@0 vec3\narg 6: f64@0 vec4\narg 7: f64@0 vec5\narg 8: f64@0 vec6\n\
         arg 9: memory 16 bytes stack+0\narg 10: f64@0 vec7\narg 11: memory 24 bytes stack+16\n\
         arg 12: i64@0 gpr1\nresult: s32@0 gpr0\nstack: 40 bytes, vector registers: 8"
    );
}

#[test]
fn int128_is_two_integer_eightbytes() {
    // §3.2.3: "Arguments of type __int128 offer the same operations as INTEGERs, yet they
    // do not fit into one general purpose register but require two registers." A
    // 32-byte integer mode is MEMORY like any value over two eightbytes.
    check(
        "void (int, int __attribute__((mode(TI))))",
        "arg 1: s32@0 gpr0\narg 2: i64@0 gpr1, i64@8 gpr2\nresult: void\nstack: 0 bytes",
    );
    check(
        "void (int __attribute__((mode(OI))))",
        "arg 1: memory 32 bytes stack+0\nresult: void\nstack: 32 bytes",
    );
}
