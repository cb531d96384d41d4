//! Error codes (RFC 9113 §7) and the scope of a protocol error (RFC 9113 §5.4).

use crate::StreamId;
use std::fmt;

/// An HTTP/2 error code as carried by RST_STREAM and GOAWAY (RFC 9113 §7).
///
/// A newtype rather than an enum because §7 says "unknown or unsupported error codes MUST NOT
/// trigger any special behavior": we must be able to carry and print any 32-bit value.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ErrorCode(pub u32);

impl ErrorCode {
    pub const NO_ERROR: ErrorCode = ErrorCode(0x0);
    pub const PROTOCOL_ERROR: ErrorCode = ErrorCode(0x1);
    pub const INTERNAL_ERROR: ErrorCode = ErrorCode(0x2);
    pub const FLOW_CONTROL_ERROR: ErrorCode = ErrorCode(0x3);
    pub const SETTINGS_TIMEOUT: ErrorCode = ErrorCode(0x4);
    pub const STREAM_CLOSED: ErrorCode = ErrorCode(0x5);
    pub const FRAME_SIZE_ERROR: ErrorCode = ErrorCode(0x6);
    pub const REFUSED_STREAM: ErrorCode = ErrorCode(0x7);
    pub const CANCEL: ErrorCode = ErrorCode(0x8);
    pub const COMPRESSION_ERROR: ErrorCode = ErrorCode(0x9);
    pub const CONNECT_ERROR: ErrorCode = ErrorCode(0xa);
    pub const ENHANCE_YOUR_CALM: ErrorCode = ErrorCode(0xb);
    pub const INADEQUATE_SECURITY: ErrorCode = ErrorCode(0xc);
    pub const HTTP_1_1_REQUIRED: ErrorCode = ErrorCode(0xd);

    /// The RFC name of the code, or `None` for a code RFC 9113 §7 does not define.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x0 => "NO_ERROR",
            0x1 => "PROTOCOL_ERROR",
            0x2 => "INTERNAL_ERROR",
            0x3 => "FLOW_CONTROL_ERROR",
            0x4 => "SETTINGS_TIMEOUT",
            0x5 => "STREAM_CLOSED",
            0x6 => "FRAME_SIZE_ERROR",
            0x7 => "REFUSED_STREAM",
            0x8 => "CANCEL",
            0x9 => "COMPRESSION_ERROR",
            0xa => "CONNECT_ERROR",
            0xb => "ENHANCE_YOUR_CALM",
            0xc => "INADEQUATE_SECURITY",
            0xd => "HTTP_1_1_REQUIRED",
            _ => return None,
        })
    }
}

impl fmt::Debug for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "ErrorCode({:#x})", self.0),
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl From<u32> for ErrorCode {
    fn from(v: u32) -> Self {
        ErrorCode(v)
    }
}

/// Whether an error ends one stream or the whole connection (RFC 9113 §5.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// §5.4.2: answer with RST_STREAM on this stream; the connection carries on.
    Stream(StreamId),
    /// §5.4.1: answer with GOAWAY and close the connection.
    Connection,
}

/// A protocol error found in what the peer sent, with the RFC code and the scope the RFC gives it.
///
/// `reason` is a short static text naming the rule broken (it goes into GOAWAY debug data and
/// logs); it never contains peer data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProtocolError {
    pub code: ErrorCode,
    pub scope: Scope,
    pub reason: &'static str,
}

impl ProtocolError {
    /// A connection error (§5.4.1).
    pub const fn connection(code: ErrorCode, reason: &'static str) -> Self {
        ProtocolError {
            code,
            scope: Scope::Connection,
            reason,
        }
    }

    /// A stream error (§5.4.2) on `id`.
    pub const fn stream(id: StreamId, code: ErrorCode, reason: &'static str) -> Self {
        ProtocolError {
            code,
            scope: Scope::Stream(id),
            reason,
        }
    }
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.scope {
            Scope::Stream(id) => write!(f, "stream error on {} {}: {}", id, self.code, self.reason),
            Scope::Connection => write!(f, "connection error {}: {}", self.code, self.reason),
        }
    }
}

impl std::error::Error for ProtocolError {}
