//! Requests per second and body throughput through an in-memory client↔server pair, against
//! hyperium's `h2` crate client↔server over `tokio::io::duplex` in the same run.
//!
//! `cargo bench -p h2proto --bench connection`
// The virtual clock needs one real `Instant` as its origin; nothing here sleeps or reads time again.
#![allow(clippy::disallowed_methods)]

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use h2proto::{Config, Connection, Event, Header, Role, StreamId};
use std::time::Instant;

const BATCH: usize = 100;

fn get() -> Vec<Header> {
    vec![
        Header::new(":method", "GET"),
        Header::new(":scheme", "https"),
        Header::new(":path", "/"),
        Header::new(":authority", "bench.example"),
        Header::new("user-agent", "h2proto-bench/1"),
        Header::new("accept", "*/*"),
    ]
}

struct Pair {
    client: Connection,
    server: Connection,
    now: Instant,
}

impl Pair {
    fn new() -> Pair {
        let now = Instant::now();
        let cfg = Config {
            max_concurrent_streams: 1000,
            max_transmit_batch: 4 << 20,
            ..Config::default()
        };
        let mut p = Pair {
            client: Connection::new(Role::Client, cfg.clone(), now),
            server: Connection::new(Role::Server, cfg, now),
            now,
        };
        p.pump(&mut |_, _| {}, &mut |_, _| {});
        p
    }

    /// Moves bytes both ways until idle, handing events to the two callbacks.
    fn pump(
        &mut self,
        on_server: &mut dyn FnMut(&mut Connection, Event),
        on_client: &mut dyn FnMut(&mut Connection, Event),
    ) {
        loop {
            let mut buf = Vec::new();
            while self.client.poll_transmit(self.now, &mut buf) {}
            let a = !buf.is_empty();
            if a {
                // Ownership passes to the connection: payloads are not copied again.
                self.server
                    .handle_input_buf(BytesMut::from(Bytes::from(buf)), self.now)
                    .unwrap();
            }
            while let Some(e) = self.server.poll_event() {
                on_server(&mut self.server, e);
            }
            let mut buf = Vec::new();
            while self.server.poll_transmit(self.now, &mut buf) {}
            let b = !buf.is_empty();
            if b {
                self.client
                    .handle_input_buf(BytesMut::from(Bytes::from(buf)), self.now)
                    .unwrap();
            }
            while let Some(e) = self.client.poll_event() {
                on_client(&mut self.client, e);
            }
            if !a && !b {
                return;
            }
        }
    }

    /// `BATCH` concurrent GETs, each answered with `body`.
    fn round(&mut self, body: &Bytes) -> usize {
        for _ in 0..BATCH {
            self.client.send_request(get(), true).unwrap();
        }
        let mut received = 0usize;
        let body = body.clone();
        // Bodies larger than the send buffer go out as capacity allows (StreamWritable).
        let mut pending: Vec<(StreamId, Bytes)> = Vec::new();
        let mut on_server = |s: &mut Connection, e: Event| {
            let id = match e {
                Event::RequestReceived { stream_id, .. } => {
                    let resp = vec![
                        Header::new(":status", "200"),
                        Header::new("content-type", "text/plain"),
                    ];
                    s.send_response(stream_id, resp, body.is_empty()).unwrap();
                    if body.is_empty() {
                        return;
                    }
                    pending.push((stream_id, body.clone()));
                    stream_id
                }
                Event::StreamWritable { stream_id } => stream_id,
                _ => return,
            };
            if let Some(i) = pending.iter().position(|(s, _)| *s == id) {
                let rest = &mut pending[i].1;
                let n = s.send_capacity(id).min(rest.len());
                if n > 0 {
                    let chunk = rest.split_to(n);
                    s.send_data(id, chunk, rest.is_empty()).unwrap();
                }
                if pending[i].1.is_empty() {
                    pending.swap_remove(i);
                } else {
                    // Ask to be told when there is room again.
                    let _ = s.send_data(id, pending[i].1.clone(), true);
                }
            }
        };
        let mut on_client = |c: &mut Connection, e: Event| {
            if let Event::DataReceived {
                stream_id,
                flow_len,
                data,
                ..
            } = e
            {
                received += data.len();
                c.release_capacity(stream_id, flow_len as usize);
            }
        };
        self.pump(&mut on_server, &mut on_client);
        received
    }
}

fn h2_round(
    rt: &tokio::runtime::Runtime,
    client: &mut h2::client::SendRequest<Bytes>,
    body_len: usize,
) -> usize {
    rt.block_on(async {
        let mut futs = Vec::with_capacity(BATCH);
        for _ in 0..BATCH {
            let req = http::Request::builder()
                .uri("https://bench.example/")
                .header("user-agent", "h2proto-bench/1")
                .header("accept", "*/*")
                .body(())
                .unwrap();
            let (resp, _) = client.send_request(req, true).unwrap();
            futs.push(resp);
        }
        // Every body is read concurrently (as our pair consumes every stream's events), so
        // no stream's unread data holds the connection window.
        let readers: Vec<_> = futs
            .into_iter()
            .map(|f| {
                tokio::spawn(async move {
                    let mut body = f.await.unwrap().into_body();
                    let mut n = 0;
                    while let Some(chunk) = body.data().await {
                        let chunk = chunk.unwrap();
                        n += chunk.len();
                        let _ = body.flow_control().release_capacity(chunk.len());
                    }
                    n
                })
            })
            .collect();
        let mut total = 0;
        for r in readers {
            total += r.await.unwrap();
        }
        let _ = body_len;
        total
    })
}

fn h2_pair(rt: &tokio::runtime::Runtime, body: Bytes) -> h2::client::SendRequest<Bytes> {
    rt.block_on(async move {
        let (c, s) = tokio::io::duplex(1 << 20);
        tokio::spawn(async move {
            let mut conn = h2::server::Builder::new()
                .max_concurrent_streams(1000)
                .initial_window_size(1 << 20)
                .initial_connection_window_size(4 << 20)
                .handshake::<_, Bytes>(s)
                .await
                .unwrap();
            while let Some(Ok((_req, mut respond))) = conn.accept().await {
                let resp = http::Response::builder()
                    .status(200)
                    .header("content-type", "text/plain")
                    .body(())
                    .unwrap();
                let mut send = respond.send_response(resp, body.is_empty()).unwrap();
                if !body.is_empty() {
                    let body = body.clone();
                    tokio::spawn(async move {
                        send.reserve_capacity(body.len());
                        let mut rest = body;
                        while !rest.is_empty() {
                            let cap = std::future::poll_fn(|cx| send.poll_capacity(cx))
                                .await
                                .unwrap()
                                .unwrap();
                            let chunk = rest.split_to(cap.min(rest.len()));
                            send.send_data(chunk, rest.is_empty()).unwrap();
                        }
                    });
                }
            }
        });
        let (client, conn) = h2::client::Builder::new()
            .initial_window_size(1 << 20)
            .initial_connection_window_size(4 << 20)
            .handshake::<_, Bytes>(c)
            .await
            .unwrap();
        tokio::spawn(async move {
            let _ = conn.await;
        });
        client.ready().await.unwrap()
    })
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut g = c.benchmark_group("requests");
    g.throughput(Throughput::Elements(BATCH as u64));
    let empty = Bytes::new();
    let small = Bytes::from_static(b"hello, world\n");
    for (name, body) in [("headers_only", &empty), ("13_byte_body", &small)] {
        let mut p = Pair::new();
        g.bench_function(BenchmarkId::new("h2proto", name), |b| {
            b.iter(|| p.round(body))
        });
        let mut client = h2_pair(&rt, body.clone());
        g.bench_function(BenchmarkId::new("h2", name), |b| {
            b.iter(|| h2_round(&rt, &mut client, body.len()))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("body_1mib");
    let big = Bytes::from(vec![0x5au8; 1 << 20]);
    g.throughput(Throughput::Bytes((BATCH as u64) << 20));
    g.sample_size(10);
    let mut p = Pair::new();
    g.bench_function("h2proto", |b| {
        b.iter(|| assert_eq!(p.round(&big), BATCH << 20))
    });
    let mut client = h2_pair(&rt, big.clone());
    g.bench_function("h2", |b| {
        b.iter(|| assert_eq!(h2_round(&rt, &mut client, 1 << 20), BATCH << 20))
    });
    g.finish();
    let _ = StreamId(0);
}

criterion_group!(benches, bench);
criterion_main!(benches);
