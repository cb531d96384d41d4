//! Malformed header blocks: each is a decoding error (RFC 7541 §3.2) and, in HTTP/2, a
//! connection error of type COMPRESSION_ERROR (RFC 9113 §4.3).

use bytes::Bytes;
use h2proto::hpack::{Decoder, DecoderError, Header};
use h2proto::{ErrorCode, Scope, StreamId};

/// Decodes `block` on `decoder`, checking that a failed decode appends nothing.
fn decode_on(decoder: &mut Decoder, block: &[u8]) -> Result<Vec<Header>, DecoderError> {
    let mut out = vec![Header::new("before", "untouched")];
    let result = decoder.decode(&Bytes::copy_from_slice(block), &mut out);
    if result.is_err() {
        assert_eq!(
            out,
            [Header::new("before", "untouched")],
            "an error appends nothing"
        );
    }
    result.map(|()| out.split_off(1))
}

/// Asserts that `block` fails on a fresh decoder with `want`, a COMPRESSION_ERROR.
fn rejects(block: &[u8], want: DecoderError) {
    let got = decode_on(&mut Decoder::new(), block).unwrap_err();
    assert_eq!(got, want, "block {block:02x?}");
    assert_eq!(got.code(), ErrorCode::COMPRESSION_ERROR);
    assert!(got.is_connection_error());
    assert_eq!(got.to_protocol_error(StreamId(1)).scope, Scope::Connection);
}

#[test]
fn an_integer_above_u32_is_an_overflow() {
    // Indexed field, 7-bit prefix full, continuation worth far more than 2^32.
    rejects(
        &[0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
        DecoderError::IntegerOverflow,
    );
}

#[test]
fn an_integer_with_too_many_continuation_octets_is_an_overflow() {
    rejects(
        &[0xff, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00],
        DecoderError::IntegerOverflow,
    );
}

#[test]
fn a_string_length_above_u32_is_an_overflow() {
    rejects(
        &[0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0x7f],
        DecoderError::IntegerOverflow,
    );
}

#[test]
fn eos_inside_a_huffman_string_is_an_error() {
    // Literal without indexing, new name: Huffman, 4 octets of ones = EOS (30 ones) + 2.
    rejects(
        &[0x00, 0x84, 0xff, 0xff, 0xff, 0xff, 0x00],
        DecoderError::HuffmanEos,
    );
}

#[test]
fn huffman_padding_that_is_not_ones_is_an_error() {
    // '0' is 00000; the 3 padding bits are 000.
    rejects(&[0x00, 0x81, 0x00, 0x00], DecoderError::HuffmanPadding);
}

#[test]
fn huffman_padding_longer_than_7_bits_is_an_error() {
    // '0' then 11 bits of ones.
    rejects(
        &[0x00, 0x82, 0x07, 0xff, 0x00],
        DecoderError::HuffmanPaddingTooLong,
    );
}

#[test]
fn a_size_update_above_our_limit_is_an_error() {
    // 001 11111 + 4097 - 31 = 4066 = 0x62 + 0x1f * 128 -> e2 1f.
    rejects(&[0x3f, 0xe2, 0x1f], DecoderError::TableSizeUpdateTooLarge);
    let mut d = Decoder::new();
    d.set_max_table_size(100);
    assert_eq!(
        decode_on(&mut d, &[0x3f, 0x46]),
        Err(DecoderError::TableSizeUpdateTooLarge)
    );
}

#[test]
fn a_size_up_to_our_limit_is_accepted() {
    let mut d = Decoder::new();
    assert_eq!(
        decode_on(&mut d, &[0x3f, 0xe1, 0x1f, 0x82]).unwrap().len(),
        1
    ); // 4096
    assert_eq!(d.table_max_size(), 4096);
}

#[test]
fn a_size_update_after_a_field_is_an_error() {
    rejects(&[0x82, 0x20], DecoderError::TableSizeUpdateAfterField);
}

#[test]
fn two_size_updates_at_the_start_are_fine() {
    let mut d = Decoder::new();
    assert_eq!(
        decode_on(&mut d, &[0x20, 0x3f, 0xe1, 0x1f, 0x82])
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn after_we_lower_the_limit_the_next_block_must_start_with_a_size_update() {
    let mut d = Decoder::new();
    d.set_max_table_size(1024);
    assert_eq!(
        decode_on(&mut d, &[0x82]),
        Err(DecoderError::TableSizeUpdateMissing)
    );
    let mut d = Decoder::new();
    d.set_max_table_size(1024);
    assert!(decode_on(&mut d, &[0x3f, 0xe1, 0x07, 0x82]).is_ok()); // 1024
    assert!(decode_on(&mut d, &[0x82]).is_ok(), "required once only");
}

#[test]
fn index_0_is_an_error() {
    rejects(&[0x80], DecoderError::IndexZero);
}

#[test]
fn an_index_beyond_the_tables_is_an_error() {
    rejects(&[0xbe], DecoderError::IndexOutOfRange); // 62 on an empty table
    rejects(&[0x7f, 0x00, 0x01, b'v'], DecoderError::IndexOutOfRange); // name index 63
    let mut d = Decoder::new();
    // One entry (index 62) makes 62 valid and 63 not.
    decode_on(&mut d, &[0x40, 0x01, b'a', 0x01, b'b']).unwrap();
    assert_eq!(decode_on(&mut d, &[0xbe]).unwrap(), [Header::new("a", "b")]);
    assert_eq!(
        decode_on(&mut d, &[0xbf]),
        Err(DecoderError::IndexOutOfRange)
    );
}

#[test]
fn a_truncated_string_is_an_error() {
    rejects(&[0x00, 0x05, b'a', b'b'], DecoderError::Truncated);
    rejects(&[0x00, 0x01, b'a'], DecoderError::Truncated); // value missing
    rejects(&[0x04], DecoderError::Truncated); // name index, value missing
}

#[test]
fn a_truncated_integer_is_an_error() {
    rejects(&[0xff], DecoderError::Truncated);
    rejects(&[0xff, 0x80], DecoderError::Truncated);
}

#[test]
fn an_empty_block_is_an_empty_list() {
    assert_eq!(decode_on(&mut Decoder::new(), &[]).unwrap(), []);
}

#[test]
fn header_list_too_large_is_a_stream_error_and_the_table_stays_in_sync() {
    let mut d = Decoder::new();
    d.set_max_header_list_size(100);
    // Two fields of 32 + 1 + 40 = 73: the second crosses the limit, and is indexed.
    let value = [b'v'; 40];
    let mut block = vec![0x40, 0x01, b'a', 40];
    block.extend_from_slice(&value);
    block.extend_from_slice(&[0x40, 0x01, b'b', 40]);
    block.extend_from_slice(&value);
    let err = decode_on(&mut d, &block).unwrap_err();
    assert_eq!(err, DecoderError::HeaderListTooLarge);
    assert!(!err.is_connection_error());
    assert_eq!(
        err.to_protocol_error(StreamId(3)).scope,
        Scope::Stream(StreamId(3))
    );
    // Both entries went into the table even though the list was refused.
    let names: Vec<&[u8]> = d.table_entries().map(|(n, _)| n).collect();
    assert_eq!(names, [b"b", b"a"]);
    assert_eq!(decode_on(&mut d, &[0xbe]).unwrap()[0].name, "b");
}
