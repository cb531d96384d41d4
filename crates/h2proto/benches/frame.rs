//! Frame decoder throughput: control frames per second, and DATA payload bytes per second with
//! 16 KiB frames (payloads are split off the input buffer, never copied).

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use h2proto::frame::*;
use h2proto::{ErrorCode, StreamId};
use std::hint::black_box;

/// A mix of SETTINGS, PING, WINDOW_UPDATE and RST_STREAM, as a busy connection sees them.
fn control_frames(n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n as u32 {
        match i % 4 {
            0 => Settings {
                ack: false,
                params: vec![
                    (SettingId::MAX_CONCURRENT_STREAMS, 100),
                    (SettingId::INITIAL_WINDOW_SIZE, 1 << 20),
                ],
            }
            .encode(&mut out),
            1 => encode_ping(
                i % 8 == 1,
                i.to_be_bytes().repeat(2).try_into().unwrap(),
                &mut out,
            ),
            2 => encode_window_update(StreamId(i | 1), 16_384, &mut out),
            _ => encode_rst_stream(StreamId(i | 1), ErrorCode::CANCEL, &mut out),
        }
    }
    out
}

fn data_frames(n: usize, size: usize) -> Vec<u8> {
    let payload = vec![0x5a; size];
    let mut out = Vec::with_capacity(n * (size + HEADER_LEN));
    for i in 0..n as u32 {
        encode_data_header(StreamId(2 * i + 1), size as u32, false, &mut out);
        out.extend_from_slice(&payload);
    }
    out
}

/// Decodes every frame of `wire` from a fresh buffer (the copy into the buffer stands for the
/// socket read and is part of the measurement).
fn decode_all(wire: &Bytes) -> usize {
    let mut dec = FrameDecoder::new();
    let mut buf = BytesMut::from(&wire[..]);
    let mut n = 0;
    while let Some(f) = dec.decode(&mut buf).unwrap() {
        black_box(&f);
        n += 1;
    }
    n
}

fn bench(c: &mut Criterion) {
    const CONTROL: usize = 1000;
    let control = Bytes::from(control_frames(CONTROL));
    let mut g = c.benchmark_group("frame_decode");
    g.throughput(Throughput::Elements(CONTROL as u64));
    g.bench_function("control_mix_1000_frames", |b| {
        b.iter(|| assert_eq!(decode_all(&control), CONTROL))
    });

    const DATA: usize = 64;
    const SIZE: usize = 16_384;
    let data = Bytes::from(data_frames(DATA, SIZE));
    g.throughput(Throughput::Bytes((DATA * SIZE) as u64));
    g.bench_function("data_16k_x64", |b| {
        b.iter(|| assert_eq!(decode_all(&data), DATA))
    });
    // The same without the buffer fill: what the decoder itself costs per DATA octet.
    g.bench_function("data_16k_x64_no_copy", |b| {
        b.iter_batched(
            || BytesMut::from(&data[..]),
            |mut buf| {
                let mut dec = FrameDecoder::new();
                let mut n = 0;
                while let Some(f) = dec.decode(&mut buf).unwrap() {
                    black_box(&f);
                    n += 1;
                }
                assert_eq!(n, DATA);
            },
            criterion::BatchSize::LargeInput,
        )
    });
    g.finish();

    let mut g = c.benchmark_group("frame_encode");
    g.throughput(Throughput::Elements(CONTROL as u64));
    g.bench_function("window_update_1000_frames", |b| {
        let mut out = Vec::with_capacity(control.len());
        b.iter(|| {
            out.clear();
            for i in 0..CONTROL as u32 {
                encode_window_update(StreamId(i | 1), 16_384, &mut out);
            }
            black_box(&out);
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
