//! hyper-anchor: the hyper 1.x HTTP/2 server `bench/run.sh` compares h2proto against.
//!
//! `hyper-anchor [ADDR:PORT] [DIR] [--tls CERT KEY]` (default 127.0.0.1:8081): h2c with prior
//! knowledge, or with `--tls` HTTP/2 over TLS (tokio-rustls, ring, ALPN `h2` only, TLS 1.2 and 1.3
//! as `h2proto serve --cert --key`), on a current-thread tokio runtime (one core, like
//! `nghttpd -n 1` and `h2proto serve --threads 1`).
//! Routes: `/` a short hello page, `/1m` 1 MiB, `/echo` echoes a POST body (streamed). With DIR,
//! `/` and `/1m` are the contents of DIR/index.html and DIR/1m (read once at start), so all
//! servers of a benchmark send the same bytes.

use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http2;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::convert::Infallible;
use std::io::BufReader;
use std::sync::Arc;

const HELLO: &[u8] = b"<!DOCTYPE html>\n<html><head><title>hyper</title></head>\n<body><h1>Hello from hyper</h1></body></html>\n";

type Body = BoxBody<Bytes, hyper::Error>;

async fn handle(
    req: Request<Incoming>,
    hello: Bytes,
    big: Bytes,
) -> Result<Response<Body>, Infallible> {
    let full = |b: Bytes| Full::new(b).map_err(|never| match never {}).boxed();
    let resp = match req.uri().path() {
        "/" => Response::builder()
            .header("content-type", "text/html")
            .header("content-length", hello.len())
            .body(full(hello)),
        "/1m" => Response::builder()
            .header("content-type", "application/octet-stream")
            .header("content-length", big.len())
            .body(full(big)),
        "/echo" => Response::builder()
            .header("content-type", "application/octet-stream")
            .body(req.into_body().boxed()),
        _ => Response::builder()
            .status(404)
            .body(full(Bytes::from_static(b"not found\n"))),
    };
    Ok(resp.expect("valid response"))
}

/// A rustls server config from PEM files offering only `h2` by ALPN (the same set-up as
/// h2proto-tokio's `tls::server_config`).
fn tls_config(cert: &str, key: &str) -> Arc<rustls::ServerConfig> {
    let open =
        |p: &str| BufReader::new(std::fs::File::open(p).unwrap_or_else(|e| panic!("{p}: {e}")));
    let chain = rustls_pemfile::certs(&mut open(cert))
        .collect::<Result<Vec<_>, _>>()
        .expect("certificate file");
    let key = rustls_pemfile::private_key(&mut open(key))
        .expect("key file")
        .expect("no private key in key file");
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(chain, key)
    .expect("certificate and key");
    config.alpn_protocols = vec![b"h2".to_vec()];
    Arc::new(config)
}

fn main() {
    // Positional ADDR:PORT and DIR; `--tls CERT KEY` anywhere.
    let mut positional = Vec::new();
    let mut tls = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--tls" {
            let cert = args.next().expect("--tls CERT KEY");
            let key = args.next().expect("--tls CERT KEY");
            tls = Some(tokio_rustls::TlsAcceptor::from(tls_config(&cert, &key)));
        } else {
            positional.push(arg);
        }
    }
    let addr = positional
        .first()
        .cloned()
        .unwrap_or_else(|| "127.0.0.1:8081".to_string());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        // Backlog 1024, as `h2proto serve` (TcpListener::bind's 128 overflows under -c 200).
        let addr: std::net::SocketAddr = addr.parse().expect("ADDR:PORT");
        let socket = match addr {
            std::net::SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4(),
            std::net::SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6(),
        }
        .expect("socket");
        socket.set_reuseaddr(true).expect("reuseaddr");
        socket.bind(addr).expect("bind");
        let listener = socket.listen(1024).expect("listen");
        let scheme = if tls.is_some() { "https" } else { "http" };
        eprintln!(
            "listening on {scheme}://{}/",
            listener.local_addr().unwrap()
        );
        let dir = positional.get(1).map(std::path::PathBuf::from);
        let read = |name: &str| {
            dir.as_ref()
                .map(|d| Bytes::from(std::fs::read(d.join(name)).expect("read file")))
        };
        let hello = read("index.html").unwrap_or(Bytes::from_static(HELLO));
        let big = read("1m").unwrap_or_else(|| Bytes::from(vec![b'x'; 1 << 20]));
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let _ = tcp.set_nodelay(true);
            let (hello, big) = (hello.clone(), big.clone());
            let tls = tls.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |req| handle(req, hello.clone(), big.clone()));
                let builder = http2::Builder::new(TokioExecutor::new());
                match tls {
                    None => {
                        let _ = builder.serve_connection(TokioIo::new(tcp), service).await;
                    }
                    Some(acceptor) => {
                        let Ok(stream) = acceptor.accept(tcp).await else {
                            return;
                        };
                        if stream.get_ref().1.alpn_protocol() != Some(b"h2") {
                            return; // only HTTP/2 (ALPN h2) is served
                        }
                        let _ = builder
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    }
                }
            });
        }
    });
}
