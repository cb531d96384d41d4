//! The error type of the driver, the client and the server.

use h2proto::{ConnectionError, ErrorCode};
use std::fmt;

/// A boxed error, as carried by `http_body` bodies.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Why a request, a body or a connection failed.
#[derive(Debug)]
pub enum Error {
    /// The transport failed (connect, read or write).
    Io(std::io::Error),
    /// The TLS handshake failed or did not negotiate `h2`.
    Tls(String),
    /// The connection ended with an HTTP/2 connection error (ours or the peer's GOAWAY).
    Connection(ConnectionError),
    /// The peer sent GOAWAY and this stream was not processed (id above last-stream-id, §6.8):
    /// it is safe to retry on a new connection.
    GoAway { code: ErrorCode, debug: String },
    /// The stream was reset with this code; `remote` if the peer sent the RST_STREAM.
    Reset { code: ErrorCode, remote: bool },
    /// The connection is closed or closing; no new stream can start on it.
    ConnectionClosed,
    /// A protocol API call was refused by the core.
    Protocol(h2proto::Error),
    /// The peer sent a message that does not form valid HTTP semantics (§8.1.1).
    Malformed(&'static str),
    /// A timeout expired (connect, request or idle).
    Timeout(&'static str),
    /// A request or response body failed while we were sending it.
    Body(BoxError),
    /// A bad URI or unsupported scheme.
    InvalidUri(String),
}

impl Error {
    /// True when the request was certainly not processed by the peer and may be sent again on a
    /// new connection (RFC 9113 §8.7: REFUSED_STREAM, or a stream above GOAWAY's last id).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::GoAway { .. } | Error::ConnectionClosed => true,
            Error::Reset { code, .. } => *code == ErrorCode::REFUSED_STREAM,
            Error::Protocol(h2proto::Error::GoingAway) => true,
            _ => false,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(e) => write!(f, "{e}"),
            Error::Tls(e) => write!(f, "TLS failure: {e}"),
            Error::Connection(e) => {
                let who = if e.remote { "peer" } else { "we" };
                write!(f, "connection error {} ({who}): {}", e.code, e.reason)
            }
            Error::GoAway { code, debug } if debug.is_empty() => {
                write!(f, "refused by GOAWAY {code}")
            }
            Error::GoAway { code, debug } => write!(f, "refused by GOAWAY {code}: {debug}"),
            Error::Reset { code, remote: true } => {
                write!(f, "stream reset by peer: RST_STREAM {code}")
            }
            Error::Reset {
                code,
                remote: false,
            } => write!(f, "stream reset: RST_STREAM {code}"),
            Error::ConnectionClosed => f.write_str("connection closed"),
            Error::Protocol(e) => write!(f, "HTTP/2 error: {e:?}"),
            Error::Malformed(what) => write!(f, "malformed message: {what}"),
            Error::Timeout(what) => write!(f, "{what} timed out"),
            Error::Body(e) => write!(f, "body error: {e}"),
            Error::InvalidUri(e) => write!(f, "invalid URI: {e}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io(e) => Some(e),
            Error::Body(e) => Some(&**e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

impl Error {
    /// A copy for fanning one failure out to several waiters (io errors keep kind and text).
    pub(crate) fn duplicate(&self) -> Error {
        match self {
            Error::Io(e) => Error::Io(std::io::Error::new(e.kind(), e.to_string())),
            Error::Tls(s) => Error::Tls(s.clone()),
            Error::Connection(c) => Error::Connection(c.clone()),
            Error::GoAway { code, debug } => Error::GoAway {
                code: *code,
                debug: debug.clone(),
            },
            Error::Reset { code, remote } => Error::Reset {
                code: *code,
                remote: *remote,
            },
            Error::ConnectionClosed => Error::ConnectionClosed,
            Error::Protocol(e) => Error::Protocol(e.clone()),
            Error::Malformed(s) => Error::Malformed(s),
            Error::Timeout(s) => Error::Timeout(s),
            Error::Body(e) => Error::Body(e.to_string().into()),
            Error::InvalidUri(s) => Error::InvalidUri(s.clone()),
        }
    }
}
