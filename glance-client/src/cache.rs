//! The image cache of one API node (`client.cache()`, API v2.14).
//!
//! The cache belongs to the node that answers, so use a direct node
//! endpoint, not a load balancer. Every call first checks that the server
//! lists v2.14 (it does so only when an image cache is configured) and
//! otherwise fails with [`Error::UnsupportedVersion`](crate::Error::UnsupportedVersion)
//! without sending the call.

use reqwest::Method;
use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::error::Result;
use crate::transport::RequestSpec;
use crate::versions::Needs;

/// One cached image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CachedImage {
    /// The image.
    pub image_id: String,
    /// Last read, seconds since the epoch (0: never).
    #[serde(default)]
    pub last_accessed: f64,
    /// Cached at, seconds since the epoch.
    #[serde(default)]
    pub last_modified: f64,
    /// Bytes.
    #[serde(default)]
    pub size: u64,
    /// Reads served from the cache.
    #[serde(default)]
    pub hits: u64,
}

/// The cache's contents (`GET /v2/cache`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CacheContents {
    /// Images in the cache.
    #[serde(default)]
    pub cached_images: Vec<CachedImage>,
    /// Ids of images waiting to be cached.
    #[serde(default)]
    pub queued_images: Vec<String>,
}

/// What [`Cache::clear`] empties.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CacheTarget {
    /// Cached images and the queue.
    #[default]
    Both,
    /// Cached images only.
    Cache,
    /// The queue only.
    Queue,
}

/// Cache calls (admins). Get one with [`Client::cache`].
///
/// ```no_run
/// # async fn demo(client: glance_client::Client, id: &str) -> glance_client::Result<()> {
/// use glance_client::cache::CacheTarget;
/// client.cache().queue(id).await?;
/// let contents = client.cache().list().await?;
/// println!("{} cached, {} queued", contents.cached_images.len(), contents.queued_images.len());
/// client.cache().clear(CacheTarget::Queue).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Cache<'a> {
    client: &'a Client,
}

impl Client {
    /// Image cache calls (API v2.14).
    pub fn cache(&self) -> Cache<'_> {
        Cache { client: self }
    }
}

impl Cache<'_> {
    async fn supported(&self) -> Result<()> {
        self.client.require_version("2.14", Needs::Listed).await
    }

    /// `GET /v2/cache`: cached and queued images.
    pub async fn list(&self) -> Result<CacheContents> {
        self.supported().await?;
        self.client
            .send_json(RequestSpec::new(Method::GET, ["v2", "cache"]))
            .await
    }

    /// `PUT /v2/cache/{id}`: queue an active image for caching.
    pub async fn queue(&self, image_id: &str) -> Result<()> {
        self.supported().await?;
        self.client
            .send_unit(RequestSpec::new(Method::PUT, ["v2", "cache", image_id]))
            .await
    }

    /// `DELETE /v2/cache/{id}`: drop an image from the cache (or the queue).
    pub async fn delete(&self, image_id: &str) -> Result<()> {
        self.supported().await?;
        self.client
            .send_unit(RequestSpec::new(Method::DELETE, ["v2", "cache", image_id]))
            .await
    }

    /// `DELETE /v2/cache`: empty the cache, the queue, or both (the
    /// `x-image-cache-clear-target` header is sent for one of them only).
    pub async fn clear(&self, target: CacheTarget) -> Result<()> {
        self.supported().await?;
        let mut spec = RequestSpec::new(Method::DELETE, ["v2", "cache"]);
        match target {
            CacheTarget::Both => {}
            CacheTarget::Cache => spec = spec.header("x-image-cache-clear-target", "cache")?,
            CacheTarget::Queue => spec = spec.header("x-image-cache-clear-target", "queue")?,
        }
        self.client.send_unit(spec).await
    }
}
