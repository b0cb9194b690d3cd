//! Image locations: `location-add`, `location-delete`, `location-update`
//! (JSON-patch based) and `add-location` (the v2.17 POST API).

use anyhow::{Result, bail};
use clap::Args;
use glance_client::images::ValidationData;

use super::{Ctx, json_object};
use crate::output::{print_dict, print_image, to_value};

/// `location-add`.
#[derive(Debug, Args)]
pub struct LocationAdd {
    /// ID of image to which the location is to be added.
    #[arg(value_name = "IMAGE_ID")]
    pub id: String,
    /// URL of location to add.
    #[arg(long, required = true)]
    pub url: String,
    /// Metadata associated with the location. Must be a valid JSON object.
    #[arg(long, value_name = "STRING", default_value = "{}")]
    pub metadata: String,
    /// md5 checksum of image contents (accepted for compatibility; Glance checks the multihash).
    #[arg(long, value_name = "STRING")]
    pub checksum: Option<String>,
    /// Multihash algorithm.
    #[arg(long, value_name = "STRING")]
    pub hash_algo: Option<String>,
    /// Multihash value.
    #[arg(long, value_name = "STRING")]
    pub hash_value: Option<String>,
}

/// `location-delete`.
#[derive(Debug, Args)]
pub struct LocationDelete {
    /// ID of image whose locations are to be removed.
    #[arg(value_name = "IMAGE_ID")]
    pub id: String,
    /// URL of location to remove. May be used multiple times.
    #[arg(long, required = true)]
    pub url: Vec<String>,
}

/// `location-update`.
#[derive(Debug, Args)]
pub struct LocationUpdate {
    /// ID of image whose location is to be updated.
    #[arg(value_name = "IMAGE_ID")]
    pub id: String,
    /// URL of location to update.
    #[arg(long, required = true)]
    pub url: String,
    /// Metadata associated with the location. Must be a valid JSON object.
    #[arg(long, value_name = "STRING", default_value = "{}")]
    pub metadata: String,
}

/// `add-location`.
#[derive(Debug, Args)]
pub struct AddLocation {
    /// ID of image whose location is to be added.
    #[arg(value_name = "IMAGE_ID")]
    pub id: String,
    /// URL of location to add.
    #[arg(long, required = true)]
    pub url: String,
    /// Validation data containing os_hash_algo and os_hash_value only associated to the image. Must be a valid JSON object.
    #[arg(long, value_name = "STRING", default_value = "{}")]
    pub validation_data: String,
}

/// `location-add`.
pub async fn add(ctx: &Ctx<'_>, args: LocationAdd) -> Result<()> {
    let metadata = json_object(&args.metadata, "Metadata is not a valid JSON object.")?;
    let validation = match (args.hash_algo, args.hash_value) {
        (Some(algo), Some(value)) => Some(ValidationData::new(algo, value)?),
        (None, None) => None,
        _ => bail!("Provide both --hash-algo and --hash-value."),
    };
    let image = ctx
        .client
        .images()
        .add_location(&args.id, &args.url, metadata, validation)
        .await?;
    print_dict(&to_value(&image), ctx.format, 80);
    Ok(())
}

/// `location-delete`.
pub async fn delete(ctx: &Ctx<'_>, args: LocationDelete) -> Result<()> {
    let mut urls = args.url;
    urls.sort();
    urls.dedup();
    ctx.client
        .images()
        .delete_locations(&args.id, &urls)
        .await?;
    Ok(())
}

/// `location-update`.
pub async fn update(ctx: &Ctx<'_>, args: LocationUpdate) -> Result<()> {
    let metadata = json_object(&args.metadata, "Metadata is not a valid JSON object.")?;
    if metadata.is_empty() {
        println!("WARNING -- The location's metadata will be updated to an empty JSON object.");
    }
    let image = ctx
        .client
        .images()
        .update_location(&args.id, &args.url, metadata)
        .await?;
    print_dict(&to_value(&image), ctx.format, 80);
    Ok(())
}

/// Hash algorithms `add-location` accepts.
const HASH_ALGOS: [&str; 4] = ["sha512", "sha256", "sha1", "md5"];

/// `add-location`: then prints the image.
pub async fn add_location(ctx: &Ctx<'_>, args: AddLocation) -> Result<()> {
    let data = json_object(
        &args.validation_data,
        "validation-data is not a valid JSON object.",
    )?;
    let mut invalid: Vec<&String> = data
        .keys()
        .filter(|k| *k != "os_hash_algo" && *k != "os_hash_value")
        .collect();
    if !invalid.is_empty() {
        invalid.sort();
        let names: Vec<String> = invalid.iter().map(|k| format!("'{k}'")).collect();
        bail!(
            "Validation Data should contain only os_hash_algo and os_hash_value. `[{}]` is not allowed",
            names.join(", ")
        );
    }
    let algo = data.get("os_hash_algo").and_then(|v| v.as_str());
    let value = data.get("os_hash_value").and_then(|v| v.as_str());
    if let Some(a) = algo {
        if !HASH_ALGOS.contains(&a) {
            bail!(
                "os_hash_algo: `{a}` is incorrect, allowed hashing algorithms: ['sha512', 'sha256', 'sha1', 'md5']"
            );
        }
    }
    let validation = match (algo, value) {
        (Some(a), Some(v)) => Some(ValidationData::new(a, v)?),
        (None, None) => None,
        _ => bail!("Validation Data should contain both os_hash_algo and os_hash_value."),
    };
    let images = ctx.client.images();
    images
        .add_image_location(&args.id, &args.url, validation)
        .await?;
    let image = images.get(&args.id).await?;
    print_image(&image, ctx.format, false, 80);
    Ok(())
}
