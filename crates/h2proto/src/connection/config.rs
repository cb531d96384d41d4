//! Connection configuration: the SETTINGS we advertise and the limits that refuse abuse.

use std::time::Duration;

/// Which end of the connection we are (RFC 9113 §3, §5.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Client,
    Server,
}

/// How receive credit goes back to the peer (RFC 9113 §5.2, §6.9).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowControl {
    /// WINDOW_UPDATE frames are sent automatically once the application reports data consumed
    /// with `release_capacity`. The default.
    OnRelease,
    /// Nothing is sent automatically: the application calls `window_update` itself
    /// (§6.9: "flow control ... can be disabled" or run by the application).
    Manual,
    /// As `OnRelease`, and the windows grow from a bandwidth-delay estimate taken from PING round
    /// trips, up to `adaptive_window_max`.
    Adaptive,
}

/// Everything a [`Connection`](super::Connection) can be told at creation.
///
/// The defaults are what a public server or client should run with: they advertise generous
/// windows for throughput and refuse the abuse classes of `SECURITY.md` with bounded memory.
#[derive(Clone, Debug)]
pub struct Config {
    // --- SETTINGS we advertise (RFC 9113 §6.5.2) ---
    /// SETTINGS_HEADER_TABLE_SIZE: the HPACK table our decoder keeps.
    pub header_table_size: u32,
    /// SETTINGS_ENABLE_PUSH (client only; a server always sends 0 or omits it).
    pub enable_push: bool,
    /// SETTINGS_MAX_CONCURRENT_STREAMS: streams the peer may open at once.
    pub max_concurrent_streams: u32,
    /// SETTINGS_INITIAL_WINDOW_SIZE: each stream's receive window.
    pub initial_window_size: u32,
    /// SETTINGS_MAX_FRAME_SIZE: largest frame payload we accept.
    pub max_frame_size: u32,
    /// SETTINGS_MAX_HEADER_LIST_SIZE: largest decoded header list (name + value + 32 per field).
    pub max_header_list_size: u32,
    /// SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441; server only).
    pub enable_connect_protocol: bool,
    /// SETTINGS_NO_RFC7540_PRIORITIES = 1 (RFC 9218 §2.1): we use extensible priorities only.
    pub no_rfc7540_priorities: bool,

    // --- flow control ---
    /// The connection receive window we open right after the preface (RFC 9113 §6.9.2: the
    /// connection window starts at 65,535 and only WINDOW_UPDATE can change it).
    pub connection_window_size: u32,
    pub flow_control: FlowControl,
    /// Upper bound for windows grown by [`FlowControl::Adaptive`]: the memory budget.
    pub adaptive_window_max: u32,
    /// Bytes the application may queue per stream beyond what the peer's window lets us send.
    pub max_send_buffer_per_stream: usize,
    /// Bytes the application may queue over all streams.
    pub max_send_buffer_per_connection: usize,
    /// Stop adding DATA to one `poll_transmit` call beyond this many bytes, so that a driver
    /// writes in bounded batches.
    pub max_transmit_batch: usize,
    /// The largest HPACK table our encoder uses, whatever the peer allows (memory bound).
    pub max_encoder_table_size: u32,

    // --- abuse limits (SECURITY.md) ---
    /// CONTINUATION frames accepted for one header block (CONTINUATION flood).
    pub max_continuation_frames: usize,
    /// Entries accepted in one SETTINGS frame (CVE-2019-9515).
    pub max_settings_entries: usize,
    /// Control-frame answers (PING and SETTINGS ACKs) queued but not yet transmitted.
    pub max_pending_control_answers: usize,
    /// Stream errors we may answer with RST_STREAM over the connection's life before GOAWAY
    /// ENHANCE_YOUR_CALM (CVE-2019-9514, CVE-2025-8671).
    pub max_local_resets: u32,
    /// RST_STREAM frames received: burst size of the token bucket (CVE-2023-44487).
    pub remote_reset_burst: u32,
    /// RST_STREAM frames received: bucket refill per second.
    pub remote_reset_rate: u32,
    /// Empty DATA / HEADERS / CONTINUATION frames without END_STREAM accepted (CVE-2019-9518).
    pub max_empty_frames: u32,
    /// PRIORITY and PRIORITY_UPDATE frames accepted per stream opened, plus a fixed allowance
    /// (CVE-2019-9513).
    pub max_priority_frames_per_stream: u32,
    /// 1xx responses accepted on one stream (a hostile server's informational flood).
    pub max_informational_responses: u32,
    /// Recently reset streams remembered so late frames on them are ignored (RFC 9113 §5.1).
    pub max_reset_streams_remembered: usize,

    // --- time (all rules take `now` from the caller) ---
    /// SETTINGS ACK must arrive within this (RFC 9113 §6.5.3: SETTINGS_TIMEOUT).
    pub settings_timeout: Duration,
    /// A server closes a connection whose client preface does not arrive within this.
    pub preface_timeout: Duration,
    /// GOAWAY(NO_ERROR) after this long without any open stream. `None` disables it.
    pub idle_timeout: Option<Duration>,
    /// Send a PING after this long without receiving anything. `None` disables keep-alive.
    pub keepalive_interval: Option<Duration>,
    /// A keep-alive or shutdown PING must be answered within this.
    pub ping_timeout: Duration,
    /// Reset a stream (CANCEL) whose queued data has been blocked on a zero send window this long
    /// (zero-window stall, CVE-2019-9511).
    pub stream_stall_timeout: Option<Duration>,
    /// After `graceful_shutdown`, how long in-flight streams may take before the connection
    /// closes anyway.
    pub shutdown_timeout: Duration,

    /// Emit an [`Event::Frame`](crate::Event::Frame) for every frame sent and received (for
    /// `-v` traces). Off by default: it costs a clone of each frame.
    pub trace_frames: bool,
    /// Reject DATA/HEADERS/PUSH_PROMISE whose padding is not zero (RFC 9113 §6.1 MAY).
    pub strict_padding: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            header_table_size: 4096,
            enable_push: true,
            max_concurrent_streams: 200,
            initial_window_size: 1 << 20,
            max_frame_size: 16_384,
            max_header_list_size: 64 << 10,
            enable_connect_protocol: false,
            no_rfc7540_priorities: true,
            connection_window_size: 4 << 20,
            flow_control: FlowControl::OnRelease,
            adaptive_window_max: 16 << 20,
            max_send_buffer_per_stream: 1 << 20,
            max_send_buffer_per_connection: 16 << 20,
            max_transmit_batch: 512 << 10,
            max_encoder_table_size: 4096,
            max_continuation_frames: 16,
            max_settings_entries: 32,
            max_pending_control_answers: 256,
            max_local_resets: 1024,
            remote_reset_burst: 1000,
            remote_reset_rate: 33,
            max_empty_frames: 100,
            max_priority_frames_per_stream: 8,
            max_informational_responses: 10,
            max_reset_streams_remembered: 1024,
            settings_timeout: Duration::from_secs(10),
            preface_timeout: Duration::from_secs(10),
            idle_timeout: None,
            keepalive_interval: None,
            ping_timeout: Duration::from_secs(20),
            stream_stall_timeout: Some(Duration::from_secs(60)),
            shutdown_timeout: Duration::from_secs(30),
            trace_frames: false,
            strict_padding: false,
        }
    }
}
