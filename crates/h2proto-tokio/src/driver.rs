//! The connection task: one tokio task owns one [`Connection`] and its transport.
//!
//! Loop, following the call order documented on `Connection`:
//! 1. wait for the first of: bytes to read, room to write, a command from a handle, a timer;
//! 2. feed it in (`handle_input`, a `send_*` call, `handle_timeout`);
//! 3. drain `poll_event` and route each event to the stream's waiter;
//! 4. move queued application data into the connection as `send_capacity` allows;
//! 5. append `poll_transmit` output to ONE buffer, written by as few syscalls as the transport
//!    takes (one batch, one write when the socket has room), then flushed.
//!
//! Backpressure: DATA is pulled out of the connection only while less than [`OUT_HIGH`] bytes
//! are waiting to be written, so a slow peer keeps the data inside the connection's bounded send
//! buffers and, through `send_capacity`, stalls the tasks producing it. Reading stops while more
//! than [`READ_PAUSE`] bytes of output are unwritten: a peer that sends without reading our
//! answers (PING or SETTINGS floods) cannot make us buffer without bound.

use crate::body::{BodyEvent, RecvBody};
use crate::chan;
use crate::headers;
use crate::Error;
use bytes::{Bytes, BytesMut};
use h2proto::frame::Frame;
use h2proto::{Connection, ErrorCode, Event, Header, StreamId};
use http::Response;
use std::collections::{HashMap, HashSet, VecDeque};
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::sync::{mpsc, oneshot};

/// Stop pulling frames out of the connection while this much output is unwritten.
const OUT_HIGH: usize = 256 << 10;
/// Stop reading while this much output is unwritten.
const READ_PAUSE: usize = 1 << 20;
/// Read chunk size: a read gets a fresh chunk of this size once less than [`READ_MIN`] is left
/// in the current one. Received frames are slices of these chunks (zero-copy, see
/// `Connection::handle_input_buf`).
const READ_BUF: usize = 16 << 10;
/// Smallest room a read is offered.
const READ_MIN: usize = 4 << 10;
/// A connection quiet for this long (nothing read, written or commanded) gives its buffers back
/// (`Connection::shrink_to_fit` and the driver's own), so idle connections cost kilobytes and
/// quiet ones with open streams (long polls, event streams) keep only their streams' state.
const RELEASE_AFTER: Duration = Duration::from_millis(500);
/// Default of how long output may wait for a peer that does not read before the connection is
/// closed (`server::Builder::write_timeout`).
pub(crate) const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// After a graceful shutdown, once no stream is left, close even if the connection has not
/// finished its GOAWAY exchange within this long.
const LINGER: Duration = Duration::from_secs(1);

/// A read error as a wake-up. A TLS peer that closes without close_notify reads as
/// `UnexpectedEof`: the HTTP/2 layer decides whether anything was lost (open streams fail), so it
/// is a plain end of input.
fn read_error(e: std::io::Error) -> Wake {
    if e.kind() == std::io::ErrorKind::UnexpectedEof {
        Wake::Read(0)
    } else {
        Wake::Io(e)
    }
}

/// Called for every frame sent (`true`) or received (`false`), with the decoded header list of
/// HEADERS and PUSH_PROMISE frames. Enabling it turns on `Config::trace_frames`.
pub type FrameTrace = Arc<dyn Fn(bool, &Frame, Option<&[Header]>) + Send + Sync>;

/// The result a client waits for: the response head and a streaming body.
pub(crate) type ResponseResult = Result<Response<RecvBody>, Error>;

/// What a handle (client `SendRequest`, server handler task, body) asks of the connection task.
pub(crate) enum Command {
    Request {
        headers: Vec<Header>,
        end_stream: bool,
        reply: oneshot::Sender<Result<(StreamId, oneshot::Receiver<ResponseResult>), Error>>,
    },
    Respond {
        id: StreamId,
        headers: Vec<Header>,
        end_stream: bool,
    },
    Push {
        associated: StreamId,
        request: Vec<Header>,
        reply: oneshot::Sender<Result<StreamId, Error>>,
    },
    Data {
        id: StreamId,
        data: Bytes,
        end_stream: bool,
        done: oneshot::Sender<Result<(), Error>>,
    },
    Trailers {
        id: StreamId,
        headers: Vec<Header>,
    },
    Reset {
        id: StreamId,
        code: ErrorCode,
    },
    Release {
        id: StreamId,
        n: usize,
    },
    DropBody {
        id: StreamId,
    },
    /// Every client handle is gone: finish the open streams, then close.
    Close,
}

pub(crate) type CommandTx = mpsc::UnboundedSender<Command>;

/// Called by the driver for each request a server receives: runs the handler until it first
/// waits, and spawns it only then. The flag says whether the client allows server push.
pub(crate) type Dispatch =
    Arc<dyn Fn(StreamId, http::Request<RecvBody>, CommandTx, bool) -> Answer + Send + Sync>;

/// What [`Dispatch`] did with a request.
pub(crate) enum Answer {
    /// The handler answered at once: the driver sends the response itself (no task, no channel).
    Now(Response<crate::BoxBody>),
    /// The handler is running in its own task and answers through the command channel.
    Later,
    /// The handler panicked: reset the stream.
    Panicked,
}

/// A waker that does nothing, for polling a future once in place: if it is not ready, it is
/// handed to a task whose poll registers the real waker (only the latest waker counts).
pub(crate) fn noop_waker() -> std::task::Waker {
    struct Noop;
    impl std::task::Wake for Noop {
        fn wake(self: Arc<Self>) {}
        fn wake_by_ref(self: &Arc<Self>) {}
    }
    std::task::Waker::from(Arc::new(Noop))
}

/// A response pushed by the server (RFC 9113 §8.4), as seen by the client.
pub struct PushedResponse {
    request: http::Request<()>,
    response: oneshot::Receiver<ResponseResult>,
}

impl PushedResponse {
    /// The promised request (from the PUSH_PROMISE header block).
    pub fn request(&self) -> &http::Request<()> {
        &self.request
    }

    /// Waits for the pushed response.
    pub async fn response(self) -> Result<Response<RecvBody>, Error> {
        self.response.await.unwrap_or(Err(Error::ConnectionClosed))
    }

    /// Both parts.
    pub fn into_parts(self) -> (http::Request<()>, PushedResponseFuture) {
        (self.request, PushedResponseFuture(self.response))
    }
}

/// The response half of a [`PushedResponse`].
pub struct PushedResponseFuture(oneshot::Receiver<ResponseResult>);

impl Future for PushedResponseFuture {
    type Output = ResponseResult;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<ResponseResult> {
        Pin::new(&mut self.0)
            .poll(cx)
            .map(|r| r.unwrap_or(Err(Error::ConnectionClosed)))
    }
}

/// Role-specific state.
pub(crate) enum Side {
    Server {
        dispatch: Dispatch,
        /// The body of an h2c Upgrade request, delivered on stream 1 (RFC 7540 §3.2).
        upgrade_body: Option<Bytes>,
    },
    Client {
        /// Requests waiting for a stream slot under the peer's MAX_CONCURRENT_STREAMS.
        queue: VecDeque<QueuedRequest>,
        pushes: Option<mpsc::UnboundedSender<PushedResponse>>,
    },
}

pub(crate) struct QueuedRequest {
    headers: Vec<Header>,
    end_stream: bool,
    reply: oneshot::Sender<Result<(StreamId, oneshot::Receiver<ResponseResult>), Error>>,
}

/// Application data waiting for send capacity.
struct PendingData {
    data: Bytes,
    end_stream: bool,
    done: Option<oneshot::Sender<Result<(), Error>>>,
}

#[derive(Default)]
struct Slot {
    /// A response body the connection task polls itself, with the waker that marks this stream
    /// ready (see [`BodyWakeups`]); the waker is made when the body first has to wait, so a body
    /// that is ready at once (most responses) costs none.
    source: Option<(crate::BoxBody, Option<Waker>)>,
    body_tx: Option<chan::Sender<BodyEvent>>,
    response_tx: Option<oneshot::Sender<ResponseResult>>,
    pending: VecDeque<PendingData>,
    trailers: Option<Vec<Header>>,
    /// The application dropped the receive body: credit for later DATA goes back at once.
    discard: bool,
}

/// Stream-keyed maps use the core's cheap id hash, not SipHash (a lookup per frame).
type IdHash = std::hash::BuildHasherDefault<h2proto::StreamIdHasher>;

/// Response bodies are polled by the connection task itself, not by a task each: a task costs
/// about 500 bytes per open stream and a channel hop per DATA chunk. Each body gets a waker
/// that records its stream here and wakes the connection task, which then polls just the
/// bodies that were woken.
struct BodyWakeups {
    state: std::sync::Mutex<(Vec<StreamId>, Option<Waker>)>,
}

impl BodyWakeups {
    fn lock(&self) -> std::sync::MutexGuard<'_, (Vec<StreamId>, Option<Waker>)> {
        // Each critical section is one push, swap or store: a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The waker of one polled body.
struct StreamWaker {
    id: StreamId,
    shared: Arc<BodyWakeups>,
}

impl std::task::Wake for StreamWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let task = {
            let mut state = self.shared.lock();
            state.0.push(self.id);
            state.1.take()
        };
        if let Some(w) = task {
            w.wake();
        }
    }
}

/// Options of one connection task.
pub(crate) struct Options {
    pub trace: Option<FrameTrace>,
    /// Resolves when the server starts a graceful shutdown, with the drain deadline.
    pub shutdown: Option<Pin<Box<dyn Future<Output = Instant> + Send>>>,
    /// See [`WRITE_TIMEOUT`].
    pub write_timeout: Duration,
}

/// One connection task. Built by the client and server modules, then [`Driver::run`].
pub(crate) struct Driver<IO> {
    io: IO,
    conn: Connection,
    side: Side,
    /// The command channel; made when a handle first needs it and dropped again while the
    /// connection idles with no handle holding a sender (its first block is ~2 KiB).
    cmd_tx: Option<CommandTx>,
    cmd_rx: Option<mpsc::UnboundedReceiver<Command>>,
    streams: HashMap<StreamId, Slot, IdHash>,
    blocked: HashSet<StreamId, IdHash>,
    out: Vec<u8>,
    out_pos: usize,
    needs_flush: bool,
    /// Read chunk; what was read is split off and handed to the connection.
    rbuf: BytesMut,
    /// Idle memory was given back since the connection was last active.
    released: bool,
    /// Something was read, written or commanded since the last step.
    active: bool,
    last_activity: Instant,
    /// When to look again whether the connection has been quiet for [`RELEASE_AFTER`]; moves
    /// only when reached, so a busy connection does not reset its timer on every step.
    release_check: Instant,
    /// The last read was large: read zero-copy into chunks (see `poll_read_small`).
    bulk: bool,
    read_closed: bool,
    timer: Pin<Box<tokio::time::Sleep>>,
    timer_at: Option<Instant>,
    trace: Option<FrameTrace>,
    shutdown: Option<Pin<Box<dyn Future<Output = Instant> + Send>>>,
    /// Hard deadline of a graceful shutdown.
    deadline: Option<Instant>,
    /// Close once no stream is left (client handles dropped, GOAWAY received, shutdown).
    close_when_idle: bool,
    idle_since: Option<Instant>,
    goaway: Option<(StreamId, ErrorCode, String)>,
    /// For polling a response body once in place (see [`Answer::Now`]).
    noop: std::task::Waker,
    /// Which polled bodies were woken; made with the first body that has to wait.
    wakeups: Option<Arc<BodyWakeups>>,
    /// Since when output has been waiting for the transport to take any of it.
    write_blocked_since: Option<Instant>,
    write_timeout: Duration,
}

enum Wake {
    Read(usize),
    Io(std::io::Error),
    Command(Command),
    Timer,
    Shutdown(Instant),
    Progress,
}

impl<IO: AsyncRead + AsyncWrite + Unpin + Send + 'static> Driver<IO> {
    pub(crate) fn new(
        io: IO,
        conn: Connection,
        side: Side,
        options: Options,
        channel: Option<(CommandTx, mpsc::UnboundedReceiver<Command>)>,
    ) -> Driver<IO> {
        let (cmd_tx, cmd_rx) = channel.unzip();
        Driver {
            io,
            conn,
            side,
            cmd_tx,
            cmd_rx,
            streams: HashMap::default(),
            blocked: HashSet::default(),
            // Grows with the batches and keeps its size while the connection is busy: shrinking
            // it after every large batch made each batch grow it again, and above glibc's mmap
            // threshold every growth is an `mremap` and fresh zeroed pages (14 per MiB sent,
            // most of the kernel time of large downloads). An idle connection lets it go
            // (`release_idle_memory`).
            out: Vec::new(),
            out_pos: 0,
            needs_flush: false,
            rbuf: BytesMut::new(),
            released: false,
            active: false,
            last_activity: Instant::now(),
            release_check: Instant::now() + RELEASE_AFTER,
            bulk: false,
            read_closed: false,
            timer: Box::pin(tokio::time::sleep(Duration::from_secs(3600))),
            timer_at: None,
            trace: options.trace,
            shutdown: options.shutdown,
            deadline: None,
            close_when_idle: false,
            idle_since: None,
            goaway: None,
            noop: noop_waker(),
            wakeups: None,
            write_blocked_since: None,
            write_timeout: options.write_timeout,
        }
    }

    /// Feeds bytes that were read before the driver took over (sniffed preface, h2c leftovers).
    pub(crate) fn feed(&mut self, bytes: &[u8]) {
        if !bytes.is_empty() {
            let _ = self.conn.handle_input(bytes, Instant::now());
        }
    }

    /// Runs the connection to its end. Returns the connection error, if it ended with one.
    pub(crate) async fn run(mut self: Box<Self>) -> Result<(), Error> {
        let result = self.run_loop().await;
        let err = match &result {
            Err(e) => e.duplicate(),
            Ok(()) => match self.conn.error() {
                Some(e) if e.code != ErrorCode::NO_ERROR => Error::Connection(e.clone()),
                _ => Error::ConnectionClosed,
            },
        };
        self.fail_all(&err);
        self.close_transport().await;
        result
    }

    /// Closes the write side, then reads and discards until the peer closes too (or
    /// [`LINGER`]). Dropping a socket with unread input makes the kernel send RST, and an RST
    /// can destroy response data the peer has received but not yet read.
    async fn close_transport(&mut self) {
        let _ = tokio::time::timeout(LINGER, self.io.shutdown()).await;
        if self.read_closed {
            return;
        }
        let io = &mut self.io;
        let mut buf = vec![0u8; 4096];
        let _ = tokio::time::timeout(LINGER, async {
            while let Ok(n) = io.read(&mut buf).await {
                if n == 0 {
                    break;
                }
            }
        })
        .await;
    }

    async fn run_loop(&mut self) -> Result<(), Error> {
        loop {
            self.step();
            if self.finished() {
                return match self.conn.error() {
                    Some(e) if e.code != ErrorCode::NO_ERROR => Err(Error::Connection(e.clone())),
                    _ => Ok(()),
                };
            }
            match poll_fn(|cx| self.poll_wake(cx)).await {
                Wake::Read(0) => {
                    self.read_closed = true;
                    if !self.conn.is_closed() {
                        // The transport ended under us: nothing more can be sent or received.
                        return match self.conn.error() {
                            Some(e) if e.code != ErrorCode::NO_ERROR => {
                                Err(Error::Connection(e.clone()))
                            }
                            _ if self.streams.is_empty() => Ok(()),
                            _ => Err(Error::ConnectionClosed),
                        };
                    }
                }
                // Already fed to the connection by `poll_wake`.
                Wake::Read(_) => self.active = true,
                Wake::Io(e) => return Err(Error::Io(e)),
                Wake::Command(cmd) => {
                    self.active = true;
                    self.command(cmd);
                    // Take every command already queued before writing: one batch, one write.
                    while let Some(cmd) = self.cmd_rx.as_mut().and_then(|rx| rx.try_recv().ok()) {
                        self.command(cmd);
                    }
                }
                Wake::Timer => {
                    self.timer_at = None;
                    let now = Instant::now();
                    if self
                        .write_blocked_since
                        .is_some_and(|t| now >= t + self.write_timeout)
                    {
                        // The peer has not taken a byte for the whole write timeout.
                        self.read_closed = true;
                        return Err(Error::Timeout("writing to the peer"));
                    }
                    self.timeout(now);
                }
                Wake::Shutdown(deadline) => {
                    self.shutdown = None;
                    self.begin_shutdown(deadline);
                }
                Wake::Progress => self.active = true,
            }
        }
    }

    /// True when the task may end: the connection is closed (or must close) and output is out.
    fn finished(&self) -> bool {
        let flushed = self.out_pos == self.out.len() && !self.needs_flush;
        if !flushed {
            return false;
        }
        if self.conn.is_closed() || self.read_closed {
            return true;
        }
        let idle = self.streams.is_empty() && self.queue_is_empty();
        self.close_when_idle && idle && self.linger_over()
    }

    fn linger_over(&self) -> bool {
        match (self.idle_since, &self.side) {
            // A client closes as soon as it is idle; a server lets its GOAWAY exchange finish.
            (_, Side::Client { .. }) => true,
            (Some(t), Side::Server { .. }) => t.elapsed() >= LINGER,
            (None, _) => false,
        }
    }

    fn queue_is_empty(&self) -> bool {
        match &self.side {
            Side::Client { queue, .. } => queue.is_empty(),
            Side::Server { .. } => true,
        }
    }

    fn begin_shutdown(&mut self, deadline: Instant) {
        let now = Instant::now();
        self.conn.graceful_shutdown(now);
        self.deadline = Some(self.deadline.map_or(deadline, |d| d.min(deadline)));
        self.close_when_idle = true;
        if self.streams.is_empty() {
            // The linger counts from the GOAWAY, not from when the connection went idle.
            self.idle_since = Some(now);
        }
    }

    fn timeout(&mut self, now: Instant) {
        self.conn.handle_timeout(now);
        if let Some(d) = self.deadline {
            if now >= d && !self.conn.is_closed() {
                // The drain deadline passed: stop waiting for the streams still open.
                self.conn.goaway(
                    ErrorCode::NO_ERROR,
                    Bytes::from_static(b"shutdown deadline"),
                );
                self.read_closed = true;
            }
        }
    }

    /// Steps 3-5 of the loop: events, pending data, output, timer.
    fn step(&mut self) {
        // Bodies woken since the last step, once each: one that wakes itself while polled is
        // polled again at the next step, after the runtime had its turn.
        if let Some(w) = &self.wakeups {
            let woken = std::mem::take(&mut w.lock().0);
            for id in woken {
                self.pump_body(id);
            }
        }
        loop {
            let mut progressed = false;
            while let Some(ev) = self.conn.poll_event() {
                progressed = true;
                self.event(ev);
            }
            if !self.blocked.is_empty() {
                let ids: Vec<StreamId> = self.blocked.drain().collect();
                for id in ids {
                    self.flush_stream(id);
                    self.pump_body(id);
                }
            }
            if !progressed {
                break;
            }
        }
        let now = Instant::now();
        while self.out.len() - self.out_pos < OUT_HIGH
            && self.conn.poll_transmit(now, &mut self.out)
        {
            self.needs_flush = true;
        }
        // Events raised while transmitting (sent-frame traces, streams closed by END_STREAM).
        while let Some(ev) = self.conn.poll_event() {
            self.event(ev);
        }
        if self.streams.is_empty() {
            self.idle_since.get_or_insert(now);
        } else {
            self.idle_since = None;
        }
        if self.active {
            self.active = false;
            self.last_activity = now;
            if self.released {
                self.released = false;
                self.release_check = now + RELEASE_AFTER;
            }
        }
        if !self.released && now >= self.release_check {
            if now >= self.last_activity + RELEASE_AFTER {
                self.release_idle_memory();
            } else {
                self.release_check = self.last_activity + RELEASE_AFTER;
            }
        }
        self.arm_timer();
    }

    fn arm_timer(&mut self) {
        let mut at = self.conn.poll_timeout();
        let mut consider = |t: Option<Instant>| {
            if let Some(t) = t {
                at = Some(at.map_or(t, |a: Instant| a.min(t)));
            }
        };
        consider(self.deadline);
        consider(self.write_blocked_since.map(|t| t + self.write_timeout));
        if self.close_when_idle && matches!(self.side, Side::Server { .. }) {
            consider(self.idle_since.map(|t| t + LINGER));
        }
        if !self.released {
            consider(Some(self.release_check));
        }
        if at != self.timer_at {
            self.timer_at = at;
            if let Some(t) = at {
                self.timer.as_mut().reset(tokio::time::Instant::from_std(t));
            }
        }
    }

    fn poll_wake(&mut self, cx: &mut Context<'_>) -> Poll<Wake> {
        let mut progressed = false;
        while self.out_pos < self.out.len() {
            match Pin::new(&mut self.io).poll_write(cx, &self.out[self.out_pos..]) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Wake::Io(std::io::ErrorKind::WriteZero.into()))
                }
                Poll::Ready(Ok(n)) => {
                    self.out_pos += n;
                    self.write_blocked_since = None;
                    progressed = true;
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Wake::Io(e)),
                Poll::Pending => {
                    if self.write_blocked_since.is_none() {
                        self.write_blocked_since = Some(Instant::now());
                        self.arm_timer();
                    }
                    break;
                }
            }
        }
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
            if self.needs_flush {
                match Pin::new(&mut self.io).poll_flush(cx) {
                    Poll::Ready(Ok(())) => {
                        self.needs_flush = false;
                        progressed = true;
                    }
                    Poll::Ready(Err(e)) => return Poll::Ready(Wake::Io(e)),
                    Poll::Pending => {}
                }
            }
        }
        if progressed {
            return Poll::Ready(Wake::Progress);
        }
        if let Some(rx) = self.cmd_rx.as_mut() {
            if let Poll::Ready(Some(cmd)) = rx.poll_recv(cx) {
                return Poll::Ready(Wake::Command(cmd));
            }
        }
        if !self.read_closed && self.out.len() - self.out_pos < READ_PAUSE {
            // Small reads (requests, control frames) go through a buffer on the stack and are
            // copied; once a read fills a chunk's worth, reads go zero-copy into chunks.
            let read = if self.rbuf.capacity() - self.rbuf.len() >= READ_MIN || self.bulk {
                self.poll_read_chunk(cx)
            } else {
                self.poll_read_small(cx)
            };
            if read.is_ready() {
                return read;
            }
        }
        if let Some(sd) = self.shutdown.as_mut() {
            if let Poll::Ready(deadline) = sd.as_mut().poll(cx) {
                return Poll::Ready(Wake::Shutdown(deadline));
            }
        }
        if self.timer_at.is_some() && self.timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Wake::Timer);
        }
        if let Some(w) = &self.wakeups {
            // Checked and registered under one lock: a body woken after this finds the waker.
            let mut state = w.lock();
            if !state.0.is_empty() {
                return Poll::Ready(Wake::Progress);
            }
            match &state.1 {
                Some(t) if t.will_wake(cx.waker()) => {}
                _ => state.1 = Some(cx.waker().clone()),
            }
        }
        Poll::Pending
    }

    /// Reads into the current read chunk (zero-copy input: frame payloads, DATA included, are
    /// slices of it), taking a fresh chunk first when little room is left in it. What was read
    /// is fed to the connection at once.
    fn poll_read_chunk(&mut self, cx: &mut Context<'_>) -> Poll<Wake> {
        if self.rbuf.capacity() - self.rbuf.len() < READ_MIN {
            self.rbuf = BytesMut::with_capacity(READ_BUF);
        }
        let read = tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, &mut self.rbuf);
        match read {
            Poll::Ready(Ok(0)) => Poll::Ready(Wake::Read(0)),
            Poll::Ready(Ok(n)) => {
                self.bulk = n >= READ_MIN;
                let input = self.rbuf.split();
                let _ = self.conn.handle_input_buf(input, Instant::now());
                Poll::Ready(Wake::Read(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(read_error(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// Reads into a buffer on the stack, copied into the connection: for small reads, where a
    /// copy costs little, so that a connection that only sees requests and control frames (an
    /// idle one in particular) owns no read chunk. A read that fills [`READ_MIN`] switches to
    /// chunks.
    fn poll_read_small(&mut self, cx: &mut Context<'_>) -> Poll<Wake> {
        // Not zeroed: `ReadBuf` tracks what the read initialised (16 KiB of memset per poll
        // showed up in profiles).
        let mut stack = [std::mem::MaybeUninit::<u8>::uninit(); READ_BUF];
        let mut buf = ReadBuf::uninit(&mut stack);
        match Pin::new(&mut self.io).poll_read(cx, &mut buf) {
            Poll::Ready(Ok(())) => {
                let n = buf.filled().len();
                if n > 0 {
                    let _ = self.conn.handle_input(buf.filled(), Instant::now());
                }
                self.bulk = n >= READ_MIN;
                Poll::Ready(Wake::Read(n))
            }
            Poll::Ready(Err(e)) => Poll::Ready(read_error(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    /// A sender of the command channel, making the channel first if it was dropped while idle.
    fn cmd_tx(&mut self) -> CommandTx {
        if let Some(tx) = &self.cmd_tx {
            return tx.clone();
        }
        let (tx, rx) = mpsc::unbounded_channel();
        self.cmd_rx = Some(rx);
        self.cmd_tx.insert(tx).clone()
    }

    /// Gives back what a quiet connection does not need: the core's buffers and tables
    /// (`Connection::shrink_to_fit`), the read chunk, the output buffer, spare capacity of the
    /// stream maps, and the command channel when no handle holds a sender. Runs once a
    /// connection has been quiet for [`RELEASE_AFTER`], open streams or not, and again after
    /// the next quiet period.
    fn release_idle_memory(&mut self) {
        self.released = true;
        self.conn.shrink_to_fit();
        if self.rbuf.is_empty() {
            self.rbuf = BytesMut::new();
        }
        if self.out_pos == self.out.len() {
            self.out = Vec::new();
            self.out_pos = 0;
        }
        self.streams.shrink_to_fit();
        self.blocked.shrink_to_fit();
        if self.streams.is_empty() {
            // No stream, so no polled body: a waker still held somewhere only reaches a
            // dropped list.
            self.wakeups = None;
        }
        if let Side::Client { queue, .. } = &mut self.side {
            queue.shrink_to_fit();
        }
        let unshared = self
            .cmd_tx
            .as_ref()
            .is_some_and(|tx| tx.strong_count() == 1);
        let empty = self.cmd_rx.as_ref().is_some_and(|rx| rx.is_empty());
        if unshared && empty {
            self.cmd_tx = None;
            self.cmd_rx = None;
        }
    }

    // ---- commands from handles ----

    fn command(&mut self, cmd: Command) {
        match cmd {
            Command::Request {
                headers,
                end_stream,
                reply,
            } => self.start_request(QueuedRequest {
                headers,
                end_stream,
                reply,
            }),
            Command::Respond {
                id,
                headers,
                end_stream,
            } => {
                if let Err(e) = self.conn.send_response(id, headers, end_stream) {
                    self.fail_stream(id, Error::Protocol(e));
                }
            }
            Command::Push {
                associated,
                request,
                reply,
            } => {
                let result = self.conn.send_push_promise(associated, request);
                if let Ok(promised) = result {
                    self.streams.insert(promised, Slot::default());
                }
                let _ = reply.send(result.map_err(Error::Protocol));
            }
            Command::Data {
                id,
                data,
                end_stream,
                done,
            } => match self.streams.get_mut(&id) {
                Some(slot) => {
                    slot.pending.push_back(PendingData {
                        data,
                        end_stream,
                        done: Some(done),
                    });
                    self.flush_stream(id);
                }
                None => {
                    let _ = done.send(Err(Error::Reset {
                        code: ErrorCode::STREAM_CLOSED,
                        remote: false,
                    }));
                }
            },
            Command::Trailers { id, headers } => {
                if let Some(slot) = self.streams.get_mut(&id) {
                    slot.trailers = Some(headers);
                    self.flush_stream(id);
                }
            }
            Command::Reset { id, code } => {
                let _ = self.conn.reset_stream(id, code);
            }
            Command::Release { id, n } => self.conn.release_capacity(id, n),
            Command::DropBody { id } => {
                let client = matches!(self.side, Side::Client { .. });
                if let Some(slot) = self.streams.get_mut(&id) {
                    slot.discard = true;
                    slot.body_tx = None;
                    if client {
                        // The response is no longer wanted (RFC 9113 §8.1: CANCEL).
                        let _ = self.conn.reset_stream(id, ErrorCode::CANCEL);
                    }
                }
            }
            Command::Close => {
                // Client: GOAWAY (§6.8); the streams in flight still finish.
                self.close_when_idle = true;
                self.conn.graceful_shutdown(Instant::now());
            }
        }
    }

    fn start_request(&mut self, req: QueuedRequest) {
        if let Some((last, code, debug)) = &self.goaway {
            let _ = last;
            let _ = req.reply.send(Err(Error::GoAway {
                code: *code,
                debug: debug.clone(),
            }));
            return;
        }
        if self.close_when_idle || self.conn.is_closed() {
            let _ = req.reply.send(Err(Error::ConnectionClosed));
            return;
        }
        let Side::Client { queue, .. } = &mut self.side else {
            let _ = req
                .reply
                .send(Err(Error::Protocol(h2proto::Error::NotPermitted(
                    "requests are sent by clients",
                ))));
            return;
        };
        if !queue.is_empty() {
            // Keep the order: requests wait behind the ones already queued.
            queue.push_back(req);
            return;
        }
        if let Some(req) = self.try_send_request(req) {
            if let Side::Client { queue, .. } = &mut self.side {
                queue.push_back(req);
            }
        }
    }

    /// Opens the stream, or gives the request back when the concurrency limit is reached.
    fn try_send_request(&mut self, req: QueuedRequest) -> Option<QueuedRequest> {
        if req.reply.is_closed() {
            // The caller gave up (timeout, dropped future) while the request was queued.
            return None;
        }
        match self.conn.send_request(req.headers.clone(), req.end_stream) {
            Ok(id) => {
                let (tx, rx) = oneshot::channel();
                self.streams.insert(
                    id,
                    Slot {
                        response_tx: Some(tx),
                        ..Slot::default()
                    },
                );
                let _ = req.reply.send(Ok((id, rx)));
                None
            }
            Err(h2proto::Error::ConcurrencyLimit) => Some(req),
            Err(e) => {
                let _ = req.reply.send(Err(Error::Protocol(e)));
                None
            }
        }
    }

    /// A stream slot freed up: start queued requests while the peer's limit allows.
    fn drain_queue(&mut self) {
        loop {
            let next = match &mut self.side {
                Side::Client { queue, .. } => queue.pop_front(),
                Side::Server { .. } => None,
            };
            let Some(req) = next else { return };
            if let Some(back) = self.try_send_request(req) {
                if let Side::Client { queue, .. } = &mut self.side {
                    queue.push_front(back);
                }
                return;
            }
        }
    }

    /// Moves a stream's queued data into the connection as far as `send_capacity` allows.
    fn flush_stream(&mut self, id: StreamId) {
        let Some(slot) = self.streams.get_mut(&id) else {
            return;
        };
        while let Some(front) = slot.pending.front_mut() {
            let cap = self.conn.send_capacity(id);
            if front.data.len() > cap && cap > 0 {
                let part = front.data.split_to(cap);
                if self.conn.send_data(id, part, false).is_err() {
                    return;
                }
                continue;
            }
            // When it does not fit, this call fails with SendBufferFull and registers the
            // stream for Event::StreamWritable.
            match self
                .conn
                .send_data(id, front.data.clone(), front.end_stream)
            {
                Ok(()) => {
                    let mut item = slot.pending.pop_front().expect("front exists");
                    if let Some(done) = item.done.take() {
                        let _ = done.send(Ok(()));
                    }
                }
                Err(h2proto::Error::SendBufferFull) => return,
                Err(e) => {
                    let mut first = true;
                    for mut rest in slot.pending.drain(..) {
                        if let Some(done) = rest.done.take() {
                            let err = if first {
                                Error::Protocol(e.clone())
                            } else {
                                Error::ConnectionClosed
                            };
                            first = false;
                            let _ = done.send(Err(err));
                        }
                    }
                    return;
                }
            }
        }
        if let Some(trailers) = slot.trailers.take() {
            let _ = self.conn.send_trailers(id, trailers);
        }
    }

    // ---- events from the connection ----

    fn event(&mut self, ev: Event) {
        match ev {
            Event::RequestReceived {
                stream_id,
                headers,
                end_stream,
            } => self.on_request(stream_id, headers, end_stream),
            Event::ResponseReceived {
                stream_id,
                headers,
                end_stream,
            } => self.on_response(stream_id, headers, end_stream),
            Event::TrailersReceived { stream_id, headers } => {
                if let Some(slot) = self.streams.get_mut(&stream_id) {
                    if let Some(tx) = slot.body_tx.take() {
                        let _ = match headers::header_map(headers) {
                            Ok(map) => tx.send(BodyEvent::Trailers(map)),
                            Err(e) => tx.send(BodyEvent::Failed(e)),
                        };
                    }
                }
            }
            Event::DataReceived {
                stream_id,
                data,
                flow_len,
                end_stream,
            } => self.on_data(stream_id, data, flow_len, end_stream),
            Event::PushPromiseReceived {
                stream_id,
                associated,
                headers,
            } => self.on_push_promise(stream_id, associated, headers),
            Event::StreamWritable { stream_id } => {
                self.blocked.insert(stream_id);
            }
            Event::StreamClosed { stream_id } => {
                self.finish_stream(stream_id, None);
                self.drain_queue();
            }
            Event::StreamReset {
                stream_id,
                code,
                remote,
            } => {
                self.finish_stream(stream_id, Some(Error::Reset { code, remote }));
                self.drain_queue();
            }
            Event::GoAwayReceived {
                last_stream_id,
                code,
                debug_data,
            } => self.on_goaway(last_stream_id, code, debug_data),
            Event::Frame {
                sent,
                frame,
                headers,
            } => {
                if let Some(trace) = &self.trace {
                    trace(sent, &frame, headers.as_deref());
                }
            }
            _ => {}
        }
    }

    fn on_request(&mut self, id: StreamId, list: Vec<Header>, end_stream: bool) {
        if !matches!(self.side, Side::Server { .. }) {
            return;
        }
        let cmd = self.cmd_tx();
        let Side::Server {
            dispatch,
            upgrade_body,
        } = &mut self.side
        else {
            return;
        };
        let head = match headers::parse_request(list) {
            Ok(h) => h,
            Err(_) => {
                let _ = self.conn.reset_stream(id, ErrorCode::PROTOCOL_ERROR);
                return;
            }
        };
        let length = headers::content_length(&head.headers);
        let mut slot = Slot::default();
        let body = if id == StreamId(1) && upgrade_body.is_some() {
            // h2c Upgrade: the HTTP/1.1 request's body was read before switching.
            let (tx, rx) = chan::unbounded();
            let data = upgrade_body.take().unwrap_or_default();
            let _ = tx.send(BodyEvent::Data(data, 0));
            let _ = tx.send(BodyEvent::End);
            RecvBody::new(id, rx, cmd.clone(), length)
        } else if end_stream {
            RecvBody::empty()
        } else {
            let (tx, rx) = chan::unbounded();
            slot.body_tx = Some(tx);
            RecvBody::new(id, rx, cmd.clone(), length)
        };
        let mut req = http::Request::new(body);
        *req.method_mut() = head.method;
        *req.uri_mut() = head.uri;
        *req.headers_mut() = head.headers;
        *req.version_mut() = http::Version::HTTP_2;
        if let Some(p) = head.protocol {
            req.extensions_mut().insert(Protocol(p));
        }
        let dispatch = dispatch.clone();
        self.streams.insert(id, slot);
        let push = self.conn.peer_settings().enable_push;
        match dispatch(id, req, cmd, push) {
            Answer::Now(resp) => self.respond_now(id, resp),
            Answer::Later => {}
            Answer::Panicked => {
                let _ = self.conn.reset_stream(id, ErrorCode::INTERNAL_ERROR);
            }
        }
    }

    /// Sends a response the handler returned at once: the head straight into the connection, and
    /// the body too when its first frame is ready and ends it (a fixed page, a small file).
    /// Only a body that must wait is handed to a task.
    fn respond_now(&mut self, id: StreamId, resp: Response<crate::BoxBody>) {
        use http_body::Body as _;
        let (parts, body) = resp.into_parts();
        let end_stream = body.is_end_stream();
        let headers = headers::response_headers(parts.status, &parts.headers);
        if let Err(e) = self.conn.send_response(id, headers, end_stream) {
            self.fail_stream(id, Error::Protocol(e));
            return;
        }
        if end_stream {
            return;
        }
        let Some(slot) = self.streams.get_mut(&id) else {
            return;
        };
        slot.source = Some((body, None));
        self.pump_body(id);
    }

    /// Moves frames from the stream's polled body into the connection while the connection
    /// takes them (its send buffer bounds how far ahead of the peer a body is read). Stops when
    /// the body has nothing ready (its waker marks the stream when it has), when data waits for
    /// room (`StreamWritable` resumes it), or at the end.
    fn pump_body(&mut self, id: StreamId) {
        use http_body::Body as _;
        loop {
            let Some(slot) = self.streams.get_mut(&id) else {
                return;
            };
            if !slot.pending.is_empty() {
                return;
            }
            let Some((body, waker)) = slot.source.as_mut() else {
                return;
            };
            let mut cx = Context::from_waker(waker.as_ref().unwrap_or(&self.noop));
            let polled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                Pin::new(&mut *body).poll_frame(&mut cx)
            }));
            match polled {
                Ok(Poll::Pending) if waker.is_some() => return,
                Ok(Poll::Pending) => {
                    // The first wait: from now on the body wakes this stream, so poll it again
                    // with that waker (the first poll only had the no-op one).
                    let shared = self
                        .wakeups
                        .get_or_insert_with(|| {
                            Arc::new(BodyWakeups {
                                state: std::sync::Mutex::new((Vec::new(), None)),
                            })
                        })
                        .clone();
                    *waker = Some(Waker::from(Arc::new(StreamWaker { id, shared })));
                    continue;
                }
                Ok(Poll::Ready(None)) => {
                    slot.source = None;
                    slot.pending.push_back(PendingData {
                        data: Bytes::new(),
                        end_stream: true,
                        done: None,
                    });
                }
                Ok(Poll::Ready(Some(Ok(frame)))) => match frame.into_data() {
                    Ok(data) => {
                        let end = body.is_end_stream();
                        if end {
                            slot.source = None;
                        } else if data.is_empty() {
                            continue;
                        }
                        slot.pending.push_back(PendingData {
                            data,
                            end_stream: end,
                            done: None,
                        });
                    }
                    Err(frame) => {
                        slot.source = None;
                        if let Ok(trailers) = frame.into_trailers() {
                            slot.trailers = Some(headers::trailer_headers(&trailers));
                        }
                    }
                },
                Ok(Poll::Ready(Some(Err(_)))) | Err(_) => {
                    // A failing (or panicking) body: the response cannot be completed.
                    slot.source = None;
                    let _ = self.conn.reset_stream(id, ErrorCode::INTERNAL_ERROR);
                    return;
                }
            }
            self.flush_stream(id);
        }
    }

    fn on_response(&mut self, id: StreamId, list: Vec<Header>, end_stream: bool) {
        let Some(slot) = self.streams.get_mut(&id) else {
            return;
        };
        let Some(tx) = slot.response_tx.take() else {
            return;
        };
        let (status, map) = match headers::parse_response(list) {
            Ok(parts) => parts,
            Err(e) => {
                let _ = tx.send(Err(e));
                let _ = self.conn.reset_stream(id, ErrorCode::PROTOCOL_ERROR);
                return;
            }
        };
        let body = if end_stream {
            RecvBody::empty()
        } else {
            let (btx, brx) = chan::unbounded();
            slot.body_tx = Some(btx);
            RecvBody::new(id, brx, self.cmd_tx(), headers::content_length(&map))
        };
        if tx.send(Ok(headers::response(status, map, body))).is_err() {
            // Nobody waits any more (request timed out or was dropped).
            let _ = self.conn.reset_stream(id, ErrorCode::CANCEL);
        }
    }

    fn on_data(&mut self, id: StreamId, data: Bytes, flow_len: u32, end_stream: bool) {
        let slot = self.streams.get_mut(&id);
        let Some(slot) = slot.filter(|s| !s.discard && s.body_tx.is_some()) else {
            // Nobody reads this stream: return the credit at once (§6.9: DATA on a stream we
            // do not read still counts against the connection window).
            self.conn.release_capacity(id, flow_len as usize);
            return;
        };
        let tx = slot.body_tx.as_ref().expect("checked above");
        if !data.is_empty() || flow_len > 0 {
            if let Err(BodyEvent::Data(_, n)) = tx.send(BodyEvent::Data(data, flow_len)) {
                self.conn.release_capacity(id, n as usize);
            }
        }
        if end_stream {
            if let Some(tx) = slot.body_tx.take() {
                let _ = tx.send(BodyEvent::End);
            }
        }
    }

    fn on_push_promise(&mut self, promised: StreamId, _associated: StreamId, list: Vec<Header>) {
        let Side::Client { pushes, .. } = &self.side else {
            return;
        };
        let Some(pushes) = pushes.as_ref().filter(|p| !p.is_closed()) else {
            let _ = self.conn.reset_stream(promised, ErrorCode::CANCEL);
            return;
        };
        let request = match headers::pushed_request(list) {
            Ok(r) => r,
            Err(_) => {
                let _ = self.conn.reset_stream(promised, ErrorCode::PROTOCOL_ERROR);
                return;
            }
        };
        let (tx, rx) = oneshot::channel();
        if pushes
            .send(PushedResponse {
                request,
                response: rx,
            })
            .is_err()
        {
            let _ = self.conn.reset_stream(promised, ErrorCode::CANCEL);
            return;
        }
        self.streams.insert(
            promised,
            Slot {
                response_tx: Some(tx),
                ..Slot::default()
            },
        );
    }

    fn on_goaway(&mut self, last: StreamId, code: ErrorCode, debug: Bytes) {
        let debug = String::from_utf8_lossy(&debug).into_owned();
        if let Side::Client { queue, .. } = &mut self.side {
            // §6.8: streams above last-stream-id were not processed and may be retried.
            let refused: Vec<StreamId> = self
                .streams
                .keys()
                .copied()
                .filter(|id| id.is_client_initiated() && *id > last)
                .collect();
            for req in queue.drain(..) {
                let _ = req.reply.send(Err(Error::GoAway {
                    code,
                    debug: debug.clone(),
                }));
            }
            for id in refused {
                self.finish_stream(
                    id,
                    Some(Error::GoAway {
                        code,
                        debug: debug.clone(),
                    }),
                );
            }
            self.close_when_idle = true;
        }
        self.goaway = Some((last, code, debug));
    }

    /// The stream ended: wake whoever still waits on it.
    fn finish_stream(&mut self, id: StreamId, err: Option<Error>) {
        self.blocked.remove(&id);
        let Some(mut slot) = self.streams.remove(&id) else {
            return;
        };
        let normal = err.is_none();
        let err = err.unwrap_or(Error::Reset {
            code: ErrorCode::STREAM_CLOSED,
            remote: false,
        });
        if let Some(tx) = slot.response_tx.take() {
            let _ = tx.send(Err(err.duplicate()));
        }
        if let Some(tx) = slot.body_tx.take() {
            // A normal close means the peer ended its side: the body is complete.
            let _ = tx.send(if normal {
                BodyEvent::End
            } else {
                BodyEvent::Failed(err.duplicate())
            });
        }
        for mut p in slot.pending.drain(..) {
            if let Some(done) = p.done.take() {
                let _ = done.send(Err(err.duplicate()));
            }
        }
    }

    fn fail_stream(&mut self, id: StreamId, err: Error) {
        self.finish_stream(id, Some(err));
    }

    /// The connection is over: every waiter gets `err`.
    fn fail_all(&mut self, err: &Error) {
        let ids: Vec<StreamId> = self.streams.keys().copied().collect();
        for id in ids {
            self.finish_stream(id, Some(err.duplicate()));
        }
        if let Side::Client { queue, .. } = &mut self.side {
            for req in queue.drain(..) {
                let _ = req.reply.send(Err(err.duplicate()));
            }
        }
        let Some(rx) = self.cmd_rx.as_mut() else {
            return;
        };
        rx.close();
        while let Ok(cmd) = rx.try_recv() {
            match cmd {
                Command::Request { reply, .. } => {
                    let _ = reply.send(Err(err.duplicate()));
                }
                Command::Push { reply, .. } => {
                    let _ = reply.send(Err(err.duplicate()));
                }
                Command::Data { done, .. } => {
                    let _ = done.send(Err(err.duplicate()));
                }
                _ => {}
            }
        }
    }
}

/// The `:protocol` pseudo-header of an extended CONNECT request (RFC 8441), as a request
/// extension.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Protocol(pub String);

/// Sends a whole `http_body::Body` on a stream: DATA as capacity allows, then trailers or an
/// empty END_STREAM DATA frame. Each chunk waits until the connection task has queued it, so a
/// slow peer (small window) slows the body producer.
pub(crate) async fn send_body<B>(cmd: CommandTx, id: StreamId, body: B)
where
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<crate::BoxError>,
{
    use http_body::Body as _;
    use http_body_util::BodyExt;
    let body = body.map_err(Into::<crate::BoxError>::into);
    let mut body = std::pin::pin!(body);
    loop {
        match body.frame().await {
            None => {
                let _ = data_cmd(&cmd, id, Bytes::new(), true).await;
                return;
            }
            Some(Err(_)) => {
                let _ = cmd.send(Command::Reset {
                    id,
                    code: ErrorCode::INTERNAL_ERROR,
                });
                return;
            }
            Some(Ok(frame)) => match frame.into_data() {
                Ok(data) => {
                    let end = body.is_end_stream();
                    if data.is_empty() && !end {
                        continue;
                    }
                    if data_cmd(&cmd, id, data, end).await.is_err() || end {
                        return;
                    }
                }
                Err(frame) => {
                    if let Ok(trailers) = frame.into_trailers() {
                        let headers = headers::trailer_headers(&trailers);
                        let _ = cmd.send(Command::Trailers { id, headers });
                        return;
                    }
                }
            },
        }
    }
}

async fn data_cmd(
    cmd: &CommandTx,
    id: StreamId,
    data: Bytes,
    end_stream: bool,
) -> Result<(), Error> {
    let (done, wait) = oneshot::channel();
    cmd.send(Command::Data {
        id,
        data,
        end_stream,
        done,
    })
    .map_err(|_| Error::ConnectionClosed)?;
    wait.await.unwrap_or(Err(Error::ConnectionClosed))
}
