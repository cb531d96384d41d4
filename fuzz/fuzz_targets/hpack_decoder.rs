//! The HPACK decoder fed arbitrary header blocks, with a small header-list limit and a table
//! size that varies: it must never panic, and a HeaderListTooLarge error must leave the table
//! in a state that keeps decoding the next blocks.
#![no_main]

use bytes::Bytes;
use h2proto::hpack::{Decoder, DecoderError};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&ctl, rest)) = data.split_first() else {
        return;
    };
    let mut dec = Decoder::new();
    dec.set_max_header_list_size(256 + usize::from(ctl) * 8);
    // Blocks are separated by 0xfe octets, so one input exercises the dynamic table across
    // several blocks.
    let mut fields = Vec::new();
    for block in rest.split(|&b| b == 0xfe) {
        fields.clear();
        match dec.decode(&Bytes::copy_from_slice(block), &mut fields) {
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
