//! List pages as the mock renders them, and a server that replays them.
//!
//! The list benchmarks compare the client's paging stream with decoding the
//! same bytes with `serde_json` alone. To keep the server's own cost out of
//! the client's figure, the pages are rendered once by a real mock and then
//! served as fixed bytes by [`PageServer`], looked up by their `marker`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use glance_client::{Client, ContainerFormat, CreateImage, DiskFormat, Image};
use serde::Deserialize;

/// One list page as the client decodes it.
#[derive(Debug, Deserialize)]
pub struct Page {
    /// The images of the page.
    pub images: Vec<Image>,
    /// The server-relative link to the next page.
    pub next: Option<String>,
}

/// A client with any token, as the mock accepts.
pub fn client(url: &str) -> Result<Client> {
    Ok(Client::builder().endpoint(url).token("bench").build()?)
}

/// Create `n` images (no data) through the API, `concurrency` at a time.
/// Each has a name, formats, a tag and two extra properties, as a
/// typical catalogue entry has before upload.
pub async fn populate(client: &Client, n: usize, concurrency: usize) -> Result<()> {
    futures::stream::iter(0..n)
        .map(|i| async move {
            let spec = CreateImage::new(format!("bench-image-{i:05}"))
                .disk_format(DiskFormat::Qcow2)
                .container_format(ContainerFormat::Bare)
                .tag("bench")
                .property("os_distro", "cirros")
                .property("hw_disk_bus", "virtio");
            client.images().create(&spec).await.map(|_| ())
        })
        .buffer_unordered(concurrency)
        .try_collect::<()>()
        .await?;
    Ok(())
}

/// The raw bodies of `GET /v2/images?limit={page_size}` and of every `next`
/// page after it, from a server at `url`.
pub async fn fetch_pages(url: &str, page_size: u32) -> Result<Vec<Bytes>> {
    let http = reqwest::Client::new();
    let mut pages = Vec::new();
    let mut link = format!("/v2/images?limit={page_size}");
    loop {
        let body = http
            .get(format!("{url}{link}"))
            .header("X-Auth-Token", "bench")
            .send()
            .await?
            .error_for_status()?
            .bytes()
            .await?;
        let page: Page = serde_json::from_slice(&body).context("a list page")?;
        pages.push(body);
        match page.next {
            Some(next) if !page.images.is_empty() => link = next,
            _ => break,
        }
        if pages.len() > 100_000 {
            bail!("the listing does not end");
        }
    }
    Ok(pages)
}

/// Decode pages as the client would, without HTTP: the decode-only baseline.
/// Returns the number of images.
pub fn decode_pages(pages: &[Bytes]) -> Result<usize> {
    let mut n = 0;
    for body in pages {
        let page: Page = serde_json::from_slice(body)?;
        n += std::hint::black_box(page.images).len();
    }
    Ok(n)
}

/// Decode pages as the client's `transport::decode` does: through
/// `serde_path_to_error`, which records the path of a failure. Returns the
/// number of images.
pub fn decode_pages_with_path(pages: &[Bytes]) -> Result<usize> {
    let mut n = 0;
    for body in pages {
        let de = &mut serde_json::Deserializer::from_slice(body);
        let page: Page = serde_path_to_error::deserialize(de)?;
        n += std::hint::black_box(page.images).len();
    }
    Ok(n)
}

/// Images listed through the client's stream, counted.
pub async fn list_with_client(client: &Client, page_size: u32) -> Result<usize> {
    let n = client
        .images()
        .list(glance_client::ListImages::new().page_size(page_size))
        .try_fold(0usize, |n, image| async move {
            std::hint::black_box(image);
            Ok(n + 1)
        })
        .await?;
    Ok(n)
}

#[derive(Debug, Deserialize)]
struct Marker {
    marker: Option<String>,
}

/// An axum server on loopback that answers `GET /v2/images` with fixed
/// pages, chosen by the `marker` of the request. Stopped when dropped.
#[derive(Debug)]
pub struct PageServer {
    addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl PageServer {
    /// Serve `pages` (in order: the first has no marker, each next one is
    /// found by the marker in the link of the one before).
    pub async fn start(pages: Vec<Bytes>) -> Result<PageServer> {
        let mut by_marker: HashMap<Option<String>, Bytes> = HashMap::new();
        let mut marker = None;
        for body in pages {
            let page: Page = serde_json::from_slice(&body)?;
            let next_marker = page.next.as_deref().and_then(marker_of);
            by_marker.insert(marker, body);
            marker = next_marker;
        }
        let app = axum::Router::new()
            .route("/v2/images", axum::routing::get(serve_page))
            .with_state(Arc::new(by_marker));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(PageServer { addr, task })
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for PageServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn marker_of(link: &str) -> Option<String> {
    let query = link.split_once('?')?.1;
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == "marker").then(|| v.to_owned())
    })
}

async fn serve_page(
    State(pages): State<Arc<HashMap<Option<String>, Bytes>>>,
    Query(q): Query<Marker>,
) -> Response {
    match pages.get(&q.marker) {
        Some(body) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body.clone(),
        )
            .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A mock in this process holding `n` images, and its list pages of
/// `page_size` fetched once.
pub async fn mock_pages(
    n: usize,
    page_size: u32,
) -> Result<(glance_mock_server::MockServer, Vec<Bytes>)> {
    let server = glance_mock_server::MockServer::start().await?;
    populate(&client(&server.url())?, n, 16).await?;
    let pages = fetch_pages(&server.url(), page_size).await?;
    Ok((server, pages))
}
