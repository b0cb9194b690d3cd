//! The registry node (`glance-mock-server registry`): it holds the
//! records and serves Glance's DB API over the registry RPC to API nodes
//! that hold none ([`crate::db::registry`] has the wire and the client).
//!
//! It keeps its repositories in memory, or in the SQLite database of a
//! `--data-dir` (only the database: image bytes stay with the API nodes'
//! stores). Besides the records it keeps the Keystone shim's journal
//! ([`identities`]), so a token issued by one API node works on every one.

pub mod dispatch;
pub mod identities;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::ConnectionConfig;
use crate::db::Repositories;
use crate::db::registry::wire::{self, Command};
use identities::IdentityLog;

/// What a registry node serves: the repositories and the identity journal.
#[derive(Debug, Default)]
pub struct Registry {
    repo: Repositories,
    log: IdentityLog,
}

impl Registry {
    /// A registry keeping everything in memory.
    pub fn memory() -> Self {
        Registry::default()
    }

    /// A registry on the database `path` (opened, created or migrated, as
    /// an API node opens it; see [`crate::db::sqlite`]).
    #[cfg(feature = "sqlite")]
    pub fn open(path: &std::path::Path) -> std::io::Result<Self> {
        let (repo, journal, saved) =
            crate::db::sqlite::open(path).map_err(std::io::Error::other)?;
        Ok(Registry {
            repo,
            log: IdentityLog::new(saved, Some(journal)),
        })
    }

    /// Run one batch of calls, as `POST /rpc` does: each call's result in
    /// order.
    pub fn execute(&self, commands: Vec<Command>) -> Vec<Value> {
        commands
            .into_iter()
            .map(|c| wire::reply(dispatch::execute(&self.repo, &self.log, c)))
            .collect()
    }
}

/// The registry's routes: `POST /rpc`.
pub fn router(registry: Arc<Registry>) -> Router {
    Router::new().route("/rpc", post(rpc)).with_state(registry)
}

fn bad_request(msg: String) -> Response {
    (StatusCode::BAD_REQUEST, msg).into_response()
}

async fn rpc(State(registry): State<Arc<Registry>>, body: Bytes) -> Response {
    let calls: Vec<Value> = match serde_json::from_slice(&body) {
        Ok(calls) => calls,
        Err(e) => return bad_request(format!("The request body is not a list of calls: {e}")),
    };
    let mut commands = Vec::with_capacity(calls.len());
    for call in calls {
        let name = call
            .get("command")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        match serde_json::from_value::<Command>(call) {
            Ok(c) => commands.push(c),
            Err(e) => return bad_request(format!("Bad call of command {name:?}: {e}")),
        }
    }
    tracing::debug!(
        "rpc: {:?}",
        commands.iter().map(Command::name).collect::<Vec<_>>()
    );
    // The repositories may block (SQLite): the worker's other tasks move on
    // first, without the hop to another thread that spawn_blocking costs.
    axum::Json(crate::db::registry::client::blocking(|| {
        registry.execute(commands)
    }))
    .into_response()
}

/// A running registry node. Dropping it stops it.
#[derive(Debug)]
pub struct RegistryServer {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl RegistryServer {
    /// Serve `registry` on `bind` on the current tokio runtime.
    ///
    /// An API node's calls to it block the thread they run on (see
    /// [`crate::db::registry::client`]): in one process, serve the registry
    /// on a multi-threaded runtime, or on another runtime than the API
    /// nodes when theirs is a current-thread one, or each call waits for
    /// its timeout.
    pub async fn start(registry: Registry, bind: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let app = router(Arc::new(registry));
        let (stop, stopped) = oneshot::channel();
        let task = tokio::spawn(crate::server::accept::serve(
            listener,
            app,
            ConnectionConfig::default(),
            stopped,
        ));
        Ok(RegistryServer {
            addr,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL (what API nodes take as `--registry`).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stop accepting and wait for the calls in flight.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for RegistryServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[cfg(test)]
mod tests;
