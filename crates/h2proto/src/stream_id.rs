//! Stream identifiers (RFC 9113 §5.1.1).

use std::fmt;

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
