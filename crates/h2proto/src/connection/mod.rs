//! The HTTP/2 connection: streams (RFC 9113 §5.1), flow control (§5.2, §6.9), priorities
//! (RFC 9218), settings (§6.5), push (§8.4), PING, GOAWAY, and message validation (§8).
//!
//! Module map: [`state`] is the §5.1 transition table, [`stream`] the per-stream record,
//! [`flow`] window arithmetic, [`priority`] RFC 9218 parsing and the DATA scheduler,
//! [`message`] the §8 header rules, `recv` handles each received frame, `send` builds what goes
//! out, `timer` the time-driven rules.

mod config;
pub mod flow;
pub mod message;
pub mod priority;
mod recv;
mod send;
pub mod state;
mod stats;
mod stream;
mod timer;

pub use config::{Config, FlowControl, Role};
pub use priority::Priority;
pub use state::StreamState;
pub use stats::{AbuseCounters, Stats, StreamStats};

use crate::error::{ErrorCode, ProtocolError, Scope};
use crate::event::{ConnectionError, Error, Event};
use crate::frame::{self, FrameDecoder, SettingId};
use crate::hpack::{self, Header};
use crate::StreamId;
use bytes::{Bytes, BytesMut};
use flow::{Window, DEFAULT_WINDOW};
use priority::Scheduler;
use std::collections::{HashSet, VecDeque};
use std::time::Instant;
use stream::{Stream, StreamMap};

/// The peer's SETTINGS as currently in force (RFC 9113 §6.5.2 defaults until it sends them).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PeerSettings {
    pub header_table_size: u32,
    pub enable_push: bool,
    pub max_concurrent_streams: u32,
    pub initial_window_size: u32,
    pub max_frame_size: u32,
    pub max_header_list_size: u32,
    pub enable_connect_protocol: bool,
    pub no_rfc7540_priorities: bool,
}

impl Default for PeerSettings {
    fn default() -> Self {
        PeerSettings {
            header_table_size: 4096,
            enable_push: true,
            max_concurrent_streams: u32::MAX,
            initial_window_size: DEFAULT_WINDOW,
            max_frame_size: frame::DEFAULT_MAX_FRAME_SIZE,
            max_header_list_size: u32::MAX,
            enable_connect_protocol: false,
            no_rfc7540_priorities: false,
        }
    }
}

/// A header block being assembled from HEADERS/PUSH_PROMISE + CONTINUATION frames (§6.10).
#[derive(Debug)]
struct PartialBlock {
    stream_id: StreamId,
    promised: Option<StreamId>,
    end_stream: bool,
    self_dependent: bool,
    block: BytesMut,
    frames: usize,
}

/// Graceful shutdown progress (§6.8: "a server that is attempting to gracefully shut down a
/// connection SHOULD send an initial GOAWAY frame with the last stream identifier set to
/// 2^31-1 and a NO_ERROR code ... After allowing time for any in-flight stream creation (at
/// least one round-trip time), the server MAY send another GOAWAY frame with an updated last
/// stream identifier").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shutdown {
    /// First GOAWAY and a PING sent; the final GOAWAY goes when the PING is answered.
    AwaitingPing { payload: [u8; 8], deadline: Instant },
    /// Final GOAWAY sent; in-flight streams drain until `deadline`.
    Draining { deadline: Instant },
}

const SHUTDOWN_PING: [u8; 8] = *b"h2-shut!";
const KEEPALIVE_PING: [u8; 8] = *b"h2-alive";
const BDP_PING: [u8; 8] = *b"h2-bdp!!";
/// Ranges of skipped peer stream ids remembered (§5.1.1); older ones are forgotten, and a
/// HEADERS on a forgotten one is then answered as on a closed stream (still a connection error).
const MAX_SKIPPED_RANGES: usize = 16;
/// The stream map is not shrunk below this capacity (shrinking tiny tables gains nothing).
const MIN_STREAM_MAP_CAPACITY: usize = 64;

/// One HTTP/2 connection in the client or the server role, with no I/O inside.
///
/// # Call order
///
/// 1. Create it with [`Connection::new`] (it queues the client preface and/or our SETTINGS).
/// 2. Whenever bytes arrive from the transport, pass them to [`handle_input`](Self::handle_input)
///    with the current time.
/// 3. After any input or any API call (`send_request`, `send_data`, ...), drain
///    [`poll_event`](Self::poll_event) until it returns `None`, then call
///    [`poll_transmit`](Self::poll_transmit) with a buffer until it returns `false`, and write
///    the buffer to the transport.
/// 4. Sleep until [`poll_timeout`](Self::poll_timeout) (calling
///    [`handle_timeout`](Self::handle_timeout) when it passes) or until more bytes arrive.
/// 5. When [`is_closed`](Self::is_closed) is true and the output is written, close the transport.
///
/// Errors are sticky (STYLE.md practice 7): after a connection error every call returns it, and
/// the events produced before the error are still delivered by `poll_event`; the GOAWAY that
/// reports it is still produced by `poll_transmit`.
pub struct Connection {
    role: Role,
    config: Config,

    // --- the wire ---
    decoder: FrameDecoder,
    inbuf: BytesMut,
    /// Server role: how many bytes of the client preface (§3.4) are still expected.
    preface_pending: usize,
    hpack_decoder: hpack::Decoder,
    hpack_encoder: hpack::Encoder,
    /// Frames queued by input handling and API calls, handed out by `poll_transmit`.
    out: Vec<u8>,
    scratch: Vec<u8>,
    events: VecDeque<Event>,
    partial: Option<PartialBlock>,
    /// Received HEADERS/PUSH_PROMISE/CONTINUATION frame awaiting its decoded list, for traces.
    trace_pending: Option<frame::Frame>,

    // --- streams ---
    streams: StreamMap,
    scheduler: Scheduler,
    /// The id of the next stream we initiate (odd for a client, even pushes for a server).
    next_stream_id: u32,
    /// The highest stream id the peer initiated (or reserved) so far (§5.1.1).
    max_peer_id: u32,
    /// Ranges of peer stream ids skipped over (never opened), most recent last, at most
    /// [`MAX_SKIPPED_RANGES`]: a later HEADERS on one of them is an "unexpected stream
    /// identifier" (§5.1.1), not a frame on a stream that was used and closed (§5.1).
    skipped_peer_ids: VecDeque<(u32, u32)>,
    /// Streams counted against the peer's limit (ours) and against ours (the peer's) (§5.1.2).
    active_local: u32,
    active_remote: u32,
    /// Streams we reset recently: late frames on them are ignored (§5.1 "closed").
    reset_ids: HashSet<StreamId>,
    reset_order: VecDeque<StreamId>,
    /// Streams waiting for connection-level send buffer room.
    writable_waiters: Vec<StreamId>,

    // --- settings ---
    peer: PeerSettings,
    received_settings: bool,
    /// SETTINGS we sent that the peer has not acknowledged yet, with the time sent.
    pending_settings: VecDeque<(Vec<(SettingId, u32)>, Instant)>,
    /// The receive window every new stream starts with (our INITIAL_WINDOW_SIZE in force).
    local_initial_window: u32,
    /// Whether we advertised ENABLE_CONNECT_PROTOCOL.
    local_connect_protocol: bool,

    // --- connection flow control ---
    conn_send: Window,
    conn_recv: Window,
    /// Received connection-level bytes the application has not released.
    conn_unreleased: u64,
    /// Released connection credit not yet announced.
    conn_pending_credit: u32,
    /// Bytes queued by the application over all streams.
    send_buffered: usize,
    /// Current target of the receive windows (grows in adaptive mode).
    conn_window_target: u32,
    stream_window_target: u32,

    // --- lifecycle ---
    error: Option<ConnectionError>,
    goaway_sent: Option<StreamId>,
    goaway_received: Option<StreamId>,
    shutdown: Option<Shutdown>,
    pings: VecDeque<([u8; 8], Instant)>,
    keepalive_sent: Option<Instant>,
    /// Answers (PING/SETTINGS ACKs) queued since the last `poll_transmit`.
    pending_answers: usize,

    // --- time ---
    created: Instant,
    last_recv: Instant,
    /// The latest `now` any call passed in: the time of API calls that take none.
    last_now: Instant,
    idle_since: Option<Instant>,
    stall_check: Option<Instant>,
    /// Since when DATA has waited on a zero connection send window.
    conn_stalled_since: Option<Instant>,

    // --- abuse accounting (SECURITY.md) ---
    local_resets: u32,
    empty_frames: u32,
    priority_frames: u32,
    reset_tokens: f64,
    reset_tokens_at: Instant,

    // --- adaptive flow control (bandwidth-delay product estimate) ---
    bdp_bytes: u64,
    bdp_ping: Option<Instant>,

    stats: Stats,
}

impl Connection {
    /// Creates a connection in `role` and queues its opening bytes: the client preface (§3.4)
    /// for a client, then our SETTINGS, then a WINDOW_UPDATE opening the connection window to
    /// `config.connection_window_size` (§6.9.2: only WINDOW_UPDATE can change it).
    pub fn new(role: Role, config: Config, now: Instant) -> Connection {
        let mut decoder = FrameDecoder::new();
        decoder.set_max_frame_size(config.max_frame_size.max(frame::DEFAULT_MAX_FRAME_SIZE));
        decoder.set_strict_padding(config.strict_padding);
        let mut hpack_decoder = hpack::Decoder::new();
        hpack_decoder.set_max_header_list_size(config.max_header_list_size as usize);
        // Until the peer ACKs our SETTINGS it may still use the default 4096 table (§6.5.3).
        hpack_decoder.set_max_table_size(config.header_table_size.max(4096) as usize);
        let mut hpack_encoder = hpack::Encoder::new();
        hpack_encoder.set_max_table_size(4096.min(config.max_encoder_table_size) as usize);
        let local_initial_window = config.initial_window_size.max(DEFAULT_WINDOW);
        let mut conn = Connection {
            role,
            decoder,
            inbuf: BytesMut::new(),
            preface_pending: if role == Role::Server {
                frame::PREFACE.len()
            } else {
                0
            },
            hpack_decoder,
            hpack_encoder,
            out: Vec::new(),
            scratch: Vec::new(),
            events: VecDeque::new(),
            partial: None,
            trace_pending: None,
            streams: StreamMap::default(),
            scheduler: Scheduler::default(),
            next_stream_id: if role == Role::Client { 1 } else { 2 },
            max_peer_id: 0,
            skipped_peer_ids: VecDeque::new(),
            active_local: 0,
            active_remote: 0,
            reset_ids: HashSet::new(),
            reset_order: VecDeque::new(),
            writable_waiters: Vec::new(),
            peer: PeerSettings::default(),
            received_settings: false,
            pending_settings: VecDeque::new(),
            local_initial_window,
            local_connect_protocol: false,
            conn_send: Window::new(DEFAULT_WINDOW),
            conn_recv: Window::new(DEFAULT_WINDOW),
            conn_unreleased: 0,
            conn_pending_credit: 0,
            send_buffered: 0,
            conn_window_target: config.connection_window_size.max(DEFAULT_WINDOW),
            stream_window_target: local_initial_window,
            error: None,
            goaway_sent: None,
            goaway_received: None,
            shutdown: None,
            pings: VecDeque::new(),
            keepalive_sent: None,
            pending_answers: 0,
            created: now,
            last_recv: now,
            last_now: now,
            idle_since: Some(now),
            stall_check: None,
            conn_stalled_since: None,
            local_resets: 0,
            empty_frames: 0,
            priority_frames: 0,
            reset_tokens: config.remote_reset_burst as f64,
            reset_tokens_at: now,
            bdp_bytes: 0,
            bdp_ping: None,
            stats: Stats::default(),
            config,
        };
        if role == Role::Client {
            conn.out.extend_from_slice(frame::PREFACE);
        }
        let initial = conn.initial_settings();
        conn.queue_settings(initial, now);
        let extra = conn.conn_window_target - DEFAULT_WINDOW;
        if extra > 0 {
            // Cannot overflow: the target is at most u32 and checked against 2^31-1 below.
            let extra = extra.min(flow::MAX_WINDOW as u32 - DEFAULT_WINDOW);
            let _ = conn.conn_recv.grow(extra as i64);
            conn.queue_window_update(StreamId::CONNECTION, extra);
        }
        conn
    }

    /// Creates the server side of a connection upgraded from HTTP/1.1 (RFC 7540 §3.2).
    ///
    /// `http2_settings` is the decoded (base64url) `HTTP2-Settings` header: a SETTINGS payload
    /// that counts as the client's first SETTINGS. The upgraded request becomes stream 1 in the
    /// half-closed (remote) state, reported as a [`Event::RequestReceived`]; the client still
    /// sends its preface, which this connection expects.
    pub fn new_upgraded_server(
        config: Config,
        now: Instant,
        http2_settings: &[u8],
        request: Vec<Header>,
    ) -> Result<Connection, ConnectionError> {
        let mut conn = Connection::new(Role::Server, config, now);
        if !http2_settings.len().is_multiple_of(6) {
            return Err(conn.fail_local(ErrorCode::PROTOCOL_ERROR, "malformed HTTP2-Settings"));
        }
        let params: Vec<(SettingId, u32)> = http2_settings
            .chunks_exact(6)
            .map(|c| {
                (
                    SettingId(u16::from_be_bytes([c[0], c[1]])),
                    u32::from_be_bytes([c[2], c[3], c[4], c[5]]),
                )
            })
            .collect();
        if let Some(e) = params
            .iter()
            .find_map(|&(id, v)| frame::validate_setting(id, v).err())
        {
            return Err(conn.fail_local(e.code, e.reason));
        }
        if let Err(e) = conn.apply_peer_settings(&params) {
            return Err(conn.fail_local(e.code, e.reason));
        }
        let info = message::validate_request(&request, false)
            .map_err(|r| conn.fail_local(ErrorCode::PROTOCOL_ERROR, r))?;
        let id = StreamId(1);
        conn.max_peer_id = 1;
        let mut s = Stream::new(conn.peer.initial_window_size, conn.local_initial_window);
        s.state = StreamState::HalfClosedRemote;
        s.recv_phase = stream::RecvPhase::Body;
        s.is_head = info.is_head;
        conn.streams.insert(id, s);
        conn.stream_opened(false);
        conn.events.push_back(Event::RequestReceived {
            stream_id: id,
            headers: request,
            end_stream: true,
        });
        Ok(conn)
    }

    /// Client side of an HTTP/1.1 `Upgrade: h2c` (RFC 7540 §3.2): the SETTINGS payload to send,
    /// base64url-encoded, as the `HTTP2-Settings` header of the upgrade request.
    pub fn upgrade_settings_payload(config: &Config) -> Vec<u8> {
        let mut out = Vec::new();
        for (id, v) in Self::settings_for(Role::Client, config) {
            out.extend_from_slice(&id.0.to_be_bytes());
            out.extend_from_slice(&v.to_be_bytes());
        }
        out
    }

    /// Creates the client side of a connection after the server answered an `Upgrade: h2c`
    /// request with 101 (RFC 7540 §3.2): the upgraded request is stream 1, half-closed (local),
    /// and its response arrives as a [`Event::ResponseReceived`] on stream 1. `is_head` says
    /// whether that request was HEAD (its response has no content). The client preface and
    /// SETTINGS are queued as for [`Connection::new`].
    pub fn new_upgraded_client(config: Config, now: Instant, is_head: bool) -> Connection {
        let mut conn = Connection::new(Role::Client, config, now);
        let id = StreamId(1);
        let mut s = Stream::new(conn.peer.initial_window_size, conn.local_initial_window);
        s.state = StreamState::HalfClosedLocal;
        s.final_headers_sent = true;
        s.is_head = is_head;
        conn.streams.insert(id, s);
        conn.next_stream_id = 3;
        conn.stream_opened(true);
        conn
    }

    /// The role given at creation.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Feeds bytes received from the peer. Incomplete frames are kept until the rest arrives.
    ///
    /// Returns the connection error if this input (or an earlier one) failed the connection;
    /// the GOAWAY describing it is then waiting in `poll_transmit`.
    pub fn handle_input(&mut self, bytes: &[u8], now: Instant) -> Result<(), ConnectionError> {
        self.check_open()?;
        let rest = self.take_preface(bytes, now)?;
        self.inbuf.extend_from_slice(rest);
        self.process_input(now)
    }

    /// Like [`handle_input`](Self::handle_input), taking ownership of the buffer: when no partial
    /// frame is pending, frame payloads (DATA included) become slices of `buf` with no copy at all.
    /// A driver that reads into a `BytesMut` and passes `buf.split()` gets zero-copy receiving.
    pub fn handle_input_buf(&mut self, buf: BytesMut, now: Instant) -> Result<(), ConnectionError> {
        self.check_open()?;
        let skip = buf.len() - self.take_preface(&buf, now)?.len();
        if self.inbuf.is_empty() {
            self.inbuf = buf;
            let _ = self.inbuf.split_to(skip);
        } else {
            self.inbuf.extend_from_slice(&buf[skip..]);
        }
        self.process_input(now)
    }

    /// Counts input, refreshes timers, and checks the client preface (server role, §3.4).
    /// Returns what follows the preface.
    fn take_preface<'a>(
        &mut self,
        bytes: &'a [u8],
        now: Instant,
    ) -> Result<&'a [u8], ConnectionError> {
        self.stats.bytes_received += bytes.len() as u64;
        self.last_recv = now;
        self.last_now = now;
        self.keepalive_sent = None;
        if self.preface_pending == 0 {
            return Ok(bytes);
        }
        let done = frame::PREFACE.len() - self.preface_pending;
        let n = bytes.len().min(self.preface_pending);
        // §3.4: "Clients and servers MUST treat an invalid connection preface as a connection
        // error of type PROTOCOL_ERROR."
        if bytes[..n] != frame::PREFACE[done..done + n] {
            return Err(self.fail_local(ErrorCode::PROTOCOL_ERROR, "invalid client preface"));
        }
        self.preface_pending -= n;
        Ok(&bytes[n..])
    }

    /// Decodes and handles every complete frame in the input buffer.
    fn process_input(&mut self, now: Instant) -> Result<(), ConnectionError> {
        while self.error.is_none() {
            match self.decoder.decode(&mut self.inbuf) {
                Ok(Some(f)) => {
                    self.count_frame_in(&f);
                    if let Err(e) = self.recv_frame(f, now) {
                        self.protocol_error(e, now);
                    }
                }
                Ok(None) => break,
                Err(e) => self.protocol_error(e, now),
            }
        }
        match &self.error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// The next event, oldest first.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The connection error, once there is one.
    pub fn error(&self) -> Option<&ConnectionError> {
        self.error.as_ref()
    }

    /// True when there is nothing left to do: the connection failed, or a GOAWAY was exchanged
    /// and every stream finished. Flush `poll_transmit` once more, then close the transport.
    pub fn is_closed(&self) -> bool {
        if self.error.is_some() {
            return true;
        }
        let going_away = self.goaway_received.is_some()
            || (self.goaway_sent.is_some()
                && !matches!(self.shutdown, Some(Shutdown::AwaitingPing { .. })));
        going_away && self.streams.is_empty()
    }

    /// True while a GOAWAY was sent or received: no new streams may start.
    pub fn is_going_away(&self) -> bool {
        self.goaway_sent.is_some() || self.goaway_received.is_some() || self.shutdown.is_some()
    }

    // ------------------------------------------------------------------ requests and responses

    /// Client role: opens a stream with a request (§8.3.1) and returns its id.
    ///
    /// Fails with [`Error::ConcurrencyLimit`] when the peer's SETTINGS_MAX_CONCURRENT_STREAMS is
    /// reached (wait for a `StreamClosed`/`StreamReset`), [`Error::StreamIdsExhausted`] when a new
    /// connection is needed (§5.1.1), [`Error::GoingAway`] after GOAWAY.
    pub fn send_request(
        &mut self,
        headers: Vec<Header>,
        end_stream: bool,
    ) -> Result<StreamId, Error> {
        self.check_api()?;
        if self.role != Role::Client {
            return Err(Error::NotPermitted("only a client sends requests"));
        }
        if self.is_going_away() {
            return Err(Error::GoingAway);
        }
        let info = message::validate_request(&headers, self.peer.enable_connect_protocol)
            .map_err(Error::InvalidHeaders)?;
        if end_stream && info.content_length.is_some_and(|n| n > 0) {
            return Err(Error::InvalidHeaders(
                "content-length with no content (RFC 9113 §8.1.1)",
            ));
        }
        self.check_header_list_size(&headers)?;
        if self.active_local >= self.peer.max_concurrent_streams {
            return Err(Error::ConcurrencyLimit);
        }
        if self.next_stream_id > StreamId::MAX.0 {
            return Err(Error::StreamIdsExhausted);
        }
        let id = StreamId(self.next_stream_id);
        self.next_stream_id += 2;
        let mut s = Stream::new(self.peer.initial_window_size, self.local_initial_window);
        s.state = StreamState::Open;
        s.final_headers_sent = true;
        s.is_head = info.is_head;
        if let Some(p) = &info.priority {
            s.priority = Priority::parse(p, Priority::default());
        }
        if end_stream {
            s.state = StreamState::HalfClosedLocal;
        }
        self.streams.insert(id, s);
        self.stream_opened(true);
        self.write_headers(id, &headers, end_stream, None);
        Ok(id)
    }

    /// Server role: sends response headers on a stream. A 1xx response (§8.1) may come first,
    /// any number of times, then exactly one final response.
    pub fn send_response(
        &mut self,
        id: StreamId,
        headers: Vec<Header>,
        end_stream: bool,
    ) -> Result<(), Error> {
        self.check_api()?;
        if self.role != Role::Server {
            return Err(Error::NotPermitted("only a server sends responses"));
        }
        let info = message::validate_response(&headers).map_err(Error::InvalidHeaders)?;
        let informational = info.status < 200;
        if informational && end_stream {
            return Err(Error::InvalidHeaders(
                "1xx response with END_STREAM (RFC 9113 §8.1)",
            ));
        }
        self.check_header_list_size(&headers)?;
        let s = self.streams.get_mut(&id).ok_or(Error::UnknownStream(id))?;
        if s.final_headers_sent {
            return Err(Error::NotPermitted("final response already sent"));
        }
        let was_reserved = s.state == StreamState::ReservedLocal;
        let next =
            state::next(s.state, state::Transition::SendHeaders).ok_or(Error::StreamClosed(id))?;
        if was_reserved && informational {
            return Err(Error::NotPermitted(
                "informational response on a pushed stream",
            ));
        }
        s.state = next;
        if !informational {
            s.final_headers_sent = true;
            if let Some(p) = &info.priority {
                // RFC 9218 §8: a server may signal the priority it applies in the response.
                s.priority = Priority::parse(p, s.priority);
            }
        }
        if was_reserved {
            self.stream_opened(true);
        }
        self.write_headers(id, &headers, end_stream, None);
        if end_stream {
            self.end_local(id);
        } else {
            self.schedule(id);
        }
        Ok(())
    }

    /// Queues body data. The connection frames it by the peer's SETTINGS_MAX_FRAME_SIZE and sends
    /// it as flow-control windows allow (§6.9). At most `send_capacity(id)` bytes are accepted.
    pub fn send_data(&mut self, id: StreamId, data: Bytes, end_stream: bool) -> Result<(), Error> {
        self.check_api()?;
        let cap = self.send_capacity(id);
        let s = self.streams.get_mut(&id).ok_or(Error::UnknownStream(id))?;
        if !s.state.can_send_data() || s.end_queued || s.trailers.is_some() {
            return Err(Error::StreamClosed(id));
        }
        if !s.final_headers_sent {
            return Err(Error::NotPermitted(
                "DATA before the final HEADERS (RFC 9113 §8.1)",
            ));
        }
        if data.len() > cap {
            s.wants_writable = true;
            // Limited by the connection-wide buffer rather than its own: it may have nothing
            // queued that would wake it, so it waits on the connection.
            if s.buffered == 0 && !self.writable_waiters.contains(&id) {
                self.writable_waiters.push(id);
            }
            return Err(Error::SendBufferFull);
        }
        s.buffered += data.len();
        self.send_buffered += data.len();
        if !data.is_empty() {
            s.send_queue.push_back(data);
        }
        s.end_queued = end_stream;
        self.schedule(id);
        Ok(())
    }

    /// Queues trailers (§8.1): they go after all queued data and end the stream.
    pub fn send_trailers(&mut self, id: StreamId, trailers: Vec<Header>) -> Result<(), Error> {
        self.check_api()?;
        message::validate_trailers(&trailers).map_err(Error::InvalidHeaders)?;
        self.check_header_list_size(&trailers)?;
        let s = self.streams.get_mut(&id).ok_or(Error::UnknownStream(id))?;
        if !s.state.can_send_data() || s.end_queued || s.trailers.is_some() {
            return Err(Error::StreamClosed(id));
        }
        if !s.final_headers_sent {
            return Err(Error::NotPermitted(
                "trailers before the final HEADERS (RFC 9113 §8.1)",
            ));
        }
        s.trailers = Some(trailers);
        self.schedule(id);
        Ok(())
    }

    /// Server role: promises a response to `request` (§8.4) in the context of the peer's stream
    /// `associated`, and returns the promised stream id. Answer it with `send_response` on that id.
    pub fn send_push_promise(
        &mut self,
        associated: StreamId,
        request: Vec<Header>,
    ) -> Result<StreamId, Error> {
        self.check_api()?;
        if self.role != Role::Server {
            return Err(Error::NotPermitted("only a server pushes"));
        }
        // §8.4: "A server MUST NOT send a PUSH_PROMISE if SETTINGS_ENABLE_PUSH is 0".
        if !self.peer.enable_push {
            return Err(Error::PushDisabled);
        }
        if self.is_going_away() {
            return Err(Error::GoingAway);
        }
        message::validate_push_request(&request).map_err(Error::InvalidHeaders)?;
        self.check_header_list_size(&request)?;
        let a = self
            .streams
            .get(&associated)
            .ok_or(Error::UnknownStream(associated))?;
        // §6.6: PUSH_PROMISE only on a peer-initiated stream that is open or half-closed (remote).
        if !associated.is_client_initiated()
            || !matches!(a.state, StreamState::Open | StreamState::HalfClosedRemote)
        {
            return Err(Error::NotPermitted("push on a stream that is not open"));
        }
        if self.active_local >= self.peer.max_concurrent_streams {
            return Err(Error::ConcurrencyLimit);
        }
        if self.next_stream_id > StreamId::MAX.0 {
            return Err(Error::StreamIdsExhausted);
        }
        let id = StreamId(self.next_stream_id);
        self.next_stream_id += 2;
        let mut s = Stream::new(self.peer.initial_window_size, self.local_initial_window);
        s.state = StreamState::ReservedLocal;
        s.recv_phase = stream::RecvPhase::Body;
        self.streams.insert(id, s);
        self.write_headers(associated, &request, false, Some(id));
        Ok(id)
    }

    /// Resets a stream (RST_STREAM, §6.4) and discards what was queued on it.
    pub fn reset_stream(&mut self, id: StreamId, code: ErrorCode) -> Result<(), Error> {
        self.check_api()?;
        if !self.streams.contains_key(&id) {
            return Err(Error::UnknownStream(id));
        }
        self.reset(id, code, false);
        Ok(())
    }

    /// Reports `n` received flow-controlled bytes of stream `id` as consumed (use the events'
    /// `flow_len`). In the default mode the credit goes back with WINDOW_UPDATE once enough has
    /// accumulated (§6.9). The connection window is credited even if the stream is gone.
    pub fn release_capacity(&mut self, id: StreamId, n: usize) {
        if self.error.is_some() || n == 0 {
            return;
        }
        let n = n.min(u32::MAX as usize) as u32;
        let n64 = n as u64;
        let conn_n = n64.min(self.conn_unreleased) as u32;
        self.conn_unreleased -= conn_n as u64;
        self.credit_connection(conn_n);
        let manual = self.config.flow_control == FlowControl::Manual;
        let threshold = (self.stream_window_target / 2).max(1);
        let mut update = None;
        if let Some(s) = self.streams.get_mut(&id) {
            let n = n.min(s.unreleased);
            s.unreleased -= n;
            if s.state.can_recv_data() && !manual {
                s.pending_credit += n;
                // Grow the stream window towards the target as credit goes back.
                if s.pending_credit >= threshold {
                    update = Some(std::mem::take(&mut s.pending_credit));
                }
            }
        }
        if let Some(credit) = update {
            if let Some(s) = self.streams.get_mut(&id) {
                let grow = credit as i64
                    + (self.stream_window_target as i64 - s.recv_window.get() - credit as i64)
                        .max(0);
                let grow = grow.min(flow::MAX_WINDOW - s.recv_window.get()).max(0) as u32;
                if grow > 0 {
                    let _ = s.recv_window.grow(grow as i64);
                    self.queue_window_update(id, grow);
                }
            }
        }
    }

    /// Manual flow control: sends WINDOW_UPDATE for stream `id` (0: the connection) and widens
    /// our receive window by `increment`.
    pub fn window_update(&mut self, id: StreamId, increment: u32) -> Result<(), Error> {
        self.check_api()?;
        if increment == 0 {
            return Err(Error::NotPermitted(
                "WINDOW_UPDATE increment 0 (RFC 9113 §6.9)",
            ));
        }
        let w = if id.is_zero() {
            &mut self.conn_recv
        } else {
            &mut self
                .streams
                .get_mut(&id)
                .ok_or(Error::UnknownStream(id))?
                .recv_window
        };
        w.grow(increment as i64)
            .map_err(|_| Error::NotPermitted("window would exceed 2^31-1 (RFC 9113 §6.9.1)"))?;
        self.queue_window_update(id, increment);
        Ok(())
    }

    /// Sends a PING (§6.7); the answer comes back as [`Event::PingAnswered`] with the RTT.
    pub fn ping(&mut self, payload: [u8; 8], now: Instant) -> Result<(), Error> {
        self.check_api()?;
        if self.pings.len() >= 16 {
            return Err(Error::NotPermitted("too many PINGs outstanding"));
        }
        self.pings.push_back((payload, now));
        self.queue_frame(frame::Frame::Ping(frame::Ping {
            ack: false,
            payload,
        }));
        Ok(())
    }

    /// Starts a graceful shutdown (§6.8). A server sends GOAWAY with 2^31-1, a PING, and once it
    /// is answered the GOAWAY with the real last stream id; a client sends one GOAWAY. Streams in
    /// flight finish (until `Config::shutdown_timeout`); no new ones are accepted.
    pub fn graceful_shutdown(&mut self, now: Instant) {
        if self.error.is_some() || self.shutdown.is_some() || self.goaway_sent.is_some() {
            return;
        }
        if self.role == Role::Server {
            self.send_goaway(StreamId::MAX, ErrorCode::NO_ERROR, Bytes::new());
            self.queue_frame(frame::Frame::Ping(frame::Ping {
                ack: false,
                payload: SHUTDOWN_PING,
            }));
            self.shutdown = Some(Shutdown::AwaitingPing {
                payload: SHUTDOWN_PING,
                deadline: now + self.config.ping_timeout,
            });
        } else {
            self.send_goaway(
                StreamId(self.max_peer_id),
                ErrorCode::NO_ERROR,
                Bytes::new(),
            );
            self.shutdown = Some(Shutdown::Draining {
                deadline: now + self.config.shutdown_timeout,
            });
        }
    }

    /// Sends GOAWAY at once (§6.8). With NO_ERROR the open streams may finish; with any other
    /// code the connection fails now.
    pub fn goaway(&mut self, code: ErrorCode, debug: Bytes) {
        if self.error.is_some() {
            return;
        }
        self.send_goaway(StreamId(self.max_peer_id), code, debug);
        if code == ErrorCode::NO_ERROR {
            self.shutdown = Some(Shutdown::Draining {
                deadline: self.last_now + self.config.shutdown_timeout,
            });
        } else {
            self.error = Some(ConnectionError {
                code,
                reason: "GOAWAY sent by the application".into(),
                remote: false,
            });
            self.abandon_streams();
        }
    }

    /// Sends new SETTINGS (§6.5). They take full effect once the peer acknowledges them.
    pub fn update_settings(
        &mut self,
        params: &[(SettingId, u32)],
        now: Instant,
    ) -> Result<(), Error> {
        self.check_api()?;
        for &(id, v) in params {
            if frame::validate_setting(id, v).is_err() {
                return Err(Error::NotPermitted(
                    "setting value out of range (RFC 9113 §6.5.2)",
                ));
            }
            if id == SettingId::ENABLE_CONNECT_PROTOCOL && v == 0 && self.local_connect_protocol {
                return Err(Error::NotPermitted(
                    "ENABLE_CONNECT_PROTOCOL cannot go back to 0 (RFC 8441 §3)",
                ));
            }
        }
        self.queue_settings(params.to_vec(), now);
        Ok(())
    }

    /// Changes the RFC 9218 priority of a stream. A client tells the server with PRIORITY_UPDATE
    /// (§7.1); a server reorders its own scheduling.
    pub fn set_priority(&mut self, id: StreamId, p: Priority) -> Result<(), Error> {
        self.check_api()?;
        if !self.streams.contains_key(&id) {
            return Err(Error::UnknownStream(id));
        }
        if self.role == Role::Client {
            self.queue_frame(frame::Frame::PriorityUpdate(frame::PriorityUpdate {
                prioritized_id: id,
                field_value: Bytes::from(p.to_field_value()),
            }));
        }
        self.reprioritize(id, p);
        Ok(())
    }

    // ------------------------------------------------------------------ getters

    /// Bytes `send_data` accepts on this stream now: the per-stream and per-connection send
    /// buffer limits minus what is queued (the seed's "buffered amount" complement).
    pub fn send_capacity(&self, id: StreamId) -> usize {
        let Some(s) = self.streams.get(&id) else {
            return 0;
        };
        if !s.state.can_send_data() || s.end_queued || s.trailers.is_some() {
            return 0;
        }
        let stream_room = self
            .config
            .max_send_buffer_per_stream
            .saturating_sub(s.buffered);
        let conn_room = self
            .config
            .max_send_buffer_per_connection
            .saturating_sub(self.send_buffered);
        stream_room.min(conn_room)
    }

    /// Bytes queued and not yet sent: on stream `id`, or over all streams for id 0.
    pub fn buffered_amount(&self, id: StreamId) -> usize {
        if id.is_zero() {
            return self.send_buffered;
        }
        self.streams.get(&id).map_or(0, |s| s.buffered)
    }

    /// Our send window (the peer's credit to us) for stream `id`, or the connection for id 0.
    pub fn send_window(&self, id: StreamId) -> i64 {
        if id.is_zero() {
            return self.conn_send.get();
        }
        self.streams.get(&id).map_or(0, |s| s.send_window.get())
    }

    /// Our receive window (the credit we gave the peer) for stream `id`, or the connection.
    pub fn recv_window(&self, id: StreamId) -> i64 {
        if id.is_zero() {
            return self.conn_recv.get();
        }
        self.streams.get(&id).map_or(0, |s| s.recv_window.get())
    }

    /// The state of a stream the connection still tracks.
    pub fn stream_state(&self, id: StreamId) -> Option<StreamState> {
        self.streams.get(&id).map(|s| s.state)
    }

    /// The priority the connection schedules a stream with.
    pub fn stream_priority(&self, id: StreamId) -> Option<Priority> {
        self.streams.get(&id).map(|s| s.priority)
    }

    /// The peer's settings in force.
    pub fn peer_settings(&self) -> &PeerSettings {
        &self.peer
    }

    /// Streams currently open or half-closed (§5.1.2), both directions.
    pub fn active_streams(&self) -> usize {
        (self.active_local + self.active_remote) as usize
    }

    /// Gives back memory kept from busier times: an empty input buffer, the stream table and
    /// queues sized for the last burst, the HPACK tables' spare arena chunks (re-packed to
    /// exactly their contents), scratch space. No protocol state changes; the next burst simply
    /// allocates again.
    ///
    /// Why: buffers sized for a burst are the bulk of an idle connection's memory, and a server
    /// may hold tens of thousands of idle connections (RFC 9113 §9.1 lets clients keep them open
    /// for reuse). Calling this on every transition to idle would allocate again on every
    /// request, so it is the driver's decision: `h2proto-tokio` calls it once a connection has
    /// had no open stream for a while.
    pub fn shrink_to_fit(&mut self) {
        if self.inbuf.is_empty() {
            self.inbuf = BytesMut::new();
        }
        self.out.shrink_to_fit();
        self.scratch = Vec::new();
        self.events.shrink_to_fit();
        self.streams.shrink_to_fit();
        self.scheduler.shrink_to_fit();
        self.reset_ids.shrink_to_fit();
        self.reset_order.shrink_to_fit();
        self.writable_waiters.shrink_to_fit();
        self.pending_settings.shrink_to_fit();
        self.pings.shrink_to_fit();
        self.hpack_decoder.shrink_to_fit();
        self.hpack_encoder.shrink_to_fit();
    }

    /// Stream records the connection holds (any state): a memory-bound figure for tests and
    /// monitoring.
    pub fn tracked_streams(&self) -> usize {
        self.streams.len()
    }

    /// Whether `send_request` would pass the peer's concurrency limit now.
    pub fn can_open_stream(&self) -> bool {
        self.error.is_none()
            && !self.is_going_away()
            && self.active_local < self.peer.max_concurrent_streams
            && self.next_stream_id <= StreamId::MAX.0
    }

    /// Test hook: moves the next locally initiated stream id (to reach the end of the id space
    /// without opening 2^30 streams). Keeps the parity of the role.
    #[doc(hidden)]
    pub fn set_next_stream_id_for_tests(&mut self, id: u32) {
        let odd = self.role == Role::Client;
        self.next_stream_id = if (id % 2 == 1) == odd { id } else { id + 1 };
    }

    /// Connection counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Counters of one stream.
    pub fn stream_stats(&self, id: StreamId) -> Option<StreamStats> {
        self.streams.get(&id).map(|s| StreamStats {
            bytes_sent: s.bytes_sent,
            bytes_received: s.bytes_received,
            stalled: s.stalled_total,
        })
    }

    // ------------------------------------------------------------------ internals

    fn check_open(&self) -> Result<(), ConnectionError> {
        match &self.error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    fn check_api(&self) -> Result<(), Error> {
        match &self.error {
            Some(e) => Err(Error::Closed(e.clone())),
            None => Ok(()),
        }
    }

    /// §10.5.1: SETTINGS_MAX_HEADER_LIST_SIZE is advisory, but a peer may reject larger lists.
    fn check_header_list_size(&self, headers: &[Header]) -> Result<(), Error> {
        let size: usize = headers.iter().map(Header::size).sum();
        if size > self.peer.max_header_list_size as usize {
            return Err(Error::InvalidHeaders(
                "header list larger than the peer's SETTINGS_MAX_HEADER_LIST_SIZE",
            ));
        }
        Ok(())
    }

    /// The SETTINGS we open with: everything that differs from the §6.5.2 defaults.
    fn initial_settings(&self) -> Vec<(SettingId, u32)> {
        Self::settings_for(self.role, &self.config)
    }

    fn settings_for(role: Role, c: &Config) -> Vec<(SettingId, u32)> {
        let mut p = vec![];
        if c.header_table_size != 4096 {
            p.push((SettingId::HEADER_TABLE_SIZE, c.header_table_size));
        }
        match role {
            // §6.5.2: a server MUST NOT send 1; sending 0 is harmless and explicit.
            Role::Server => p.push((SettingId::ENABLE_PUSH, 0)),
            Role::Client if !c.enable_push => p.push((SettingId::ENABLE_PUSH, 0)),
            Role::Client => {}
        }
        p.push((SettingId::MAX_CONCURRENT_STREAMS, c.max_concurrent_streams));
        if c.initial_window_size != DEFAULT_WINDOW {
            p.push((SettingId::INITIAL_WINDOW_SIZE, c.initial_window_size));
        }
        if c.max_frame_size != frame::DEFAULT_MAX_FRAME_SIZE {
            p.push((SettingId::MAX_FRAME_SIZE, c.max_frame_size));
        }
        p.push((SettingId::MAX_HEADER_LIST_SIZE, c.max_header_list_size));
        if c.enable_connect_protocol && role == Role::Server {
            p.push((SettingId::ENABLE_CONNECT_PROTOCOL, 1));
        }
        if c.no_rfc7540_priorities {
            p.push((SettingId::NO_RFC7540_PRIORITIES, 1));
        }
        p
    }

    fn stream_opened(&mut self, local: bool) {
        if local {
            self.active_local += 1;
        } else {
            self.active_remote += 1;
        }
        self.stats.streams_opened += 1;
        self.idle_since = None;
    }

    /// Handles an error found in peer input with the answer §5.4 gives its scope.
    fn protocol_error(&mut self, e: ProtocolError, now: Instant) {
        match e.scope {
            Scope::Stream(id) => self.stream_error(id, e.code, now),
            Scope::Connection => {
                self.fail_local(e.code, e.reason);
            }
        }
    }

    /// §5.4.2: RST_STREAM for a stream error, within the local reset budget (CVE-2019-9514,
    /// CVE-2025-8671: a peer that makes us reset streams endlessly gets GOAWAY).
    fn stream_error(&mut self, id: StreamId, code: ErrorCode, _now: Instant) {
        self.local_resets += 1;
        if self.local_resets > self.config.max_local_resets {
            self.stats.abuse.too_many_resets += 1;
            self.fail_local(ErrorCode::ENHANCE_YOUR_CALM, "too many stream errors");
            return;
        }
        self.reset(id, code, true);
    }

    /// Fails the connection from our side: GOAWAY with `code` (§5.4.1), sticky error.
    fn fail_local(&mut self, code: ErrorCode, reason: &'static str) -> ConnectionError {
        if let Some(e) = &self.error {
            return e.clone();
        }
        // §5.4.1: the last stream id is the last peer-initiated stream we processed.
        let last = StreamId(self.max_peer_id);
        self.send_goaway(last, code, Bytes::from_static(reason.as_bytes()));
        let e = ConnectionError {
            code,
            reason: reason.to_string(),
            remote: false,
        };
        self.error = Some(e.clone());
        self.abandon_streams();
        e
    }

    /// Drops every stream's queued work after the connection failed.
    fn abandon_streams(&mut self) {
        self.scheduler = Scheduler::default();
        self.send_buffered = 0;
        self.inbuf.clear();
        self.partial = None;
        let ids: Vec<StreamId> = self.streams.keys().copied().collect();
        for id in ids {
            if let Some(s) = self.streams.remove(&id) {
                if s.state != StreamState::Closed {
                    let code = self.error.as_ref().map_or(ErrorCode::CANCEL, |e| e.code);
                    self.events.push_back(Event::StreamReset {
                        stream_id: id,
                        code,
                        remote: self.error.as_ref().is_some_and(|e| e.remote),
                    });
                }
            }
        }
        self.active_local = 0;
        self.active_remote = 0;
    }

    /// Resets a stream we track or remember (RST_STREAM + bookkeeping).
    fn reset(&mut self, id: StreamId, code: ErrorCode, notify: bool) {
        self.queue_frame(frame::Frame::RstStream(frame::RstStream {
            stream_id: id,
            error_code: code,
        }));
        self.stats.resets_sent += 1;
        self.remember_reset(id);
        if let Some(s) = self.streams.get(&id) {
            let was_active = s.state.is_active();
            self.remove_stream(id, was_active);
            if notify {
                self.events.push_back(Event::StreamReset {
                    stream_id: id,
                    code,
                    remote: false,
                });
            }
        }
    }

    fn remember_reset(&mut self, id: StreamId) {
        if self.reset_ids.insert(id) {
            self.reset_order.push_back(id);
            while self.reset_order.len() > self.config.max_reset_streams_remembered {
                if let Some(old) = self.reset_order.pop_front() {
                    self.reset_ids.remove(&old);
                }
            }
        }
    }

    /// Removes a stream record, releasing its queued send data and concurrency slot.
    fn remove_stream(&mut self, id: StreamId, was_active: bool) {
        if let Some(s) = self.streams.remove(&id) {
            if s.scheduled {
                self.scheduler.remove(id.0, s.priority);
            }
            self.send_buffered -= s.buffered;
            if was_active {
                if self.is_local_id(id) {
                    self.active_local -= 1;
                } else {
                    self.active_remote -= 1;
                }
            }
            if self.active_local + self.active_remote == 0 {
                self.idle_since = Some(self.last_now);
            }
            // Give the map's memory back after a burst of streams, so that what a connection
            // holds follows its open streams, not its high-water mark: a table four times
            // larger than its contents shrinks to twice them (amortized O(1) per removal).
            let cap = self.streams.capacity();
            if cap > MIN_STREAM_MAP_CAPACITY && self.streams.len() * 4 < cap {
                self.streams.shrink_to(self.streams.len() * 2);
            }
        }
    }

    /// Records that the peer opened or reserved `id` (§5.1.1): it becomes the highest peer id,
    /// and the ids it skipped over are remembered (a bounded number of ranges) as never used.
    ///
    /// Call only with `id` above `max_peer_id` and of the peer's parity.
    fn note_peer_id(&mut self, id: StreamId) {
        let next = if self.max_peer_id == 0 {
            if self.role == Role::Server {
                1
            } else {
                2
            }
        } else {
            self.max_peer_id + 2
        };
        if id.0 > next {
            if self.skipped_peer_ids.len() == MAX_SKIPPED_RANGES {
                self.skipped_peer_ids.pop_front();
            }
            self.skipped_peer_ids.push_back((next, id.0 - 2));
        }
        self.max_peer_id = id.0;
    }

    /// Whether `id` is a peer id that was skipped over, never opened (see `note_peer_id`).
    fn was_skipped(&self, id: StreamId) -> bool {
        self.skipped_peer_ids
            .iter()
            .any(|&(lo, hi)| (lo..=hi).contains(&id.0))
    }

    fn is_local_id(&self, id: StreamId) -> bool {
        match self.role {
            Role::Client => id.is_client_initiated(),
            Role::Server => id.is_server_initiated(),
        }
    }

    /// After we ended our side of a stream: close it if the peer's side ended too.
    fn end_local(&mut self, id: StreamId) {
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        if let Some(n) = state::next(s.state, state::Transition::SendEndStream) {
            s.state = n;
        }
        self.close_if_done(id);
    }

    /// Removes a stream whose both sides ended and reports it.
    fn close_if_done(&mut self, id: StreamId) {
        if self
            .streams
            .get(&id)
            .is_some_and(|s| s.state == StreamState::Closed)
        {
            self.remove_stream(id, true);
            self.events.push_back(Event::StreamClosed { stream_id: id });
        }
    }

    /// Puts a stream into the scheduler when it has sendable work.
    fn schedule(&mut self, id: StreamId) {
        if let Some(s) = self.streams.get_mut(&id) {
            if !s.scheduled && s.is_sendable() {
                s.scheduled = true;
                self.scheduler.insert(id.0, s.priority);
            } else if !s.scheduled && s.buffered > 0 && s.stalled_since.is_none() {
                // Data waits on a shut stream window: the stall clock starts (CVE-2019-9511).
                s.stalled_since = Some(self.last_now);
                self.stall_check.get_or_insert(self.last_now);
            }
        }
    }

    fn reprioritize(&mut self, id: StreamId, p: Priority) {
        if let Some(s) = self.streams.get_mut(&id) {
            if s.priority == p {
                return;
            }
            if s.scheduled {
                self.scheduler.remove(id.0, s.priority);
                self.scheduler.insert(id.0, p);
            }
            s.priority = p;
            self.events.push_back(Event::PriorityChanged {
                stream_id: id,
                priority: p,
            });
        }
    }

    /// Connection-level credit for consumed or discarded data.
    fn credit_connection(&mut self, n: u32) {
        if n == 0 || self.config.flow_control == FlowControl::Manual {
            return;
        }
        self.conn_pending_credit = self.conn_pending_credit.saturating_add(n);
        if self.conn_pending_credit >= (self.conn_window_target / 2).max(1) {
            let credit = std::mem::take(&mut self.conn_pending_credit);
            let grow = (credit as i64)
                .min(flow::MAX_WINDOW - self.conn_recv.get())
                .max(0) as u32;
            if grow > 0 {
                let _ = self.conn_recv.grow(grow as i64);
                self.queue_window_update(StreamId::CONNECTION, grow);
            }
        }
    }
}
