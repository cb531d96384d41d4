//! A minimal HTTP/2 server over TLS with a self-signed certificate.
//!
//! `cargo run -p h2proto-tokio --example hello_server`, then
//! `curl -k --http2 https://127.0.0.1:8443/`.

use bytes::Bytes;
use h2proto_tokio::{tls, Server};
use http::Response;
use http_body_util::Full;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (cert, _pem) = tls::CertKey::self_signed()?;
    let server = Server::builder()
        .tls(tls::server_config(cert)?)
        .handler(|req: http::Request<h2proto_tokio::RecvBody>| async move {
            let text = format!("hello, you asked for {}\n", req.uri().path());
            Response::new(Full::new(Bytes::from(text)))
        })
        .build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8443").await?;
    println!("listening on https://{}/", listener.local_addr()?);
    let stopper = server.clone();
    tokio::spawn(async move {
        let _ = tokio::signal::ctrl_c().await;
        stopper.shutdown(std::time::Duration::from_secs(5));
    });
    server.serve(listener).await?;
    Ok(())
}
