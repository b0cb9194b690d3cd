//! Downloading image data as a verified stream.

use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{Stream, StreamExt, TryStreamExt};
use reqwest::{Method, StatusCode};
use tokio::io::AsyncWriteExt;

use super::{Image, Images, get_spec, parallel, resume};
use crate::error::{Error, Result};
use crate::transport::{RequestSpec, request_id};
use crate::verify::{self, Verification, VerifyOptions};

/// Bytes reserved at most before a download's data arrives
/// ([`Download::bytes`]), whatever `Content-Length` claims.
const PREALLOCATE_MAX: u64 = 8 << 20;

/// What [`Images::download_to_path`] and [`Images::download_to_writer`]
/// wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Saved {
    /// Bytes written.
    pub bytes: u64,
    /// How they were checked: [`Verification::Unavailable`] means they were
    /// **not verified** (the image has no digest at all), which the caller
    /// should tell its user; [`Verification::None`], that verification was
    /// turned off.
    pub verification: Verification,
}

impl Saved {
    /// Whether the bytes were checked against a digest.
    pub fn is_verified(&self) -> bool {
        self.verification.is_verified()
    }
}

/// Options of a download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownloadOptions {
    /// How the bytes are checked.
    pub verify: VerifyOptions,
    /// How many times a broken transfer is resumed (`Range: bytes=N-`)
    /// before giving up with [`Error::ResumeFailed`]. Default 3; 0 turns
    /// resuming off.
    pub resume_attempts: u32,
    /// How many connections fetch the image at once, in ranges (see
    /// [`DownloadOptions::connections`]). Default 1.
    pub connections: usize,
}

impl Default for DownloadOptions {
    fn default() -> Self {
        DownloadOptions {
            verify: VerifyOptions::default(),
            resume_attempts: 3,
            connections: 1,
        }
    }
}

impl DownloadOptions {
    /// Do not check the data at all (glanceclient's `do_checksum=False`).
    pub fn unverified() -> Self {
        DownloadOptions {
            verify: VerifyOptions {
                enabled: false,
                allow_md5_fallback: false,
            },
            ..Self::default()
        }
    }

    /// Resume a broken transfer at most `attempts` times (0: never).
    pub fn resume_attempts(mut self, attempts: u32) -> Self {
        self.resume_attempts = attempts;
        self
    }

    /// Fetch the image over `n` connections at once (at most 16; 0 and 1
    /// mean one): in ranges of 8 MiB, each retried and resumed on its own
    /// (`resume_attempts` each), put back in order for one digest, so
    /// every check of a single connection holds. At most `n` × 8 MiB are
    /// held in memory. Behind a store or proxy that caps each connection,
    /// `n` connections go up to `n` times as fast.
    ///
    /// Only when the server answers ranges (`206` with `Content-Range`, as
    /// Glance does); otherwise, and for an image of 8 MiB or less or one
    /// whose record has no digest (only `Content-MD5` to check, which is
    /// the whole image's), one connection is used, silently.
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client, id: &str) -> glance_client::Result<()> {
    /// use glance_client::DownloadOptions;
    /// let options = DownloadOptions::default().connections(4);
    /// client.images().download_to_path_with(id, "disk.raw", &options).await?;
    /// # Ok(()) }
    /// ```
    pub fn connections(mut self, n: usize) -> Self {
        self.connections = n;
        self
    }

    /// Fall back to md5 when `os_hash_algo` is not supported here.
    pub fn allow_md5_fallback(mut self, allow: bool) -> Self {
        self.verify.allow_md5_fallback = allow;
        self
    }
}

/// An image's data on its way: metadata plus a byte stream that ends in an
/// error, never in success, when the bytes do not match the image's digest.
pub struct Download {
    /// The image record read before the download (when verifying).
    pub image: Option<Image>,
    /// `Content-Length` of the response; with several connections
    /// ([`DownloadOptions::connections`]), the image's size from the first
    /// range's `Content-Range`.
    pub content_length: Option<u64>,
    /// `Content-MD5` of the response (Glance sends the md5 hex).
    pub content_md5: Option<String>,
    /// The check applied to the bytes. [`Verification::Unavailable`] means
    /// the data is **not verified** (the image has no digest at all): tell
    /// the user.
    pub verification: Verification,
    /// `x-openstack-request-id` of the data response.
    pub request_id: Option<String>,
    stream: BoxStream<'static, Result<Bytes>>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("content_length", &self.content_length)
            .field("content_md5", &self.content_md5)
            .field("verification", &self.verification)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

impl Stream for Download {
    type Item = Result<Bytes>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.stream.as_mut().poll_next(cx)
    }
}

impl Download {
    /// A download of these parts (the parallel path builds its own).
    pub(super) fn from_parts(
        image: Option<Image>,
        content_length: Option<u64>,
        content_md5: Option<String>,
        verification: Verification,
        request_id: Option<String>,
        stream: BoxStream<'static, Result<Bytes>>,
    ) -> Self {
        Download {
            image,
            content_length,
            content_md5,
            verification,
            request_id,
            stream,
        }
    }

    /// Read everything into memory (verified).
    pub async fn bytes(self) -> Result<Bytes> {
        // The server's Content-Length is a claim, not a promise: reserve
        // at most PREALLOCATE_MAX up front and let the vector grow.
        let reserve = self.content_length.unwrap_or(0).min(PREALLOCATE_MAX);
        let mut buf = Vec::with_capacity(usize::try_from(reserve).unwrap_or(0));
        let mut stream = self.stream;
        while let Some(chunk) = stream.try_next().await? {
            buf.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(buf))
    }

    /// The data as an `AsyncRead`; a checksum mismatch surfaces as an
    /// `io::Error` of kind `InvalidData` wrapping [`Error::ChecksumMismatch`].
    pub fn into_async_read(self) -> impl tokio::io::AsyncRead + Send + Unpin {
        tokio_util::io::StreamReader::new(self.stream.map_err(|e| {
            let kind = match &e {
                Error::ChecksumMismatch { .. } | Error::BodyTooLong { .. } => {
                    std::io::ErrorKind::InvalidData
                }
                Error::Stalled { .. } => std::io::ErrorKind::TimedOut,
                Error::Incomplete { .. } | Error::ResumeFailed { .. } => {
                    std::io::ErrorKind::UnexpectedEof
                }
                _ => std::io::ErrorKind::Other,
            };
            std::io::Error::new(kind, e)
        }))
    }
}

impl Download {
    /// Call `f` with the running byte count as chunks are delivered.
    pub fn on_progress(mut self, mut f: impl FnMut(u64) + Send + 'static) -> Self {
        let mut done = 0u64;
        self.stream = self
            .stream
            .inspect_ok(move |chunk| {
                done += chunk.len() as u64;
                f(done);
            })
            .boxed();
        self
    }

    /// Write the data to `path` atomically (temporary file beside it,
    /// verified, synced, renamed). On error nothing is left at `path`.
    /// Returns the number of bytes written.
    pub async fn write_to_path(mut self, path: impl AsRef<Path>) -> Result<u64> {
        let path = path.as_ref();
        let dir = check_target(path)?;
        let temp = tempfile::Builder::new()
            .prefix(".glance-download-")
            .tempfile_in(&dir)?;
        let (std_file, temp_path) = temp.into_parts();
        let mut file = tokio::fs::File::from_std(std_file);
        let mut written = 0u64;
        // Dropping `temp_path` on an early return removes the temporary file.
        while let Some(chunk) = self.try_next().await? {
            file.write_all(&chunk).await?;
            written += chunk.len() as u64;
        }
        file.flush().await?;
        file.sync_all().await?;
        drop(file);
        temp_path.persist(path).map_err(|e| Error::Io(e.error))?;
        Ok(written)
    }
}

/// Refuse a download target that cannot be written, before any byte is
/// read: a directory, or a file in a folder that does not exist
/// ([`Error::InvalidInput`]). Returns the folder the temporary file goes to.
/// [`Images::download_to_path`] and [`Download::write_to_path`] call it
/// themselves; a caller that opens the download first can call it earlier.
pub fn check_target(path: &Path) -> Result<std::path::PathBuf> {
    if path.as_os_str().is_empty() {
        return Err(Error::InvalidInput("the download target is empty".into()));
    }
    if path.is_dir() {
        return Err(Error::InvalidInput(format!(
            "{} is a directory: name the file to download to",
            path.display()
        )));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
        _ => std::path::PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(Error::InvalidInput(format!(
            "cannot download to {}: {} is not a directory",
            path.display(),
            dir.display()
        )));
    }
    Ok(dir)
}

impl Images<'_> {
    /// `GET /v2/images/{id}/file`, verified. `Ok(None)` when the image has no
    /// data (the server's 204). `id` may be the image's URI, as for
    /// [`Images::get`] (so for every download call).
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client, id: &str) -> glance_client::Result<()> {
    /// use futures::TryStreamExt;
    /// if let Some(mut data) = client.images().download(id).await? {
    ///     while let Some(chunk) = data.try_next().await? {
    ///         // every chunk but the last is released as it arrives; the last
    ///         // only once the digest matched
    ///         let _ = chunk;
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn download(&self, id: &str) -> Result<Option<Download>> {
        self.download_with(id, &DownloadOptions::default()).await
    }

    /// Download with options (verification off, md5 fallback, resume
    /// attempts, connections).
    ///
    /// When the connection breaks mid-body, the rest is asked for with
    /// `Range: bytes=N-` once the image record (its `os_hash_value`,
    /// `checksum` and `size`) and the ranged response (`206`,
    /// `Content-Range`, `Content-MD5`) show it is still the same image; the
    /// digest continues over the joined bytes, so the whole is verified as
    /// one.
    ///
    /// With [`DownloadOptions::connections`] above 1 the image comes in
    /// ranges over several connections, each resumed the same way on its
    /// own, and `content_length` is the image's size.
    pub async fn download_with(
        &self,
        id: &str,
        options: &DownloadOptions,
    ) -> Result<Option<Download>> {
        let options = *options;
        let id = super::image_id(id)?;
        // Read the record first, as glanceclient does: its digests are the
        // reference, and a record deleted meanwhile fails early.
        let image: Option<Image> = if options.verify.enabled {
            Some(self.client.send_json(get_spec(id)).await?)
        } else {
            None
        };
        let whole = || {
            let mut spec = RequestSpec::new(Method::GET, ["v2", "images", id, "file"]);
            spec.streams_data = true;
            spec
        };
        let resp = if parallel::worth_trying(&options, image.as_ref()) {
            match parallel::probe(self.client, id).await? {
                parallel::Probe::NoContent => return Ok(None),
                parallel::Probe::Ranged { first, size } => {
                    return parallel::download(self.client, id, image, first, size, &options)
                        .map(Some);
                }
                parallel::Probe::Whole(resp) => resp,
                parallel::Probe::Refused => self.client.send(whole()).await?,
            }
        } else {
            self.client.send(whole()).await?
        };
        if resp.status() == StatusCode::NO_CONTENT {
            return Ok(None);
        }
        let headers = resp.headers();
        let content_md5 = headers
            .get("content-md5")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let content_length = resp.content_length();
        let request_id = request_id(headers);
        let verification = verify::choose(image.as_ref(), content_md5.as_deref(), options.verify)?;
        // Resuming needs the size, to ask for and check the rest.
        let original = content_length.map(|length| resume::Original {
            image: image.clone(),
            length,
            content_md5: content_md5.clone(),
        });
        let body = resume::resumable(
            self.client.clone(),
            id.to_owned(),
            resp,
            original,
            options.resume_attempts,
            self.client.read_timeout(),
        );
        // The record's size is the truth: a body that is complete by its own
        // Content-Length but shorter than the image must not pass, even when
        // there is no digest to catch it.
        let expected_len = image.as_ref().and_then(|i| i.size).or(content_length);
        let stream = verify::verified(body, verification.clone(), expected_len).boxed();
        Ok(Some(Download {
            image,
            content_length,
            content_md5,
            verification,
            request_id,
            stream,
        }))
    }

    /// Download into `writer` (nova's `download(data=…)`), verified as it
    /// goes; returns how many bytes were written and how they were checked
    /// (see [`Saved::verification`]), or `None` if the image has no data.
    /// The writer is flushed, not closed. [`Images::download_to_writer_with`]
    /// takes [`DownloadOptions`].
    ///
    /// A writer cannot take bytes back: on an error it holds a prefix of the
    /// image, never all of it (the last chunk is written only once the
    /// digest matched). Use [`Images::download_to_path`] for a file that
    /// must appear whole or not at all.
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client, id: &str) -> glance_client::Result<()> {
    /// let mut out = tokio::io::stdout();
    /// client.images().download_to_writer(id, &mut out).await?;
    /// # Ok(()) }
    /// ```
    pub async fn download_to_writer<W>(&self, id: &str, writer: &mut W) -> Result<Option<Saved>>
    where
        W: tokio::io::AsyncWrite + Unpin + ?Sized,
    {
        self.download_to_writer_with(id, writer, &DownloadOptions::default())
            .await
    }

    /// [`Images::download_to_writer`] with options (verification off, md5
    /// fallback, resume attempts).
    pub async fn download_to_writer_with<W>(
        &self,
        id: &str,
        writer: &mut W,
        options: &DownloadOptions,
    ) -> Result<Option<Saved>>
    where
        W: tokio::io::AsyncWrite + Unpin + ?Sized,
    {
        let Some(mut download) = self.download_with(id, options).await? else {
            return Ok(None);
        };
        let verification = download.verification.clone();
        let mut written = 0u64;
        while let Some(chunk) = download.try_next().await? {
            writer.write_all(&chunk).await?;
            written += chunk.len() as u64;
        }
        writer.flush().await?;
        Ok(Some(Saved {
            bytes: written,
            verification,
        }))
    }

    /// Download to `path` atomically: the data goes to a temporary file
    /// beside it, is verified and synced, then renamed over `path`. On any
    /// error nothing is left at `path` (an existing file there is untouched).
    /// Returns how many bytes were written and how they were checked (see
    /// [`Saved::verification`]), or `None` if the image has no data.
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client, id: &str) -> glance_client::Result<()> {
    /// use glance_client::DownloadOptions;
    /// client.images().download_to_path(id, "disk.qcow2").await?;
    /// let options = DownloadOptions::default().resume_attempts(10);
    /// client.images().download_to_path_with(id, "disk.qcow2", &options).await?;
    /// # Ok(()) }
    /// ```
    pub async fn download_to_path(
        &self,
        id: &str,
        path: impl AsRef<Path>,
    ) -> Result<Option<Saved>> {
        self.download_to_path_with(id, path, &DownloadOptions::default())
            .await
    }

    /// [`Images::download_to_path`] with options (verification off, md5
    /// fallback, resume attempts).
    pub async fn download_to_path_with(
        &self,
        id: &str,
        path: impl AsRef<Path>,
        options: &DownloadOptions,
    ) -> Result<Option<Saved>> {
        check_target(path.as_ref())?;
        let Some(download) = self.download_with(id, options).await? else {
            return Ok(None);
        };
        let verification = download.verification.clone();
        let bytes = download.write_to_path(path).await?;
        Ok(Some(Saved {
            bytes,
            verification,
        }))
    }
}
