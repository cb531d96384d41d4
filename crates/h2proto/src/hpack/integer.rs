//! Integer representation (RFC 7541 §5.1): an N-bit prefix, then 7-bit continuation octets.
//!
//! The RFC leaves the upper bound to the implementation: "Integer encodings that exceed
//! implementation limits -- in value or octet length -- MUST be treated as decoding errors"
//! (§5.1). We accept values up to `u32::MAX` in at most [`MAX_CONTINUATION_OCTETS`] continuation
//! octets: every integer HPACK carries (an index, a string length, a table size) is bounded by a
//! 32-bit SETTINGS value, and a cap on the octet count stops a peer from feeding us endless
//! `0x80` octets.

/// The most continuation octets we read after the prefix: 5 × 7 bits cover any `u32`.
pub const MAX_CONTINUATION_OCTETS: usize = 5;

/// Why an integer could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntegerError {
    /// The block ended before the last octet (one without the continuation bit).
    Truncated,
    /// The value exceeds `u32::MAX` or uses more than [`MAX_CONTINUATION_OCTETS`] octets.
    Overflow,
}

/// Appends `value` with an `prefix_bits`-bit prefix (1..=8) to `dst`; `first` holds the
/// representation's pattern bits above the prefix (e.g. `0x80` for an indexed field, §6.1).
///
/// This is the pseudocode of §5.1 ("encode I on N bits").
pub fn encode_integer(value: usize, prefix_bits: u8, first: u8, dst: &mut Vec<u8>) {
    debug_assert!((1..=8).contains(&prefix_bits));
    let max_prefix = (1usize << prefix_bits) - 1;
    if value < max_prefix {
        dst.push(first | value as u8);
        return;
    }
    dst.push(first | max_prefix as u8);
    let mut rest = value - max_prefix;
    while rest >= 128 {
        dst.push((rest % 128) as u8 | 0x80);
        rest /= 128;
    }
    dst.push(rest as u8);
}

/// Decodes an integer with an `prefix_bits`-bit prefix starting at `buf[*pos]`, advancing `pos`
/// past it. The bits above the prefix in the first octet are ignored (the caller has read them).
#[inline]
pub fn decode_integer(buf: &[u8], pos: &mut usize, prefix_bits: u8) -> Result<usize, IntegerError> {
    let max_prefix = (0xffu16 >> (8 - prefix_bits)) as u8;
    let Some(&first) = buf.get(*pos) else {
        return Err(IntegerError::Truncated);
    };
    *pos += 1;
    let prefix = first & max_prefix;
    if prefix < max_prefix {
        return Ok(prefix as usize);
    }
    decode_continuation(buf, pos, prefix as u64)
}

/// The cold part of §5.1: the value did not fit in the prefix.
fn decode_continuation(buf: &[u8], pos: &mut usize, mut value: u64) -> Result<usize, IntegerError> {
    for i in 0..MAX_CONTINUATION_OCTETS {
        let Some(&b) = buf.get(*pos) else {
            return Err(IntegerError::Truncated);
        };
        *pos += 1;
        value += u64::from(b & 0x7f) << (7 * i);
        if value > u64::from(u32::MAX) {
            return Err(IntegerError::Overflow);
        }
        if b & 0x80 == 0 {
            return usize::try_from(value).map_err(|_| IntegerError::Overflow);
        }
    }
    Err(IntegerError::Overflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: usize, n: u8) -> Vec<u8> {
        let mut out = Vec::new();
        encode_integer(v, n, 0, &mut out);
        out
    }

    fn dec(buf: &[u8], n: u8) -> Result<usize, IntegerError> {
        let mut pos = 0;
        let v = decode_integer(buf, &mut pos, n)?;
        assert_eq!(pos, buf.len(), "decoder must consume exactly the integer");
        Ok(v)
    }

    #[test]
    fn c_1_1_ten_in_a_5_bit_prefix() {
        assert_eq!(enc(10, 5), [0b0000_1010]);
        assert_eq!(dec(&[0b0000_1010], 5), Ok(10));
    }

    #[test]
    fn c_1_2_1337_in_a_5_bit_prefix() {
        assert_eq!(enc(1337, 5), [0b0001_1111, 0b1001_1010, 0b0000_1010]);
        assert_eq!(dec(&[31, 154, 10], 5), Ok(1337));
    }

    #[test]
    fn c_1_3_42_starting_at_an_octet_boundary() {
        assert_eq!(enc(42, 8), [42]);
        assert_eq!(dec(&[42], 8), Ok(42));
    }

    #[test]
    fn pattern_bits_above_the_prefix_are_kept_and_ignored() {
        let mut out = Vec::new();
        encode_integer(3, 7, 0x80, &mut out);
        assert_eq!(out, [0x83]);
        assert_eq!(dec(&[0x83], 7), Ok(3));
    }

    #[test]
    fn round_trips_across_prefixes_and_boundaries() {
        for n in 1..=8u8 {
            let m = (1usize << n) - 1;
            for v in [
                0,
                1,
                m - 1,
                m,
                m + 1,
                m + 127,
                m + 128,
                16_383,
                1 << 21,
                u32::MAX as usize,
            ] {
                assert_eq!(dec(&enc(v, n), n), Ok(v), "value {v} prefix {n}");
            }
        }
    }

    #[test]
    fn u32_max_is_accepted_one_more_is_an_overflow() {
        assert_eq!(dec(&enc(u32::MAX as usize, 5), 5), Ok(u32::MAX as usize));
        assert_eq!(
            dec(&enc(u32::MAX as usize + 1, 5), 5),
            Err(IntegerError::Overflow)
        );
    }

    #[test]
    fn more_than_five_continuation_octets_is_an_overflow_even_if_zero() {
        // §5.1 allows redundant zero octets, but only up to our limit.
        assert_eq!(dec(&[0x1f, 0x80, 0x80, 0x80, 0x80, 0x00], 5), Ok(31));
        let mut pos = 0;
        let endless = [0x1f, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00];
        assert_eq!(
            decode_integer(&endless, &mut pos, 5),
            Err(IntegerError::Overflow)
        );
    }

    #[test]
    fn a_missing_final_octet_is_truncation() {
        let mut pos = 0;
        assert_eq!(
            decode_integer(&[0x1f, 0x9a], &mut pos, 5),
            Err(IntegerError::Truncated)
        );
        let mut pos = 0;
        assert_eq!(
            decode_integer(&[], &mut pos, 5),
            Err(IntegerError::Truncated)
        );
    }
}
