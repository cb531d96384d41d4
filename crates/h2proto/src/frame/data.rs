//! DATA frames (RFC 9113 §6.1): stream content, flow-controlled, optionally padded.

use super::{head::write_header, padding, FrameHeader, FrameType};
use crate::{ProtocolError, StreamId};
use bytes::Bytes;

/// A DATA frame (§6.1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Data {
    pub stream_id: StreamId,
    pub data: Bytes,
    pub end_stream: bool,
    /// The padding octets when the PADDED flag is set (possibly empty: Pad Length 0).
    pub pad: Option<Bytes>,
}

impl Data {
    /// A DATA frame without padding.
    pub fn new(stream_id: StreamId, data: impl Into<Bytes>, end_stream: bool) -> Data {
        Data {
            stream_id,
            data: data.into(),
            end_stream,
            pad: None,
        }
    }

    /// The octets this frame counts against flow-control windows.
    ///
    /// §6.1: "The entire DATA frame payload is included in flow control, including the Pad
    /// Length and Padding fields if present."
    pub fn flow_len(&self) -> u32 {
        padding::padded_len(self.data.len(), self.pad.as_ref())
    }

    /// The flags as they go on the wire.
    pub fn flags(&self) -> u8 {
        padding::flag(self.pad.as_ref()) | (u8::from(self.end_stream) * super::flags::END_STREAM)
    }

    /// Appends the whole frame to `dst`.
    pub fn encode(&self, dst: &mut Vec<u8>) {
        let pad = self.pad.as_ref();
        write_header(
            self.flow_len(),
            FrameType::DATA,
            self.flags(),
            self.stream_id,
            dst,
        );
        padding::write_pad_len(pad, dst);
        dst.extend_from_slice(&self.data);
        padding::write_pad(pad, dst);
    }

    /// Parses the payload. Stream id 0 was already refused by the header check (§6.1).
    pub(crate) fn decode(head: &FrameHeader, payload: Bytes) -> Result<Data, ProtocolError> {
        let (data, pad) = padding::strip(head, payload, 0)?;
        Ok(Data {
            stream_id: head.stream_id,
            data,
            end_stream: head.has(super::flags::END_STREAM),
            pad,
        })
    }
}

/// Writes only the 9-octet header of an unpadded DATA frame carrying `len` octets, so the
/// caller can append the payload straight from its own buffer without building a [`Data`].
#[inline]
pub fn encode_data_header(stream_id: StreamId, len: u32, end_stream: bool, dst: &mut Vec<u8>) {
    let flags = u8::from(end_stream) * super::flags::END_STREAM;
    write_header(len, FrameType::DATA, flags, stream_id, dst);
}
