//! A client and a server `Connection` joined in memory, driven by an arbitrary sequence of API
//! calls, clock steps and injected raw bytes. Checks: no panic, and the two sides never disagree
//! into an error unless raw bytes were injected.
#![no_main]

use bytes::Bytes;
use h2proto::{Config, Connection, ErrorCode, Event, Header, Role, StreamId};
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, Instant};

fn req(method: &str, path: u8) -> Vec<Header> {
    vec![
        Header::new(":method", method.to_string()),
        Header::new(":scheme", "https"),
        Header::new(":path", format!("/{path}")),
        Header::new(":authority", "example.com"),
    ]
}

fuzz_target!(|ops: &[u8]| {
    let mut now = Instant::now();
    let small = Config {
        initial_window_size: 70_000,
        connection_window_size: 100_000,
        max_concurrent_streams: 4,
        max_send_buffer_per_stream: 50_000,
        ..Config::default()
    };
    let mut client = Connection::new(Role::Client, small.clone(), now);
    let mut server = Connection::new(Role::Server, small, now);
    let mut injected = false;
    let mut it = ops.chunks(3);
    while let Some(op) = it.next() {
        let (a, b) = (op[0], op.get(1).copied().unwrap_or(0));
        let sid = StreamId(1 + 2 * (b as u32 % 8));
        let n = op.get(2).copied().unwrap_or(1) as usize * 300;
        match a % 12 {
            0 => { let _ = client.send_request(req("GET", b), b % 2 == 0); }
            1 => { let _ = client.send_request(req("POST", b), false); }
            2 => { let _ = client.send_data(sid, Bytes::from(vec![b; n]), b % 3 == 0); }
            3 => { let _ = server.send_response(sid, vec![Header::new(":status", "200")], b % 2 == 0); }
            4 => { let _ = server.send_data(sid, Bytes::from(vec![b; n]), b % 3 == 0); }
            5 => { let _ = server.send_push_promise(sid, req("GET", b)); }
            6 => { let _ = client.reset_stream(sid, ErrorCode::CANCEL); }
            7 => { let _ = server.send_trailers(sid, vec![Header::new("x-t", "1")]); }
            8 => { now += Duration::from_millis(n as u64); client.handle_timeout(now); server.handle_timeout(now); }
            9 => server.graceful_shutdown(now),
            10 => { let _ = client.ping([b; 8], now); }
            _ => {
                injected = true;
                let raw: Vec<u8> = it.next().map(|c| c.to_vec()).unwrap_or_default();
                let _ = server.handle_input(&raw, now);
            }
        }
        for _ in 0..4 {
            let mut buf = Vec::new();
            while client.poll_transmit(now, &mut buf) {}
            let r1 = server.handle_input(&buf, now);
            let mut buf = Vec::new();
            while server.poll_transmit(now, &mut buf) {}
            let r2 = client.handle_input(&buf, now);
            if !injected {
                assert!(r1.is_ok() || server.error().is_some_and(|e| e.code != ErrorCode::PROTOCOL_ERROR && e.code != ErrorCode::FLOW_CONTROL_ERROR && e.code != ErrorCode::COMPRESSION_ERROR), "{r1:?}");
                assert!(r2.is_ok() || client.error().is_some_and(|e| e.remote || e.code == ErrorCode::SETTINGS_TIMEOUT || e.code == ErrorCode::NO_ERROR), "{r2:?}");
            }
            while let Some(e) = client.poll_event() {
                if let Event::DataReceived { stream_id, flow_len, .. } = e {
                    client.release_capacity(stream_id, flow_len as usize);
                }
            }
            while let Some(e) = server.poll_event() {
                if let Event::DataReceived { stream_id, flow_len, .. } = e {
                    server.release_capacity(stream_id, flow_len as usize);
                }
            }
        }
    }
});
