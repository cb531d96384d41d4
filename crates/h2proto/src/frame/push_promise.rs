//! PUSH_PROMISE frames (RFC 9113 §6.6): a server reserves a stream for a pushed response.

use super::{
    continuation::encode_continuations, flags, head::write_header, padding, FrameHeader, FrameType,
};
use crate::{ErrorCode, ProtocolError, StreamId};
use bytes::Bytes;

/// A PUSH_PROMISE frame (§6.6). `block` is a field block fragment (§4.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushPromise {
    /// The stream the promise is associated with.
    pub stream_id: StreamId,
    /// The stream being reserved.
    pub promised_id: StreamId,
    pub block: Bytes,
    pub end_headers: bool,
    /// The padding octets when the PADDED flag is set.
    pub pad: Option<Bytes>,
}

impl PushPromise {
    /// The flags as they go on the wire.
    pub fn flags(&self) -> u8 {
        padding::flag(self.pad.as_ref()) | (u8::from(self.end_headers) * flags::END_HEADERS)
    }

    /// Appends the frame to `dst` as one PUSH_PROMISE frame.
    pub fn encode(&self, dst: &mut Vec<u8>) {
        let pad = self.pad.as_ref();
        let len = padding::padded_len(4 + self.block.len(), pad);
        write_header(
            len,
            FrameType::PUSH_PROMISE,
            self.flags(),
            self.stream_id,
            dst,
        );
        padding::write_pad_len(pad, dst);
        dst.extend_from_slice(&(self.promised_id.0 & 0x7fff_ffff).to_be_bytes());
        dst.extend_from_slice(&self.block);
        padding::write_pad(pad, dst);
    }

    /// Appends the frame, splitting the block into PUSH_PROMISE plus CONTINUATION frames so no
    /// payload exceeds `max_frame_size` (§4.2, §6.10).
    pub fn encode_split(&self, max_frame_size: u32, dst: &mut Vec<u8>) {
        let max = max_frame_size as usize;
        let overhead = padding::padded_len(4, self.pad.as_ref()) as usize;
        let room = max.saturating_sub(overhead).max(1);
        if self.block.len() <= room {
            return self.encode(dst);
        }
        let first = PushPromise {
            block: self.block.slice(..room),
            end_headers: false,
            ..self.clone()
        };
        first.encode(dst);
        encode_continuations(
            self.stream_id,
            &self.block[room..],
            self.end_headers,
            max,
            dst,
        );
    }

    /// Parses the payload. Stream id 0 was already refused by the header check (§6.6).
    pub(crate) fn decode(head: &FrameHeader, payload: Bytes) -> Result<PushPromise, ProtocolError> {
        let (mut body, pad) = padding::strip(head, payload, 4)?;
        let id = body.split_to(4);
        let raw = u32::from_be_bytes([id[0], id[1], id[2], id[3]]);
        // The bit before Promised Stream ID is reserved: ignored on receipt (§4.1).
        let promised_id = StreamId::from_wire(raw);
        // §6.6: "A receiver MUST treat the receipt of a PUSH_PROMISE that promises an illegal
        // stream identifier (Section 5.1.1) as a connection error (Section 5.4.1) of type
        // PROTOCOL_ERROR." Only a server pushes, and §5.1.1 says "those initiated by the server
        // MUST use even-numbered stream identifiers" (0 is the connection, never a stream).
        // Whether the id is also idle and new is for the connection to check.
        if !promised_id.is_server_initiated() {
            return Err(ProtocolError::connection(
                ErrorCode::PROTOCOL_ERROR,
                "PUSH_PROMISE promises an odd or zero stream id (RFC 9113 §6.6, §5.1.1)",
            ));
        }
        Ok(PushPromise {
            stream_id: head.stream_id,
            promised_id,
            block: body,
            end_headers: head.has(flags::END_HEADERS),
            pad,
        })
    }
}
