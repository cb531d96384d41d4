//! The HTTP/2 server: accepts TLS (ALPN `h2`) or cleartext (h2c) connections and runs one
//! connection task each; every request runs its handler in its own task.

use crate::body::RecvBody;
use crate::driver::{
    self, Answer, Command, CommandTx, Dispatch, Driver, FrameTrace, Options, Side,
};
use crate::h1::{self, Sniffed};
use crate::{headers, tls, BoxBody, BoxError, Error};
use bytes::Bytes;
use h2proto::{Config, Connection, Role, StreamId};
use http::uri::{Authority, Scheme};
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type Handler = Arc<dyn Fn(Request<RecvBody>) -> BoxFuture<Response<BoxBody>> + Send + Sync>;
type ErrorLog = Arc<dyn Fn(Option<SocketAddr>, &Error) + Send + Sync>;

/// How long a TLS handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Builds a [`Server`]: protocol [`Config`], TLS or h2c, and the handler.
pub struct Builder {
    config: Config,
    tls: Option<Arc<rustls::ServerConfig>>,
    handler: Option<Handler>,
    trace: Option<FrameTrace>,
    on_error: Option<ErrorLog>,
    write_timeout: Duration,
}

impl Builder {
    /// How long a connection may have output that the peer does not take (its TCP window stays
    /// shut) before it is closed; default 30 s. A peer that opens its HTTP/2 windows wide and
    /// then never reads would otherwise hold its connection, and the output queued for it,
    /// forever (SECURITY.md, internal data buffering, CVE-2019-9517).
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// The protocol settings of every connection (SETTINGS advertised, limits, timeouts).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Serve HTTP/2 over TLS with this config (see [`tls::server_config`]: ALPN must be `h2`).
    /// Without it the server speaks h2c (prior knowledge or Upgrade) on cleartext.
    pub fn tls(mut self, config: Arc<rustls::ServerConfig>) -> Self {
        self.tls = Some(config);
        self
    }

    /// Called with every frame sent and received on every connection.
    pub fn trace(mut self, trace: FrameTrace) -> Self {
        self.config.trace_frames = true;
        self.trace = Some(trace);
        self
    }

    /// Called when a connection fails (TLS handshake, missing ALPN `h2`, protocol error).
    pub fn on_connection_error(
        mut self,
        f: impl Fn(Option<SocketAddr>, &Error) + Send + Sync + 'static,
    ) -> Self {
        self.on_error = Some(Arc::new(f));
        self
    }

    /// The request handler: an async closure from request to response. When the client allows
    /// server push, the request carries a [`Pusher`] extension for it.
    pub fn handler<F, Fut, B>(mut self, f: F) -> Self
    where
        F: Fn(Request<RecvBody>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Response<B>> + Send + 'static,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.handler = Some(Arc::new(move |req| {
            let fut = f(req);
            Box::pin(async move { fut.await.map(box_body) })
        }));
        self
    }

    /// Serves a `tower::Service` (an `axum::Router`, for instance). A service error becomes a
    /// `500 Internal Server Error`.
    pub fn service<S, B>(self, service: S) -> Self
    where
        S: tower_service::Service<Request<RecvBody>, Response = Response<B>>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
        S::Error: std::fmt::Display,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.handler(move |req| {
            let mut service = service.clone();
            async move {
                let ready = std::future::poll_fn(|cx| service.poll_ready(cx))
                    .await
                    .map_err(|e| e.to_string());
                if let Err(e) = ready {
                    return text_response(StatusCode::SERVICE_UNAVAILABLE, e);
                }
                let result = service.call(req).await.map_err(|e| e.to_string());
                match result {
                    Ok(resp) => resp.map(box_body),
                    Err(e) => text_response(StatusCode::INTERNAL_SERVER_ERROR, e),
                }
            }
        })
    }

    pub fn build(mut self) -> Server {
        self.config.trace_frames |= self.trace.is_some();
        let handler = self.handler.unwrap_or_else(|| {
            Arc::new(|_req| {
                Box::pin(async { text_response(StatusCode::NOT_FOUND, "no handler".to_string()) })
            })
        });
        let (shutdown_tx, shutdown_rx) = watch::channel(None);
        Server {
            inner: Arc::new(Inner {
                config: self.config,
                tls: self.tls,
                handler,
                trace: self.trace,
                on_error: self.on_error,
                write_timeout: self.write_timeout,
                shutdown_tx,
                shutdown_rx,
                open: AtomicUsize::new(0),
                refused_at_fd_limit: AtomicU64::new(0),
            }),
        }
    }
}

/// Boxes any body into the server's body type.
pub fn box_body<B>(body: B) -> BoxBody
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    body.map_err(Into::into).boxed_unsync()
}

/// A plain-text response.
pub fn text_response(status: StatusCode, text: String) -> Response<BoxBody> {
    let mut resp = Response::new(box_body(http_body_util::Full::new(Bytes::from(text))));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

struct Inner {
    config: Config,
    tls: Option<Arc<rustls::ServerConfig>>,
    handler: Handler,
    trace: Option<FrameTrace>,
    on_error: Option<ErrorLog>,
    write_timeout: Duration,
    shutdown_tx: watch::Sender<Option<Instant>>,
    shutdown_rx: watch::Receiver<Option<Instant>>,
    /// Connections being served now.
    open: AtomicUsize,
    /// Connections refused at the file-descriptor limit (accepted and closed at once).
    refused_at_fd_limit: AtomicU64,
}

/// An HTTP/2 server. Cheap to clone; all clones share handler and shutdown state.
#[derive(Clone)]
pub struct Server {
    inner: Arc<Inner>,
}

impl Server {
    pub fn builder() -> Builder {
        Builder {
            config: Config::default(),
            tls: None,
            handler: None,
            trace: None,
            on_error: None,
            write_timeout: driver::WRITE_TIMEOUT,
        }
    }

    /// Accepts connections until [`Server::shutdown`], then waits for the open connections to
    /// drain (each closes gracefully, at the latest at the shutdown deadline).
    ///
    /// At the file-descriptor limit (`EMFILE`/`ENFILE`) the loop neither spins nor lets clients
    /// wait in the backlog: it closes a spare descriptor it keeps for this, accepts the waiting
    /// connection and closes it at once (so that client fails fast and may retry elsewhere),
    /// takes the spare again, and pauses accepting for a moment.
    pub async fn serve(&self, listener: TcpListener) -> std::io::Result<()> {
        let mut tasks = JoinSet::new();
        let mut spare = std::fs::File::open("/dev/null").ok();
        let mut stop = self.inner.shutdown_rx.clone();
        let mut stopped = std::pin::pin!(async move {
            let _ = stop.wait_for(|d| d.is_some()).await;
        });
        loop {
            tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok((tcp, peer)) => {
                        let _ = tcp.set_nodelay(true);
                        let server = self.clone();
                        server.inner.open.fetch_add(1, Ordering::Relaxed);
                        tasks.spawn(async move {
                            if let Err(e) = server.serve_tcp(tcp).await {
                                if let Some(log) = &server.inner.on_error {
                                    log(Some(peer), &e);
                                }
                            }
                            server.inner.open.fetch_sub(1, Ordering::Relaxed);
                        });
                    }
                    Err(e) => {
                        if is_fd_exhaustion(&e) {
                            self.refuse_one(&listener, &mut spare);
                        }
                        // Out of descriptors, buffers and the like: back off instead of spinning.
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                },
                _ = &mut stopped => break,
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        drop(listener);
        while tasks.join_next().await.is_some() {}
        Ok(())
    }

    /// Connections being served now.
    pub fn open_connections(&self) -> usize {
        self.inner.open.load(Ordering::Relaxed)
    }

    /// Connections accepted and closed at once because the process was out of file descriptors.
    pub fn refused_at_fd_limit(&self) -> u64 {
        self.inner.refused_at_fd_limit.load(Ordering::Relaxed)
    }

    /// At the descriptor limit: frees the spare descriptor, accepts the connections waiting
    /// (without waiting for more), closes each, and takes the spare back.
    fn refuse_one(&self, listener: &TcpListener, spare: &mut Option<std::fs::File>) {
        if spare.take().is_none() {
            return;
        }
        let waker = driver::noop_waker();
        let mut cx = Context::from_waker(&waker);
        // Every connection waiting now (up to a bound per round), each closed at once: with the
        // request unread the kernel answers RST, so the client fails now instead of waiting in
        // the backlog for a descriptor.
        for _ in 0..256 {
            let Poll::Ready(Ok((tcp, _))) = listener.poll_accept(&mut cx) else {
                break;
            };
            drop(tcp);
            self.inner
                .refused_at_fd_limit
                .fetch_add(1, Ordering::Relaxed);
        }
        *spare = std::fs::File::open("/dev/null").ok();
    }

    /// Starts a graceful shutdown: stop accepting, send GOAWAY on every connection, let
    /// in-flight streams finish, close what is left at `now + grace`.
    pub fn shutdown(&self, grace: Duration) {
        let deadline = Instant::now() + grace;
        self.inner.shutdown_tx.send_replace(Some(deadline));
    }

    /// Serves one accepted TCP connection: TLS when configured, else h2c sniffing.
    ///
    /// Each way is a boxed future of its own: a task's future is as large as the largest state
    /// any of its branches may be in, and the TLS state (the rustls connection) is large. Held
    /// inline it would size every connection's task; boxed, a connection pays for the way it
    /// takes.
    pub async fn serve_tcp(&self, tcp: TcpStream) -> Result<(), Error> {
        match self.inner.tls.clone() {
            Some(config) => Box::pin(self.serve_tls(tcp, config)).await,
            None => Box::pin(self.serve_h2c(tcp)).await,
        }
    }

    async fn serve_tls(
        &self,
        tcp: TcpStream,
        config: Arc<rustls::ServerConfig>,
    ) -> Result<(), Error> {
        let acceptor = tokio_rustls::TlsAcceptor::from(config);
        let mut stream = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp))
            .await
            .map_err(|_| Error::Timeout("TLS handshake"))?
            .map_err(|e| Error::Tls(e.to_string()))?;
        if let Err(reason) = tls::check_alpn(stream.get_ref().1.alpn_protocol()) {
            // Never speak HTTP/2 to a client that did not ask for it: close at once.
            let _ = stream.shutdown().await;
            return Err(Error::Tls(reason));
        }
        self.serve_connection(stream).await
    }

    /// Serves HTTP/2 on a transport that already speaks it (after TLS with ALPN `h2`, or a
    /// prior-knowledge cleartext stream).
    pub async fn serve_connection<IO>(&self, io: IO) -> Result<(), Error>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let conn = Connection::new(Role::Server, self.inner.config.clone(), Instant::now());
        self.drive(io, conn, None, &[]).await
    }

    /// Serves a cleartext connection: HTTP/2 with prior knowledge, an HTTP/1.1 `Upgrade: h2c`
    /// request (answered on stream 1 after `101`), or `505` for any other HTTP/1.1 request.
    pub async fn serve_h2c<IO>(&self, mut io: IO) -> Result<(), Error>
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        // A client that connects and stays silent must not hold the task forever.
        // Boxed, as the read buffers of these HTTP/1.1 steps would otherwise stay part of the
        // connection's future after they are done.
        let sniff = Box::pin(h1::sniff(&mut io));
        let sniffed = tokio::time::timeout(self.inner.config.preface_timeout, sniff)
            .await
            .map_err(|_| Error::Timeout("connection preface"))??;
        match sniffed {
            Sniffed::Prior { buffered } => {
                let conn = Connection::new(Role::Server, self.inner.config.clone(), Instant::now());
                self.drive(io, conn, None, &buffered).await
            }
            Sniffed::Upgrade {
                settings,
                request,
                body,
                leftover,
            } => {
                // Boxed while the 101 and the preface go by, so the task's future does not
                // hold a `Connection` inline for the life of every connection.
                let conn = Box::new(
                    Connection::new_upgraded_server(
                        self.inner.config.clone(),
                        Instant::now(),
                        &settings,
                        request,
                    )
                    .map_err(Error::Connection)?,
                );
                h1::switching_protocols(&mut io).await?;
                // Hold our frames until the client's preface arrives: curl (7.x) fails when
                // more than its buffer of HTTP/2 data follows the 101 before it switched.
                let timeout = self.inner.config.preface_timeout;
                let read = Box::pin(h1::read_preface(&mut io, leftover));
                let leftover = tokio::time::timeout(timeout, read)
                    .await
                    .map_err(|_| Error::Timeout("connection preface"))??;
                let body = (!body.is_empty()).then_some(body);
                self.drive(io, *conn, body, &leftover).await
            }
            Sniffed::Http1 { reason } => {
                h1::reject_http1(&mut io, reason).await?;
                Ok(())
            }
            Sniffed::Closed => Ok(()),
        }
    }

    /// Builds the connection task's driver and returns the future that runs it.
    ///
    /// Not an `async fn`: its arguments (the `Connection`, over 2 KiB) would be kept in the
    /// future for the connection's whole life, beside the boxed driver they were moved into.
    fn drive<IO>(
        &self,
        io: IO,
        conn: Connection,
        upgrade_body: Option<Bytes>,
        buffered: &[u8],
    ) -> impl Future<Output = Result<(), Error>> + Send + 'static
    where
        IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let handler = self.inner.handler.clone();
        let noop = driver::noop_waker();
        let dispatch: Dispatch =
            Arc::new(move |id, req, cmd, push| run_handler(&handler, &noop, id, req, cmd, push));
        let mut stop = self.inner.shutdown_rx.clone();
        let shutdown = Box::pin(async move {
            loop {
                if let Some(deadline) = *stop.borrow_and_update() {
                    return deadline;
                }
                if stop.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        });
        let options = Options {
            trace: self.inner.trace.clone(),
            shutdown: Some(shutdown),
            write_timeout: self.inner.write_timeout,
        };
        let side = Side::Server {
            dispatch,
            upgrade_body,
        };
        // Boxed: the task's future then holds a pointer, not the driver, which keeps the
        // per-connection future small (the connection's state is the same either way).
        let mut driver = Box::new(Driver::new(io, conn, side, options, None));
        driver.feed(buffered);
        driver.run()
    }
}

/// `EMFILE` (process limit) or `ENFILE` (system limit): accepting more needs a descriptor.
fn is_fd_exhaustion(e: &std::io::Error) -> bool {
    const EMFILE: i32 = 24;
    const ENFILE: i32 = 23;
    cfg!(unix) && matches!(e.raw_os_error(), Some(EMFILE | ENFILE))
}

/// Runs a request's handler: polled once in place, so that a handler that answers at once costs
/// no task and no channel round trip ([`Answer::Now`]); one that waits goes on in its own task.
/// A panic (caught, in place or in the task) resets only the request's stream.
fn run_handler(
    handler: &Handler,
    noop: &Waker,
    id: StreamId,
    mut req: Request<RecvBody>,
    cmd: CommandTx,
    push: bool,
) -> Answer {
    // Only where a push could be sent: a client that disabled push (SETTINGS_ENABLE_PUSH 0,
    // as most do) gets no `Pusher`, which saves two allocations per request.
    if push {
        let scheme = req.uri().scheme().cloned().unwrap_or(Scheme::HTTPS);
        let authority = req.uri().authority().cloned();
        req.extensions_mut().insert(Pusher {
            cmd: cmd.clone(),
            id,
            scheme,
            authority,
        });
    }
    let mut cx = Context::from_waker(noop);
    let mut fut = None;
    let first = catch_unwind(AssertUnwindSafe(|| {
        let f = fut.insert(handler(req));
        f.as_mut().poll(&mut cx)
    }));
    let fut = match (first, fut) {
        (Ok(Poll::Ready(resp)), _) => return Answer::Now(resp),
        (Ok(Poll::Pending), Some(fut)) => fut,
        _ => return Answer::Panicked,
    };
    tokio::spawn(async move {
        match CatchUnwind(fut).await {
            Ok(resp) => respond(cmd, id, resp).await,
            Err(_) => {
                let _ = cmd.send(Command::Reset {
                    id,
                    code: h2proto::ErrorCode::INTERNAL_ERROR,
                });
            }
        }
    });
    Answer::Later
}

/// A future whose panics become `Err` (what `tokio::spawn` + `JoinHandle` gave, without a second
/// task per request).
struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = std::thread::Result<F::Output>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match catch_unwind(AssertUnwindSafe(|| Pin::new(&mut self.0).poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(e) => Poll::Ready(Err(e)),
        }
    }
}

/// Sends a response head, then its body as capacity allows.
async fn respond<B>(cmd: CommandTx, id: StreamId, resp: Response<B>)
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    let (parts, body) = resp.into_parts();
    let end_stream = body.is_end_stream();
    let headers = headers::response_headers(parts.status, &parts.headers);
    if cmd
        .send(Command::Respond {
            id,
            headers,
            end_stream,
        })
        .is_err()
    {
        return;
    }
    if !end_stream {
        driver::send_body(cmd, id, body).await;
    }
}

/// Server push for a handler (RFC 9113 §8.4), found in a request's extensions when the client
/// allows push (it did not send SETTINGS_ENABLE_PUSH 0).
///
/// `push` sends a PUSH_PROMISE on the request's stream, then the response on the promised
/// stream. Call it before returning the response of the request, so the promise precedes the
/// response data that refers to the resource (§8.4: "promised requests ... SHOULD be sent prior
/// to any frames that reference the promised responses").
#[derive(Clone)]
pub struct Pusher {
    cmd: CommandTx,
    id: StreamId,
    scheme: Scheme,
    authority: Option<Authority>,
}

impl Pusher {
    /// Promises `request` (a GET or HEAD, no body) and sends `response` on the promised stream.
    /// Fails with `Error::Protocol(PushDisabled)` if the client disabled push.
    pub async fn push<B>(
        &self,
        request: Request<()>,
        response: Response<B>,
    ) -> Result<StreamId, Error>
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let list = headers::request_headers(
            request.method(),
            request.uri(),
            request.headers(),
            &self.scheme,
            self.authority.as_ref(),
        );
        let (reply, wait) = oneshot::channel();
        self.cmd
            .send(Command::Push {
                associated: self.id,
                request: list,
                reply,
            })
            .map_err(|_| Error::ConnectionClosed)?;
        let promised = wait.await.unwrap_or(Err(Error::ConnectionClosed))?;
        tokio::spawn(respond(self.cmd.clone(), promised, response));
        Ok(promised)
    }

    /// The stream of the request this pusher belongs to.
    pub fn stream_id(&self) -> StreamId {
        self.id
    }
}

/// Shorthand: the address a listener is bound to, as a URL authority.
pub fn local_authority(listener: &TcpListener) -> std::io::Result<String> {
    Ok(listener.local_addr()?.to_string())
}
