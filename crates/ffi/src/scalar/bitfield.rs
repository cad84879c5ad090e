//! Reading and writing a bitfield's bits without touching its neighbours.

/// The bytes of a bitfield's unit that hold its bits: (first byte, count, shift of the
/// field within them). Only those bytes are touched, so a unit that reaches past the end
/// of a tiny packed record (see ctype's layout docs) is never read beyond it.
fn bitfield_bytes(bits: jitffi_ctype::BitField) -> (usize, usize, u32) {
    let first = (bits.pos / 8) as usize;
    let last = ((bits.pos + bits.width.max(1) - 1) / 8) as usize;
    (first, last - first + 1, bits.pos % 8)
}

/// Reads a bitfield's bits (zero-extended) from the unit at `unit`.
///
/// # Safety
/// The bytes of the field (see [`bitfield_bytes`]) at `unit` are readable.
pub unsafe fn read_bitfield(unit: *const u8, bits: jitffi_ctype::BitField) -> u64 {
    let (first, count, shift) = bitfield_bytes(bits);
    let mut buf = [0u8; 16];
    // SAFETY: the caller guarantees the field's bytes are readable; count <= 9.
    unsafe { std::ptr::copy_nonoverlapping(unit.add(first), buf.as_mut_ptr(), count) };
    let raw = u128::from_le_bytes(buf) >> shift;
    let mask = if bits.width >= 64 {
        u64::MAX
    } else {
        (1u64 << bits.width) - 1
    };
    (raw as u64) & mask
}

/// Writes the low `width` bits of `value` into a bitfield, leaving its neighbours.
///
/// # Safety
/// The bytes of the field at `unit` are readable and writable.
pub unsafe fn write_bitfield(unit: *mut u8, bits: jitffi_ctype::BitField, value: u64) {
    let (first, count, shift) = bitfield_bytes(bits);
    let mut buf = [0u8; 16];
    // SAFETY: as the caller guarantees; count <= 9.
    unsafe { std::ptr::copy_nonoverlapping(unit.add(first), buf.as_mut_ptr(), count) };
    let mask = if bits.width >= 64 {
        u64::MAX
    } else {
        (1u64 << bits.width) - 1
    };
    let mut raw = u128::from_le_bytes(buf);
    raw &= !(u128::from(mask) << shift);
    raw |= u128::from(value & mask) << shift;
    let out = raw.to_le_bytes();
    // SAFETY: as above.
    unsafe { std::ptr::copy_nonoverlapping(out.as_ptr(), unit.add(first), count) };
}
