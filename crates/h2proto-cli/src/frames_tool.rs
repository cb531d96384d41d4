//! `h2proto frames`: print a raw HTTP/2 byte stream (one direction) one line per frame.
//!
//! The input may start with the client connection preface (RFC 9113 §3.4). Field blocks of
//! HEADERS and PUSH_PROMISE, with their CONTINUATION frames (§4.3), are HPACK-decoded and their
//! fields printed under the frame that completes the block. Output is buffered and printed only
//! if the whole input is well formed; otherwise the one error line names the byte offset of the
//! offending frame and the RFC rule it breaks.

use bytes::{Bytes, BytesMut};
use h2proto::frame::{
    flags, Frame, FrameDecoder, FrameHeader, FrameType, PriorityFields, HEADER_LEN,
    MAX_MAX_FRAME_SIZE, PREFACE,
};
use h2proto::hpack::{Decoder, Header};
use h2proto::{ProtocolError, Scope, StreamId};
use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::Path;

/// Longest byte string shown in full (DATA, debug data); longer ones are cut with "...".
const PREVIEW: usize = 48;

/// Reads `file` (stdin when `None`), describes it, and prints the description.
pub fn run(file: Option<&Path>) -> Result<(), String> {
    let input = match file {
        Some(path) => {
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?
        }
        None => {
            let mut v = Vec::new();
            std::io::stdin()
                .read_to_end(&mut v)
                .map_err(|e| format!("cannot read stdin: {e}"))?;
            v
        }
    };
    let text = describe(&input)?;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write output: {e}"))
}

/// A field block being assembled from HEADERS/PUSH_PROMISE and CONTINUATION frames (§4.3).
struct PendingBlock {
    stream: StreamId,
    block: Vec<u8>,
}

/// Describes the whole input, or says where and why it is malformed.
pub fn describe(input: &[u8]) -> Result<String, String> {
    let mut out = String::new();
    let mut offset = 0usize;
    if input.starts_with(PREFACE) {
        out.push_str("PREFACE (client connection preface, RFC 9113 §3.4)\n");
        offset = PREFACE.len();
    } else if !input.is_empty() && PREFACE.starts_with(input) {
        return Err(format!(
            "byte offset 0: truncated client connection preface: {} of 24 octets (RFC 9113 §3.4)",
            input.len()
        ));
    }
    let mut buf = BytesMut::from(&input[offset..]);
    let mut decoder = FrameDecoder::new();
    // One direction of a capture: we do not know what the receiver advertised, so accept any
    // frame size the protocol allows (§4.2).
    decoder.set_max_frame_size(MAX_MAX_FRAME_SIZE);
    let mut hpack = Decoder::new();
    let mut pending: Option<PendingBlock> = None;

    while !buf.is_empty() {
        let fail = |msg: String| format!("byte offset {offset}: {msg}");
        let (head, payload) = match decoder.decode_raw(&mut buf) {
            Ok(Some(x)) => x,
            Ok(None) => return Err(fail(truncated(&buf))),
            Err(e) => return Err(fail(protocol(&e, None))),
        };
        check_sequence(&head, pending.as_ref()).map_err(&fail)?;
        let frame = decoder
            .decode_frame(&head, payload)
            .map_err(|e| fail(protocol(&e, Some(&head))))?;
        line(&mut out, &head, &frame);
        let fragment = match &frame {
            Frame::Headers(h) => Some((h.block.clone(), h.end_headers)),
            Frame::PushPromise(p) => Some((p.block.clone(), p.end_headers)),
            Frame::Continuation(c) => Some((c.block.clone(), c.end_headers)),
            _ => None,
        };
        if let Some((fragment, end)) = fragment {
            let p = pending.get_or_insert_with(|| PendingBlock {
                stream: head.stream_id,
                block: Vec::new(),
            });
            p.block.extend_from_slice(&fragment);
            if end {
                let block = Bytes::from(std::mem::take(&mut p.block));
                pending = None;
                let mut fields = Vec::new();
                hpack.decode(&block, &mut fields).map_err(|e| {
                    fail(format!(
                        "field block of stream {}: COMPRESSION_ERROR: {e} (RFC 9113 §4.3)",
                        head.stream_id
                    ))
                })?;
                print_fields(&mut out, &fields);
            }
        }
        offset += HEADER_LEN + head.length as usize;
    }
    if let Some(p) = pending {
        return Err(format!(
            "byte offset {offset}: input ends inside the field block of stream {}: CONTINUATION \
             with END_HEADERS expected (RFC 9113 §4.3, §6.10)",
            p.stream
        ));
    }
    Ok(out)
}

/// §4.3 and §6.10: a field block is "a contiguous sequence of frames, with no interleaved frames
/// of any other type or from any other stream", and CONTINUATION only continues one.
fn check_sequence(head: &FrameHeader, pending: Option<&PendingBlock>) -> Result<(), String> {
    let is_cont = head.kind == FrameType::CONTINUATION;
    match pending {
        Some(p) if !is_cont || head.stream_id != p.stream => Err(format!(
            "{} frame on stream {} inside the field block of stream {}: PROTOCOL_ERROR \
             (RFC 9113 §4.3, §6.10)",
            head.kind, head.stream_id, p.stream
        )),
        None if is_cont => Err(format!(
            "CONTINUATION on stream {} without a HEADERS or PUSH_PROMISE before it: \
             PROTOCOL_ERROR (RFC 9113 §6.10)",
            head.stream_id
        )),
        _ => Ok(()),
    }
}

fn truncated(rest: &[u8]) -> String {
    if rest.len() < HEADER_LEN {
        return format!(
            "truncated frame header: {} of 9 octets (RFC 9113 §4.1)",
            rest.len()
        );
    }
    let head = FrameHeader::parse(rest[..HEADER_LEN].try_into().unwrap_or(&[0; HEADER_LEN]));
    format!(
        "truncated {} frame: header declares {} payload octets, {} present (RFC 9113 §4.1)",
        head.kind,
        head.length,
        rest.len() - HEADER_LEN
    )
}

fn protocol(e: &ProtocolError, head: Option<&FrameHeader>) -> String {
    let scope = match e.scope {
        Scope::Connection => "connection error".to_string(),
        Scope::Stream(id) => format!("stream error on stream {id}"),
    };
    match head {
        Some(h) => format!("{} frame: {} {}: {}", h.kind, e.code, scope, e.reason),
        None => format!("{} {}: {}", e.code, scope, e.reason),
    }
}

/// One line: type, flags, stream, length, then the type's own fields.
fn line(out: &mut String, head: &FrameHeader, frame: &Frame) {
    let names = flags::names(head.kind, head.flags);
    let flag_text = if names.is_empty() {
        "-".to_string()
    } else {
        names.join("|")
    };
    let _ = write!(
        out,
        "{} flags={} stream={} length={}",
        head.kind, flag_text, head.stream_id, head.length
    );
    details(out, frame);
    out.push('\n');
}

fn details(out: &mut String, frame: &Frame) {
    let _ = match frame {
        Frame::Data(d) => {
            let _ = write!(out, " data={}", preview(&d.data));
            pad(out, d.pad.as_ref())
        }
        Frame::Headers(h) => {
            if let Some(p) = &h.priority {
                priority(out, p);
            }
            let _ = write!(out, " block={}", h.block.len());
            pad(out, h.pad.as_ref())
        }
        Frame::Priority(p) => {
            priority(out, &p.fields);
            Ok(())
        }
        Frame::RstStream(r) => write!(out, " error={}", r.error_code),
        Frame::Settings(s) => {
            for (id, v) in &s.params {
                let _ = write!(out, " {id}={v}");
            }
            Ok(())
        }
        Frame::PushPromise(p) => {
            let _ = write!(
                out,
                " promised_stream={} block={}",
                p.promised_id,
                p.block.len()
            );
            pad(out, p.pad.as_ref())
        }
        Frame::Ping(p) => write!(out, " opaque={}", hex::encode(p.payload)),
        Frame::GoAway(g) => write!(
            out,
            " last_stream={} error={} debug={}",
            g.last_stream_id,
            g.error_code,
            preview(&g.debug_data)
        ),
        Frame::WindowUpdate(w) => write!(out, " increment={}", w.increment),
        Frame::Continuation(c) => write!(out, " block={}", c.block.len()),
        Frame::PriorityUpdate(p) => write!(
            out,
            " prioritized_stream={} value={}",
            p.prioritized_id,
            preview(&p.field_value)
        ),
        Frame::Unknown(u) => write!(out, " payload={}", preview(&u.payload)),
    };
}

/// RFC 7540 priority fields; the weight shown is the effective one, wire octet + 1.
fn priority(out: &mut String, p: &PriorityFields) {
    let _ = write!(
        out,
        " exclusive={} depends_on={} weight={}",
        p.exclusive,
        p.dependency,
        u16::from(p.weight) + 1
    );
}

fn pad(out: &mut String, pad: Option<&Bytes>) -> std::fmt::Result {
    match pad {
        Some(p) => write!(out, " padding={}", p.len()),
        None => Ok(()),
    }
}

/// A quoted, escaped view of a byte string, cut after [`PREVIEW`] octets.
fn preview(b: &[u8]) -> String {
    let shown = &b[..b.len().min(PREVIEW)];
    let more = if b.len() > PREVIEW { "..." } else { "" };
    format!("\"{}\"{more} ({} bytes)", shown.escape_ascii(), b.len())
}

fn print_fields(out: &mut String, fields: &[Header]) {
    for f in fields {
        let never = if f.sensitive { " (never indexed)" } else { "" };
        let _ = writeln!(
            out,
            "    {}: {}{never}",
            f.name.escape_ascii(),
            f.value.escape_ascii()
        );
    }
}
