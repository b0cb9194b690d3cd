//! `glance`: a command line for the OpenStack Image service, in the habits
//! of python-glanceclient's shell.

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
    let Some(url) = cli.os_image_url.as_deref() else {
        anyhow::bail!(
            "You must provide an image endpoint via either --os-image-url or env[OS_IMAGE_URL]"
        );
    };
    let Some(token) = cli.os_auth_token.as_deref() else {
        anyhow::bail!("You must provide a token via either --os-auth-token or env[OS_AUTH_TOKEN]");
    };
    if let Some(v) = cli.os_image_api_version.as_deref() {
        if v != "2" && !v.starts_with("2.") {
            anyhow::bail!("Invalid API version parameter. Supported values are [2]");
        }
    }
    Ok(Client::builder()
        .endpoint(url)
        .token(token)
        .timeout(Duration::from_secs(cli.timeout))
        .danger_accept_invalid_certs(cli.insecure)
        .build()?)
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
