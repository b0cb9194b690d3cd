//! Section 0: single-core speed of the digests alone, 1 MiB chunks: the
//! ceilings of verified downloads (SHA-512) and of the mock's ingest (the
//! slower of MD5 and SHA-512).

use anyhow::Result;

use super::report::{Section, f};
use super::{Env, median, num, python, run_json};

/// Run the measurements; Markdown.
pub async fn run(env: &Env) -> Result<String> {
    let mib = 256;
    let mut s = Section::new(&format!(
        "0. Hashes alone, one core, {mib} MiB in 1 MiB chunks"
    ));
    let (mut sha, mut aws, mut md5, mut py_sha, mut py_md5) =
        (vec![], vec![], vec![], vec![], vec![]);
    let py = python::python(env).ok();
    for _ in 0..env.settings.reps {
        sha.push(super::hash_speed("sha512", mib));
        aws.push(super::hash_speed("sha512-aws-lc", mib));
        md5.push(super::hash_speed("md5", mib));
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
    s.table(
        &["hash", "MiB/s (median)", "÷ sha2 SHA-512"],
        &[
            vec![
                "sha2 0.11 SHA-512 (the RustCrypto crate, for comparison)".into(),
                f(sha),
                "1".into(),
            ],
            vec![
                "aws-lc-rs 1 SHA-512 (shipped: client verify, mock ingest; linked already through rustls)".into(),
                f(median(&aws)),
                f(median(&aws) / sha),
            ],
            vec![
                "md-5 0.11 MD5 (shipped: mock ingest)".into(),
                f(median(&md5)),
                f(median(&md5) / sha),
            ],
            vec![
                "Python hashlib (OpenSSL) SHA-512".into(),
                f(median(&py_sha)),
                f(median(&py_sha) / sha),
            ],
            vec![
                "Python hashlib (OpenSSL) MD5".into(),
                f(median(&py_md5)),
                f(median(&py_md5) / sha),
            ],
        ],
    );
    Ok(s.finish())
}
