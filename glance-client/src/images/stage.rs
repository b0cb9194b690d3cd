//! Staging image data for a `glance-direct` import: `PUT /v2/images/{id}/stage`.

use std::fmt;
use std::sync::Arc;

use super::Images;
use super::upload::{Progress, UploadBody, data_request};
use crate::error::Result;

/// Options of [`Images::stage_with`]: only progress, since staged data
/// has no store (the import chooses the stores), so none can be given.
///
/// ```compile_fail
/// let options = glance_client::images::StageOptions::default().store("fast");
/// ```
#[derive(Clone, Default)]
#[non_exhaustive]
pub struct StageOptions {
    /// Called as bytes are handed to the connection.
    pub progress: Option<Progress>,
}

impl fmt::Debug for StageOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StageOptions")
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl StageOptions {
    /// Report progress: bytes sent so far, and the total when known.
    pub fn progress(mut self, f: impl Fn(u64, Option<u64>) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }
}

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
        self.stage_with(id, body, &StageOptions::default()).await
    }

    /// [`Images::stage`] with a progress callback.
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client, id: &str) -> glance_client::Result<()> {
    /// use glance_client::images::StageOptions;
    /// let progress = StageOptions::default().progress(|done, total| {
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
        options: &StageOptions,
    ) -> Result<()> {
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
