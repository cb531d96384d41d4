//! Interoperability with the `h2` crate over in-memory pipes: our client against an h2 server,
//! and an h2 client against our server.

mod common;

use bytes::Bytes;
use common::*;
use h2proto_tokio::client::{handshake, Pushes};
use h2proto_tokio::{ClientConfig, SendRequest, Server};
use http::uri::Scheme;
use http::{HeaderMap, Request, Response};
use http_body_util::{BodyExt, Full};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const PIPE: usize = 256 << 10;

// ------------------------------------------------------------------ our client, h2 server

/// An h2 server on one end of a pipe, our client on the other.
fn ours_to_h2<F, Fut>(config: ClientConfig, handle: F) -> (SendRequest, Pushes, H2ServerCtl)
where
    F: Fn(Request<h2::RecvStream>, h2::server::SendResponse<Bytes>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (a, b) = tokio::io::duplex(PIPE);
    let (ctl_tx, mut ctl_rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    tokio::spawn(async move {
        let mut conn = h2::server::handshake(b).await.unwrap();
        loop {
            tokio::select! {
                next = conn.accept() => match next {
                    Some(Ok((req, respond))) => { tokio::spawn(handle(req, respond)); }
                    _ => break,
                },
                Some(()) = ctl_rx.recv() => conn.graceful_shutdown(),
            }
        }
    });
    let authority = Some("example.test".parse().unwrap());
    let (send, pushes) = handshake(a, config, Scheme::HTTPS, authority);
    (send, pushes, H2ServerCtl(ctl_tx))
}

struct H2ServerCtl(tokio::sync::mpsc::UnboundedSender<()>);

async fn read_all(body: &mut h2::RecvStream) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.unwrap();
        body.flow_control().release_capacity(chunk.len()).unwrap();
        out.extend_from_slice(&chunk);
    }
    out
}

async fn h2_site(req: Request<h2::RecvStream>, mut respond: h2::server::SendResponse<Bytes>) {
    let path = req.uri().path().to_string();
    let mut body = req.into_body();
    let data = read_all(&mut body).await;
    let trailers = body.trailers().await.unwrap();
    let reply = match path.as_str() {
        "/sum" => format!("{} {}", data.len(), checksum(&data)),
        "/trailers" => {
            let t = trailers.unwrap();
            let mut send = respond.send_response(Response::new(()), false).unwrap();
            send.send_data(Bytes::from(data), false).unwrap();
            let mut out = HeaderMap::new();
            out.insert("x-echo", t["x-check"].clone());
            send.send_trailers(out).unwrap();
            return;
        }
        _ => "hello from h2".to_string(),
    };
    let mut send = respond.send_response(Response::new(()), false).unwrap();
    send.send_data(Bytes::from(reply), true).unwrap();
}

#[tokio::test]
async fn our_client_h2_server_get_and_concurrency() {
    let (send, _pushes, _ctl) = ours_to_h2(ClientConfig::default(), h2_site);
    let resp = send.send_request(get("/")).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(body_bytes(resp).await, "hello from h2");
    let mut tasks = Vec::new();
    for i in 0..100 {
        let send = send.clone();
        tasks.push(tokio::spawn(async move {
            let req = Request::post("/sum")
                .body(Full::new(Bytes::from(pattern(i * 100))))
                .unwrap();
            let resp = send.send_request(req).await.unwrap();
            let text = body_bytes(resp).await;
            assert_eq!(text, format!("{} {}", i * 100, checksum(&pattern(i * 100))));
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test]
async fn our_client_h2_server_10mib_post() {
    let (send, _pushes, _ctl) = ours_to_h2(ClientConfig::default(), h2_site);
    let data = pattern(10 << 20);
    let req = Request::post("/sum")
        .body(Full::new(Bytes::from(data.clone())))
        .unwrap();
    let resp = send.send_request(req).await.unwrap();
    assert_eq!(
        body_bytes(resp).await,
        format!("{} {}", data.len(), checksum(&data))
    );
}

#[tokio::test]
async fn our_client_h2_server_trailers() {
    let (send, _pushes, _ctl) = ours_to_h2(ClientConfig::default(), h2_site);
    let req = Request::post("/trailers")
        .body(trailer_body(&["ab", "cd"], "x-check", "42"))
        .unwrap();
    let resp = send.send_request(req).await.unwrap();
    let collected = resp.into_body().collect().await.unwrap();
    let trailers = collected.trailers().cloned().unwrap();
    assert_eq!(trailers["x-echo"], "42");
    assert_eq!(collected.to_bytes(), "abcd");
}

/// The h2 server may send no more than our window until we read: it stalls, then resumes.
#[tokio::test]
async fn our_client_h2_server_flow_control_stall_and_resume() {
    let granted = Arc::new(AtomicUsize::new(0));
    let g = granted.clone();
    let config = ClientConfig {
        h2: h2proto::Config {
            initial_window_size: 65_535,
            connection_window_size: 65_535,
            ..h2proto::Config::default()
        },
        ..ClientConfig::default()
    };
    let total = 1 << 20;
    let (send, _pushes, _ctl) = ours_to_h2(config, move |_req, mut respond| {
        let g = g.clone();
        async move {
            let mut stream = respond.send_response(Response::new(()), false).unwrap();
            let data = Bytes::from(pattern(total));
            let mut off = 0;
            while off < total {
                stream.reserve_capacity(total - off);
                let cap = std::future::poll_fn(|cx| stream.poll_capacity(cx))
                    .await
                    .unwrap()
                    .unwrap();
                let n = cap.min(total - off);
                g.fetch_add(n, Ordering::SeqCst);
                stream
                    .send_data(data.slice(off..off + n), off + n == total)
                    .unwrap();
                off += n;
            }
        }
    });
    let resp = send.send_request(get("/big")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let stalled_at = granted.load(Ordering::SeqCst);
    assert!(stalled_at <= 65_535, "sent {stalled_at} beyond the window");
    let got = body_bytes(resp).await;
    assert_eq!(got.len(), total);
    assert_eq!(checksum(&got), checksum(&pattern(total)));
}

/// h2's graceful shutdown: the request in flight completes; no new request starts afterwards.
#[tokio::test]
async fn our_client_h2_server_graceful_goaway() {
    let (gate_tx, gate_rx) = tokio::sync::watch::channel(false);
    let (send, _pushes, ctl) = ours_to_h2(ClientConfig::default(), move |_req, mut respond| {
        let mut gate = gate_rx.clone();
        async move {
            let _ = gate.wait_for(|open| *open).await;
            let mut s = respond.send_response(Response::new(()), false).unwrap();
            s.send_data(Bytes::from_static(b"finished"), true).unwrap();
        }
    });
    let inflight = {
        let send = send.clone();
        tokio::spawn(
            async move { body_bytes(send.send_request(get("/slow")).await.unwrap()).await },
        )
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    ctl.0.send(()).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    gate_tx.send(true).unwrap();
    assert_eq!(inflight.await.unwrap(), "finished");
    let err = send.send_request(get("/again")).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
}

// ------------------------------------------------------------------ h2 client, our server

/// Our server on one end of a pipe, an h2 client on the other.
async fn h2_to_ours(
    server: Server,
    builder: h2::client::Builder,
) -> (h2::client::SendRequest<Bytes>, tokio::task::JoinHandle<()>) {
    let (a, b) = tokio::io::duplex(PIPE);
    tokio::spawn(async move {
        let _ = server.serve_connection(b).await;
    });
    let (send, conn) = builder.handshake::<_, Bytes>(a).await.unwrap();
    let task = tokio::spawn(async move {
        let _ = conn.await;
    });
    (send, task)
}

fn h2_get(path: &str) -> Request<()> {
    Request::get(format!("https://example.test{path}"))
        .body(())
        .unwrap()
}

#[tokio::test]
async fn h2_client_our_server_get_post_concurrency() {
    let server = Server::builder().handler(site).build();
    let (send, _conn) = h2_to_ours(server, h2::client::Builder::new()).await;
    let mut send = send.ready().await.unwrap();
    let (resp, _) = send.send_request(h2_get("/"), true).unwrap();
    let resp = resp.await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(read_all(&mut resp.into_body()).await, b"hello");

    // 10 MiB POST, checksum on the server side.
    let data = Bytes::from(pattern(10 << 20));
    let req = Request::post("https://example.test/sum").body(()).unwrap();
    let (resp, mut stream) = send.send_request(req, false).unwrap();
    stream.send_data(data.clone(), true).unwrap();
    let resp = resp.await.unwrap();
    let text = read_all(&mut resp.into_body()).await;
    assert_eq!(
        text,
        format!("{} {}", data.len(), checksum(&data)).as_bytes()
    );

    // 100 concurrent streams.
    let mut tasks = Vec::new();
    for i in 0..100usize {
        let mut send = send.clone().ready().await.unwrap();
        tasks.push(tokio::spawn(async move {
            let (resp, _) = send
                .send_request(h2_get(&format!("/bytes/{}", i * 37)), true)
                .unwrap();
            let body = read_all(&mut resp.await.unwrap().into_body()).await;
            assert_eq!(body, pattern(i * 37));
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

#[tokio::test]
async fn h2_client_our_server_trailers() {
    let server = Server::builder().handler(site).build();
    let (send, _conn) = h2_to_ours(server, h2::client::Builder::new()).await;
    let mut send = send.ready().await.unwrap();
    let req = Request::post("https://example.test/echo").body(()).unwrap();
    let (resp, mut stream) = send.send_request(req, false).unwrap();
    stream.send_data(Bytes::from_static(b"abc"), false).unwrap();
    let mut trailers = HeaderMap::new();
    trailers.insert("x-check", "7".parse().unwrap());
    stream.send_trailers(trailers).unwrap();
    let mut body = resp.await.unwrap().into_body();
    assert_eq!(read_all(&mut body).await, b"abc");
    let got = body.trailers().await.unwrap().unwrap();
    assert_eq!(got["x-check"], "7");
}

#[tokio::test]
async fn h2_client_receives_our_push() {
    let server = Server::builder().handler(site).build();
    let (send, _conn) = h2_to_ours(server, h2::client::Builder::new()).await;
    let mut send = send.ready().await.unwrap();
    let (mut resp, _) = send.send_request(h2_get("/push"), true).unwrap();
    let mut promises = resp.push_promises();
    let resp = resp.await.unwrap();
    assert_eq!(read_all(&mut resp.into_body()).await, b"page");
    let promise = promises.push_promise().await.unwrap().unwrap();
    let (req, pushed) = promise.into_parts();
    assert_eq!(req.uri().path(), "/pushed.css");
    let pushed = pushed.await.unwrap();
    assert_eq!(read_all(&mut pushed.into_body()).await, b"body{}");
}

/// The h2 client does not release what it received: our server stops at its window, then
/// resumes when credit comes back.
#[tokio::test]
async fn h2_client_our_server_flow_control_stall_and_resume() {
    let server = Server::builder().handler(site).build();
    let mut builder = h2::client::Builder::new();
    builder
        .initial_window_size(65_535)
        .initial_connection_window_size(65_535);
    let (send, _conn) = h2_to_ours(server, builder).await;
    let mut send = send.ready().await.unwrap();
    let total = 1 << 20;
    let (resp, _) = send
        .send_request(h2_get(&format!("/bytes/{total}")), true)
        .unwrap();
    let mut body = resp.await.unwrap().into_body();
    let mut got = Vec::new();
    // Read without releasing until nothing more arrives.
    loop {
        match tokio::time::timeout(Duration::from_millis(300), body.data()).await {
            Ok(Some(chunk)) => got.extend_from_slice(&chunk.unwrap()),
            Ok(None) => panic!("body ended while the window was closed"),
            Err(_) => break,
        }
    }
    assert!(
        got.len() <= 65_535,
        "received {} beyond the window",
        got.len()
    );
    body.flow_control().release_capacity(got.len()).unwrap();
    got.extend(read_all(&mut body).await);
    assert_eq!(got.len(), total);
    assert_eq!(checksum(&got), checksum(&pattern(total)));
}

#[tokio::test]
async fn h2_client_our_server_graceful_goaway() {
    let server = Server::builder().handler(site).build();
    let (send, conn) = h2_to_ours(server.clone(), h2::client::Builder::new()).await;
    let mut send = send.ready().await.unwrap();
    let size = 4 << 20;
    let (resp, _) = send
        .send_request(h2_get(&format!("/bytes/{size}")), true)
        .unwrap();
    let mut body = resp.await.unwrap().into_body();
    let first = body.data().await.unwrap().unwrap();
    body.flow_control().release_capacity(first.len()).unwrap();
    server.shutdown(Duration::from_secs(10));
    let mut got = first.to_vec();
    got.extend(read_all(&mut body).await);
    assert_eq!(got.len(), size);
    assert_eq!(checksum(&got), checksum(&pattern(size)));
    drop(send);
    // The server closes the connection once the stream is done.
    tokio::time::timeout(Duration::from_secs(5), conn)
        .await
        .expect("connection closed after GOAWAY")
        .unwrap();
}

// ------------------------------------------------------------------ retries on a new connection

/// An h2 server on a TCP port whose first connection refuses every request (REFUSED_STREAM:
/// one retry there, then a new connection) and whose second connection answers once then sends
/// GOAWAY.
#[tokio::test]
async fn refused_requests_are_retried_on_a_new_connection() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let connections = Arc::new(AtomicUsize::new(0));
    let counter = connections.clone();
    tokio::spawn(async move {
        loop {
            let (tcp, _) = listener.accept().await.unwrap();
            let nth = counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut conn = h2::server::handshake(tcp).await.unwrap();
                let mut served = 0;
                while let Some(Ok((_req, mut respond))) = conn.accept().await {
                    if nth == 0 {
                        respond.send_reset(h2::Reason::REFUSED_STREAM);
                        continue;
                    }
                    let mut s = respond.send_response(Response::new(()), false).unwrap();
                    s.send_data(Bytes::from(format!("conn {nth}")), true)
                        .unwrap();
                    served += 1;
                    if nth == 1 && served == 1 {
                        conn.graceful_shutdown();
                    }
                }
            });
        }
    });
    let client = h2c_client(addr).await;
    let resp = client.request(get("/a")).await.unwrap();
    assert_eq!(body_bytes(resp).await, "conn 1");
    tokio::time::sleep(Duration::from_millis(100)).await;
    // Connection 1 went away after one answer: the next request goes to connection 2.
    let resp = client.request(get("/b")).await.unwrap();
    assert_eq!(body_bytes(resp).await, "conn 2");
    assert_eq!(connections.load(Ordering::SeqCst), 3);
}
