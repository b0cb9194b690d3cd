//! `glance`: a command line for the OpenStack Image service, in the habits
//! of python-glanceclient's shell.

// The doc comments of the argument structs are the `--help` texts, worded as
// python-glanceclient's (bare URLs, `env[OS_…]`), not rustdoc markup.
#![allow(rustdoc::bare_urls, rustdoc::broken_intra_doc_links)]

mod args;
mod auth;
mod cli;
mod commands;
mod output;
mod progress;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser};
use glance_client::Client;

use cli::{Cli, Command};

fn client(cli: &Cli) -> anyhow::Result<Client> {
    if let Some(v) = cli.os_image_api_version.as_deref() {
        if v != "2" && !v.starts_with("2.") {
            anyhow::bail!("Invalid API version parameter. Supported values are [2]");
        }
    }
    let builder = auth::builder(cli)?;
    if cli.timeout == 0 {
        anyhow::bail!("--timeout must be at least 1 second");
    }
    // glanceclient's socket timeout: each metadata attempt as a whole, and
    // the longest a transfer may go without a byte moving.
    let timeout = Duration::from_secs(cli.timeout);
    Ok(builder.timeout(timeout).read_timeout(timeout).build()?)
}

async fn run(cli: Cli) -> anyhow::Result<bool> {
    let client = client(&cli)?;
    let ctx = commands::Ctx {
        client: &client,
        format: cli.format,
        verbose: cli.verbose,
        endpoint_given: cli.os_image_url.is_some(),
    };
    cli::run(&ctx, cli.command).await
}

/// A server error as one line: `HTTP 404 Not Found: <message> (Request-ID: req-…)`;
/// other errors as the client words them.
pub fn error_line(e: &glance_client::Error) -> String {
    match e {
        glance_client::Error::Http {
            status,
            message,
            request_id,
        } => {
            let mut line = format!("HTTP {status}: {}", message.trim());
            if let Some(id) = request_id {
                line.push_str(&format!(" (Request-ID: {id})"));
            }
            line
        }
        other => other.to_string(),
    }
}

/// Any error as one line: the error and its causes, the server's errors
/// in [`error_line`]'s form.
fn report(e: &anyhow::Error) -> String {
    if let Some(ge) = e.downcast_ref::<glance_client::Error>() {
        // A token the Image service still refuses (after one
        // re-authentication): glanceclient's words.
        if matches!(ge, glance_client::Error::Http { status, .. } if status.as_u16() == 401) {
            return "Invalid OpenStack Identity credentials.".into();
        }
    }
    let mut line = String::new();
    for cause in e.chain() {
        let text = match cause.downcast_ref::<glance_client::Error>() {
            Some(ge) => error_line(ge),
            None => cause.to_string(),
        };
        let text = text.replace('\n', " ");
        // Errors that print their source would otherwise say it twice.
        if text.is_empty() || line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// Resolves when the process is asked to stop: Ctrl-C (SIGINT), SIGTERM or
/// SIGHUP. The exit status for it (128 + the signal's number).
async fn stop_signal() -> u8 {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::hangup()),
        ) else {
            let _ = tokio::signal::ctrl_c().await;
            return 130;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => 130,
            _ = term.recv() => 143,
            _ = hup.recv() => 129,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
        130
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Completion(c) = &cli.command {
        clap_complete::generate(
            c.shell,
            &mut Cli::command(),
            "glance",
            &mut std::io::stdout(),
        );
        return ExitCode::SUCCESS;
    }
    if cli.debug {
        // Requests and responses (method, URL, status, request id) from
        // glance-client; it never logs tokens or passwords.
        tracing_subscriber::fmt()
            .with_env_filter("glance_client=debug")
            .with_writer(std::io::stderr)
            .with_ansi(std::io::stderr().is_terminal())
            .init();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("glance: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Stopping drops the command's future, and with it any temporary
    // download file (`.glance-download-*`), before the process exits.
    let outcome = runtime.block_on(async {
        tokio::select! {
            r = run(cli) => Ok(r),
            code = stop_signal() => Err(code),
        }
    });
    match outcome {
        Err(code) => {
            eprintln!("... terminating glance client");
            ExitCode::from(code)
        }
        Ok(Ok(true)) => ExitCode::SUCCESS,
        Ok(Ok(false)) => ExitCode::FAILURE,
        Ok(Err(e)) => {
            eprintln!("{}", report(&e));
            ExitCode::FAILURE
        }
    }
}
