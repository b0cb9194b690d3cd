//! In-process micro-benchmarks: `cargo bench -p glance-bench`.
//!
//! - `hash`: single-core speed of the digests the client and the mock ship
//!   (sha2 0.11 SHA-512, md-5 0.11 MD5), over 1 MiB chunks as downloads
//!   and uploads feed them. The ceiling for a verified download. Beside
//!   them aws-lc-rs's SHA-512, already linked through rustls.
//! - `list_10000_by_1000`: the client's paging stream over HTTP (pages
//!   replayed as fixed bytes by a bare axum server) against decoding the
//!   same ten pages with `serde_json` alone.
#![allow(missing_docs)]

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use glance_bench::pages;
use md5::Digest;

const CHUNK: usize = 1 << 20;

fn hash(c: &mut Criterion) {
    let chunk: Vec<u8> = (0..CHUNK).map(|i| (i * 31 + 7) as u8).collect();
    let mut group = c.benchmark_group("hash");
    group.throughput(Throughput::Bytes(CHUNK as u64));
    group.bench_function("sha512_1MiB", |b| {
        b.iter(|| sha2::Sha512::digest(std::hint::black_box(&chunk)))
    });
    group.bench_function("sha512_aws_lc_rs_1MiB", |b| {
        b.iter(|| {
            aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA512, std::hint::black_box(&chunk))
        })
    });
    group.bench_function("md5_1MiB", |b| {
        b.iter(|| md5::Md5::digest(std::hint::black_box(&chunk)))
    });
    group.finish();
}

fn list(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let (server, bodies, client) = rt.block_on(async {
        let (mock, bodies) = pages::mock_pages(10_000, 1000).await.expect("pages");
        drop(mock);
        let server = pages::PageServer::start(bodies.clone())
            .await
            .expect("page server");
        let client = pages::client(&server.url()).expect("client");
        (server, bodies, client)
    });
    let mut group = c.benchmark_group("list_10000_by_1000");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(10_000));
    group.bench_function("serde_json_decode_only", |b| {
        b.iter(|| pages::decode_pages(&bodies).expect("decodes"))
    });
    group.bench_function("serde_path_to_error_decode", |b| {
        b.iter(|| pages::decode_pages_with_path(&bodies).expect("decodes"))
    });
    group.bench_function("client_stream_over_http", |b| {
        b.iter(|| {
            rt.block_on(pages::list_with_client(&client, 1000))
                .expect("lists")
        })
    });
    group.finish();
    drop(server);
}

criterion_group!(benches, hash, list);
criterion_main!(benches);
