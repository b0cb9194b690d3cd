//! Image calls: `client.images()`.

mod download;
mod list;
pub mod model;
mod upload;

pub use download::{Download, DownloadOptions};
pub use list::ListImages;
pub use model::{ContainerFormat, CreateImage, DiskFormat, Image, ImageStatus, Visibility};
pub use upload::{Progress, UploadBody, UploadOptions};

use reqwest::Method;

use crate::client::Client;
use crate::error::Result;
use crate::transport::RequestSpec;

/// Image calls on one client. Get one with [`Client::images`].
#[derive(Debug, Clone, Copy)]
pub struct Images<'a> {
    client: &'a Client,
}

impl<'a> Images<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Images { client }
    }

    /// `POST /v2/images`: create an image record (status `queued`).
    pub async fn create(&self, image: &CreateImage) -> Result<Image> {
        let spec = RequestSpec::new(Method::POST, ["v2", "images"])
            .json_body(&image.to_json(), "application/json");
        self.client.send_json(spec).await
    }

    /// `GET /v2/images/{id}`.
    pub async fn get(&self, id: &str) -> Result<Image> {
        self.client.send_json(get_spec(id)).await
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

    /// `DELETE /v2/images/{id}`.
    pub async fn delete(&self, id: &str) -> Result<()> {
        self.client
            .send(RequestSpec::new(Method::DELETE, ["v2", "images", id]))
            .await?;
        Ok(())
    }
}

pub(crate) fn get_spec(id: &str) -> RequestSpec {
    RequestSpec::new(Method::GET, ["v2", "images", id])
}
