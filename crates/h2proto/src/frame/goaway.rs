//! GOAWAY frames (RFC 9113 §6.8): connection shutdown and connection errors.

use super::{head::write_header, FrameHeader, FrameType};
use crate::{ErrorCode, ProtocolError, StreamId};
use bytes::Bytes;

/// A GOAWAY frame (§6.8).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GoAway {
    /// "the highest-numbered stream identifier for which the sender ... might have taken some
    /// action on or might yet take action on" (§6.8).
    pub last_stream_id: StreamId,
    pub error_code: ErrorCode,
    /// Diagnostic octets with no semantics (§6.8); may be empty.
    pub debug_data: Bytes,
}

impl GoAway {
    /// Appends the whole frame to `dst`.
    pub fn encode(&self, dst: &mut Vec<u8>) {
        let len = 8 + self.debug_data.len() as u32;
        write_header(len, FrameType::GOAWAY, 0, StreamId::CONNECTION, dst);
        dst.extend_from_slice(&(self.last_stream_id.0 & 0x7fff_ffff).to_be_bytes());
        dst.extend_from_slice(&self.error_code.0.to_be_bytes());
        dst.extend_from_slice(&self.debug_data);
    }

    /// Parses the payload. A non-zero stream id was already refused by the header check (§6.8).
    pub(crate) fn decode(_head: &FrameHeader, payload: Bytes) -> Result<GoAway, ProtocolError> {
        // §4.2: FRAME_SIZE_ERROR if a frame "is too small to contain mandatory frame data";
        // Last-Stream-ID and Error Code take 8 octets. On stream 0, so a connection error.
        if payload.len() < 8 {
            return Err(ProtocolError::connection(
                ErrorCode::FRAME_SIZE_ERROR,
                "GOAWAY shorter than 8 octets (RFC 9113 §4.2, §6.8)",
            ));
        }
        let last = u32::from_be_bytes([payload[0], payload[1], payload[2], payload[3]]);
        let code = u32::from_be_bytes([payload[4], payload[5], payload[6], payload[7]]);
        Ok(GoAway {
            // The bit before Last-Stream-ID is reserved: ignored on receipt (§4.1, §6.8).
            last_stream_id: StreamId::from_wire(last),
            error_code: ErrorCode(code),
            debug_data: payload.slice(8..),
        })
    }
}
