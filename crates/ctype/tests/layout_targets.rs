//! Where the data layout of AArch64 Linux differs from x86-64's, one row per declaration:
//! the numbers gcc 12 gives on x86-64 and aarch64-linux-gnu-gcc 12 gives on AArch64
//! (checked with a small C program printing sizeof, __alignof__, _Alignof and offsetof,
//! run under qemu for AArch64). tests/layout_vs_cc.rs compares random declarations with
//! both compilers; these rows name each rule and need no compiler.
//!
//! The rules:
//! - unnamed bitfields: on AArch64 their type counts for the record's alignment as a named
//!   bitfield's does (AAPCS64 §10.1.8 "Bit-fields": "without exception for zero-sized or
//!   anonymous bit-fields"); a zero-width one even in a packed record or under `#pragma
//!   pack`, which cap a non-zero-width one as they cap a named one. On x86-64 they add
//!   nothing (psABI 3.1.2).
//! - vectors: aligned to their size on x86-64, to at most 16 bytes on AArch64 (gcc's
//!   `aarch64_vector_alignment`; AAPCS64 §5.1.4 has only 8- and 16-byte short vectors).

use jitffi_ctype::*;

/// (sizeof, __alignof__, _Alignof) of a type.
type Shape = (u64, u32, u32);

struct Row {
    /// Declarations, cdef'd into a fresh table.
    decls: &'static str,
    /// The type whose layout is checked.
    ty: &'static str,
    x86_64: Shape,
    aarch64: Shape,
    /// (member, offset on x86-64, offset on AArch64).
    offsets: &'static [(&'static str, u64, u64)],
}

const ROWS: &[Row] = &[
    // A zero-width bitfield moves the next member to a multiple of its type's alignment
    // on both; only on AArch64 does it align the record too.
    Row {
        decls: "struct z1 { char c; int : 0; };",
        ty: "struct z1",
        x86_64: (4, 1, 1),
        aarch64: (4, 4, 4),
        offsets: &[],
    },
    Row {
        decls: "struct z3 { char c; int : 0; char d; };",
        ty: "struct z3",
        x86_64: (5, 1, 1),
        aarch64: (8, 4, 4),
        offsets: &[("d", 4, 4)],
    },
    // ... even in a packed record (gcc: zero-width bitfields "are not influenced by any
    // packing") ...
    Row {
        decls: "struct __attribute__((packed)) z2 { char a; int : 0; int b; };",
        ty: "struct z2",
        x86_64: (8, 1, 1),
        aarch64: (8, 4, 4),
        offsets: &[("b", 4, 4)],
    },
    // ... and under `#pragma pack`.
    Row {
        decls: "#pragma pack(1)\nstruct z4 { char c; long : 0; char d; };\n#pragma pack()",
        ty: "struct z4",
        x86_64: (9, 1, 1),
        aarch64: (16, 8, 8),
        offsets: &[("d", 8, 8)],
    },
    // An aligned type's user alignment comes with it: _Alignof is not capped at 16.
    Row {
        decls: "typedef int ia32 __attribute__((aligned(32))); struct z5 { char c; ia32 : 0; };",
        ty: "struct z5",
        x86_64: (32, 1, 1),
        aarch64: (32, 32, 32),
        offsets: &[],
    },
    // In a union too.
    Row {
        decls: "union z6 { char c; long : 0; };",
        ty: "union z6",
        x86_64: (1, 1, 1),
        aarch64: (8, 8, 8),
        offsets: &[],
    },
    // An unnamed bitfield of non-zero width aligns the record on AArch64 ...
    Row {
        decls: "struct n1 { char c; int : 3; };",
        ty: "struct n1",
        x86_64: (2, 1, 1),
        aarch64: (4, 4, 4),
        offsets: &[],
    },
    Row {
        decls: "struct n4 { char c; long long : 5; };",
        ty: "struct n4",
        x86_64: (2, 1, 1),
        aarch64: (8, 8, 8),
        offsets: &[],
    },
    Row {
        decls: "union n6 { char c; int : 3; };",
        ty: "union n6",
        x86_64: (1, 1, 1),
        aarch64: (4, 4, 4),
        offsets: &[],
    },
    Row {
        decls: "struct n7 { char c; int : 31; char d; };",
        ty: "struct n7",
        x86_64: (9, 1, 1),
        aarch64: (12, 4, 4),
        offsets: &[("d", 8, 8)],
    },
    // ... with an aligned type's alignment (the unit-span rule moves it on both) ...
    Row {
        decls: "typedef int ia16 __attribute__((aligned(16))); struct n5 { char c; ia16 : 3; };",
        ty: "struct n5",
        x86_64: (17, 1, 1),
        aarch64: (32, 16, 16),
        offsets: &[],
    },
    // ... but packed caps it at 1 byte and `#pragma pack(n)` at n, as for a named one.
    Row {
        decls: "struct __attribute__((packed)) n2 { char c; int : 3; };",
        ty: "struct n2",
        x86_64: (2, 1, 1),
        aarch64: (2, 1, 1),
        offsets: &[],
    },
    Row {
        decls: "#pragma pack(2)\nstruct n3 { char c; long : 3; };\n#pragma pack()",
        ty: "struct n3",
        x86_64: (2, 1, 1),
        aarch64: (2, 2, 2),
        offsets: &[],
    },
    // Named bitfields: the same on both (`long long` ones in 8-byte containers).
    Row {
        decls: "struct b1 { char c; long long x : 60; char d; long long y : 10; };",
        ty: "struct b1",
        x86_64: (24, 8, 8),
        aarch64: (24, 8, 8),
        offsets: &[("d", 16, 16)],
    },
    // Vectors: up to 16 bytes aligned to their size on both ...
    Row {
        decls: "typedef char v4 __attribute__((vector_size(4))); struct v3 { char c; v4 v; };",
        ty: "struct v3",
        x86_64: (8, 4, 4),
        aarch64: (8, 4, 4),
        offsets: &[("v", 4, 4)],
    },
    Row {
        decls: "typedef float v16 __attribute__((vector_size(16)));",
        ty: "v16",
        x86_64: (16, 16, 16),
        aarch64: (16, 16, 16),
        offsets: &[],
    },
    // ... larger ones to their size on x86-64 (_Alignof capped at 16), to 16 on AArch64.
    Row {
        decls: "typedef double v64 __attribute__((vector_size(64)));",
        ty: "v64",
        x86_64: (64, 64, 16),
        aarch64: (64, 16, 16),
        offsets: &[],
    },
    Row {
        decls: "typedef double v64 __attribute__((vector_size(64))); struct v1 { char c; v64 v; };",
        ty: "struct v1",
        x86_64: (128, 64, 16),
        aarch64: (80, 16, 16),
        offsets: &[("v", 64, 16)],
    },
    Row {
        decls: "typedef int v32 __attribute__((vector_size(32))); struct v2 { char c; v32 v; };",
        ty: "struct v2",
        x86_64: (64, 32, 16),
        aarch64: (48, 16, 16),
        offsets: &[("v", 32, 16)],
    },
];

fn table_with(target: Target, decls: &str) -> TypeTable {
    let mut t = TypeTable::new(target);
    t.cdef(decls, &[])
        .unwrap_or_else(|e| panic!("{target:?}: cdef of `{decls}` failed: {e}"));
    t
}

#[test]
fn layouts_per_target() {
    for row in ROWS {
        for (target, want) in [
            (Target::X86_64SysV, row.x86_64),
            (Target::Aarch64, row.aarch64),
        ] {
            let mut t = table_with(target, row.decls);
            let id = t
                .parse_type(row.ty, &[])
                .unwrap_or_else(|e| panic!("{target:?}: `{}`: {e}", row.ty));
            let got = (
                t.size_of(id).expect("complete type"),
                t.layout_align_of(id),
                t.align_of(id),
            );
            assert_eq!(
                got, want,
                "{target:?}: (sizeof, __alignof__, _Alignof) of {} in `{}`",
                row.ty, row.decls
            );
            for &(member, x86_64, aarch64) in row.offsets {
                let want = if target == Target::Aarch64 {
                    aarch64
                } else {
                    x86_64
                };
                let (offset, _) = t.find_member(id, member).expect("member exists");
                assert_eq!(
                    offset, want,
                    "{target:?}: offsetof({}, {member}) in `{}`",
                    row.ty, row.decls
                );
            }
        }
    }
}

/// Whether the bitfield `member` of `record` reads as a signed integer.
fn bitfield_signed(t: &mut TypeTable, record: &str, member: &str) -> bool {
    let id = t.parse_type(record, &[]).expect("record type");
    let (_, field) = t.find_member(id, member).expect("member exists");
    assert!(field.bits.is_some(), "{member} is a bitfield");
    match t.get(t.unqualified(field.ty).0) {
        CType::Int(int) => int.signed,
        CType::Enum(eid) => t.enum_def(*eid).int_type.expect("complete enum").signed,
        other => panic!("{member} has type {other:?}"),
    }
}

#[test]
fn plain_bitfield_signedness() {
    // gcc on Linux (both targets): a bitfield of plain `int`, `short`, `long long` is
    // signed (its type's signedness; `-fsigned-bitfields` is the default), and one of
    // plain `char` has char's: signed on x86-64, unsigned on AArch64 (AAPCS64 §10.1.1,
    // Table 3): aarch64-linux-gnu-gcc reads `char c : 3` set to -1 back as 7. An enum of
    // non-negative constants is `unsigned int` on both (AAPCS64 §10.1.3).
    let decls = "enum e { A, B }; struct s { char c : 3; signed char sc : 3; int i : 3; \
                 short h : 3; long long ll : 40; unsigned u : 3; enum e e : 3; };";
    for (target, char_signed) in [(Target::X86_64SysV, true), (Target::Aarch64, false)] {
        let mut t = table_with(target, decls);
        for (member, signed) in [
            ("c", char_signed),
            ("sc", true),
            ("i", true),
            ("h", true),
            ("ll", true),
            ("u", false),
            ("e", false),
        ] {
            assert_eq!(
                bitfield_signed(&mut t, "struct s", member),
                signed,
                "{target:?}: signedness of bitfield {member}"
            );
        }
    }
}
