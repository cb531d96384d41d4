//! Header block decoding (RFC 7541 §3.2, §6): one `Decoder` per connection, fed every header
//! block the peer sends, in order.

use super::huffman::{self, HuffmanError};
use super::integer::{decode_integer, IntegerError};
use super::static_table;
use super::table::{DynamicTable, Entry, ENTRY_OVERHEAD};
use super::Header;
use crate::{ErrorCode, ProtocolError, StreamId};
use bytes::{Bytes, BytesMut};
use std::fmt;

/// The table size both ends assume before any SETTINGS (RFC 9113 §6.5.2).
pub const DEFAULT_TABLE_SIZE: usize = 4096;

/// Why a header block could not be decoded.
///
/// Every variant but [`DecoderError::HeaderListTooLarge`] means the compression context is
/// lost: RFC 9113 §4.3 makes it a connection error of type COMPRESSION_ERROR.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecoderError {
    /// An integer exceeds our limits (§5.1).
    IntegerOverflow,
    /// The block ends inside an integer or a string literal (§5.1, §5.2).
    Truncated,
    /// Index 0 (§6.1: "The index value of 0 is not used").
    IndexZero,
    /// An index beyond the static and dynamic tables (§2.3.3).
    IndexOutOfRange,
    /// A Huffman string contains EOS (§5.2).
    HuffmanEos,
    /// Huffman padding is not a prefix of EOS (§5.2).
    HuffmanPadding,
    /// Huffman padding is longer than 7 bits (§5.2).
    HuffmanPaddingTooLong,
    /// A dynamic table size update above the limit we advertised (§6.3).
    TableSizeUpdateTooLarge,
    /// A dynamic table size update after the first field of a block (§4.2).
    TableSizeUpdateAfterField,
    /// We lowered our limit below the table's size and the block did not start with the size
    /// update that §4.2 requires.
    TableSizeUpdateMissing,
    /// The decoded header list exceeds our SETTINGS_MAX_HEADER_LIST_SIZE (RFC 9113 §6.5.2,
    /// §10.5.1). The block was still fully processed, so the table is in sync, but no field was
    /// kept: the connection stays usable.
    HeaderListTooLarge,
}

impl DecoderError {
    /// The RFC 9113 error code to send for this error.
    ///
    /// HPACK errors are COMPRESSION_ERROR (RFC 9113 §4.3). An oversized header list is not an
    /// HPACK error; we answer it with a PROTOCOL_ERROR stream reset (a server may prefer a 431
    /// response, RFC 9113 §10.5.1).
    pub fn code(self) -> ErrorCode {
        match self {
            DecoderError::HeaderListTooLarge => ErrorCode::PROTOCOL_ERROR,
            _ => ErrorCode::COMPRESSION_ERROR,
        }
    }

    /// False only for [`DecoderError::HeaderListTooLarge`], after which decoding can go on.
    pub fn is_connection_error(self) -> bool {
        self != DecoderError::HeaderListTooLarge
    }

    /// The rule broken, citing the RFC section.
    pub fn reason(self) -> &'static str {
        match self {
            DecoderError::IntegerOverflow => {
                "HPACK integer exceeds implementation limits (RFC 7541 §5.1)"
            }
            DecoderError::Truncated => {
                "HPACK block ends inside a field representation (RFC 7541 §5.1, §5.2)"
            }
            DecoderError::IndexZero => "HPACK index 0 is not used (RFC 7541 §6.1)",
            DecoderError::IndexOutOfRange => {
                "HPACK index beyond the static and dynamic tables (RFC 7541 §2.3.3)"
            }
            DecoderError::HuffmanEos => "Huffman string contains EOS (RFC 7541 §5.2)",
            DecoderError::HuffmanPadding => "Huffman padding is not the EOS prefix (RFC 7541 §5.2)",
            DecoderError::HuffmanPaddingTooLong => {
                "Huffman padding longer than 7 bits (RFC 7541 §5.2)"
            }
            DecoderError::TableSizeUpdateTooLarge => {
                "dynamic table size update above SETTINGS_HEADER_TABLE_SIZE (RFC 7541 §6.3)"
            }
            DecoderError::TableSizeUpdateAfterField => {
                "dynamic table size update after a header field (RFC 7541 §4.2)"
            }
            DecoderError::TableSizeUpdateMissing => {
                "block does not start with the required dynamic table size update (RFC 7541 §4.2)"
            }
            DecoderError::HeaderListTooLarge => {
                "header list exceeds SETTINGS_MAX_HEADER_LIST_SIZE (RFC 9113 §6.5.2)"
            }
        }
    }

    /// The protocol error to act on: a connection error, or for an oversized list a stream
    /// error on `stream` (the stream whose block it was).
    pub fn to_protocol_error(self, stream: StreamId) -> ProtocolError {
        if self.is_connection_error() {
            ProtocolError::connection(self.code(), self.reason())
        } else {
            ProtocolError::stream(stream, self.code(), self.reason())
        }
    }
}

impl fmt::Display for DecoderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.reason())
    }
}

impl std::error::Error for DecoderError {}

impl From<IntegerError> for DecoderError {
    fn from(e: IntegerError) -> Self {
        match e {
            IntegerError::Truncated => DecoderError::Truncated,
            IntegerError::Overflow => DecoderError::IntegerOverflow,
        }
    }
}

impl From<HuffmanError> for DecoderError {
    fn from(e: HuffmanError) -> Self {
        match e {
            HuffmanError::Eos => DecoderError::HuffmanEos,
            HuffmanError::InvalidPadding => DecoderError::HuffmanPadding,
            HuffmanError::PaddingTooLong => DecoderError::HuffmanPaddingTooLong,
        }
    }
}

/// The most scratch space the decoder keeps between Huffman strings bound for the table.
const SCRATCH_KEEP: usize = 16 * 1024;

/// Reads a string literal's header (§5.2) at `buf[*pos]` and returns whether it is Huffman
/// coded and its octets, advancing `pos` past them.
#[inline(always)]
fn read_string<'a>(buf: &'a [u8], pos: &mut usize) -> Result<(bool, &'a [u8]), DecoderError> {
    let huffman = buf.get(*pos).ok_or(DecoderError::Truncated)? & 0x80 != 0;
    let len = decode_integer(buf, pos, 7)?;
    let start = *pos;
    let src = start
        .checked_add(len)
        .and_then(|end| buf.get(start..end))
        .ok_or(DecoderError::Truncated)?;
    *pos = start + len;
    Ok((huffman, src))
}

/// The HPACK decoder of one connection: the dynamic table of the peer's encoder, kept in sync
/// by decoding every header block in the order received.
///
/// Decoding is zero-copy where it can be: a plain literal is a slice of the block, a static
/// entry is `'static`, a dynamic entry is a reference-counted clone. A field with incremental
/// indexing (§6.2.1) is decoded straight into the table's arena, and the field and its new
/// entry share that one copy; a static name is never copied. The other Huffman strings of a
/// block are decoded into one shared buffer and split off, so a block costs at most one
/// allocation for them. The table only ever holds its own copies, so it never pins received
/// blocks in memory.
#[derive(Debug)]
pub struct Decoder {
    table: DynamicTable,
    /// The SETTINGS_HEADER_TABLE_SIZE we advertised: the ceiling for size updates (§4.2).
    max_table_size: usize,
    /// Set when our ceiling dropped below the table's current maximum: the peer must start
    /// its next block with a size update (§4.2).
    update_required: bool,
    max_header_list_size: usize,
    huffman_buf: BytesMut,
    /// Where strings bound for the table are Huffman-decoded before being copied in.
    scratch: Vec<u8>,
}

impl Default for Decoder {
    fn default() -> Self {
        Decoder::new()
    }
}

impl Decoder {
    /// A decoder with the default 4096-octet table and no header-list limit.
    pub fn new() -> Decoder {
        Decoder {
            table: DynamicTable::new(DEFAULT_TABLE_SIZE),
            max_table_size: DEFAULT_TABLE_SIZE,
            update_required: false,
            max_header_list_size: usize::MAX,
            huffman_buf: BytesMut::new(),
            scratch: Vec::new(),
        }
    }

    /// Gives back memory kept from busier times (the table's arena chunk, Huffman scratch);
    /// the decoding state does not change. See [`DynamicTable::shrink_to_fit`].
    pub fn shrink_to_fit(&mut self) {
        self.table.shrink_to_fit();
        self.huffman_buf = BytesMut::new();
        self.scratch = Vec::new();
    }

    /// A decoder whose table starts at `n` octets instead of 4096, as if both ends had agreed
    /// on `n` before the first block (e.g. RFC 7541 Appendix C.5, or a test harness).
    pub fn with_max_table_size(n: usize) -> Decoder {
        let mut d = Decoder::new();
        d.max_table_size = n;
        d.table.set_max_size(n, |_, _| ());
        d
    }

    /// Sets the table-size limit: our SETTINGS_HEADER_TABLE_SIZE, once the peer ACKed it.
    ///
    /// Raising it lets the peer grow its table with a size update. Lowering it below the
    /// table's current maximum obliges the peer to start its next block with a size update
    /// within the new limit (§4.2), which the next `decode` checks.
    pub fn set_max_table_size(&mut self, n: usize) {
        self.max_table_size = n;
        self.update_required = self.table.max_size() > n;
    }

    /// Sets the header-list size limit (our SETTINGS_MAX_HEADER_LIST_SIZE), counted as RFC
    /// 9113 §6.5.2 does: name + value + 32 per field.
    pub fn set_max_header_list_size(&mut self, n: usize) {
        self.max_header_list_size = n;
    }

    /// The dynamic table's current size in octets (§4.1).
    pub fn table_size(&self) -> usize {
        self.table.size()
    }

    /// The dynamic table's current maximum size, as last set by a size update (§4.2).
    pub fn table_max_size(&self) -> usize {
        self.table.max_size()
    }

    /// The dynamic table's entries as `(name, value)`, newest (index 62) first.
    pub fn table_entries(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.table.iter().map(|e| (&e.name[..], &e.value[..]))
    }

    /// Decodes one complete header block (HEADERS or PUSH_PROMISE plus its CONTINUATIONs),
    /// appending the fields to `dst` in order.
    ///
    /// On error nothing is appended. After [`DecoderError::HeaderListTooLarge`] the table is
    /// still in sync and the decoder can be used for the next block; after any other error the
    /// connection must be closed with COMPRESSION_ERROR (RFC 9113 §4.3).
    pub fn decode(&mut self, block: &Bytes, dst: &mut Vec<Header>) -> Result<(), DecoderError> {
        let start = dst.len();
        let result = self.decode_block(block, dst, start);
        if result.is_err() {
            dst.truncate(start);
        }
        result
    }

    fn decode_block(
        &mut self,
        block: &Bytes,
        dst: &mut Vec<Header>,
        start: usize,
    ) -> Result<(), DecoderError> {
        let buf: &[u8] = block;
        let mut pos = 0;
        let mut list_size = 0usize;
        let mut storing = true;
        let mut field_seen = false;
        let limit = self.max_header_list_size;
        // Counts a field of `size` octets against the list limit and says whether to keep it.
        // Past the limit the decoder keeps decoding so the table stays in sync, but keeps
        // nothing, so memory stays bounded whatever the block expands to (the "HPACK bomb").
        let mut keep = |size: usize, storing: &mut bool, dst: &mut Vec<Header>| {
            list_size = list_size.saturating_add(size);
            if list_size > limit && *storing {
                dst.truncate(start);
                *storing = false;
            }
            *storing
        };
        while let Some(&first) = buf.get(pos) {
            if first & 0x80 != 0 {
                // §6.1 Indexed Header Field.
                let index = decode_integer(buf, &mut pos, 7)?;
                if let Some((name, value)) = static_table::get(index) {
                    field_seen = self.check_first_field(field_seen)?;
                    let size = name.len() + value.len() + ENTRY_OVERHEAD;
                    if keep(size, &mut storing, dst) {
                        dst.push(Header {
                            name: Bytes::from_static(name),
                            value: Bytes::from_static(value),
                            sensitive: false,
                        });
                    }
                    continue;
                }
                let entry = self.dynamic(index)?;
                if !field_seen && self.update_required {
                    return Err(DecoderError::TableSizeUpdateMissing);
                }
                field_seen = true;
                // Past the limit a dynamic entry referenced thousands of times is not even
                // cloned.
                if keep(entry.size(), &mut storing, dst) {
                    dst.push(Header {
                        name: entry.name.clone(),
                        value: entry.value.clone(),
                        sensitive: false,
                    });
                }
                continue;
            }
            let header = if first & 0x40 != 0 {
                // §6.2.1 Literal Header Field with Incremental Indexing.
                self.literal_indexed(buf, &mut pos)?
            } else if first & 0x20 != 0 {
                // §6.3 Dynamic Table Size Update.
                self.size_update(buf, &mut pos, field_seen)?;
                continue;
            } else {
                // §6.2.2 without indexing (0000), §6.2.3 never indexed (0001). A never-indexed
                // field stays marked so that it is never indexed when forwarded (§7.1.3).
                let (name, value) = self.literal(block, &mut pos, 4)?;
                Header {
                    name,
                    value,
                    sensitive: first & 0x10 != 0,
                }
            };
            field_seen = self.check_first_field(field_seen)?;
            if keep(header.size(), &mut storing, dst) {
                dst.push(header);
            }
        }
        if !storing {
            return Err(DecoderError::HeaderListTooLarge);
        }
        Ok(())
    }

    /// Checks what must hold once a block has a field, and returns the new `field_seen`.
    #[inline]
    fn check_first_field(&self, field_seen: bool) -> Result<bool, DecoderError> {
        if !field_seen && self.update_required {
            return Err(DecoderError::TableSizeUpdateMissing);
        }
        Ok(true)
    }

    /// The dynamic entry at HPACK index `index` (> 61), or the matching error.
    #[inline]
    fn dynamic(&self, index: usize) -> Result<&Entry, DecoderError> {
        if index == 0 {
            return Err(DecoderError::IndexZero);
        }
        self.table
            .get(index - static_table::LEN - 1)
            .ok_or(DecoderError::IndexOutOfRange)
    }

    /// A literal field representation (§6.2): the name as an index with a `prefix`-bit prefix
    /// or, if that index is 0, as a string; then the value string.
    #[inline]
    fn literal(
        &mut self,
        block: &Bytes,
        pos: &mut usize,
        prefix: u8,
    ) -> Result<(Bytes, Bytes), DecoderError> {
        let index = decode_integer(block, pos, prefix)?;
        let name = if index == 0 {
            self.string(block, pos)?
        } else if let Some((name, _)) = static_table::get(index) {
            Bytes::from_static(name)
        } else {
            self.dynamic(index)?.name.clone()
        };
        let value = self.string(block, pos)?;
        Ok((name, value))
    }

    /// §6.2.1: a literal field that also goes into the dynamic table. Its strings are decoded
    /// straight into the table's arena, so the table never pins the block, the field and its
    /// entry share the copy, and a static or dynamic name is shared, not copied.
    #[inline(always)]
    fn literal_indexed(&mut self, buf: &[u8], pos: &mut usize) -> Result<Header, DecoderError> {
        let index = decode_integer(buf, pos, 6)?;
        let (name, static_name) = if index == 0 {
            (self.arena_string(buf, pos)?, None)
        } else if let Some((name, _)) = static_table::get(index) {
            (Bytes::from_static(name), Some(name))
        } else {
            (self.dynamic(index)?.name.clone(), None)
        };
        let value = self.arena_string(buf, pos)?;
        self.table.insert(
            Entry {
                // A second `from_static` is cheaper than a clone, which calls through a vtable.
                name: match static_name {
                    Some(name) => Bytes::from_static(name),
                    None => name.clone(),
                },
                value: value.clone(),
            },
            |_, _| (),
        );
        Ok(Header {
            name,
            value,
            sensitive: false,
        })
    }

    /// A string literal (§5.2) decoded or copied into the table's arena.
    #[inline(always)]
    fn arena_string(&mut self, buf: &[u8], pos: &mut usize) -> Result<Bytes, DecoderError> {
        let (huffman, src) = read_string(buf, pos)?;
        if !huffman {
            let arena = self.table.arena_for(src.len());
            arena.extend_from_slice(src);
            return Ok(arena.split().freeze());
        }
        // Decoded in a scratch buffer that stays initialised, then copied: cheaper than
        // zero-filling the worst case in the arena for every string.
        let max = huffman::max_decoded_len(src.len());
        if self.scratch.len() < max {
            self.scratch.resize(max, 0);
        }
        let n = huffman::decode_within(buf, *pos - src.len()..*pos, &mut self.scratch)?;
        let arena = self.table.arena_for(n);
        arena.extend_from_slice(&self.scratch[..n]);
        let string = arena.split().freeze();
        if max > SCRATCH_KEEP {
            // A huge string is a one-off: its buffer must not stay for the connection's life.
            self.scratch = Vec::new();
        }
        Ok(string)
    }

    /// A string literal (§5.2): a slice of the block, or its Huffman decoding.
    #[inline]
    fn string(&mut self, block: &Bytes, pos: &mut usize) -> Result<Bytes, DecoderError> {
        let buf: &[u8] = block;
        let huffman = buf.get(*pos).ok_or(DecoderError::Truncated)? & 0x80 != 0;
        let len = decode_integer(buf, pos, 7)?;
        let start = *pos;
        let end = start
            .checked_add(len)
            .filter(|&end| end <= buf.len())
            .ok_or(DecoderError::Truncated)?;
        *pos = end;
        if !huffman {
            return Ok(block.slice(start..end));
        }
        let src = &buf[start..end];
        let max = huffman::max_decoded_len(src.len());
        if self.huffman_buf.capacity() < max {
            // Enough for every Huffman string left in this block: one allocation per block.
            self.huffman_buf
                .reserve(huffman::max_decoded_len(buf.len() - start));
        }
        self.huffman_buf.resize(max, 0);
        match huffman::decode_within(buf, start..end, &mut self.huffman_buf) {
            Ok(n) => {
                self.huffman_buf.truncate(n);
                Ok(self.huffman_buf.split().freeze())
            }
            Err(e) => {
                self.huffman_buf.clear();
                Err(e.into())
            }
        }
    }

    /// §6.3 Dynamic Table Size Update, with the two rules of §4.2: only at the start of a
    /// block, and "MUST be lower than or equal to the limit" we advertised.
    fn size_update(
        &mut self,
        buf: &[u8],
        pos: &mut usize,
        field_seen: bool,
    ) -> Result<(), DecoderError> {
        if field_seen {
            return Err(DecoderError::TableSizeUpdateAfterField);
        }
        let size = decode_integer(buf, pos, 5)?;
        if size > self.max_table_size {
            return Err(DecoderError::TableSizeUpdateTooLarge);
        }
        self.table.set_max_size(size, |_, _| ());
        self.update_required = false;
        Ok(())
    }
}
