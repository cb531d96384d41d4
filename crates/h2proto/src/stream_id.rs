//! Stream identifiers (RFC 9113 §5.1.1).

use std::fmt;
use std::hash::Hasher;

/// A 31-bit stream identifier. Stream 0 is the connection itself (§5.1.1).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct StreamId(pub u32);

impl StreamId {
    /// Stream 0: frames that apply to the connection as a whole.
    pub const CONNECTION: StreamId = StreamId(0);
    /// The largest identifier a stream can have (2^31 - 1).
    pub const MAX: StreamId = StreamId(0x7fff_ffff);

    /// Builds an id from the 32 bits on the wire, dropping the reserved bit (§4.1: "MUST be
    /// ignored when receiving").
    pub const fn from_wire(v: u32) -> StreamId {
        StreamId(v & 0x7fff_ffff)
    }

    /// True for stream 0.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }

    /// Streams initiated by a client are odd-numbered (§5.1.1).
    pub const fn is_client_initiated(self) -> bool {
        !self.0.is_multiple_of(2)
    }

    /// Streams initiated by a server are even-numbered, except 0 (§5.1.1).
    pub const fn is_server_initiated(self) -> bool {
        self.0 != 0 && self.0.is_multiple_of(2)
    }
}

impl fmt::Debug for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StreamId({})", self.0)
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<u32> for StreamId {
    fn from(v: u32) -> Self {
        StreamId(v)
    }
}

impl From<StreamId> for u32 {
    fn from(v: StreamId) -> u32 {
        v.0
    }
}

/// A hasher for maps keyed by [`StreamId`]: ids are small distinct integers, so one
/// multiplication spreads them well enough, at a fraction of SipHash's cost on the per-frame
/// lookup path. `BuildHasherDefault<StreamIdHasher>` makes the map's hasher.
///
/// The peer picks the ids, so the hash must not let it choose colliding ones cheaply: a plain
/// product's low bits depend only on the id's low bits (ids 2^20 apart would all share a bucket
/// in small tables), so `finish` folds the high half of the product into the low half.
#[derive(Default, Clone, Copy, Debug)]
pub struct StreamIdHasher(u64);

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

impl Hasher for StreamIdHasher {
    fn finish(&self) -> u64 {
        self.0 ^ (self.0 >> 32)
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8 | b as u64).wrapping_mul(GOLDEN);
        }
    }
    fn write_u32(&mut self, n: u32) {
        self.0 = (n as u64).wrapping_mul(GOLDEN);
    }
}

#[cfg(test)]
mod hasher_tests {
    use super::*;
    use std::hash::{BuildHasher, BuildHasherDefault};

    /// Ids a peer could pick 2^20 apart still land in different buckets of a 256-bucket table.
    #[test]
    fn strided_ids_do_not_share_low_bits() {
        let b = BuildHasherDefault::<StreamIdHasher>::default();
        let buckets: std::collections::HashSet<u64> = (0..64u32)
            .map(|i| b.hash_one(StreamId(1 + (i << 20))) & 0xff)
            .collect();
        assert!(
            buckets.len() > 40,
            "only {} distinct buckets",
            buckets.len()
        );
    }
}
