//! Property tests: whatever the header lists and table resizes, what our encoder writes our
//! decoder reads back exactly, with both tables in sync; and arbitrary bytes never panic the
//! decoder.

use bytes::Bytes;
use h2proto::hpack::{huffman, Decoder, Encoder, Header, HeaderBlock};
use proptest::prelude::*;

fn header() -> impl Strategy<Value = Header> {
    let name = prop_oneof![
        // Names from the static table, to exercise name and full matches.
        prop::sample::select(vec![
            ":method",
            ":path",
            ":status",
            "accept-encoding",
            "cookie",
            "authorization"
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        // A few repeated custom names, to exercise the dynamic table.
        prop::sample::select(vec!["x-a", "x-b", "x-c"]).prop_map(|s| s.as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 0..20),
    ];
    let value = prop_oneof![
        prop::sample::select(vec!["GET", "/", "200", "gzip, deflate", "v1", "v2"])
            .prop_map(|s| s.as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 0..64),
        prop::collection::vec(any::<u8>(), 0..3000),
    ];
    (name, value, any::<bool>()).prop_map(|(n, v, s)| Header {
        name: n.into(),
        value: v.into(),
        sensitive: s,
    })
}

#[derive(Debug, Clone)]
struct Block {
    /// Table sizes the peer's decoder announces before this block (0, 1 or 2 changes).
    resizes: Vec<usize>,
    headers: Vec<Header>,
}

fn block() -> impl Strategy<Value = Block> {
    (
        prop::collection::vec(prop_oneof![Just(0usize), Just(64), 0usize..5000], 0..3),
        prop::collection::vec(header(), 0..12),
    )
        .prop_map(|(resizes, headers)| Block { resizes, headers })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn encoder_output_decodes_to_the_same_list(blocks in prop::collection::vec(block(), 1..8)) {
        let mut enc = Encoder::new();
        let mut dec = Decoder::new();
        for b in &blocks {
            for &size in &b.resizes {
                enc.set_max_table_size(size);
            }
            if let Some(&last) = b.resizes.last() {
                dec.set_max_table_size(last);
            }
            let mut wire = Vec::new();
            enc.encode(&b.headers, &mut wire);
            let mut out = Vec::new();
            dec.decode(&Bytes::from(wire), &mut out).unwrap();
            let got: Vec<_> = out.iter().map(|h| (&h.name, &h.value)).collect();
            let want: Vec<_> = b.headers.iter().map(|h| (&h.name, &h.value)).collect();
            prop_assert_eq!(got, want);
            for (o, h) in out.iter().zip(&b.headers) {
                if h.sensitive {
                    prop_assert!(o.sensitive, "a sensitive field must arrive never-indexed");
                }
            }
            prop_assert_eq!(dec.table_size(), enc.table_size());
            prop_assert!(enc.table_entries().eq(dec.table_entries()));
        }
    }

    #[test]
    fn huffman_round_trips(s in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut wire = Vec::new();
        huffman::encode(&s, &mut wire);
        prop_assert_eq!(wire.len(), huffman::encoded_len(&s));
        let mut back = Vec::new();
        huffman::decode(&wire, &mut back).unwrap();
        prop_assert_eq!(back, s);
    }

    #[test]
    fn arbitrary_bytes_never_panic_and_errors_append_nothing(
        blocks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 1..4),
    ) {
        let mut dec = Decoder::new();
        dec.set_max_header_list_size(1024);
        // The lower-level API must agree on every outcome, fields, errors and table alike.
        let mut block_dec = Decoder::new();
        block_dec.set_max_header_list_size(1024);
        let mut block = HeaderBlock::new();
        for b in blocks {
            let mut out = Vec::new();
            let result = dec.decode(&Bytes::from(b.clone()), &mut out);
            if result.is_err() {
                prop_assert!(out.is_empty());
            }
            prop_assert!(dec.table_size() <= 4096);
            prop_assert_eq!(block_dec.decode_block(&b, &mut block), result);
            let mut converted = Vec::new();
            block.to_headers(&mut converted);
            prop_assert_eq!(converted, out);
            prop_assert!(block_dec.table_entries().eq(dec.table_entries()));
        }
    }
}
