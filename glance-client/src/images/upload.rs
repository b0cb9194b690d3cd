//! Uploading image data: `PUT /v2/images/{id}/file`.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use reqwest::Method;
use tokio::io::AsyncRead;
use tokio_util::io::ReaderStream;

use super::Images;
use crate::error::{Error, Result};
use crate::transport::{Activity, BodyFactory, Payload, RequestSpec};

const CHUNK: usize = 1 << 20;

/// Where upload bytes come from.
pub enum UploadBody {
    /// Bytes in memory.
    Bytes(Bytes),
    /// A local file, streamed; its size is announced to the server. A retry
    /// reopens it.
    File(PathBuf),
    /// Any stream of bytes (sent once, never retried), with its size if known.
    /// Give a file as [`UploadBody::File`] instead when you can: it can be
    /// retried.
    Stream {
        /// The data.
        stream: BoxStream<'static, std::io::Result<Bytes>>,
        /// Total size, announced as `x-openstack-image-size` when known.
        size: Option<u64>,
    },
    /// Any reader (read to its end, sent once, never retried), with its
    /// size if known.
    Reader {
        /// The data.
        reader: Box<dyn AsyncRead + Send + Unpin + 'static>,
        /// Total size, announced as `x-openstack-image-size` when known.
        size: Option<u64>,
    },
}

impl UploadBody {
    /// A one-shot body from any stream of byte chunks.
    pub fn stream<S, B>(stream: S, size: Option<u64>) -> Self
    where
        S: futures::Stream<Item = std::io::Result<B>> + Send + 'static,
        B: Into<Bytes> + 'static,
    {
        UploadBody::Stream {
            stream: stream.map_ok(Into::into).boxed(),
            size,
        }
    }

    /// A one-shot body from any `AsyncRead` (a pipe, a socket, stdin, a
    /// decompressor, …).
    pub fn reader(reader: impl AsyncRead + Send + Unpin + 'static, size: Option<u64>) -> Self {
        UploadBody::Reader {
            reader: Box::new(reader),
            size,
        }
    }
}

impl fmt::Debug for UploadBody {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UploadBody::Bytes(b) => write!(f, "UploadBody::Bytes({} bytes)", b.len()),
            UploadBody::File(p) => write!(f, "UploadBody::File({})", p.display()),
            UploadBody::Stream { size, .. } => write!(f, "UploadBody::Stream(size {size:?})"),
            UploadBody::Reader { size, .. } => write!(f, "UploadBody::Reader(size {size:?})"),
        }
    }
}

impl From<Bytes> for UploadBody {
    fn from(b: Bytes) -> Self {
        UploadBody::Bytes(b)
    }
}

impl From<Vec<u8>> for UploadBody {
    fn from(v: Vec<u8>) -> Self {
        UploadBody::Bytes(Bytes::from(v))
    }
}

impl From<&'static [u8]> for UploadBody {
    fn from(v: &'static [u8]) -> Self {
        UploadBody::Bytes(Bytes::from_static(v))
    }
}

impl From<PathBuf> for UploadBody {
    fn from(p: PathBuf) -> Self {
        UploadBody::File(p)
    }
}

impl From<&std::path::Path> for UploadBody {
    fn from(p: &std::path::Path) -> Self {
        UploadBody::File(p.to_owned())
    }
}

/// A progress callback: bytes sent so far, and the total when known.
pub type Progress = Arc<dyn Fn(u64, Option<u64>) + Send + Sync>;

/// Options of an upload.
#[derive(Clone, Default)]
pub struct UploadOptions {
    /// Target store (`X-Image-Meta-Store`) on multi-store deployments.
    pub store: Option<String>,
    /// Called as bytes are handed to the connection.
    pub progress: Option<Progress>,
}

impl fmt::Debug for UploadOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UploadOptions")
            .field("store", &self.store)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl UploadOptions {
    /// Upload to a given store.
    pub fn store(mut self, store: impl Into<String>) -> Self {
        self.store = Some(store.into());
        self
    }

    /// Report progress.
    pub fn progress(mut self, f: impl Fn(u64, Option<u64>) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }
}

/// `stream`, reporting each chunk the connection takes to `activity`
/// (watched for stalls) and to `progress`, and its end to `activity`.
fn counting(
    stream: BoxStream<'static, std::io::Result<Bytes>>,
    total: Option<u64>,
    progress: Option<Progress>,
    activity: Arc<Activity>,
) -> BoxStream<'static, std::io::Result<Bytes>> {
    let mut stream = stream;
    let mut done = 0u64;
    futures::stream::poll_fn(move |cx| {
        let polled = stream.poll_next_unpin(cx);
        match &polled {
            // Our source is slow, not the connection: not a stall.
            std::task::Poll::Pending => activity.waiting_for_source(true),
            std::task::Poll::Ready(Some(Ok(chunk))) => {
                activity.waiting_for_source(false);
                activity.touch(chunk.len() as u64);
                done += chunk.len() as u64;
                if let Some(progress) = &progress {
                    progress(done, total);
                }
            }
            // The body is all taken (or failed): the wait for the answer
            // starts now.
            std::task::Poll::Ready(_) => {
                activity.waiting_for_source(false);
                activity.touch(0);
            }
        }
        polled
    })
    .boxed()
}

async fn open(path: &std::path::Path) -> Result<tokio::fs::File> {
    tokio::fs::File::open(path).await.map_err(|e| {
        Error::Io(std::io::Error::new(
            e.kind(),
            format!("{}: {e}", path.display()),
        ))
    })
}

/// The request carrying `body` to `segments` (`…/file` or `…/stage`):
/// the file's size is read here, nothing is sent.
pub(crate) async fn data_request(
    segments: [&str; 4],
    body: UploadBody,
    progress: Option<Progress>,
) -> Result<RequestSpec> {
    let activity = Activity::new();
    let (payload, size) = match body {
        UploadBody::Bytes(b) => {
            let size = b.len() as u64;
            let watched = activity.clone();
            let make: BodyFactory = Arc::new(move || {
                let b = b.clone();
                let progress = progress.clone();
                let activity = watched.clone();
                Box::pin(async move {
                    let chunks: Vec<std::io::Result<Bytes>> = (0..b.len())
                        .step_by(CHUNK)
                        .map(|start| Ok(b.slice(start..b.len().min(start + CHUNK))))
                        .collect();
                    let stream = counting(
                        futures::stream::iter(chunks).boxed(),
                        Some(size),
                        progress,
                        activity,
                    );
                    Ok(reqwest::Body::wrap_stream(stream))
                })
            });
            (Payload::Replayable(make), Some(size))
        }
        UploadBody::File(path) => {
            let size = open(&path).await?.metadata().await?.len();
            let watched = activity.clone();
            let make: BodyFactory = Arc::new(move || {
                let path = path.clone();
                let progress = progress.clone();
                let activity = watched.clone();
                Box::pin(async move {
                    let file = open(&path).await?;
                    let stream = counting(
                        ReaderStream::with_capacity(file, CHUNK).boxed(),
                        Some(size),
                        progress,
                        activity,
                    );
                    Ok(reqwest::Body::wrap_stream(stream))
                })
            });
            (Payload::Replayable(make), Some(size))
        }
        UploadBody::Stream { stream, size } => {
            let stream = counting(stream, size, progress, activity.clone());
            (
                Payload::OneShot(Some(reqwest::Body::wrap_stream(stream))),
                size,
            )
        }
        UploadBody::Reader { reader, size } => {
            let stream = counting(
                ReaderStream::with_capacity(reader, CHUNK).boxed(),
                size,
                progress,
                activity.clone(),
            );
            (
                Payload::OneShot(Some(reqwest::Body::wrap_stream(stream))),
                size,
            )
        }
    };
    let mut spec = RequestSpec::new(Method::PUT, segments)
        .header("content-type", "application/octet-stream")?;
    if let Some(size) = size {
        spec = spec
            .header("x-openstack-image-size", &size.to_string())?
            .header("content-length", &size.to_string())?;
    }
    spec.payload = payload;
    spec.streams_data = true;
    spec.activity = Some(activity);
    Ok(spec)
}

impl Images<'_> {
    /// Upload data for a `queued` image; it becomes `active`.
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client, id: &str) -> glance_client::Result<()> {
    /// client.images().upload(id, std::path::Path::new("cirros.qcow2")).await?;
    /// client.images().upload(id, b"raw bytes".to_vec()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn upload(&self, id: &str, body: impl Into<UploadBody>) -> Result<()> {
        self.upload_with(id, body, &UploadOptions::default()).await
    }

    /// Upload with a target store or a progress callback.
    ///
    /// Bytes and file bodies are retried like other idempotent requests
    /// (the file is reopened, the progress restarts from zero); a
    /// [`UploadBody::Stream`] or [`UploadBody::Reader`] is sent once and
    /// never replayed.
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client, id: &str) -> glance_client::Result<()> {
    /// use glance_client::{UploadBody, UploadOptions};
    /// let stdin = tokio::io::stdin();
    /// client
    ///     .images()
    ///     .upload_with(id, UploadBody::reader(stdin, None), &UploadOptions::default().store("fast"))
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn upload_with(
        &self,
        id: &str,
        body: impl Into<UploadBody>,
        options: &UploadOptions,
    ) -> Result<()> {
        let mut spec = data_request(
            ["v2", "images", id, "file"],
            body.into(),
            options.progress.clone(),
        )
        .await?;
        if let Some(store) = &options.store {
            spec = spec.header("x-image-meta-store", store)?;
        }
        self.client.send(spec).await?;
        Ok(())
    }
}
