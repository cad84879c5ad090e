//! Type names spelled as LuaJIT spells them (`tostring(ctype)` and error messages):
//! `int *const *`, `int (*(*)())[3]`, `struct foo`, `struct 42` for an anonymous record,
//! `int64_t` for `long`, `char` for `int8_t`. Typedef names are not kept; function
//! parameters are not printed.

use crate::table::TypeTable;
use crate::types::*;

impl TypeTable {
    /// The C spelling of `id`, as inside LuaJIT's `ctype<...>`.
    pub fn type_name(&self, id: TypeId) -> String {
        let mut declarator = Declarator::default();
        let base = self.spell(id, &mut declarator);
        if declarator.is_empty() {
            base
        } else {
            let mut out = base;
            out.push(' ');
            out.extend(declarator.front_reversed.chars().rev());
            out.push_str(&declarator.back);
            out
        }
    }

    /// Walks from the outermost type inwards, growing the declarator around the name's
    /// position, and returns the spelling of the innermost (base) type. A loop, not
    /// recursion: typedef chains can nest types arbitrarily deep.
    fn spell(&self, mut id: TypeId, declarator: &mut Declarator) -> String {
        loop {
            let (unqualified, quals) = self.unqualified(id);
            match self.get(unqualified) {
                CType::Pointer(target) | CType::Ref(target) => {
                    let sigil = if matches!(self.get(unqualified), CType::Pointer(_)) {
                        "*"
                    } else {
                        "&"
                    };
                    let mut prefix = String::from(sigil);
                    push_quals(&mut prefix, quals);
                    if !declarator.is_empty() && !quals.is_empty() {
                        prefix.push(' ');
                    }
                    declarator.prepend(&prefix);
                    id = *target;
                }
                CType::Array { elem, len } => {
                    declarator.parenthesize_pointer();
                    match len {
                        ArrayLen::Fixed(n) => declarator.back.push_str(&format!("[{n}]")),
                        ArrayLen::Flexible => declarator.back.push_str("[]"),
                        ArrayLen::Variable => declarator.back.push_str("[?]"),
                    }
                    id = *elem;
                }
                CType::Func(func) => {
                    declarator.parenthesize_pointer();
                    declarator.back.push_str("()");
                    id = func.ret;
                }
                _ => {
                    let mut base = String::new();
                    push_quals(&mut base, quals);
                    if !base.is_empty() {
                        base.push(' ');
                    }
                    base.push_str(&self.base_name(unqualified));
                    return base;
                }
            }
        }
    }

    /// The spelling of a type that has no declarator part (scalars, records, enums).
    fn base_name(&self, id: TypeId) -> String {
        match self.get(id) {
            CType::Void => "void".into(),
            CType::Bool | CType::BoolInt => "bool".into(),
            CType::Int(int) => int_name(*int, self.target().char_type()).into(),
            CType::WideInt { bytes, signed } => {
                format!(
                    "{}int{}_t",
                    if *signed { "" } else { "u" },
                    u32::from(*bytes) * 8
                )
            }
            CType::Float(FloatKind::Float) => "float".into(),
            CType::Float(FloatKind::Double) => "double".into(),
            CType::Float(FloatKind::LongDouble) => "long double".into(),
            CType::Complex(FloatKind::Float) => "complex float".into(),
            CType::Complex(FloatKind::Double) => "complex".into(),
            CType::Complex(FloatKind::LongDouble) => "complex long double".into(),
            CType::Vector { elem, bytes } => {
                format!(
                    "{} __attribute__((vector_size({bytes})))",
                    self.type_name(*elem)
                )
            }
            CType::Record(rid) => {
                let record = self.record(*rid);
                match &record.tag {
                    Some(tag) => format!("{} {tag}", record.kind.keyword()),
                    None => format!("{} {}", record.kind.keyword(), id.0),
                }
            }
            CType::Enum(eid) => match &self.enum_def(*eid).tag {
                Some(tag) => format!("enum {tag}"),
                None => format!("enum {}", id.0),
            },
            CType::Pointer(_)
            | CType::Ref(_)
            | CType::Array { .. }
            | CType::Func(_)
            | CType::Qualified { .. }
            | CType::Aligned { .. } => {
                debug_assert!(false, "bug: base_name of a derived type");
                self.type_name(id)
            }
        }
    }
}

/// LuaJIT names integers by width: `long` and `long long` are both `int64_t`. The byte
/// that is the target's plain `char` is `char` (where `char` is unsigned, AArch64 Linux,
/// the other one is `signed char`).
fn int_name(int: IntType, plain_char: IntType) -> &'static str {
    match (int.bytes, int.signed) {
        (1, _) if int == plain_char => "char",
        (1, true) => "signed char",
        (1, false) => "unsigned char",
        (2, true) => "short",
        (2, false) => "unsigned short",
        (4, true) => "int",
        (4, false) => "unsigned int",
        (8, true) => "int64_t",
        _ => "uint64_t",
    }
}

fn push_quals(out: &mut String, quals: Quals) {
    if quals.is_const {
        out.push_str("const");
    }
    if quals.is_volatile {
        if quals.is_const {
            out.push(' ');
        }
        out.push_str("volatile");
    }
}

/// The part of a type's spelling around the (absent) name, grown from the name outwards:
/// `*const *` before it, `[3]()` after it. The front is kept reversed so that every
/// prepend is an append, and spelling a deep typedef chain stays linear.
#[derive(Default)]
struct Declarator {
    front_reversed: String,
    back: String,
}

impl Declarator {
    fn is_empty(&self) -> bool {
        self.front_reversed.is_empty() && self.back.is_empty()
    }

    fn prepend(&mut self, text: &str) {
        self.front_reversed.extend(text.chars().rev());
    }

    fn first_char(&self) -> Option<char> {
        self.front_reversed
            .chars()
            .next_back()
            .or_else(|| self.back.chars().next())
    }

    /// An array or function declarator binds tighter than a pointer: `(*)[3]`, `(*)()`.
    fn parenthesize_pointer(&mut self) {
        if matches!(self.first_char(), Some('*' | '&')) {
            self.front_reversed.push('(');
            self.back.push(')');
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{ArrayLen, CType, CallConv, FuncType, Quals, RecordKind, Target, TypeTable};

    #[test]
    fn spells_like_luajit() {
        let mut t = TypeTable::new(Target::X86_64SysV);
        let b = *t.builtins();
        let int = b.i32;
        let p = t.pointer_to(int);
        let cp = t.qualified(p, Quals::CONST);
        let pcp = t.pointer_to(cp);
        assert_eq!(t.type_name(pcp), "int *const *");
        let cint = t.qualified(int, Quals::CONST);
        let pcint = t.pointer_to(cint);
        let cpcint = t.qualified(pcint, Quals::CONST);
        let pcpcint = t.pointer_to(cpcint);
        let all_const = t.qualified(pcpcint, Quals::CONST);
        assert_eq!(t.type_name(all_const), "const int *const *const");
        let a3 = t.array_of(int, ArrayLen::Fixed(3)).unwrap();
        let pa3 = t.pointer_to(a3);
        let apa3 = t.array_of(pa3, ArrayLen::Fixed(2)).unwrap();
        assert_eq!(t.type_name(apa3), "int (*[2])[3]");
        let f = t.intern(CType::Func(FuncType {
            ret: pa3,
            params: Box::new([int]),
            variadic: false,
            conv: CallConv::Cdecl,
        }));
        let pf = t.pointer_to(f);
        assert_eq!(t.type_name(pf), "int (*(*)())[3]");
        assert_eq!(t.type_name(f), "int (*())[3]");
        assert_eq!(t.type_name(b.i64), "int64_t");
        assert_eq!(t.type_name(b.i8), "char");
        assert_eq!(t.type_name(b.const_char_ptr), "const char *");
        assert_eq!(t.type_name(b.complex_double), "complex");
        let cv = t.qualified(
            b.u8,
            Quals {
                is_const: true,
                is_volatile: true,
            },
        );
        let pcv = t.pointer_to(cv);
        assert_eq!(t.type_name(pcv), "const volatile unsigned char *");
        let vla = t.array_of(int, ArrayLen::Variable).unwrap();
        assert_eq!(t.type_name(vla), "int [?]");
        let anon = t.new_record(RecordKind::Struct, None);
        assert_eq!(t.type_name(anon), format!("struct {}", anon.0));
        let tagged = t.new_record(RecordKind::Union, Some("u"));
        let pt = t.pointer_to(tagged);
        assert_eq!(t.type_name(pt), "union u *");
    }

    #[test]
    fn plain_char_is_char_on_each_target() {
        // AArch64 Linux: `char` is unsigned (AAPCS64 Table 3), so the signed byte is the
        // one that needs `signed`.
        let t = TypeTable::new(Target::Aarch64);
        let b = t.builtins();
        assert_eq!(t.type_name(b.char_), "char");
        assert_eq!(t.type_name(b.u8), "char");
        assert_eq!(t.type_name(b.i8), "signed char");
        assert_eq!(t.type_name(b.const_char_ptr), "const char *");
        let t = TypeTable::new(Target::AppleArm64);
        assert_eq!(t.type_name(t.builtins().u8), "unsigned char");
    }
}
