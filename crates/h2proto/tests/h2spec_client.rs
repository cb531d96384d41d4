//! Client role: the client-side counterpart of every h2spec requirement that applies to a
//! client, with a scripted hostile *server*. Test names give the RFC 9113 (or RFC 7541) section;
//! docs/CONFORMANCE.md lists them next to the server-role cases.
// The virtual clock needs one real `Instant` as its origin; nothing here sleeps or reads time again.
#![allow(clippy::disallowed_methods)]

mod common;

use bytes::Bytes;
use common::*;
use h2proto::frame::{self, Frame, SettingId};
use h2proto::{Config, Error, ErrorCode, Event, Header, StreamId};
use std::time::Duration;

fn client() -> RawPeer {
    RawPeer::server_to(Config::default())
}

fn headers_block(id: u32, block: impl Into<Bytes>, end_stream: bool, end_headers: bool) -> Frame {
    Frame::Headers(frame::Headers {
        stream_id: StreamId(id),
        block: block.into(),
        end_stream,
        end_headers,
        priority: None,
        pad: None,
    })
}

/// Asserts the application got the final response on `id` and nothing was reset or failed.
fn expect_response(p: &mut RawPeer, id: u32) {
    assert!(
        p.events
            .iter()
            .any(|e| matches!(e, Event::ResponseReceived { stream_id, .. } if stream_id.0 == id)),
        "{:?}",
        p.events
    );
    let frames = p.recv();
    assert!(resets(&frames).is_empty(), "{frames:?}");
    assert!(goaway(&frames).is_none(), "{frames:?}");
    assert!(p.conn.error().is_none());
}

fn got_response(p: &RawPeer, id: u32) -> bool {
    p.events
        .iter()
        .any(|e| matches!(e, Event::ResponseReceived { stream_id, .. } if stream_id.0 == id))
}

/// Sends `list` as the response to a fresh request: malformed, so RST_STREAM(PROTOCOL_ERROR),
/// the application never sees it as a response, and the next request still works (§8.1.1).
fn malformed_response(list: Vec<Header>) {
    let mut p = client();
    let id = p.request().0;
    let f = p.headers(id, &list, true);
    p.send(f);
    expect_rst(&mut p, id, ErrorCode::PROTOCOL_ERROR);
    assert!(!got_response(&p, id));
    assert!(p.events.iter().any(|e| matches!(
        e,
        Event::StreamReset {
            code: ErrorCode::PROTOCOL_ERROR,
            remote: false,
            ..
        }
    )));
    let id = p.request().0;
    let f = p.headers(id, &status(200), true);
    p.send(f);
    expect_response(&mut p, id);
}

/// A request on stream 1 with response HEADERS (no END_STREAM) received: body may follow.
fn response_started() -> RawPeer {
    let mut p = client();
    let id = p.request();
    assert_eq!(id, StreamId(1));
    let f = p.headers(1, &status(200), false);
    p.send(f);
    p
}

/// A request on stream 1 fully answered: the stream is closed both ways.
fn closed_stream() -> RawPeer {
    let mut p = client();
    p.request();
    let f = p.headers(1, &status(200), true);
    p.send(f);
    expect_response(&mut p, 1);
    assert_eq!(p.conn.stream_state(StreamId(1)), None);
    p
}

// ---------------------------------------------------------------- §3.4 preface

#[test]
fn s3_4_client_preface_then_settings() {
    let now = std::time::Instant::now();
    let mut c = h2proto::Connection::new(h2proto::Role::Client, Config::default(), now);
    let mut out = vec![];
    while c.poll_transmit(now, &mut out) {}
    assert!(out.starts_with(frame::PREFACE));
    let first = &out[frame::PREFACE.len()..];
    assert_eq!(first[3], 0x4, "SETTINGS right after the preface");
    assert_eq!(first[4] & frame::flags::ACK, 0);
}

#[test]
fn s3_4_server_preface_must_be_settings() {
    let now = std::time::Instant::now();
    let mut c = h2proto::Connection::new(h2proto::Role::Client, Config::default(), now);
    let mut out = vec![];
    while c.poll_transmit(now, &mut out) {}
    assert!(c.handle_input(&raw_frame(0x6, 0, 0, &[0; 8]), now).is_err());
    assert_eq!(c.error().unwrap().code, ErrorCode::PROTOCOL_ERROR);
}

// ---------------------------------------------------------------- §4.1 frame format

#[test]
fn s4_1_unknown_frame_type_is_ignored() {
    let mut p = client();
    p.send_bytes(&raw_frame(0x16, 0xff, 0, &[0; 8]));
    p.expect_ping_answered();
}

#[test]
fn s4_1_undefined_flags_are_ignored() {
    let mut p = client();
    p.send_bytes(&raw_frame(0x6, 0x16, 0, b"flagged!"));
    assert_eq!(ping_acks(&p.recv()), [*b"flagged!"]);
}

#[test]
fn s4_1_reserved_bit_is_ignored() {
    let mut p = client();
    p.send_bytes(&raw_frame(0x6, 0, 0x8000_0000, b"reserved"));
    assert_eq!(ping_acks(&p.recv()), [*b"reserved"]);
}

// ---------------------------------------------------------------- §4.2 frame size

#[test]
fn s4_2_data_of_max_frame_size_is_accepted() {
    let mut p = response_started();
    p.send(data(1, &[b'x'; 16_384], true));
    assert_eq!(body_of(&p.events, StreamId(1)).len(), 16_384);
    expect_response(&mut p, 1);
}

#[test]
fn s4_2_data_larger_than_max_frame_size() {
    let mut p = response_started();
    p.send(data(1, &[b'x'; 16_385], true));
    expect_goaway(&mut p, ErrorCode::FRAME_SIZE_ERROR);
}

#[test]
fn s4_2_headers_larger_than_max_frame_size() {
    let mut p = client();
    p.request();
    let mut list = status(200);
    list.push(h("x-big", &"x".repeat(17_000)));
    p.encoder.set_use_huffman(false);
    let f = p.headers(1, &list, true);
    p.send(f);
    expect_goaway(&mut p, ErrorCode::FRAME_SIZE_ERROR);
}

// ---------------------------------------------------------------- §4.3 field blocks

#[test]
fn s4_3_hpack_error_in_response_is_compression_error() {
    let mut p = client();
    p.request();
    p.send(headers_block(1, Bytes::from_static(&[0x40]), true, true));
    expect_goaway(&mut p, ErrorCode::COMPRESSION_ERROR);
}

#[test]
fn s4_3_other_frame_inside_response_field_block() {
    let mut p = client();
    p.request();
    let block = p.block(&status(200));
    p.send(headers_block(1, block, true, false));
    p.send(priority(1, 0, false, 255));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

// ---------------------------------------------------------------- §5.1 stream states

#[test]
fn s5_1_data_on_idle_stream() {
    let mut p = client();
    p.send(data(1, b"x", true));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s5_1_rst_stream_on_idle_stream() {
    let mut p = client();
    p.send(rst(1, ErrorCode::CANCEL));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s5_1_window_update_on_idle_stream() {
    let mut p = client();
    p.send(window_update(3, 1));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s5_1_continuation_on_idle_stream() {
    let mut p = client();
    let block = p.block(&status(200));
    p.send(continuation(1, block, true));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s5_1_half_closed_local_window_update_and_priority_are_accepted() {
    let mut p = client();
    p.request(); // END_STREAM sent: half-closed (local)
    p.send(window_update(1, 100));
    p.send(priority(1, 0, false, 10));
    p.expect_ping_answered();
    let f = p.headers(1, &status(200), true);
    p.send(f);
    expect_response(&mut p, 1);
}

#[test]
fn s5_1_data_after_response_end_stream_is_stream_closed() {
    let mut p = closed_stream();
    p.send(data(1, b"late", true));
    expect_rst(&mut p, 1, ErrorCode::STREAM_CLOSED);
}

#[test]
fn s5_1_headers_after_response_end_stream_is_stream_closed() {
    let mut p = closed_stream();
    let f = p.headers(1, &status(200), true);
    p.send(f);
    expect_goaway(&mut p, ErrorCode::STREAM_CLOSED);
}

#[test]
fn s5_1_priority_on_closed_stream_is_accepted() {
    let mut p = closed_stream();
    p.send(priority(1, 0, false, 255));
    p.expect_ping_answered();
}

#[test]
fn s5_1_window_update_and_rst_stream_on_a_closed_stream_are_ignored() {
    let mut p = closed_stream();
    p.send(window_update(1, 10));
    p.send(rst(1, ErrorCode::CANCEL));
    assert!(p.recv().is_empty());
    assert!(p.conn.error().is_none());
}

#[test]
fn s5_1_data_after_server_reset_is_stream_closed() {
    let mut p = response_started();
    p.send(rst(1, ErrorCode::CANCEL));
    p.recv();
    p.send(data(1, b"late", true));
    expect_rst(&mut p, 1, ErrorCode::STREAM_CLOSED);
}

#[test]
fn s5_1_frames_after_our_reset_are_ignored_and_hpack_stays_in_sync() {
    let mut p = response_started();
    p.conn.reset_stream(StreamId(1), ErrorCode::CANCEL).unwrap();
    expect_rst(&mut p, 1, ErrorCode::CANCEL);
    // In flight before the server saw our RST_STREAM: ignored, but decoded.
    p.send(data(1, &[0; 1000], false));
    let mut trailers = vec![h("x-new-entry", "indexed")];
    trailers.push(h("x-other", "1"));
    let f = p.headers(1, &trailers, true);
    p.send(f);
    let frames = p.recv();
    assert!(resets(&frames).is_empty(), "{frames:?}");
    assert!(p.conn.error().is_none());
    // The trailer block updated the table; a response that refers to it decodes.
    p.request();
    let mut list = status(200);
    list.push(h("x-new-entry", "indexed"));
    let f = p.headers(3, &list, true);
    p.send(f);
    expect_response(&mut p, 3);
}

// ---------------------------------------------------------------- §5.1.1 stream identifiers

#[test]
fn s5_1_1_odd_promised_stream_id() {
    let mut p = client();
    let id = p.request();
    p.push_promise(id.0, 3, &get("/a"));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s5_1_1_promised_stream_id_below_previous() {
    let mut p = client();
    let id = p.request();
    p.push_promise(id.0, 4, &get("/a"));
    p.push_promise(id.0, 2, &get("/b"));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

// ---------------------------------------------------------------- §5.1.2 concurrency

#[test]
fn s5_1_2_server_concurrency_limit_is_honoured() {
    let mut p = client();
    p.send(settings(&[(SettingId::MAX_CONCURRENT_STREAMS, 1)]));
    p.recv();
    let id = p.request();
    assert_eq!(
        p.conn.send_request(get("/"), true),
        Err(Error::ConcurrencyLimit)
    );
    assert!(!p.conn.can_open_stream());
    let f = p.headers(id.0, &status(200), true);
    p.send(f);
    expect_response(&mut p, id.0);
    assert!(p.conn.send_request(get("/"), true).is_ok());
}

#[test]
fn s5_1_2_refused_stream_is_reported_as_retryable() {
    let mut p = client();
    let id = p.request();
    p.send(rst(id.0, ErrorCode::REFUSED_STREAM));
    assert!(p.events.iter().any(|e| matches!(
        e,
        Event::StreamReset {
            code: ErrorCode::REFUSED_STREAM,
            remote: true,
            ..
        }
    )));
    p.expect_ping_answered();
}

// ---------------------------------------------------------------- §5.3.1 dependencies

#[test]
fn s5_3_1_response_headers_depending_on_itself() {
    let mut p = client();
    p.request();
    let block = p.block(&status(200));
    p.send(Frame::Headers(frame::Headers {
        stream_id: StreamId(1),
        block,
        end_stream: true,
        end_headers: true,
        priority: Some(frame::PriorityFields {
            exclusive: false,
            dependency: StreamId(1),
            weight: 255,
        }),
        pad: None,
    }));
    expect_rst(&mut p, 1, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s5_3_1_priority_depending_on_itself() {
    let mut p = client();
    p.request();
    p.send(priority(1, 1, false, 255));
    expect_rst(&mut p, 1, ErrorCode::PROTOCOL_ERROR);
}

// ---------------------------------------------------------------- §5.4.1 connection errors

#[test]
fn s5_4_1_connection_error_sends_goaway_then_closes() {
    let mut p = client();
    p.request();
    p.send_bytes(&raw_frame(0x6, 0, 3, &[0; 8]));
    let frames = p.recv();
    let g = goaway(&frames).expect("GOAWAY");
    assert_eq!(g.error_code, ErrorCode::PROTOCOL_ERROR);
    // The last stream the *server* initiated that we processed: none.
    assert_eq!(g.last_stream_id, StreamId(0));
    assert!(p.conn.is_closed());
    assert!(p.recv().is_empty());
}

// ---------------------------------------------------------------- §5.5 extensions

#[test]
fn s5_5_unknown_setting_is_ignored() {
    let mut p = client();
    p.send(settings(&[(SettingId(0xff), 1)]));
    assert!(p
        .recv()
        .iter()
        .any(|f| matches!(f, Frame::Settings(s) if s.ack)));
    p.expect_ping_answered();
}

#[test]
fn s5_5_unknown_frame_inside_response_field_block() {
    let mut p = client();
    p.request();
    let block = p.block(&status(200));
    p.send(headers_block(1, block, true, false));
    p.send_bytes(&raw_frame(0x16, 0, 0, &[0; 8]));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

// ---------------------------------------------------------------- §6.1 DATA

#[test]
fn s6_1_data_on_stream_zero() {
    let mut p = response_started();
    p.send_bytes(&raw_frame(0x0, 0x1, 0, b"test"));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_1_padded_data_counts_padding_for_flow_control() {
    let mut p = response_started();
    p.send(Frame::Data(frame::Data {
        stream_id: StreamId(1),
        data: Bytes::from_static(b"test"),
        end_stream: true,
        pad: Some(Bytes::from_static(&[0; 6])),
    }));
    assert!(p.events.iter().any(|e| matches!(
        e,
        Event::DataReceived { flow_len: 11, data, .. } if data.as_ref() == b"test"
    )));
    expect_response(&mut p, 1);
}

#[test]
fn s6_1_data_padding_longer_than_payload() {
    let mut p = response_started();
    p.send_bytes(&raw_frame(0x0, 0x9, 1, &[6, b'T', b'e', b's', b't']));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

// ---------------------------------------------------------------- §6.2 HEADERS

#[test]
fn s6_2_headers_on_stream_zero() {
    let mut p = client();
    p.request();
    let block = p.block(&status(200));
    p.send_bytes(&raw_frame(0x1, 0x5, 0, &block));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_2_padded_response_with_priority_is_accepted() {
    let mut p = client();
    p.request();
    let block = p.block(&status(200));
    p.send(Frame::Headers(frame::Headers {
        stream_id: StreamId(1),
        block,
        end_stream: true,
        end_headers: true,
        priority: Some(frame::PriorityFields {
            exclusive: true,
            dependency: StreamId(0),
            weight: 255,
        }),
        pad: Some(Bytes::from_static(&[0; 8])),
    }));
    expect_response(&mut p, 1);
}

#[test]
fn s6_2_headers_padding_longer_than_payload() {
    let mut p = client();
    p.request();
    let block = p.block(&status(200));
    let mut payload = vec![(block.len() + 2) as u8];
    payload.extend_from_slice(&block);
    p.send_bytes(&raw_frame(0x1, 0xd, 1, &payload));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

// ---------------------------------------------------------------- §6.3 PRIORITY

#[test]
fn s6_3_priority_on_stream_zero() {
    let mut p = client();
    p.send_bytes(&raw_frame(0x2, 0, 0, &[0, 0, 0, 0, 255]));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_3_priority_with_wrong_length_is_stream_error() {
    let mut p = client();
    p.request();
    p.send_bytes(&raw_frame(0x2, 0, 1, &[0x80, 0, 0, 1]));
    expect_rst(&mut p, 1, ErrorCode::FRAME_SIZE_ERROR);
}

// ---------------------------------------------------------------- §6.4 RST_STREAM

#[test]
fn s6_4_rst_stream_ends_only_its_stream() {
    let mut p = client();
    let a = p.request();
    let b = p.request();
    p.send(rst(a.0, ErrorCode::INTERNAL_ERROR));
    assert!(p.events.iter().any(|e| matches!(
        e,
        Event::StreamReset { stream_id, code: ErrorCode::INTERNAL_ERROR, remote: true }
            if *stream_id == a
    )));
    let f = p.headers(b.0, &status(200), true);
    p.send(f);
    expect_response(&mut p, b.0);
}

#[test]
fn s6_4_rst_stream_on_stream_zero() {
    let mut p = client();
    p.send_bytes(&raw_frame(0x3, 0, 0, &[0, 0, 0, 8]));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_4_rst_stream_with_wrong_length() {
    let mut p = client();
    p.request();
    p.send_bytes(&raw_frame(0x3, 0, 1, &[0, 0, 0]));
    expect_goaway(&mut p, ErrorCode::FRAME_SIZE_ERROR);
}

// ---------------------------------------------------------------- §6.5 SETTINGS

#[test]
fn s6_5_settings_ack_with_payload() {
    let mut p = client();
    p.send_bytes(&raw_frame(0x4, 0x1, 0, &[0]));
    expect_goaway(&mut p, ErrorCode::FRAME_SIZE_ERROR);
}

#[test]
fn s6_5_settings_on_a_stream() {
    let mut p = client();
    p.send_bytes(&raw_frame(0x4, 0, 1, &[0, 3, 0, 0, 0, 100]));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_5_settings_length_not_a_multiple_of_6() {
    let mut p = client();
    p.send_bytes(&raw_frame(0x4, 0, 0, &[0, 3, 0, 0, 0, 100, 0, 2]));
    expect_goaway(&mut p, ErrorCode::FRAME_SIZE_ERROR);
}

#[test]
fn s6_5_2_initial_window_size_above_maximum() {
    let mut p = client();
    p.send_bytes(&raw_frame(0x4, 0, 0, &[0, 4, 0x80, 0, 0, 0]));
    expect_goaway(&mut p, ErrorCode::FLOW_CONTROL_ERROR);
}

#[test]
fn s6_5_2_max_frame_size_out_of_range() {
    for v in [16_383, 16_777_216] {
        let mut p = client();
        p.send(settings(&[(SettingId::MAX_FRAME_SIZE, v)]));
        expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
    }
}

#[test]
fn s6_5_2_server_header_table_size_is_obeyed() {
    let mut p = client();
    p.send(settings(&[(SettingId::HEADER_TABLE_SIZE, 0)]));
    p.recv();
    p.decoder.set_max_table_size(0);
    let id = p.conn.send_request(get("/"), true).unwrap();
    let frames = p.recv();
    let block = frames
        .iter()
        .find_map(|f| match f {
            Frame::Headers(hd) if hd.stream_id == id => Some(hd.block.clone()),
            _ => None,
        })
        .expect("request HEADERS");
    // RFC 7541 §4.2: the size update comes first; nothing is inserted into a 0-octet table.
    assert_eq!(block[0] & 0xe0, 0x20, "{block:?}");
    assert_eq!(p.decode_block(&block)[2].value, "/");
    assert_eq!(p.decoder.table_size(), 0);
}

#[test]
fn s6_5_2_server_max_frame_size_is_obeyed() {
    let mut p = client();
    let id = p.conn.send_request(post("/"), false).unwrap();
    p.conn
        .send_data(id, Bytes::from(vec![7u8; 40_000]), true)
        .unwrap();
    let frames = p.recv();
    let lens = data_lens(&frames, id.0);
    assert_eq!(lens.iter().sum::<usize>(), 40_000);
    assert!(lens.iter().all(|&n| n <= 16_384), "{lens:?}");
}

#[test]
fn s6_5_3_settings_values_apply_in_order_and_are_acknowledged() {
    let mut p = client();
    p.send(settings(&[
        (SettingId::INITIAL_WINDOW_SIZE, 100),
        (SettingId::INITIAL_WINDOW_SIZE, 1),
    ]));
    let frames = p.recv();
    assert!(
        matches!(frames.as_slice(), [Frame::Settings(s)] if s.ack),
        "{frames:?}"
    );
    let id = p.conn.send_request(post("/"), false).unwrap();
    p.conn
        .send_data(id, Bytes::from_static(b"hello"), true)
        .unwrap();
    assert_eq!(data_lens(&p.recv(), id.0), [1]);
}

#[test]
fn s6_5_3_unacknowledged_settings_time_out() {
    let mut p = client();
    p.conn
        .update_settings(&[(SettingId::MAX_CONCURRENT_STREAMS, 10)], p.now)
        .unwrap();
    p.recv(); // the server never acknowledges
    p.advance(Duration::from_secs(11));
    expect_goaway(&mut p, ErrorCode::SETTINGS_TIMEOUT);
}

// ---------------------------------------------------------------- §6.6 PUSH_PROMISE

#[test]
fn s6_6_push_promise_on_stream_zero() {
    let mut p = client();
    p.request();
    let block = p.block(&get("/x"));
    let mut payload = vec![0, 0, 0, 2];
    payload.extend_from_slice(&block);
    p.send_bytes(&raw_frame(0x5, 0x4, 0, &payload));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s8_4_pushed_response_is_delivered() {
    let mut p = client();
    let id = p.request();
    p.push_promise(id.0, 2, &get("/style.css"));
    let f = p.headers(2, &status(200), false);
    p.send(f);
    p.send(data(2, b"body{}", true));
    assert!(got_response(&p, 2));
    assert_eq!(body_of(&p.events, StreamId(2)), b"body{}");
    let f = p.headers(id.0, &status(200), true);
    p.send(f);
    expect_response(&mut p, id.0);
}

#[test]
fn s8_4_data_on_reserved_stream_before_headers() {
    let mut p = client();
    let id = p.request();
    p.push_promise(id.0, 2, &get("/style.css"));
    p.send(data(2, b"early", true));
    // §5.1 reserved (remote): "Receiving any type of frame other than HEADERS, RST_STREAM, or
    // PRIORITY on a stream in this state MUST be treated as a connection error of type
    // PROTOCOL_ERROR."
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
    assert!(body_of(&p.events, StreamId(2)).is_empty());
}

#[test]
fn s5_1_window_update_on_reserved_remote_stream() {
    let mut p = client();
    let id = p.request();
    p.push_promise(id.0, 2, &get("/style.css"));
    p.send(window_update(2, 100));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s10_5_too_many_reserved_streams_is_enhance_your_calm() {
    let cfg = Config {
        max_concurrent_streams: 2,
        ..Config::default()
    };
    let mut p = RawPeer::server_to(cfg);
    let id = p.request();
    p.push_promise(id.0, 2, &get("/a"));
    p.push_promise(id.0, 4, &get("/b"));
    assert!(p.recv().is_empty());
    // §10.5: an excessive number of reserved (remote) streams is a stream error of type
    // ENHANCE_YOUR_CALM on the promised stream; the connection carries on.
    p.push_promise(id.0, 6, &get("/c"));
    expect_rst(&mut p, 6, ErrorCode::ENHANCE_YOUR_CALM);
    assert_eq!(p.conn.stats().abuse.refused_streams, 1);
    // Fulfilling a push frees its reservation.
    let f = p.headers(2, &status(200), true);
    p.send(f);
    p.push_promise(id.0, 8, &get("/d"));
    assert!(p.recv().is_empty());
}

// ---------------------------------------------------------------- §6.7 PING

#[test]
fn s6_7_ping_is_answered_with_the_same_payload() {
    let mut p = client();
    p.expect_ping_answered();
}

#[test]
fn s6_7_ping_ack_is_not_answered() {
    let mut p = client();
    p.send(Frame::Ping(frame::Ping {
        ack: true,
        payload: *b"invalid\0",
    }));
    p.expect_ping_answered();
}

#[test]
fn s6_7_ping_on_a_stream() {
    let mut p = client();
    p.send_bytes(&raw_frame(0x6, 0, 1, &[0; 8]));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_7_ping_with_wrong_length() {
    let mut p = client();
    p.send_bytes(&raw_frame(0x6, 0, 0, &[0; 6]));
    expect_goaway(&mut p, ErrorCode::FRAME_SIZE_ERROR);
}

// ---------------------------------------------------------------- §6.8 GOAWAY

#[test]
fn s6_8_goaway_last_stream_id_refuses_later_streams_only() {
    let mut p = client();
    let a = p.request();
    let b = p.request();
    p.send(Frame::GoAway(frame::GoAway {
        last_stream_id: a,
        error_code: ErrorCode::NO_ERROR,
        debug_data: Bytes::new(),
    }));
    // §6.8: streams above the last id were not processed: safe to retry (§8.7).
    assert!(p.events.iter().any(|e| matches!(
        e,
        Event::StreamReset { stream_id, code: ErrorCode::REFUSED_STREAM, .. } if *stream_id == b
    )));
    assert_eq!(p.conn.send_request(get("/"), true), Err(Error::GoingAway));
    // Stream `a` completes normally.
    let f = p.headers(a.0, &status(200), true);
    p.send(f);
    expect_response(&mut p, a.0);
    assert!(p.conn.is_going_away());
}

#[test]
fn s6_8_goaway_on_a_stream() {
    let mut p = client();
    p.send_bytes(&raw_frame(0x7, 0, 1, &[0; 8]));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

// ---------------------------------------------------------------- §6.9 WINDOW_UPDATE

#[test]
fn s6_9_window_update_zero_on_the_connection() {
    let mut p = client();
    p.send(window_update(0, 0));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_9_window_update_zero_on_a_stream() {
    let mut p = client();
    p.request();
    p.send(window_update(1, 0));
    expect_rst(&mut p, 1, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_9_window_update_with_wrong_length() {
    let mut p = client();
    p.send_bytes(&raw_frame(0x8, 0, 0, &[0, 0, 1]));
    expect_goaway(&mut p, ErrorCode::FRAME_SIZE_ERROR);
}

#[test]
fn s6_9_1_connection_window_overflow() {
    let mut p = client();
    p.send_all(vec![
        window_update(0, 0x7fff_ffff),
        window_update(0, 0x7fff_ffff),
    ]);
    expect_goaway(&mut p, ErrorCode::FLOW_CONTROL_ERROR);
}

#[test]
fn s6_9_1_stream_window_overflow() {
    let mut p = client();
    p.request();
    p.send_all(vec![
        window_update(1, 0x7fff_ffff),
        window_update(1, 0x7fff_ffff),
    ]);
    expect_rst(&mut p, 1, ErrorCode::FLOW_CONTROL_ERROR);
}

#[test]
fn s6_9_1_data_beyond_the_connection_window() {
    let cfg = Config {
        connection_window_size: 65_535,
        flow_control: h2proto::FlowControl::Manual,
        ..Config::default()
    };
    let mut p = RawPeer::server_to(cfg);
    let a = p.request();
    let b = p.request();
    for id in [a.0, b.0] {
        let f = p.headers(id, &status(200), false);
        p.send(f);
    }
    // 2 × 32 KiB fits each stream window (1 MiB) but not the 65,535-octet connection window.
    for id in [a.0, a.0, b.0, b.0] {
        p.send(data(id, &[0; 16_384], false));
    }
    expect_goaway(&mut p, ErrorCode::FLOW_CONTROL_ERROR);
}

#[test]
fn s6_9_1_request_body_respects_the_connection_window() {
    let mut p = client();
    p.send(settings(&[(SettingId::INITIAL_WINDOW_SIZE, 1_000_000)]));
    p.recv();
    let id = p.conn.send_request(post("/"), false).unwrap();
    p.conn
        .send_data(id, Bytes::from(vec![0u8; 100_000]), true)
        .unwrap();
    // §6.9.2: the connection window is 65,535 whatever SETTINGS_INITIAL_WINDOW_SIZE says.
    let sent: usize = data_lens(&p.recv(), id.0).iter().sum();
    assert_eq!(sent, 65_535);
    p.send(window_update(0, 34_465));
    let sent: usize = data_lens(&p.recv(), id.0).iter().sum();
    assert_eq!(sent, 34_465);
}

#[test]
fn s6_9_2_server_initial_window_limits_the_request_body() {
    let mut p = client();
    p.send(settings(&[(SettingId::INITIAL_WINDOW_SIZE, 3)]));
    p.recv();
    let id = p.conn.send_request(post("/"), false).unwrap();
    p.conn
        .send_data(id, Bytes::from_static(b"hello"), true)
        .unwrap();
    assert_eq!(data_lens(&p.recv(), id.0), [3]);
    // Lowering the setting makes the window negative (§6.9.2): nothing more until it is
    // positive again.
    p.send(settings(&[(SettingId::INITIAL_WINDOW_SIZE, 2)]));
    assert_eq!(p.conn.send_window(id), -1);
    assert!(data_lens(&p.recv(), id.0).is_empty());
    p.send(window_update(id.0, 2));
    assert_eq!(data_lens(&p.recv(), id.0), [1]);
}

#[test]
fn s6_9_2_initial_window_change_overflowing_a_stream() {
    let mut p = client();
    let id = p.request();
    p.send(window_update(id.0, 0x7fff_0000));
    p.send(settings(&[(SettingId::INITIAL_WINDOW_SIZE, 0x10_0000)]));
    expect_goaway(&mut p, ErrorCode::FLOW_CONTROL_ERROR);
}

// ---------------------------------------------------------------- §6.10 CONTINUATION

#[test]
fn s6_10_response_over_continuations_is_accepted() {
    let mut p = client();
    p.request();
    let mut list = status(200);
    list.push(h("x-a", "1"));
    list.push(h("x-b", "2"));
    let block = p.block(&list);
    p.send(headers_block(1, block.slice(..2), true, false));
    p.send(continuation(1, block.slice(2..5), false));
    p.send(continuation(1, block.slice(5..), true));
    expect_response(&mut p, 1);
}

#[test]
fn s6_10_continuation_followed_by_data() {
    let mut p = client();
    p.request();
    let block = p.block(&status(200));
    p.send(headers_block(1, block.slice(..1), false, false));
    p.send(continuation(1, block.slice(1..), false));
    p.send(data(1, b"x", true));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_10_continuation_on_stream_zero() {
    let mut p = client();
    p.request();
    let block = p.block(&status(200));
    p.send(headers_block(1, block.slice(..1), true, false));
    p.send_bytes(&raw_frame(0x9, 0x4, 0, &block[1..]));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_10_continuation_after_end_headers() {
    let mut p = client();
    p.request();
    let f = p.headers(1, &status(200), false);
    p.send(f);
    let block = p.block(&[h("x-a", "1")]);
    p.send(continuation(1, block, true));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_10_continuation_flood_from_a_server() {
    let mut p = client();
    p.request();
    p.send(headers_block(1, Bytes::from_static(&[0x88]), true, false));
    for _ in 0..100 {
        p.send(continuation(1, Bytes::new(), false));
        if p.conn.error().is_some() {
            break;
        }
    }
    expect_goaway(&mut p, ErrorCode::ENHANCE_YOUR_CALM);
}

// ---------------------------------------------------------------- §7 error codes

#[test]
fn s7_unknown_error_code_in_rst_stream_is_not_special() {
    let mut p = client();
    let id = p.request();
    p.send(rst(id.0, ErrorCode(0xff)));
    assert!(p.events.iter().any(|e| matches!(
        e,
        Event::StreamReset {
            code: ErrorCode(0xff),
            remote: true,
            ..
        }
    )));
    p.expect_ping_answered();
}

#[test]
fn s7_unknown_error_code_in_goaway_is_not_special() {
    let mut p = client();
    p.request();
    p.send(Frame::GoAway(frame::GoAway {
        last_stream_id: StreamId(0),
        error_code: ErrorCode(0xff),
        debug_data: Bytes::new(),
    }));
    assert!(p.events.iter().any(|e| matches!(
        e,
        Event::GoAwayReceived {
            code: ErrorCode(0xff),
            ..
        }
    )));
    assert!(p.conn.send_request(get("/"), true).is_err());
}

// ---------------------------------------------------------------- §8.1 responses

#[test]
fn s8_1_informational_then_final_response() {
    let mut p = client();
    p.request();
    let f = p.headers(1, &status(103), false);
    p.send(f);
    let f = p.headers(1, &status(200), true);
    p.send(f);
    assert!(p
        .events
        .iter()
        .any(|e| matches!(e, Event::InformationalReceived { .. })));
    expect_response(&mut p, 1);
}

#[test]
fn s8_1_data_before_response_headers() {
    let mut p = client();
    let id = p.conn.send_request(post("/"), false).unwrap();
    p.recv();
    p.send(data(id.0, b"too early", false));
    expect_rst(&mut p, id.0, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s8_1_response_trailers_are_delivered() {
    let mut p = response_started();
    p.send(data(1, b"body", false));
    let f = p.headers(1, &[h("x-checksum", "abc")], true);
    p.send(f);
    assert!(p.events.iter().any(|e| matches!(
        e,
        Event::TrailersReceived { headers, .. } if headers[0].value == "abc"
    )));
    let frames = p.recv();
    assert!(resets(&frames).is_empty(), "{frames:?}");
    assert!(p.conn.error().is_none());
}

#[test]
fn s8_1_response_trailers_without_end_stream() {
    let mut p = response_started();
    let f = p.headers(1, &[h("x-checksum", "abc")], false);
    p.send(f);
    expect_rst(&mut p, 1, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s8_1_pseudo_header_in_response_trailers() {
    let mut p = response_started();
    let f = p.headers(1, &status(200), true);
    p.send(f);
    expect_rst(&mut p, 1, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s8_1_1_content_length_larger_than_body() {
    let mut p = client();
    p.request();
    let f = p.headers(1, &[h(":status", "200"), h("content-length", "10")], false);
    p.send(f);
    p.send(data(1, b"12345", true));
    expect_rst(&mut p, 1, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s8_1_1_content_length_exceeded_over_several_data_frames() {
    let mut p = client();
    p.request();
    let f = p.headers(1, &[h(":status", "200"), h("content-length", "1")], false);
    p.send(f);
    p.send(data(1, b"test", false));
    p.send(data(1, b"test", true));
    expect_rst(&mut p, 1, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s8_2_1_uppercase_field_name_in_response() {
    malformed_response(vec![h(":status", "200"), h("X-Test", "ok")]);
}

#[test]
fn s8_2_1_empty_field_name_in_response() {
    malformed_response(vec![h(":status", "200"), h("", "ok")]);
}

#[test]
fn s8_2_1_newline_in_response_field_value() {
    malformed_response(vec![h(":status", "200"), h("x-test", "a\r\nb")]);
}

#[test]
fn s8_2_2_connection_specific_fields_in_response() {
    for name in [
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "upgrade",
    ] {
        malformed_response(vec![h(":status", "200"), h(name, "x")]);
    }
}

#[test]
fn s8_2_1_forbidden_characters_in_response_fields() {
    for (name, value) in [
        (&b"x y"[..], &b"v"[..]),
        (b"x:y", b"v"),
        (b"x\xff", b"v"),
        (b"x-v", b"a\x00b"),
        (b"x-v", b" v"),
        (b"x-v", b"v\t"),
    ] {
        let mut list = status(200);
        list.push(Header::new(name.to_vec(), value.to_vec()));
        malformed_response(list);
    }
}

#[test]
fn s8_3_missing_status() {
    malformed_response(vec![h("x-test", "ok")]);
}

#[test]
fn s8_3_duplicate_status() {
    malformed_response(vec![h(":status", "200"), h(":status", "204")]);
}

#[test]
fn s8_3_request_pseudo_header_in_response() {
    malformed_response(vec![h(":status", "200"), h(":method", "GET")]);
}

#[test]
fn s8_3_unknown_pseudo_header_in_response() {
    malformed_response(vec![h(":status", "200"), h(":test", "ok")]);
}

#[test]
fn s8_3_pseudo_header_after_regular_field_in_response() {
    malformed_response(vec![h("x-test", "ok"), h(":status", "200")]);
}

#[test]
fn s8_3_2_status_not_three_digits() {
    malformed_response(vec![h(":status", "ok!")]);
}

#[test]
fn s8_6_switching_protocols_is_malformed() {
    malformed_response(vec![h(":status", "101")]);
}

// ---------------------------------------------------------------- RFC 7541 (HPACK)

/// A response on stream 1 whose block is `prefix` + `:status: 200` + `rep`: decoding error,
/// so GOAWAY(COMPRESSION_ERROR) (RFC 9113 §4.3).
fn hpack_rejects(prefix: &[u8], rep: &[u8]) {
    let mut p = client();
    p.request();
    let mut block = prefix.to_vec();
    block.extend_from_slice(&p.block(&status(200)));
    block.extend_from_slice(rep);
    p.send(headers_block(1, block, true, true));
    expect_goaway(&mut p, ErrorCode::COMPRESSION_ERROR);
    assert!(!got_response(&p, 1));
}

#[test]
fn hpack_s2_3_3_index_beyond_the_tables() {
    hpack_rejects(&[], b"\xfe");
}

#[test]
fn hpack_s4_2_table_size_update_after_a_field() {
    hpack_rejects(&[], b"\x21");
}

#[test]
fn hpack_s5_2_huffman_string_containing_eos() {
    hpack_rejects(&[], b"\x00\x85\xf2\xb2\x4a\x87\xff\xff\xff\xfd\x25\x42\x7f");
}

#[test]
fn hpack_s5_2_huffman_padding_longer_than_7_bits() {
    hpack_rejects(&[], b"\x00\x85\xf2\xb2\x4a\x84\xff\x84\x49\x50\x9f\xff");
}

#[test]
fn hpack_s6_1_index_zero() {
    hpack_rejects(&[], b"\x80");
}

#[test]
fn hpack_s6_3_table_size_update_above_our_setting() {
    hpack_rejects(b"\x3f\xe2\x1f", &[]);
}

#[test]
fn hpack_s6_3_table_size_update_is_accepted() {
    let mut p = client();
    p.request();
    let mut block = b"\x20\x3f\xe1\x1f".to_vec();
    block.extend_from_slice(&p.block(&status(200)));
    p.send(headers_block(1, block, true, true));
    expect_response(&mut p, 1);
}

// ---------------------------------------------------------------- abuse from a server

#[test]
fn ping_flood_from_a_server_is_bounded() {
    let cfg = Config {
        max_pending_control_answers: 20,
        ..Config::default()
    };
    let mut p = RawPeer::server_to(cfg);
    let mut b = Vec::new();
    for i in 0..21u8 {
        ping([i; 8]).encode(&mut b);
    }
    p.send_bytes(&b);
    expect_goaway(&mut p, ErrorCode::ENHANCE_YOUR_CALM);
}

#[test]
fn settings_with_too_many_entries_from_a_server() {
    let mut p = client();
    let params: Vec<(SettingId, u32)> = (0..40).map(|i| (SettingId(0x100 + i), 1)).collect();
    p.send(settings(&params));
    expect_goaway(&mut p, ErrorCode::ENHANCE_YOUR_CALM);
}

// ---------------------------------------------------------------- our own requests

#[test]
fn s8_2_2_we_never_send_connection_specific_fields() {
    let mut p = client();
    let mut req = get("/");
    req.push(h("transfer-encoding", "chunked"));
    assert!(matches!(
        p.conn.send_request(req, true),
        Err(Error::InvalidHeaders(_))
    ));
    assert!(p.recv().is_empty());
}

#[test]
fn s8_5_connect_request_carries_only_method_and_authority() {
    let mut p = client();
    let connect = vec![h(":method", "CONNECT"), h(":authority", "example.com:443")];
    let id = p.conn.send_request(connect, false).unwrap();
    let frames = p.recv();
    let block = frames
        .iter()
        .find_map(|f| match f {
            Frame::Headers(hd) if hd.stream_id == id && !hd.end_stream => Some(hd.block.clone()),
            _ => None,
        })
        .expect("CONNECT HEADERS without END_STREAM");
    let list = p.decode_block(&block);
    assert_eq!(list.len(), 2, "{list:?}");
    // And a CONNECT with :path is refused before it is sent.
    let bad = vec![
        h(":method", "CONNECT"),
        h(":authority", "example.com:443"),
        h(":path", "/"),
    ];
    assert!(p.conn.send_request(bad, false).is_err());
}

#[test]
fn s6_8_second_goaway_may_lower_the_last_stream_id() {
    let mut p = client();
    let a = p.request();
    let b = p.request();
    let c = p.request();
    let goaway_frame = |last| {
        Frame::GoAway(frame::GoAway {
            last_stream_id: last,
            error_code: ErrorCode::NO_ERROR,
            debug_data: Bytes::new(),
        })
    };
    p.send(goaway_frame(c));
    assert!(!p
        .events
        .iter()
        .any(|e| matches!(e, Event::StreamReset { .. })));
    p.send(goaway_frame(a));
    for id in [b, c] {
        assert!(
            p.events.iter().any(|e| matches!(
                e,
                Event::StreamReset { stream_id, code: ErrorCode::REFUSED_STREAM, .. }
                    if *stream_id == id
            )),
            "{id:?}: {:?}",
            p.events
        );
    }
    let f = p.headers(a.0, &status(200), true);
    p.send(f);
    expect_response(&mut p, a.0);
}

#[test]
fn s8_1_early_response_then_rst_stream_no_error_keeps_the_response() {
    let mut p = client();
    let id = p.conn.send_request(post("/upload"), false).unwrap();
    p.conn
        .send_data(id, Bytes::from_static(b"part one"), false)
        .unwrap();
    p.recv();
    // §8.1: "A server can send a complete response prior to the client sending an entire
    // request ... [and] request that the client abort transmission of a request without error
    // by sending a RST_STREAM with an error code of NO_ERROR ... Clients MUST NOT discard
    // responses as a result of receiving such a RST_STREAM".
    let f = p.headers(id.0, &status(413), false);
    p.send(f);
    p.send(data(id.0, b"too big", true));
    p.send(rst(id.0, ErrorCode::NO_ERROR));
    assert!(got_response(&p, id.0));
    assert_eq!(body_of(&p.events, id), b"too big");
    assert!(p.events.iter().any(|e| matches!(
        e,
        Event::DataReceived {
            end_stream: true,
            ..
        }
    )));
    // The request body stops; nothing is answered with an error.
    assert!(p
        .conn
        .send_data(id, Bytes::from_static(b"part two"), true)
        .is_err());
    let frames = p.recv();
    assert!(data_lens(&frames, id.0).is_empty(), "{frames:?}");
    assert!(resets(&frames).is_empty(), "{frames:?}");
    assert!(p.conn.error().is_none());
}
