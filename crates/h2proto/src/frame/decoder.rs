//! Cutting frames out of a byte stream (RFC 9113 §4.1, §4.2).

use super::{padding, Frame, FrameHeader, DEFAULT_MAX_FRAME_SIZE, HEADER_LEN, MAX_MAX_FRAME_SIZE};
use crate::{ErrorCode, ProtocolError};
use bytes::{Buf, Bytes, BytesMut};

/// An incremental frame decoder.
///
/// Feed it whatever bytes have arrived, in any slicing, and call [`FrameDecoder::decode`] until
/// it returns `Ok(None)`. It holds no buffer of its own: the caller's `BytesMut` is the buffer,
/// and each payload is split off it without copying.
#[derive(Clone, Debug)]
pub struct FrameDecoder {
    max_frame_size: u32,
    strict_padding: bool,
}

impl Default for FrameDecoder {
    fn default() -> Self {
        FrameDecoder::new()
    }
}

impl FrameDecoder {
    /// A decoder accepting payloads up to 16,384 octets (the initial SETTINGS_MAX_FRAME_SIZE,
    /// §6.5.2) that does not verify padding.
    pub fn new() -> Self {
        FrameDecoder {
            max_frame_size: DEFAULT_MAX_FRAME_SIZE,
            strict_padding: false,
        }
    }

    /// Sets the largest payload accepted: the SETTINGS_MAX_FRAME_SIZE *we* advertised, once the
    /// peer has acknowledged it (§6.5.3). Clamped to the range §4.2 allows.
    pub fn set_max_frame_size(&mut self, n: u32) {
        self.max_frame_size = n.clamp(DEFAULT_MAX_FRAME_SIZE, MAX_MAX_FRAME_SIZE);
    }

    /// The largest payload currently accepted.
    pub fn max_frame_size(&self) -> u32 {
        self.max_frame_size
    }

    /// With `on`, non-zero padding is a connection error of type PROTOCOL_ERROR: §6.1 "A
    /// receiver is not obligated to verify padding but MAY treat non-zero padding as a
    /// connection error". Off by default.
    pub fn set_strict_padding(&mut self, on: bool) {
        self.strict_padding = on;
    }

    /// Decodes the next frame from the front of `src`.
    ///
    /// `Ok(None)`: `src` does not yet hold a whole frame; nothing was consumed. `Ok(Some)`: the
    /// frame's bytes were consumed. `Err` with [`Scope::Stream`](crate::Scope::Stream): the
    /// frame was consumed and decoding may go on. `Err` with `Scope::Connection`: final.
    pub fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, ProtocolError> {
        let Some((head, payload)) = self.decode_raw(src)? else {
            return Ok(None);
        };
        self.decode_frame(&head, payload).map(Some)
    }

    /// Splits the next whole frame off `src` without interpreting its payload, for callers that
    /// want to see every [`FrameHeader`] (tools, tracing); follow with
    /// [`FrameDecoder::decode_frame`].
    ///
    /// The only rule checked is the frame size, as soon as the 9-octet header is in: a payload
    /// is never buffered for a frame that will be refused.
    pub fn decode_raw(
        &mut self,
        src: &mut BytesMut,
    ) -> Result<Option<(FrameHeader, Bytes)>, ProtocolError> {
        let Some(head) = peek_header(src) else {
            return Ok(None);
        };
        // §4.2: "An endpoint MUST send an error code of FRAME_SIZE_ERROR if a frame exceeds the
        // size defined in SETTINGS_MAX_FRAME_SIZE". A connection error whatever the type: the
        // payload is not read, so we could not stay in step with the stream of frames anyway.
        if head.length > self.max_frame_size {
            return Err(ProtocolError::connection(
                ErrorCode::FRAME_SIZE_ERROR,
                "frame larger than SETTINGS_MAX_FRAME_SIZE (RFC 9113 §4.2)",
            ));
        }
        let total = HEADER_LEN + head.length as usize;
        if src.len() < total {
            return Ok(None);
        }
        src.advance(HEADER_LEN);
        let payload = src.split_to(head.length as usize).freeze();
        Ok(Some((head, payload)))
    }

    /// Applies every single-frame rule to a frame split off by [`FrameDecoder::decode_raw`].
    pub fn decode_frame(&self, head: &FrameHeader, payload: Bytes) -> Result<Frame, ProtocolError> {
        let frame = Frame::decode(head, payload)?;
        if self.strict_padding {
            let pad = match &frame {
                Frame::Data(f) => f.pad.as_ref(),
                Frame::Headers(f) => f.pad.as_ref(),
                Frame::PushPromise(f) => f.pad.as_ref(),
                _ => None,
            };
            padding::check_zero(head.kind, pad)?;
        }
        Ok(frame)
    }
}

/// Parses the frame header at the front of `src`, if all 9 octets are there.
pub(crate) fn peek_header(src: &[u8]) -> Option<FrameHeader> {
    let raw: &[u8; HEADER_LEN] = src.get(..HEADER_LEN)?.try_into().ok()?;
    Some(FrameHeader::parse(raw))
}
