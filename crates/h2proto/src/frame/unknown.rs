//! Frames of a type this crate does not know (RFC 9113 §4.1, §5.5).
//!
//! §4.1: "Implementations MUST ignore and discard frames of unknown types." They are still
//! handed to the caller, which may log them or implement an extension; the connection checks
//! only the one rule §5.5 places on them (not inside a field block).

use super::{head::write_header, FrameHeader};
use crate::ProtocolError;
use bytes::Bytes;

/// A frame of unknown type, kept whole.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unknown {
    /// The header as received (`length` equals `payload.len()`).
    pub header: FrameHeader,
    pub payload: Bytes,
}

impl Unknown {
    /// Appends the frame to `dst`; the length written is `payload.len()`.
    pub fn encode(&self, dst: &mut Vec<u8>) {
        let h = &self.header;
        write_header(self.payload.len() as u32, h.kind, h.flags, h.stream_id, dst);
        dst.extend_from_slice(&self.payload);
    }

    /// Keeps the frame as is: there is no rule to check.
    pub(crate) fn decode(head: &FrameHeader, payload: Bytes) -> Result<Unknown, ProtocolError> {
        Ok(Unknown {
            header: *head,
            payload,
        })
    }
}
