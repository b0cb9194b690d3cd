//! Starting an import (`ImagesController.import_image`): the checks in
//! Glance's order, the import lock, the `api_image_import` task; the
//! import itself runs afterwards, when the worker ([`crate::worker`])
//! takes the job submitted here.
//!
//! Also [`admitted`], the import filter on a URI with its host resolved
//! now (`validate_uri`), which the tasks API and the worker's fetches
//! share.

use std::net::IpAddr;

use super::records::{self, save_image, save_task};
use crate::config::ImportFiltering;
use crate::control::files::ServedFiles;
use crate::domain::import::progress::{self, IMPORT_TASK};
use crate::domain::import::uri::{self, Target};
use crate::domain::import::{self, ImportMethod, ImportRequest};
use crate::domain::tasks::{Task, TaskType, now_micros};
use crate::domain::{Fault, Identity, Image, policy, time};
use crate::queue::{ImportJob, Job, Work};
use crate::state::{AppState, SharedState};

/// What an import request says besides its body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportHeaders {
    /// `X-Image-Meta-Store`.
    pub store: Option<String>,
    /// The request's id, recorded on the task.
    pub request_id: Option<String>,
    /// `X-Auth-Token`, which glance-download passes on.
    pub token: Option<String>,
}

/// `ImagesController.import_image`, after `RequestDeserializer` accepted
/// the body as `req`: the image (`get_image` access), its status for the
/// method, glance-download's fields, the method's policy, the import
/// lock (a stale one busted), the target stores, web-download's URI
/// through the import filter; then the task, the lock taken and the job
/// submitted. The id of the task started, or `None` when copy-image has
/// nothing left to copy (still a 202).
pub async fn import_image(
    state: &SharedState,
    who: &Identity,
    id: &str,
    mut req: ImportRequest,
    headers: ImportHeaders,
) -> Result<Option<String>, Fault> {
    let img = records::find_image(state, id)?;
    let img = policy::lookup(who, img.as_deref(), id)?;
    import::check_image(img, req.method)?;
    req.check_glance_download()?;
    import::check_policy(who, img, req.method)?;
    let stale = enforce_lock(state, img)?;
    let stores = import::requested_stores(&req, headers.store.as_deref(), &state.config)?;
    let stores = if req.method == ImportMethod::CopyImage {
        let targets = import::copy_targets(img, stores, req.all_stores)?;
        if targets.is_empty() {
            // Already in every store: nothing to do.
            return Ok(None);
        }
        targets
    } else {
        stores
    };
    let uri = if req.method == ImportMethod::WebDownload {
        let uri = import::web_download_uri(&req)?;
        if !admitted(
            &uri,
            &state.config.tasks.import_filtering,
            &state.control.files,
        )
        .await
        {
            return Err(import::uri_refused(&uri));
        }
        Some(uri)
    } else {
        None
    };
    start(state, who, id, req, stores, uri, stale, headers).map(Some)
}

/// `_enforce_import_lock`: an active lock is a 409; a stale one is busted
/// at once (its task failed if still running, the lock removed). Returns
/// the busted task's target stores, whose progress is cleaned up once the
/// new lock is taken.
fn enforce_lock(state: &AppState, img: &Image) -> Result<Option<Vec<String>>, Fault> {
    let Some(holder) = img.properties.get(IMPORT_TASK).cloned() else {
        return Ok(None);
    };
    let task = state.repo.tasks.task_get(&holder, true).ok();
    import::check_lock(task.as_deref(), now_micros())?;
    if let Some(task) = &task {
        let ttl = state.task_ttl();
        let _ = save_task(state, &task.id, |t| {
            let _ = t.fail("Expired lock preempted", ttl, now_micros());
            Ok(())
        });
    }
    let busy = || Fault::Conflict("Image has active task".into());
    save_image(state, &img.id, busy, |img| {
        if progress::drop_lock(img, &holder) {
            Ok(())
        } else {
            // Someone else busted it first.
            Err(busy())
        }
    })?;
    let stores = task
        .and_then(|t| t.input.get("backend").cloned())
        .and_then(|b| b.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|s| s.as_str().map(str::to_owned))
        .collect();
    Ok(Some(stores))
}

/// Create the task, take the image's lock (cleaning up after a busted
/// one), and hand the import to the worker. The task's id.
#[allow(clippy::too_many_arguments)]
fn start(
    state: &AppState,
    who: &Identity,
    id: &str,
    req: ImportRequest,
    stores: Vec<String>,
    uri: Option<String>,
    stale: Option<Vec<String>>,
    headers: ImportHeaders,
) -> Result<String, Fault> {
    let task = Task::new(
        uuid::Uuid::new_v4().to_string(),
        TaskType::ApiImageImport,
        who,
        Some(id.to_owned()),
        headers.request_id,
        import::task_input(id, &req, &stores),
        now_micros(),
    );
    let not_found = || Fault::NotFound(format!("No image found with ID {id}"));
    save_image(state, id, not_found, |img| {
        progress::take_lock(img, &task.id)?;
        if let Some(old) = &stale {
            // Saved only if it changed anything.
            let mut cleaned = img.clone();
            if progress::clean_stale_progress(&mut cleaned, old) {
                img.properties = cleaned.properties;
                img.updated_at = time::now();
            }
        }
        Ok(())
    })?;
    let remote_image = req
        .method_field("glance_image_id")
        .and_then(|v| v.as_str())
        .map(str::to_owned);
    let job = ImportJob {
        image_id: id.to_owned(),
        method: req.method,
        stores,
        must_succeed: req.all_stores_must_succeed,
        uri,
        remote_image,
        token: headers.token,
    };
    let task = state
        .repo
        .tasks
        .task_create(task)
        .map_err(|e| records::fault(e, Fault::internal))?;
    state
        .queue
        .submit(Job::new(task.id.clone(), Work::Import(job)));
    Ok(task.id.clone())
}

/// `validate_uri`: whether `uri` passes the import filter, its host
/// resolved now; or whether it is one of the files the mock serves itself
/// ([`ServedFiles::is_own_file`]), which pass whatever the filter says.
/// What the domain checks ([`uri::screen`] on the text, [`uri::admit`] on
/// the addresses) needs the resolver in between, so it lives here, where
/// both the use cases that check a URI before a task exists and the worker
/// that fetches it later can reach it.
pub async fn admitted(uri: &str, filter: &ImportFiltering, files: &ServedFiles) -> bool {
    if let Some((host, port, path)) = fetched_from(uri) {
        let addrs = match host {
            url::Host::Domain(name) => lookup(&name, port).await,
            url::Host::Ipv4(ip) => vec![IpAddr::V4(ip)],
            url::Host::Ipv6(ip) => vec![IpAddr::V6(ip)],
        };
        if files.is_own_file(&addrs, port, &path) {
            return true;
        }
    }
    match uri::screen(uri, filter) {
        Some(target) => uri::admit(&target, &resolve(&target).await, filter),
        None => false,
    }
}

/// The host, port and path an HTTP client will request for `uri` (as
/// the fetching client parses it, so that what is checked is what is
/// fetched); `None` if it is not an `http`/`https` URL with a host.
pub fn fetched_from(uri: &str) -> Option<(url::Host<String>, u16, String)> {
    let url = reqwest::Url::parse(uri).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host()?.to_owned();
    Some((host, url.port_or_known_default()?, url.path().to_owned()))
}

/// The addresses `target`'s host resolves to, each once, in order (none
/// if it does not resolve).
async fn resolve(target: &Target) -> Vec<IpAddr> {
    if let Some(ip) = uri::literal_ip(&target.host) {
        return vec![ip];
    }
    lookup(&target.host, target.port).await
}

/// The addresses `host` resolves to, each once, in order.
async fn lookup(host: &str, port: u16) -> Vec<IpAddr> {
    match tokio::net::lookup_host((host, port)).await {
        Ok(addrs) => {
            let mut out: Vec<IpAddr> = Vec::new();
            for a in addrs.map(|a| a.ip()) {
                if !out.contains(&a) {
                    out.push(a);
                }
            }
            out
        }
        Err(_) => Vec::new(),
    }
}
