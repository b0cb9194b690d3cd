//! The whole-process harness: each comparison measured side by side in one
//! run (contenders interleaved, repetitions medianed), reported as ratios
//! so that a loaded machine skews both sides alike.

pub mod child;
pub mod download;
pub mod hash;
pub mod list;
pub mod memory;
pub mod parallel;
pub mod python;
pub mod rate;
pub mod report;
pub mod scaling;
pub mod upload;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use glance_client::{Client, ContainerFormat, CreateImage, DiskFormat};

/// How big and how long: the knobs of a run.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Size of the download and upload comparisons, MiB.
    pub size_mib: u64,
    /// The larger size of the memory figures, MiB.
    pub big_mib: u64,
    /// Size uploaded to real Glance, MiB.
    pub real_mib: u64,
    /// Size of each download in the scaling figures, MiB.
    pub scaling_mib: u64,
    /// Repetitions of each timed comparison.
    pub reps: usize,
    /// Seconds of each wrk run.
    pub rate_secs: u64,
    /// Port of the real Glance started for the comparisons (0: none).
    pub real_port: u16,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            size_mib: 1024,
            big_mib: 4096,
            real_mib: 256,
            scaling_mib: 256,
            reps: 3,
            rate_secs: 5,
            real_port: 9404,
        }
    }
}

/// Where things are: binaries beside this one, scratch space, the repo.
#[derive(Debug, Clone)]
pub struct Env {
    /// `target/release` (or wherever this binary runs from).
    pub bin_dir: PathBuf,
    /// Scratch files and the python venv live under this.
    pub work_dir: PathBuf,
    /// The workspace root.
    pub repo: PathBuf,
    /// The knobs.
    pub settings: Settings,
}

impl Env {
    /// Locate everything from this executable's path.
    pub fn discover(settings: Settings) -> Result<Env> {
        let exe = std::env::current_exe()?;
        let bin_dir = exe.parent().context("the binary's folder")?.to_owned();
        // target/release -> target/tmp, where the tests keep their venv too.
        let target = bin_dir.parent().context("the target folder")?;
        let work_dir = target.join("tmp");
        std::fs::create_dir_all(&work_dir)?;
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .context("the workspace root")?
            .to_owned();
        Ok(Env {
            bin_dir,
            work_dir,
            repo,
            settings,
        })
    }

    /// A binary built beside this one.
    pub fn bin(&self, name: &str) -> Result<PathBuf> {
        let p = self.bin_dir.join(name);
        if !p.exists() {
            bail!(
                "{} is missing: build it with `cargo build --release -p glance-bench -p glance-mock-server`",
                p.display()
            );
        }
        Ok(p)
    }

    /// Start the real Glance 33 on its port, if the launcher is there.
    pub fn start_real_glance(&self) -> Result<RealGlance> {
        let port = self.settings.real_port;
        if port == 0 {
            bail!("no port for real Glance (--real-port 0)");
        }
        let start = self.repo.join("../shared/real-glance/start");
        if !start.exists() {
            bail!("{} not found", start.display());
        }
        let out = Command::new(&start)
            .arg(port.to_string())
            .stdin(Stdio::null())
            .output()?;
        if !out.status.success() {
            bail!(
                "real Glance did not start: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        Ok(RealGlance { url, port })
    }
}

/// A real Glance started by [`Env::start_real_glance`]; stopped when dropped.
#[derive(Debug)]
pub struct RealGlance {
    /// Base URL.
    pub url: String,
    port: u16,
}

impl RealGlance {
    /// A client acting as admin through keystone-middleware headers.
    pub fn client(&self) -> Result<Client> {
        Ok(real_headers(Client::builder().endpoint(&self.url).token("bench")).build()?)
    }

    /// The identity headers the trusted pipeline reads.
    pub fn headers() -> [(&'static str, &'static str); 4] {
        [
            ("X-Identity-Status", "Confirmed"),
            ("X-Roles", "admin,member,reader"),
            ("X-Project-Id", "bench-project"),
            ("X-User-Id", "bench-user"),
        ]
    }
}

fn real_headers(mut b: glance_client::ClientBuilder) -> glance_client::ClientBuilder {
    for (k, v) in RealGlance::headers() {
        b = b.default_header(k, v);
    }
    b
}

impl Drop for RealGlance {
    fn drop(&mut self) {
        let pid_file = format!("/tmp/glance-ref-{}/gunicorn.pid", self.port);
        if let Ok(pid) = std::fs::read_to_string(pid_file) {
            let _ = Command::new("kill").arg(pid.trim()).status();
        }
    }
}

/// A server process of ours (`--bind 127.0.0.1:0`, prints `listening on
/// URL`); killed when dropped.
#[derive(Debug)]
pub struct ServerProc {
    child: Child,
    /// Base URL.
    pub url: String,
}

impl ServerProc {
    /// Start `bin` with `args` and wait for its `listening on` line.
    pub fn start(bin: &Path, args: &[&str]) -> Result<ServerProc> {
        let mut child = Command::new(bin)
            .args(["--bind", "127.0.0.1:0"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdout = child.stdout.take().context("stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .ok_or_else(|| anyhow!("{} printed {line:?}", bin.display()))?
            .to_owned();
        Ok(ServerProc { child, url })
    }

    /// Its process id, for `/proc`.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Resident set now, KiB.
    pub fn rss_kib(&self) -> Option<u64> {
        crate::procfs::status_kib(&self.pid().to_string(), "VmRSS")
    }
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The mock server binary, started fresh.
pub fn start_mock(env: &Env) -> Result<ServerProc> {
    ServerProc::start(&env.bin("glance-mock-server")?, &[])
}

/// The load average now, as `uptime` shows it (1, 5, 15 minutes).
pub fn load() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// The median of some figures (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// MiB/s for `bytes` in `secs`.
pub fn mib_s(bytes: u64, secs: f64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0) / secs
}

/// A 1 MiB block of pseudo-random bytes (xorshift), the unit of every
/// generated image: hashes run at the same speed on any content, and the
/// block is shared, so generating costs nothing.
pub fn block() -> Bytes {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut v = Vec::with_capacity(1 << 20);
    while v.len() < 1 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v.extend_from_slice(&x.to_le_bytes());
    }
    Bytes::from(v)
}

/// A stream of `mib` copies of [`block`].
pub fn generated(mib: u64) -> futures::stream::BoxStream<'static, std::io::Result<Bytes>> {
    use futures::StreamExt;
    let b = block();
    futures::stream::iter((0..mib).map(move |_| Ok(b.clone()))).boxed()
}

/// Create a raw/bare image named `name`.
pub async fn create_image(client: &Client, name: &str) -> Result<String> {
    let image = client
        .images()
        .create(
            &CreateImage::new(name)
                .disk_format(DiskFormat::Raw)
                .container_format(ContainerFormat::Bare),
        )
        .await?;
    Ok(image.id)
}

/// `PUT /v2/images/{id}/file` of `mib` generated MiB with a plain reqwest
/// client (no hashing, no copies): what the server's ingest alone takes.
/// Returns seconds from the request to the server's answer.
pub async fn raw_put(url: &str, id: &str, mib: u64, real: bool) -> Result<f64> {
    let http = reqwest::Client::new();
    let mut req = http
        .put(format!("{url}/v2/images/{id}/file"))
        .header("X-Auth-Token", "bench")
        .header("Content-Type", "application/octet-stream")
        .header("Content-Length", (mib << 20).to_string());
    if real {
        for (k, v) in RealGlance::headers() {
            req = req.header(k, v);
        }
    }
    let started = Instant::now();
    let resp = req
        .body(reqwest::Body::wrap_stream(generated(mib)))
        .send()
        .await?;
    let secs = started.elapsed().as_secs_f64();
    if !resp.status().is_success() {
        bail!(
            "PUT data answered {}: {}",
            resp.status(),
            resp.text().await?
        );
    }
    Ok(secs)
}

/// Upload `mib` generated MiB to a new image through our client; its id.
pub async fn image_with_data(client: &Client, name: &str, mib: u64) -> Result<String> {
    let id = create_image(client, name).await?;
    client
        .images()
        .upload(
            &id,
            glance_client::UploadBody::Stream {
                stream: generated(mib),
                size: Some(mib << 20),
            },
        )
        .await?;
    Ok(id)
}

/// Hash `mib` copies of the block in this thread; MiB/s. `algo`:
/// `sha512` and `md5` are what the client and the mock ship (OpenSSL, the
/// crates' default `openssl` feature, chosen by `cargo bench -- digest`);
/// `sha512-aws-lc`, `sha512-sha2` and `md5-md-5` the fallback's and the
/// pure-Rust ones.
pub fn hash_speed(algo: &str, mib: u64) -> f64 {
    let b = block();
    let started = Instant::now();
    hash_blocks(algo, &b, mib);
    mib_s(mib << 20, started.elapsed().as_secs_f64())
}

/// `mib` copies of `block` through `algo` (see [`hash_speed`]).
fn hash_blocks(algo: &str, block: &[u8], mib: u64) {
    use md5::Digest;
    match algo {
        "sha512" | "md5" => {
            let md = if algo == "md5" {
                openssl::hash::MessageDigest::md5()
            } else {
                openssl::hash::MessageDigest::sha512()
            };
            let Ok(mut h) = openssl::hash::Hasher::new(md) else {
                return;
            };
            for _ in 0..mib {
                let _ = h.update(block);
            }
            let _ = std::hint::black_box(h.finish());
        }
        "md5-md-5" => {
            let mut h = md5::Md5::new();
            for _ in 0..mib {
                h.update(block);
            }
            std::hint::black_box(h.finalize());
        }
        "sha512-aws-lc" => {
            let mut h = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA512);
            for _ in 0..mib {
                h.update(block);
            }
            std::hint::black_box(h.finish());
        }
        _ => {
            let mut h = sha2::Sha512::new();
            for _ in 0..mib {
                h.update(block);
            }
            std::hint::black_box(h.finalize());
        }
    }
}

/// The ceiling of the mock's ingest: its two digests (the shipped MD5 and
/// SHA-512) over the same `mib` MiB at once, one thread each; MiB/s of
/// data, both finished.
pub fn both_hashes_speed(mib: u64) -> f64 {
    let b = block();
    let started = Instant::now();
    std::thread::scope(|scope| {
        let md5 = scope.spawn(|| hash_blocks("md5", &b, mib));
        hash_blocks("sha512", &b, mib);
        let _ = md5.join();
    });
    mib_s(mib << 20, started.elapsed().as_secs_f64())
}

/// Run a child process that prints one JSON object on its last stdout line.
pub fn run_json(cmd: &mut Command) -> Result<serde_json::Value> {
    let started = Instant::now();
    let out = cmd.stdin(Stdio::null()).stderr(Stdio::piped()).output()?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or("");
    let mut v: serde_json::Value =
        serde_json::from_str(line).with_context(|| format!("{cmd:?} printed {stdout:?}"))?;
    v["wall_secs"] = started.elapsed().as_secs_f64().into();
    Ok(v)
}

/// A number field of a child's JSON.
pub fn num(v: &serde_json::Value, key: &str) -> f64 {
    v[key].as_f64().unwrap_or(f64::NAN)
}

/// Wait briefly for a server to settle between runs (freed memory, closed
/// sockets).
pub fn settle() {
    std::thread::sleep(Duration::from_millis(300));
}
