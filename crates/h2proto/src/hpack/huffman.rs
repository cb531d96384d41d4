//! Huffman code for string literals (RFC 7541 §5.2 and Appendix B).
//!
//! Encoding packs each octet's code into a 64-bit accumulator and flushes whole octets; the last
//! octet is padded with the most significant bits of EOS, i.e. with ones (§5.2).
//!
//! Decoding is table-driven: a 64-bit accumulator holds the next bits, and one look-up of the
//! next 12 bits in a 4096-entry (16 KiB, L1-resident) table yields the one or two symbols whose
//! codes fit in them (the codes of the common header characters are 5 to 8 bits long) and how
//! many bits they used. The accumulator is refilled without branches from 8-octet loads (a
//! string inside a header block may read past its end, see [`decode_within`]), then up to four
//! look-ups run before the next refill. The rare codes longer than 12 bits, and the padding
//! check, walk the code tree one bit at a time. (A 15-bit table with up to three symbols per
//! look-up was tried and is slower: 128 KiB does not stay in L1, and the look-ups form a
//! dependency chain, so their latency is what counts.) The tree and the table are built at compile time by `const fn`s from
//! [`CODES`], the Appendix B table, so there is no build script and no hand-written table to
//! get wrong. (A 4-bit state machine, as in nghttp2, needs two dependent look-ups per octet;
//! this needs about one per 1.5 octets.)
//!
//! §5.2 errors, all of which make the whole header block a decoding error:
//! * "A Huffman-encoded string literal containing the EOS symbol MUST be treated as a decoding
//!   error."
//! * "A padding strictly longer than 7 bits MUST be treated as a decoding error."
//! * "A padding not corresponding to the most significant bits of the code for the EOS symbol
//!   MUST be treated as a decoding error."

/// Why a Huffman string could not be decoded (§5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HuffmanError {
    /// The string contains the EOS symbol.
    Eos,
    /// The padding bits are not all ones (not a prefix of EOS).
    InvalidPadding,
    /// The padding is longer than 7 bits.
    PaddingTooLong,
}

/// Appendix B: `(code aligned to the least significant bit, length in bits)` for symbols
/// 0..=255 and EOS (256).
pub const CODES: [(u32, u8); 257] = [
    (0x1ff8, 13),
    (0x7fffd8, 23),
    (0xfffffe2, 28),
    (0xfffffe3, 28),
    (0xfffffe4, 28),
    (0xfffffe5, 28),
    (0xfffffe6, 28),
    (0xfffffe7, 28),
    (0xfffffe8, 28),
    (0xffffea, 24),
    (0x3ffffffc, 30),
    (0xfffffe9, 28),
    (0xfffffea, 28),
    (0x3ffffffd, 30),
    (0xfffffeb, 28),
    (0xfffffec, 28),
    (0xfffffed, 28),
    (0xfffffee, 28),
    (0xfffffef, 28),
    (0xffffff0, 28),
    (0xffffff1, 28),
    (0xffffff2, 28),
    (0x3ffffffe, 30),
    (0xffffff3, 28),
    (0xffffff4, 28),
    (0xffffff5, 28),
    (0xffffff6, 28),
    (0xffffff7, 28),
    (0xffffff8, 28),
    (0xffffff9, 28),
    (0xffffffa, 28),
    (0xffffffb, 28),
    (0x14, 6),
    (0x3f8, 10),
    (0x3f9, 10),
    (0xffa, 12),
    (0x1ff9, 13),
    (0x15, 6),
    (0xf8, 8),
    (0x7fa, 11),
    (0x3fa, 10),
    (0x3fb, 10),
    (0xf9, 8),
    (0x7fb, 11),
    (0xfa, 8),
    (0x16, 6),
    (0x17, 6),
    (0x18, 6),
    (0x0, 5),
    (0x1, 5),
    (0x2, 5),
    (0x19, 6),
    (0x1a, 6),
    (0x1b, 6),
    (0x1c, 6),
    (0x1d, 6),
    (0x1e, 6),
    (0x1f, 6),
    (0x5c, 7),
    (0xfb, 8),
    (0x7ffc, 15),
    (0x20, 6),
    (0xffb, 12),
    (0x3fc, 10),
    (0x1ffa, 13),
    (0x21, 6),
    (0x5d, 7),
    (0x5e, 7),
    (0x5f, 7),
    (0x60, 7),
    (0x61, 7),
    (0x62, 7),
    (0x63, 7),
    (0x64, 7),
    (0x65, 7),
    (0x66, 7),
    (0x67, 7),
    (0x68, 7),
    (0x69, 7),
    (0x6a, 7),
    (0x6b, 7),
    (0x6c, 7),
    (0x6d, 7),
    (0x6e, 7),
    (0x6f, 7),
    (0x70, 7),
    (0x71, 7),
    (0x72, 7),
    (0xfc, 8),
    (0x73, 7),
    (0xfd, 8),
    (0x1ffb, 13),
    (0x7fff0, 19),
    (0x1ffc, 13),
    (0x3ffc, 14),
    (0x22, 6),
    (0x7ffd, 15),
    (0x3, 5),
    (0x23, 6),
    (0x4, 5),
    (0x24, 6),
    (0x5, 5),
    (0x25, 6),
    (0x26, 6),
    (0x27, 6),
    (0x6, 5),
    (0x74, 7),
    (0x75, 7),
    (0x28, 6),
    (0x29, 6),
    (0x2a, 6),
    (0x7, 5),
    (0x2b, 6),
    (0x76, 7),
    (0x2c, 6),
    (0x8, 5),
    (0x9, 5),
    (0x2d, 6),
    (0x77, 7),
    (0x78, 7),
    (0x79, 7),
    (0x7a, 7),
    (0x7b, 7),
    (0x7ffe, 15),
    (0x7fc, 11),
    (0x3ffd, 14),
    (0x1ffd, 13),
    (0xffffffc, 28),
    (0xfffe6, 20),
    (0x3fffd2, 22),
    (0xfffe7, 20),
    (0xfffe8, 20),
    (0x3fffd3, 22),
    (0x3fffd4, 22),
    (0x3fffd5, 22),
    (0x7fffd9, 23),
    (0x3fffd6, 22),
    (0x7fffda, 23),
    (0x7fffdb, 23),
    (0x7fffdc, 23),
    (0x7fffdd, 23),
    (0x7fffde, 23),
    (0xffffeb, 24),
    (0x7fffdf, 23),
    (0xffffec, 24),
    (0xffffed, 24),
    (0x3fffd7, 22),
    (0x7fffe0, 23),
    (0xffffee, 24),
    (0x7fffe1, 23),
    (0x7fffe2, 23),
    (0x7fffe3, 23),
    (0x7fffe4, 23),
    (0x1fffdc, 21),
    (0x3fffd8, 22),
    (0x7fffe5, 23),
    (0x3fffd9, 22),
    (0x7fffe6, 23),
    (0x7fffe7, 23),
    (0xffffef, 24),
    (0x3fffda, 22),
    (0x1fffdd, 21),
    (0xfffe9, 20),
    (0x3fffdb, 22),
    (0x3fffdc, 22),
    (0x7fffe8, 23),
    (0x7fffe9, 23),
    (0x1fffde, 21),
    (0x7fffea, 23),
    (0x3fffdd, 22),
    (0x3fffde, 22),
    (0xfffff0, 24),
    (0x1fffdf, 21),
    (0x3fffdf, 22),
    (0x7fffeb, 23),
    (0x7fffec, 23),
    (0x1fffe0, 21),
    (0x1fffe1, 21),
    (0x3fffe0, 22),
    (0x1fffe2, 21),
    (0x7fffed, 23),
    (0x3fffe1, 22),
    (0x7fffee, 23),
    (0x7fffef, 23),
    (0xfffea, 20),
    (0x3fffe2, 22),
    (0x3fffe3, 22),
    (0x3fffe4, 22),
    (0x7ffff0, 23),
    (0x3fffe5, 22),
    (0x3fffe6, 22),
    (0x7ffff1, 23),
    (0x3ffffe0, 26),
    (0x3ffffe1, 26),
    (0xfffeb, 20),
    (0x7fff1, 19),
    (0x3fffe7, 22),
    (0x7ffff2, 23),
    (0x3fffe8, 22),
    (0x1ffffec, 25),
    (0x3ffffe2, 26),
    (0x3ffffe3, 26),
    (0x3ffffe4, 26),
    (0x7ffffde, 27),
    (0x7ffffdf, 27),
    (0x3ffffe5, 26),
    (0xfffff1, 24),
    (0x1ffffed, 25),
    (0x7fff2, 19),
    (0x1fffe3, 21),
    (0x3ffffe6, 26),
    (0x7ffffe0, 27),
    (0x7ffffe1, 27),
    (0x3ffffe7, 26),
    (0x7ffffe2, 27),
    (0xfffff2, 24),
    (0x1fffe4, 21),
    (0x1fffe5, 21),
    (0x3ffffe8, 26),
    (0x3ffffe9, 26),
    (0xffffffd, 28),
    (0x7ffffe3, 27),
    (0x7ffffe4, 27),
    (0x7ffffe5, 27),
    (0xfffec, 20),
    (0xfffff3, 24),
    (0xfffed, 20),
    (0x1fffe6, 21),
    (0x3fffe9, 22),
    (0x1fffe7, 21),
    (0x1fffe8, 21),
    (0x7ffff3, 23),
    (0x3fffea, 22),
    (0x3fffeb, 22),
    (0x1ffffee, 25),
    (0x1ffffef, 25),
    (0xfffff4, 24),
    (0xfffff5, 24),
    (0x3ffffea, 26),
    (0x7ffff4, 23),
    (0x3ffffeb, 26),
    (0x7ffffe6, 27),
    (0x3ffffec, 26),
    (0x3ffffed, 26),
    (0x7ffffe7, 27),
    (0x7ffffe8, 27),
    (0x7ffffe9, 27),
    (0x7ffffea, 27),
    (0x7ffffeb, 27),
    (0xffffffe, 28),
    (0x7ffffec, 27),
    (0x7ffffed, 27),
    (0x7ffffee, 27),
    (0x7ffffef, 27),
    (0x7fffff0, 27),
    (0x3ffffee, 26),
    (0x3fffffff, 30),
];

/// The EOS symbol (Appendix B).
pub const EOS: usize = 256;

/// A child in the decoding tree: an internal node index, or `LEAF | symbol`.
const LEAF: u16 = 0x8000;

/// Internal nodes of the code tree: `[child for bit 0, child for bit 1]`; node 0 is the root.
/// 257 leaves in a full binary tree means exactly 256 internal nodes, which is why a state fits
/// in one octet.
struct Tree {
    nodes: [[u16; 2]; 256],
    /// Bits from the root to the node.
    depth: [u8; 256],
    /// Whether the path from the root to the node is all ones (a prefix of EOS).
    all_ones: [bool; 256],
}

const fn build_tree() -> Tree {
    let mut t = Tree {
        nodes: [[0; 2]; 256],
        depth: [0; 256],
        all_ones: [true; 256],
    };
    let mut next = 1usize;
    let mut sym = 0;
    while sym < CODES.len() {
        let (code, len) = CODES[sym];
        let mut node = 0usize;
        let mut i = len;
        while i > 1 {
            i -= 1;
            let bit = ((code >> i) & 1) as usize;
            if t.nodes[node][bit] == 0 {
                // Index 0 is the root, which is nobody's child, so 0 means "absent".
                t.nodes[node][bit] = next as u16;
                t.depth[next] = t.depth[node] + 1;
                t.all_ones[next] = t.all_ones[node] && bit == 1;
                next += 1;
            }
            node = t.nodes[node][bit] as usize;
        }
        t.nodes[node][(code & 1) as usize] = LEAF | sym as u16;
        sym += 1;
    }
    assert!(
        next == 256,
        "Appendix B must form a full tree with 256 internal nodes"
    );
    t
}

const TREE: Tree = build_tree();

/// Bits examined per look-up of the fast decoding path.
const PEEK_BITS: u32 = 12;

/// `PEEK_TABLE[next 12 bits]`: the symbols whose codes lie entirely within those bits (at most
/// two), as bits 0..8 bits they use, 8..16 first symbol, 16..24 second, 24..26 how many. A
/// count of 0 means the next code is longer than 12 bits (rare octets) and the tree decides.
/// The bit count comes first so that the hot loop can shift by the entry itself.
static PEEK_TABLE: [u32; 1 << PEEK_BITS] = build_peek_table();

const fn build_peek_table() -> [u32; 1 << PEEK_BITS] {
    let mut table = [0u32; 1 << PEEK_BITS];
    let mut v = 0usize;
    while v < table.len() {
        let (mut node, mut used, mut consumed, mut count, mut syms) =
            (0usize, 0u32, 0u32, 0u32, 0u32);
        let mut bit = PEEK_BITS;
        while bit > 0 && count < 2 {
            bit -= 1;
            used += 1;
            let child = TREE.nodes[node][(v >> bit) & 1];
            if child & LEAF == 0 {
                node = child as usize;
                continue;
            }
            // EOS is 30 bits long, so it never completes within 12.
            syms |= ((child & !LEAF) as u32) << (8 * count);
            count += 1;
            consumed = used;
            node = 0;
        }
        table[v] = consumed | syms << 8 | count << 24;
        v += 1;
    }
    table
}

/// The number of octets `src` takes once Huffman-encoded.
#[inline]
pub fn encoded_len(src: &[u8]) -> usize {
    let bits: usize = src.iter().map(|&b| CODES[b as usize].1 as usize).sum();
    bits.div_ceil(8)
}

/// Appends the Huffman encoding of `src` to `dst`, padded with ones to an octet boundary.
pub fn encode(src: &[u8], dst: &mut Vec<u8>) {
    dst.reserve(encoded_len(src));
    let mut acc: u64 = 0;
    let mut bits: u32 = 0;
    for &b in src {
        let (code, len) = CODES[b as usize];
        // At most 31 pending bits plus a 30-bit code: fits in 64.
        acc = (acc << len) | u64::from(code);
        bits += u32::from(len);
        if bits >= 32 {
            bits -= 32;
            dst.extend_from_slice(&((acc >> bits) as u32).to_be_bytes());
        }
    }
    while bits >= 8 {
        bits -= 8;
        dst.push((acc >> bits) as u8);
    }
    if bits > 0 {
        // §5.2: pad with the most significant bits of EOS, which are all ones.
        dst.push(((acc << (8 - bits)) as u8) | (0xff >> bits));
    }
}

/// The most octets `len` encoded octets can decode to (the shortest code is 5 bits), plus
/// spare slots that [`decode_into`] may write to without counting them.
#[inline]
pub const fn max_decoded_len(len: usize) -> usize {
    len * 8 / 5 + 2
}

/// Decodes `src` into the start of `out`, which must be at least [`max_decoded_len`] long,
/// and returns the number of octets decoded.
///
/// The fast path keeps up to 64 bits in an accumulator and decodes one or two symbols per
/// look-up of the next 12 bits; codes longer than that and invalid endings go through the tree
/// one bit at a time.
///
/// # Panics
/// If `out` is shorter than `max_decoded_len(src.len())` (a caller bug, not a peer error).
#[inline]
pub fn decode_into(src: &[u8], out: &mut [u8]) -> Result<usize, HuffmanError> {
    decode_within(src, 0..src.len(), out)
}

/// Decodes the string at `buf[range]` as [`decode_into`] does, but may read (and ignore) up to
/// 8 octets past its end, so short strings inside a header block also get the fast refill.
///
/// # Panics
/// If `range` is not within `buf`, or `out` is shorter than `max_decoded_len(range.len())`.
#[inline]
pub fn decode_within(
    buf: &[u8],
    range: std::ops::Range<usize>,
    out: &mut [u8],
) -> Result<usize, HuffmanError> {
    let end = range.end;
    let out = &mut out[..max_decoded_len(buf[range.clone()].len())];
    // `acc` holds `bits` unread bits, left-aligned (the next code starts at bit 63).
    let mut acc: u64 = 0;
    let mut bits: u32 = 0;
    let mut pos = range.start;
    let mut n = 0;
    while pos < end {
        if let Some(word) = buf.get(pos..pos + 8) {
            // Branchless refill to 56..=63 bits. The last, partial octet is ORed in again,
            // identically, by the next refill.
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            acc |= u64::from_be_bytes(w) >> bits;
            let whole = (63 - bits) >> 3;
            if end - pos <= whole as usize {
                // The string ends within these bits: keep exactly its bits (1..=63 of them),
                // zeros after, for the tail below.
                bits += (end - pos) as u32 * 8;
                acc &= !(u64::MAX >> bits);
                break;
            }
            pos += whole as usize;
            bits += whole * 8;
        } else {
            while pos < end && bits <= 56 {
                acc |= u64::from(buf[pos]) << (56 - bits);
                bits += 8;
                pos += 1;
            }
            if pos == end {
                break;
            }
        }
        // At least 56 bits: room for four look-ups of at most 12 bits, or one long code.
        let e = PEEK_TABLE[(acc >> (64 - PEEK_BITS)) as usize];
        if e >> 24 == 0 {
            // A code longer than 12 bits (at most 30): walk the tree.
            out[n] = walk_tree(&mut acc, &mut bits)?;
            n += 1;
            continue;
        }
        emit2(out, &mut n, e);
        acc <<= e & 0xff;
        bits -= e & 0xff;
        for _ in 0..3 {
            let e = PEEK_TABLE[(acc >> (64 - PEEK_BITS)) as usize];
            if e >> 24 == 0 {
                break;
            }
            emit2(out, &mut n, e);
            acc <<= e & 0xff;
            bits -= e & 0xff;
        }
    }
    // The input is all in `acc` (at most 63 bits, zeros after). Look-ups go on while whole codes remain:
    // the zeros after the end cannot complete a code early, and a code reaching into them is
    // longer than the bits left.
    while bits > 0 {
        let e = PEEK_TABLE[(acc >> (64 - PEEK_BITS)) as usize];
        if e >> 24 == 0 {
            if bits < 30 {
                break;
            }
            // A long code with more after it: one symbol through the tree.
            out[n] = walk_tree(&mut acc, &mut bits)?;
            n += 1;
            continue;
        }
        let used = e & 0xff;
        if used <= bits {
            emit2(out, &mut n, e);
            acc <<= used;
            bits -= used;
            continue;
        }
        // Only the first symbol, if any, lies within the input.
        let sym = (e >> 8) as u8;
        let len = u32::from(CODES[sym as usize].1);
        if len <= bits {
            out[n] = sym;
            n += 1;
            acc <<= len;
            bits -= len;
        }
        break;
    }
    // ... then the padding, which in a valid string is at most 7 ones (§5.2).
    if bits == 0 || (bits <= 7 && acc >> (64 - bits) == (1 << bits) - 1) {
        return Ok(n);
    }
    // Anything else (a long last code, or an error to classify) walks the tree bit by bit.
    let mut node = 0usize;
    while bits > 0 {
        bits -= 1;
        let child = TREE.nodes[node][(acc >> 63) as usize];
        acc <<= 1;
        if child & LEAF != 0 {
            let sym = (child & !LEAF) as usize;
            if sym == EOS {
                return Err(HuffmanError::Eos);
            }
            out[n] = sym as u8;
            n += 1;
            node = 0;
        } else {
            node = child as usize;
        }
    }
    if node != 0 {
        if !TREE.all_ones[node] {
            return Err(HuffmanError::InvalidPadding);
        }
        if TREE.depth[node] > 7 {
            return Err(HuffmanError::PaddingTooLong);
        }
    }
    Ok(n)
}

/// Decodes one symbol bit by bit from the top of `acc` (codes longer than the peek table's
/// 12 bits). EOS inside a string is an error (RFC 7541 §5.2).
#[inline(always)]
fn walk_tree(acc: &mut u64, bits: &mut u32) -> Result<u8, HuffmanError> {
    let mut node = 0usize;
    loop {
        let child = TREE.nodes[node][(*acc >> 63) as usize];
        *acc <<= 1;
        *bits -= 1;
        if child & LEAF != 0 {
            let sym = (child & !LEAF) as usize;
            if sym == EOS {
                return Err(HuffmanError::Eos);
            }
            return Ok(sym as u8);
        }
        node = child as usize;
    }
}

/// Writes both symbol slots of a look-up entry at `out[*n..]` and advances `n` by its count:
/// one store and no branch on the count.
#[inline(always)]
fn emit2(out: &mut [u8], n: &mut usize, e: u32) {
    out[*n..*n + 2].copy_from_slice(&((e >> 8) as u16).to_le_bytes());
    *n += (e >> 24) as usize;
}

/// Decodes `src`, appending the octets to `dst`.
pub fn decode(src: &[u8], dst: &mut Vec<u8>) -> Result<(), HuffmanError> {
    let start = dst.len();
    dst.resize(start + max_decoded_len(src.len()), 0);
    match decode_into(src, &mut dst[start..]) {
        Ok(n) => {
            dst.truncate(start + n);
            Ok(())
        }
        Err(e) => {
            dst.truncate(start);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(s: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        encode(s, &mut v);
        assert_eq!(v.len(), encoded_len(s));
        v
    }

    fn dec(s: &[u8]) -> Result<Vec<u8>, HuffmanError> {
        let mut v = Vec::new();
        decode(s, &mut v).map(|()| v)
    }

    #[test]
    fn codes_match_the_appendix_b_tsv() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../../shared/specs/hpack-huffman-code.tsv"
        );
        let text = std::fs::read_to_string(path).expect("hpack-huffman-code.tsv is missing");
        let mut seen = 0;
        for line in text.lines().filter(|l| !l.starts_with('#')).skip(1) {
            let cols: Vec<&str> = line.split('\t').collect();
            let sym: usize = cols[0].parse().unwrap();
            let code = u32::from_str_radix(cols[1], 16).unwrap();
            let len: u8 = cols[2].parse().unwrap();
            assert_eq!(CODES[sym], (code, len), "symbol {sym}");
            seen += 1;
        }
        assert_eq!(seen, 257);
    }

    #[test]
    fn c_4_1_www_example_com() {
        let wire = [
            0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff,
        ];
        assert_eq!(enc(b"www.example.com"), wire);
        assert_eq!(dec(&wire).unwrap(), b"www.example.com");
    }

    #[test]
    fn c_4_2_no_cache() {
        assert_eq!(enc(b"no-cache"), [0xa8, 0xeb, 0x10, 0x64, 0x9c, 0xbf]);
    }

    #[test]
    fn every_octet_round_trips_alone_and_together() {
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(dec(&enc(&all)).unwrap(), all);
        for b in 0..=255u8 {
            assert_eq!(dec(&enc(&[b])).unwrap(), [b]);
            assert_eq!(dec(&enc(&[b, b, b])).unwrap(), [b, b, b]);
        }
        assert_eq!(dec(&[]).unwrap(), b"");
    }

    #[test]
    fn eos_in_the_string_is_an_error() {
        // EOS is 30 ones; four 0xff octets contain it entirely.
        assert_eq!(dec(&[0xff, 0xff, 0xff, 0xff]), Err(HuffmanError::Eos));
        // 'a' (00011, 5 bits) then EOS.
        let mut bits = vec![0, 0, 0, 1, 1];
        bits.extend([1; 30]);
        bits.resize(40, 1);
        assert_eq!(dec(&pack(&bits)), Err(HuffmanError::Eos));
    }

    #[test]
    fn padding_must_be_ones() {
        // '0' is 00000 (5 bits): 00000 + 000 padding.
        assert_eq!(dec(&[0x00]), Err(HuffmanError::InvalidPadding));
        assert_eq!(dec(&[0x07]).unwrap(), b"0");
    }

    #[test]
    fn padding_longer_than_seven_bits_is_an_error() {
        // '0' then 11 ones of padding.
        assert_eq!(dec(&[0x07, 0xff]), Err(HuffmanError::PaddingTooLong));
        // A full octet of ones alone is 8 bits of padding.
        assert_eq!(dec(&[0xff]), Err(HuffmanError::PaddingTooLong));
    }

    /// The bits of `s`'s codes, MSB first.
    fn code_bits(s: &[u8]) -> Vec<u8> {
        s.iter()
            .flat_map(|&b| {
                let (code, len) = CODES[b as usize];
                (0..len).rev().map(move |i| ((code >> i) & 1) as u8)
            })
            .collect()
    }

    #[test]
    fn errors_are_found_wherever_they_fall_in_a_long_string() {
        // Exercise the fast path, the long-code path and the tail at every alignment.
        for prefix in 0..40 {
            let text: Vec<u8> = (0..prefix).map(|i| b"a0/\x7f\xfe%~\x01"[i % 8]).collect();
            let mut bits = code_bits(&text);
            bits.extend([1; 30]); // EOS
            bits.extend(code_bits(b"ab"));
            while !bits.len().is_multiple_of(8) {
                bits.push(1);
            }
            assert_eq!(
                dec(&pack(&bits)),
                Err(HuffmanError::Eos),
                "EOS after {prefix}"
            );

            let mut bits = code_bits(&text);
            bits.extend([1; 9]);
            while !bits.len().is_multiple_of(8) {
                bits.push(1);
            }
            assert_eq!(
                dec(&pack(&bits)),
                Err(HuffmanError::PaddingTooLong),
                "pad after {prefix}"
            );

            let mut bits = code_bits(&text);
            let pad = 8 - bits.len() % 8;
            if pad != 8 && bits.len() + pad >= 8 {
                bits.extend(std::iter::repeat_n(1, pad - 1));
                bits.push(0);
                assert_eq!(
                    dec(&pack(&bits)),
                    Err(HuffmanError::InvalidPadding),
                    "zero after {prefix}"
                );
            }
            assert_eq!(dec(&enc(&text)).unwrap(), text);
        }
    }

    #[test]
    fn octets_after_the_string_are_ignored() {
        // `decode_within` reads up to 8 octets past the string: whatever they hold (ones that
        // would extend the padding, zeros that would complete a code) must not change the result,
        // valid or not.
        let mut cases: Vec<Vec<u8>> = Vec::new();
        for len in 0..30 {
            let text: Vec<u8> = (0..len).map(|i| b"a0/\x7f\xfe%~\x01e"[i % 9]).collect();
            cases.push(enc(&text));
            let mut bits = code_bits(&text);
            bits.extend([1; 9]); // padding too long
            while !bits.len().is_multiple_of(8) {
                bits.push(1);
            }
            cases.push(pack(&bits));
            let mut bits = code_bits(&text);
            bits.extend([1, 1, 0]); // padding not all ones
            while !bits.len().is_multiple_of(8) {
                bits.push(1);
            }
            cases.push(pack(&bits));
        }
        for wire in cases {
            let want = dec(&wire);
            for tail in [[0x00u8; 9], [0xff; 9], [0x5a; 9]] {
                for extra in 0..=tail.len() {
                    let mut buf = vec![0xa5, 0x3c];
                    buf.extend_from_slice(&wire);
                    buf.extend_from_slice(&tail[..extra]);
                    let mut out = vec![0; max_decoded_len(wire.len())];
                    let got =
                        decode_within(&buf, 2..2 + wire.len(), &mut out).map(|n| out[..n].to_vec());
                    assert_eq!(got, want, "{wire:02x?} + {extra} x {:02x}", tail[0]);
                }
            }
        }
    }

    fn pack(bits: &[u8]) -> Vec<u8> {
        bits.chunks(8)
            .map(|c| c.iter().fold(0u8, |acc, &b| acc << 1 | b) << (8 - c.len()))
            .collect()
    }
}
