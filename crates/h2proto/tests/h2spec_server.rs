//! Server role, h2spec's case list (generic, http2 and hpack groups, strict mode) as a scripted
//! raw client. Each test names the RFC 9113 (or RFC 7541) section it checks; docs/CONFORMANCE.md
//! maps every h2spec case id to the test that covers it.
//!
//! "Accepted" in h2spec means the server answers the request: here the application sees the
//! request and its 200 response goes out with nothing reset ([`RawPeer::respond`]).
// The virtual clock needs one real `Instant` as its origin; nothing here sleeps or reads time again.
#![allow(clippy::disallowed_methods)]

mod common;

use bytes::Bytes;
use common::*;
use h2proto::frame::{self, Frame, SettingId};
use h2proto::{Config, ErrorCode, Event, Header, StreamId};

fn server() -> RawPeer {
    RawPeer::client_to(Config::default())
}

/// HEADERS carrying an already-encoded block.
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

/// h2spec's "dummy" header list: enough bytes to need a fragment of its own.
fn dummy(n: usize, len: usize) -> Vec<Header> {
    (0..n)
        .map(|i| h(&format!("x-dummy{i}"), &"x".repeat(len)))
        .collect()
}

/// A GET request on `id` whose block is the encoded GET followed by raw HPACK `rep`.
fn get_with_rep(p: &mut RawPeer, id: u32, prefix: &[u8], rep: &[u8]) -> Frame {
    let mut block = prefix.to_vec();
    block.extend_from_slice(&p.block(&get("/")));
    block.extend_from_slice(rep);
    headers_block(id, block, true, true)
}

/// Sends a GET on stream 1 whose block ends with `rep` and expects the request to be accepted
/// with field `name: value` in it.
fn hpack_accepts(rep: &[u8], name: &str, value: &str) {
    let mut p = server();
    let f = get_with_rep(&mut p, 1, &[], rep);
    p.send(f);
    let seen = p.events.iter().any(|e| {
        matches!(e, Event::RequestReceived { headers, .. }
            if headers.iter().any(|x| x.name == name.as_bytes() && x.value == value.as_bytes()))
    });
    assert!(seen, "{:?}", p.events);
    p.respond(1);
}

/// Sends a GET on stream 1 whose block is `prefix` + GET + `rep`: a decoding error (RFC 7541),
/// so GOAWAY(COMPRESSION_ERROR) (RFC 9113 §4.3).
fn hpack_rejects(prefix: &[u8], rep: &[u8]) {
    let mut p = server();
    let f = get_with_rep(&mut p, 1, prefix, rep);
    p.send(f);
    expect_goaway(&mut p, ErrorCode::COMPRESSION_ERROR);
    assert!(!p.requested(1));
}

/// Sends `list` as a request on stream 1 and expects it treated as malformed: RST_STREAM
/// (PROTOCOL_ERROR), never seen by the application, and the connection still serving.
fn malformed_request(list: Vec<Header>) {
    let mut p = server();
    let f = p.headers(1, &list, true);
    p.send(f);
    expect_rst(&mut p, 1, ErrorCode::PROTOCOL_ERROR);
    assert!(!p.requested(1));
    let f = p.headers(3, &get("/"), true);
    p.send(f);
    p.respond(3);
}

/// Queues a response with a 5-octet body on `id` (the h2spec server's "data length").
fn respond_with_body(p: &mut RawPeer, id: u32) {
    p.conn
        .send_response(StreamId(id), status(200), false)
        .unwrap();
    p.conn
        .send_data(StreamId(id), Bytes::from_static(b"hello"), true)
        .unwrap();
}

// ---------------------------------------------------------------- §3.4 preface

#[test]
fn s3_4_server_preface_is_a_settings_frame_first() {
    let now = std::time::Instant::now();
    let mut c = h2proto::Connection::new(h2proto::Role::Server, Config::default(), now);
    let mut b = frame::PREFACE.to_vec();
    settings(&[(SettingId::INITIAL_WINDOW_SIZE, 65_535)]).encode(&mut b);
    c.handle_input(&b, now).unwrap();
    let mut out = vec![];
    while c.poll_transmit(now, &mut out) {}
    // Frame header: length(3) type(1) flags(1): the first frame is SETTINGS without ACK.
    assert_eq!(out[3], 0x4, "{out:?}");
    assert_eq!(out[4] & frame::flags::ACK, 0);
}

// ---------------------------------------------------------------- §4.1 frame format

#[test]
fn s4_1_unknown_frame_type_is_ignored() {
    let mut p = server();
    p.send_bytes(&raw_frame(0x16, 0, 0, &[0; 8]));
    p.expect_ping_answered();
}

#[test]
fn s4_1_undefined_flags_are_ignored() {
    let mut p = server();
    // PING with flags 0x16: none of them is ACK (0x1).
    p.send_bytes(&raw_frame(0x6, 0x16, 0, b"flagged!"));
    let frames = p.recv();
    assert_eq!(ping_acks(&frames), [*b"flagged!"], "{frames:?}");
    assert!(p.conn.error().is_none());
}

#[test]
fn s4_1_reserved_bit_is_ignored() {
    let mut p = server();
    // PING whose stream-id field has the reserved bit set: the identifier is still 0.
    p.send_bytes(&raw_frame(0x6, 0x16, 0x8000_0000, b"reserved"));
    let frames = p.recv();
    assert_eq!(ping_acks(&frames), [*b"reserved"], "{frames:?}");
    assert!(p.conn.error().is_none());
}

// ---------------------------------------------------------------- §4.2 frame size

#[test]
fn s4_2_data_of_max_frame_size_is_accepted() {
    let mut p = server();
    p.open(1, false);
    p.send(data(1, &[b'x'; 16_384], true));
    assert_eq!(p.events.iter().filter(|e| matches!(e, Event::DataReceived { data, end_stream: true, .. } if data.len() == 16_384)).count(), 1);
    p.respond(1);
}

#[test]
fn s4_2_headers_larger_than_max_frame_size() {
    let mut p = server();
    let mut list = get("/");
    list.extend(dummy(5, 4_000));
    let block = p.block(&list);
    assert!(block.len() > 16_384);
    p.send(headers_block(1, block, true, true));
    expect_goaway(&mut p, ErrorCode::FRAME_SIZE_ERROR);
}

// ---------------------------------------------------------------- §4.3 field blocks

#[test]
fn s4_3_truncated_field_block_is_compression_error() {
    let mut p = server();
    // A literal with incremental indexing that stops before its name length.
    p.send(headers_block(1, Bytes::from_static(&[0x40]), true, true));
    expect_goaway(&mut p, ErrorCode::COMPRESSION_ERROR);
}

#[test]
fn s4_3_priority_inside_a_field_block() {
    let mut p = server();
    let block = p.block(&get("/"));
    p.send(headers_block(1, block, false, false));
    p.send(priority(1, 0, false, 255));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s4_3_headers_on_another_stream_inside_a_field_block() {
    let mut p = server();
    let block = p.block(&get("/"));
    p.send(headers_block(1, block, false, false));
    let f = p.headers(3, &get("/"), true);
    p.send(f);
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

// ---------------------------------------------------------------- §5.1 stream states

#[test]
fn s5_1_half_closed_remote_continuation_is_protocol_error() {
    let mut p = server();
    let f = p.headers(1, &get("/"), true);
    p.send(f);
    let block = p.block(&dummy(1, 10));
    p.send(continuation(1, block, true));
    // §6.10: a CONTINUATION not preceded by an open field block is a connection error.
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s5_1_closed_after_peer_reset_headers_is_stream_closed() {
    let mut p = server();
    p.open(1, false);
    p.send(rst(1, ErrorCode::CANCEL));
    p.recv();
    let f = p.headers(1, &get("/"), true);
    p.send(f);
    // §5.1 closed: "MAY treat ... as a connection error of type STREAM_CLOSED".
    expect_goaway(&mut p, ErrorCode::STREAM_CLOSED);
}

#[test]
fn s5_1_closed_after_peer_reset_continuation_is_protocol_error() {
    let mut p = server();
    p.open(1, false);
    p.send(rst(1, ErrorCode::CANCEL));
    let block = p.block(&dummy(1, 10));
    p.send(continuation(1, block, true));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

/// Opens stream 1 with a GET and answers it completely: the stream is closed both ways.
fn closed_stream() -> RawPeer {
    let mut p = server();
    let f = p.headers(1, &get("/"), true);
    p.send(f);
    p.respond(1);
    assert_eq!(p.conn.stream_state(StreamId(1)), None);
    p
}

#[test]
fn s5_1_closed_data_is_stream_closed() {
    let mut p = closed_stream();
    p.send(data(1, b"test", true));
    // §6.1: "MUST respond with a stream error of type STREAM_CLOSED" (see CONFORMANCE.md).
    expect_rst(&mut p, 1, ErrorCode::STREAM_CLOSED);
}

#[test]
fn s5_1_closed_headers_is_connection_error_stream_closed() {
    let mut p = closed_stream();
    let f = p.headers(1, &get("/"), true);
    p.send(f);
    expect_goaway(&mut p, ErrorCode::STREAM_CLOSED);
}

#[test]
fn s5_1_closed_continuation_is_protocol_error() {
    let mut p = closed_stream();
    let block = p.block(&dummy(1, 10));
    p.send(continuation(1, block, true));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s5_1_priority_on_idle_stream_is_accepted() {
    let mut p = server();
    p.send(priority(1, 0, false, 255));
    p.expect_ping_answered();
    let f = p.headers(1, &get("/"), true);
    p.send(f);
    p.respond(1);
}

/// Zero initial window (so the response stays open), GET on stream 1, a body queued.
fn half_closed_remote_with_blocked_body() -> RawPeer {
    let mut p = server();
    p.send(settings(&[(SettingId::INITIAL_WINDOW_SIZE, 0)]));
    let f = p.headers(1, &get("/"), true);
    p.send(f);
    respond_with_body(&mut p, 1);
    let frames = p.recv();
    assert!(data_lens(&frames, 1).is_empty(), "{frames:?}");
    p
}

#[test]
fn s5_1_half_closed_remote_window_update_is_accepted() {
    let mut p = half_closed_remote_with_blocked_body();
    p.send(window_update(1, 1));
    assert_eq!(data_lens(&p.recv(), 1), [1]);
}

#[test]
fn s5_1_half_closed_remote_priority_is_accepted() {
    let mut p = half_closed_remote_with_blocked_body();
    p.send(priority(1, 0, false, 255));
    p.send(window_update(1, 1));
    assert_eq!(data_lens(&p.recv(), 1), [1]);
}

#[test]
fn s5_1_half_closed_remote_rst_stream_is_accepted() {
    let mut p = server();
    let f = p.headers(1, &get("/"), true);
    p.send(f);
    p.send(rst(1, ErrorCode::CANCEL));
    assert!(p.events.iter().any(|e| matches!(
        e,
        Event::StreamReset {
            stream_id: StreamId(1),
            remote: true,
            ..
        }
    )));
    p.expect_ping_answered();
}

#[test]
fn s5_1_closed_priority_is_accepted() {
    let mut p = closed_stream();
    p.send(priority(1, 0, false, 255));
    p.expect_ping_answered();
}

/// A request on stream 1 and a push promised on stream 2 (reserved (local) for us).
fn reserved_local() -> RawPeer {
    let mut p = server();
    p.open(1, true);
    let promised = p
        .conn
        .send_push_promise(StreamId(1), get("/style.css"))
        .unwrap();
    assert_eq!(promised, StreamId(2));
    p.recv();
    p
}

#[test]
fn s5_1_data_on_reserved_local_stream() {
    let mut p = reserved_local();
    p.send(data(2, b"x", true));
    // §5.1 reserved (local): anything but RST_STREAM, PRIORITY or WINDOW_UPDATE is a
    // connection error of type PROTOCOL_ERROR.
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s5_1_headers_on_reserved_local_stream() {
    let mut p = reserved_local();
    let f = p.headers(2, &get("/"), true);
    p.send(f);
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s5_1_window_update_priority_and_rst_on_reserved_local_stream_are_accepted() {
    let mut p = reserved_local();
    p.send(window_update(2, 100));
    p.send(priority(2, 0, false, 10));
    p.expect_ping_answered();
    p.send(rst(2, ErrorCode::CANCEL));
    p.expect_ping_answered();
    assert_eq!(p.conn.stream_state(StreamId(2)), None);
}

// ---------------------------------------------------------------- §5.4.1 connection errors

#[test]
fn s5_4_1_connection_error_sends_goaway_then_closes() {
    let mut p = server();
    p.open(1, false);
    // PING on stream 3: a connection error.
    p.send_bytes(&raw_frame(0x6, 0, 3, &[0; 8]));
    let frames = p.recv();
    let g = goaway(&frames).expect("GOAWAY first");
    assert_eq!(g.error_code, ErrorCode::PROTOCOL_ERROR);
    // "the stream identifier of the last stream that it successfully received".
    assert_eq!(g.last_stream_id, StreamId(1));
    // §5.4.1: "After sending the GOAWAY frame for an error condition, the endpoint MUST close
    // the TCP connection": nothing more to write, and the driver is told to close.
    assert!(p.conn.is_closed());
    assert!(p.recv().is_empty());
}

// ---------------------------------------------------------------- §5.5 extensions

#[test]
fn s5_5_unknown_frame_inside_a_field_block() {
    let mut p = server();
    let block = p.block(&get("/"));
    p.send(headers_block(1, block, true, false));
    p.send_bytes(&raw_frame(0x16, 0, 0, &[0; 8]));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s5_5_unknown_setting_is_ignored() {
    let mut p = server();
    p.send(settings(&[(SettingId(0xff), 1)]));
    let frames = p.recv();
    assert!(frames
        .iter()
        .any(|f| matches!(f, Frame::Settings(s) if s.ack)));
    p.expect_ping_answered();
}

// ---------------------------------------------------------------- §6.1 DATA

#[test]
fn s6_1_data_frame_is_accepted() {
    let mut p = server();
    p.open(1, false);
    p.send(data(1, b"test", true));
    assert_eq!(body_of(&p.events, StreamId(1)), b"test");
    p.respond(1);
}

#[test]
fn s6_1_multiple_data_frames_are_accepted() {
    let mut p = server();
    p.open(1, false);
    p.send(data(1, b"test", false));
    p.send(data(1, b"test", true));
    assert_eq!(body_of(&p.events, StreamId(1)), b"testtest");
    p.respond(1);
}

#[test]
fn s6_1_padded_data_is_accepted_and_padding_counts_for_flow_control() {
    let mut p = server();
    p.open(1, false);
    p.send(Frame::Data(frame::Data {
        stream_id: StreamId(1),
        data: Bytes::from_static(b"test"),
        end_stream: true,
        pad: Some(Bytes::from_static(&[0; 6])),
    }));
    // §6.9.1: the whole payload (pad length octet + data + padding) is flow-controlled.
    assert!(p.events.iter().any(|e| matches!(
        e,
        Event::DataReceived { data, flow_len: 11, .. } if data.as_ref() == b"test"
    )));
    p.respond(1);
}

#[test]
fn s6_1_data_on_stream_zero() {
    let mut p = server();
    p.send_bytes(&raw_frame(0x0, 0x1, 0, b"test"));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_1_data_padding_longer_than_payload() {
    let mut p = server();
    let mut req = post("/");
    req.push(h("content-length", "4"));
    let f = p.headers(1, &req, false);
    p.send(f);
    // Length 5, PADDED|END_STREAM, pad length 6.
    p.send_bytes(&raw_frame(0x0, 0x9, 1, &[6, b'T', b'e', b's', b't']));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

// ---------------------------------------------------------------- §6.2 HEADERS

#[test]
fn s6_2_headers_frame_is_accepted() {
    let mut p = server();
    let f = p.headers(1, &get("/"), true);
    p.send(f);
    p.respond(1);
}

fn headers_with(p: &mut RawPeer, pad: bool, prio: bool) -> Frame {
    let block = p.block(&get("/"));
    Frame::Headers(frame::Headers {
        stream_id: StreamId(1),
        block,
        end_stream: true,
        end_headers: true,
        priority: prio.then_some(frame::PriorityFields {
            exclusive: false,
            dependency: StreamId(0),
            weight: 255,
        }),
        pad: pad.then(|| Bytes::from_static(&[0; 8])),
    })
}

#[test]
fn s6_2_padded_headers_are_accepted() {
    let mut p = server();
    let f = headers_with(&mut p, true, false);
    p.send(f);
    p.respond(1);
}

#[test]
fn s6_2_headers_with_priority_are_accepted() {
    let mut p = server();
    let f = headers_with(&mut p, false, true);
    p.send(f);
    p.respond(1);
}

#[test]
fn s6_2_padded_headers_with_priority_are_accepted() {
    let mut p = server();
    let f = headers_with(&mut p, true, true);
    p.send(f);
    p.respond(1);
}

#[test]
fn s6_2_headers_on_stream_zero() {
    let mut p = server();
    let block = p.block(&get("/"));
    p.send_bytes(&raw_frame(0x1, 0x5, 0, &block));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_2_headers_padding_longer_than_payload() {
    let mut p = server();
    let block = p.block(&get("/"));
    let mut payload = vec![(block.len() + 2) as u8];
    payload.extend_from_slice(&block);
    // END_STREAM | END_HEADERS | PADDED.
    p.send_bytes(&raw_frame(0x1, 0xd, 1, &payload));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

// ---------------------------------------------------------------- §6.3 PRIORITY

fn priority_then_request(pr: Frame) {
    let mut p = server();
    p.send(pr);
    let f = p.headers(1, &get("/"), true);
    p.send(f);
    p.respond(1);
}

#[test]
fn s6_3_priority_weight_1_is_accepted() {
    priority_then_request(priority(1, 0, false, 0));
}

#[test]
fn s6_3_priority_weight_256_is_accepted() {
    priority_then_request(priority(1, 0, false, 255));
}

#[test]
fn s6_3_priority_with_dependency_is_accepted() {
    priority_then_request(priority(3, 1, false, 0));
}

#[test]
fn s6_3_priority_exclusive_is_accepted() {
    priority_then_request(priority(1, 0, true, 0));
}

#[test]
fn s6_3_priority_on_idle_stream_does_not_open_it() {
    // PRIORITY for idle stream 3, then a request on the lower stream 1: still valid.
    priority_then_request(priority(3, 0, false, 255));
}

#[test]
fn s6_3_priority_on_stream_zero() {
    let mut p = server();
    p.send_bytes(&raw_frame(0x2, 0, 0, &[0, 0, 0, 0, 255]));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_3_priority_with_wrong_length_is_stream_error() {
    let mut p = server();
    let f = p.headers(1, &get("/"), true);
    p.send(f);
    p.send_bytes(&raw_frame(0x2, 0, 1, &[0x80, 0, 0, 1]));
    // §6.3: "a stream error of type FRAME_SIZE_ERROR".
    expect_rst(&mut p, 1, ErrorCode::FRAME_SIZE_ERROR);
}

// ---------------------------------------------------------------- §6.4 RST_STREAM

#[test]
fn s6_4_rst_stream_is_accepted() {
    let mut p = server();
    p.open(1, false);
    p.send(rst(1, ErrorCode::CANCEL));
    p.expect_ping_answered();
}

#[test]
fn s6_4_rst_stream_on_stream_zero() {
    let mut p = server();
    p.send_bytes(&raw_frame(0x3, 0, 0, &[0, 0, 0, 8]));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_4_rst_stream_with_wrong_length() {
    let mut p = server();
    let f = p.headers(1, &get("/"), true);
    p.send(f);
    p.send_bytes(&raw_frame(0x3, 0, 1, &[0, 0, 0]));
    expect_goaway(&mut p, ErrorCode::FRAME_SIZE_ERROR);
}

// ---------------------------------------------------------------- §6.5 SETTINGS

#[test]
fn s6_5_settings_with_every_parameter_are_acknowledged() {
    let mut p = server();
    p.send(settings(&[
        (SettingId::HEADER_TABLE_SIZE, 4096),
        (SettingId::ENABLE_PUSH, 1),
        (SettingId::MAX_CONCURRENT_STREAMS, 100),
        (SettingId::INITIAL_WINDOW_SIZE, 65_535),
        (SettingId::MAX_FRAME_SIZE, 16_384),
        (SettingId::MAX_HEADER_LIST_SIZE, 100),
    ]));
    let frames = p.recv();
    assert!(
        matches!(frames.as_slice(), [Frame::Settings(s)] if s.ack && s.params.is_empty()),
        "{frames:?}"
    );
    assert_eq!(p.conn.peer_settings().max_concurrent_streams, 100);
}

#[test]
fn s6_5_settings_ack_with_payload() {
    let mut p = server();
    p.send_bytes(&raw_frame(0x4, 0x1, 0, &[0]));
    expect_goaway(&mut p, ErrorCode::FRAME_SIZE_ERROR);
}

#[test]
fn s6_5_settings_on_a_stream() {
    let mut p = server();
    p.send_bytes(&raw_frame(0x4, 0, 1, &[0, 3, 0, 0, 0, 100]));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_5_settings_length_not_a_multiple_of_6() {
    let mut p = server();
    p.send_bytes(&raw_frame(0x4, 0, 0, &[0, 3, 0, 0, 0, 100, 0, 2]));
    expect_goaway(&mut p, ErrorCode::FRAME_SIZE_ERROR);
}

#[test]
fn s6_5_2_initial_window_size_above_maximum() {
    let mut p = server();
    p.send_bytes(&raw_frame(0x4, 0, 0, &[0, 4, 0x80, 0, 0, 0]));
    expect_goaway(&mut p, ErrorCode::FLOW_CONTROL_ERROR);
}

#[test]
fn s6_5_2_max_frame_size_below_initial_value() {
    let mut p = server();
    p.send(settings(&[(SettingId::MAX_FRAME_SIZE, 16_383)]));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_5_2_max_frame_size_above_maximum() {
    let mut p = server();
    p.send(settings(&[(SettingId::MAX_FRAME_SIZE, 16_777_216)]));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_5_3_settings_values_apply_in_order() {
    let mut p = server();
    p.send(settings(&[
        (SettingId::INITIAL_WINDOW_SIZE, 100),
        (SettingId::INITIAL_WINDOW_SIZE, 1),
    ]));
    p.recv();
    let f = p.headers(1, &get("/"), true);
    p.send(f);
    respond_with_body(&mut p, 1);
    assert_eq!(data_lens(&p.recv(), 1), [1]);
}

#[test]
fn s6_5_3_settings_are_acknowledged_at_once() {
    let mut p = server();
    p.send(settings(&[(SettingId::ENABLE_PUSH, 0)]));
    let frames = p.recv();
    assert!(
        matches!(frames.as_slice(), [Frame::Settings(s)] if s.ack),
        "{frames:?}"
    );
}

// ---------------------------------------------------------------- §6.7 PING

#[test]
fn s6_7_ping_is_answered_with_the_same_payload() {
    let mut p = server();
    p.expect_ping_answered();
}

#[test]
fn s6_7_ping_ack_is_not_answered() {
    let mut p = server();
    p.send(Frame::Ping(frame::Ping {
        ack: true,
        payload: *b"invalid\0",
    }));
    p.send(ping(*b"h2spec\0\0"));
    let frames = p.recv();
    assert_eq!(ping_acks(&frames), [*b"h2spec\0\0"], "{frames:?}");
}

#[test]
fn s6_7_ping_on_a_stream() {
    let mut p = server();
    p.send_bytes(&raw_frame(0x6, 0, 1, &[0; 8]));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_7_ping_with_wrong_length() {
    let mut p = server();
    p.send_bytes(&raw_frame(0x6, 0, 0, &[0; 6]));
    expect_goaway(&mut p, ErrorCode::FRAME_SIZE_ERROR);
}

// ---------------------------------------------------------------- §6.8 GOAWAY

#[test]
fn s6_8_goaway_is_accepted() {
    let mut p = server();
    p.send(Frame::GoAway(frame::GoAway {
        last_stream_id: StreamId(0),
        error_code: ErrorCode::NO_ERROR,
        debug_data: Bytes::from_static(b"h2spec"),
    }));
    assert!(p.events.iter().any(|e| matches!(
        e,
        Event::GoAwayReceived {
            code: ErrorCode::NO_ERROR,
            ..
        }
    )));
    let frames = p.recv();
    assert!(goaway(&frames).is_none_or(|g| g.error_code == ErrorCode::NO_ERROR));
    // No stream is open: the driver may close the transport now (h2spec: "connection close").
    assert!(p.conn.is_closed());
    assert!(p.conn.error().is_none());
}

#[test]
fn s6_8_goaway_on_a_stream() {
    let mut p = server();
    p.send_bytes(&raw_frame(0x7, 0, 1, &[0; 8]));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

// ---------------------------------------------------------------- §6.9 WINDOW_UPDATE

#[test]
fn s6_9_window_update_on_the_connection_is_accepted() {
    let mut p = server();
    p.send(window_update(0, 1));
    p.expect_ping_answered();
}

#[test]
fn s6_9_window_update_on_a_stream_is_accepted() {
    let mut p = server();
    let f = p.headers(1, &get("/"), true);
    p.send(f);
    p.send(window_update(1, 1));
    p.respond(1);
}

#[test]
fn s6_9_window_update_zero_on_the_connection() {
    let mut p = server();
    p.send(window_update(0, 0));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_9_window_update_with_wrong_length() {
    let mut p = server();
    p.send_bytes(&raw_frame(0x8, 0, 0, &[0, 0, 1]));
    expect_goaway(&mut p, ErrorCode::FRAME_SIZE_ERROR);
}

#[test]
fn s6_9_1_connection_window_overflow_by_two_updates() {
    let mut p = server();
    p.send_all(vec![
        window_update(0, 0x7fff_ffff),
        window_update(0, 0x7fff_ffff),
    ]);
    expect_goaway(&mut p, ErrorCode::FLOW_CONTROL_ERROR);
}

#[test]
fn s6_9_1_stream_window_overflow_by_two_updates() {
    let mut p = server();
    p.open(1, false);
    p.send_all(vec![
        window_update(1, 0x7fff_ffff),
        window_update(1, 0x7fff_ffff),
    ]);
    expect_rst(&mut p, 1, ErrorCode::FLOW_CONTROL_ERROR);
}

#[test]
fn s6_9_2_initial_window_increase_releases_blocked_data() {
    let mut p = half_closed_remote_with_blocked_body();
    p.send(settings(&[(SettingId::INITIAL_WINDOW_SIZE, 1)]));
    assert_eq!(data_lens(&p.recv(), 1), [1]);
}

#[test]
fn s6_9_2_negative_window_is_tracked() {
    let mut p = server();
    p.send(settings(&[(SettingId::INITIAL_WINDOW_SIZE, 3)]));
    let f = p.headers(1, &get("/"), true);
    p.send(f);
    respond_with_body(&mut p, 1);
    assert_eq!(data_lens(&p.recv(), 1), [3]);
    p.send(settings(&[(SettingId::INITIAL_WINDOW_SIZE, 2)]));
    assert_eq!(p.conn.send_window(StreamId(1)), -1);
    assert!(data_lens(&p.recv(), 1).is_empty());
    p.send(window_update(1, 2));
    assert_eq!(data_lens(&p.recv(), 1), [1]);
}

// ---------------------------------------------------------------- §6.10 CONTINUATION

#[test]
fn s6_10_multiple_continuations_are_accepted() {
    let mut p = server();
    let block = p.block(&get("/"));
    p.send(headers_block(1, block, true, false));
    let b1 = p.block(&dummy(1, 10));
    p.send(continuation(1, b1, false));
    let b2 = p.block(&dummy(1, 10));
    p.send(continuation(1, b2, true));
    p.respond(1);
}

#[test]
fn s6_10_split_block_over_three_frames_is_accepted() {
    let mut p = server();
    let block = p.block(&get("/"));
    p.send(headers_block(1, block.slice(..5), true, false));
    p.send(continuation(1, block.slice(5..10), false));
    p.send(continuation(1, block.slice(10..), true));
    p.respond(1);
}

#[test]
fn s6_10_continuation_followed_by_data() {
    let mut p = server();
    let block = p.block(&post("/"));
    p.send(headers_block(1, block, false, false));
    let b1 = p.block(&dummy(1, 10));
    p.send(continuation(1, b1, false));
    p.send(data(1, b"test", true));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_10_continuation_on_stream_zero() {
    let mut p = server();
    let block = p.block(&get("/"));
    p.send(headers_block(1, block, true, false));
    let b1 = p.block(&dummy(1, 10));
    p.send_bytes(&raw_frame(0x9, 0x4, 0, &b1));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_10_continuation_after_end_headers() {
    let mut p = server();
    let f = p.headers(1, &get("/"), true);
    p.send(f);
    let b1 = p.block(&dummy(1, 10));
    p.send(continuation(1, b1, true));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_10_continuation_after_continuation_with_end_headers() {
    let mut p = server();
    let block = p.block(&get("/"));
    p.send(headers_block(1, block, true, false));
    let b1 = p.block(&dummy(1, 10));
    p.send(continuation(1, b1, true));
    let b2 = p.block(&dummy(1, 10));
    p.send(continuation(1, b2, true));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_10_continuation_after_data() {
    let mut p = server();
    p.open(1, false);
    p.send(data(1, b"test", false));
    let b1 = p.block(&dummy(1, 10));
    p.send(continuation(1, b1, true));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

// ---------------------------------------------------------------- §7 error codes

#[test]
fn s7_unknown_error_code_in_goaway_is_not_special() {
    let mut p = server();
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
    // We answer nothing with an error of our own; the peer is going away.
    let frames = p.recv();
    assert!(goaway(&frames).is_none_or(|g| g.error_code == ErrorCode::NO_ERROR));
    assert!(p.conn.is_closed());
}

#[test]
fn s7_unknown_error_code_in_rst_stream_is_not_special() {
    let mut p = server();
    p.open(1, false);
    p.send(rst(1, ErrorCode(0xff)));
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

// ---------------------------------------------------------------- §8.1 message exchange

#[test]
fn s8_1_get_request_is_answered() {
    let mut p = server();
    let f = p.headers(1, &get("/"), true);
    p.send(f);
    p.respond(1);
}

#[test]
fn s8_1_head_request_is_answered() {
    let mut p = server();
    let mut req = get("/");
    req[0] = h(":method", "HEAD");
    let f = p.headers(1, &req, true);
    p.send(f);
    p.respond(1);
}

#[test]
fn s8_1_post_request_is_answered() {
    let mut p = server();
    p.open(1, false);
    p.send(data(1, b"test", true));
    p.respond(1);
}

#[test]
fn s8_1_post_request_with_trailers_is_answered() {
    let mut p = server();
    let mut req = post("/");
    req.push(h("trailer", "x-test"));
    let f = p.headers(1, &req, false);
    p.send(f);
    p.send(data(1, b"test", false));
    let f = p.headers(1, &[h("x-test", "ok")], true);
    p.send(f);
    assert!(p.events.iter().any(|e| matches!(
        e,
        Event::TrailersReceived { headers, .. } if headers[0].value == "ok"
    )));
    p.respond(1);
}

#[test]
fn s8_1_1_content_length_mismatch_over_several_data_frames() {
    let mut p = server();
    let mut req = post("/");
    req.push(h("content-length", "1"));
    let f = p.headers(1, &req, false);
    p.send(f);
    p.send(data(1, b"test", false));
    p.send(data(1, b"test", true));
    expect_rst(&mut p, 1, ErrorCode::PROTOCOL_ERROR);
}

// ---------------------------------------------------------------- §8.2, §8.3 fields

#[test]
fn s8_2_1_uppercase_field_name() {
    let mut req = get("/");
    req.push(h("X-TEST", "ok"));
    malformed_request(req);
}

#[test]
fn s8_2_2_connection_specific_field() {
    let mut req = get("/");
    req.push(h("connection", "keep-alive"));
    malformed_request(req);
}

#[test]
fn s8_2_2_te_other_than_trailers() {
    let mut req = get("/");
    req.push(h("trailers", "test"));
    req.push(h("te", "trailers, deflate"));
    malformed_request(req);
}

#[test]
fn s8_3_unknown_pseudo_header() {
    let mut req = get("/");
    req.push(h(":test", "ok"));
    malformed_request(req);
}

#[test]
fn s8_3_response_pseudo_header_in_request() {
    let mut req = get("/");
    req.push(h(":status", "200"));
    malformed_request(req);
}

#[test]
fn s8_3_pseudo_header_after_regular_field() {
    let mut req = vec![h("x-test", "ok")];
    req.extend(get("/"));
    malformed_request(req);
}

#[test]
fn s8_3_pseudo_header_in_trailers() {
    let mut p = server();
    p.open(1, false);
    p.send(data(1, b"test", false));
    let f = p.headers(1, &[h(":method", "POST")], true);
    p.send(f);
    expect_rst(&mut p, 1, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s8_3_1_empty_path() {
    let mut req = get("/");
    req[2] = h(":path", "");
    malformed_request(req);
}

#[test]
fn s8_3_1_missing_method() {
    let mut req = get("/");
    req.remove(0);
    malformed_request(req);
}

#[test]
fn s8_3_1_missing_scheme() {
    let mut req = get("/");
    req.remove(1);
    malformed_request(req);
}

#[test]
fn s8_3_1_missing_path() {
    let mut req = get("/");
    req.remove(2);
    malformed_request(req);
}

#[test]
fn s8_3_1_duplicate_method() {
    let mut req = get("/");
    req.insert(1, h(":method", "GET"));
    malformed_request(req);
}

#[test]
fn s8_3_1_duplicate_scheme() {
    let mut req = get("/");
    req.insert(2, h(":scheme", "https"));
    malformed_request(req);
}

#[test]
fn s8_3_1_duplicate_path() {
    let mut req = get("/");
    req.insert(3, h(":path", "/"));
    malformed_request(req);
}

// ---------------------------------------------------------------- RFC 7541 (HPACK)

// user-agent: h2spec, as the representations h2spec sends.
const UA_HUFF: &[u8] = b"\x87\xb5\x05\xb1\x61\xcc\x5a\x93\x84\x9c\x48\xac\xa4";
const UA_PLAIN: &[u8] = b"\x0auser-agent\x06h2spec";
const XT_HUFF: &[u8] = b"\x85\xf2\xb2\x4a\x84\xff\x84\x9c\x48\xac\xa4";
const XT_PLAIN: &[u8] = b"\x06x-test\x06h2spec";

fn rep(first: u8, rest: &[u8]) -> Vec<u8> {
    let mut v = vec![first];
    v.extend_from_slice(rest);
    v
}

#[test]
fn hpack_s6_1_indexed_field_is_accepted() {
    // Index 58: user-agent with an empty value.
    hpack_accepts(b"\xba", "user-agent", "");
}

#[test]
fn hpack_s6_2_1_incremental_indexing_name_literal() {
    hpack_accepts(&rep(0x40, UA_PLAIN), "user-agent", "h2spec");
}

#[test]
fn hpack_s6_2_1_incremental_indexing_name_literal_huffman() {
    hpack_accepts(&rep(0x40, UA_HUFF), "user-agent", "h2spec");
}

#[test]
fn hpack_s6_2_1_incremental_indexing_new_name() {
    hpack_accepts(&rep(0x40, XT_PLAIN), "x-test", "h2spec");
}

#[test]
fn hpack_s6_2_1_incremental_indexing_new_name_huffman() {
    hpack_accepts(&rep(0x40, XT_HUFF), "x-test", "h2spec");
}

#[test]
fn hpack_s6_2_2_without_indexing_name_literal() {
    hpack_accepts(&rep(0x00, UA_PLAIN), "user-agent", "h2spec");
}

#[test]
fn hpack_s6_2_2_without_indexing_name_literal_huffman() {
    hpack_accepts(&rep(0x00, UA_HUFF), "user-agent", "h2spec");
}

#[test]
fn hpack_s6_2_2_without_indexing_new_name() {
    hpack_accepts(&rep(0x00, XT_PLAIN), "x-test", "h2spec");
}

#[test]
fn hpack_s6_2_2_without_indexing_new_name_huffman() {
    hpack_accepts(&rep(0x00, XT_HUFF), "x-test", "h2spec");
}

#[test]
fn hpack_s6_2_3_never_indexed_name_literal() {
    hpack_accepts(&rep(0x10, UA_PLAIN), "user-agent", "h2spec");
}

#[test]
fn hpack_s6_2_3_never_indexed_name_literal_huffman() {
    hpack_accepts(&rep(0x10, UA_HUFF), "user-agent", "h2spec");
}

#[test]
fn hpack_s6_2_3_never_indexed_new_name() {
    hpack_accepts(&rep(0x10, XT_PLAIN), "x-test", "h2spec");
}

#[test]
fn hpack_s6_2_3_never_indexed_new_name_huffman() {
    hpack_accepts(&rep(0x10, XT_HUFF), "x-test", "h2spec");
}

#[test]
fn hpack_s6_3_table_size_update_is_accepted() {
    let mut p = server();
    let f = get_with_rep(&mut p, 1, b"\x20", &[]);
    p.send(f);
    p.respond(1);
}

#[test]
fn hpack_s4_2_two_table_size_updates_are_accepted() {
    let mut p = server();
    // 0 then 4096: the smallest and the final size (§4.2).
    let f = get_with_rep(&mut p, 1, b"\x20\x3f\xe1\x1f", &[]);
    p.send(f);
    p.respond(1);
}

#[test]
fn hpack_s2_3_3_index_beyond_the_tables() {
    hpack_rejects(&[], b"\xfe"); // index 126 with an empty dynamic table of our GET's entries
}

#[test]
fn hpack_s4_2_table_size_update_after_a_field() {
    hpack_rejects(&[], b"\x21");
}

#[test]
fn hpack_s5_2_huffman_padding_longer_than_7_bits() {
    hpack_rejects(&[], b"\x00\x85\xf2\xb2\x4a\x84\xff\x84\x49\x50\x9f\xff");
}

#[test]
fn hpack_s5_2_huffman_padding_not_eos_prefix() {
    hpack_rejects(&[], b"\x00\x85\xf2\xb2\x4a\x84\xff\x83\x49\x50\x90");
}

#[test]
fn hpack_s5_2_huffman_string_containing_eos() {
    hpack_rejects(&[], b"\x00\x85\xf2\xb2\x4a\x87\xff\xff\xff\xfd\x25\x42\x7f");
}

#[test]
fn hpack_s6_1_index_zero() {
    hpack_rejects(&[], b"\x80");
}

#[test]
fn hpack_s6_3_table_size_update_above_the_setting() {
    // 4097 > SETTINGS_HEADER_TABLE_SIZE 4096.
    hpack_rejects(b"\x3f\xe2\x1f", &[]);
}
