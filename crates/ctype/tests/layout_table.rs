//! Hand-checked layouts: each case is a declaration gcc 12 on x86-64 Linux laid out
//! (checked with a small C program printing sizeof, _Alignof, offsetof and the bits a
//! bitfield sets), fed to `layout_record` directly as member declarations. The comment on
//! each case names the rule it shows.

use jitffi_ctype::layout::{enum_int_type, layout_record, EnumAttrs, MemberDecl, RecordAttrs};
use jitffi_ctype::*;

/// A member: `name` ("" for none), type, bitfield width.
fn member(name: &str, ty: TypeId, bit_width: Option<u32>) -> MemberDecl {
    MemberDecl {
        name: (!name.is_empty()).then(|| name.into()),
        ty,
        bit_width,
        packed: false,
        align: None,
    }
}

fn field(name: &str, ty: TypeId) -> MemberDecl {
    member(name, ty, None)
}

fn bits(name: &str, ty: TypeId, width: u32) -> MemberDecl {
    member(name, ty, Some(width))
}

fn aligned(mut m: MemberDecl, n: u32) -> MemberDecl {
    m.align = Some(n);
    m
}

fn packed(mut m: MemberDecl) -> MemberDecl {
    m.packed = true;
    m
}

fn pragma(n: u32) -> RecordAttrs {
    RecordAttrs {
        pragma_pack: Some(n),
        ..RecordAttrs::default()
    }
}

fn packed_record() -> RecordAttrs {
    RecordAttrs {
        packed: true,
        ..RecordAttrs::default()
    }
}

fn layout(
    t: &TypeTable,
    kind: RecordKind,
    members: &[MemberDecl],
    attrs: &RecordAttrs,
) -> RecordBody {
    layout_record(t, kind, members, attrs).unwrap_or_else(|e| panic!("layout failed: {e}"))
}

/// (byte offset of the unit, bit position in it, width) of the field named `name`.
fn triple(body: &RecordBody, name: &str) -> (u64, u32, u32) {
    let f = body
        .fields
        .iter()
        .find(|f| f.name.as_deref() == Some(name))
        .expect("field exists");
    let b = f.bits.expect("a bitfield");
    (f.offset, b.pos, b.width)
}

fn offset(body: &RecordBody, name: &str) -> u64 {
    body.fields
        .iter()
        .find(|f| f.name.as_deref() == Some(name))
        .expect("field exists")
        .offset
}

fn bit_offset(body: &RecordBody, name: &str) -> u64 {
    body.fields
        .iter()
        .find(|f| f.name.as_deref() == Some(name))
        .expect("field exists")
        .bit_offset()
}

fn aligned_typedef(t: &mut TypeTable, base: TypeId, align: u32) -> TypeId {
    t.intern(CType::Aligned { base, align })
}

#[test]
fn luajit_bitfield_triples() {
    // struct BF { unsigned a:3, b:5; int c:20; int d:10; }: LuaJIT's ffi.offsetof gives
    // the naturally aligned unit of the declared type that holds the field.
    let t = TypeTable::new(Target::X86_64SysV);
    let b = *t.builtins();
    let body = layout(
        &t,
        RecordKind::Struct,
        &[
            bits("a", b.u32, 3),
            bits("b", b.u32, 5),
            bits("c", b.i32, 20),
            bits("d", b.i32, 10),
        ],
        &RecordAttrs::default(),
    );
    assert_eq!(triple(&body, "a"), (0, 0, 3));
    assert_eq!(triple(&body, "b"), (0, 3, 5));
    assert_eq!(triple(&body, "c"), (0, 8, 20));
    assert_eq!(triple(&body, "d"), (4, 0, 10));
    assert_eq!((body.size, body.align), (8, 4));
}

#[test]
fn natural_alignment_and_tail_padding() {
    // struct { char c; double d; short s; }: each member at a multiple of its
    // alignment; the size is rounded up to the largest alignment (psABI 3.1.2).
    let t = TypeTable::new(Target::X86_64SysV);
    let b = *t.builtins();
    let body = layout(
        &t,
        RecordKind::Struct,
        &[field("c", b.char_), field("d", b.double), field("s", b.i16)],
        &RecordAttrs::default(),
    );
    assert_eq!(
        (
            offset(&body, "d"),
            offset(&body, "s"),
            body.size,
            body.align
        ),
        (8, 16, 24, 8)
    );
    // long double is 16/16.
    let body = layout(
        &t,
        RecordKind::Struct,
        &[field("c", b.char_), field("x", b.long_double)],
        &RecordAttrs::default(),
    );
    assert_eq!((offset(&body, "x"), body.size, body.align), (16, 32, 16));
}

#[test]
fn bitfield_moves_to_next_unit_when_it_would_straddle() {
    // struct D { char a; int b:30; }: b would span two int units from bit 8, so it
    // moves to bit 32 (psABI 3.1.2: contained in a unit of its declared type).
    let t = TypeTable::new(Target::X86_64SysV);
    let b = *t.builtins();
    let body = layout(
        &t,
        RecordKind::Struct,
        &[field("a", b.char_), bits("b", b.i32, 30)],
        &RecordAttrs::default(),
    );
    assert_eq!((bit_offset(&body, "b"), body.size, body.align), (32, 8, 4));
    // struct O { char a; int b:16; }: b fits in the first int unit, right after a.
    let body = layout(
        &t,
        RecordKind::Struct,
        &[field("a", b.char_), bits("b", b.i32, 16)],
        &RecordAttrs::default(),
    );
    assert_eq!((bit_offset(&body, "b"), body.size, body.align), (8, 4, 4));
}

#[test]
fn pragma_pack_turns_off_the_straddle_rule() {
    // #pragma pack(8) struct C { char a; int b:30; }: under any #pragma pack gcc places
    // bitfields at the next bit (LuaJIT would move b to bit 32); alignment is still 4.
    let t = TypeTable::new(Target::X86_64SysV);
    let b = *t.builtins();
    let body = layout(
        &t,
        RecordKind::Struct,
        &[field("a", b.char_), bits("b", b.i32, 30)],
        &pragma(8),
    );
    assert_eq!((bit_offset(&body, "b"), body.size, body.align), (8, 8, 4));
    // Its storage unit: the natural int unit at 0 does not hold bits 8..38, so the
    // smallest unit from its first byte that does: 4 bytes at byte 1.
    assert_eq!(triple(&body, "b"), (1, 0, 30));
}

#[test]
fn packed_bitfields_are_never_moved() {
    // struct A { char a:3; char b:7 __attribute__((packed)); } and the same with the
    // record packed: b starts at bit 3 across the byte boundary (gcc >= 4.4).
    let t = TypeTable::new(Target::X86_64SysV);
    let b = *t.builtins();
    let body = layout(
        &t,
        RecordKind::Struct,
        &[bits("a", b.char_, 3), packed(bits("b", b.char_, 7))],
        &RecordAttrs::default(),
    );
    assert_eq!((bit_offset(&body, "b"), body.size, body.align), (3, 2, 1));
    assert_eq!(triple(&body, "b"), (0, 3, 7));
    let f = body
        .fields
        .iter()
        .find(|f| f.name.as_deref() == Some("b"))
        .unwrap();
    assert_eq!(f.bits.unwrap().unit_bytes, 2);
    let body = layout(
        &t,
        RecordKind::Struct,
        &[bits("a", b.char_, 3), bits("b", b.char_, 7)],
        &packed_record(),
    );
    assert_eq!((bit_offset(&body, "b"), body.size, body.align), (3, 2, 1));
}

#[test]
fn aligned_typedef_lowers_and_raises() {
    let mut t = TypeTable::new(Target::X86_64SysV);
    let b = *t.builtins();
    // typedef int i1 __attribute__((aligned(1))); struct E { char a; i1 b:32; }:
    // size 5, align 1; b at bit 8.
    let i1 = aligned_typedef(&mut t, b.i32, 1);
    let body = layout(
        &t,
        RecordKind::Struct,
        &[field("a", b.char_), bits("b", i1, 32)],
        &RecordAttrs::default(),
    );
    assert_eq!((bit_offset(&body, "b"), body.size, body.align), (8, 5, 1));
    // union { i1 x:32; }: in a union a 32-bit field takes SImode and its alignment 4.
    let body = layout(
        &t,
        RecordKind::Union,
        &[bits("x", i1, 32)],
        &RecordAttrs::default(),
    );
    assert_eq!((body.size, body.align), (4, 4));
    // struct F { char a; char b; i1 :16; }: the unnamed field gets HImode too, but
    // unnamed bitfields never touch the record's alignment: size 4, align 1.
    let body = layout(
        &t,
        RecordKind::Struct,
        &[field("a", b.char_), field("b", b.char_), bits("", i1, 16)],
        &RecordAttrs::default(),
    );
    assert_eq!((body.size, body.align), (4, 1));
    // typedef int i8 __attribute__((aligned(8))); struct G { char a; i8 b:3; }: an int
    // bitfield may span 4/8 = 0 units of 8 bytes, so it always starts a new 8-byte unit.
    let i8 = aligned_typedef(&mut t, b.i32, 8);
    let body = layout(
        &t,
        RecordKind::Struct,
        &[field("a", b.char_), bits("b", i8, 3)],
        &RecordAttrs::default(),
    );
    assert_eq!((bit_offset(&body, "b"), body.size, body.align), (64, 16, 8));
}

#[test]
fn unions_of_bitfields() {
    // union H { int x:3; } is 4/4; packed, 1/1 (a bitfield counts whole bytes).
    let t = TypeTable::new(Target::X86_64SysV);
    let b = *t.builtins();
    let body = layout(
        &t,
        RecordKind::Union,
        &[bits("x", b.i32, 3)],
        &RecordAttrs::default(),
    );
    assert_eq!((body.size, body.align), (4, 4));
    let body = layout(
        &t,
        RecordKind::Union,
        &[bits("x", b.i32, 3)],
        &packed_record(),
    );
    assert_eq!((body.size, body.align), (1, 1));
}

#[test]
fn record_alignment_attribute_beats_pragma_pack() {
    // #pragma pack(1) struct __attribute__((aligned(8))) J { int a; char b; }: 8/8.
    let t = TypeTable::new(Target::X86_64SysV);
    let b = *t.builtins();
    let attrs = RecordAttrs {
        align: Some(8),
        pragma_pack: Some(1),
        packed: false,
    };
    let body = layout(
        &t,
        RecordKind::Struct,
        &[field("a", b.i32), field("b", b.char_)],
        &attrs,
    );
    assert_eq!((body.size, body.align), (8, 8));
}

#[test]
fn zero_width_bitfields_ignore_packing_but_not_alignment_of_record() {
    // #pragma pack(1) struct K { char a; int :0; char b; }: b at 4 (the zero-width
    // field aligns to its type regardless of #pragma pack), but it adds nothing to the
    // record's alignment: size 5, align 1. Same with long long: b at 8, size 9.
    let t = TypeTable::new(Target::X86_64SysV);
    let b = *t.builtins();
    let body = layout(
        &t,
        RecordKind::Struct,
        &[field("a", b.char_), bits("", b.i32, 0), field("b", b.char_)],
        &pragma(1),
    );
    assert_eq!((offset(&body, "b"), body.size, body.align), (4, 5, 1));
    let body = layout(
        &t,
        RecordKind::Struct,
        &[field("a", b.char_), bits("", b.i64, 0), field("b", b.char_)],
        &pragma(1),
    );
    assert_eq!((offset(&body, "b"), body.size, body.align), (8, 9, 1));
}

#[test]
fn member_alignment_attributes() {
    let t = TypeTable::new(Target::X86_64SysV);
    let b = *t.builtins();
    // struct L { char a; int b __attribute__((aligned(2))); }: aligned on a member only
    // raises; b stays at 4.
    let body = layout(
        &t,
        RecordKind::Struct,
        &[field("a", b.char_), aligned(field("b", b.i32), 2)],
        &RecordAttrs::default(),
    );
    assert_eq!((offset(&body, "b"), body.size, body.align), (4, 8, 4));
    // struct __attribute__((packed)) M { char c; int x __attribute__((aligned(2))); }:
    // with packed, the member's own aligned(2) holds exactly: x at 2, size 6, align 2.
    let body = layout(
        &t,
        RecordKind::Struct,
        &[field("c", b.char_), aligned(field("x", b.i32), 2)],
        &packed_record(),
    );
    assert_eq!((offset(&body, "x"), body.size, body.align), (2, 6, 2));
}

#[test]
fn errors_name_the_member() {
    let mut t = TypeTable::new(Target::X86_64SysV);
    let b = *t.builtins();
    let cases: Vec<(MemberDecl, &str)> = vec![
        (
            bits("x", b.i32, 33),
            "invalid value: width of bitfield 'x' exceeds its type",
        ),
        (
            bits("flag", b.bool_, 2),
            "invalid value: width of bitfield 'flag' exceeds its type",
        ),
        (
            bits("z", b.i32, 0),
            "invalid value: zero width for bitfield 'z'",
        ),
        (
            bits("d", b.double, 3),
            "invalid value: bitfield 'd' has a non-integer type",
        ),
        (
            field("v", b.void),
            "size of C type is unknown or too large: member 'v'",
        ),
    ];
    for (m, want) in cases {
        let err = layout_record(&t, RecordKind::Struct, &[m], &RecordAttrs::default()).unwrap_err();
        assert_eq!(err.message(), want);
    }
    let fwd = t.new_record(RecordKind::Struct, Some("fwd"));
    let err = layout_record(
        &t,
        RecordKind::Struct,
        &[field("inner", fwd)],
        &RecordAttrs::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.message(),
        "size of C type is unknown or too large: member 'inner'"
    );
    let flex = t.array_of(b.i32, ArrayLen::Flexible).unwrap();
    let err = layout_record(
        &t,
        RecordKind::Struct,
        &[field("x", flex), field("y", b.i32)],
        &RecordAttrs::default(),
    )
    .unwrap_err();
    assert!(err.message().contains("'x'"), "{}", err.message());
}

#[test]
fn flexible_and_variable_tails() {
    // struct { char c; double d[]; }: the flexible array counts for alignment, not size.
    let mut t = TypeTable::new(Target::X86_64SysV);
    let b = *t.builtins();
    for len in [ArrayLen::Flexible, ArrayLen::Variable] {
        let tail = t.array_of(b.double, len).unwrap();
        let body = layout(
            &t,
            RecordKind::Struct,
            &[field("c", b.char_), field("d", tail)],
            &RecordAttrs::default(),
        );
        assert_eq!((offset(&body, "d"), body.size, body.align), (8, 8, 8));
    }
}

#[test]
fn enum_types_follow_gcc() {
    let plain = EnumAttrs::default();
    let packed = EnumAttrs {
        packed: true,
        fixed: None,
    };
    // Non-negative enums are unsigned int; with a negative value, int; past 32 bits, long.
    assert_eq!(enum_int_type(0, 1, &plain).unwrap(), IntType::U32);
    assert_eq!(enum_int_type(0, 0x8000_0000, &plain).unwrap(), IntType::U32);
    assert_eq!(enum_int_type(-1, 5, &plain).unwrap(), IntType::I32);
    assert_eq!(
        enum_int_type(-1, 0x8000_0000, &plain).unwrap(),
        IntType::I64
    );
    assert_eq!(
        enum_int_type(0, 0x1_0000_0000, &plain).unwrap(),
        IntType::U64
    );
    assert_eq!(
        enum_int_type(0, u64::MAX as i128, &plain).unwrap(),
        IntType::U64
    );
    assert!(enum_int_type(-1, u64::MAX as i128, &plain).is_err());
    // Packed: the smallest of char/short/int/long that holds them, same signedness rule.
    assert_eq!(enum_int_type(0, 200, &packed).unwrap(), IntType::U8);
    assert_eq!(enum_int_type(-1, 100, &packed).unwrap(), IntType::I8);
    assert_eq!(enum_int_type(-1, 200, &packed).unwrap(), IntType::I16);
    assert_eq!(enum_int_type(0, 0x10000, &packed).unwrap(), IntType::U32);
    // enum e : short { ... }.
    let fixed = EnumAttrs {
        packed: false,
        fixed: Some(IntType::I16),
    };
    assert_eq!(enum_int_type(0, 5, &fixed).unwrap(), IntType::I16);
    assert!(enum_int_type(0, 40000, &fixed).is_err());
}
