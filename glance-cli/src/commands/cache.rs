//! The image cache of one Glance node: `cache-list`, `cache-queue`,
//! `cache-delete`, `cache-clear`.

use anyhow::{Result, bail};
use clap::Args;
use glance_client::cache::CacheTarget;

use super::Ctx;
use crate::output::{print_centred, to_value};

/// `cache-queue`, `cache-delete`.
#[derive(Debug, Args)]
pub struct CacheIds {
    /// ID of image(s).
    #[arg(required = true, value_name = "IMAGE_ID")]
    pub ids: Vec<String>,
}

/// `cache-clear`.
#[derive(Debug, Args)]
pub struct CacheClear {
    /// Specify which target you want to clear.
    #[arg(long, default_value = "both", value_parser = ["both", "cache", "queue"])]
    pub target: String,
}

/// The cache lives on each node: a catalog or load-balanced endpoint
/// would answer for a random one.
fn require_endpoint(ctx: &Ctx<'_>) -> Result<()> {
    if !ctx.endpoint_given {
        bail!(
            "Direct server endpoint needs to be provided. Do not use loadbalanced or catalog endpoints."
        );
    }
    Ok(())
}

/// Python's `datetime.utcfromtimestamp(t).isoformat()`.
fn iso(t: f64) -> String {
    let nanos = (t * 1e9) as i128;
    let Ok(dt) = time::OffsetDateTime::from_unix_timestamp_nanos(nanos) else {
        return t.to_string();
    };
    let micro = dt.microsecond();
    let base = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second()
    );
    if micro == 0 {
        base
    } else {
        format!("{base}.{micro:06}")
    }
}

/// `cache-list`: cached images, then queued ones.
pub async fn list(ctx: &Ctx<'_>) -> Result<()> {
    require_endpoint(ctx)?;
    let contents = ctx.client.cache().list().await?;
    if ctx.format == crate::output::Format::Json {
        crate::output::print_json(&to_value(&contents));
        return Ok(());
    }
    // PrettyTable's defaults, as glanceclient's `print_cached_images`:
    // every column centred.
    let mut rows: Vec<Vec<String>> = contents
        .cached_images
        .iter()
        .map(|c| {
            let accessed = if c.last_accessed == 0.0 {
                "N/A".to_owned()
            } else {
                iso(c.last_accessed)
            };
            vec![
                c.image_id.to_string(),
                "cached".to_owned(),
                accessed,
                iso(c.last_modified),
                c.size.to_string(),
                c.hits.to_string(),
            ]
        })
        .collect();
    rows.extend(contents.queued_images.iter().map(|id| {
        let na = || "N/A".to_owned();
        vec![id.to_string(), "queued".to_owned(), na(), na(), na(), na()]
    }));
    print_centred(
        &[
            "ID",
            "State",
            "Last Accessed (UTC)",
            "Last Modified (UTC)",
            "Size",
            "Hits",
        ],
        &rows,
    );
    Ok(())
}

/// `cache-queue <id>...`: every id is tried; exit status 1 if any failed.
pub async fn queue(ctx: &Ctx<'_>, args: CacheIds) -> Result<bool> {
    require_endpoint(ctx)?;
    let mut ok = true;
    for id in &args.ids {
        if let Err(e) = ctx.client.cache().queue(id).await {
            ok = false;
            if e.is_forbidden() {
                eprintln!("You are not permitted to queue the image '{id}' for caching.");
            } else {
                eprintln!(
                    "'{}': Unable to queue image '{id}' for caching.",
                    crate::error_line(&e)
                );
            }
        }
    }
    Ok(ok)
}

/// `cache-delete <id>...`: every id is tried; exit status 1 if any failed.
pub async fn delete(ctx: &Ctx<'_>, args: CacheIds) -> Result<bool> {
    require_endpoint(ctx)?;
    let mut ok = true;
    for id in &args.ids {
        if let Err(e) = ctx.client.cache().delete(id).await {
            ok = false;
            if e.is_forbidden() {
                eprintln!("You are not permitted to delete the image '{id}' from cache.");
            } else {
                eprintln!(
                    "'{}': Unable to delete image '{id}' from cache.",
                    crate::error_line(&e)
                );
            }
        }
    }
    Ok(ok)
}

/// `cache-clear [--target both|cache|queue]`.
pub async fn clear(ctx: &Ctx<'_>, args: CacheClear) -> Result<bool> {
    require_endpoint(ctx)?;
    let target = match args.target.as_str() {
        "cache" => CacheTarget::Cache,
        "queue" => CacheTarget::Queue,
        _ => CacheTarget::Both,
    };
    match ctx.client.cache().clear(target).await {
        Ok(()) => Ok(true),
        Err(e) if e.is_forbidden() => {
            eprintln!("You are not permitted to delete image(s) from cache.");
            Ok(false)
        }
        Err(e) => {
            eprintln!(
                "'{}': Unable to delete image(s) from cache.",
                crate::error_line(&e)
            );
            Ok(false)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn timestamps_print_like_isoformat() {
        assert_eq!(super::iso(0.0), "1970-01-01T00:00:00");
        assert_eq!(super::iso(1.5), "1970-01-01T00:00:01.500000");
    }
}
