//! Section 4: Listing 10,000 images by pages of 1000 through the client's stream,
//! against decoding the same pages with serde_json alone: time and
//! allocations (this binary counts them).

use std::time::Instant;

use anyhow::Result;

use super::report::{Section, f, verdict};
use super::{Env, median};
use crate::alloc::Snapshot;
use crate::pages;

const IMAGES: usize = 10_000;
const PAGE: u32 = 1000;

/// Run the comparison; Markdown.
pub async fn run(env: &Env) -> Result<String> {
    let mut s = Section::new(&format!("4. Listing {IMAGES} images, page size {PAGE}"));
    let mock = super::start_mock(env)?;
    let mock_client = pages::client(&mock.url)?;
    pages::populate(&mock_client, IMAGES, 16).await?;
    let bodies = pages::fetch_pages(&mock.url, PAGE).await?;
    let total_bytes: usize = bodies.iter().map(|b| b.len()).sum();
    let replay = pages::PageServer::start(bodies.clone()).await?;
    let replay_client = pages::client(&replay.url())?;

    // Warm up connections and lazily built state once.
    pages::decode_pages(&bodies)?;
    pages::list_with_client(&replay_client, PAGE).await?;
    pages::list_with_client(&mock_client, PAGE).await?;

    let reps = env.settings.reps.max(5);
    let mut decode = Measure::default();
    let mut with_path = Measure::default();
    let mut replayed = Measure::default();
    let mut from_mock = Measure::default();
    for _ in 0..reps {
        decode.time(|| {
            let n = pages::decode_pages(&bodies)?;
            anyhow::ensure!(n == IMAGES, "decoded {n}");
            Ok(())
        })?;
        with_path.time(|| {
            let n = pages::decode_pages_with_path(&bodies)?;
            anyhow::ensure!(n == IMAGES, "decoded {n}");
            Ok(())
        })?;
        let (a, t) = measure_async(pages::list_with_client(&replay_client, PAGE)).await;
        anyhow::ensure!(a? == IMAGES);
        replayed.push(t);
        let (a, t) = measure_async(pages::list_with_client(&mock_client, PAGE)).await;
        anyhow::ensure!(a? == IMAGES);
        from_mock.push(t);
    }
    let d = decode.median_ms();
    s.table(
        &["what", "ms (median)", "allocations", "MiB allocated", "÷ decode-only"],
        &[
            decode.row("serde_json decode only (same pages, `Page { images: Vec<Image>, next }`)", d),
            with_path.row("serde_json through serde_path_to_error (the client's decoder, no HTTP)", d),
            replayed.row("client stream, pages replayed by a bare axum server in this process (its allocations included)", d),
            from_mock.row("client stream from the mock (separate process; allocations are the client's)", d),
        ],
    );
    s.line(format!(
        "- {} pages, {:.1} MiB of JSON ({} bytes per image).",
        bodies.len(),
        total_bytes as f64 / 1048576.0,
        total_bytes / IMAGES
    ));
    s.line(format!(
        "- Target client stream < 2× decode-only (replayed pages, the client's own cost): {}× — {}",
        f(replayed.median_ms() / d),
        verdict(replayed.median_ms() < 2.0 * d)
    ));
    s.line(format!(
        "- From the mock the time includes the mock rendering the pages on the same cores: {}×.",
        f(from_mock.median_ms() / d)
    ));
    Ok(s.finish())
}

#[derive(Debug, Default)]
struct Measure {
    ms: Vec<f64>,
    allocs: Vec<Snapshot>,
}

impl Measure {
    fn time(&mut self, f: impl FnOnce() -> Result<()>) -> Result<()> {
        let a = Snapshot::now();
        let t = Instant::now();
        f()?;
        self.push((t.elapsed().as_secs_f64() * 1000.0, Snapshot::now().since(a)));
        Ok(())
    }

    fn push(&mut self, (ms, a): (f64, Snapshot)) {
        self.ms.push(ms);
        self.allocs.push(a);
    }

    fn median_ms(&self) -> f64 {
        median(&self.ms)
    }

    fn row(&self, label: &str, decode_ms: f64) -> Vec<String> {
        let count = median(
            &self
                .allocs
                .iter()
                .map(|a| a.count as f64)
                .collect::<Vec<_>>(),
        );
        let bytes = median(
            &self
                .allocs
                .iter()
                .map(|a| a.bytes as f64)
                .collect::<Vec<_>>(),
        );
        vec![
            label.to_owned(),
            f(self.median_ms()),
            format!("{count:.0}"),
            f(bytes / 1048576.0),
            f(self.median_ms() / decode_ms),
        ]
    }
}

async fn measure_async<T>(fut: impl std::future::Future<Output = T>) -> (T, (f64, Snapshot)) {
    let a = Snapshot::now();
    let t = Instant::now();
    let out = fut.await;
    (
        out,
        (t.elapsed().as_secs_f64() * 1000.0, Snapshot::now().since(a)),
    )
}
