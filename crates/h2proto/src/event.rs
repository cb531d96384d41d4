//! What a [`Connection`](crate::Connection) reports to its user: events, API errors and the
//! connection error.
//!
//! Events are past tense and carry what the caller needs (STYLE.md practice 8). The mapping to
//! the seed library's events: `:stream` = [`Event::RequestReceived`], `:promise` =
//! [`Event::PushPromiseReceived`] (stream `:reserved`), `:active` = the request or response
//! headers event, `:headers` / `:data` = the headers and [`Event::DataReceived`] events,
//! `:half_close` = `end_stream: true` on those, `:close` = [`Event::StreamClosed`] or
//! [`Event::StreamReset`], `:priority` = [`Event::PriorityChanged`], `:frame` = the bytes of
//! `poll_transmit`.

use crate::connection::Priority;
use crate::frame::{Frame, SettingId};
use crate::hpack::Header;
use crate::{ErrorCode, StreamId};
use bytes::Bytes;
use std::fmt;
use std::time::Duration;

/// Something that happened on the connection.
#[derive(Clone, Debug)]
pub enum Event {
    /// Server role: the peer opened a stream with a well-formed request (§8.3.1).
    RequestReceived {
        stream_id: StreamId,
        headers: Vec<Header>,
        end_stream: bool,
    },
    /// Client role: the final (non-1xx) response arrived.
    ResponseReceived {
        stream_id: StreamId,
        headers: Vec<Header>,
        end_stream: bool,
    },
    /// A 1xx informational response (§8.1).
    InformationalReceived {
        stream_id: StreamId,
        headers: Vec<Header>,
    },
    /// Trailers: the last header block of a message; the stream's receive side ended.
    TrailersReceived {
        stream_id: StreamId,
        headers: Vec<Header>,
    },
    /// A DATA frame's content. `flow_len` is what the frame cost in flow control (padding
    /// included, §6.9.1): pass it to `release_capacity` once the data has been consumed.
    DataReceived {
        stream_id: StreamId,
        data: Bytes,
        flow_len: u32,
        end_stream: bool,
    },
    /// Client role: the server promised a response to `headers` on `stream_id` (§8.4), in the
    /// context of the request on `associated`. Refuse it with `reset_stream(id, CANCEL)`.
    PushPromiseReceived {
        stream_id: StreamId,
        associated: StreamId,
        headers: Vec<Header>,
    },
    /// `send_capacity` of the stream went from zero to positive: more data may be queued.
    StreamWritable { stream_id: StreamId },
    /// Both sides ended the stream normally.
    StreamClosed { stream_id: StreamId },
    /// The stream was reset, by the peer (`remote`) or by us. REFUSED_STREAM means the peer did
    /// not process the request, so it is safe to retry (§8.7), including streams above the
    /// last-stream-id of a GOAWAY.
    StreamReset {
        stream_id: StreamId,
        code: ErrorCode,
        remote: bool,
    },
    /// The stream's RFC 9218 priority changed (header field or PRIORITY_UPDATE).
    PriorityChanged {
        stream_id: StreamId,
        priority: Priority,
    },
    /// The peer's SETTINGS were applied (they are acknowledged automatically).
    SettingsReceived { params: Vec<(SettingId, u32)> },
    /// The peer acknowledged our SETTINGS: they are in force now.
    SettingsAcknowledged,
    /// A PING we sent was answered.
    PingAnswered { payload: [u8; 8], rtt: Duration },
    /// The peer is shutting the connection down (§6.8).
    GoAwayReceived {
        last_stream_id: StreamId,
        code: ErrorCode,
        debug_data: Bytes,
    },
    /// A frame sent or received, when `Config::trace_frames` is on. `headers` holds the decoded
    /// header list of a HEADERS/PUSH_PROMISE block (on its last frame).
    ///
    /// The frame is boxed: held inline it would make every `Event` 120 bytes instead of 56, and a
    /// connection queues an event per request of a burst whether it traces or not.
    Frame {
        sent: bool,
        frame: Box<Frame>,
        headers: Option<Vec<Header>>,
    },
}

/// The connection failed: it sent or received GOAWAY with an error, or a timer ran out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConnectionError {
    pub code: ErrorCode,
    /// What happened, for logs (no peer data except a received GOAWAY's debug text).
    pub reason: String,
    /// True when the peer ended the connection (its GOAWAY), false when we did.
    pub remote: bool,
}

impl fmt::Display for ConnectionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = if self.remote { "peer" } else { "local" };
        write!(f, "{who} connection error {}: {}", self.code, self.reason)
    }
}

impl std::error::Error for ConnectionError {}

/// A call on the connection could not be carried out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Error {
    /// The connection has failed; every call now returns this.
    Closed(ConnectionError),
    /// No such stream (never opened, or closed and forgotten).
    UnknownStream(StreamId),
    /// The stream can no longer send (its send side ended or it was reset).
    StreamClosed(StreamId),
    /// The header list would be malformed (RFC 9113 §8); the text names the rule.
    InvalidHeaders(&'static str),
    /// The peer disabled server push (SETTINGS_ENABLE_PUSH = 0).
    PushDisabled,
    /// Stream ids are used up (§5.1.1): open a new connection.
    StreamIdsExhausted,
    /// The peer's SETTINGS_MAX_CONCURRENT_STREAMS is reached: wait for a stream to close.
    ConcurrencyLimit,
    /// The data is larger than `send_capacity`: nothing was queued.
    SendBufferFull,
    /// The call does not fit the role or the stream's state.
    NotPermitted(&'static str),
    /// A GOAWAY was sent or received: no new streams.
    GoingAway,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Closed(e) => write!(f, "{e}"),
            Error::UnknownStream(id) => write!(f, "unknown stream {id}"),
            Error::StreamClosed(id) => write!(f, "stream {id} is closed for sending"),
            Error::InvalidHeaders(r) => write!(f, "invalid headers: {r}"),
            Error::PushDisabled => f.write_str("the peer disabled server push"),
            Error::StreamIdsExhausted => f.write_str("stream ids exhausted: open a new connection"),
            Error::ConcurrencyLimit => f.write_str("peer's concurrent stream limit reached"),
            Error::SendBufferFull => f.write_str("send buffer full"),
            Error::NotPermitted(r) => write!(f, "not permitted: {r}"),
            Error::GoingAway => f.write_str("connection is going away"),
        }
    }
}

impl std::error::Error for Error {}
