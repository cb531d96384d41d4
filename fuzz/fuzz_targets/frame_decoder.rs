//! FrameDecoder fed arbitrary bytes in arbitrary slices: it must never panic, must decode the
//! same frames whatever the slicing, and every frame it returns must encode to bytes that decode
//! back to an equal frame.
#![no_main]

use bytes::BytesMut;
use h2proto::frame::{Frame, FrameDecoder};
use h2proto::Scope;
use libfuzzer_sys::fuzz_target;

/// Decodes `input` fed in slices whose lengths come from `cuts`, until it runs out or a
/// connection error ends it. Stream errors are recorded and decoding goes on (their frame was
/// consumed).
fn run(input: &[u8], cuts: &[u8], strict: bool) -> Vec<Result<Frame, h2proto::ProtocolError>> {
    let mut dec = FrameDecoder::new();
    dec.set_strict_padding(strict);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut pos = 0;
    let mut cut = cuts.iter().cycle();
    while pos < input.len() {
        let step = if cuts.is_empty() {
            input.len()
        } else {
            usize::from(*cut.next().unwrap()) + 1
        };
        let end = (pos + step).min(input.len());
        buf.extend_from_slice(&input[pos..end]);
        pos = end;
        loop {
            match dec.decode(&mut buf) {
                Ok(Some(f)) => out.push(Ok(f)),
                Ok(None) => break,
                Err(e) => {
                    out.push(Err(e));
                    if e.scope == Scope::Connection {
                        return out;
                    }
                }
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    // First byte: flags; next up to 16 bytes: slice lengths; the rest: the byte stream.
    let Some((&ctl, rest)) = data.split_first() else {
        return;
    };
    let ncuts = usize::from(ctl & 0x0f).min(rest.len());
    let (cuts, input) = rest.split_at(ncuts);
    let strict = ctl & 0x10 != 0;

    let sliced = run(input, cuts, strict);
    let whole = run(input, &[], strict);
    assert_eq!(sliced, whole, "slicing changed the result");

    for frame in sliced.into_iter().flatten() {
        let mut wire = Vec::new();
        frame.encode(&mut wire);
        let mut dec = FrameDecoder::new();
        dec.set_strict_padding(strict);
        let mut buf = BytesMut::from(&wire[..]);
        let back = dec.decode(&mut buf).expect("re-decoding our own encoding");
        assert_eq!(back.as_ref(), Some(&frame), "round trip changed the frame");
        assert!(buf.is_empty());
    }
});
