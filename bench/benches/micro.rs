//! In-process micro-benchmarks: `cargo bench -p glance-bench`.
//!
//! - `digest`: single-core speed of every implementation of every
//!   algorithm the client verifies and the mock computes (OpenSSL through
//!   the `openssl` crate, aws-lc-rs, the RustCrypto crates), one 1 MiB
//!   block per digest as downloads and uploads feed them, side by side in
//!   one run. What it measures decides which backend each crate's digest
//!   module uses (`glance-client/src/digest.rs`,
//!   `glance-mock-server/src/store/digest.rs`); it is the ceiling of a
//!   verified download. `cargo bench -p glance-bench -- digest/sha512` for one.
//! - `list_10000_by_1000`: the client's paging stream over HTTP (pages
//!   replayed as fixed bytes by a bare axum server) against decoding the
//!   same ten pages with `serde_json` alone.
#![allow(missing_docs)]

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use glance_bench::pages;

const CHUNK: usize = 1 << 20;

/// One 1 MiB digest with each backend that has `algorithm`.
type Backend = (&'static str, Box<dyn Fn(&[u8]) -> usize>);

fn openssl(name: &'static str) -> Backend {
    let md = openssl::hash::MessageDigest::from_name(name).expect("OpenSSL has it");
    (
        "openssl",
        Box::new(move |data| openssl::hash::hash(md, data).expect("hashes").len()),
    )
}

fn aws_lc(algorithm: &'static aws_lc_rs::digest::Algorithm) -> Backend {
    (
        "aws-lc-rs",
        Box::new(move |data| aws_lc_rs::digest::digest(algorithm, data).as_ref().len()),
    )
}

fn rustcrypto<D: sha2::Digest>() -> Backend {
    ("rustcrypto", Box::new(|data| D::digest(data).len()))
}

/// hashlib's name, then its backends. RustCrypto's SHA-1 is not a
/// dependency, so SHA-1 compares OpenSSL with aws-lc only.
fn backends() -> Vec<(&'static str, Vec<Backend>)> {
    use aws_lc_rs::digest as aws;
    vec![
        (
            "sha512",
            vec![
                openssl("SHA512"),
                aws_lc(&aws::SHA512),
                rustcrypto::<sha2::Sha512>(),
            ],
        ),
        ("md5", vec![openssl("MD5"), rustcrypto::<md5::Md5>()]),
        (
            "sha384",
            vec![
                openssl("SHA384"),
                aws_lc(&aws::SHA384),
                rustcrypto::<sha2::Sha384>(),
            ],
        ),
        (
            "sha256",
            vec![
                openssl("SHA256"),
                aws_lc(&aws::SHA256),
                rustcrypto::<sha2::Sha256>(),
            ],
        ),
        (
            "sha224",
            vec![
                openssl("SHA224"),
                aws_lc(&aws::SHA224),
                rustcrypto::<sha2::Sha224>(),
            ],
        ),
        (
            "sha1",
            vec![openssl("SHA1"), aws_lc(&aws::SHA1_FOR_LEGACY_USE_ONLY)],
        ),
        (
            "sha512_224",
            vec![openssl("SHA512-224"), rustcrypto::<sha2::Sha512_224>()],
        ),
        (
            "sha512_256",
            vec![
                openssl("SHA512-256"),
                aws_lc(&aws::SHA512_256),
                rustcrypto::<sha2::Sha512_256>(),
            ],
        ),
        (
            "sha3_224",
            vec![openssl("SHA3-224"), rustcrypto::<sha3::Sha3_224>()],
        ),
        (
            "sha3_256",
            vec![
                openssl("SHA3-256"),
                aws_lc(&aws::SHA3_256),
                rustcrypto::<sha3::Sha3_256>(),
            ],
        ),
        (
            "sha3_384",
            vec![
                openssl("SHA3-384"),
                aws_lc(&aws::SHA3_384),
                rustcrypto::<sha3::Sha3_384>(),
            ],
        ),
        (
            "sha3_512",
            vec![
                openssl("SHA3-512"),
                aws_lc(&aws::SHA3_512),
                rustcrypto::<sha3::Sha3_512>(),
            ],
        ),
        (
            "blake2b",
            vec![openssl("BLAKE2b512"), rustcrypto::<blake2::Blake2b512>()],
        ),
        (
            "blake2s",
            vec![openssl("BLAKE2s256"), rustcrypto::<blake2::Blake2s256>()],
        ),
    ]
}

fn digest(c: &mut Criterion) {
    let chunk: Vec<u8> = (0..CHUNK).map(|i| (i * 31 + 7) as u8).collect();
    let mut group = c.benchmark_group("digest");
    group.throughput(Throughput::Bytes(CHUNK as u64));
    // 33 pairs: short windows keep the run near two minutes; the backends
    // of one algorithm still run one after the other, under the same load.
    group.sample_size(20);
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    for (algorithm, backends) in backends() {
        for (backend, digest) in backends {
            group.bench_function(format!("{algorithm}/{backend}"), |b| {
                b.iter(|| digest(std::hint::black_box(&chunk)))
            });
        }
    }
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

criterion_group!(benches, digest, list);
criterion_main!(benches);
