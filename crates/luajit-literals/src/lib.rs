//! LuaJIT's FFI number literals for PUC Lua: `123LL`, `0x10ULL`, `1llu` (64-bit integer
//! cdata) and `12.5i` (an imaginary `complex` cdata), found in Lua source text and
//! rewritten into calls that PUC Lua can load.
//!
//! May use: std only. Knows nothing of Lua's C API or of cdata: it turns text into text
//! ([`rewrite`]) and a literal's text into its value ([`parse`]); whoever loads the
//! rewritten chunk provides the method [`METHOD`] on strings that builds the cdata.
//!
//! Promises:
//! - The scan is token-aware as Lua's lexer is: strings, long strings and comments
//!   (short and long) are copied untouched, as are identifiers that contain digits and
//!   a first line starting with `#`.
//! - A literal becomes `("123LL"):__jitffi_literal()`, on the same line, so line numbers
//!   (and so error positions) do not change.
//! - A unary minus before an imaginary literal (`-2.5i`, `-(2.5i)`) is folded into it
//!   as LuaJIT's parser does (the sign of the imaginary part flips; the real part stays
//!   +0): the `-` becomes a space and the literal `("-2.5i")`. A complex cdata has no
//!   arithmetic, so an unfolded `-` would raise. 64-bit integer literals keep their
//!   `-`: negating the cdata at run time gives what LuaJIT's folding gives.
//! - Only number tokens that LuaJIT reads as such literals change. Every one of them is
//!   a malformed number to PUC Lua, so a valid PUC Lua program is never changed; a
//!   token that LuaJIT rejects too (`1.5LL`, `1LLi`, a 64-bit literal beyond 2^64) is
//!   left as it is, for Lua to report as a malformed number.
//! - A call can never continue the previous expression: a number token cannot follow a
//!   token that ends an expression in a valid program.
#![forbid(unsafe_code)]

/// The string method that a rewritten literal calls, with the literal's text as the
/// receiver (see [`rewrite`]).
pub const METHOD: &str = "__jitffi_literal";

/// The value of a LuaJIT literal, exact from its digits.
#[derive(Copy, Clone, Debug, PartialEq)]
pub enum Literal {
    /// `123LL`: an `int64_t` (digits beyond 2^63 wrap, as in LuaJIT).
    Int64(i64),
    /// `123ULL`, `123LLU` (any case): a `uint64_t`.
    UInt64(u64),
    /// `12.5i`: the imaginary part of a `complex` (double complex) with real part 0.
    Imaginary(f64),
}

/// Rewrites every LuaJIT literal of `source` into a call of [`METHOD`]; `None` when
/// there is none (the source is used as it is). Binary chunks are never changed.
pub fn rewrite(source: &[u8]) -> Option<Vec<u8>> {
    if source.first() == Some(&0x1b) {
        return None;
    }
    let mut out: Option<Vec<u8>> = None;
    // Bytes of `source` before `copied` are already in `out`.
    let mut copied = 0;
    let mut i = 0;
    if source.first() == Some(&b'#') {
        i = line_end(source, 0);
    }
    // Whether the last token can end an expression (a following `-` is then binary, a
    // following `(` a call), and the unary minus signs and parentheses since the last
    // other token (what an imaginary literal may fold, see `folded_minus_signs`).
    let mut ends_expression = false;
    let mut prefixes: Vec<Prefix> = Vec::new();
    while i < source.len() {
        let c = source[i];
        let mut token_ends_expression = true;
        match c {
            b'-' if source.get(i + 1) == Some(&b'-') => {
                i += 2;
                i = match long_bracket_level(source, i) {
                    Some(level) => long_bracket_end(source, i, level),
                    None => line_end(source, i),
                };
                continue;
            }
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0b' | b'\x0c' => {
                i += 1;
                continue;
            }
            b'-' | b'(' if !ends_expression => {
                prefixes.push(if c == b'-' {
                    Prefix::Minus(i)
                } else {
                    Prefix::Paren
                });
                ends_expression = false;
                i += 1;
                continue;
            }
            b'[' => {
                i = match long_bracket_level(source, i) {
                    Some(level) => long_bracket_end(source, i, level),
                    None => {
                        token_ends_expression = false;
                        i + 1
                    }
                };
            }
            b'"' | b'\'' => i = quoted_string_end(source, i),
            b'0'..=b'9' => {
                let end = number_end(source, i);
                i = replace_literal(source, i, end, &prefixes, &mut out, &mut copied);
            }
            b'.' if source.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let end = number_end(source, i);
                i = replace_literal(source, i, end, &prefixes, &mut out, &mut copied);
            }
            b'.' => {
                // `..` and `...` are one token each: none of their dots starts a number.
                let dots = i;
                while source.get(i) == Some(&b'.') {
                    i += 1;
                }
                token_ends_expression = i - dots == 3;
            }
            _ if is_ident(c) => {
                let word = i;
                while source.get(i).is_some_and(|&b| is_ident(b)) {
                    i += 1;
                }
                token_ends_expression = !KEYWORDS_BEFORE_OPERAND.contains(&&source[word..i]);
            }
            b')' | b']' | b'}' => i += 1,
            _ => {
                token_ends_expression = false;
                i += 1;
            }
        }
        ends_expression = token_ends_expression;
        prefixes.clear();
    }
    let mut out = out?;
    out.extend_from_slice(&source[copied..]);
    Some(out)
}

/// Lua's keywords that an operand may follow (a `-` after them is a unary minus); the
/// others (`nil`, `true`, `false`, `end` of a function expression) end an expression,
/// as identifiers do.
const KEYWORDS_BEFORE_OPERAND: &[&[u8]] = &[
    b"and",
    b"break",
    b"do",
    b"else",
    b"elseif",
    b"for",
    b"function",
    b"goto",
    b"if",
    b"in",
    b"local",
    b"not",
    b"or",
    b"repeat",
    b"return",
    b"then",
    b"until",
    b"while",
];

/// A token that may stand before an operand: a unary minus (at its index in the
/// source) or an opening parenthesis that is not a call's.
#[derive(Copy, Clone, Debug)]
enum Prefix {
    Minus(usize),
    Paren,
}

/// The unary minus signs before the imaginary literal ending at `end` that LuaJIT folds
/// into it at parse time (`-2.5i`, `- -2.5i`, `-(2.5i)`: `lj_parse.c` negates the
/// imaginary part of a constant cdata operand; at run time `-c` on a complex raises).
/// The operand of a unary minus takes a following `^`, and a parenthesized literal stops
/// being a constant before an index, a method or a call, so those fold nothing more.
fn folded_minus_signs(source: &[u8], prefixes: &[Prefix], end: usize) -> Vec<usize> {
    let mut folded = Vec::new();
    let mut k = prefixes.len();
    let mut j = end;
    loop {
        let next = skip_space(source, j);
        if source.get(next) == Some(&b'^') {
            break;
        }
        while let Some(Prefix::Minus(at)) = k.checked_sub(1).map(|k| prefixes[k]) {
            folded.push(at);
            k -= 1;
        }
        if k == 0 || source.get(next) != Some(&b')') {
            break;
        }
        k -= 1;
        j = next + 1;
        let after = skip_space(source, j);
        let suffix = match source.get(after) {
            Some(b'.') => source.get(after + 1) != Some(&b'.'),
            Some(b'[' | b':' | b'(' | b'{' | b'"' | b'\'') => true,
            _ => false,
        };
        if suffix {
            break;
        }
    }
    folded
}

/// The index of the first byte at or after `i` that is not white space.
fn skip_space(source: &[u8], mut i: usize) -> usize {
    while source.get(i).is_some_and(u8::is_ascii_whitespace) {
        i += 1;
    }
    i
}

/// If `source[start..end]` is a LuaJIT literal, appends the source up to it and its
/// call to `out`. An imaginary literal takes in the minus signs LuaJIT folds into it
/// (each becomes a space; an odd number of them makes the literal `"-2.5i"`). Returns
/// `end`.
fn replace_literal(
    source: &[u8],
    start: usize,
    end: usize,
    prefixes: &[Prefix],
    out: &mut Option<Vec<u8>>,
    copied: &mut usize,
) -> usize {
    let token = &source[start..end];
    let Some(literal) = parse(token) else {
        return end;
    };
    let folded = match literal {
        Literal::Imaginary(_) => folded_minus_signs(source, prefixes, end),
        _ => Vec::new(),
    };
    let out = out.get_or_insert_with(|| Vec::with_capacity(source.len() + 64));
    for (at, &byte) in source.iter().enumerate().take(start).skip(*copied) {
        out.push(if folded.contains(&at) { b' ' } else { byte });
    }
    out.extend_from_slice(b"(\"");
    if folded.len() % 2 == 1 {
        out.push(b'-');
    }
    out.extend_from_slice(token);
    out.extend_from_slice(b"\"):");
    out.extend_from_slice(METHOD.as_bytes());
    out.extend_from_slice(b"()");
    *copied = end;
    end
}

/// Whether `c` continues an identifier or a number token (LuaJIT counts bytes from
/// 0x80 as identifier characters).
fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c >= 0x80
}

/// The end of the number token starting at `start`, as LuaJIT's lexer takes it:
/// identifier characters, dots, and a sign right after an exponent letter (`e` in
/// decimal, `p` in hex).
fn number_end(source: &[u8], start: usize) -> usize {
    let hex = source[start] == b'0' && matches!(source.get(start + 1), Some(b'x' | b'X'));
    let exponent = if hex { b'p' } else { b'e' };
    let mut i = start;
    let mut previous = 0u8;
    while let Some(&c) = source.get(i) {
        let sign_after_exponent =
            matches!(c, b'+' | b'-') && previous.to_ascii_lowercase() == exponent;
        if !(is_ident(c) || c == b'.' || sign_after_exponent) {
            break;
        }
        previous = c;
        i += 1;
    }
    i
}

/// The index after the end of the line that contains `i` (after its newline).
fn line_end(source: &[u8], i: usize) -> usize {
    match source[i..].iter().position(|&c| c == b'\n') {
        Some(n) => i + n + 1,
        None => source.len(),
    }
}

/// The level of the long bracket `[==[` opening at `i` (the number of `=`), if one does.
fn long_bracket_level(source: &[u8], i: usize) -> Option<usize> {
    if source.get(i) != Some(&b'[') {
        return None;
    }
    let level = source[i + 1..].iter().take_while(|&&c| c == b'=').count();
    (source.get(i + 1 + level) == Some(&b'[')).then_some(level)
}

/// The index after the long bracket `]==]` of `level` closing what opens at `i` (the
/// end of the source if it never closes: Lua reports that).
fn long_bracket_end(source: &[u8], i: usize, level: usize) -> usize {
    let mut j = i + level + 2;
    while j < source.len() {
        if source[j] == b']' {
            let equals = source[j + 1..].iter().take_while(|&&c| c == b'=').count();
            if equals == level && source.get(j + 1 + level) == Some(&b']') {
                return j + level + 2;
            }
            j += 1 + equals;
        } else {
            j += 1;
        }
    }
    source.len()
}

/// The index after the quoted string opening at `i` (a backslash escapes the next
/// byte, newlines included; an unfinished string ends at its line, as Lua reports).
fn quoted_string_end(source: &[u8], i: usize) -> usize {
    let quote = source[i];
    let mut j = i + 1;
    while j < source.len() {
        match source[j] {
            b'\\' => j += 2,
            b'\n' | b'\r' => return j,
            c if c == quote => return j + 1,
            _ => j += 1,
        }
    }
    source.len()
}

/// The value of a LuaJIT literal token (`123LL`, `0x10ULL`, `1llu`, `12.5i`, `0x1p4i`),
/// or of a negated imaginary one (`-12.5i`, as [`rewrite`] folds it); `None` for an
/// ordinary number or a malformed one.
pub fn parse(token: &[u8]) -> Option<Literal> {
    if let Some(imaginary) = token.strip_prefix(b"-") {
        // What the rewrite makes of a folded `-2.5i` (only an imaginary literal).
        if imaginary.starts_with(b"-") {
            return None;
        }
        return match parse(imaginary)? {
            Literal::Imaginary(im) => Some(Literal::Imaginary(-im)),
            _ => None,
        };
    }
    if let Some(number) = token
        .strip_suffix(b"i")
        .or_else(|| token.strip_suffix(b"I"))
    {
        return parse_float(number).map(Literal::Imaginary);
    }
    let lower = token.to_ascii_lowercase();
    let (digits, unsigned) = if let Some(d) = lower.strip_suffix(b"ull") {
        (d, true)
    } else if let Some(d) = lower.strip_suffix(b"llu") {
        (d, true)
    } else if let Some(d) = lower.strip_suffix(b"ll") {
        (d, false)
    } else {
        return None;
    };
    let bits = parse_u64(digits)?;
    Some(if unsigned {
        Literal::UInt64(bits)
    } else {
        Literal::Int64(bits as i64)
    })
}

/// A decimal or `0x` hex integer below 2^64, exactly.
fn parse_u64(digits: &[u8]) -> Option<u64> {
    let (digits, radix) = match digits {
        [b'0', b'x', rest @ ..] => (rest, 16),
        _ => (digits, 10),
    };
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |value, &c| {
        let digit = char::from(c).to_digit(radix)?;
        value
            .checked_mul(u64::from(radix))?
            .checked_add(u64::from(digit))
    })
}

/// A Lua number in decimal (`12.5`, `.5`, `5.`, `1e+2`) or hex (`0x10`, `0x.8`,
/// `0x1p4`) as the nearest double.
fn parse_float(text: &[u8]) -> Option<f64> {
    match text {
        [b'0', b'x' | b'X', rest @ ..] => parse_hex_float(rest),
        _ => {
            let valid = text
                .first()
                .is_some_and(|c| c.is_ascii_digit() || *c == b'.')
                && text.iter().any(u8::is_ascii_digit)
                && text
                    .iter()
                    .all(|&c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'));
            if !valid {
                return None;
            }
            std::str::from_utf8(text).ok()?.parse::<f64>().ok()
        }
    }
}

/// The digits of a hex float after `0x`: hex digits with at most one dot, then an
/// optional binary exponent `p[+-]digits`.
fn parse_hex_float(text: &[u8]) -> Option<f64> {
    let (mantissa, exponent) = match text.iter().position(|&c| c == b'p' || c == b'P') {
        Some(p) => (&text[..p], Some(&text[p + 1..])),
        None => (text, None),
    };
    let mut exponent: i64 = match exponent {
        Some(e) => {
            let (negative, digits) = match e {
                [b'-', rest @ ..] => (true, rest),
                [b'+', rest @ ..] => (false, rest),
                _ => (false, e),
            };
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            // Saturate: any exponent this large gives 0 or infinity anyway.
            let magnitude = digits
                .iter()
                .fold(0i64, |v, &c| (v * 10 + i64::from(c - b'0')).min(1 << 20));
            if negative {
                -magnitude
            } else {
                magnitude
            }
        }
        None => 0,
    };
    let mut value = 0u64;
    let mut any_digit = false;
    let mut seen_dot = false;
    for &c in mantissa {
        if c == b'.' {
            if seen_dot {
                return None;
            }
            seen_dot = true;
            continue;
        }
        let digit = char::from(c).to_digit(16)?;
        any_digit = true;
        if value >> 60 == 0 {
            value = value * 16 + u64::from(digit);
            if seen_dot {
                exponent -= 4;
            }
        } else if !seen_dot {
            // Digits beyond 64 bits only scale the value.
            exponent += 4;
        }
    }
    if !any_digit {
        return None;
    }
    Some(value as f64 * 2f64.powi(exponent.clamp(-2000, 2000) as i32))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rewritten(source: &str) -> String {
        String::from_utf8(rewrite(source.as_bytes()).unwrap_or_else(|| source.into())).unwrap()
    }

    fn call(literal: &str) -> String {
        format!("(\"{literal}\"):{METHOD}()")
    }

    #[test]
    fn integer_literals_and_their_values() {
        let cases: &[(&str, Literal)] = &[
            ("123LL", Literal::Int64(123)),
            ("0LL", Literal::Int64(0)),
            ("00012LL", Literal::Int64(12)),
            ("1Ll", Literal::Int64(1)),
            ("0x10LL", Literal::Int64(16)),
            ("0x10ULL", Literal::UInt64(16)),
            ("0X10ull", Literal::UInt64(16)),
            ("1llu", Literal::UInt64(1)),
            ("1LLU", Literal::UInt64(1)),
            ("1uLl", Literal::UInt64(1)),
            ("9007199254740993LL", Literal::Int64(9_007_199_254_740_993)),
            ("0x7fffffffffffffffLL", Literal::Int64(i64::MAX)),
            ("0x8000000000000000LL", Literal::Int64(i64::MIN)),
            ("0xffffffffffffffffLL", Literal::Int64(-1)),
            ("18446744073709551615LL", Literal::Int64(-1)),
            ("18446744073709551615ULL", Literal::UInt64(u64::MAX)),
        ];
        for (text, value) in cases {
            assert_eq!(parse(text.as_bytes()), Some(*value), "{text}");
        }
    }

    #[test]
    fn imaginary_literals_and_their_values() {
        let cases: &[(&str, f64)] = &[
            ("12.5i", 12.5),
            ("1i", 1.0),
            ("1I", 1.0),
            (".5i", 0.5),
            ("5.i", 5.0),
            ("1e2i", 100.0),
            ("1e+2i", 100.0),
            ("1E-2i", 0.01),
            ("0x10i", 16.0),
            ("0x1p4i", 16.0),
            ("0x.8i", 0.5),
            ("0x1P-1i", 0.5),
            ("1e400i", f64::INFINITY),
        ];
        for (text, value) in cases {
            assert_eq!(
                parse(text.as_bytes()),
                Some(Literal::Imaginary(*value)),
                "{text}"
            );
        }
    }

    #[test]
    fn tokens_luajit_rejects_are_not_literals() {
        for text in [
            "1U",
            "1L",
            "1LLL",
            "1.5LL",
            "1e3LL",
            "1.LL",
            "1LLi",
            "1iLL",
            "1_0LL",
            "0x1ffffffffffffffffLL",
            "18446744073709551616ULL",
            "0xLL",
            "0xi",
            "1..2i",
            "1e+i",
            "123",
            "0x10",
            "1.5",
            "ei",
        ] {
            assert_eq!(parse(text.as_bytes()), None, "{text}");
        }
    }

    #[test]
    fn literals_are_rewritten_in_expressions() {
        assert_eq!(rewritten("x = 1LL"), format!("x = {}", call("1LL")));
        assert_eq!(
            rewritten("return -0x10ULL+12.5i*2, {1llu}"),
            format!(
                "return -{}+{}*2, {{{}}}",
                call("0x10ULL"),
                call("12.5i"),
                call("1llu")
            )
        );
        assert_eq!(rewritten("f(1e+2i)"), format!("f({})", call("1e+2i")));
    }

    #[test]
    fn plain_lua_is_not_changed() {
        for source in [
            "local x = 123 + 0x10 + 1.5e3 + .5 + 3. + 0x1p4",
            "print(a..b, ...) x = t[1]..'LL'",
            "local LL, i, x1LL, _1i = 1, 2, 3, 4",
            "s = '1LL' .. \"12.5i\" .. '\\'1LL'",
            "s = [[1LL]] .. [==[ ]] 1LL ]=] ]==]",
            "-- 1LL\n--[[ 1LL\n 2i ]] --[=[ ]] 1i ]=]",
            "#!/usr/bin/env 1LL\nprint(1)",
            "\x1bLua 1LL",
            "x = 1.5LL y = 1LLi z = 99999999999999999999LL",
        ] {
            assert_eq!(rewrite(source.as_bytes()), None, "{source}");
        }
    }

    #[test]
    fn line_numbers_and_surroundings_are_kept() {
        let source = "local a = 1LL\n-- 2LL\nlocal s = [[\n3LL]]\nlocal b = '4LL' .. 5i\n";
        let out = rewritten(source);
        assert_eq!(out.lines().count(), source.lines().count());
        assert_eq!(
            out,
            format!(
                "local a = {}\n-- 2LL\nlocal s = [[\n3LL]]\nlocal b = '4LL' .. {}\n",
                call("1LL"),
                call("5i")
            )
        );
    }

    #[test]
    fn after_a_shebang_line_and_unfinished_tokens() {
        assert_eq!(
            rewritten("#!lua\nx = 1LL"),
            format!("#!lua\nx = {}", call("1LL"))
        );
        // Unfinished strings and comments end the scan without a panic.
        for source in ["x = '1LL", "x = [[1LL", "--[[ 1LL", "x = \"\\", "x = 1LL ["] {
            let _ = rewrite(source.as_bytes());
        }
        assert_eq!(rewritten("x = 1LL ["), format!("x = {} [", call("1LL")));
    }

    #[test]
    fn a_unary_minus_is_folded_into_an_imaginary_literal() {
        assert_eq!(parse(b"-2.5i"), Some(Literal::Imaginary(-2.5)));
        for text in ["--2.5i", "-1LL", "-1ULL", "-", "-2"] {
            assert_eq!(parse(text.as_bytes()), None, "{text}");
        }
        let minus = call("-2i");
        let plain = call("2i");
        for (source, expected) in [
            ("return -2i".to_string(), format!("return  {minus}")),
            ("x = - 2i".to_string(), format!("x =   {minus}")),
            ("x = -(2i)".to_string(), format!("x =  ({minus})")),
            ("x = - -2i".to_string(), format!("x =    {plain}")),
            ("x = -(-2i)".to_string(), format!("x =  ( {plain})")),
            (
                "f(-2i, {-2i})".to_string(),
                format!("f( {minus}, {{ {minus}}})"),
            ),
            ("return not -2i".to_string(), format!("return not  {minus}")),
            (
                "return 1 .. -2i".to_string(),
                format!("return 1 ..  {minus}"),
            ),
            (
                "return --[[c]] -2i".to_string(),
                format!("return --[[c]]  {minus}"),
            ),
            // Binary minus signs stay.
            ("return x -2i".to_string(), format!("return x -{plain}")),
            ("return 3-2i".to_string(), format!("return 3-{plain}")),
            (
                "return t[1] -2i".to_string(),
                format!("return t[1] -{plain}"),
            ),
            ("return f() -2i".to_string(), format!("return f() -{plain}")),
            ("return 's' -2i".to_string(), format!("return 's' -{plain}")),
            ("return ... -2i".to_string(), format!("return ... -{plain}")),
            (
                "return function() end -2i".to_string(),
                format!("return function() end -{plain}"),
            ),
            // Not a constant operand: `^` binds tighter, and a suffix makes an expression.
            ("return -2i^2".to_string(), format!("return -{plain}^2")),
            ("return -(2i)^2".to_string(), format!("return -({plain})^2")),
            (
                "return -(2i).re".to_string(),
                format!("return -({plain}).re"),
            ),
            (
                "return -(2i):m()".to_string(),
                format!("return -({plain}):m()"),
            ),
            (
                "return -(2i)..'x'".to_string(),
                format!("return  ({minus})..'x'"),
            ),
            // A call's parenthesis is no operand's.
            ("return f(2i)".to_string(), format!("return f({plain})")),
            // 64-bit integers keep their sign (negating the cdata gives the same).
            (
                "return -2LL".to_string(),
                format!("return -{}", call("2LL")),
            ),
        ] {
            assert_eq!(rewritten(&source), expected, "{source}");
        }
    }
}
