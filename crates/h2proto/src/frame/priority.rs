//! PRIORITY frames and the RFC 7540 priority fields (RFC 9113 §6.3, §5.3.2).
//!
//! The RFC 7540 priority scheme is deprecated, but §5.3.2 keeps "the description of frame fields
//! and some of the mandatory handling ... to ensure that implementations of this document remain
//! interoperable", so the frame is still parsed and validated.

use super::{head::write_header, FrameHeader, FrameType};
use crate::{ErrorCode, ProtocolError, StreamId};
use bytes::Bytes;

/// Exclusive flag, Stream Dependency and Weight (§6.3), as carried by PRIORITY and by HEADERS
/// with the PRIORITY flag.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PriorityFields {
    pub exclusive: bool,
    pub dependency: StreamId,
    /// The wire octet; the RFC 7540 effective weight is this plus one (1..=256).
    pub weight: u8,
}

impl PriorityFields {
    /// Length of the fields on the wire.
    pub const LEN: usize = 5;

    /// Parses 5 octets. The caller has checked the length.
    pub(crate) fn parse(src: &[u8; 5]) -> PriorityFields {
        let dep = u32::from_be_bytes([src[0], src[1], src[2], src[3]]);
        PriorityFields {
            exclusive: dep & 0x8000_0000 != 0,
            dependency: StreamId::from_wire(dep),
            weight: src[4],
        }
    }

    /// Appends the 5 octets.
    pub fn encode(&self, dst: &mut Vec<u8>) {
        let dep = (self.dependency.0 & 0x7fff_ffff) | (u32::from(self.exclusive) << 31);
        dst.extend_from_slice(&dep.to_be_bytes());
        dst.push(self.weight);
    }
}

/// A PRIORITY frame (§6.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Priority {
    pub stream_id: StreamId,
    pub fields: PriorityFields,
}

impl Priority {
    /// Appends the whole frame to `dst`.
    pub fn encode(&self, dst: &mut Vec<u8>) {
        write_header(5, FrameType::PRIORITY, 0, self.stream_id, dst);
        self.fields.encode(dst);
    }

    /// Parses the payload. Stream id 0 was already refused by the header check (§6.3).
    pub(crate) fn decode(head: &FrameHeader, payload: Bytes) -> Result<Priority, ProtocolError> {
        // §6.3: "A PRIORITY frame with a length other than 5 octets MUST be treated as a stream
        // error (Section 5.4.2) of type FRAME_SIZE_ERROR."
        let Ok(raw) = <&[u8; 5]>::try_from(&payload[..]) else {
            return Err(ProtocolError::stream(
                head.stream_id,
                ErrorCode::FRAME_SIZE_ERROR,
                "PRIORITY length other than 5 (RFC 9113 §6.3)",
            ));
        };
        let fields = PriorityFields::parse(raw);
        // RFC 7540 §5.3.1, kept by RFC 9113 §5.3.2: "A stream cannot depend on itself. An
        // endpoint MUST treat this as a stream error (Section 5.4.2) of type PROTOCOL_ERROR."
        if fields.dependency == head.stream_id {
            return Err(ProtocolError::stream(
                head.stream_id,
                ErrorCode::PROTOCOL_ERROR,
                "PRIORITY stream depends on itself (RFC 7540 §5.3.1)",
            ));
        }
        Ok(Priority {
            stream_id: head.stream_id,
            fields,
        })
    }
}
