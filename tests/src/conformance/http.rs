//! A minimal HTTP/1.1 client that sends exactly what Python's
//! `http.client.HTTPConnection.request` sends: one request per connection,
//! `Host` and `Accept-Encoding: identity` first, `Content-Length` when there is
//! a body (or `0` for PATCH/POST/PUT without one), then the caller's headers in
//! order. Nothing else — in particular no `Accept` header, which Glance reads
//! to pick the format of error bodies (no `Accept` gives `text/plain`, `*/*`
//! gives `text/html`). Redirects are not followed and nothing is decompressed.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::Error;

/// `http.client`'s timeout as the Python tool sets it (per socket operation).
const TIMEOUT: Duration = Duration::from_secs(120);

/// Where requests go, split from a base URL like `urllib.parse.urlsplit` does.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    host: String,
    port: u16,
    /// The URL's path without trailing `/`, put before every request path.
    prefix: String,
    /// `scheme://netloc`, replaced by `<base>` in transcripts.
    pub(crate) base: String,
}

/// One response: status, headers in order (names as sent), body.
#[derive(Debug)]
pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Target {
    /// Splits `url` (`http://host[:port][/prefix]`).
    pub(crate) fn new(url: &str) -> Result<Self, Error> {
        let bad = || Error::Http(format!("not an http:// URL: {url:?}"));
        let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
        if !scheme.eq_ignore_ascii_case("http") {
            return Err(Error::Http(format!(
                "only http:// targets are supported, not {url:?}"
            )));
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let netloc = &rest[..end];
        let mut path = &rest[end..];
        if let Some(i) = path.find(['?', '#']) {
            path = &path[..i];
        }
        let hostport = netloc.rsplit_once('@').map_or(netloc, |(_, h)| h);
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6.split_once(']').ok_or_else(bad)?;
            (h.to_owned(), after.strip_prefix(':').unwrap_or(""))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_owned(), p),
                None => (hostport.to_owned(), ""),
            }
        };
        let port = if port.is_empty() {
            80
        } else {
            port.parse().map_err(|_| bad())?
        };
        Ok(Target {
            host: host.to_ascii_lowercase(),
            port,
            prefix: path.trim_end_matches('/').to_owned(),
            base: format!("{scheme}://{netloc}"),
        })
    }

    /// Sends one request on a new connection and reads the whole response.
    pub(crate) async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: Option<&[u8]>,
    ) -> Result<Response, Error> {
        let head = self.request_head(method, path, headers, body)?;
        let io = |what: &str, e: std::io::Error| {
            Error::Io(format!("{what} {}:{}", self.host, self.port), e)
        };
        let mut stream = timeout(TcpStream::connect((self.host.as_str(), self.port)))
            .await?
            .map_err(|e| io("connecting to", e))?;
        let mut message = head;
        if let Some(b) = body {
            message.extend_from_slice(b);
        }
        timeout(stream.write_all(&message))
            .await?
            .map_err(|e| io("sending to", e))?;
        let mut reader = Reader {
            stream,
            buf: Vec::new(),
            pos: 0,
            eof: false,
        };
        read_response(&mut reader, method).await
    }

    /// The request line and headers, as `http.client` writes them.
    fn request_head(
        &self,
        method: &str,
        path: &str,
        headers: &[(String, String)],
        body: Option<&[u8]>,
    ) -> Result<Vec<u8>, Error> {
        let url = format!("{}{}", self.prefix, path);
        if url.chars().any(|c| c <= ' ' || c == '\u{7f}') {
            return Err(Error::Http(format!(
                "URL can't contain control characters: {url:?}"
            )));
        }
        let names: Vec<String> = headers
            .iter()
            .map(|(k, _)| k.to_ascii_lowercase())
            .collect();
        let has = |n: &str| names.iter().any(|k| k == n);
        let mut lines: Vec<(String, String)> = Vec::new();
        if !has("host") {
            let host = if self.host.contains(':') {
                format!("[{}]", self.host)
            } else {
                self.host.clone()
            };
            let host = if self.port == 80 {
                host
            } else {
                format!("{host}:{}", self.port)
            };
            lines.push(("Host".into(), host));
        }
        if !has("accept-encoding") {
            lines.push(("Accept-Encoding".into(), "identity".into()));
        }
        if !has("content-length") && !has("transfer-encoding") {
            match body {
                Some(b) => lines.push(("Content-Length".into(), b.len().to_string())),
                None if matches!(
                    method.to_ascii_uppercase().as_str(),
                    "PATCH" | "POST" | "PUT"
                ) =>
                {
                    lines.push(("Content-Length".into(), "0".into()));
                }
                None => {}
            }
        }
        lines.extend(headers.iter().cloned());
        let mut out = format!("{method} {url} HTTP/1.1\r\n").into_bytes();
        for (name, value) in &lines {
            if name.is_empty() || name.bytes().any(|b| b <= b' ' || b == b':' || b >= 0x7f) {
                return Err(Error::Http(format!("invalid header name {name:?}")));
            }
            if value.contains(['\r', '\n']) {
                return Err(Error::Http(format!("invalid header value {value:?}")));
            }
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            for c in value.chars() {
                // http.client encodes header values as Latin-1.
                let b = u8::try_from(u32::from(c))
                    .map_err(|_| Error::Http(format!("header value is not Latin-1: {value:?}")))?;
                out.push(b);
            }
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
        Ok(out)
    }
}

async fn timeout<F: std::future::Future>(f: F) -> Result<F::Output, Error> {
    tokio::time::timeout(TIMEOUT, f).await.map_err(|_| {
        Error::Io(
            "waiting for the server".into(),
            std::io::ErrorKind::TimedOut.into(),
        )
    })
}

struct Reader {
    stream: TcpStream,
    buf: Vec<u8>,
    pos: usize,
    eof: bool,
}

impl Reader {
    /// Reads more bytes into the buffer; false at end of stream.
    async fn fill(&mut self) -> Result<bool, Error> {
        if self.eof {
            return Ok(false);
        }
        let mut chunk = [0u8; 65536];
        let n = timeout(self.stream.read(&mut chunk))
            .await?
            .map_err(|e| Error::Io("reading the response".into(), e))?;
        if n == 0 {
            self.eof = true;
            return Ok(false);
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(true)
    }

    /// One line without its `\n` (and `\r`); `None` at end of stream.
    async fn line(&mut self) -> Result<Option<Vec<u8>>, Error> {
        loop {
            if let Some(i) = self.buf[self.pos..].iter().position(|&b| b == b'\n') {
                let mut line = self.buf[self.pos..self.pos + i].to_vec();
                self.pos += i + 1;
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(Some(line));
            }
            if !self.fill().await? {
                if self.pos < self.buf.len() {
                    let line = self.buf[self.pos..].to_vec();
                    self.pos = self.buf.len();
                    return Ok(Some(line));
                }
                return Ok(None);
            }
        }
    }

    /// Exactly `n` bytes (an error if the stream ends first, like
    /// `http.client.IncompleteRead`).
    async fn exact(&mut self, n: usize) -> Result<Vec<u8>, Error> {
        while self.buf.len() - self.pos < n {
            if !self.fill().await? {
                return Err(Error::Http(format!(
                    "incomplete read: {} bytes read, {} more expected",
                    self.buf.len() - self.pos,
                    n - (self.buf.len() - self.pos)
                )));
            }
        }
        let out = self.buf[self.pos..self.pos + n].to_vec();
        self.pos += n;
        Ok(out)
    }

    /// Everything up to the end of the stream.
    async fn rest(&mut self) -> Result<Vec<u8>, Error> {
        while self.fill().await? {}
        let out = self.buf[self.pos..].to_vec();
        self.pos = self.buf.len();
        Ok(out)
    }
}

fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Reads a status line; `http.client` skips `100 Continue` responses.
async fn read_response(r: &mut Reader, method: &str) -> Result<Response, Error> {
    let (status, headers) = loop {
        let line = r
            .line()
            .await?
            .ok_or_else(|| Error::Http("remote end closed connection without response".into()))?;
        let line = latin1(&line);
        let mut parts = line.splitn(3, ' ');
        let version = parts.next().unwrap_or("");
        let code = parts.next().unwrap_or("");
        if !version.starts_with("HTTP/") {
            return Err(Error::Http(format!("bad status line {line:?}")));
        }
        let status: u16 = match code.parse() {
            Ok(s) if (100..=999).contains(&s) && code.len() == 3 => s,
            _ => return Err(Error::Http(format!("bad status line {line:?}"))),
        };
        let headers = read_headers(r).await?;
        if status != 100 {
            break (status, headers);
        }
    };
    let first = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let chunked = first("transfer-encoding").is_some_and(|t| t.eq_ignore_ascii_case("chunked"));
    let mut length = if chunked {
        None
    } else {
        first("content-length")
            .and_then(|l| l.trim().parse::<i64>().ok())
            .and_then(|l| usize::try_from(l).ok())
    };
    if status == 204
        || status == 304
        || (100..200).contains(&status)
        || method.eq_ignore_ascii_case("HEAD")
    {
        length = Some(0);
    }
    let body = if length == Some(0) {
        Vec::new()
    } else if chunked {
        read_chunked(r).await?
    } else if let Some(n) = length {
        r.exact(n).await?
    } else {
        r.rest().await?
    };
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// Header lines until the empty line, parsed as Python's `email` parser with
/// the compat32 policy does: the name is everything before the first `:`, the
/// value is left-stripped of spaces and tabs; continuation lines are appended.
async fn read_headers(r: &mut Reader) -> Result<Vec<(String, String)>, Error> {
    let mut headers: Vec<(String, String)> = Vec::new();
    while let Some(line) = r.line().await? {
        if line.is_empty() {
            break;
        }
        let line = latin1(&line);
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push_str("\r\n");
                last.1.push_str(&line);
            }
            continue;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((
                name.to_owned(),
                value.trim_start_matches([' ', '\t']).to_owned(),
            ));
        }
    }
    Ok(headers)
}

async fn read_chunked(r: &mut Reader) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    loop {
        let line = r
            .line()
            .await?
            .ok_or_else(|| Error::Http("incomplete chunked body".into()))?;
        let line = latin1(&line);
        let size = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size, 16)
            .map_err(|_| Error::Http(format!("bad chunk size {line:?}")))?;
        if size == 0 {
            // Trailers, up to the empty line (or the end of the stream).
            while let Some(l) = r.line().await? {
                if l.is_empty() {
                    break;
                }
            }
            return Ok(body);
        }
        body.extend(r.exact(size).await?);
        r.exact(2).await?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_splits_like_urlsplit() {
        let t = Target::new("http://127.0.0.1:9292/").expect("valid URL");
        assert_eq!(
            (t.host.as_str(), t.port, t.prefix.as_str()),
            ("127.0.0.1", 9292, "")
        );
        assert_eq!(t.base, "http://127.0.0.1:9292");
        let t = Target::new("http://Example.test/image/").expect("valid URL");
        assert_eq!(
            (t.host.as_str(), t.port, t.prefix.as_str()),
            ("example.test", 80, "/image")
        );
    }

    #[test]
    fn head_is_what_http_client_sends() {
        let t = Target::new("http://127.0.0.1:9292").expect("valid URL");
        let head = t
            .request_head("POST", "/v2/images", &[("X-A".into(), "b".into())], None)
            .expect("valid request");
        assert_eq!(
            String::from_utf8(head).expect("ASCII"),
            "POST /v2/images HTTP/1.1\r\nHost: 127.0.0.1:9292\r\nAccept-Encoding: identity\r\n\
             Content-Length: 0\r\nX-A: b\r\n\r\n"
        );
        let head = t
            .request_head("GET", "/", &[], None)
            .expect("valid request");
        assert_eq!(
            String::from_utf8(head).expect("ASCII"),
            "GET / HTTP/1.1\r\nHost: 127.0.0.1:9292\r\nAccept-Encoding: identity\r\n\r\n"
        );
    }
}
