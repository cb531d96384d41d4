//! Client-role conformance: a scripted raw *server* misbehaves, and we assert our client's
//! exact answer. Nobody offers such a suite for the client role; RFC 9113 is the reference.

mod common;

use bytes::Bytes;
use common::*;
use h2proto::frame::{self, Frame, SettingId};
use h2proto::{Config, ErrorCode, Event, StreamId};

fn client() -> RawPeer {
    RawPeer::server_to(Config::default())
}

#[test]
fn s6_5_2_server_may_not_enable_push() {
    let mut p = client();
    p.send(settings(&[(SettingId::ENABLE_PUSH, 1)]));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_6_push_promise_after_push_was_disabled() {
    let cfg = Config {
        enable_push: false,
        ..Config::default()
    };
    let mut p = RawPeer::server_to(cfg);
    let id = p.conn.send_request(get("/"), true).unwrap();
    p.recv();
    p.push_promise(id.0, 2, &get("/x.css"));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s8_4_push_promise_is_delivered_and_can_be_refused() {
    let mut p = client();
    let id = p.request();
    p.push_promise(id.0, 2, &get("/x.css"));
    assert!(p
        .events
        .iter()
        .any(|e| matches!(e, Event::PushPromiseReceived { stream_id, .. } if stream_id.0 == 2)));
    p.conn.reset_stream(StreamId(2), ErrorCode::CANCEL).unwrap();
    expect_rst(&mut p, 2, ErrorCode::CANCEL);
}

#[test]
fn s8_4_unsafe_promised_request_is_stream_error_on_promised_stream() {
    let mut p = client();
    let id = p.request();
    p.push_promise(id.0, 2, &post("/x"));
    expect_rst(&mut p, 2, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_6_promised_id_must_be_even_and_new() {
    let mut p = client();
    let id = p.request();
    p.push_promise(id.0, 2, &get("/a"));
    p.push_promise(id.0, 2, &get("/b"));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_6_push_promise_on_closed_stream() {
    let mut p = client();
    p.push_promise(1, 2, &get("/a"));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s5_1_1_response_on_unopened_stream() {
    let mut p = client();
    let f = p.headers(1, &status(200), true);
    p.send(f);
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s5_1_1_headers_on_even_idle_stream() {
    let mut p = client();
    let f = p.headers(2, &status(200), true);
    p.send(f);
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s8_3_2_malformed_response_is_stream_error() {
    let mut p = client();
    let id = p.request();
    let f = p.headers(id.0, &[h(":status", "2000")], true);
    p.send(f);
    expect_rst(&mut p, id.0, ErrorCode::PROTOCOL_ERROR);
    assert!(p
        .events
        .iter()
        .any(|e| matches!(e, Event::StreamReset { remote: false, .. })));
}

#[test]
fn s8_1_informational_flood_is_bounded() {
    let mut p = client();
    let id = p.request();
    for _ in 0..11 {
        let f = p.headers(id.0, &status(103), false);
        p.send(f);
    }
    expect_rst(&mut p, id.0, ErrorCode::ENHANCE_YOUR_CALM);
    assert_eq!(p.conn.stats().abuse.informational_flood, 1);
}

#[test]
fn s8_1_informational_with_end_stream_is_malformed() {
    let mut p = client();
    let id = p.request();
    let f = p.headers(id.0, &status(100), true);
    p.send(f);
    expect_rst(&mut p, id.0, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s8_1_1_response_content_length_mismatch() {
    let mut p = client();
    let id = p.request();
    let f = p.headers(
        id.0,
        &[h(":status", "200"), h("content-length", "3")],
        false,
    );
    p.send(f);
    p.send(data(id.0, b"four", true));
    expect_rst(&mut p, id.0, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn head_response_may_announce_content_length() {
    let mut p = client();
    let mut req = get("/");
    req[0] = h(":method", "HEAD");
    let id = p.conn.send_request(req, true).unwrap();
    p.recv();
    let f = p.headers(
        id.0,
        &[h(":status", "200"), h("content-length", "1000")],
        true,
    );
    p.send(f);
    assert!(p
        .events
        .iter()
        .any(|e| matches!(e, Event::StreamClosed { .. })));
}

#[test]
fn oversized_response_headers_are_refused_with_bounded_memory() {
    let cfg = Config {
        max_header_list_size: 1024,
        ..Config::default()
    };
    let mut p = RawPeer::server_to(cfg);
    let id = p.conn.send_request(get("/"), true).unwrap();
    p.recv();
    let f = p.headers(
        id.0,
        &[h(":status", "200"), h("x-huge", &"z".repeat(5000))],
        true,
    );
    p.send(f);
    expect_rst(&mut p, id.0, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_8_goaway_with_error_fails_open_streams() {
    let mut p = client();
    let id = p.request();
    p.send(Frame::GoAway(frame::GoAway {
        last_stream_id: id,
        error_code: ErrorCode::INTERNAL_ERROR,
        debug_data: Bytes::from_static(b"boom"),
    }));
    assert!(p
        .conn
        .error()
        .is_some_and(|e| e.remote && e.code == ErrorCode::INTERNAL_ERROR));
    assert!(p.events.iter().any(|e| matches!(
        e,
        Event::StreamReset {
            code: ErrorCode::INTERNAL_ERROR,
            remote: true,
            ..
        }
    )));
    assert!(p.conn.send_request(get("/"), true).is_err());
}

#[test]
fn rfc9218_s7_1_server_may_not_send_priority_update() {
    let mut p = client();
    let id = p.request();
    p.send(Frame::PriorityUpdate(frame::PriorityUpdate {
        prioritized_id: id,
        field_value: Bytes::from_static(b"u=1"),
    }));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s5_1_1_client_reports_stream_id_exhaustion() {
    let mut p = client();
    p.conn.set_next_stream_id_for_tests(0x7fff_fffd);
    let a = p.conn.send_request(get("/"), true).unwrap();
    assert_eq!(a, StreamId(0x7fff_fffd));
    let b = p.conn.send_request(get("/"), true).unwrap();
    assert_eq!(b, StreamId::MAX);
    // §5.1.1: "If a client ... is unable to establish a new stream identifier, it can
    // establish a new connection for new streams."
    assert_eq!(
        p.conn.send_request(get("/"), true),
        Err(h2proto::Error::StreamIdsExhausted)
    );
    assert!(!p.conn.can_open_stream());
}

#[test]
fn server_sends_data_beyond_our_window() {
    let cfg = Config {
        initial_window_size: 65_535,
        ..Config::default()
    };
    let mut p = RawPeer::server_to(cfg);
    let id = p.conn.send_request(get("/"), true).unwrap();
    p.recv();
    let f = p.headers(id.0, &status(200), false);
    p.send(f);
    for _ in 0..5 {
        p.send(data(id.0, &[0u8; 16_384], false));
    }
    expect_rst(&mut p, id.0, ErrorCode::FLOW_CONTROL_ERROR);
}
