//! PING frames (RFC 9113 §6.7): round-trip measurement and liveness.

use super::{flags, head::write_header, FrameHeader, FrameType};
use crate::{ErrorCode, ProtocolError, StreamId};
use bytes::Bytes;

/// A PING frame (§6.7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ping {
    pub ack: bool,
    pub payload: [u8; 8],
}

impl Ping {
    /// The answer §6.7 requires: "a PING frame with the ACK flag set in response, with an
    /// identical frame payload".
    pub fn pong(&self) -> Ping {
        Ping {
            ack: true,
            payload: self.payload,
        }
    }

    /// Appends the whole frame to `dst`.
    pub fn encode(&self, dst: &mut Vec<u8>) {
        encode_ping(self.ack, self.payload, dst);
    }

    /// Parses the payload. A non-zero stream id was already refused by the header check (§6.7).
    pub(crate) fn decode(head: &FrameHeader, payload: Bytes) -> Result<Ping, ProtocolError> {
        // §6.7: "Receipt of a PING frame with a length field value other than 8 MUST be treated
        // as a connection error (Section 5.4.1) of type FRAME_SIZE_ERROR."
        let Ok(payload) = <[u8; 8]>::try_from(&payload[..]) else {
            return Err(ProtocolError::connection(
                ErrorCode::FRAME_SIZE_ERROR,
                "PING length other than 8 (RFC 9113 §6.7)",
            ));
        };
        Ok(Ping {
            ack: head.has(flags::ACK),
            payload,
        })
    }
}

/// Writes a PING frame without building a [`Ping`].
#[inline]
pub fn encode_ping(ack: bool, payload: [u8; 8], dst: &mut Vec<u8>) {
    let f = u8::from(ack) * flags::ACK;
    write_header(8, FrameType::PING, f, StreamId::CONNECTION, dst);
    dst.extend_from_slice(&payload);
}
