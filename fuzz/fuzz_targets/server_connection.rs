//! A server `Connection` fed arbitrary bytes after a valid preface: it must never panic, its
//! output must always be well-formed frames, and its memory must stay bounded.
#![no_main]

use h2proto::frame::{FrameDecoder, MAX_MAX_FRAME_SIZE, PREFACE};
use h2proto::{Config, Connection, Role};
use libfuzzer_sys::fuzz_target;
use std::time::{Duration, Instant};

fuzz_target!(|data: &[u8]| {
    let now = Instant::now();
    let mut conn = Connection::new(Role::Server, Config::default(), now);
    let mut input = PREFACE.to_vec();
    // An empty SETTINGS so that the interesting bytes reach the frame handlers.
    input.extend_from_slice(&[0, 0, 0, 4, 0, 0, 0, 0, 0]);
    input.extend_from_slice(data);
    let mut out = Vec::new();
    let mut t = now;
    // Feed in uneven chunks, as a socket would.
    for (i, chunk) in input.chunks(1 + data.first().copied().unwrap_or(7) as usize).enumerate() {
        t += Duration::from_millis(i as u64);
        let _ = conn.handle_input(chunk, t);
        while conn.poll_event().is_some() {}
        while conn.poll_transmit(t, &mut out) {}
    }
    conn.handle_timeout(t + Duration::from_secs(60));
    while conn.poll_transmit(t, &mut out) {}
    let mut dec = FrameDecoder::new();
    dec.set_max_frame_size(MAX_MAX_FRAME_SIZE);
    let mut buf = bytes::BytesMut::from(&out[..]);
    while let Some(_f) = dec.decode(&mut buf).expect("our output is valid frames") {}
    assert!(buf.is_empty(), "our output ends on a frame boundary");
});
