//! The http2-frame-test-case vectors (github.com/http2jp/http2-frame-test-case), see the
//! folder's README.md: normal cases decode to the given fields and re-encode byte-exact; error
//! cases fail with one of the listed codes. The vectors carry non-zero padding ("Howdy!"),
//! which RFC 9113 §6.1 lets a receiver accept, so the default (non-strict) decoder is used.

use bytes::BytesMut;
use h2proto::frame::{Frame, FrameDecoder, FrameHeader};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/http2-frame-test-case"
);

fn cases() -> Vec<(PathBuf, Value)> {
    let dir = Path::new(DIR);
    assert!(
        dir.is_dir(),
        "http2-frame-test-case vectors missing at {DIR}: these tests need them"
    );
    let mut out = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    dirs.sort();
    for sub in dirs.into_iter().filter(|p| p.is_dir()) {
        let mut files: Vec<_> = std::fs::read_dir(&sub)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        for f in files
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
        {
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            out.push((f, v));
        }
    }
    assert!(
        out.len() >= 23,
        "expected at least 23 cases, found {}",
        out.len()
    );
    out
}

fn text(b: &[u8]) -> Value {
    Value::String(String::from_utf8(b.to_vec()).expect("vectors use text byte strings"))
}

fn opt_text(b: Option<&bytes::Bytes>) -> Value {
    b.map_or(Value::Null, |b| text(b))
}

fn pad_len(b: Option<&bytes::Bytes>) -> Value {
    b.map_or(Value::Null, |b| json!(b.len()))
}

/// Our decoded frame in the vectors' `frame_payload` vocabulary (weight is wire + 1).
fn payload_json(f: &Frame) -> Value {
    match f {
        Frame::Data(d) => json!({
            "data": text(&d.data), "padding_length": pad_len(d.pad.as_ref()),
            "padding": opt_text(d.pad.as_ref()) }),
        Frame::Headers(h) => json!({
            "padding_length": pad_len(h.pad.as_ref()), "padding": opt_text(h.pad.as_ref()),
            "exclusive": h.priority.map(|p| p.exclusive),
            "stream_dependency": h.priority.map(|p| p.dependency.0),
            "weight": h.priority.map(|p| u32::from(p.weight) + 1),
            "header_block_fragment": text(&h.block) }),
        Frame::Priority(p) => json!({
            "exclusive": p.fields.exclusive, "stream_dependency": p.fields.dependency.0,
            "weight": u32::from(p.fields.weight) + 1 }),
        Frame::RstStream(r) => json!({ "error_code": r.error_code.0 }),
        Frame::Settings(s) => json!({
            "settings": s.params.iter().map(|(id, v)| json!([id.0, v])).collect::<Vec<_>>() }),
        Frame::PushPromise(p) => json!({
            "padding_length": pad_len(p.pad.as_ref()), "padding": opt_text(p.pad.as_ref()),
            "promised_stream_id": p.promised_id.0, "header_block_fragment": text(&p.block) }),
        Frame::Ping(p) => json!({ "opaque_data": text(&p.payload) }),
        Frame::GoAway(g) => json!({
            "last_stream_id": g.last_stream_id.0, "error_code": g.error_code.0,
            "additional_debug_data": text(&g.debug_data) }),
        Frame::WindowUpdate(w) => json!({ "window_size_increment": w.increment }),
        Frame::Continuation(c) => json!({ "header_block_fragment": text(&c.block) }),
        other => panic!("no vector format for {:?}", other.kind()),
    }
}

fn check_normal(name: &str, wire: &[u8], expect: &Value) {
    let head = FrameHeader::parse(wire[..9].try_into().unwrap());
    assert_eq!(json!(head.length), expect["length"], "{name}: length");
    assert_eq!(json!(head.kind.0), expect["type"], "{name}: type");
    assert_eq!(json!(head.flags), expect["flags"], "{name}: flags");
    assert_eq!(
        json!(head.stream_id.0),
        expect["stream_identifier"],
        "{name}: stream"
    );

    let mut buf = BytesMut::from(wire);
    let frame = FrameDecoder::new()
        .decode(&mut buf)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .unwrap_or_else(|| panic!("{name}: incomplete"));
    assert!(buf.is_empty(), "{name}: bytes left over");

    let ours = payload_json(&frame);
    let Value::Object(fields) = &expect["frame_payload"] else {
        panic!("{name}: no payload")
    };
    for (key, want) in fields {
        let got = ours.get(key).unwrap_or(&Value::Null);
        assert_eq!(got, want, "{name}: frame_payload.{key}");
    }

    let mut out = Vec::new();
    frame.encode(&mut out);
    assert_eq!(
        hex::encode_upper(&out),
        hex::encode_upper(wire),
        "{name}: re-encoding"
    );
}

fn check_error(name: &str, wire: &[u8], codes: &[Value]) {
    let mut buf = BytesMut::from(wire);
    match FrameDecoder::new().decode(&mut buf) {
        Err(e) => assert!(
            codes.contains(&json!(e.code.0)),
            "{name}: got {e}, expected one of {codes:?}"
        ),
        Ok(f) => panic!("{name}: expected an error in {codes:?}, decoded {f:?}"),
    }
}

#[test]
fn http2_frame_test_case_vectors() {
    let mut normal = 0;
    let mut errors = 0;
    for (path, case) in cases() {
        let name = path.display().to_string();
        let wire = hex::decode(case["wire"].as_str().unwrap()).unwrap();
        match &case["error"] {
            Value::Null => {
                check_normal(&name, &wire, &case["frame"]);
                normal += 1;
            }
            Value::Array(codes) => {
                check_error(&name, &wire, codes);
                errors += 1;
            }
            other => panic!("{name}: odd error field {other}"),
        }
    }
    assert!(
        normal >= 10 && errors >= 13,
        "{normal} normal, {errors} error cases"
    );
}

#[test]
fn data_frame_size_case_fails_from_the_header_alone() {
    // error/data-frame-size.json declares 32768 octets and carries 20: with only the 9-octet
    // header available, the decoder must already refuse it (RFC 9113 §4.2).
    let wire = hex::decode("008000000800000002").unwrap();
    let err = FrameDecoder::new()
        .decode(&mut BytesMut::from(&wire[..]))
        .unwrap_err();
    assert_eq!(err.code, h2proto::ErrorCode::FRAME_SIZE_ERROR);
}
