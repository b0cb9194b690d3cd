//! Importing image data: `POST /v2/images/{id}/import`.
//!
//! The request body is python-glanceclient's (`image_import`), built from
//! typed values so that the combinations it only refuses at run time (a
//! `uri` with another method, a header store together with a store list)
//! cannot be written.

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::Images;
use crate::auth::Interface;
use crate::error::{Error, Result};
use crate::transport::{RequestSpec, check_param};

/// How Glance gets the data of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportMethod {
    /// `glance-direct`: the data already sent with [`Images::stage`].
    GlanceDirect,
    /// `web-download`: Glance fetches the data from `uri`.
    WebDownload {
        /// The URL Glance downloads from.
        uri: String,
    },
    /// `copy-image`: copy an active image's data into more stores.
    CopyImage,
    /// `glance-download`: fetch an image from the Glance of another region.
    GlanceDownload {
        /// The remote region.
        region: String,
        /// The image's id there.
        image_id: String,
        /// The catalog interface to reach it by (Glance's default,
        /// `public`, when `None`).
        service_interface: Option<Interface>,
    },
}

impl ImportMethod {
    /// The method's name in the API (`glance-direct`, …).
    pub fn name(&self) -> &'static str {
        match self {
            ImportMethod::GlanceDirect => "glance-direct",
            ImportMethod::WebDownload { .. } => "web-download",
            ImportMethod::CopyImage => "copy-image",
            ImportMethod::GlanceDownload { .. } => "glance-download",
        }
    }
}

/// Which stores an import writes to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum StoreSelection {
    /// The deployment's default store (nothing sent).
    #[default]
    Default,
    /// One store, named in the `X-Image-Meta-Store` header (glanceclient's
    /// `backend`).
    Store(String),
    /// These stores, as the body's `stores` list.
    Stores(Vec<String>),
    /// Every store of the deployment (`"all_stores": true`).
    AllStores,
}

/// What [`Images::import`] asks for.
///
/// ```
/// use glance_client::images::{ImportMethod, ImportRequest};
/// let req = ImportRequest::new(ImportMethod::CopyImage)
///     .stores(["fast", "cheap"])
///     .all_stores_must_succeed(true);
/// assert_eq!(
///     req.body().unwrap(),
///     serde_json::json!({"method": {"name": "copy-image"}, "stores": ["fast", "cheap"]})
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ImportRequest {
    /// How the data is obtained.
    pub method: ImportMethod,
    /// Where it goes.
    pub stores: StoreSelection,
    /// With several stores, whether one failing fails the whole import.
    /// `false` by default, as glanceclient's `allow_failure=True`: the
    /// import succeeds in the stores that worked, and the others are listed
    /// in `os_glance_failed_import`.
    pub all_stores_must_succeed: bool,
    /// [`ImportRequest::service_interface`] was asked of a method that has
    /// none: refused by [`ImportRequest::body`].
    stray_interface: bool,
}

impl ImportRequest {
    /// An import by `method` into the default store.
    pub fn new(method: ImportMethod) -> Self {
        ImportRequest {
            method,
            stores: StoreSelection::Default,
            all_stores_must_succeed: false,
            stray_interface: false,
        }
    }

    /// `glance-direct` (the data was staged).
    pub fn glance_direct() -> Self {
        Self::new(ImportMethod::GlanceDirect)
    }

    /// `web-download` from `uri`.
    pub fn web_download(uri: impl Into<String>) -> Self {
        Self::new(ImportMethod::WebDownload { uri: uri.into() })
    }

    /// `copy-image` (name the stores with [`ImportRequest::stores`] or
    /// [`ImportRequest::all_stores`]).
    pub fn copy_image() -> Self {
        Self::new(ImportMethod::CopyImage)
    }

    /// `glance-download` of `image_id` in `region`, reached through the
    /// catalog's `public` endpoint unless
    /// [`ImportRequest::service_interface`] says otherwise.
    ///
    /// ```
    /// use glance_client::auth::Interface;
    /// use glance_client::images::ImportRequest;
    /// let req = ImportRequest::glance_download("RegionTwo", "5f2c7e0a-8b6e-4c1a-9d3b-2a1f0e9c8d7b")
    ///     .service_interface(Interface::Internal);
    /// assert_eq!(req.body()?["method"]["glance_service_interface"], "internal");
    /// # Ok::<(), glance_client::Error>(())
    /// ```
    pub fn glance_download(region: impl Into<String>, image_id: impl Into<String>) -> Self {
        Self::new(ImportMethod::GlanceDownload {
            region: region.into(),
            image_id: image_id.into(),
            service_interface: None,
        })
    }

    /// For `glance-download`: the catalog interface by which Glance
    /// reaches the other region's Glance. Only that method has one: on
    /// another, [`ImportRequest::body`] (and so [`Images::import`])
    /// refuses the request with [`Error::InvalidInput`].
    pub fn service_interface(mut self, interface: Interface) -> Self {
        match &mut self.method {
            ImportMethod::GlanceDownload {
                service_interface, ..
            } => *service_interface = Some(interface),
            _ => self.stray_interface = true,
        }
        self
    }

    /// Import into one store (sent as `X-Image-Meta-Store`).
    pub fn store(mut self, store: impl Into<String>) -> Self {
        self.stores = StoreSelection::Store(store.into());
        self
    }

    /// Import into these stores.
    pub fn stores<I, S>(mut self, stores: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.stores = StoreSelection::Stores(stores.into_iter().map(Into::into).collect());
        self
    }

    /// Import into every store.
    pub fn all_stores(mut self) -> Self {
        self.stores = StoreSelection::AllStores;
        self
    }

    /// Whether one store failing fails the import (default `false`).
    pub fn all_stores_must_succeed(mut self, must: bool) -> Self {
        self.all_stores_must_succeed = must;
        self
    }

    /// The stores named explicitly (header or list), if any.
    pub fn named_stores(&self) -> Vec<String> {
        match &self.stores {
            StoreSelection::Store(s) => vec![s.clone()],
            StoreSelection::Stores(list) => list.clone(),
            StoreSelection::Default | StoreSelection::AllStores => Vec::new(),
        }
    }

    /// The JSON body, as glanceclient builds it.
    ///
    /// `all_stores_must_succeed` is sent as `false` only with a store list
    /// or all stores, and left out otherwise (Glance's default is `true`),
    /// like glanceclient. Empty values are refused before anything is sent.
    pub fn body(&self) -> Result<Value> {
        if self.stray_interface {
            return Err(Error::InvalidInput(format!(
                "a service interface is for glance-download imports, not {}",
                self.method.name()
            )));
        }
        let mut method = Map::new();
        method.insert("name".into(), json!(self.method.name()));
        match &self.method {
            ImportMethod::WebDownload { uri } => {
                check_param("web-download uri", uri)?;
                method.insert("uri".into(), json!(uri));
            }
            ImportMethod::GlanceDownload {
                region,
                image_id,
                service_interface,
            } => {
                check_param("glance-download region", region)?;
                check_param("glance-download image id", image_id)?;
                if let Some(interface) = service_interface {
                    method.insert("glance_service_interface".into(), json!(interface.as_str()));
                }
                method.insert("glance_region".into(), json!(region));
                method.insert("glance_image_id".into(), json!(image_id));
            }
            ImportMethod::GlanceDirect | ImportMethod::CopyImage => {}
        }
        let mut body = Map::new();
        body.insert("method".into(), Value::Object(method));
        let allow_failure = !self.all_stores_must_succeed;
        match &self.stores {
            StoreSelection::Default => {}
            StoreSelection::Store(store) => check_param("store", store)?,
            StoreSelection::Stores(list) => {
                if list.is_empty() {
                    return Err(Error::InvalidInput(
                        "an empty store list (use StoreSelection::Default)".into(),
                    ));
                }
                for s in list {
                    check_param("store", s)?;
                }
                body.insert("stores".into(), json!(list));
                if allow_failure {
                    body.insert("all_stores_must_succeed".into(), json!(false));
                }
            }
            StoreSelection::AllStores => {
                body.insert("all_stores".into(), json!(true));
                if allow_failure {
                    body.insert("all_stores_must_succeed".into(), json!(false));
                }
            }
        }
        Ok(Value::Object(body))
    }

    /// The request, built without sending it.
    pub(crate) fn spec(&self, id: &str) -> Result<RequestSpec> {
        let mut spec = RequestSpec::new(Method::POST, ["v2", "images", id, "import"])
            .json_body(&self.body()?, "application/json");
        if let StoreSelection::Store(store) = &self.stores {
            spec = spec.header("x-image-meta-store", store)?;
        }
        Ok(spec)
    }
}

/// A `glance-direct` import of staged data, and its stores: what
/// [`ImageData::StageAndImport`](super::ImageData::StageAndImport) runs
/// after staging. Only this method imports staged data, so the type has
/// no other.
///
/// ```
/// use glance_client::images::{GlanceDirect, ImportRequest};
/// let direct = GlanceDirect::new().stores(["fast", "cheap"]).all_stores_must_succeed(true);
/// let request: ImportRequest = direct.into();
/// assert_eq!(request, ImportRequest::glance_direct().stores(["fast", "cheap"]).all_stores_must_succeed(true));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlanceDirect(ImportRequest);

impl Default for GlanceDirect {
    fn default() -> Self {
        GlanceDirect(ImportRequest::glance_direct())
    }
}

impl GlanceDirect {
    /// Into the default store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Into one store (sent as `X-Image-Meta-Store`).
    pub fn store(self, store: impl Into<String>) -> Self {
        GlanceDirect(self.0.store(store))
    }

    /// Into these stores.
    pub fn stores<I, S>(self, stores: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        GlanceDirect(self.0.stores(stores))
    }

    /// Into every store.
    pub fn all_stores(self) -> Self {
        GlanceDirect(self.0.all_stores())
    }

    /// Whether one store failing fails the import (default `false`).
    pub fn all_stores_must_succeed(self, must: bool) -> Self {
        GlanceDirect(self.0.all_stores_must_succeed(must))
    }

    /// The import request it sends.
    pub fn request(&self) -> &ImportRequest {
        &self.0
    }
}

impl From<GlanceDirect> for ImportRequest {
    fn from(direct: GlanceDirect) -> Self {
        direct.0
    }
}

/// An import in which Glance fetches the data itself (`web-download`,
/// `glance-download`), and its stores: what
/// [`ImageData::Import`](super::ImageData::Import) runs on a new image.
/// `glance-direct` and `copy-image` need data already in Glance, so the
/// type has no way to say them.
///
/// ```
/// use glance_client::auth::Interface;
/// use glance_client::images::{FetchImport, ImportRequest};
/// let web = FetchImport::web_download("https://example.org/disk.img").store("fast");
/// let remote = FetchImport::glance_download("RegionTwo", "5f2c7e0a-8b6e-4c1a-9d3b-2a1f0e9c8d7b")
///     .service_interface(Interface::Internal)
///     .all_stores();
/// let request: ImportRequest = remote.into();
/// assert_eq!(request.body()?["method"]["glance_service_interface"], "internal");
/// # let _ = web;
/// # Ok::<(), glance_client::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchImport(ImportRequest);

impl FetchImport {
    /// `web-download` from `uri`.
    pub fn web_download(uri: impl Into<String>) -> Self {
        FetchImport(ImportRequest::web_download(uri))
    }

    /// `glance-download` of `image_id` in `region`.
    pub fn glance_download(region: impl Into<String>, image_id: impl Into<String>) -> Self {
        FetchImport(ImportRequest::glance_download(region, image_id))
    }

    /// For `glance-download`: the catalog interface to the other region's
    /// Glance (see [`ImportRequest::service_interface`]).
    pub fn service_interface(self, interface: Interface) -> Self {
        FetchImport(self.0.service_interface(interface))
    }

    /// Into one store (sent as `X-Image-Meta-Store`).
    pub fn store(self, store: impl Into<String>) -> Self {
        FetchImport(self.0.store(store))
    }

    /// Into these stores.
    pub fn stores<I, S>(self, stores: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        FetchImport(self.0.stores(stores))
    }

    /// Into every store.
    pub fn all_stores(self) -> Self {
        FetchImport(self.0.all_stores())
    }

    /// Whether one store failing fails the import (default `false`).
    pub fn all_stores_must_succeed(self, must: bool) -> Self {
        FetchImport(self.0.all_stores_must_succeed(must))
    }

    /// The import request it sends.
    pub fn request(&self) -> &ImportRequest {
        &self.0
    }
}

impl From<FetchImport> for ImportRequest {
    fn from(fetch: FetchImport) -> Self {
        fetch.0
    }
}

impl Images<'_> {
    /// `POST /v2/images/{id}/import`: start an import (Glance answers 202
    /// and works in the background; follow it with
    /// [`Images::wait_for_import`]).
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client, id: &str) -> glance_client::Result<()> {
    /// use glance_client::images::ImportRequest;
    /// client.images().stage(id, b"data".to_vec()).await?;
    /// client.images().import(id, &ImportRequest::glance_direct()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn import(&self, id: &str, request: &ImportRequest) -> Result<()> {
        self.client.send_unit(request.spec(id)?).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(spec: &RequestSpec) -> Option<&str> {
        spec.headers
            .get("x-image-meta-store")
            .and_then(|v| v.to_str().ok())
    }

    #[test]
    fn bodies_match_glanceclient() {
        let direct = ImportRequest::glance_direct();
        assert_eq!(
            direct.body().expect("body"),
            json!({"method": {"name": "glance-direct"}})
        );

        let web = ImportRequest::web_download("http://x/y.img").store("b1");
        let spec = web.spec("i").expect("spec");
        assert_eq!(header(&spec), Some("b1"));
        assert_eq!(
            web.body().expect("body"),
            json!({"method": {"name": "web-download", "uri": "http://x/y.img"}})
        );

        let copy = ImportRequest::copy_image().stores(["s1", "s2"]);
        assert_eq!(
            copy.body().expect("body"),
            json!({"method": {"name": "copy-image"}, "stores": ["s1", "s2"],
                   "all_stores_must_succeed": false})
        );
        assert_eq!(header(&copy.spec("i").expect("spec")), None);
        assert_eq!(
            copy.all_stores_must_succeed(true).body().expect("body"),
            json!({"method": {"name": "copy-image"}, "stores": ["s1", "s2"]})
        );

        let all = ImportRequest::copy_image().all_stores();
        assert_eq!(
            all.body().expect("body"),
            json!({"method": {"name": "copy-image"}, "all_stores": true,
                   "all_stores_must_succeed": false})
        );

        let remote =
            ImportRequest::glance_download("R2", "rid").service_interface(Interface::Internal);
        assert_eq!(
            remote.body().expect("body"),
            json!({"method": {"name": "glance-download", "glance_service_interface": "internal",
                              "glance_region": "R2", "glance_image_id": "rid"}})
        );
        let spec = remote.spec("i").expect("spec");
        assert_eq!(spec.method, Method::POST);
        assert_eq!(spec.segments, ["v2", "images", "i", "import"]);
    }

    #[test]
    fn empty_values_are_refused() {
        assert!(ImportRequest::web_download("").body().is_err());
        assert!(ImportRequest::glance_download("", "x").body().is_err());
        assert!(
            ImportRequest::copy_image()
                .stores(Vec::<String>::new())
                .body()
                .is_err()
        );
        assert!(ImportRequest::glance_direct().store("").body().is_err());
        assert!(
            ImportRequest::web_download("http://x/y")
                .service_interface(Interface::Public)
                .body()
                .is_err()
        );
    }
}
