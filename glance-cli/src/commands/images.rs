//! Image commands: create, list, show, upload, download, delete.

use std::io::{IsTerminal, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use futures::{StreamExt, TryStreamExt};
use glance_client::{
    Client, ContainerFormat, CreateImage, DiskFormat, DownloadOptions, Error, ListImages,
    UploadBody, UploadOptions, Visibility,
};

use crate::cli::{
    Format, ImageCreate, ImageDelete, ImageDownload, ImageList, ImageShow, ImageUpload,
};
use crate::output::{print_image, print_images};
use crate::progress;

/// `image-create`.
pub async fn create(client: &Client, args: ImageCreate, format: Format) -> Result<()> {
    if args.size.is_some() {
        bail!(
            "Setting 'size' during image creation is not supported. Please use --size only when uploading data."
        );
    }
    if args.store.is_some() && args.file.is_none() {
        bail!("--store option should only be provided with --file option or stdin.");
    }
    if args.file.is_some() {
        let mut missing = Vec::new();
        if args.disk_format.is_none() {
            missing.push("--disk-format");
        }
        if args.container_format.is_none() {
            missing.push("--container-format");
        }
        if !missing.is_empty() {
            bail!("Must provide {} when using --file.", missing.join(", "));
        }
    }
    let mut req = CreateImage {
        id: args.id,
        name: args.name,
        visibility: args.visibility.as_deref().map(Visibility::from),
        protected: args.protected,
        os_hidden: args.hidden,
        disk_format: args.disk_format.as_deref().map(DiskFormat::from),
        container_format: args.container_format.as_deref().map(ContainerFormat::from),
        min_ram: args.min_ram,
        min_disk: args.min_disk,
        owner: args.owner,
        tags: args.tags,
        ..CreateImage::default()
    };
    req.properties.extend(args.properties);
    let images = client.images();
    let image = images.create(&req).await?;
    let image = match args.file {
        None => image,
        Some(file) => {
            upload_data(client, &image.id, &file, None, args.progress, args.store).await?;
            images.get(&image.id).await?
        }
    };
    print_image(&image, format, false, 80);
    Ok(())
}

/// `image-list`.
pub async fn list(client: &Client, args: ImageList, format: Format) -> Result<()> {
    let mut q = ListImages::new();
    if let Some(n) = args.page_size {
        q = q.page_size(n);
    }
    if let Some(n) = args.limit {
        q = q.limit(n);
    }
    for (key, value) in [
        ("visibility", args.visibility),
        ("member_status", args.member_status),
        ("owner", args.owner),
        ("checksum", args.checksum),
        ("os_hash_value", args.hash),
        ("os_hidden", args.hidden.map(|h| h.to_string())),
    ] {
        if let Some(v) = value {
            q = q.filter(key, v);
        }
    }
    for (k, v) in args.property_filter {
        q = q.filter(k, v);
    }
    for t in args.tag {
        q = q.tag(t);
    }
    match args.sort {
        Some(spec) => {
            for part in spec.split(',') {
                let (key, dir) = part.split_once(':').unwrap_or((part, "desc"));
                if !crate::cli::SORT_KEYS.contains(&key) {
                    bail!(
                        "Invalid sort key: {key}. It must be one of the following: {}.",
                        crate::cli::SORT_KEYS.join(", ")
                    );
                }
                let asc = match dir {
                    "asc" => true,
                    "desc" => false,
                    other => bail!(
                        "Invalid sort direction: {other}. It must be one of the following: asc, desc."
                    ),
                };
                q = q.sort(key, asc);
            }
        }
        None => {
            let keys = if args.sort_key.is_empty() {
                vec!["name".to_string()]
            } else {
                args.sort_key
            };
            let dirs = if args.sort_dir.is_empty() {
                vec!["asc".to_string()]
            } else {
                args.sort_dir
            };
            if dirs.len() > 1 && dirs.len() != keys.len() {
                bail!(
                    "Unexpected number of sort directions: either provide a single sort direction or an equal number of sort keys and sort directions."
                );
            }
            for (i, k) in keys.iter().enumerate() {
                let dir = dirs.get(i).or(dirs.first()).map_or("asc", String::as_str);
                q = q.sort(k.clone(), dir == "asc");
            }
        }
    }
    let images: Vec<_> = client.images().list(q).try_collect().await?;
    let mut columns = vec!["ID", "Name"];
    if args.verbose {
        columns.extend(["Disk_format", "Container_format", "Size", "Status", "Owner"]);
    }
    if args.include_stores == Some(true) {
        columns.push("Stores");
    }
    print_images(&images, &columns, format);
    Ok(())
}

/// `image-show`.
pub async fn show(client: &Client, args: ImageShow, format: Format) -> Result<()> {
    let image = client.images().get(&args.id).await?;
    print_image(
        &image,
        format,
        args.human_readable,
        usize::from(args.max_column_width),
    );
    Ok(())
}

/// Upload `file` (or stdin for `-`) to image `id`.
async fn upload_data(
    client: &Client,
    id: &str,
    file: &Path,
    size: Option<u64>,
    show_progress: bool,
    store: Option<String>,
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
    let mut options = UploadOptions {
        store,
        ..UploadOptions::default()
    };
    let bar = progress::bar(show_progress, total);
    if let Some(bar) = bar.clone() {
        options = options.progress(move |done, _| bar.set_position(done));
    }
    let result = client.images().upload_with(id, body, options).await;
    if let Some(bar) = bar {
        bar.finish();
    }
    result?;
    Ok(())
}

/// stdin as a byte stream for uploads.
fn stdin_stream() -> futures::stream::BoxStream<'static, std::io::Result<bytes::Bytes>> {
    tokio_util::io::ReaderStream::with_capacity(tokio::io::stdin(), 1 << 20).boxed()
}

/// `image-upload`.
pub async fn upload(client: &Client, args: ImageUpload) -> Result<()> {
    let file = match args.file {
        Some(f) => f,
        None if !std::io::stdin().is_terminal() => "-".into(),
        None => bail!("No image data given: use --file FILE (or pipe the data to stdin)."),
    };
    upload_data(
        client,
        &args.id,
        &file,
        args.size,
        args.progress,
        args.store,
    )
    .await
}

/// `image-download`.
pub async fn download(client: &Client, args: ImageDownload) -> Result<()> {
    if args.file.is_none() && std::io::stdout().is_terminal() {
        bail!(
            "No redirection or local file specified for downloaded image data. Please specify a local file with --file to save downloaded image or redirect output to another source."
        );
    }
    let options = DownloadOptions::default().allow_md5_fallback(args.allow_md5_fallback);
    let download = match client.images().download_with(&args.id, options).await {
        Ok(Some(d)) => d,
        Ok(None) => bail!("Image {} has no data.", args.id),
        Err(e @ Error::Http { .. }) => {
            bail!("Unable to download image '{}'. ({e})", args.id)
        }
        Err(e) => return Err(e.into()),
    };
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
            let mut result = Ok(());
            while let Some(chunk) = stream.next().await {
                match chunk {
                    Ok(c) => {
                        if let Err(e) = out.write_all(&c) {
                            result = Err(Error::Io(e));
                            break;
                        }
                    }
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
            let _ = out.flush();
            result
        }
    };
    if let Some(bar) = bar {
        bar.finish();
    }
    result.with_context(|| format!("image {} was not saved", args.id))
}

/// `image-delete`: every id is tried; exit status 1 if any failed.
pub async fn delete(client: &Client, args: ImageDelete) -> Result<bool> {
    let mut ok = true;
    for id in &args.ids {
        if let Err(e) = client.images().delete(id).await {
            ok = false;
            let msg = match e.status().map(|s| s.as_u16()) {
                Some(403) => format!("You are not permitted to delete the image '{id}'."),
                Some(404) => format!("No image with an ID of '{id}' exists."),
                Some(409) => format!("Unable to delete image '{id}' because it is in use."),
                _ => format!("Unable to delete image '{id}'. ({e})"),
            };
            eprintln!("{msg}");
        }
    }
    Ok(ok)
}
