//! `glance-bench-bare`: the ceiling for the request-rate figures. A bare
//! axum server, no state, no auth, returning fixed JSON bodies (the mock's
//! own answers, read from files) for `GET /v2/images/{id}` and
//! `GET /v2/images`. Prints `listening on http://ADDR:PORT` like the mock.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::http::header;
use axum::routing::get;
use bytes::Bytes;
use clap::Parser;

/// The mock binary's allocator, so the ceiling is measured on equal terms.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[derive(Debug, Parser)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:0")]
    bind: SocketAddr,
    /// Body of `GET /v2/images/{id}`.
    #[arg(long)]
    image: PathBuf,
    /// Body of `GET /v2/images`.
    #[arg(long)]
    list: PathBuf,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let image = Bytes::from(std::fs::read(&args.image)?);
    let list = Bytes::from(std::fs::read(&args.list)?);
    let json = |b: Bytes| move || async move { ([(header::CONTENT_TYPE, "application/json")], b) };
    let app = axum::Router::new()
        .route("/v2/images", get(json(list)))
        .route("/v2/images/{id}", get(json(image)));
    let listener = tokio::net::TcpListener::bind(args.bind).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
