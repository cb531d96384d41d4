//! The hpack-test-case stories (github.com/http2jp/hpack-test-case): every story of every
//! encoder decoded by one decoder per story, and the raw header sets round-tripped through
//! our encoder and a fresh decoder at several table sizes.

use bytes::Bytes;
use h2proto::hpack::{Decoder, Encoder, Header, HeaderBlock};
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};

const ROOT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/hpack-test-case"
);

fn root() -> &'static Path {
    let root = Path::new(ROOT);
    assert!(
        root.join("raw-data").is_dir(),
        "hpack-test-case fixtures are MISSING at {ROOT}: these tests cannot run without them"
    );
    root
}

fn stories(folder: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(folder)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", folder.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no stories in {}", folder.display());
    files
}

fn load(path: &Path) -> Value {
    let text = fs::read_to_string(path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A case's `headers` as (name, value) byte pairs, in order.
fn expected_headers(case: &Value) -> Vec<(Vec<u8>, Vec<u8>)> {
    case["headers"]
        .as_array()
        .expect("headers")
        .iter()
        .map(|h| {
            let (name, value) = h.as_object().unwrap().iter().next().unwrap();
            (
                name.as_bytes().to_vec(),
                value.as_str().unwrap().as_bytes().to_vec(),
            )
        })
        .collect()
}

fn pairs(headers: &[Header]) -> Vec<(Vec<u8>, Vec<u8>)> {
    headers
        .iter()
        .map(|h| (h.name.to_vec(), h.value.to_vec()))
        .collect()
}

fn decode_story(path: &Path) -> usize {
    let story = load(path);
    let mut decoder = Decoder::new();
    // The same story through the lower-level API, into one reused block.
    let mut block_decoder = Decoder::new();
    let mut block = HeaderBlock::new();
    let cases = story["cases"].as_array().unwrap();
    for (i, case) in cases.iter().enumerate() {
        // `null` (swift-nio sets) means absent: keep the previous limit.
        if let Some(size) = case.get("header_table_size").and_then(Value::as_u64) {
            decoder.set_max_table_size(size as usize);
            block_decoder.set_max_table_size(size as usize);
        }
        let wire = Bytes::from(hex::decode(case["wire"].as_str().unwrap()).unwrap());
        let mut out = Vec::new();
        decoder
            .decode(&wire, &mut out)
            .unwrap_or_else(|e| panic!("{} case {i}: {e}", path.display()));
        assert_eq!(
            pairs(&out),
            expected_headers(case),
            "{} case {i}",
            path.display()
        );
        block_decoder
            .decode_block(&wire, &mut block)
            .unwrap_or_else(|e| panic!("{} case {i} (decode_block): {e}", path.display()));
        let got: Vec<_> = block
            .iter()
            .map(|f| (f.name.to_vec(), f.value.to_vec()))
            .collect();
        assert_eq!(
            got,
            pairs(&out),
            "{} case {i} (decode_block)",
            path.display()
        );
        assert_eq!(
            block.list_size(),
            out.iter().map(Header::size).sum::<usize>()
        );
    }
    cases.len()
}

#[test]
fn every_story_of_every_encoder_decodes_exactly() {
    let root = root();
    let mut folders: Vec<PathBuf> = fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() && !p.ends_with("raw-data"))
        .collect();
    folders.sort();
    assert!(
        folders.len() >= 9,
        "expected the 9 encoder folders, found {}",
        folders.len()
    );
    let mut blocks = 0;
    for folder in &folders {
        for story in stories(folder) {
            blocks += decode_story(&story);
        }
    }
    assert!(blocks > 25_000, "only {blocks} blocks decoded");
}

fn raw_stories() -> Vec<Vec<Vec<Header>>> {
    stories(&root().join("raw-data"))
        .iter()
        .map(|path| {
            load(path)["cases"]
                .as_array()
                .unwrap()
                .iter()
                .map(|case| {
                    expected_headers(case)
                        .into_iter()
                        .map(|(n, v)| Header::new(n, v))
                        .collect()
                })
                .collect()
        })
        .collect()
}

/// `Decoder::decode` hands out slices of the buffer it goes on decoding into: every header of
/// a story, kept until the story ends, must still read as decoded.
#[test]
fn decoded_headers_stay_intact_while_the_decoder_goes_on() {
    for story in raw_stories() {
        let mut encoder = Encoder::new();
        let mut decoder = Decoder::new();
        let mut kept = Vec::new();
        for headers in &story {
            let mut wire = Vec::new();
            encoder.encode(headers, &mut wire);
            let mut out = Vec::new();
            decoder.decode(&Bytes::from(wire), &mut out).unwrap();
            kept.push(out);
        }
        for (got, want) in kept.iter().zip(&story) {
            assert_eq!(pairs(got), pairs(want));
        }
    }
}

/// Encodes each story with one encoder and decodes it with a fresh decoder whose limit is
/// the same `table_size` (the decoder advertised it, the encoder learnt it from SETTINGS).
fn round_trip(table_size: usize) -> (usize, usize) {
    let (mut raw_len, mut wire_len) = (0, 0);
    for story in raw_stories() {
        let mut encoder = Encoder::new();
        encoder.set_max_table_size(table_size);
        let mut decoder = Decoder::new();
        decoder.set_max_table_size(table_size);
        for (i, headers) in story.iter().enumerate() {
            let mut wire = Vec::new();
            encoder.encode(headers, &mut wire);
            let mut out = Vec::new();
            decoder
                .decode(&Bytes::from(wire.clone()), &mut out)
                .unwrap_or_else(|e| panic!("table {table_size} case {i}: {e}"));
            assert_eq!(pairs(&out), pairs(headers), "table {table_size} case {i}");
            assert_eq!(decoder.table_size(), encoder.table_size(), "tables in sync");
            assert!(decoder.table_size() <= table_size);
            raw_len += headers
                .iter()
                .map(|h| h.name.len() + h.value.len())
                .sum::<usize>();
            wire_len += wire.len();
        }
    }
    (raw_len, wire_len)
}

#[test]
fn raw_data_round_trips_with_table_size_0() {
    let (raw, wire) = round_trip(0);
    assert!(wire < raw, "Huffman alone must compress: {wire} >= {raw}");
}

#[test]
fn raw_data_round_trips_with_table_size_256() {
    round_trip(256);
}

#[test]
fn raw_data_round_trips_with_table_size_4096() {
    let (raw, wire) = round_trip(4096);
    assert!(
        wire * 3 < raw,
        "a 4096 table should compress at least 3x: {wire} vs {raw}"
    );
}

#[test]
fn raw_data_round_trips_while_the_table_size_changes_between_blocks() {
    // As in the nghttp2-change-table-size set: shrink and grow between blocks, sometimes twice
    // before one block, which needs two size updates (§4.2).
    for story in raw_stories() {
        let mut encoder = Encoder::new();
        let mut decoder = Decoder::new();
        for (i, headers) in story.iter().enumerate() {
            let sizes: &[usize] = match i % 4 {
                0 => &[1365],
                1 => &[2730],
                2 => &[0, 4096],
                _ => &[],
            };
            for &s in sizes {
                encoder.set_max_table_size(s);
            }
            if let Some(&last) = sizes.last() {
                decoder.set_max_table_size(last);
            }
            let mut wire = Vec::new();
            encoder.encode(headers, &mut wire);
            let mut out = Vec::new();
            decoder
                .decode(&Bytes::from(wire), &mut out)
                .unwrap_or_else(|e| panic!("case {i}: {e}"));
            assert_eq!(pairs(&out), pairs(headers), "case {i}");
        }
    }
}
