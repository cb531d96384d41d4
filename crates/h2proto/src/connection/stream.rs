//! Per-stream records and the table that holds them.

use super::flow::Window;
use super::priority::Priority;
use super::state::StreamState;
use crate::hpack::Header;
use crate::{StreamId, StreamIdHasher};
use bytes::Bytes;
use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasherDefault;
use std::time::{Duration, Instant};

/// Where the receive side of a stream is in its message (RFC 9113 §8.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecvPhase {
    /// Waiting for the request / response header block (1xx may come first on a response).
    Headers,
    /// Final headers received: DATA or trailers may follow.
    Body,
}

/// One stream's state. Kept small: a connection may hold thousands.
#[derive(Debug)]
pub struct Stream {
    pub state: StreamState,
    pub send_window: Window,
    pub recv_window: Window,

    // --- send side ---
    /// Data queued by the application and not yet framed.
    pub send_queue: VecDeque<Bytes>,
    pub buffered: usize,
    /// END_STREAM goes out with (or after) the last queued chunk.
    pub end_queued: bool,
    /// Trailers to send once the queue drains (encoded only then, so HPACK order is kept).
    pub trailers: Option<Vec<Header>>,
    /// We already sent our final (non-1xx) HEADERS.
    pub final_headers_sent: bool,
    /// The stream sits in the scheduler.
    pub scheduled: bool,
    /// `send_capacity` was reported as exhausted: emit `StreamWritable` when it reopens.
    pub wants_writable: bool,
    /// Since when queued data has waited on a zero send window.
    pub stalled_since: Option<Instant>,
    pub stalled_total: Duration,
    pub priority: Priority,

    // --- receive side ---
    pub recv_phase: RecvPhase,
    /// Received flow-controlled bytes the application has not released yet.
    pub unreleased: u32,
    /// Released credit not yet announced with WINDOW_UPDATE.
    pub pending_credit: u32,
    /// The content-length to hold DATA to (§8.1.1), and DATA received so far.
    pub content_length: Option<u64>,
    pub data_received: u64,
    /// Our request was HEAD (client), so the response has no content.
    pub is_head: bool,
    pub informational_count: u32,
    /// Byte counters for observability.
    pub bytes_sent: u64,
    pub bytes_received: u64,
}

impl Stream {
    pub fn new(send_window: u32, recv_window: u32) -> Stream {
        Stream {
            state: StreamState::Idle,
            send_window: Window::new(send_window),
            recv_window: Window::new(recv_window),
            send_queue: VecDeque::new(),
            buffered: 0,
            end_queued: false,
            trailers: None,
            final_headers_sent: false,
            scheduled: false,
            wants_writable: false,
            stalled_since: None,
            stalled_total: Duration::ZERO,
            priority: Priority::default(),
            recv_phase: RecvPhase::Headers,
            unreleased: 0,
            pending_credit: 0,
            content_length: None,
            data_received: 0,
            is_head: false,
            informational_count: 0,
            bytes_sent: 0,
            bytes_received: 0,
        }
    }

    /// Can the scheduler pick it now (work, and credit when the work is data)?
    pub fn is_sendable(&self) -> bool {
        if !self.state.can_send_data() || !self.final_headers_sent {
            return false;
        }
        if self.buffered > 0 {
            return self.send_window.usable(self.buffered) > 0;
        }
        // Only an empty END_STREAM or trailers left: they need no credit.
        self.send_queue.is_empty() && (self.end_queued || self.trailers.is_some())
    }
}

pub type StreamMap = HashMap<StreamId, Stream, BuildHasherDefault<StreamIdHasher>>;
