//! HPACK throughput: our decoder and encoder against `httlib-hpack` and `hpack` on the same
//! input, every header block of the hpack-test-case `raw-data` stories (3384 blocks), with a
//! 4096-octet table and Huffman coding on.
//!
//! Run: `cargo bench -p h2proto --bench hpack -- --warm-up-time 1 --measurement-time 3`.
//! Decoding uses our encoder's output as the common input; each story gets a fresh context.
//! Our decoder is timed through both of its APIs: `Decoder::decode_block` into a reused
//! `HeaderBlock` (`h2proto-block`: one buffer per block, no reference counts) and
//! `Decoder::decode` into a `Vec<Header>` (`h2proto`: two `Bytes` per field). Every decoder
//! produces an owned header list with every string decoded; none decodes lazily.

use bytes::Bytes;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use h2proto::hpack::{Decoder, Encoder, Header, HeaderBlock};
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Runs of each decoder in the interleaved comparison.
const INTERLEAVED_RUNS: usize = 40;

type Story = Vec<Vec<Header>>;

fn load_stories() -> Vec<Story> {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/hpack-test-case/raw-data"
    );
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("hpack-test-case raw-data MISSING at {dir}: {e}"))
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|p| {
            let v: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap();
            v["cases"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    c["headers"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|h| {
                            let (n, v) = h.as_object().unwrap().iter().next().unwrap();
                            Header::new(n.clone(), v.as_str().unwrap().to_owned())
                        })
                        .collect()
                })
                .collect()
        })
        .collect()
}

fn encode_ours(stories: &[Story]) -> Vec<Vec<Bytes>> {
    stories
        .iter()
        .map(|story| {
            let mut enc = Encoder::new();
            story
                .iter()
                .map(|headers| {
                    let mut wire = Vec::new();
                    enc.encode(headers, &mut wire);
                    Bytes::from(wire)
                })
                .collect()
        })
        .collect()
}

const HTTLIB_FLAGS: u8 = 0x1 | 0x2 | 0x4 | 0x10; // Huffman name+value, indexing, best format

fn encode_httlib(stories: &[Story]) -> usize {
    let mut total = 0;
    for story in stories {
        let mut enc = httlib_hpack::Encoder::default();
        for headers in story {
            let mut dst = Vec::new();
            for h in headers {
                enc.encode((h.name.to_vec(), h.value.to_vec(), HTTLIB_FLAGS), &mut dst)
                    .unwrap();
            }
            total += dst.len();
        }
    }
    total
}

fn encode_hpack_crate(stories: &[Story]) -> usize {
    let mut total = 0;
    for story in stories {
        let mut enc = hpack::Encoder::new();
        for headers in story {
            total += enc
                .encode(headers.iter().map(|h| (&h.name[..], &h.value[..])))
                .len();
        }
    }
    total
}

/// Every block of every story through `Decoder::decode`, a fresh decoder per story.
fn decode_all(wires: &[Vec<Bytes>], out: &mut Vec<Header>) {
    for wire in wires {
        let mut dec = Decoder::new();
        for block in wire {
            out.clear();
            dec.decode(block, out).unwrap();
            black_box(&*out);
        }
    }
}

/// The same through `Decoder::decode_block`.
fn decode_all_block(wires: &[Vec<Bytes>], out: &mut HeaderBlock) {
    for wire in wires {
        let mut dec = Decoder::new();
        for block in wire {
            dec.decode_block(block, out).unwrap();
            black_box(&*out);
        }
    }
}

/// The same through httlib-hpack (which decodes from a mutable copy of each block).
fn decode_all_httlib(wires: &[Vec<Bytes>]) {
    for wire in wires {
        let mut dec = httlib_hpack::Decoder::default();
        for block in wire {
            let mut buf = block.to_vec();
            let mut out = Vec::new();
            dec.decode(&mut buf, &mut out).unwrap();
            black_box(&out);
        }
    }
}

/// How long `f` takes (for the interleaved comparison, outside criterion).
#[allow(clippy::disallowed_methods)] // a benchmark timing itself, not protocol code
fn timed(f: impl FnOnce()) -> Duration {
    let t = Instant::now();
    f();
    t.elapsed()
}

fn bench(c: &mut Criterion) {
    let stories = load_stories();
    let blocks: usize = stories.iter().map(Vec::len).sum();
    let wires = encode_ours(&stories);
    let ours_len: usize = wires.iter().flatten().map(Bytes::len).sum();
    let raw_len: usize = stories
        .iter()
        .flatten()
        .flatten()
        .map(|h| h.name.len() + h.value.len())
        .sum();
    eprintln!(
        "{blocks} blocks, {raw_len} raw octets; encoded size: h2proto {ours_len}, httlib-hpack {}, hpack {}",
        encode_httlib(&stories),
        encode_hpack_crate(&stories)
    );

    // Every decoder must agree with the input before we time it.
    for (story, wire) in stories.iter().zip(&wires) {
        let mut d = hpack::Decoder::new();
        let mut h = httlib_hpack::Decoder::default();
        let mut ours_dec = Decoder::new();
        for (headers, block) in story.iter().zip(wire) {
            let want: Vec<(Vec<u8>, Vec<u8>)> = headers
                .iter()
                .map(|x| (x.name.to_vec(), x.value.to_vec()))
                .collect();
            assert_eq!(d.decode(block).unwrap(), want);
            let mut ours = HeaderBlock::new();
            ours_dec.decode_block(block, &mut ours).unwrap();
            let got: Vec<_> = ours
                .iter()
                .map(|f| (f.name.to_vec(), f.value.to_vec()))
                .collect();
            assert_eq!(got, want);
            let mut out = Vec::new();
            h.decode(&mut block.to_vec(), &mut out).unwrap();
            let got: Vec<_> = out.into_iter().map(|(n, v, _)| (n, v)).collect();
            assert_eq!(got, want);
        }
    }

    // Criterion times one library after the other, so on a shared machine a load change
    // between them skews the ratio. This interleaves the two decoders, run for run, and
    // reports the ratio of their best times as well.
    let (mut ours, mut block, mut theirs) = (Duration::MAX, Duration::MAX, Duration::MAX);
    let mut out = Vec::with_capacity(64);
    let mut out_block = HeaderBlock::new();
    for _ in 0..INTERLEAVED_RUNS {
        block = block.min(timed(|| decode_all_block(&wires, &mut out_block)));
        theirs = theirs.min(timed(|| decode_all_httlib(&wires)));
        ours = ours.min(timed(|| decode_all(&wires, &mut out)));
    }
    eprintln!(
        "interleaved decode, best of {INTERLEAVED_RUNS}: h2proto-block {block:.2?} ({:.2}x), \
         h2proto {ours:.2?} ({:.2}x), httlib-hpack {theirs:.2?}",
        theirs.as_secs_f64() / block.as_secs_f64(),
        theirs.as_secs_f64() / ours.as_secs_f64()
    );

    let mut g = c.benchmark_group("hpack_decode");
    g.throughput(Throughput::Elements(blocks as u64));
    g.bench_function("h2proto", |b| {
        let mut out = Vec::with_capacity(64);
        b.iter(|| decode_all(&wires, &mut out))
    });
    g.bench_function("h2proto-block", |b| {
        let mut out = HeaderBlock::new();
        b.iter(|| decode_all_block(&wires, &mut out))
    });
    g.bench_function("httlib-hpack", |b| b.iter(|| decode_all_httlib(&wires)));
    g.bench_function("hpack", |b| {
        b.iter(|| {
            for wire in &wires {
                let mut dec = hpack::Decoder::new();
                for block in wire {
                    black_box(dec.decode(block).unwrap());
                }
            }
        })
    });
    g.finish();

    let mut g = c.benchmark_group("hpack_encode");
    g.throughput(Throughput::Elements(blocks as u64));
    g.bench_function("h2proto", |b| {
        let mut dst = Vec::with_capacity(4096);
        b.iter(|| {
            for story in &stories {
                let mut enc = Encoder::new();
                for headers in story {
                    dst.clear();
                    enc.encode(headers, &mut dst);
                    black_box(&dst);
                }
            }
        })
    });
    g.bench_function("httlib-hpack", |b| {
        b.iter(|| black_box(encode_httlib(&stories)))
    });
    g.bench_function("hpack", |b| {
        b.iter(|| black_box(encode_hpack_crate(&stories)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
