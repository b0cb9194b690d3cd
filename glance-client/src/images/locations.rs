//! Image locations: where the data of an image lives in a store.
//!
//! Two APIs exist. The location API of v2.17 ([`Images::add_image_location`],
//! [`Images::image_locations`]) is meant for services such as Nova and
//! Cinder. The older one edits the `locations` attribute with JSON patches
//! ([`Images::add_location`], [`Images::delete_locations`],
//! [`Images::update_location`]) and works only where the operator shows
//! locations (`show_multiple_locations`).

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::update::PatchOp;
use super::{Image, Images, get_spec};
use crate::error::{Error, Result};
use crate::transport::RequestSpec;
use crate::versions::Needs;

/// One location of an image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Location {
    /// Store URL, e.g. `rbd://…` or `file:///…`.
    pub url: String,
    /// Store metadata (e.g. `{"store": "fast"}`).
    #[serde(default)]
    pub metadata: Map<String, Value>,
}

impl Location {
    /// A location with metadata.
    pub fn new(url: impl Into<String>, metadata: Map<String, Value>) -> Self {
        Location {
            url: url.into(),
            metadata,
        }
    }
}

/// The digest a new location's data must have (`validation_data`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ValidationData {
    /// `sha512`, `sha256`, `sha1` or `md5`.
    pub os_hash_algo: String,
    /// Hex digest of the data by that algorithm.
    pub os_hash_value: String,
}

impl ValidationData {
    /// Check the algorithm and the digest's form, as Glance would.
    pub fn new(algo: impl Into<String>, hex_value: impl Into<String>) -> Result<Self> {
        let data = ValidationData {
            os_hash_algo: algo.into(),
            os_hash_value: hex_value.into(),
        };
        let len = match data.os_hash_algo.as_str() {
            "sha512" => 128,
            "sha256" => 64,
            "sha1" => 40,
            "md5" => 32,
            other => {
                return Err(Error::InvalidInput(format!(
                    "unsupported os_hash_algo {other:?}: use sha512, sha256, sha1 or md5"
                )));
            }
        };
        if data.os_hash_value.len() != len
            || !data.os_hash_value.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(Error::InvalidInput(format!(
                "os_hash_value must be {len} hex digits for {}",
                data.os_hash_algo
            )));
        }
        Ok(data)
    }
}

impl Image {
    /// The `locations` attribute, when the deployment shows it.
    pub fn locations(&self) -> Option<Vec<Location>> {
        self.properties
            .get("locations")
            .and_then(|v| serde_json::from_value(v.clone()).ok())
    }
}

impl Images<'_> {
    /// Nova's `get(id, include_locations)`: the image record with its
    /// `locations` (and `direct_url`) present when asked for and removed
    /// otherwise.
    ///
    /// With `include_locations`, a record that does not show them (the
    /// operator hides locations) is completed from
    /// `GET /v2/images/{id}/locations` (API v2.17) when the server lets the
    /// caller read it; otherwise, as in Nova, `locations` is an empty list.
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client, id: &str) -> glance_client::Result<()> {
    /// let image = client.images().get_with(id, true).await?;
    /// for location in image.locations().unwrap_or_default() {
    ///     println!("{} {:?}", location.url, location.metadata.get("store"));
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get_with(&self, id: &str, include_locations: bool) -> Result<Image> {
        let mut image = self.get(id).await?;
        if !include_locations {
            image.properties.remove("locations");
            image.properties.remove("direct_url");
            return Ok(image);
        }
        if image.locations().is_none() {
            let locations = match self.image_locations(id).await {
                Ok(list) => list,
                Err(e)
                    if e.is_forbidden()
                        || e.is_not_found()
                        || e.is_unsupported_version()
                        || e.status().is_some_and(|s| s.as_u16() == 501) =>
                {
                    Vec::new()
                }
                Err(e) => return Err(e),
            };
            image
                .properties
                .insert("locations".into(), json!(locations));
        }
        Ok(image)
    }

    /// `POST /v2/images/{id}/locations` (API v2.17): add a location to a
    /// `queued` image; Glance checks it and imports it asynchronously.
    /// Needs a service role, or the `http` store for other callers.
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client, id: &str) -> glance_client::Result<()> {
    /// use glance_client::images::ValidationData;
    /// let digest = ValidationData::new("sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08")?;
    /// client.images().add_image_location(id, "rbd://fsid/pool/image/snap", Some(digest)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn add_image_location(
        &self,
        id: &str,
        url: &str,
        validation_data: Option<ValidationData>,
    ) -> Result<()> {
        crate::transport::check_param("location URL", url)?;
        self.client.require_version("2.17", Needs::AtLeast).await?;
        let body = json!({
            "url": url,
            "validation_data": validation_data.map_or_else(|| json!({}), |v| json!(v)),
        });
        let spec = RequestSpec::new(Method::POST, ["v2", "images", id, "locations"])
            .json_body(&body, "application/json");
        self.client.send_unit(spec).await
    }

    /// `GET /v2/images/{id}/locations` (API v2.17; services and admins).
    pub async fn image_locations(&self, id: &str) -> Result<Vec<Location>> {
        self.client.require_version("2.17", Needs::AtLeast).await?;
        self.client
            .send_json(RequestSpec::new(
                Method::GET,
                ["v2", "images", id, "locations"],
            ))
            .await
    }

    /// Append a location with a JSON patch (`add /locations/-`). Returns
    /// the updated image.
    pub async fn add_location(
        &self,
        id: &str,
        url: &str,
        metadata: Map<String, Value>,
        validation_data: Option<ValidationData>,
    ) -> Result<Image> {
        crate::transport::check_param("location URL", url)?;
        let mut value = json!({"url": url, "metadata": metadata});
        if let Some(v) = validation_data {
            value["validation_data"] = json!(v);
        }
        let op = PatchOp::Add {
            path: "/locations/-".into(),
            value,
        };
        self.patch(id, &[op]).await
    }

    /// Remove the locations with these URLs, by index from the last one
    /// down, in one patch. All must exist ([`Error::InvalidInput`]
    /// otherwise, and nothing is sent).
    pub async fn delete_locations<I, S>(&self, id: &str, urls: I) -> Result<Image>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let current: Image = self.client.send_json(get_spec(id)).await?;
        let locations = shown_locations(&current)?;
        let mut indices = Vec::new();
        let mut unknown = Vec::new();
        for url in urls {
            let url = url.as_ref();
            let found: Vec<usize> = locations
                .iter()
                .enumerate()
                .filter(|(_, l)| l.url == url)
                .map(|(i, _)| i)
                .collect();
            if found.is_empty() {
                unknown.push(url.to_owned());
            }
            indices.extend(found);
        }
        if !unknown.is_empty() {
            return Err(Error::InvalidInput(format!(
                "unknown location URL(s): {}",
                unknown.join(", ")
            )));
        }
        indices.sort_unstable();
        indices.dedup();
        if indices.is_empty() {
            return Ok(current);
        }
        let ops: Vec<PatchOp> = indices
            .into_iter()
            .rev()
            .map(PatchOp::remove_location)
            .collect();
        self.patch(id, &ops).await
    }

    /// Change the metadata of the location with this URL (one `replace` of
    /// the whole list). Nothing is sent if it already has that metadata.
    pub async fn update_location(
        &self,
        id: &str,
        url: &str,
        metadata: Map<String, Value>,
    ) -> Result<Image> {
        let current: Image = self.client.send_json(get_spec(id)).await?;
        let mut locations = shown_locations(&current)?;
        let Some(target) = locations.iter_mut().find(|l| l.url == url) else {
            return Err(Error::InvalidInput(format!("unknown location URL: {url}")));
        };
        if target.metadata == metadata {
            return Ok(current);
        }
        target.metadata = metadata;
        let op = PatchOp::replace("locations", json!(locations));
        self.patch(id, &[op]).await
    }
}

fn shown_locations(image: &Image) -> Result<Vec<Location>> {
    image.locations().ok_or_else(|| {
        Error::InvalidInput(
            "this Image service does not show image locations (show_multiple_locations is off)"
                .into(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_data_is_checked() {
        assert!(ValidationData::new("sha256", "ab".repeat(32)).is_ok());
        assert!(ValidationData::new("md5", "0".repeat(32)).is_ok());
        assert!(ValidationData::new("sha256", "ab").is_err());
        assert!(ValidationData::new("sha256", "zz".repeat(32)).is_err());
        assert!(ValidationData::new("crc32", "00000000").is_err());
    }

    #[test]
    fn locations_are_read_from_the_record() {
        let img: Image = serde_json::from_value(json!({
            "id": "i", "status": "active",
            "locations": [{"url": "file:///a", "metadata": {"store": "fast"}}]
        }))
        .expect("decodes");
        let locs = img.locations().expect("shown");
        assert_eq!(locs[0].url, "file:///a");
        assert_eq!(locs[0].metadata["store"], "fast");
    }
}
