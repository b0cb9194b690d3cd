//! The `glance-mock-server` binary.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use glance_mock_server::MockServer;

mod args;

/// jemalloc, not glibc's malloc: a request allocates a few dozen small
/// objects, and glibc's malloc/free took 45% of the server's instructions
/// (BENCHMARKS.md, section 3). A library user keeps their own allocator.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// An in-memory OpenStack Image service (Glance) API v2 server.
#[derive(Debug, Parser)]
#[command(
    name = "glance-mock-server",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Args {
    /// Run another kind of node (without one: an API node).
    #[command(subcommand)]
    node: Option<Node>,
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:9292")]
    bind: SocketAddr,
    /// Answer 500 where Glance 33 itself crashes on unchecked input, instead
    /// of the 4xx the mock gives by default (see RELIABILITY.md).
    #[arg(long)]
    glance_server_errors: bool,
    /// The deployment: configuration file and settings.
    #[command(flatten)]
    deployment: args::DeploymentArgs,
    /// Keep the whole state on disk, surviving restarts and crashes: the
    /// records (images, tasks, metadefs, the shim's identities and tokens)
    /// in DIR/glance-mock.sqlite, each store's bytes in DIR/<store>/, staged
    /// data in DIR/os_glance_staging_store/ (default: all in memory).
    /// Restarting on the same DIR brings everything back, no --seed needed.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<std::path::PathBuf>,
    /// Hold no database: ask the registry node at URL (http://HOST:PORT,
    /// started with `glance-mock-server registry`) for every record. Image
    /// bytes stay in this node's stores; with --data-dir DIR they are in
    /// DIR/<store>/, which API nodes sharing one registry should share.
    #[arg(long, value_name = "URL")]
    registry: Option<String>,
    /// Start with the state in FILE, a dump from GET /_mock/state.
    #[arg(long, value_name = "FILE")]
    seed: Option<std::path::PathBuf>,
}

/// The other kinds of node.
#[derive(Debug, clap::Subcommand)]
enum Node {
    /// A registry node: it holds the records and serves them to API nodes
    /// started with --registry (Glance's registry RPC, POST /rpc).
    Registry {
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, default_value = "127.0.0.1:9191")]
        bind: SocketAddr,
        /// Keep the records in DIR/glance-mock.sqlite (default: in memory).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<std::path::PathBuf>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    if let Some(Node::Registry { bind, data_dir }) = args.node {
        return registry(bind, data_dir.as_deref()).await;
    }
    let mut config = match args.deployment.config() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("glance-mock-server: {e}");
            return ExitCode::from(2);
        }
    };
    config.glance_server_errors |= args.glance_server_errors;
    if let Some(dir) = &args.data_dir {
        if let Err(e) = config.use_data_dir(dir) {
            eprintln!("glance-mock-server: --data-dir: {e}");
            return ExitCode::FAILURE;
        }
    }
    if let Some(url) = &args.registry {
        if let Err(e) = config.use_registry(url) {
            eprintln!("glance-mock-server: --registry {e}");
            return ExitCode::from(2);
        }
    }
    let mut builder = MockServer::builder().bind(args.bind).config(config);
    if let Some(path) = &args.seed {
        match std::fs::read(path) {
            Ok(json) => builder = builder.seed_json(json),
            Err(e) => {
                eprintln!("glance-mock-server: --seed {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
    }
    let server = match builder.start().await {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
            let path = args.seed.as_deref().unwrap_or(std::path::Path::new(""));
            eprintln!("glance-mock-server: --seed {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        Err(e) => {
            eprintln!("glance-mock-server: cannot start on {}: {e}", args.bind);
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", server.url());
    shutdown_signal().await;
    server.shutdown().await;
    ExitCode::SUCCESS
}

/// Run a registry node until a signal stops it.
async fn registry(bind: SocketAddr, data_dir: Option<&std::path::Path>) -> ExitCode {
    use glance_mock_server::registry::{Registry, RegistryServer};
    let registry = match data_dir {
        None => Registry::memory(),
        Some(dir) => {
            let path = dir.join(glance_mock_server::config::DATABASE_FILE);
            match std::fs::create_dir_all(dir).and_then(|()| Registry::open(&path)) {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("glance-mock-server registry: --data-dir: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    };
    let server = match RegistryServer::start(registry, bind).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("glance-mock-server registry: cannot start on {bind}: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("listening on {}", server.url());
    shutdown_signal().await;
    server.shutdown().await;
    ExitCode::SUCCESS
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
