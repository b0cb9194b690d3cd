//! Streaming integrity checks for downloads.
//!
//! The check is chosen as python-glanceclient's `data()` documents it:
//! the image's `os_hash_algo`/`os_hash_value` when present (an unknown
//! algorithm is an error unless the md5 fallback is allowed), else the md5
//! `checksum`, else the response's `Content-MD5`, else none.
//!
//! A byte stream cannot take bytes back once delivered, so [`verified`]
//! holds back the most recent chunk until the digest of the whole body has
//! been compared: a corrupt download ends in [`Error::ChecksumMismatch`]
//! before its last bytes are seen, never in a complete-looking success.

use bytes::Bytes;
use futures::{Stream, StreamExt};

use crate::digest::Hasher;
use crate::error::{Error, Result};
use crate::images::Image;

/// Which digest a download is checked against.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    /// Checked with `algorithm` against `expected` (hex).
    Digest {
        /// One of [`SUPPORTED_ALGORITHMS`], lower case.
        algorithm: String,
        /// Hex digest the data must have.
        expected: String,
    },
    /// Not checked: verification was turned off by the caller.
    None,
    /// **Not verified**: verification was asked for, but the image has no
    /// `os_hash_value`, no `checksum` and the answer no `Content-MD5`
    /// (legacy snapshots, images added by location). Only the length is
    /// checked; the caller should say so.
    Unavailable,
}

impl Verification {
    /// Whether the bytes are checked against a digest.
    pub fn is_verified(&self) -> bool {
        matches!(self, Verification::Digest { .. })
    }
}

/// How to check downloads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Check at all (`do_checksum` in glanceclient). Default: true.
    pub enabled: bool,
    /// Use the md5 `checksum` when `os_hash_algo` is not supported here.
    pub allow_md5_fallback: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            enabled: true,
            allow_md5_fallback: false,
        }
    }
}

/// The `os_hash_algo` values this client verifies: every `hashlib` name a
/// deployment can realistically set as Glance's `hashing_algorithm`, as
/// Glance writes it. A change of the hash implementations (`digest.rs`)
/// must keep this list.
pub const SUPPORTED_ALGORITHMS: [&str; 14] = [
    "sha1",
    "sha224",
    "sha256",
    "sha384",
    "sha512",
    "sha512_224",
    "sha512_256",
    "sha3_224",
    "sha3_256",
    "sha3_384",
    "sha3_512",
    "blake2b",
    "blake2s",
    "md5",
];

fn looks_like_md5_hex(s: &str) -> bool {
    s.len() == 32 && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// Choose the check for a download of `image` whose response carried `content_md5`.
pub fn choose(
    image: Option<&Image>,
    content_md5: Option<&str>,
    options: VerifyOptions,
) -> Result<Verification> {
    if !options.enabled {
        return Ok(Verification::None);
    }
    let digest = |algorithm: &str, expected: &str| Verification::Digest {
        algorithm: algorithm.to_ascii_lowercase(),
        expected: expected.to_owned(),
    };
    if let Some(img) = image {
        if let Some(value) = &img.os_hash_value {
            let algo = img.os_hash_algo.as_deref().unwrap_or("");
            if Hasher::for_algorithm(algo).is_some() {
                return Ok(digest(algo, value));
            }
            if !options.allow_md5_fallback {
                return Err(Error::UnsupportedHashAlgorithm(algo.to_owned()));
            }
        }
        if let Some(sum) = &img.checksum {
            return Ok(digest("md5", sum));
        }
    }
    match content_md5 {
        Some(sum) if looks_like_md5_hex(sum) => Ok(digest("md5", sum)),
        Some(other) => {
            tracing::warn!(
                content_md5 = other,
                "Content-MD5 is not an md5 hex digest; the download is not verified"
            );
            Ok(Verification::Unavailable)
        }
        None => {
            tracing::warn!(
                image = image.map(|i| i.id.as_str()),
                "the image has no checksum nor os_hash_value: the download is not verified"
            );
            Ok(Verification::Unavailable)
        }
    }
}

/// Chunks are handed to the hashing thread in batches of about this many
/// bytes (network reads are often only a few KiB).
const BATCH: usize = 256 * 1024;
/// Batches queued for the hashing thread: bounds the memory between the
/// network and the hash (`BATCH * DEPTH` plus what is in flight).
const DEPTH: usize = 16;

/// A digest computed on a blocking thread, fed through a bounded channel,
/// so that reading the network and hashing overlap.
struct OffThreadHasher {
    batch: Vec<Bytes>,
    batched: usize,
    tx: tokio::sync::mpsc::Sender<Vec<Bytes>>,
    done: tokio::task::JoinHandle<std::io::Result<String>>,
}

impl OffThreadHasher {
    fn spawn(mut hasher: Hasher) -> Self {
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Bytes>>(DEPTH);
        let done = tokio::task::spawn_blocking(move || {
            while let Some(batch) = rx.blocking_recv() {
                for chunk in batch {
                    hasher.update(&chunk);
                }
            }
            hasher.finish_hex()
        });
        OffThreadHasher {
            batch: Vec::new(),
            batched: 0,
            tx,
            done,
        }
    }

    async fn flush(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        self.batched = 0;
        let batch = std::mem::take(&mut self.batch);
        self.tx
            .send(batch)
            .await
            .map_err(|_| Error::Io(std::io::Error::other("the hashing thread stopped")))
    }

    /// Queue a chunk (cheap: `Bytes` are shared, not copied).
    async fn update(&mut self, chunk: Bytes) -> Result<()> {
        self.batched += chunk.len();
        self.batch.push(chunk);
        if self.batched >= BATCH {
            self.flush().await?;
        }
        Ok(())
    }

    /// The hex digest of everything queued.
    async fn finish(mut self) -> Result<String> {
        self.flush().await?;
        drop(self.tx);
        self.done
            .await
            .map_err(|e| {
                Error::Io(std::io::Error::other(format!(
                    "the hashing thread failed: {e}"
                )))
            })?
            .map_err(Error::Io)
    }
}

/// Wrap `inner` so that it ends in an error unless its bytes match
/// `verification` and number `expected_len` (when known).
///
/// The digest is computed on a blocking thread while the next bytes are
/// read; the most recent chunk is held back until it has been compared.
/// Poll the stream inside a Tokio runtime (it uses `spawn_blocking`).
pub fn verified<S>(
    inner: S,
    verification: Verification,
    expected_len: Option<u64>,
) -> impl Stream<Item = Result<Bytes>> + Send + 'static
where
    S: Stream<Item = Result<Bytes>> + Send + 'static,
{
    async_stream::stream! {
        let (mut hasher, check) = match verification {
            Verification::Digest { algorithm, expected } => {
                match Hasher::for_algorithm(&algorithm) {
                    Some(h) => (Some(OffThreadHasher::spawn(h)), Some((algorithm, expected))),
                    None => {
                        yield Err(Error::UnsupportedHashAlgorithm(algorithm));
                        return;
                    }
                }
            }
            Verification::None | Verification::Unavailable => (None, None),
        };
        let mut pending: Option<Bytes> = None;
        let mut received: u64 = 0;
        let mut inner = std::pin::pin!(inner);
        while let Some(item) = inner.next().await {
            let chunk = match item {
                Ok(chunk) => chunk,
                Err(e) => {
                    yield Err(e);
                    return;
                }
            };
            if chunk.is_empty() {
                continue;
            }
            received += chunk.len() as u64;
            if let Some(size) = expected_len.filter(|size| received > *size) {
                // Not one byte past the image is handed on.
                yield Err(Error::BodyTooLong { size });
                return;
            }
            if let Some(h) = hasher.as_mut() {
                if let Err(e) = h.update(chunk.clone()).await {
                    yield Err(e);
                    return;
                }
            }
            if let Some(previous) = pending.replace(chunk) {
                yield Ok(previous);
            }
        }
        if let Some(expected) = expected_len {
            if received != expected {
                yield Err(Error::Incomplete { expected, received });
                return;
            }
        }
        if let (Some(h), Some((algorithm, expected))) = (hasher, check) {
            let actual = match h.finish().await {
                Ok(actual) => actual,
                Err(e) => {
                    yield Err(e);
                    return;
                }
            };
            if !actual.eq_ignore_ascii_case(&expected) {
                yield Err(Error::ChecksumMismatch { algorithm, expected, actual });
                return;
            }
        }
        if let Some(last) = pending {
            yield Ok(last);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::stream;

    fn chunks(parts: &[&'static [u8]]) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
        stream::iter(
            parts
                .iter()
                .map(|p| Ok(Bytes::from_static(p)))
                .collect::<Vec<_>>(),
        )
    }

    fn sha512_hex(data: &[u8]) -> String {
        use sha2::Digest as _;
        hex::encode(sha2::Sha512::digest(data))
    }

    #[tokio::test]
    async fn good_data_passes_whole() {
        let v = Verification::Digest {
            algorithm: "sha512".into(),
            expected: sha512_hex(b"hello world"),
        };
        let out: Vec<Result<Bytes>> = verified(chunks(&[b"hello ", b"world"]), v, Some(11))
            .collect()
            .await;
        let data: Vec<u8> = out
            .into_iter()
            .flat_map(|r| r.expect("ok").to_vec())
            .collect();
        assert_eq!(data, b"hello world");
    }

    #[tokio::test]
    async fn corrupt_data_never_completes() {
        let v = Verification::Digest {
            algorithm: "sha512".into(),
            expected: sha512_hex(b"hello world"),
        };
        let out: Vec<Result<Bytes>> = verified(chunks(&[b"hello ", b"w0rld"]), v, None)
            .collect()
            .await;
        assert_eq!(
            out.len(),
            2,
            "first chunk, then the error instead of the last"
        );
        assert_eq!(out[0].as_ref().expect("first chunk").as_ref(), b"hello ");
        assert!(
            matches!(&out[1], Err(Error::ChecksumMismatch { algorithm, .. }) if algorithm == "sha512")
        );
    }

    #[tokio::test]
    async fn many_small_chunks_are_hashed_in_order_across_batches() {
        // 600 KiB in 1000-byte pieces: several batches reach the hashing
        // thread, the last one only at the end.
        let data: Vec<u8> = (0..600 * 1024).map(|i| (i % 253) as u8).collect();
        let pieces: Vec<Result<Bytes>> = data
            .chunks(1000)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let v = Verification::Digest {
            algorithm: "sha512".into(),
            expected: sha512_hex(&data),
        };
        let out: Vec<Result<Bytes>> = verified(stream::iter(pieces), v, Some(data.len() as u64))
            .collect()
            .await;
        let mut joined = Vec::new();
        for item in out {
            joined.extend_from_slice(&item.expect("verified"));
        }
        assert_eq!(joined, data);
    }

    #[tokio::test]
    async fn an_unknown_algorithm_is_an_error_not_a_pass() {
        let v = Verification::Digest {
            algorithm: "crc7".into(),
            expected: "00".into(),
        };
        let out: Vec<Result<Bytes>> = verified(chunks(&[b"x"]), v, None).collect().await;
        assert!(matches!(
            out.as_slice(),
            [Err(Error::UnsupportedHashAlgorithm(a))] if a == "crc7"
        ));
    }

    #[tokio::test]
    async fn a_body_longer_than_the_image_stops_at_the_first_byte_past_it() {
        let endless = stream::iter(std::iter::repeat_with(|| {
            Ok(Bytes::from_static(b"0123456789"))
        }));
        let out: Vec<Result<Bytes>> = verified(endless, Verification::None, Some(25))
            .collect()
            .await;
        let delivered: usize = out
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(Bytes::len)
            .sum();
        assert!(delivered <= 25, "{delivered} bytes delivered");
        let last = out.last().expect("an item");
        assert!(
            matches!(last, Err(Error::BodyTooLong { size: 25 })),
            "{last:?}"
        );
        assert!(
            last.as_ref()
                .expect_err("an error")
                .to_string()
                .contains("longer than the image")
        );
    }

    #[tokio::test]
    async fn short_body_is_incomplete() {
        let out: Vec<Result<Bytes>> = verified(chunks(&[b"abc"]), Verification::None, Some(5))
            .collect()
            .await;
        assert!(matches!(
            out.as_slice(),
            [Err(Error::Incomplete {
                expected: 5,
                received: 3
            })]
        ));
    }

    #[test]
    fn choice_follows_glanceclient_order() {
        let mut img: Image = serde_json::from_value(serde_json::json!({
            "id": "i", "status": "active", "checksum": "0123456789abcdef0123456789abcdef",
            "os_hash_algo": "sha512", "os_hash_value": "ff"
        }))
        .expect("image");
        let opts = VerifyOptions::default();
        assert!(
            matches!(choose(Some(&img), None, opts), Ok(Verification::Digest { algorithm, .. }) if algorithm == "sha512")
        );
        img.os_hash_algo = Some("blake9".into());
        assert!(matches!(
            choose(Some(&img), None, opts),
            Err(Error::UnsupportedHashAlgorithm(_))
        ));
        let fallback = VerifyOptions {
            allow_md5_fallback: true,
            ..opts
        };
        assert!(
            matches!(choose(Some(&img), None, fallback), Ok(Verification::Digest { algorithm, .. }) if algorithm == "md5")
        );
        assert_eq!(
            choose(None, Some("0123456789abcdef0123456789abcdef"), opts).expect("ok"),
            Verification::Digest {
                algorithm: "md5".into(),
                expected: "0123456789abcdef0123456789abcdef".into()
            }
        );
        assert_eq!(
            choose(None, None, opts).expect("ok"),
            Verification::Unavailable,
            "nothing to check against is said, not passed silently"
        );
        let off = VerifyOptions {
            enabled: false,
            ..opts
        };
        assert_eq!(
            choose(Some(&img), None, off).expect("ok"),
            Verification::None
        );
    }
}
