//! Every single-frame rule of RFC 9113 §4 and §6 (and RFC 9218, RFC 8441 for their settings and
//! frame), each checked for its error code AND its scope (§5.4). Test names give the section.

use bytes::BytesMut;
use h2proto::frame::{flags, Frame, FrameDecoder, FrameType, SettingId};
use h2proto::{ErrorCode, ProtocolError, Scope, StreamId};

/// A raw frame: header with the length of `payload`, then `payload`.
fn raw(kind: FrameType, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::new();
    let len = payload.len() as u32;
    v.extend_from_slice(&len.to_be_bytes()[1..]);
    v.push(kind.0);
    v.push(flags);
    v.extend_from_slice(&stream.to_be_bytes());
    v.extend_from_slice(payload);
    v
}

fn decode(bytes: &[u8]) -> Result<Option<Frame>, ProtocolError> {
    FrameDecoder::new().decode(&mut BytesMut::from(bytes))
}

fn frame(bytes: &[u8]) -> Frame {
    match decode(bytes) {
        Ok(Some(f)) => f,
        other => panic!("expected a frame, got {other:?}"),
    }
}

#[track_caller]
fn assert_conn(bytes: &[u8], code: ErrorCode) {
    match decode(bytes) {
        Err(e) => {
            assert_eq!(e.code, code, "{e}");
            assert_eq!(e.scope, Scope::Connection, "{e}");
        }
        other => panic!("expected connection error {code}, got {other:?}"),
    }
}

/// Asserts a stream error, and that the frame was consumed so the next frame still decodes.
#[track_caller]
fn assert_stream(bytes: &[u8], id: u32, code: ErrorCode) {
    let mut buf = BytesMut::from(bytes);
    buf.extend_from_slice(&raw(FrameType::PING, 0, 0, &[7; 8]));
    let mut dec = FrameDecoder::new();
    match dec.decode(&mut buf) {
        Err(e) => {
            assert_eq!(e.code, code, "{e}");
            assert_eq!(e.scope, Scope::Stream(StreamId(id)), "{e}");
        }
        other => panic!("expected stream error {code}, got {other:?}"),
    }
    assert!(matches!(dec.decode(&mut buf), Ok(Some(Frame::Ping(_)))));
    assert!(buf.is_empty());
}

fn setting(id: u16, value: u32) -> Vec<u8> {
    let mut p = id.to_be_bytes().to_vec();
    p.extend_from_slice(&value.to_be_bytes());
    raw(FrameType::SETTINGS, 0, 0, &p)
}

// ---- §4.1, §4.2, §5.5: the frame header ----

#[test]
fn s4_1_incomplete_input_is_not_an_error() {
    let bytes = raw(FrameType::DATA, 0, 1, b"hello");
    for n in 0..bytes.len() {
        let mut buf = BytesMut::from(&bytes[..n]);
        assert_eq!(FrameDecoder::new().decode(&mut buf), Ok(None), "prefix {n}");
        assert_eq!(buf.len(), n, "nothing consumed");
    }
}

#[test]
fn s4_1_unused_flags_are_ignored() {
    let Frame::Data(d) = frame(&raw(FrameType::DATA, 0xf6, 1, b"x")) else {
        panic!()
    };
    assert!(!d.end_stream);
    assert_eq!(d.pad, None);
    assert_eq!(&d.data[..], b"x");
    let Frame::Ping(p) = frame(&raw(FrameType::PING, 0xfe, 0, &[0; 8])) else {
        panic!()
    };
    assert!(!p.ack);
}

#[test]
fn s4_1_reserved_bit_is_ignored_on_receipt() {
    let f = frame(&raw(FrameType::RST_STREAM, 0, 0x8000_0003, &[0, 0, 0, 8]));
    assert_eq!(f.stream_id(), StreamId(3));
    // Stream 0 with the reserved bit set is still stream 0.
    assert_conn(
        &raw(FrameType::DATA, 0, 0x8000_0000, b"x"),
        ErrorCode::PROTOCOL_ERROR,
    );
}

#[test]
fn s4_1_unknown_frame_type_is_kept_for_the_caller_to_discard() {
    let bytes = raw(FrameType(0xbb), 0xff, 0, b"ext");
    let Frame::Unknown(u) = frame(&bytes) else {
        panic!()
    };
    assert_eq!(u.header.kind, FrameType(0xbb));
    assert_eq!(u.header.flags, 0xff);
    assert_eq!(&u.payload[..], b"ext");
    let mut out = Vec::new();
    u.encode(&mut out);
    assert_eq!(out, bytes);
}

#[test]
fn s4_2_oversized_frame_is_refused_from_its_header_alone() {
    let mut header = raw(FrameType::DATA, 0, 1, &[]);
    header[..3].copy_from_slice(&[0x00, 0x40, 0x01]); // 16385
    assert_conn(&header, ErrorCode::FRAME_SIZE_ERROR);
}

#[test]
fn s4_2_frame_of_exactly_max_frame_size_is_accepted() {
    let f = frame(&raw(FrameType::DATA, 0, 1, &[0; 16_384]));
    assert!(matches!(f, Frame::Data(d) if d.data.len() == 16_384));
}

#[test]
fn s4_2_larger_frames_after_raising_max_frame_size() {
    let bytes = raw(FrameType::DATA, 0, 1, &[0; 20_000]);
    let mut dec = FrameDecoder::new();
    dec.set_max_frame_size(32_768);
    assert!(matches!(
        dec.decode(&mut BytesMut::from(&bytes[..])),
        Ok(Some(_))
    ));
    dec.set_max_frame_size(16_384);
    let err = dec.decode(&mut BytesMut::from(&bytes[..])).unwrap_err();
    assert_eq!(err.code, ErrorCode::FRAME_SIZE_ERROR);
}

#[test]
fn s4_2_oversized_unknown_frame_is_refused_too() {
    let bytes = raw(FrameType(0x42), 0, 0, &[0; 16_385]);
    assert_conn(&bytes[..9], ErrorCode::FRAME_SIZE_ERROR);
}

// ---- §6.1 DATA ----

#[test]
fn s6_1_data_on_stream_0() {
    assert_conn(&raw(FrameType::DATA, 0, 0, b"x"), ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_1_data_padding_as_long_as_payload() {
    assert_conn(
        &raw(FrameType::DATA, flags::PADDED, 1, &[3, 0, 0]),
        ErrorCode::PROTOCOL_ERROR,
    );
    assert_conn(
        &raw(FrameType::DATA, flags::PADDED, 1, &[1]),
        ErrorCode::PROTOCOL_ERROR,
    );
}

#[test]
fn s6_1_data_padded_without_pad_length_octet() {
    assert_conn(
        &raw(FrameType::DATA, flags::PADDED, 1, &[]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
}

#[test]
fn s6_1_data_largest_padding_is_accepted() {
    let Frame::Data(d) = frame(&raw(FrameType::DATA, flags::PADDED, 1, &[2, 0, 0])) else {
        panic!()
    };
    assert!(d.data.is_empty());
    assert_eq!(d.pad.as_deref(), Some(&[0u8, 0][..]));
    assert_eq!(d.flow_len(), 3);
}

#[test]
fn s6_1_data_flow_len_counts_pad_length_and_padding() {
    let Frame::Data(d) = frame(&raw(FrameType::DATA, flags::PADDED | 1, 1, b"\x02abc\0\0")) else {
        panic!()
    };
    assert_eq!(&d.data[..], b"abc");
    assert!(d.end_stream);
    assert_eq!(d.flow_len(), 6);
}

#[test]
fn s6_1_nonzero_padding_accepted_unless_strict() {
    let bytes = raw(FrameType::DATA, flags::PADDED, 1, b"\x01a!");
    assert!(matches!(decode(&bytes), Ok(Some(Frame::Data(_)))));
    let mut dec = FrameDecoder::new();
    dec.set_strict_padding(true);
    let err = dec.decode(&mut BytesMut::from(&bytes[..])).unwrap_err();
    assert_eq!(
        err,
        ProtocolError {
            scope: Scope::Connection,
            ..err
        }
    );
    assert_eq!(err.code, ErrorCode::PROTOCOL_ERROR);
    // Zero padding passes in strict mode.
    let ok = raw(FrameType::DATA, flags::PADDED, 1, b"\x01a\0");
    assert!(dec.decode(&mut BytesMut::from(&ok[..])).is_ok());
}

// ---- §6.2 HEADERS ----

#[test]
fn s6_2_headers_on_stream_0() {
    assert_conn(
        &raw(FrameType::HEADERS, 4, 0, b"\x82"),
        ErrorCode::PROTOCOL_ERROR,
    );
}

#[test]
fn s6_2_headers_padding_as_long_as_payload() {
    let bytes = raw(
        FrameType::HEADERS,
        flags::PADDED | 4,
        1,
        &[4, 0xaa, 0xaa, 0xaa],
    );
    assert_conn(&bytes, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_2_headers_priority_flag_without_priority_fields() {
    let bytes = raw(FrameType::HEADERS, flags::PRIORITY | 4, 1, &[0, 0, 0]);
    assert_conn(&bytes, ErrorCode::FRAME_SIZE_ERROR);
}

#[test]
fn s6_2_headers_padding_overlapping_priority_fields() {
    // 7 octets: Pad Length, then 6 left; padding of 3 leaves 3 < 5 priority octets.
    let bytes = raw(
        FrameType::HEADERS,
        flags::PRIORITY | flags::PADDED,
        1,
        &[3, 0, 0, 0, 0, 0, 0],
    );
    assert_conn(&bytes, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_2_headers_with_priority_and_padding() {
    let payload = [2, 0x80, 0, 0, 3, 15, 0x82, 0, 0];
    let flags = flags::PRIORITY | flags::PADDED | flags::END_HEADERS | flags::END_STREAM;
    let Frame::Headers(h) = frame(&raw(FrameType::HEADERS, flags, 5, &payload)) else {
        panic!()
    };
    let p = h.priority.unwrap();
    assert!(p.exclusive);
    assert_eq!(p.dependency, StreamId(3));
    assert_eq!(p.weight, 15);
    assert_eq!(&h.block[..], &[0x82]);
    assert!(h.end_stream && h.end_headers);
    assert!(!h.is_self_dependent());
}

#[test]
fn s5_3_1_headers_self_dependency_is_left_to_the_connection() {
    // The block must still reach HPACK (§4.3), so the decoder does not refuse it.
    let payload = [0, 0, 0, 1, 15, 0x82];
    let f = frame(&raw(FrameType::HEADERS, flags::PRIORITY | 4, 1, &payload));
    let Frame::Headers(h) = f else { panic!() };
    assert!(h.is_self_dependent());
}

// ---- §6.3 PRIORITY ----

#[test]
fn s6_3_priority_on_stream_0() {
    assert_conn(
        &raw(FrameType::PRIORITY, 0, 0, &[0, 0, 0, 1, 1]),
        ErrorCode::PROTOCOL_ERROR,
    );
}

#[test]
fn s6_3_priority_length_other_than_5_is_a_stream_error() {
    assert_stream(
        &raw(FrameType::PRIORITY, 0, 5, &[0, 0, 0, 1]),
        5,
        ErrorCode::FRAME_SIZE_ERROR,
    );
    assert_stream(
        &raw(FrameType::PRIORITY, 0, 5, &[0; 6]),
        5,
        ErrorCode::FRAME_SIZE_ERROR,
    );
}

#[test]
fn s5_3_1_priority_self_dependency_is_a_stream_error() {
    let bytes = raw(FrameType::PRIORITY, 0, 7, &[0x80, 0, 0, 7, 1]);
    assert_stream(&bytes, 7, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_3_priority_fields() {
    let Frame::Priority(p) = frame(&raw(FrameType::PRIORITY, 0, 9, &[0, 0, 0, 11, 7])) else {
        panic!()
    };
    assert_eq!(p.stream_id, StreamId(9));
    assert!(!p.fields.exclusive);
    assert_eq!(p.fields.dependency, StreamId(11));
    assert_eq!(p.fields.weight, 7);
}

// ---- §6.4 RST_STREAM ----

#[test]
fn s6_4_rst_stream_on_stream_0() {
    assert_conn(
        &raw(FrameType::RST_STREAM, 0, 0, &[0, 0, 0, 8]),
        ErrorCode::PROTOCOL_ERROR,
    );
}

#[test]
fn s6_4_rst_stream_length_other_than_4() {
    assert_conn(
        &raw(FrameType::RST_STREAM, 0, 1, &[0, 0, 8]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
    assert_conn(
        &raw(FrameType::RST_STREAM, 0, 1, &[0; 8]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
}

#[test]
fn s7_unknown_error_code_is_carried() {
    let Frame::RstStream(r) = frame(&raw(FrameType::RST_STREAM, 0, 1, &[0xde, 0xad, 0, 1])) else {
        panic!()
    };
    assert_eq!(r.error_code, ErrorCode(0xdead_0001));
}

// ---- §6.5 SETTINGS ----

#[test]
fn s6_5_settings_on_a_stream() {
    assert_conn(
        &raw(FrameType::SETTINGS, 0, 1, &[]),
        ErrorCode::PROTOCOL_ERROR,
    );
}

#[test]
fn s6_5_settings_ack_with_payload() {
    let bytes = raw(FrameType::SETTINGS, flags::ACK, 0, &[0, 1, 0, 0, 0x10, 0]);
    assert_conn(&bytes, ErrorCode::FRAME_SIZE_ERROR);
}

#[test]
fn s6_5_settings_length_not_a_multiple_of_6() {
    assert_conn(
        &raw(FrameType::SETTINGS, 0, 0, &[0; 7]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
    assert_conn(
        &raw(FrameType::SETTINGS, 0, 0, &[0; 5]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
}

#[test]
fn s6_5_settings_ack_and_values_in_order() {
    let Frame::Settings(s) = frame(&raw(FrameType::SETTINGS, 1, 0, &[])) else {
        panic!()
    };
    assert!(s.ack && s.params.is_empty());
    let mut payload = Vec::new();
    for (id, v) in [(3u16, 100u32), (4, 1), (3, 7)] {
        payload.extend_from_slice(&id.to_be_bytes());
        payload.extend_from_slice(&v.to_be_bytes());
    }
    let Frame::Settings(s) = frame(&raw(FrameType::SETTINGS, 0, 0, &payload)) else {
        panic!()
    };
    assert_eq!(s.params.len(), 3);
    assert_eq!(
        s.get(SettingId::MAX_CONCURRENT_STREAMS),
        Some(7),
        "last value wins"
    );
}

#[test]
fn s6_5_2_enable_push_other_than_0_or_1() {
    assert_conn(&setting(2, 2), ErrorCode::PROTOCOL_ERROR);
    assert!(decode(&setting(2, 1)).is_ok());
    assert!(decode(&setting(2, 0)).is_ok());
}

#[test]
fn s6_5_2_initial_window_size_above_2_31_minus_1() {
    assert_conn(&setting(4, 0x8000_0000), ErrorCode::FLOW_CONTROL_ERROR);
    assert!(decode(&setting(4, 0x7fff_ffff)).is_ok());
}

#[test]
fn s6_5_2_max_frame_size_outside_range() {
    assert_conn(&setting(5, 16_383), ErrorCode::PROTOCOL_ERROR);
    assert_conn(&setting(5, 16_777_216), ErrorCode::PROTOCOL_ERROR);
    assert!(decode(&setting(5, 16_384)).is_ok());
    assert!(decode(&setting(5, 16_777_215)).is_ok());
}

#[test]
fn rfc8441_s3_enable_connect_protocol_other_than_0_or_1() {
    assert_conn(&setting(8, 2), ErrorCode::PROTOCOL_ERROR);
    assert!(decode(&setting(8, 1)).is_ok());
}

#[test]
fn rfc9218_s2_1_no_rfc7540_priorities_other_than_0_or_1() {
    assert_conn(&setting(9, 2), ErrorCode::PROTOCOL_ERROR);
    assert!(decode(&setting(9, 1)).is_ok());
}

#[test]
fn s6_5_2_unknown_setting_is_not_an_error() {
    let Frame::Settings(s) = frame(&setting(0xabcd, u32::MAX)) else {
        panic!()
    };
    assert_eq!(s.params, [(SettingId(0xabcd), u32::MAX)]);
    // Unchecked settings take any value.
    assert!(decode(&setting(1, u32::MAX)).is_ok());
    assert!(decode(&setting(3, 0)).is_ok());
    assert!(decode(&setting(6, u32::MAX)).is_ok());
}

// ---- §6.6 PUSH_PROMISE ----

#[test]
fn s6_6_push_promise_on_stream_0() {
    assert_conn(
        &raw(FrameType::PUSH_PROMISE, 4, 0, &[0, 0, 0, 2]),
        ErrorCode::PROTOCOL_ERROR,
    );
}

#[test]
fn s6_6_push_promise_promising_an_odd_stream() {
    assert_conn(
        &raw(FrameType::PUSH_PROMISE, 4, 1, &[0, 0, 0, 3]),
        ErrorCode::PROTOCOL_ERROR,
    );
}

#[test]
fn s6_6_push_promise_promising_stream_0() {
    assert_conn(
        &raw(FrameType::PUSH_PROMISE, 4, 1, &[0x80, 0, 0, 0]),
        ErrorCode::PROTOCOL_ERROR,
    );
}

#[test]
fn s6_6_push_promise_too_short_for_promised_stream_id() {
    assert_conn(
        &raw(FrameType::PUSH_PROMISE, 4, 1, &[0, 0, 2]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
    assert_conn(
        &raw(FrameType::PUSH_PROMISE, 12, 1, &[0, 0, 0, 2]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
}

#[test]
fn s6_6_push_promise_padding_as_long_as_payload() {
    let bytes = raw(FrameType::PUSH_PROMISE, 12, 1, &[5, 0, 0, 0, 2]);
    assert_conn(&bytes, ErrorCode::PROTOCOL_ERROR);
    // Fits the payload but not beside the promised stream id.
    let bytes = raw(FrameType::PUSH_PROMISE, 12, 1, &[1, 0, 0, 0, 2]);
    assert_conn(&bytes, ErrorCode::PROTOCOL_ERROR);
}

// ---- §6.7 PING ----

#[test]
fn s6_7_ping_on_a_stream() {
    assert_conn(
        &raw(FrameType::PING, 0, 1, &[0; 8]),
        ErrorCode::PROTOCOL_ERROR,
    );
}

#[test]
fn s6_7_ping_length_other_than_8() {
    assert_conn(
        &raw(FrameType::PING, 0, 0, &[0; 4]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
    assert_conn(
        &raw(FrameType::PING, 1, 0, &[0; 9]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
}

// ---- §6.8 GOAWAY ----

#[test]
fn s6_8_goaway_on_a_stream() {
    assert_conn(
        &raw(FrameType::GOAWAY, 0, 1, &[0; 8]),
        ErrorCode::PROTOCOL_ERROR,
    );
}

#[test]
fn s6_8_goaway_shorter_than_8() {
    assert_conn(
        &raw(FrameType::GOAWAY, 0, 0, &[0; 7]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
}

#[test]
fn s6_8_goaway_fields_and_reserved_bit() {
    let bytes = raw(FrameType::GOAWAY, 0, 0, b"\x80\0\0\x1f\0\0\0\x0bcalm");
    let Frame::GoAway(g) = frame(&bytes) else {
        panic!()
    };
    assert_eq!(g.last_stream_id, StreamId(31));
    assert_eq!(g.error_code, ErrorCode::ENHANCE_YOUR_CALM);
    assert_eq!(&g.debug_data[..], b"calm");
}

// ---- §6.9 WINDOW_UPDATE ----

#[test]
fn s6_9_window_update_increment_0_on_a_stream_is_a_stream_error() {
    assert_stream(
        &raw(FrameType::WINDOW_UPDATE, 0, 3, &[0; 4]),
        3,
        ErrorCode::PROTOCOL_ERROR,
    );
}

#[test]
fn s6_9_window_update_increment_0_on_the_connection() {
    assert_conn(
        &raw(FrameType::WINDOW_UPDATE, 0, 0, &[0; 4]),
        ErrorCode::PROTOCOL_ERROR,
    );
}

#[test]
fn s6_9_window_update_length_other_than_4() {
    assert_conn(
        &raw(FrameType::WINDOW_UPDATE, 0, 1, &[0, 0, 1]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
    assert_conn(
        &raw(FrameType::WINDOW_UPDATE, 0, 0, &[0, 0, 0, 0, 1]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
}

#[test]
fn s6_9_window_update_reserved_bit_is_ignored() {
    let f = frame(&raw(
        FrameType::WINDOW_UPDATE,
        0,
        0,
        &[0xff, 0xff, 0xff, 0xff],
    ));
    assert!(matches!(f, Frame::WindowUpdate(w) if w.increment == 0x7fff_ffff));
    // Only the reserved bit set: the increment is 0.
    assert_conn(
        &raw(FrameType::WINDOW_UPDATE, 0, 0, &[0x80, 0, 0, 0]),
        ErrorCode::PROTOCOL_ERROR,
    );
}

// ---- §6.10 CONTINUATION ----

#[test]
fn s6_10_continuation_on_stream_0() {
    assert_conn(
        &raw(FrameType::CONTINUATION, 4, 0, b"\x82"),
        ErrorCode::PROTOCOL_ERROR,
    );
}

// ---- RFC 9218 §7.1 PRIORITY_UPDATE ----

#[test]
fn rfc9218_s7_1_priority_update_on_a_stream() {
    let bytes = raw(FrameType::PRIORITY_UPDATE, 0, 1, b"\0\0\0\x01u=1");
    assert_conn(&bytes, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn rfc9218_s7_1_priority_update_shorter_than_4() {
    assert_conn(
        &raw(FrameType::PRIORITY_UPDATE, 0, 0, &[0, 0, 1]),
        ErrorCode::FRAME_SIZE_ERROR,
    );
}

#[test]
fn rfc9218_s7_1_priority_update_for_stream_0() {
    assert_conn(
        &raw(FrameType::PRIORITY_UPDATE, 0, 0, b"\0\0\0\0u=1"),
        ErrorCode::PROTOCOL_ERROR,
    );
}

#[test]
fn rfc9218_s7_1_priority_update_fields() {
    let Frame::PriorityUpdate(p) =
        frame(&raw(FrameType::PRIORITY_UPDATE, 0, 0, b"\0\0\0\x05u=0, i"))
    else {
        panic!()
    };
    assert_eq!(p.prioritized_id, StreamId(5));
    assert_eq!(&p.field_value[..], b"u=0, i");
}
