//! `h2proto hpack inflate|deflate`: HPACK (RFC 7541) over the hpack-test-case JSON story format,
//! like nghttp2's `inflatehd` and `deflatehd`.
//!
//! A story is `{"cases": [{"seqno": 0, "wire": "<hex>", "header_table_size": 4096,
//! "headers": [{"name": "value"}, ...]}, ...]}`: a sequence of header blocks sharing one
//! compression context. The whole output is built before anything is written, so a bad case
//! leaves stdout empty and stderr with one line naming the case and the rule broken.

use h2proto::hpack::{Decoder, Encoder, FieldRef, Header, HeaderBlock};
use serde_json::{Map, Value};
use std::io::{Read, Write};

/// Decodes every case's `wire` on one decoder and prints the story with `headers` added.
///
/// A present, non-null `header_table_size` is the SETTINGS_HEADER_TABLE_SIZE the decoder
/// announced before that case: it becomes the decoder's limit (RFC 7541 §4.2).
pub fn inflate() -> Result<(), String> {
    let mut story = read_story()?;
    let mut decoder = Decoder::new();
    // One block reused for every case: the fields are only read, to print them.
    let mut headers = HeaderBlock::new();
    for_each_case(&mut story, |seqno, case| {
        if let Some(size) = table_size(seqno, case)? {
            decoder.set_max_table_size(size);
        }
        let wire = case
            .get("wire")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("case {seqno}: no \"wire\" string"))?;
        let wire = hex::decode(wire)
            .map_err(|e| format!("case {seqno}: \"wire\" is not valid hex: {e}"))?;
        decoder
            .decode_block(&wire, &mut headers)
            .map_err(|e| format!("case {seqno}: {e}"))?;
        let list = headers.iter().map(header_json).collect();
        case.insert("headers".into(), Value::Array(list));
        Ok(())
    })?;
    write_story(&story)
}

/// Encodes every case's `headers` on one encoder for a peer whose table size is `table_size`
/// and prints the story with `wire` (lower-case hex) and `header_table_size` added.
pub fn deflate(table_size: usize) -> Result<(), String> {
    let mut story = read_story()?;
    let mut encoder = Encoder::new();
    encoder.set_max_table_size(table_size);
    for_each_case(&mut story, |seqno, case| {
        let headers = parse_headers(seqno, case)?;
        let mut wire = Vec::new();
        encoder.encode(&headers, &mut wire);
        case.insert("wire".into(), Value::String(hex::encode(wire)));
        case.insert("header_table_size".into(), Value::from(table_size));
        Ok(())
    })?;
    write_story(&story)
}

fn read_story() -> Result<Value, String> {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| format!("cannot read stdin: {e}"))?;
    serde_json::from_str(&input).map_err(|e| format!("invalid JSON on stdin: {e}"))
}

fn write_story(story: &Value) -> Result<(), String> {
    let mut text =
        serde_json::to_string_pretty(story).map_err(|e| format!("cannot format JSON: {e}"))?;
    text.push('\n');
    std::io::stdout()
        .write_all(text.as_bytes())
        .map_err(|e| format!("cannot write stdout: {e}"))
}

/// Runs `f` on each case object in order with its seqno (its position if it has none).
fn for_each_case(
    story: &mut Value,
    mut f: impl FnMut(u64, &mut Map<String, Value>) -> Result<(), String>,
) -> Result<(), String> {
    let cases = story
        .get_mut("cases")
        .and_then(Value::as_array_mut)
        .ok_or("the story has no \"cases\" array")?;
    for (i, case) in cases.iter_mut().enumerate() {
        let seqno = case
            .get("seqno")
            .and_then(Value::as_u64)
            .unwrap_or(i as u64);
        let case = case
            .as_object_mut()
            .ok_or_else(|| format!("case {seqno}: not a JSON object"))?;
        f(seqno, case)?;
    }
    Ok(())
}

/// The case's `header_table_size`; absent or `null` means "unchanged".
fn table_size(seqno: u64, case: &Map<String, Value>) -> Result<Option<usize>, String> {
    match case.get("header_table_size") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(|n| Some(n as usize))
            .ok_or_else(|| format!("case {seqno}: \"header_table_size\" must be a 32-bit unsigned integer (RFC 9113 §6.5.2)")),
    }
}

/// The case's `headers`, each a single-key object `{"name": "value"}`.
fn parse_headers(seqno: u64, case: &Map<String, Value>) -> Result<Vec<Header>, String> {
    let list = case
        .get("headers")
        .and_then(Value::as_array)
        .ok_or_else(|| format!("case {seqno}: no \"headers\" array"))?;
    list.iter()
        .map(|h| {
            let field = h
                .as_object()
                .filter(|o| o.len() == 1)
                .and_then(|o| o.iter().next());
            match field {
                Some((name, Value::String(value))) => Ok(Header::new(name.clone(), value.clone())),
                _ => Err(format!(
                    "case {seqno}: each header must be {{\"name\": \"value\"}}, got {h}"
                )),
            }
        })
        .collect()
}

fn header_json(h: FieldRef<'_>) -> Value {
    let mut field = Map::new();
    field.insert(
        String::from_utf8_lossy(h.name).into_owned(),
        Value::String(String::from_utf8_lossy(h.value).into_owned()),
    );
    Value::Object(field)
}
