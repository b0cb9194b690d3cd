//! Image data: `image-upload` and `image-download`, with progress bars and
//! verified, atomic downloads.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::Args;
use futures::StreamExt;
use glance_client::images::StageOptions;
use glance_client::{Client, DownloadOptions, Error, UploadBody, UploadOptions, Verification};

use super::Ctx;
use crate::progress;

/// `image-upload`.
#[derive(Debug, Args)]
pub struct ImageUpload {
    /// ID of image to upload data to.
    pub id: String,
    /// Local file that contains the image data (`-` for stdin).
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Size in bytes of image to be uploaded.
    #[arg(long)]
    pub size: Option<u64>,
    /// Show upload progress bar.
    #[arg(long)]
    pub progress: bool,
    /// Backend store to upload image to.
    #[arg(long, env = "OS_IMAGE_STORE")]
    pub store: Option<String>,
}

/// `image-download`.
#[derive(Debug, Args)]
pub struct ImageDownload {
    /// ID of image to download.
    pub id: String,
    /// Local file to save downloaded image data to. Without it, data goes to stdout.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Show download progress bar.
    #[arg(long)]
    pub progress: bool,
    /// Validate with the md5 checksum if the image's os_hash_algo is not supported.
    #[arg(long, env = "OS_IMAGE_ALLOW_MD5_FALLBACK")]
    pub allow_md5_fallback: bool,
    /// Fetch the image over N connections at once, in 8 MiB ranges put back
    /// in order and verified as one (at most 16; one when the server does
    /// not answer ranges). Faster behind a store or proxy that caps each
    /// connection.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=16))]
    pub parallel: u16,
}

/// Where image data goes: the image itself (`PUT …/file`) or its
/// staging area (`PUT …/stage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// `image-upload`, `image-create --file`.
    Upload,
    /// `image-stage`, `image-create-via-import` with data.
    Stage,
}

/// Upload `file` (or stdin for `-`) to image `id`.
pub async fn upload_data(
    client: &Client,
    id: &str,
    file: &Path,
    size: Option<u64>,
    show_progress: bool,
    store: Option<String>,
) -> Result<()> {
    send_data(
        client,
        id,
        file,
        size,
        show_progress,
        store,
        Destination::Upload,
    )
    .await
}

/// Send `file` (or stdin for `-`) to image `id`'s `destination`, with a
/// progress bar when asked for and the size is known.
pub async fn send_data(
    client: &Client,
    id: &str,
    file: &Path,
    size: Option<u64>,
    show_progress: bool,
    store: Option<String>,
    destination: Destination,
) -> Result<()> {
    let (body, total) = if file == Path::new("-") {
        let stdin = stdin_stream();
        (
            UploadBody::Stream {
                stream: stdin,
                size,
            },
            size,
        )
    } else {
        let len = std::fs::metadata(file)
            .with_context(|| format!("cannot read {}", file.display()))?
            .len();
        if let Some(s) = size {
            if s != len {
                bail!(
                    "Size mismatch: --size is {s} but {} has {len} bytes",
                    file.display()
                );
            }
        }
        (UploadBody::File(file.to_owned()), Some(len))
    };
    let bar = progress::bar(show_progress, total);
    let on_progress = bar
        .clone()
        .map(|bar| move |done: u64, _: Option<u64>| bar.set_position(done));
    let result = match destination {
        Destination::Upload => {
            let mut options = UploadOptions::default();
            if let Some(store) = store {
                options = options.store(store);
            }
            if let Some(f) = on_progress {
                options = options.progress(f);
            }
            client.images().upload_with(id, body, &options).await
        }
        Destination::Stage => {
            let mut options = StageOptions::default();
            if let Some(f) = on_progress {
                options = options.progress(f);
            }
            client.images().stage_with(id, body, &options).await
        }
    };
    progress::finish(bar);
    result?;
    Ok(())
}

/// Whether image data comes on stdin (glanceclient's `get_data_file`): a
/// pipe or a redirected file, not a terminal nor `/dev/null`-like devices
/// (so that scripts run without input do not upload nothing).
pub fn stdin_has_data() -> bool {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        use std::os::unix::fs::FileTypeExt;
        let Ok(fd) = stdin.as_fd().try_clone_to_owned() else {
            return false;
        };
        match std::fs::File::from(fd).metadata() {
            Ok(m) => m.file_type().is_fifo() || m.is_file(),
            Err(_) => false,
        }
    }
    #[cfg(not(unix))]
    {
        true
    }
}

/// stdin as a byte stream for uploads.
fn stdin_stream() -> futures::stream::BoxStream<'static, std::io::Result<bytes::Bytes>> {
    tokio_util::io::ReaderStream::with_capacity(tokio::io::stdin(), 1 << 20).boxed()
}

/// `image-upload`.
pub async fn upload(ctx: &Ctx<'_>, args: ImageUpload) -> Result<()> {
    let file = match args.file {
        Some(f) => f,
        None if stdin_has_data() => "-".into(),
        None => bail!("No image data given: use --file FILE (or pipe the data to stdin)."),
    };
    if let Some(store) = &args.store {
        super::import::validate_backend(ctx, store).await?;
    }
    upload_data(
        ctx.client,
        &args.id,
        &file,
        args.size,
        args.progress,
        args.store,
    )
    .await
}

/// `image-download`.
pub async fn download(ctx: &Ctx<'_>, args: ImageDownload) -> Result<()> {
    if args.file.is_none() && std::io::stdout().is_terminal() {
        bail!(
            "No redirection or local file specified for downloaded image data. Please specify a local file with --file to save downloaded image or redirect output to another source."
        );
    }
    // A target that cannot be written is refused before anything is fetched.
    if let Some(path) = &args.file {
        glance_client::images::check_download_target(path)?;
    }
    let options = DownloadOptions::default()
        .allow_md5_fallback(args.allow_md5_fallback)
        .connections(usize::from(args.parallel));
    let download = match ctx.client.images().download_with(&args.id, &options).await {
        Ok(Some(d)) => d,
        Ok(None) => bail!("Image {} has no data.", args.id),
        Err(e @ Error::Http { .. }) => {
            bail!(
                "Unable to download image '{}'. ({})",
                args.id,
                crate::error_line(&e)
            )
        }
        Err(e) => return Err(e.into()),
    };
    if download.verification == Verification::Unavailable {
        eprintln!(
            "WARNING: image {} has no checksum nor os_hash_value: the download is not verified.",
            args.id
        );
    }
    let bar = progress::bar(
        args.progress && args.file.is_some(),
        download.content_length,
    );
    let download = match bar.clone() {
        Some(bar) => download.on_progress(move |n| bar.set_position(n)),
        None => download,
    };
    let result = match &args.file {
        Some(path) => download.write_to_path(path).await.map(|_| ()),
        None => {
            let mut out = std::io::stdout().lock();
            let mut stream = download;
            let mut written = 0u64;
            let mut result = Ok(());
            while let Some(chunk) = stream.next().await {
                match chunk {
                    Ok(c) => {
                        if let Err(e) = out.write_all(&c) {
                            result = Err(Error::Io(e));
                            break;
                        }
                        written += c.len() as u64;
                    }
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
            let _ = out.flush();
            progress::finish(bar);
            // Bytes already written to stdout cannot be taken back: say how
            // many, and that they must be thrown away.
            return result.map_err(|e| {
                anyhow::Error::new(e).context(format!(
                    "image {}: {written} bytes were written to stdout before the download failed; discard them",
                    args.id
                ))
            });
        }
    };
    progress::finish(bar);
    result.with_context(|| format!("image {} was not saved", args.id))
}
