//! What runs in a child process of its own, so that its peak RSS and its
//! time are its own: one or more downloads, or an upload. Each prints one
//! JSON line: `secs`, `bytes`, `peak_rss_kib`, `allocs`.

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result};
use futures::TryStreamExt;
use glance_client::{DownloadOptions, UploadBody};

use crate::alloc::Snapshot;
use crate::pages::client;

/// `streams` concurrent downloads of image `id` (verified unless told),
/// each over `connections` connections.
pub async fn download(
    url: &str,
    id: &str,
    streams: usize,
    verify: bool,
    connections: usize,
) -> Result<()> {
    let client = client(url)?;
    let options = if verify {
        DownloadOptions::default()
    } else {
        DownloadOptions::unverified()
    }
    .connections(connections);
    let allocs = Snapshot::now();
    let started = Instant::now();
    let tasks: Vec<_> = (0..streams)
        .map(|_| {
            let client = client.clone();
            let id = id.to_owned();
            tokio::spawn(async move {
                let mut data = client
                    .images()
                    .download_with(&id, &options)
                    .await?
                    .context("the image has no data")?;
                let mut n = 0u64;
                while let Some(chunk) = data.try_next().await? {
                    n += chunk.len() as u64;
                }
                anyhow::Ok(n)
            })
        })
        .collect();
    let mut bytes = 0;
    for t in tasks {
        bytes += t.await??;
    }
    print_result(started, bytes, allocs);
    Ok(())
}

/// Where an upload's bytes come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// A file, as `UploadBody::File`.
    File(PathBuf),
    /// Generated MiB, as `UploadBody::Stream`.
    Generated(u64),
}

/// Upload to image `id`.
pub async fn upload(url: &str, id: &str, source: Source) -> Result<()> {
    let client = client(url)?;
    let (body, bytes) = match source {
        Source::File(p) => {
            let n = std::fs::metadata(&p)?.len();
            (UploadBody::File(p), n)
        }
        Source::Generated(mib) => (
            UploadBody::Stream {
                stream: super::generated(mib),
                size: Some(mib << 20),
            },
            mib << 20,
        ),
    };
    let allocs = Snapshot::now();
    let started = Instant::now();
    client.images().upload(id, body).await?;
    print_result(started, bytes, allocs);
    Ok(())
}

fn print_result(started: Instant, bytes: u64, allocs: Snapshot) {
    let secs = started.elapsed().as_secs_f64();
    let allocs = Snapshot::now().since(allocs);
    println!(
        "{}",
        serde_json::json!({
            "secs": secs,
            "bytes": bytes,
            "peak_rss_kib": crate::procfs::peak_rss_kib(),
            "allocs": allocs.count,
        })
    );
}

/// The command line running [`download`] in a fresh `glance-bench`.
pub fn download_cmd(
    env: &super::Env,
    url: &str,
    id: &str,
    streams: usize,
    verify: bool,
) -> Result<Command> {
    let mut c = Command::new(env.bin("glance-bench")?);
    c.args(["child-download", "--url", url, "--id", id, "--streams"])
        .arg(streams.to_string());
    if !verify {
        c.arg("--no-verify");
    }
    Ok(c)
}

/// The command line running [`upload`] in a fresh `glance-bench`.
pub fn upload_cmd(env: &super::Env, url: &str, id: &str, source: &Source) -> Result<Command> {
    let mut c = Command::new(env.bin("glance-bench")?);
    c.args(["child-upload", "--url", url, "--id", id]);
    match source {
        Source::File(p) => c.arg("--file").arg(p),
        Source::Generated(mib) => c.arg("--generated-mib").arg(mib.to_string()),
    };
    Ok(c)
}
