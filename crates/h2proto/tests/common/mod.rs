//! Test harness: an in-memory client/server pair with a virtual clock, and a scripted raw-frame
//! peer. Nothing sleeps: time is an `Instant` the test moves by hand.
// The virtual clock needs one real `Instant` as its origin; nothing here sleeps or reads time again.
#![allow(clippy::disallowed_methods)]
#![allow(dead_code)]

use bytes::{Bytes, BytesMut};
use h2proto::frame::{self, Frame, FrameDecoder, SettingId};
use h2proto::hpack::{self, Header};
use h2proto::{Config, Connection, ErrorCode, Event, Role, StreamId};
use std::time::{Duration, Instant};

pub fn h(name: &str, value: &str) -> Header {
    Header::new(name.as_bytes().to_vec(), value.as_bytes().to_vec())
}

pub fn get(path: &str) -> Vec<Header> {
    vec![
        h(":method", "GET"),
        h(":scheme", "https"),
        h(":path", path),
        h(":authority", "example.com"),
    ]
}

pub fn post(path: &str) -> Vec<Header> {
    vec![
        h(":method", "POST"),
        h(":scheme", "https"),
        h(":path", path),
        h(":authority", "example.com"),
    ]
}

pub fn status(code: u16) -> Vec<Header> {
    vec![h(":status", &code.to_string())]
}

/// Client and server joined in memory.
pub struct Pair {
    pub client: Connection,
    pub server: Connection,
    pub now: Instant,
    pub client_events: Vec<Event>,
    pub server_events: Vec<Event>,
    /// Release received data automatically (as an application that consumes at once).
    pub auto_release: bool,
}

impl Pair {
    pub fn new() -> Pair {
        Pair::with(Config::default(), Config::default())
    }

    pub fn with(client: Config, server: Config) -> Pair {
        let now = Instant::now();
        let mut p = Pair {
            client: Connection::new(Role::Client, client, now),
            server: Connection::new(Role::Server, server, now),
            now,
            client_events: vec![],
            server_events: vec![],
            auto_release: true,
        };
        p.run();
        p
    }

    pub fn advance(&mut self, d: Duration) {
        self.now += d;
        self.client.handle_timeout(self.now);
        self.server.handle_timeout(self.now);
    }

    /// Moves bytes both ways until neither side has anything to send.
    pub fn run(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            let mut buf = Vec::new();
            while self.client.poll_transmit(self.now, &mut buf) {}
            if !buf.is_empty() {
                moved = true;
                let _ = self.server.handle_input(&buf, self.now);
            }
            self.drain_server();
            let mut buf = Vec::new();
            while self.server.poll_transmit(self.now, &mut buf) {}
            if !buf.is_empty() {
                moved = true;
                let _ = self.client.handle_input(&buf, self.now);
            }
            self.drain_client();
            if !moved {
                return;
            }
        }
        panic!("pair did not settle");
    }

    fn drain_client(&mut self) {
        while let Some(e) = self.client.poll_event() {
            if let (
                true,
                Event::DataReceived {
                    stream_id,
                    flow_len,
                    ..
                },
            ) = (self.auto_release, &e)
            {
                self.client.release_capacity(*stream_id, *flow_len as usize);
            }
            self.client_events.push(e);
        }
    }

    fn drain_server(&mut self) {
        while let Some(e) = self.server.poll_event() {
            if let (
                true,
                Event::DataReceived {
                    stream_id,
                    flow_len,
                    ..
                },
            ) = (self.auto_release, &e)
            {
                self.server.release_capacity(*stream_id, *flow_len as usize);
            }
            self.server_events.push(e);
        }
    }

    /// All DATA received by the server on `id`, concatenated.
    pub fn server_body(&self, id: StreamId) -> Vec<u8> {
        body_of(&self.server_events, id)
    }

    pub fn client_body(&self, id: StreamId) -> Vec<u8> {
        body_of(&self.client_events, id)
    }
}

pub fn body_of(events: &[Event], id: StreamId) -> Vec<u8> {
    let mut out = vec![];
    for e in events {
        if let Event::DataReceived {
            stream_id, data, ..
        } = e
        {
            if *stream_id == id {
                out.extend_from_slice(data);
            }
        }
    }
    out
}

/// A scripted peer speaking raw frames to one `Connection` under test.
pub struct RawPeer {
    pub conn: Connection,
    pub now: Instant,
    pub encoder: hpack::Encoder,
    pub decoder: hpack::Decoder,
    frames_in: FrameDecoder,
    inbuf: BytesMut,
    pub events: Vec<Event>,
}

impl RawPeer {
    /// A raw client facing our server: the preface and an empty SETTINGS are sent, and the
    /// server's opening frames are consumed (and ACKed).
    pub fn client_to(config: Config) -> RawPeer {
        let now = Instant::now();
        let mut p = RawPeer::new(Connection::new(Role::Server, config, now), now);
        let mut b = frame::PREFACE.to_vec();
        Frame::Settings(frame::Settings {
            ack: false,
            params: vec![],
        })
        .encode(&mut b);
        p.send_bytes(&b);
        p.handshake();
        p
    }

    /// A raw server facing our client.
    pub fn server_to(config: Config) -> RawPeer {
        let now = Instant::now();
        let mut p = RawPeer::new(Connection::new(Role::Client, config, now), now);
        // Our client's preface first.
        let mut out = Vec::new();
        while p.conn.poll_transmit(now, &mut out) {}
        assert!(out.starts_with(frame::PREFACE));
        p.inbuf.extend_from_slice(&out[frame::PREFACE.len()..]);
        p.send(Frame::Settings(frame::Settings {
            ack: false,
            params: vec![],
        }));
        p.handshake();
        p
    }

    fn new(conn: Connection, now: Instant) -> RawPeer {
        RawPeer {
            conn,
            now,
            encoder: hpack::Encoder::new(),
            decoder: hpack::Decoder::new(),
            frames_in: FrameDecoder::new(),
            inbuf: BytesMut::new(),
            events: vec![],
        }
    }

    fn handshake(&mut self) {
        let frames = self.recv();
        assert!(
            matches!(frames.first(), Some(Frame::Settings(s)) if !s.ack),
            "{frames:?}"
        );
        self.send(Frame::Settings(frame::Settings {
            ack: true,
            params: vec![],
        }));
        self.recv();
    }

    pub fn send_bytes(&mut self, b: &[u8]) {
        let _ = self.conn.handle_input(b, self.now);
        while let Some(e) = self.conn.poll_event() {
            self.events.push(e);
        }
    }

    pub fn send(&mut self, f: Frame) {
        let mut b = Vec::new();
        f.encode(&mut b);
        self.send_bytes(&b);
    }

    pub fn send_all(&mut self, frames: Vec<Frame>) {
        let mut b = Vec::new();
        for f in frames {
            f.encode(&mut b);
        }
        self.send_bytes(&b);
    }

    /// Everything the connection under test sends now, as frames.
    pub fn recv(&mut self) -> Vec<Frame> {
        let mut out = Vec::new();
        while self.conn.poll_transmit(self.now, &mut out) {}
        while let Some(e) = self.conn.poll_event() {
            self.events.push(e);
        }
        self.inbuf.extend_from_slice(&out);
        let mut frames = vec![];
        self.frames_in.set_max_frame_size(frame::MAX_MAX_FRAME_SIZE);
        while let Some(f) = self
            .frames_in
            .decode(&mut self.inbuf)
            .expect("our output decodes")
        {
            frames.push(f);
        }
        frames
    }

    /// Decodes a header block we received (HEADERS or PUSH_PROMISE with END_HEADERS).
    pub fn decode_block(&mut self, block: &Bytes) -> Vec<Header> {
        let mut v = vec![];
        self.decoder
            .decode(block, &mut v)
            .expect("our HPACK decodes");
        v
    }

    pub fn headers(&mut self, id: u32, list: &[Header], end_stream: bool) -> Frame {
        let mut block = Vec::new();
        self.encoder.encode(list.iter(), &mut block);
        Frame::Headers(frame::Headers {
            stream_id: StreamId(id),
            block: Bytes::from(block),
            end_stream,
            end_headers: true,
            priority: None,
            pad: None,
        })
    }

    pub fn advance(&mut self, d: Duration) {
        self.now += d;
        self.conn.handle_timeout(self.now);
    }

    /// `list` encoded with this peer's HPACK encoder.
    pub fn block(&mut self, list: &[Header]) -> Bytes {
        let mut block = Vec::new();
        self.encoder.encode(list.iter(), &mut block);
        Bytes::from(block)
    }

    /// Client under test: sends a GET with END_STREAM and returns its stream id.
    pub fn request(&mut self) -> StreamId {
        let id = self.conn.send_request(get("/"), true).unwrap();
        self.recv();
        id
    }

    /// Sends PUSH_PROMISE on `assoc` promising `promised` for request `req`.
    pub fn push_promise(&mut self, assoc: u32, promised: u32, req: &[Header]) {
        let block = self.block(req);
        self.send(Frame::PushPromise(frame::PushPromise {
            stream_id: StreamId(assoc),
            promised_id: StreamId(promised),
            block,
            end_headers: true,
            pad: None,
        }));
    }

    /// Sends a PING and asserts it is answered with its payload and nothing failed: the
    /// connection is alive after whatever came before.
    pub fn expect_ping_answered(&mut self) {
        self.send(ping(*b"h2spec\0\0"));
        let frames = self.recv();
        assert_eq!(ping_acks(&frames), [*b"h2spec\0\0"], "{frames:?}");
        assert!(goaway(&frames).is_none(), "{frames:?}");
        assert!(self.conn.error().is_none());
    }

    /// Server under test: opens stream `id` with a POST and asserts the application saw it.
    pub fn open(&mut self, id: u32, end_stream: bool) {
        let f = self.headers(id, &post("/"), end_stream);
        self.send(f);
        assert!(
            self.requested(id),
            "no request on stream {id}: {:?}",
            self.events
        );
    }

    /// Whether the application (server role) received a request on `id`.
    pub fn requested(&self, id: u32) -> bool {
        self.events
            .iter()
            .any(|e| matches!(e, Event::RequestReceived { stream_id, .. } if stream_id.0 == id))
    }

    /// Server under test: asserts a request arrived on `id`, answers it with a 200 (and
    /// END_STREAM) and asserts that the response HEADERS went out with nothing reset or failed.
    /// This is h2spec's "the endpoint MUST respond to the request".
    pub fn respond(&mut self, id: u32) -> Vec<Frame> {
        assert!(
            self.requested(id),
            "no request on stream {id}: {:?}",
            self.events
        );
        self.conn
            .send_response(StreamId(id), status(200), true)
            .unwrap();
        let frames = self.recv();
        assert!(
            frames
                .iter()
                .any(|f| matches!(f, Frame::Headers(h) if h.stream_id.0 == id)),
            "{frames:?}"
        );
        assert!(resets(&frames).is_empty(), "{frames:?}");
        assert!(goaway(&frames).is_none(), "{frames:?}");
        assert!(self.conn.error().is_none());
        frames
    }
}

/// One raw frame: the 9-octet header (length taken from `payload`) then the payload. For
/// frames our encoder would refuse to build (wrong lengths, wrong stream ids, reserved bits).
pub fn raw_frame(kind: u8, flags: u8, stream_id: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut b = vec![(len >> 16) as u8, (len >> 8) as u8, len as u8, kind, flags];
    b.extend_from_slice(&stream_id.to_be_bytes());
    b.extend_from_slice(payload);
    b
}

pub fn continuation(id: u32, block: impl Into<Bytes>, end_headers: bool) -> Frame {
    Frame::Continuation(frame::Continuation {
        stream_id: StreamId(id),
        block: block.into(),
        end_headers,
    })
}

pub fn priority(id: u32, dependency: u32, exclusive: bool, weight: u8) -> Frame {
    Frame::Priority(frame::Priority {
        stream_id: StreamId(id),
        fields: frame::PriorityFields {
            exclusive,
            dependency: StreamId(dependency),
            weight,
        },
    })
}

/// The PING ACKs among `frames`, by payload.
pub fn ping_acks(frames: &[Frame]) -> Vec<[u8; 8]> {
    frames
        .iter()
        .filter_map(|f| match f {
            Frame::Ping(p) if p.ack => Some(p.payload),
            _ => None,
        })
        .collect()
}

/// The DATA frame lengths among `frames` for stream `id`.
pub fn data_lens(frames: &[Frame], id: u32) -> Vec<usize> {
    frames
        .iter()
        .filter_map(|f| match f {
            Frame::Data(d) if d.stream_id.0 == id => Some(d.data.len()),
            _ => None,
        })
        .collect()
}

pub fn data(id: u32, payload: &[u8], end_stream: bool) -> Frame {
    Frame::Data(frame::Data {
        stream_id: StreamId(id),
        data: Bytes::copy_from_slice(payload),
        end_stream,
        pad: None,
    })
}

pub fn rst(id: u32, code: ErrorCode) -> Frame {
    Frame::RstStream(frame::RstStream {
        stream_id: StreamId(id),
        error_code: code,
    })
}

pub fn window_update(id: u32, inc: u32) -> Frame {
    Frame::WindowUpdate(frame::WindowUpdate {
        stream_id: StreamId(id),
        increment: inc,
    })
}

pub fn settings(params: &[(SettingId, u32)]) -> Frame {
    Frame::Settings(frame::Settings {
        ack: false,
        params: params.to_vec(),
    })
}

pub fn ping(payload: [u8; 8]) -> Frame {
    Frame::Ping(frame::Ping {
        ack: false,
        payload,
    })
}

/// The GOAWAY among `frames`, if any.
pub fn goaway(frames: &[Frame]) -> Option<&frame::GoAway> {
    frames.iter().find_map(|f| match f {
        Frame::GoAway(g) => Some(g),
        _ => None,
    })
}

/// The RST_STREAM codes among `frames`.
pub fn resets(frames: &[Frame]) -> Vec<(u32, ErrorCode)> {
    frames
        .iter()
        .filter_map(|f| match f {
            Frame::RstStream(r) => Some((r.stream_id.0, r.error_code)),
            _ => None,
        })
        .collect()
}

/// Asserts that the connection under test answered with GOAWAY `code` and failed.
pub fn expect_goaway(p: &mut RawPeer, code: ErrorCode) {
    let frames = p.recv();
    let g = goaway(&frames).unwrap_or_else(|| panic!("expected GOAWAY {code:?}, got {frames:?}"));
    assert_eq!(
        g.error_code,
        code,
        "{:?}",
        String::from_utf8_lossy(&g.debug_data)
    );
    assert!(p.conn.error().is_some());
}

/// Asserts exactly one RST_STREAM `(id, code)` and a connection that carries on (§5.4.2).
pub fn expect_rst(p: &mut RawPeer, id: u32, code: ErrorCode) {
    let frames = p.recv();
    assert_eq!(resets(&frames), [(id, code)], "{frames:?}");
    assert!(
        p.conn.error().is_none(),
        "a stream error must not end the connection"
    );
}
