//! Image records: create, update, list, show, delete, (de)activate, tags
//! and the image's tasks. Data transfers are in `data.rs`, the import
//! workflow in `import.rs`.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Args;
use futures::TryStreamExt;
use glance_client::{ContainerFormat, CreateImage, DiskFormat, ImagePatch, ListImages, Visibility};
use serde_json::Value;

use super::Ctx;
use crate::args::{parse_bool, parse_property};
use crate::output::{print_image, print_images, print_list_keyed, to_value};

/// The image schema's writable fields, as options (python-glanceclient
/// generates them from the schema; these are Glance's base schema).
#[derive(Debug, Default, Args)]
pub struct ImageFields {
    /// Descriptive name for the image.
    #[arg(long)]
    pub name: Option<String>,
    /// Scope of image accessibility. Valid values: public, private, community, shared.
    #[arg(long)]
    pub visibility: Option<String>,
    /// If true, image will not be deletable.
    #[arg(long, value_parser = parse_bool, value_name = "True|False")]
    pub protected: Option<bool>,
    /// If true, image will not appear in default image list response.
    #[arg(long, value_parser = parse_bool, value_name = "True|False")]
    pub hidden: Option<bool>,
    /// Format of the container. Valid values: None, ami, ari, aki, bare, ovf, ova, docker, compressed.
    #[arg(long)]
    pub container_format: Option<String>,
    /// Format of the disk. Valid values: None, ami, ari, aki, vhd, vhdx, vmdk, raw, qcow2, vdi, iso, ploop.
    #[arg(long)]
    pub disk_format: Option<String>,
    /// Amount of disk space (in GB) required to boot image.
    #[arg(long)]
    pub min_disk: Option<u64>,
    /// Amount of ram (in MB) required to boot image.
    #[arg(long)]
    pub min_ram: Option<u64>,
    /// Owner of the image.
    #[arg(long)]
    pub owner: Option<String>,
    /// Operating system architecture as specified in https://docs.openstack.org/glance/latest/user/common-image-properties.html#architecture
    #[arg(long)]
    pub architecture: Option<String>,
    /// Metadata which can be used to record which instance this image is associated with. (Informational only, does not create an instance snapshot.)
    #[arg(long)]
    pub instance_uuid: Option<String>,
    /// ID of image stored in Glance that should be used as the kernel when booting an AMI-style image.
    #[arg(long)]
    pub kernel_id: Option<String>,
    /// Common name of operating system distribution as specified in https://docs.openstack.org/glance/latest/user/common-image-properties.html#os-distro
    #[arg(long)]
    pub os_distro: Option<String>,
    /// Operating system version as specified by the distributor.
    #[arg(long)]
    pub os_version: Option<String>,
    /// ID of image stored in Glance that should be used as the ramdisk when booting an AMI-style image.
    #[arg(long)]
    pub ramdisk_id: Option<String>,
    /// Arbitrary property to associate with image. May be used multiple times.
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = parse_property)]
    pub properties: Vec<(String, String)>,
}

impl ImageFields {
    /// The string-valued schema fields that the client sends as properties.
    fn string_properties(&self) -> Vec<(&'static str, &String)> {
        [
            ("architecture", &self.architecture),
            ("instance_uuid", &self.instance_uuid),
            ("kernel_id", &self.kernel_id),
            ("os_distro", &self.os_distro),
            ("os_version", &self.os_version),
            ("ramdisk_id", &self.ramdisk_id),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
        .collect()
    }

    /// The creation request: `id` and `tags` come from image-create only.
    pub fn into_create(self, id: Option<String>, tags: Vec<String>) -> CreateImage {
        let mut properties: Vec<(String, String)> = self
            .string_properties()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.clone()))
            .collect();
        properties.extend(self.properties);
        let mut req = CreateImage::default().tags(tags);
        if let Some(id) = id {
            req = req.id(id);
        }
        if let Some(name) = self.name {
            req = req.name(name);
        }
        if let Some(v) = self.visibility.as_deref() {
            req = req.visibility(as_typed(Visibility::Other)(v));
        }
        if let Some(on) = self.protected {
            req = req.protected(on);
        }
        if let Some(on) = self.hidden {
            req = req.os_hidden(on);
        }
        if let Some(f) = self.disk_format.as_deref() {
            req = req.disk_format(as_typed(DiskFormat::Other)(f));
        }
        if let Some(f) = self.container_format.as_deref() {
            req = req.container_format(as_typed(ContainerFormat::Other)(f));
        }
        if let Some(mib) = self.min_ram {
            req = req.min_ram(mib);
        }
        if let Some(gib) = self.min_disk {
            req = req.min_disk(gib);
        }
        if let Some(owner) = self.owner {
            req = req.owner(owner);
        }
        for (key, value) in properties {
            req = req.property(key, value);
        }
        req
    }
}

/// `image-create`.
#[derive(Debug, Args)]
pub struct ImageCreate {
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
    /// Backend store to upload image to.
    #[arg(long, env = "OS_IMAGE_STORE")]
    pub store: Option<String>,
}

/// `image-update`.
#[derive(Debug, Args)]
pub struct ImageUpdate {
    /// ID of image to update.
    pub id: String,
    /// The image's writable fields.
    #[command(flatten)]
    pub fields: ImageFields,
    /// Name of arbitrary property to remove from the image.
    #[arg(long = "remove-property", value_name = "KEY")]
    pub remove_property: Vec<String>,
}

/// `image-list`.
#[derive(Debug, Args)]
pub struct ImageList {
    /// Maximum number of images to get.
    #[arg(long)]
    pub limit: Option<u64>,
    /// Number of images to request in each paginated request.
    #[arg(long)]
    pub page_size: Option<u32>,
    /// The visibility of the images to display.
    #[arg(long)]
    pub visibility: Option<String>,
    /// The status of images to display.
    #[arg(long)]
    pub member_status: Option<String>,
    /// Display images owned by `OWNER`.
    #[arg(long)]
    pub owner: Option<String>,
    /// Filter images by a user-defined image property.
    #[arg(long = "property-filter", value_name = "KEY=VALUE", value_parser = parse_property)]
    pub property_filter: Vec<(String, String)>,
    /// Displays images that match the MD5 checksum.
    #[arg(long)]
    pub checksum: Option<String>,
    /// Displays images that match the specified hash value.
    #[arg(long)]
    pub hash: Option<String>,
    /// Filter images by a user-defined tag.
    #[arg(long)]
    pub tag: Vec<String>,
    /// Sort image list by specified fields.
    #[arg(long = "sort-key", value_parser = SORT_KEYS)]
    pub sort_key: Vec<String>,
    /// Sort image list in specified directions.
    #[arg(long = "sort-dir", value_parser = ["asc", "desc"])]
    pub sort_dir: Vec<String>,
    /// Comma-separated list of sort keys and directions in the form of `key[:asc|desc]`.
    #[arg(long, conflicts_with_all = ["sort_key", "sort_dir"])]
    pub sort: Option<String>,
    /// Filters results by hidden status.
    #[arg(long, value_parser = parse_bool)]
    pub hidden: Option<bool>,
    /// Print the stores holding each image.
    #[arg(long, value_parser = parse_bool, num_args = 0..=1, default_missing_value = "true")]
    pub include_stores: Option<bool>,
}

/// Keys python-glanceclient accepts for `--sort-key`.
pub const SORT_KEYS: [&str; 8] = [
    "name",
    "status",
    "container_format",
    "disk_format",
    "size",
    "id",
    "created_at",
    "updated_at",
];

/// `image-show`.
#[derive(Debug, Args)]
pub struct ImageShow {
    /// ID of image to describe.
    pub id: String,
    /// Print image size in a human-friendly format.
    #[arg(long)]
    pub human_readable: bool,
    /// The max column width of the printed table.
    #[arg(long, default_value_t = 80)]
    pub max_column_width: u16,
}

/// `image-delete`.
#[derive(Debug, Args)]
pub struct ImageDelete {
    /// ID of image(s) to delete.
    #[arg(required = true, value_name = "IMAGE_ID")]
    pub ids: Vec<String>,
}

/// Commands taking one image id.
#[derive(Debug, Args)]
pub struct ImageId {
    /// ID of the image.
    #[arg(value_name = "IMAGE_ID")]
    pub id: String,
}

/// `image-tag-update` / `image-tag-delete`.
#[derive(Debug, Args)]
pub struct ImageTag {
    /// Image to be updated with the given tag.
    #[arg(value_name = "IMAGE_ID")]
    pub image_id: String,
    /// Value of the tag.
    #[arg(value_name = "TAG_VALUE")]
    pub tag_value: String,
}

/// `image-create`.
pub async fn create(ctx: &Ctx<'_>, args: ImageCreate) -> Result<()> {
    if args.size.is_some() {
        bail!(
            "Setting 'size' during image creation is not supported. Please use --size only when uploading data."
        );
    }
    // Data on stdin counts as `--file -`, as in glanceclient.
    let file = args
        .file
        .clone()
        .or_else(|| super::data::stdin_has_data().then(|| PathBuf::from("-")));
    if args.store.is_some() && file.is_none() {
        bail!("--store option should only be provided with --file option or stdin.");
    }
    if let Some(file) = &file {
        if file.as_os_str() != "-" && !file.is_file() {
            bail!(
                "File {} does not exist or user does not have read privileges to it",
                file.display()
            );
        }
        let mut missing = Vec::new();
        if args.fields.disk_format.is_none() {
            missing.push("--disk-format");
        }
        if args.fields.container_format.is_none() {
            missing.push("--container-format");
        }
        if !missing.is_empty() {
            let opt = if file.as_os_str() == "-" {
                "stdin"
            } else {
                "--file"
            };
            bail!(
                "error: Must provide {} when using {opt}.",
                missing.join(", ")
            );
        }
    }
    if let Some(store) = &args.store {
        super::import::validate_backend(ctx, store).await?;
    }
    let req = args.fields.into_create(args.id, args.tags);
    let images = ctx.client.images();
    let image = images.create(&req).await?;
    let image = match file {
        None => image,
        Some(file) => {
            super::data::upload_data(
                ctx.client,
                &image.id,
                &file,
                None,
                args.progress,
                args.store,
            )
            .await?;
            images.get(&image.id).await?
        }
    };
    print_image(&image, ctx.format, false, 80);
    Ok(())
}

/// `image-update`.
pub async fn update(ctx: &Ctx<'_>, args: ImageUpdate) -> Result<()> {
    let f = args.fields;
    let mut patch = ImagePatch::new();
    for (key, value) in f.string_properties() {
        patch = patch.set(key, Value::String(value.clone()));
    }
    let optional: [(&str, Option<Value>); 9] = [
        ("name", f.name.map(Value::String)),
        ("visibility", f.visibility.map(Value::String)),
        ("protected", f.protected.map(Value::Bool)),
        ("os_hidden", f.hidden.map(Value::Bool)),
        ("container_format", f.container_format.map(Value::String)),
        ("disk_format", f.disk_format.map(Value::String)),
        ("min_disk", f.min_disk.map(Value::from)),
        ("min_ram", f.min_ram.map(Value::from)),
        ("owner", f.owner.map(Value::String)),
    ];
    for (key, value) in optional {
        if let Some(v) = value {
            patch = patch.set(key, v);
        }
    }
    for (k, v) in f.properties {
        patch = patch.property(k, v);
    }
    patch = patch.remove_props(args.remove_property);
    let image = ctx.client.images().update(&args.id, &patch).await?;
    print_image(&image, ctx.format, false, 80);
    Ok(())
}

/// `image-list`.
pub async fn list(ctx: &Ctx<'_>, args: ImageList) -> Result<()> {
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
                if !SORT_KEYS.contains(&key) {
                    bail!(
                        "Invalid sort key: {key}. It must be one of the following: {}.",
                        SORT_KEYS.join(", ")
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
    let images: Vec<_> = ctx.client.images().list(q).try_collect().await?;
    let mut columns = vec!["ID", "Name"];
    if ctx.verbose {
        columns.extend(["Disk_format", "Container_format", "Size", "Status", "Owner"]);
    }
    if args.include_stores == Some(true) {
        columns.push("Stores");
    }
    print_images(&images, &columns, ctx.format);
    Ok(())
}

/// `image-show`.
pub async fn show(ctx: &Ctx<'_>, args: ImageShow) -> Result<()> {
    let image = ctx.client.images().get(&args.id).await?;
    print_image(
        &image,
        ctx.format,
        args.human_readable,
        usize::from(args.max_column_width),
    );
    Ok(())
}

/// `image-delete`: every id is tried; exit status 1 if any failed.
pub async fn delete(ctx: &Ctx<'_>, args: ImageDelete) -> Result<bool> {
    let mut ok = true;
    for id in &args.ids {
        if let Err(e) = ctx.client.images().delete(id).await {
            ok = false;
            let msg = match e.status().map(|s| s.as_u16()) {
                Some(403) => format!("You are not permitted to delete the image '{id}'."),
                Some(404) => format!("No image with an ID of '{id}' exists."),
                Some(409) => format!("Unable to delete image '{id}' because it is in use."),
                _ => format!("Unable to delete image '{id}'. ({})", crate::error_line(&e)),
            };
            eprintln!("{msg}");
        }
    }
    Ok(ok)
}

/// `image-deactivate`.
pub async fn deactivate(ctx: &Ctx<'_>, args: ImageId) -> Result<()> {
    Ok(ctx.client.images().deactivate(&args.id).await?)
}

/// `image-reactivate`.
pub async fn reactivate(ctx: &Ctx<'_>, args: ImageId) -> Result<()> {
    Ok(ctx.client.images().reactivate(&args.id).await?)
}

/// `image-tag-update`: prints the image's id and tags afterwards.
pub async fn tag_update(ctx: &Ctx<'_>, args: ImageTag) -> Result<()> {
    let images = ctx.client.images();
    images.add_tag(&args.image_id, &args.tag_value).await?;
    let image = images.get(&args.image_id).await?;
    print_images(&[image], &["ID", "Tags"], ctx.format);
    Ok(())
}

/// `image-tag-delete`.
pub async fn tag_delete(ctx: &Ctx<'_>, args: ImageTag) -> Result<()> {
    Ok(ctx
        .client
        .images()
        .remove_tag(&args.image_id, &args.tag_value)
        .await?)
}

/// `image-tasks`: the tasks that worked on the image (API v2.12).
pub async fn tasks(ctx: &Ctx<'_>, args: ImageId) -> Result<()> {
    let tasks = match ctx.client.images().tasks(&args.id).await {
        Ok(t) => t,
        Err(e) if e.is_not_found() => bail!("Image {} not found.", args.id),
        Err(e) if e.status().map(|s| s.as_u16()) == Some(501) || e.is_unsupported_version() => {
            bail!("Server does not support image tasks API (v2.12)")
        }
        Err(e) => return Err(e.into()),
    };
    let mut columns = vec![
        ("Message", "message"),
        ("Status", "status"),
        ("Updated at", "updated_at"),
    ];
    if ctx.verbose {
        columns.splice(0..0, [("Image Id", "image_id"), ("Task Id", "id")]);
        columns.extend([
            ("User Id", "user_id"),
            ("Request Id", "request_id"),
            ("Result", "result"),
            ("Owner", "owner"),
            ("Input", "input"),
            ("Expires at", "expires_at"),
        ]);
    }
    let rows: Vec<Value> = tasks.iter().map(to_value).collect();
    print_list_keyed(&rows, &columns, ctx.format);
    Ok(())
}

/// A typed value from the command line: a name the client knows, else the
/// text as given (the server, like glanceclient's schema check, says
/// whether it is allowed, in its own words).
fn as_typed<T: std::str::FromStr>(other: fn(String) -> T) -> impl Fn(&str) -> T {
    move |s| s.parse().unwrap_or_else(|_| other(s.to_owned()))
}
