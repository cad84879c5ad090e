//! The lexer of C declarations: bytes in, tokens out, nothing allocated per token.
//!
//! Tokens are spans of the source; the parser slices the text it needs. Preprocessing
//! directives (C11 6.10) are recognised here, one logical line each: `#pragma pack` and
//! object-like `#define` come out as tokens of their own, every other directive (line
//! markers, `#include`, `#if` ...) is skipped, as LuaJIT skips what it does not know.

/// Keywords of the declaration grammar (C11 6.4.1), with the GNU and MSVC spellings
/// LuaJIT accepts. Spellings that mean the same thing share a variant.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum Keyword {
    Void,
    Bool,
    Char,
    Short,
    Int,
    Long,
    Float,
    Double,
    /// `_Float128`, `__float128`, `_Float64x`: glibc declares functions with them. The
    /// type model has no IEEE quad; these are taken as `long double`, which has the
    /// same size and alignment on x86-64 and is quad on AArch64.
    Float128,
    Signed,
    Unsigned,
    Complex,
    Int8,
    Int16,
    Int32,
    Int64,
    Const,
    Volatile,
    Restrict,
    Inline,
    Typedef,
    Extern,
    Static,
    Auto,
    Register,
    ThreadLocal,
    Struct,
    Union,
    Enum,
    Sizeof,
    Alignof,
    Alignas,
    Attribute,
    Asm,
    Declspec,
    Cdecl,
    Fastcall,
    Stdcall,
    Thiscall,
    Extension,
    /// MSVC's `__ptr32`: a 32-bit pointer, which LuaJIT has on 64-bit targets and
    /// jitffi refuses (see `parse::attr`).
    Ptr32,
    /// MSVC's `__ptr64`: a 64-bit pointer, what every pointer already is here.
    Ptr64,
    StaticAssert,
}

impl Keyword {
    /// The keyword spelled by `word`, if any.
    pub fn from_bytes(word: &[u8]) -> Option<Keyword> {
        use Keyword::*;
        Some(match word {
            b"void" => Void,
            b"_Bool" | b"bool" => Bool,
            b"char" => Char,
            b"short" => Short,
            b"int" => Int,
            b"long" => Long,
            b"float" | b"_Float32" => Float,
            b"double" | b"_Float64" | b"_Float32x" => Double,
            b"_Float128" | b"__float128" | b"_Float64x" => Float128,
            b"signed" | b"__signed" | b"__signed__" => Signed,
            b"unsigned" => Unsigned,
            b"_Complex" | b"complex" | b"__complex" | b"__complex__" => Complex,
            b"__int8" => Int8,
            b"__int16" => Int16,
            b"__int32" => Int32,
            b"__int64" => Int64,
            b"const" | b"__const" | b"__const__" => Const,
            b"volatile" | b"__volatile" | b"__volatile__" => Volatile,
            b"restrict" | b"__restrict" | b"__restrict__" => Restrict,
            b"inline" | b"__inline" | b"__inline__" | b"_Noreturn" => Inline,
            b"typedef" => Typedef,
            b"extern" => Extern,
            b"static" => Static,
            b"auto" => Auto,
            b"register" => Register,
            b"_Thread_local" | b"__thread" => ThreadLocal,
            b"struct" => Struct,
            b"union" => Union,
            b"enum" => Enum,
            b"sizeof" => Sizeof,
            b"_Alignof" | b"alignof" | b"__alignof" | b"__alignof__" => Alignof,
            b"_Alignas" | b"alignas" => Alignas,
            b"__attribute__" | b"__attribute" => Attribute,
            b"__asm__" | b"__asm" | b"asm" => Asm,
            b"__declspec" => Declspec,
            b"__cdecl" => Cdecl,
            b"__fastcall" => Fastcall,
            b"__stdcall" => Stdcall,
            b"__thiscall" => Thiscall,
            b"__extension__" => Extension,
            b"__ptr32" => Ptr32,
            b"__ptr64" => Ptr64,
            b"_Static_assert" | b"static_assert" => StaticAssert,
            _ => return None,
        })
    }
}

/// Punctuators (C11 6.4.6) the grammar uses; anything else is `Other`.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum Punct {
    LParen,
    RParen,
    LBracket,
    RBracket,
    LBrace,
    RBrace,
    Semi,
    Comma,
    Colon,
    Question,
    Star,
    Amp,
    AmpAmp,
    Pipe,
    PipePipe,
    Caret,
    Tilde,
    Bang,
    Plus,
    Minus,
    Slash,
    Percent,
    Shl,
    Shr,
    Lt,
    Gt,
    Le,
    Ge,
    EqEq,
    Ne,
    Assign,
    Dot,
    /// `->`.
    Arrow,
    Ellipsis,
    Dollar,
    /// Any other punctuator or stray byte; the parser names it in its error.
    Other,
}

/// What `#pragma pack(...)` asks for (the MSVC pragma gcc also understands).
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum PackPragma {
    /// `pack(n)`: set the packing (`None` for `pack()`: back to the default).
    Set(Option<u32>),
    /// `pack(push)` or `pack(push, n)`.
    Push(Option<u32>),
    /// `pack(pop)`.
    Pop,
}

/// The kind of a token; its text is the span `start..end` of the source.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub enum TokenKind {
    Eof,
    Ident,
    Keyword(Keyword),
    /// An integer constant (C11 6.4.4.1); the value is in [`Token::int`].
    Int,
    /// A floating constant: lexed so that attributes may hold one, refused in integer
    /// constant expressions.
    Float,
    /// A character constant; its value is in [`Token::int`].
    Char,
    /// A string literal; the span includes the quotes.
    Str,
    Punct(Punct),
    /// A number or character constant that is malformed or too large.
    BadNumber,
    /// A string or character constant that runs into the end of the line or input.
    Unfinished,
    Pragma(PackPragma),
    /// `#define NAME body`: the span is the name, [`Token::body`] the replacement text.
    Define,
}

/// The type C gives an integer constant from its suffix and value (C11 6.4.4.1p5).
#[derive(Copy, Clone, PartialEq, Eq, Debug, Default)]
pub struct IntSuffix {
    pub unsigned: bool,
    /// 0 for none, 1 for `l`, 2 for `ll`.
    pub longs: u8,
    /// Hexadecimal, octal and binary constants may become unsigned without a `u`.
    pub non_decimal: bool,
}

/// One token: kind, source span, the line it starts on, and for constants their value.
#[derive(Copy, Clone, Debug)]
pub struct Token {
    pub kind: TokenKind,
    pub start: u32,
    pub end: u32,
    pub line: u32,
    /// The value of an `Int` or `Char` token.
    pub int: u64,
    pub suffix: IntSuffix,
    /// For `Define`: the span of the replacement text.
    pub body: (u32, u32),
}

/// `src` without its line splices (C11 5.1.1.2p1, phase 2: a backslash right before a
/// line break joins the lines), and where each was, as offsets into the result; `None`
/// when there is none. LuaJIT's lexer skips them anywhere, even inside a name or a
/// number, so they go before lexing; [`Lexer::with_splices`] still counts their lines.
/// A line break is `\n`, `\r`, `\r\n` or `\n\r`, as LuaJIT reads it.
pub fn remove_line_splices(src: &[u8]) -> Option<(Vec<u8>, Vec<u32>)> {
    let is_eol = |b: u8| b == b'\n' || b == b'\r';
    let first = src.windows(2).position(|w| w[0] == b'\\' && is_eol(w[1]))?;
    let mut text = Vec::with_capacity(src.len());
    let mut splices = Vec::new();
    text.extend_from_slice(&src[..first]);
    let mut at = first;
    while at < src.len() {
        let byte = src[at];
        if byte == b'\\' && at + 1 < src.len() && is_eol(src[at + 1]) {
            let eol = src[at + 1];
            at += 2;
            if at < src.len() && is_eol(src[at]) && src[at] != eol {
                at += 1;
            }
            splices.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
            continue;
        }
        text.push(byte);
        at += 1;
    }
    Some((text, splices))
}

/// A cursor over the source. Copying it is how the parser looks ahead.
#[derive(Clone, Debug)]
pub struct Lexer<'src> {
    src: &'src [u8],
    /// Where line splices were removed from `src` (see [`remove_line_splices`]): each
    /// adds a line to the tokens after it.
    splices: &'src [u32],
    /// Where lexing stops (a sub-lexer over a `#define` body stops early).
    limit: usize,
    pos: usize,
    line: u32,
    /// Only whitespace so far on this line: a `#` here starts a directive.
    at_line_start: bool,
}

impl<'src> Lexer<'src> {
    pub fn new(src: &'src [u8]) -> Lexer<'src> {
        Lexer::with_splices(src, &[])
    }

    /// A lexer over text from [`remove_line_splices`], counting the removed lines.
    pub fn with_splices(src: &'src [u8], splices: &'src [u32]) -> Lexer<'src> {
        Lexer {
            src,
            splices,
            limit: src.len(),
            pos: 0,
            line: 1,
            at_line_start: true,
        }
    }

    /// A lexer over `src[start..end]` that never reads directives (a macro body).
    pub fn over(src: &'src [u8], start: usize, end: usize) -> Lexer<'src> {
        Lexer {
            src,
            splices: &[],
            limit: end.min(src.len()),
            pos: start,
            line: 1,
            at_line_start: false,
        }
    }

    pub fn line(&self) -> u32 {
        self.line
    }

    fn peek_byte(&self, ahead: usize) -> u8 {
        let at = self.pos + ahead;
        if at < self.limit {
            self.src[at]
        } else {
            0
        }
    }

    /// Skips whitespace and comments; a comment that never ends runs to the end.
    fn skip_blank(&mut self) {
        while self.pos < self.limit {
            match self.src[self.pos] {
                b'\n' => {
                    self.line += 1;
                    self.pos += 1;
                    self.at_line_start = true;
                }
                b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c' => self.pos += 1,
                // A backslash-newline splices lines (C11 5.1.1.2p1, phase 2).
                b'\\' if self.peek_byte(1) == b'\n' => {
                    self.line += 1;
                    self.pos += 2;
                }
                b'/' if self.peek_byte(1) == b'/' => {
                    while self.pos < self.limit && self.src[self.pos] != b'\n' {
                        self.pos += 1;
                    }
                }
                b'/' if self.peek_byte(1) == b'*' => {
                    self.pos += 2;
                    self.skip_block_comment();
                }
                _ => return,
            }
        }
    }

    fn skip_block_comment(&mut self) {
        while self.pos < self.limit {
            if self.src[self.pos] == b'*' && self.peek_byte(1) == b'/' {
                self.pos += 2;
                return;
            }
            if self.src[self.pos] == b'\n' {
                self.line += 1;
            }
            self.pos += 1;
        }
    }

    /// The next token.
    pub fn next_token(&mut self) -> Token {
        let mut token = loop {
            self.skip_blank();
            if self.at_line_start && self.pos < self.limit && self.src[self.pos] == b'#' {
                if let Some(token) = self.directive() {
                    break token;
                }
                continue;
            }
            self.at_line_start = false;
            break self.token();
        };
        if !self.splices.is_empty() {
            let spliced = self.splices.partition_point(|&at| at <= token.start);
            token.line += u32::try_from(spliced).unwrap_or(u32::MAX);
        }
        token
    }

    fn make(&self, kind: TokenKind, start: usize, line: u32) -> Token {
        Token {
            kind,
            start: start as u32,
            end: self.pos as u32,
            line,
            int: 0,
            suffix: IntSuffix::default(),
            body: (0, 0),
        }
    }

    fn token(&mut self) -> Token {
        let start = self.pos;
        let line = self.line;
        if self.pos >= self.limit {
            return self.make(TokenKind::Eof, start, line);
        }
        let byte = self.src[self.pos];
        if byte.is_ascii_alphabetic() || byte == b'_' {
            while self.pos < self.limit
                && (self.src[self.pos].is_ascii_alphanumeric() || self.src[self.pos] == b'_')
            {
                self.pos += 1;
            }
            let kind = match Keyword::from_bytes(&self.src[start..self.pos]) {
                Some(kw) => TokenKind::Keyword(kw),
                None => TokenKind::Ident,
            };
            return self.make(kind, start, line);
        }
        if byte.is_ascii_digit() || (byte == b'.' && self.peek_byte(1).is_ascii_digit()) {
            return self.number(start, line);
        }
        if byte == b'\'' {
            return self.char_constant(start, line);
        }
        if byte == b'"' {
            return self.string(start, line);
        }
        self.pos += 1;
        let next = self.peek_byte(0);
        use Punct::*;
        let punct = match byte {
            b'(' => LParen,
            b')' => RParen,
            b'[' => LBracket,
            b']' => RBracket,
            b'{' => LBrace,
            b'}' => RBrace,
            b';' => Semi,
            b',' => Comma,
            b':' => Colon,
            b'?' => Question,
            b'*' => Star,
            b'~' => Tilde,
            b'^' => Caret,
            b'+' => Plus,
            b'-' if next == b'>' => self.two(Arrow),
            b'-' => Minus,
            b'/' => Slash,
            b'%' => Percent,
            b'$' => Dollar,
            b'&' if next == b'&' => self.two(AmpAmp),
            b'&' => Amp,
            b'|' if next == b'|' => self.two(PipePipe),
            b'|' => Pipe,
            b'!' if next == b'=' => self.two(Ne),
            b'!' => Bang,
            b'=' if next == b'=' => self.two(EqEq),
            b'=' => Assign,
            b'<' if next == b'<' => self.two(Shl),
            b'<' if next == b'=' => self.two(Le),
            b'<' => Lt,
            b'>' if next == b'>' => self.two(Shr),
            b'>' if next == b'=' => self.two(Ge),
            b'>' => Gt,
            b'.' if next == b'.' && self.peek_byte(1) == b'.' => {
                self.pos += 2;
                Ellipsis
            }
            b'.' => Dot,
            _ => {
                // Keep a multi-byte UTF-8 character whole so that the error can name it.
                while self.pos < self.limit && (self.src[self.pos] & 0xc0) == 0x80 {
                    self.pos += 1;
                }
                Other
            }
        };
        self.make(TokenKind::Punct(punct), start, line)
    }

    /// The next token of a directive line (no nested directives there).
    fn word(&mut self) -> Token {
        self.skip_blank();
        self.token()
    }

    fn two(&mut self, punct: Punct) -> Punct {
        self.pos += 1;
        punct
    }

    /// A pp-number (C11 6.4.8): digits, letters, `.`, and signs after an exponent
    /// letter; then decoded as an integer or recognised as a float.
    fn number(&mut self, start: usize, line: u32) -> Token {
        let mut is_float = false;
        let hex = self.src[start] == b'0' && matches!(self.peek_byte(1), b'x' | b'X');
        while self.pos < self.limit {
            let b = self.src[self.pos];
            let exponent = if hex {
                matches!(b, b'p' | b'P')
            } else {
                matches!(b, b'e' | b'E')
            };
            if exponent && matches!(self.peek_byte(1), b'+' | b'-') {
                is_float = true;
                self.pos += 2;
            } else if b == b'.' {
                is_float = true;
                self.pos += 1;
            } else if b.is_ascii_alphanumeric() || b == b'_' {
                is_float |= exponent;
                self.pos += 1;
            } else {
                break;
            }
        }
        let text = &self.src[start..self.pos];
        if is_float {
            let kind = if float_is_valid(text) {
                TokenKind::Float
            } else {
                TokenKind::BadNumber
            };
            return self.make(kind, start, line);
        }
        match parse_integer(text) {
            Some((value, suffix)) => {
                let mut token = self.make(TokenKind::Int, start, line);
                token.int = value;
                token.suffix = suffix;
                token
            }
            None => self.make(TokenKind::BadNumber, start, line),
        }
    }

    /// A character constant: one character or escape; its value is that of `char`
    /// (C11 6.4.4.4p10), so `'\377'` is -1 where `char` is signed: the parser converts.
    fn char_constant(&mut self, start: usize, line: u32) -> Token {
        self.pos += 1;
        let mut value: Option<u64> = None;
        let mut count = 0u32;
        while self.pos < self.limit && self.src[self.pos] != b'\'' {
            if self.src[self.pos] == b'\n' {
                return self.make(TokenKind::Unfinished, start, line);
            }
            let (byte, len) = decode_escape(&self.src[self.pos..self.limit]);
            self.pos += len;
            value = Some(u64::from(byte));
            count += 1;
        }
        if self.pos >= self.limit {
            return self.make(TokenKind::Unfinished, start, line);
        }
        self.pos += 1;
        match value {
            Some(v) if count == 1 => {
                let mut token = self.make(TokenKind::Char, start, line);
                token.int = v;
                token
            }
            _ => self.make(TokenKind::BadNumber, start, line),
        }
    }

    fn string(&mut self, start: usize, line: u32) -> Token {
        self.pos += 1;
        while self.pos < self.limit {
            match self.src[self.pos] {
                b'"' => {
                    self.pos += 1;
                    return self.make(TokenKind::Str, start, line);
                }
                b'\n' => break,
                b'\\' if self.pos + 1 < self.limit => {
                    if self.src[self.pos + 1] == b'\n' {
                        self.line += 1;
                    }
                    self.pos += 2;
                }
                _ => self.pos += 1,
            }
        }
        self.make(TokenKind::Unfinished, start, line)
    }

    /// Reads one directive line (its `#` is at `pos`). Returns a token for the
    /// directives the parser acts on, `None` for the ones skipped.
    fn directive(&mut self) -> Option<Token> {
        let line = self.line;
        self.pos += 1;
        let end = self.directive_end();
        let mut words = Lexer::over(self.src, self.pos, end);
        let first = words.word();
        let result = if first.kind == TokenKind::Ident && self.text(first) == b"pragma" {
            let pack = words.word();
            if pack.kind == TokenKind::Ident && self.text(pack) == b"pack" {
                pack_pragma(&mut words).map(|p| {
                    let mut token = self.make(TokenKind::Pragma(p), first.start as usize, line);
                    token.end = pack.end;
                    token
                })
            } else {
                None
            }
        } else if first.kind == TokenKind::Ident && self.text(first) == b"define" {
            let name = words.word();
            // A function-like macro has `(` right after its name (C11 6.10.3p3).
            let function_like = words.peek_byte(0) == b'(';
            if matches!(name.kind, TokenKind::Ident | TokenKind::Keyword(_)) && !function_like {
                let mut token = name;
                token.kind = TokenKind::Define;
                token.line = line;
                token.body = (name.end, end as u32);
                Some(token)
            } else {
                None
            }
        } else {
            None
        };
        // Count the lines the directive spans (continuations, comments).
        while self.pos < end {
            if self.src[self.pos] == b'\n' {
                self.line += 1;
            }
            self.pos += 1;
        }
        self.at_line_start = true;
        result
    }

    /// The end of the logical line starting at `pos`: the first newline that is not
    /// spliced by a backslash nor inside a comment.
    fn directive_end(&self) -> usize {
        let mut at = self.pos;
        while at < self.limit {
            match self.src[at] {
                b'\n' => return at,
                b'\\' if at + 1 < self.limit && self.src[at + 1] == b'\n' => at += 2,
                b'/' if at + 1 < self.limit && self.src[at + 1] == b'*' => {
                    at += 2;
                    while at < self.limit
                        && !(self.src[at] == b'*'
                            && at + 1 < self.limit
                            && self.src[at + 1] == b'/')
                    {
                        at += 1;
                    }
                    at = (at + 2).min(self.limit);
                }
                _ => at += 1,
            }
        }
        self.limit
    }

    pub fn text(&self, token: Token) -> &'src [u8] {
        &self.src[token.start as usize..token.end as usize]
    }
}

/// The argument list of `#pragma pack`; `None` if malformed (gcc warns and ignores it).
fn pack_pragma(words: &mut Lexer<'_>) -> Option<PackPragma> {
    let is = |t: Token, p: Punct| t.kind == TokenKind::Punct(p);
    if !is(words.word(), Punct::LParen) {
        return None;
    }
    let mut token = words.word();
    let push = token.kind == TokenKind::Ident && words.text(token) == b"push";
    let pop = token.kind == TokenKind::Ident && words.text(token) == b"pop";
    if push || pop {
        token = words.word();
        if is(token, Punct::Comma) {
            token = words.word();
            // MSVC allows an identifier naming the stack entry: skip it.
            if token.kind == TokenKind::Ident {
                token = words.word();
                if is(token, Punct::Comma) {
                    token = words.word();
                }
            }
        }
    }
    let mut value = None;
    if token.kind == TokenKind::Int {
        // gcc ignores values that are not a small power of two.
        if !matches!(token.int, 1 | 2 | 4 | 8 | 16) {
            return None;
        }
        value = Some(token.int as u32);
        token = words.word();
    }
    if !is(token, Punct::RParen) {
        return None;
    }
    Some(if push {
        PackPragma::Push(value)
    } else if pop {
        PackPragma::Pop
    } else {
        PackPragma::Set(value)
    })
}

/// Decodes one character or escape sequence (C11 6.4.4.4) at the start of `bytes`:
/// its value as a byte and how many bytes it took.
pub fn decode_escape(bytes: &[u8]) -> (u8, usize) {
    if bytes[0] != b'\\' || bytes.len() < 2 {
        return (bytes[0], 1);
    }
    let simple = match bytes[1] {
        b'n' => Some(b'\n'),
        b't' => Some(b'\t'),
        b'r' => Some(b'\r'),
        b'a' => Some(7),
        b'b' => Some(8),
        b'f' => Some(12),
        b'v' => Some(11),
        b'e' => Some(27),
        b'x' | b'0'..=b'7' => None,
        other => Some(other),
    };
    if let Some(byte) = simple {
        return (byte, 2);
    }
    let mut value: u32 = 0;
    let mut len = 1;
    if bytes[1] == b'x' {
        len = 2;
        while len < bytes.len() && bytes[len].is_ascii_hexdigit() {
            value = (value << 4 | (bytes[len] as char).to_digit(16).unwrap_or(0)) & 0xff;
            len += 1;
        }
    } else {
        while len < bytes.len() && len < 4 && (b'0'..=b'7').contains(&bytes[len]) {
            value = (value << 3 | u32::from(bytes[len] - b'0')) & 0xff;
            len += 1;
        }
    }
    (value as u8, len)
}

/// Decodes the contents of a string literal token (without its quotes).
pub fn decode_string(quoted: &[u8], out: &mut Vec<u8>) {
    let inner = &quoted[1..quoted.len().saturating_sub(1).max(1)];
    let mut at = 0;
    while at < inner.len() {
        if inner[at] == b'\\' && inner.get(at + 1) == Some(&b'\n') {
            at += 2;
            continue;
        }
        let (byte, len) = decode_escape(&inner[at..]);
        out.push(byte);
        at += len;
    }
}

/// An integer constant with its suffix (C11 6.4.4.1), or `None` if malformed or
/// beyond 64 bits.
fn parse_integer(text: &[u8]) -> Option<(u64, IntSuffix)> {
    let (radix, digits_start) = match text {
        [b'0', b'x' | b'X', ..] => (16, 2),
        [b'0', b'b' | b'B', ..] => (2, 2),
        [b'0', ..] => (8, 1),
        _ => (10, 0),
    };
    let mut at = digits_start;
    let mut value: u64 = 0;
    while at < text.len() {
        let Some(digit) = (text[at] as char).to_digit(radix) else {
            break;
        };
        value = value
            .checked_mul(u64::from(radix))?
            .checked_add(u64::from(digit))?;
        at += 1;
    }
    if at == digits_start && radix != 8 {
        return None;
    }
    let mut suffix = IntSuffix {
        non_decimal: radix != 10,
        ..IntSuffix::default()
    };
    let rest = &text[at..];
    let mut i = 0;
    while i < rest.len() {
        match rest[i] {
            b'u' | b'U' if !suffix.unsigned => suffix.unsigned = true,
            b'l' | b'L' if suffix.longs == 0 => {
                suffix.longs = 1;
                if rest.get(i + 1) == Some(&rest[i]) {
                    suffix.longs = 2;
                    i += 1;
                }
            }
            // MSVC's `i64` suffix.
            b'i' if rest.get(i + 1..i + 3) == Some(b"64") && suffix.longs == 0 => {
                suffix.longs = 2;
                i += 2;
            }
            _ => return None,
        }
        i += 1;
    }
    Some((value, suffix))
}

/// Whether `text` is a decimal or hexadecimal floating constant (C11 6.4.4.2).
fn float_is_valid(text: &[u8]) -> bool {
    let body = match text.last() {
        Some(b'f' | b'F' | b'l' | b'L') if !text.starts_with(b"0x") && !text.starts_with(b"0X") => {
            &text[..text.len() - 1]
        }
        Some(b'f' | b'F' | b'l' | b'L') => &text[..text.len() - 1],
        _ => text,
    };
    if body.starts_with(b"0x") || body.starts_with(b"0X") {
        return body[2..]
            .iter()
            .all(|b| b.is_ascii_hexdigit() || matches!(b, b'.' | b'p' | b'P' | b'+' | b'-'));
    }
    std::str::from_utf8(body).is_ok_and(|s| s.parse::<f64>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<TokenKind> {
        let mut lexer = Lexer::new(src.as_bytes());
        let mut out = Vec::new();
        loop {
            let token = lexer.next_token();
            if token.kind == TokenKind::Eof {
                return out;
            }
            out.push(token.kind);
        }
    }

    #[test]
    fn integers_with_suffixes() {
        assert_eq!(
            parse_integer(b"0x1fULL"),
            Some((
                31,
                IntSuffix {
                    unsigned: true,
                    longs: 2,
                    non_decimal: true
                }
            ))
        );
        assert_eq!(
            parse_integer(b"017"),
            Some((
                15,
                IntSuffix {
                    non_decimal: true,
                    ..Default::default()
                }
            ))
        );
        assert_eq!(
            parse_integer(b"0b101"),
            Some((
                5,
                IntSuffix {
                    non_decimal: true,
                    ..Default::default()
                }
            ))
        );
        assert_eq!(
            parse_integer(b"18446744073709551615u").map(|v| v.0),
            Some(u64::MAX)
        );
        assert_eq!(parse_integer(b"18446744073709551616"), None);
        assert_eq!(parse_integer(b"1x"), None);
        assert_eq!(parse_integer(b"0x"), None);
        assert_eq!(parse_integer(b"1lul"), None);
    }

    #[test]
    fn punctuators_comments_and_directives() {
        use Punct::*;
        assert_eq!(
            kinds("a<<=b /* c */ // d\n ... && ->"),
            vec![
                TokenKind::Ident,
                TokenKind::Punct(Shl),
                TokenKind::Punct(Assign),
                TokenKind::Ident,
                TokenKind::Punct(Ellipsis),
                TokenKind::Punct(AmpAmp),
                TokenKind::Punct(Arrow),
            ]
        );
        assert_eq!(
            kinds("# 1 \"x.h\"\n#include <a>\n#pragma pack(push, 4)\n"),
            vec![TokenKind::Pragma(PackPragma::Push(Some(4)))]
        );
        assert_eq!(
            kinds("#define F(x) x\n#define K 1"),
            vec![TokenKind::Define]
        );
    }

    #[test]
    fn line_counting() {
        let mut lexer = Lexer::new(b"a\n/*\n*/\n#define X \\\n 1\nb");
        assert_eq!(lexer.next_token().line, 1);
        let define = lexer.next_token();
        assert_eq!((define.kind, define.line), (TokenKind::Define, 4));
        assert_eq!(lexer.next_token().line, 6);
    }

    #[test]
    fn line_splices_are_removed_and_counted() {
        let src = b"typedef int bs\\\nnl_t;\\\r\n\nx \"a\\\n\"";
        let (text, splices) = remove_line_splices(src).unwrap();
        assert_eq!(text, b"typedef int bsnl_t;\nx \"a\"");
        let mut lexer = Lexer::with_splices(&text, &splices);
        let lines: Vec<_> = (0..5).map(|_| lexer.next_token()).map(|t| t.line).collect();
        assert_eq!(lines, [1, 1, 1, 2, 4]);
        assert!(remove_line_splices(b"a \\ b").is_none());
    }

    #[test]
    fn char_constants() {
        let mut lexer = Lexer::new(br"'a' '\n' '\x41' '\0' '\377' 'ab' '");
        let values: Vec<_> = (0..7)
            .map(|_| {
                let t = lexer.next_token();
                (t.kind, t.int)
            })
            .collect();
        assert_eq!(values[0], (TokenKind::Char, 97));
        assert_eq!(values[1], (TokenKind::Char, 10));
        assert_eq!(values[2], (TokenKind::Char, 0x41));
        assert_eq!(values[3], (TokenKind::Char, 0));
        assert_eq!(values[4], (TokenKind::Char, 255));
        assert_eq!(values[5].0, TokenKind::BadNumber);
        assert_eq!(values[6].0, TokenKind::Unfinished);
    }
}
