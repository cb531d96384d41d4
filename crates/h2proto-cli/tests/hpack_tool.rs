//! `h2proto hpack inflate|deflate` run as a process on hpack-test-case stories and bad input.

use std::io::Write;
use std::process::{Command, Stdio};

const STORIES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/hpack-test-case"
);

fn story(path: &str) -> String {
    let full = format!("{STORIES}/{path}");
    std::fs::read_to_string(&full)
        .unwrap_or_else(|e| panic!("hpack-test-case fixture MISSING: {full}: {e}"))
}

/// Runs `h2proto <args>` with `input` on stdin; returns (success, stdout, stderr).
fn run(args: &[&str], input: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_h2proto"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn h2proto");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap()
}

#[test]
fn inflate_reproduces_the_expected_headers_of_a_story() {
    for path in [
        "nghttp2/story_00.json",
        "nghttp2-change-table-size/story_05.json",
        "swift-nio-hpack-huffman/story_10.json",
    ] {
        let input = story(path);
        let (ok, stdout, stderr) = run(&["hpack", "inflate"], &input);
        assert!(ok, "{path}: {stderr}");
        // The input already carries the expected headers: inflating must give back the same.
        assert_eq!(json(&stdout), json(&input), "{path}");
    }
}

#[test]
fn deflate_then_inflate_round_trips_a_raw_story() {
    let input = story("raw-data/story_20.json");
    for size in ["4096", "256", "0"] {
        let (ok, deflated, stderr) = run(&["hpack", "deflate", "--table-size", size], &input);
        assert!(ok, "{stderr}");
        let d = json(&deflated);
        for case in d["cases"].as_array().unwrap() {
            let wire = case["wire"].as_str().unwrap();
            assert_eq!(wire, wire.to_lowercase());
            assert_eq!(case["header_table_size"].to_string(), size);
        }
        let (ok, inflated, stderr) = run(&["hpack", "inflate"], &deflated);
        assert!(ok, "{stderr}");
        assert_eq!(json(&inflated)["cases"], d["cases"]);
        assert_eq!(
            json(&inflated)["cases"].as_array().unwrap().len(),
            json(&input)["cases"].as_array().unwrap().len()
        );
    }
}

#[test]
fn bad_json_fails_with_one_line_and_no_output() {
    let (ok, stdout, stderr) = run(&["hpack", "inflate"], "{not json");
    assert!(!ok);
    assert!(stdout.is_empty());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("invalid JSON"), "{stderr}");
}

#[test]
fn bad_hex_names_the_case() {
    let input = r#"{"cases":[{"seqno":0,"wire":"82"},{"seqno":1,"wire":"8zz"}]}"#;
    let (ok, stdout, stderr) = run(&["hpack", "inflate"], input);
    assert!(!ok);
    assert!(stdout.is_empty(), "nothing half-done on stdout");
    assert!(
        stderr.contains("case 1") && stderr.contains("hex"),
        "{stderr}"
    );
}

#[test]
fn an_hpack_error_names_the_case_and_the_rule() {
    let input = r#"{"cases":[{"seqno":0,"wire":"82"},{"seqno":7,"wire":"80"}]}"#;
    let (ok, stdout, stderr) = run(&["hpack", "inflate"], input);
    assert!(!ok);
    assert!(stdout.is_empty());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("case 7") && stderr.contains("§6.1"),
        "{stderr}"
    );
}

#[test]
fn a_size_update_above_the_announced_table_size_is_refused() {
    // header_table_size 256, then an update to 4096 (3f e1 1f).
    let input = r#"{"cases":[{"seqno":0,"header_table_size":256,"wire":"3fe11f82"}]}"#;
    let (ok, _, stderr) = run(&["hpack", "inflate"], input);
    assert!(!ok);
    assert!(
        stderr.contains("case 0") && stderr.contains("§6.3"),
        "{stderr}"
    );
}

#[test]
fn deflate_rejects_malformed_headers() {
    let (ok, stdout, stderr) = run(
        &["hpack", "deflate"],
        r#"{"cases":[{"headers":[{"a":1}]}]}"#,
    );
    assert!(!ok);
    assert!(stdout.is_empty());
    assert!(stderr.contains("case 0"), "{stderr}");
}
