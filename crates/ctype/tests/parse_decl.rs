//! What each declaration construct puts in the table: types, symbols, tags.
//! Assertions on sizes and offsets come from the layout engine (gcc is its oracle).

use jitffi_ctype::*;

fn table() -> TypeTable {
    TypeTable::new(Target::X86_64SysV)
}

fn cdef(table: &mut TypeTable, src: &str) {
    if let Err(e) = table.cdef(src, &[]) {
        panic!("cdef({src:?}) failed: {e}");
    }
}

fn sym_type(table: &TypeTable, name: &str) -> TypeId {
    table
        .symbol(name)
        .unwrap_or_else(|| panic!("{name} not declared"))
        .type_id()
}

fn typ(table: &mut TypeTable, src: &str) -> TypeId {
    table
        .parse_type(src, &[])
        .unwrap_or_else(|e| panic!("parse_type({src:?}) failed: {e}"))
}

fn func(table: &TypeTable, ty: TypeId) -> FuncType {
    match table.get(table.unqualified(ty).0) {
        CType::Func(f) => f.clone(),
        other => panic!("not a function: {other:?}"),
    }
}

#[test]
fn builtin_spellings() {
    let mut t = table();
    let b = *t.builtins();
    let cases: &[(&str, TypeId)] = &[
        ("void", b.void),
        ("_Bool", b.bool_),
        ("bool", b.bool_),
        ("char", b.char_),
        ("signed char", b.i8),
        ("unsigned char", b.u8),
        ("short", b.i16),
        ("short int", b.i16),
        ("unsigned short int", b.u16),
        ("int", b.i32),
        ("signed", b.i32),
        ("unsigned", b.u32),
        ("unsigned int", b.u32),
        ("long", b.i64),
        ("long int", b.i64),
        ("unsigned long", b.u64),
        ("long long", b.i64),
        ("long unsigned int long", b.u64),
        ("unsigned long long int", b.u64),
        ("long long long", b.i64),
        ("__int8", b.i8),
        ("unsigned __int16", b.u16),
        ("__int32", b.i32),
        ("unsigned __int64", b.u64),
        ("float", b.float),
        ("double", b.double),
        ("long double", b.long_double),
        ("complex", b.complex_double),
        ("complex float", b.complex_float),
        ("_Complex double", b.complex_double),
        ("__complex__ double", b.complex_double),
        ("int8_t", b.i8),
        ("uint8_t", b.u8),
        ("int16_t", b.i16),
        ("uint16_t", b.u16),
        ("int32_t", b.i32),
        ("uint32_t", b.u32),
        ("int64_t", b.i64),
        ("uint64_t", b.u64),
        ("intptr_t", b.i64),
        ("uintptr_t", b.u64),
        ("size_t", b.u64),
        ("ssize_t", b.i64),
        ("ptrdiff_t", b.i64),
        ("va_list", b.void_ptr),
        ("__builtin_va_list", b.void_ptr),
    ];
    for (src, expected) in cases {
        assert_eq!(typ(&mut t, src), *expected, "{src}");
    }
    let wchar = typ(&mut t, "wchar_t");
    assert_eq!(*t.get(wchar), CType::Int(IntType::I32));
    // gcc's 32-byte `_Complex long double`, where LuaJIT falls back to complex double.
    let cld = typ(&mut t, "complex long double");
    assert_eq!(*t.get(cld), CType::Complex(FloatKind::LongDouble));
    assert_eq!((t.size_of(cld), t.align_of(cld)), (Some(32), 16));
}

#[test]
fn invalid_specifier_combinations() {
    let mut t = table();
    for src in [
        "int float",
        "short long",
        "signed unsigned",
        "void int",
        "char double",
        "long long long long",
        "short short",
    ] {
        assert_eq!(
            t.parse_type(src, &[]).unwrap_err().message(),
            "invalid C type",
            "{src}"
        );
    }
}

#[test]
fn qualifiers_in_every_position() {
    let mut t = table();
    cdef(&mut t, "int const * const p1; const int * volatile p2; int * __restrict p3; int *restrict __restrict__ p4; __const int __volatile__ v;");
    let ci = {
        let i = t.builtins().i32;
        t.qualified(i, Quals::CONST)
    };
    let p1 = sym_type(&t, "p1");
    let ptr = t.pointer_to(ci);
    assert_eq!(p1, t.qualified(ptr, Quals::CONST));
    let p3 = sym_type(&t, "p3");
    let i = t.builtins().i32;
    assert_eq!(p3, t.pointer_to(i));
    let v = sym_type(&t, "v");
    assert_eq!(
        t.unqualified(v),
        (
            i,
            Quals {
                is_const: true,
                is_volatile: true
            }
        )
    );
}

#[test]
fn declarators_inside_out() {
    let mut t = table();
    cdef(
        &mut t,
        "int *a[3]; int (*b)[3]; int (*(*f)(int))(double); void (*signal(int, void (*)(int)))(int);
         typedef int (*fp)(double); fp table[2]; int **c[2][4]; int (*(*d)[5])(void);",
    );
    let i = t.builtins().i32;
    let d = t.builtins().double;
    let ip = t.pointer_to(i);
    assert_eq!(
        *t.get(sym_type(&t, "a")),
        CType::Array {
            elem: ip,
            len: ArrayLen::Fixed(3)
        }
    );
    let arr3 = t.array_of(i, ArrayLen::Fixed(3)).unwrap();
    assert_eq!(sym_type(&t, "b"), t.pointer_to(arr3));
    // f: pointer to function(int) returning pointer to function(double) returning int
    let inner = t.intern(CType::Func(FuncType {
        ret: i,
        params: Box::new([d]),
        variadic: false,
        conv: CallConv::Cdecl,
    }));
    let inner_p = t.pointer_to(inner);
    let outer = t.intern(CType::Func(FuncType {
        ret: inner_p,
        params: Box::new([i]),
        variadic: false,
        conv: CallConv::Cdecl,
    }));
    assert_eq!(sym_type(&t, "f"), t.pointer_to(outer));
    let signal = func(&t, sym_type(&t, "signal"));
    assert_eq!(signal.params.len(), 2);
    assert!(matches!(t.get(signal.ret), CType::Pointer(_)));
    let table_ty = sym_type(&t, "table");
    let CType::Array {
        elem,
        len: ArrayLen::Fixed(2),
    } = *t.get(table_ty)
    else {
        panic!()
    };
    assert_eq!(elem, sym_type(&t, "fp"));
    let c = sym_type(&t, "c");
    assert_eq!(t.size_of(c), Some(64));
    assert_eq!(t.size_of(sym_type(&t, "d")), Some(8));
}

#[test]
fn functions_and_parameters() {
    let mut t = table();
    cdef(
        &mut t,
        "int f0(); int f1(void); int f2(int, ...); int f3(int a[3], int b(void), const int c);
         int __stdcall f4(int); int f5(int) __attribute__((fastcall)); int (__thiscall *f6)(int);
         int f7(int x) __asm__(\"real\" \"_name\"); int printf(const char *__restrict fmt, ...);
         int f8(int a[static 3], int b[const]); int f9(int (*)(int), int [?]);",
    );
    let i = t.builtins().i32;
    let ip = t.pointer_to(i);
    assert!(func(&t, sym_type(&t, "f0")).params.is_empty());
    assert!(func(&t, sym_type(&t, "f1")).params.is_empty());
    let f2 = func(&t, sym_type(&t, "f2"));
    assert!(f2.variadic);
    assert_eq!(&*f2.params, &[i]);
    let f3 = func(&t, sym_type(&t, "f3"));
    assert_eq!(f3.params[0], ip);
    assert!(
        matches!(t.get(f3.params[1]), CType::Pointer(p) if matches!(t.get(*p), CType::Func(_)))
    );
    assert_eq!(
        f3.params[2], i,
        "top-level qualifiers of parameters are dropped"
    );
    assert_eq!(func(&t, sym_type(&t, "f4")).conv, CallConv::Stdcall);
    assert_eq!(func(&t, sym_type(&t, "f5")).conv, CallConv::Fastcall);
    let f6 = sym_type(&t, "f6");
    let CType::Pointer(f6) = *t.get(f6) else {
        panic!()
    };
    assert_eq!(func(&t, f6).conv, CallConv::Thiscall);
    match t.symbol("f7") {
        Some(Symbol::Func {
            asm_name: Some(name),
            ..
        }) => assert_eq!(&**name, "real_name"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(t.symbol("printf"), Some(Symbol::Func { .. })));
    assert_eq!(&*func(&t, sym_type(&t, "f8")).params, &[ip, ip]);
    assert_eq!(func(&t, sym_type(&t, "f9")).params[1], ip);
}

#[test]
fn variables_references_and_storage_classes() {
    let mut t = table();
    cdef(
        &mut t,
        "extern int ev; int plain; register int reg; __thread int tl; _Thread_local int tl2;
         extern char etext[]; int &r; int (&ra)[3]; extern int av __asm__(\"other\");
         inline int fi(void); __inline__ int fi2(void); static __inline int fi3(void) { return 0; }",
    );
    let i = t.builtins().i32;
    assert_eq!(
        t.symbol("ev"),
        Some(&Symbol::Var {
            ty: i,
            asm_name: None
        })
    );
    assert_eq!(
        t.symbol("plain"),
        Some(&Symbol::Var {
            ty: i,
            asm_name: None
        })
    );
    assert_eq!(
        t.symbol("av"),
        Some(&Symbol::Var {
            ty: i,
            asm_name: Some("other".into())
        })
    );
    assert!(matches!(t.get(sym_type(&t, "r")), CType::Ref(x) if *x == i));
    assert!(matches!(
        t.get(sym_type(&t, "etext")),
        CType::Array {
            len: ArrayLen::Flexible,
            ..
        }
    ));
    assert!(matches!(t.symbol("fi3"), Some(Symbol::Func { .. })));
}

#[test]
fn static_const_and_define_constants() {
    let mut t = table();
    cdef(
        &mut t,
        "static const int K = 42; static const unsigned char UC = 300; static const long L = -1;
         enum color { RED, GREEN }; static const enum color FAV = 1; static const bool B = 5;
         #define D1 (K * 2)
         #define D2 0x10UL
         #define FUNC(x) (x)
         #define STR \"not a number\"
         #define EMPTY
         #define FLT 1.5
         int arr[D1];",
    );
    let i = t.builtins().i32;
    assert_eq!(t.symbol("K"), Some(&Symbol::Const { ty: i, value: 42 }));
    let u8_ = t.builtins().u8;
    assert_eq!(t.symbol("UC"), Some(&Symbol::Const { ty: u8_, value: 44 }));
    assert!(matches!(
        t.symbol("L"),
        Some(Symbol::Const { value: -1, .. })
    ));
    assert!(matches!(
        t.symbol("FAV"),
        Some(Symbol::Const { value: 1, .. })
    ));
    assert!(matches!(
        t.symbol("B"),
        Some(Symbol::Const { value: 1, .. })
    ));
    assert_eq!(t.symbol("D1"), Some(&Symbol::Const { ty: i, value: 84 }));
    let u64_ = t.builtins().u64;
    assert_eq!(
        t.symbol("D2"),
        Some(&Symbol::Const {
            ty: u64_,
            value: 16
        })
    );
    for ignored in ["FUNC", "STR", "EMPTY", "FLT"] {
        assert!(t.symbol(ignored).is_none(), "{ignored}");
    }
    assert_eq!(t.size_of(sym_type(&t, "arr")), Some(84 * 4));
}

/// The constant `name` of the record `record` names: (type, value).
fn record_const(t: &mut TypeTable, record: &str, name: &str) -> Option<(TypeId, i64)> {
    let ty = typ(t, record);
    t.find_constant(ty, name).map(|c| (c.ty, c.value))
}

#[test]
fn constants_in_records() {
    // LuaJIT's struct namespace: `static const` members and the constants of an enum
    // member without a declarator; they take no room.
    let mut t = table();
    cdef(
        &mut t,
        "struct sc { static const int X = 5, Y = -1; static const unsigned char Z = 300; int a;
                     enum { SC_A = 1, SC_B }; };
         enum sc_e { SC_P = 7, SC_Q };
         struct sc2 { enum sc_e; struct { static const short K = 9; int x; }; int y; };
         union sc3 { static const unsigned U = 0xffffffff; int a; float b; };",
    );
    let (i32_, u8_, u32_, i16_) = {
        let b = t.builtins();
        (b.i32, b.u8, b.u32, b.i16)
    };
    assert_eq!(record_const(&mut t, "struct sc", "X"), Some((i32_, 5)));
    assert_eq!(record_const(&mut t, "struct sc", "Y"), Some((i32_, -1)));
    assert_eq!(record_const(&mut t, "struct sc", "Z"), Some((u8_, 44)));
    assert_eq!(record_const(&mut t, "struct sc", "SC_B"), Some((u32_, 2)));
    assert_eq!(
        record_const(&mut t, "struct sc", "a"),
        None,
        "a field is no constant"
    );
    let sc = typ(&mut t, "struct sc");
    assert_eq!(t.size_of(sc), Some(4));
    assert!(t.find_member(sc, "X").is_none(), "a constant is no field");
    // The enum's constants are declared globally too; the record sees those of a
    // tagged enum member and of anonymous members.
    assert!(matches!(
        t.symbol("SC_A"),
        Some(Symbol::EnumConst { value: 1, .. })
    ));
    assert_eq!(record_const(&mut t, "struct sc2", "SC_Q"), Some((u32_, 8)));
    assert_eq!(record_const(&mut t, "struct sc2", "K"), Some((i16_, 9)));
    let sc2 = typ(&mut t, "struct sc2");
    assert_eq!(t.size_of(sc2), Some(8));
    assert_eq!(
        record_const(&mut t, "union sc3", "U"),
        Some((u32_, 0xffff_ffff))
    );
    assert_eq!(
        record_const(&mut t, "const struct sc", "X"),
        Some((i32_, 5))
    );
    // The same body again is a no-op; other constants are a redefinition.
    cdef(&mut t, "struct sc3b { static const int K = 1; int a; }; struct sc3b { static const int K = 1; int a; };");
    let err = t
        .cdef("struct sc3b { static const int K = 2; int a; };", &[])
        .unwrap_err();
    assert_eq!(err.message(), "attempt to redefine 'sc3b'");
}

#[test]
fn bad_record_constants_change_nothing() {
    let mut t = table();
    for (src, message) in [
        (
            "struct bc { static const double D = 1; int a; };",
            "invalid C type",
        ),
        ("struct bc { static int D = 1; int a; };", "invalid C type"),
        (
            "struct bc { static const int *P = 0; int a; };",
            "invalid C type",
        ),
        (
            "struct bc { static int f(void); int a; };",
            "invalid C type",
        ),
        (
            "struct bc { static const int D; int a; };",
            "'=' expected near ';'",
        ),
        (
            "struct bc { static const int = 1; int a; };",
            "'<identifier>' expected near '='",
        ),
    ] {
        let before = t.len();
        let err = t.cdef(src, &[]).unwrap_err();
        assert_eq!(err.message(), message, "{src}");
        assert_eq!(t.len(), before, "{src}");
        assert!(t.tag("bc").is_none(), "{src}");
    }
    // A record completed in a failed cdef loses its body and its constants again.
    cdef(&mut t, "struct bc2;");
    let bc2 = typ(&mut t, "struct bc2");
    assert!(t
        .cdef(
            "struct bc2 { static const int K = 3; int a; }; int bad[-1];",
            &[]
        )
        .is_err());
    assert!(t.find_constant(bc2, "K").is_none());
    assert!(!t.is_complete(bc2));
}

#[test]
fn constant_expressions() {
    let mut t = table();
    cdef(&mut t, "struct pair { int a; double b; }; enum { Q = 7 };");
    let cases: &[(&str, i64)] = &[
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("-7 / 2", -3),
        ("-7 % 2", -1),
        ("1 << 4 | 1", 17),
        ("0x100 >> 4", 16),
        ("~0 & 0xff", 255),
        ("!0 + !5", 1),
        ("3 > 2 && 2 > 1", 1),
        ("0 || 0", 0),
        ("1 ? 10 : 20", 10),
        ("0 ? 1 / 0 : 5", 5),
        ("0 && 1 / 0", 0),
        ("'a'", 97),
        ("'\\n'", 10),
        ("'\\x41'", 65),
        ("'\\0'", 0),
        ("sizeof(int)", 4),
        ("sizeof(struct pair)", 16),
        ("sizeof(int[10])", 40),
        ("sizeof 1", 4),
        ("sizeof(long long) * 2", 16),
        ("_Alignof(double)", 8),
        ("__alignof__(struct pair)", 8),
        ("alignof(char)", 1),
        ("(char)300", 44),
        ("(unsigned char)-1", 255),
        ("(_Bool)7", 1),
        ("Q * 2", 14),
        ("(1, 2)", 2),
        ("-1 < 0u", 0),
        ("-1 < 0", 1),
        ("-1L < 0u", 1),
        ("0xffffffff + 1", 0),
        ("0xffffffffu + 1ll", 4294967296),
        ("2147483647 + 1", -2147483648),
        ("4294967296 > 0", 1),
        ("0b1010", 10),
        ("017", 15),
        ("1 ? 1u : -1", 1),
        ("__extension__ 3", 3),
    ];
    for (i, (expr, expected)) in cases.iter().enumerate() {
        cdef(&mut t, &format!("static const long long C{i} = {expr};"));
        match t.symbol(&format!("C{i}")) {
            Some(Symbol::Const { value, .. }) => assert_eq!(value, expected, "{expr}"),
            other => panic!("{expr}: {other:?}"),
        }
    }
}

#[test]
fn constant_expression_errors() {
    let mut t = table();
    let cases: &[(&str, &str)] = &[
        ("enum { E = 1 / 0 };", "invalid value"),
        ("enum { E = 1 % 0 };", "invalid value"),
        ("enum { E = zz };", "unexpected symbol near 'zz'"),
        ("int a[3+];", "unexpected symbol near ']'"),
        ("int a[1e3];", "malformed number near '1e3'"),
        ("int a[1.5];", "malformed number near '1.5'"),
        ("int a[1x];", "malformed number near '1x'"),
        (
            "int a[99999999999999999999];",
            "malformed number near '99999999999999999999'",
        ),
        (
            "enum { E = sizeof(struct undefined_q) };",
            "size of C type is unknown or too large",
        ),
        ("enum { E = (void *)0 };", "invalid value"),
    ];
    for (src, message) in cases {
        assert_eq!(t.cdef(src, &[]).unwrap_err().message(), *message, "{src}");
    }
    // Shifts by the width or more are defined: the count is taken modulo the width.
    cdef(&mut t, "enum { S = 1 << 33 };");
    assert!(matches!(
        t.symbol("S"),
        Some(Symbol::EnumConst { value: 2, .. })
    ));
}

#[test]
fn structs_unions_and_tags() {
    let mut t = table();
    cdef(
        &mut t,
        "struct fwd; typedef struct fwd fwd_t; struct fwd *early;
         struct fwd { int a; struct fwd *next; };
         union u { int i; double d; };
         struct outer { struct inner { int x; } in; union { int a; float b; }; struct { char c; } named; };",
    );
    let fwd = t.tag("fwd").unwrap();
    assert_eq!(
        sym_type(&t, "fwd_t"),
        fwd,
        "a forward declaration is completed in place"
    );
    assert_eq!(sym_type(&t, "early"), t.pointer_to(fwd));
    let CType::Record(rid) = *t.get(fwd) else {
        panic!()
    };
    let fwd_ptr = t.pointer_to(fwd);
    let body = t.record(rid).body.as_ref().expect("complete");
    let names: Vec<_> = body.fields.iter().map(|f| f.name.as_deref()).collect();
    assert_eq!(names, [Some("a"), Some("next")]);
    assert_eq!(body.fields[1].ty, fwd_ptr);
    assert!(
        t.tag("inner").is_some(),
        "a nested tag is declared at file scope"
    );
    let outer = t.tag("outer").unwrap();
    let CType::Record(rid) = *t.get(outer) else {
        panic!()
    };
    let fields = &t.record(rid).body.as_ref().unwrap().fields;
    assert_eq!(fields.len(), 3);
    assert_eq!(fields[1].name, None, "anonymous union member");
    assert!(t.find_member(outer, "b").is_some());
    assert_eq!(t.find_member(outer, "named").map(|(off, _)| off), Some(8));
    let u = t.tag("u").unwrap();
    assert_eq!(t.size_of(u), Some(8));
    assert_eq!(t.size_of(outer), Some(12));
}

#[test]
fn bitfields() {
    let mut t = table();
    cdef(&mut t, "struct b { int a : 3, : 0, c : 5; unsigned : 2; long long d : 40; _Bool e : 1; enum { X } f : 2; };");
    let b = t.tag("b").unwrap();
    let CType::Record(rid) = *t.get(b) else {
        panic!()
    };
    let fields = &t.record(rid).body.as_ref().unwrap().fields;
    let widths: Vec<_> = fields
        .iter()
        .map(|f| (f.name.as_deref(), f.bits.map(|b| b.width)))
        .collect();
    assert_eq!(
        widths,
        [
            (Some("a"), Some(3)),
            (None, Some(0)),
            (Some("c"), Some(5)),
            (None, Some(2)),
            (Some("d"), Some(40)),
            (Some("e"), Some(1)),
            (Some("f"), Some(2))
        ]
    );
    for (src, message) in [
        ("struct x { int a : 33; };", "invalid value near ':'"),
        ("struct x { int a : 0; };", "invalid value near ':'"),
        ("struct x { float a : 3; };", "invalid value near ':'"),
        (
            "struct x { int a : -1; };",
            "size of C type is unknown or too large",
        ),
        ("struct x { _Bool a : 2; };", "invalid value near ':'"),
    ] {
        assert_eq!(t.cdef(src, &[]).unwrap_err().message(), message, "{src}");
    }
}

#[test]
fn arrays_flexible_and_variable() {
    let mut t = table();
    cdef(&mut t, "struct flex { int n; int data[]; }; struct vls { int n; int data[?]; }; int m[2][3][4]; int z[0];");
    assert_eq!(t.size_of(sym_type(&t, "m")), Some(96));
    let vls = t.tag("vls").unwrap();
    assert!(t.is_vla(vls));
    assert_eq!(t.size_of_vla(vls, 3), Some(16));
    let flex = t.tag("flex").unwrap();
    assert_eq!(t.size_of(flex), Some(4));
    let vla = typ(&mut t, "int[?]");
    assert!(matches!(
        t.get(vla),
        CType::Array {
            len: ArrayLen::Variable,
            ..
        }
    ));
    let vla2 = typ(&mut t, "struct vls");
    assert_eq!(vla2, vls);
    let errors = [
        ("int[?][?]", "size of C type is unknown or too large"),
        ("int[3][?]", "size of C type is unknown or too large"),
    ];
    for (src, message) in errors {
        assert_eq!(
            t.parse_type(src, &[]).unwrap_err().message(),
            message,
            "{src}"
        );
    }
    assert_eq!(
        t.cdef("struct v2 { int a[?]; int n; };", &[])
            .unwrap_err()
            .message(),
        "'}' expected near 'n'"
    );
}

#[test]
fn enums() {
    let mut t = table();
    cdef(
        &mut t,
        "enum e { A, B = 10, C, D = B + C * 2, E = 'x', F = sizeof(int) };
         enum { G = -1, H = D };
         enum fixed : unsigned char { FA = 200 };
         enum later; enum later { L1 = 1 << 4 };
         int arr[C]; struct s { int bits : B; };
         enum big { BIG = 0x100000000 };",
    );
    let expect = [
        ("A", 0),
        ("B", 10),
        ("C", 11),
        ("D", 32),
        ("E", 120),
        ("F", 4),
        ("G", -1),
        ("H", 32),
        ("FA", 200),
        ("L1", 16),
    ];
    for (name, value) in expect {
        match t.symbol(name) {
            Some(Symbol::EnumConst { value: v, .. }) => assert_eq!(*v, value, "{name}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    let e = t.tag("e").unwrap();
    assert_eq!(sym_type(&t, "A"), e);
    let fixed = t.tag("fixed").unwrap();
    let CType::Enum(eid) = *t.get(fixed) else {
        panic!()
    };
    assert_eq!(t.enum_def(eid).int_type, Some(IntType::U8));
    assert_eq!(t.size_of(sym_type(&t, "arr")), Some(44));
    let big = t.tag("big").unwrap();
    assert_eq!(t.size_of(big), Some(8));
}

#[test]
fn typedefs_and_redeclarations() {
    let mut t = table();
    cdef(
        &mut t,
        "typedef int myint; typedef int myint; typedef myint *pmyint;
         typedef struct { int a; struct { int b; } in; } anon_t; typedef struct { int a; struct { int b; } in; } anon_t;
         struct S1 { int a; }; struct S1 { int a; };
         int proto(int); int proto(int x);
         enum ee { Q1, Q2 }; enum ee { Q1, Q2 };
         enum { R1 = 5 }; enum { R1 = 5 };
         typedef int i4; i4 i4v;
         typedef unsigned long size_t;",
    );
    let i = t.builtins().i32;
    assert_eq!(sym_type(&t, "myint"), i);
    for (src, message) in [
        ("typedef double myint;", "attempt to redefine 'myint'"),
        ("struct S1 { double a; };", "attempt to redefine 'S1'"),
        ("union S1 { int a; };", "attempt to redefine 'S1'"),
        ("union S1 *p;", "attempt to redefine 'S1'"),
        ("int proto(double);", "attempt to redefine 'proto'"),
        ("enum ee { Q1 };", "attempt to redefine 'ee'"),
        ("enum { R1 = 6 };", "attempt to redefine 'R1'"),
        (
            "typedef struct { int a; struct { long b; } in; } anon_t;",
            "attempt to redefine 'anon_t'",
        ),
        ("int myint;", "attempt to redefine 'myint'"),
    ] {
        let before = (t.len(), t.symbols().count());
        assert_eq!(t.cdef(src, &[]).unwrap_err().message(), message, "{src}");
        assert_eq!((t.len(), t.symbols().count()), before, "{src}: rolled back");
    }
}

#[test]
fn attributes_everywhere() {
    let mut t = table();
    cdef(
        &mut t,
        "typedef int aint __attribute__((aligned(16)));
         typedef int qi __attribute__((mode(QI))); typedef unsigned int __attribute__((__mode__(__DI__))) udi;
         typedef int hi __attribute__((mode(HI))); typedef int word_t __attribute__((mode(word)));
         typedef float v4sf __attribute__((vector_size(16))); typedef int v8si __attribute__((__vector_size__(32)));
         struct __attribute__((packed)) p1 { char a; int b; };
         struct p2 { char a; int b; } __attribute__((__packed__));
         typedef struct { char a; int b; } __attribute__((packed)) p3_t;
         struct al { int a; } __attribute__((aligned(32)));
         struct bare { char c; } __attribute__((aligned));
         struct __declspec(align(8)) ds { char c; };
         struct mem { char a; int b __attribute__((aligned(8))); _Alignas(16) char c; char d __attribute__((packed)); };
         extern int *__errno_location (void) __attribute__ ((__nothrow__ , __leaf__)) __attribute__ ((__const__));
         int __attribute__((unused)) f(int x __attribute__((unused)), char *__attribute__((nonnull)) p) __attribute__((warn_unused_result, format(printf, 1, 2), availability(macos, introduced=10.5)));
         __extension__ typedef long long int quad_t;",
    );
    let aint = sym_type(&t, "aint");
    let i = t.builtins().i32;
    assert_eq!(*t.get(aint), CType::Aligned { base: i, align: 16 });
    let i8_ = t.builtins().i8;
    assert_eq!(sym_type(&t, "qi"), i8_);
    let u64_ = t.builtins().u64;
    assert_eq!(sym_type(&t, "udi"), u64_);
    let i16_ = t.builtins().i16;
    assert_eq!(sym_type(&t, "hi"), i16_);
    let i64_ = t.builtins().i64;
    assert_eq!(sym_type(&t, "word_t"), i64_);
    let float = t.builtins().float;
    assert_eq!(
        *t.get(sym_type(&t, "v4sf")),
        CType::Vector {
            elem: float,
            bytes: 16
        }
    );
    assert_eq!(t.size_of(sym_type(&t, "v8si")), Some(32));
    for tag in ["p1", "p2"] {
        let ty = t.tag(tag).unwrap();
        assert_eq!(t.size_of(ty), Some(5), "{tag}");
    }
    assert_eq!(t.size_of(sym_type(&t, "p3_t")), Some(5));
    let al = t.tag("al").unwrap();
    assert_eq!((t.size_of(al), t.align_of(al)), (Some(32), 32));
    let bare = t.tag("bare").unwrap();
    assert_eq!(t.align_of(bare), 16);
    let ds = t.tag("ds").unwrap();
    assert_eq!(t.align_of(ds), 8);
    let mem = t.tag("mem").unwrap();
    assert_eq!(t.find_member(mem, "b").map(|m| m.0), Some(8));
    assert_eq!(t.find_member(mem, "c").map(|m| m.0), Some(16));
    assert_eq!(t.find_member(mem, "d").map(|m| m.0), Some(17));
    assert!(matches!(
        t.symbol("__errno_location"),
        Some(Symbol::Func { .. })
    ));
    assert_eq!(func(&t, sym_type(&t, "f")).params.len(), 2);
    assert_eq!(sym_type(&t, "quad_t"), i64_);
    assert_eq!(
        t.cdef("typedef int v3 __attribute__((vector_size(6)));", &[])
            .unwrap_err()
            .message(),
        "invalid C type"
    );
}

#[test]
fn pragma_pack() {
    let mut t = table();
    cdef(
        &mut t,
        "#pragma pack(1)
         struct a1 { char c; int i; };
         #pragma pack()
         struct a4 { char c; int i; };
         #pragma pack(push, 2)
         struct a2 { char c; int i; };
         #pragma pack(push)
         #pragma pack(1)
         struct b1 { char c; int i; };
         #pragma pack(pop)
         struct b2 { char c; int i; };
         #pragma pack(pop)
         struct b4 { char c; int i; };
         #pragma pack(3)
         struct c4 { char c; int i; };",
    );
    for (tag, size) in [
        ("a1", 5),
        ("a4", 8),
        ("a2", 6),
        ("b1", 5),
        ("b2", 6),
        ("b4", 8),
        ("c4", 8),
    ] {
        let ty = t.tag(tag).unwrap();
        assert_eq!(t.size_of(ty), Some(size), "{tag}");
    }
    // The pack state is per cdef call.
    cdef(&mut t, "#pragma pack(1)\n");
    cdef(&mut t, "struct d4 { char c; int i; };");
    let d4 = t.tag("d4").unwrap();
    assert_eq!(t.size_of(d4), Some(8));
}

#[test]
fn preprocessor_lines_are_skipped() {
    let mut t = table();
    cdef(
        &mut t,
        "# 1 \"/usr/include/stdio.h\" 1 3 4\n#include <stddef.h>\n#if defined(X)\n#endif\n  #  pragma once\n#ifdef \\\n  FOO\nint after;\n",
    );
    assert!(t.symbol("after").is_some());
}

#[test]
fn static_assert() {
    let mut t = table();
    cdef(&mut t, "_Static_assert(sizeof(int) == 4, \"int is 32-bit\"); static_assert(1, \"x\"); struct sa { int a; _Static_assert(1, \"in struct\"); };");
    assert_eq!(
        t.cdef("_Static_assert(sizeof(int) == 8, \"boom\");", &[])
            .unwrap_err()
            .message(),
        "static assertion failed: boom"
    );
}

#[test]
fn function_bodies_are_skipped() {
    let mut t = table();
    cdef(
        &mut t,
        "static inline int add(int a, int b) { if (a) { return a + b; } return b; } int after;",
    );
    assert!(matches!(t.symbol("add"), Some(Symbol::Func { .. })));
    assert!(t.symbol("after").is_some());
}

#[test]
fn dollar_parameters() {
    let mut t = table();
    let i = t.builtins().i32;
    let ip = t.pointer_to(i);
    assert_eq!(t.parse_type("$ *", &[Param::Type(i)]).unwrap(), ip);
    let arr = t.parse_type("int[$]", &[Param::Int(5)]).unwrap();
    assert_eq!(t.size_of(arr), Some(20));
    t.cdef(
        "struct $ { $ $; }; int $;",
        &[
            Param::Name("ps".into()),
            Param::Type(ip),
            Param::Name("field".into()),
            Param::Name("nm".into()),
        ],
    )
    .unwrap();
    let ps = t.tag("ps").unwrap();
    assert!(t.find_member(ps, "field").is_some());
    assert!(t.symbol("nm").is_some());
    assert_eq!(
        t.parse_type("int", &[Param::Int(1)]).unwrap_err().message(),
        "wrong number of type parameters"
    );
    assert_eq!(
        t.parse_type("int[$]", &[]).unwrap_err().message(),
        "wrong number of type parameters"
    );
    assert_eq!(
        t.parse_type("$", &[Param::Int(3)]).unwrap_err().message(),
        "declaration specifier expected near '$'"
    );
    assert_eq!(
        t.cdef("int $;", &[Param::Int(3)]).unwrap_err().message(),
        "'<identifier>' expected near '$'"
    );
}

#[test]
fn type_names() {
    let mut t = table();
    cdef(&mut t, "struct known { int a; };");
    let i = t.builtins().i32;
    let fp = typ(&mut t, "int (*)(int)");
    let CType::Pointer(f) = *t.get(fp) else {
        panic!()
    };
    assert_eq!(&*func(&t, f).params, &[i]);
    let f = typ(&mut t, "int (int)");
    assert!(matches!(t.get(f), CType::Func(_)));
    let anon = typ(&mut t, "struct { int a; }");
    assert_eq!(t.size_of(anon), Some(4));
    let known = typ(&mut t, "struct known");
    assert_eq!(Some(known), t.tag("known"));
    let r = typ(&mut t, "int &");
    assert!(matches!(t.get(r), CType::Ref(_)));
    let al = typ(&mut t, "int __attribute__((aligned(8)))");
    assert_eq!(t.align_of(al), 8);
}
