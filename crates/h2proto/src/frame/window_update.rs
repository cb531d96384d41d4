//! WINDOW_UPDATE frames (RFC 9113 §6.9): flow-control credit for a stream or the connection.

use super::{head::write_header, FrameHeader, FrameType};
use crate::{ErrorCode, ProtocolError, StreamId};
use bytes::Bytes;

/// A WINDOW_UPDATE frame (§6.9). Stream 0 means the connection window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WindowUpdate {
    pub stream_id: StreamId,
    /// 1..=2^31-1 octets of credit.
    pub increment: u32,
}

impl WindowUpdate {
    /// Appends the whole frame to `dst`.
    pub fn encode(&self, dst: &mut Vec<u8>) {
        encode_window_update(self.stream_id, self.increment, dst);
    }

    /// Parses the payload.
    pub(crate) fn decode(
        head: &FrameHeader,
        payload: Bytes,
    ) -> Result<WindowUpdate, ProtocolError> {
        // §6.9: "A WINDOW_UPDATE frame with a length other than 4 octets MUST be treated as a
        // connection error (Section 5.4.1) of type FRAME_SIZE_ERROR."
        let Ok(raw) = <[u8; 4]>::try_from(&payload[..]) else {
            return Err(ProtocolError::connection(
                ErrorCode::FRAME_SIZE_ERROR,
                "WINDOW_UPDATE length other than 4 (RFC 9113 §6.9)",
            ));
        };
        // The first bit is reserved and ignored on receipt (§6.9, §4.1).
        let increment = u32::from_be_bytes(raw) & 0x7fff_ffff;
        // §6.9: "A receiver MUST treat the receipt of a WINDOW_UPDATE frame with a flow-control
        // window increment of 0 as a stream error (Section 5.4.2) of type PROTOCOL_ERROR; errors
        // on the connection flow-control window MUST be treated as a connection error".
        if increment == 0 {
            return Err(if head.stream_id.is_zero() {
                ProtocolError::connection(
                    ErrorCode::PROTOCOL_ERROR,
                    "WINDOW_UPDATE increment 0 on the connection (RFC 9113 §6.9)",
                )
            } else {
                ProtocolError::stream(
                    head.stream_id,
                    ErrorCode::PROTOCOL_ERROR,
                    "WINDOW_UPDATE increment 0 on a stream (RFC 9113 §6.9)",
                )
            });
        }
        Ok(WindowUpdate {
            stream_id: head.stream_id,
            increment,
        })
    }
}

/// Writes a WINDOW_UPDATE frame without building a [`WindowUpdate`].
#[inline]
pub fn encode_window_update(stream_id: StreamId, increment: u32, dst: &mut Vec<u8>) {
    write_header(4, FrameType::WINDOW_UPDATE, 0, stream_id, dst);
    dst.extend_from_slice(&(increment & 0x7fff_ffff).to_be_bytes());
}
