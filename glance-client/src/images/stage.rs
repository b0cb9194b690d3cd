//! Staging image data for a `glance-direct` import: `PUT /v2/images/{id}/stage`.

use super::Images;
use super::upload::{UploadBody, UploadOptions, data_request};
use crate::error::{Error, Result};

impl Images<'_> {
    /// `PUT /v2/images/{id}/stage`: send the data of a `queued` image to
    /// the staging area (the image becomes `uploading`); then
    /// [`Images::import`] it with [`ImportMethod::GlanceDirect`](super::ImportMethod::GlanceDirect).
    ///
    /// Bodies are sent as by [`Images::upload`] (bytes and files may be
    /// retried, streams and readers never).
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client, id: &str) -> glance_client::Result<()> {
    /// client.images().stage(id, std::path::Path::new("disk.qcow2")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn stage(&self, id: &str, body: impl Into<UploadBody>) -> Result<()> {
        self.stage_with(id, body, &UploadOptions::default()).await
    }

    /// [`Images::stage`] with a progress callback. Staging has no store:
    /// the stores are chosen by the import, so `options.store` is refused
    /// with [`Error::InvalidInput`].
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client, id: &str) -> glance_client::Result<()> {
    /// use glance_client::UploadOptions;
    /// let progress = UploadOptions::default().progress(|done, total| {
    ///     eprintln!("{done} of {total:?} bytes staged");
    /// });
    /// client
    ///     .images()
    ///     .stage_with(id, std::path::Path::new("disk.qcow2"), &progress)
    ///     .await?;
    /// # Ok(()) }
    /// ```
    pub async fn stage_with(
        &self,
        id: &str,
        body: impl Into<UploadBody>,
        options: &UploadOptions,
    ) -> Result<()> {
        if options.store.is_some() {
            return Err(Error::InvalidInput(
                "staged data has no store: choose the stores when importing".into(),
            ));
        }
        let spec = data_request(
            ["v2", "images", id, "stage"],
            body.into(),
            options.progress.clone(),
        )
        .await?;
        self.client.send(spec).await?;
        Ok(())
    }
}
