//! Declarations (C11 6.7): specifiers, declarators, struct/union and enum definitions,
//! type names, `_Static_assert`, and how each declaration lands in the table.
//!
//! A declarator is read inside-out (C11 6.7.6p3-4): its derivations go on a stack in
//! the order they apply to the base type (pointers left to right, then array and
//! function suffixes right to left, then the parenthesised inner declarator), and
//! [`Parser::build_type`] applies them once the whole declarator is known.

use super::attr::DeclAttrs;
use super::{text, Mode, Parser, MAX_DEPTH};
use crate::error::CdefError;
use crate::layout::{enum_int_type, layout_record, EnumAttrs, MemberDecl, RecordAttrs};
use crate::lex::{decode_string, Keyword, Punct, TokenKind};
use crate::table::TypeTable;
use crate::types::*;

/// One derivation of a declarator (C11 6.7.6.1-3), applied to the type built so far.
#[derive(Clone, Debug)]
pub(crate) enum DeclOp {
    Pointer(Quals),
    /// C++ `&`, which LuaJIT accepts.
    Ref,
    Array(ArrayLen),
    Func {
        params: Box<[TypeId]>,
        variadic: bool,
    },
    /// A calling-convention keyword inside a declarator: names the convention of the
    /// function type built just before it (`int (__stdcall *f)(int)`).
    Conv(CallConv),
}

/// Whether a declarator must, may or must not name something.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub(crate) enum NameRule {
    /// Declarations: `int;` has no declarator, but `int *;` is an error.
    Required,
    /// Parameters and struct members (where bitfields may be unnamed).
    Optional,
    /// Type names (C11 6.7.7): abstract declarators only.
    Forbidden,
}

/// Storage-class specifiers that change what a declaration declares (C11 6.7.1).
#[derive(Copy, Clone, Debug, Default)]
pub(crate) struct Storage {
    is_typedef: bool,
    is_static: bool,
}

/// The declaration specifiers of a declaration (C11 6.7p1).
#[derive(Clone, Debug)]
pub(crate) struct DeclSpec {
    /// The base type, with its qualifiers.
    ty: TypeId,
    storage: Storage,
    attrs: DeclAttrs,
    /// The specifiers define a struct or union without a tag: with no declarator it is
    /// an anonymous member (C11 6.7.2.1p13).
    anonymous_record: bool,
}

/// The builtin type specifiers seen, counted so that every spelling order works
/// (C11 6.7.2p2: `long unsigned int long` is `unsigned long long`).
#[derive(Copy, Clone, Debug, Default)]
struct BuiltinSpecifiers {
    void: u8,
    bool_: u8,
    char_: u8,
    short: u8,
    int: u8,
    long: u8,
    float: u8,
    double: u8,
    signed: u8,
    unsigned: u8,
    complex: u8,
    /// `__int8` ... `__int64`: width in bytes.
    fixed_width: Option<u8>,
}

impl BuiltinSpecifiers {
    fn any(&self) -> bool {
        self.void
            + self.bool_
            + self.char_
            + self.short
            + self.int
            + self.long
            + self.float
            + self.double
            + self.signed
            + self.unsigned
            + self.complex
            > 0
            || self.fixed_width.is_some()
    }

    fn add(&mut self, kw: Keyword) {
        let slot = match kw {
            Keyword::Void => &mut self.void,
            Keyword::Bool => &mut self.bool_,
            Keyword::Char => &mut self.char_,
            Keyword::Short => &mut self.short,
            Keyword::Int => &mut self.int,
            Keyword::Long => &mut self.long,
            Keyword::Float => &mut self.float,
            Keyword::Double => &mut self.double,
            Keyword::Float128 => {
                self.long = self.long.saturating_add(1);
                self.double = self.double.saturating_add(1);
                return;
            }
            Keyword::Signed => &mut self.signed,
            Keyword::Unsigned => &mut self.unsigned,
            Keyword::Complex => &mut self.complex,
            Keyword::Int8 | Keyword::Int16 | Keyword::Int32 | Keyword::Int64 => {
                let bytes = match kw {
                    Keyword::Int8 => 1,
                    Keyword::Int16 => 2,
                    Keyword::Int32 => 4,
                    _ => 8,
                };
                // A second width is an error: count it as a contradiction.
                if self.fixed_width.replace(bytes).is_some() {
                    self.short = self.short.saturating_add(2);
                }
                return;
            }
            _ => unreachable!("not a builtin type specifier: {kw:?}"),
        };
        *slot = slot.saturating_add(1);
    }
}

/// Keywords that name (part of) a builtin type: `unsigned long long int`, `_Complex`.
pub(super) fn is_builtin_specifier(kw: Keyword) -> bool {
    use Keyword::*;
    matches!(
        kw,
        Void | Bool
            | Char
            | Short
            | Int
            | Long
            | Float
            | Double
            | Float128
            | Signed
            | Unsigned
            | Complex
            | Int8
            | Int16
            | Int32
            | Int64
    )
}

impl<'a> Parser<'a> {
    // ---- declarations ---------------------------------------------------------------

    /// One external declaration (C11 6.9p1), or a stray `;`.
    pub(crate) fn declaration(&mut self) -> Result<(), CdefError> {
        // LuaJIT lets a text of one declaration end without its `;` (`ffi.cdef "int x"`),
        // but not the last of several.
        let may_omit_semi = !std::mem::replace(&mut self.declared_before, true);
        if self.is_keyword(Keyword::StaticAssert) {
            return self.static_assertion();
        }
        if self.accept(Punct::Semi)? {
            return Ok(());
        }
        let spec = self.decl_spec()?;
        if self.accept(Punct::Semi)? {
            return Ok(());
        }
        // A lone builtin type (`int`) still needs a declarator.
        let tagged = matches!(
            self.table.get(self.table.unqualified(spec.ty).0),
            CType::Record(_) | CType::Enum(_)
        );
        if tagged && self.cur.token.kind == TokenKind::Eof {
            if may_omit_semi {
                return Ok(());
            }
            return self.expect(Punct::Semi, ";");
        }
        loop {
            let mut attrs = spec.attrs.clone();
            let mark = self.ops.len();
            let name = self.declarator(NameRule::Required, &mut attrs)?;
            let Some(name) = name else {
                return Err(self.error_near(&text::expected(text::IDENT_NAME)));
            };
            self.declarator_suffix_attributes(&mut attrs)?;
            let ty = self.build_type(spec.ty, &attrs, mark)?;
            let is_function = self.is_function(ty);
            if is_function && self.is(Punct::LBrace) {
                // A function definition in a header (`static inline` helpers): LuaJIT
                // skips the body and keeps the prototype.
                self.skip_balanced_pair(Punct::LBrace, Punct::RBrace, "}")?;
                return self.declare_object(name, ty, spec.storage, attrs);
            }
            if spec.storage.is_static && !spec.storage.is_typedef && !is_function {
                // LuaJIT's only `static` objects are named constants (`cp_decl_constinit`).
                let value = self.static_constant(ty)?;
                let (plain, _) = self.table.unqualified(ty);
                self.declare_symbol(name, Symbol::Const { ty: plain, value })?;
                if !self.accept(Punct::Comma)? {
                    break;
                }
                continue;
            }
            self.declare_object(name, ty, spec.storage, attrs)?;
            if !self.accept(Punct::Comma)? {
                break;
            }
        }
        if may_omit_semi && self.cur.token.kind == TokenKind::Eof {
            return Ok(());
        }
        self.expect(Punct::Semi, ";")
    }

    /// `static const T name = value` with an integer `T`: the converted value. Any other
    /// static object is `invalid C type`, as in LuaJIT.
    fn static_constant(&mut self, ty: TypeId) -> Result<i64, CdefError> {
        let (plain, quals) = self.table.unqualified(ty);
        let is_bool = matches!(self.table.get(plain), CType::Bool | CType::BoolInt);
        let int_type = if is_bool {
            self.integer_type_of(plain)
        } else {
            self.integer_type_of(ty)
        };
        match int_type {
            Some(int_type) if quals.is_const => {
                self.expect(Punct::Assign, "=")?;
                let value = self.constant_expression()?;
                let value = if is_bool {
                    i128::from(value.value != 0)
                } else {
                    super::expr::wrap(value.value, int_type)
                };
                Ok(value as i64)
            }
            _ => Err(self.error_plain(text::INVALID_TYPE)),
        }
    }

    /// Declares a typedef, function or variable.
    fn declare_object(
        &mut self,
        name: &str,
        ty: TypeId,
        storage: Storage,
        attrs: DeclAttrs,
    ) -> Result<(), CdefError> {
        let symbol = if storage.is_typedef {
            let ty = match attrs.replacing_align() {
                Some(align) => self.table.intern(CType::Aligned { base: ty, align }),
                None => ty,
            };
            Symbol::Typedef(ty)
        } else if self.is_function(ty) {
            Symbol::Func {
                ty,
                asm_name: attrs.asm_name,
            }
        } else {
            let (plain, _) = self.table.unqualified(ty);
            if matches!(self.table.get(plain), CType::Void) {
                return Err(self.error_plain(text::INVALID_TYPE));
            }
            Symbol::Var {
                ty,
                asm_name: attrs.asm_name,
            }
        };
        self.declare_symbol(name, symbol)
    }

    /// Declares `name`; a redeclaration is a no-op when the declarations are the same
    /// up to fresh copies of anonymous structs, unions and enums (a header cdef'd twice).
    fn declare_symbol(&mut self, name: &str, symbol: Symbol) -> Result<(), CdefError> {
        if let Some(old) = self.table.symbol(name) {
            let same = match (old, &symbol) {
                (Symbol::Typedef(a), Symbol::Typedef(b)) => same_type(self.table, *a, *b, 0),
                (Symbol::Func { ty: a, asm_name: x }, Symbol::Func { ty: b, asm_name: y })
                | (Symbol::Var { ty: a, asm_name: x }, Symbol::Var { ty: b, asm_name: y }) => {
                    x == y && same_type(self.table, *a, *b, 0)
                }
                (Symbol::EnumConst { ty: a, value: x }, Symbol::EnumConst { ty: b, value: y })
                | (Symbol::Const { ty: a, value: x }, Symbol::Const { ty: b, value: y }) => {
                    x == y && same_type(self.table, *a, *b, 0)
                }
                _ => false,
            };
            if same {
                return Ok(());
            }
            // A later declaration may add an asm label (glibc declares `fscanf`, then
            // redeclares it with `__asm__("__isoc99_fscanf")`).
            let adds_label = match (old, &symbol) {
                (
                    Symbol::Func {
                        ty: a,
                        asm_name: None,
                    },
                    Symbol::Func {
                        ty: b,
                        asm_name: Some(_),
                    },
                )
                | (
                    Symbol::Var {
                        ty: a,
                        asm_name: None,
                    },
                    Symbol::Var {
                        ty: b,
                        asm_name: Some(_),
                    },
                ) => same_type(self.table, *a, *b, 0),
                (
                    Symbol::Func {
                        ty: a,
                        asm_name: Some(_),
                    },
                    Symbol::Func {
                        ty: b,
                        asm_name: None,
                    },
                )
                | (
                    Symbol::Var {
                        ty: a,
                        asm_name: Some(_),
                    },
                    Symbol::Var {
                        ty: b,
                        asm_name: None,
                    },
                ) => {
                    // A later plain declaration keeps the label given before.
                    if same_type(self.table, *a, *b, 0) {
                        return Ok(());
                    }
                    false
                }
                _ => false,
            };
            if adds_label {
                self.table.redeclare(name, symbol);
                return Ok(());
            }
            return Err(self.error_plain(CdefError::redefined(name).message()));
        }
        self.table
            .declare(name, symbol)
            .map_err(|e| self.error_plain(e.message()))
    }

    /// Whether `ty` is `T[]` (a flexible array member, when last in a struct).
    fn is_flexible_array(&self, ty: TypeId) -> bool {
        let (plain, _) = self.table.unqualified(ty);
        matches!(
            self.table.get(plain),
            CType::Array {
                len: ArrayLen::Flexible,
                ..
            }
        )
    }

    fn is_function(&self, ty: TypeId) -> bool {
        let (plain, _) = self.table.unqualified(ty);
        matches!(self.table.get(plain), CType::Func(_))
    }

    /// `_Static_assert ( constant-expression [, string-literal] ) ;` (C11 6.7.10).
    fn static_assertion(&mut self) -> Result<(), CdefError> {
        self.advance()?;
        self.expect(Punct::LParen, "(")?;
        let value = self.constant_expression()?;
        let mut message = Vec::new();
        if self.accept(Punct::Comma)? {
            while self.kind() == TokenKind::Str {
                decode_string(self.token_bytes(self.cur.token), &mut message);
                self.advance()?;
            }
        }
        self.expect(Punct::RParen, ")")?;
        if value.value == 0 {
            return Err(
                self.error_plain(&text::static_assert_failed(&String::from_utf8_lossy(
                    &message,
                ))),
            );
        }
        self.expect(Punct::Semi, ";")
    }

    /// A type name (C11 6.7.7): specifiers and an abstract declarator.
    pub(crate) fn type_name(&mut self) -> Result<TypeId, CdefError> {
        let spec = self.decl_spec()?;
        let mut attrs = spec.attrs.clone();
        let mark = self.ops.len();
        self.declarator(NameRule::Forbidden, &mut attrs)?;
        self.declarator_suffix_attributes(&mut attrs)?;
        let ty = self.build_type(spec.ty, &attrs, mark)?;
        Ok(match attrs.replacing_align() {
            Some(align) => self.table.intern(CType::Aligned { base: ty, align }),
            None => ty,
        })
    }

    // ---- specifiers -------------------------------------------------------------------

    /// Declaration specifiers (C11 6.7.1-6.7.5), in any order.
    pub(crate) fn decl_spec(&mut self) -> Result<DeclSpec, CdefError> {
        self.enter()?;
        let mut quals = Quals::NONE;
        let mut builtin = BuiltinSpecifiers::default();
        let mut named: Option<TypeId> = None;
        let mut storage = Storage::default();
        let mut attrs = DeclAttrs::default();
        let mut anonymous_record = false;
        loop {
            match self.kind() {
                TokenKind::Keyword(kw) => match kw {
                    Keyword::Const => quals.is_const = true,
                    Keyword::Volatile => quals.is_volatile = true,
                    Keyword::Restrict
                    | Keyword::Inline
                    | Keyword::Auto
                    | Keyword::Register
                    | Keyword::ThreadLocal
                    | Keyword::Extern => {}
                    Keyword::Typedef => storage.is_typedef = true,
                    Keyword::Static => storage.is_static = true,
                    Keyword::Attribute
                    | Keyword::Declspec
                    | Keyword::Alignas
                    | Keyword::Extension
                    | Keyword::Ptr32
                    | Keyword::Ptr64
                    | Keyword::Cdecl
                    | Keyword::Stdcall
                    | Keyword::Fastcall
                    | Keyword::Thiscall => {
                        let run = self.attributes(&mut attrs)?;
                        attrs.spec_align = attrs.spec_align.or(run.last_align);
                        continue;
                    }
                    Keyword::Struct | Keyword::Union | Keyword::Enum => {
                        if named.is_some() || builtin.any() {
                            return Err(self.error_plain(text::INVALID_TYPE));
                        }
                        named = Some(match kw {
                            Keyword::Struct => self.record_spec(
                                RecordKind::Struct,
                                &mut anonymous_record,
                                &mut attrs,
                            )?,
                            Keyword::Union => self.record_spec(
                                RecordKind::Union,
                                &mut anonymous_record,
                                &mut attrs,
                            )?,
                            _ => self.enum_spec(&mut attrs)?,
                        });
                        continue;
                    }
                    kw if is_builtin_specifier(kw) => {
                        if named.is_some() {
                            return Err(self.error_plain(text::INVALID_TYPE));
                        }
                        builtin.add(kw);
                    }
                    _ => break,
                },
                TokenKind::Ident if named.is_none() && !builtin.any() => {
                    let ty = match self.param_type() {
                        Some(ty) => ty,
                        None => match self.ident_name().and_then(|name| self.table.symbol(name)) {
                            Some(Symbol::Typedef(ty)) => *ty,
                            _ => break,
                        },
                    };
                    named = Some(ty);
                }
                _ => break,
            }
            self.advance()?;
        }
        let base = match named {
            Some(ty) => ty,
            None if builtin.any() => self.builtin_type(&builtin)?,
            None => return Err(self.error_near(text::DECL_SPEC_EXPECTED)),
        };
        let ty = self.table.qualified(base, quals);
        self.leave();
        Ok(DeclSpec {
            ty,
            storage,
            attrs,
            anonymous_record,
        })
    }

    /// The type the builtin specifiers name (C11 6.7.2p2), with LuaJIT's extras:
    /// `long long long` is `long long`; `_Bool` takes `signed` or `unsigned` (and stays
    /// `bool`) and `int`, which makes LuaJIT's four-byte `_Bool int`.
    fn builtin_type(&mut self, spec: &BuiltinSpecifiers) -> Result<TypeId, CdefError> {
        let b = *self.table.builtins();
        let invalid = || Err(self.error_plain(text::INVALID_TYPE));
        let sign_given = spec.signed + spec.unsigned > 0;
        if spec.signed + spec.unsigned > 1 && spec.signed > 0 && spec.unsigned > 0 {
            return invalid();
        }
        let others = |except: u8| {
            spec.void
                + spec.bool_
                + spec.char_
                + spec.short
                + spec.int
                + spec.long
                + spec.float
                + spec.double
                - except
        };
        if spec.void > 0 {
            return if others(spec.void) == 0
                && !sign_given
                && spec.complex == 0
                && spec.fixed_width.is_none()
            {
                Ok(b.void)
            } else {
                invalid()
            };
        }
        if spec.bool_ > 0 {
            return if spec.complex > 0 || spec.fixed_width.is_some() {
                invalid()
            } else if others(spec.bool_) == 0 {
                Ok(b.bool_)
            } else if others(spec.bool_ + spec.int) == 0 && spec.int == 1 {
                Ok(self.table.intern(CType::BoolInt))
            } else {
                invalid()
            };
        }
        if spec.float > 0
            || spec.double > 0
            || (spec.complex > 0 && spec.int + spec.char_ + spec.short == 0)
        {
            if sign_given
                || spec.fixed_width.is_some()
                || spec.float + spec.double > 1
                || spec.char_ + spec.short + spec.int > 0
            {
                return invalid();
            }
            let complex = spec.complex > 0;
            return match (spec.float > 0, spec.long) {
                (true, 0) => Ok(if complex { b.complex_float } else { b.float }),
                (false, 0) => Ok(if complex { b.complex_double } else { b.double }),
                // gcc's `_Complex long double` (32 bytes, align 16), where LuaJIT
                // falls back to `complex double`: layout follows the C compiler.
                (false, 1) if spec.double > 0 => Ok(if complex {
                    self.table.intern(CType::Complex(FloatKind::LongDouble))
                } else {
                    b.long_double
                }),
                _ => invalid(),
            };
        }
        if spec.complex > 0 {
            // `_Complex int` is a GNU extension LuaJIT does not have.
            return invalid();
        }
        let signed = spec.unsigned == 0;
        let bytes = if let Some(bytes) = spec.fixed_width {
            if spec.char_ + spec.short + spec.long > 0 {
                return invalid();
            }
            bytes
        } else if spec.char_ > 0 {
            if spec.char_ > 1 || spec.short + spec.int + spec.long > 0 {
                return invalid();
            }
            if !sign_given {
                return Ok(b.char_);
            }
            1
        } else if spec.short > 0 {
            if spec.short > 1 || spec.long > 0 || spec.int > 1 {
                return invalid();
            }
            2
        } else if spec.int > 1 || spec.long > 3 {
            return invalid();
        } else if spec.long == 1 {
            self.table.target().long_type(signed).bytes
        } else if spec.long > 1 {
            8
        } else {
            4
        };
        Ok(self.table.intern(CType::Int(IntType { bytes, signed })))
    }

    // ---- declarators --------------------------------------------------------------------

    /// Pushes a derivation, refusing declarators deeper than [`MAX_DEPTH`].
    fn push_op(&mut self, op: DeclOp) -> Result<(), CdefError> {
        if self.ops.len() >= MAX_DEPTH as usize {
            return Err(self.error_plain(text::TOO_MANY_LEVELS));
        }
        self.ops.push(op);
        Ok(())
    }

    /// A declarator (C11 6.7.6): pushes its derivations on the stack, in the order they
    /// apply, and returns the declared name.
    pub(crate) fn declarator(
        &mut self,
        rule: NameRule,
        attrs: &mut DeclAttrs,
    ) -> Result<Option<&'a str>, CdefError> {
        self.enter()?;
        // pointer (C11 6.7.6.1), with the GNU and MSVC extras allowed between stars
        loop {
            match self.kind() {
                TokenKind::Punct(Punct::Star) => {
                    self.advance()?;
                    let mut quals = Quals::NONE;
                    loop {
                        match self.kind() {
                            TokenKind::Keyword(Keyword::Const) => quals.is_const = true,
                            TokenKind::Keyword(Keyword::Volatile) => quals.is_volatile = true,
                            TokenKind::Keyword(Keyword::Restrict) => {}
                            TokenKind::Keyword(
                                Keyword::Attribute
                                | Keyword::Declspec
                                | Keyword::Extension
                                | Keyword::Ptr32
                                | Keyword::Ptr64,
                            ) => {
                                let run = self.attributes(attrs)?;
                                attrs.pointer_align = run.last_align.or(attrs.pointer_align);
                                continue;
                            }
                            _ => break,
                        }
                        self.advance()?;
                    }
                    self.push_op(DeclOp::Pointer(quals))?;
                }
                TokenKind::Punct(Punct::Amp | Punct::AmpAmp) => {
                    self.advance()?;
                    self.push_op(DeclOp::Ref)?;
                }
                TokenKind::Keyword(
                    kw
                    @ (Keyword::Cdecl | Keyword::Stdcall | Keyword::Fastcall | Keyword::Thiscall),
                ) => {
                    let conv = match kw {
                        Keyword::Stdcall => CallConv::Stdcall,
                        Keyword::Fastcall => CallConv::Fastcall,
                        Keyword::Thiscall => CallConv::Thiscall,
                        _ => CallConv::Cdecl,
                    };
                    self.advance()?;
                    self.push_op(DeclOp::Conv(conv))?;
                }
                TokenKind::Keyword(
                    Keyword::Attribute
                    | Keyword::Declspec
                    | Keyword::Extension
                    | Keyword::Alignas
                    | Keyword::Ptr32
                    | Keyword::Ptr64,
                ) => {
                    let run = self.attributes(attrs)?;
                    attrs.pointer_align = run.last_align.or(attrs.pointer_align);
                }
                TokenKind::Keyword(Keyword::Const | Keyword::Volatile | Keyword::Restrict) => {
                    self.advance()?
                }
                _ => break,
            }
        }
        let direct_start = self.ops.len();
        // direct-declarator (C11 6.7.6p1)
        let mut name = None;
        if self.is(Punct::LParen) && self.paren_starts_declarator(rule) {
            self.advance()?;
            name = self.declarator(rule, attrs)?;
            self.expect(Punct::RParen, ")")?;
        } else if rule != NameRule::Forbidden
            && self.kind() == TokenKind::Ident
            && self.param_type().is_none()
        {
            name = self.ident_name();
            self.advance()?;
        } else if rule == NameRule::Required {
            return Err(self.error_near(&text::expected(text::IDENT_NAME)));
        }
        let suffix_start = self.ops.len();
        loop {
            if self.is(Punct::LBracket) {
                self.array_suffix()?;
            } else if self.is(Punct::LParen) {
                self.function_suffix()?;
            } else {
                break;
            }
        }
        self.ops[suffix_start..].reverse();
        self.ops[direct_start..].rotate_left(suffix_start - direct_start);
        self.leave();
        Ok(name)
    }

    /// Whether `(` at the direct-declarator position opens a nested declarator rather
    /// than a parameter list (C11 6.7.6p1 vs 6.7.6.3; in type names and parameters a
    /// `(` before a type is a function's).
    fn paren_starts_declarator(&self, rule: NameRule) -> bool {
        if rule == NameRule::Required {
            return true;
        }
        let (kind, next) = self.peek();
        match kind {
            TokenKind::Punct(
                Punct::Star
                | Punct::Amp
                | Punct::AmpAmp
                | Punct::LParen
                | Punct::LBracket
                | Punct::Caret,
            ) => true,
            TokenKind::Keyword(
                Keyword::Attribute
                | Keyword::Declspec
                | Keyword::Cdecl
                | Keyword::Stdcall
                | Keyword::Fastcall
                | Keyword::Thiscall,
            ) => true,
            TokenKind::Ident if rule == NameRule::Optional => {
                !self.peek_starts_type() && !matches!(next, Some(super::Param::Type(_)))
            }
            _ => false,
        }
    }

    /// `[ n ]`, `[]`, `[?]` (C11 6.7.6.2; `?` is LuaJIT's variable length).
    fn array_suffix(&mut self) -> Result<(), CdefError> {
        self.advance()?;
        // `[static 3]`, `[const]` in parameters (C11 6.7.6.3p7): dropped with the decay.
        while matches!(
            self.kind(),
            TokenKind::Keyword(
                Keyword::Static | Keyword::Const | Keyword::Volatile | Keyword::Restrict
            )
        ) {
            self.advance()?;
        }
        let len = if self.is(Punct::RBracket) {
            ArrayLen::Flexible
        } else if self.is(Punct::Question) {
            self.advance()?;
            ArrayLen::Variable
        } else if self.is(Punct::Star) && self.peek().0 == TokenKind::Punct(Punct::RBracket) {
            self.advance()?;
            ArrayLen::Flexible
        } else {
            let value = self.constant_expression()?;
            match u64::try_from(value.value) {
                Ok(n) => ArrayLen::Fixed(n),
                Err(_) => return Err(self.error_plain(text::SIZE_UNKNOWN)),
            }
        };
        self.expect(Punct::RBracket, "]")?;
        self.push_op(DeclOp::Array(len))
    }

    /// `( parameter-type-list )` (C11 6.7.6.3); `()` means no parameters, as LuaJIT
    /// reads it.
    fn function_suffix(&mut self) -> Result<(), CdefError> {
        self.advance()?;
        self.enter()?;
        let mut params = Vec::new();
        let mut variadic = false;
        if !self.is(Punct::RParen) {
            loop {
                if self.accept(Punct::Ellipsis)? {
                    variadic = true;
                    break;
                }
                let spec = self.decl_spec()?;
                let mut attrs = spec.attrs.clone();
                let mark = self.ops.len();
                self.declarator(NameRule::Optional, &mut attrs)?;
                self.declarator_suffix_attributes(&mut attrs)?;
                let ty = self.build_type(spec.ty, &attrs, mark)?;
                let (plain, _) = self.table.unqualified(ty);
                if matches!(self.table.get(plain), CType::Void) {
                    // `(void)` alone means no parameters (C11 6.7.6.3p10).
                    if params.is_empty() {
                        break;
                    }
                    return Err(self.error_plain(text::INVALID_TYPE));
                }
                params.push(self.adjust_parameter(ty));
                if !self.accept(Punct::Comma)? {
                    break;
                }
            }
        }
        self.expect(Punct::RParen, ")")?;
        self.leave();
        self.push_op(DeclOp::Func {
            params: params.into_boxed_slice(),
            variadic,
        })
    }

    /// A parameter's type as the function type holds it (C11 6.7.6.3p7-8, p15): arrays
    /// and functions become pointers, top-level qualifiers go.
    fn adjust_parameter(&mut self, ty: TypeId) -> TypeId {
        let (plain, _) = self.table.unqualified(ty);
        match self.table.get(plain).clone() {
            CType::Array { elem, .. } => self.table.pointer_to(elem),
            CType::Func(_) => self.table.pointer_to(plain),
            _ => match self.table.get(ty) {
                CType::Qualified { base, .. } => *base,
                _ => ty,
            },
        }
    }

    /// Applies the derivations from `mark` on to `base` (after the `mode` and
    /// `vector_size` attributes), and pops them.
    pub(crate) fn build_type(
        &mut self,
        base: TypeId,
        attrs: &DeclAttrs,
        mark: usize,
    ) -> Result<TypeId, CdefError> {
        let result = self.apply_ops(base, attrs, mark);
        self.ops.truncate(mark);
        result
    }

    fn apply_ops(
        &mut self,
        base: TypeId,
        attrs: &DeclAttrs,
        mark: usize,
    ) -> Result<TypeId, CdefError> {
        let mut ty = self.apply_type_attributes(base, attrs)?;
        let mut pending_conv = attrs.conv;
        for index in mark..self.ops.len() {
            let op = std::mem::replace(&mut self.ops[index], DeclOp::Ref);
            let (plain, _) = self.table.unqualified(ty);
            let plain_type = self.table.get(plain).clone();
            ty = match op {
                DeclOp::Pointer(quals) => {
                    if matches!(plain_type, CType::Ref(_)) {
                        return Err(self.error_plain(text::INVALID_TYPE));
                    }
                    let pointer = self.table.pointer_to(ty);
                    self.table.qualified(pointer, quals)
                }
                DeclOp::Ref => match plain_type {
                    // `T & &` collapses to `T &`.
                    CType::Ref(_) => ty,
                    _ => self.table.intern(CType::Ref(ty)),
                },
                DeclOp::Array(len) => {
                    match plain_type {
                        CType::Ref(_) => return Err(self.error_plain(text::INVALID_TYPE)),
                        _ if self.table.size_of(ty).is_none() => {
                            return Err(self.error_plain(text::SIZE_UNKNOWN))
                        }
                        _ => {}
                    }
                    self.table
                        .array_of(ty, len)
                        .map_err(|e| self.error_plain(e.message()))?
                }
                DeclOp::Func { params, variadic } => {
                    if matches!(plain_type, CType::Array { .. } | CType::Func(_)) {
                        return Err(self.error_plain(text::INVALID_TYPE));
                    }
                    let conv = pending_conv.take().unwrap_or_default();
                    self.table.intern(CType::Func(FuncType {
                        ret: ty,
                        params,
                        variadic,
                        conv,
                    }))
                }
                DeclOp::Conv(conv) => match plain_type {
                    CType::Func(mut func) => {
                        func.conv = conv;
                        self.table.intern(CType::Func(func))
                    }
                    _ => {
                        pending_conv = Some(conv);
                        ty
                    }
                },
            };
        }
        Ok(ty)
    }

    // ---- structs and unions -----------------------------------------------------------

    /// `struct`/`union` specifier (C11 6.7.2.1): a reference to a tag, a forward
    /// declaration, or a definition.
    fn record_spec(
        &mut self,
        kind: RecordKind,
        anonymous: &mut bool,
        spec_attrs: &mut DeclAttrs,
    ) -> Result<TypeId, CdefError> {
        self.advance()?;
        let mut attrs = DeclAttrs::default();
        self.attributes(&mut attrs)?;
        let tag = self.tag_name()?;
        let mut after_tag = DeclAttrs::default();
        after_tag.spec_align = self.attributes(&mut after_tag)?.last_align;
        if !self.is(Punct::LBrace) {
            let Some(tag) = tag else {
                return Err(self.error_near(&text::expected(text::IDENT_NAME)));
            };
            // `struct s __attribute__((aligned(16))) x;`: after a tag that starts no
            // definition, attributes are the declaration's, as gcc reads them (before
            // the tag, gcc ignores them on a reference).
            spec_attrs.absorb(after_tag);
            return self.tag_reference(tag, Some(kind));
        }
        attrs.absorb(after_tag);
        let (ty, redefinition) = match tag {
            Some(tag) => match self.table.tag(tag) {
                Some(existing) => {
                    let complete = match self.table.get(existing) {
                        CType::Record(rid) if self.table.record(*rid).kind == kind => {
                            self.table.record(*rid).body.is_some()
                        }
                        _ => return Err(self.error_plain(CdefError::redefined(tag).message())),
                    };
                    (existing, complete)
                }
                None => {
                    let ty = self.table.new_record(kind, Some(tag));
                    self.table.set_tag(tag, ty);
                    (ty, false)
                }
            },
            None => {
                *anonymous = true;
                (self.table.new_record(kind, None), false)
            }
        };
        // LuaJIT: "attempt to redefine" a record inside its own body
        // (`struct s { struct s { int x; } a; };`).
        if self.defining.contains(&ty) {
            return Err(self.error_plain(CdefError::redefined(tag.unwrap_or_default()).message()));
        }
        self.enter()?;
        self.defining.push(ty);
        let members = self.record_members();
        self.defining.pop();
        let (members, constants) = members?;
        self.leave();
        // Attributes right after `}` belong to the record (gcc manual, "Type Attributes").
        self.attributes(&mut attrs)?;
        let record_attrs = RecordAttrs {
            packed: attrs.packed,
            align: attrs.align,
            pragma_pack: self.pack,
        };
        let mut body = layout_record(self.table, kind, &members, &record_attrs)
            .map_err(|e| self.error_plain(e.message()))?;
        body.constants = constants;
        let CType::Record(rid) = *self.table.get(ty) else {
            unreachable!("record type")
        };
        if redefinition {
            let old = self.table.record(rid).body.as_ref();
            if !old.is_some_and(|old| same_body(self.table, old, &body, 0)) {
                let tag = tag.unwrap_or_default();
                return Err(self.error_plain(CdefError::redefined(tag).message()));
            }
        } else {
            self.table.complete_record(rid, body);
        }
        Ok(ty)
    }

    /// The optional tag after `struct`, `union` or `enum`.
    fn tag_name(&mut self) -> Result<Option<&'a str>, CdefError> {
        if self.kind() == TokenKind::Ident && self.param_type().is_none() {
            let name = self.ident_name();
            self.advance()?;
            return Ok(name);
        }
        Ok(None)
    }

    /// The type a tag names; an undeclared tag declares an incomplete type
    /// (C11 6.7.2.3p8), except in a type name, where LuaJIT refuses it.
    fn tag_reference(
        &mut self,
        tag: &str,
        record: Option<RecordKind>,
    ) -> Result<TypeId, CdefError> {
        if let Some(ty) = self.table.tag(tag) {
            let matches = match (self.table.get(ty), record) {
                (CType::Record(rid), Some(kind)) => self.table.record(*rid).kind == kind,
                (CType::Enum(_), None) => true,
                _ => false,
            };
            if !matches {
                return Err(self.error_plain(CdefError::redefined(tag).message()));
            }
            return Ok(ty);
        }
        if self.mode == Mode::TypeName {
            return Err(self.error_plain(&text::implicit_tag(tag)));
        }
        let ty = match record {
            Some(kind) => self.table.new_record(kind, Some(tag)),
            None => self.table.new_enum(Some(tag)),
        };
        self.table.set_tag(tag, ty);
        Ok(ty)
    }

    /// `{ struct-declaration-list }`: the members as declared, for layout, and the
    /// record's named constants (LuaJIT's: `static const` members, and the constants of
    /// an enum member without a declarator, which are also declared globally).
    fn record_members(&mut self) -> Result<(Vec<MemberDecl>, Vec<RecordConst>), CdefError> {
        self.advance()?;
        let mut members: Vec<MemberDecl> = Vec::new();
        let mut constants: Vec<RecordConst> = Vec::new();
        while !self.is(Punct::RBrace) {
            if self.is_keyword(Keyword::StaticAssert) {
                self.static_assertion()?;
                continue;
            }
            if self.accept(Punct::Semi)? {
                continue;
            }
            let spec = self.decl_spec()?;
            // A `[?]` member must be the last (LuaJIT sizes it on allocation).
            if members.last().is_some_and(|m| self.table.is_vla(m.ty)) {
                return Err(self.error_near(&text::expected("}")));
            }
            if self.is(Punct::Semi) {
                let (plain, _) = self.table.unqualified(spec.ty);
                let named_record = matches!(self.table.get(plain), CType::Record(_));
                if named_record && !spec.anonymous_record {
                    // LuaJIT embeds an unnamed member of a named record type too
                    // (`struct { struct pt; }`, `struct { pt_t; int z; }`), as gcc does
                    // with -fms-extensions: laid out as a member of that type, its
                    // members reachable through the parent. Not a `[?]` record.
                    let vla = self.table.is_vla(spec.ty);
                    if self.table.size_of(spec.ty).is_none() && !vla {
                        return Err(self.error_plain(text::SIZE_UNKNOWN));
                    }
                    if vla {
                        return Err(self.error_near(&text::expected(text::IDENT_NAME)));
                    }
                }
                if spec.anonymous_record || named_record {
                    members.push(MemberDecl {
                        name: None,
                        ty: spec.ty,
                        bit_width: None,
                        packed: spec.attrs.packed,
                        align: spec.attrs.align,
                    });
                } else if let CType::Enum(eid) = *self.table.get(self.table.unqualified(spec.ty).0)
                {
                    let def = self.table.enum_def(eid).clone();
                    let ty = self
                        .table
                        .intern(CType::Int(def.int_type.unwrap_or(IntType::I32)));
                    constants.extend(def.constants.into_iter().map(|(name, value)| RecordConst {
                        name,
                        ty,
                        value,
                    }));
                } else {
                    // LuaJIT: only a record or an enum may go without a declarator.
                    return Err(self.error_near(&text::expected(text::IDENT_NAME)));
                }
            } else if spec.storage.is_static {
                loop {
                    constants.push(self.record_constant(&spec)?);
                    if !self.accept(Punct::Comma)? {
                        break;
                    }
                }
            } else {
                loop {
                    let member = self.member_declarator(&spec)?;
                    members.push(member);
                    if !self.accept(Punct::Comma)? {
                        break;
                    }
                }
            }
            self.expect(Punct::Semi, ";")?;
        }
        self.advance()?;
        Ok((members, constants))
    }

    /// `static const T name = value` inside a record (LuaJIT's `cp_decl_constinit`): `T`
    /// must be a const integer type; anything else is `invalid C type`.
    fn record_constant(&mut self, spec: &DeclSpec) -> Result<RecordConst, CdefError> {
        let mut attrs = spec.attrs.clone();
        let mark = self.ops.len();
        let Some(name) = self.declarator(NameRule::Required, &mut attrs)? else {
            return Err(self.error_near(&text::expected(text::IDENT_NAME)));
        };
        self.declarator_suffix_attributes(&mut attrs)?;
        let ty = self.build_type(spec.ty, &attrs, mark)?;
        if self.is_function(ty) {
            return Err(self.error_plain(text::INVALID_TYPE));
        }
        let value = self.static_constant(ty)?;
        let (plain, _) = self.table.unqualified(ty);
        let ty = match self.table.get(plain) {
            CType::Bool | CType::BoolInt | CType::Int(_) => plain,
            _ => {
                let int = self.integer_type_of(plain).unwrap_or(IntType::I32);
                self.table.intern(CType::Int(int))
            }
        };
        Ok(RecordConst {
            name: name.into(),
            ty,
            value,
        })
    }

    /// One member declarator, with its bitfield width (C11 6.7.2.1p9-12).
    fn member_declarator(&mut self, spec: &DeclSpec) -> Result<MemberDecl, CdefError> {
        let mut attrs = spec.attrs.clone();
        let mark = self.ops.len();
        let name = if self.is(Punct::Colon) {
            None
        } else {
            self.declarator(NameRule::Optional, &mut attrs)?
        };
        let mut width = None;
        if self.accept(Punct::Colon)? {
            width = Some(self.constant_expression()?);
        }
        self.declarator_suffix_attributes(&mut attrs)?;
        if name.is_none() && width.is_none() {
            self.ops.truncate(mark);
            return Err(self.error_near(&text::expected(text::IDENT_NAME)));
        }
        let ty = self.build_type(spec.ty, &attrs, mark)?;
        if self.is_function(ty) || !(self.table.is_complete(ty) || self.is_flexible_array(ty)) {
            return Err(self.error_plain(text::SIZE_UNKNOWN));
        }
        let bad_width = || self.with_line(format!("{} near ':'", text::INVALID_VALUE));
        let bit_width = match width {
            None => None,
            Some(width) => {
                let (plain, _) = self.table.unqualified(ty);
                let bits = match self.table.get(plain) {
                    CType::Bool | CType::BoolInt => 1,
                    _ => match self.integer_type_of(ty) {
                        Some(int) => int.bits(),
                        None => return Err(bad_width()),
                    },
                };
                if width.value < 0 {
                    return Err(self.error_plain(text::SIZE_UNKNOWN));
                }
                if width.value > i128::from(bits) || (width.value == 0 && name.is_some()) {
                    return Err(bad_width());
                }
                Some(width.value as u32)
            }
        };
        Ok(MemberDecl {
            name: name.map(Into::into),
            ty,
            bit_width,
            packed: attrs.packed,
            align: attrs.align,
        })
    }

    // ---- enums --------------------------------------------------------------------------

    /// `enum` specifier (C11 6.7.2.2), with C23's fixed underlying type `enum e : T`.
    /// Attributes after the tag of a reference go to `spec_attrs`, as in [`Self::record_spec`].
    /// Of the attributes of a definition (before the tag, after it, after `}`) only
    /// `packed` counts: gcc 12 ignores `aligned` on an enum type.
    fn enum_spec(&mut self, spec_attrs: &mut DeclAttrs) -> Result<TypeId, CdefError> {
        self.advance()?;
        let mut attrs = DeclAttrs::default();
        self.attributes(&mut attrs)?;
        let tag = self.tag_name()?;
        let mut after_tag = DeclAttrs::default();
        after_tag.spec_align = self.attributes(&mut after_tag)?.last_align;
        let mut fixed = None;
        if self.is(Punct::Colon) && self.peek_starts_type() {
            self.advance()?;
            let ty = self.type_name()?;
            match self.integer_type_of(ty) {
                Some(int) => fixed = Some(int),
                None => return Err(self.error_plain(text::INVALID_TYPE)),
            }
        }
        if !self.is(Punct::LBrace) {
            let Some(tag) = tag else {
                return Err(self.error_near(&text::expected(text::IDENT_NAME)));
            };
            spec_attrs.absorb(after_tag);
            return self.tag_reference(tag, None);
        }
        attrs.absorb(after_tag);
        self.advance()?;
        let scope_start = self.enum_scope.len();
        let mut next: i128 = 0;
        let (mut min, mut max) = (0i128, 0i128);
        while !self.is(Punct::RBrace) {
            let Some(name) = (if self.param_type().is_none() {
                self.ident_name()
            } else {
                None
            }) else {
                return Err(self.error_near(&text::expected(text::IDENT_NAME)));
            };
            self.advance()?;
            let mut ignored = DeclAttrs::default();
            self.attributes(&mut ignored)?;
            if self.accept(Punct::Assign)? {
                next = self.constant_expression()?.value;
            } else if next > i128::from(u64::MAX) {
                return Err(self.error_plain(text::INVALID_VALUE));
            }
            if self.enum_scope.len() == scope_start {
                (min, max) = (next, next);
            } else {
                (min, max) = (min.min(next), max.max(next));
            }
            self.enum_scope.push((name.into(), next as i64));
            next += 1;
            if !self.accept(Punct::Comma)? {
                break;
            }
        }
        self.expect(Punct::RBrace, "}")?;
        self.attributes(&mut attrs)?;
        let constants: Vec<(Box<str>, i64)> = self.enum_scope.drain(scope_start..).collect();
        let enum_attrs = EnumAttrs {
            packed: attrs.packed,
            fixed,
        };
        let int_type =
            enum_int_type(min, max, &enum_attrs).map_err(|e| self.error_plain(e.message()))?;
        let def = EnumDef {
            tag: tag.map(Into::into),
            int_type: Some(int_type),
            constants,
        };
        let ty = self.enum_type_for(tag, def.clone())?;
        for (name, value) in def.constants {
            self.declare_symbol(&name, Symbol::EnumConst { ty, value })?;
        }
        Ok(ty)
    }

    /// The enum type a definition goes to: the tag's (completing a forward declaration,
    /// or the same definition again), an identical anonymous enum declared before, or
    /// a new one.
    fn enum_type_for(&mut self, tag: Option<&str>, def: EnumDef) -> Result<TypeId, CdefError> {
        if let Some(tag) = tag {
            if let Some(existing) = self.table.tag(tag) {
                let CType::Enum(eid) = *self.table.get(existing) else {
                    return Err(self.error_plain(CdefError::redefined(tag).message()));
                };
                let old = self.table.enum_def(eid);
                if old.int_type.is_none() {
                    self.table.complete_enum(eid, def);
                } else if *old != def {
                    return Err(self.error_plain(CdefError::redefined(tag).message()));
                }
                return Ok(existing);
            }
            let ty = self.table.new_enum(Some(tag));
            self.table.set_tag(tag, ty);
            let CType::Enum(eid) = *self.table.get(ty) else {
                unreachable!("enum type")
            };
            self.table.complete_enum(eid, def);
            return Ok(ty);
        }
        if let Some((first, _)) = def.constants.first() {
            if let Some(Symbol::EnumConst { ty, .. }) = self.table.symbol(first) {
                if let CType::Enum(eid) = *self.table.get(*ty) {
                    if *self.table.enum_def(eid) == def {
                        return Ok(*ty);
                    }
                }
            }
        }
        let ty = self.table.new_enum(None);
        let CType::Enum(eid) = *self.table.get(ty) else {
            unreachable!("enum type")
        };
        self.table.complete_enum(eid, def);
        Ok(ty)
    }
}

/// Whether two types are the same declaration: equal ids, or built the same way from
/// anonymous records and enums with the same members (the copies a repeated cdef makes).
pub(crate) fn same_type(table: &TypeTable, a: TypeId, b: TypeId, depth: u32) -> bool {
    if a == b {
        return true;
    }
    if depth > MAX_DEPTH {
        return false;
    }
    let same = |x: TypeId, y: TypeId| same_type(table, x, y, depth + 1);
    match (table.get(a), table.get(b)) {
        (CType::Pointer(x), CType::Pointer(y)) | (CType::Ref(x), CType::Ref(y)) => same(*x, *y),
        (CType::Array { elem: x, len: m }, CType::Array { elem: y, len: n }) => {
            m == n && same(*x, *y)
        }
        (CType::Qualified { base: x, quals: p }, CType::Qualified { base: y, quals: q }) => {
            p == q && same(*x, *y)
        }
        (CType::Aligned { base: x, align: p }, CType::Aligned { base: y, align: q }) => {
            p == q && same(*x, *y)
        }
        (CType::Vector { elem: x, bytes: p }, CType::Vector { elem: y, bytes: q }) => {
            p == q && same(*x, *y)
        }
        (CType::Func(f), CType::Func(g)) => {
            f.variadic == g.variadic
                && f.conv == g.conv
                && f.params.len() == g.params.len()
                && same(f.ret, g.ret)
                && f.params
                    .iter()
                    .zip(g.params.iter())
                    .all(|(x, y)| same(*x, *y))
        }
        (CType::Record(r), CType::Record(s)) => {
            let (r, s) = (table.record(*r), table.record(*s));
            r.tag.is_none()
                && s.tag.is_none()
                && r.kind == s.kind
                && match (&r.body, &s.body) {
                    (Some(x), Some(y)) => same_body(table, x, y, depth + 1),
                    _ => false,
                }
        }
        (CType::Enum(e), CType::Enum(f)) => {
            let (e, f) = (table.enum_def(*e), table.enum_def(*f));
            e.tag.is_none() && f.tag.is_none() && e == f
        }
        _ => false,
    }
}

/// Whether two record bodies have the same layout and the same members.
fn same_body(table: &TypeTable, a: &RecordBody, b: &RecordBody, depth: u32) -> bool {
    a.size == b.size
        && a.align == b.align
        && a.constants == b.constants
        && a.fields.len() == b.fields.len()
        && a.fields.iter().zip(&b.fields).all(|(x, y)| {
            x.name == y.name
                && x.offset == y.offset
                && x.bits == y.bits
                && same_type(table, x.ty, y.ty, depth + 1)
        })
}
