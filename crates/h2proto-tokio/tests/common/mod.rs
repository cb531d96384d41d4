//! Shared helpers of the end-to-end tests: a test site, servers on free loopback ports, clients.
#![allow(dead_code)]

use bytes::Bytes;
use h2proto_tokio::{server, tls, BoxBody, Client, ClientConfig, RecvBody, Server};
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use std::net::SocketAddr;
use std::sync::Arc;

/// A small site: `/` hello, `/echo` streams the request body back (trailers included),
/// `/bytes/N` N bytes, `/push` pushes `/pushed.css`.
pub async fn site(req: Request<RecvBody>) -> Response<BoxBody> {
    let path = req.uri().path().to_string();
    if path == "/echo" {
        return Response::new(server::box_body(req.into_body()));
    }
    if let Some(n) = path.strip_prefix("/bytes/") {
        let n: usize = n.parse().unwrap();
        return Response::new(server::box_body(Full::new(Bytes::from(pattern(n)))));
    }
    if path == "/push" {
        let pusher = req
            .extensions()
            .get::<h2proto_tokio::Pusher>()
            .cloned()
            .unwrap();
        let pushed = Response::new(Full::new(Bytes::from_static(b"body{}")));
        pusher
            .push(Request::get("/pushed.css").body(()).unwrap(), pushed)
            .await
            .unwrap();
        return Response::new(server::box_body(Full::new(Bytes::from_static(b"page"))));
    }
    if path == "/sum" {
        // Reads the whole body, answers its length and checksum.
        let body = req.into_body().collect().await.unwrap().to_bytes();
        let text = format!("{} {}", body.len(), checksum(&body));
        return Response::new(server::box_body(Full::new(Bytes::from(text))));
    }
    if path == "/" {
        return Response::new(server::box_body(Full::new(Bytes::from_static(b"hello"))));
    }
    server::text_response(StatusCode::NOT_FOUND, "not found".into())
}

/// `n` bytes of a pattern that catches reordering and loss.
pub fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i % 251) as u8).collect()
}

/// A checksum good enough to compare transfers.
pub fn checksum(b: &[u8]) -> u64 {
    b.iter().fold(0xcbf29ce484222325u64, |h, &x| {
        (h ^ x as u64).wrapping_mul(0x100000001b3)
    })
}

pub struct TestCert {
    pub server: Arc<h2proto_tokio::rustls::ServerConfig>,
    pub client: Arc<h2proto_tokio::rustls::ClientConfig>,
}

/// A self-signed certificate for localhost, and a client config trusting exactly it.
pub fn test_cert() -> TestCert {
    let (cert, _pem) = tls::CertKey::self_signed().unwrap();
    let trust = tls::Trust::Certs(cert.chain.clone());
    TestCert {
        server: tls::server_config(cert).unwrap(),
        client: tls::client_config(&trust).unwrap(),
    }
}

/// Starts `server` on a free loopback port; returns its address and the serve task.
pub async fn start(server: Server) -> (SocketAddr, tokio::task::JoinHandle<std::io::Result<()>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move { server.serve(listener).await });
    (addr, task)
}

pub async fn h2c_client(addr: SocketAddr) -> Client {
    let uri = format!("http://{addr}/").parse().unwrap();
    Client::connect(&uri, ClientConfig::default())
        .await
        .unwrap()
}

pub async fn body_bytes(resp: Response<RecvBody>) -> Bytes {
    resp.into_body().collect().await.unwrap().to_bytes()
}

pub fn get(path: &str) -> Request<http_body_util::Empty<Bytes>> {
    Request::get(path)
        .body(http_body_util::Empty::new())
        .unwrap()
}

/// A body of some data chunks followed by trailers.
pub struct TrailerBody {
    pub chunks: std::collections::VecDeque<Bytes>,
    pub trailers: Option<http::HeaderMap>,
}

impl http_body::Body for TrailerBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        if let Some(c) = self.chunks.pop_front() {
            return std::task::Poll::Ready(Some(Ok(http_body::Frame::data(c))));
        }
        std::task::Poll::Ready(
            self.trailers
                .take()
                .map(|t| Ok(http_body::Frame::trailers(t))),
        )
    }
}

pub fn trailer_body(data: &[&'static str], name: &'static str, value: &'static str) -> TrailerBody {
    let mut trailers = http::HeaderMap::new();
    trailers.insert(name, http::HeaderValue::from_static(value));
    TrailerBody {
        chunks: data
            .iter()
            .map(|d| Bytes::from_static(d.as_bytes()))
            .collect(),
        trailers: Some(trailers),
    }
}
