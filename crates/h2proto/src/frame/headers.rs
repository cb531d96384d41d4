//! HEADERS frames (RFC 9113 §6.2): open a stream and carry a field block fragment.

use super::{
    continuation::encode_continuations, flags, head::write_header, padding, FrameHeader, FrameType,
    PriorityFields,
};
use crate::{ProtocolError, StreamId};
use bytes::Bytes;

/// A HEADERS frame (§6.2). `block` is a field block fragment (§4.3), still HPACK-encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Headers {
    pub stream_id: StreamId,
    pub block: Bytes,
    pub end_stream: bool,
    pub end_headers: bool,
    /// Present when the PRIORITY flag is set (deprecated signal, §5.3.2).
    pub priority: Option<PriorityFields>,
    /// The padding octets when the PADDED flag is set.
    pub pad: Option<Bytes>,
}

impl Headers {
    /// A HEADERS frame carrying a whole field block, without priority or padding.
    pub fn new(stream_id: StreamId, block: impl Into<Bytes>, end_stream: bool) -> Headers {
        Headers {
            stream_id,
            block: block.into(),
            end_stream,
            end_headers: true,
            priority: None,
            pad: None,
        }
    }

    /// True if the priority fields make the stream depend on itself.
    ///
    /// RFC 7540 §5.3.1 makes that a stream error of type PROTOCOL_ERROR. The decoder does not
    /// reject it because the field block must still be decoded to keep the HPACK context in sync
    /// (§4.3); the connection checks this after decoding the block.
    pub fn is_self_dependent(&self) -> bool {
        self.priority
            .is_some_and(|p| p.dependency == self.stream_id)
    }

    /// The flags as they go on the wire.
    pub fn flags(&self) -> u8 {
        let mut f = padding::flag(self.pad.as_ref());
        if self.end_stream {
            f |= flags::END_STREAM;
        }
        if self.end_headers {
            f |= flags::END_HEADERS;
        }
        if self.priority.is_some() {
            f |= flags::PRIORITY;
        }
        f
    }

    /// Appends the frame to `dst` as one HEADERS frame, whatever the block length.
    pub fn encode(&self, dst: &mut Vec<u8>) {
        let pad = self.pad.as_ref();
        let prio = if self.priority.is_some() {
            PriorityFields::LEN
        } else {
            0
        };
        let len = padding::padded_len(prio + self.block.len(), pad);
        write_header(len, FrameType::HEADERS, self.flags(), self.stream_id, dst);
        padding::write_pad_len(pad, dst);
        if let Some(p) = &self.priority {
            p.encode(dst);
        }
        dst.extend_from_slice(&self.block);
        padding::write_pad(pad, dst);
    }

    /// Appends the frame, splitting the block into HEADERS plus CONTINUATION frames so that no
    /// payload exceeds `max_frame_size` (the peer's SETTINGS_MAX_FRAME_SIZE, §4.2, §6.10).
    pub fn encode_split(&self, max_frame_size: u32, dst: &mut Vec<u8>) {
        let max = max_frame_size as usize;
        let prio = if self.priority.is_some() {
            PriorityFields::LEN
        } else {
            0
        };
        let overhead = padding::padded_len(prio, self.pad.as_ref()) as usize;
        let room = max.saturating_sub(overhead).max(1);
        if self.block.len() <= room {
            return self.encode(dst);
        }
        let first = Headers {
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

    /// Parses the payload. Stream id 0 was already refused by the header check (§6.2).
    pub(crate) fn decode(head: &FrameHeader, payload: Bytes) -> Result<Headers, ProtocolError> {
        let has_prio = head.has(flags::PRIORITY);
        let fixed = if has_prio { PriorityFields::LEN } else { 0 };
        let (mut body, pad) = padding::strip(head, payload, fixed)?;
        let priority = if has_prio {
            let fields = body.split_to(PriorityFields::LEN);
            let raw: &[u8; 5] = (&fields[..]).try_into().map_err(|_| too_short())?;
            Some(PriorityFields::parse(raw))
        } else {
            None
        };
        Ok(Headers {
            stream_id: head.stream_id,
            block: body,
            end_stream: head.has(flags::END_STREAM),
            end_headers: head.has(flags::END_HEADERS),
            priority,
            pad,
        })
    }
}

/// Unreachable in practice (`padding::strip` checked the length); kept so no path can panic.
fn too_short() -> ProtocolError {
    ProtocolError::connection(
        crate::ErrorCode::FRAME_SIZE_ERROR,
        "HEADERS too short for its priority fields (RFC 9113 §4.2)",
    )
}
