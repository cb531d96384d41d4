//! Time-driven rules. The caller passes `now` in; nothing here reads a clock.
//!
//! SETTINGS ACK timeout (RFC 9113 §6.5.3), client preface timeout, idle timeout, keep-alive
//! PING, graceful-shutdown PING and drain deadline (§6.8), per-stream stall timeout
//! (CVE-2019-9511), and the bandwidth-delay estimate of adaptive flow control.

use super::{Connection, FlowControl, Role, Shutdown, BDP_PING, KEEPALIVE_PING};
use crate::error::ErrorCode;
use crate::frame::{self, Frame, SettingId};
use crate::StreamId;
use bytes::Bytes;
use std::time::{Duration, Instant};

impl Connection {
    /// The earliest instant at which `handle_timeout` has something to do, if any.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.error.is_some() {
            return None;
        }
        let c = &self.config;
        let mut t: Option<Instant> = None;
        let mut at = |i: Instant| t = Some(t.map_or(i, |x| x.min(i)));
        if let Some((_, sent)) = self.pending_settings.front() {
            at(*sent + c.settings_timeout);
        }
        if self.role == Role::Server && !self.received_settings {
            at(self.created + c.preface_timeout);
        }
        if let (Some(idle), Some(since)) = (c.idle_timeout, self.idle_since) {
            at(since + idle);
        }
        if let Some(interval) = c.keepalive_interval {
            match self.keepalive_sent {
                Some(sent) => at(sent + c.ping_timeout),
                None => at(self.last_recv + interval),
            }
        }
        match self.shutdown {
            Some(Shutdown::AwaitingPing { deadline, .. })
            | Some(Shutdown::Draining { deadline }) => at(deadline),
            None => {}
        }
        if let (Some(stall), Some(check)) = (c.stream_stall_timeout, self.stall_check) {
            at(check + stall);
        }
        t
    }

    /// Runs the rules whose time has come.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.error.is_some() {
            return;
        }
        self.last_now = now;
        let c = self.config.clone();
        if let Some((_, sent)) = self.pending_settings.front() {
            // §6.5.3: "If the sender of a SETTINGS frame does not receive an acknowledgment
            // within a reasonable amount of time, it MAY issue a connection error of type
            // SETTINGS_TIMEOUT."
            if now >= *sent + c.settings_timeout {
                self.fail_local(
                    ErrorCode::SETTINGS_TIMEOUT,
                    "SETTINGS not acknowledged in time",
                );
                return;
            }
        }
        if self.role == Role::Server
            && !self.received_settings
            && now >= self.created + c.preface_timeout
        {
            self.fail_local(
                ErrorCode::PROTOCOL_ERROR,
                "client preface not received in time",
            );
            return;
        }
        if let (Some(idle), Some(since)) = (c.idle_timeout, self.idle_since) {
            if now >= since + idle && self.goaway_sent.is_none() {
                self.send_goaway(
                    StreamId(self.max_peer_id),
                    ErrorCode::NO_ERROR,
                    Bytes::from_static(b"idle timeout"),
                );
                self.shutdown = Some(Shutdown::Draining { deadline: now });
                self.idle_since = None;
            }
        }
        if let Some(interval) = c.keepalive_interval {
            match self.keepalive_sent {
                Some(sent) if now >= sent + c.ping_timeout => {
                    self.fail_local(ErrorCode::NO_ERROR, "keep-alive PING not answered");
                    return;
                }
                None if now >= self.last_recv + interval => {
                    self.keepalive_sent = Some(now);
                    self.queue_frame(Frame::Ping(frame::Ping {
                        ack: false,
                        payload: KEEPALIVE_PING,
                    }));
                }
                _ => {}
            }
        }
        match self.shutdown {
            Some(Shutdown::AwaitingPing { deadline, .. }) if now >= deadline => {
                self.finish_shutdown_ping(now)
            }
            Some(Shutdown::Draining { deadline }) if now >= deadline => {
                // The drain time is over: what is still open is cancelled.
                let ids: Vec<StreamId> = self.streams.keys().copied().collect();
                for id in ids {
                    self.reset(id, ErrorCode::CANCEL, true);
                }
            }
            _ => {}
        }
        if let (Some(stall), Some(check)) = (c.stream_stall_timeout, self.stall_check) {
            if now >= check + stall {
                self.expire_stalled(now, stall);
            }
        }
    }

    /// Resets streams whose queued data waited on a zero window longer than `stall`.
    fn expire_stalled(&mut self, now: Instant, stall: Duration) {
        let mut expired = Vec::new();
        let mut next: Option<Instant> = None;
        for (id, s) in &self.streams {
            if let Some(since) = s.stalled_since {
                if now >= since + stall {
                    expired.push(*id);
                } else {
                    next = Some(next.map_or(since, |n| n.min(since)));
                }
            }
        }
        self.stall_check = next;
        for id in expired {
            self.stats.abuse.stalled_streams += 1;
            self.reset(id, ErrorCode::CANCEL, true);
        }
    }

    /// The shutdown PING came back (or timed out): send the GOAWAY with the real last id.
    pub(super) fn finish_shutdown_ping(&mut self, now: Instant) {
        let last = StreamId(self.max_peer_id);
        self.send_goaway(last, ErrorCode::NO_ERROR, Bytes::new());
        self.shutdown = Some(Shutdown::Draining {
            deadline: now + self.config.shutdown_timeout,
        });
    }

    /// Adaptive flow control: counts received bytes during a PING round trip.
    pub(super) fn bdp_sample(&mut self, len: u32, now: Instant) {
        self.bdp_bytes += len as u64;
        if self.bdp_ping.is_none() {
            self.bdp_bytes = len as u64;
            self.bdp_ping = Some(now);
            self.queue_frame(Frame::Ping(frame::Ping {
                ack: false,
                payload: BDP_PING,
            }));
        }
    }

    /// Adaptive flow control: a round trip completed. If the bytes received during it come
    /// close to the window, the window limits throughput, so it doubles (up to the budget).
    pub(super) fn bdp_update(&mut self, _rtt: Duration, now: Instant) {
        if self.config.flow_control != FlowControl::Adaptive {
            return;
        }
        let bdp = std::mem::take(&mut self.bdp_bytes);
        let target = self.stream_window_target as u64;
        if bdp * 3 < target * 2 {
            return;
        }
        let max = self
            .config
            .adaptive_window_max
            .min(super::flow::MAX_WINDOW as u32);
        let new_stream = (self.stream_window_target as u64 * 2).min(max as u64) as u32;
        if new_stream <= self.stream_window_target {
            return;
        }
        self.queue_settings(vec![(SettingId::INITIAL_WINDOW_SIZE, new_stream)], now);
        let new_conn = (self.conn_window_target as u64 * 2).min(max as u64) as u32;
        if new_conn > self.conn_window_target {
            let grow = new_conn - self.conn_window_target;
            self.conn_window_target = new_conn;
            if self.conn_recv.grow(grow as i64).is_ok() {
                self.queue_window_update(StreamId::CONNECTION, grow);
            }
        }
    }
}
