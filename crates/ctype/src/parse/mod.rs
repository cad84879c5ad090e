//! The C declaration parser behind `ffi.cdef` and `ffi.typeof`: what LuaJIT's C parser
//! accepts, plus what real system headers contain (GNU attributes, asm labels,
//! `#pragma pack`, object-like `#define` constants, `_Static_assert`).
//!
//! A recursive-descent parser over [`crate::lex`] tokens that builds types in the
//! [`TypeTable`] as it goes; the whole call runs inside one table transaction, so a
//! failed `cdef` changes nothing. Submodules: `decl` (specifiers, declarators, records,
//! enums), `expr` (integer constant expressions), `attr` (attributes and asm labels).
//! Nesting is bounded ([`MAX_DEPTH`]) so that no input can overflow the stack.
//!
//! Error texts are LuaJIT's (all in the private `text` module), with ` at line N` past the first line.
//! Deliberate differences from LuaJIT's parser:
//! - a conflicting redeclaration (`typedef int t; typedef double t;`, a prototype with
//!   other parameters) is `attempt to redefine`; LuaJIT keeps the first silently. An
//!   identical one is a no-op, including a struct body or an anonymous struct/enum given
//!   again (LuaJIT refuses a second identical struct body);
//! - integer constants are 64-bit with C's types and usual arithmetic conversions
//!   (LuaJIT: 32-bit, larger literals are `malformed number`); shift counts are taken
//!   modulo the width;
//! - `#define NAME <integer constant expression>` declares a constant; other
//!   directives than `#pragma pack` and `#define` are skipped (LuaJIT errors on them);
//!   malformed `#pragma pack` arguments are ignored, as gcc ignores them;
//! - records keep LuaJIT's named constants (`static const` members, the constants of
//!   an enum member without a declarator) in [`RecordBody::constants`]; like global
//!   ones they may be 64-bit or `bool` (LuaJIT: 32-bit integers only);
//! - accepted beyond LuaJIT: `_Static_assert`, `enum e : T`, 64-bit bitfields,
//!   `_Float32`/`_Float64`/`_Float128` (the last as `long double`), a later
//!   declaration adding an asm label (glibc's `fscanf`);
//! - refused beyond LuaJIT: variables of type `void`, `void` as a non-first parameter,
//!   non-power-of-two `vector_size` lane counts; `__ptr32` (LuaJIT: a 4-byte pointer on
//!   64-bit targets, which the ffi's conversions and calls do not have);
//! - records may be as large as any type, 2^31 - 1 bytes (LuaJIT refuses a member of
//!   512 MiB or more, and a record past 512 MiB: its bit offsets are 32-bit).

mod attr;
mod decl;
mod expr;

use crate::error::CdefError;
use crate::lex::{remove_line_splices, Keyword, Lexer, PackPragma, Punct, Token, TokenKind};
use crate::table::TypeTable;
use crate::types::*;

/// A `$` substitution, as LuaJIT takes them from the extra arguments of `ffi.cdef` and
/// `ffi.typeof`.
#[derive(Clone, Debug, PartialEq)]
pub enum Param {
    /// A ctype: stands where a type name may.
    Type(TypeId),
    /// A number: an integer constant (array size, enum value ...).
    Int(i64),
    /// A string: an identifier (declarator name, tag, field name).
    Name(String),
}

/// Deepest nesting of declarators, records, parameter lists and expressions, and the most
/// derivations (`*`, `[n]`, `(...)`) one declarator may stack. Far above real headers,
/// far below what would exhaust the stack.
pub const MAX_DEPTH: u32 = 200;

/// Most entries on the `#pragma pack(push)` stack.
const MAX_PACK_STACK: usize = 64;

/// LuaJIT's error texts (`lj_errmsg.h`), the ones the C parser raises. One place, so
/// that they stay identical to what Lua code matches on.
pub(crate) mod text {
    pub const DECL_SPEC_EXPECTED: &str = "declaration specifier expected";
    pub const UNEXPECTED_SYMBOL: &str = "unexpected symbol";
    pub const MALFORMED_NUMBER: &str = "malformed number";
    pub const UNFINISHED_STRING: &str = "unfinished string";
    pub const INVALID_TYPE: &str = "invalid C type";
    pub const INVALID_VALUE: &str = "invalid value";
    pub const SIZE_UNKNOWN: &str = crate::CdefError::SIZE_UNKNOWN;
    pub const TOO_MANY_LEVELS: &str = "chunk has too many syntax levels";
    pub const WRONG_PARAM_COUNT: &str = "wrong number of type parameters";
    /// Not LuaJIT's (it has 32-bit pointers): says what to write instead.
    pub const PTR32_UNSUPPORTED: &str =
        "32-bit pointers (__ptr32) are not supported, declare a uint32_t instead";
    pub const EOF_NAME: &str = "<eof>";
    pub const IDENT_NAME: &str = "<identifier>";

    pub fn expected(what: &str) -> String {
        format!("'{what}' expected")
    }

    pub fn implicit_tag(tag: &str) -> String {
        format!("undeclared or implicit tag '{tag}'")
    }

    /// Not LuaJIT's (it has no `_Static_assert`): gcc's wording.
    pub fn static_assert_failed(message: &str) -> String {
        format!("static assertion failed: {message}")
    }
}

/// What is being parsed: declarations (`ffi.cdef`) or one type name (`ffi.typeof`).
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
enum Mode {
    Declarations,
    TypeName,
}

/// The current token, possibly substituted from a `$` parameter.
#[derive(Copy, Clone, Debug)]
struct Current {
    token: Token,
    /// Index of the parameter it came from.
    param: Option<usize>,
}

/// The parser state of one `cdef` or `typeof` call.
pub(crate) struct Parser<'a> {
    table: &'a mut TypeTable,
    src: &'a [u8],
    lexer: Lexer<'a>,
    cur: Current,
    params: &'a [Param],
    next_param: usize,
    mode: Mode,
    depth: u32,
    /// `#pragma pack` value in effect, and its pushed values.
    pack: Option<u32>,
    pack_stack: Vec<Option<u32>>,
    /// Constants of the enum being defined: visible to its later values before they
    /// are declared.
    enum_scope: Vec<(Box<str>, i64)>,
    /// Declarator derivations under construction (see `decl`).
    ops: Vec<decl::DeclOp>,
    /// Inside an operand C does not evaluate (`0 && 1/0`): arithmetic errors yield 0.
    unevaluated: u32,
    /// A declaration (or a stray `;`) came before the current one in this text.
    declared_before: bool,
    /// Records whose body is being parsed: one may not be defined again inside itself.
    defining: Vec<TypeId>,
}

impl TypeTable {
    /// `ffi.cdef`: parses declarations into the table. Transactional: on error nothing
    /// changes.
    pub fn cdef(&mut self, src: &str, params: &[Param]) -> Result<(), CdefError> {
        self.parse_with(src, params, Mode::Declarations, |parser| {
            while parser.cur.token.kind != TokenKind::Eof {
                parser.declaration()?;
            }
            Ok(())
        })
    }

    /// `ffi.typeof`, `ffi.new`, `ffi.cast`: parses one abstract type name (`int *`,
    /// `struct foo`, `int[?]`, `struct { int a; }`). Transactional.
    pub fn parse_type(&mut self, src: &str, params: &[Param]) -> Result<TypeId, CdefError> {
        self.parse_with(src, params, Mode::TypeName, |parser| {
            let ty = parser.type_name()?;
            if parser.cur.token.kind != TokenKind::Eof {
                return Err(parser.error_near(&text::expected(text::EOF_NAME)));
            }
            Ok(ty)
        })
    }

    /// Runs `parse` on a parser over `src` (line splices removed, first token read) in
    /// one table transaction, then checks that every `$` parameter was used.
    fn parse_with<T>(
        &mut self,
        src: &str,
        params: &[Param],
        mode: Mode,
        parse: impl FnOnce(&mut Parser<'_>) -> Result<T, CdefError>,
    ) -> Result<T, CdefError> {
        let spliced = remove_line_splices(src.as_bytes());
        let (text, splices) = match &spliced {
            Some((text, splices)) => (&text[..], &splices[..]),
            None => (src.as_bytes(), &[][..]),
        };
        self.transaction(|table| {
            let lexer = Lexer::with_splices(text, splices);
            let mut parser = Parser::new(table, text, lexer, params, mode);
            parser.advance()?;
            let result = parse(&mut parser)?;
            parser.check_params_used()?;
            Ok(result)
        })
    }
}

impl<'a> Parser<'a> {
    fn new(
        table: &'a mut TypeTable,
        src: &'a [u8],
        lexer: Lexer<'a>,
        params: &'a [Param],
        mode: Mode,
    ) -> Parser<'a> {
        let eof = Token {
            kind: TokenKind::Eof,
            start: 0,
            end: 0,
            line: 1,
            int: 0,
            suffix: Default::default(),
            body: (0, 0),
        };
        Parser {
            table,
            src,
            lexer,
            cur: Current {
                token: eof,
                param: None,
            },
            params,
            next_param: 0,
            mode,
            depth: 0,
            pack: None,
            pack_stack: Vec::new(),
            enum_scope: Vec::new(),
            ops: Vec::new(),
            unevaluated: 0,
            declared_before: false,
            defining: Vec::new(),
        }
    }

    fn check_params_used(&self) -> Result<(), CdefError> {
        if self.next_param != self.params.len() {
            return Err(self.error_plain(text::WRONG_PARAM_COUNT));
        }
        Ok(())
    }

    // ---- tokens -----------------------------------------------------------------------

    fn kind(&self) -> TokenKind {
        self.cur.token.kind
    }

    fn is(&self, punct: Punct) -> bool {
        self.cur.token.kind == TokenKind::Punct(punct)
    }

    fn is_keyword(&self, keyword: Keyword) -> bool {
        self.cur.token.kind == TokenKind::Keyword(keyword)
    }

    /// Moves to the next token, acting on directives and substituting `$` parameters.
    fn advance(&mut self) -> Result<(), CdefError> {
        loop {
            let token = self.lexer.next_token();
            match token.kind {
                TokenKind::Pragma(pragma) => self.apply_pack(pragma)?,
                TokenKind::Define => self.define(token),
                TokenKind::BadNumber => {
                    self.cur = Current { token, param: None };
                    return Err(self.error_near(text::MALFORMED_NUMBER));
                }
                TokenKind::Unfinished => {
                    let mut at_end = token;
                    at_end.kind = TokenKind::Eof;
                    self.cur = Current {
                        token: at_end,
                        param: None,
                    };
                    return Err(self.error_near(text::UNFINISHED_STRING));
                }
                TokenKind::Punct(Punct::Dollar) => return self.substitute(token),
                _ => {
                    self.cur = Current { token, param: None };
                    return Ok(());
                }
            }
        }
    }

    /// Replaces a `$` by the next parameter: a name becomes an identifier, a number an
    /// integer constant, a ctype an identifier that [`Parser::param_type`] resolves.
    fn substitute(&mut self, mut token: Token) -> Result<(), CdefError> {
        let index = self.next_param;
        self.cur = Current { token, param: None };
        let Some(param) = self.params.get(index) else {
            return Err(self.error_plain(text::WRONG_PARAM_COUNT));
        };
        self.next_param += 1;
        match param {
            Param::Type(_) | Param::Name(_) => token.kind = TokenKind::Ident,
            Param::Int(value) => {
                token.kind = TokenKind::Int;
                token.int = *value as u64;
                token.suffix = Default::default();
            }
        }
        self.cur = Current {
            token,
            param: Some(index),
        };
        Ok(())
    }

    /// The type a `$` ctype parameter in the current token stands for.
    fn param_type(&self) -> Option<TypeId> {
        match self.cur.param.map(|i| &self.params[i]) {
            Some(Param::Type(ty)) => Some(*ty),
            _ => None,
        }
    }

    /// The integer value of a `$` number parameter in the current token.
    fn param_int(&self) -> Option<i64> {
        match self.cur.param.map(|i| &self.params[i]) {
            Some(Param::Int(value)) => Some(*value),
            _ => None,
        }
    }

    /// The name of the current identifier token (`None` for a ctype parameter).
    fn ident_name(&self) -> Option<&'a str> {
        if self.kind() != TokenKind::Ident {
            return None;
        }
        match self.cur.param.map(|i| &self.params[i]) {
            Some(Param::Name(name)) => Some(name.as_str()),
            Some(_) => None,
            None => std::str::from_utf8(self.token_bytes(self.cur.token)).ok(),
        }
    }

    fn token_bytes(&self, token: Token) -> &'a [u8] {
        &self.src[token.start as usize..token.end as usize]
    }

    /// The kind of the token after the current one, without consuming anything
    /// (directives in between are skipped, not acted on).
    fn peek(&self) -> (TokenKind, Option<&'a Param>) {
        let mut lookahead = self.lexer.clone();
        loop {
            let token = lookahead.next_token();
            match token.kind {
                TokenKind::Pragma(_) | TokenKind::Define => continue,
                TokenKind::Punct(Punct::Dollar) => {
                    let param = self.params.get(self.next_param);
                    let kind = match param {
                        Some(Param::Int(_)) => TokenKind::Int,
                        _ => TokenKind::Ident,
                    };
                    return (kind, param);
                }
                kind => {
                    let _ = token;
                    return (kind, None);
                }
            }
        }
    }

    /// Whether the token after the current one starts a type name (for `(` of casts,
    /// `sizeof`, and parameter lists).
    fn peek_starts_type(&self) -> bool {
        let mut lookahead = self.lexer.clone();
        let token = loop {
            let token = lookahead.next_token();
            if !matches!(token.kind, TokenKind::Pragma(_) | TokenKind::Define) {
                break token;
            }
        };
        match token.kind {
            TokenKind::Keyword(kw) => keyword_starts_type(kw),
            TokenKind::Ident => self.is_typedef_name(self.token_bytes(token)),
            TokenKind::Punct(Punct::Dollar) => match self.params.get(self.next_param) {
                Some(Param::Type(_)) => true,
                Some(Param::Name(name)) => self.is_typedef_name(name.as_bytes()),
                _ => false,
            },
            _ => false,
        }
    }

    fn is_typedef_name(&self, name: &[u8]) -> bool {
        std::str::from_utf8(name)
            .ok()
            .and_then(|name| self.table.symbol(name))
            .is_some_and(|symbol| matches!(symbol, Symbol::Typedef(_)))
    }

    /// Whether the current token starts a type name.
    fn starts_type(&self) -> bool {
        match self.kind() {
            TokenKind::Keyword(kw) => keyword_starts_type(kw),
            TokenKind::Ident => {
                self.param_type().is_some()
                    || self
                        .ident_name()
                        .is_some_and(|n| self.is_typedef_name(n.as_bytes()))
            }
            _ => false,
        }
    }

    /// Consumes `punct` or fails with `'x' expected near ...`.
    fn expect(&mut self, punct: Punct, spelled: &str) -> Result<(), CdefError> {
        if !self.is(punct) {
            return Err(self.error_near(&text::expected(spelled)));
        }
        self.advance()
    }

    /// Consumes `punct` if it is the current token.
    fn accept(&mut self, punct: Punct) -> Result<bool, CdefError> {
        if self.is(punct) {
            self.advance()?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Enters one nesting level; fails beyond [`MAX_DEPTH`].
    fn enter(&mut self) -> Result<(), CdefError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error_plain(text::TOO_MANY_LEVELS));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    // ---- directives ---------------------------------------------------------------------

    fn apply_pack(&mut self, pragma: PackPragma) -> Result<(), CdefError> {
        match pragma {
            PackPragma::Set(value) => self.pack = value,
            PackPragma::Push(value) => {
                if self.pack_stack.len() >= MAX_PACK_STACK {
                    return Err(self.error_plain(text::TOO_MANY_LEVELS));
                }
                self.pack_stack.push(self.pack);
                if value.is_some() {
                    self.pack = value;
                }
            }
            PackPragma::Pop => self.pack = self.pack_stack.pop().unwrap_or(None),
        }
        Ok(())
    }

    /// `#define NAME body`: a named constant if the body is an integer constant
    /// expression; anything else is ignored, as real headers are full of macros that
    /// are not.
    fn define(&mut self, token: Token) {
        let Ok(name) = std::str::from_utf8(self.token_bytes(token)) else {
            return;
        };
        if self.table.symbol(name).is_some() {
            return;
        }
        let (start, end) = (token.body.0 as usize, token.body.1 as usize);
        let lexer = Lexer::over(self.src, start, end);
        let mut body = Parser::new(&mut *self.table, self.src, lexer, &[], self.mode);
        body.depth = self.depth;
        let value = (|| {
            body.advance()?;
            let value = body.constant_expression()?;
            if body.kind() != TokenKind::Eof {
                return Err(CdefError::new(text::UNEXPECTED_SYMBOL));
            }
            Ok(value)
        })();
        if let Ok(value) = value {
            let ty = self.table.intern(CType::Int(value.ty));
            let _ = self.table.declare(
                name,
                Symbol::Const {
                    ty,
                    value: value.value as i64,
                },
            );
        }
    }

    // ---- errors -------------------------------------------------------------------------

    /// How LuaJIT names the current token in `near '...'`.
    fn token_name(&self) -> String {
        let token = self.cur.token;
        if self.cur.param.is_some() {
            if let Some(Param::Name(name)) = self.cur.param.map(|i| &self.params[i]) {
                if self.kind() == TokenKind::Ident && !name.is_empty() {
                    return "$".to_owned();
                }
            }
            return "$".to_owned();
        }
        match token.kind {
            TokenKind::Eof => text::EOF_NAME.to_owned(),
            TokenKind::Str => {
                let bytes = self.token_bytes(token);
                String::from_utf8_lossy(&bytes[1..bytes.len().saturating_sub(1).max(1)])
                    .into_owned()
            }
            _ => String::from_utf8_lossy(self.token_bytes(token)).into_owned(),
        }
    }

    /// `message near 'token'`, with the line if past the first.
    fn error_near(&self, message: &str) -> CdefError {
        self.with_line(format!("{message} near '{}'", self.token_name()))
    }

    /// `message` with the line if past the first (for errors about a value, not a token).
    fn error_plain(&self, message: &str) -> CdefError {
        self.with_line(message.to_owned())
    }

    fn with_line(&self, message: String) -> CdefError {
        let line = self.cur.token.line.max(1);
        if line > 1 {
            CdefError::new(format!("{message} at line {line}"))
        } else {
            CdefError::new(message)
        }
    }
}

/// Keywords that start a type name (specifiers, qualifiers, attributes before a type).
fn keyword_starts_type(kw: Keyword) -> bool {
    use Keyword::*;
    decl::is_builtin_specifier(kw)
        || matches!(
            kw,
            Const
                | Volatile
                | Restrict
                | Struct
                | Union
                | Enum
                | Attribute
                | Declspec
                | Extension
                | Ptr32
                | Ptr64
                | Alignas
        )
}
