//! Running the API on a socket: the library handle and its builder.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::api::{self, AppState};
use crate::config::Config;

/// Builder for a [`MockServer`].
#[derive(Debug, Clone)]
pub struct MockServerBuilder {
    bind: SocketAddr,
    config: Config,
}

impl Default for MockServerBuilder {
    fn default() -> Self {
        MockServerBuilder {
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
            config: Config::default(),
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

    /// Bind the socket and start serving on the current tokio runtime.
    pub async fn start(self) -> std::io::Result<MockServer> {
        let listener = TcpListener::bind(self.bind).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(AppState::new(self.config));
        let app = api::router(state.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = stopped.await;
            };
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!("mock server stopped: {e}");
            }
        });
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
        self.state.advance_tasks().await
    }

    /// Manual task progression: run every waiting task to its end.
    /// Returns how many ended.
    pub async fn finish_tasks(&self) -> usize {
        self.state.finish_tasks().await
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
