//! Inputs that once crashed or misbehaved, each a named case. The fuzz test
//! (`cdef_fuzz.rs`) found none so far; the cases below pin the behaviour at the edges
//! it probes (deep nesting, huge values, truncated input), so that a change that
//! breaks them shows up here by name.

use jitffi_ctype::*;

fn outcome(src: &str) -> Result<(), String> {
    let mut t = TypeTable::new(Target::X86_64SysV);
    t.cdef(src, &[]).map_err(|e| e.message().to_owned())
}

#[test]
fn shift_count_beyond_width_is_defined() {
    assert!(outcome("enum { A = 1 << 18446744073709551615ULL, B = 1 >> -1 };").is_ok());
}

#[test]
fn min_divided_by_minus_one_wraps() {
    assert!(
        outcome("enum { A = (-9223372036854775807LL - 1) / -1, B = (-2147483647 - 1) % -1 };")
            .is_ok()
    );
}

#[test]
fn unsigned_overflow_in_multiplication() {
    assert!(outcome(
        "static const unsigned long long K = 18446744073709551615ULL * 18446744073709551615ULL;"
    )
    .is_ok());
}

#[test]
fn enum_counter_past_u64() {
    assert_eq!(
        outcome("enum { A = 18446744073709551615ULL, B };"),
        Err("invalid value".into())
    );
}

#[test]
fn array_size_overflow() {
    assert_eq!(
        outcome("int a[0x7fffffffffffffff];"),
        Err("size of C type is unknown or too large".into())
    );
    assert_eq!(
        outcome("int a[1ULL << 40][1ULL << 40];"),
        Err("size of C type is unknown or too large".into())
    );
}

#[test]
fn truncated_directives() {
    assert!(outcome("#").is_ok());
    assert!(outcome("#pragma").is_ok());
    assert!(outcome("#pragma pack(").is_ok());
    assert!(outcome("#define").is_ok());
    assert!(outcome("#define X (").is_ok());
    assert!(outcome("/* unterminated").is_ok());
    assert!(outcome("#define X /* comment\n spanning */ 3\nint a[X];").is_ok());
}

#[test]
fn invalid_utf8_in_error_text() {
    let src = String::from_utf8_lossy(b"int \xff\xfe;").into_owned();
    assert!(outcome(&src).is_err());
}

#[test]
fn pack_stack_overflow() {
    assert_eq!(
        outcome(&"#pragma pack(push, 1)\n".repeat(1000)),
        Err("chunk has too many syntax levels".into())
    );
}

#[test]
fn deep_struct_nesting() {
    assert_eq!(
        outcome(&"struct { ".repeat(1000)),
        Err("chunk has too many syntax levels".into())
    );
}

#[test]
fn self_reference_through_anonymous_member() {
    assert_eq!(
        outcome("struct s { struct { struct s inner; } a; };"),
        Err("size of C type is unknown or too large".into())
    );
}

/// Typedef chains nest types without nesting syntax: 30,000 levels of pointers or
/// arrays must not overflow the stack in sizing or naming them.
#[test]
fn deep_typedef_chains_do_not_overflow_the_stack() {
    let mut t = TypeTable::new(Target::X86_64SysV);
    let depth = 30_000;
    let mut arrays = String::from("typedef int a0[1];\n");
    let mut pointers = String::from("typedef int *p0;\n");
    for i in 1..=depth {
        arrays.push_str(&format!("typedef a{} a{i}[1];\n", i - 1));
        pointers.push_str(&format!("typedef p{} *p{i};\n", i - 1));
    }
    t.cdef(&arrays, &[]).expect("array chain");
    t.cdef(&pointers, &[]).expect("pointer chain");
    let a = t.parse_type(&format!("a{depth}"), &[]).unwrap();
    assert_eq!((t.size_of(a), t.align_of(a)), (Some(4), 4));
    let p = t.parse_type(&format!("p{depth}"), &[]).unwrap();
    assert_eq!(t.type_name(p).len(), "int ".len() + depth + 1);
    assert!(t.type_name(a).ends_with("[1][1]"));
}

/// LuaJIT accepts a text whose last declaration lacks its `;`.
#[test]
fn last_declaration_may_omit_its_semicolon() {
    let mut t = TypeTable::new(Target::X86_64SysV);
    t.cdef("struct nosemi { int x; double y; }", &[])
        .expect("struct at end");
    t.cdef("int nosemi_var", &[]).expect("variable at end");
    t.cdef("typedef int nosemi_t", &[]).expect("typedef at end");
    assert!(t.symbol("nosemi_t").is_some());
    assert!(t.cdef("int a int b;", &[]).is_err());
}
