//! Header block decoding (RFC 7541 §3.2, §6): one `Decoder` per connection, fed every header
//! block the peer sends, in order.

use super::block::{HeaderBlock, Str};
use super::huffman::{self, HuffmanError};
use super::integer::{decode_integer, IntegerError};
use super::static_table;
use super::table::{Found, PackedTable, ENTRY_OVERHEAD};
use super::Header;
use crate::{ErrorCode, ProtocolError, StreamId};
use bytes::Bytes;
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

/// A string literal (§5.2) at `buf[*pos]`, copied or Huffman-decoded into `out`'s buffer.
#[inline(always)]
fn string(buf: &[u8], pos: &mut usize, out: &mut HeaderBlock) -> Result<Str, DecoderError> {
    let (huffman, src) = read_string(buf, pos)?;
    if !huffman {
        return Ok(out.copy(src));
    }
    let spare = out.spare(huffman::max_decoded_len(src.len()));
    let n = huffman::decode_within(buf, *pos - src.len()..*pos, spare)?;
    Ok(out.commit(n))
}

/// The HPACK decoder of one connection: the dynamic table of the peer's encoder, kept in sync
/// by decoding every header block in the order received.
///
/// A block decodes into a [`HeaderBlock`]: one buffer that receives every decoded string, plus
/// offsets, so a field costs no allocation and no reference count. Static-table strings are
/// not even copied. A field with incremental indexing (§6.2.1) is also copied into the table
/// (a `PackedTable`), which only ever holds its own copies, so it never pins received blocks in
/// memory. [`Decoder::decode`] returns [`Header`]s instead, built from such a block.
#[derive(Debug)]
pub struct Decoder {
    table: PackedTable,
    /// The SETTINGS_HEADER_TABLE_SIZE we advertised: the ceiling for size updates (§4.2).
    max_table_size: usize,
    /// Set when our ceiling dropped below the table's current maximum: the peer must start
    /// its next block with a size update (§4.2).
    update_required: bool,
    max_header_list_size: usize,
    /// The block [`Decoder::decode`] decodes into before converting it to `Header`s.
    block: HeaderBlock,
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
            table: PackedTable::new(DEFAULT_TABLE_SIZE),
            max_table_size: DEFAULT_TABLE_SIZE,
            update_required: false,
            max_header_list_size: usize::MAX,
            block: HeaderBlock::new(),
        }
    }

    /// Gives back memory kept from busier times (the table's spare buffer, the reused block's
    /// buffers); the decoding state does not change.
    pub fn shrink_to_fit(&mut self) {
        self.table.shrink_to_fit();
        self.block.release();
    }

    /// A decoder whose table starts at `n` octets instead of 4096, as if both ends had agreed
    /// on `n` before the first block (e.g. RFC 7541 Appendix C.5, or a test harness).
    pub fn with_max_table_size(n: usize) -> Decoder {
        let mut d = Decoder::new();
        d.max_table_size = n;
        d.table.set_max_size(n);
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
        self.table.iter()
    }

    /// Decodes one complete header block (HEADERS or PUSH_PROMISE plus its CONTINUATIONs),
    /// appending the fields to `dst` in order.
    ///
    /// This is [`Decoder::decode_block`] followed by a conversion like
    /// [`HeaderBlock::to_headers`]: the strings that are not static-table ones are slices of
    /// the block's decoded octets, split off (not copied) from the decoder's buffer, so
    /// consecutive blocks mostly share one allocation. A `Header` kept for long keeps that
    /// allocation (a few KiB) alive.
    ///
    /// On error nothing is appended. After [`DecoderError::HeaderListTooLarge`] the table is
    /// still in sync and the decoder can be used for the next block; after any other error the
    /// connection must be closed with COMPRESSION_ERROR (RFC 9113 §4.3).
    pub fn decode(&mut self, block: &Bytes, dst: &mut Vec<Header>) -> Result<(), DecoderError> {
        let mut out = std::mem::take(&mut self.block);
        let result = self.decode_block(block, &mut out);
        if result.is_ok() {
            let all = out.split_octets();
            out.headers_from(all, dst);
        }
        out.clear();
        if !out.oversized() {
            // A huge block is a one-off: its buffer must not stay for the connection's life.
            self.block = out;
        }
        result
    }

    /// Decodes one complete header block (HEADERS or PUSH_PROMISE plus its CONTINUATIONs) into
    /// `out`, which is cleared first: the lower-level form of [`Decoder::decode`], without
    /// a reference-counted [`Bytes`] per string.
    ///
    /// On error `out` is left empty; the errors are those of [`Decoder::decode`].
    pub fn decode_block(
        &mut self,
        block: &[u8],
        out: &mut HeaderBlock,
    ) -> Result<(), DecoderError> {
        out.clear();
        let result = self.decode_fields(block, out);
        if result.is_err() {
            out.clear();
        }
        result
    }

    fn decode_fields(&mut self, buf: &[u8], out: &mut HeaderBlock) -> Result<(), DecoderError> {
        let mut pos = 0;
        let mut list_size = 0usize;
        let mut storing = true;
        let mut field_seen = false;
        let limit = self.max_header_list_size;
        // Counts a field of `size` octets against the list limit and says whether to keep it.
        // Past the limit the decoder keeps decoding so the table stays in sync, but keeps
        // nothing, so memory stays bounded whatever the block expands to (the "HPACK bomb").
        let mut keep = |size: usize, storing: &mut bool, out: &mut HeaderBlock| {
            list_size = list_size.saturating_add(size);
            if list_size > limit && *storing {
                out.clear();
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
                    if keep(size, &mut storing, out) {
                        out.push(Str::Static(name), Str::Static(value), false);
                    }
                    continue;
                }
                let entry = self.dynamic(index)?;
                if !field_seen && self.update_required {
                    return Err(DecoderError::TableSizeUpdateMissing);
                }
                field_seen = true;
                // Checked before copying: past the limit a dynamic entry referenced thousands
                // of times is not even copied.
                if keep(entry.size, &mut storing, out) {
                    // A stored name and the value are stored together: one copy.
                    let stored = out.copy(&self.table.bytes()[entry.stored]);
                    let (name, value) = match entry.static_name {
                        Some(name) => (Str::Static(name), stored),
                        None => stored.split_at(entry.name_len),
                    };
                    out.push(name, value, false);
                }
                continue;
            }
            let mark = out.mark();
            let (name, value, sensitive) = if first & 0x40 != 0 {
                // §6.2.1 Literal Header Field with Incremental Indexing.
                let (name, value) = self.literal(buf, &mut pos, 6, out)?;
                self.index(name, value, out);
                (name, value, false)
            } else if first & 0x20 != 0 {
                // §6.3 Dynamic Table Size Update.
                self.size_update(buf, &mut pos, field_seen)?;
                continue;
            } else {
                // §6.2.2 without indexing (0000), §6.2.3 never indexed (0001). A never-indexed
                // field stays marked so that it is never indexed when forwarded (§7.1.3).
                let (name, value) = self.literal(buf, &mut pos, 4, out)?;
                (name, value, first & 0x10 != 0)
            };
            field_seen = self.check_first_field(field_seen)?;
            if keep(name.len() + value.len() + ENTRY_OVERHEAD, &mut storing, out) {
                out.push(name, value, sensitive);
            } else {
                // Decoded only to check it and keep the table in sync: its octets go.
                out.rewind(mark.min(out.mark()));
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

    /// Where the dynamic entry at HPACK index `index` (> 61) is (see [`PackedTable::get`]), or
    /// the matching error.
    #[inline]
    fn dynamic(&self, index: usize) -> Result<Found, DecoderError> {
        if index == 0 {
            return Err(DecoderError::IndexZero);
        }
        self.table
            .get(index - static_table::LEN - 1)
            .ok_or(DecoderError::IndexOutOfRange)
    }

    /// A literal field representation (§6.2): the name as an index with a `prefix`-bit prefix
    /// or, if that index is 0, as a string; then the value string. A static name is not
    /// copied; the other strings are copied or decoded into `out`.
    #[inline(always)]
    fn literal(
        &mut self,
        buf: &[u8],
        pos: &mut usize,
        prefix: u8,
        out: &mut HeaderBlock,
    ) -> Result<(Str, Str), DecoderError> {
        let index = decode_integer(buf, pos, prefix)?;
        let name = if index == 0 {
            string(buf, pos, out)?
        } else if let Some((name, _)) = static_table::get(index) {
            Str::Static(name)
        } else {
            let entry = self.dynamic(index)?;
            match entry.static_name {
                Some(name) => Str::Static(name),
                None => {
                    let start = entry.stored.start;
                    out.copy(&self.table.bytes()[start..start + entry.name_len])
                }
            }
        };
        let value = string(buf, pos, out)?;
        Ok((name, value))
    }

    /// §6.2.1: adds a decoded literal to the dynamic table, which stores its own copy of all
    /// but a static name.
    #[inline(always)]
    fn index(&mut self, name: Str, value: Str, out: &HeaderBlock) {
        let static_name = match name {
            Str::Static(name) => Some(name),
            Str::Buf { .. } => None,
        };
        self.table
            .insert(static_name, out.str(name), out.str(value));
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
        self.table.set_max_size(size);
        self.update_required = false;
        Ok(())
    }
}
