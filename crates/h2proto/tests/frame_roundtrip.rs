//! Property tests: every frame type encodes and decodes back to itself, and a stream of frames
//! decodes the same whatever way it is sliced (RFC 9113 §4.1: frames on a byte stream).

use bytes::{Bytes, BytesMut};
use h2proto::frame::*;
use h2proto::{ErrorCode, StreamId};
use proptest::prelude::*;

fn stream() -> impl Strategy<Value = StreamId> {
    (1u32..=0x7fff_ffff).prop_map(StreamId)
}

fn any_stream() -> impl Strategy<Value = StreamId> {
    (0u32..=0x7fff_ffff).prop_map(StreamId)
}

fn bytes(max: usize) -> impl Strategy<Value = Bytes> {
    prop::collection::vec(any::<u8>(), 0..max).prop_map(Bytes::from)
}

fn pad() -> impl Strategy<Value = Option<Bytes>> {
    prop::option::of(bytes(256))
}

fn priority_fields() -> impl Strategy<Value = PriorityFields> {
    (any::<bool>(), any_stream(), any::<u8>()).prop_map(|(exclusive, dependency, weight)| {
        PriorityFields {
            exclusive,
            dependency,
            weight,
        }
    })
}

/// Values a receiver accepts for each defined setting, and anything for unknown ids.
fn setting() -> impl Strategy<Value = (SettingId, u32)> {
    prop_oneof![
        (Just(1u16), any::<u32>()),
        (Just(2u16), 0u32..=1),
        (Just(3u16), any::<u32>()),
        (Just(4u16), 0u32..=0x7fff_ffff),
        (Just(5u16), 16_384u32..=16_777_215),
        (Just(6u16), any::<u32>()),
        (Just(8u16), 0u32..=1),
        (Just(9u16), 0u32..=1),
        (10u16.., any::<u32>()),
    ]
    .prop_map(|(id, v)| (SettingId(id), v))
}

fn data() -> impl Strategy<Value = Frame> {
    (stream(), bytes(2000), any::<bool>(), pad()).prop_map(|(stream_id, data, end_stream, pad)| {
        Frame::Data(Data {
            stream_id,
            data,
            end_stream,
            pad,
        })
    })
}

fn headers() -> impl Strategy<Value = Frame> {
    (
        stream(),
        bytes(500),
        any::<bool>(),
        any::<bool>(),
        prop::option::of(priority_fields()),
        pad(),
    )
        .prop_map(
            |(stream_id, block, end_stream, end_headers, priority, pad)| {
                Frame::Headers(Headers {
                    stream_id,
                    block,
                    end_stream,
                    end_headers,
                    priority,
                    pad,
                })
            },
        )
}

fn priority() -> impl Strategy<Value = Frame> {
    (stream(), priority_fields())
        .prop_filter("self-dependent", |(s, f)| f.dependency != *s)
        .prop_map(|(stream_id, fields)| Frame::Priority(Priority { stream_id, fields }))
}

fn push_promise() -> impl Strategy<Value = Frame> {
    (
        stream(),
        1u32..=0x3fff_ffff,
        bytes(500),
        any::<bool>(),
        pad(),
    )
        .prop_map(|(stream_id, half, block, end_headers, pad)| {
            Frame::PushPromise(PushPromise {
                stream_id,
                promised_id: StreamId(half * 2),
                block,
                end_headers,
                pad,
            })
        })
}

fn control() -> impl Strategy<Value = Frame> {
    prop_oneof![
        (stream(), any::<u32>()).prop_map(|(stream_id, c)| Frame::RstStream(RstStream {
            stream_id,
            error_code: ErrorCode(c)
        })),
        (any::<bool>(), prop::collection::vec(setting(), 0..10)).prop_map(|(ack, params)| {
            let params = if ack { Vec::new() } else { params };
            Frame::Settings(Settings { ack, params })
        }),
        (any::<bool>(), any::<[u8; 8]>())
            .prop_map(|(ack, payload)| Frame::Ping(Ping { ack, payload })),
        (any_stream(), any::<u32>(), bytes(100)).prop_map(|(last_stream_id, c, debug_data)| {
            Frame::GoAway(GoAway {
                last_stream_id,
                error_code: ErrorCode(c),
                debug_data,
            })
        }),
        (any_stream(), 1u32..=0x7fff_ffff).prop_map(|(stream_id, increment)| {
            Frame::WindowUpdate(WindowUpdate {
                stream_id,
                increment,
            })
        }),
        (stream(), bytes(500), any::<bool>()).prop_map(|(stream_id, block, end_headers)| {
            Frame::Continuation(Continuation {
                stream_id,
                block,
                end_headers,
            })
        }),
        (stream(), bytes(50)).prop_map(|(prioritized_id, field_value)| {
            Frame::PriorityUpdate(PriorityUpdate {
                prioritized_id,
                field_value,
            })
        }),
        (0x11u8.., any::<u8>(), any_stream(), bytes(100)).prop_map(
            |(t, flags, stream_id, payload)| {
                Frame::Unknown(Unknown {
                    header: FrameHeader {
                        length: payload.len() as u32,
                        kind: FrameType(t),
                        flags,
                        stream_id,
                    },
                    payload,
                })
            }
        ),
    ]
}

fn any_frame() -> impl Strategy<Value = Frame> {
    prop_oneof![data(), headers(), priority(), push_promise(), control()]
}

fn encode(f: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    f.encode(&mut out);
    out
}

fn decode_all(chunks: &[&[u8]]) -> Vec<Frame> {
    let mut dec = FrameDecoder::new();
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        while let Some(f) = dec.decode(&mut buf).expect("valid frames") {
            out.push(f);
        }
    }
    assert!(buf.is_empty(), "{} bytes left over", buf.len());
    out
}

proptest! {
    #[test]
    fn every_frame_type_round_trips(f in any_frame()) {
        let wire = encode(&f);
        let back = decode_all(&[&wire]);
        prop_assert_eq!(back.len(), 1);
        prop_assert_eq!(&back[0], &f);
        // Header fields agree with the accessors.
        let head = FrameHeader::parse(wire[..9].try_into().unwrap());
        prop_assert_eq!(head.length as usize, wire.len() - 9);
        prop_assert_eq!(head.kind, f.kind());
        prop_assert_eq!(head.flags, f.flags());
        prop_assert_eq!(head.stream_id, f.stream_id());
        // Re-encoding the decoded frame gives the same octets.
        prop_assert_eq!(encode(&back[0]), wire);
    }

    #[test]
    fn random_chunking_gives_the_same_frames(
        frames in prop::collection::vec(any_frame(), 1..12),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..30),
    ) {
        let wire: Vec<u8> = frames.iter().flat_map(encode).collect();
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(wire.len() + 1)).collect();
        points.push(0);
        points.push(wire.len());
        points.sort_unstable();
        let chunks: Vec<&[u8]> = points.windows(2).map(|w| &wire[w[0]..w[1]]).collect();
        prop_assert_eq!(decode_all(&chunks), frames);
    }

    #[test]
    fn one_byte_at_a_time_gives_the_same_frames(frames in prop::collection::vec(any_frame(), 1..6)) {
        let wire: Vec<u8> = frames.iter().flat_map(encode).collect();
        let chunks: Vec<&[u8]> = wire.chunks(1).collect();
        prop_assert_eq!(decode_all(&chunks), frames);
    }

    #[test]
    fn arbitrary_bytes_never_panic(input in prop::collection::vec(any::<u8>(), 0..300)) {
        let mut dec = FrameDecoder::new();
        let mut buf = BytesMut::from(&input[..]);
        while let Ok(Some(f)) = dec.decode(&mut buf) {
            let wire = encode(&f);
            prop_assert_eq!(decode_all(&[&wire]), vec![f]);
        }
    }

    #[test]
    fn split_header_blocks_reassemble(
        stream_id in stream(),
        block in bytes(40_000),
        end_stream in any::<bool>(),
        prio in prop::option::of(priority_fields()),
        pad in pad(),
    ) {
        let h = Headers { stream_id, block: block.clone(), end_stream, end_headers: true,
                          priority: prio, pad };
        let mut wire = Vec::new();
        h.encode_split(DEFAULT_MAX_FRAME_SIZE, &mut wire);
        let frames = decode_all(&[&wire]);
        let mut joined = Vec::new();
        for (i, f) in frames.iter().enumerate() {
            let last = i == frames.len() - 1;
            match f {
                Frame::Headers(x) if i == 0 => {
                    prop_assert_eq!(x.end_headers, last);
                    prop_assert_eq!(x.end_stream, end_stream);
                    joined.extend_from_slice(&x.block);
                }
                Frame::Continuation(c) if i > 0 => {
                    prop_assert_eq!(c.end_headers, last);
                    prop_assert_eq!(c.stream_id, stream_id);
                    joined.extend_from_slice(&c.block);
                }
                other => prop_assert!(false, "unexpected frame {:?}", other.kind()),
            }
        }
        prop_assert_eq!(&joined[..], &block[..]);
    }
}

#[test]
fn data_header_helper_matches_data_encode() {
    let d = Data::new(StreamId(7), &b"payload"[..], true);
    let mut a = Vec::new();
    d.encode(&mut a);
    let mut b = Vec::new();
    encode_data_header(StreamId(7), 7, true, &mut b);
    b.extend_from_slice(b"payload");
    assert_eq!(a, b);
}

#[test]
fn control_helpers_match_struct_encoders() {
    let pairs: [(Frame, Vec<u8>); 4] = [
        (
            Frame::Ping(Ping {
                ack: true,
                payload: [1; 8],
            }),
            {
                let mut v = Vec::new();
                encode_ping(true, [1; 8], &mut v);
                v
            },
        ),
        (Frame::Settings(Settings::ack()), {
            let mut v = Vec::new();
            encode_settings_ack(&mut v);
            v
        }),
        (
            Frame::WindowUpdate(WindowUpdate {
                stream_id: StreamId(3),
                increment: 99,
            }),
            {
                let mut v = Vec::new();
                encode_window_update(StreamId(3), 99, &mut v);
                v
            },
        ),
        (
            Frame::RstStream(RstStream {
                stream_id: StreamId(3),
                error_code: ErrorCode::CANCEL,
            }),
            {
                let mut v = Vec::new();
                encode_rst_stream(StreamId(3), ErrorCode::CANCEL, &mut v);
                v
            },
        ),
    ];
    for (f, bytes) in pairs {
        assert_eq!(encode(&f), bytes, "{:?}", f.kind());
    }
}

#[test]
fn preface_is_the_rfc_octets() {
    assert_eq!(
        &PREFACE[..],
        &hex::decode("505249202a20485454502f322e300d0a0d0a534d0d0a0d0a").unwrap()[..]
    );
}
