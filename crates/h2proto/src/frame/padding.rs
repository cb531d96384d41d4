//! Padding of DATA, HEADERS and PUSH_PROMISE frames (RFC 9113 §6.1, §6.2, §6.6, §10.7).
//!
//! The three padded frames share one layout: an optional Pad Length octet, the frame's own
//! fields, then Pad Length octets of padding. The rules about it are checked here once.

use super::{flags, FrameHeader, FrameType};
use crate::{ErrorCode, ProtocolError};
use bytes::Bytes;

/// Splits a payload into its body (everything between Pad Length and Padding) and padding.
///
/// `fixed` is the number of mandatory octets the body must hold (5 for HEADERS with PRIORITY, 4
/// for PUSH_PROMISE, else 0). Every error here is a connection error: the padded frames alter
/// connection state (flow control for DATA, the HPACK context for the others), see §4.2.
pub(crate) fn strip(
    head: &FrameHeader,
    payload: Bytes,
    fixed: usize,
) -> Result<(Bytes, Option<Bytes>), ProtocolError> {
    let len = payload.len();
    if !head.has(flags::PADDED) {
        // §4.2: FRAME_SIZE_ERROR if a frame "is too small to contain mandatory frame data".
        if len < fixed {
            return Err(too_small(head.kind));
        }
        return Ok((payload, None));
    }
    // §4.2: the PADDED flag makes the Pad Length octet mandatory frame data.
    let Some(&pad_len) = payload.first() else {
        return Err(too_small(head.kind));
    };
    let pad_len = usize::from(pad_len);
    // §6.1/§6.2/§6.6: "If the length of the padding is the length of the frame payload or
    // greater, the recipient MUST treat this as a connection error (Section 5.4.1) of type
    // PROTOCOL_ERROR."
    if pad_len >= len {
        return Err(pad_too_long(head.kind));
    }
    // §4.2: too small to hold Pad Length plus the mandatory fields, padding aside.
    if len - 1 < fixed {
        return Err(too_small(head.kind));
    }
    // The padding fits in the payload but eats into the mandatory fields: the Pad Length is
    // what is wrong, so this is the same PROTOCOL_ERROR as above.
    if len - 1 - pad_len < fixed {
        return Err(pad_too_long(head.kind));
    }
    let body = payload.slice(1..len - pad_len);
    let pad = payload.slice(len - pad_len..);
    Ok((body, Some(pad)))
}

/// §6.1: "A receiver is not obligated to verify padding but MAY treat non-zero padding as a
/// connection error (Section 5.4.1) of type PROTOCOL_ERROR." Used in strict mode.
pub(crate) fn check_zero(kind: FrameType, pad: Option<&Bytes>) -> Result<(), ProtocolError> {
    match pad {
        Some(p) if p.iter().any(|&b| b != 0) => Err(ProtocolError::connection(
            ErrorCode::PROTOCOL_ERROR,
            match kind {
                FrameType::DATA => "non-zero padding in DATA (RFC 9113 §6.1)",
                FrameType::HEADERS => "non-zero padding in HEADERS (RFC 9113 §6.2)",
                _ => "non-zero padding in PUSH_PROMISE (RFC 9113 §6.6)",
            },
        )),
        _ => Ok(()),
    }
}

/// The payload length of a padded frame whose body is `body_len` octets.
pub(crate) fn padded_len(body_len: usize, pad: Option<&Bytes>) -> u32 {
    let extra = pad.map_or(0, |p| 1 + p.len());
    u32::try_from(body_len + extra).unwrap_or(u32::MAX)
}

/// Writes the Pad Length octet if `pad` is present. Panics if the padding is longer than 255
/// octets, which cannot be expressed on the wire (a bug in the caller, never peer data).
pub(crate) fn write_pad_len(pad: Option<&Bytes>, dst: &mut Vec<u8>) {
    if let Some(p) = pad {
        let n = u8::try_from(p.len()).expect("padding longer than 255 octets");
        dst.push(n);
    }
}

/// Writes the padding octets themselves, if any.
pub(crate) fn write_pad(pad: Option<&Bytes>, dst: &mut Vec<u8>) {
    if let Some(p) = pad {
        dst.extend_from_slice(p);
    }
}

/// The PADDED flag if `pad` is present.
pub(crate) fn flag(pad: Option<&Bytes>) -> u8 {
    if pad.is_some() {
        flags::PADDED
    } else {
        0
    }
}

fn too_small(kind: FrameType) -> ProtocolError {
    ProtocolError::connection(
        ErrorCode::FRAME_SIZE_ERROR,
        match kind {
            FrameType::DATA => "DATA too short for its Pad Length (RFC 9113 §4.2, §6.1)",
            FrameType::HEADERS => "HEADERS too short for its mandatory fields (RFC 9113 §4.2)",
            _ => "PUSH_PROMISE too short for its mandatory fields (RFC 9113 §4.2, §6.6)",
        },
    )
}

fn pad_too_long(kind: FrameType) -> ProtocolError {
    ProtocolError::connection(
        ErrorCode::PROTOCOL_ERROR,
        match kind {
            FrameType::DATA => "DATA padding as long as the payload (RFC 9113 §6.1)",
            FrameType::HEADERS => "HEADERS padding as long as the payload (RFC 9113 §6.2)",
            _ => "PUSH_PROMISE padding as long as the payload (RFC 9113 §6.6)",
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::StreamId;

    fn head(kind: FrameType, flags: u8, len: usize) -> FrameHeader {
        FrameHeader {
            length: len as u32,
            kind,
            flags,
            stream_id: StreamId(1),
        }
    }

    #[test]
    fn s6_1_pad_length_zero_adds_one_octet() {
        let p = Bytes::from_static(&[0, b'a']);
        let (body, pad) = strip(&head(FrameType::DATA, flags::PADDED, 2), p, 0).unwrap();
        assert_eq!(&body[..], b"a");
        assert_eq!(pad.as_deref(), Some(&[][..]));
        assert_eq!(padded_len(body.len(), pad.as_ref()), 2);
    }

    #[test]
    fn s6_6_fixed_fields_are_kept_in_the_body() {
        let p = Bytes::from_static(&[1, 0, 0, 0, 2, 0]);
        let h = head(FrameType::PUSH_PROMISE, flags::PADDED, 6);
        let (body, pad) = strip(&h, p, 4).unwrap();
        assert_eq!(&body[..], &[0, 0, 0, 2]);
        assert_eq!(pad.as_deref(), Some(&[0][..]));
    }

    #[test]
    fn s6_1_strict_mode_rejects_only_non_zero_padding() {
        assert!(check_zero(FrameType::DATA, Some(&Bytes::from_static(&[0, 0]))).is_ok());
        assert!(check_zero(FrameType::DATA, None).is_ok());
        let e = check_zero(FrameType::HEADERS, Some(&Bytes::from_static(&[0, 1]))).unwrap_err();
        assert_eq!(e.code, ErrorCode::PROTOCOL_ERROR);
    }
}
