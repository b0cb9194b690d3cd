//! Section 1: Verified download from the mock: our client against
//! python-glanceclient's `images.data()`, our `glance image-download`
//! against python-glanceclient's (process to process), and both against
//! hashing alone.

use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Result, bail};

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
    let (mut aws, mut cli, mut py_cli) = (vec![], vec![], vec![]);
    let (mut ours_rss, mut py_rss) = (vec![], vec![]);
    let our_cli = env.bin_dir.join("glance");
    for _ in 0..env.settings.reps {
        sha.push(super::hash_speed("sha512", mib));
        aws.push(super::hash_speed("sha512-aws-lc", mib));
        let v = run_json(&mut child::download_cmd(env, &mock.url, &id, 1, true)?)?;
        ours.push(mib_s(num(&v, "bytes") as u64, num(&v, "secs")));
        ours_rss.push(num(&v, "peak_rss_kib"));
        let v = run_json(&mut child::download_cmd(env, &mock.url, &id, 1, false)?)?;
        raw.push(mib_s(num(&v, "bytes") as u64, num(&v, "secs")));
        if our_cli.exists() {
            let secs = cli_download(&mut Command::new(&our_cli), &mock.url, &id)?;
            cli.push(mib_s(mib << 20, secs));
        }
        if let Ok(p) = &py {
            let v = run_json(&mut python::command(p, python::DOWNLOAD, &[&mock.url, &id]))?;
            theirs.push(mib_s(num(&v, "bytes") as u64, num(&v, "secs")));
            py_rss.push(num(&v, "peak_rss_kib"));
            let secs = cli_download(&mut Command::new(python::cli(p)), &mock.url, &id)?;
            py_cli.push(mib_s(mib << 20, secs));
        }
    }
    if !our_cli.exists() {
        s.line(format!(
            "our CLI not measured: no {} (bench/run builds it)",
            our_cli.display()
        ));
    }
    let hashlib = match &py {
        Ok(p) => run_json(&mut python::command(p, python::HASHLIB, &["512"]))
            .map(|v| num(&v, "sha512"))
            .unwrap_or(f64::NAN),
        Err(_) => f64::NAN,
    };
    let (sha, ours, raw, theirs) = (median(&sha), median(&ours), median(&raw), median(&theirs));
    let (cli, py_cli) = (median(&cli), median(&py_cli));
    let row = |what: &str, v: f64, rss: String| vec![what.to_owned(), f(v), rss, f(ours / v)];
    s.table(
        &["what", "MiB/s (median)", "peak RSS MiB", "ours ÷ it"],
        &[
            row(
                "glance-client, verified (sha512)",
                ours,
                f(median(&ours_rss) / 1024.0),
            ),
            row(
                "glance-client, unverified (transport only)",
                raw,
                "".into(),
            ),
            row(
                "python-glanceclient 4.13 `images.data()`, validated",
                theirs,
                f(median(&py_rss) / 1024.0),
            ),
            row(
                "`glance image-download` (ours, release), verified, to /dev/null, whole process",
                cli,
                "".into(),
            ),
            row(
                "python-glanceclient 4.13 `glance image-download`, to /dev/null, whole process",
                py_cli,
                "".into(),
            ),
            row(
                "OpenSSL SHA-512 alone, one core, 1 MiB chunks (shipped: the client verifies with it)",
                sha,
                "".into(),
            ),
            row(
                "aws-lc-rs SHA-512 alone, one core (the fallback without `openssl`)",
                median(&aws),
                "".into(),
            ),
            row(
                "hashlib (OpenSSL) SHA-512 alone, for reference",
                hashlib,
                "".into(),
            ),
        ],
    );
    s.line(format!(
        "- Target verified download ≥ 95% of the shipped SHA-512 (OpenSSL) alone: {:.0}% (our CLI: {:.0}%) — {}",
        100.0 * ours / sha,
        100.0 * cli / sha,
        verdict(ours >= 0.95 * sha)
    ));
    s.line(format!(
        "- Target `glance image-download` ≥ 1.5× python-glanceclient's: {}× — {} (library to library, `data()`: {}×)",
        f(cli / py_cli),
        verdict(cli >= 1.5 * py_cli),
        f(ours / theirs)
    ));
    s.line(format!(
        "- Runs: {} of each, interleaved; the mock serves from memory in its own process.",
        env.settings.reps
    ));
    Ok(s.finish())
}

/// Seconds `cmd` (a `glance` CLI) takes to download image `id` from `url`
/// to stdout, which is /dev/null: the whole process, start-up included.
fn cli_download(cmd: &mut Command, url: &str, id: &str) -> Result<f64> {
    let started = Instant::now();
    let status = cmd
        .args(["--os-image-url", url, "--os-auth-token", "bench"])
        .args(["image-download", id])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()?;
    if !status.success() {
        bail!("{cmd:?} failed: {status}");
    }
    Ok(started.elapsed().as_secs_f64())
}
