//! HPACK header compression (RFC 7541).
//!
//! # Design
//!
//! The module follows the RFC's structure: [`integer`] is §5.1, [`huffman`] is §5.2 with the
//! Appendix B code, [`static_table`] is Appendix A, [`table`] is the dynamic table of §2.3.2 and
//! §4, and [`Decoder`] and [`Encoder`] implement the field representations of §6.
//!
//! * **Sans-IO, caller-owned buffers.** The decoder takes a complete header block (HEADERS or
//!   PUSH_PROMISE plus all its CONTINUATIONs) and fills a [`HeaderBlock`] or appends
//!   [`Header`]s to a `Vec` the caller owns; the encoder appends to a caller's `Vec<u8>`.
//! * **One buffer per decoded block.** [`Decoder::decode_block`] writes every decoded string
//!   into the [`HeaderBlock`]'s one buffer and records offsets; static-table strings are not
//!   copied at all. A `Header` holds two reference-counted `Bytes`, and making and dropping
//!   them costs more than decoding most fields, so a block avoids them: no allocation and no
//!   atomic operation per field. [`Decoder::decode`] builds `Header`s from such a block, all
//!   sharing one allocation. The dynamic table stores its entries packed in one buffer of its
//!   own, so it never keeps received blocks alive, and a table hit is one copy.
//! * **Table-driven Huffman.** Decoding looks up 12 bits at a time in a table built at compile
//!   time from the Appendix B code, emitting up to two symbols per look-up.
//! * **Bounded memory against hostile peers.** Integers are capped (§5.1), size updates are
//!   checked against the limit we advertised (§4.2, §6.3), and the header-list limit (RFC 9113
//!   §6.5.2) is enforced while decoding: past it the decoder keeps the table in sync but
//!   stores nothing, defeating the "HPACK bomb" (a small block referencing a large entry
//!   thousands of times).
//! * **Errors have RFC 9113 codes.** Every malformed block is a [`DecoderError`] whose
//!   [`code`](DecoderError::code) is COMPRESSION_ERROR, a connection error (RFC 9113 §4.3);
//!   only [`DecoderError::HeaderListTooLarge`] leaves the connection usable.
//! * **Encoder policy.** Sensitive fields go never-indexed (§6.2.3, §7.1.3); full matches are
//!   indexed through O(1) lookups; fields bigger than half the table are not indexed; Huffman
//!   is used only when shorter; table size changes are signalled at the start of the next block
//!   with the minimum reached and the final value (§4.2).

use bytes::Bytes;

mod block;
mod decoder;
mod encoder;
pub mod huffman;
pub mod integer;
pub mod static_table;
pub mod table;

pub use block::{FieldRef, HeaderBlock};
pub use decoder::{Decoder, DecoderError, DEFAULT_TABLE_SIZE};
pub use encoder::{Encoder, MAX_ENCODER_TABLE_SIZE};

/// A header field: a name, a value, and whether it must never be indexed.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    pub name: Bytes,
    pub value: Bytes,
    /// Set on fields received as never-indexed literals (§6.2.3) and on fields to send that
    /// way: the value must not enter any compression table, here or at the next hop (§7.1.3).
    pub sensitive: bool,
}

impl Header {
    /// A field that may be indexed.
    pub fn new(name: impl Into<Bytes>, value: impl Into<Bytes>) -> Header {
        Header {
            name: name.into(),
            value: value.into(),
            sensitive: false,
        }
    }

    /// A field to be sent never-indexed (§6.2.3), e.g. a credential.
    pub fn sensitive(name: impl Into<Bytes>, value: impl Into<Bytes>) -> Header {
        Header {
            name: name.into(),
            value: value.into(),
            sensitive: true,
        }
    }

    /// The field's size as RFC 7541 §4.1 and RFC 9113 §6.5.2 count it: name + value + 32.
    #[inline]
    pub fn size(&self) -> usize {
        self.name.len() + self.value.len() + table::ENTRY_OVERHEAD
    }
}
