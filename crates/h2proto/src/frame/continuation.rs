//! CONTINUATION frames (RFC 9113 §6.10): the rest of a field block too large for one frame.
//!
//! That a CONTINUATION follows a HEADERS, PUSH_PROMISE or CONTINUATION without END_HEADERS on
//! the same stream is a rule about the sequence of frames, checked by the connection.

use super::{flags, head::write_header, FrameHeader, FrameType};
use crate::{ProtocolError, StreamId};
use bytes::Bytes;

/// A CONTINUATION frame (§6.10).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Continuation {
    pub stream_id: StreamId,
    pub block: Bytes,
    pub end_headers: bool,
}

impl Continuation {
    /// The flags as they go on the wire.
    pub fn flags(&self) -> u8 {
        u8::from(self.end_headers) * flags::END_HEADERS
    }

    /// Appends the whole frame to `dst`.
    pub fn encode(&self, dst: &mut Vec<u8>) {
        let len = self.block.len() as u32;
        write_header(
            len,
            FrameType::CONTINUATION,
            self.flags(),
            self.stream_id,
            dst,
        );
        dst.extend_from_slice(&self.block);
    }

    /// Parses the payload. Stream id 0 was already refused by the header check (§6.10).
    pub(crate) fn decode(
        head: &FrameHeader,
        payload: Bytes,
    ) -> Result<Continuation, ProtocolError> {
        Ok(Continuation {
            stream_id: head.stream_id,
            block: payload,
            end_headers: head.has(flags::END_HEADERS),
        })
    }
}

/// Writes `rest` of a field block as CONTINUATION frames of at most `max` octets each, the last
/// one carrying END_HEADERS if `end_headers` (§4.3: "a field block ... transmitted as a
/// contiguous sequence of frames").
pub(crate) fn encode_continuations(
    stream_id: StreamId,
    rest: &[u8],
    end_headers: bool,
    max: usize,
    dst: &mut Vec<u8>,
) {
    let mut chunks = rest.chunks(max.max(1)).peekable();
    while let Some(chunk) = chunks.next() {
        let last = chunks.peek().is_none();
        let f = if last && end_headers {
            flags::END_HEADERS
        } else {
            0
        };
        write_header(
            chunk.len() as u32,
            FrameType::CONTINUATION,
            f,
            stream_id,
            dst,
        );
        dst.extend_from_slice(chunk);
    }
}
