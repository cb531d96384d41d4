//! RFC 7541 Appendix C: every example, byte for byte, with the dynamic table after each block.
//!
//! Each example is checked in both directions: our decoder must turn the RFC's bytes into the
//! RFC's header list and table, and our encoder, given the same list and settings, must produce
//! the RFC's exact bytes (the RFC's encoder indexes every field, as ours does for fields of
//! this size). C.1 (integers) is covered by the unit tests of `hpack::integer`.

use bytes::Bytes;
use h2proto::hpack::{integer, Decoder, Encoder, Header};

struct Example {
    wire: &'static str,
    headers: &'static [(&'static str, &'static str)],
    table: &'static [(&'static str, &'static str)],
    table_size: usize,
}

/// RFC 7541 Appendix C.2.1.
const C_2_1: Example = Example {
    wire: "400a637573746f6d2d6b65790d637573746f6d2d686561646572",
    headers: &[("custom-key", "custom-header")],
    table: &[("custom-key", "custom-header")],
    table_size: 55,
};

/// RFC 7541 Appendix C.2.2.
const C_2_2: Example = Example {
    wire: "040c2f73616d706c652f70617468",
    headers: &[(":path", "/sample/path")],
    table: &[],
    table_size: 0,
};

/// RFC 7541 Appendix C.2.3.
const C_2_3: Example = Example {
    wire: "100870617373776f726406736563726574",
    headers: &[("password", "secret")],
    table: &[],
    table_size: 0,
};

/// RFC 7541 Appendix C.2.4.
const C_2_4: Example = Example {
    wire: "82",
    headers: &[(":method", "GET")],
    table: &[],
    table_size: 0,
};

/// RFC 7541 Appendix C.3.1.
const C_3_1: Example = Example {
    wire: "828684410f7777772e6578616d706c652e636f6d",
    headers: &[
        (":method", "GET"),
        (":scheme", "http"),
        (":path", "/"),
        (":authority", "www.example.com"),
    ],
    table: &[(":authority", "www.example.com")],
    table_size: 57,
};

/// RFC 7541 Appendix C.3.2.
const C_3_2: Example = Example {
    wire: "828684be58086e6f2d6361636865",
    headers: &[
        (":method", "GET"),
        (":scheme", "http"),
        (":path", "/"),
        (":authority", "www.example.com"),
        ("cache-control", "no-cache"),
    ],
    table: &[
        ("cache-control", "no-cache"),
        (":authority", "www.example.com"),
    ],
    table_size: 110,
};

/// RFC 7541 Appendix C.3.3.
const C_3_3: Example = Example {
    wire: "828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565",
    headers: &[
        (":method", "GET"),
        (":scheme", "https"),
        (":path", "/index.html"),
        (":authority", "www.example.com"),
        ("custom-key", "custom-value"),
    ],
    table: &[
        ("custom-key", "custom-value"),
        ("cache-control", "no-cache"),
        (":authority", "www.example.com"),
    ],
    table_size: 164,
};

/// RFC 7541 Appendix C.4.1.
const C_4_1: Example = Example {
    wire: "828684418cf1e3c2e5f23a6ba0ab90f4ff",
    headers: &[
        (":method", "GET"),
        (":scheme", "http"),
        (":path", "/"),
        (":authority", "www.example.com"),
    ],
    table: &[(":authority", "www.example.com")],
    table_size: 57,
};

/// RFC 7541 Appendix C.4.2.
const C_4_2: Example = Example {
    wire: "828684be5886a8eb10649cbf",
    headers: &[
        (":method", "GET"),
        (":scheme", "http"),
        (":path", "/"),
        (":authority", "www.example.com"),
        ("cache-control", "no-cache"),
    ],
    table: &[
        ("cache-control", "no-cache"),
        (":authority", "www.example.com"),
    ],
    table_size: 110,
};

/// RFC 7541 Appendix C.4.3.
const C_4_3: Example = Example {
    wire: "828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf",
    headers: &[
        (":method", "GET"),
        (":scheme", "https"),
        (":path", "/index.html"),
        (":authority", "www.example.com"),
        ("custom-key", "custom-value"),
    ],
    table: &[
        ("custom-key", "custom-value"),
        ("cache-control", "no-cache"),
        (":authority", "www.example.com"),
    ],
    table_size: 164,
};

/// RFC 7541 Appendix C.5.1.
const C_5_1: Example = Example {
    wire: "4803333032580770726976617465611d4d6f6e2c203231204f637420323031332032303a31333a323120474d546e1768747470733a2f2f7777772e6578616d706c652e636f6d",
    headers: &[(":status", "302"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("location", "https://www.example.com")],
    table: &[("location", "https://www.example.com"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("cache-control", "private"), (":status", "302")],
    table_size: 222,
};

/// RFC 7541 Appendix C.5.2.
const C_5_2: Example = Example {
    wire: "4803333037c1c0bf",
    headers: &[
        (":status", "307"),
        ("cache-control", "private"),
        ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
        ("location", "https://www.example.com"),
    ],
    table: &[
        (":status", "307"),
        ("location", "https://www.example.com"),
        ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
        ("cache-control", "private"),
    ],
    table_size: 222,
};

/// RFC 7541 Appendix C.5.3.
const C_5_3: Example = Example {
    wire: "88c1611d4d6f6e2c203231204f637420323031332032303a31333a323220474d54c05a04677a69707738666f6f3d4153444a4b48514b425a584f5157454f50495541585157454f49553b206d61782d6167653d333630303b2076657273696f6e3d31",
    headers: &[(":status", "200"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:22 GMT"), ("location", "https://www.example.com"), ("content-encoding", "gzip"), ("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1")],
    table: &[("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"), ("content-encoding", "gzip"), ("date", "Mon, 21 Oct 2013 20:13:22 GMT")],
    table_size: 215,
};

/// RFC 7541 Appendix C.6.1.
const C_6_1: Example = Example {
    wire: "488264025885aec3771a4b6196d07abe941054d444a8200595040b8166e082a62d1bff6e919d29ad171863c78f0b97c8e9ae82ae43d3",
    headers: &[(":status", "302"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("location", "https://www.example.com")],
    table: &[("location", "https://www.example.com"), ("date", "Mon, 21 Oct 2013 20:13:21 GMT"), ("cache-control", "private"), (":status", "302")],
    table_size: 222,
};

/// RFC 7541 Appendix C.6.2.
const C_6_2: Example = Example {
    wire: "4883640effc1c0bf",
    headers: &[
        (":status", "307"),
        ("cache-control", "private"),
        ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
        ("location", "https://www.example.com"),
    ],
    table: &[
        (":status", "307"),
        ("location", "https://www.example.com"),
        ("date", "Mon, 21 Oct 2013 20:13:21 GMT"),
        ("cache-control", "private"),
    ],
    table_size: 222,
};

/// RFC 7541 Appendix C.6.3.
const C_6_3: Example = Example {
    wire: "88c16196d07abe941054d444a8200595040b8166e084a62d1bffc05a839bd9ab77ad94e7821dd7f2e6c7b335dfdfcd5b3960d5af27087f3672c1ab270fb5291f9587316065c003ed4ee5b1063d5007",
    headers: &[(":status", "200"), ("cache-control", "private"), ("date", "Mon, 21 Oct 2013 20:13:22 GMT"), ("location", "https://www.example.com"), ("content-encoding", "gzip"), ("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1")],
    table: &[("set-cookie", "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1"), ("content-encoding", "gzip"), ("date", "Mon, 21 Oct 2013 20:13:22 GMT")],
    table_size: 215,
};
fn as_pairs(headers: &[Header]) -> Vec<(&[u8], &[u8])> {
    headers
        .iter()
        .map(|h| (&h.name[..], &h.value[..]))
        .collect()
}

fn expected(list: &[(&'static str, &'static str)]) -> Vec<(&'static [u8], &'static [u8])> {
    list.iter()
        .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
        .collect()
}

/// Decodes the examples in order on one decoder, checking list and table after each.
fn decode_sequence(mut decoder: Decoder, examples: &[&Example]) {
    for (i, ex) in examples.iter().enumerate() {
        let wire = Bytes::from(hex::decode(ex.wire).unwrap());
        let mut out = Vec::new();
        decoder
            .decode(&wire, &mut out)
            .unwrap_or_else(|e| panic!("block {i}: {e}"));
        assert_eq!(
            as_pairs(&out),
            expected(ex.headers),
            "block {i}: header list"
        );
        let table: Vec<_> = decoder.table_entries().collect();
        assert_eq!(table, expected(ex.table), "block {i}: dynamic table");
        assert_eq!(decoder.table_size(), ex.table_size, "block {i}: table size");
    }
}

/// Encodes the examples in order on one encoder, checking bytes and table after each.
fn encode_sequence(encoder: Encoder, examples: &[&Example]) {
    encode_sequence_except(encoder, examples, &[]);
}

/// As `encode_sequence`, where `ours` gives our bytes for the blocks on which our encoder
/// legitimately chooses differently from the RFC's.
fn encode_sequence_except(mut encoder: Encoder, examples: &[&Example], ours: &[(usize, &str)]) {
    for (i, ex) in examples.iter().enumerate() {
        let headers: Vec<Header> = ex
            .headers
            .iter()
            .map(|(n, v)| Header::new(*n, *v))
            .collect();
        let mut wire = Vec::new();
        encoder.encode(&headers, &mut wire);
        let want = ours
            .iter()
            .find(|(j, _)| *j == i)
            .map_or(ex.wire, |(_, w)| *w);
        assert_eq!(hex::encode(&wire), want, "block {i}: encoded bytes");

        let table: Vec<_> = encoder.table_entries().collect();
        assert_eq!(table, expected(ex.table), "block {i}: dynamic table");
        assert_eq!(encoder.table_size(), ex.table_size, "block {i}: table size");
    }
}

#[test]
fn c_1_integer_representation() {
    let mut out = Vec::new();
    integer::encode_integer(10, 5, 0, &mut out);
    assert_eq!(out, [0x0a], "C.1.1");
    out.clear();
    integer::encode_integer(1337, 5, 0, &mut out);
    assert_eq!(out, [0x1f, 0x9a, 0x0a], "C.1.2");
    out.clear();
    integer::encode_integer(42, 8, 0, &mut out);
    assert_eq!(out, [0x2a], "C.1.3");
    let mut pos = 0;
    assert_eq!(
        integer::decode_integer(&[0x1f, 0x9a, 0x0a], &mut pos, 5),
        Ok(1337)
    );
}

#[test]
fn c_2_1_literal_header_field_with_indexing() {
    decode_sequence(Decoder::new(), &[&C_2_1]);
}

#[test]
fn c_2_2_literal_header_field_without_indexing() {
    decode_sequence(Decoder::new(), &[&C_2_2]);
}

#[test]
fn c_2_3_literal_header_field_never_indexed() {
    decode_sequence(Decoder::new(), &[&C_2_3]);
    let mut out = Vec::new();
    Decoder::new()
        .decode(&Bytes::from(hex::decode(C_2_3.wire).unwrap()), &mut out)
        .unwrap();
    assert!(
        out[0].sensitive,
        "a never-indexed field stays marked (§7.1.3)"
    );
    // And our encoder produces exactly this for a field marked sensitive.
    let mut wire = Vec::new();
    let mut enc = Encoder::new();
    enc.set_use_huffman(false);
    enc.encode(&[Header::sensitive("password", "secret")], &mut wire);
    assert_eq!(hex::encode(wire), C_2_3.wire);
}

#[test]
fn c_2_4_indexed_header_field() {
    decode_sequence(Decoder::new(), &[&C_2_4]);
    let mut wire = Vec::new();
    Encoder::new().encode(&[Header::new(":method", "GET")], &mut wire);
    assert_eq!(hex::encode(wire), C_2_4.wire);
}

#[test]
fn c_3_requests_without_huffman_decode() {
    decode_sequence(Decoder::new(), &[&C_3_1, &C_3_2, &C_3_3]);
}

#[test]
fn c_3_requests_without_huffman_encode() {
    let mut enc = Encoder::new();
    enc.set_use_huffman(false);
    encode_sequence(enc, &[&C_3_1, &C_3_2, &C_3_3]);
}

#[test]
fn c_4_requests_with_huffman_decode() {
    decode_sequence(Decoder::new(), &[&C_4_1, &C_4_2, &C_4_3]);
}

#[test]
fn c_4_requests_with_huffman_encode() {
    encode_sequence(Encoder::new(), &[&C_4_1, &C_4_2, &C_4_3]);
}

#[test]
fn c_5_responses_without_huffman_with_eviction_at_256_decode() {
    decode_sequence(Decoder::with_max_table_size(256), &[&C_5_1, &C_5_2, &C_5_3]);
}

#[test]
fn c_5_responses_without_huffman_with_eviction_at_256_encode() {
    let mut enc = Encoder::with_max_table_size(256);
    enc.set_use_huffman(false);
    encode_sequence(enc, &[&C_5_1, &C_5_2, &C_5_3]);
}

#[test]
fn c_6_responses_with_huffman_with_eviction_at_256_decode() {
    decode_sequence(Decoder::with_max_table_size(256), &[&C_6_1, &C_6_2, &C_6_3]);
}

#[test]
fn c_6_responses_with_huffman_with_eviction_at_256_encode() {
    // C.6.2: "307" is 3 octets either way; the RFC's encoder chose Huffman (83 640eff), ours
    // sends Huffman only when strictly shorter (03 333037), which is cheaper to decode. The
    // table afterwards is the same, so C.6.3 must again match byte for byte.
    let c_6_2_ours = "4803333037c1c0bf";
    encode_sequence_except(
        Encoder::with_max_table_size(256),
        &[&C_6_1, &C_6_2, &C_6_3],
        &[(1, c_6_2_ours)],
    );
}
