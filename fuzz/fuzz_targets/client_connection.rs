//! A client `Connection` with a few requests in flight, fed arbitrary bytes as the server's
//! side: never a panic, output always well-formed frames.
#![no_main]

use h2proto::frame::{FrameDecoder, MAX_MAX_FRAME_SIZE};
use h2proto::{Config, Connection, Header, Role};
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, Instant};

fn get(path: &str) -> Vec<Header> {
    vec![
        Header::new(":method", "GET"),
        Header::new(":scheme", "https"),
        Header::new(":path", path.to_string()),
        Header::new(":authority", "example.com"),
    ]
}

fuzz_target!(|data: &[u8]| {
    let now = Instant::now();
    let mut conn = Connection::new(Role::Client, Config::default(), now);
    for p in ["/", "/a", "/b"] {
        let _ = conn.send_request(get(p), true);
    }
    let mut out = Vec::new();
    while conn.poll_transmit(now, &mut out) {}
    let mut input = vec![0, 0, 0, 4, 0, 0, 0, 0, 0];
    input.extend_from_slice(data);
    let mut t = now;
    for chunk in input.chunks(97) {
        t += Duration::from_millis(3);
        let _ = conn.handle_input(chunk, t);
        while let Some(e) = conn.poll_event() {
            if let h2proto::Event::DataReceived { stream_id, flow_len, .. } = e {
                conn.release_capacity(stream_id, flow_len as usize);
            }
        }
        while conn.poll_transmit(t, &mut out) {}
    }
    let mut dec = FrameDecoder::new();
    dec.set_max_frame_size(MAX_MAX_FRAME_SIZE);
    let mut buf = bytes::BytesMut::from(&out[24..]);
    while let Some(_f) = dec.decode(&mut buf).expect("our output is valid frames") {}
});
