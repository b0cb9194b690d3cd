//! Section 7: one verified download over 1 and 4 connections
//! (`DownloadOptions::connections`) when each response is capped by the
//! mock's `throttle` fault rule, as a store or proxy that caps each
//! connection does. Target: 4 connections at least 3.5× one.

use anyhow::{Context, Result, bail};

use super::report::{Section, f, verdict};
use super::{Env, child, median, mib_s, num, run_json};

/// The cap on each response, MiB/s.
pub const CAP_MIB_S: u64 = 50;

/// Run the measurements; Markdown.
pub async fn run(env: &Env) -> Result<String> {
    let mib = env.settings.scaling_mib;
    let mut s = Section::new(&format!(
        "7. Parallel ranged download: a verified {mib} MiB image, each response capped at {CAP_MIB_S} MiB/s"
    ));
    let mock = super::start_mock(env)?;
    let client = crate::pages::client(&mock.url)?;
    let id = super::image_with_data(&client, "bench-parallel", mib).await?;
    throttle(&mock.url, CAP_MIB_S << 20).await?;
    let mut rows = vec![];
    let mut medians = vec![];
    for connections in [1usize, 4] {
        let mut rates = vec![];
        let mut loads = vec![];
        for _ in 0..env.settings.reps {
            super::settle();
            loads.push(super::load());
            let v = run_json(
                child::download_cmd(env, &mock.url, &id, 1, true)?
                    .arg("--connections")
                    .arg(connections.to_string()),
            )?;
            if num(&v, "bytes") as u64 != mib << 20 {
                bail!(
                    "{connections} connections delivered {} bytes",
                    num(&v, "bytes")
                );
            }
            rates.push(mib_s(num(&v, "bytes") as u64, num(&v, "secs")));
        }
        let r = median(&rates);
        medians.push(r);
        let (lo, hi) = rates.iter().fold((f64::INFINITY, 0f64), |(lo, hi), x| {
            (lo.min(*x), hi.max(*x))
        });
        rows.push(vec![
            connections.to_string(),
            f(r),
            format!("{}–{}", f(lo), f(hi)),
            f(mib as f64 / r),
            rates.len().to_string(),
            loads.join("; "),
        ]);
    }
    s.table(
        &[
            "connections",
            "median MiB/s",
            "range over runs",
            "seconds (median)",
            "runs",
            "load average (1/5/15) before each run",
        ],
        &rows,
    );
    let ratio = medians[1] / medians[0];
    s.line(format!(
        "- 4 connections / 1: **{}×** (target ≥ 3.5×: {}); the cap alone allows {} MiB/s per connection.",
        f(ratio),
        verdict(ratio >= 3.5),
        CAP_MIB_S
    ));
    Ok(s.finish())
}

/// Cap every image data response of the mock at `bytes_per_second`.
async fn throttle(url: &str, bytes_per_second: u64) -> Result<()> {
    let resp = reqwest::Client::new()
        .post(format!("{url}/_mock/faults"))
        .json(&serde_json::json!({
            "match": {"method": "GET", "path": "/v2/images/*/file"},
            "action": {"type": "throttle", "bytes_per_second": bytes_per_second},
        }))
        .send()
        .await
        .context("adding the throttle rule")?;
    if !resp.status().is_success() {
        bail!("the throttle rule was refused: {}", resp.text().await?);
    }
    Ok(())
}
