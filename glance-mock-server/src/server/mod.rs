//! Running the API on a socket: the library handle and its builder, the
//! accept loop, each connection's timeouts, and request bodies left unread.

pub(crate) mod accept;
mod connection;
mod unread;

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::control::files::InvalidFileName;
use crate::control::{
    DataMode, FaultRule, InstalledFault, InvalidFault, JournalEntry, SeedError, StateDump,
};
use crate::state::{AppState, SharedState};
use crate::store::StoreError;
use crate::{api, app, worker};

/// The whole mock for `state` as one router: the worker attached to run
/// its background tasks, and the HTTP layer (Glance's API, the Keystone
/// shim, the control plane). For embedding the mock in a router of one's
/// own; [`MockServer`] serves [`service`] itself.
pub fn router(state: SharedState) -> axum::Router {
    service(state).into_router()
}

/// What [`router`] holds, as the tower service [`MockServer`] serves: one
/// router pass less per request.
pub fn service(state: SharedState) -> api::MockService {
    worker::attach(&state);
    api::service(state)
}

/// Builder for a [`MockServer`].
#[derive(Debug, Clone)]
pub struct MockServerBuilder {
    bind: SocketAddr,
    config: Config,
    seed: Option<SeedSource>,
}

/// A seed as given to the builder.
#[derive(Debug, Clone)]
enum SeedSource {
    /// Already parsed.
    Dump(StateDump),
    /// A dump's JSON text, parsed at start without copying its base64.
    Json(bytes::Bytes),
}

/// A seed that cannot be loaded: [`std::io::ErrorKind::InvalidData`] when
/// the seed is at fault, else the store's failure.
fn seed_error(e: SeedError) -> std::io::Error {
    let kind = if e.is_bad_seed() {
        std::io::ErrorKind::InvalidData
    } else {
        std::io::ErrorKind::Other
    };
    std::io::Error::new(kind, e)
}

impl Default for MockServerBuilder {
    fn default() -> Self {
        MockServerBuilder {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            config: Config::default(),
            seed: None,
        }
    }
}

impl MockServerBuilder {
    /// Address to listen on (default `127.0.0.1:0`, an ephemeral port).
    pub fn bind(mut self, addr: SocketAddr) -> Self {
        self.bind = addr;
        self
    }

    /// Deployment configuration (default: the reference deployment).
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// State to start with (see [`crate::control::dump`]); a seed that
    /// cannot be loaded makes [`MockServerBuilder::start`] fail with
    /// [`std::io::ErrorKind::InvalidData`].
    pub fn seed(mut self, seed: StateDump) -> Self {
        self.seed = Some(SeedSource::Dump(seed));
        self
    }

    /// The same from a dump's JSON text (e.g. a file's bytes), parsed when
    /// the server starts; inline data is decoded straight from the text
    /// instead of being copied into strings first (see
    /// [`crate::control::Seed`]), so a large seed needs about a third less
    /// memory. Text that is not a dump fails the start with
    /// [`std::io::ErrorKind::InvalidData`] as well.
    pub fn seed_json(mut self, json: impl Into<bytes::Bytes>) -> Self {
        self.seed = Some(SeedSource::Json(json.into()));
        self
    }

    /// Bind the socket and start serving on the current tokio runtime.
    pub async fn start(self) -> std::io::Result<MockServer> {
        let listener = TcpListener::bind(self.bind).await?;
        let addr = listener.local_addr()?;
        let limits = self.config.connections;
        let state = Arc::new(AppState::open(self.config)?);
        app::recovery::recover(&state)
            .await
            .map_err(std::io::Error::other)?;
        state.control.files.set_origin(addr);
        match self.seed {
            Some(SeedSource::Dump(seed)) => {
                app::control::load(&state, seed).await.map_err(seed_error)?;
            }
            Some(SeedSource::Json(json)) => {
                let checked = {
                    let seed: crate::control::Seed<'_> = serde_json::from_slice(&json)
                        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
                    app::control::check_seed(&state, seed)
                        .await
                        .map_err(seed_error)?
                };
                drop(json);
                app::control::load_checked(&state, checked)
                    .await
                    .map_err(seed_error)?;
            }
            None => {}
        }
        let app = service(state.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(accept::serve(listener, app, limits, stopped));
        Ok(MockServer {
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
        })
    }
}

/// A running mock server. Dropping it stops the server.
#[derive(Debug)]
pub struct MockServer {
    addr: SocketAddr,
    state: Arc<AppState>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl MockServer {
    /// Start a server with the default configuration on `127.0.0.1:0`.
    pub async fn start() -> std::io::Result<MockServer> {
        MockServer::builder().start().await
    }

    /// A builder for other addresses or configurations.
    pub fn builder() -> MockServerBuilder {
        MockServerBuilder::default()
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, e.g. `http://127.0.0.1:41234` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The Keystone shim's URL, `<url>/identity` (an `auth_url`).
    pub fn identity_url(&self) -> String {
        format!("{}/identity", self.url())
    }

    /// The server's state, for inspection in tests.
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }

    /// Manual task progression: move every waiting task (an import, or a
    /// task created through `POST /v2/tasks`) one step on; see
    /// [`crate::worker`]. Returns how many moved.
    pub async fn advance_tasks(&self) -> usize {
        worker::advance_tasks(&self.state).await
    }

    /// Manual task progression: run every waiting task to its end.
    /// Returns how many ended.
    pub async fn finish_tasks(&self) -> usize {
        worker::finish_tasks(&self.state).await
    }

    /// Manual task progression: move the waiting task `id` one step on.
    /// `None` if no such task waits; otherwise whether it has ended.
    pub async fn advance_task(&self, id: &str) -> Option<bool> {
        worker::advance_task(&self.state, id).await
    }

    /// Back to a fresh start (`POST /_mock/reset`): see
    /// [`app::control::reset`].
    pub async fn reset(&self) -> Result<(), StoreError> {
        app::control::reset(&self.state).await
    }

    /// The state as JSON would carry it (`GET /_mock/state`), as a value.
    /// With [`DataMode::Inline`] every image's bytes are in it at once, as
    /// base64 (1.33 times their size, besides what the stores hold): for
    /// small images; [`MockServer::dump_state_to`] streams instead.
    pub async fn dump_state(&self, mode: DataMode) -> Result<StateDump, StoreError> {
        app::control::dump(&self.state, mode).await
    }

    /// Write the state to `out` as the JSON document `GET /_mock/state`
    /// answers (what [`MockServer::dump_state`]'s value serializes to),
    /// streamed: inline image data passes through memory a few hundred KiB
    /// at a time, whatever the images' size. Returns the bytes written; a
    /// store's failure comes back as an [`std::io::Error`] wrapping the
    /// [`StoreError`].
    ///
    /// ```no_run
    /// # async fn demo(server: glance_mock_server::MockServer) -> std::io::Result<()> {
    /// use glance_mock_server::control::DataMode;
    ///
    /// let mut file = tokio::fs::File::create("seed.json").await?;
    /// server.dump_state_to(DataMode::Inline, &mut file).await?;
    /// // Later: `glance-mock-server --seed seed.json`.
    /// # Ok(()) }
    /// ```
    pub async fn dump_state_to<W>(&self, mode: DataMode, out: &mut W) -> std::io::Result<u64>
    where
        W: tokio::io::AsyncWrite + Unpin + ?Sized,
    {
        use futures::StreamExt;
        use tokio::io::AsyncWriteExt;
        let pieces = app::control::dump_json(&self.state, mode)
            .await
            .map_err(std::io::Error::other)?;
        let mut pieces = std::pin::pin!(pieces);
        let mut written = 0u64;
        while let Some(piece) = pieces.next().await {
            let piece = piece.map_err(std::io::Error::other)?;
            out.write_all(&piece).await?;
            written += piece.len() as u64;
        }
        out.flush().await?;
        Ok(written)
    }

    /// Replace the state by `seed` (`POST /_mock/state`).
    pub async fn load_state(&self, seed: StateDump) -> Result<(), SeedError> {
        app::control::load(&self.state, seed).await
    }

    /// The request journal, oldest first (`GET /_mock/requests`).
    pub fn requests(&self) -> Vec<JournalEntry> {
        app::control::requests(&self.state.control)
    }

    /// Empty the journal (`DELETE /_mock/requests`).
    pub fn clear_requests(&self) {
        app::control::clear_requests(&self.state.control);
    }

    /// Install a fault rule after the others (`POST /_mock/faults`).
    pub fn add_fault(&self, rule: FaultRule) -> Result<InstalledFault, InvalidFault> {
        app::control::add_fault(&self.state.control, rule)
    }

    /// The installed fault rules (`GET /_mock/faults`).
    pub fn faults(&self) -> Vec<InstalledFault> {
        app::control::faults(&self.state.control)
    }

    /// Remove one fault rule (`DELETE /_mock/faults/{id}`); whether it was there.
    pub fn remove_fault(&self, id: &str) -> bool {
        app::control::remove_fault(&self.state.control, id)
    }

    /// Remove every fault rule (`DELETE /_mock/faults`).
    pub fn clear_faults(&self) {
        app::control::clear_faults(&self.state.control);
    }

    /// Serve `content` at `/_mock/files/NAME` and return its URL, e.g. for
    /// a web-download import: the mock's own files pass the import filter,
    /// which refuses every other loopback URL (see
    /// [`crate::control::files`]). A file of that name is replaced.
    pub fn put_file(
        &self,
        name: &str,
        content: impl Into<bytes::Bytes>,
    ) -> Result<String, InvalidFileName> {
        app::files::put_file(&self.state.control, name, content.into())?;
        Ok(self.file_url(name))
    }

    /// The URL the file `name` is (or would be) served at.
    pub fn file_url(&self, name: &str) -> String {
        app::files::file_url(&self.url(), name)
    }

    /// Stop serving the file `name`; whether it was served.
    pub fn remove_file(&self, name: &str) -> bool {
        app::files::remove_file(&self.state.control, name)
    }

    /// Stop accepting connections, finish requests in flight, and wait.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            // Connections still open would keep a graceful shutdown waiting.
            task.abort();
        }
    }
}
