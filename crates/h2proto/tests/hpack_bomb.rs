//! The HPACK bomb (CVE-2016-6581, SECURITY.md): one 4 KiB table entry, then a block of 16 Ki
//! one-octet references to it, which would decode to 64 MiB. The decoder must enforce the
//! header-list limit while decoding, keep memory bounded, and keep the table in sync.
//!
//! Alone in its test binary because it counts the allocations of the whole process.

use bytes::Bytes;
use h2proto::hpack::{Decoder, DecoderError, Header};

#[path = "common/counting_alloc.rs"]
mod counting_alloc;

#[global_allocator]
static ALLOC: counting_alloc::Counting = counting_alloc::Counting;

#[test]
fn a_16k_reference_bomb_is_refused_with_bounded_memory_and_the_table_in_sync() {
    let mut decoder = Decoder::new();
    decoder.set_max_header_list_size(16 * 1024);

    // Block 1: "x-bomb: <4000 octets>", literal with incremental indexing (§6.2.1).
    let mut first = vec![0x40, 0x06];
    first.extend_from_slice(b"x-bomb");
    first.extend_from_slice(&[0x7f, 0xa1, 0x1e]); // 127 + 3873 = 4000
    first.extend_from_slice(&[b'A'; 4000]);
    let mut out = Vec::new();
    decoder.decode(&Bytes::from(first), &mut out).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(decoder.table_size(), 6 + 4000 + 32);

    // Block 2: 16384 references to index 62 (0xbe).
    let bomb = Bytes::from(vec![0xbe; 16 * 1024]);
    let mut out: Vec<Header> = Vec::with_capacity(8);
    let before = counting_alloc::start();
    let err = decoder.decode(&bomb, &mut out).unwrap_err();
    let grew = counting_alloc::peak_above(before);
    assert_eq!(err, DecoderError::HeaderListTooLarge);
    assert!(out.is_empty(), "nothing is kept");
    assert!(grew < 64 * 1024, "decoding the bomb allocated {grew} bytes");

    // Block 3: the table is still in sync: index 62 is still the 4000-octet entry.
    let mut out = Vec::new();
    decoder
        .decode(&Bytes::from_static(&[0xbe, 0x82]), &mut out)
        .unwrap();
    assert_eq!(out[0].name, "x-bomb");
    assert_eq!(out[0].value.len(), 4000);
    assert_eq!(out[1], Header::new(":method", "GET"));
}
