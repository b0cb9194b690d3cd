//! The interoperable import workflow: `image-stage`, `image-import` and
//! `image-create-via-import`.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};
use clap::Args;
use glance_client::Image;
use glance_client::auth::Interface;
use glance_client::images::ImportRequest;

use super::Ctx;
use super::images::ImageFields;
use crate::args::parse_bool;
use crate::output::print_image;

/// `image-stage`.
#[derive(Debug, Args)]
pub struct ImageStage {
    /// ID of image to upload data to.
    #[arg(value_name = "IMAGE_ID")]
    pub id: String,
    /// Local file that contains disk image to be uploaded. Alternatively, images can be passed to the client via stdin.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Size in bytes of image to be uploaded. Default is to get size from provided data object but this is supported in case where size cannot be inferred.
    #[arg(long, value_name = "IMAGE_SIZE")]
    pub size: Option<u64>,
    /// Show upload progress bar.
    #[arg(long)]
    pub progress: bool,
}

/// Where and how an import puts the data (image-import and
/// image-create-via-import share them).
#[derive(Debug, Args)]
pub struct ImportTarget {
    /// URI to download the external image.
    #[arg(long, value_name = "IMAGE_URL")]
    pub uri: Option<String>,
    /// REMOTE GLANCE REGION to download the image.
    #[arg(long, value_name = "REMOTE_GLANCE_REGION")]
    pub remote_region: Option<String>,
    /// The IMAGE ID of the image of remote glance, which needs to be imported with glance-download.
    #[arg(long)]
    pub remote_image_id: Option<String>,
    /// The Remote Glance Service Interface for glance-download.
    #[arg(long, default_value = "public")]
    pub remote_service_interface: String,
    /// Backend store to upload image to.
    #[arg(long, env = "OS_IMAGE_STORE")]
    pub store: Option<String>,
    /// Stores to upload image to if multi-stores import available. Comma separated list.
    #[arg(long, env = "OS_IMAGE_STORES")]
    pub stores: Option<String>,
    /// "all-stores" can be used instead of "stores"-list to indicate that image should be imported into all available stores.
    #[arg(long, value_parser = parse_bool, value_name = "True|False")]
    pub all_stores: Option<bool>,
    /// Indicator if all stores listed (or available) must succeed. If False, the import is reverted should any of the uploads fail. Only usable with "stores" or "all-stores".
    #[arg(long, value_parser = parse_bool, value_name = "True|False", env = "OS_IMAGE_ALLOW_FAILURE", default_value = "true")]
    pub allow_failure: bool,
}

impl ImportTarget {
    /// `--store`, `--stores` and `--all-stores` exclude each other; the
    /// stores named must exist (when the cloud lists its stores).
    async fn check_stores(&self, ctx: &Ctx<'_>) -> Result<Vec<String>> {
        let all = self.all_stores == Some(true);
        if (self.store.is_some() && (self.stores.is_some() || all))
            || (self.stores.is_some() && all)
        {
            bail!("Only one of --store, --stores and --all-stores can be provided");
        }
        let stores: Vec<String> = self
            .stores
            .as_deref()
            .map(|s| s.split(',').map(str::to_owned).collect())
            .unwrap_or_default();
        for s in self.store.iter().chain(stores.iter()) {
            validate_backend(ctx, s).await?;
        }
        Ok(stores)
    }
}

/// `image-import`.
#[derive(Debug, Args)]
pub struct ImageImport {
    /// ID of image to import.
    #[arg(value_name = "IMAGE_ID")]
    pub id: String,
    /// Import method used for Image Import workflow. Valid values can be retrieved with import-info command.
    #[arg(long, value_name = "METHOD", default_value = "glance-direct")]
    pub import_method: String,
    /// Where the data goes.
    #[command(flatten)]
    pub target: ImportTarget,
}

/// `image-create-via-import`.
#[derive(Debug, Args)]
pub struct ImageCreateViaImport {
    /// An identifier for the image.
    #[arg(long)]
    pub id: Option<String>,
    /// The image's writable fields.
    #[command(flatten)]
    pub fields: ImageFields,
    /// List of strings related to the image.
    #[arg(long, num_args = 1..)]
    pub tags: Vec<String>,
    /// Local file that contains disk image to be uploaded during creation. Alternatively, the image data can be passed to the client via stdin.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Not supported at creation: the size comes from the data.
    #[arg(long, hide = true)]
    pub size: Option<u64>,
    /// Show upload progress bar.
    #[arg(long)]
    pub progress: bool,
    /// Import method used for Image Import workflow. Defaults to env[OS_IMAGE_IMPORT_METHOD] or, if data is given, glance-direct; without either, only the image record is created.
    #[arg(long, env = "OS_IMAGE_IMPORT_METHOD", value_name = "METHOD")]
    pub import_method: Option<String>,
    /// Where the data goes.
    #[command(flatten)]
    pub target: ImportTarget,
}

/// A store must be one `stores-info` lists (a cloud without multiple
/// stores answers 404 there: nothing to check).
pub async fn validate_backend(ctx: &Ctx<'_>, store: &str) -> Result<()> {
    match ctx.client.info().stores().await {
        Ok(stores) if !stores.iter().any(|s| s.id == store) => bail!(
            "Store '{store}' is not valid for this cloud. Valid values can be retrieved with stores-info command."
        ),
        Ok(_) => Ok(()),
        Err(e) if e.is_not_found() => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The cloud's import methods, or glanceclient's message when it has none.
async fn import_methods(ctx: &Ctx<'_>) -> Result<Vec<String>> {
    match ctx.client.info().import_methods().await {
        Ok(i) => Ok(i.methods),
        Err(e) if e.is_not_found() => {
            bail!("Target Glance does not support Image Import workflow")
        }
        Err(e) => Err(e.into()),
    }
}

fn check_method(method: &str, methods: &[String]) -> Result<()> {
    if !methods.iter().any(|m| m == method) {
        bail!(
            "Import method '{method}' is not valid for this cloud. Valid values can be retrieved with import-info command."
        );
    }
    Ok(())
}

/// Stage `file` (or stdin for `-`) as image `id`'s data.
async fn stage_data(
    ctx: &Ctx<'_>,
    id: &str,
    file: &Path,
    size: Option<u64>,
    progress: bool,
) -> Result<()> {
    super::data::send_data(
        ctx.client,
        id,
        file,
        size,
        progress,
        None,
        super::data::Destination::Stage,
    )
    .await
}

/// The import request the arguments describe.
fn import_request(method: &str, target: &ImportTarget, stores: &[String]) -> Result<ImportRequest> {
    let mut req = match method {
        "glance-direct" => ImportRequest::glance_direct(),
        "web-download" => match &target.uri {
            Some(uri) => ImportRequest::web_download(uri),
            None => bail!("Provide URI for web-download import method."),
        },
        "copy-image" => ImportRequest::copy_image(),
        "glance-download" => match (&target.remote_region, &target.remote_image_id) {
            (Some(region), Some(image)) => {
                let interface: Interface = match target.remote_service_interface.parse() {
                    Ok(interface) => interface,
                    Err(e) => bail!("{}", glance_client::report(&e)),
                };
                ImportRequest::glance_download(region.clone(), image.clone())
                    .service_interface(interface)
            }
            _ => bail!(
                "Provide REMOTE_IMAGE_ID and remote-region for 'glance-download' import method."
            ),
        },
        other => bail!(
            "Import method '{other}' is not valid for this cloud. Valid values can be retrieved with import-info command."
        ),
    };
    if let Some(store) = &target.store {
        req = req.store(store.clone());
    } else if !stores.is_empty() {
        req = req.stores(stores.iter().cloned());
    } else if target.all_stores == Some(true) {
        req = req.all_stores();
    }
    Ok(req.all_stores_must_succeed(!target.allow_failure))
}

/// Start the import of image `id`.
async fn start_import(
    ctx: &Ctx<'_>,
    id: &str,
    method: &str,
    target: &ImportTarget,
    stores: &[String],
) -> Result<()> {
    let req = import_request(method, target, stores)?;
    ctx.client.images().import(id, &req).await?;
    Ok(())
}

/// `image-stage`.
pub async fn stage(ctx: &Ctx<'_>, args: ImageStage) -> Result<()> {
    let file = match args.file {
        Some(f) => f,
        None if super::data::stdin_has_data() => "-".into(),
        None => bail!("No image data given: use --file FILE (or pipe the data to stdin)."),
    };
    stage_data(ctx, &args.id, &file, args.size, args.progress).await
}

/// `image-import`: checks the method and the image's state as
/// glanceclient does, imports, prints the image.
pub async fn import(ctx: &Ctx<'_>, args: ImageImport) -> Result<()> {
    let t = &args.target;
    let stores = t.check_stores(ctx).await?;
    let method = args.import_method.as_str();
    check_method(method, &import_methods(ctx).await?)?;
    if method == "web-download" && t.uri.is_none() {
        bail!("Provide URI for web-download import method.");
    }
    if t.uri.is_some() && method != "web-download" {
        bail!("Import method should be 'web-download' if URI is provided.");
    }
    if method == "glance-download" && (t.remote_region.is_none() || t.remote_image_id.is_none()) {
        bail!("Provide REMOTE_IMAGE_ID and remote-region for 'glance-download' import method.");
    }
    if t.remote_region.is_some() && method != "glance-download" {
        bail!("Import method should be 'glance-download' if REMOTE REGION is provided.");
    }
    if t.remote_image_id.is_some() && method != "glance-download" {
        bail!("Import method should be 'glance-download' if REMOTE IMAGE ID is provided.");
    }
    if method == "copy-image" && stores.is_empty() && t.all_stores != Some(true) {
        bail!("Provide either --stores or --all-stores for 'copy-image' import method.");
    }
    let images = ctx.client.images();
    let image = images.get(&args.id).await?;
    if image.container_format.is_none() || image.disk_format.is_none() {
        bail!(
            "The 'container_format' and 'disk_format' properties must be set on an image before it can be imported."
        );
    }
    let status = image.status.to_string();
    match method {
        "glance-direct" if status != "uploading" => bail!(
            "The 'glance-direct' import method can only be applied to an image in status 'uploading'"
        ),
        "web-download" if status != "queued" => bail!(
            "The 'web-download' import method can only be applied to an image in status 'queued'"
        ),
        "copy-image" if status != "active" => bail!(
            "The 'copy-image' import method can only be used on an image with status 'active'."
        ),
        _ => {}
    }
    start_import(ctx, &args.id, method, t, &stores).await?;
    let image = images.get(&args.id).await?;
    print_image(&image, ctx.format, false, 80);
    Ok(())
}

/// `image-create-via-import`: create, stage (with data), import, print.
pub async fn create_via_import(ctx: &Ctx<'_>, args: ImageCreateViaImport) -> Result<()> {
    if args.size.is_some() {
        bail!(
            "Setting 'size' during image creation is not supported. Please use --size only when uploading data."
        );
    }
    let using_stdin = args.file.is_none() && super::data::stdin_has_data();
    let has_data = args.file.is_some() || using_stdin;
    if has_data {
        let mut missing = Vec::new();
        if args.fields.disk_format.is_none() {
            missing.push("--disk-format");
        }
        if args.fields.container_format.is_none() {
            missing.push("--container-format");
        }
        if !missing.is_empty() {
            let opt = if args.file.is_some() {
                "--file"
            } else {
                "stdin"
            };
            bail!(
                "error: Must provide {} when using {opt}.",
                missing.join(", ")
            );
        }
    }
    let method = args
        .import_method
        .clone()
        .or_else(|| has_data.then(|| "glance-direct".to_owned()));
    if method.as_deref() == Some("copy-image") {
        bail!("Import method 'copy-image' cannot be used while creating the image.");
    }
    if let Some(m) = &method {
        check_method(m, &import_methods(ctx).await?)?;
    }
    let t = &args.target;
    let stores = t.check_stores(ctx).await?;
    let all = t.all_stores == Some(true);
    match method.as_deref() {
        None if t.uri.is_some() => {
            bail!("You cannot use --uri without specifying an import method.")
        }
        Some("glance-direct") => {
            if !has_data {
                if t.store.is_some() {
                    bail!(
                        "--store option should only be provided with --file option or stdin for the glance-direct import method."
                    );
                }
                if !stores.is_empty() {
                    bail!(
                        "--stores option should only be provided with --file option or stdin for the glance-direct import method."
                    );
                }
                if all {
                    bail!(
                        "--all-stores option should only be provided with --file option or stdin for the glance-direct import method."
                    );
                }
            }
            if t.uri.is_some() {
                bail!("You cannot specify a --uri with the glance-direct import method.");
            }
            if let Some(f) = &args.file {
                if !f.is_file() {
                    bail!(
                        "File {} does not exist or user does not have read privileges to it.",
                        f.display()
                    );
                }
            }
            if !has_data {
                bail!(
                    "You must specify a --file or provide data via stdin for the glance-direct import method."
                );
            }
        }
        Some("web-download") => {
            if t.uri.is_none() {
                if t.store.is_some() {
                    bail!(
                        "--store option should only be provided with --uri option for the web-download import method."
                    );
                }
                if !stores.is_empty() {
                    bail!(
                        "--stores option should only be provided with --uri option for the web-download import method."
                    );
                }
                if all {
                    bail!(
                        "--all-stores option should only be provided with --uri option for the web-download import method."
                    );
                }
                bail!("URI is required for web-download import method. Please use '--uri <uri>'.");
            }
            if args.file.is_some() {
                bail!("You cannot specify a --file with the web-download import method.");
            }
            if using_stdin {
                bail!("You cannot pass data via stdin with the web-download import method.");
            }
        }
        Some("glance-download") => {
            if t.remote_region.is_none() || t.remote_image_id.is_none() {
                bail!(
                    "REMOTE GlANCE REGION and REMOTE IMAGE ID are required for glance-download import method. Please use --remote-region <region> and --remote-image-id <remote-image-id>."
                );
            }
            if t.uri.is_some() {
                bail!("You cannot specify a --uri with the glance-download import method.");
            }
            if args.file.is_some() {
                bail!("You cannot specify a --file with the glance-download import method.");
            }
            if using_stdin {
                bail!("You cannot pass data via stdin with the glance-download import method.");
            }
        }
        _ => {}
    }
    let req = args.fields.into_create(args.id, args.tags);
    let images = ctx.client.images();
    let image: Image = images.create(&req).await?;
    let result = async {
        if let Some(m) = &method {
            if m == "glance-direct" {
                let file = args.file.clone().unwrap_or_else(|| "-".into());
                stage_data(ctx, &image.id, &file, None, args.progress).await?;
            }
            start_import(ctx, &image.id, m, t, &stores).await?;
        }
        anyhow::Ok(())
    }
    .await;
    // Like glanceclient, show the image even when a later step failed.
    let shown = images.get(&image.id).await.unwrap_or(image);
    print_image(&shown, ctx.format, false, 80);
    result
}
