//! The `api_image_import` flow: take the lock's image to `importing`, get
//! the data into staging (web-download, glance-download, copy-image; a
//! glance-direct import finds it there), copy it from staging into each
//! target store, check the image ended active, finish the task and drop
//! the lock. A failure reverts what ran, newest first, as taskflow does;
//! the task then fails, with the upload error's text or Glance's generic
//! message.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::fetch;
use super::shadow::ImageShadow;
use crate::app::ingest::{self, Verdict};
use crate::app::records::save_task;
use crate::domain::import::ImportMethod;
use crate::domain::import::progress::{self, StoreFault};
use crate::domain::python::str_of;
use crate::domain::tasks::{INTERNAL_ERROR, now_micros};
use crate::domain::{Fault, Image, ImageStatus, time};
use crate::queue::ImportJob;
use crate::state::AppState;
use crate::store::{ImageData, Stored};

/// One mebibyte, for the task's "Copied N MiB".
const MIB: u64 = 1 << 20;

/// Why the flow failed: the task's message.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Failure {
    /// Anything but an upload error: Glance's generic message.
    Internal,
    /// An `UploadException`: its text.
    Upload(String),
}

impl Failure {
    fn message(&self) -> &str {
        match self {
            Failure::Internal => INTERNAL_ERROR,
            Failure::Upload(m) => m,
        }
    }
}

/// What glance-download's metadata step changed, to put back.
#[derive(Debug, Default)]
struct MetadataUndo {
    /// Properties as they were, for those it set.
    replaced: BTreeMap<String, Option<String>>,
    /// The formats as they were, once it set them.
    formats: Option<(Option<String>, Option<String>)>,
}

/// A step that ran, and must be reverted if a later one fails.
#[derive(Debug)]
enum Undo {
    /// A download into staging (web-download, glance-download).
    Download,
    /// glance-download's metadata.
    Metadata(MetadataUndo),
    /// An import into a store; `failed` if it is the step that failed.
    Store { store: String, failed: bool },
    /// The final state check.
    VerifyState,
}

struct Flow<'a> {
    state: &'a AppState,
    task_id: &'a str,
    job: &'a ImportJob,
    /// The image as the flow changes it, saved at once (see [`ImageShadow`]).
    image: ImageShadow<'a>,
}

/// The flow's first step (the end of Glance's `get_flow`): the image
/// becomes `importing` (copy-image leaves it active), its targets are
/// being imported to and no longer failed.
pub(crate) fn start(state: &AppState, task_id: &str, job: &ImportJob) -> Result<(), ()> {
    let flow = Flow::new(state, task_id, job);
    flow.with_image(|img| progress::begin(img, job.method, &job.stores, time::now()))
        .and_then(|_| flow.image.commit(false).map_err(|_| Failure::Internal))
        .map_err(drop)
}

/// The rest of the flow, to the task's end.
pub(crate) async fn run(state: &AppState, task_id: &str, job: &ImportJob) {
    let flow = Flow::new(state, task_id, job);
    let mut undo = Vec::new();
    let outcome = match flow.execute(&mut undo).await {
        Ok(()) => flow.complete().await,
        Err(failure) => Err(failure),
    };
    if let Err(failure) = outcome {
        flow.revert(undo).await;
        // `_ImageLock.revert`: the lock goes with the reverted changes.
        let _ = flow.finish(true).await;
        super::fail_task(state, task_id, failure.message());
    }
}

impl<'a> Flow<'a> {
    fn new(state: &'a AppState, task_id: &'a str, job: &'a ImportJob) -> Self {
        Flow {
            state,
            task_id,
            job,
            image: ImageShadow::new(state, &job.image_id, task_id),
        }
    }
}

impl Flow<'_> {
    fn id(&self) -> &str {
        &self.job.image_id
    }

    /// `ImportActionWrapper`: change the image, if this task holds its
    /// lock; a failed change leaves it as it was.
    fn with_image(
        &self,
        change: impl FnMut(&mut Image) -> Result<(), Fault>,
    ) -> Result<Image, Failure> {
        self.image.change(change).ok_or(Failure::Internal)
    }

    /// The image, if this task holds its lock.
    fn image(&self) -> Result<Image, Failure> {
        self.with_image(|_| Ok(()))
    }

    /// Save the flow's changes (and drop the lock when `release`).
    async fn finish(&self, release: bool) -> Result<(), Failure> {
        if self.image.finish(release).await {
            Ok(())
        } else {
            Err(Failure::Internal)
        }
    }

    fn set_message(&self, message: String) {
        let _ = save_task(self.state, self.task_id, |t| {
            t.message = message.clone();
            t.updated_at = now_micros();
            Ok(())
        });
    }

    async fn execute(&self, undo: &mut Vec<Undo>) -> Result<(), Failure> {
        self.image()?;
        match self.job.method {
            ImportMethod::GlanceDirect => {}
            ImportMethod::WebDownload => {
                undo.push(Undo::Download);
                let uri = self.job.uri.clone().unwrap_or_default();
                self.download(&uri, None, None).await?;
            }
            ImportMethod::GlanceDownload => {
                undo.push(Undo::Metadata(MetadataUndo::default()));
                let size = self.import_metadata(undo).await?;
                undo.push(Undo::Download);
                let uri = format!("{}/file", self.remote_url()?);
                self.download(&uri, self.job.token.as_deref(), Some(size))
                    .await?;
            }
            ImportMethod::CopyImage => self.copy_to_staging().await?,
        }
        let count = self.job.stores.len();
        for (i, store) in self.job.stores.iter().enumerate() {
            let set_active = self.job.method != ImportMethod::CopyImage
                && (!self.job.must_succeed || i + 1 == count);
            undo.push(Undo::Store {
                store: store.clone(),
                failed: false,
            });
            if let Err(f) = self.import_to_store(store, set_active).await {
                if let Some(Undo::Store { failed, .. }) = undo.last_mut() {
                    *failed = true;
                }
                return Err(f);
            }
        }
        let _ = self.state.staging.delete(self.id()).await;
        undo.push(Undo::VerifyState);
        if self.image()?.status != ImageStatus::Active {
            return Err(Failure::Internal);
        }
        Ok(())
    }

    /// `_CompleteTask`: everything the flow did to the image, and the
    /// lock's release, saved at once; then the task succeeds.
    async fn complete(&self) -> Result<(), Failure> {
        self.finish(true).await?;
        let ttl = self.state.task_ttl();
        let result = json!({"image_id": self.id()});
        let _ = save_task(self.state, self.task_id, |t| {
            if t.succeed(result.clone(), ttl, now_micros()).is_err() {
                let _ = t.fail(INTERNAL_ERROR, ttl, now_micros());
            }
            Ok(())
        });
        Ok(())
    }

    /// Undo the steps that ran, newest first.
    async fn revert(&self, undo: Vec<Undo>) {
        let now = time::now();
        for step in undo.into_iter().rev() {
            match step {
                Undo::VerifyState => {
                    if self.job.method != ImportMethod::CopyImage {
                        let _ = self.with_image(|img| {
                            if img.status.can_become(ImageStatus::Queued) {
                                img.status = ImageStatus::Queued;
                                img.updated_at = now;
                            }
                            Ok(())
                        });
                    }
                }
                Undo::Store { store, failed } => {
                    let mut removed = false;
                    let _ = self.with_image(|img| {
                        removed = progress::remove_location(img, &store);
                        progress::store_done(img, &store, failed);
                        Ok(())
                    });
                    if removed {
                        self.state.store.delete(&store, self.id()).await;
                    }
                }
                Undo::Metadata(changed) => {
                    let _ = self.with_image(|img| {
                        for (key, old) in &changed.replaced {
                            match old {
                                Some(v) => img.properties.insert(key.clone(), v.clone()),
                                None => img.properties.remove(key),
                            };
                        }
                        if let Some((disk, container)) = &changed.formats {
                            img.disk_format = disk.clone();
                            img.container_format = container.clone();
                        }
                        if img.status.can_become(ImageStatus::Queued) {
                            img.status = ImageStatus::Queued;
                        }
                        img.updated_at = now;
                        Ok(())
                    });
                }
                Undo::Download => {
                    let _ = self.with_image(|img| {
                        progress::download_failed(img, &self.job.stores, now);
                        Ok(())
                    });
                    let _ = self.state.staging.delete(self.id()).await;
                }
            }
        }
    }

    /// Fetch `uri` into staging; a size announced (or known in advance)
    /// must be what arrived.
    async fn download(
        &self,
        uri: &str,
        token: Option<&str>,
        expected: Option<u64>,
    ) -> Result<(), Failure> {
        let filter = &self.state.config.tasks.import_filtering;
        let download = fetch::open(
            super::client(self.state),
            uri,
            token,
            filter,
            &self.state.control.files,
        )
        .await
        .map_err(|e| {
            tracing::info!("import task {}: {e}", self.task_id);
            Failure::Internal
        })?;
        let announced = expected.or(download.length).filter(|n| *n != 0);
        let stored = self
            .state
            .staging
            .add(
                self.id(),
                download.data,
                None,
                self.state.config.image_size_cap,
            )
            .await
            .map_err(|e| {
                tracing::info!("import task {}: staging failed: {e}", self.task_id);
                Failure::Internal
            })?;
        match announced {
            Some(n) if n != stored.size => Err(Failure::Internal),
            _ => Ok(()),
        }
    }

    fn remote_url(&self) -> Result<String, Failure> {
        let endpoint = self
            .state
            .config
            .tasks
            .glance_download_endpoint
            .as_deref()
            .ok_or(Failure::Internal)?;
        let remote = self.job.remote_image.as_deref().ok_or(Failure::Internal)?;
        Ok(format!(
            "{}/v2/images/{remote}",
            endpoint.trim_end_matches('/')
        ))
    }

    /// glance-download's `_ImportMetadata`: the remote image must be
    /// active; its formats and the configured properties are taken over.
    /// Returns its size.
    async fn import_metadata(&self, undo: &mut [Undo]) -> Result<u64, Failure> {
        let filter = &self.state.config.tasks.import_filtering;
        let remote = fetch::json(
            super::client(self.state),
            &self.remote_url()?,
            self.job.token.as_deref(),
            filter,
            &self.state.control.files,
        )
        .await
        .map_err(|_| Failure::Internal)?;
        if remote.get("status").and_then(Value::as_str) != Some("active") {
            return Err(Failure::Internal);
        }
        let prefixes = &self.state.config.tasks.glance_download_properties;
        let copied: Vec<(String, String)> = remote
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, _)| prefixes.iter().any(|p| k.starts_with(p.as_str())))
            .filter(|(k, _)| !k.starts_with("os_glance"))
            .map(|(k, v)| (k.clone(), str_of(v)))
            .collect();
        let format = |key: &str| remote.get(key).and_then(Value::as_str).map(str::to_owned);
        let mut changed = MetadataUndo::default();
        self.with_image(|img| {
            changed.formats = Some((img.disk_format.clone(), img.container_format.clone()));
            img.disk_format = format("disk_format");
            img.container_format = format("container_format");
            for (k, v) in &copied {
                changed
                    .replaced
                    .entry(k.clone())
                    .or_insert_with(|| img.properties.get(k).cloned());
                img.properties.insert(k.clone(), v.clone());
            }
            img.updated_at = time::now();
            Ok(())
        })?;
        if let Some(Undo::Metadata(slot)) = undo.last_mut() {
            *slot = changed;
        }
        remote
            .get("size")
            .and_then(Value::as_u64)
            .ok_or(Failure::Internal)
    }

    /// copy-image's `_CopyImage`: the image's data into staging (kept if
    /// already there with the right size), from the default store first.
    async fn copy_to_staging(&self) -> Result<(), Failure> {
        let img = self.image()?;
        let staging = &self.state.staging;
        if let Ok(size) = staging.get_size(self.id()).await {
            if img.size == Some(size) {
                return Ok(());
            }
            let _ = staging.delete(self.id()).await;
        }
        let default = &self.state.config.default_store;
        let sources = img
            .stores
            .iter()
            .filter(|s| *s == default)
            .chain(img.stores.iter().filter(|s| *s != default));
        for source in sources {
            let Some(store) = self.state.store.get(source) else {
                continue;
            };
            let data = match store.get(self.id(), 0, None).await {
                Ok(d) => d,
                Err(e) if e.is_not_found() => continue,
                Err(_) => return Err(Failure::Internal),
            };
            let len = i64::try_from(data.len).ok();
            return staging
                .add(
                    self.id(),
                    data.stream,
                    len,
                    self.state.config.image_size_cap,
                )
                .await
                .map(drop)
                .map_err(|_| Failure::Internal);
        }
        Err(Failure::Internal)
    }

    /// `_ImportToStore`: staging into `store`, inspected on the way for a
    /// bare container. Unless every store must succeed, a failure only
    /// marks the store failed (and, as in Glance, data refused by format
    /// inspection then keeps its location).
    async fn import_to_store(&self, store: &str, set_active: bool) -> Result<(), Failure> {
        let img = self.image()?;
        let (stored, verdict) = match self.copy_from_staging(&img, store).await {
            Ok(done) => done,
            Err(f) => return self.store_failed(store, f),
        };
        if stored.size > 0 {
            self.set_message(format!("Copied {} MiB", stored.size / MIB));
        }
        let now = time::now();
        let mut fault = None;
        let recorded = self.with_image(|img| {
            match progress::record_location(img, &stored, store, verdict.clone(), set_active, now) {
                Ok(()) => {
                    progress::store_done(img, store, false);
                    Ok(())
                }
                Err(StoreFault::InvalidData(_)) if !self.job.must_succeed => {
                    // The location was set before the format check refused it.
                    progress::store_done(img, store, true);
                    Ok(())
                }
                Err(e) => {
                    fault = Some(e);
                    Err(Fault::Conflict(String::new()))
                }
            }
        });
        match (recorded, fault) {
            (Ok(_), _) => Ok(()),
            (Err(_), fault) => {
                // The data reached the store but the image does not say so.
                self.state.store.delete(store, self.id()).await;
                let failure = match fault {
                    Some(f @ StoreFault::Disagrees(_)) => Failure::Upload(f.to_string()),
                    _ => Failure::Internal,
                };
                self.store_failed(store, failure)
            }
        }
    }

    fn store_failed(&self, store: &str, failure: Failure) -> Result<(), Failure> {
        if self.job.must_succeed {
            return Err(failure);
        }
        self.with_image(|img| {
            progress::store_done(img, store, true);
            Ok(())
        })
        .map(drop)
    }

    async fn copy_from_staging(
        &self,
        img: &Image,
        store: &str,
    ) -> Result<(Stored, Verdict), Failure> {
        let ImageData { len, stream } = self
            .state
            .staging
            .get(self.id(), 0, None)
            .await
            .map_err(|_| Failure::Internal)?;
        progress::check_size(img, len).map_err(|_| Failure::Internal)?;
        let target = self.state.store.get(store).ok_or(Failure::Internal)?;
        let (stored, verdict) = ingest::store_inspected(
            target.as_ref(),
            img,
            stream,
            i64::try_from(len).ok(),
            self.state.config.image_size_cap,
        )
        .await
        .map_err(|e| {
            tracing::info!("import task {}: store {store}: {e}", self.task_id);
            Failure::Internal
        })?;
        Ok((stored, verdict))
    }
}
