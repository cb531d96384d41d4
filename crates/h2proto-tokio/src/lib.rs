//! h2proto-tokio: tokio and rustls drivers for the sans-IO [`h2proto`] HTTP/2 core.
//!
//! One tokio task owns each [`h2proto::Connection`] and its transport (see the `driver` module
//! for the loop); request handlers and client calls talk to it through channels. Bodies are
//! [`http_body::Body`] both ways: [`RecvBody`] returns flow-control credit as it is read, and
//! outgoing bodies are sent only as fast as the peer's windows allow.
//!
//! - [`Server`]: TLS with ALPN `h2`, or h2c (prior knowledge, `Upgrade: h2c`, `505` otherwise);
//!   handlers are async closures or a `tower::Service` (an `axum::Router`); server push through
//!   the [`Pusher`] request extension; graceful shutdown.
//! - [`Client`]: connect by URI; concurrent requests on one connection; requests beyond the
//!   server's concurrency limit wait; refused requests are retried on a new connection.
//! - [`tls`]: rustls configs (ring provider) and self-signed certificates.
#![forbid(unsafe_code)]

mod body;
mod chan;
pub mod client;
mod driver;
mod error;
pub mod h1;
mod headers;
pub mod server;
pub mod tls;

pub use body::RecvBody;
pub use client::{Client, ClientConfig, SendRequest};
pub use driver::{FrameTrace, Protocol, PushedResponse, PushedResponseFuture};
pub use error::{BoxError, Error};
pub use server::{Pusher, Server};

/// The rustls version the TLS configs are built with.
pub use rustls;

/// The body type handlers' responses are boxed into.
pub type BoxBody = http_body_util::combinators::UnsyncBoxBody<bytes::Bytes, BoxError>;
