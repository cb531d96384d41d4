//! Client and server `Connection`s talking to each other in memory, on a virtual clock.

#![allow(clippy::disallowed_methods)]

mod common;

use bytes::Bytes;
use common::*;
use h2proto::frame::SettingId;
use h2proto::{Config, Error, ErrorCode, Event, Priority, StreamId, StreamState};
use std::time::Duration;

fn request_id(events: &[Event]) -> Vec<StreamId> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::RequestReceived { stream_id, .. } => Some(*stream_id),
            _ => None,
        })
        .collect()
}

#[test]
fn s3_4_preface_and_settings_exchange() {
    let p = Pair::new();
    assert!(p
        .client_events
        .iter()
        .any(|e| matches!(e, Event::SettingsReceived { .. })));
    assert!(p
        .client_events
        .iter()
        .any(|e| matches!(e, Event::SettingsAcknowledged)));
    assert!(p
        .server_events
        .iter()
        .any(|e| matches!(e, Event::SettingsAcknowledged)));
    assert_eq!(p.client.peer_settings().max_concurrent_streams, 200);
    assert!(
        !p.client.peer_settings().enable_push,
        "a server always says ENABLE_PUSH 0"
    );
    // The connection window was opened beyond 65,535 right after the preface (§6.9.2).
    assert_eq!(p.client.send_window(StreamId(0)), 4 << 20);
}

#[test]
fn get_request_and_response_with_body() {
    let mut p = Pair::new();
    let id = p.client.send_request(get("/hello"), true).unwrap();
    assert_eq!(id, StreamId(1));
    p.run();
    assert_eq!(request_id(&p.server_events), [id]);
    assert_eq!(
        p.server.stream_state(id),
        Some(StreamState::HalfClosedRemote)
    );
    p.server
        .send_response(
            id,
            vec![h(":status", "200"), h("content-length", "5")],
            false,
        )
        .unwrap();
    p.server
        .send_data(id, Bytes::from_static(b"hello"), true)
        .unwrap();
    p.run();
    assert_eq!(p.client_body(id), b"hello");
    assert!(p
        .client_events
        .iter()
        .any(|e| matches!(e, Event::ResponseReceived { stream_id, .. } if *stream_id == id)));
    assert!(p
        .client_events
        .iter()
        .any(|e| matches!(e, Event::StreamClosed { stream_id } if *stream_id == id)));
    assert!(p
        .server_events
        .iter()
        .any(|e| matches!(e, Event::StreamClosed { stream_id } if *stream_id == id)));
    assert_eq!(p.client.stream_state(id), None);
    assert_eq!(p.client.active_streams(), 0);
}

#[test]
fn large_post_is_framed_flow_controlled_and_complete() {
    let mut p = Pair::new();
    let body: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let id = p.client.send_request(post("/upload"), false).unwrap();
    let mut sent = 0;
    while sent < body.len() {
        let cap = p.client.send_capacity(id);
        let n = cap.min(body.len() - sent);
        if n > 0 {
            let end = sent + n == body.len();
            p.client
                .send_data(id, Bytes::copy_from_slice(&body[sent..sent + n]), end)
                .unwrap();
            sent += n;
        }
        p.run();
    }
    p.run();
    assert_eq!(p.server_body(id), body);
    p.server.send_response(id, status(204), true).unwrap();
    p.run();
    assert!(p
        .client_events
        .iter()
        .any(|e| matches!(e, Event::StreamClosed { .. })));
}

#[test]
fn s6_9_flow_control_stall_and_resume() {
    // The server consumes nothing until told: the client's data stops at the window.
    let server_cfg = Config {
        initial_window_size: 1 << 20,
        connection_window_size: 65_535,
        ..Config::default()
    };
    let mut p = Pair::with(Config::default(), server_cfg);
    p.auto_release = false;
    let id = p.client.send_request(post("/"), false).unwrap();
    p.client
        .send_data(id, Bytes::from(vec![1u8; 200_000]), true)
        .unwrap();
    p.run();
    assert_eq!(p.server_body(id).len(), 65_535);
    assert_eq!(
        p.client.send_window(StreamId(0)),
        0,
        "blocked on the connection window"
    );
    assert_eq!(p.client.buffered_amount(id), 200_000 - 65_535);
    assert_eq!(p.client.buffered_amount(StreamId(0)), 200_000 - 65_535);
    p.now += Duration::from_millis(250);
    // The application consumes: WINDOW_UPDATEs flow and the rest arrives.
    p.server.release_capacity(id, 65_535);
    p.auto_release = true;
    p.run();
    assert_eq!(p.server_body(id).len(), 200_000);
    assert_eq!(p.client.buffered_amount(StreamId(0)), 0);
    // Observability: the time spent blocked on the connection window was counted.
    assert_eq!(
        p.client.stats().connection_stalled,
        Duration::from_millis(250)
    );
}

#[test]
fn send_capacity_bounds_the_buffer_and_writable_follows() {
    let client_cfg = Config {
        max_send_buffer_per_stream: 10_000,
        ..Config::default()
    };
    let server_cfg = Config {
        initial_window_size: 65_535,
        connection_window_size: 65_535,
        ..Config::default()
    };
    let mut p = Pair::with(client_cfg, server_cfg);
    p.auto_release = false;
    let id = p.client.send_request(post("/"), false).unwrap();
    // Fill the peer's window and our buffer.
    for _ in 0..20 {
        let cap = p.client.send_capacity(id);
        if cap == 0 {
            break;
        }
        p.client
            .send_data(id, Bytes::from(vec![0u8; cap]), false)
            .unwrap();
        p.run();
    }
    assert_eq!(p.client.send_window(id), 0);
    assert_eq!(p.client.send_capacity(id), 0);
    assert_eq!(
        p.client.send_data(id, Bytes::from_static(b"x"), false),
        Err(Error::SendBufferFull)
    );
    p.server.release_capacity(id, 65_535);
    p.run();
    assert!(p
        .client_events
        .iter()
        .any(|e| matches!(e, Event::StreamWritable { stream_id } if *stream_id == id)));
    assert!(p.client.send_capacity(id) > 0);
}

#[test]
fn s8_1_trailers_both_ways() {
    let mut p = Pair::new();
    let id = p.client.send_request(post("/grpc"), false).unwrap();
    p.client
        .send_data(id, Bytes::from_static(b"req"), false)
        .unwrap();
    p.client
        .send_trailers(id, vec![h("x-checksum", "abc")])
        .unwrap();
    p.run();
    assert!(p.server_events.iter().any(
        |e| matches!(e, Event::TrailersReceived { headers, .. } if headers[0].value == "abc")
    ));
    p.server.send_response(id, status(200), false).unwrap();
    p.server
        .send_data(id, Bytes::from_static(b"resp"), false)
        .unwrap();
    p.server
        .send_trailers(id, vec![h("grpc-status", "0")])
        .unwrap();
    p.run();
    assert_eq!(p.client_body(id), b"resp");
    assert!(p.client_events.iter().any(
        |e| matches!(e, Event::TrailersReceived { headers, .. } if headers[0].name == "grpc-status")
    ));
    assert!(p
        .client_events
        .iter()
        .any(|e| matches!(e, Event::StreamClosed { .. })));
}

#[test]
fn s8_1_informational_then_final_response() {
    let mut p = Pair::new();
    let id = p.client.send_request(post("/"), false).unwrap();
    p.run();
    p.server.send_response(id, status(100), false).unwrap();
    p.server.send_response(id, status(103), false).unwrap();
    assert!(
        p.server.send_response(id, status(100), true).is_err(),
        "1xx cannot end the stream"
    );
    p.server.send_response(id, status(200), true).unwrap();
    assert!(p.server.send_response(id, status(200), true).is_err());
    p.run();
    let infos = p
        .client_events
        .iter()
        .filter(|e| matches!(e, Event::InformationalReceived { .. }))
        .count();
    assert_eq!(infos, 2);
    assert!(p.client_events.iter().any(|e| matches!(
        e,
        Event::ResponseReceived {
            end_stream: true,
            ..
        }
    )));
}

#[test]
fn s8_4_server_push() {
    let mut p = Pair::new();
    // Our default client config enables push; the server learns it from the default (1).
    let id = p.client.send_request(get("/index.html"), true).unwrap();
    p.run();
    let promised = p.server.send_push_promise(id, get("/style.css")).unwrap();
    assert_eq!(promised, StreamId(2));
    assert_eq!(
        p.server.stream_state(promised),
        Some(StreamState::ReservedLocal)
    );
    p.server.send_response(id, status(200), false).unwrap();
    p.server
        .send_data(id, Bytes::from_static(b"<html>"), true)
        .unwrap();
    p.server
        .send_response(promised, status(200), false)
        .unwrap();
    p.server
        .send_data(promised, Bytes::from_static(b"body{}"), true)
        .unwrap();
    p.run();
    let promise = p.client_events.iter().find_map(|e| match e {
        Event::PushPromiseReceived {
            stream_id,
            associated,
            headers,
        } => Some((*stream_id, *associated, headers.clone())),
        _ => None,
    });
    let (pid, assoc, headers) = promise.expect("push promise event");
    assert_eq!((pid, assoc), (promised, id));
    assert!(headers
        .iter()
        .any(|h| h.name == ":path" && h.value == "/style.css"));
    assert_eq!(p.client_body(promised), b"body{}");
    assert_eq!(p.client_body(id), b"<html>");
}

#[test]
fn s8_4_client_refuses_push_and_disables_it() {
    let mut p = Pair::new();
    let id = p.client.send_request(get("/"), true).unwrap();
    p.run();
    let promised = p.server.send_push_promise(id, get("/a.js")).unwrap();
    p.run();
    p.client.reset_stream(promised, ErrorCode::CANCEL).unwrap();
    p.run();
    assert!(p.server_events.iter().any(|e| matches!(e, Event::StreamReset { stream_id, code: ErrorCode::CANCEL, remote: true } if *stream_id == promised)));
    // SETTINGS_ENABLE_PUSH = 0: the server API refuses to push from then on.
    p.client
        .update_settings(&[(SettingId::ENABLE_PUSH, 0)], p.now)
        .unwrap();
    p.run();
    assert_eq!(
        p.server.send_push_promise(id, get("/b.js")),
        Err(Error::PushDisabled)
    );
}

#[test]
fn s5_1_2_concurrency_limit_is_reported_to_the_client() {
    let server_cfg = Config {
        max_concurrent_streams: 2,
        ..Config::default()
    };
    let mut p = Pair::with(Config::default(), server_cfg);
    let a = p.client.send_request(get("/a"), true).unwrap();
    let _b = p.client.send_request(get("/b"), true).unwrap();
    assert_eq!(
        p.client.send_request(get("/c"), true),
        Err(Error::ConcurrencyLimit)
    );
    assert!(!p.client.can_open_stream());
    p.run();
    p.server.send_response(a, status(200), true).unwrap();
    p.run();
    assert!(p.client.can_open_stream());
    p.client.send_request(get("/c"), true).unwrap();
}

#[test]
fn s6_7_ping_answer_carries_round_trip_time() {
    let mut p = Pair::new();
    p.client.ping(*b"12345678", p.now).unwrap();
    let mut buf = Vec::new();
    while p.client.poll_transmit(p.now, &mut buf) {}
    p.server.handle_input(&buf, p.now).unwrap();
    p.now += Duration::from_millis(30);
    p.run();
    let rtt = p.client_events.iter().find_map(|e| match e {
        Event::PingAnswered {
            payload: [b'1', b'2', b'3', b'4', b'5', b'6', b'7', b'8'],
            rtt,
        } => Some(*rtt),
        _ => None,
    });
    assert_eq!(rtt, Some(Duration::from_millis(30)));
}

#[test]
fn s6_8_graceful_shutdown_lets_in_flight_streams_finish() {
    let mut p = Pair::new();
    let id = p.client.send_request(get("/slow"), true).unwrap();
    p.run();
    p.server.graceful_shutdown(p.now);
    p.run();
    // First GOAWAY (2^31-1), then the PING round trip, then the real last stream id.
    let goaways: Vec<StreamId> = p
        .client_events
        .iter()
        .filter_map(|e| match e {
            Event::GoAwayReceived { last_stream_id, .. } => Some(*last_stream_id),
            _ => None,
        })
        .collect();
    assert_eq!(goaways, [StreamId::MAX, id]);
    assert_eq!(
        p.client.send_request(get("/new"), true),
        Err(Error::GoingAway)
    );
    assert!(!p.server.is_closed());
    p.server.send_response(id, status(200), false).unwrap();
    p.server
        .send_data(id, Bytes::from(vec![7u8; 100_000]), true)
        .unwrap();
    p.run();
    assert_eq!(p.client_body(id).len(), 100_000);
    assert!(p.server.is_closed());
    assert!(p.client.is_closed());
}

#[test]
fn s6_8_streams_above_last_id_are_refused_and_retryable() {
    let mut p = Pair::new();
    let a = p.client.send_request(get("/a"), true).unwrap();
    p.run();
    let b = p.client.send_request(get("/b"), true).unwrap();
    // The server sends GOAWAY(last = a) before b arrives.
    p.server.goaway(ErrorCode::NO_ERROR, Bytes::new());
    let mut buf = Vec::new();
    while p.server.poll_transmit(p.now, &mut buf) {}
    p.client.handle_input(&buf, p.now).unwrap();
    while let Some(e) = p.client.poll_event() {
        p.client_events.push(e);
    }
    assert!(p.client_events.iter().any(|e| matches!(e, Event::StreamReset { stream_id, code: ErrorCode::REFUSED_STREAM, remote: true } if *stream_id == b)));
    assert_eq!(p.client.stream_state(a), Some(StreamState::HalfClosedLocal));
}

#[test]
fn rfc9218_priority_header_and_update_drive_scheduling() {
    let mut p = Pair::new();
    let mut req = get("/a");
    req.push(h("priority", "u=5"));
    let low = p.client.send_request(req, true).unwrap();
    let mut req = get("/b");
    req.push(h("priority", "u=1"));
    let high = p.client.send_request(req, true).unwrap();
    p.run();
    assert_eq!(p.server.stream_priority(low).unwrap().urgency, 5);
    assert_eq!(p.server.stream_priority(high).unwrap().urgency, 1);
    // Both responses queued; the urgent one's DATA comes first.
    for id in [low, high] {
        p.server.send_response(id, status(200), false).unwrap();
        p.server
            .send_data(id, Bytes::from(vec![0u8; 40_000]), true)
            .unwrap();
    }
    p.run();
    let order: Vec<StreamId> = p
        .client_events
        .iter()
        .filter_map(|e| match e {
            Event::DataReceived { stream_id, .. } => Some(*stream_id),
            _ => None,
        })
        .collect();
    let first_low = order.iter().position(|&i| i == low).unwrap();
    let last_high = order.iter().rposition(|&i| i == high).unwrap();
    assert!(last_high < first_low, "{order:?}");
    // PRIORITY_UPDATE (RFC 9218 §7.1) from the client re-prioritises on the server.
    let id = p.client.send_request(get("/c"), true).unwrap();
    p.run();
    p.client
        .set_priority(
            id,
            Priority {
                urgency: 0,
                incremental: true,
            },
        )
        .unwrap();
    p.run();
    assert_eq!(
        p.server.stream_priority(id),
        Some(Priority {
            urgency: 0,
            incremental: true
        })
    );
    assert!(p
        .server_events
        .iter()
        .any(|e| matches!(e, Event::PriorityChanged { stream_id, .. } if *stream_id == id)));
}

#[test]
fn s6_5_3_settings_timeout() {
    let mut p = Pair::new();
    // A fresh client whose SETTINGS are never acknowledged.
    let mut c = h2proto::Connection::new(h2proto::Role::Client, Config::default(), p.now);
    p.now += Duration::from_secs(11);
    assert!(c.poll_timeout().is_some_and(|t| t <= p.now));
    c.handle_timeout(p.now);
    assert_eq!(c.error().map(|e| e.code), Some(ErrorCode::SETTINGS_TIMEOUT));
}

#[test]
fn idle_timeout_sends_goaway_no_error() {
    let cfg = Config {
        idle_timeout: Some(Duration::from_secs(5)),
        ..Config::default()
    };
    let mut p = Pair::with(Config::default(), cfg);
    p.advance(Duration::from_secs(6));
    p.run();
    assert!(p.client_events.iter().any(|e| matches!(
        e,
        Event::GoAwayReceived {
            code: ErrorCode::NO_ERROR,
            ..
        }
    )));
    assert!(p.server.is_closed());
}

#[test]
fn keepalive_ping_timeout_fails_the_connection() {
    let cfg = Config {
        keepalive_interval: Some(Duration::from_secs(10)),
        ping_timeout: Duration::from_secs(5),
        ..Config::default()
    };
    let mut p = Pair::with(cfg, Config::default());
    p.advance(Duration::from_secs(10));
    p.run(); // answered: all is well
    assert!(p.client.error().is_none());
    // The peer goes silent.
    p.advance(Duration::from_secs(10));
    let mut buf = Vec::new();
    while p.client.poll_transmit(p.now, &mut buf) {}
    p.advance(Duration::from_secs(6));
    assert!(p.client.error().is_some());
}

#[test]
fn user_reset_discards_queued_data() {
    let mut p = Pair::new();
    let id = p.client.send_request(post("/"), false).unwrap();
    p.client
        .send_data(id, Bytes::from(vec![0u8; 1000]), false)
        .unwrap();
    p.client.reset_stream(id, ErrorCode::CANCEL).unwrap();
    assert_eq!(p.client.buffered_amount(StreamId(0)), 0);
    p.run();
    assert!(p.server_events.iter().any(|e| matches!(
        e,
        Event::StreamReset {
            code: ErrorCode::CANCEL,
            ..
        }
    )));
}

#[test]
fn send_side_refuses_malformed_messages() {
    let mut p = Pair::new();
    let mut bad = get("/");
    bad.push(h("connection", "keep-alive"));
    assert!(matches!(
        p.client.send_request(bad, true),
        Err(Error::InvalidHeaders(_))
    ));
    let mut bad = get("/");
    bad.push(h("X-Upper", "1"));
    assert!(matches!(
        p.client.send_request(bad, true),
        Err(Error::InvalidHeaders(_))
    ));
    let id = p.client.send_request(get("/"), true).unwrap();
    p.run();
    assert!(p
        .server
        .send_response(id, vec![h(":status", "200"), h(":path", "/")], true)
        .is_err());
    assert!(
        p.server
            .send_data(id, Bytes::from_static(b"x"), true)
            .is_err(),
        "DATA before HEADERS"
    );
}

#[test]
fn trace_frames_reports_each_frame_with_headers() {
    let cfg = Config {
        trace_frames: true,
        ..Config::default()
    };
    let mut p = Pair::with(cfg, Config::default());
    let id = p.client.send_request(get("/t"), true).unwrap();
    p.run();
    p.server.send_response(id, status(200), true).unwrap();
    p.run();
    let sent_headers = p.client_events.iter().any(|e| matches!(e, Event::Frame { sent: true, headers: Some(hs), .. } if hs.iter().any(|h| h.value == "/t")));
    let recv_headers = p.client_events.iter().any(|e| matches!(e, Event::Frame { sent: false, headers: Some(hs), .. } if hs[0].value == "200"));
    assert!(sent_headers && recv_headers);
}

#[test]
fn adaptive_flow_control_grows_windows_from_the_bdp_estimate() {
    let client_cfg = Config {
        flow_control: h2proto::FlowControl::Adaptive,
        initial_window_size: 65_535,
        connection_window_size: 65_535,
        adaptive_window_max: 4 << 20,
        ..Config::default()
    };
    let mut p = Pair::with(client_cfg, Config::default());
    let id = p.client.send_request(get("/big"), true).unwrap();
    p.run();
    p.server.send_response(id, status(200), false).unwrap();
    let mut sent = 0;
    while sent < 8 << 20 {
        let n = p.server.send_capacity(id).min((8 << 20) - sent);
        if n > 0 {
            sent += n;
            p.server
                .send_data(id, Bytes::from(vec![3u8; n]), sent == 8 << 20)
                .unwrap();
        }
        p.run();
    }
    assert_eq!(p.client_body(id).len(), 8 << 20);
    // The window limited every round trip, so it doubled up to the budget, never beyond.
    let conn = p.client.recv_window(StreamId(0));
    assert!(conn > 1 << 20, "connection window {conn}");
    assert!(conn <= 4 << 20);
    assert!(p.server.peer_settings().initial_window_size > 65_535);
    assert!(p.server.peer_settings().initial_window_size <= 4 << 20);
}

#[test]
fn rfc7540_s3_2_h2c_upgrade_both_sides() {
    let now = std::time::Instant::now();
    let settings = h2proto::Connection::upgrade_settings_payload(&Config::default());
    let mut server =
        h2proto::Connection::new_upgraded_server(Config::default(), now, &settings, get("/up"))
            .unwrap();
    let mut client = h2proto::Connection::new_upgraded_client(Config::default(), now, false);
    assert!(matches!(
        server.poll_event(),
        Some(Event::RequestReceived {
            stream_id: StreamId(1),
            end_stream: true,
            ..
        })
    ));
    server
        .send_response(StreamId(1), status(200), false)
        .unwrap();
    server
        .send_data(StreamId(1), Bytes::from_static(b"upgraded"), true)
        .unwrap();
    let mut p = Pair {
        client,
        server,
        now,
        client_events: vec![],
        server_events: vec![],
        auto_release: true,
    };
    p.run();
    assert_eq!(p.client_body(StreamId(1)), b"upgraded");
    assert!(p.client_events.iter().any(|e| matches!(
        e,
        Event::StreamClosed {
            stream_id: StreamId(1)
        }
    )));
    // The next request uses stream 3.
    client = p.client;
    assert_eq!(
        client.send_request(get("/next"), true).unwrap(),
        StreamId(3)
    );
}

#[test]
fn manual_flow_control_sends_nothing_until_told() {
    let server_cfg = Config {
        flow_control: h2proto::FlowControl::Manual,
        initial_window_size: 65_535,
        connection_window_size: 65_535,
        ..Config::default()
    };
    let mut p = Pair::with(Config::default(), server_cfg);
    let id = p.client.send_request(post("/"), false).unwrap();
    p.client
        .send_data(id, Bytes::from(vec![9u8; 100_000]), true)
        .unwrap();
    p.run();
    assert_eq!(
        p.server_body(id).len(),
        65_535,
        "releasing capacity does not open windows in manual mode"
    );
    assert_eq!(p.server.recv_window(id), 0);
    p.server.window_update(id, 50_000).unwrap();
    p.server.window_update(StreamId(0), 50_000).unwrap();
    assert_eq!(p.server.recv_window(id), 50_000);
    p.run();
    assert_eq!(p.server_body(id).len(), 100_000);
    assert!(p.server.window_update(id, 0).is_err());
}

/// `shrink_to_fit` gives memory back without touching protocol state: the HPACK tables keep
/// every entry (re-packed), so header blocks sent after it still decode on the other side with
/// the same indices (RFC 7541 §2.3.2), and the connection goes on as before.
#[test]
fn shrink_to_fit_keeps_hpack_state_and_streams_working() {
    let mut p = Pair::new();
    let custom = |i: usize| {
        let mut list = get(&format!("/item/{i}"));
        list.push(h("x-session", "a-long-value-that-the-encoder-indexes"));
        list.push(h("x-custom-name", &format!("value-{}", i % 3)));
        list
    };
    let mut first = Vec::new();
    for i in 0..20 {
        first.push(p.client.send_request(custom(i), true).unwrap());
    }
    p.run();
    for &id in &first {
        p.server.send_response(id, status(200), true).unwrap();
    }
    p.run();
    assert_eq!(request_id(&p.server_events), first);

    p.client.shrink_to_fit();
    p.server.shrink_to_fit();
    p.server_events.clear();

    // The same fields again: the encoder refers to its (re-packed) table entries by index and
    // the decoder resolves them from its (re-packed) table.
    let mut second = Vec::new();
    for i in 0..20 {
        second.push(p.client.send_request(custom(i), true).unwrap());
    }
    p.run();
    let received: Vec<_> = p
        .server_events
        .iter()
        .filter_map(|e| match e {
            Event::RequestReceived { headers, .. } => Some(headers.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(received.len(), 20);
    for (i, list) in received.iter().enumerate() {
        assert_eq!(list, &custom(i), "request {i} after shrink_to_fit");
    }
    for &id in &second {
        p.server.send_response(id, status(204), true).unwrap();
    }
    p.run();
    assert!(p.client.error().is_none() && p.server.error().is_none());
}
