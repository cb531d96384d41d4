//! The HTTP/2 frame layer: the wire codec of RFC 9113 §4 and §6, plus PRIORITY_UPDATE (RFC 9218
//! §7.1).
//!
//! One module per frame type, each with `encode(&self, dst)` and a crate-private
//! `decode(head, payload)`. [`FrameDecoder`] cuts frames out of a byte buffer and applies every
//! rule that one frame alone can break (its length, its stream id, its flags, its fields), with
//! the code and scope RFC 9113 §5.4 gives each rule. Rules about sequences of frames and stream
//! states belong to the connection.
//!
//! Decoded payloads share the input buffer (`Bytes`), so DATA is never copied.

mod continuation;
mod data;
mod decoder;
mod goaway;
mod head;
mod headers;
mod padding;
mod ping;
mod priority;
mod priority_update;
mod push_promise;
mod rst_stream;
mod settings;
mod unknown;
mod window_update;

pub use continuation::Continuation;
pub use data::{encode_data_header, Data};
pub use decoder::FrameDecoder;
pub use goaway::GoAway;
pub use head::{flags, FrameHeader, FrameType, HEADER_LEN};
pub use headers::Headers;
pub use ping::{encode_ping, Ping};
pub use priority::{Priority, PriorityFields};
pub use priority_update::PriorityUpdate;
pub use push_promise::PushPromise;
pub use rst_stream::{encode_rst_stream, RstStream};
pub use settings::{encode_settings_ack, validate_setting, SettingId, Settings};
pub use unknown::Unknown;
pub use window_update::{encode_window_update, WindowUpdate};

use crate::{ProtocolError, StreamId};
use bytes::Bytes;

/// The client connection preface (§3.4), sent before the client's first SETTINGS frame.
pub const PREFACE: &[u8; 24] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// The initial SETTINGS_MAX_FRAME_SIZE, and the smallest allowed value (§4.2, §6.5.2).
pub const DEFAULT_MAX_FRAME_SIZE: u32 = 16_384;
/// The largest SETTINGS_MAX_FRAME_SIZE allowed: 2^24-1 (§4.2, §6.5.2).
pub const MAX_MAX_FRAME_SIZE: u32 = 16_777_215;

/// Any HTTP/2 frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    Data(Data),
    Headers(Headers),
    Priority(Priority),
    RstStream(RstStream),
    Settings(Settings),
    PushPromise(PushPromise),
    Ping(Ping),
    GoAway(GoAway),
    WindowUpdate(WindowUpdate),
    Continuation(Continuation),
    PriorityUpdate(PriorityUpdate),
    Unknown(Unknown),
}

impl Frame {
    /// The frame type code.
    pub fn kind(&self) -> FrameType {
        match self {
            Frame::Data(_) => FrameType::DATA,
            Frame::Headers(_) => FrameType::HEADERS,
            Frame::Priority(_) => FrameType::PRIORITY,
            Frame::RstStream(_) => FrameType::RST_STREAM,
            Frame::Settings(_) => FrameType::SETTINGS,
            Frame::PushPromise(_) => FrameType::PUSH_PROMISE,
            Frame::Ping(_) => FrameType::PING,
            Frame::GoAway(_) => FrameType::GOAWAY,
            Frame::WindowUpdate(_) => FrameType::WINDOW_UPDATE,
            Frame::Continuation(_) => FrameType::CONTINUATION,
            Frame::PriorityUpdate(_) => FrameType::PRIORITY_UPDATE,
            Frame::Unknown(u) => u.header.kind,
        }
    }

    /// The stream id of the frame header (0 for connection-wide frames).
    pub fn stream_id(&self) -> StreamId {
        match self {
            Frame::Data(f) => f.stream_id,
            Frame::Headers(f) => f.stream_id,
            Frame::Priority(f) => f.stream_id,
            Frame::RstStream(f) => f.stream_id,
            Frame::PushPromise(f) => f.stream_id,
            Frame::WindowUpdate(f) => f.stream_id,
            Frame::Continuation(f) => f.stream_id,
            Frame::Unknown(f) => f.header.stream_id,
            Frame::Settings(_) | Frame::Ping(_) | Frame::GoAway(_) | Frame::PriorityUpdate(_) => {
                StreamId::CONNECTION
            }
        }
    }

    /// The flags as they go on the wire (for a decoded frame: the defined flags received).
    pub fn flags(&self) -> u8 {
        match self {
            Frame::Data(f) => f.flags(),
            Frame::Headers(f) => f.flags(),
            Frame::PushPromise(f) => f.flags(),
            Frame::Continuation(f) => f.flags(),
            Frame::Settings(f) => u8::from(f.ack) * flags::ACK,
            Frame::Ping(f) => u8::from(f.ack) * flags::ACK,
            Frame::Unknown(f) => f.header.flags,
            Frame::Priority(_)
            | Frame::RstStream(_)
            | Frame::GoAway(_)
            | Frame::WindowUpdate(_)
            | Frame::PriorityUpdate(_) => 0,
        }
    }

    /// Appends the whole frame (header and payload) to `dst`.
    pub fn encode(&self, dst: &mut Vec<u8>) {
        match self {
            Frame::Data(f) => f.encode(dst),
            Frame::Headers(f) => f.encode(dst),
            Frame::Priority(f) => f.encode(dst),
            Frame::RstStream(f) => f.encode(dst),
            Frame::Settings(f) => f.encode(dst),
            Frame::PushPromise(f) => f.encode(dst),
            Frame::Ping(f) => f.encode(dst),
            Frame::GoAway(f) => f.encode(dst),
            Frame::WindowUpdate(f) => f.encode(dst),
            Frame::Continuation(f) => f.encode(dst),
            Frame::PriorityUpdate(f) => f.encode(dst),
            Frame::Unknown(f) => f.encode(dst),
        }
    }

    /// Parses one frame from its header and payload (`payload.len() == head.length`).
    ///
    /// The stream-id rule of every type is checked here, before the payload is looked at; the
    /// maximum frame size is the decoder's business. Padding contents are not verified.
    pub fn decode(head: &FrameHeader, payload: Bytes) -> Result<Frame, ProtocolError> {
        head.check_stream_id()?;
        Ok(match head.kind {
            FrameType::DATA => Frame::Data(Data::decode(head, payload)?),
            FrameType::HEADERS => Frame::Headers(Headers::decode(head, payload)?),
            FrameType::PRIORITY => Frame::Priority(Priority::decode(head, payload)?),
            FrameType::RST_STREAM => Frame::RstStream(RstStream::decode(head, payload)?),
            FrameType::SETTINGS => Frame::Settings(Settings::decode(head, payload)?),
            FrameType::PUSH_PROMISE => Frame::PushPromise(PushPromise::decode(head, payload)?),
            FrameType::PING => Frame::Ping(Ping::decode(head, payload)?),
            FrameType::GOAWAY => Frame::GoAway(GoAway::decode(head, payload)?),
            FrameType::WINDOW_UPDATE => Frame::WindowUpdate(WindowUpdate::decode(head, payload)?),
            FrameType::CONTINUATION => Frame::Continuation(Continuation::decode(head, payload)?),
            FrameType::PRIORITY_UPDATE => {
                Frame::PriorityUpdate(PriorityUpdate::decode(head, payload)?)
            }
            // §4.1: "Implementations MUST ignore and discard frames of unknown types."
            _ => Frame::Unknown(Unknown::decode(head, payload)?),
        })
    }
}

macro_rules! impl_from {
    ($($t:ident),*) => {$(
        impl From<$t> for Frame {
            fn from(f: $t) -> Frame {
                Frame::$t(f)
            }
        }
    )*};
}
impl_from!(
    Data,
    Headers,
    Priority,
    RstStream,
    Settings,
    PushPromise,
    Ping,
    GoAway,
    WindowUpdate,
    Continuation,
    PriorityUpdate,
    Unknown
);
