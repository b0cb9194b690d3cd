//! How fast downloads can be verified here: raw sha512/md5 throughput, and
//! a verified stream against an unverified one when the source costs time
//! too (hashing runs on its own thread, so the two overlap).
//!
//! ```text
//! cargo run -p glance-client --example hash_throughput [MiB]
//! ```
//!
//! Results are recorded in BENCHMARKS.md.

use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::{StreamExt, stream};
use glance_client::Verification;
use glance_client::verify::verified;
use md5::Md5;
use sha2::{Digest, Sha512};

const CHUNK: usize = 1 << 20;

fn rate(bytes: usize, took: Duration) -> String {
    format!("{:.2} GB/s", bytes as f64 / took.as_secs_f64() / 1e9)
}

/// A source that waits `work` per chunk without using the CPU (standing in
/// for a socket), yielding 1 MiB chunks.
fn source(
    data: &Bytes,
    work: Duration,
) -> impl futures::Stream<Item = glance_client::Result<Bytes>> + Send + 'static {
    let data = data.clone();
    stream::iter((0..data.len()).step_by(CHUNK)).then(move |start| {
        let chunk = data.slice(start..data.len().min(start + CHUNK));
        async move {
            tokio::time::sleep(work).await;
            Ok(chunk)
        }
    })
}

async fn drain(
    data: &Bytes,
    work: Duration,
    check: Verification,
) -> glance_client::Result<Duration> {
    let started = Instant::now();
    let mut s = std::pin::pin!(verified(source(data, work), check, Some(data.len() as u64)));
    while let Some(item) = s.next().await {
        item?;
    }
    Ok(started.elapsed())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> glance_client::Result<()> {
    let mib: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(256);
    let data: Bytes = (0..mib * CHUNK).map(|i| (i * 31 % 251) as u8).collect();
    let len = data.len();

    let t = Instant::now();
    let mut h = Sha512::new();
    for c in data.chunks(CHUNK) {
        h.update(c);
    }
    let sha = hex::encode(h.finalize());
    let sha_took = t.elapsed();
    println!("sha512 (sha2 0.11), inline:  {}", rate(len, sha_took));

    let t = Instant::now();
    let mut h = Md5::new();
    for c in data.chunks(CHUNK) {
        h.update(c);
    }
    let _ = h.finalize();
    println!("md5 (md-5 0.11), inline:     {}", rate(len, t.elapsed()));

    // A source delivering a MiB every 4 ms (about 260 MB/s, a 2 Gbit/s link;
    // tokio's timer has 1 ms granularity).
    let work = Duration::from_millis(4);
    let none = drain(&data, work, Verification::None).await?;
    let checked = drain(
        &data,
        work,
        Verification::Digest {
            algorithm: "sha512".into(),
            expected: sha,
        },
    )
    .await?;
    println!("source alone (4 ms/MiB):     {}", rate(len, none));
    println!("source + sha512 verified:    {}", rate(len, checked));
    println!(
        "sequential would take {:.2} s; verified took {:.2} s",
        (none + sha_took).as_secs_f64(),
        checked.as_secs_f64()
    );
    Ok(())
}
