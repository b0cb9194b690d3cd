//! Section 0: single-core speed of the digests alone, 1 MiB chunks: the
//! ceilings of verified downloads (SHA-512) and of the mock's ingest (MD5
//! and SHA-512 on two threads at once).

use anyhow::Result;

use super::report::{Section, f};
use super::{Env, median, num, python, run_json};

/// Run the measurements; Markdown.
pub async fn run(env: &Env) -> Result<String> {
    let mib = 256;
    let mut s = Section::new(&format!(
        "0. Hashes alone, one core, {mib} MiB in 1 MiB chunks"
    ));
    let (mut sha, mut aws, mut sha2, mut md5, mut md5_rust, mut both) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    let (mut py_sha, mut py_md5) = (vec![], vec![]);
    let py = python::python(env).ok();
    for _ in 0..env.settings.reps {
        sha.push(super::hash_speed("sha512", mib));
        aws.push(super::hash_speed("sha512-aws-lc", mib));
        sha2.push(super::hash_speed("sha512-sha2", mib));
        md5.push(super::hash_speed("md5", mib));
        md5_rust.push(super::hash_speed("md5-md-5", mib));
        both.push(super::both_hashes_speed(mib));
        if let Some(p) = &py {
            let v = run_json(&mut python::command(
                p,
                python::HASHLIB,
                &[&mib.to_string()],
            ))?;
            py_sha.push(num(&v, "sha512"));
            py_md5.push(num(&v, "md5"));
        }
    }
    let sha = median(&sha);
    let row = |what: &str, v: &[f64]| vec![what.to_owned(), f(median(v)), f(median(v) / sha)];
    s.table(
        &["hash", "MiB/s (median)", "÷ shipped SHA-512"],
        &[
            vec![
                "OpenSSL SHA-512 (shipped: client verify, mock ingest; the `openssl` feature)"
                    .into(),
                f(sha),
                "1".into(),
            ],
            row("OpenSSL MD5 (shipped: mock ingest, md5 verification)", &md5),
            row(
                "both at once, two threads over the same data (the mock's ingest ceiling)",
                &both,
            ),
            row(
                "aws-lc-rs 1 SHA-512 (the fallback without `openssl`; linked through rustls)",
                &aws,
            ),
            row("sha2 0.11 SHA-512 (RustCrypto, for comparison)", &sha2),
            row("md-5 0.11 MD5 (the fallback without `openssl`)", &md5_rust),
            row("Python hashlib (OpenSSL) SHA-512", &py_sha),
            row("Python hashlib (OpenSSL) MD5", &py_md5),
        ],
    );
    s.line(
        "- Every backend of every algorithm, side by side: `cargo bench -p glance-bench -- digest`.",
    );
    Ok(s.finish())
}
