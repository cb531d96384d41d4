//! Server-role conformance: a scripted raw client sends what RFC 9113 forbids, and we assert
//! the exact answer. Test names give the section (the h2spec sections are the floor).
// The virtual clock needs one real `Instant` as its origin; nothing here sleeps or reads time again.
#![allow(clippy::disallowed_methods)]

mod common;

use bytes::Bytes;
use common::*;
use h2proto::frame::{self, Frame, SettingId};
use h2proto::{Config, ErrorCode, Event, StreamId};
use std::time::Duration;

fn server() -> RawPeer {
    RawPeer::client_to(Config::default())
}

#[test]
fn s3_4_invalid_preface() {
    let mut p = RawPeer::client_to(Config::default());
    let _ = p;
    let now = std::time::Instant::now();
    let mut c = h2proto::Connection::new(h2proto::Role::Server, Config::default(), now);
    assert!(c.handle_input(b"GET / HTTP/1.1\r\n\r\n", now).is_err());
    let mut out = vec![];
    while c.poll_transmit(now, &mut out) {}
    assert_eq!(c.error().unwrap().code, ErrorCode::PROTOCOL_ERROR);
    p = RawPeer::client_to(Config::default());
    assert!(p.conn.error().is_none());
}

#[test]
fn s3_4_first_frame_must_be_settings() {
    let now = std::time::Instant::now();
    let mut c = h2proto::Connection::new(h2proto::Role::Server, Config::default(), now);
    let mut b = frame::PREFACE.to_vec();
    ping(*b"abcdefgh").encode(&mut b);
    assert!(c.handle_input(&b, now).is_err());
    assert_eq!(c.error().unwrap().code, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s4_2_frame_larger_than_max_frame_size() {
    let mut p = server();
    p.open(1, false);
    p.send(data(1, &vec![0u8; 16_385], false));
    expect_goaway(&mut p, ErrorCode::FRAME_SIZE_ERROR);
}

#[test]
fn s4_3_hpack_error_is_compression_error() {
    let mut p = server();
    // Index 0 is invalid (RFC 7541 §6.1).
    p.send(Frame::Headers(frame::Headers {
        stream_id: StreamId(1),
        block: Bytes::from_static(&[0x80]),
        end_stream: true,
        end_headers: true,
        priority: None,
        pad: None,
    }));
    expect_goaway(&mut p, ErrorCode::COMPRESSION_ERROR);
}

#[test]
fn s5_1_data_on_idle_stream() {
    let mut p = server();
    p.send(data(1, b"x", false));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s5_1_rst_stream_on_idle_stream() {
    let mut p = server();
    p.send(rst(1, ErrorCode::CANCEL));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s5_1_window_update_on_idle_stream() {
    let mut p = server();
    p.send(window_update(1, 100));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s5_1_continuation_on_idle_stream() {
    let mut p = server();
    p.send(Frame::Continuation(frame::Continuation {
        stream_id: StreamId(1),
        block: Bytes::new(),
        end_headers: true,
    }));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s5_1_half_closed_remote_data_is_stream_closed() {
    let mut p = server();
    p.open(1, true);
    p.recv();
    p.send(data(1, b"late", false));
    expect_rst(&mut p, 1, ErrorCode::STREAM_CLOSED);
}

#[test]
fn s5_1_half_closed_remote_headers_is_stream_closed() {
    let mut p = server();
    p.open(1, true);
    p.recv();
    let f = p.headers(1, &[h("x-trailer", "1")], true);
    p.send(f);
    expect_rst(&mut p, 1, ErrorCode::STREAM_CLOSED);
}

#[test]
fn s5_1_closed_after_peer_reset_data_is_stream_closed() {
    let mut p = server();
    p.open(1, false);
    p.send(rst(1, ErrorCode::CANCEL));
    p.recv();
    p.send(data(1, b"x", false));
    expect_rst(&mut p, 1, ErrorCode::STREAM_CLOSED);
}

#[test]
fn s5_1_frames_after_our_reset_are_ignored_but_credit_returns() {
    let cfg = Config {
        connection_window_size: 65_535,
        ..Config::default()
    };
    let mut p = RawPeer::client_to(cfg);
    p.open(1, false);
    p.conn.reset_stream(StreamId(1), ErrorCode::CANCEL).unwrap();
    p.recv();
    // Data in flight after our RST_STREAM is ignored, but it still counts against and returns
    // the connection window (§6.9).
    for _ in 0..4 {
        p.send(data(1, &[0u8; 16_000], false));
    }
    let frames = p.recv();
    assert!(resets(&frames).is_empty());
    assert!(p.conn.error().is_none());
    let credited: u32 = frames
        .iter()
        .filter_map(|f| match f {
            Frame::WindowUpdate(w) if w.stream_id.is_zero() => Some(w.increment),
            _ => None,
        })
        .sum();
    assert!(credited >= 32_000, "{frames:?}");
    assert!(p.conn.recv_window(StreamId(0)) > 0);
}

#[test]
fn s5_1_1_stream_id_must_increase() {
    let mut p = server();
    p.open(5, true);
    let f = p.headers(3, &get("/"), true);
    p.send(f);
    // §5.1.1: an unexpected (lower, never opened) stream identifier is PROTOCOL_ERROR.
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s5_1_headers_on_a_used_and_closed_lower_stream_is_stream_closed() {
    let mut p = RawPeer::client_to(Config::default());
    p.open(1, true);
    p.conn
        .send_response(StreamId(1), status(200), true)
        .unwrap();
    p.open(3, true);
    p.recv();
    // Stream 1 was opened and closed (not skipped): §5.1 closed, STREAM_CLOSED.
    let f = p.headers(1, &get("/"), true);
    p.send(f);
    expect_goaway(&mut p, ErrorCode::STREAM_CLOSED);
}

#[test]
fn s5_1_1_even_stream_id_from_client() {
    let mut p = server();
    let f = p.headers(2, &get("/"), true);
    p.send(f);
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s5_1_2_streams_beyond_the_limit_are_refused() {
    let cfg = Config {
        max_concurrent_streams: 2,
        ..Config::default()
    };
    let mut p = RawPeer::client_to(cfg);
    p.open(1, true);
    p.open(3, true);
    let f = p.headers(5, &get("/"), true);
    p.send(f);
    expect_rst(&mut p, 5, ErrorCode::REFUSED_STREAM);
    assert_eq!(p.conn.stats().abuse.refused_streams, 1);
    // A refused stream costs no record; a flood of them stays bounded.
    for id in (7..2007).step_by(2) {
        let f = p.headers(id, &get("/"), true);
        p.send(f);
    }
    assert_eq!(p.conn.tracked_streams(), 2);
    assert!(p.conn.error().is_none());
}

#[test]
fn s5_3_1_headers_self_dependency() {
    let mut p = server();
    let mut block = Vec::new();
    p.encoder.encode(get("/").iter(), &mut block);
    p.send(Frame::Headers(frame::Headers {
        stream_id: StreamId(1),
        block: Bytes::from(block),
        end_stream: true,
        end_headers: true,
        priority: Some(frame::PriorityFields {
            exclusive: false,
            dependency: StreamId(1),
            weight: 15,
        }),
        pad: None,
    }));
    expect_rst(&mut p, 1, ErrorCode::PROTOCOL_ERROR);
    // HPACK stayed in sync: the next request decodes.
    p.open(3, true);
}

#[test]
fn s5_3_1_priority_self_dependency() {
    let mut p = server();
    p.send(Frame::Priority(frame::Priority {
        stream_id: StreamId(1),
        fields: frame::PriorityFields {
            exclusive: false,
            dependency: StreamId(1),
            weight: 1,
        },
    }));
    expect_rst(&mut p, 1, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s5_5_unknown_frame_types_are_ignored() {
    let mut p = server();
    p.send(Frame::Unknown(frame::Unknown {
        header: frame::FrameHeader {
            length: 3,
            kind: frame::FrameType(0xee),
            flags: 0xff,
            stream_id: StreamId(0),
        },
        payload: Bytes::from_static(b"abc"),
    }));
    p.send(ping(*b"stillok!"));
    let frames = p.recv();
    assert!(matches!(frames.as_slice(), [Frame::Ping(pg)] if pg.ack && &pg.payload == b"stillok!"));
}

#[test]
fn s6_1_data_beyond_stream_window() {
    let cfg = Config {
        initial_window_size: 65_535,
        ..Config::default()
    };
    let mut p = RawPeer::client_to(cfg);
    p.open(1, false);
    for _ in 0..4 {
        p.send(data(1, &[0u8; 16_384], false));
    }
    p.send(data(1, &[0u8; 16_384], false));
    expect_rst(&mut p, 1, ErrorCode::FLOW_CONTROL_ERROR);
}

#[test]
fn s6_9_1_connection_window_overflow() {
    let mut p = server();
    p.send(window_update(0, 0x7fff_ffff));
    expect_goaway(&mut p, ErrorCode::FLOW_CONTROL_ERROR);
}

#[test]
fn s6_9_1_stream_window_overflow() {
    let mut p = server();
    p.open(1, true);
    p.send(window_update(1, 0x7fff_ffff));
    expect_rst(&mut p, 1, ErrorCode::FLOW_CONTROL_ERROR);
}

#[test]
fn s6_9_window_update_zero_on_stream() {
    let mut p = server();
    p.open(1, true);
    p.send(window_update(1, 0));
    expect_rst(&mut p, 1, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_9_2_initial_window_size_change_applies_and_may_go_negative() {
    let mut p = server();
    p.open(1, true);
    p.conn
        .send_response(StreamId(1), status(200), false)
        .unwrap();
    p.conn
        .send_data(StreamId(1), Bytes::from(vec![1u8; 60_000]), false)
        .unwrap();
    p.recv();
    assert_eq!(p.conn.send_window(StreamId(1)), 5_535);
    p.send(settings(&[(SettingId::INITIAL_WINDOW_SIZE, 1_000)]));
    assert_eq!(p.conn.send_window(StreamId(1)), 5_535 - 64_535);
    p.send(settings(&[(SettingId::INITIAL_WINDOW_SIZE, 0x7fff_ffff)]));
    assert!(p.conn.error().is_none());
    // Now a WINDOW_UPDATE takes the stream window beyond 2^31-1: a stream error (§6.9.1).
    p.send(window_update(1, 1_000_000));
    expect_rst(&mut p, 1, ErrorCode::FLOW_CONTROL_ERROR);
}

#[test]
fn s6_9_2_initial_window_size_overflow_is_connection_error() {
    let mut p = server();
    p.open(1, true);
    p.conn
        .send_response(StreamId(1), status(200), false)
        .unwrap();
    p.send(window_update(1, 0x7fff_0000));
    p.send(settings(&[(SettingId::INITIAL_WINDOW_SIZE, 0x10_0000)]));
    expect_goaway(&mut p, ErrorCode::FLOW_CONTROL_ERROR);
}

#[test]
fn s6_9_2_small_initial_window_sends_one_byte_frames() {
    let mut p = server();
    p.send(settings(&[(SettingId::INITIAL_WINDOW_SIZE, 1)]));
    p.open(1, true);
    p.conn
        .send_response(StreamId(1), status(200), false)
        .unwrap();
    p.conn
        .send_data(StreamId(1), Bytes::from_static(b"hello"), true)
        .unwrap();
    let frames = p.recv();
    let datas: Vec<usize> = frames
        .iter()
        .filter_map(|f| match f {
            Frame::Data(d) => Some(d.data.len()),
            _ => None,
        })
        .collect();
    assert_eq!(datas, [1]);
}

#[test]
fn s6_10_other_frame_inside_header_block() {
    let mut p = server();
    let mut block = Vec::new();
    p.encoder.encode(get("/").iter(), &mut block);
    p.send(Frame::Headers(frame::Headers {
        stream_id: StreamId(1),
        block: Bytes::from(block),
        end_stream: true,
        end_headers: false,
        priority: None,
        pad: None,
    }));
    p.send(data(1, b"x", true));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_10_continuation_assembles_the_block() {
    let mut p = server();
    let mut block = Vec::new();
    p.encoder.encode(get("/split").iter(), &mut block);
    let (a, b) = block.split_at(3);
    p.send(Frame::Headers(frame::Headers {
        stream_id: StreamId(1),
        block: Bytes::copy_from_slice(a),
        end_stream: true,
        end_headers: false,
        priority: None,
        pad: None,
    }));
    p.send(Frame::Continuation(frame::Continuation {
        stream_id: StreamId(1),
        block: Bytes::copy_from_slice(b),
        end_headers: true,
    }));
    assert!(p.events.iter().any(
        |e| matches!(e, Event::RequestReceived { headers, .. } if headers[2].value == "/split")
    ));
}

#[test]
fn s6_5_2_server_rejects_enable_push_value_2() {
    let mut p = server();
    p.send_bytes(&[0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 2]);
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s6_6_client_may_not_push() {
    let mut p = server();
    p.open(1, false);
    let mut block = Vec::new();
    p.encoder.encode(get("/x").iter(), &mut block);
    p.send(Frame::PushPromise(frame::PushPromise {
        stream_id: StreamId(1),
        promised_id: StreamId(2),
        block: Bytes::from(block),
        end_headers: true,
        pad: None,
    }));
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s8_1_1_malformed_requests_are_reset_and_never_seen() {
    let cases: Vec<Vec<h2proto::Header>> = vec![
        vec![h(":method", "GET"), h(":path", "/")], // no :scheme
        vec![h(":method", "GET"), h(":scheme", "https"), h(":path", "")], // empty path
        vec![
            h(":method", "GET"),
            h(":scheme", "https"),
            h(":path", "/"),
            h("Upper", "1"),
        ],
        vec![
            h(":method", "GET"),
            h(":scheme", "https"),
            h(":path", "/"),
            h("connection", "close"),
        ],
        vec![
            h(":method", "GET"),
            h(":scheme", "https"),
            h(":path", "/"),
            h("te", "gzip"),
        ],
        vec![
            h(":method", "GET"),
            h(":scheme", "https"),
            h(":path", "/"),
            h("x", "a\r\nb"),
        ],
        vec![
            h(":method", "GET"),
            h(":scheme", "https"),
            h(":path", "/"),
            h("", "empty-name"),
        ],
        vec![
            h(":method", "GET"),
            h("x", "1"),
            h(":scheme", "https"),
            h(":path", "/"),
        ],
        vec![
            h(":method", "GET"),
            h(":scheme", "https"),
            h(":path", "/"),
            h(":status", "200"),
        ],
        vec![
            h(":method", "GET"),
            h(":method", "GET"),
            h(":scheme", "https"),
            h(":path", "/"),
        ],
        vec![
            h(":method", "GET"),
            h(":scheme", "https"),
            h(":path", "/"),
            h(":protocol", "ws"),
        ],
    ];
    let mut p = server();
    let mut id = 1;
    for c in cases {
        let f = p.headers(id, &c, true);
        p.send(f);
        expect_rst(&mut p, id, ErrorCode::PROTOCOL_ERROR);
        id += 2;
    }
    assert!(!p
        .events
        .iter()
        .any(|e| matches!(e, Event::RequestReceived { .. })));
    p.open(id, true);
}

#[test]
fn s8_1_1_content_length_mismatch() {
    let mut p = server();
    let mut req = post("/");
    req.push(h("content-length", "10"));
    let f = p.headers(1, &req, false);
    p.send(f);
    p.send(data(1, b"12345", true));
    expect_rst(&mut p, 1, ErrorCode::PROTOCOL_ERROR);
    let f = p.headers(3, &req, false);
    p.send(f);
    p.send(data(3, &[0u8; 11], false));
    expect_rst(&mut p, 3, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn s8_1_trailers_without_end_stream() {
    let mut p = server();
    p.open(1, false);
    let f = p.headers(1, &[h("x-t", "1")], false);
    p.send(f);
    expect_rst(&mut p, 1, ErrorCode::PROTOCOL_ERROR);
}

#[test]
fn rfc8441_extended_connect_when_enabled() {
    let cfg = Config {
        enable_connect_protocol: true,
        ..Config::default()
    };
    let mut p = RawPeer::client_to(cfg);
    let req = vec![
        h(":method", "CONNECT"),
        h(":protocol", "websocket"),
        h(":scheme", "https"),
        h(":path", "/chat"),
        h(":authority", "example.com"),
    ];
    let f = p.headers(1, &req, false);
    p.send(f);
    assert!(p
        .events
        .iter()
        .any(|e| matches!(e, Event::RequestReceived { .. })));
}

#[test]
fn s10_5_1_oversized_header_list_gets_431() {
    let cfg = Config {
        max_header_list_size: 200,
        ..Config::default()
    };
    let mut p = RawPeer::client_to(cfg);
    let mut req = get("/");
    req.push(h("x-big", &"a".repeat(300)));
    let f = p.headers(1, &req, true);
    p.send(f);
    let frames = p.recv();
    let block = frames
        .iter()
        .find_map(|f| match f {
            Frame::Headers(hd) => Some(hd.block.clone()),
            _ => None,
        })
        .expect("a response");
    let headers = p.decode_block(&block);
    assert_eq!(headers[0].value, "431");
    assert!(p.conn.error().is_none());
    p.open(3, true);
}

#[test]
fn hpack_bomb_is_refused_with_bounded_memory() {
    let mut p = server();
    // One 4000-byte entry, then thousands of 1-byte references to it.
    let mut block = Vec::new();
    p.encoder.encode(get("/").iter(), &mut block);
    let mut raw = vec![0x40, 0x01, b'x', 0x7f];
    // value length 4000 as an HPACK integer with a 7-bit prefix: 127 + 3873.
    let mut n = 4000 - 127;
    while n >= 128 {
        raw.push((n % 128 + 128) as u8);
        n /= 128;
    }
    raw.push(n as u8);
    raw.extend(std::iter::repeat_n(b'v', 4000));
    block.extend_from_slice(&raw);
    block.extend(std::iter::repeat_n(0xbeu8, 12_000)); // index 62: the new entry
    p.send(Frame::Headers(frame::Headers {
        stream_id: StreamId(1),
        block: Bytes::from(block),
        end_stream: true,
        end_headers: true,
        priority: None,
        pad: None,
    }));
    let frames = p.recv();
    assert!(!p
        .events
        .iter()
        .any(|e| matches!(e, Event::RequestReceived { .. })));
    assert!(p.conn.error().is_none(), "{frames:?}");
    assert_eq!(p.conn.stats().abuse.header_list_too_large, 1);
}

#[test]
fn continuation_flood_is_goaway_enhance_your_calm() {
    let mut p = server();
    p.send(Frame::Headers(frame::Headers {
        stream_id: StreamId(1),
        block: Bytes::from_static(&[0x82]),
        end_stream: true,
        end_headers: false,
        priority: None,
        pad: None,
    }));
    for _ in 0..100 {
        p.send(Frame::Continuation(frame::Continuation {
            stream_id: StreamId(1),
            block: Bytes::new(),
            end_headers: false,
        }));
        if p.conn.error().is_some() {
            break;
        }
    }
    expect_goaway(&mut p, ErrorCode::ENHANCE_YOUR_CALM);
    assert_eq!(p.conn.stats().abuse.continuation_flood, 1);
}

#[test]
fn rapid_reset_is_goaway_enhance_your_calm() {
    let cfg = Config {
        remote_reset_burst: 50,
        remote_reset_rate: 10,
        ..Config::default()
    };
    let mut p = RawPeer::client_to(cfg);
    let mut id = 1;
    let mut sent = 0;
    while p.conn.error().is_none() && sent < 1000 {
        let f = p.headers(id, &get("/"), true);
        p.send_all(vec![f, rst(id, ErrorCode::CANCEL)]);
        id += 2;
        sent += 1;
    }
    assert_eq!(sent, 51);
    // Reset streams leave no records behind.
    assert_eq!(p.conn.tracked_streams(), 0);
    expect_goaway(&mut p, ErrorCode::ENHANCE_YOUR_CALM);
    assert_eq!(p.conn.stats().abuse.rapid_reset, 1);
}

#[test]
fn reset_budget_covers_resets_we_are_made_to_send() {
    let cfg = Config {
        max_local_resets: 10,
        ..Config::default()
    };
    let mut p = RawPeer::client_to(cfg);
    let mut id = 1;
    for _ in 0..11 {
        p.open(id, true);
        p.send(window_update(id, 0)); // MadeYouReset: forces RST_STREAM(PROTOCOL_ERROR)
        id += 2;
    }
    expect_goaway(&mut p, ErrorCode::ENHANCE_YOUR_CALM);
    assert_eq!(p.conn.stats().abuse.too_many_resets, 1);
}

#[test]
fn ping_flood_is_bounded() {
    let cfg = Config {
        max_pending_control_answers: 20,
        ..Config::default()
    };
    let mut p = RawPeer::client_to(cfg);
    let mut b = Vec::new();
    for i in 0..21u8 {
        ping([i; 8]).encode(&mut b);
    }
    p.send_bytes(&b);
    expect_goaway(&mut p, ErrorCode::ENHANCE_YOUR_CALM);
}

#[test]
fn settings_with_too_many_entries() {
    let mut p = server();
    let params: Vec<(SettingId, u32)> = (0..40).map(|i| (SettingId(0x100 + i), 1)).collect();
    p.send(settings(&params));
    expect_goaway(&mut p, ErrorCode::ENHANCE_YOUR_CALM);
}

#[test]
fn empty_data_frames_flood() {
    let mut p = server();
    p.open(1, false);
    for _ in 0..101 {
        p.send(data(1, b"", false));
    }
    expect_goaway(&mut p, ErrorCode::ENHANCE_YOUR_CALM);
}

#[test]
fn preface_timeout() {
    let now = std::time::Instant::now();
    let mut c = h2proto::Connection::new(h2proto::Role::Server, Config::default(), now);
    c.handle_input(&frame::PREFACE[..5], now).unwrap();
    c.handle_timeout(now + Duration::from_secs(11));
    assert!(c.error().is_some());
}

#[test]
fn zero_window_stall_resets_the_stream() {
    let cfg = Config {
        stream_stall_timeout: Some(Duration::from_secs(30)),
        ..Config::default()
    };
    let mut p = RawPeer::client_to(cfg);
    p.send(settings(&[(SettingId::INITIAL_WINDOW_SIZE, 0)]));
    p.open(1, true);
    p.conn
        .send_response(StreamId(1), status(200), false)
        .unwrap();
    p.conn
        .send_data(StreamId(1), Bytes::from_static(b"never sent"), true)
        .unwrap();
    p.recv();
    p.advance(Duration::from_secs(31));
    let frames = p.recv();
    assert_eq!(resets(&frames), [(1, ErrorCode::CANCEL)]);
    assert_eq!(p.conn.stats().abuse.stalled_streams, 1);
    assert_eq!(p.conn.buffered_amount(StreamId(0)), 0);
}

#[test]
fn s5_1_1_skipped_ids_are_remembered_in_bounded_space() {
    // Open 3, 7, 11, ... skipping 1, 5, 9, ...: twenty skipped ranges, more than are kept.
    let skip_many = || {
        let mut p = RawPeer::client_to(Config::default());
        for id in (3..80).step_by(4) {
            let f = p.headers(id, &get("/"), true);
            p.send(f);
        }
        assert!(p.conn.error().is_none());
        p
    };
    // The most recent skipped id is known never to have been opened: PROTOCOL_ERROR.
    let mut p = skip_many();
    let f = p.headers(77, &get("/"), true);
    p.send(f);
    expect_goaway(&mut p, ErrorCode::PROTOCOL_ERROR);
    // The oldest was forgotten: still a connection error, as on a closed stream.
    let mut p = skip_many();
    let f = p.headers(1, &get("/"), true);
    p.send(f);
    expect_goaway(&mut p, ErrorCode::STREAM_CLOSED);
}

// ---------------------------------------------------------------- beyond h2spec (RFC 9113)

/// Sends `req` on stream 1: malformed, so RST_STREAM(PROTOCOL_ERROR), unseen by the
/// application, and the next request is served.
fn expect_malformed(req: Vec<h2proto::Header>) {
    let mut p = server();
    let f = p.headers(1, &req, true);
    p.send(f);
    expect_rst(&mut p, 1, ErrorCode::PROTOCOL_ERROR);
    assert!(!p.requested(1), "{req:?}");
    p.open(3, true);
}

fn get_with(name: &[u8], value: &[u8]) -> Vec<h2proto::Header> {
    let mut req = get("/");
    req.push(h2proto::Header::new(name.to_vec(), value.to_vec()));
    req
}

#[test]
fn s8_2_1_field_name_with_forbidden_characters() {
    // §8.2.1: "A field name MUST NOT contain characters in the ranges 0x00-0x20, 0x41-0x5a, or
    // 0x7f-0xff".
    for name in [
        &b"x y"[..],
        b"x\x01",
        b"x\x7f",
        b"x\xff",
        b"X-Upper",
        b"\x00",
    ] {
        expect_malformed(get_with(name, b"v"));
    }
}

#[test]
fn s8_2_1_field_name_with_colon() {
    expect_malformed(get_with(b"x:y", b"v"));
}

#[test]
fn s8_2_1_field_value_with_nul_cr_or_lf() {
    for value in [&b"a\x00b"[..], b"a\rb", b"a\nb"] {
        expect_malformed(get_with(b"x-v", value));
    }
}

#[test]
fn s8_2_1_field_value_with_leading_or_trailing_whitespace() {
    for value in [&b" v"[..], b"v ", b"\tv", b"v\t"] {
        expect_malformed(get_with(b"x-v", value));
    }
}

#[test]
fn s8_2_1_inner_whitespace_and_obs_text_in_values_are_fine() {
    let mut p = server();
    let f = p.headers(1, &get_with(b"x-v", b"a b\tc \xe9"), true);
    p.send(f);
    assert!(p.requested(1));
}

#[test]
fn s8_2_2_other_connection_specific_fields() {
    for name in [
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "upgrade",
    ] {
        expect_malformed(get_with(name.as_bytes(), b"x"));
    }
}

#[test]
fn s8_2_2_te_trailers_is_accepted() {
    let mut p = server();
    let f = p.headers(1, &get_with(b"te", b"trailers"), true);
    p.send(f);
    assert!(p.requested(1));
}

#[test]
fn s8_2_2_we_never_send_connection_specific_fields() {
    let mut p = server();
    p.open(1, true);
    let mut resp = status(200);
    resp.push(h("connection", "close"));
    assert!(matches!(
        p.conn.send_response(StreamId(1), resp, true),
        Err(h2proto::Error::InvalidHeaders(_))
    ));
    assert!(p.recv().is_empty());
}

#[test]
fn s8_3_1_host_differing_from_authority() {
    // §8.3.1: "A server SHOULD treat a request as malformed if it contains a Host header field
    // that identifies an entity that differs from the entity in the ":authority" pseudo-header
    // field."
    expect_malformed(get_with(b"host", b"other.example"));
}

#[test]
fn s8_3_1_host_equal_to_authority_is_accepted() {
    let mut p = server();
    let f = p.headers(1, &get_with(b"host", b"example.com"), true);
    p.send(f);
    assert!(p.requested(1));
}

#[test]
fn s8_5_connect_request() {
    // §8.5: ":method" CONNECT, ":authority" only; ":scheme" and ":path" MUST be omitted.
    let connect = vec![h(":method", "CONNECT"), h(":authority", "example.com:443")];
    let mut p = server();
    let f = p.headers(1, &connect, false);
    p.send(f);
    assert!(p.requested(1));
    let mut with_path = connect.clone();
    with_path.push(h(":path", "/"));
    expect_malformed(with_path);
    expect_malformed(vec![h(":method", "CONNECT")]);
}

#[test]
fn s8_1_1_content_length_that_is_not_a_number() {
    let mut req = post("/");
    req.push(h("content-length", "ten"));
    expect_malformed(req);
}

#[test]
fn s8_1_1_content_length_with_end_stream_on_headers() {
    let mut req = post("/");
    req.push(h("content-length", "3"));
    expect_malformed(req);
}

#[test]
fn s4_3_field_block_on_a_reset_stream_still_updates_hpack() {
    let mut p = server();
    p.open(1, false);
    p.conn.reset_stream(StreamId(1), ErrorCode::CANCEL).unwrap();
    p.recv();
    // Trailers in flight on the reset stream insert "x-new: entry" into the HPACK table; they are
    // discarded but decoded, so the next request's reference to that entry still works.
    let f = p.headers(1, &[h("x-new", "entry")], true);
    p.send(f);
    let mut req = get("/");
    req.push(h("x-new", "entry"));
    let f = p.headers(3, &req, true);
    p.send(f);
    assert!(p.events.iter().any(|e| matches!(
        e,
        Event::RequestReceived { stream_id: StreamId(3), headers, .. }
            if headers.iter().any(|x| x.name == "x-new" && x.value == "entry")
    )));
    assert!(p.conn.error().is_none());
}

#[test]
fn s5_1_window_update_and_rst_stream_on_a_closed_stream_are_ignored() {
    let mut p = server();
    p.open(1, true);
    p.conn
        .send_response(StreamId(1), status(200), true)
        .unwrap();
    p.recv();
    // §5.1 closed: "might receive a WINDOW_UPDATE or RST_STREAM frame from its peer in the time
    // before the peer receives and processes the frame that closes the stream".
    p.send(window_update(1, 10));
    p.send(rst(1, ErrorCode::CANCEL));
    let frames = p.recv();
    assert!(frames.is_empty(), "{frames:?}");
    assert!(p.conn.error().is_none());
}

#[test]
fn s6_5_3_unacknowledged_settings_time_out() {
    let mut p = server();
    p.conn
        .update_settings(&[(SettingId::MAX_CONCURRENT_STREAMS, 10)], p.now)
        .unwrap();
    p.recv();
    p.advance(Duration::from_secs(11));
    expect_goaway(&mut p, ErrorCode::SETTINGS_TIMEOUT);
}

#[test]
fn s6_9_1_sender_respects_the_connection_window() {
    let mut p = server();
    p.open(1, true);
    p.conn
        .send_response(StreamId(1), status(200), false)
        .unwrap();
    p.conn
        .send_data(StreamId(1), Bytes::from(vec![0u8; 100_000]), true)
        .unwrap();
    // §6.9.2: the connection window starts at 65,535 whatever SETTINGS say.
    let sent: usize = data_lens(&p.recv(), 1).iter().sum();
    assert_eq!(sent, 65_535);
    // The stream window (65,535 by default) is spent too: opening only it sends nothing.
    p.send(window_update(1, 50_000));
    assert!(data_lens(&p.recv(), 1).is_empty());
    p.send(window_update(0, 34_465));
    let sent: usize = data_lens(&p.recv(), 1).iter().sum();
    assert_eq!(sent, 34_465);
}

#[test]
fn s6_9_2_initial_window_size_does_not_change_the_connection_window() {
    let mut p = server();
    p.send(settings(&[(SettingId::INITIAL_WINDOW_SIZE, 1_000_000)]));
    assert_eq!(p.conn.send_window(StreamId(0)), 65_535);
}

#[test]
fn s6_5_2_peer_max_header_list_size_limits_what_we_send() {
    let mut p = server();
    p.send(settings(&[(SettingId::MAX_HEADER_LIST_SIZE, 100)]));
    p.open(1, true);
    let mut resp = status(200);
    resp.push(h("x-big", &"b".repeat(200)));
    assert!(p.conn.send_response(StreamId(1), resp, true).is_err());
    p.conn
        .send_response(StreamId(1), status(200), true)
        .unwrap();
}

#[test]
fn s8_4_no_push_once_the_client_disabled_it() {
    let mut p = server();
    p.send(settings(&[(SettingId::ENABLE_PUSH, 0)]));
    p.open(1, true);
    assert_eq!(
        p.conn.send_push_promise(StreamId(1), get("/x.css")),
        Err(h2proto::Error::PushDisabled)
    );
}

fn data_lengths(frames: &[Frame]) -> Vec<usize> {
    frames
        .iter()
        .filter_map(|f| match f {
            Frame::Data(d) => Some(d.data.len()),
            _ => None,
        })
        .collect()
}

/// SECURITY.md, data dribble (CVE-2019-9511): once the window is used up, a peer that opens it
/// a byte at a time does not get a DATA frame per WINDOW_UPDATE; credit is held until it is
/// worth a frame (1 KiB here), and the held stream counts as stalled.
#[test]
fn data_dribble_gets_no_one_byte_frames() {
    let mut p = server();
    p.open(1, true);
    p.conn
        .send_response(StreamId(1), status(200), false)
        .unwrap();
    p.conn
        .send_data(StreamId(1), Bytes::from(vec![7u8; 100_000]), true)
        .unwrap();
    let first: usize = data_lengths(&p.recv()).iter().sum();
    assert_eq!(first, 65_535, "the initial windows are used");
    for i in 0..1023 {
        p.send(window_update(0, 1));
        p.send(window_update(1, 1));
        assert_eq!(
            data_lengths(&p.recv()),
            Vec::<usize>::new(),
            "after {i} bytes"
        );
    }
    p.send(window_update(0, 1));
    p.send(window_update(1, 1));
    assert_eq!(data_lengths(&p.recv()), [1024]);
    // A window opened wide again is used at once, as always.
    p.send(window_update(0, 40_000));
    p.send(window_update(1, 40_000));
    let sent: usize = data_lengths(&p.recv()).iter().sum();
    assert_eq!(sent, 100_000 - 65_535 - 1024);
}

/// A peer that keeps its window small on purpose (INITIAL_WINDOW_SIZE 100 after the preface)
/// is not starved by the dribble rule: half its window is enough for a frame.
#[test]
fn a_small_window_set_by_settings_is_still_used() {
    let mut p = server();
    p.send(settings(&[(SettingId::INITIAL_WINDOW_SIZE, 100)]));
    p.open(1, true);
    p.conn
        .send_response(StreamId(1), status(200), false)
        .unwrap();
    p.conn
        .send_data(StreamId(1), Bytes::from(vec![1u8; 300]), true)
        .unwrap();
    assert_eq!(data_lengths(&p.recv()), [100]);
    p.send(window_update(1, 50));
    assert_eq!(data_lengths(&p.recv()), [50]);
    p.send(window_update(1, 100));
    assert_eq!(data_lengths(&p.recv()), [100]);
}

/// SECURITY.md, resource loop (CVE-2019-9513): PRIORITY frames cost O(1) each and build no
/// tree, and an endless run of them is still cut off: 100 plus 8 per stream opened are
/// accepted, the next is GOAWAY(ENHANCE_YOUR_CALM) with the reason and a counter.
#[test]
fn priority_flood_is_goaway_enhance_your_calm() {
    let mut p = server();
    p.open(1, true);
    for i in 0..(100 + 8 * 2) {
        p.send(priority(3 + 2 * (i % 50), 1, false, 16));
        assert!(
            p.conn.error().is_none(),
            "refused after {i} PRIORITY frames"
        );
    }
    assert_eq!(
        p.conn.tracked_streams(),
        1,
        "PRIORITY on idle streams keeps no record"
    );
    p.send(priority(5, 1, false, 16));
    let frames = p.recv();
    let g = goaway(&frames).expect("GOAWAY");
    assert_eq!(g.error_code, ErrorCode::ENHANCE_YOUR_CALM);
    assert!(String::from_utf8_lossy(&g.debug_data).contains("PRIORITY flood"));
    assert_eq!(p.conn.stats().abuse.priority_flood, 1);
}
