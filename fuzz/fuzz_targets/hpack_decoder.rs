//! The HPACK decoder fed arbitrary header blocks, with a small header-list limit and a table
//! size that varies: it must never panic, and a HeaderListTooLarge error must leave the table
//! in a state that keeps decoding the next blocks. A second decoder takes the same blocks
//! through `decode_block` into one reused `HeaderBlock`: both APIs must agree on every result,
//! field and table entry.
#![no_main]

use bytes::Bytes;
use h2proto::hpack::{Decoder, DecoderError, HeaderBlock};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, rest)) = data.split_first() else {
        return;
    };
    let mut dec = Decoder::new();
    dec.set_max_header_list_size(256 + usize::from(ctl) * 8);
    let mut block_dec = Decoder::new();
    block_dec.set_max_header_list_size(256 + usize::from(ctl) * 8);
    let mut block_out = HeaderBlock::new();
    // Blocks are separated by 0xfe octets, so one input exercises the dynamic table across
    // several blocks.
    let mut fields = Vec::new();
    for block in rest.split(|&b| b == 0xfe) {
        fields.clear();
        let result = dec.decode(&Bytes::copy_from_slice(block), &mut fields);
        assert_eq!(block_dec.decode_block(block, &mut block_out), result);
        assert_eq!(block_out.len(), fields.len());
        for (f, h) in block_out.iter().zip(&fields) {
            assert_eq!(
                (f.name, f.value, f.sensitive),
                (&h.name[..], &h.value[..], h.sensitive)
            );
        }
        assert!(block_dec.table_entries().eq(dec.table_entries()));
        match result {
            Ok(()) => {
                let total: usize = fields.iter().map(|h| h.size()).sum();
                assert!(
                    total <= 256 + usize::from(ctl) * 8,
                    "list limit not enforced"
                );
            }
            Err(DecoderError::HeaderListTooLarge) => assert!(fields.is_empty()),
            Err(e) => {
                assert!(e.is_connection_error());
                return;
            }
        }
        assert!(dec.table_size() <= 4096);
    }
});
