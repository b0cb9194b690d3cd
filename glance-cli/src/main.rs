//! `glance`: a command line for the OpenStack Image service, in the habits
//! of python-glanceclient's shell.

mod auth;
mod cli;
mod commands;
mod output;
mod progress;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use glance_client::Client;

use cli::{Cli, Command};

fn client(cli: &Cli) -> anyhow::Result<Client> {
    if let Some(v) = cli.os_image_api_version.as_deref() {
        if v != "2" && !v.starts_with("2.") {
            anyhow::bail!("Invalid API version parameter. Supported values are [2]");
        }
    }
    let builder = auth::builder(cli)?;
    Ok(builder.timeout(Duration::from_secs(cli.timeout)).build()?)
}

async fn run(cli: Cli) -> anyhow::Result<bool> {
    let client = client(&cli)?;
    let format = cli.format;
    match cli.command {
        Command::ImageCreate(a) => commands::images::create(&client, a, format).await?,
        Command::ImageList(a) => commands::images::list(&client, a, format).await?,
        Command::ImageShow(a) => commands::images::show(&client, a, format).await?,
        Command::ImageUpload(a) => commands::images::upload(&client, a).await?,
        Command::ImageDownload(a) => commands::images::download(&client, a).await?,
        Command::ImageDelete(a) => return commands::images::delete(&client, a).await,
    }
    Ok(true)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.debug {
        tracing_subscriber::fmt()
            .with_env_filter("glance_client=debug")
            .with_writer(std::io::stderr)
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
    match runtime.block_on(run(cli)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            // A token the Image service still refuses (after one
            // re-authentication): glanceclient's words.
            if let Some(glance_client::Error::Http { status, .. }) =
                e.downcast_ref::<glance_client::Error>()
            {
                if status.as_u16() == 401 {
                    eprintln!("Invalid OpenStack Identity credentials.");
                    return ExitCode::FAILURE;
                }
            }
            // One line: the error and its causes.
            let mut msg = e.to_string();
            for cause in e.chain().skip(1) {
                msg.push_str(": ");
                msg.push_str(&cause.to_string());
            }
            eprintln!("{msg}");
            ExitCode::FAILURE
        }
    }
}
