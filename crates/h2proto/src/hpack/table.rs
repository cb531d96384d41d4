//! The dynamic table (RFC 7541 §2.3.2, §4): a FIFO of recently indexed fields, bounded in size.
//!
//! A `VecDeque` with the newest entry at the front, so dynamic index 1 (HPACK index 62) is
//! `entries[0]`, insertion is `push_front` and eviction is `pop_back`, all O(1).
//!
//! Each entry also has an *absolute id*, the count of insertions before it. Ids never change,
//! while HPACK indices shift with every insertion; the encoder keys its hash maps by id and
//! converts with [`DynamicTable::index_of_id`].

use super::static_table;
use bytes::{Bytes, BytesMut};
use std::collections::VecDeque;
use std::ops::Range;

/// Size of the chunks entries are copied into: one allocation serves many entries.
const ARENA_CHUNK: usize = 2048;
/// The first chunk of a table (and the first after `shrink_to_fit`); each next one doubles up
/// to [`ARENA_CHUNK`]. A connection that indexes a few response fields then takes a few hundred
/// octets, not a burst-sized chunk.
const FIRST_CHUNK: usize = 256;

/// §4.1: "The size of an entry is the sum of its name's length in octets, its value's length
/// in octets, and 32." The 32 accounts for per-entry overhead.
pub const ENTRY_OVERHEAD: usize = 32;

/// One dynamic table entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub name: Bytes,
    pub value: Bytes,
}

impl Entry {
    /// Copies `name` and `value` into one fresh allocation.
    pub fn copied(name: &[u8], value: &[u8]) -> Entry {
        let mut buf = Vec::with_capacity(name.len() + value.len());
        buf.extend_from_slice(name);
        buf.extend_from_slice(value);
        let all = Bytes::from(buf);
        Entry {
            name: all.slice(..name.len()),
            value: all.slice(name.len()..),
        }
    }

    /// The entry's size as §4.1 defines it.
    #[inline]
    pub fn size(&self) -> usize {
        self.name.len() + self.value.len() + ENTRY_OVERHEAD
    }
}

/// The dynamic table of one direction of one connection.
#[derive(Debug)]
pub struct DynamicTable {
    entries: VecDeque<Entry>,
    size: usize,
    max_size: usize,
    inserted: u64,
    /// Entries are copied into shared chunks instead of one allocation each. Entries are
    /// evicted in insertion order, so the live chunks cover at most the table's size plus two
    /// chunks: memory stays bounded by the table size.
    arena: BytesMut,
    /// Size of the next arena chunk.
    next_chunk: usize,
}

impl DynamicTable {
    /// An empty table that may hold `max_size` octets (§4.2).
    pub fn new(max_size: usize) -> DynamicTable {
        DynamicTable {
            entries: VecDeque::new(),
            size: 0,
            max_size,
            inserted: 0,
            arena: BytesMut::new(),
            next_chunk: FIRST_CHUNK,
        }
    }

    /// A fresh arena chunk with room for `n` octets.
    fn new_chunk(&mut self, n: usize) -> BytesMut {
        let chunk = n.max(self.next_chunk);
        self.next_chunk = (self.next_chunk * 2).min(ARENA_CHUNK);
        BytesMut::with_capacity(chunk)
    }

    /// Number of entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if the table holds no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The sum of the entries' sizes (§4.1).
    #[inline]
    pub fn size(&self) -> usize {
        self.size
    }

    /// The current maximum size, as last set by a size update (§4.2).
    #[inline]
    pub fn max_size(&self) -> usize {
        self.max_size
    }

    /// The entry at 0-based position `i`, 0 being the newest (HPACK index 62).
    #[inline]
    pub fn get(&self, i: usize) -> Option<&Entry> {
        self.entries.get(i)
    }

    /// The entries from newest to oldest, i.e. in index order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter()
    }

    /// Id the next inserted entry will get.
    #[inline]
    pub fn next_id(&self) -> u64 {
        self.inserted
    }

    /// 0-based position of the entry with absolute id `id`, if still in the table.
    #[inline]
    pub fn index_of_id(&self, id: u64) -> Option<usize> {
        let pos = self.inserted.checked_sub(id + 1)?;
        usize::try_from(pos)
            .ok()
            .filter(|&p| p < self.entries.len())
    }

    /// Copies `name` and `value` into the table's arena and inserts them, as
    /// [`DynamicTable::insert`].
    ///
    /// The table must not keep slices of received header blocks alive: an entry of a few bytes
    /// could otherwise pin a 16 KiB frame for as long as it stays in the table.
    pub fn insert_copy(
        &mut self,
        name: &[u8],
        value: &[u8],
        mut on_evict: impl FnMut(u64, &Entry),
    ) {
        let len = name.len() + value.len();
        if len + ENTRY_OVERHEAD > self.max_size {
            // Too big: empties the table and is not stored (§4.4), so there is nothing to copy.
            self.evict_to(0, &mut on_evict);
            self.inserted += 1;
            return;
        }
        // A name from the static table is shared, not copied: cloning a `'static` Bytes costs
        // no reference count, and most indexed names are static ones (`user-agent`, `cookie`).
        let static_name = static_table::name_range(name)
            .map(|(first, _)| static_table::STATIC_TABLE[first - 1].0);
        let copied = if static_name.is_some() {
            value.len()
        } else {
            len
        };
        if self.arena.capacity() - self.arena.len() < copied {
            self.arena = self.new_chunk(copied);
        }
        let name = match static_name {
            Some(name) => Bytes::from_static(name),
            None => {
                self.arena.extend_from_slice(name);
                self.arena.split().freeze()
            }
        };
        self.arena.extend_from_slice(value);
        let entry = Entry {
            name,
            value: self.arena.split().freeze(),
        };
        self.insert(entry, on_evict);
    }

    /// Adds `entry` as the newest, first evicting from the end until it fits (§4.4).
    ///
    /// §4.4: "an attempt to add an entry larger than the maximum size causes the table to be
    /// emptied of all existing entries and results in an empty table" — not an error.
    /// `on_evict` sees every evicted entry with its id.
    pub fn insert(&mut self, entry: Entry, mut on_evict: impl FnMut(u64, &Entry)) {
        let size = entry.size();
        if size > self.max_size {
            self.evict_to(0, &mut on_evict);
        } else {
            self.evict_to(self.max_size - size, &mut on_evict);
            self.size += size;
            self.entries.push_front(entry);
        }
        self.inserted += 1;
    }

    /// Re-packs the entries into one allocation of exactly their size and lets the arena chunk
    /// go. Ids, indices and contents do not change.
    ///
    /// Why: the arena hands out chunks sized for bursts ([`ARENA_CHUNK`]), so an idle table
    /// could pin two chunks for a few hundred octets of entries. A connection that went quiet
    /// calls this (through `Connection::shrink_to_fit`) so that thousands of idle connections
    /// cost what their tables hold, not what their last burst needed.
    pub fn shrink_to_fit(&mut self) {
        let static_name = |name: &[u8]| {
            static_table::name_range(name).map(|(first, _)| static_table::STATIC_TABLE[first - 1].0)
        };
        let copied: usize = self
            .entries
            .iter()
            .map(|e| e.value.len() + static_name(&e.name).map_or(e.name.len(), |_| 0))
            .sum();
        let mut buf = BytesMut::with_capacity(copied);
        for e in self.entries.iter_mut() {
            e.name = match static_name(&e.name) {
                Some(name) => Bytes::from_static(name),
                None => {
                    buf.extend_from_slice(&e.name);
                    buf.split().freeze()
                }
            };
            buf.extend_from_slice(&e.value);
            e.value = buf.split().freeze();
        }
        self.arena = BytesMut::new();
        self.next_chunk = FIRST_CHUNK;
        self.entries.shrink_to_fit();
    }

    /// Applies a new maximum size, evicting entries until the table fits (§4.3).
    pub fn set_max_size(&mut self, max_size: usize, mut on_evict: impl FnMut(u64, &Entry)) {
        self.max_size = max_size;
        self.evict_to(max_size, &mut on_evict);
    }

    fn evict_to(&mut self, limit: usize, on_evict: &mut impl FnMut(u64, &Entry)) {
        while self.size > limit {
            let id = self.inserted - self.entries.len() as u64;
            let Some(old) = self.entries.pop_back() else {
                break;
            };
            self.size -= old.size();
            on_evict(id, &old);
        }
    }
}

/// One entry of a [`PackedTable`]: its stored octets (the name unless it is a static-table
/// name, then the value) at `start`, an offset counted from the first octet the table ever
/// stored.
#[derive(Clone, Copy, Debug)]
struct Slot {
    start: u64,
    /// A name from the static table is not stored: a field that uses the entry refers to the
    /// static string, which costs neither a copy nor a reference count.
    static_name: Option<&'static [u8]>,
    /// Length of the stored name (0 for a static name).
    name_len: usize,
    value_len: usize,
}

impl Slot {
    /// The entry's size as §4.1 defines it.
    #[inline(always)]
    fn size(&self) -> usize {
        self.static_name.map_or(0, <[u8]>::len) + self.name_len + self.value_len + ENTRY_OVERHEAD
    }

    #[inline(always)]
    fn stored_len(&self) -> usize {
        self.name_len + self.value_len
    }
}

/// Where a [`PackedTable`] entry is: see [`PackedTable::get`].
#[derive(Clone, Debug)]
pub(crate) struct Found {
    /// The name, if it is a static-table one (then it is not in `stored`).
    pub static_name: Option<&'static [u8]>,
    /// The stored name, if not static, then the value, in [`PackedTable::bytes`].
    pub stored: Range<usize>,
    /// Length of the stored name (0 for a static name).
    pub name_len: usize,
    /// The entry's size (§4.1).
    pub size: usize,
}

/// The decoder's dynamic table (§2.3.2, §4): the same FIFO as [`DynamicTable`], but the
/// entries are offsets into one byte buffer instead of `Bytes`.
///
/// The decoder copies every entry it uses into the header block it returns, so it has no use
/// for shareable entries, and `Bytes` would cost an atomic reference count on every insertion
/// and eviction. Here an insertion appends the name and value to `data`, an eviction only drops
/// the slot, and when the dead octets at the front of `data` outweigh the live ones they are
/// removed in one move. So `data` stays within about twice the table's maximum size, and each
/// stored octet is moved at most once on average.
#[derive(Debug)]
pub(crate) struct PackedTable {
    /// Newest first: dynamic index 1 (HPACK index 62) is `slots[0]`.
    slots: VecDeque<Slot>,
    /// The stored octets; `data[0]` is octet `base` in the table's history.
    data: Vec<u8>,
    base: u64,
    size: usize,
    max_size: usize,
}

/// Below this many octets `data` is never compacted: moving a few octets often costs more
/// than it saves.
const COMPACT_MIN: usize = 4096;

impl PackedTable {
    /// An empty table that may hold `max_size` octets (§4.2).
    pub(crate) fn new(max_size: usize) -> PackedTable {
        PackedTable {
            slots: VecDeque::new(),
            data: Vec::new(),
            base: 0,
            size: 0,
            max_size,
        }
    }

    /// The sum of the entries' sizes (§4.1).
    #[inline]
    pub(crate) fn size(&self) -> usize {
        self.size
    }

    /// The current maximum size, as last set by a size update (§4.2).
    #[inline]
    pub(crate) fn max_size(&self) -> usize {
        self.max_size
    }

    /// Where the entry at 0-based position `i` (0 is the newest, HPACK index 62) is.
    #[inline(always)]
    pub(crate) fn get(&self, i: usize) -> Option<Found> {
        let slot = self.slots.get(i)?;
        let start = (slot.start - self.base) as usize;
        Some(Found {
            static_name: slot.static_name,
            stored: start..start + slot.stored_len(),
            name_len: slot.name_len,
            size: slot.size(),
        })
    }

    /// The stored octets that [`PackedTable::get`] ranges index.
    #[inline(always)]
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// The entries as `(name, value)`, newest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        (0..self.slots.len()).filter_map(|i| {
            let found = self.get(i)?;
            let (name, value) = self.data[found.stored].split_at(found.name_len);
            Some((found.static_name.unwrap_or(name), value))
        })
    }

    /// Adds `name: value` as the newest entry, first evicting from the end until it fits
    /// (§4.4). "An attempt to add an entry larger than the maximum size causes the table to be
    /// emptied of all existing entries and results in an empty table": not an error.
    ///
    /// With a `static_name`, `name` is ignored and the name is not stored.
    #[inline]
    pub(crate) fn insert(&mut self, static_name: Option<&'static [u8]>, name: &[u8], value: &[u8]) {
        let name = if static_name.is_some() { &[][..] } else { name };
        let size = static_name.map_or(0, <[u8]>::len) + name.len() + value.len() + ENTRY_OVERHEAD;
        if size > self.max_size {
            self.evict_to(0);
            return;
        }
        if self.size > self.max_size - size {
            self.evict_to(self.max_size - size);
        }
        if self.data.capacity() == 0 {
            // A first allocation that fits a typical request's indexed fields; it doubles from
            // there. Not a full table at once: most connections never fill one, and an
            // allocation per connection that size outlives the request in a fragmented heap.
            self.data.reserve(self.max_size.min(512));
        }
        let start = self.base + self.data.len() as u64;
        self.data.extend_from_slice(name);
        self.data.extend_from_slice(value);
        self.slots.push_front(Slot {
            start,
            static_name,
            name_len: name.len(),
            value_len: value.len(),
        });
        self.size += size;
    }

    /// Drops the dead octets and the spare capacity (see `Connection::shrink_to_fit`): the
    /// buffer is reserved for a full table at the first insertion, which an idle connection
    /// need not keep. The entries do not change.
    pub(crate) fn shrink_to_fit(&mut self) {
        self.compact();
        self.data.shrink_to_fit();
        self.slots.shrink_to_fit();
    }

    /// Applies a new maximum size, evicting entries until the table fits (§4.3).
    pub(crate) fn set_max_size(&mut self, max_size: usize) {
        self.max_size = max_size;
        self.evict_to(max_size);
        if self.data.capacity() > 2 * max_size + COMPACT_MIN {
            // The table shrank for good: so does its buffer.
            self.compact();
            self.data.shrink_to(2 * max_size + COMPACT_MIN);
        }
    }

    fn evict_to(&mut self, limit: usize) {
        while self.size > limit {
            let Some(old) = self.slots.pop_back() else {
                break;
            };
            self.size -= old.size();
        }
        // The stored octets of the live entries: at most their total size.
        let live = self.size;
        let dead = self.data.len().saturating_sub(live);
        if dead > live && self.data.len() >= COMPACT_MIN {
            self.compact();
        }
    }

    /// Drops the octets before the oldest entry.
    fn compact(&mut self) {
        let first = self
            .slots
            .back()
            .map_or(self.data.len(), |s| (s.start - self.base) as usize);
        self.data.drain(..first);
        self.base += first as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(name: &str, value: &str) -> Entry {
        Entry::copied(name.as_bytes(), value.as_bytes())
    }

    fn names(t: &DynamicTable) -> Vec<&[u8]> {
        t.iter().map(|e| &e.name[..]).collect()
    }

    #[test]
    fn entry_size_is_name_plus_value_plus_32() {
        assert_eq!(e("custom-key", "custom-header").size(), 55);
        assert_eq!(e("", "").size(), 32);
    }

    #[test]
    fn newest_entry_has_the_lowest_index() {
        let mut t = DynamicTable::new(4096);
        t.insert(e("a", "1"), |_, _| ());
        t.insert(e("b", "2"), |_, _| ());
        assert_eq!(names(&t), [b"b", b"a"]);
        assert_eq!(t.size(), 68);
        assert_eq!(t.index_of_id(0), Some(1));
        assert_eq!(t.index_of_id(1), Some(0));
        assert_eq!(t.index_of_id(2), None);
    }

    #[test]
    fn insertion_evicts_the_oldest_until_the_new_entry_fits() {
        let mut t = DynamicTable::new(100);
        let mut evicted = Vec::new();
        t.insert(e("a", "1"), |id, _| evicted.push(id)); // 34
        t.insert(e("b", "2"), |id, _| evicted.push(id)); // 68
        t.insert(e("c", "3"), |id, _| evicted.push(id)); // 102 > 100: "a" goes
        assert_eq!(names(&t), [b"c", b"b"]);
        assert_eq!(evicted, [0]);
        assert_eq!(t.size(), 68);
        assert_eq!(t.index_of_id(0), None);
    }

    #[test]
    fn an_entry_larger_than_the_table_empties_it_and_is_not_added() {
        let mut t = DynamicTable::new(40);
        t.insert(e("a", "1"), |_, _| ());
        t.insert(e("long-name", "long-value"), |_, _| ());
        assert!(t.is_empty());
        assert_eq!(t.size(), 0);
        assert_eq!(t.next_id(), 2);
    }

    #[test]
    fn copied_entries_share_chunks_and_oversized_ones_empty_the_table() {
        let mut t = DynamicTable::new(200);
        t.insert_copy(b"a", b"1", |_, _| ());
        t.insert_copy(b"b", b"2", |_, _| ());
        assert_eq!(names(&t), [b"b", b"a"]);
        assert_eq!(&t.get(0).unwrap().value[..], b"2");
        t.insert_copy(b"big", &[b'x'; 200], |_, _| ());
        assert!(t.is_empty());
        assert_eq!(t.next_id(), 3);
    }

    #[test]
    fn lowering_the_maximum_evicts_and_zero_clears() {
        let mut t = DynamicTable::new(4096);
        for n in ["a", "b", "c"] {
            t.insert(e(n, ""), |_, _| ());
        }
        t.set_max_size(70, |_, _| ());
        assert_eq!(names(&t), [b"c", b"b"]);
        t.set_max_size(0, |_, _| ());
        assert!(t.is_empty());
        assert_eq!(t.max_size(), 0);
    }

    #[test]
    fn packed_table_matches_the_reference_table_and_stays_bounded() {
        // Entries of many sizes through tables of several sizes, with size changes: the
        // packed table must hold exactly what `DynamicTable` holds, and its buffer must stay
        // within about twice its maximum size however long it runs.
        for max in [0, 40, 100, 300, 4096] {
            let mut reference = DynamicTable::new(max);
            let mut packed = PackedTable::new(max);
            for i in 0..5000usize {
                let name = format!("n{}", i % 7);
                let value = "v".repeat((i * 37) % 211);
                if i % 997 == 0 {
                    let size = max / (1 + i % 3);
                    reference.set_max_size(size, |_, _| ());
                    packed.set_max_size(size);
                }
                if i % 3 == 0 {
                    // A static name, which the packed table does not store.
                    packed.insert(Some(b"age"), b"", value.as_bytes());
                    reference.insert_copy(b"age", value.as_bytes(), |_, _| ());
                    assert_eq!(packed.size(), reference.size());
                }
                reference.insert_copy(name.as_bytes(), value.as_bytes(), |_, _| ());
                packed.insert(None, name.as_bytes(), value.as_bytes());
                assert_eq!(packed.size(), reference.size());
                assert!(packed
                    .iter()
                    .eq(reference.iter().map(|e| (&e.name[..], &e.value[..]))));
                assert!(
                    packed.bytes().len() <= 2 * max + COMPACT_MIN + 256,
                    "{} octets kept for a {max}-octet table",
                    packed.bytes().len()
                );
            }
            packed.set_max_size(0);
            assert_eq!(packed.iter().count(), 0);
            assert!(packed.data.capacity() <= COMPACT_MIN);
        }
    }
}
