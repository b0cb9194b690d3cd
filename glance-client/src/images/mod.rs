//! Image calls: `client.images()`.

mod download;
mod import;
pub(crate) mod list;
mod locations;
pub mod model;
mod parallel;
mod resume;
mod stage;
mod timestamp;
mod update;
mod upload;
mod wait;

pub use download::{Download, DownloadOptions, Saved, check_target as check_download_target};
pub use import::{FetchImport, GlanceDirect, ImportMethod, ImportRequest, StoreSelection};
pub use list::{ListImages, SORT_KEYS, SortDir, TimeOp};
pub use locations::{Location, ValidationData};
pub use model::{
    ContainerFormat, CreateImage, DiskFormat, Image, ImageSignature, ImageStatus, Visibility,
};
pub use stage::StageOptions;
pub use update::{ImagePatch, JSON_PATCH_MEDIA_TYPE, PatchOp};
pub use upload::{Progress, UploadBody, UploadOptions};
pub use wait::{ImageData, WaitOptions};

use reqwest::Method;

use crate::client::Client;
use crate::error::Result;
use crate::transport::RequestSpec;

/// Image calls on one client. Get one with [`Client::images`].
#[derive(Debug, Clone, Copy)]
pub struct Images<'a> {
    pub(crate) client: &'a Client,
}

impl<'a> Images<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Images { client }
    }

    /// `POST /v2/images`: create an image record (status `queued`), with
    /// `X-Image-Meta-Store` when [`CreateImage::store`] is set.
    pub async fn create(&self, image: &CreateImage) -> Result<Image> {
        let mut spec = RequestSpec::new(Method::POST, ["v2", "images"])
            .json_body(&image.to_json(), "application/json");
        if let Some(store) = &image.store {
            spec = spec.header("x-image-meta-store", store)?;
        }
        self.client.send_json(spec).await
    }

    /// `GET /v2/images/{id}`. Like nova's image API, `id` may also be the
    /// image's URI (`https://glance.example:9292/v2/images/ID`, or any
    /// `…/images/ID`): its id is asked of this client's endpoint.
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client) -> glance_client::Result<()> {
    /// let by_id = client.images().get("5c0d0ae6-1f2e-4a3b-9c8d-0123456789ab").await?;
    /// let by_uri = client
    ///     .images()
    ///     .get("http://controller:9292/v2/images/5c0d0ae6-1f2e-4a3b-9c8d-0123456789ab")
    ///     .await?;
    /// assert_eq!(by_id.id, by_uri.id);
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, id: &str) -> Result<Image> {
        self.client.send_json(get_spec(image_id(id)?)).await
    }

    /// One image by id or by name, as openstacksdk's `find_image` and the
    /// `glance` shell's arguments take it: an id that names a visible
    /// image is that image; otherwise the image with exactly that name.
    /// [`Error::NoSuchImage`](crate::Error::NoSuchImage) when there is
    /// none, [`Error::AmbiguousName`](crate::Error::AmbiguousName) when
    /// several images share the name.
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client) -> glance_client::Result<()> {
    /// match client.images().find("cirros").await {
    ///     Ok(image) => println!("{}", image.id),
    ///     Err(glance_client::Error::AmbiguousName { ids, .. }) => println!("pick one of {ids:?}"),
    ///     Err(e) if e.is_not_found() => println!("no such image"),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn find(&self, name_or_id: &str) -> Result<Image> {
        use futures::TryStreamExt;
        if uuid_like(name_or_id)
            && let Some(image) = self.get_opt(name_or_id).await?
        {
            return Ok(image);
        }
        // A first page is enough to tell one from several, and to name them.
        let mut named: Vec<Image> = self
            .list(ListImages::new().name(name_or_id).page_size(20).limit(20))
            .try_collect()
            .await?;
        match named.len() {
            0 => Err(crate::Error::NoSuchImage(name_or_id.to_owned())),
            1 => Ok(named.remove(0)),
            _ => Err(crate::Error::AmbiguousName {
                name: name_or_id.to_owned(),
                ids: named.into_iter().map(|i| i.id).collect(),
            }),
        }
    }

    /// Like [`Images::get`], but `Ok(None)` when the image does not exist
    /// (or is not visible to the caller).
    pub async fn get_opt(&self, id: &str) -> Result<Option<Image>> {
        match self.get(id).await {
            Ok(img) => Ok(Some(img)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// `DELETE /v2/images/{id}`; `id` may be the image's URI, as for
    /// [`Images::get`].
    pub async fn delete(&self, id: &str) -> Result<()> {
        let id = image_id(id)?;
        self.client
            .send_unit(RequestSpec::new(Method::DELETE, ["v2", "images", id]))
            .await
    }

    /// `POST /v2/images/{id}/actions/deactivate`: make an active image's
    /// data unavailable to non-admins (its status becomes `deactivated`).
    /// Deactivating a deactivated image succeeds.
    pub async fn deactivate(&self, id: &str) -> Result<()> {
        self.client.send_unit(action_spec(id, "deactivate")).await
    }

    /// `POST /v2/images/{id}/actions/reactivate`: make a deactivated image
    /// `active` again. Reactivating an active image succeeds.
    pub async fn reactivate(&self, id: &str) -> Result<()> {
        self.client.send_unit(action_spec(id, "reactivate")).await
    }

    /// `PUT /v2/images/{id}/tags/{tag}`: add a tag (adding one that exists
    /// succeeds). Tags are non-empty and at most 255 characters.
    ///
    /// Glance cannot take every tag in a URL: it routes on the decoded path
    /// (so no `/`) and reads it as Latin-1 (so non-ASCII tags would be
    /// stored garbled). Such tags are refused here with
    /// [`Error::InvalidInput`](crate::Error::InvalidInput); set them with
    /// [`ImagePatch::add_tag`] instead.
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client, id: &str) -> glance_client::Result<()> {
    /// client.images().add_tag(id, "golden").await?;
    /// client.images().remove_tag(id, "golden").await?;
    /// # Ok(()) }
    /// ```
    pub async fn add_tag(&self, id: &str, tag: &str) -> Result<()> {
        update::check_url_tag(tag)?;
        self.client.send_unit(tag_spec(Method::PUT, id, tag)).await
    }

    /// `DELETE /v2/images/{id}/tags/{tag}`: remove a tag (404 if the image
    /// does not have it). The URL limits of [`Images::add_tag`] apply; use
    /// [`ImagePatch::remove_tag`] for other tags.
    pub async fn remove_tag(&self, id: &str, tag: &str) -> Result<()> {
        update::check_url_tag(tag)?;
        self.client
            .send_unit(tag_spec(Method::DELETE, id, tag))
            .await
    }
}

pub(crate) fn action_spec(id: &str, action: &str) -> RequestSpec {
    RequestSpec::new(Method::POST, ["v2", "images", id, "actions", action])
}

pub(crate) fn tag_spec(method: Method, id: &str, tag: &str) -> RequestSpec {
    RequestSpec::new(method, ["v2", "images", id, "tags", tag])
}

pub(crate) fn get_spec(id: &str) -> RequestSpec {
    RequestSpec::new(Method::GET, ["v2", "images", id])
}

/// The id of an image named by id or, as nova's `id_or_uri`, by URI:
/// text with a `/` is a URI whose last two path segments are `images` and
/// the id (`http(s)://host/v2/images/ID`, `…/images/ID`; a query or
/// fragment is ignored). Anything else is an id already.
pub(crate) fn image_id(id_or_uri: &str) -> Result<&str> {
    if !id_or_uri.contains('/') {
        return Ok(id_or_uri);
    }
    let path = id_or_uri
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .trim_end_matches('/');
    let mut segments = path.rsplit('/');
    match (segments.next(), segments.next()) {
        (Some(id), Some("images")) if !id.is_empty() => Ok(id),
        _ => Err(crate::Error::InvalidInput(format!(
            "{id_or_uri:?} is neither an image id nor an image URI (…/images/ID)"
        ))),
    }
}

/// Whether `s` has a UUID's shape (Glance's image ids; hex digits in
/// groups of 8-4-4-4-12, or the 32 digits alone).
fn uuid_like(s: &str) -> bool {
    let hex: String = s.chars().filter(|c| *c != '-').collect();
    let groups: Vec<usize> = s.split('-').map(str::len).collect();
    hex.len() == 32
        && hex.chars().all(|c| c.is_ascii_hexdigit())
        && (groups == [8, 4, 4, 4, 12] || groups == [32])
}

#[cfg(test)]
mod find_tests {
    use super::uuid_like;

    #[test]
    fn image_uris_give_their_ids() {
        use super::image_id;
        let id = "5c0d0ae6-1f2e-4a3b-9c8d-0123456789ab";
        assert_eq!(image_id(id).ok(), Some(id));
        for uri in [
            format!("http://controller:9292/v2/images/{id}"),
            format!("https://glance.example/image/v2/images/{id}/"),
            format!("http://controller:9292/images/{id}?x=1"),
            format!("/v2/images/{id}"),
        ] {
            assert_eq!(image_id(&uri).ok(), Some(id), "{uri}");
        }
        for bad in [
            "http://controller:9292/v2/images/",
            "http://h/v2/tasks/x",
            "a/b",
        ] {
            assert!(image_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ids_are_told_from_names() {
        assert!(uuid_like("5c0d0ae6-1f2e-4a3b-9c8d-0123456789ab"));
        assert!(uuid_like("5c0d0ae61f2e4a3b9c8d0123456789ab"));
        assert!(!uuid_like("cirros"));
        assert!(!uuid_like("5c0d0ae6-1f2e-4a3b-9c8d-0123456789zz"));
        assert!(!uuid_like("5c0d0ae6-1f2e4a3b-9c8d-0123-456789ab"));
    }
}
