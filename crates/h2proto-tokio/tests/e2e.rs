//! Our client against our server on loopback: TLS, h2c prior knowledge, h2c Upgrade, HTTP/1.1
//! rejection, axum, graceful shutdown, many streams, certificate errors.

mod common;

use bytes::{Bytes, BytesMut};
use common::*;
use h2proto::frame::{Frame, FrameDecoder, Settings};
use h2proto::hpack;
use h2proto_tokio::{tls, Client, ClientConfig, Server};
use http::Request;
use http_body_util::{BodyExt, Full};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn tls_get_and_echo() {
    let cert = test_cert();
    let server = Server::builder().tls(cert.server).handler(site).build();
    let (addr, _task) = start(server).await;
    let uri = format!("https://localhost:{}/", addr.port())
        .parse()
        .unwrap();
    let config = ClientConfig {
        tls: Some(cert.client),
        ..ClientConfig::default()
    };
    let client = Client::connect(&uri, config).await.unwrap();
    let resp = client.request(get("/")).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(body_bytes(resp).await, "hello");

    let data = pattern(3 << 20);
    let req = Request::post("/echo")
        .body(Full::new(Bytes::from(data.clone())))
        .unwrap();
    let resp = client.request(req).await.unwrap();
    let got = body_bytes(resp).await;
    assert_eq!(got.len(), data.len());
    assert_eq!(checksum(&got), checksum(&data));
}

#[tokio::test]
async fn tls_client_without_alpn_is_refused() {
    let cert = test_cert();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let server = Server::builder()
        .tls(cert.server)
        .handler(site)
        .on_connection_error(move |_, e| {
            let _ = tx.send(e.to_string());
        })
        .build();
    let (addr, _task) = start(server).await;
    let mut config = (*cert.client).clone();
    config.alpn_protocols.clear();
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = h2proto_tokio::rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut stream = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config))
        .connect(name, tcp)
        .await
        .unwrap();
    // The server closes instead of hanging.
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "server did not close");
    let msg = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert!(msg.contains("h2"), "{msg}");
}

#[tokio::test]
async fn h2c_prior_knowledge() {
    let server = Server::builder().handler(site).build();
    let (addr, _task) = start(server).await;
    let client = h2c_client(addr).await;
    let resp = client.request(get("/bytes/100000")).await.unwrap();
    assert_eq!(body_bytes(resp).await.to_vec(), pattern(100_000));
}

/// Our client's `Upgrade: h2c` (RFC 7540 §3.2) against our server: 101, then HTTP/2, with
/// several requests on the upgraded connection.
#[tokio::test]
async fn client_h2c_upgrade() {
    let server = Server::builder().handler(site).build();
    let (addr, _task) = start(server).await;
    let config = ClientConfig {
        upgrade: true,
        ..ClientConfig::default()
    };
    let uri: http::Uri = format!("http://{addr}/").parse().unwrap();
    let client = Client::connect(&uri, config).await.unwrap();
    for n in [10usize, 70_000] {
        let resp = client.request(get(&format!("/bytes/{n}"))).await.unwrap();
        assert_eq!(resp.version(), http::Version::HTTP_2);
        assert_eq!(body_bytes(resp).await.to_vec(), pattern(n));
    }
}

#[tokio::test]
async fn http1_without_upgrade_gets_505() {
    let server = Server::builder().handler(site).build();
    let (addr, _task) = start(server).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    let mut buf = Vec::new();
    tcp.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 505 "), "{text}");
    assert!(text.contains("HTTP/2 only"), "{text}");
}

/// RFC 7540 §3.2: the upgraded request is answered on stream 1.
#[tokio::test]
async fn h2c_upgrade_answers_on_stream_1() {
    let server = Server::builder().handler(site).build();
    let (addr, _task) = start(server).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let req =
        "GET /bytes/5000 HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade, HTTP2-Settings\r\n\
               Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n";
    tcp.write_all(req.as_bytes()).await.unwrap();
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        tcp.read_exact(&mut b).await.unwrap();
        head.push(b[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    let mut out = Vec::new();
    out.extend_from_slice(h2proto::frame::PREFACE);
    Frame::Settings(Settings {
        ack: false,
        params: vec![],
    })
    .encode(&mut out);
    tcp.write_all(&out).await.unwrap();

    let mut decoder = FrameDecoder::new();
    let mut hpack = hpack::Decoder::new();
    let mut buf = BytesMut::new();
    let (mut status, mut body, mut done) = (None, Vec::new(), false);
    while !done {
        let mut chunk = [0u8; 16384];
        let n = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut chunk))
            .await
            .unwrap()
            .unwrap();
        assert!(n > 0, "connection closed early");
        buf.extend_from_slice(&chunk[..n]);
        while let Some(frame) = decoder.decode(&mut buf).unwrap() {
            match frame {
                Frame::Headers(h) => {
                    assert_eq!(h.stream_id.0, 1);
                    let mut list = Vec::new();
                    hpack.decode(&h.block, &mut list).unwrap();
                    status = Some(list[0].value.clone());
                    done |= h.end_stream;
                }
                Frame::Data(d) => {
                    assert_eq!(d.stream_id.0, 1);
                    body.extend_from_slice(&d.data);
                    done |= d.end_stream;
                }
                _ => {}
            }
        }
    }
    assert_eq!(status.as_deref(), Some(&b"200"[..]));
    assert_eq!(body, pattern(5000));
}

#[tokio::test]
async fn axum_router_is_served() {
    use axum::routing::get as axum_get;
    let router = axum::Router::new()
        .route("/hi", axum_get(|| async { "hi from axum" }))
        .route(
            "/up",
            axum::routing::post(|body: String| async move { body.to_uppercase() }),
        );
    let server = Server::builder().service(router).build();
    let (addr, _task) = start(server).await;
    let client = h2c_client(addr).await;
    let resp = client.request(get("/hi")).await.unwrap();
    assert_eq!(body_bytes(resp).await, "hi from axum");
    let req = Request::post("/up")
        .body(Full::new(Bytes::from("abc")))
        .unwrap();
    assert_eq!(body_bytes(client.request(req).await.unwrap()).await, "ABC");
    let resp = client.request(get("/missing")).await.unwrap();
    assert_eq!(resp.status(), 404);
}

#[tokio::test]
async fn graceful_shutdown_mid_download_loses_nothing() {
    let server = Server::builder().handler(site).build();
    let (addr, task) = start(server.clone()).await;
    let client = h2c_client(addr).await;
    let size = 8 << 20;
    let resp = client
        .request(get(&format!("/bytes/{size}")))
        .await
        .unwrap();
    let mut body = resp.into_body();
    // Read a little, then shut down while most of the body is still to come.
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    server.shutdown(Duration::from_secs(10));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let rest = match body.collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) => panic!("download cut: {e:?}"),
    };
    let mut all = first.to_vec();
    all.extend_from_slice(&rest);
    assert_eq!(all.len(), size);
    assert_eq!(checksum(&all), checksum(&pattern(size)));
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("serve() returns after the drain")
        .unwrap()
        .unwrap();
    assert!(TcpStream::connect(addr).await.is_err(), "listener closed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_streams_over_ten_connections() {
    let config = h2proto::Config {
        max_concurrent_streams: 30,
        ..h2proto::Config::default()
    };
    let server = Server::builder().config(config).handler(site).build();
    let (addr, _task) = start(server).await;
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let client = h2c_client(addr).await;
        for i in 0..100usize {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                let n = 100 + i * 10;
                let resp = client.request(get(&format!("/bytes/{n}"))).await.unwrap();
                assert_eq!(body_bytes(resp).await.to_vec(), pattern(n));
            }));
        }
    }
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test]
async fn server_push_reaches_our_client() {
    let server = Server::builder().handler(site).build();
    let (addr, _task) = start(server).await;
    let client = h2c_client(addr).await;
    let mut pushes = client.pushes().unwrap();
    let resp = client.request(get("/push")).await.unwrap();
    assert_eq!(body_bytes(resp).await, "page");
    let push = tokio::time::timeout(Duration::from_secs(5), pushes.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(push.request().uri().path(), "/pushed.css");
    let resp = push.response().await.unwrap();
    assert_eq!(body_bytes(resp).await, "body{}");
}

#[tokio::test]
async fn connection_refused_is_reported() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let uri = format!("http://{addr}/").parse().unwrap();
    let err = Client::connect(&uri, ClientConfig::default())
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("cannot connect"), "{err}");
}

#[test]
fn bad_certificate_files_give_a_message() {
    let dir = std::env::temp_dir().join(format!("h2proto-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let missing = dir.join("missing.pem");
    let err = tls::CertKey::from_pem_files(&missing, &missing)
        .err()
        .unwrap();
    assert!(err.contains("cannot read certificate file"), "{err}");
    let garbage = dir.join("garbage.pem");
    std::fs::write(&garbage, "not a pem file\n").unwrap();
    let err = tls::CertKey::from_pem_files(&garbage, &garbage)
        .err()
        .unwrap();
    assert!(err.contains("no certificate found"), "{err}");
    // A valid certificate with the wrong key.
    let (a, pem_a) = tls::CertKey::self_signed().unwrap();
    let (b, _) = tls::CertKey::self_signed().unwrap();
    drop(a);
    let cert_path = dir.join("cert.pem");
    std::fs::write(&cert_path, pem_a).unwrap();
    let key_path = dir.join("key.pem");
    let key_der = match &b.key {
        h2proto_tokio::rustls::pki_types::PrivateKeyDer::Pkcs8(k) => k.secret_pkcs8_der().to_vec(),
        _ => unreachable!(),
    };
    std::fs::write(&key_path, pem("PRIVATE KEY", &key_der)).unwrap();
    let pair = tls::CertKey::from_pem_files(&cert_path, &key_path).unwrap();
    let err = tls::server_config(pair).err().unwrap();
    assert!(err.contains("do not make a valid TLS identity"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn pem(label: &str, der: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = String::new();
    for chunk in der.chunks(3) {
        let n = chunk.iter().fold(0u32, |a, &b| (a << 8) | b as u32) << (8 * (3 - chunk.len()));
        for i in 0..4 {
            if i <= chunk.len() {
                b64.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                b64.push('=');
            }
        }
    }
    let lines: Vec<&str> = b64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

#[tokio::test]
async fn handler_panic_resets_only_its_stream() {
    let server = Server::builder()
        .handler(|req: Request<h2proto_tokio::RecvBody>| async move {
            if req.uri().path() == "/panic" {
                panic!("handler failure (expected by the test)");
            }
            site(req).await
        })
        .build();
    let (addr, _task) = start(server).await;
    let client = h2c_client(addr).await;
    let err = client.request(get("/panic")).await.unwrap_err();
    assert!(
        matches!(err, h2proto_tokio::Error::Reset { code, remote: true } if code == h2proto::ErrorCode::INTERNAL_ERROR),
        "{err}"
    );
    let resp = client.request(get("/")).await.unwrap();
    assert_eq!(body_bytes(resp).await, "hello");
}

#[tokio::test]
async fn request_timeout_fires() {
    let server = Server::builder()
        .handler(|req: Request<h2proto_tokio::RecvBody>| async move {
            tokio::time::sleep(Duration::from_secs(2)).await;
            site(req).await
        })
        .build();
    let (addr, _task) = start(server).await;
    let uri = format!("http://{addr}/").parse().unwrap();
    let config = ClientConfig {
        request_timeout: Some(Duration::from_millis(100)),
        ..ClientConfig::default()
    };
    let client = Client::connect(&uri, config).await.unwrap();
    let err = client.request(get("/")).await.unwrap_err();
    assert!(matches!(err, h2proto_tokio::Error::Timeout(_)), "{err}");
}

/// SECURITY.md: while one connection floods the server (PINGs it never reads the answers to,
/// then a CONTINUATION flood), other connections keep being served, and the flooding one gets
/// GOAWAY(ENHANCE_YOUR_CALM) or is cut off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_connections_are_served_while_one_attacks() {
    let server = Server::builder().handler(site).build();
    let (addr, _task) = start(server).await;
    let attacker = tokio::spawn(async move {
        let mut tcp = TcpStream::connect(addr).await.unwrap();
        let mut out = h2proto::frame::PREFACE.to_vec();
        Frame::Settings(Settings {
            ack: false,
            params: vec![],
        })
        .encode(&mut out);
        // HEADERS without END_HEADERS, then endless empty CONTINUATIONs.
        Frame::Headers(h2proto::frame::Headers {
            stream_id: h2proto::StreamId(1),
            block: Bytes::from_static(&[0x82]),
            end_stream: true,
            end_headers: false,
            priority: None,
            pad: None,
        })
        .encode(&mut out);
        for _ in 0..10_000 {
            Frame::Continuation(h2proto::frame::Continuation {
                stream_id: h2proto::StreamId(1),
                block: Bytes::new(),
                end_headers: false,
            })
            .encode(&mut out);
        }
        let _ = tcp.write_all(&out).await;
        // Read what the server says: it must end with GOAWAY ENHANCE_YOUR_CALM and close.
        let mut buf = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut buf)).await;
        let mut dec = FrameDecoder::new();
        let mut bytes = BytesMut::from(&buf[..]);
        let mut goaway = None;
        while let Ok(Some(f)) = dec.decode(&mut bytes) {
            if let Frame::GoAway(g) = f {
                goaway = Some(g.error_code);
            }
        }
        goaway
    });
    // Meanwhile an honest client is served, many times.
    let client = h2c_client(addr).await;
    for _ in 0..50 {
        let resp = client.request(get("/bytes/1000")).await.unwrap();
        assert_eq!(body_bytes(resp).await.len(), 1000);
    }
    assert_eq!(
        attacker.await.unwrap(),
        Some(h2proto::ErrorCode::ENHANCE_YOUR_CALM)
    );
}

/// Both ends give their buffers back after 0.5 s without a stream (the driver's idle release):
/// the connection then works as before, for small requests (read through the stack buffer) and
/// for a large upload (read zero-copy into chunks), and the server's HPACK state still matches
/// ours (the same header fields are sent again as indexed references).
#[tokio::test]
async fn connection_works_after_idle_release() {
    let server = Server::builder().handler(site).build();
    let (addr, _task) = start(server).await;
    let client = h2c_client(addr).await;
    let data = pattern(1 << 20);
    for round in 0..3 {
        let mut req = get("/");
        req.headers_mut().insert(
            "x-round-independent",
            "same-value-every-time".parse().unwrap(),
        );
        let resp = client.request(req).await.unwrap();
        assert_eq!(resp.status(), 200, "round {round}");
        assert_eq!(body_bytes(resp).await, "hello");
        let req = Request::post("/echo")
            .body(Full::new(Bytes::from(data.clone())))
            .unwrap();
        let got = body_bytes(client.request(req).await.unwrap()).await;
        assert_eq!(checksum(&got), checksum(&data), "round {round}");
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    let server_open = client.request(get("/bytes/10")).await.unwrap();
    assert_eq!(body_bytes(server_open).await.len(), 10);
}

/// SECURITY.md, internal data buffering (CVE-2019-9517): a client opens its windows wide, asks
/// for a large body and never reads. The server stops producing once its output is queued
/// and closes the connection when the transport has taken nothing for the write timeout.
#[tokio::test]
async fn a_peer_that_never_reads_is_closed_after_the_write_timeout() {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let server = Server::builder()
        .handler(site)
        .write_timeout(Duration::from_millis(300))
        .on_connection_error(move |_, e| {
            let _ = tx.send(e.to_string());
        })
        .build();
    let (addr, _task) = start(server).await;
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let mut out = h2proto::frame::PREFACE.to_vec();
    Frame::Settings(Settings {
        ack: false,
        params: vec![(h2proto::frame::SettingId::INITIAL_WINDOW_SIZE, 0x7fff_ffff)],
    })
    .encode(&mut out);
    Frame::WindowUpdate(h2proto::frame::WindowUpdate {
        stream_id: h2proto::StreamId(0),
        increment: 0x7fff_0000,
    })
    .encode(&mut out);
    let mut block = Vec::new();
    hpack::Encoder::new().encode(
        [
            hpack::Header::new(":method", "GET"),
            hpack::Header::new(":scheme", "http"),
            hpack::Header::new(":path", "/bytes/200000000"),
            hpack::Header::new(":authority", "localhost"),
        ]
        .iter(),
        &mut block,
    );
    Frame::Headers(h2proto::frame::Headers {
        stream_id: h2proto::StreamId(1),
        block: Bytes::from(block),
        end_stream: true,
        end_headers: true,
        priority: None,
        pad: None,
    })
    .encode(&mut out);
    tcp.write_all(&out).await.unwrap();
    // Never read. The server gives up on us well before the body could have been sent.
    let msg = tokio::time::timeout(Duration::from_secs(20), rx.recv())
        .await
        .expect("the server kept the connection")
        .unwrap();
    assert!(msg.contains("writing to the peer timed out"), "{msg}");
    drop(tcp);
}

/// A handler gets a `Pusher` only from a client that allows push (RFC 9113 §8.4: a client that
/// sent SETTINGS_ENABLE_PUSH 0 must not be sent PUSH_PROMISE, so there is nothing to offer).
#[tokio::test]
async fn pusher_only_when_the_client_allows_push() {
    let server = Server::builder()
        .handler(|req: Request<h2proto_tokio::RecvBody>| async move {
            let has = req.extensions().get::<h2proto_tokio::Pusher>().is_some();
            http::Response::new(Full::new(Bytes::from(if has { "pusher" } else { "none" })))
        })
        .build();
    let (addr, _task) = start(server).await;
    let uri: http::Uri = format!("http://{addr}/").parse().unwrap();
    for (enable_push, expected) in [(true, "pusher"), (false, "none")] {
        let mut config = ClientConfig::default();
        config.h2.enable_push = enable_push;
        let client = Client::connect(&uri, config).await.unwrap();
        let resp = client.request(get("/")).await.unwrap();
        assert_eq!(
            body_bytes(resp).await,
            expected,
            "enable_push {enable_push}"
        );
    }
}
