//! The registry driver: repositories that hold nothing and ask a registry
//! node for every call (Glance's `glance.db.registry.api`).
//!
//! The repository traits are synchronous, so calls are blocking HTTP
//! requests (ureq, a pooled keep-alive connection per caller). On a
//! multi-threaded tokio runtime a call first hands the worker's other tasks
//! on (`block_in_place`), so a slow registry stalls the request that waits
//! for it, not the node.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::Value;
use time::OffsetDateTime;

use super::wire::{self, Command, IdentityChanges, Stored};
use crate::db::images::{ImageRepository, ImageUpdate, RETRIES};
use crate::db::metadefs::{MetadefRepository, TablesChange};
use crate::db::tasks::TaskRepository;
use crate::db::{RepoError, Repositories};
use crate::domain::metadefs::Tables;
use crate::domain::tasks::Task;
use crate::domain::{Fault, Image};
use crate::keystone::{Directory, IdentityJournal, SavedIdentities, Token};

/// How long each phase of a registry call (sending the request, waiting
/// for the answer, reading it) may take before the registry counts as
/// unavailable.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// How long connecting may take (a registry that is down refuses at once
/// on the same host; this bounds one that does not answer).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// How many idle connections to the registry are kept for reuse.
const IDLE_CONNECTIONS: usize = 256;

/// The connection to one registry node.
#[derive(Debug)]
pub struct Rpc {
    url: String,
    agent: ureq::Agent,
}

impl Rpc {
    /// A client of the registry at `base` (`http://host:port`); nothing is
    /// sent yet.
    pub fn new(base: &str) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // Each phase bounded on its own, not the call as a whole: with
            // a global timeout ureq resolves the address on a new thread
            // for every call, even an IP address.
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_send_request(Some(CALL_TIMEOUT))
            .timeout_send_body(Some(CALL_TIMEOUT))
            .timeout_recv_response(Some(CALL_TIMEOUT))
            .timeout_recv_body(Some(CALL_TIMEOUT))
            // One kept connection per request in flight: a node serving
            // many connections would otherwise connect anew for most calls.
            .max_idle_connections(IDLE_CONNECTIONS)
            .max_idle_connections_per_host(IDLE_CONNECTIONS)
            .build()
            .new_agent();
        Rpc {
            url: format!("{}/rpc", base.trim_end_matches('/')),
            agent,
        }
    }

    /// Send `command`; its result, or the failure the registry sent back,
    /// or [`RepoError::Unavailable`] when it could not be asked.
    pub fn call(&self, command: &Command) -> Result<Value, RepoError> {
        let body = serde_json::to_vec(&[command])
            .map_err(|e| RepoError::Backend(format!("encoding a registry call: {e}")))?;
        let results: Vec<Value> = blocking(|| self.post(&body))?;
        let Some(first) = results.into_iter().next() else {
            return Err(RepoError::Unavailable(
                "the registry answered no result".into(),
            ));
        };
        wire::read_reply(first)
    }

    /// [`Rpc::call`], its result read as a `T`.
    pub fn call_as<T: DeserializeOwned>(&self, command: &Command) -> Result<T, RepoError> {
        let value = self.call(command)?;
        serde_json::from_value(value)
            .map_err(|e| RepoError::Backend(format!("the registry's answer is unreadable: {e}")))
    }

    fn post(&self, body: &[u8]) -> Result<Vec<Value>, RepoError> {
        let unavailable =
            |e: &dyn std::fmt::Display| RepoError::Unavailable(format!("{}: {e}", self.url));
        let mut resp = self
            .agent
            .post(&self.url)
            .header("content-type", "application/json")
            .send(body)
            .map_err(|e| unavailable(&e))?;
        let status = resp.status();
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .map_err(|e| unavailable(&e))?;
        if !status.is_success() {
            let text = String::from_utf8_lossy(&bytes);
            return Err(if status.is_server_error() {
                unavailable(&format_args!("{status}: {text}"))
            } else {
                RepoError::Backend(format!("the registry refused a call ({status}): {text}"))
            });
        }
        serde_json::from_slice(&bytes)
            .map_err(|e| unavailable(&format_args!("an unreadable answer: {e}")))
    }
}

/// Run `f`, which blocks (on the network, on a database), without
/// starving the runtime: on a multi-threaded runtime the worker's other
/// tasks move on first; elsewhere it simply runs.
pub(crate) fn blocking<T>(f: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current() {
        Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => tokio::task::block_in_place(f),
        _ => f(),
    }
}

/// Repositories backed by the registry at `base`, and the Keystone
/// shim's journal there.
pub fn connect(base: &str) -> (Repositories, Arc<RegistryJournal>) {
    let rpc = Arc::new(Rpc::new(base));
    let repos = Repositories {
        images: Box::new(RegistryImages(rpc.clone())),
        tasks: Box::new(RegistryTasks(rpc.clone())),
        metadefs: Box::new(RegistryMetadefs(rpc.clone())),
    };
    let journal = Arc::new(RegistryJournal {
        rpc,
        seen: AtomicU64::new(0),
        reached: AtomicBool::new(true),
    });
    (repos, journal)
}

fn image(rpc: &Rpc, command: &Command) -> Result<Arc<Image>, RepoError> {
    Ok(Arc::new(
        rpc.call_as::<Stored<Image>>(command)?.into_image(),
    ))
}

fn task(rpc: &Rpc, command: &Command) -> Result<Arc<Task>, RepoError> {
    Ok(Arc::new(rpc.call_as::<Stored<Task>>(command)?.into_task()))
}

fn nothing(rpc: &Rpc, command: &Command) -> Result<(), RepoError> {
    rpc.call(command).map(drop)
}

/// Image records at the registry.
#[derive(Debug)]
pub struct RegistryImages(Arc<Rpc>);

impl ImageRepository for RegistryImages {
    fn image_create(&self, values: Image) -> Result<Arc<Image>, RepoError> {
        let values = Stored::image(&values);
        image(&self.0, &Command::ImageCreate { values })
    }

    fn image_get(&self, id: &str, force_show_deleted: bool) -> Result<Arc<Image>, RepoError> {
        image(
            &self.0,
            &Command::ImageGet {
                image_id: id.to_owned(),
                force_show_deleted,
            },
        )
    }

    fn image_scan(&self, with_deleted: bool) -> Result<Vec<Arc<Image>>, RepoError> {
        let all: Vec<Stored<Image>> = self.0.call_as(&Command::ImageScan { with_deleted })?;
        Ok(all.into_iter().map(|s| Arc::new(s.into_image())).collect())
    }

    fn image_write(&self, new: Image) -> Result<Arc<Image>, RepoError> {
        let values = Stored::image(&new);
        image(&self.0, &Command::ImageWrite { values })
    }

    fn generation(&self) -> Result<u64, RepoError> {
        self.0.call_as(&Command::ImageGeneration {})
    }

    fn reset(&self) -> Result<(), RepoError> {
        nothing(&self.0, &Command::ImageReset {})
    }

    // Glance's own two calls go as one each (rather than the core's read
    // and guarded write): one round trip, and the registry's atomicity.
    fn image_update(&self, id: &str, update: ImageUpdate<'_>) -> Result<Arc<Image>, RepoError> {
        image(
            &self.0,
            &Command::ImageUpdate {
                image_id: id.to_owned(),
                values: Stored::image(update.values),
                purge_props: update.purge_props,
                from_state: update.from_state,
                revision: update.revision,
            },
        )
    }

    fn image_destroy(
        &self,
        id: &str,
        at: OffsetDateTime,
        revision: Option<u64>,
    ) -> Result<Arc<Image>, RepoError> {
        image(
            &self.0,
            &Command::ImageDestroy {
                image_id: id.to_owned(),
                at,
                revision,
            },
        )
    }
}

/// Task records at the registry.
#[derive(Debug)]
pub struct RegistryTasks(Arc<Rpc>);

impl TaskRepository for RegistryTasks {
    fn task_create(&self, values: Task) -> Result<Arc<Task>, RepoError> {
        let values = Stored::task(&values);
        task(&self.0, &Command::TaskCreate { values })
    }

    fn task_get(&self, id: &str, force_show_deleted: bool) -> Result<Arc<Task>, RepoError> {
        task(
            &self.0,
            &Command::TaskGet {
                task_id: id.to_owned(),
                force_show_deleted,
            },
        )
    }

    fn task_scan(&self) -> Result<Vec<Arc<Task>>, RepoError> {
        let all: Vec<Stored<Task>> = self.0.call_as(&Command::TaskScan {})?;
        Ok(all.into_iter().map(|s| Arc::new(s.into_task())).collect())
    }

    fn task_update(&self, values: Task) -> Result<Arc<Task>, RepoError> {
        let values = Stored::task(&values);
        task(&self.0, &Command::TaskUpdate { values })
    }

    fn reset(&self) -> Result<(), RepoError> {
        nothing(&self.0, &Command::TaskReset {})
    }
}

/// The metadata definition tables at the registry. A transaction runs
/// here, on the tables as read, and is sent as a compare-and-swap
/// ([`Command::MetadefReplace`]); if another node changed the tables
/// meanwhile it runs again on theirs.
#[derive(Debug)]
pub struct RegistryMetadefs(Arc<Rpc>);

fn metadef_fault(e: RepoError) -> Fault {
    match e {
        RepoError::Unavailable(_) => Fault::unavailable(),
        _ => Fault::internal(),
    }
}

impl MetadefRepository for RegistryMetadefs {
    fn snapshot(&self) -> Result<Arc<Tables>, RepoError> {
        Ok(Arc::new(self.0.call_as(&Command::MetadefSnapshot {})?))
    }

    fn transaction(&self, change: TablesChange<'_>) -> Result<(), Fault> {
        for _ in 0..RETRIES {
            let base: Tables = self
                .0
                .call_as(&Command::MetadefSnapshot {})
                .map_err(metadef_fault)?;
            let mut tables = base.clone();
            change(&mut tables)?;
            match self.0.call(&Command::MetadefReplace { base, tables }) {
                Ok(_) => return Ok(()),
                Err(RepoError::Changed { .. }) => continue,
                Err(e) => return Err(metadef_fault(e)),
            }
        }
        Err(Fault::Conflict(
            "The metadata definitions kept changing; try again.".into(),
        ))
    }

    fn reset(&self) -> Result<(), RepoError> {
        nothing(&self.0, &Command::MetadefReset {})
    }
}

/// The Keystone shim's journal at the registry: identities and tokens
/// written there, and read back from there, so a token issued by one API
/// node works on the others.
#[derive(Debug)]
pub struct RegistryJournal {
    rpc: Arc<Rpc>,
    /// The last journal change this node has.
    seen: AtomicU64,
    /// Whether the last look at the journal reached the registry.
    reached: AtomicBool,
}

impl RegistryJournal {
    fn write(&self, what: &str, command: &Command) {
        if let Err(e) = self.rpc.call(command) {
            // The journal's contract: log and go on.
            tracing::error!("writing {what} to the registry: {e}");
        }
    }
}

impl IdentityJournal for RegistryJournal {
    fn directory_changed(&self, directory: &Directory) {
        self.write(
            "the identities",
            &Command::DirectoryChanged {
                directory: directory.clone(),
            },
        );
    }

    fn token_saved(&self, token: &Token) {
        self.write(
            "a token",
            &Command::TokenSaved {
                token: token.clone(),
            },
        );
    }

    fn changes(&self) -> SavedIdentities {
        let since = self.seen.load(Ordering::Acquire);
        match self
            .rpc
            .call_as::<IdentityChanges>(&Command::IdentityChanges { since })
        {
            Ok(changes) => {
                self.reached.store(true, Ordering::Release);
                self.seen.fetch_max(changes.last, Ordering::AcqRel);
                SavedIdentities {
                    directory: changes.directory,
                    tokens: changes.tokens,
                }
            }
            Err(e) => {
                self.reached.store(false, Ordering::Release);
                tracing::warn!("reading identities from the registry: {e}");
                SavedIdentities::default()
            }
        }
    }

    fn reachable(&self) -> bool {
        self.reached.load(Ordering::Acquire)
    }
}
