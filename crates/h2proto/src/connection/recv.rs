//! Handling of each frame the peer sends (RFC 9113 §5, §6, §8).
//!
//! Every check says which rule it enforces; every failure is a [`ProtocolError`] whose scope
//! (stream or connection) is decided here, where the problem is found (§5.4).

use super::message;
use super::priority::Priority;
use super::state::{self, StreamState, Transition};
use super::stream::{RecvPhase, Stream};
use super::{
    Connection, FlowControl, PartialBlock, Role, Shutdown, Stats, BDP_PING, KEEPALIVE_PING,
};
use crate::error::{ErrorCode, ProtocolError};
use crate::event::{ConnectionError, Event};
use crate::frame::{self, Frame, SettingId};
use crate::hpack::Header;
use crate::StreamId;
use bytes::{Bytes, BytesMut};
use std::time::Instant;

type Result<T = ()> = std::result::Result<T, ProtocolError>;

const PE: ErrorCode = ErrorCode::PROTOCOL_ERROR;

fn conn_err(code: ErrorCode, reason: &'static str) -> ProtocolError {
    ProtocolError::connection(code, reason)
}

fn stream_err(id: StreamId, code: ErrorCode, reason: &'static str) -> ProtocolError {
    ProtocolError::stream(id, code, reason)
}

/// What we know of a stream id that a frame names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Known {
    /// We hold a record for it.
    Tracked,
    /// Not yet used (§5.1 "idle").
    Idle,
    /// Used before and closed; `reset_by_us` when we sent RST_STREAM recently (§5.1: frames in
    /// flight after our RST_STREAM are ignored).
    Closed { reset_by_us: bool },
}

impl Connection {
    fn known(&self, id: StreamId) -> Known {
        if self.streams.contains_key(&id) {
            return Known::Tracked;
        }
        let used = if self.is_local_id(id) {
            id.0 < self.next_stream_id
        } else {
            id.0 <= self.max_peer_id
        };
        if used {
            Known::Closed {
                reset_by_us: self.reset_ids.contains(&id),
            }
        } else {
            Known::Idle
        }
    }

    pub(super) fn count_frame_in(&mut self, f: &Frame) {
        self.stats.frames_received[Stats::slot(f.kind().0)] += 1;
    }

    pub(super) fn recv_frame(&mut self, f: Frame, now: Instant) -> Result {
        // §6.10: "A receiver MUST treat the receipt of any other type of frame or a frame on a
        // different stream as a connection error of type PROTOCOL_ERROR" while a header block
        // is open.
        if let Some(p) = &self.partial {
            match &f {
                Frame::Continuation(c) if c.stream_id == p.stream_id => {}
                _ => return Err(conn_err(PE, "expected CONTINUATION (RFC 9113 §6.10)")),
            }
        }
        // §3.4: "The first frame ... MUST be a SETTINGS frame" from the peer.
        if !self.received_settings {
            match &f {
                Frame::Settings(s) if !s.ack => {}
                _ => return Err(conn_err(PE, "first frame is not SETTINGS (RFC 9113 §3.4)")),
            }
        }
        if self.config.trace_frames {
            let ends_block = match &f {
                Frame::Headers(h) => h.end_headers,
                Frame::PushPromise(p) => p.end_headers,
                Frame::Continuation(c) => c.end_headers,
                _ => false,
            };
            if ends_block {
                self.trace_pending = Some(f.clone());
            } else {
                self.events.push_back(Event::Frame {
                    sent: false,
                    frame: Box::new(f.clone()),
                    headers: None,
                });
            }
        }
        match f {
            Frame::Data(d) => self.recv_data(d, now),
            Frame::Headers(h) => self.recv_headers(h),
            Frame::Priority(p) => self.recv_priority(p.stream_id),
            Frame::RstStream(r) => self.recv_rst_stream(r, now),
            Frame::Settings(s) => self.recv_settings(s),
            Frame::PushPromise(p) => self.recv_push_promise(p),
            Frame::Ping(p) => self.recv_ping(p, now),
            Frame::GoAway(g) => self.recv_goaway(g),
            Frame::WindowUpdate(w) => self.recv_window_update(w),
            Frame::Continuation(c) => self.recv_continuation(c),
            Frame::PriorityUpdate(p) => self.recv_priority_update(p),
            // §5.5: "Implementations MUST ignore unknown or unsupported values in all
            // extensible protocol elements."
            Frame::Unknown(_) => Ok(()),
        }
    }

    // ------------------------------------------------------------------ DATA (§6.1)

    fn recv_data(&mut self, d: frame::Data, now: Instant) -> Result {
        let id = d.stream_id;
        let len = d.flow_len();
        // §6.9.1: a receiver MUST treat data beyond its window as FLOW_CONTROL_ERROR; the
        // connection window is checked first so that it stays consistent.
        if len > self.conn_recv.available() {
            return Err(conn_err(
                ErrorCode::FLOW_CONTROL_ERROR,
                "DATA exceeds the connection window (RFC 9113 §6.9.1)",
            ));
        }
        self.conn_recv.consume(len);
        self.stats.data_bytes_received += d.data.len() as u64;
        if d.data.is_empty() && !d.end_stream {
            self.count_empty_frame()?;
        }
        match self.known(id) {
            Known::Tracked => {}
            // §5.1 idle: "Receiving any frame other than HEADERS or PRIORITY on a stream in
            // this state MUST be treated as a connection error of type PROTOCOL_ERROR."
            Known::Idle => return Err(conn_err(PE, "DATA on an idle stream (RFC 9113 §5.1)")),
            Known::Closed { reset_by_us } => {
                // The data is discarded, so its connection credit goes straight back (§6.9).
                self.credit_connection(len);
                if reset_by_us {
                    return Ok(());
                }
                return Err(stream_err(
                    id,
                    ErrorCode::STREAM_CLOSED,
                    "DATA on a closed stream (RFC 9113 §5.1)",
                ));
            }
        }
        let s = self.streams.get_mut(&id).expect("tracked");
        // §5.1 reserved (remote): "Receiving any type of frame other than HEADERS, RST_STREAM, or
        // PRIORITY on a stream in this state MUST be treated as a connection error of type
        // PROTOCOL_ERROR"; reserved (local): likewise for anything but RST_STREAM, PRIORITY or
        // WINDOW_UPDATE. A reserved stream is not "closed", so STREAM_CLOSED would be wrong.
        if matches!(
            s.state,
            StreamState::ReservedRemote | StreamState::ReservedLocal
        ) {
            return Err(conn_err(PE, "DATA on a reserved stream (RFC 9113 §5.1)"));
        }
        // §6.1: "If a DATA frame is received whose stream is not in the "open" or "half-closed
        // (local)" state, the recipient MUST respond with a stream error of type STREAM_CLOSED."
        if !s.state.can_recv_data() {
            self.credit_connection(len);
            return Err(stream_err(
                id,
                ErrorCode::STREAM_CLOSED,
                "DATA on a stream not open for receiving (RFC 9113 §6.1)",
            ));
        }
        if s.recv_phase == RecvPhase::Headers {
            self.credit_connection(len);
            return Err(stream_err(
                id,
                PE,
                "DATA before the final HEADERS (RFC 9113 §8.1)",
            ));
        }
        if len > s.recv_window.available() {
            self.credit_connection(len);
            return Err(stream_err(
                id,
                ErrorCode::FLOW_CONTROL_ERROR,
                "DATA exceeds the stream window (RFC 9113 §6.9.1)",
            ));
        }
        s.recv_window.consume(len);
        s.data_received += d.data.len() as u64;
        s.bytes_received += d.data.len() as u64;
        // §8.1.1: content-length must equal the sum of DATA payload lengths.
        if let Some(cl) = s.content_length {
            if s.data_received > cl || (d.end_stream && s.data_received != cl) {
                self.credit_connection(len);
                return Err(stream_err(
                    id,
                    PE,
                    "DATA length differs from content-length (RFC 9113 §8.1.1)",
                ));
            }
        }
        s.unreleased += len;
        self.conn_unreleased += len as u64;
        if self.config.flow_control == FlowControl::Adaptive {
            self.bdp_sample(len, now);
        }
        self.events.push_back(Event::DataReceived {
            stream_id: id,
            data: d.data,
            flow_len: len,
            end_stream: d.end_stream,
        });
        if d.end_stream {
            self.end_remote(id);
        }
        Ok(())
    }

    /// The peer ended its side of a stream (END_STREAM received).
    fn end_remote(&mut self, id: StreamId) {
        if let Some(s) = self.streams.get_mut(&id) {
            if let Some(n) = state::next(s.state, Transition::RecvEndStream) {
                s.state = n;
            }
            // Credit of a finished receive side is never needed again on the stream.
            s.pending_credit = 0;
        }
        self.close_if_done(id);
    }

    fn count_empty_frame(&mut self) -> Result {
        self.empty_frames += 1;
        if self.empty_frames > self.config.max_empty_frames {
            self.stats.abuse.empty_frames += 1;
            return Err(conn_err(
                ErrorCode::ENHANCE_YOUR_CALM,
                "too many empty frames",
            ));
        }
        Ok(())
    }

    // ------------------------------------------------------------------ header blocks

    fn recv_headers(&mut self, h: frame::Headers) -> Result {
        let self_dependent = h.is_self_dependent();
        if h.priority.is_some() || self_dependent {
            self.count_priority_signal()?;
        }
        if h.block.is_empty() && !h.end_stream && !h.end_headers {
            self.count_empty_frame()?;
        }
        if !h.end_headers {
            self.partial = Some(PartialBlock {
                stream_id: h.stream_id,
                promised: None,
                end_stream: h.end_stream,
                self_dependent,
                block: BytesMut::from(&h.block[..]),
                frames: 1,
            });
            return Ok(());
        }
        self.header_block(h.stream_id, None, h.block, h.end_stream, self_dependent)
    }

    fn recv_push_promise(&mut self, p: frame::PushPromise) -> Result {
        // §8.4: "A client cannot push ... Servers MUST treat the receipt of a PUSH_PROMISE frame
        // as a connection error of type PROTOCOL_ERROR."
        if self.role == Role::Server {
            return Err(conn_err(
                PE,
                "PUSH_PROMISE sent by a client (RFC 9113 §8.4)",
            ));
        }
        // §6.6: "A receiver MUST treat the receipt of a PUSH_PROMISE frame as a connection error
        // of type PROTOCOL_ERROR if SETTINGS_ENABLE_PUSH is 0" (once it was sent).
        if !self.config.enable_push {
            return Err(conn_err(
                PE,
                "PUSH_PROMISE after push was disabled (RFC 9113 §6.6)",
            ));
        }
        if !p.end_headers {
            self.partial = Some(PartialBlock {
                stream_id: p.stream_id,
                promised: Some(p.promised_id),
                end_stream: false,
                self_dependent: false,
                block: BytesMut::from(&p.block[..]),
                frames: 1,
            });
            return Ok(());
        }
        self.header_block(p.stream_id, Some(p.promised_id), p.block, false, false)
    }

    fn recv_continuation(&mut self, c: frame::Continuation) -> Result {
        let Some(p) = self.partial.as_mut() else {
            // §6.10: CONTINUATION must follow HEADERS, PUSH_PROMISE or CONTINUATION without
            // END_HEADERS.
            return Err(conn_err(
                PE,
                "CONTINUATION without a header block (RFC 9113 §6.10)",
            ));
        };
        p.frames += 1;
        p.block.extend_from_slice(&c.block);
        // CONTINUATION flood (2024): bound the frames and the bytes buffered before END_HEADERS.
        let limit_bytes =
            self.config.max_header_list_size as usize + self.config.max_frame_size as usize;
        if p.frames > self.config.max_continuation_frames || p.block.len() > limit_bytes {
            self.stats.abuse.continuation_flood += 1;
            return Err(conn_err(ErrorCode::ENHANCE_YOUR_CALM, "CONTINUATION flood"));
        }
        if c.block.is_empty() && !c.end_headers {
            self.count_empty_frame()?;
        }
        if !c.end_headers {
            return Ok(());
        }
        let p = self.partial.take().expect("checked above");
        self.header_block(
            p.stream_id,
            p.promised,
            p.block.freeze(),
            p.end_stream,
            p.self_dependent,
        )
    }

    /// A complete header block: decode it first (always, so the HPACK context stays in sync,
    /// RFC 9113 §4.3), then apply it to the stream.
    fn header_block(
        &mut self,
        id: StreamId,
        promised: Option<StreamId>,
        block: Bytes,
        end_stream: bool,
        self_dependent: bool,
    ) -> Result {
        let mut headers = Vec::new();
        let mut too_large = false;
        self.stats.header_block_bytes_received += block.len() as u64;
        if let Err(e) = self.hpack_decoder.decode(&block, &mut headers) {
            if e.is_connection_error() {
                // §4.3: "A decoding error in a field block MUST be treated as a connection error
                // of type COMPRESSION_ERROR."
                return Err(conn_err(
                    ErrorCode::COMPRESSION_ERROR,
                    "HPACK decoding error (RFC 9113 §4.3)",
                ));
            }
            too_large = true;
            self.stats.abuse.header_list_too_large += 1;
            headers.clear();
        }
        self.stats.header_list_bytes_received += headers
            .iter()
            .map(|h| (h.name.len() + h.value.len()) as u64)
            .sum::<u64>();
        if let Some(f) = self.trace_pending.take() {
            self.events.push_back(Event::Frame {
                sent: false,
                frame: Box::new(f),
                headers: Some(headers.clone()),
            });
        }
        if let Some(promised) = promised {
            return self.recv_promised(id, promised, headers, too_large);
        }
        // §5.3.1: "A stream cannot depend on itself. An endpoint MUST treat this as a stream
        // error of type PROTOCOL_ERROR."
        if self_dependent {
            return Err(stream_err(
                id,
                PE,
                "stream depends on itself (RFC 9113 §5.3.1)",
            ));
        }
        match self.known(id) {
            Known::Tracked => self.recv_headers_on_stream(id, headers, end_stream, too_large),
            Known::Idle => self.recv_new_stream(id, headers, end_stream, too_large),
            Known::Closed { reset_by_us: true } => Ok(()),
            // §5.1.1: "The identifier of a newly established stream MUST be numerically greater
            // than all streams that the initiating endpoint has opened or reserved. ... An
            // endpoint that receives an unexpected stream identifier MUST respond with a
            // connection error of type PROTOCOL_ERROR." A skipped id was never opened, so
            // HEADERS on it tries to open a stream below the highest one.
            Known::Closed { reset_by_us: false } if self.was_skipped(id) => Err(conn_err(
                PE,
                "HEADERS opening a stream id below one already used (RFC 9113 §5.1.1)",
            )),
            // §5.1 closed: "An endpoint MAY treat receipt of any other type of frame on a closed
            // stream as a connection error of type STREAM_CLOSED".
            Known::Closed { reset_by_us: false } => Err(conn_err(
                ErrorCode::STREAM_CLOSED,
                "HEADERS on a closed stream (RFC 9113 §5.1)",
            )),
        }
    }

    /// HEADERS opening a stream the peer initiates (a request, for a server).
    fn recv_new_stream(
        &mut self,
        id: StreamId,
        headers: Vec<Header>,
        end_stream: bool,
        too_large: bool,
    ) -> Result {
        // §5.1.1: only the peer's parity may open streams; a client only opens via requests and
        // a server only via PUSH_PROMISE, so HEADERS on an idle stream is a request to a server.
        if self.role == Role::Client || self.is_local_id(id) {
            return Err(conn_err(
                PE,
                "HEADERS on an idle stream the peer may not open (RFC 9113 §5.1.1)",
            ));
        }
        // §5.1.1: ids only increase; opening one closes all lower idle ones.
        self.note_peer_id(id);
        // §6.8: after our final GOAWAY, streams above its last id are ignored.
        if let Some(last) = self.goaway_sent {
            if id > last {
                return Ok(());
            }
        }
        if too_large {
            return self.answer_too_large(id, end_stream);
        }
        // §5.1.2: beyond SETTINGS_MAX_CONCURRENT_STREAMS, REFUSED_STREAM (enforced from the start,
        // before our SETTINGS are acknowledged).
        if self.active_remote >= self.config.max_concurrent_streams {
            self.stats.abuse.refused_streams += 1;
            self.reset(id, ErrorCode::REFUSED_STREAM, false);
            return Ok(());
        }
        let info = match message::validate_request(&headers, self.local_connect_protocol) {
            Ok(i) => i,
            Err(r) => return Err(stream_err(id, PE, r)),
        };
        if end_stream && info.content_length.is_some_and(|n| n > 0) {
            return Err(stream_err(
                id,
                PE,
                "content-length with an empty body (RFC 9113 §8.1.1)",
            ));
        }
        let mut s = Stream::new(self.peer.initial_window_size, self.local_initial_window);
        s.state = if end_stream {
            StreamState::HalfClosedRemote
        } else {
            StreamState::Open
        };
        s.recv_phase = RecvPhase::Body;
        s.content_length = info.content_length;
        s.is_head = info.is_head;
        if let Some(p) = &info.priority {
            s.priority = Priority::parse(p, Priority::default());
        }
        self.streams.insert(id, s);
        self.stream_opened(false);
        self.events.push_back(Event::RequestReceived {
            stream_id: id,
            headers,
            end_stream,
        });
        Ok(())
    }

    /// RFC 9113 §10.5.1 / RFC 6585 §5: a request whose header list is over our limit gets 431
    /// (the HPACK context is intact, so the connection carries on).
    fn answer_too_large(&mut self, id: StreamId, end_stream: bool) -> Result {
        let mut s = Stream::new(self.peer.initial_window_size, self.local_initial_window);
        s.state = if end_stream {
            StreamState::HalfClosedRemote
        } else {
            StreamState::Open
        };
        s.recv_phase = RecvPhase::Body;
        self.streams.insert(id, s);
        self.stream_opened(false);
        let status = vec![Header::new(":status", "431")];
        if let Some(s) = self.streams.get_mut(&id) {
            s.final_headers_sent = true;
            if let Some(n) = state::next(s.state, Transition::SendHeaders) {
                s.state = n;
            }
        }
        self.write_headers(id, &status, true, None);
        self.end_local(id);
        if !end_stream {
            // §8.1: after a complete response the server MAY ask the client to stop sending
            // with RST_STREAM(NO_ERROR).
            self.reset(id, ErrorCode::NO_ERROR, false);
        }
        Ok(())
    }

    /// HEADERS on a stream we track: a response (client), 1xx, or trailers.
    fn recv_headers_on_stream(
        &mut self,
        id: StreamId,
        headers: Vec<Header>,
        end_stream: bool,
        too_large: bool,
    ) -> Result {
        let max_info = self.config.max_informational_responses;
        let role = self.role;
        let s = self.streams.get_mut(&id).expect("tracked");
        let reserved = s.state == StreamState::ReservedRemote;
        // §5.1: HEADERS is allowed in open / half-closed (local), and opens reserved (remote).
        let next = match state::next(s.state, Transition::RecvHeaders) {
            Some(n) => n,
            None if s.state == StreamState::ReservedLocal => {
                return Err(conn_err(
                    PE,
                    "HEADERS on a stream reserved by us (RFC 9113 §5.1)",
                ));
            }
            None => {
                return Err(stream_err(
                    id,
                    ErrorCode::STREAM_CLOSED,
                    "HEADERS on a stream closed for receiving (RFC 9113 §5.1)",
                ))
            }
        };
        if too_large {
            return Err(stream_err(
                id,
                PE,
                "header list larger than SETTINGS_MAX_HEADER_LIST_SIZE",
            ));
        }
        match s.recv_phase {
            RecvPhase::Headers if role == Role::Client => {
                let info =
                    message::validate_response(&headers).map_err(|r| stream_err(id, PE, r))?;
                if info.status < 200 {
                    // §8.1: "A HEADERS frame with the END_STREAM flag set that carries an
                    // informational status code is malformed".
                    if end_stream {
                        return Err(stream_err(
                            id,
                            PE,
                            "1xx response with END_STREAM (RFC 9113 §8.1)",
                        ));
                    }
                    s.informational_count += 1;
                    if s.informational_count > max_info {
                        self.stats.abuse.informational_flood += 1;
                        return Err(stream_err(
                            id,
                            ErrorCode::ENHANCE_YOUR_CALM,
                            "too many 1xx responses",
                        ));
                    }
                    s.state = next;
                    self.events.push_back(Event::InformationalReceived {
                        stream_id: id,
                        headers,
                    });
                    return Ok(());
                }
                // §8.1.1 / RFC 9110 §6.4.1: HEAD, 204 and 304 responses carry no content.
                let no_content = s.is_head || info.status == 204 || info.status == 304;
                s.content_length = if no_content {
                    Some(0)
                } else {
                    info.content_length
                };
                if end_stream && s.content_length.is_some_and(|n| n > 0) && !no_content {
                    return Err(stream_err(
                        id,
                        PE,
                        "content-length with an empty body (RFC 9113 §8.1.1)",
                    ));
                }
                if no_content {
                    s.content_length = Some(0);
                }
                if reserved && self.active_remote >= self.config.max_concurrent_streams {
                    // §5.1.2: a pushed response that opens beyond our limit is refused.
                    self.stats.abuse.refused_streams += 1;
                    return Err(stream_err(
                        id,
                        ErrorCode::REFUSED_STREAM,
                        "push beyond SETTINGS_MAX_CONCURRENT_STREAMS",
                    ));
                }
                s.recv_phase = RecvPhase::Body;
                s.state = next;
                if reserved {
                    self.active_remote += 1;
                }
                self.events.push_back(Event::ResponseReceived {
                    stream_id: id,
                    headers,
                    end_stream,
                });
            }
            RecvPhase::Headers => {
                return Err(stream_err(id, PE, "unexpected HEADERS (RFC 9113 §8.1)"));
            }
            RecvPhase::Body => {
                // §8.1: trailers must end the stream: "An endpoint that receives a HEADERS frame
                // without the END_STREAM flag set after receiving the HEADERS frame that opens a
                // request or after receiving a final (non-informational) status code MUST treat
                // the corresponding request or response as malformed".
                if !end_stream {
                    return Err(stream_err(
                        id,
                        PE,
                        "trailers without END_STREAM (RFC 9113 §8.1)",
                    ));
                }
                message::validate_trailers(&headers).map_err(|r| stream_err(id, PE, r))?;
                if s.content_length.is_some_and(|cl| cl != s.data_received) {
                    return Err(stream_err(
                        id,
                        PE,
                        "DATA length differs from content-length (RFC 9113 §8.1.1)",
                    ));
                }
                s.state = next;
                self.events.push_back(Event::TrailersReceived {
                    stream_id: id,
                    headers,
                });
            }
        }
        if end_stream {
            self.end_remote(id);
        }
        Ok(())
    }

    /// A PUSH_PROMISE block (client role, §6.6, §8.4).
    fn recv_promised(
        &mut self,
        assoc: StreamId,
        promised: StreamId,
        headers: Vec<Header>,
        too_large: bool,
    ) -> Result {
        // §6.6: the associated stream must be open or half-closed (local) from our side.
        let assoc_ok = self
            .streams
            .get(&assoc)
            .is_some_and(|s| matches!(s.state, StreamState::Open | StreamState::HalfClosedLocal));
        if !assoc_ok {
            return Err(conn_err(
                PE,
                "PUSH_PROMISE on a stream that is not open (RFC 9113 §6.6)",
            ));
        }
        // §5.1.1 / §6.6: the promised id must be a new server-initiated (even) id.
        if !promised.is_server_initiated() || promised.0 <= self.max_peer_id {
            return Err(conn_err(
                PE,
                "PUSH_PROMISE with an invalid promised stream id (RFC 9113 §6.6)",
            ));
        }
        self.note_peer_id(promised);
        if too_large {
            self.reset(promised, ErrorCode::CANCEL, false);
            return Ok(());
        }
        // §10.5: "A client that accepts server push SHOULD limit the number of streams it allows
        // to be in the "reserved (remote)" state. An excessive number of server push streams can
        // be treated as a stream error of type ENHANCE_YOUR_CALM." We keep at most our own
        // SETTINGS_MAX_CONCURRENT_STREAMS of them (no more pushed responses could be open at
        // once anyway, §5.1.2), so a flood of promises costs no memory; the resets it causes
        // count against the local reset budget. The count is a scan of the stream records,
        // which are bounded by that same limit plus our own requests.
        let reserved = self
            .streams
            .values()
            .filter(|s| s.state == StreamState::ReservedRemote)
            .count();
        if reserved >= self.config.max_concurrent_streams as usize {
            self.stats.abuse.refused_streams += 1;
            return Err(stream_err(
                promised,
                ErrorCode::ENHANCE_YOUR_CALM,
                "too many streams reserved by PUSH_PROMISE (RFC 9113 §10.5)",
            ));
        }
        let info = match message::validate_push_request(&headers) {
            Ok(i) => i,
            // §8.4: "it MUST respond on the promised stream with a stream error".
            Err(r) => return Err(stream_err(promised, PE, r)),
        };
        let mut s = Stream::new(self.peer.initial_window_size, self.local_initial_window);
        s.state = StreamState::ReservedRemote;
        s.is_head = info.is_head;
        self.streams.insert(promised, s);
        self.events.push_back(Event::PushPromiseReceived {
            stream_id: promised,
            associated: assoc,
            headers,
        });
        Ok(())
    }

    // ------------------------------------------------------------------ control frames

    fn count_priority_signal(&mut self) -> Result {
        // CVE-2019-9513: PRIORITY handling is O(1) here, but an endless stream of them is still
        // work; allow a fixed budget plus some per stream opened.
        self.priority_frames += 1;
        let allowance = 100
            + self.config.max_priority_frames_per_stream as u64 * (self.stats.streams_opened + 1);
        if self.priority_frames as u64 > allowance {
            self.stats.abuse.priority_flood += 1;
            return Err(conn_err(ErrorCode::ENHANCE_YOUR_CALM, "PRIORITY flood"));
        }
        Ok(())
    }

    /// PRIORITY (§6.3): deprecated signals, parsed and tolerated (self-dependency is refused by
    /// the frame decoder); allowed in every state, idle included.
    fn recv_priority(&mut self, _id: StreamId) -> Result {
        self.count_priority_signal()
    }

    /// PRIORITY_UPDATE (RFC 9218 §7.1).
    fn recv_priority_update(&mut self, p: frame::PriorityUpdate) -> Result {
        // RFC 9218 §7.1: "A client MUST NOT send a PRIORITY_UPDATE frame ... if it receives one,
        // PROTOCOL_ERROR" — only clients send it.
        if self.role == Role::Client {
            return Err(conn_err(
                PE,
                "PRIORITY_UPDATE sent by a server (RFC 9218 §7.1)",
            ));
        }
        self.count_priority_signal()?;
        let id = p.prioritized_id;
        // RFC 9218 §7.1: referring to a push stream (server-initiated) is a PROTOCOL_ERROR.
        if id.is_server_initiated() {
            return Err(conn_err(
                PE,
                "PRIORITY_UPDATE for a push stream (RFC 9218 §7.1)",
            ));
        }
        if let Some(s) = self.streams.get(&id) {
            let p = Priority::parse(&p.field_value, s.priority);
            self.reprioritize(id, p);
        }
        Ok(())
    }

    fn recv_rst_stream(&mut self, r: frame::RstStream, now: Instant) -> Result {
        let id = r.stream_id;
        self.stats.resets_received += 1;
        match self.known(id) {
            // §6.4: "If a RST_STREAM frame identifying an idle stream is received, the recipient
            // MUST treat this as a connection error of type PROTOCOL_ERROR."
            Known::Idle => Err(conn_err(PE, "RST_STREAM on an idle stream (RFC 9113 §6.4)")),
            Known::Closed { .. } => Ok(()),
            Known::Tracked => {
                // CVE-2023-44487 (rapid reset): a token bucket over received resets.
                let elapsed = now
                    .saturating_duration_since(self.reset_tokens_at)
                    .as_secs_f64();
                self.reset_tokens_at = now;
                let burst = self.config.remote_reset_burst as f64;
                self.reset_tokens =
                    (self.reset_tokens + elapsed * self.config.remote_reset_rate as f64).min(burst);
                if self.reset_tokens < 1.0 {
                    self.stats.abuse.rapid_reset += 1;
                    return Err(conn_err(
                        ErrorCode::ENHANCE_YOUR_CALM,
                        "too many RST_STREAM (rapid reset)",
                    ));
                }
                self.reset_tokens -= 1.0;
                let was_active = self.streams.get(&id).is_some_and(|s| s.state.is_active());
                self.remove_stream(id, was_active);
                self.events.push_back(Event::StreamReset {
                    stream_id: id,
                    code: r.error_code,
                    remote: true,
                });
                Ok(())
            }
        }
    }

    fn recv_settings(&mut self, s: frame::Settings) -> Result {
        if s.ack {
            // §6.5.3: the peer applied our oldest unacknowledged SETTINGS.
            if let Some((params, _)) = self.pending_settings.pop_front() {
                self.apply_local_settings(&params, true);
                self.events.push_back(Event::SettingsAcknowledged);
            }
            return Ok(());
        }
        if s.params.len() > self.config.max_settings_entries {
            self.stats.abuse.settings_flood += 1;
            return Err(conn_err(
                ErrorCode::ENHANCE_YOUR_CALM,
                "too many entries in SETTINGS",
            ));
        }
        self.count_answer()?;
        self.apply_peer_settings(&s.params)?;
        self.received_settings = true;
        // §6.5.3: "Upon receiving a SETTINGS frame ..., the recipient MUST immediately emit a
        // SETTINGS frame with the ACK flag set".
        self.queue_frame(Frame::Settings(frame::Settings {
            ack: true,
            params: Vec::new(),
        }));
        self.events
            .push_back(Event::SettingsReceived { params: s.params });
        Ok(())
    }

    /// Control answers queued but not yet collected by `poll_transmit` (ping and settings
    /// floods, CVE-2019-9512/9515): a peer that sends them faster than we write gets GOAWAY.
    fn count_answer(&mut self) -> Result {
        self.pending_answers += 1;
        if self.pending_answers > self.config.max_pending_control_answers {
            self.stats.abuse.ping_flood += 1;
            return Err(conn_err(
                ErrorCode::ENHANCE_YOUR_CALM,
                "control frame flood",
            ));
        }
        Ok(())
    }

    /// Applies the peer's SETTINGS (§6.5.2). Values are range-checked by the frame decoder.
    pub(super) fn apply_peer_settings(&mut self, params: &[(SettingId, u32)]) -> Result {
        for &(id, v) in params {
            match id {
                SettingId::HEADER_TABLE_SIZE => {
                    self.peer.header_table_size = v;
                    let size = v.min(self.config.max_encoder_table_size);
                    self.hpack_encoder.set_max_table_size(size as usize);
                }
                SettingId::ENABLE_PUSH => {
                    // §6.5.2: "A client MUST treat receipt of a SETTINGS frame with
                    // SETTINGS_ENABLE_PUSH set to 1 as a connection error ... PROTOCOL_ERROR."
                    if self.role == Role::Client && v == 1 {
                        return Err(conn_err(
                            PE,
                            "server sent SETTINGS_ENABLE_PUSH = 1 (RFC 9113 §6.5.2)",
                        ));
                    }
                    self.peer.enable_push = v == 1;
                }
                SettingId::MAX_CONCURRENT_STREAMS => self.peer.max_concurrent_streams = v,
                SettingId::INITIAL_WINDOW_SIZE => {
                    // §6.9.2: the change applies to every stream's send window; one that would
                    // exceed 2^31-1 is a connection error FLOW_CONTROL_ERROR.
                    let delta = v as i64 - self.peer.initial_window_size as i64;
                    self.peer.initial_window_size = v;
                    let mut wake = Vec::new();
                    for (id, s) in self.streams.iter_mut() {
                        if s.send_window.grow(delta).is_err() {
                            return Err(conn_err(
                                ErrorCode::FLOW_CONTROL_ERROR,
                                "INITIAL_WINDOW_SIZE change overflows a stream window (RFC 9113 §6.9.2)",
                            ));
                        }
                        if delta > 0 && !s.scheduled && s.is_sendable() {
                            wake.push(*id);
                        }
                    }
                    for id in wake {
                        self.schedule(id);
                    }
                }
                SettingId::MAX_FRAME_SIZE => self.peer.max_frame_size = v,
                SettingId::MAX_HEADER_LIST_SIZE => self.peer.max_header_list_size = v,
                SettingId::ENABLE_CONNECT_PROTOCOL => {
                    // RFC 8441 §3: "a sender MUST NOT send a SETTINGS_ENABLE_CONNECT_PROTOCOL
                    // parameter with the value of 0 after previously sending a value of 1".
                    if self.peer.enable_connect_protocol && v == 0 {
                        return Err(conn_err(
                            PE,
                            "ENABLE_CONNECT_PROTOCOL went back to 0 (RFC 8441 §3)",
                        ));
                    }
                    self.peer.enable_connect_protocol = v == 1;
                }
                SettingId::NO_RFC7540_PRIORITIES => self.peer.no_rfc7540_priorities = v == 1,
                // §6.5.2: "An endpoint that receives a SETTINGS frame with any unknown or
                // unsupported identifier MUST ignore that setting."
                _ => {}
            }
        }
        Ok(())
    }

    fn recv_ping(&mut self, p: frame::Ping, now: Instant) -> Result {
        if !p.ack {
            self.count_answer()?;
            // §6.7: "Receivers of a PING frame that does not include an ACK flag MUST send a PING
            // frame with the ACK flag set in response, with an identical frame payload."
            self.queue_frame(Frame::Ping(frame::Ping {
                ack: true,
                payload: p.payload,
            }));
            return Ok(());
        }
        if let Some(Shutdown::AwaitingPing { payload, .. }) = self.shutdown {
            if payload == p.payload {
                self.finish_shutdown_ping(now);
                return Ok(());
            }
        }
        if p.payload == KEEPALIVE_PING {
            self.keepalive_sent = None;
            return Ok(());
        }
        if p.payload == BDP_PING {
            if let Some(sent) = self.bdp_ping.take() {
                self.bdp_update(now.saturating_duration_since(sent), now);
            }
            return Ok(());
        }
        if let Some(i) = self.pings.iter().position(|(pl, _)| *pl == p.payload) {
            if let Some((payload, sent)) = self.pings.remove(i) {
                let rtt = now.saturating_duration_since(sent);
                self.events.push_back(Event::PingAnswered { payload, rtt });
            }
        }
        Ok(())
    }

    fn recv_goaway(&mut self, g: frame::GoAway) -> Result {
        let last = g.last_stream_id;
        // §6.8: "Endpoints MUST NOT increase the value they send in the last stream identifier".
        // Taking the minimum keeps us safe whatever the peer does.
        let last = self.goaway_received.map_or(last, |prev| prev.min(last));
        self.goaway_received = Some(last);
        self.events.push_back(Event::GoAwayReceived {
            last_stream_id: g.last_stream_id,
            code: g.error_code,
            debug_data: g.debug_data.clone(),
        });
        // §6.8 / §8.7: streams we initiated above the last id were not processed: safe to retry.
        let refused: Vec<StreamId> = self
            .streams
            .keys()
            .copied()
            .filter(|&id| self.is_local_id(id) && id > last)
            .collect();
        for id in refused {
            let was_active = self.streams.get(&id).is_some_and(|s| s.state.is_active());
            self.remove_stream(id, was_active);
            self.events.push_back(Event::StreamReset {
                stream_id: id,
                code: ErrorCode::REFUSED_STREAM,
                remote: true,
            });
        }
        if g.error_code != ErrorCode::NO_ERROR {
            let reason = String::from_utf8_lossy(&g.debug_data).into_owned();
            self.error = Some(ConnectionError {
                code: g.error_code,
                reason: if reason.is_empty() {
                    "GOAWAY received".into()
                } else {
                    reason
                },
                remote: true,
            });
            self.abandon_streams();
        }
        Ok(())
    }

    fn recv_window_update(&mut self, w: frame::WindowUpdate) -> Result {
        let id = w.stream_id;
        if id.is_zero() {
            // §6.9.1: "If a sender receives a WINDOW_UPDATE that causes a flow-control window to
            // exceed this maximum, it MUST terminate either the stream or the connection".
            if self.conn_send.grow(w.increment as i64).is_err() {
                return Err(conn_err(
                    ErrorCode::FLOW_CONTROL_ERROR,
                    "connection window exceeds 2^31-1 (RFC 9113 §6.9.1)",
                ));
            }
            return Ok(());
        }
        match self.known(id) {
            // §5.1 idle: WINDOW_UPDATE on an idle stream is a connection error PROTOCOL_ERROR.
            Known::Idle => Err(conn_err(
                PE,
                "WINDOW_UPDATE on an idle stream (RFC 9113 §5.1)",
            )),
            Known::Closed { .. } => Ok(()),
            Known::Tracked => {
                let s = self.streams.get_mut(&id).expect("tracked");
                // §5.1 reserved (remote): only HEADERS, RST_STREAM or PRIORITY may arrive; the
                // peer holds the stream in "reserved (local)", where it "MUST NOT send any type
                // of frame other than HEADERS, RST_STREAM, or PRIORITY".
                if s.state == StreamState::ReservedRemote {
                    return Err(conn_err(
                        PE,
                        "WINDOW_UPDATE on a stream reserved by the peer (RFC 9113 §5.1)",
                    ));
                }
                if s.send_window.grow(w.increment as i64).is_err() {
                    return Err(stream_err(
                        id,
                        ErrorCode::FLOW_CONTROL_ERROR,
                        "stream window exceeds 2^31-1 (RFC 9113 §6.9.1)",
                    ));
                }
                self.schedule(id);
                Ok(())
            }
        }
    }
}
