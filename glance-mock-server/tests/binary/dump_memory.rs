//! Memory of inline state dumps and seeds (issue 17): `GET
//! /_mock/state?data=inline` streams the image data as base64, so dumping
//! a large image costs the server a bounded amount of memory, not a
//! multiple of the image; `POST /_mock/state` holds the body and the
//! decoded data, no more (`control::dump` has the bound).
//!
//! The server runs as its own process (the binary) so that its resident
//! set can be read from `/proc`: the peak (`VmHWM`) is reset just before
//! the dump or load and read right after it. Linux only.

#![cfg(target_os = "linux")]

use std::time::Instant;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use bytes::Bytes;
use futures::StreamExt;
use md5::{Digest, Md5};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::http::{Api, Who};
use crate::harness::process::{Killed, spawn_binary};

/// The image dumped.
const IMAGE_SIZE: usize = 256 << 20;

/// What the dump may add to the server's peak resident set.
const ALLOWED_GROWTH_KIB: u64 = 64 << 10;

struct Server {
    child: Killed,
    /// The API, as an admin of project `p`.
    api: Api,
}

impl Server {
    fn start() -> Server {
        let (child, url) = spawn_binary::<_, &str>([]);
        let api = Api::remote(url).acting_as(Who::new("admin,member,reader", "p"));
        Server { child, api }
    }

    /// A `/proc/PID/status` field, in KiB.
    fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .expect("the server's /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in /proc status"))
    }

    /// Make `VmHWM` start again from the current resident set.
    fn reset_peak(&self) {
        std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5")
            .expect("clear_refs writable (Linux 4.0 or later)");
    }
}

/// `size` pseudo-random bytes in 1 MiB pieces, generated as sent, and
/// their md5 once all are sent.
fn image_body(size: usize) -> (reqwest::Body, tokio::sync::oneshot::Receiver<String>) {
    let (done, md5) = tokio::sync::oneshot::channel();
    let mut state = Some((fastrand::Rng::with_seed(17), Md5::new(), 0usize, done));
    let pieces = futures::stream::poll_fn(move |_| {
        let Some((rng, hash, sent, _)) = state.as_mut() else {
            return std::task::Poll::Ready(None);
        };
        if *sent == size {
            if let Some((_, hash, _, done)) = state.take() {
                let _ = done.send(hex::encode(hash.finalize()));
            }
            return std::task::Poll::Ready(None);
        }
        let mut piece = vec![0u8; 1 << 20];
        rng.fill(&mut piece);
        hash.update(&piece);
        *sent += piece.len();
        std::task::Poll::Ready(Some(Ok::<_, std::io::Error>(Bytes::from(piece))))
    });
    (reqwest::Body::wrap_stream(pieces), md5)
}

/// A dump read as it arrives: the JSON around the one entry's
/// `content_base64`, and that content decoded piece by piece into its md5.
struct DumpReader {
    /// Everything but the content (small).
    outside: Vec<u8>,
    /// Base64 characters of the content still to come; `None` before the
    /// content starts.
    content_left: Option<usize>,
    /// Base64 characters not yet decoded (fewer than 4 after each piece).
    pending: Vec<u8>,
    md5: Md5,
    decoded: usize,
}

const MARKER: &[u8] = b"\"content_base64\":\"";

impl DumpReader {
    fn new() -> Self {
        DumpReader {
            outside: Vec::new(),
            content_left: None,
            pending: Vec::new(),
            md5: Md5::new(),
            decoded: 0,
        }
    }

    fn feed(&mut self, mut piece: &[u8]) {
        while !piece.is_empty() {
            match self.content_left {
                None => {
                    let before = self.outside.len();
                    self.outside.extend_from_slice(piece);
                    piece = &[];
                    let from = before.saturating_sub(MARKER.len());
                    if let Some(at) = self.outside[from..]
                        .windows(MARKER.len())
                        .position(|w| w == MARKER)
                    {
                        let end = from + at + MARKER.len();
                        let rest = self.outside.split_off(end);
                        self.content_left = Some(IMAGE_SIZE.div_ceil(3) * 4);
                        self.feed(&rest);
                    }
                }
                Some(0) => {
                    self.outside.extend_from_slice(piece);
                    piece = &[];
                }
                Some(left) => {
                    let take = left.min(piece.len());
                    self.pending.extend_from_slice(&piece[..take]);
                    piece = &piece[take..];
                    self.content_left = Some(left - take);
                    let whole = self.pending.len() / 4 * 4;
                    let bytes = BASE64
                        .decode(&self.pending[..whole])
                        .expect("content_base64 is base64");
                    self.md5.update(&bytes);
                    self.decoded += bytes.len();
                    self.pending.drain(..whole);
                }
            }
        }
    }
}

/// Create an image and upload `size` bytes to it: its id and the md5 sent.
async fn upload(server: &Server, size: usize) -> (String, String) {
    let resp = server
        .api
        .owner(Method::POST, "/v2/images")
        .json(&json!({"disk_format": "raw", "container_format": "bare"}))
        .send()
        .await
        .expect("created");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let id = resp.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let (body, sent_md5) = image_body(size);
    let resp = server
        .api
        .owner(Method::PUT, &format!("/v2/images/{id}/file"))
        .header("Content-Type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .expect("uploaded");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    (id, sent_md5.await.expect("the whole image was sent"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inline_dump_of_a_large_image_takes_bounded_memory() {
    let server = Server::start();
    let started = Instant::now();
    let (id, sent_md5) = upload(&server, IMAGE_SIZE).await;
    let uploaded = started.elapsed();

    let rss_before = server.status_kib("VmRSS");
    server.reset_peak();
    let started = Instant::now();
    let resp = server
        .api
        .owner(Method::GET, "/_mock/state?data=inline")
        .send()
        .await
        .expect("dump answered");
    assert_eq!(resp.status(), StatusCode::OK);
    let mut dump = DumpReader::new();
    let mut body = resp.bytes_stream();
    let mut total = 0usize;
    while let Some(piece) = body.next().await {
        let piece = piece.expect("dump body");
        total += piece.len();
        dump.feed(&piece);
    }
    let dumped = started.elapsed();
    let peak = server.status_kib("VmHWM");
    let rss_after = server.status_kib("VmRSS");
    let growth = peak.saturating_sub(rss_before);
    eprintln!(
        "upload {uploaded:.1?}; dump {total} bytes in {dumped:.1?}; \
         RSS {rss_before} KiB before, peak {peak} KiB during, {rss_after} KiB after: \
         growth {growth} KiB"
    );

    assert_eq!(dump.content_left, Some(0), "the whole content arrived");
    assert!(dump.pending.is_empty());
    assert_eq!(dump.decoded, IMAGE_SIZE);
    let content_md5 = hex::encode(dump.md5.finalize());
    assert_eq!(content_md5, sent_md5);
    let rest: Value = serde_json::from_slice(&dump.outside).expect("the dump is JSON");
    let entry = &rest["data"][0];
    assert_eq!(entry["image_id"], id.as_str());
    assert_eq!(entry["size"], IMAGE_SIZE);
    assert_eq!(entry["md5"], sent_md5.as_str());
    assert_eq!(entry["content_base64"], "");
    assert_eq!(rest["images"][0]["checksum"], sent_md5.as_str());
    assert!(
        growth < ALLOWED_GROWTH_KIB,
        "dumping {IMAGE_SIZE} bytes inline grew the server's peak RSS by {growth} KiB"
    );
}

/// Loading holds the body (base64: 1.33 times the data) and the decoded
/// data (once, handed to the store without a copy): 2.33 times the data
/// at the peak, of which the data stays in a memory store. Before, the
/// base64 copied out of the body into strings came on top (4.0 times).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inline_seed_loads_in_memory_proportional_to_its_data() {
    const SIZE: usize = 128 << 20;
    let server = Server::start();
    let (id, sent_md5) = upload(&server, SIZE).await;
    let seed = tempfile::tempfile().expect("temp file");
    let mut seed = tokio::fs::File::from_std(seed);
    let resp = server
        .api
        .owner(Method::GET, "/_mock/state?data=inline")
        .send()
        .await
        .expect("dump answered");
    let mut body = resp.bytes_stream();
    let mut seed_len = 0u64;
    while let Some(piece) = body.next().await {
        let piece = piece.expect("dump body");
        seed_len += piece.len() as u64;
        tokio::io::AsyncWriteExt::write_all(&mut seed, &piece)
            .await
            .expect("written");
    }
    let resp = server
        .api
        .owner(Method::POST, "/_mock/reset")
        .send()
        .await
        .expect("reset");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    tokio::io::AsyncSeekExt::rewind(&mut seed)
        .await
        .expect("rewound");
    let rss_before = server.status_kib("VmRSS");
    server.reset_peak();
    let started = Instant::now();
    let resp = server
        .api
        .owner(Method::POST, "/_mock/state")
        .header("Content-Type", "application/json")
        .header("Content-Length", seed_len)
        .body(reqwest::Body::wrap_stream(
            tokio_util::io::ReaderStream::new(seed),
        ))
        .send()
        .await
        .expect("load answered");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let loaded = started.elapsed();
    let peak = server.status_kib("VmHWM");
    let rss_after = server.status_kib("VmRSS");
    let growth = peak.saturating_sub(rss_before);
    let data_kib = (SIZE >> 10) as u64;
    eprintln!(
        "load of {seed_len} bytes ({data_kib} KiB of data) in {loaded:.1?}: \
         RSS {rss_before} KiB before, peak {peak} KiB during, {rss_after} KiB after: \
         growth {growth} KiB ({:.2} times the data)",
        growth as f64 / data_kib as f64
    );

    let resp = server
        .api
        .owner(Method::GET, &format!("/v2/images/{id}"))
        .send()
        .await
        .expect("shown");
    assert_eq!(
        resp.json::<Value>().await.expect("json")["checksum"],
        sent_md5.as_str()
    );
    assert!(
        growth * 4 < data_kib * 11,
        "loading {SIZE} bytes inline grew the server's peak RSS by {growth} KiB"
    );
}
