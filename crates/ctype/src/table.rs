//! The type table: interned types, records and enums, the namespaces of ordinary
//! identifiers and of tags, and transactions that make a failed `cdef` change nothing.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use crate::error::CdefError;
use crate::target::Target;
use crate::types::*;

/// Largest size in bytes a type may have: 2^31 - 1, LuaJIT's limit. An array in a
/// declaration, a record, or a `[?]` type sized for `ffi.new` that would be larger is
/// "size of C type is unknown or too large" ([`CdefError::size_unknown`]). Size arithmetic
/// is done in u64 with checked operations, so it never wraps silently.
pub const MAX_TYPE_SIZE: u64 = 0x7fff_ffff;

/// Alignment of `int128_t` (gcc's `__int128`) and of LuaJIT's `int256_t`.
const WIDE_INT_ALIGNMENT: u32 = 16;

/// The ids of the builtin types, fixed when a table is created.
#[derive(Copy, Clone, Debug)]
pub struct Builtins {
    pub void: TypeId,
    pub bool_: TypeId,
    /// Plain `char` (signed on x86-64).
    pub char_: TypeId,
    pub i8: TypeId,
    pub u8: TypeId,
    pub i16: TypeId,
    pub u16: TypeId,
    pub i32: TypeId,
    pub u32: TypeId,
    pub i64: TypeId,
    pub u64: TypeId,
    pub float: TypeId,
    pub double: TypeId,
    pub long_double: TypeId,
    pub complex_float: TypeId,
    pub complex_double: TypeId,
    pub void_ptr: TypeId,
    pub const_char_ptr: TypeId,
}

/// FxHash: a fast, non-cryptographic hash for the table's maps (keys are program text
/// the user declared, not attacker-chosen network input).
#[derive(Default, Clone, Copy)]
pub struct FxHasher(u64);

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("8-byte chunk")));
        }
        for &b in chunks.remainder() {
            self.add(u64::from(b));
        }
    }
    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }
    fn write_u32(&mut self, n: u32) {
        self.add(u64::from(n));
    }
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

pub type FxMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// One change to undo if the running transaction fails.
#[derive(Debug)]
enum Undo {
    Symbol(Box<str>, Option<Symbol>),
    Tag(Box<str>, Option<TypeId>),
    Record(RecordId, Record),
    Enum(EnumId, EnumDef),
}

/// What a transaction must restore: lengths of the append-only lists, and the old value
/// of everything it replaced.
#[derive(Debug)]
struct Journal {
    types_len: usize,
    records_len: usize,
    enums_len: usize,
    undo: Vec<Undo>,
}

/// All C types, typedefs, tags and declared symbols of one Lua state.
#[derive(Debug)]
pub struct TypeTable {
    target: Target,
    types: Vec<CType>,
    interned: FxMap<CType, TypeId>,
    records: Vec<Record>,
    enums: Vec<EnumDef>,
    symbols: FxMap<Box<str>, Symbol>,
    tags: FxMap<Box<str>, TypeId>,
    journal: Option<Journal>,
    builtins: Builtins,
}

impl TypeTable {
    /// A table holding the builtin types and the typedefs LuaJIT predeclares
    /// (`int8_t` ... `uint64_t`, `size_t`, `va_list`, ...).
    pub fn new(target: Target) -> TypeTable {
        let mut table = TypeTable {
            target,
            types: Vec::new(),
            interned: FxMap::default(),
            records: Vec::new(),
            enums: Vec::new(),
            symbols: FxMap::default(),
            tags: FxMap::default(),
            journal: None,
            builtins: Builtins {
                void: TypeId(0),
                bool_: TypeId(0),
                char_: TypeId(0),
                i8: TypeId(0),
                u8: TypeId(0),
                i16: TypeId(0),
                u16: TypeId(0),
                i32: TypeId(0),
                u32: TypeId(0),
                i64: TypeId(0),
                u64: TypeId(0),
                float: TypeId(0),
                double: TypeId(0),
                long_double: TypeId(0),
                complex_float: TypeId(0),
                complex_double: TypeId(0),
                void_ptr: TypeId(0),
                const_char_ptr: TypeId(0),
            },
        };
        let void = table.intern(CType::Void);
        let int = |t: &mut TypeTable, i| t.intern(CType::Int(i));
        let char_ = int(&mut table, target.char_type());
        let b = Builtins {
            void,
            bool_: table.intern(CType::Bool),
            char_,
            i8: int(&mut table, IntType::I8),
            u8: int(&mut table, IntType::U8),
            i16: int(&mut table, IntType::I16),
            u16: int(&mut table, IntType::U16),
            i32: int(&mut table, IntType::I32),
            u32: int(&mut table, IntType::U32),
            i64: int(&mut table, IntType::I64),
            u64: int(&mut table, IntType::U64),
            float: table.intern(CType::Float(FloatKind::Float)),
            double: table.intern(CType::Float(FloatKind::Double)),
            long_double: table.intern(CType::Float(FloatKind::LongDouble)),
            complex_float: table.intern(CType::Complex(FloatKind::Float)),
            complex_double: table.intern(CType::Complex(FloatKind::Double)),
            void_ptr: table.intern(CType::Pointer(void)),
            const_char_ptr: TypeId(0),
        };
        table.builtins = b;
        let const_char = table.qualified(char_, Quals::CONST);
        table.builtins.const_char_ptr = table.pointer_to(const_char);

        let wchar = table.intern(CType::Int(target.wchar_type()));
        let predeclared = [
            ("int8_t", b.i8),
            ("int16_t", b.i16),
            ("int32_t", b.i32),
            ("int64_t", b.i64),
            ("uint8_t", b.u8),
            ("uint16_t", b.u16),
            ("uint32_t", b.u32),
            ("uint64_t", b.u64),
            ("intptr_t", b.i64),
            ("uintptr_t", b.u64),
            ("ptrdiff_t", b.i64),
            ("ssize_t", b.i64),
            ("size_t", b.u64),
            ("wchar_t", wchar),
            ("va_list", b.void_ptr),
            ("__builtin_va_list", b.void_ptr),
            ("__gnuc_va_list", b.void_ptr),
        ];
        for (name, ty) in predeclared {
            table.symbols.insert(name.into(), Symbol::Typedef(ty));
        }
        table
    }

    pub fn target(&self) -> Target {
        self.target
    }

    pub fn builtins(&self) -> &Builtins {
        &self.builtins
    }

    /// Number of types in the table (every id is below this).
    pub fn len(&self) -> usize {
        self.types.len()
    }

    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    pub fn get(&self, id: TypeId) -> &CType {
        &self.types[id.index()]
    }

    pub fn record(&self, id: RecordId) -> &Record {
        &self.records[id.0 as usize]
    }

    pub fn enum_def(&self, id: EnumId) -> &EnumDef {
        &self.enums[id.0 as usize]
    }

    // ---- building types ------------------------------------------------------------

    /// The id of a structural type, created on first use. Not for records and enums,
    /// which are nominal: use [`TypeTable::new_record`] and [`TypeTable::new_enum`].
    pub fn intern(&mut self, ty: CType) -> TypeId {
        debug_assert!(
            !matches!(ty, CType::Record(_) | CType::Enum(_)),
            "records and enums are nominal, not interned"
        );
        if let Some(&id) = self.interned.get(&ty) {
            return id;
        }
        let id = self.push(ty.clone());
        self.interned.insert(ty, id);
        id
    }

    fn push(&mut self, ty: CType) -> TypeId {
        let id = TypeId(u32::try_from(self.types.len()).expect("fewer than 2^32 types"));
        self.types.push(ty);
        id
    }

    pub fn pointer_to(&mut self, target: TypeId) -> TypeId {
        self.intern(CType::Pointer(target))
    }

    /// `elem[len]`, refusing element counts and sizes above [`MAX_TYPE_SIZE`]. Qualifiers
    /// of an array are those of its elements (C11 6.7.3p9), so `elem` keeps them.
    pub fn array_of(&mut self, elem: TypeId, len: ArrayLen) -> Result<TypeId, CdefError> {
        if let ArrayLen::Fixed(n) = len {
            let too_large = n > MAX_TYPE_SIZE
                || self
                    .size_of(elem)
                    .is_some_and(|size| size.checked_mul(n).is_none_or(|t| t > MAX_TYPE_SIZE));
            if too_large {
                return Err(CdefError::size_unknown());
            }
        }
        Ok(self.intern(CType::Array { elem, len }))
    }

    /// `base` with `quals` added. Qualifying an array qualifies its elements; an empty
    /// qualifier set gives `base` back.
    pub fn qualified(&mut self, base: TypeId, quals: Quals) -> TypeId {
        if quals.is_empty() {
            return base;
        }
        match self.get(base).clone() {
            CType::Qualified {
                base: inner,
                quals: old,
            } => {
                let merged = old.union(quals);
                if merged == old {
                    base
                } else {
                    self.intern(CType::Qualified {
                        base: inner,
                        quals: merged,
                    })
                }
            }
            CType::Array { elem, len } => {
                let elem = self.qualified(elem, quals);
                self.intern(CType::Array { elem, len })
            }
            _ => self.intern(CType::Qualified { base, quals }),
        }
    }

    /// A new, incomplete struct or union. Anonymous records get a fresh type each time.
    pub fn new_record(&mut self, kind: RecordKind, tag: Option<&str>) -> TypeId {
        let rid = RecordId(u32::try_from(self.records.len()).expect("fewer than 2^32 records"));
        self.records.push(Record {
            kind,
            tag: tag.map(Into::into),
            body: None,
        });
        self.push(CType::Record(rid))
    }

    /// Gives the record `rid` its body. A record complete before the running transaction
    /// began is restored if the transaction fails.
    pub fn complete_record(&mut self, rid: RecordId, body: RecordBody) {
        let index = rid.0 as usize;
        if let Some(journal) = &mut self.journal {
            if index < journal.records_len {
                journal
                    .undo
                    .push(Undo::Record(rid, self.records[index].clone()));
            }
        }
        self.records[index].body = Some(body);
    }

    /// A new, incomplete enum.
    pub fn new_enum(&mut self, tag: Option<&str>) -> TypeId {
        let eid = EnumId(u32::try_from(self.enums.len()).expect("fewer than 2^32 enums"));
        self.enums.push(EnumDef {
            tag: tag.map(Into::into),
            int_type: None,
            constants: Vec::new(),
        });
        self.push(CType::Enum(eid))
    }

    /// Replaces the definition of enum `eid` (completing a forward declaration).
    pub fn complete_enum(&mut self, eid: EnumId, def: EnumDef) {
        let index = eid.0 as usize;
        if let Some(journal) = &mut self.journal {
            if index < journal.enums_len {
                journal
                    .undo
                    .push(Undo::Enum(eid, self.enums[index].clone()));
            }
        }
        self.enums[index] = def;
    }

    // ---- namespaces -----------------------------------------------------------------

    pub fn symbol(&self, name: &str) -> Option<&Symbol> {
        self.symbols.get(name)
    }

    /// Every declared ordinary identifier (for inspection and tests).
    pub fn symbols(&self) -> impl Iterator<Item = (&str, &Symbol)> {
        self.symbols.iter().map(|(k, v)| (&**k, v))
    }

    /// Declares `name`. Declaring it again identically is a no-op; differently, an error
    /// that names it.
    pub fn declare(&mut self, name: &str, symbol: Symbol) -> Result<(), CdefError> {
        match self.symbols.get(name) {
            Some(old) if *old == symbol => return Ok(()),
            Some(_) => return Err(CdefError::redefined(name)),
            None => {}
        }
        if let Some(journal) = &mut self.journal {
            journal.undo.push(Undo::Symbol(name.into(), None));
        }
        self.symbols.insert(name.into(), symbol);
        Ok(())
    }

    /// The record or enum type that `name` tags.
    pub fn tag(&self, name: &str) -> Option<TypeId> {
        self.tags.get(name).copied()
    }

    /// Replaces the declaration of an already declared `name` (a later declaration that
    /// adds to it, such as an asm label); undone if the transaction fails.
    pub fn redeclare(&mut self, name: &str, symbol: Symbol) {
        let old = self.symbols.insert(name.into(), symbol);
        if let Some(journal) = &mut self.journal {
            journal.undo.push(Undo::Symbol(name.into(), old));
        }
    }

    /// Every declared tag (for inspection and tests).
    pub fn tags(&self) -> impl Iterator<Item = (&str, TypeId)> {
        self.tags.iter().map(|(k, v)| (&**k, *v))
    }

    /// Binds the tag `name` to a record or enum type (replacing nothing: callers look
    /// the tag up first and complete the existing type instead).
    pub fn set_tag(&mut self, name: &str, ty: TypeId) {
        let old = self.tags.insert(name.into(), ty);
        if let Some(journal) = &mut self.journal {
            journal.undo.push(Undo::Tag(name.into(), old));
        }
    }

    // ---- transactions ---------------------------------------------------------------

    /// Runs `f`; if it fails, every change it made to the table is undone. Transactions
    /// do not nest: an inner call joins the outer one.
    pub fn transaction<T>(
        &mut self,
        f: impl FnOnce(&mut TypeTable) -> Result<T, CdefError>,
    ) -> Result<T, CdefError> {
        if self.journal.is_some() {
            return f(self);
        }
        self.journal = Some(Journal {
            types_len: self.types.len(),
            records_len: self.records.len(),
            enums_len: self.enums.len(),
            undo: Vec::new(),
        });
        let result = f(self);
        let journal = self.journal.take().expect("journal set above");
        if result.is_err() {
            self.roll_back(journal);
        }
        result
    }

    fn roll_back(&mut self, journal: Journal) {
        for undo in journal.undo.into_iter().rev() {
            match undo {
                Undo::Symbol(name, Some(old)) => {
                    self.symbols.insert(name, old);
                }
                Undo::Symbol(name, None) => {
                    self.symbols.remove(&name);
                }
                Undo::Tag(name, Some(old)) => {
                    self.tags.insert(name, old);
                }
                Undo::Tag(name, None) => {
                    self.tags.remove(&name);
                }
                Undo::Record(rid, old) => self.records[rid.0 as usize] = old,
                Undo::Enum(eid, old) => self.enums[eid.0 as usize] = old,
            }
        }
        for ty in self.types.drain(journal.types_len..) {
            if !matches!(ty, CType::Record(_) | CType::Enum(_)) {
                self.interned.remove(&ty);
            }
        }
        self.records.truncate(journal.records_len);
        self.enums.truncate(journal.enums_len);
    }

    // ---- queries ------------------------------------------------------------------

    /// `id` without qualifiers or alignment attributes, and the qualifiers it had.
    pub fn unqualified(&self, mut id: TypeId) -> (TypeId, Quals) {
        let mut quals = Quals::NONE;
        loop {
            match self.get(id) {
                CType::Qualified { base, quals: q } => {
                    quals = quals.union(*q);
                    id = *base;
                }
                CType::Aligned { base, .. } => id = *base,
                _ => return (id, quals),
            }
        }
    }

    /// Size in bytes; `None` for `void`, functions, incomplete records and enums, `[]`
    /// arrays (incomplete, C11 6.2.5p22; as LuaJIT, `sizeof("int[]")` is nil) and `[?]`
    /// arrays (whose size depends on the element count).
    pub fn size_of(&self, mut id: TypeId) -> Option<u64> {
        // A loop, not recursion: a chain of typedefs built over many cdefs can nest types
        // arbitrarily deep. `count` is the product of the enclosing array lengths.
        let mut count: u64 = 1;
        let unit = loop {
            match self.get(id) {
                CType::Void | CType::Func(_) => return None,
                CType::Bool => break 1,
                CType::BoolInt => break 4,
                CType::Int(i) => break u64::from(i.bytes),
                CType::WideInt { bytes, .. } => break u64::from(*bytes),
                CType::Float(kind) | CType::Complex(kind) => {
                    let one = match kind {
                        FloatKind::Float => 4,
                        FloatKind::Double => 8,
                        FloatKind::LongDouble => self.target.long_double_layout().0,
                    };
                    break if matches!(self.get(id), CType::Complex(_)) {
                        one * 2
                    } else {
                        one
                    };
                }
                CType::Vector { bytes, .. } => break u64::from(*bytes),
                CType::Pointer(_) => break u64::from(self.target.pointer_bytes()),
                // LuaJIT sizes a reference as what it refers to (`sizeof(int &)` is 4).
                CType::Ref(base) | CType::Qualified { base, .. } | CType::Aligned { base, .. } => {
                    id = *base;
                }
                CType::Array { elem, len } => match len {
                    ArrayLen::Fixed(n) => {
                        count = count.checked_mul(*n)?;
                        id = *elem;
                    }
                    ArrayLen::Flexible | ArrayLen::Variable => return None,
                },
                CType::Record(rid) => {
                    let body = self.record(*rid).body.as_ref()?;
                    if self.vla_tail(body).is_some() {
                        return None;
                    }
                    break body.size;
                }
                CType::Enum(eid) => break u64::from(self.enum_def(*eid).int_type?.bytes),
            }
        };
        unit.checked_mul(count)
            .filter(|&total| total <= MAX_TYPE_SIZE)
    }

    /// Size of a variable-length type (`T[?]`, or a struct ending in one) holding
    /// `count` elements; the plain size for other types. `None` when that is unknown or
    /// above [`MAX_TYPE_SIZE`] (see [`TypeTable::vla_size`] for the error).
    ///
    /// A struct ending in `T x[?]` takes its size with no elements plus `count` elements,
    /// as LuaJIT computes it (`lj_ctype_vlsize`): at least what the elements need from
    /// the array's offset, and the same size LuaJIT reports.
    pub fn size_of_vla(&self, id: TypeId, count: u64) -> Option<u64> {
        let (id, _) = self.unqualified(id);
        let total = match self.get(id) {
            CType::Array {
                elem,
                len: ArrayLen::Variable,
            } => self.size_of(*elem)?.checked_mul(count)?,
            CType::Record(rid) => {
                let body = self.record(*rid).body.as_ref()?;
                match self.vla_tail(body) {
                    Some((_, elem)) => self
                        .size_of(elem)?
                        .checked_mul(count)?
                        .checked_add(body.size)?,
                    None => body.size,
                }
            }
            _ => return self.size_of(id),
        };
        (total <= MAX_TYPE_SIZE).then_some(total)
    }

    /// [`TypeTable::size_of_vla`] for an element count given by the program (`ffi.new`,
    /// `ffi.sizeof`): a negative count, an unknown size or one above [`MAX_TYPE_SIZE`] is
    /// LuaJIT's "size of C type is unknown or too large".
    pub fn vla_size(&self, id: TypeId, count: i64) -> Result<u64, CdefError> {
        u64::try_from(count)
            .ok()
            .and_then(|count| self.size_of_vla(id, count))
            .ok_or_else(CdefError::size_unknown)
    }

    /// Whether `id` is variable-length: a `[?]` array or a struct ending in one.
    pub fn is_vla(&self, id: TypeId) -> bool {
        let (id, _) = self.unqualified(id);
        match self.get(id) {
            CType::Array {
                len: ArrayLen::Variable,
                ..
            } => true,
            CType::Record(rid) => self
                .record(*rid)
                .body
                .as_ref()
                .is_some_and(|body| self.vla_tail(body).is_some()),
            _ => false,
        }
    }

    /// For a record whose last field is a `[?]` array: its offset and element type.
    fn vla_tail(&self, body: &RecordBody) -> Option<(u64, TypeId)> {
        let last = body.fields.last()?;
        let (ty, _) = self.unqualified(last.ty);
        match self.get(ty) {
            CType::Array {
                elem,
                len: ArrayLen::Variable,
            } => Some((last.offset, *elem)),
            _ => None,
        }
    }

    /// Alignment in bytes, as C11's `_Alignof` and `ffi.alignof` give it (gcc's
    /// `min_align_of_type`): [`TypeTable::layout_align_of`], capped at
    /// [`Target::max_align`] (16 bytes, `__BIGGEST_ALIGNMENT__`) unless an `aligned`
    /// attribute asked for more. Only vectors of 32 bytes and more, and what contains them, are
    /// capped: `int __attribute__((vector_size(32)))` has `_Alignof` 16, as in gcc and
    /// LuaJIT. Incomplete types and `void` answer 1, like LuaJIT.
    pub fn align_of(&self, id: TypeId) -> u32 {
        let align = self.layout_align_of(id);
        let biggest = self.target.max_align();
        if align > biggest && !self.is_user_aligned(id) {
            biggest
        } else {
            align
        }
    }

    /// The alignment gcc places a member of this type at (its `TYPE_ALIGN`): a vector is
    /// aligned as [`Target::vector_align`] says, on x86-64 to its size, so
    /// `struct { char c; int v __attribute__((vector_size(32))); }` puts `v` at 32 even
    /// though `_Alignof` of either type is 16 (on AArch64 at 16).
    pub fn layout_align_of(&self, mut id: TypeId) -> u32 {
        // A loop for the same reason as `size_of`.
        loop {
            return match self.get(id) {
                CType::Void | CType::Func(_) | CType::Bool => 1,
                CType::BoolInt => 4,
                CType::Int(i) => u32::from(i.bytes),
                CType::WideInt { .. } => WIDE_INT_ALIGNMENT,
                CType::Float(FloatKind::Float) | CType::Complex(FloatKind::Float) => 4,
                CType::Float(FloatKind::Double) | CType::Complex(FloatKind::Double) => 8,
                CType::Float(FloatKind::LongDouble) | CType::Complex(FloatKind::LongDouble) => {
                    self.target.long_double_layout().1
                }
                CType::Vector { bytes, .. } => self.target.vector_align(*bytes),
                CType::Pointer(_) | CType::Ref(_) => self.target.pointer_bytes(),
                CType::Array { elem: base, .. } | CType::Qualified { base, .. } => {
                    id = *base;
                    continue;
                }
                CType::Record(rid) => self.record(*rid).body.as_ref().map_or(1, |b| b.align),
                CType::Enum(eid) => self
                    .enum_def(*eid)
                    .int_type
                    .map_or(1, |i| u32::from(i.bytes)),
                CType::Aligned { align, .. } => *align,
            };
        }
    }

    /// Whether an `aligned` attribute set this type's alignment (gcc's
    /// `TYPE_USER_ALIGN`): an aligned typedef, a record that had one, arrays of them.
    pub fn is_user_aligned(&self, mut id: TypeId) -> bool {
        loop {
            return match self.get(id) {
                CType::Aligned { .. } => true,
                CType::Array { elem: base, .. } | CType::Qualified { base, .. } => {
                    id = *base;
                    continue;
                }
                CType::Record(rid) => self
                    .record(*rid)
                    .body
                    .as_ref()
                    .is_some_and(|b| b.user_aligned),
                _ => false,
            };
        }
    }

    /// Whether the type is complete: it has a size, or is a `[?]` type that gets one
    /// from an element count.
    pub fn is_complete(&self, id: TypeId) -> bool {
        self.size_of(id).is_some() || self.is_vla(id)
    }

    /// Finds the named constant `name` of a record type ([`RecordBody::constants`]),
    /// looking through anonymous struct/union members as [`TypeTable::find_member`]
    /// does.
    pub fn find_constant(&self, record: TypeId, name: &str) -> Option<&RecordConst> {
        let (record, _) = self.unqualified(record);
        let CType::Record(rid) = self.get(record) else {
            return None;
        };
        let body = self.record(*rid).body.as_ref()?;
        if let Some(constant) = body.constants.iter().find(|c| *c.name == *name) {
            return Some(constant);
        }
        body.fields
            .iter()
            .filter(|f| f.name.is_none() && f.bits.is_none())
            .find_map(|f| self.find_constant(f.ty, name))
    }

    /// Finds member `name` of a record type, or of a reference to one (as LuaJIT's
    /// `ffi.offsetof` follows references), looking through anonymous struct/union
    /// members. Returns the member and its byte offset from the start of `record`
    /// (for a bitfield, of its storage unit).
    pub fn find_member(&self, record: TypeId, name: &str) -> Option<(u64, &Field)> {
        self.find_member_quals(record, name)
            .map(|(offset, field, _)| (offset, field))
    }

    /// [`TypeTable::find_member`], with the qualifiers of the anonymous members the
    /// search went through (`struct { const pt_t; }`: `x` is const there, as in
    /// LuaJIT's `lj_ctype_getfieldq`). The member's own are in its type.
    pub fn find_member_quals(&self, record: TypeId, name: &str) -> Option<(u64, &Field, Quals)> {
        let (mut record, _) = self.unqualified(record);
        if let CType::Ref(target) = self.get(record) {
            record = self.unqualified(*target).0;
        }
        let CType::Record(rid) = self.get(record) else {
            return None;
        };
        let body = self.record(*rid).body.as_ref()?;
        for field in &body.fields {
            match &field.name {
                Some(n) if **n == *name => return Some((field.offset, field, Quals::NONE)),
                Some(_) => {}
                None if field.bits.is_none() => {
                    if let Some((inner, f, quals)) = self.find_member_quals(field.ty, name) {
                        let outer = self.unqualified(field.ty).1;
                        return Some((field.offset + inner, f, quals.union(outer)));
                    }
                }
                None => {}
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn structural_types_are_interned() {
        let mut t = TypeTable::new(Target::X86_64SysV);
        let int = t.builtins().i32;
        let p1 = t.pointer_to(int);
        let p2 = t.pointer_to(int);
        assert_eq!(p1, p2);
        let c1 = t.qualified(int, Quals::CONST);
        let c2 = t.qualified(c1, Quals::CONST);
        assert_eq!(c1, c2);
        assert_ne!(c1, int);
        assert_eq!(t.unqualified(c1), (int, Quals::CONST));
    }

    #[test]
    fn qualifying_an_array_qualifies_its_elements() {
        let mut t = TypeTable::new(Target::X86_64SysV);
        let int = t.builtins().i32;
        let arr = t.array_of(int, ArrayLen::Fixed(3)).unwrap();
        let carr = t.qualified(arr, Quals::CONST);
        let cint = t.qualified(int, Quals::CONST);
        assert_eq!(
            *t.get(carr),
            CType::Array {
                elem: cint,
                len: ArrayLen::Fixed(3)
            }
        );
        assert_eq!(t.size_of(carr), Some(12));
    }

    #[test]
    fn huge_arrays_are_refused() {
        let mut t = TypeTable::new(Target::X86_64SysV);
        let int = t.builtins().i32;
        assert!(t.array_of(int, ArrayLen::Fixed(u64::MAX / 2)).is_err());
        // LuaJIT's limit: 2^31 - 1 bytes, and as many elements.
        let char_ = t.builtins().char_;
        assert!(t.array_of(char_, ArrayLen::Fixed(MAX_TYPE_SIZE)).is_ok());
        assert!(t
            .array_of(char_, ArrayLen::Fixed(MAX_TYPE_SIZE + 1))
            .is_err());
        assert!(t.array_of(int, ArrayLen::Fixed(1 << 29)).is_err());
        let big = t.array_of(int, ArrayLen::Fixed((1 << 29) - 1)).unwrap();
        assert_eq!(t.size_of(big), Some(MAX_TYPE_SIZE - 3));
        assert!(t.array_of(big, ArrayLen::Fixed(2)).is_err());
        let empty = t.array_of(int, ArrayLen::Fixed(0)).unwrap();
        assert!(t
            .array_of(empty, ArrayLen::Fixed(MAX_TYPE_SIZE + 1))
            .is_err());
    }

    #[test]
    fn failed_transaction_restores_everything() {
        let mut t = TypeTable::new(Target::X86_64SysV);
        let int = t.builtins().i32;
        let fwd = t.new_record(RecordKind::Struct, Some("fwd"));
        t.set_tag("fwd", fwd);
        let types_before = t.len();
        let CType::Record(rid) = *t.get(fwd) else {
            unreachable!()
        };
        let result: Result<(), CdefError> = t.transaction(|t| {
            let p = t.pointer_to(int);
            t.declare("x", Symbol::Typedef(p))?;
            let s = t.new_record(RecordKind::Union, Some("u"));
            t.set_tag("u", s);
            t.complete_record(
                rid,
                RecordBody {
                    fields: vec![],
                    constants: vec![],
                    size: 4,
                    align: 4,
                    user_aligned: false,
                },
            );
            t.declare("size_t", Symbol::Typedef(int))
        });
        assert_eq!(
            result.unwrap_err().message(),
            "attempt to redefine 'size_t'"
        );
        assert_eq!(t.len(), types_before);
        assert!(t.symbol("x").is_none());
        assert!(t.tag("u").is_none());
        assert!(t.record(rid).body.is_none());
        // The pointer type interned inside the failed transaction is gone from the map
        // too: creating it again gives a valid id.
        let p = t.pointer_to(int);
        assert_eq!(*t.get(p), CType::Pointer(int));
    }

    #[test]
    fn identical_redeclaration_is_a_no_op() {
        let mut t = TypeTable::new(Target::X86_64SysV);
        let u64_ = t.builtins().u64;
        assert!(t.declare("size_t", Symbol::Typedef(u64_)).is_ok());
        let i32_ = t.builtins().i32;
        assert!(t.declare("size_t", Symbol::Typedef(i32_)).is_err());
    }
}
