//! Section 1: Verified download from the mock: our client against
//! python-glanceclient's `images.data()` and against hashing alone.

use anyhow::Result;

use super::report::{Section, f, verdict};
use super::{Env, child, median, mib_s, num, python, run_json};

/// Run the comparison; Markdown.
pub async fn run(env: &Env) -> Result<String> {
    let mib = env.settings.size_mib;
    let mut s = Section::new(&format!(
        "1. Verified download of {mib} MiB from the mock (separate processes)"
    ));
    let mock = super::start_mock(env)?;
    let client = crate::pages::client(&mock.url)?;
    let id = super::image_with_data(&client, "bench-download", mib).await?;
    let py = python::python(env);
    if let Err(e) = &py {
        s.line(format!("python-glanceclient unavailable: {e:#}"));
    }

    let (mut sha, mut ours, mut raw, mut theirs) = (vec![], vec![], vec![], vec![]);
    let mut aws = vec![];
    let (mut ours_rss, mut py_rss) = (vec![], vec![]);
    for _ in 0..env.settings.reps {
        sha.push(super::hash_speed("sha512", mib));
        aws.push(super::hash_speed("sha512-aws-lc", mib));
        let v = run_json(&mut child::download_cmd(env, &mock.url, &id, 1, true)?)?;
        ours.push(mib_s(num(&v, "bytes") as u64, num(&v, "secs")));
        ours_rss.push(num(&v, "peak_rss_kib"));
        let v = run_json(&mut child::download_cmd(env, &mock.url, &id, 1, false)?)?;
        raw.push(mib_s(num(&v, "bytes") as u64, num(&v, "secs")));
        if let Ok(p) = &py {
            let v = run_json(&mut python::command(p, python::DOWNLOAD, &[&mock.url, &id]))?;
            theirs.push(mib_s(num(&v, "bytes") as u64, num(&v, "secs")));
            py_rss.push(num(&v, "peak_rss_kib"));
        }
    }
    let hashlib = match &py {
        Ok(p) => run_json(&mut python::command(p, python::HASHLIB, &["512"]))
            .map(|v| num(&v, "sha512"))
            .unwrap_or(f64::NAN),
        Err(_) => f64::NAN,
    };
    let (sha, ours, raw, theirs) = (median(&sha), median(&ours), median(&raw), median(&theirs));
    s.table(
        &["what", "MiB/s (median)", "peak RSS MiB", "ours ÷ it"],
        &[
            vec![
                "glance-client, verified (sha512)".into(),
                f(ours),
                f(median(&ours_rss) / 1024.0),
                "1".into(),
            ],
            vec![
                "glance-client, unverified (transport only)".into(),
                f(raw),
                "".into(),
                f(ours / raw),
            ],
            vec![
                "python-glanceclient 4.13 `images.data()`, validated".into(),
                f(theirs),
                f(median(&py_rss) / 1024.0),
                f(ours / theirs),
            ],
            vec![
                "sha2 0.11 SHA-512 alone, one core, 1 MiB chunks (not shipped)".into(),
                f(sha),
                "".into(),
                f(ours / sha),
            ],
            vec![
                "aws-lc-rs SHA-512 alone, one core (shipped: the client verifies with it)".into(),
                f(median(&aws)),
                "".into(),
                f(ours / median(&aws)),
            ],
            vec![
                "hashlib (OpenSSL) SHA-512 alone, for reference".into(),
                f(hashlib),
                "".into(),
                f(ours / hashlib),
            ],
        ],
    );
    s.line(format!(
        "- Target ≥ 90% of the shipped SHA-512 (aws-lc-rs) alone: {:.0}% — {}",
        100.0 * ours / median(&aws),
        verdict(ours >= 0.9 * median(&aws))
    ));
    s.line(format!(
        "- Target ahead of python-glanceclient: {}× — {} (stretch 1.5×: {})",
        f(ours / theirs),
        verdict(ours > theirs),
        verdict(ours >= 1.5 * theirs)
    ));
    s.line(format!(
        "- Runs: {} of each, interleaved; the mock serves from memory in its own process.",
        env.settings.reps
    ));
    Ok(s.finish())
}
