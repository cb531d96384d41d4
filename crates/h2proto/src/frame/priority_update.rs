//! PRIORITY_UPDATE frames (RFC 9218 §7.1): Extensible Priorities sent on the control stream.

use super::{head::write_header, FrameHeader, FrameType};
use crate::{ErrorCode, ProtocolError, StreamId};
use bytes::Bytes;

/// A PRIORITY_UPDATE frame (RFC 9218 §7.1). Always on stream 0 (checked with the header).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PriorityUpdate {
    /// "the stream that is the target of the priority update".
    pub prioritized_id: StreamId,
    /// The Priority Field Value as ASCII Structured Fields text, e.g. `u=1, i` (RFC 9218 §4).
    pub field_value: Bytes,
}

impl PriorityUpdate {
    /// Appends the whole frame to `dst`.
    pub fn encode(&self, dst: &mut Vec<u8>) {
        let len = 4 + self.field_value.len() as u32;
        write_header(
            len,
            FrameType::PRIORITY_UPDATE,
            0,
            StreamId::CONNECTION,
            dst,
        );
        dst.extend_from_slice(&(self.prioritized_id.0 & 0x7fff_ffff).to_be_bytes());
        dst.extend_from_slice(&self.field_value);
    }

    /// Parses the payload.
    pub(crate) fn decode(
        _head: &FrameHeader,
        payload: Bytes,
    ) -> Result<PriorityUpdate, ProtocolError> {
        // RFC 9113 §4.2: FRAME_SIZE_ERROR if a frame "is too small to contain mandatory frame
        // data" (the 4-octet Prioritized Stream ID); on stream 0, so a connection error.
        if payload.len() < 4 {
            return Err(ProtocolError::connection(
                ErrorCode::FRAME_SIZE_ERROR,
                "PRIORITY_UPDATE shorter than 4 octets (RFC 9218 §7.1)",
            ));
        }
        let id = StreamId::from_wire(u32::from_be_bytes([
            payload[0], payload[1], payload[2], payload[3],
        ]));
        // RFC 9218 §7.1: "If a PRIORITY_UPDATE frame is received with a prioritized stream ID
        // of 0x0, the recipient MUST respond with a connection error of type PROTOCOL_ERROR."
        if id.is_zero() {
            return Err(ProtocolError::connection(
                ErrorCode::PROTOCOL_ERROR,
                "PRIORITY_UPDATE for stream 0 (RFC 9218 §7.1)",
            ));
        }
        Ok(PriorityUpdate {
            prioritized_id: id,
            field_value: payload.slice(4..),
        })
    }
}
