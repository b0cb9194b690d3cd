//! The `glance-mock-server` binary.

use std::net::SocketAddr;
use std::process::ExitCode;

use clap::Parser;
use glance_mock_server::MockServer;

mod args;

/// An in-memory OpenStack Image service (Glance) API v2 server.
#[derive(Debug, Parser)]
#[command(name = "glance-mock-server", version, about)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:9292")]
    bind: SocketAddr,
    /// The deployment: configuration file and settings.
    #[command(flatten)]
    deployment: args::DeploymentArgs,
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
    let config = match args.deployment.config() {
        Ok(config) => config,
        Err(e) => {
            eprintln!("glance-mock-server: {e}");
            return ExitCode::from(2);
        }
    };
    let server = match MockServer::builder()
        .bind(args.bind)
        .config(config)
        .start()
        .await
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("glance-mock-server: cannot listen on {}: {e}", args.bind);
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
