//! Following an image until it is usable: `wait_for_status`,
//! `wait_for_import`, and nova's "create with data" on top of them.

use std::time::Duration;

use tokio::time::Instant;

use super::import::{FetchImport, GlanceDirect};
use super::stage::StageOptions;
use super::upload::{UploadBody, UploadOptions};
use super::{CreateImage, Image, ImageStatus, Images};
use crate::error::{Error, ImportFailure, Result};
use crate::tasks::TaskStatus;

/// The image property naming the task that holds an image's import lock.
const IMPORT_TASK: &str = "os_glance_import_task";
/// Stores an import is still writing to (comma-separated).
const IMPORTING_TO: &str = "os_glance_importing_to_stores";
/// Stores an import failed for (comma-separated).
const FAILED_IMPORT: &str = "os_glance_failed_import";

/// How to poll an image: intervals growing from `initial_interval` by half
/// each time up to `max_interval`, for at most `timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitOptions {
    /// The first pause between two reads of the image. Default 250 ms.
    pub initial_interval: Duration,
    /// The longest pause. Default 5 s.
    pub max_interval: Duration,
    /// When to give up with [`Error::WaitTimeout`]. Default 30 minutes.
    pub timeout: Duration,
}

impl Default for WaitOptions {
    fn default() -> Self {
        WaitOptions {
            initial_interval: Duration::from_millis(250),
            max_interval: Duration::from_secs(5),
            timeout: Duration::from_secs(30 * 60),
        }
    }
}

impl WaitOptions {
    /// Poll from every `initial` up to every `max`.
    pub fn interval(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_interval = initial;
        self.max_interval = max.max(initial);
        self
    }

    /// Give up after `timeout`.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

/// A comma-separated store list property.
fn store_list(image: &Image, key: &str) -> Vec<String> {
    image
        .property(key)
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Where an import stands, read from the image alone.
#[derive(Debug, PartialEq, Eq)]
enum ImportState {
    Running,
    Succeeded,
    Failed,
    /// No lock, yet stores still listed as being imported to: either a
    /// Glance without the import lock with an import running, or one whose
    /// import ended before reaching those stores (glance-download failing
    /// on the remote image's record leaves them listed). The image's tasks
    /// tell which.
    Unclear,
}

fn import_state(image: &Image) -> ImportState {
    if matches!(
        image.status,
        ImageStatus::Killed | ImageStatus::Deleted | ImageStatus::PendingDelete
    ) {
        return ImportState::Failed;
    }
    // Glance takes the lock when it accepts the import and releases it when
    // the task ends; the stores still to do are listed meanwhile.
    let locked = image.property(IMPORT_TASK).is_some_and(|t| !t.is_empty());
    if locked {
        return ImportState::Running;
    }
    if !store_list(image, IMPORTING_TO).is_empty() {
        return ImportState::Unclear;
    }
    if image.status == ImageStatus::Active && store_list(image, FAILED_IMPORT).is_empty() {
        ImportState::Succeeded
    } else {
        ImportState::Failed
    }
}

/// Sleeps between polls and tells when time is up.
struct Poller {
    started: Instant,
    next: Duration,
    options: WaitOptions,
}

impl Poller {
    fn new(options: &WaitOptions) -> Self {
        Poller {
            started: Instant::now(),
            next: options.initial_interval,
            options: *options,
        }
    }

    /// Pause before the next poll; `false` once the timeout has passed.
    async fn pause(&mut self) -> bool {
        let elapsed = self.started.elapsed();
        if elapsed >= self.options.timeout {
            return false;
        }
        let pause = self.next.min(self.options.timeout - elapsed);
        tokio::time::sleep(pause).await;
        self.next = (self.next + self.next / 2).min(self.options.max_interval);
        true
    }
}

fn timed_out(image: &Image, poller: &Poller) -> Error {
    Error::WaitTimeout {
        image_id: image.id.clone(),
        waited: poller.started.elapsed(),
        status: image.status.as_str().to_owned(),
        importing_stores: store_list(image, IMPORTING_TO),
    }
}

/// Data for [`Images::create_with_data`], and how it reaches Glance.
#[derive(Debug)]
pub enum ImageData {
    /// `PUT /file` (a target store and progress in `options`).
    Upload {
        /// The data.
        body: UploadBody,
        /// Store and progress.
        options: UploadOptions,
    },
    /// `PUT /stage`, then a `glance-direct` import into the stores
    /// `import` names (staged data has no other import method).
    ///
    /// Another import method does not compile here:
    ///
    /// ```compile_fail
    /// use glance_client::images::{ImageData, ImportRequest};
    /// let data = ImageData::StageAndImport {
    ///     body: vec![0u8; 10].into(),
    ///     options: Default::default(),
    ///     import: ImportRequest::web_download("https://example.org/disk.img"),
    /// };
    /// ```
    StageAndImport {
        /// The data.
        body: UploadBody,
        /// Progress of the staging (the stores are `import`'s).
        options: StageOptions,
        /// The stores to import into once staged.
        import: GlanceDirect,
    },
    /// No local data: Glance fetches it (`web-download`, `glance-download`;
    /// the other methods need data already in Glance, and do not compile
    /// here).
    ///
    /// ```compile_fail
    /// use glance_client::images::{ImageData, ImportRequest};
    /// let data = ImageData::Import(ImportRequest::copy_image());
    /// ```
    Import(FetchImport),
}

impl ImageData {
    /// Upload `body` to the default store.
    pub fn upload(body: impl Into<UploadBody>) -> Self {
        ImageData::Upload {
            body: body.into(),
            options: UploadOptions::default(),
        }
    }

    /// Stage `body` and import it with glance-direct into the default store
    /// (choose the stores with [`ImageData::StageAndImport`] and
    /// [`GlanceDirect`]'s builders).
    pub fn stage(body: impl Into<UploadBody>) -> Self {
        ImageData::StageAndImport {
            body: body.into(),
            options: StageOptions::default(),
            import: GlanceDirect::new(),
        }
    }
}

impl Images<'_> {
    /// Poll the image until its status is `status`, with the default
    /// [`WaitOptions`] (up to 30 minutes).
    ///
    /// Ends early with [`Error::UnexpectedStatus`] when the image is
    /// `killed`, `deleted` or `pending_delete` (unless that is what was
    /// asked for), with the server's error when it disappears, and with
    /// [`Error::WaitTimeout`] after the timeout.
    pub async fn wait_for_status(&self, id: &str, status: ImageStatus) -> Result<Image> {
        self.wait_for_status_with(id, status, &WaitOptions::default())
            .await
    }

    /// [`Images::wait_for_status`] with other intervals or timeout.
    pub async fn wait_for_status_with(
        &self,
        id: &str,
        status: ImageStatus,
        options: &WaitOptions,
    ) -> Result<Image> {
        let mut poller = Poller::new(options);
        loop {
            let image = self.get(id).await?;
            if image.status == status {
                return Ok(image);
            }
            if matches!(
                image.status,
                ImageStatus::Killed | ImageStatus::Deleted | ImageStatus::PendingDelete
            ) {
                return Err(Error::UnexpectedStatus {
                    image_id: image.id,
                    status: image.status.as_str().to_owned(),
                    expected: status.as_str().to_owned(),
                });
            }
            if !poller.pause().await {
                return Err(timed_out(&image, &poller));
            }
        }
    }

    /// Poll an image whose import Glance accepted until the import ends
    /// (default [`WaitOptions`]: up to 30 minutes); the image, `active`,
    /// when it succeeded in every store.
    ///
    /// The import is running while the image holds Glance's import lock
    /// (`os_glance_import_task`) or lists stores in
    /// `os_glance_importing_to_stores`. When it ends with the image not
    /// `active`, or with stores in `os_glance_failed_import` (a multi-store
    /// import that allowed failures), the answer is
    /// [`Error::ImportFailed`] carrying those lists and the image's latest
    /// task with its message. [`Error::WaitTimeout`] after the timeout.
    ///
    /// Call it after [`Images::import`] succeeded: with no import under
    /// way, an image that is not `active` is reported as failed at once.
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client, id: &str) -> glance_client::Result<()> {
    /// use glance_client::Error;
    /// use glance_client::images::{ImportRequest, WaitOptions};
    /// let images = client.images();
    /// images.import(id, &ImportRequest::copy_image().all_stores()).await?;
    /// match images.wait_for_import(id).await {
    ///     Ok(image) => println!("in {:?}", image.stores),
    ///     Err(Error::ImportFailed(f)) => eprintln!("failed in {:?}: {:?}", f.failed_stores, f.message()),
    ///     Err(e) => return Err(e),
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_import(&self, id: &str) -> Result<Image> {
        self.wait_for_import_with(id, &WaitOptions::default()).await
    }

    /// [`Images::wait_for_import`] with other intervals or timeout.
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client, id: &str) -> glance_client::Result<()> {
    /// use glance_client::images::WaitOptions;
    /// let patient = WaitOptions::default().timeout(std::time::Duration::from_secs(3600));
    /// client.images().wait_for_import_with(id, &patient).await?;
    /// # Ok(()) }
    /// ```
    pub async fn wait_for_import_with(&self, id: &str, options: &WaitOptions) -> Result<Image> {
        let mut poller = Poller::new(options);
        loop {
            let image = self.get(id).await?;
            match import_state(&image) {
                ImportState::Succeeded => return Ok(image),
                ImportState::Failed => return Err(self.import_failure(image).await),
                ImportState::Unclear if self.import_ended(&image.id).await => {
                    return Err(self.import_failure(image).await);
                }
                ImportState::Running | ImportState::Unclear => {}
            }
            if !poller.pause().await {
                return Err(timed_out(&image, &poller));
            }
        }
    }

    /// Whether the image's newest task has ended (`false` when the tasks
    /// cannot be read, e.g. before API v2.12: then only the image tells).
    async fn import_ended(&self, id: &str) -> bool {
        match self.tasks(id).await {
            Ok(tasks) => tasks
                .iter()
                .max_by(|a, b| a.created_at.cmp(&b.created_at))
                .is_some_and(|t| matches!(t.status, TaskStatus::Success | TaskStatus::Failure)),
            Err(e) => {
                tracing::debug!("cannot read the tasks of image {id}: {e}");
                false
            }
        }
    }

    async fn import_failure(&self, image: Image) -> Error {
        // Best effort: the task call needs API v2.12 and may be refused.
        let task = match self.tasks(&image.id).await {
            Ok(tasks) => tasks
                .into_iter()
                .max_by(|a, b| a.created_at.cmp(&b.created_at)),
            Err(e) => {
                tracing::debug!("cannot read the tasks of image {}: {e}", image.id);
                None
            }
        };
        Error::ImportFailed(Box::new(ImportFailure {
            failed_stores: store_list(&image, FAILED_IMPORT),
            importing_stores: store_list(&image, IMPORTING_TO),
            image_id: image.id,
            status: image.status,
            task,
        }))
    }

    /// Nova's "create with data": create the record, send or import the
    /// data, wait until the image is `active`, and return it.
    ///
    /// When the data cannot be sent (or the import is refused), the new
    /// record is deleted again (best effort) and the error returned. Once
    /// Glance has accepted the data, failures are reported as by
    /// [`Images::wait_for_import`] and the image is left for inspection
    /// (its id is in the error).
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client) -> glance_client::Result<()> {
    /// use glance_client::images::{GlanceDirect, ImageData, StageOptions};
    /// use glance_client::{ContainerFormat, CreateImage, DiskFormat};
    /// let spec = CreateImage::new("cirros")
    ///     .disk_format(DiskFormat::Qcow2)
    ///     .container_format(ContainerFormat::Bare);
    /// let data = ImageData::StageAndImport {
    ///     body: std::path::Path::new("cirros.qcow2").into(),
    ///     options: StageOptions::default(),
    ///     import: GlanceDirect::new().stores(["fast", "cheap"]),
    /// };
    /// let image = client
    ///     .images()
    ///     .create_with_data(&spec, data)
    ///     .await?;
    /// assert_eq!(image.status, glance_client::ImageStatus::Active);
    /// # Ok(()) }
    /// ```
    pub async fn create_with_data(&self, image: &CreateImage, data: ImageData) -> Result<Image> {
        self.create_with_data_with(image, data, &WaitOptions::default())
            .await
    }

    /// [`Images::create_with_data`], waiting with other intervals or
    /// timeout.
    pub async fn create_with_data_with(
        &self,
        image: &CreateImage,
        data: ImageData,
        wait: &WaitOptions,
    ) -> Result<Image> {
        let created = self.create(image).await?;
        let id = created.id.as_str();
        let sent = match data {
            ImageData::Upload { body, options } => {
                self.upload_with(id, body, &options).await.map(|()| false)
            }
            ImageData::StageAndImport {
                body,
                options,
                import,
            } => match self.stage_with(id, body, &options).await {
                Ok(()) => self.import(id, import.request()).await.map(|()| true),
                Err(e) => Err(e),
            },
            ImageData::Import(fetch) => self.import(id, fetch.request()).await.map(|()| true),
        };
        let imported = match sent {
            Ok(imported) => imported,
            Err(e) => {
                if let Err(cleanup) = self.delete(id).await {
                    tracing::warn!("cannot delete image {id} after a failed upload: {cleanup}");
                }
                return Err(e);
            }
        };
        if imported {
            self.wait_for_import_with(id, wait).await
        } else {
            self.wait_for_status_with(id, ImageStatus::Active, wait)
                .await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(status: &str, props: serde_json::Value) -> Image {
        let mut doc = serde_json::json!({"id": "i", "status": status});
        if let (Some(d), Some(p)) = (doc.as_object_mut(), props.as_object()) {
            d.extend(p.clone());
        }
        serde_json::from_value(doc).expect("image")
    }

    #[test]
    fn import_states_as_glance_shows_them() {
        use serde_json::json;
        // Accepted, task not started: staged data, lock held.
        let s = image("uploading", json!({"os_glance_import_task": "t"}));
        assert_eq!(import_state(&s), ImportState::Running);
        // copy-image in progress: active, lock held, stores pending.
        let s = image(
            "active",
            json!({"os_glance_import_task": "t", "os_glance_importing_to_stores": "cheap"}),
        );
        assert_eq!(import_state(&s), ImportState::Running);
        // Stores pending without a lock: the tasks tell.
        let s = image("active", json!({"os_glance_importing_to_stores": "cheap"}));
        assert_eq!(import_state(&s), ImportState::Unclear);
        let s = image("queued", json!({"os_glance_importing_to_stores": "fast"}));
        assert_eq!(import_state(&s), ImportState::Unclear);
        let s = image(
            "active",
            json!({"os_glance_importing_to_stores": "", "os_glance_failed_import": ""}),
        );
        assert_eq!(import_state(&s), ImportState::Succeeded);
        let s = image("active", json!({"os_glance_failed_import": "cheap"}));
        assert_eq!(import_state(&s), ImportState::Failed);
        // Rolled back.
        let s = image("queued", json!({"os_glance_failed_import": "fast"}));
        assert_eq!(import_state(&s), ImportState::Failed);
        let s = image("killed", json!({"os_glance_import_task": "t"}));
        assert_eq!(import_state(&s), ImportState::Failed);
        assert_eq!(
            store_list(
                &image("active", json!({"os_glance_failed_import": "a, b,"})),
                FAILED_IMPORT
            ),
            ["a", "b"]
        );
    }
}
