//! SETTINGS frames and setting identifiers (RFC 9113 §6.5; RFC 8441 §3; RFC 9218 §2.1).

use super::{flags, head::write_header, FrameHeader, FrameType, MAX_MAX_FRAME_SIZE};
use crate::{ErrorCode, ProtocolError, StreamId};
use bytes::Bytes;
use std::fmt;

/// A 16-bit setting identifier (§6.5.1). A newtype: §6.5.2 says "An endpoint that receives a
/// SETTINGS frame with any unknown or unsupported identifier MUST ignore that setting", so any
/// value must be carried.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SettingId(pub u16);

impl SettingId {
    pub const HEADER_TABLE_SIZE: SettingId = SettingId(0x1);
    pub const ENABLE_PUSH: SettingId = SettingId(0x2);
    pub const MAX_CONCURRENT_STREAMS: SettingId = SettingId(0x3);
    pub const INITIAL_WINDOW_SIZE: SettingId = SettingId(0x4);
    pub const MAX_FRAME_SIZE: SettingId = SettingId(0x5);
    pub const MAX_HEADER_LIST_SIZE: SettingId = SettingId(0x6);
    /// RFC 8441 §3 (extended CONNECT).
    pub const ENABLE_CONNECT_PROTOCOL: SettingId = SettingId(0x8);
    /// RFC 9218 §2.1.
    pub const NO_RFC7540_PRIORITIES: SettingId = SettingId(0x9);

    /// The RFC name (`SETTINGS_...`), or `None` for an identifier this crate does not know.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x1 => "SETTINGS_HEADER_TABLE_SIZE",
            0x2 => "SETTINGS_ENABLE_PUSH",
            0x3 => "SETTINGS_MAX_CONCURRENT_STREAMS",
            0x4 => "SETTINGS_INITIAL_WINDOW_SIZE",
            0x5 => "SETTINGS_MAX_FRAME_SIZE",
            0x6 => "SETTINGS_MAX_HEADER_LIST_SIZE",
            0x8 => "SETTINGS_ENABLE_CONNECT_PROTOCOL",
            0x9 => "SETTINGS_NO_RFC7540_PRIORITIES",
            _ => return None,
        })
    }

    /// Checks `value` against this setting's range: [`validate_setting`] as a method.
    pub fn check(self, value: u32) -> Result<(), ProtocolError> {
        validate_setting(self, value)
    }
}

/// Checks a setting value against the range its defining RFC gives (RFC 9113 §6.5.2, RFC 8441
/// §3, RFC 9218 §2.1). Every violation is a connection error; unknown identifiers and settings
/// without a range always pass. The decoder applies it to each received setting; a sender can
/// use it before sending.
pub fn validate_setting(id: SettingId, value: u32) -> Result<(), ProtocolError> {
    let err = |code, reason| Err(ProtocolError::connection(code, reason));
    match id {
        // §6.5.2: "Any value other than 0 or 1 MUST be treated as a connection error
        // (Section 5.4.1) of type PROTOCOL_ERROR."
        SettingId::ENABLE_PUSH if value > 1 => err(
            ErrorCode::PROTOCOL_ERROR,
            "SETTINGS_ENABLE_PUSH other than 0 or 1 (RFC 9113 §6.5.2)",
        ),
        // §6.5.2: "Values above the maximum flow-control window size of 2^31-1 MUST be
        // treated as a connection error (Section 5.4.1) of type FLOW_CONTROL_ERROR."
        SettingId::INITIAL_WINDOW_SIZE if value > 0x7fff_ffff => err(
            ErrorCode::FLOW_CONTROL_ERROR,
            "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1 (RFC 9113 §6.5.2)",
        ),
        // §6.5.2: "The value advertised by an endpoint MUST be between this initial value
        // and the maximum allowed frame size (2^24-1 or 16,777,215 octets), inclusive.
        // Values outside this range MUST be treated as a connection error (Section 5.4.1)
        // of type PROTOCOL_ERROR."
        SettingId::MAX_FRAME_SIZE
            if !(super::DEFAULT_MAX_FRAME_SIZE..=MAX_MAX_FRAME_SIZE).contains(&value) =>
        {
            err(
                ErrorCode::PROTOCOL_ERROR,
                "SETTINGS_MAX_FRAME_SIZE outside 16384..=16777215 (RFC 9113 §6.5.2)",
            )
        }
        // RFC 8441 §3: "The value of the parameter MUST be 0 or 1." RFC 8441 names no code;
        // RFC 9113 §6.5 makes a "badly formed" SETTINGS frame a PROTOCOL_ERROR.
        SettingId::ENABLE_CONNECT_PROTOCOL if value > 1 => err(
            ErrorCode::PROTOCOL_ERROR,
            "SETTINGS_ENABLE_CONNECT_PROTOCOL other than 0 or 1 (RFC 8441 §3)",
        ),
        // RFC 9218 §2.1: "Any value other than 0 or 1 MUST be treated as a connection error
        // (see Section 5.4.1 of [HTTP/2]) of type PROTOCOL_ERROR."
        SettingId::NO_RFC7540_PRIORITIES if value > 1 => err(
            ErrorCode::PROTOCOL_ERROR,
            "SETTINGS_NO_RFC7540_PRIORITIES other than 0 or 1 (RFC 9218 §2.1)",
        ),
        _ => Ok(()),
    }
}

impl fmt::Debug for SettingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "SETTINGS_UNKNOWN({:#06x})", self.0),
        }
    }
}

impl fmt::Display for SettingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A SETTINGS frame (§6.5): parameters in the order received, or an acknowledgement.
///
/// Unknown identifiers are kept in `params` (they must be ignored, §6.5.2, which the connection
/// does when it applies them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    pub ack: bool,
    pub params: Vec<(SettingId, u32)>,
}

impl Settings {
    /// A SETTINGS frame with the ACK flag (§6.5.3).
    pub fn ack() -> Settings {
        Settings {
            ack: true,
            params: Vec::new(),
        }
    }

    /// The last value given for `id`: §6.5 "the value of a SETTINGS parameter is the last value
    /// that is seen by a receiver".
    pub fn get(&self, id: SettingId) -> Option<u32> {
        self.params
            .iter()
            .rev()
            .find(|(i, _)| *i == id)
            .map(|&(_, v)| v)
    }

    /// Appends the whole frame to `dst`.
    pub fn encode(&self, dst: &mut Vec<u8>) {
        let f = u8::from(self.ack) * flags::ACK;
        let len = (self.params.len() * 6) as u32;
        write_header(len, FrameType::SETTINGS, f, StreamId::CONNECTION, dst);
        for (id, value) in &self.params {
            dst.extend_from_slice(&id.0.to_be_bytes());
            dst.extend_from_slice(&value.to_be_bytes());
        }
    }

    /// Parses the payload. A non-zero stream id was already refused by the header check (§6.5).
    pub(crate) fn decode(head: &FrameHeader, payload: Bytes) -> Result<Settings, ProtocolError> {
        let ack = head.has(flags::ACK);
        // §6.5: "Receipt of a SETTINGS frame with the ACK flag set and a length field value
        // other than 0 MUST be treated as a connection error (Section 5.4.1) of type
        // FRAME_SIZE_ERROR."
        if ack && !payload.is_empty() {
            return Err(ProtocolError::connection(
                ErrorCode::FRAME_SIZE_ERROR,
                "SETTINGS ACK with a payload (RFC 9113 §6.5)",
            ));
        }
        // §6.5: "A SETTINGS frame with a length other than a multiple of 6 octets MUST be
        // treated as a connection error (Section 5.4.1) of type FRAME_SIZE_ERROR."
        if !payload.len().is_multiple_of(6) {
            return Err(ProtocolError::connection(
                ErrorCode::FRAME_SIZE_ERROR,
                "SETTINGS length not a multiple of 6 (RFC 9113 §6.5)",
            ));
        }
        let mut params = Vec::with_capacity(payload.len() / 6);
        for p in payload.chunks_exact(6) {
            let id = SettingId(u16::from_be_bytes([p[0], p[1]]));
            let value = u32::from_be_bytes([p[2], p[3], p[4], p[5]]);
            validate_setting(id, value)?;
            params.push((id, value));
        }
        Ok(Settings { ack, params })
    }
}

/// Writes a SETTINGS frame with the ACK flag (§6.5.3) without building a [`Settings`].
#[inline]
pub fn encode_settings_ack(dst: &mut Vec<u8>) {
    write_header(
        0,
        FrameType::SETTINGS,
        flags::ACK,
        StreamId::CONNECTION,
        dst,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scope;

    #[test]
    fn s6_5_2_ranges_are_connection_errors() {
        for (id, bad, code) in [
            (SettingId::ENABLE_PUSH, 2, ErrorCode::PROTOCOL_ERROR),
            (
                SettingId::INITIAL_WINDOW_SIZE,
                1 << 31,
                ErrorCode::FLOW_CONTROL_ERROR,
            ),
            (SettingId::MAX_FRAME_SIZE, 0, ErrorCode::PROTOCOL_ERROR),
            (
                SettingId::ENABLE_CONNECT_PROTOCOL,
                7,
                ErrorCode::PROTOCOL_ERROR,
            ),
            (
                SettingId::NO_RFC7540_PRIORITIES,
                u32::MAX,
                ErrorCode::PROTOCOL_ERROR,
            ),
        ] {
            let e = id.check(bad).unwrap_err();
            assert_eq!((e.code, e.scope), (code, Scope::Connection), "{id}");
        }
        assert!(validate_setting(SettingId(0x4242), u32::MAX).is_ok());
    }

    #[test]
    fn names_and_unknown_ids_print() {
        assert_eq!(
            SettingId::MAX_FRAME_SIZE.to_string(),
            "SETTINGS_MAX_FRAME_SIZE"
        );
        assert_eq!(SettingId(0xabc).to_string(), "SETTINGS_UNKNOWN(0x0abc)");
    }

    #[test]
    fn s6_5_settings_ack_helper_matches_struct() {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        encode_settings_ack(&mut a);
        Settings::ack().encode(&mut b);
        assert_eq!(a, b);
        assert_eq!(a, [0, 0, 0, 4, 1, 0, 0, 0, 0]);
    }
}
