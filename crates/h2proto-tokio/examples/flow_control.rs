//! Flow control end to end: a client with a small receive window reads a large body slowly;
//! the server's handler is paced by the window, since credit goes back only as the client reads.
//!
//! `cargo run -p h2proto-tokio --example flow_control`

use bytes::Bytes;
use h2proto_tokio::{Client, ClientConfig, Server};
use http::{Request, Response};
use http_body::{Body, Frame};
use http_body_util::{BodyExt, Empty};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// 64 chunks of 16 KiB that count how many were taken by the connection.
struct Counted {
    left: usize,
    taken: Arc<AtomicUsize>,
}

impl Body for Counted {
    type Data = Bytes;
    type Error = std::convert::Infallible;
    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if self.left == 0 {
            return Poll::Ready(None);
        }
        self.left -= 1;
        self.taken.fetch_add(16 << 10, Ordering::SeqCst);
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(vec![b'.'; 16 << 10])))))
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let taken = Arc::new(AtomicUsize::new(0));
    let t = taken.clone();
    // A small send buffer on the server, so the handler feels the client's window.
    let server_config = h2proto::Config {
        max_send_buffer_per_stream: 32 << 10,
        ..h2proto::Config::default()
    };
    let server = Server::builder()
        .config(server_config)
        .handler(move |_req| {
            let taken = t.clone();
            async move { Response::new(Counted { left: 64, taken }) }
        })
        .build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move { server.serve(listener).await });

    let config = ClientConfig {
        h2: h2proto::Config {
            initial_window_size: 65_535,
            connection_window_size: 65_535,
            ..h2proto::Config::default()
        },
        ..ClientConfig::default()
    };
    let client = Client::connect(&format!("http://{addr}/").parse()?, config).await?;
    let resp = client
        .request(Request::get("/").body(Empty::<Bytes>::new())?)
        .await?;
    let mut body = resp.into_body();
    let start = Instant::now();
    let mut received = 0;
    while let Some(frame) = body.frame().await {
        if let Some(data) = frame?.data_ref() {
            received += data.len();
        }
        println!(
            "{:>5} ms: client read {:>7} bytes, server handler produced {:>7}",
            start.elapsed().as_millis(),
            received,
            taken.load(Ordering::SeqCst)
        );
        // A slow reader: the server cannot run more than a window (+ its buffer) ahead.
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(())
}
