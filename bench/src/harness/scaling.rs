//! Section 6: Throughput of 1, 4 and 16 concurrent verified downloads from the mock.

use anyhow::Result;

use super::report::{Section, f};
use super::{Env, child, median, mib_s, num, run_json};

/// Run the measurements; Markdown.
pub async fn run(env: &Env) -> Result<String> {
    let mib = env.settings.scaling_mib;
    let mut s = Section::new(&format!(
        "6. Concurrent verified downloads of a {mib} MiB image (one client process, one mock process)"
    ));
    let mock = super::start_mock(env)?;
    let client = crate::pages::client(&mock.url)?;
    let id = super::image_with_data(&client, "bench-scaling", mib).await?;
    let mut rows = vec![];
    let mut one = f64::NAN;
    let sha = super::hash_speed("sha512", 256);
    for streams in [1usize, 4, 16] {
        let mut rates = vec![];
        let mut rss = vec![];
        for _ in 0..env.settings.reps.min(2) {
            let v = run_json(&mut child::download_cmd(
                env, &mock.url, &id, streams, true,
            )?)?;
            rates.push(mib_s(num(&v, "bytes") as u64, num(&v, "secs")));
            rss.push(num(&v, "peak_rss_kib"));
        }
        let r = median(&rates);
        if streams == 1 {
            one = r;
        }
        rows.push(vec![
            streams.to_string(),
            f(r),
            f(r / streams as f64),
            f(r / one),
            f(median(&rss) / 1024.0),
        ]);
    }
    s.table(
        &[
            "downloads",
            "total MiB/s",
            "MiB/s each",
            "× one",
            "peak RSS MiB",
        ],
        &rows,
    );
    s.line(format!(
        "- SHA-512 alone on one core in this run: {} MiB/s; {} cores: the ceiling is about {} MiB/s of verified data, shared with the mock serving it.",
        f(sha),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        f(sha * std::thread::available_parallelism().map_or(1, |n| n.get()) as f64)
    ));
    Ok(s.finish())
}
