//! What goes out: control frames, header blocks, and DATA chosen by the scheduler.
//!
//! HPACK encoding happens at the moment a block is appended to the output, never earlier, so
//! the order of header blocks on the wire is the order the encoder's dynamic table saw them
//! (RFC 7541 §2.2: the decoder processes blocks in the order received).

use super::state::{self, Transition};
use super::{Connection, Stats};
use crate::event::Event;
use crate::frame::{self, flags, Frame, FrameHeader, FrameType, SettingId};
use crate::hpack::Header;
use crate::StreamId;
use bytes::Bytes;
use std::time::Instant;

impl Connection {
    /// Appends one control frame to the pending output.
    pub(super) fn queue_frame(&mut self, f: Frame) {
        self.stats.frames_sent[Stats::slot(f.kind().0)] += 1;
        f.encode(&mut self.out);
        if self.config.trace_frames {
            self.events.push_back(Event::Frame {
                sent: true,
                frame: Box::new(f),
                headers: None,
            });
        }
    }

    pub(super) fn queue_window_update(&mut self, id: StreamId, increment: u32) {
        self.queue_frame(Frame::WindowUpdate(frame::WindowUpdate {
            stream_id: id,
            increment,
        }));
    }

    pub(super) fn send_goaway(&mut self, last: StreamId, code: crate::ErrorCode, debug: Bytes) {
        self.goaway_sent = Some(self.goaway_sent.map_or(last, |prev| prev.min(last)));
        self.queue_frame(Frame::GoAway(frame::GoAway {
            last_stream_id: last,
            error_code: code,
            debug_data: debug,
        }));
    }

    /// Sends SETTINGS and applies what can be applied before the ACK (§6.5.3).
    pub(super) fn queue_settings(&mut self, params: Vec<(SettingId, u32)>, now: Instant) {
        self.apply_local_settings(&params, false);
        self.queue_frame(Frame::Settings(frame::Settings {
            ack: false,
            params: params.clone(),
        }));
        self.pending_settings.push_back((params, now));
    }

    /// Our own SETTINGS take effect in two steps. Before the peer acknowledges them it may still
    /// act on the old values, so limits that *loosen* apply at once and limits that *tighten*
    /// apply at the ACK (§6.5.3: "the values ... take effect" once acknowledged).
    pub(super) fn apply_local_settings(&mut self, params: &[(SettingId, u32)], acked: bool) {
        for &(id, v) in params {
            match id {
                SettingId::HEADER_TABLE_SIZE => {
                    if acked {
                        self.hpack_decoder.set_max_table_size(v as usize);
                    } else {
                        let cur = self.config.header_table_size.max(v);
                        self.hpack_decoder
                            .set_max_table_size(cur.max(4096) as usize);
                    }
                }
                SettingId::INITIAL_WINDOW_SIZE => {
                    // §6.9.2: the change applies to all streams' windows (ours, receiving).
                    let old = self.local_initial_window;
                    if acked || v > old {
                        let delta = v as i64 - old as i64;
                        for s in self.streams.values_mut() {
                            let _ = s.recv_window.grow(delta);
                        }
                        self.local_initial_window = v;
                        self.stream_window_target = v;
                    }
                }
                SettingId::MAX_FRAME_SIZE if acked || v > frame::DEFAULT_MAX_FRAME_SIZE => {
                    self.decoder.set_max_frame_size(v);
                }
                SettingId::MAX_HEADER_LIST_SIZE => {
                    self.hpack_decoder.set_max_header_list_size(v as usize);
                    self.config.max_header_list_size = v;
                }
                SettingId::MAX_CONCURRENT_STREAMS => self.config.max_concurrent_streams = v,
                SettingId::ENABLE_CONNECT_PROTOCOL => self.local_connect_protocol = v == 1,
                SettingId::ENABLE_PUSH => self.config.enable_push = v == 1,
                _ => {}
            }
        }
    }

    /// HPACK-encodes a header block and appends it as HEADERS (or PUSH_PROMISE when `promised`
    /// is given) plus CONTINUATION frames cut at the peer's SETTINGS_MAX_FRAME_SIZE (§4.3, §6.10).
    pub(super) fn write_headers(
        &mut self,
        id: StreamId,
        headers: &[Header],
        end_stream: bool,
        promised: Option<StreamId>,
    ) {
        let mut out = std::mem::take(&mut self.out);
        self.encode_headers_into(&mut out, id, headers, end_stream, promised);
        self.out = out;
    }

    fn encode_headers_into(
        &mut self,
        dst: &mut Vec<u8>,
        id: StreamId,
        headers: &[Header],
        end_stream: bool,
        promised: Option<StreamId>,
    ) {
        let mut block = std::mem::take(&mut self.scratch);
        block.clear();
        self.hpack_encoder.encode(headers.iter(), &mut block);
        self.stats.header_block_bytes_sent += block.len() as u64;
        self.stats.header_list_bytes_sent += headers
            .iter()
            .map(|h| (h.name.len() + h.value.len()) as u64)
            .sum::<u64>();
        let max = self.peer.max_frame_size as usize;
        let prefix = if promised.is_some() { 4 } else { 0 };
        let first_len = block.len().min(max - prefix);
        let (first, mut rest) = block.split_at(first_len);
        let end_headers = rest.is_empty();
        let mut fl = if end_headers { flags::END_HEADERS } else { 0 };
        let kind = if promised.is_some() {
            FrameType::PUSH_PROMISE
        } else {
            if end_stream {
                fl |= flags::END_STREAM;
            }
            FrameType::HEADERS
        };
        FrameHeader {
            length: (first.len() + prefix) as u32,
            kind,
            flags: fl,
            stream_id: id,
        }
        .encode(dst);
        if let Some(p) = promised {
            dst.extend_from_slice(&p.0.to_be_bytes());
        }
        dst.extend_from_slice(first);
        self.stats.frames_sent[Stats::slot(kind.0)] += 1;
        let trace = self.config.trace_frames;
        if trace {
            let f = match promised {
                Some(p) => Frame::PushPromise(frame::PushPromise {
                    stream_id: id,
                    promised_id: p,
                    block: Bytes::copy_from_slice(first),
                    end_headers,
                    pad: None,
                }),
                None => Frame::Headers(frame::Headers {
                    stream_id: id,
                    block: Bytes::copy_from_slice(first),
                    end_stream,
                    end_headers,
                    priority: None,
                    pad: None,
                }),
            };
            self.events.push_back(Event::Frame {
                sent: true,
                frame: Box::new(f),
                headers: end_headers.then(|| headers.to_vec()),
            });
        }
        while !rest.is_empty() {
            let n = rest.len().min(max);
            let (chunk, tail) = rest.split_at(n);
            rest = tail;
            let last = rest.is_empty();
            FrameHeader {
                length: n as u32,
                kind: FrameType::CONTINUATION,
                flags: if last { flags::END_HEADERS } else { 0 },
                stream_id: id,
            }
            .encode(dst);
            dst.extend_from_slice(chunk);
            self.stats.frames_sent[Stats::slot(FrameType::CONTINUATION.0)] += 1;
            if trace {
                self.events.push_back(Event::Frame {
                    sent: true,
                    frame: Box::new(Frame::Continuation(frame::Continuation {
                        stream_id: id,
                        block: Bytes::copy_from_slice(chunk),
                        end_headers: last,
                    })),
                    headers: last.then(|| headers.to_vec()),
                });
            }
        }
        self.scratch = block;
    }

    /// Appends what is ready to go to `dst`: queued control frames first, then DATA frames
    /// picked by the RFC 9218 scheduler within the flow-control windows, up to
    /// `Config::max_transmit_batch` bytes of DATA. Returns whether anything was appended; call
    /// it again until it returns `false`.
    pub fn poll_transmit(&mut self, now: Instant, dst: &mut Vec<u8>) -> bool {
        let start = dst.len();
        self.last_now = now;
        if !self.out.is_empty() {
            if dst.is_empty() {
                std::mem::swap(dst, &mut self.out);
            } else {
                dst.extend_from_slice(&self.out);
                self.out.clear();
            }
        }
        self.pending_answers = 0;
        if self.error.is_none() {
            self.transmit_data(now, dst);
        }
        let n = dst.len() - start;
        self.stats.bytes_sent += n as u64;
        n > 0
    }

    fn transmit_data(&mut self, now: Instant, dst: &mut Vec<u8>) {
        let budget_end = dst.len() + self.config.max_transmit_batch;
        let max_frame = self.peer.max_frame_size as usize;
        let mut freed = false;
        while dst.len() < budget_end {
            let Some(raw) = self.scheduler.next() else {
                break;
            };
            let id = StreamId(raw);
            let conn_window = self.conn_send;
            let Some(s) = self.streams.get_mut(&id) else {
                // Defensive: a removed stream must leave the scheduler.
                self.scheduler.remove(raw, Default::default());
                continue;
            };
            if !s.is_sendable() {
                self.scheduler.remove(raw, s.priority);
                s.scheduled = false;
                if s.buffered > 0 && s.stalled_since.is_none() {
                    s.stalled_since = Some(now);
                    self.stall_check.get_or_insert(now);
                }
                continue;
            }
            if let Some(since) = s.stalled_since.take() {
                s.stalled_total += now.saturating_duration_since(since);
            }
            if s.buffered > 0 {
                let conn_avail = conn_window.usable(s.buffered);
                if conn_avail == 0 {
                    // The connection window is shut (or only dribbled open, see
                    // `Window::usable`): nothing goes until WINDOW_UPDATE(0) opens it.
                    self.conn_stalled_since.get_or_insert(now);
                    break;
                }
                if let Some(since) = self.conn_stalled_since.take() {
                    self.stats.connection_stalled += now.saturating_duration_since(since);
                }
                let n = s
                    .buffered
                    .min(max_frame)
                    .min(s.send_window.usable(s.buffered))
                    .min(conn_avail);
                let end = s.end_queued && n == s.buffered && s.trailers.is_none();
                FrameHeader {
                    length: n as u32,
                    kind: FrameType::DATA,
                    flags: if end { flags::END_STREAM } else { 0 },
                    stream_id: id,
                }
                .encode(dst);
                let payload_start = dst.len();
                let mut left = n;
                while left > 0 {
                    let Some(front) = s.send_queue.front_mut() else {
                        break;
                    };
                    if front.len() <= left {
                        left -= front.len();
                        dst.extend_from_slice(front);
                        s.send_queue.pop_front();
                    } else {
                        dst.extend_from_slice(&front[..left]);
                        let _ = front.split_to(left);
                        left = 0;
                    }
                }
                s.buffered -= n;
                s.bytes_sent += n as u64;
                s.send_window.consume(n as u32);
                self.conn_send.consume(n as u32);
                self.send_buffered -= n;
                self.stats.data_bytes_sent += n as u64;
                self.stats.frames_sent[0] += 1;
                freed = true;
                if s.wants_writable {
                    s.wants_writable = false;
                    self.events
                        .push_back(Event::StreamWritable { stream_id: id });
                }
                if self.config.trace_frames {
                    self.events.push_back(Event::Frame {
                        sent: true,
                        frame: Box::new(Frame::Data(frame::Data {
                            stream_id: id,
                            data: Bytes::copy_from_slice(&dst[payload_start..]),
                            end_stream: end,
                            pad: None,
                        })),
                        headers: None,
                    });
                }
                if end {
                    s.end_queued = false;
                    self.finish_send(id);
                    continue;
                }
            } else if let Some(trailers) = s.trailers.take() {
                s.end_queued = false;
                self.encode_headers_into(dst, id, &trailers, true, None);
                self.finish_send(id);
                continue;
            } else if s.end_queued {
                s.end_queued = false;
                FrameHeader {
                    length: 0,
                    kind: FrameType::DATA,
                    flags: flags::END_STREAM,
                    stream_id: id,
                }
                .encode(dst);
                self.stats.frames_sent[0] += 1;
                if self.config.trace_frames {
                    self.events.push_back(Event::Frame {
                        sent: true,
                        frame: Box::new(Frame::Data(frame::Data {
                            stream_id: id,
                            data: Bytes::new(),
                            end_stream: true,
                            pad: None,
                        })),
                        headers: None,
                    });
                }
                self.finish_send(id);
                continue;
            }
            // Still in the scheduler: rotate (incremental) or leave it if it has no more work.
            let s = self.streams.get_mut(&id).expect("present");
            if s.is_sendable() {
                self.scheduler.rotate(raw, s.priority);
            } else {
                self.scheduler.remove(raw, s.priority);
                s.scheduled = false;
                if s.buffered > 0 && s.stalled_since.is_none() {
                    s.stalled_since = Some(now);
                    self.stall_check.get_or_insert(now);
                }
            }
        }
        if freed && !self.writable_waiters.is_empty() {
            for id in std::mem::take(&mut self.writable_waiters) {
                self.events
                    .push_back(Event::StreamWritable { stream_id: id });
            }
        }
    }

    /// The last frame of our side of a stream went out.
    fn finish_send(&mut self, id: StreamId) {
        if let Some(s) = self.streams.get_mut(&id) {
            if s.scheduled {
                self.scheduler.remove(id.0, s.priority);
                s.scheduled = false;
            }
            if let Some(n) = state::next(s.state, Transition::SendEndStream) {
                s.state = n;
            }
        }
        self.close_if_done(id);
    }
}
