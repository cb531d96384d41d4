//! The HTTP/2 client: [`SendRequest`] multiplexes requests on one connection; [`Client`] adds
//! connecting by URI, timeouts and retry of refused requests on a new connection.

use crate::body::RecvBody;
use crate::driver::{self, Command, Driver, FrameTrace, Options, PushedResponse, Side};
use crate::{headers, tls, BoxBody, BoxError, Error};
use bytes::Bytes;
use h2proto::{Config, Connection, Role};
use http::uri::{Authority, Scheme};
use http::{Request, Response, Uri};
use http_body_util::BodyExt;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot, Mutex};

/// Options of a [`Client`].
#[derive(Clone)]
pub struct ClientConfig {
    /// Protocol settings (SETTINGS advertised, limits, keep-alive, idle timeout).
    pub h2: Config,
    /// TLS config for `https://` (must offer ALPN `h2`; see [`tls::client_config`]).
    /// `None`: [`tls::Trust::WebPki`].
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// TCP connect plus TLS handshake.
    pub connect_timeout: Option<Duration>,
    /// From sending the request to receiving the response head.
    pub request_timeout: Option<Duration>,
    /// How many times a refused request (REFUSED_STREAM, GOAWAY) is sent again.
    pub retries: u32,
    /// Called for every frame sent and received.
    pub trace: Option<FrameTrace>,
    /// `http://` only: start with an HTTP/1.1 `Upgrade: h2c` request (RFC 7540 §3.2) instead of
    /// prior knowledge, for servers that only offer h2c that way.
    pub upgrade: bool,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            h2: Config::default(),
            tls: None,
            connect_timeout: Some(Duration::from_secs(10)),
            request_timeout: None,
            retries: 2,
            trace: None,
            upgrade: false,
        }
    }
}

impl std::fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientConfig")
            .field("h2", &self.h2)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .finish()
    }
}

/// The receiving end of pushed responses (RFC 9113 §8.4).
pub type Pushes = mpsc::UnboundedReceiver<PushedResponse>;

/// Starts HTTP/2 on a transport that already speaks it (TLS with ALPN `h2`, or cleartext with
/// prior knowledge) and spawns the connection task.
///
/// Returns the request handle and the pushed responses; drop the receiver to refuse pushes
/// (they are then cancelled with RST_STREAM).
pub fn handshake<IO>(
    io: IO,
    config: ClientConfig,
    scheme: Scheme,
    authority: Option<Authority>,
) -> (SendRequest, Pushes)
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (push_tx, push_rx) = mpsc::unbounded_channel();
    let send = spawn_driver(io, config, scheme, authority, push_tx, None);
    (send, push_rx)
}

fn spawn_driver<IO>(
    io: IO,
    mut config: ClientConfig,
    scheme: Scheme,
    authority: Option<Authority>,
    pushes: mpsc::UnboundedSender<PushedResponse>,
    upgraded: Option<Vec<u8>>,
) -> SendRequest
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    if config.trace.is_some() {
        config.h2.trace_frames = true;
    }
    let conn = match &upgraded {
        // After 101 the upgrade request is stream 1 (its response is ignored).
        Some(_) => Connection::new_upgraded_client(config.h2.clone(), Instant::now(), false),
        None => Connection::new(Role::Client, config.h2.clone(), Instant::now()),
    };
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let options = Options {
        trace: config.trace.clone(),
        shutdown: None,
        write_timeout: crate::driver::WRITE_TIMEOUT,
    };
    let side = Side::Client {
        queue: Default::default(),
        pushes: Some(pushes),
    };
    let mut driver = Box::new(Driver::new(
        io,
        conn,
        side,
        options,
        Some((cmd_tx.clone(), cmd_rx)),
    ));
    if let Some(leftover) = upgraded {
        driver.feed(&leftover);
    }
    let (done_tx, done_rx) = tokio::sync::watch::channel(None);
    tokio::spawn(async move {
        let result = driver.run().await;
        let _ = done_tx.send(Some(result.err().map(|e| e.to_string())));
    });
    SendRequest {
        inner: Arc::new(Handle {
            cmd: cmd_tx,
            scheme,
            authority,
            done: done_rx,
        }),
    }
}

struct Handle {
    cmd: driver::CommandTx,
    scheme: Scheme,
    authority: Option<Authority>,
    done: tokio::sync::watch::Receiver<Option<Option<String>>>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        // The last handle is gone: let open streams finish, then close.
        let _ = self.cmd.send(Command::Close);
    }
}

/// A handle to one HTTP/2 connection. Clone it to send concurrent requests on the same
/// connection; the connection closes gracefully once every clone and body is dropped.
#[derive(Clone)]
pub struct SendRequest {
    inner: Arc<Handle>,
}

impl SendRequest {
    /// Sends a request and waits for the response head. The request body streams in the
    /// background (flow-controlled); the response body streams from the returned `RecvBody`.
    ///
    /// Beyond the server's SETTINGS_MAX_CONCURRENT_STREAMS the request waits for a stream to
    /// close instead of failing.
    pub async fn send_request<B>(&self, req: Request<B>) -> Result<Response<RecvBody>, Error>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = req.into_parts();
        let list = headers::request_headers(
            &parts.method,
            &parts.uri,
            &parts.headers,
            &self.inner.scheme,
            self.inner.authority.as_ref(),
        );
        let end_stream = body.is_end_stream();
        let (reply, wait) = oneshot::channel();
        self.inner
            .cmd
            .send(Command::Request {
                headers: list,
                end_stream,
                reply,
            })
            .map_err(|_| Error::ConnectionClosed)?;
        let (id, response) = wait.await.unwrap_or(Err(Error::ConnectionClosed))?;
        if !end_stream {
            tokio::spawn(driver::send_body(self.inner.cmd.clone(), id, body));
        }
        response.await.unwrap_or(Err(Error::ConnectionClosed))
    }

    /// True once the connection task has ended.
    pub fn is_closed(&self) -> bool {
        self.inner.cmd.is_closed() || self.inner.done.borrow().is_some()
    }

    /// Waits for the connection task to end; returns its error, if any.
    pub async fn closed(&self) -> Option<String> {
        let mut done = self.inner.done.clone();
        let result = match done.wait_for(|d| d.is_some()).await {
            Ok(v) => v.clone().flatten(),
            Err(_) => None,
        };
        result
    }

    /// Starts a graceful close: GOAWAY, then close once open streams finish.
    pub fn close(&self) {
        let _ = self.inner.cmd.send(Command::Close);
    }
}

/// The scheme, host and port a [`Client`] connects to.
#[derive(Clone, Debug)]
struct Target {
    scheme: Scheme,
    host: String,
    port: u16,
    authority: Authority,
}

impl Target {
    fn from_uri(uri: &Uri) -> Result<Target, Error> {
        let scheme = uri
            .scheme()
            .cloned()
            .ok_or_else(|| Error::InvalidUri(format!("{uri}: no scheme")))?;
        let default_port = match scheme.as_str() {
            "https" => 443,
            "http" => 80,
            other => return Err(Error::InvalidUri(format!("unsupported scheme {other}"))),
        };
        let authority = uri
            .authority()
            .cloned()
            .ok_or_else(|| Error::InvalidUri(format!("{uri}: no host")))?;
        let host = authority
            .host()
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        Ok(Target {
            scheme,
            host,
            port: authority.port_u16().unwrap_or(default_port),
            authority,
        })
    }
}

struct Shared {
    target: Target,
    config: ClientConfig,
    tls: Option<Arc<rustls::ClientConfig>>,
    current: Mutex<Option<SendRequest>>,
    push_tx: mpsc::UnboundedSender<PushedResponse>,
    push_rx: std::sync::Mutex<Option<Pushes>>,
}

/// An HTTP/2 client for one origin (`https://` with TLS and ALPN `h2`, `http://` with prior
/// knowledge). Clones share the connection; a refused request is retried on a new connection.
#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
}

impl Client {
    /// Connects to the origin of `uri` (the path is ignored).
    pub async fn connect(uri: &Uri, config: ClientConfig) -> Result<Client, Error> {
        let target = Target::from_uri(uri)?;
        let tls = if target.scheme == Scheme::HTTPS {
            Some(match &config.tls {
                Some(c) => c.clone(),
                None => tls::client_config(&tls::Trust::WebPki).map_err(Error::Tls)?,
            })
        } else {
            None
        };
        let (push_tx, push_rx) = mpsc::unbounded_channel();
        let client = Client {
            shared: Arc::new(Shared {
                target,
                config,
                tls,
                current: Mutex::new(None),
                push_tx,
                push_rx: std::sync::Mutex::new(Some(push_rx)),
            }),
        };
        client.connection().await?;
        Ok(client)
    }

    /// The pushed responses of every connection of this client; `None` after the first call.
    /// Pushes are refused (RST_STREAM CANCEL) when nobody takes this receiver... or drops it.
    pub fn pushes(&self) -> Option<Pushes> {
        self.shared.push_rx.lock().ok()?.take()
    }

    /// The current connection, opening a new one if there is none or it closed.
    pub async fn connection(&self) -> Result<SendRequest, Error> {
        let mut current = self.shared.current.lock().await;
        if let Some(send) = current.as_ref().filter(|s| !s.is_closed()) {
            return Ok(send.clone());
        }
        let send = self.open().await?;
        *current = Some(send.clone());
        Ok(send)
    }

    async fn open(&self) -> Result<SendRequest, Error> {
        let connect = self.open_inner();
        match self.shared.config.connect_timeout {
            Some(t) => tokio::time::timeout(t, connect)
                .await
                .map_err(|_| Error::Timeout("connect"))?,
            None => connect.await,
        }
    }

    async fn open_inner(&self) -> Result<SendRequest, Error> {
        let t = &self.shared.target;
        let tcp = TcpStream::connect((t.host.as_str(), t.port))
            .await
            .map_err(|e| {
                Error::Io(std::io::Error::new(
                    e.kind(),
                    format!("cannot connect to {}:{}: {e}", t.host, t.port),
                ))
            })?;
        let _ = tcp.set_nodelay(true);
        let config = self.shared.config.clone();
        let authority = Some(t.authority.clone());
        let pushes = self.shared.push_tx.clone();
        match &self.shared.tls {
            Some(tls_config) => {
                let name = rustls::pki_types::ServerName::try_from(t.host.clone())
                    .map_err(|e| Error::InvalidUri(format!("{}: {e}", t.host)))?;
                let stream = tokio_rustls::TlsConnector::from(tls_config.clone())
                    .connect(name, tcp)
                    .await
                    .map_err(|e| Error::Tls(e.to_string()))?;
                tls::check_alpn(stream.get_ref().1.alpn_protocol()).map_err(Error::Tls)?;
                Ok(spawn_driver(
                    stream,
                    config,
                    Scheme::HTTPS,
                    authority,
                    pushes,
                    None,
                ))
            }
            None if config.upgrade => {
                let mut tcp = tcp;
                let settings = Connection::upgrade_settings_payload(&config.h2);
                let leftover = crate::h1::client_upgrade(&mut tcp, t.authority.as_str(), &settings)
                    .await
                    .map_err(Error::Io)?;
                Ok(spawn_driver(
                    tcp,
                    config,
                    Scheme::HTTP,
                    authority,
                    pushes,
                    Some(leftover),
                ))
            }
            None => Ok(spawn_driver(
                tcp,
                config,
                Scheme::HTTP,
                authority,
                pushes,
                None,
            )),
        }
    }

    /// Sends a request; the URI may be a path (`/x`) or absolute for this origin.
    ///
    /// A request refused before processing (REFUSED_STREAM, or above a GOAWAY's last stream id)
    /// is sent again on a new connection, up to `ClientConfig::retries` times, when it has no
    /// body to replay.
    pub async fn request<B>(&self, req: Request<B>) -> Result<Response<RecvBody>, Error>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let (parts, body) = req.into_parts();
        let replayable = body.is_end_stream();
        let mut body = Some(crate::server::box_body(body));
        let mut attempt = 0;
        loop {
            let send = self.connection().await?;
            let mut req = Request::new(body.take().unwrap_or_else(empty_body));
            *req.method_mut() = parts.method.clone();
            *req.uri_mut() = parts.uri.clone();
            *req.headers_mut() = parts.headers.clone();
            let result = self.with_timeout(send.send_request(req)).await;
            match result {
                Err(e)
                    if e.is_retryable() && replayable && attempt < self.shared.config.retries =>
                {
                    attempt += 1;
                    // A first REFUSED_STREAM says little about the connection (typically a
                    // burst sent before the server's SETTINGS_MAX_CONCURRENT_STREAMS arrived):
                    // retry on it, now under the limit. Refused again, GOAWAY, or a closed
                    // connection: use a new one.
                    let refused_stream = matches!(e, Error::Reset { .. });
                    if !refused_stream || attempt > 1 || send.is_closed() {
                        self.forget(&send).await;
                    }
                }
                other => return other,
            }
        }
    }

    async fn with_timeout(
        &self,
        fut: impl std::future::Future<Output = Result<Response<RecvBody>, Error>>,
    ) -> Result<Response<RecvBody>, Error> {
        match self.shared.config.request_timeout {
            Some(t) => tokio::time::timeout(t, fut)
                .await
                .unwrap_or(Err(Error::Timeout("request"))),
            None => fut.await,
        }
    }

    /// Drops `send` as the current connection (it refused a request).
    async fn forget(&self, send: &SendRequest) {
        let mut current = self.shared.current.lock().await;
        if current
            .as_ref()
            .is_some_and(|c| Arc::ptr_eq(&c.inner, &send.inner))
        {
            *current = None;
        }
    }
}

fn empty_body() -> BoxBody {
    crate::server::box_body(http_body_util::Empty::<Bytes>::new())
}

/// Reads a whole body into memory (trailers dropped).
pub async fn collect(body: RecvBody) -> Result<Bytes, Error> {
    Ok(body.collect().await?.to_bytes())
}
