//! `h2proto frames` run as a process: on a stream built with the frame encoders, and on broken
//! input (truncated frame, frame-level error, HPACK error, broken field block sequence).

use bytes::Bytes;
use h2proto::frame::*;
use h2proto::hpack::{Encoder, Header};
use h2proto::{ErrorCode, StreamId};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

fn write_input(name: &str, bytes: &[u8]) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("frames-{name}.bin"));
    std::fs::write(&path, bytes).unwrap();
    path
}

fn run_file(name: &str, bytes: &[u8]) -> Output {
    let path = write_input(name, bytes);
    Command::new(env!("CARGO_BIN_EXE_h2proto"))
        .arg("frames")
        .arg(&path)
        .output()
        .unwrap()
}

fn run_stdin(bytes: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_h2proto"))
        .arg("frames")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(bytes).unwrap();
    child.wait_with_output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// A client's side of a connection: preface, SETTINGS, a request split over HEADERS and
/// CONTINUATION, padded DATA, and one frame of every other type.
fn client_stream() -> Vec<u8> {
    let mut out = PREFACE.to_vec();
    Settings {
        ack: false,
        params: vec![
            (SettingId::HEADER_TABLE_SIZE, 8192),
            (SettingId::ENABLE_PUSH, 0),
            (SettingId(0xabc), 7),
        ],
    }
    .encode(&mut out);
    encode_window_update(StreamId(0), 65_535, &mut out);

    let mut block = Vec::new();
    let mut hpack = Encoder::new();
    let fields = [
        Header::new(":method", "GET"),
        Header::new(":path", "/index.html"),
        Header::new(":scheme", "https"),
        Header::new(":authority", "example.org"),
        Header::new("user-agent", "frames-test"),
    ];
    hpack.encode(&fields, &mut block);
    let block = Bytes::from(block);
    let cut = block.len() / 2;
    Headers {
        stream_id: StreamId(1),
        block: block.slice(..cut),
        end_stream: false,
        end_headers: false,
        priority: Some(PriorityFields {
            exclusive: true,
            dependency: StreamId(0),
            weight: 15,
        }),
        pad: None,
    }
    .encode(&mut out);
    Continuation {
        stream_id: StreamId(1),
        block: block.slice(cut..),
        end_headers: true,
    }
    .encode(&mut out);
    Data {
        stream_id: StreamId(1),
        data: Bytes::from_static(b"Hello, world!"),
        end_stream: true,
        pad: Some(Bytes::from_static(&[0; 6])),
    }
    .encode(&mut out);
    encode_ping(false, *b"deadbeef", &mut out);
    Priority {
        stream_id: StreamId(3),
        fields: PriorityFields {
            exclusive: false,
            dependency: StreamId(1),
            weight: 255,
        },
    }
    .encode(&mut out);
    PriorityUpdate {
        prioritized_id: StreamId(1),
        field_value: Bytes::from_static(b"u=1, i"),
    }
    .encode(&mut out);
    encode_rst_stream(StreamId(1), ErrorCode::CANCEL, &mut out);
    GoAway {
        last_stream_id: StreamId(0),
        error_code: ErrorCode::NO_ERROR,
        debug_data: Bytes::from_static(b"bye"),
    }
    .encode(&mut out);
    Unknown {
        header: FrameHeader {
            length: 2,
            kind: FrameType(0xbb),
            flags: 0,
            stream_id: StreamId(0),
        },
        payload: Bytes::from_static(b"hi"),
    }
    .encode(&mut out);
    out
}

#[test]
fn describes_every_frame_of_a_client_stream() {
    let o = run_file("client", &client_stream());
    assert!(o.status.success(), "stderr: {}", stderr(&o));
    let text = stdout(&o);
    let lines: Vec<&str> = text.lines().collect();
    let expect = [
        "PREFACE",
        "SETTINGS flags=- stream=0 length=18 SETTINGS_HEADER_TABLE_SIZE=8192 SETTINGS_ENABLE_PUSH=0 SETTINGS_UNKNOWN(0x0abc)=7",
        "WINDOW_UPDATE flags=- stream=0 length=4 increment=65535",
        "HEADERS flags=PRIORITY stream=1",
        "CONTINUATION flags=END_HEADERS stream=1",
        "    :method: GET",
        "    :path: /index.html",
        "    :scheme: https",
        "    :authority: example.org",
        "    user-agent: frames-test",
        "DATA flags=END_STREAM|PADDED stream=1 length=20 data=\"Hello, world!\" (13 bytes) padding=6",
        "PING flags=- stream=0 length=8 opaque=6465616462656566",
        "PRIORITY flags=- stream=3 length=5 exclusive=false depends_on=1 weight=256",
        "PRIORITY_UPDATE flags=- stream=0 length=10 prioritized_stream=1 value=\"u=1, i\"",
        "RST_STREAM flags=- stream=1 length=4 error=CANCEL",
        "GOAWAY flags=- stream=0 length=11 last_stream=0 error=NO_ERROR debug=\"bye\"",
        "UNKNOWN(0xbb) flags=- stream=0 length=2 payload=\"hi\"",
    ];
    assert_eq!(lines.len(), expect.len(), "{text}");
    for (got, want) in lines.iter().zip(expect) {
        assert!(
            got.starts_with(want),
            "line {got:?} should start with {want:?}"
        );
    }
    assert!(
        lines[3].contains("exclusive=true depends_on=0 weight=16"),
        "{}",
        lines[3]
    );
}

#[test]
fn reads_stdin_without_a_preface() {
    let mut bytes = Vec::new();
    encode_settings_ack(&mut bytes);
    encode_ping(true, [0, 1, 2, 3, 4, 5, 6, 7], &mut bytes);
    let o = run_stdin(&bytes);
    assert!(o.status.success(), "stderr: {}", stderr(&o));
    assert_eq!(
        stdout(&o),
        "SETTINGS flags=ACK stream=0 length=0\nPING flags=ACK stream=0 length=8 opaque=0001020304050607\n"
    );
}

#[test]
fn truncated_frame_fails_naming_the_offset_and_prints_nothing() {
    let full = client_stream();
    let o = run_file("truncated", &full[..full.len() - 1]);
    assert!(!o.status.success());
    assert!(o.stdout.is_empty(), "nothing printed on failure");
    let err = stderr(&o);
    let last_frame_at = full.len() - 11; // the 2-octet UNKNOWN frame
    assert!(
        err.contains(&format!("byte offset {last_frame_at}")),
        "{err}"
    );
    assert!(err.contains("truncated") && err.contains("§4.1"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn truncated_header_fails() {
    let o = run_file("truncated-header", &[0, 0, 8, 6]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("byte offset 0: truncated frame header: 4 of 9"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn frame_error_names_the_rule() {
    let mut bytes = Vec::new();
    encode_settings_ack(&mut bytes);
    bytes.extend_from_slice(&[0, 0, 4, 6, 0, 0, 0, 0, 0, 1, 2, 3, 4]); // PING of 4 octets
    let o = run_file("bad-ping", &bytes);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("byte offset 9: PING frame: FRAME_SIZE_ERROR connection error"),
        "{err}"
    );
    assert!(err.contains("§6.7"), "{err}");
}

#[test]
fn hpack_error_is_a_compression_error() {
    let mut bytes = Vec::new();
    Headers::new(StreamId(1), &[0x80u8][..], true).encode(&mut bytes); // index 0
    let o = run_file("bad-hpack", &bytes);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("byte offset 0") && err.contains("COMPRESSION_ERROR"),
        "{err}"
    );
}

#[test]
fn interleaved_field_block_is_refused() {
    let mut bytes = Vec::new();
    Headers {
        end_headers: false,
        ..Headers::new(StreamId(1), &[0x82u8][..], true)
    }
    .encode(&mut bytes);
    encode_ping(false, [0; 8], &mut bytes);
    let o = run_file("interleaved", &bytes);
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("byte offset 10: PING") && err.contains("§4.3"),
        "{err}"
    );
}
