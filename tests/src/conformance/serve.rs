//! Files served over HTTP on loopback while a scenario runs, for steps that
//! make the server fetch a URL (`web-download`). A scenario directory may
//! hold a `files.json` beside its `scenarios/`:
//!
//! ```json
//! {"port": 9479, "files": {"/image.raw": {"seed": 31, "size": 3000}}}
//! ```
//!
//! Each file is a `data` body of the scenario format (`{"seed", "size"}` or
//! `{"text"}`), served at a fixed port so that the recorded URIs (and the
//! reference's `allowed_ports`) stay the same. When recording from the
//! reference, serve the same bytes (`det_bytes`) on that port.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::{Error, det_bytes};

/// A running file server; dropping it stops it.
#[derive(Debug)]
pub struct FileServer {
    task: JoinHandle<()>,
}

impl Drop for FileServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The files a `files.json` describes, by path, and the port.
fn parse(spec: &Value) -> Result<(u16, BTreeMap<String, Vec<u8>>), String> {
    let port = spec["port"]
        .as_u64()
        .and_then(|p| u16::try_from(p).ok())
        .ok_or("\"port\" must be a port number")?;
    let mut files = BTreeMap::new();
    for (path, data) in spec["files"]
        .as_object()
        .ok_or("\"files\" must be an object")?
    {
        let bytes = if let Some(text) = data["text"].as_str() {
            text.as_bytes().to_vec()
        } else {
            let seed = data["seed"]
                .as_i64()
                .ok_or("a file needs \"seed\" or \"text\"")?;
            let size = data["size"]
                .as_u64()
                .and_then(|s| usize::try_from(s).ok())
                .ok_or("a file needs \"size\"")?;
            det_bytes(seed, size)
        };
        files.insert(path.clone(), bytes);
    }
    Ok((port, files))
}

/// Serve the files of `dir/files.json`, if there is one.
pub async fn serve_dir(dir: &Path) -> Result<Option<FileServer>, Error> {
    let path = dir.join("files.json");
    if !path.exists() {
        return Ok(None);
    }
    let text =
        std::fs::read(&path).map_err(|e| Error::Io(format!("reading {}", path.display()), e))?;
    let spec: Value =
        serde_json::from_slice(&text).map_err(|e| Error::Json(path.display().to_string(), e))?;
    let (port, files) =
        parse(&spec).map_err(|e| Error::Scenario(format!("{}: {e}", path.display())))?;
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|e| Error::Io(format!("listening on 127.0.0.1:{port}"), e))?;
    let files = Arc::new(files);
    let task = tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let files = files.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
                    match conn.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let line = String::from_utf8_lossy(&head);
                let mut words = line.split_whitespace();
                let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
                let body = files.get(target.split('?').next().unwrap_or(""));
                let response = match body {
                    Some(body) => {
                        let mut r = format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                            body.len()
                        )
                        .into_bytes();
                        if method != "HEAD" {
                            r.extend_from_slice(body);
                        }
                        r
                    }
                    None => {
                        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .to_vec()
                    }
                };
                let _ = conn.write_all(&response).await;
                let _ = conn.shutdown().await;
            });
        }
    });
    Ok(Some(FileServer { task }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_json_describes_port_and_bytes() {
        let spec = serde_json::json!({"port": 9479, "files": {
            "/a": {"seed": 1, "size": 10}, "/b": {"text": "hi"}}});
        let (port, files) = parse(&spec).expect("valid");
        assert_eq!(port, 9479);
        assert_eq!(files["/a"], det_bytes(1, 10));
        assert_eq!(files["/b"], b"hi");
        assert!(parse(&serde_json::json!({"port": 70000, "files": {}})).is_err());
        assert!(parse(&serde_json::json!({"port": 1, "files": {"/x": {}}})).is_err());
    }
}
