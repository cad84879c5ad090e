//! The AAPCS64 classifier (Arm IHI 0055 2025Q4, §6.8.2 "Parameter passing rules",
//! stages B and C; §6.9 "Result return") on prototypes whose passing the standard spells
//! out. Each row names the rule it checks; every row was compared with the assembly
//! `aarch64-linux-gnu-gcc -O2 -S` (gcc 12) makes of a C caller of the prototype.
//! `gprN` is xN (`gpr8` the indirect result register x8), `vecN` vN.

mod common;

use common::Abi;
use jitffi_abi::Convention;
use jitffi_ctype::{CType, Target, TypeTable};

const DECLS: &str = r#"
typedef int i128 __attribute__((mode(TI)));
typedef int i256 __attribute__((mode(OI)));
struct i2 { int a, b; };
struct l2 { long a, b; };
struct c3 { char c[3]; };
struct df { double d; float f; };
struct big { long a, b, c; };
struct f2 { float a, b; };
struct f3 { float a, b, c; };
struct f4 { float v[4]; };
struct f5 { float v[5]; };
struct d4 { double a, b, c, d; };
struct h3d { double a, b, c; };
struct ld2 { long double a, b; };
struct nest { struct { float x, y; } p; float z; };
struct cf { _Complex float z; float w; };
struct fd { float f; double d; };
struct fpad { float f; _Alignas(8) float g; };
union uf { float f; float g[2]; };
union ufd { float f; double d; };
struct bits { float f; int b : 3; };
typedef float v2f __attribute__((vector_size(8)));
typedef float v4f __attribute__((vector_size(16)));
typedef int v4 __attribute__((vector_size(4)));
typedef int v32 __attribute__((vector_size(32)));
struct hva { v2f a, b; };
struct sa { long a, b; } __attribute__((aligned(16)));
struct ma { _Alignas(16) long a; long b; };
struct i128s { i128 v; };
struct pk { char c; long l; } __attribute__((packed));
struct empty { };
struct undefined_s;
"#;

const ABI: Abi = Abi {
    target: Target::Aarch64,
    convention: Convention::Aapcs64,
    decls: DECLS,
};

#[test]
fn scalars() {
    ABI.check_rows(&[
        (
            "C.9: integers and pointers in the next x register; the caller's extension",
            "int (char, signed char, unsigned short, int, long, bool, void *)",
            "arg 1: u8@0 gpr0\narg 2: s8@0 gpr1\narg 3: u16@0 gpr2\narg 4: s32@0 gpr3\n\
             arg 5: i64@0 gpr4\narg 6: u8@0 gpr5\narg 7: i64@0 gpr6\nresult: s32@0 gpr0",
        ),
        (
            "C.1: float, double and quad long double in the next v register",
            "double (float, double, int, long double)",
            "arg 1: f32@0 vec0\narg 2: f64@0 vec1\narg 3: s32@0 gpr0\narg 4: v128@0 vec2\n\
             result: f64@0 vec0",
        ),
        (
            "C.1: short vectors (64 and 128 bits) in v registers",
            "v4f (v2f, v4f)",
            "arg 1: f64@0 vec0\narg 2: v128@0 vec1\nresult: v128@0 vec0",
        ),
        (
            "Result return: long double in q0",
            "long double (void)",
            "result: v128@0 vec0",
        ),
    ]);
}

#[test]
fn int128_takes_an_even_register_pair() {
    ABI.check_rows(&[
        (
            "C.10, C.11: __int128 rounds NGRN up to even, then x2:x3",
            "void (int, i128, int)",
            "arg 1: s32@0 gpr0\narg 2: i64@0 gpr2, i64@8 gpr3\narg 3: s32@0 gpr4\nresult: void",
        ),
        (
            "C.10, C.13, C.14: no pair left: the stack at a multiple of 16, NGRN = 8",
            "void (long, long, long, long, long, long, long, i128, int)",
            "arg 1: i64@0 gpr0\narg 2: i64@0 gpr1\narg 3: i64@0 gpr2\narg 4: i64@0 gpr3\n\
             arg 5: i64@0 gpr4\narg 6: i64@0 gpr5\narg 7: i64@0 gpr6\n\
             arg 8: memory 16 bytes stack+0\narg 9: s32@0 stack+16\nresult: void\n\
             stack: 24 bytes",
        ),
        (
            "Result return: __int128 in x0:x1",
            "i128 (void)",
            "result: i64@0 gpr0, i64@8 gpr1",
        ),
        (
            "no 256-bit integer in AAPCS64: an error",
            "void (i256)",
            "error: cannot pass a value of type 'int256_t'",
        ),
    ]);
}

#[test]
fn homogeneous_aggregates_take_one_v_register_per_member() {
    ABI.check_rows(&[
        (
            "C.2: an HFA of 2, 3, 4 floats",
            "void (struct f2, struct f3)",
            "arg 1: f32@0 vec0, f32@4 vec1\narg 2: f32@0 vec2, f32@4 vec3, f32@8 vec4\n\
             result: void",
        ),
        (
            "C.2: HFA of 4 floats in an array member, of 4 doubles (32 bytes: B.3 keeps it a value)",
            "void (struct f4, struct d4)",
            "arg 1: f32@0 vec0, f32@4 vec1, f32@8 vec2, f32@12 vec3\n\
             arg 2: f64@0 vec4, f64@8 vec5, f64@16 vec6, f64@24 vec7\nresult: void",
        ),
        (
            "§5.9.5: members counted after layout, through nested structs",
            "void (struct nest)",
            "arg 1: f32@0 vec0, f32@4 vec1, f32@8 vec2\nresult: void",
        ),
        (
            "Table 3: a complex number is two members; in a struct with a float, three",
            "void (_Complex float, struct cf, _Complex double, _Complex long double)",
            "arg 1: f32@0 vec0, f32@4 vec1\narg 2: f32@0 vec2, f32@4 vec3, f32@8 vec4\n\
             arg 3: f64@0 vec5, f64@8 vec6\narg 4: memory 32 bytes stack+0\nresult: void",
        ),
        (
            "C.2: quad long doubles are HFA members (q registers)",
            "void (struct ld2)",
            "arg 1: v128@0 vec0, v128@16 vec1\nresult: void",
        ),
        (
            "§5.9.5: a union of one float type counts its largest member",
            "void (union uf)",
            "arg 1: f32@0 vec0, f32@4 vec1\nresult: void",
        ),
        (
            "HVA: two 64-bit vectors",
            "void (struct hva)",
            "arg 1: f64@0 vec0, f64@8 vec1\nresult: void",
        ),
        (
            "not homogeneous (float and double; padding; a bitfield; mixed union): x registers",
            "void (struct fd, struct fpad, struct bits, union ufd)",
            "arg 1: i64@0 gpr0, i64@8 gpr1\narg 2: i64@0 gpr2, i64@8 gpr3\n\
             arg 3: i64@0 gpr4\narg 4: i64@0 gpr5\nresult: void",
        ),
        (
            "five members are no HFA: over 16 bytes, by reference (B.4)",
            "void (struct f5)",
            "arg 1: copy of 20 bytes (align 4), address in gpr0\nresult: void",
        ),
        (
            "Result return: an HFA in v0-v3",
            "struct h3d (void)",
            "result: f64@0 vec0, f64@8 vec1, f64@16 vec2",
        ),
    ]);
}

#[test]
fn an_hfa_that_does_not_fit_closes_the_v_registers() {
    ABI.check_rows(&[(
        "C.3: NSRN = 8, the HFA goes to the stack and so do later floats (C.4-C.6, \
         8-byte slots for float and double)",
        "void (double, double, double, double, double, double, struct h3d, double, float)",
        "arg 1: f64@0 vec0\narg 2: f64@0 vec1\narg 3: f64@0 vec2\narg 4: f64@0 vec3\n\
         arg 5: f64@0 vec4\narg 6: f64@0 vec5\narg 7: memory 24 bytes stack+0\n\
         arg 8: f64@0 stack+24\narg 9: f32@0 stack+32\nresult: void\nstack: 40 bytes",
    )]);
    ABI.check_rows(&[(
        "C.3, C.4: an HFA of quads goes to a multiple of 16",
        "void (long double, long double, long double, long double, long double, \
         long double, long double, struct ld2, double)",
        "arg 1: v128@0 vec0\narg 2: v128@0 vec1\narg 3: v128@0 vec2\narg 4: v128@0 vec3\n\
         arg 5: v128@0 vec4\narg 6: v128@0 vec5\narg 7: v128@0 vec6\n\
         arg 8: memory 32 bytes stack+0\narg 9: f64@0 stack+32\nresult: void\n\
         stack: 40 bytes",
    )]);
}

#[test]
fn other_composites_up_to_16_bytes_take_x_registers() {
    ABI.check_rows(&[
        (
            "C.12: one or two x registers, the last one holding what remains",
            "void (struct i2, struct l2, struct c3, struct df)",
            "arg 1: i64@0 gpr0\narg 2: i64@0 gpr1, i64@8 gpr2\narg 3: i24@0 gpr3\n\
             arg 4: i64@0 gpr4, i64@8 gpr5\nresult: void",
        ),
        (
            "C.10: natural alignment 16 (from a member) starts at an even register",
            "void (int, struct ma, struct i128s)",
            "arg 1: s32@0 gpr0\narg 2: i64@0 gpr2, i64@8 gpr3\narg 3: i64@0 gpr4, i64@8 gpr5\n\
             result: void",
        ),
        (
            "§5.9: aligned(16) on the struct itself is not its natural alignment (gcc 9+)",
            "void (int, struct sa)",
            "arg 1: s32@0 gpr0\narg 2: i64@0 gpr1, i64@8 gpr2\nresult: void",
        ),
        (
            "C.12: a packed 9-byte struct in x1, x2",
            "void (int, struct pk)",
            "arg 1: s32@0 gpr0\narg 2: i64@0 gpr1, i8@8 gpr2\nresult: void",
        ),
        (
            "C.12: vectors that are not short vectors are composites",
            "void (v4)",
            "arg 1: i32@0 gpr0\nresult: void",
        ),
        (
            "Result return: x0, x1",
            "struct df (void)",
            "result: i64@0 gpr0, i64@8 gpr1",
        ),
    ]);
}

#[test]
fn composites_are_never_split_between_registers_and_stack() {
    ABI.check_rows(&[(
        "C.13: NGRN = 8 once a composite does not fit, so a later long goes on the stack",
        "void (long, long, long, long, long, long, long, struct ma, long)",
        "arg 1: i64@0 gpr0\narg 2: i64@0 gpr1\narg 3: i64@0 gpr2\narg 4: i64@0 gpr3\n\
         arg 5: i64@0 gpr4\narg 6: i64@0 gpr5\narg 7: i64@0 gpr6\n\
         arg 8: memory 16 bytes stack+0\narg 9: i64@0 stack+16\nresult: void\n\
         stack: 24 bytes",
    )]);
    ABI.check_rows(&[(
        "C.14-C.16: stack composites in multiples of 8, scalars in 8-byte slots",
        "void (long, long, long, long, long, long, long, long, struct c3, struct df, char)",
        "arg 1: i64@0 gpr0\narg 2: i64@0 gpr1\narg 3: i64@0 gpr2\narg 4: i64@0 gpr3\n\
         arg 5: i64@0 gpr4\narg 6: i64@0 gpr5\narg 7: i64@0 gpr6\narg 8: i64@0 gpr7\n\
         arg 9: i24@0 stack+0\narg 10: memory 16 bytes stack+8\narg 11: u8@0 stack+24\n\
         result: void\nstack: 32 bytes",
    )]);
}

#[test]
fn larger_composites_go_by_reference() {
    ABI.check_rows(&[
        (
            "B.4: a pointer to a caller copy, in x registers, then in stack slots",
            "void (long, long, long, long, long, long, long, struct big, struct big)",
            "arg 1: i64@0 gpr0\narg 2: i64@0 gpr1\narg 3: i64@0 gpr2\narg 4: i64@0 gpr3\n\
             arg 5: i64@0 gpr4\narg 6: i64@0 gpr5\narg 7: i64@0 gpr6\n\
             arg 8: copy of 24 bytes (align 8), address in gpr7\n\
             arg 9: copy of 24 bytes (align 8), address in stack+0\nresult: void\n\
             stack: 8 bytes",
        ),
        (
            "B.4: a 32-byte vector is a composite over 16 bytes",
            "void (v32)",
            "arg 1: copy of 32 bytes (align 16), address in gpr0\nresult: void",
        ),
        (
            "Result return: memory at the address in x8, which is not an argument register",
            "struct big (long)",
            "arg 1: i64@0 gpr0\nresult: memory 24 bytes, address in gpr8",
        ),
    ]);
}

#[test]
fn stack_scalars_take_8_byte_slots_and_16_byte_alignment() {
    ABI.check_rows(&[(
        "C.4: quad on the stack at a multiple of 16; C.5, C.16: float and char in 8 bytes",
        "void (double, double, double, double, double, double, double, double, \
         int, long double, float, char)",
        "arg 1: f64@0 vec0\narg 2: f64@0 vec1\narg 3: f64@0 vec2\narg 4: f64@0 vec3\n\
         arg 5: f64@0 vec4\narg 6: f64@0 vec5\narg 7: f64@0 vec6\narg 8: f64@0 vec7\n\
         arg 9: s32@0 gpr0\narg 10: memory 16 bytes stack+0\narg 11: f32@0 stack+16\n\
         arg 12: u8@0 gpr1\nresult: void\nstack: 24 bytes",
    )]);
}

#[test]
fn empty_structs_pass_nothing() {
    // gcc passes no bytes for an empty struct in C (a GNU extension AAPCS64 does not
    // cover: its composites have at least one member).
    ABI.check_rows(&[(
        "gcc: nothing",
        "struct empty (struct empty, int)",
        "arg 1: nothing\narg 2: s32@0 gpr0\nresult: void",
    )]);
}

#[test]
fn variadic_arguments_pass_like_named_ones_on_linux() {
    // §6.8.2: named and anonymous arguments follow the same rules; gcc on Linux puts a
    // variadic double in v0, an HFA in v registers, a quad in q4. No %al count.
    assert_eq!(
        ABI.plan(
            "int (const char *, ...)",
            &["double", "struct h3d", "long double", "int"]
        ),
        "arg 1: i64@0 gpr0\narg 2: f64@0 vec0\narg 3: f64@0 vec1, f64@8 vec2, f64@16 vec3\n\
         arg 4: v128@0 vec4\narg 5: s32@0 gpr1\nresult: s32@0 gpr0\nstack: 0 bytes"
    );
}

#[test]
fn unpassable_types_are_errors_naming_the_type() {
    assert_eq!(
        ABI.plan("void (struct undefined_s)", &[]),
        "error: cannot pass incomplete 'struct undefined_s'"
    );
    assert_eq!(
        ABI.plan("struct undefined_s (void)", &[]),
        "error: cannot pass incomplete 'struct undefined_s'"
    );
}

#[test]
fn the_convention_refuses_a_type_table_of_another_target() {
    // The plan depends on the type sizes (`long double`, `long`): a table laid out for
    // another target would give a wrong plan.
    let mut types = TypeTable::new(Target::X86_64SysV);
    let ty = types.parse_type("void (void)", &[]).expect("prototype");
    let CType::Func(func) = types.get(ty).clone() else {
        panic!("not a function type");
    };
    let err = Convention::Aapcs64
        .classify(&types, &func, &[])
        .unwrap_err();
    assert!(err.message.starts_with("bug: Aapcs64"), "{err}");
    assert!(Convention::SysV64.classify(&types, &func, &[]).is_ok());
}

#[test]
fn host_convention_matches_the_host_data_model() {
    assert_eq!(Convention::host().target(), Target::host());
    for target in [
        Target::X86_64SysV,
        Target::Aarch64,
        Target::AppleArm64,
        Target::Win64,
    ] {
        assert_eq!(Convention::for_target(target).target(), target);
    }
    assert!(Convention::SysV64.variadic().vector_count);
    assert!(!Convention::Aapcs64.variadic().vector_count);
    assert!(!Convention::Aapcs64.returns_result_address());
    assert_eq!(Convention::Aapcs64.registers().vec_results, 4);
}
