//! GNU attributes (`__attribute__((...))`), MSVC `__declspec(...)`, C11 `_Alignas`,
//! calling-convention keywords and asm labels (`__asm__("symbol")`).
//!
//! Attributes the type model knows change the declaration (`packed`, `aligned`, `mode`,
//! `vector_size`, calling conventions); every other attribute is skipped with its
//! balanced argument list, as gcc's own list grows faster than any parser.

use super::{text, Parser};
use crate::error::CdefError;
use crate::lex::{decode_string, Keyword, Punct, TokenKind};
use crate::types::*;

/// gcc's `mode` attribute (gcc internals, "Machine Modes"): a scalar mode sets the
/// width of an integer or float type; a vector mode (`V4SF`) makes a vector of that
/// scalar.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct MachineMode {
    pub scalar: ScalarMode,
    /// The lane count of a vector mode.
    pub lanes: Option<u32>,
}

/// The scalar part of a machine mode.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum ScalarMode {
    /// An integer of this many bytes: `QI` 1, `HI` 2, `SI` 4, `DI` 8, `TI` 16, `OI` 32.
    Int(u8),
    /// `SF`, `DF`; `XF` and `TF` are `long double` (16 bytes, aligned to 16).
    Float(FloatKind),
}

/// Attributes gathered for one declarator (from its specifiers and itself).
///
/// `aligned` is kept twice, because gcc treats a declaration and a type differently. A
/// member or variable takes the largest alignment asked for (`align`: a declaration's
/// alignment only grows). A typedef or type name takes the last one gcc applies
/// ([`DeclAttrs::replacing_align`]), which may lower it: gcc applies the attributes
/// after the declarator first, then the specifiers' runs of attributes from the last
/// run to the first, each run in its written order. So `int __attribute__((aligned(2)))
/// const __attribute__((aligned(8))) t` is aligned to 2 as a typedef, to 8 as a member.
#[derive(Clone, Debug, Default)]
pub(crate) struct DeclAttrs {
    /// The largest alignment asked for anywhere.
    pub align: Option<u32>,
    /// The last `aligned` of the first run of attributes among the specifiers that has one.
    pub spec_align: Option<u32>,
    /// The last `aligned` in the declarator's pointer part (`int * __attribute__((...)) t`).
    pub pointer_align: Option<u32>,
    /// The last `aligned` after the declarator.
    pub suffix_align: Option<u32>,
    pub packed: bool,
    pub mode: Option<MachineMode>,
    pub vector_size: Option<u64>,
    pub conv: Option<CallConv>,
    pub asm_name: Option<Box<str>>,
}

impl DeclAttrs {
    /// Adds the attributes of `later`, written after these: the larger alignment, and
    /// `later`'s where each says one.
    pub(crate) fn absorb(&mut self, later: DeclAttrs) {
        self.align = self.align.max(later.align);
        self.spec_align = self.spec_align.or(later.spec_align);
        self.pointer_align = later.pointer_align.or(self.pointer_align);
        self.suffix_align = later.suffix_align.or(self.suffix_align);
        self.packed |= later.packed;
        self.mode = later.mode.or(self.mode);
        self.vector_size = later.vector_size.or(self.vector_size);
        self.conv = later.conv.or(self.conv);
        self.asm_name = later.asm_name.or(self.asm_name.take());
    }

    /// The alignment a typedef or type name gets: the one gcc applies last (see above).
    pub(crate) fn replacing_align(&self) -> Option<u32> {
        self.spec_align.or(self.suffix_align).or(self.pointer_align)
    }
}

/// What one run of attributes (consecutive ones, nothing else between) held.
#[derive(Copy, Clone, Debug, Default)]
pub(crate) struct AttrRun {
    /// The run was not empty.
    pub any: bool,
    /// The alignment its last `aligned` (or `_Alignas`, `__declspec(align)`) asked for.
    pub last_align: Option<u32>,
}

/// Most alignment an attribute may ask for (gcc's limit on ELF targets is 2^28).
const MAX_ALIGNMENT: u64 = 1 << 28;

impl Parser<'_> {
    /// Parses any run of attributes, `__declspec`s, `_Alignas`, calling conventions,
    /// `__extension__` and `__ptr64` at the current token into `attrs`. Returns whether
    /// it read any. `__ptr32` is refused: LuaJIT makes a 4-byte pointer of it on 64-bit
    /// targets, which jitffi's conversions and calls do not have, and taking it as an
    /// 8-byte pointer would silently change every layout it appears in.
    pub(crate) fn attributes(&mut self, attrs: &mut DeclAttrs) -> Result<AttrRun, CdefError> {
        let mut run = AttrRun::default();
        loop {
            let align = match self.kind() {
                TokenKind::Keyword(Keyword::Attribute) => self.gnu_attribute(attrs)?,
                TokenKind::Keyword(Keyword::Declspec) => self.declspec()?,
                TokenKind::Keyword(Keyword::Alignas) => self.alignas()?,
                TokenKind::Keyword(Keyword::Extension | Keyword::Ptr64) => {
                    self.advance()?;
                    None
                }
                TokenKind::Keyword(Keyword::Ptr32) => {
                    return Err(self.error_near(text::PTR32_UNSUPPORTED));
                }
                TokenKind::Keyword(
                    kw
                    @ (Keyword::Cdecl | Keyword::Stdcall | Keyword::Fastcall | Keyword::Thiscall),
                ) => {
                    attrs.conv = Some(conv_of(kw));
                    self.advance()?;
                    None
                }
                _ => return Ok(run),
            };
            if align.is_some() {
                attrs.align = attrs.align.max(align);
                run.last_align = align;
            }
            run.any = true;
        }
    }

    /// `__attribute__ (( attribute-list ))`. Returns the alignment its last `aligned`
    /// asked for.
    fn gnu_attribute(&mut self, attrs: &mut DeclAttrs) -> Result<Option<u32>, CdefError> {
        self.advance()?;
        let mut last_align = None;
        self.expect(Punct::LParen, "(")?;
        self.expect(Punct::LParen, "(")?;
        loop {
            if self.accept(Punct::Comma)? {
                continue;
            }
            let name = match self.kind() {
                TokenKind::Ident | TokenKind::Keyword(_) => self.token_bytes(self.cur.token),
                _ => break,
            };
            let name = strip_underscores(name);
            self.advance()?;
            match name {
                b"aligned" => {
                    let align = if self.is(Punct::LParen) {
                        self.advance()?;
                        let value = self.constant_expression()?;
                        self.expect(Punct::RParen, ")")?;
                        self.alignment_value(value.value)?
                    } else {
                        // The largest alignment any type has on the target
                        // (`__BIGGEST_ALIGNMENT__`).
                        Some(self.table.target().max_align())
                    };
                    last_align = align.or(last_align);
                }
                b"packed" => attrs.packed = true,
                b"mode" => {
                    self.expect(Punct::LParen, "(")?;
                    let mode = match self.kind() {
                        TokenKind::Ident | TokenKind::Keyword(_) => {
                            machine_mode(strip_underscores(self.token_bytes(self.cur.token)))
                        }
                        _ => return Err(self.error_near(&text::expected(text::IDENT_NAME))),
                    };
                    // gcc refuses a mode it does not know; taking the type unchanged
                    // would silently give another size.
                    let Some(mode) = mode else {
                        return Err(self.error_near(text::INVALID_TYPE));
                    };
                    self.advance()?;
                    self.expect(Punct::RParen, ")")?;
                    attrs.mode = Some(mode);
                }
                b"vector_size" => {
                    self.expect(Punct::LParen, "(")?;
                    let value = self.constant_expression()?;
                    self.expect(Punct::RParen, ")")?;
                    match u64::try_from(value.value) {
                        Ok(bytes) if bytes > 0 && bytes <= MAX_ALIGNMENT => {
                            attrs.vector_size = Some(bytes)
                        }
                        _ => return Err(self.error_plain(text::INVALID_VALUE)),
                    }
                }
                b"cdecl" => attrs.conv = Some(CallConv::Cdecl),
                b"stdcall" => attrs.conv = Some(CallConv::Stdcall),
                b"fastcall" => attrs.conv = Some(CallConv::Fastcall),
                b"thiscall" => attrs.conv = Some(CallConv::Thiscall),
                _ => {
                    if self.is(Punct::LParen) {
                        self.skip_balanced()?;
                    }
                }
            }
        }
        self.expect(Punct::RParen, ")")?;
        self.expect(Punct::RParen, ")")?;
        Ok(last_align)
    }

    /// An alignment argument: a power of two up to gcc's limit; 0 asks for nothing.
    fn alignment_value(&self, value: i128) -> Result<Option<u32>, CdefError> {
        // gcc refuses what is not a power of two or beyond its limit (and ignores 0 with a
        // warning); LuaJIT silently rounds, which would give a layout gcc never makes.
        match u64::try_from(value) {
            Ok(0) => Ok(None),
            Ok(align) if align.is_power_of_two() && align <= MAX_ALIGNMENT => {
                Ok(Some(align as u32))
            }
            Ok(align) if align.is_power_of_two() => Err(self.error_plain(&format!(
                "requested alignment {align} exceeds maximum {MAX_ALIGNMENT}"
            ))),
            _ => Err(self.error_plain(&format!(
                "requested alignment {value} is not a positive power of 2"
            ))),
        }
    }

    /// `__declspec ( ... )`: `align(n)` is kept (returned, the last one), everything else
    /// skipped.
    fn declspec(&mut self) -> Result<Option<u32>, CdefError> {
        self.advance()?;
        let mut last_align = None;
        self.expect(Punct::LParen, "(")?;
        while !self.is(Punct::RParen) {
            match self.kind() {
                TokenKind::Ident if self.token_bytes(self.cur.token) == b"align" => {
                    self.advance()?;
                    self.expect(Punct::LParen, "(")?;
                    let value = self.constant_expression()?;
                    self.expect(Punct::RParen, ")")?;
                    last_align = self.alignment_value(value.value)?.or(last_align);
                }
                TokenKind::Ident | TokenKind::Keyword(_) => {
                    self.advance()?;
                    if self.is(Punct::LParen) {
                        self.skip_balanced()?;
                    }
                }
                _ => return Err(self.error_near(&text::expected(")"))),
            }
        }
        self.advance()?;
        Ok(last_align)
    }

    /// `_Alignas ( type-name )` or `_Alignas ( constant-expression )` (C11 6.7.5).
    fn alignas(&mut self) -> Result<Option<u32>, CdefError> {
        self.advance()?;
        self.expect(Punct::LParen, "(")?;
        let align = if self.starts_type() {
            let ty = self.type_name()?;
            Some(self.table.align_of(ty))
        } else {
            let value = self.constant_expression()?;
            if value.value == 0 {
                // C11 6.7.5p6: an alignment of zero has no effect.
                None
            } else {
                self.alignment_value(value.value)?
            }
        };
        self.expect(Punct::RParen, ")")?;
        Ok(align)
    }

    /// Skips a parenthesised token run, balancing nested parentheses.
    pub(crate) fn skip_balanced(&mut self) -> Result<(), CdefError> {
        self.skip_balanced_pair(Punct::LParen, Punct::RParen, ")")
    }

    /// Skips from `open` to its matching `close` (used for function bodies too).
    pub(crate) fn skip_balanced_pair(
        &mut self,
        open: Punct,
        close: Punct,
        spelled: &str,
    ) -> Result<(), CdefError> {
        let mut level = 0usize;
        loop {
            match self.kind() {
                TokenKind::Eof => return Err(self.error_near(&text::expected(spelled))),
                TokenKind::Punct(p) if p == open => level += 1,
                TokenKind::Punct(p) if p == close => {
                    level -= 1;
                    if level == 0 {
                        return self.advance();
                    }
                }
                _ => {}
            }
            self.advance()?;
        }
    }

    /// `__asm__ ( "symbol" ... )` after a declarator: the symbol to link against;
    /// adjacent strings are concatenated (C11 6.4.5p5).
    pub(crate) fn asm_label(&mut self) -> Result<Box<str>, CdefError> {
        self.advance()?;
        self.expect(Punct::LParen, "(")?;
        let mut label = Vec::new();
        while self.kind() == TokenKind::Str {
            decode_string(self.token_bytes(self.cur.token), &mut label);
            self.advance()?;
        }
        self.expect(Punct::RParen, ")")?;
        Ok(String::from_utf8_lossy(&label).into())
    }

    /// Attributes and asm labels after a declarator.
    pub(crate) fn declarator_suffix_attributes(
        &mut self,
        attrs: &mut DeclAttrs,
    ) -> Result<(), CdefError> {
        loop {
            let run = self.attributes(attrs)?;
            attrs.suffix_align = run.last_align.or(attrs.suffix_align);
            if run.any {
                continue;
            }
            if self.is_keyword(Keyword::Asm) {
                attrs.asm_name = Some(self.asm_label()?);
                continue;
            }
            return Ok(());
        }
    }

    /// `base` changed by the `mode` and `vector_size` attributes.
    pub(crate) fn apply_type_attributes(
        &mut self,
        base: TypeId,
        attrs: &DeclAttrs,
    ) -> Result<TypeId, CdefError> {
        let mut ty = base;
        if let Some(mode) = attrs.mode {
            let (plain, quals) = self.table.unqualified(ty);
            // gcc: "mode applied to inappropriate type" for an integer mode on a float
            // type and the other way round.
            let scalar = match (self.table.get(plain).clone(), mode.scalar) {
                (CType::Int(IntType { signed, .. }), ScalarMode::Int(bytes)) => {
                    self.int_of_width(bytes, signed)
                }
                (CType::WideInt { signed, .. }, ScalarMode::Int(bytes)) => {
                    self.int_of_width(bytes, signed)
                }
                (CType::Enum(_), ScalarMode::Int(bytes)) => self.int_of_width(bytes, false),
                (CType::Float(_), ScalarMode::Float(kind)) => self.table.intern(CType::Float(kind)),
                _ => return Err(self.error_plain(text::INVALID_TYPE)),
            };
            ty = match mode.lanes {
                None => self.table.qualified(scalar, quals),
                Some(lanes) => {
                    let bytes = self.table.size_of(scalar).unwrap_or(0) * u64::from(lanes);
                    self.vector_of(scalar, bytes)?
                }
            };
        }
        if let Some(bytes) = attrs.vector_size {
            let (elem, _) = self.table.unqualified(ty);
            ty = self.vector_of(elem, bytes)?;
        }
        Ok(ty)
    }

    /// The integer type of `bytes` bytes (a wide one above 8).
    fn int_of_width(&mut self, bytes: u8, signed: bool) -> TypeId {
        if bytes > 8 {
            self.table.intern(CType::WideInt { bytes, signed })
        } else {
            self.table.intern(CType::Int(IntType { bytes, signed }))
        }
    }

    /// A vector of `bytes` bytes of the scalar type `elem` (gcc: a power-of-two lane
    /// count of an integer or float type).
    fn vector_of(&mut self, elem: TypeId, bytes: u64) -> Result<TypeId, CdefError> {
        let elem_size = match self.table.get(elem) {
            CType::Int(_) | CType::WideInt { .. } | CType::Float(_) | CType::Bool => {
                self.table.size_of(elem).unwrap_or(0)
            }
            _ => 0,
        };
        let lanes = bytes.checked_div(elem_size).unwrap_or(0);
        if lanes == 0 || !bytes.is_multiple_of(elem_size) || !lanes.is_power_of_two() {
            return Err(self.error_plain(text::INVALID_TYPE));
        }
        let bytes = u32::try_from(bytes).map_err(|_| self.error_plain(text::INVALID_TYPE))?;
        Ok(self.table.intern(CType::Vector { elem, bytes }))
    }
}

fn conv_of(kw: Keyword) -> CallConv {
    match kw {
        Keyword::Stdcall => CallConv::Stdcall,
        Keyword::Fastcall => CallConv::Fastcall,
        Keyword::Thiscall => CallConv::Thiscall,
        _ => CallConv::Cdecl,
    }
}

/// `__name__` and `name` are the same attribute (gcc manual, "Attribute Syntax").
fn strip_underscores(name: &[u8]) -> &[u8] {
    if name.len() > 4 && name.starts_with(b"__") && name.ends_with(b"__") {
        &name[2..name.len() - 2]
    } else {
        name
    }
}

/// gcc machine modes for integers, floats and vectors of them (gcc internals, "Machine
/// Modes"), with x86-64's `word` and `pointer` (8 bytes): `[V<lanes>]{Q,H,S,D,T,O}I`,
/// `[V<lanes>]{S,D,X,T}F`.
fn machine_mode(name: &[u8]) -> Option<MachineMode> {
    let scalar_only = |scalar| {
        Some(MachineMode {
            scalar,
            lanes: None,
        })
    };
    match name {
        b"byte" => return scalar_only(ScalarMode::Int(1)),
        b"word" | b"pointer" | b"unwind_word" => return scalar_only(ScalarMode::Int(8)),
        _ => {}
    }
    let (lanes, scalar) = match name.strip_prefix(b"V") {
        Some(rest) => {
            let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
            let lanes: u32 = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
            (Some(lanes), &rest[digits..])
        }
        None => (None, name),
    };
    let scalar = match scalar {
        b"QI" => ScalarMode::Int(1),
        b"HI" => ScalarMode::Int(2),
        b"SI" => ScalarMode::Int(4),
        b"DI" => ScalarMode::Int(8),
        b"TI" => ScalarMode::Int(16),
        b"OI" => ScalarMode::Int(32),
        b"SF" => ScalarMode::Float(FloatKind::Float),
        b"DF" => ScalarMode::Float(FloatKind::Double),
        b"XF" | b"TF" => ScalarMode::Float(FloatKind::LongDouble),
        _ => return None,
    };
    Some(MachineMode { scalar, lanes })
}
