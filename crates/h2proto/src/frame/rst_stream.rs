//! RST_STREAM frames (RFC 9113 §6.4): immediate termination of a stream.

use super::{head::write_header, FrameHeader, FrameType};
use crate::{ErrorCode, ProtocolError, StreamId};
use bytes::Bytes;

/// A RST_STREAM frame (§6.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RstStream {
    pub stream_id: StreamId,
    pub error_code: ErrorCode,
}

impl RstStream {
    /// Appends the whole frame to `dst`.
    pub fn encode(&self, dst: &mut Vec<u8>) {
        encode_rst_stream(self.stream_id, self.error_code, dst);
    }

    /// Parses the payload. Stream id 0 was already refused by the header check (§6.4).
    pub(crate) fn decode(head: &FrameHeader, payload: Bytes) -> Result<RstStream, ProtocolError> {
        // §6.4: "A RST_STREAM frame with a length other than 4 octets MUST be treated as a
        // connection error (Section 5.4.1) of type FRAME_SIZE_ERROR."
        let Ok(raw) = <[u8; 4]>::try_from(&payload[..]) else {
            return Err(ProtocolError::connection(
                ErrorCode::FRAME_SIZE_ERROR,
                "RST_STREAM length other than 4 (RFC 9113 §6.4)",
            ));
        };
        Ok(RstStream {
            stream_id: head.stream_id,
            error_code: ErrorCode(u32::from_be_bytes(raw)),
        })
    }
}

/// Writes a RST_STREAM frame without building a [`RstStream`].
#[inline]
pub fn encode_rst_stream(stream_id: StreamId, error_code: ErrorCode, dst: &mut Vec<u8>) {
    write_header(4, FrameType::RST_STREAM, 0, stream_id, dst);
    dst.extend_from_slice(&error_code.0.to_be_bytes());
}
