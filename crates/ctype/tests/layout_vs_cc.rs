//! The layout engine against the C compiler: thousands of random declarations, laid out
//! by `cc` and by us, every number compared.
//!
//! One generator writes each declaration twice: as C text, and as the same types built
//! directly in a [`TypeTable`] through `layout_record` (so a layout bug shows even while
//! the parser is missing or wrong). All the C text goes into one program that prints, per
//! declaration, `sizeof`, `__alignof__` (the alignment layout uses, `layout_align_of`),
//! C11 `_Alignof` (`align_of`: gcc caps it at 16 for types without a user alignment
//! although it lays them out with more, a struct holding a 64-byte vector), the
//! `offsetof` of every ordinary member (nested
//! ones by dotted path) and, for every named bitfield, its first bit and width, found by
//! setting it to all ones in a zeroed object and scanning the bytes.
//!
//! `JITFFI_LAYOUT_SEED` (default below) and `JITFFI_LAYOUT_COUNT` (default 1500) choose
//! the declarations; a failure prints the seed so that it can be rerun.
//!
//! The target is x86-64 System V and the compiler the host's `cc`, unless
//! `JITFFI_LAYOUT_TARGET=aarch64`: then the layout is `Target::Aarch64`'s, the compiler
//! `JITFFI_LAYOUT_CC` (default `aarch64-linux-gnu-gcc`) and its program runs under the
//! command prefix `JITFFI_LAYOUT_RUN` (default `qemu-aarch64 -L /usr/aarch64-linux-gnu`).
//! scripts/aarch64.sh runs it so, on the host: the layout engine is pure.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;
use std::rc::Rc;

use jitffi_ctype::layout::{enum_int_type, layout_record, EnumAttrs, MemberDecl, RecordAttrs};
use jitffi_ctype::*;

const DEFAULT_SEED: u64 = 0x5EED_1A70_0C0F_FEE5;
const DEFAULT_COUNT: usize = 1500;

// ---- deterministic randomness ---------------------------------------------------------

/// xorshift64* (Vigna): small, good enough to pick declarations, no dependencies.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed.max(1))
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

// ---- the declarations -----------------------------------------------------------------

/// Integer types a bitfield may have, with their width in bits.
const INT_SCALARS: &[(&str, u32)] = &[
    ("char", 8),
    ("signed char", 8),
    ("unsigned char", 8),
    ("short", 16),
    ("unsigned short", 16),
    ("int", 32),
    ("unsigned int", 32),
    ("long", 64),
    ("unsigned long", 64),
    ("long long", 64),
    ("unsigned long long", 64),
    ("_Bool", 1),
    ("int8_t", 8),
    ("uint16_t", 16),
    ("int32_t", 32),
    ("uint64_t", 64),
];

const OTHER_SCALARS: &[&str] = &[
    "float",
    "double",
    "long double",
    "_Complex float",
    "_Complex double",
    "_Complex long double",
    "size_t",
];

/// Text whose cases skip the comparison through `cdef`: the parser reads
/// `_Complex long double` as `complex double` (16/8), as LuaJIT does, where gcc has
/// 32/16. The direct layout of those cases is still compared.
const PARSER_KNOWN_DIFFERENCES: &[&str] = &[];

const ALIGNMENTS: &[u32] = &[1, 2, 4, 8, 16, 32];
const PACK_VALUES: &[u32] = &[1, 2, 4, 8, 16];

/// The id of a scalar type named in C.
fn scalar_id(t: &mut TypeTable, name: &str) -> TypeId {
    let b = *t.builtins();
    match name {
        "char" => b.char_,
        "signed char" | "int8_t" => b.i8,
        "unsigned char" => b.u8,
        "short" => b.i16,
        "unsigned short" | "uint16_t" => b.u16,
        "int" | "int32_t" => b.i32,
        "unsigned int" => b.u32,
        "long" | "long long" => b.i64,
        "unsigned long" | "unsigned long long" | "uint64_t" | "size_t" => b.u64,
        "_Bool" => b.bool_,
        "float" => b.float,
        "double" => b.double,
        "long double" => b.long_double,
        "_Complex float" => b.complex_float,
        "_Complex double" => b.complex_double,
        "_Complex long double" => t.intern(CType::Complex(FloatKind::LongDouble)),
        other => panic!("unknown scalar {other}"),
    }
}

/// A type as a member or typedef names it.
#[derive(Clone, Debug)]
enum GenType {
    Scalar(&'static str),
    /// `void *name`.
    Pointer,
    /// `int (*name)(int)`.
    FuncPointer,
    /// A type declared earlier in the same case: `struct S3_1`, `enum E3_0`, `T3_2`.
    Named(Rc<NamedType>),
    /// `struct { ... }` written in place.
    Inline(Rc<Record>),
}

/// A type declared at file scope, with what the generator must know to use it.
#[derive(Debug)]
struct NamedType {
    c_name: String,
    id: TypeId,
    /// Width in bits if a bitfield may have this type.
    int_bits: Option<u32>,
    /// Whether `T x[n]` is valid C (gcc rejects arrays whose element size is not a
    /// multiple of the element alignment).
    array_ok: bool,
    /// The record behind it, to probe its members.
    record: Option<Rc<Record>>,
}

#[derive(Debug)]
struct Record {
    kind: RecordKind,
    /// The tag (`S3_1`) for file-scope records; `None` for inline ones.
    tag: Option<String>,
    packed: bool,
    align: Option<u32>,
    /// Attributes after the closing brace instead of after the keyword.
    attrs_after_body: bool,
    members: Vec<Member>,
}

#[derive(Debug)]
struct Member {
    name: Option<String>,
    ty: GenType,
    /// Array dimensions, outermost first.
    dims: Vec<u64>,
    /// `T name[]`.
    flexible: bool,
    bit_width: Option<u32>,
    packed: bool,
    align: Option<u32>,
}

/// `#pragma pack` around one file-scope record.
#[derive(Copy, Clone, Debug)]
enum PackRegion {
    None,
    /// `#pragma pack(n)` ... `#pragma pack()`.
    Plain(u32),
    /// `#pragma pack(push, n)` ... `#pragma pack(pop)`.
    Push(u32),
}

impl PackRegion {
    fn value(self) -> Option<u32> {
        match self {
            PackRegion::None => None,
            PackRegion::Plain(n) | PackRegion::Push(n) => Some(n),
        }
    }
}

/// One random declaration group: its C text, the C name of its top record, what to
/// probe, and our layout of it.
struct Case {
    text: String,
    /// C names of the records whose size and alignment are printed (the top one last).
    records: Vec<(String, TypeId)>,
    probes: Vec<Probe>,
}

struct Probe {
    path: String,
    is_bitfield: bool,
}

struct Generator<'t> {
    rng: Rng,
    table: &'t mut TypeTable,
    case: usize,
    names: usize,
    named: Vec<Rc<NamedType>>,
    text: String,
    failure: Option<String>,
}

impl Generator<'_> {
    fn fresh_member_name(&mut self) -> String {
        self.names += 1;
        format!("m{}", self.names)
    }

    fn attrs(packed: bool, align: Option<u32>) -> String {
        let mut list = Vec::new();
        if packed {
            list.push("packed".to_string());
        }
        if let Some(n) = align {
            list.push(format!("aligned({n})"));
        }
        if list.is_empty() {
            String::new()
        } else {
            format!(" __attribute__(({}))", list.join(", "))
        }
    }

    fn gen_case(&mut self) -> Case {
        self.names = 0;
        self.named.clear();
        self.text.clear();
        let mut records = Vec::new();
        for k in 0..self.rng.below(3) {
            self.gen_enum(k);
        }
        for k in 0..self.rng.below(3) {
            let pack = self.gen_pack_region();
            let record = Rc::new(self.gen_record(1, Some(format!("S{}_{k}", self.case)), false));
            let id = self.emit_record(&record, pack);
            let c_name = format!("{} S{}_{k}", record.kind.keyword(), self.case);
            records.push((c_name.clone(), id));
            self.named.push(Rc::new(NamedType {
                c_name,
                id,
                int_bits: None,
                array_ok: true,
                record: Some(record),
            }));
            if self.rng.chance(40) {
                self.gen_typedef(k + 10);
            }
        }
        for k in 0..self.rng.below(3) {
            self.gen_typedef(k);
        }
        let pack = self.gen_pack_region();
        let top = Rc::new(self.gen_record(0, Some(format!("Top{}", self.case)), true));
        let id = self.emit_record(&top, pack);
        let top_name = format!("{} Top{}", top.kind.keyword(), self.case);
        records.push((top_name, id));
        let mut probes = Vec::new();
        collect_probes(&top, "", &mut probes);
        Case {
            text: self.text.clone(),
            records,
            probes,
        }
    }

    fn gen_pack_region(&mut self) -> PackRegion {
        match self.rng.below(8) {
            0 => PackRegion::Plain(*self.rng.pick(PACK_VALUES)),
            1 => PackRegion::Push(*self.rng.pick(PACK_VALUES)),
            _ => PackRegion::None,
        }
    }

    /// `enum E3_0 { ... }`, sometimes packed, with values of every range.
    fn gen_enum(&mut self, k: u64) {
        let tag = format!("E{}_{k}", self.case);
        let packed = self.rng.chance(40);
        let count = 1 + self.rng.below(4);
        let (lo, hi): (i64, i64) = match self.rng.below(7) {
            0 => (0, 100),
            1 => (-100, 100),
            2 => (0, 60000),
            3 => (-40000, 40000),
            4 => (0, 0xFFFF_FFFF),
            5 => (-3, 0x1_0000_0000),
            _ => (i64::from(i32::MIN) * 4, i64::MAX / 2),
        };
        let span = (hi - lo) as u64;
        let mut values: Vec<i64> = (0..count)
            .map(|_| lo + (self.rng.below(span + 1)) as i64)
            .collect();
        // Make the extremes appear so the range class is really exercised.
        if self.rng.chance(50) {
            values.push(hi);
        }
        if self.rng.chance(50) {
            values.push(lo);
        }
        let mut text = format!("enum{} {tag} {{", Self::attrs(packed, None));
        for (i, v) in values.iter().enumerate() {
            let _ = write!(
                text,
                " {tag}_c{i} = {v}{}",
                if i + 1 < values.len() { "," } else { "" }
            );
        }
        text.push_str(" };\n");
        self.text.push_str(&text);

        let min = i128::from(*values.iter().min().expect("values"));
        let max = i128::from(*values.iter().max().expect("values"));
        let int_type = enum_int_type(
            min,
            max,
            &EnumAttrs {
                packed,
                fixed: None,
            },
        )
        .unwrap_or_else(|e| panic!("enum_int_type({min}, {max}) failed: {e}"));
        let id = self.table.new_enum(Some(&tag));
        let CType::Enum(eid) = *self.table.get(id) else {
            unreachable!()
        };
        let constants = values
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("{tag}_c{i}").into_boxed_str(), *v))
            .collect();
        self.table.complete_enum(
            eid,
            EnumDef {
                tag: Some(tag.clone().into()),
                int_type: Some(int_type),
                constants,
            },
        );
        self.named.push(Rc::new(NamedType {
            c_name: format!("enum {tag}"),
            id,
            int_bits: Some(u32::from(int_type.bytes) * 8),
            array_ok: true,
            record: None,
        }));
    }

    /// `typedef T T3_1 __attribute__((aligned(n)));` or a vector typedef.
    fn gen_typedef(&mut self, k: u64) {
        let name = format!("T{}_{k}", self.case);
        if self.rng.chance(20) {
            let (elem, elem_bytes) = *self.rng.pick(&[
                ("float", 4u32),
                ("double", 8),
                ("int", 4),
                ("char", 1),
                ("short", 2),
                ("long long", 8),
            ]);
            let bytes = elem_bytes * (1 << self.rng.below(6)).max(1);
            let bytes = bytes.clamp(elem_bytes.max(2), 64);
            let _ = writeln!(
                self.text,
                "typedef {elem} {name} __attribute__((vector_size({bytes})));"
            );
            let elem_id = scalar_id(self.table, elem);
            let id = self.table.intern(CType::Vector {
                elem: elem_id,
                bytes,
            });
            let array_ok = true;
            self.named.push(Rc::new(NamedType {
                c_name: name,
                id,
                int_bits: None,
                array_ok,
                record: None,
            }));
            return;
        }
        // The base: an integer (often, so bitfields can use it), another scalar, or an
        // earlier named type.
        let (base_c, base_id, int_bits, base_array_ok, record, natural_align) =
            match self.rng.below(4) {
                0 | 1 => {
                    let (c, bits) = *self.rng.pick(INT_SCALARS);
                    let id = scalar_id(self.table, c);
                    (
                        c.to_string(),
                        id,
                        Some(bits),
                        true,
                        None,
                        self.table.layout_align_of(id),
                    )
                }
                2 => {
                    let c = *self.rng.pick(OTHER_SCALARS);
                    let id = scalar_id(self.table, c);
                    (
                        c.to_string(),
                        id,
                        None,
                        true,
                        None,
                        self.table.layout_align_of(id),
                    )
                }
                _ => match self.named.is_empty() {
                    true => (
                        "int".to_string(),
                        self.table.builtins().i32,
                        Some(32),
                        true,
                        None,
                        4,
                    ),
                    false => {
                        let n = Rc::clone(self.rng.pick(&self.named));
                        (
                            n.c_name.clone(),
                            n.id,
                            n.int_bits,
                            n.array_ok,
                            n.record.clone(),
                            self.table.layout_align_of(n.id),
                        )
                    }
                },
            };
        let align = self.rng.chance(75).then(|| *self.rng.pick(ALIGNMENTS));
        let _ = writeln!(
            self.text,
            "typedef {base_c} {name}{};",
            Self::attrs(false, align)
        );
        let (id, array_ok) = match align {
            Some(n) => {
                let size = self.table.size_of(base_id).unwrap_or(0);
                (
                    self.table.intern(CType::Aligned {
                        base: base_id,
                        align: n,
                    }),
                    base_array_ok && (n <= natural_align || size.is_multiple_of(u64::from(n))),
                )
            }
            None => (base_id, base_array_ok),
        };
        self.named.push(Rc::new(NamedType {
            c_name: name,
            id,
            int_bits,
            array_ok,
            record,
        }));
    }

    fn gen_record(&mut self, depth: u32, tag: Option<String>, top: bool) -> Record {
        let kind = if self.rng.chance(75) {
            RecordKind::Struct
        } else {
            RecordKind::Union
        };
        let packed = self.rng.chance(15);
        let align = self.rng.chance(10).then(|| *self.rng.pick(ALIGNMENTS));
        let count = 1 + self.rng.below(7);
        let mut members: Vec<Member> = (0..count).map(|_| self.gen_member(depth)).collect();
        if !members.iter().any(has_named_member) {
            members.push(self.plain_member(GenType::Scalar("int")));
        }
        if top && kind == RecordKind::Struct && self.rng.chance(12) {
            let (c, _) = *self.rng.pick(INT_SCALARS);
            let mut m = self.plain_member(GenType::Scalar(if c == "_Bool" { "double" } else { c }));
            m.flexible = true;
            members.push(m);
        }
        Record {
            kind,
            tag,
            packed,
            align,
            attrs_after_body: top && self.rng.chance(50),
            members,
        }
    }

    fn plain_member(&mut self, ty: GenType) -> Member {
        Member {
            name: Some(self.fresh_member_name()),
            ty,
            dims: Vec::new(),
            flexible: false,
            bit_width: None,
            packed: false,
            align: None,
        }
    }

    fn gen_member(&mut self, depth: u32) -> Member {
        let roll = self.rng.below(100);
        if roll < 40 {
            let ty = self.gen_plain_type();
            let array_ok = match &ty {
                GenType::Named(n) => n.array_ok,
                GenType::FuncPointer => false,
                _ => true,
            };
            let mut m = self.plain_member(ty);
            if array_ok && self.rng.chance(20) {
                m.dims = (0..1 + self.rng.below(2))
                    .map(|_| 1 + self.rng.below(4))
                    .collect();
            }
            m.packed = self.rng.chance(8);
            m.align = self.rng.chance(10).then(|| *self.rng.pick(ALIGNMENTS));
            m
        } else if roll < 75 {
            self.gen_bitfield()
        } else if roll < 87 && depth < 3 {
            // A named member of a record type written in place.
            let record = Rc::new(self.gen_record(depth + 1, None, false));
            let mut m = self.plain_member(GenType::Inline(record));
            if self.rng.chance(15) {
                m.dims = vec![1 + self.rng.below(3)];
            }
            m.align = self.rng.chance(8).then(|| *self.rng.pick(ALIGNMENTS));
            m
        } else if depth < 3 {
            // C11 6.7.2.1p13: an anonymous struct or union.
            let record = Rc::new(self.gen_record(depth + 1, None, false));
            Member {
                name: None,
                ty: GenType::Inline(record),
                dims: Vec::new(),
                flexible: false,
                bit_width: None,
                packed: false,
                align: None,
            }
        } else {
            let ty = GenType::Scalar(self.rng.pick(INT_SCALARS).0);
            self.plain_member(ty)
        }
    }

    fn gen_plain_type(&mut self) -> GenType {
        match self.rng.below(10) {
            0..=3 => GenType::Scalar(self.rng.pick(INT_SCALARS).0),
            4 | 5 => {
                GenType::Scalar(OTHER_SCALARS[self.rng.below(OTHER_SCALARS.len() as u64) as usize])
            }
            6 => {
                if self.rng.chance(50) {
                    GenType::Pointer
                } else {
                    GenType::FuncPointer
                }
            }
            _ => match self.named.is_empty() {
                true => GenType::Scalar("long double"),
                false => GenType::Named(Rc::clone(self.rng.pick(&self.named))),
            },
        }
    }

    fn gen_bitfield(&mut self) -> Member {
        let int_named: Vec<Rc<NamedType>> = self
            .named
            .iter()
            .filter(|n| n.int_bits.is_some())
            .cloned()
            .collect();
        let (ty, bits) = if !int_named.is_empty() && self.rng.chance(35) {
            let n = Rc::clone(self.rng.pick(&int_named));
            let bits = n.int_bits.expect("filtered");
            (GenType::Named(n), bits)
        } else {
            let (c, bits) = *self.rng.pick(INT_SCALARS);
            (GenType::Scalar(c), bits)
        };
        let roll = self.rng.below(100);
        let (name, width) = if roll < 12 {
            (None, 0)
        } else if roll < 22 {
            (None, 1 + self.rng.below(u64::from(bits)) as u32)
        } else {
            let width = match self.rng.below(4) {
                0 => bits,
                1 => 1,
                _ => 1 + self.rng.below(u64::from(bits)) as u32,
            };
            (Some(self.fresh_member_name()), width)
        };
        Member {
            name,
            ty,
            dims: Vec::new(),
            flexible: false,
            bit_width: Some(width),
            packed: width != 0 && self.rng.chance(10),
            align: self.rng.chance(7).then(|| *self.rng.pick(ALIGNMENTS)),
        }
    }

    /// Writes a file-scope record in its `#pragma pack` region and builds it in the table.
    fn emit_record(&mut self, record: &Record, pack: PackRegion) -> TypeId {
        let mut text = String::new();
        match pack {
            PackRegion::None => {}
            PackRegion::Plain(n) => {
                let _ = writeln!(text, "#pragma pack({n})");
            }
            PackRegion::Push(n) => {
                let _ = writeln!(text, "#pragma pack(push, {n})");
            }
        }
        render_record(record, &mut text);
        text.push_str(";\n");
        match pack {
            PackRegion::None => {}
            PackRegion::Plain(_) => text.push_str("#pragma pack()\n"),
            PackRegion::Push(_) => text.push_str("#pragma pack(pop)\n"),
        }
        self.text.push_str(&text);
        self.build_record(record, pack.value())
    }

    fn build_record(&mut self, record: &Record, pragma_pack: Option<u32>) -> TypeId {
        let id = self.table.new_record(record.kind, record.tag.as_deref());
        let mut decls = Vec::new();
        for m in &record.members {
            let mut ty = match &m.ty {
                GenType::Scalar(c) => scalar_id(self.table, c),
                GenType::Pointer | GenType::FuncPointer => self.table.builtins().void_ptr,
                GenType::Named(n) => n.id,
                GenType::Inline(r) => self.build_record(r, pragma_pack),
            };
            for &n in m.dims.iter().rev() {
                ty = self
                    .table
                    .array_of(ty, ArrayLen::Fixed(n))
                    .expect("small array");
            }
            if m.flexible {
                ty = self
                    .table
                    .array_of(ty, ArrayLen::Flexible)
                    .expect("flexible array");
            }
            decls.push(MemberDecl {
                name: m.name.as_deref().map(Into::into),
                ty,
                bit_width: m.bit_width,
                packed: m.packed,
                align: m.align,
            });
        }
        let attrs = RecordAttrs {
            packed: record.packed,
            align: record.align,
            pragma_pack,
        };
        let CType::Record(rid) = *self.table.get(id) else {
            unreachable!()
        };
        match layout_record(self.table, record.kind, &decls, &attrs) {
            Ok(body) => self.table.complete_record(rid, body),
            Err(e) => {
                self.failure
                    .get_or_insert_with(|| format!("layout_record failed: {e}"));
                self.table.complete_record(
                    rid,
                    RecordBody {
                        fields: Vec::new(),
                        constants: Vec::new(),
                        size: 1,
                        align: 1,
                        user_aligned: false,
                    },
                );
            }
        }
        id
    }
}

fn has_named_member(m: &Member) -> bool {
    match (&m.name, &m.ty) {
        (Some(_), _) => true,
        (None, GenType::Inline(r)) if m.bit_width.is_none() => {
            r.members.iter().any(has_named_member)
        }
        _ => false,
    }
}

fn render_record(record: &Record, out: &mut String) {
    let attrs = Generator::attrs(record.packed, record.align);
    out.push_str(record.kind.keyword());
    if !record.attrs_after_body {
        out.push_str(&attrs);
    }
    if let Some(tag) = &record.tag {
        let _ = write!(out, " {tag}");
    }
    out.push_str(" {");
    for m in &record.members {
        out.push(' ');
        render_member(m, out);
    }
    out.push_str(" }");
    if record.attrs_after_body {
        out.push_str(&attrs);
    }
}

fn render_member(m: &Member, out: &mut String) {
    let name = m.name.as_deref().unwrap_or("");
    let mut declarator = String::new();
    match &m.ty {
        GenType::Scalar(c) => {
            let _ = write!(out, "{c} ");
            declarator.push_str(name);
        }
        GenType::Pointer => {
            let _ = write!(declarator, "void *{name}");
        }
        GenType::FuncPointer => {
            let _ = write!(declarator, "int (*{name})(int)");
        }
        GenType::Named(n) => {
            let _ = write!(out, "{} ", n.c_name);
            declarator.push_str(name);
        }
        GenType::Inline(r) => {
            render_record(r, out);
            out.push(' ');
            declarator.push_str(name);
        }
    }
    out.push_str(&declarator);
    for d in &m.dims {
        let _ = write!(out, "[{d}]");
    }
    if m.flexible {
        out.push_str("[]");
    }
    if let Some(w) = m.bit_width {
        let _ = write!(out, " : {w}");
    }
    out.push_str(&Generator::attrs(m.packed, m.align));
    out.push(';');
}

/// Every member C can name from the top record: ordinary members (and those inside
/// named record members, not inside arrays) by offsetof, named bitfields by bits.
fn collect_probes(record: &Record, prefix: &str, probes: &mut Vec<Probe>) {
    for m in &record.members {
        let inner = match &m.ty {
            GenType::Inline(r) => Some(Rc::clone(r)),
            GenType::Named(n) => n.record.clone(),
            _ => None,
        };
        match &m.name {
            None => {
                if m.bit_width.is_none() {
                    if let Some(r) = inner {
                        collect_probes(&r, prefix, probes);
                    }
                }
            }
            Some(name) => {
                let path = format!("{prefix}{name}");
                probes.push(Probe {
                    path: path.clone(),
                    is_bitfield: m.bit_width.is_some(),
                });
                if let (Some(r), true, false) = (inner, m.dims.is_empty(), m.flexible) {
                    collect_probes(&r, &format!("{path}."), probes);
                }
            }
        }
    }
}

// ---- the C side -----------------------------------------------------------------------

const C_PRELUDE: &str = r#"#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
static void report_bits(int c, const char *path, const void *object, size_t size) {
    const unsigned char *bytes = object;
    long first = -1, count = 0;
    for (size_t i = 0; i < size * 8; i++) {
        if (bytes[i / 8] >> (i % 8) & 1) {
            if (first < 0) first = (long)i;
            count++;
        }
    }
    printf("bit %d %s %ld %ld\n", c, path, first, count);
}
"#;

/// The C program that prints cc's answers for every case.
fn c_program(cases: &[Case]) -> String {
    let mut out = String::from(C_PRELUDE);
    for (i, case) in cases.iter().enumerate() {
        let _ = writeln!(out, "/* case {i} */");
        out.push_str(&case.text);
        let _ = writeln!(out, "static void case{i}(void) {{");
        for (name, _) in &case.records {
            let _ = writeln!(
                out,
                "  printf(\"size {i} {name} %zu %zu %zu\\n\", sizeof({name}), __alignof__({name}), _Alignof({name}));"
            );
        }
        let top = &case.records.last().expect("a top record").0;
        for p in &case.probes {
            if p.is_bitfield {
                let _ = writeln!(
                    out,
                    "  {{ {top} s; memset(&s, 0, sizeof s); s.{} = -1; report_bits({i}, \"{}\", &s, sizeof s); }}",
                    p.path, p.path
                );
            } else {
                let _ = writeln!(
                    out,
                    "  printf(\"off {i} {} %zu\\n\", offsetof({top}, {}));",
                    p.path, p.path
                );
            }
        }
        out.push_str("}\n");
    }
    out.push_str("int main(void) {\n");
    for i in 0..cases.len() {
        let _ = writeln!(out, "  case{i}();");
    }
    out.push_str("  return 0;\n}\n");
    out
}

/// The layout target under test and the C compiler that is its oracle.
struct Oracle {
    target: Target,
    cc: String,
    /// A command prefix that runs the compiled program (an emulator), or nothing.
    run: Vec<String>,
}

impl Oracle {
    /// From `JITFFI_LAYOUT_TARGET`, `JITFFI_LAYOUT_CC` and `JITFFI_LAYOUT_RUN`.
    fn from_env() -> Oracle {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let (target, cc, run) = match var("JITFFI_LAYOUT_TARGET").as_deref() {
            None | Some("x86_64") => (Target::X86_64SysV, "cc", ""),
            Some("aarch64") => (
                Target::Aarch64,
                "aarch64-linux-gnu-gcc",
                "qemu-aarch64 -L /usr/aarch64-linux-gnu",
            ),
            Some(other) => panic!("JITFFI_LAYOUT_TARGET={other}: x86_64 or aarch64"),
        };
        Oracle {
            target,
            cc: var("JITFFI_LAYOUT_CC").unwrap_or_else(|| cc.to_owned()),
            run: var("JITFFI_LAYOUT_RUN")
                .unwrap_or_else(|| run.to_owned())
                .split_whitespace()
                .map(str::to_owned)
                .collect(),
        }
    }
}

/// Compiles and runs the program; its answers keyed by "kind case name".
fn run_cc(oracle: &Oracle, program: &str, seed: u64) -> HashMap<String, Vec<u64>> {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("jitffi-layout-{}-{seed:x}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let source = dir.join("layout.c");
    let binary = dir.join("layout");
    std::fs::write(&source, program).expect("write C program");
    let compiled = Command::new(&oracle.cc)
        .args(["-std=gnu11", "-w", "-O0", "-o"])
        .arg(&binary)
        .arg(&source)
        .output();
    let compiled = match compiled {
        Ok(out) => out,
        Err(e) => panic!(
            "the layout differential test needs a C compiler: running `{}` failed ({e}). \
             Install gcc (for example `apt-get install gcc`; for AArch64 \
             gcc-aarch64-linux-gnu, or scripts/aarch64.sh).",
            oracle.cc
        ),
    };
    if !compiled.status.success() {
        panic!(
            "{} rejected the generated declarations (seed {seed:#x}); source kept at {}:\n{}",
            oracle.cc,
            source.display(),
            String::from_utf8_lossy(&compiled.stderr)
                .lines()
                .take(40)
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    let run = match oracle.run.split_first() {
        Some((program, args)) => Command::new(program).args(args).arg(&binary).output(),
        None => Command::new(&binary).output(),
    }
    .unwrap_or_else(|e| {
        panic!(
            "run the compiled layout program {oracle_run:?} {}: {e}",
            binary.display(),
            oracle_run = oracle.run
        )
    });
    assert!(
        run.status.success(),
        "the compiled layout program failed (seed {seed:#x}): {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8(run.stdout).expect("ASCII output");
    let mut answers = HashMap::new();
    for line in stdout.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        // "size <case> <kind> <tag> <size> <align>", "off <case> <path> <n>",
        // "bit <case> <path> <first> <count>"
        let (key, numbers) = match words[0] {
            "size" => (
                format!("size {} {} {}", words[1], words[2], words[3]),
                &words[4..],
            ),
            _ => (
                format!("{} {} {}", words[0], words[1], words[2]),
                &words[3..],
            ),
        };
        let numbers = numbers
            .iter()
            .map(|n| n.parse::<i64>().expect("a number") as u64)
            .collect();
        answers.insert(key, numbers);
    }
    answers
}

// ---- our side -------------------------------------------------------------------------

/// Our answer for a dotted member path: (byte offset, bit offset, width) of the member.
fn our_member(t: &TypeTable, top: TypeId, path: &str) -> Option<(u64, u64, u32)> {
    let mut ty = top;
    let mut base_bits = 0u64;
    let mut found = None;
    for part in path.split('.') {
        let (offset, field) = t.find_member(ty, part)?;
        let bit = base_bits + offset * 8 + field.bits.map_or(0, |b| u64::from(b.pos));
        found = Some((
            offset + base_bits / 8,
            bit,
            field.bits.map_or(0, |b| b.width),
        ));
        base_bits += offset * 8;
        ty = field.ty;
    }
    found
}

/// Compares our layout of every case (its records are `ids[case]`, in the order of
/// `Case::records`; `None` skips the case) with cc's; returns the mismatches, described.
fn compare(
    t: &TypeTable,
    cases: &[Case],
    ids: &[Option<Vec<TypeId>>],
    answers: &HashMap<String, Vec<u64>>,
    what: &str,
) -> Vec<String> {
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let Some(ids) = &ids[i] else { continue };
        let mut diffs = Vec::new();
        for ((name, _), id) in case.records.iter().zip(ids) {
            let key = format!("size {i} {name}");
            let ours = vec![
                t.size_of(*id).unwrap_or(u64::MAX),
                u64::from(t.layout_align_of(*id)),
                u64::from(t.align_of(*id)),
            ];
            match answers.get(&key) {
                Some(cc) if *cc == ours => {}
                cc => diffs.push(format!(
                    "  {name}: (size, __alignof__, _Alignof) ours {ours:?} cc {cc:?}"
                )),
            }
        }
        let top = *ids.last().expect("top record");
        for p in &case.probes {
            let ours = our_member(t, top, &p.path);
            let (key, ours) = if p.is_bitfield {
                (
                    format!("bit {i} {}", p.path),
                    ours.map(|(_, bit, width)| vec![bit, u64::from(width)]),
                )
            } else {
                (
                    format!("off {i} {}", p.path),
                    ours.map(|(byte, _, _)| vec![byte]),
                )
            };
            let cc = answers.get(&key);
            if ours.as_ref() != cc {
                let unit = if p.is_bitfield {
                    "(bit, width)"
                } else {
                    "offset"
                };
                diffs.push(format!("  {}: {unit} ours {ours:?} cc {cc:?}", p.path));
            }
        }
        if !diffs.is_empty() {
            failures.push(format!(
                "case {i} ({what}):\n{}{}",
                case.text,
                diffs.join("\n")
            ));
        }
    }
    failures
}

fn env_number(name: &str) -> Option<u64> {
    let text = std::env::var(name).ok().filter(|t| !t.is_empty())?;
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={text} is not a number")))
}

#[test]
fn layout_matches_cc() {
    let seed = env_number("JITFFI_LAYOUT_SEED").unwrap_or(DEFAULT_SEED);
    let count = env_number("JITFFI_LAYOUT_COUNT").map_or(DEFAULT_COUNT, |n| n as usize);
    let oracle = Oracle::from_env();
    let mut table = TypeTable::new(oracle.target);
    let mut generator = Generator {
        rng: Rng::new(seed),
        table: &mut table,
        case: 0,
        names: 0,
        named: Vec::new(),
        text: String::new(),
        failure: None,
    };
    let mut cases = Vec::with_capacity(count);
    for i in 0..count {
        generator.case = i;
        let case = generator.gen_case();
        if let Some(failure) = generator.failure.take() {
            panic!("seed {seed:#x}, case {i}: {failure}\n{}", case.text);
        }
        cases.push(case);
    }
    let answers = run_cc(&oracle, &c_program(&cases), seed);

    let direct_ids: Vec<Option<Vec<TypeId>>> = cases
        .iter()
        .map(|c| Some(c.records.iter().map(|r| r.1).collect()))
        .collect();
    let mut failures = compare(
        &table,
        &cases,
        &direct_ids,
        &answers,
        "built directly with layout_record",
    );

    // The same text through the parser: `cdef` each case, then look its records up.
    let mut parsed = TypeTable::new(oracle.target);
    let mut parsed_ids = Vec::with_capacity(cases.len());
    for (i, case) in cases.iter().enumerate() {
        if PARSER_KNOWN_DIFFERENCES
            .iter()
            .any(|known| case.text.contains(known))
        {
            parsed_ids.push(None);
            continue;
        }
        let ids: Result<Vec<TypeId>, CdefError> = parsed.cdef(&case.text, &[]).and_then(|()| {
            case.records
                .iter()
                .map(|(name, _)| parsed.parse_type(name, &[]))
                .collect()
        });
        match ids {
            Ok(ids) => parsed_ids.push(Some(ids)),
            Err(e) => {
                failures.push(format!(
                    "case {i} (through cdef): the parser rejected it: {e}\n{}",
                    case.text
                ));
                parsed_ids.push(None);
            }
        }
    }
    failures.extend(compare(
        &parsed,
        &cases,
        &parsed_ids,
        &answers,
        "through cdef",
    ));

    if !failures.is_empty() {
        panic!(
            "{} of {count} declarations laid out for {:?} differently from {} (rerun with \
             JITFFI_LAYOUT_SEED={seed:#x} JITFFI_LAYOUT_COUNT={count}):\n{}",
            failures.len(),
            oracle.target,
            oracle.cc,
            failures
                .iter()
                .take(8)
                .cloned()
                .collect::<Vec<_>>()
                .join("\n\n")
        );
    }
}
