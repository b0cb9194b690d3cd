//! The mock's shared state: every repository, store and registry the use
//! cases act on, in one [`AppState`] behind an `Arc` ([`SharedState`]).
//!
//! It sits below everything that acts on it: the use cases ([`crate::app`]),
//! the task worker ([`crate::worker`]) and the HTTP layer ([`crate::api`])
//! all depend on it, and it on none of them. Parts that need less than the
//! whole take a substate ([`IdentityState`], the `Arc<Control>`), axum's
//! `FromRef` pattern.

use std::sync::Arc;

use axum::extract::FromRef;

use crate::config::Config;
use crate::control::Control;
use crate::db::{ImageCache, Repositories};
use crate::keystone::Keystone;
use crate::queue::TaskQueue;
use crate::store::{ImageStore, Stores, flock};

/// Everything the use cases can reach.
#[derive(Debug)]
pub struct AppState {
    /// Deployment settings.
    pub config: Config,
    /// The records: images, tasks, metadata definitions.
    pub repo: Repositories,
    /// Image bytes, by store id.
    pub store: Stores,
    /// The Keystone shim: identity configuration and issued tokens.
    pub keystone: Arc<Keystone>,
    /// The staging area (`os_glance_staging_store`): staged and fetched
    /// data waiting to be imported; not one of the configured stores.
    pub staging: Arc<dyn ImageStore>,
    /// Tasks waiting to move on (run by [`crate::worker`]).
    pub queue: TaskQueue,
    /// The image cache's records (used when `config.cache.enabled`).
    pub cache: ImageCache,
    /// Fault rules and the request journal (see [`crate::control`]).
    pub control: Arc<Control>,
    /// This process's claim on the folder of its database, shared with
    /// other processes on the same state.
    pub node: NodeLock,
}

/// A process's claim on the folder its database is in
/// (`DIR/glance-mock.lock`, an advisory `flock`): every process serving a
/// state holds it shared; one that gets it exclusively on start is alone,
/// and may remove what no live process can be in the middle of writing
/// (see [`crate::app::recovery`]) before it shares it.
#[derive(Debug, Default)]
pub struct NodeLock {
    file: Option<std::fs::File>,
    alone: bool,
}

impl NodeLock {
    /// Claim `dir`: exclusively if no other process holds it, else shared
    /// (waiting for one that holds it exclusively to share it).
    pub fn acquire(dir: &std::path::Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("glance-mock.lock"))?;
        let alone = flock::try_lock(&file);
        if !alone {
            flock::lock_shared(&file)?;
        }
        Ok(NodeLock {
            file: Some(file),
            alone,
        })
    }

    /// Whether no other process served this state when this one started.
    pub fn alone(&self) -> bool {
        self.alone
    }

    /// Let other processes in (an exclusive claim becomes shared).
    pub fn share(&self) -> std::io::Result<()> {
        match &self.file {
            Some(file) if self.alone => flock::lock_shared(file),
            _ => Ok(()),
        }
    }
}

impl AppState {
    /// State for `config`, with empty in-memory records (whatever
    /// [`Config::database`] says: see [`AppState::open`]) and the
    /// configured stores.
    pub fn new(config: Config) -> Self {
        let keystone = Keystone::new(config.identity.clone());
        AppState::with(config, Repositories::memory(), keystone)
    }

    /// State for `config`: the records at [`Config::registry`] when it
    /// names one (nothing is read yet), else in [`Config::database`] when it
    /// names one (opened, created or migrated; what it holds is loaded,
    /// the Keystone shim's identities and tokens too), else empty ones in
    /// memory. Fails on a database that cannot be used, saying why.
    pub fn open(config: Config) -> std::io::Result<Self> {
        if let Some(url) = &config.registry {
            let (repo, journal) = crate::db::registry::connect(url);
            // What the other nodes wrote so far (nothing, logged, while the
            // registry is down: the journal catches up on later reads).
            let saved = crate::keystone::IdentityJournal::changes(&*journal);
            let keystone = Keystone::durable(config.identity.clone(), journal, saved);
            return Ok(AppState::with(config, repo, keystone));
        }
        let Some(path) = config.database.clone() else {
            return Ok(AppState::new(config));
        };
        #[cfg(feature = "sqlite")]
        {
            let node = NodeLock::acquire(path.parent().unwrap_or(std::path::Path::new(".")))?;
            let (repo, journal, saved) =
                crate::db::sqlite::open(&path).map_err(std::io::Error::other)?;
            let keystone = Keystone::durable(config.identity.clone(), journal, saved);
            Ok(AppState {
                node,
                ..AppState::with(config, repo, keystone)
            })
        }
        #[cfg(not(feature = "sqlite"))]
        Err(std::io::Error::other(format!(
            "{}: this build keeps records in memory only (built without the `sqlite` feature)",
            path.display()
        )))
    }

    fn with(config: Config, repo: Repositories, keystone: Keystone) -> Self {
        AppState {
            store: Stores::from_config(&config),
            keystone: Arc::new(keystone),
            staging: crate::store::staging_store(&config),
            queue: TaskQueue::new(&config),
            control: Arc::new(Control::new(config.allow_identity_faults)),
            config,
            repo,
            cache: ImageCache::default(),
            node: NodeLock::default(),
        }
    }

    /// `[task] task_time_to_live`.
    pub fn task_ttl(&self) -> time::Duration {
        time::Duration::hours(
            i64::try_from(self.config.tasks.task_time_to_live_hours).unwrap_or(48),
        )
    }
}

/// The state as it is shared.
pub type SharedState = Arc<AppState>;

/// What the Keystone shim's routes and its guard in front of `/v2` use:
/// the issued tokens, and whether only those are accepted.
#[derive(Debug, Clone)]
pub struct IdentityState {
    /// The shim's configuration and tokens.
    pub keystone: Arc<Keystone>,
    /// [`Config::require_auth`]: only the shim's tokens get through.
    pub require_auth: bool,
}

impl FromRef<SharedState> for IdentityState {
    fn from_ref(state: &SharedState) -> Self {
        IdentityState {
            keystone: state.keystone.clone(),
            require_auth: state.config.require_auth,
        }
    }
}
