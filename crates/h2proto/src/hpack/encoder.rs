//! Header block encoding (RFC 7541 §6) and the indexing policy.
//!
//! For each field, in order of preference:
//! 1. never-indexed literal (§6.2.3) for sensitive fields, whatever the tables hold;
//! 2. an indexed field (§6.1) on a full match, static table first, then dynamic;
//! 3. a literal with incremental indexing (§6.2.1) when the entry is worth a table slot,
//!    otherwise a literal without indexing (§6.2.2); either way with an indexed name if any
//!    table has the name.
//!
//! Strings are Huffman-encoded only when that is shorter (§5.2 leaves the choice to us).
//! Lookups cost O(1): a `match` on the name for the static table, and two hash maps (by field
//! and by name) for the dynamic table, keyed by hash and verified against the entry, so no
//! per-field scan of the table.

use super::huffman;
use super::integer::encode_integer;
use super::static_table;
use super::table::DynamicTable;
use super::Header;
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

/// The largest table we keep, whatever the peer allows: the encoder may choose any size up to
/// the peer's SETTINGS_HEADER_TABLE_SIZE (§4.2), and a bigger table costs us memory.
pub const MAX_ENCODER_TABLE_SIZE: usize = 64 * 1024;

/// Cookies shorter than this are sent never-indexed: a short value is easy to guess and
/// confirm through compression side channels (§7.1.3).
const SHORT_COOKIE: usize = 20;

/// The HPACK encoder of one connection.
#[derive(Debug)]
pub struct Encoder {
    table: DynamicTable,
    /// Hash of (name, value) -> id of the newest entry with that field.
    by_field: IdMap,
    /// Hash of name -> id of the newest entry with that name.
    by_name: IdMap,
    /// `(name hash, field hash)` of each table entry, in table order, so eviction needs no
    /// rehashing.
    hashes: VecDeque<(u64, u64)>,
    /// (smallest, latest) table size set since the last block: both must be signalled (§4.2).
    pending_update: Option<(usize, usize)>,
    use_huffman: bool,
}

type IdMap = HashMap<u64, u64, BuildHasherDefault<PreHashed>>;

impl Default for Encoder {
    fn default() -> Self {
        Encoder::new()
    }
}

impl Encoder {
    /// An encoder with the default 4096-octet table (RFC 9113 §6.5.2).
    pub fn new() -> Encoder {
        Encoder {
            table: DynamicTable::new(super::decoder::DEFAULT_TABLE_SIZE),
            by_field: IdMap::default(),
            by_name: IdMap::default(),
            hashes: VecDeque::new(),
            pending_update: None,
            use_huffman: true,
        }
    }

    /// Gives back memory kept from busier times (table arena chunk, hash-map and queue
    /// capacity); the encoding state does not change. See [`DynamicTable::shrink_to_fit`].
    pub fn shrink_to_fit(&mut self) {
        self.table.shrink_to_fit();
        self.by_field.shrink_to_fit();
        self.by_name.shrink_to_fit();
        self.hashes.shrink_to_fit();
    }

    /// An encoder whose table starts at `n` octets (capped at [`MAX_ENCODER_TABLE_SIZE`])
    /// without signalling it, as if both ends had agreed on `n` before the first block.
    pub fn with_max_table_size(n: usize) -> Encoder {
        let mut e = Encoder::new();
        e.table
            .set_max_size(n.min(MAX_ENCODER_TABLE_SIZE), |_, _| ());
        e
    }

    /// Turns Huffman coding of strings on (the default: used when shorter) or off.
    pub fn set_use_huffman(&mut self, on: bool) {
        self.use_huffman = on;
    }

    /// Applies the peer's SETTINGS_HEADER_TABLE_SIZE (capped at [`MAX_ENCODER_TABLE_SIZE`]).
    ///
    /// The change is signalled by size updates at the start of the next block (§4.2): "the
    /// smallest maximum table size that occurs in that interval MUST be signaled", then the
    /// final size if it is larger.
    pub fn set_max_table_size(&mut self, n: usize) {
        let n = n.min(MAX_ENCODER_TABLE_SIZE);
        self.pending_update = match self.pending_update {
            None if n == self.table.max_size() => None,
            None => Some((n, n)),
            Some((min, _)) => Some((min.min(n), n)),
        };
    }

    /// The dynamic table's current size in octets (§4.1).
    pub fn table_size(&self) -> usize {
        self.table.size()
    }

    /// The dynamic table's maximum size as last signalled.
    pub fn table_max_size(&self) -> usize {
        self.table.max_size()
    }

    /// The dynamic table's entries as `(name, value)`, newest (index 62) first.
    pub fn table_entries(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.table.iter().map(|e| (&e.name[..], &e.value[..]))
    }

    /// Starts a header block: emits the pending dynamic table size updates, if any (§6.3).
    pub fn begin_block(&mut self, dst: &mut Vec<u8>) {
        let Some((min, last)) = self.pending_update.take() else {
            return;
        };
        if min < last {
            self.resize(min, dst);
        }
        self.resize(last, dst);
    }

    fn resize(&mut self, size: usize, dst: &mut Vec<u8>) {
        encode_integer(size, 5, 0x20, dst);
        let Encoder {
            table,
            by_field,
            by_name,
            hashes,
            ..
        } = self;
        table.set_max_size(size, |id, _| forget(by_field, by_name, hashes, id));
    }

    /// Encodes a whole header list as one block: [`Encoder::begin_block`], then
    /// [`Encoder::encode_field`] for each header.
    pub fn encode<'a>(&mut self, headers: impl IntoIterator<Item = &'a Header>, dst: &mut Vec<u8>) {
        self.begin_block(dst);
        for h in headers {
            self.encode_field(&h.name, &h.value, h.sensitive, dst);
        }
    }

    /// Appends one field representation to `dst`. Call [`Encoder::begin_block`] first for
    /// each block. Names must already be lowercase (RFC 9113 §8.2.1).
    pub fn encode_field(&mut self, name: &[u8], value: &[u8], sensitive: bool, dst: &mut Vec<u8>) {
        if sensitive || is_sensitive(name, value) {
            let name_index = match static_table::name_range(name) {
                Some((first, _)) => Some(first),
                None => self.dynamic_name(hash(name), name),
            };
            return literal(0x10, 4, name_index, name, value, self.use_huffman, dst);
        }
        let in_static = static_table::find(name, value);
        if let Some((index, true)) = in_static {
            return encode_integer(index, 7, 0x80, dst);
        }
        let name_hash = hash(name);
        let field_hash = hash_more(name_hash, value);
        if let Some(index) = self.dynamic_field(field_hash, name, value) {
            return encode_integer(index, 7, 0x80, dst);
        }
        let name_index = match in_static {
            Some((index, _)) => Some(index),
            None => self.dynamic_name(name_hash, name),
        };
        if self.worth_indexing(name, value) {
            literal(0x40, 6, name_index, name, value, self.use_huffman, dst);
            self.insert(name, value, name_hash, field_hash);
        } else {
            literal(0x00, 4, name_index, name, value, self.use_huffman, dst);
        }
    }

    /// Whether a field earns a table slot. A field bigger than half the table would evict
    /// most of what is there for one entry that is unlikely to pay back.
    #[inline]
    fn worth_indexing(&self, name: &[u8], value: &[u8]) -> bool {
        let size = name.len() + value.len() + super::table::ENTRY_OVERHEAD;
        size <= self.table.max_size() / 2
    }

    /// HPACK index of the newest dynamic entry equal to `name: value`.
    #[inline]
    fn dynamic_field(&self, field_hash: u64, name: &[u8], value: &[u8]) -> Option<usize> {
        let id = *self.by_field.get(&field_hash)?;
        let pos = self.table.index_of_id(id)?;
        let e = self.table.get(pos)?;
        (e.name == name && e.value == value).then_some(pos + static_table::LEN + 1)
    }

    /// HPACK index of the newest dynamic entry named `name`.
    #[inline]
    fn dynamic_name(&self, name_hash: u64, name: &[u8]) -> Option<usize> {
        let id = *self.by_name.get(&name_hash)?;
        let pos = self.table.index_of_id(id)?;
        let e = self.table.get(pos)?;
        (e.name == name).then_some(pos + static_table::LEN + 1)
    }

    fn insert(&mut self, name: &[u8], value: &[u8], name_hash: u64, field_hash: u64) {
        let id = self.table.next_id();
        let Encoder {
            table,
            by_field,
            by_name,
            hashes,
            ..
        } = self;
        table.insert_copy(name, value, |old, _| forget(by_field, by_name, hashes, old));
        if self.table.index_of_id(id).is_some() {
            self.hashes.push_front((name_hash, field_hash));
            self.by_field.insert(field_hash, id);
            self.by_name.insert(name_hash, id);
        }
    }
}

/// Drops the map entries that still point at an evicted entry (always the oldest).
fn forget(by_field: &mut IdMap, by_name: &mut IdMap, hashes: &mut VecDeque<(u64, u64)>, id: u64) {
    let Some((name_hash, field_hash)) = hashes.pop_back() else {
        return;
    };
    if by_field.get(&field_hash) == Some(&id) {
        by_field.remove(&field_hash);
    }
    if by_name.get(&name_hash) == Some(&id) {
        by_name.remove(&name_hash);
    }
}

/// Fields that must never enter a compression table (§7.1.3): credentials, and cookies short
/// enough to be guessed.
#[inline]
fn is_sensitive(name: &[u8], value: &[u8]) -> bool {
    match name {
        b"authorization" | b"proxy-authorization" => true,
        b"cookie" => value.len() < SHORT_COOKIE,
        _ => false,
    }
}

/// A literal representation (§6.2): `pattern` bits, the name index on a `prefix`-bit prefix
/// (0 = literal name follows), then the value.
#[inline]
fn literal(
    pattern: u8,
    prefix: u8,
    name_index: Option<usize>,
    name: &[u8],
    value: &[u8],
    huffman: bool,
    dst: &mut Vec<u8>,
) {
    match name_index {
        Some(index) => encode_integer(index, prefix, pattern, dst),
        None => {
            dst.push(pattern);
            encode_string(name, huffman, dst);
        }
    }
    encode_string(value, huffman, dst);
}

/// A string literal (§5.2), Huffman-encoded only if that makes it shorter.
#[inline]
fn encode_string(s: &[u8], use_huffman: bool, dst: &mut Vec<u8>) {
    let huffman_len = if use_huffman {
        huffman::encoded_len(s)
    } else {
        usize::MAX
    };
    if huffman_len < s.len() {
        encode_integer(huffman_len, 7, 0x80, dst);
        huffman::encode(s, dst);
    } else {
        encode_integer(s.len(), 7, 0, dst);
        dst.extend_from_slice(s);
    }
}

const SEED: u64 = 0x243f_6a88_85a3_08d3;
const K: u64 = 0x517c_c1b7_2722_0a95;

/// A fast non-cryptographic hash (FxHash-style). Collisions only cost compression: every
/// hit is checked against the entry itself.
#[inline]
fn hash(bytes: &[u8]) -> u64 {
    hash_more(SEED, bytes)
}

#[inline]
fn hash_more(mut h: u64, bytes: &[u8]) -> u64 {
    let mut chunks = bytes.chunks_exact(8);
    for c in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(c);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(word)).wrapping_mul(K);
    }
    for &b in chunks.remainder() {
        h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(K);
    }
    h = (h.rotate_left(5) ^ bytes.len() as u64).wrapping_mul(K);
    h ^ (h >> 29)
}

/// Hasher for keys that already are hashes.
#[derive(Default)]
struct PreHashed(u64);

impl Hasher for PreHashed {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        self.0 = hash_more(self.0, bytes);
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(enc: &mut Encoder, fields: &[(&str, &str)]) -> Vec<u8> {
        let mut out = Vec::new();
        enc.begin_block(&mut out);
        for (n, v) in fields {
            enc.encode_field(n.as_bytes(), v.as_bytes(), false, &mut out);
        }
        out
    }

    #[test]
    fn a_full_static_match_is_one_octet() {
        let mut enc = Encoder::new();
        assert_eq!(
            encode(&mut enc, &[(":method", "GET"), (":path", "/")]),
            [0x82, 0x84]
        );
        assert_eq!(enc.table_size(), 0);
    }

    #[test]
    fn a_repeated_field_is_indexed_from_the_dynamic_table() {
        let mut enc = Encoder::new();
        let first = encode(&mut enc, &[("custom-key", "custom-value")]);
        assert_eq!(first[0] & 0xc0, 0x40, "literal with incremental indexing");
        assert_eq!(
            encode(&mut enc, &[("custom-key", "custom-value")]),
            [0x80 | 62]
        );
        // Same name, new value: the name is indexed (62), the value is literal.
        let third = encode(&mut enc, &[("custom-key", "other")]);
        assert_eq!(third[0], 0x40 | 62);
    }

    #[test]
    fn sensitive_fields_are_never_indexed() {
        let mut enc = Encoder::new();
        let mut out = Vec::new();
        enc.encode_field(b"authorization", b"secret", false, &mut out);
        assert_eq!(
            out[0],
            0x10 | 15,
            "never indexed, static name index 23 needs a continuation"
        );
        let mut out = Vec::new();
        enc.encode_field(b"x-token", b"secret", true, &mut out);
        assert_eq!(out[0], 0x10);
        let mut out = Vec::new();
        enc.encode_field(b"cookie", b"id=1", false, &mut out);
        assert_eq!(out[0] & 0xf0, 0x10);
        assert_eq!(enc.table_size(), 0);
    }

    #[test]
    fn huge_values_are_not_indexed() {
        let mut enc = Encoder::new();
        let big = "x".repeat(3000);
        let out = encode(&mut enc, &[("x-big", &big)]);
        assert_eq!(out[0], 0x00, "literal without indexing, literal name");
        assert_eq!(enc.table_size(), 0);
    }

    #[test]
    fn size_updates_signal_the_minimum_then_the_final_size() {
        let mut enc = Encoder::new();
        enc.set_max_table_size(0);
        enc.set_max_table_size(1000);
        let mut out = Vec::new();
        enc.begin_block(&mut out);
        // 0 (001 00000), then 1000 = 31 + 969 (001 11111, 0xc9 0x07).
        assert_eq!(out, [0x20, 0x3f, 0xc9, 0x07]);
        assert_eq!(enc.table_max_size(), 1000);
        let mut out = Vec::new();
        enc.begin_block(&mut out);
        assert!(out.is_empty(), "signalled once");
    }

    #[test]
    fn setting_the_current_size_emits_nothing() {
        let mut enc = Encoder::new();
        enc.set_max_table_size(4096);
        let mut out = Vec::new();
        enc.begin_block(&mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn eviction_forgets_the_evicted_fields() {
        let mut enc = Encoder::new();
        enc.set_max_table_size(100);
        encode(&mut enc, &[("a", "1")]);
        encode(&mut enc, &[("b", "2")]);
        encode(&mut enc, &[("c", "3")]); // evicts a
        let out = encode(&mut enc, &[("a", "1")]);
        assert_eq!(out[0], 0x40, "a: 1 is gone, encoded as a new literal");
        assert_eq!(encode(&mut enc, &[("c", "3")]), [0x80 | 63]);
    }
}
