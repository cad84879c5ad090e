//! Integer constant expressions (C11 6.6): array sizes, enum values, bitfield widths,
//! `static const` initializers, `#define` bodies, attribute arguments.
//!
//! Values are tracked with their C type and computed in i128, then wrapped to the type,
//! which gives C's modular unsigned arithmetic and the usual arithmetic conversions
//! (C11 6.3.1.8) for the 32- and 64-bit types without any overflow in Rust.

use super::{text, Parser};
use crate::error::CdefError;
use crate::lex::{decode_string, Keyword, Punct, TokenKind};
use crate::types::*;

/// A constant: its value (always within the range of `ty`) and its type.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Value {
    pub value: i128,
    pub ty: IntType,
}

impl Value {
    pub fn int(value: i128) -> Value {
        Value {
            value: wrap(value, IntType::I32),
            ty: IntType::I32,
        }
    }

    fn of(value: i128, ty: IntType) -> Value {
        Value {
            value: wrap(value, ty),
            ty,
        }
    }
}

/// What an operand of a constant expression is: an integer constant, or an object
/// whose value is not constant but whose type still counts: an extern variable, a
/// string literal, a pointer made by a cast (`(struct s *)0`), a member reached from
/// those. LuaJIT's evaluator keeps the same distinction (`CPValue.imm`), so that
/// `sizeof(var.x)`, `sizeof("abc")`, `var.K` and `((struct s *)0)->K` (a record's
/// constant) are constant expressions.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
enum Operand {
    Value(Value),
    Object(TypeId),
}

/// `value` reduced modulo 2^bits into the range of `ty` (C11 6.3.1.3; for signed
/// targets, the two's complement wrap gcc documents).
pub(crate) fn wrap(value: i128, ty: IntType) -> i128 {
    let bits = ty.bits();
    let mask = (1i128 << bits) - 1;
    let low = value & mask;
    if ty.signed && low >> (bits - 1) != 0 {
        low - (1i128 << bits)
    } else {
        low
    }
}

/// Integer promotion (C11 6.3.1.1p2): types narrower than `int` become `int`.
fn promote(ty: IntType) -> IntType {
    if ty.bytes < 4 {
        IntType::I32
    } else {
        ty
    }
}

/// The common type of the usual arithmetic conversions (C11 6.3.1.8p1).
fn common(a: IntType, b: IntType) -> IntType {
    let (a, b) = (promote(a), promote(b));
    if a == b {
        return a;
    }
    if a.signed == b.signed {
        return if a.bytes >= b.bytes { a } else { b };
    }
    let (signed, unsigned) = if a.signed { (a, b) } else { (b, a) };
    if unsigned.bytes >= signed.bytes {
        unsigned
    } else {
        signed
    }
}

/// Binding strength of a binary operator (C11 6.5.5-6.5.14), higher binds tighter.
fn precedence(punct: Punct) -> Option<u8> {
    use Punct::*;
    Some(match punct {
        Star | Slash | Percent => 10,
        Plus | Minus => 9,
        Shl | Shr => 8,
        Lt | Gt | Le | Ge => 7,
        EqEq | Ne => 6,
        Amp => 5,
        Caret => 4,
        Pipe => 3,
        AmpAmp => 2,
        PipePipe => 1,
        _ => return None,
    })
}

impl Parser<'_> {
    /// A conditional expression (C11 6.6p1: the grammar of a constant expression).
    pub(crate) fn constant_expression(&mut self) -> Result<Value, CdefError> {
        let first = self.unary()?;
        self.conditional_after(first)
    }

    /// The rest of a conditional expression whose first operand is `first`.
    fn conditional_after(&mut self, first: Value) -> Result<Value, CdefError> {
        self.enter()?;
        let condition = self.binary_after(first, 1)?;
        let result = if self.is(Punct::Question) {
            self.advance()?;
            let taken = condition.value != 0;
            let then = self.evaluated_if(taken, |p| p.comma_expression())?;
            self.expect(Punct::Colon, ":")?;
            let otherwise = self.evaluated_if(!taken, |p| p.constant_expression())?;
            let ty = common(then.ty, otherwise.ty);
            Value::of(if taken { then.value } else { otherwise.value }, ty)
        } else {
            condition
        };
        self.leave();
        Ok(result)
    }

    /// An expression with the comma operator (allowed inside parentheses).
    fn comma_expression(&mut self) -> Result<Value, CdefError> {
        let mut value = self.constant_expression()?;
        while self.accept(Punct::Comma)? {
            value = self.constant_expression()?;
        }
        Ok(value)
    }

    /// Parses with arithmetic errors suppressed unless `evaluated` (C11 6.5.13p4,
    /// 6.5.15p4: the operand not chosen is not evaluated).
    fn evaluated_if(
        &mut self,
        evaluated: bool,
        parse: impl FnOnce(&mut Self) -> Result<Value, CdefError>,
    ) -> Result<Value, CdefError> {
        if evaluated {
            return parse(self);
        }
        self.unevaluated += 1;
        let result = parse(self);
        self.unevaluated -= 1;
        result
    }

    /// Binary operators of at least `min_precedence`, by precedence climbing.
    fn binary(&mut self, min_precedence: u8) -> Result<Value, CdefError> {
        let left = self.unary()?;
        self.binary_after(left, min_precedence)
    }

    /// [`Parser::binary`] with its first operand already read.
    fn binary_after(&mut self, mut left: Value, min_precedence: u8) -> Result<Value, CdefError> {
        while let TokenKind::Punct(op) = self.kind() {
            let Some(precedence) = precedence(op) else {
                break;
            };
            if precedence < min_precedence {
                break;
            }
            self.advance()?;
            let right = match op {
                Punct::AmpAmp => {
                    self.evaluated_if(left.value != 0, |p| p.binary(precedence + 1))?
                }
                Punct::PipePipe => {
                    self.evaluated_if(left.value == 0, |p| p.binary(precedence + 1))?
                }
                _ => self.binary(precedence + 1)?,
            };
            left = self.apply_binary(op, left, right)?;
        }
        Ok(left)
    }

    fn apply_binary(&self, op: Punct, left: Value, right: Value) -> Result<Value, CdefError> {
        use Punct::*;
        let truth = |b: bool| Value::int(i128::from(b));
        match op {
            AmpAmp => return Ok(truth(left.value != 0 && right.value != 0)),
            PipePipe => return Ok(truth(left.value != 0 || right.value != 0)),
            Shl | Shr => {
                // The count is taken modulo the width, as x86 does and LuaJIT inherits,
                // so that an out-of-range shift is defined rather than an error.
                let ty = promote(left.ty);
                let count = (right.value.rem_euclid(i128::from(ty.bits()))) as u32;
                let value = if op == Shl {
                    left.value.wrapping_shl(count)
                } else {
                    left.value >> count
                };
                return Ok(Value::of(value, ty));
            }
            _ => {}
        }
        let ty = common(left.ty, right.ty);
        let (a, b) = (wrap(left.value, ty), wrap(right.value, ty));
        Ok(match op {
            Star => Value::of(a.wrapping_mul(b), ty),
            Slash | Percent => {
                if b == 0 {
                    if self.unevaluated > 0 {
                        return Ok(Value::of(0, ty));
                    }
                    return Err(self.error_plain(text::INVALID_VALUE));
                }
                Value::of(if op == Slash { a / b } else { a % b }, ty)
            }
            Plus => Value::of(a + b, ty),
            Minus => Value::of(a - b, ty),
            Amp => Value::of(a & b, ty),
            Caret => Value::of(a ^ b, ty),
            Pipe => Value::of(a | b, ty),
            Lt => truth(a < b),
            Gt => truth(a > b),
            Le => truth(a <= b),
            Ge => truth(a >= b),
            EqEq => truth(a == b),
            Ne => truth(a != b),
            _ => unreachable!("not a binary operator: {op:?}"),
        })
    }

    /// A unary expression whose value must be an integer constant.
    fn unary(&mut self) -> Result<Value, CdefError> {
        let operand = self.operand()?;
        self.value_of(operand)
    }

    /// The value of an operand; an object has none (LuaJIT: `invalid value`).
    fn value_of(&self, operand: Operand) -> Result<Value, CdefError> {
        match operand {
            Operand::Value(value) => Ok(value),
            Operand::Object(_) => Err(self.error_plain(text::INVALID_VALUE)),
        }
    }

    /// Unary operators, casts, `sizeof`, `_Alignof`, and primary expressions with their
    /// member accesses (C11 6.5.3, 6.5.4, 6.5.2.3, 6.5.1).
    fn operand(&mut self) -> Result<Operand, CdefError> {
        self.enter()?;
        let operand = self.operand_inner()?;
        self.leave();
        Ok(operand)
    }

    fn operand_inner(&mut self) -> Result<Operand, CdefError> {
        let primary = match self.kind() {
            TokenKind::Punct(op @ (Punct::Plus | Punct::Minus | Punct::Tilde | Punct::Bang)) => {
                self.advance()?;
                let operand = self.unary()?;
                let ty = promote(operand.ty);
                return Ok(Operand::Value(match op {
                    Punct::Plus => Value::of(operand.value, ty),
                    Punct::Minus => Value::of(-operand.value, ty),
                    Punct::Tilde => Value::of(!operand.value, ty),
                    _ => Value::int(i128::from(operand.value == 0)),
                }));
            }
            TokenKind::Keyword(Keyword::Extension) => {
                self.advance()?;
                return self.operand();
            }
            TokenKind::Punct(Punct::Star) => {
                self.advance()?;
                let operand = self.operand()?;
                let pointer = self.operand_type(operand);
                return Ok(Operand::Object(self.pointed_to(pointer)?));
            }
            TokenKind::Punct(Punct::Amp) => {
                self.advance()?;
                let operand = self.operand()?;
                let ty = self.operand_type(operand);
                return Ok(Operand::Object(self.table.pointer_to(ty)));
            }
            TokenKind::Keyword(kw @ (Keyword::Sizeof | Keyword::Alignof)) => {
                self.advance()?;
                let ty = if self.is(Punct::LParen) && self.peek_starts_type() {
                    self.advance()?;
                    let ty = self.type_name()?;
                    self.expect(Punct::RParen, ")")?;
                    ty
                } else {
                    let operand = self.operand()?;
                    self.operand_type(operand)
                };
                let amount = if kw == Keyword::Sizeof {
                    match self.table.size_of(ty) {
                        Some(size) => size,
                        None => return Err(self.error_plain(text::SIZE_UNKNOWN)),
                    }
                } else {
                    u64::from(self.table.align_of(ty))
                };
                return Ok(Operand::Value(Value::of(i128::from(amount), IntType::U64)));
            }
            TokenKind::Punct(Punct::LParen) => {
                if self.peek_starts_type() {
                    self.advance()?;
                    let ty = self.type_name()?;
                    self.expect(Punct::RParen, ")")?;
                    let operand = self.operand()?;
                    return self.cast(ty, operand);
                }
                self.advance()?;
                let inner = self.operand()?;
                let operand = if self.is(Punct::RParen) {
                    inner
                } else {
                    let first = self.value_of(inner)?;
                    let mut value = self.conditional_after(first)?;
                    while self.accept(Punct::Comma)? {
                        value = self.constant_expression()?;
                    }
                    Operand::Value(value)
                };
                self.expect(Punct::RParen, ")")?;
                operand
            }
            TokenKind::Int => {
                let value = self.literal_value();
                self.advance()?;
                Operand::Value(value)
            }
            TokenKind::Char => {
                // A character constant has type int and the value of the char
                // (C11 6.4.4.4p10): '\377' is -1 where char is signed.
                let char_type = self.table.target().char_type();
                let value = wrap(i128::from(self.cur.token.int), char_type);
                self.advance()?;
                Operand::Value(Value::int(value))
            }
            TokenKind::Str => self.string_literal()?,
            TokenKind::Float => return Err(self.error_near(text::MALFORMED_NUMBER)),
            TokenKind::Ident => {
                let operand = self.ident_name().and_then(|name| self.named_operand(name));
                match operand {
                    Some(operand) => {
                        self.advance()?;
                        operand
                    }
                    None => return Err(self.error_near(text::UNEXPECTED_SYMBOL)),
                }
            }
            _ => return Err(self.error_near(text::UNEXPECTED_SYMBOL)),
        };
        self.member_accesses(primary)
    }

    /// Adjacent string literals (C11 6.4.5p5): an array of `const char` holding them and
    /// their terminating zero, so that `sizeof "abc"` is 4.
    fn string_literal(&mut self) -> Result<Operand, CdefError> {
        let mut bytes = Vec::new();
        while self.kind() == TokenKind::Str {
            decode_string(self.token_bytes(self.cur.token), &mut bytes);
            self.advance()?;
        }
        let char_ = self.table.builtins().char_;
        let const_char = self.table.qualified(char_, Quals::CONST);
        let len = ArrayLen::Fixed(bytes.len() as u64 + 1);
        let array = self
            .table
            .array_of(const_char, len)
            .map_err(|e| self.error_plain(e.message()))?;
        Ok(Operand::Object(array))
    }

    /// The type of an operand.
    fn operand_type(&mut self, operand: Operand) -> TypeId {
        match operand {
            Operand::Value(value) => self.table.intern(CType::Int(value.ty)),
            Operand::Object(ty) => ty,
        }
    }

    /// What a pointer or array type points to (for `*p`, `p[i]`, `p->m`); LuaJIT's
    /// error for anything else.
    fn pointed_to(&self, ty: TypeId) -> Result<TypeId, CdefError> {
        let ty = self.through_references(ty);
        match self.table.get(ty) {
            CType::Pointer(target) | CType::Array { elem: target, .. } => Ok(*target),
            _ => {
                let name = self.table.type_name(ty);
                Err(self.error_plain(&format!("'{name}' cannot be indexed")))
            }
        }
    }

    /// `.member`, `->member` and `[index]` after a primary expression (C11 6.5.2.1,
    /// 6.5.2.3): a record's named constant is a constant; a field or an element is an
    /// object of its type.
    fn member_accesses(&mut self, mut operand: Operand) -> Result<Operand, CdefError> {
        loop {
            if self.accept(Punct::LBracket)? {
                let ty = self.operand_type(operand);
                self.constant_expression()?;
                let elem = self.pointed_to(ty)?;
                self.expect(Punct::RBracket, "]")?;
                operand = Operand::Object(elem);
                continue;
            }
            let arrow = self.is(Punct::Arrow);
            if !arrow && !self.is(Punct::Dot) {
                return Ok(operand);
            }
            let mut ty = self.operand_type(operand);
            if arrow {
                ty = self.pointed_to(ty)?;
            }
            ty = self.through_references(ty);
            self.advance()?;
            let Some(member) = self.ident_name().filter(|_| self.param_type().is_none()) else {
                return Err(self.error_near(&text::expected(text::IDENT_NAME)));
            };
            operand = if let Some(constant) = self.table.find_constant(ty, member) {
                let int = self.integer_type_of(constant.ty).unwrap_or(IntType::I64);
                Operand::Value(Value::of(i128::from(constant.value), int))
            } else {
                match self.table.find_member(ty, member) {
                    Some((_, field)) if field.bits.is_none() => Operand::Object(field.ty),
                    _ => {
                        let name = self.table.type_name(ty);
                        return Err(
                            self.error_plain(&format!("'{name}' has no member named '{member}'"))
                        );
                    }
                }
            };
            self.advance()?;
        }
    }

    /// `ty` without qualifiers, alignment attributes and references.
    fn through_references(&self, ty: TypeId) -> TypeId {
        let (mut ty, _) = self.table.unqualified(ty);
        while let CType::Ref(target) = self.table.get(ty) {
            ty = self.table.unqualified(*target).0;
        }
        ty
    }

    /// What a name stands for in an expression: the value of a constant, or an object
    /// of the type of a variable or function.
    fn named_operand(&self, name: &str) -> Option<Operand> {
        if let Some(value) = self.named_constant(name) {
            return Some(Operand::Value(value));
        }
        match self.table.symbol(name)? {
            Symbol::Var { ty, .. } | Symbol::Func { ty, .. } => Some(Operand::Object(*ty)),
            _ => None,
        }
    }

    /// The value of an enum constant (of this enum, or declared) or named constant.
    fn named_constant(&self, name: &str) -> Option<Value> {
        if let Some((_, value)) = self.enum_scope.iter().rev().find(|(n, _)| **n == *name) {
            return Some(enum_constant_value(*value, None));
        }
        match self.table.symbol(name)? {
            Symbol::EnumConst { ty, value } => {
                let int_type = match self.table.get(*ty) {
                    CType::Enum(eid) => self.table.enum_def(*eid).int_type,
                    _ => None,
                };
                Some(enum_constant_value(*value, int_type))
            }
            Symbol::Const { ty, value } => {
                let int_type = self.integer_type_of(*ty).unwrap_or(IntType::I64);
                Some(Value::of(i128::from(*value), int_type))
            }
            _ => None,
        }
    }

    /// The integer type of `ty` for arithmetic: ints, `_Bool` (as unsigned char, `_Bool
    /// int` as unsigned int), enums.
    pub(crate) fn integer_type_of(&self, ty: TypeId) -> Option<IntType> {
        let (ty, _) = self.table.unqualified(ty);
        match self.table.get(ty) {
            CType::Int(int) => Some(*int),
            CType::Bool => Some(IntType::U8),
            CType::BoolInt => Some(IntType::U32),
            CType::Enum(eid) => Some(self.table.enum_def(*eid).int_type.unwrap_or(IntType::I32)),
            _ => None,
        }
    }

    /// `(type) operand`: a conversion to an integer type (C11 6.3.1.3), or to a pointer
    /// or record type, which makes an object of that type (`((struct s *)0)->K`, and
    /// LuaJIT's `((struct s)0).K`, which C would refuse).
    fn cast(&self, ty: TypeId, operand: Operand) -> Result<Operand, CdefError> {
        let (base, _) = self.table.unqualified(ty);
        if matches!(self.table.get(base), CType::Pointer(_) | CType::Record(_)) {
            return Ok(Operand::Object(ty));
        }
        let operand = self.value_of(operand)?;
        if matches!(self.table.get(base), CType::Bool | CType::BoolInt) {
            return Ok(Operand::Value(Value::of(
                i128::from(operand.value != 0),
                self.integer_type_of(base).unwrap_or(IntType::U8),
            )));
        }
        match self.integer_type_of(ty) {
            Some(int) => Ok(Operand::Value(Value::of(operand.value, int))),
            None => Err(self.error_plain(text::INVALID_TYPE)),
        }
    }

    /// The value and type of the current integer constant (C11 6.4.4.1p5).
    fn literal_value(&self) -> Value {
        if let Some(value) = self.param_int() {
            let ty = if i32::try_from(value).is_ok() {
                IntType::I32
            } else {
                IntType::I64
            };
            return Value::of(i128::from(value), ty);
        }
        let token = self.cur.token;
        let value = i128::from(token.int);
        let fits = |ty: IntType| value <= ty.range().1;
        let suffix = token.suffix;
        let candidates: &[IntType] = match (suffix.unsigned, suffix.longs, suffix.non_decimal) {
            (false, 0, false) => &[IntType::I32, IntType::I64],
            (false, 0, true) => &[IntType::I32, IntType::U32, IntType::I64, IntType::U64],
            (true, 0, _) => &[IntType::U32, IntType::U64],
            (false, _, false) => &[IntType::I64],
            (false, _, true) => &[IntType::I64, IntType::U64],
            (true, _, _) => &[IntType::U64],
        };
        // A decimal constant too large for long gets unsigned long, as gcc does (with
        // a warning).
        let ty = candidates
            .iter()
            .copied()
            .find(|&ty| fits(ty))
            .unwrap_or(IntType::U64);
        Value::of(value, ty)
    }
}

/// An enum constant in an expression: of type `int` when it fits (C11 6.7.2.2p3),
/// otherwise of the enum's integer type.
fn enum_constant_value(value: i64, int_type: Option<IntType>) -> Value {
    if i32::try_from(value).is_ok() {
        return Value::int(i128::from(value));
    }
    match int_type {
        Some(ty) if !ty.signed => Value::of(i128::from(value as u64), ty),
        _ => Value::of(i128::from(value), IntType::I64),
    }
}
