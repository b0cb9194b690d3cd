//! A hand-written HTTP/1.1 server, kept only for the download faults the
//! mock's fault rules cannot produce (the rest of `download_faults` runs
//! on the mock): a `Content-MD5` with no checksum in the record (the mock,
//! as Glance, sends the record's checksum), other bytes and `Content-MD5`
//! for ranged requests than for the first (an image replaced between a
//! cut and its resumption), and a server that honours only `bytes=N-`
//! ranges. It serves one image record and its bytes, honours
//! `Range: bytes=N-` (206, `Content-Range`, the whole image's
//! `Content-MD5`), and cuts the connection at chosen offsets.

use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the server serves, and what it saw.
#[derive(Debug, Default)]
pub struct Flaky {
    /// Bytes of `GET …/file` (and of any `*.img` path).
    pub data: Vec<u8>,
    /// The record of `GET /v2/images/{id}`.
    pub image: Value,
    /// `Content-MD5` of the data responses.
    pub content_md5: Option<String>,
    /// `Content-MD5` of ranged responses when it should differ (an image
    /// replaced between two requests).
    pub ranged_md5: Option<String>,
    /// Bytes served to ranged requests instead of `data` (a replaced image).
    pub ranged_data: Option<Vec<u8>>,
    /// Absolute offsets at which a data response is cut (each used once).
    pub drops: Mutex<Vec<u64>>,
    /// Path and `Range` of every request.
    pub seen: Mutex<Vec<(String, Option<String>)>>,
}

/// Serve `flaky` on `127.0.0.1:0`; returns its base URL.
pub async fn serve(flaky: Arc<Flaky>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let flaky = flaky.clone();
            tokio::spawn(async move {
                let _ = handle(socket, &flaky).await;
            });
        }
    });
    format!("http://{addr}")
}

async fn read_head(socket: &mut TcpStream) -> std::io::Result<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = socket.read(&mut buf).await?;
        if n == 0 || head.len() > 64 * 1024 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        head.extend_from_slice(&buf[..n]);
    }
    Ok(String::from_utf8_lossy(&head).into_owned())
}

async fn handle(mut socket: TcpStream, flaky: &Flaky) -> std::io::Result<()> {
    let head = read_head(&mut socket).await?;
    let mut lines = head.split("\r\n");
    let path = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .unwrap_or("/")
        .to_owned();
    let range = lines.find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("range")
            .then(|| v.trim().to_owned())
    });
    flaky
        .seen
        .lock()
        .expect("lock")
        .push((path.clone(), range.clone()));
    if path.ends_with("/file") || path.ends_with(".img") {
        serve_data(socket, flaky, range).await
    } else if path.starts_with("/v2/images/") {
        let body = flaky.image.to_string();
        let head = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        socket.write_all(head.as_bytes()).await?;
        socket.write_all(body.as_bytes()).await?;
        socket.shutdown().await
    } else {
        socket
            .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .await?;
        socket.shutdown().await
    }
}

async fn serve_data(
    mut socket: TcpStream,
    flaky: &Flaky,
    range: Option<String>,
) -> std::io::Result<()> {
    let start: Option<u64> = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse().ok());
    let data = match (start, &flaky.ranged_data) {
        (Some(_), Some(other)) => other,
        _ => &flaky.data,
    };
    let len = data.len() as u64;
    let from = start.unwrap_or(0);
    if from > len {
        socket
            .write_all(b"HTTP/1.1 416 Requested Range Not Satisfiable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .await?;
        return socket.shutdown().await;
    }
    let mut head = String::new();
    match start {
        Some(s) => {
            head.push_str("HTTP/1.1 206 Partial Content\r\n");
            head.push_str(&format!(
                "content-range: bytes {s}-{}/{len}\r\n",
                len.saturating_sub(1)
            ));
            if let Some(md5) = flaky.ranged_md5.as_ref().or(flaky.content_md5.as_ref()) {
                head.push_str(&format!("content-md5: {md5}\r\n"));
            }
        }
        None => {
            head.push_str("HTTP/1.1 200 OK\r\n");
            if let Some(md5) = &flaky.content_md5 {
                head.push_str(&format!("content-md5: {md5}\r\n"));
            }
        }
    }
    head.push_str(&format!(
        "content-type: application/octet-stream\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        len - from
    ));
    socket.write_all(head.as_bytes()).await?;
    // Where this response is cut, if anywhere.
    let cut = {
        let mut drops = flaky.drops.lock().expect("lock");
        drops.sort_unstable();
        let pos = drops.iter().position(|d| *d > from && *d < len);
        pos.map(|p| drops.remove(p))
    };
    let end = cut.unwrap_or(len);
    for piece in data[from as usize..end as usize].chunks(64 * 1024) {
        socket.write_all(piece).await?;
    }
    socket.flush().await?;
    if cut.is_some() {
        // Drop without a clean close: the client sees a short body.
        drop(socket);
        return Ok(());
    }
    socket.shutdown().await
}
