//! Data layout of records and enums for the target ABI: member offsets, bitfield
//! placement, size and alignment, exactly as the C compiler does it (gcc on x86-64 Linux,
//! and aarch64-linux-gnu-gcc for [`crate::Target::Aarch64`], are the oracles; see
//! tests/layout_vs_cc.rs, which compares thousands of random declarations with them, and
//! tests/layout_table.rs for hand-checked cases).
//!
//! # The rules (x86-64 psABI 3.1.2 "Aggregates and Unions" / "Bit-Fields", AAPCS64
//! §10.1.7-10.1.8, as gcc's `stor-layout.c` implements them with
//! `PCC_BITFIELD_TYPE_MATTERS`; the targets differ only where said)
//!
//! Positions are counted in bits. Each member gets a *field alignment*:
//! - an ordinary member: the larger of its type's alignment and its own
//!   `aligned(n)`; a packed member (record or member `packed`) gets 1 byte instead,
//!   unless the member itself says `aligned(n)`, which then holds exactly (this is the
//!   one way to lower a member's alignment, as gcc's manual says);
//! - a bitfield of non-zero width: only its own `aligned(n)` (else 1 bit). Its type
//!   acts through the "no excess unit span" rule below instead;
//! - a zero-width bitfield: the larger of its type's alignment and its `aligned(n)`,
//!   untouched by `packed` and by `#pragma pack` (gcc: "such bit-fields are not
//!   influenced by any packing").
//!
//! `#pragma pack(n)` caps every other field alignment at n bytes, user alignments
//! included. The member is placed at the next multiple of its field alignment. A
//! non-packed bitfield outside any `#pragma pack` then also obeys psABI 3.1.2: "bit-fields
//! must be contained in a storage unit appropriate for its declared type" — precisely,
//! it may not span more units of its type's alignment than its type's size holds
//! (gcc's `excess_unit_span`), else it moves to the next such unit. Packed bitfields and
//! every bitfield under `#pragma pack` are placed at the very next bit.
//!
//! The record's alignment is the largest of 1, its own `aligned(n)`, every ordinary
//! member's field alignment and, for each *named* bitfield, its field alignment and its
//! type's alignment (capped by `#pragma pack`, or at 1 byte when packed). Unnamed
//! bitfields, zero-width ones included, add nothing to it on x86-64 (psABI 3.1.2:
//! "unnamed bit-fields' types do not affect the alignment of a structure or union"). On
//! AArch64 they count as named ones do (AAPCS64 §10.1.8, "without exception for
//! zero-sized or anonymous bit-fields"), a zero-width one with its type's alignment
//! uncapped even by `packed` and `#pragma pack` (gcc: `struct __attribute__((packed)) {
//! char a; int : 0; int b; }` is 8 bytes aligned to 4). The size is the end of the last
//! member, rounded up to whole bytes, then to the alignment. A union places every member
//! at 0; its size is that of its largest member (a bitfield counts its width in whole
//! bytes).
//!
//! One more gcc detail: a bitfield exactly 8, 16, 32 or 64 bits wide that starts at a
//! multiple of its width (in a union: always) is given that integer mode, whose
//! alignment then counts as the field alignment, unless the field is packed and the
//! width is over 8 (`layout_decl`); it is then exempt from the unit-span rule. It only
//! shows when the bitfield's type has an alignment other than its size
//! (`typedef int i1 __attribute__((aligned(1)))`: `union { i1 x:32; }` has alignment 4;
//! `typedef short s16 __attribute__((aligned(16)))`: in `struct { char c; s16 x:8; }`
//! x stays at bit 8, where `s16 x:3` moves to bit 128).
//!
//! # Bitfield storage units
//!
//! [`BitField`] says where to load and store a bitfield: `unit_bytes` at the field's
//! `offset`, bits `pos .. pos + width` from the least significant end. The unit is
//! chosen so that it holds all the field's bits and, when it can, lies inside the record:
//! 1. the naturally aligned unit of the declared type's size that contains the field
//!    (LuaJIT's choice, and the answer to `ffi.offsetof` for every ordinary bitfield:
//!    `struct { unsigned a:3, b:5; int c:20; int d:10; }` gives `d` (4, 0, 10));
//! 2. if that unit does not hold the field (packed or `#pragma pack` fields straddling
//!    it) or reaches past the record's end, the smallest power of two (1, 2, 4, 8, 16
//!    bytes) starting at the byte of the field's first bit that holds it, moved back to
//!    end at the record's end if it would reach past it;
//! 3. only when the record is smaller than that unit (a packed 3-byte struct with a
//!    22-bit field) does the unit reach past the record: loads and stores of such a field
//!    must go byte by byte.

use crate::error::CdefError;
use crate::table::{TypeTable, MAX_TYPE_SIZE};
use crate::types::*;

/// One member as declared, before layout.
#[derive(Clone, Debug)]
pub struct MemberDecl {
    /// `None` for an anonymous struct/union member or an unnamed bitfield.
    pub name: Option<Box<str>>,
    pub ty: TypeId,
    /// `Some(width)` for a bitfield (`int x : width`), `Some(0)` for `int : 0`.
    pub bit_width: Option<u32>,
    /// `__attribute__((packed))` on the member.
    pub packed: bool,
    /// `__attribute__((aligned(n)))` / `_Alignas(n)` on the member (largest if several).
    pub align: Option<u32>,
}

/// Attributes of a whole struct/union definition.
#[derive(Clone, Debug, Default)]
pub struct RecordAttrs {
    /// `__attribute__((packed))` on the record.
    pub packed: bool,
    /// `__attribute__((aligned(n)))` / `__declspec(align(n))` on the record.
    pub align: Option<u32>,
    /// The `#pragma pack(n)` value in effect where the record is defined.
    pub pragma_pack: Option<u32>,
}

const BITS_PER_BYTE: u64 = 8;

/// LuaJIT's text for a member whose size is unknown (incomplete, `void`, a function).
const UNKNOWN_SIZE: &str = CdefError::SIZE_UNKNOWN;
/// LuaJIT's text for a bad bitfield (its parser says `invalid value near ':'`).
const INVALID_VALUE: &str = "invalid value";

/// Lays out a record body. Errors (for example a member of incomplete type, or a
/// bitfield wider than its type) name the member.
pub fn layout_record(
    table: &TypeTable,
    kind: RecordKind,
    members: &[MemberDecl],
    attrs: &RecordAttrs,
) -> Result<RecordBody, CdefError> {
    let record_align_attr = attrs
        .align
        .map(|n| check_alignment(n, "record"))
        .transpose()?;
    let pack_bits = attrs
        .pragma_pack
        .map(|n| check_alignment(n, "#pragma pack"))
        .transpose()?;
    let mut placer = Placer {
        kind,
        unnamed_bitfields_align: table.target().unnamed_bitfields_align_record(),
        pack_bits: pack_bits.map(|n| u64::from(n) * BITS_PER_BYTE),
        // gcc starts from the record's own `aligned(n)`, which `#pragma pack` does not cap.
        record_align_bits: BITS_PER_BYTE
            .max(record_align_attr.map_or(0, |n| u64::from(n) * BITS_PER_BYTE)),
        offset_align_bits: 0,
        offset_bits: 0,
        bitpos: 0,
        union_size_bits: 0,
    };
    placer.offset_align_bits = placer.record_align_bits.max(BIGGEST_ALIGNMENT_BITS);
    let mut placed = Vec::with_capacity(members.len());
    for (index, member) in members.iter().enumerate() {
        let is_last = index + 1 == members.len();
        let shape = member_shape(table, kind, member, is_last)?;
        let packed = attrs.packed || member.packed;
        let (bit, align_bits) = placer.place(member, &shape, packed)?;
        placed.push((bit, align_bits, shape));
    }

    let align_bits = placer.record_align_bits;
    let size_bytes = placer.end_bits().div_ceil(BITS_PER_BYTE);
    let align = u32::try_from(align_bits / BITS_PER_BYTE).expect("alignment below 2^32");
    let size = size_bytes.div_ceil(u64::from(align)) * u64::from(align);
    if size > MAX_TYPE_SIZE {
        return Err(CdefError::new(UNKNOWN_SIZE));
    }

    let fields = members
        .iter()
        .zip(placed)
        .map(|(member, (bit, align_bits, shape))| {
            let align = field_align_bytes(align_bits);
            match member.bit_width {
                None => Field {
                    name: member.name.clone(),
                    ty: member.ty,
                    offset: bit / BITS_PER_BYTE,
                    bits: None,
                    align,
                },
                Some(width) => {
                    let (offset, bits) = storage_unit(bit, width, shape.size_bytes, size);
                    Field {
                        name: member.name.clone(),
                        ty: member.ty,
                        offset,
                        bits: Some(bits),
                        align,
                    }
                }
            }
        })
        .collect();
    let user_aligned = attrs.align.is_some()
        || members.iter().any(|m| {
            let packed = attrs.packed || m.packed;
            member_user_aligned(table, kind, m, packed, attrs.pragma_pack.is_some())
        });
    Ok(RecordBody {
        fields,
        constants: Vec::new(),
        size,
        align,
        user_aligned,
    })
}

/// A field alignment in whole bytes (a bitfield's may be a single bit: 1 byte).
fn field_align_bytes(bits: u64) -> u32 {
    u32::try_from(bits.div_ceil(BITS_PER_BYTE)).expect("alignment below 2^32")
}

/// Whether a member makes its record's alignment a user alignment (gcc's
/// `TYPE_USER_ALIGN`, which `_Alignof` does not cap): the member's `DECL_USER_ALIGN` as
/// `layout_decl` sets it, or, for a named bitfield (on AArch64 any bitfield, see
/// [`crate::Target::unnamed_bitfields_align_record`]), or an unpacked one of a struct
/// outside `#pragma pack` (`update_alignment_for_field`, `place_field`), its type's flag.
fn member_user_aligned(
    table: &TypeTable,
    kind: RecordKind,
    member: &MemberDecl,
    packed: bool,
    pragma_pack: bool,
) -> bool {
    let type_flag = table.is_user_aligned(member.ty);
    let type_align = table.layout_align_of(member.ty);
    // `do_type_align`: the type's alignment, and its flag, win over a smaller `aligned(n)`.
    let type_aligned = || {
        if member.align.is_none_or(|n| type_align > n) {
            type_flag
        } else {
            true
        }
    };
    let decl_user = match member.bit_width {
        None if packed && member.align.is_some() => true,
        None | Some(0) => type_aligned(),
        Some(_) => member.align.is_some(),
    };
    let bitfield = member.bit_width.is_some_and(|w| w != 0);
    let aligns_record = member.bit_width.is_some()
        && (member.name.is_some() || table.target().unnamed_bitfields_align_record());
    decl_user
        || (aligns_record && type_flag)
        || (bitfield
            && kind == RecordKind::Struct
            && (!packed || type_align <= 1)
            && !pragma_pack
            && type_flag)
}

/// What layout needs to know of a member's type.
struct MemberShape {
    /// Size of the type; 0 for a flexible or `[?]` array at the end.
    size_bytes: u64,
    /// Alignment of the type (an `Aligned` typedef's, which may be lower than natural).
    align_bits: u64,
}

/// Checks the member's type and bitfield width the way gcc and LuaJIT reject them.
fn member_shape(
    table: &TypeTable,
    kind: RecordKind,
    member: &MemberDecl,
    is_last: bool,
) -> Result<MemberShape, CdefError> {
    let name = member_label(member);
    let align_bits = u64::from(table.layout_align_of(member.ty)) * BITS_PER_BYTE;
    let (base, _) = table.unqualified(member.ty);
    let size_bytes = match (table.size_of(member.ty), table.get(base)) {
        // C11 6.7.2.1p18: only the last member of a struct may be a flexible array;
        // LuaJIT's `[?]` tail is laid out the same way. A union has neither (LuaJIT
        // refuses both there).
        (
            None,
            CType::Array {
                len: ArrayLen::Flexible | ArrayLen::Variable,
                elem,
            },
        ) if member.bit_width.is_none() => {
            if kind == RecordKind::Union {
                return Err(CdefError::new(format!(
                    "{UNKNOWN_SIZE}: variable-length member {name} in a union"
                )));
            }
            if !is_last {
                return Err(CdefError::new(format!(
                    "{UNKNOWN_SIZE}: flexible array member {name} is not at the end of the struct"
                )));
            }
            if table.size_of(*elem).is_none() {
                return Err(CdefError::new(format!("{UNKNOWN_SIZE}: member {name}")));
            }
            0
        }
        (Some(size), _) => size,
        (None, _) => return Err(CdefError::new(format!("{UNKNOWN_SIZE}: member {name}"))),
    };
    if let Some(width) = member.bit_width {
        // C11 6.7.2.1p5: a bitfield has an integer type (gcc also takes enums);
        // p4: its width is at most the width of that type; `_Bool` is 1 bit wide.
        let type_bits = match table.get(base) {
            CType::Bool | CType::BoolInt => 1,
            CType::Int(_) | CType::Enum(_) => size_bytes * BITS_PER_BYTE,
            _ => {
                return Err(CdefError::new(format!(
                    "{INVALID_VALUE}: bitfield {name} has a non-integer type"
                )))
            }
        };
        if u64::from(width) > type_bits {
            return Err(CdefError::new(format!(
                "{INVALID_VALUE}: width of bitfield {name} exceeds its type"
            )));
        }
        // C11 6.7.2.1p4: only an unnamed bitfield may have width zero.
        if width == 0 && member.name.is_some() {
            return Err(CdefError::new(format!(
                "{INVALID_VALUE}: zero width for bitfield {name}"
            )));
        }
    }
    if let Some(n) = member.align {
        check_alignment(n, &name)?;
    }
    Ok(MemberShape {
        size_bytes,
        align_bits,
    })
}

/// `'x'` for a named member, a description for an unnamed one.
fn member_label(member: &MemberDecl) -> String {
    match (&member.name, member.bit_width) {
        (Some(name), _) => format!("'{name}'"),
        (None, Some(_)) => "'<unnamed bitfield>'".to_string(),
        (None, None) => "'<anonymous member>'".to_string(),
    }
}

/// gcc: "requested alignment is not a positive power of 2".
fn check_alignment(n: u32, what: &str) -> Result<u32, CdefError> {
    if n.is_power_of_two() {
        Ok(n)
    } else {
        Err(CdefError::new(format!(
            "{INVALID_VALUE}: alignment {n} of {what} is not a power of 2"
        )))
    }
}

/// The running state of gcc's `record_layout_info`.
struct Placer {
    kind: RecordKind,
    /// [`crate::Target::unnamed_bitfields_align_record`].
    unnamed_bitfields_align: bool,
    /// `#pragma pack(n)` in bits (gcc's `maximum_field_alignment`).
    pack_bits: Option<u64>,
    record_align_bits: u64,
    /// A struct's position is `offset_bits + bitpos`, where `offset_bits` is a multiple
    /// of `offset_align_bits` and `bitpos` is below it between members (gcc's
    /// `normalize_rli`). The split is visible: gcc's unit-span rule rounds `bitpos`
    /// alone, so a bitfield whose type is aligned beyond `offset_align_bits` moves to
    /// `offset + align`, not to a multiple of `align`.
    offset_align_bits: u64,
    offset_bits: u64,
    bitpos: u64,
    /// A union's size so far.
    union_size_bits: u64,
}

/// gcc's BIGGEST_ALIGNMENT for x86-64 without AVX (and for AArch64): 16 bytes. It is the
/// starting `offset_align` of a record layout.
const BIGGEST_ALIGNMENT_BITS: u64 = 128;

impl Placer {
    /// Places one member; returns its bit position and its field alignment in bits.
    fn place(
        &mut self,
        member: &MemberDecl,
        shape: &MemberShape,
        packed: bool,
    ) -> Result<(u64, u64), CdefError> {
        let user_align_bits = member.align.map(|n| u64::from(n) * BITS_PER_BYTE);
        // gcc's `known_align`: what the position is already aligned to; 0 at offset 0
        // (aligned to anything), and always 0 in a union.
        let known_align = match self.kind {
            RecordKind::Union => u64::MAX,
            RecordKind::Struct if self.bitpos != 0 => 1 << self.bitpos.trailing_zeros(),
            RecordKind::Struct if self.offset_bits == 0 => u64::MAX,
            RecordKind::Struct => 1 << self.offset_bits.trailing_zeros(),
        };

        // Set when gcc's `layout_decl` gives the bitfield an integer mode: it is then
        // placed like an ordinary member and the unit-span rule below does not apply.
        let mut takes_integer_mode = false;
        let field_align = match member.bit_width {
            None => {
                let mut align = match (packed, user_align_bits) {
                    (true, Some(user)) => user,
                    _ => user_align_bits.unwrap_or(1).max(shape.align_bits),
                };
                if packed && user_align_bits.is_none() {
                    align = align.min(BITS_PER_BYTE);
                }
                self.capped_by_pragma(align)
            }
            Some(0) => user_align_bits.unwrap_or(1).max(shape.align_bits),
            Some(width) => {
                let mut align = user_align_bits.unwrap_or(1);
                let width = u64::from(width);
                // gcc's `layout_decl`: a bitfield that fills an integer mode at a
                // position aligned for it takes that mode and its alignment.
                if matches!(width, 8 | 16 | 32 | 64)
                    && !(packed && width > BITS_PER_BYTE)
                    && known_align >= width
                {
                    align = align.max(width);
                    takes_integer_mode = true;
                }
                if packed && user_align_bits.is_none() {
                    align = align.min(BITS_PER_BYTE);
                }
                self.capped_by_pragma(align)
            }
        };

        // gcc's `update_alignment_for_field`.
        match member.bit_width {
            None => self.record_align_bits = self.record_align_bits.max(field_align),
            Some(width) if member.name.is_some() || self.unnamed_bitfields_align => {
                debug_assert!(
                    width != 0 || member.name.is_none(),
                    "named zero-width bitfields are rejected earlier"
                );
                // A zero-width bitfield's type alignment is not capped (as its field
                // alignment is not): `#pragma pack(1) struct { char c; long : 0; }` is
                // 8 bytes aligned to 8 on AArch64.
                let type_align = match self.pack_bits {
                    _ if width == 0 => shape.align_bits,
                    Some(pack) => shape.align_bits.min(pack),
                    None if packed => shape.align_bits.min(BITS_PER_BYTE),
                    None => shape.align_bits,
                };
                self.record_align_bits = self.record_align_bits.max(field_align).max(type_align);
            }
            Some(_) => {}
        }

        let size_bits = match member.bit_width {
            Some(width) => u64::from(width),
            None => shape.size_bytes * BITS_PER_BYTE,
        };
        if self.kind == RecordKind::Union {
            // gcc sizes a union in whole bytes: a bitfield counts as ceil(width / 8).
            let size = size_bits.div_ceil(BITS_PER_BYTE) * BITS_PER_BYTE;
            self.union_size_bits = self.union_size_bits.max(size);
            return Ok((self.checked(0)?, field_align));
        }

        // gcc's `place_field`.
        if known_align < field_align {
            if field_align < self.offset_align_bits {
                self.bitpos = self.bitpos.next_multiple_of(field_align);
            } else {
                self.offset_bits += self.bitpos.next_multiple_of(BITS_PER_BYTE);
                self.bitpos = 0;
                self.offset_bits = self.offset_bits.next_multiple_of(field_align);
            }
        }

        // psABI 3.1.2 / gcc's `excess_unit_span`: a bitfield may not span more units of
        // its type's alignment than its type's size holds. gcc skips this for packed
        // fields and under any `#pragma pack`, and rounds only `bitpos`.
        if let Some(width) = member.bit_width.filter(|&w| w != 0) {
            if !packed && self.pack_bits.is_none() && !takes_integer_mode {
                let unit = shape.align_bits;
                let type_bits = shape.size_bytes * BITS_PER_BYTE;
                let position = self.offset_bits + self.bitpos;
                let units_spanned = (position % unit + u64::from(width)).div_ceil(unit);
                if units_spanned > type_bits / unit {
                    self.bitpos = self.bitpos.next_multiple_of(unit);
                }
            }
        }

        self.normalize();
        let bit = self.offset_bits + self.bitpos;
        self.bitpos += size_bits;
        self.normalize();
        Ok((self.checked(bit)?, field_align))
    }

    /// gcc's `normalize_rli`: moves whole `offset_align` units from `bitpos` to `offset`.
    fn normalize(&mut self) {
        let whole_units = self.bitpos / self.offset_align_bits * self.offset_align_bits;
        self.offset_bits += whole_units;
        self.bitpos -= whole_units;
    }

    /// The end of the members placed so far (a union: its largest member).
    fn end_bits(&self) -> u64 {
        match self.kind {
            RecordKind::Struct => self.offset_bits + self.bitpos,
            RecordKind::Union => self.union_size_bits,
        }
    }

    /// `bit`, unless the record has grown past [`MAX_TYPE_SIZE`].
    fn checked(&self, bit: u64) -> Result<u64, CdefError> {
        if self.end_bits() > MAX_TYPE_SIZE * BITS_PER_BYTE {
            return Err(CdefError::new(UNKNOWN_SIZE));
        }
        Ok(bit)
    }

    /// `#pragma pack(n)` caps a field alignment at n bytes (gcc's `maximum_field_alignment`).
    fn capped_by_pragma(&self, align_bits: u64) -> u64 {
        self.pack_bits
            .map_or(align_bits, |pack| align_bits.min(pack))
    }
}

/// The storage unit of a bitfield at `bit` (absolute) of `width` bits whose declared type
/// is `type_bytes` wide, in a record of `record_size` bytes; see the module docs.
fn storage_unit(bit: u64, width: u32, type_bytes: u64, record_size: u64) -> (u64, BitField) {
    let end_bit = bit + u64::from(width);
    let natural_offset = bit / (type_bytes * BITS_PER_BYTE) * type_bytes;
    let natural_fits = end_bit <= (natural_offset + type_bytes) * BITS_PER_BYTE
        && natural_offset + type_bytes <= record_size;
    let (offset, unit_bytes) = if natural_fits {
        (natural_offset, type_bytes)
    } else {
        let first_byte = bit / BITS_PER_BYTE;
        let needed_bits = end_bit - first_byte * BITS_PER_BYTE;
        let unit = [1u64, 2, 4, 8, 16]
            .into_iter()
            .find(|&unit| unit * BITS_PER_BYTE >= needed_bits)
            .expect("a bitfield of at most 64 bits fits in 16 bytes from its first byte");
        let overrun = (first_byte + unit).saturating_sub(record_size);
        if overrun > 0 && unit <= record_size {
            (first_byte - overrun, unit)
        } else {
            (first_byte, unit)
        }
    };
    let pos = u32::try_from(bit - offset * BITS_PER_BYTE).expect("position inside a 16-byte unit");
    let unit_bytes = u8::try_from(unit_bytes).expect("unit of at most 16 bytes");
    debug_assert!(
        pos + width <= u32::from(unit_bytes) * 8,
        "bitfield outside its storage unit"
    );
    (
        offset,
        BitField {
            pos,
            width,
            unit_bytes,
        },
    )
}

/// Attributes of an enum definition that choose its integer type.
#[derive(Clone, Debug, Default)]
pub struct EnumAttrs {
    /// `__attribute__((packed))`: the smallest integer type that holds every value.
    pub packed: bool,
    /// `enum e : type { ... }`: the underlying type given explicitly.
    pub fixed: Option<IntType>,
}

/// The integer type of an enum whose constants span `min ..= max` (gcc's rules).
///
/// gcc's `finish_enum`: the values need `precision` bits, unsigned if none is negative.
/// A packed enum, or one needing more than 32 bits, takes the smallest of `char`,
/// `short`, `int`, `long` with that precision and signedness; any other enum is
/// `unsigned int` when no value is negative and `int` otherwise. With `enum e : T`
/// (C23 6.7.2.2) the type is `T`, and every value must fit it.
pub fn enum_int_type(min: i128, max: i128, attrs: &EnumAttrs) -> Result<IntType, CdefError> {
    debug_assert!(min <= max, "enum range is min ..= max");
    if let Some(fixed) = attrs.fixed {
        let (lo, hi) = fixed.range();
        if min < lo || max > hi {
            return Err(CdefError::new(format!(
                "{INVALID_VALUE}: enumerator value outside the range of the enum's underlying type"
            )));
        }
        return Ok(fixed);
    }
    let signed = min < 0;
    let candidates: &[u8] = if attrs.packed { &[1, 2, 4, 8] } else { &[4, 8] };
    candidates
        .iter()
        .map(|&bytes| IntType { bytes, signed })
        .find(|ty| {
            let (lo, hi) = ty.range();
            lo <= min && max <= hi
        })
        .ok_or_else(|| CdefError::new("enumeration values exceed range of largest integer"))
}
