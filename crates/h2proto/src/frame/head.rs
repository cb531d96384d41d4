//! The 9-octet frame header (RFC 9113 §4.1), frame type codes and flags.
//!
//! Every frame decoder sees the parsed [`FrameHeader`], so the rules that depend only on the
//! header (which stream ids a type may use, which flags it defines) live here, in one place.

use crate::{ErrorCode, ProtocolError, StreamId};
use std::fmt;

/// Length of the frame header in octets (§4.1: "a fixed 9-octet header").
pub const HEADER_LEN: usize = 9;

/// The 8-bit frame type (§4.1). A newtype, not an enum: §4.1 says "Implementations MUST ignore
/// and discard frames of unknown types", so any value must be representable.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FrameType(pub u8);

impl FrameType {
    pub const DATA: FrameType = FrameType(0x0);
    pub const HEADERS: FrameType = FrameType(0x1);
    pub const PRIORITY: FrameType = FrameType(0x2);
    pub const RST_STREAM: FrameType = FrameType(0x3);
    pub const SETTINGS: FrameType = FrameType(0x4);
    pub const PUSH_PROMISE: FrameType = FrameType(0x5);
    pub const PING: FrameType = FrameType(0x6);
    pub const GOAWAY: FrameType = FrameType(0x7);
    pub const WINDOW_UPDATE: FrameType = FrameType(0x8);
    pub const CONTINUATION: FrameType = FrameType(0x9);
    /// RFC 9218 §7.1.
    pub const PRIORITY_UPDATE: FrameType = FrameType(0x10);

    /// The RFC name of the type, or `None` for a type this crate does not know.
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            FrameType::DATA => "DATA",
            FrameType::HEADERS => "HEADERS",
            FrameType::PRIORITY => "PRIORITY",
            FrameType::RST_STREAM => "RST_STREAM",
            FrameType::SETTINGS => "SETTINGS",
            FrameType::PUSH_PROMISE => "PUSH_PROMISE",
            FrameType::PING => "PING",
            FrameType::GOAWAY => "GOAWAY",
            FrameType::WINDOW_UPDATE => "WINDOW_UPDATE",
            FrameType::CONTINUATION => "CONTINUATION",
            FrameType::PRIORITY_UPDATE => "PRIORITY_UPDATE",
            _ => return None,
        })
    }

    /// The flags this type defines; every other bit is an "unused flag" that §4.1 says "MUST be
    /// ignored on receipt and MUST be left unset (0x00) when sending".
    pub fn defined_flags(self) -> u8 {
        use flags::*;
        match self {
            FrameType::DATA => END_STREAM | PADDED,
            FrameType::HEADERS => END_STREAM | END_HEADERS | PADDED | PRIORITY,
            FrameType::SETTINGS | FrameType::PING => ACK,
            FrameType::PUSH_PROMISE => END_HEADERS | PADDED,
            FrameType::CONTINUATION => END_HEADERS,
            _ => 0,
        }
    }

    /// Which stream ids this type may carry, or `None` for an unknown type (not checked).
    fn stream_rule(self) -> Option<StreamRule> {
        Some(match self {
            // §6.1, §6.2, §6.3, §6.4, §6.6, §6.10: "... frames MUST be associated with a stream".
            FrameType::DATA
            | FrameType::HEADERS
            | FrameType::PRIORITY
            | FrameType::RST_STREAM
            | FrameType::PUSH_PROMISE
            | FrameType::CONTINUATION => StreamRule::NonZero,
            // §6.5, §6.7, §6.8: connection-wide frames; RFC 9218 §7.1: "The Stream Identifier
            // field ... in the PRIORITY_UPDATE frame header MUST be zero (0x0)".
            FrameType::SETTINGS
            | FrameType::PING
            | FrameType::GOAWAY
            | FrameType::PRIORITY_UPDATE => StreamRule::Zero,
            // §6.9: "The WINDOW_UPDATE frame can be specific to a stream or to the entire
            // connection."
            FrameType::WINDOW_UPDATE => StreamRule::Any,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy)]
enum StreamRule {
    Zero,
    NonZero,
    Any,
}

impl fmt::Debug for FrameType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "UNKNOWN({:#04x})", self.0),
        }
    }
}

impl fmt::Display for FrameType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Frame flag bits (RFC 9113 §6). Their meaning depends on the frame type.
pub mod flags {
    /// DATA, HEADERS (§6.1, §6.2).
    pub const END_STREAM: u8 = 0x1;
    /// SETTINGS, PING (§6.5, §6.7). Same bit as END_STREAM.
    pub const ACK: u8 = 0x1;
    /// HEADERS, PUSH_PROMISE, CONTINUATION (§6.2, §6.6, §6.10).
    pub const END_HEADERS: u8 = 0x4;
    /// DATA, HEADERS, PUSH_PROMISE (§6.1, §6.2, §6.6).
    pub const PADDED: u8 = 0x8;
    /// HEADERS (§6.2).
    pub const PRIORITY: u8 = 0x20;

    /// The names of the flags set in `bits` that `kind` defines, for logs and tools. Unused
    /// flags are left out, as a receiver ignores them (§4.1).
    pub fn names(kind: super::FrameType, bits: u8) -> Vec<&'static str> {
        let defined = kind.defined_flags() & bits;
        let ack_type = kind == super::FrameType::SETTINGS || kind == super::FrameType::PING;
        let mut out = Vec::new();
        for (bit, name) in [
            (0x1, if ack_type { "ACK" } else { "END_STREAM" }),
            (END_HEADERS, "END_HEADERS"),
            (PADDED, "PADDED"),
            (PRIORITY, "PRIORITY"),
        ] {
            if defined & bit != 0 {
                out.push(name);
            }
        }
        out
    }
}

/// The parsed 9-octet frame header (§4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// Payload length, excluding the 9 header octets (24 bits on the wire).
    pub length: u32,
    pub kind: FrameType,
    /// All 8 flag bits as received, unused ones included.
    pub flags: u8,
    /// The stream id with the reserved bit dropped (§4.1: "MUST be ignored when receiving").
    pub stream_id: StreamId,
}

impl FrameHeader {
    /// Parses the header. Never fails: every 9-octet string is a syntactically valid header;
    /// the rules about it are checked by [`FrameHeader::check_stream_id`] and the decoder.
    pub fn parse(src: &[u8; HEADER_LEN]) -> FrameHeader {
        FrameHeader {
            length: u32::from_be_bytes([0, src[0], src[1], src[2]]),
            kind: FrameType(src[3]),
            flags: src[4],
            stream_id: StreamId::from_wire(u32::from_be_bytes([src[5], src[6], src[7], src[8]])),
        }
    }

    /// Appends the 9 octets. The reserved bit is left unset (§4.1: "MUST remain unset (0x00)
    /// when sending"); `length` must fit in 24 bits.
    pub fn encode(&self, dst: &mut Vec<u8>) {
        write_header(self.length, self.kind, self.flags, self.stream_id, dst);
    }

    /// True if `flag` is set.
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// Checks that the stream id is zero or non-zero as the frame type requires.
    ///
    /// Every such violation in RFC 9113 §6 (and RFC 9218 §7.1) is a connection error of type
    /// PROTOCOL_ERROR. Unknown types are not checked (§5.5: they are discarded).
    pub fn check_stream_id(&self) -> Result<(), ProtocolError> {
        let ok = match self.kind.stream_rule() {
            None | Some(StreamRule::Any) => true,
            Some(StreamRule::Zero) => self.stream_id.is_zero(),
            Some(StreamRule::NonZero) => !self.stream_id.is_zero(),
        };
        if ok {
            return Ok(());
        }
        Err(ProtocolError::connection(
            ErrorCode::PROTOCOL_ERROR,
            stream_id_reason(self.kind),
        ))
    }
}

/// The rule broken, per type, for a stream id that is zero where it must not be or vice versa.
fn stream_id_reason(kind: FrameType) -> &'static str {
    match kind {
        FrameType::DATA => "DATA on stream 0 (RFC 9113 §6.1)",
        FrameType::HEADERS => "HEADERS on stream 0 (RFC 9113 §6.2)",
        FrameType::PRIORITY => "PRIORITY on stream 0 (RFC 9113 §6.3)",
        FrameType::RST_STREAM => "RST_STREAM on stream 0 (RFC 9113 §6.4)",
        FrameType::SETTINGS => "SETTINGS on a stream other than 0 (RFC 9113 §6.5)",
        FrameType::PUSH_PROMISE => "PUSH_PROMISE on stream 0 (RFC 9113 §6.6)",
        FrameType::PING => "PING on a stream other than 0 (RFC 9113 §6.7)",
        FrameType::GOAWAY => "GOAWAY on a stream other than 0 (RFC 9113 §6.8)",
        FrameType::CONTINUATION => "CONTINUATION on stream 0 (RFC 9113 §6.10)",
        FrameType::PRIORITY_UPDATE => "PRIORITY_UPDATE on a stream other than 0 (RFC 9218 §7.1)",
        _ => "invalid stream id for frame type (RFC 9113 §6)",
    }
}

/// Writes a frame header without building a [`FrameHeader`]: the hot-path form.
#[inline]
pub(crate) fn write_header(
    length: u32,
    kind: FrameType,
    flags: u8,
    stream_id: StreamId,
    dst: &mut Vec<u8>,
) {
    debug_assert!(
        length <= super::MAX_MAX_FRAME_SIZE,
        "frame length over 2^24-1"
    );
    let len = length.to_be_bytes();
    let id = (stream_id.0 & 0x7fff_ffff).to_be_bytes();
    dst.extend_from_slice(&[
        len[1], len[2], len[3], kind.0, flags, id[0], id[1], id[2], id[3],
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s4_1_reserved_bit_is_ignored_on_receipt() {
        let h = FrameHeader::parse(&[0, 0, 4, 8, 0xff, 0x80, 0, 0, 1]);
        assert_eq!(h.stream_id, StreamId(1));
        assert_eq!(h.length, 4);
        assert_eq!(h.kind, FrameType::WINDOW_UPDATE);
        assert_eq!(h.flags, 0xff);
    }

    #[test]
    fn s4_1_header_round_trips() {
        let h = FrameHeader {
            length: 0x12_3456,
            kind: FrameType(0xfe),
            flags: 0xa5,
            stream_id: StreamId(0x7fff_fffe),
        };
        let mut out = Vec::new();
        h.encode(&mut out);
        assert_eq!(out, [0x12, 0x34, 0x56, 0xfe, 0xa5, 0x7f, 0xff, 0xff, 0xfe]);
        assert_eq!(FrameHeader::parse(&out[..].try_into().unwrap()), h);
    }

    #[test]
    fn flag_names_skip_unused_flags() {
        assert_eq!(flags::names(FrameType::PING, 0xff), ["ACK"]);
        assert_eq!(
            flags::names(FrameType::HEADERS, 0x2d),
            ["END_STREAM", "END_HEADERS", "PADDED", "PRIORITY"]
        );
        assert!(flags::names(FrameType::GOAWAY, 0xff).is_empty());
    }

    #[test]
    fn unknown_type_has_no_stream_rule() {
        let h = FrameHeader::parse(&[0, 0, 0, 0xbb, 0, 0, 0, 0, 0]);
        assert_eq!(h.check_stream_id(), Ok(()));
        assert_eq!(format!("{}", h.kind), "UNKNOWN(0xbb)");
    }
}
