//! The Apple arm64 classifier: AAPCS64 with the changes of Apple's "Writing ARM64 code
//! for Apple platforms" (variadic arguments, stack arguments, data types). Not checked
//! against a compiler (no Apple toolchain here): the rows restate the document, and
//! LLVM's Darwin lowering where the document is silent (HFAs on the stack at their
//! member alignment, `__int128` in any register pair).

mod common;

use common::Abi;
use jitffi_abi::Convention;
use jitffi_ctype::Target;

const DECLS: &str = r#"
typedef int i128 __attribute__((mode(TI)));
struct f3 { float a, b, c; };
struct big { long a, b, c; };
struct sa { long a, b; } __attribute__((aligned(16)));
"#;

const ABI: Abi = Abi {
    target: Target::AppleArm64,
    convention: Convention::AppleArm64,
    decls: DECLS,
};

#[test]
fn variadic_arguments_all_go_on_the_stack_in_8_byte_slots() {
    ABI.check(
        "\"each variadic argument is assigned to the appropriate number of 8-byte stack \
         slots\", registers free or not; a composite over 16 bytes is still a pointer (B.4)",
        "int (const char *, ...)",
        &["double", "int", "struct f3", "long double", "struct big"],
        "arg 1: i64@0 gpr0\narg 2: f64@0 stack+0\narg 3: s32@0 stack+8\n\
         arg 4: memory 12 bytes stack+16\narg 5: f64@0 stack+32\n\
         arg 6: copy of 24 bytes (align 8), address in stack+40\nresult: s32@0 gpr0\n\
         stack: 48 bytes",
    );
    let facts = Convention::AppleArm64.variadic();
    assert!(facts.all_on_stack && !facts.vector_count && !facts.floats_in_gprs);
}

#[test]
fn named_stack_arguments_are_packed_by_natural_alignment() {
    ABI.check(
        "\"Function arguments may consume slots on the stack that are not multiples of 8 \
         bytes\"; the total is padded to 8",
        "void (long, long, long, long, long, long, long, long, double, double, double, \
         double, double, double, double, double, char, short, float, int, char, double)",
        &[],
        "arg 1: i64@0 gpr0\narg 2: i64@0 gpr1\narg 3: i64@0 gpr2\narg 4: i64@0 gpr3\n\
         arg 5: i64@0 gpr4\narg 6: i64@0 gpr5\narg 7: i64@0 gpr6\narg 8: i64@0 gpr7\n\
         arg 9: f64@0 vec0\narg 10: f64@0 vec1\narg 11: f64@0 vec2\narg 12: f64@0 vec3\n\
         arg 13: f64@0 vec4\narg 14: f64@0 vec5\narg 15: f64@0 vec6\narg 16: f64@0 vec7\n\
         arg 17: s8@0 stack+0\narg 18: s16@0 stack+2\narg 19: f32@0 stack+4\n\
         arg 20: s32@0 stack+8\narg 21: s8@0 stack+12\narg 22: f64@0 stack+16\n\
         result: void\nstack: 24 bytes",
    );
    ABI.check(
        "LLVM (CC_AArch64_Custom_Block): an HFA on the stack at its member alignment, \
         not rounded to 8",
        "void (double, double, double, double, double, double, double, double, \
         struct f3, float)",
        &[],
        "arg 1: f64@0 vec0\narg 2: f64@0 vec1\narg 3: f64@0 vec2\narg 4: f64@0 vec3\n\
         arg 5: f64@0 vec4\narg 6: f64@0 vec5\narg 7: f64@0 vec6\narg 8: f64@0 vec7\n\
         arg 9: memory 12 bytes stack+0\narg 10: f32@0 stack+12\nresult: void\n\
         stack: 16 bytes",
    );
}

#[test]
fn long_double_is_double_and_char_is_signed() {
    ABI.check(
        "\"long double\" is a double-precision IEEE 754 binary floating-point type; \
         \"char\" is signed",
        "long double (long double, char)",
        &[],
        "arg 1: f64@0 vec0\narg 2: s8@0 gpr0\nresult: f64@0 vec0\nstack: 0 bytes",
    );
}

#[test]
fn no_even_register_pairs() {
    ABI.check(
        "LLVM's Darwin convention does not round NGRN to even for 16-byte values",
        "void (int, i128, int, struct sa)",
        &[],
        "arg 1: s32@0 gpr0\narg 2: i64@0 gpr1, i64@8 gpr2\narg 3: s32@0 gpr3\n\
         arg 4: i64@0 gpr4, i64@8 gpr5\nresult: void\nstack: 0 bytes",
    );
}

#[test]
fn results_as_aapcs64() {
    ABI.check(
        "§6.9: memory through x8, which the callee need not return",
        "struct big (int)",
        &[],
        "arg 1: s32@0 gpr0\nresult: memory 24 bytes, address in gpr8\nstack: 0 bytes",
    );
    assert!(!Convention::AppleArm64.returns_result_address());
}
