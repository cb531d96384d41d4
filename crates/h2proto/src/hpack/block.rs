//! A decoded header block held in one buffer: the output of [`Decoder::decode_block`].
//!
//! [`Decoder::decode_block`]: super::Decoder::decode_block

use super::table::ENTRY_OVERHEAD;
use super::Header;
use bytes::{Bytes, BytesMut};

/// Where a decoded name or value lives: a static-table string (RFC 7541 Appendix A), shared
/// and never copied, or `len` octets at `start` in the block's buffer.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Str {
    Static(&'static [u8]),
    Buf { start: usize, len: usize },
}

impl Str {
    /// The first `n` octets and the rest, of a string in the buffer.
    #[inline(always)]
    pub(crate) fn split_at(self, n: usize) -> (Str, Str) {
        match self {
            Str::Buf { start, len } => (
                Str::Buf { start, len: n },
                Str::Buf {
                    start: start + n,
                    len: len - n,
                },
            ),
            Str::Static(s) => {
                let (a, b) = s.split_at(n);
                (Str::Static(a), Str::Static(b))
            }
        }
    }

    #[inline(always)]
    pub(crate) fn len(self) -> usize {
        match self {
            Str::Static(s) => s.len(),
            Str::Buf { len, .. } => len,
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Field {
    name: Str,
    value: Str,
    sensitive: bool,
}

/// The header list of one header block, decoded by [`Decoder::decode_block`]: every name and
/// value that is not a static-table string is in one buffer owned by the block, and a field is
/// a pair of offsets into it.
///
/// This is the decoder's own representation, and the cheapest way to receive a block: a
/// [`Header`] holds two reference-counted [`Bytes`], and making and dropping them costs an
/// atomic operation per string, which is more than decoding most fields. A `HeaderBlock` costs
/// no reference count and, once reused for a few blocks, no allocation. Its buffer is the
/// block's own copy: it shares nothing with the received frames or the dynamic table, so
/// it stays valid however the table changes afterwards. [`HeaderBlock::to_headers`] converts
/// it to [`Header`]s that share one copy of its octets; [`Decoder::decode`] does the same
/// without the copy, by splitting the octets off its own block's buffer.
///
/// Reuse one `HeaderBlock` for many blocks: `decode_block` clears it first and keeps its
/// buffers.
///
/// [`Decoder::decode_block`]: super::Decoder::decode_block
/// [`Decoder::decode`]: super::Decoder::decode
#[derive(Clone, Debug, Default)]
pub struct HeaderBlock {
    /// Decoded octets in `buf[..used]`. `buf` is only ever grown (zero-filled once), so the
    /// Huffman decoder can write into it without clearing memory for every string. A
    /// `BytesMut`, so that [`Decoder::decode`] can split the decoded octets off for its
    /// `Header`s to share instead of copying them.
    ///
    /// [`Decoder::decode`]: super::Decoder::decode
    buf: BytesMut,
    used: usize,
    fields: Vec<Field>,
}

/// A field of a [`HeaderBlock`], borrowed from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldRef<'a> {
    pub name: &'a [u8],
    pub value: &'a [u8],
    /// Received as a never-indexed literal (RFC 7541 §6.2.3): it must not be indexed when
    /// forwarded (§7.1.3).
    pub sensitive: bool,
}

impl FieldRef<'_> {
    /// The field's size as RFC 7541 §4.1 and RFC 9113 §6.5.2 count it: name + value + 32.
    #[inline]
    pub fn size(&self) -> usize {
        self.name.len() + self.value.len() + ENTRY_OVERHEAD
    }
}

/// The smallest buffer a block allocates: once [`HeaderBlock::split_octets`] has taken a few
/// blocks' octets, the rest must still be worth using.
const MIN_BUF: usize = 4096;

/// The most octets the buffer of the [`HeaderBlock`] kept inside the decoder may hold on to.
/// The `Header`s of [`Decoder::decode`] are slices of that buffer, so this also bounds what one
/// retained `Header` can keep alive.
///
/// [`Decoder::decode`]: super::Decoder::decode
const KEEP_OCTETS: usize = 16 * 1024;

/// The most fields the kept [`HeaderBlock`] may have room for.
const KEEP_FIELDS: usize = 1024;

impl HeaderBlock {
    /// An empty block.
    pub fn new() -> HeaderBlock {
        HeaderBlock::default()
    }

    /// Number of fields.
    #[inline]
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// True if the block has no field.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// Empties the block and lets its buffers go (a block kept for reuse keeps its largest
    /// buffers otherwise).
    pub fn release(&mut self) {
        *self = HeaderBlock::new();
    }

    /// Removes every field, keeping the buffers for the next block.
    #[inline]
    pub fn clear(&mut self) {
        self.fields.clear();
        self.used = 0;
    }

    /// The field at position `i`, in the order of the block.
    #[inline]
    pub fn get(&self, i: usize) -> Option<FieldRef<'_>> {
        self.fields.get(i).map(|f| self.field(f))
    }

    /// The fields in the order of the block.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = FieldRef<'_>> + '_ {
        self.fields.iter().map(|f| self.field(f))
    }

    /// The header list's size as RFC 9113 §6.5.2 counts it: the sum of the fields' sizes.
    pub fn list_size(&self) -> usize {
        self.fields
            .iter()
            .map(|f| f.name.len() + f.value.len() + ENTRY_OVERHEAD)
            .sum()
    }

    /// Appends the fields to `dst` as [`Header`]s. The names and values that are not static
    /// strings are copied into one new allocation that the headers share.
    pub fn to_headers(&self, dst: &mut Vec<Header>) {
        self.headers_from(Bytes::copy_from_slice(self.octets()), dst);
    }

    /// The decoded octets of the strings that are not static.
    #[inline]
    pub(crate) fn octets(&self) -> &[u8] {
        &self.buf[..self.used]
    }

    /// Splits off [`HeaderBlock::octets`], without copying, for [`HeaderBlock::headers_from`].
    /// The fields are kept; the buffer goes on with the memory after them.
    #[inline]
    pub(crate) fn split_octets(&mut self) -> Bytes {
        if self.used == 0 {
            // Only static strings (e.g. `:method: GET`): nothing to share.
            return Bytes::new();
        }
        let octets = self.buf.split_to(self.used).freeze();
        self.used = 0;
        octets
    }

    /// Appends the fields to `dst` as [`Header`]s that share `all`, a copy of
    /// [`HeaderBlock::octets`].
    #[inline]
    pub(crate) fn headers_from(&self, all: Bytes, dst: &mut Vec<Header>) {
        let bytes = |s: Str| match s {
            Str::Static(s) => Bytes::from_static(s),
            Str::Buf { start, len } => all.slice(start..start + len),
        };
        dst.reserve(self.fields.len());
        for f in &self.fields {
            dst.push(Header {
                name: bytes(f.name),
                value: bytes(f.value),
                sensitive: f.sensitive,
            });
        }
    }

    #[inline(always)]
    fn field(&self, f: &Field) -> FieldRef<'_> {
        FieldRef {
            name: self.str(f.name),
            value: self.str(f.value),
            sensitive: f.sensitive,
        }
    }

    #[inline(always)]
    pub(crate) fn str(&self, s: Str) -> &[u8] {
        match s {
            Str::Static(s) => s,
            Str::Buf { start, len } => &self.buf[start..start + len],
        }
    }

    #[inline(always)]
    pub(crate) fn push(&mut self, name: Str, value: Str, sensitive: bool) {
        self.fields.push(Field {
            name,
            value,
            sensitive,
        });
    }

    /// Octets written so far: a mark to [`HeaderBlock::rewind`] to.
    #[inline(always)]
    pub(crate) fn mark(&self) -> usize {
        self.used
    }

    /// Drops the octets written after `mark` (a field that is not kept).
    #[inline(always)]
    pub(crate) fn rewind(&mut self, mark: usize) {
        self.used = mark;
    }

    /// Writable space of at least `n` octets after the used part.
    #[inline(always)]
    pub(crate) fn spare(&mut self, n: usize) -> &mut [u8] {
        if self.buf.len() - self.used < n {
            self.grow(n);
        }
        &mut self.buf[self.used..]
    }

    #[cold]
    #[inline(never)]
    fn grow(&mut self, n: usize) {
        let want = (self.used + n).max(self.buf.len() * 2).max(MIN_BUF);
        self.buf.resize(want, 0);
    }

    /// Marks `n` octets written into [`HeaderBlock::spare`] as used and returns them as a `Str`.
    #[inline(always)]
    pub(crate) fn commit(&mut self, n: usize) -> Str {
        let start = self.used;
        self.used += n;
        Str::Buf { start, len: n }
    }

    /// Copies `src` in.
    #[inline(always)]
    pub(crate) fn copy(&mut self, src: &[u8]) -> Str {
        self.spare(src.len())[..src.len()].copy_from_slice(src);
        self.commit(src.len())
    }

    /// Whether the block holds more memory than a decoder should keep between blocks.
    #[inline]
    pub(crate) fn oversized(&self) -> bool {
        self.buf.len() > KEEP_OCTETS || self.fields.capacity() > KEEP_FIELDS
    }
}
