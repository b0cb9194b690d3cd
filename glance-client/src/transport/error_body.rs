//! Reading the body of an error answer, Glance's or Keystone's: capped,
//! and the human message pulled out of JSON, HTML or plain text.

use reqwest::StatusCode;

use super::request_id;
use crate::error::Error;

/// Bytes of an error body read at most: Glance's own are well below; a
/// proxy or a broken server may send without end.
pub(crate) const ERROR_BODY_CAP: usize = 64 * 1024;

/// The body of an error answer as text, read up to [`ERROR_BODY_CAP`]
/// bytes (the rest is not read; the connection is dropped with it). A body
/// that breaks off gives what arrived.
pub(crate) async fn capped_text(mut resp: reqwest::Response) -> String {
    let mut body = Vec::new();
    while body.len() < ERROR_BODY_CAP {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                let room = ERROR_BODY_CAP - body.len();
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            }
            Ok(None) | Err(_) => break,
        }
    }
    String::from_utf8_lossy(&body).into_owned()
}

/// Turn an error response into [`Error::Http`], reading its body (up to
/// [`ERROR_BODY_CAP`] bytes) for the message.
pub(crate) async fn error_from(resp: reqwest::Response) -> Error {
    let status = resp.status();
    let request_id = request_id(resp.headers());
    let ctype = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = capped_text(resp).await;
    let mut message = extract_message(status, ctype.as_deref(), &body);
    if message.is_empty() {
        message = status.canonical_reason().unwrap_or("error").to_owned();
    }
    Error::Http {
        status,
        message,
        request_id,
    }
}

/// Pull the human message out of an error body, whatever its format.
///
/// Glance renders errors as JSON (`{"message": "…<br /><br />\n…", "code", "title"}`),
/// HTML or plain text, depending on the request's `Accept`.
pub(crate) fn extract_message(
    status: StatusCode,
    content_type: Option<&str>,
    body: &str,
) -> String {
    let ctype = content_type.unwrap_or("").to_ascii_lowercase();
    let text = if ctype.contains("json") {
        serde_json::from_str::<serde_json::Value>(body)
            .ok()
            .and_then(|v| {
                v.get("message")
                    .or_else(|| v.get("error").and_then(|e| e.get("message")))
                    .and_then(|m| m.as_str())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| body.to_owned())
    } else if ctype.contains("html") {
        let without_title = match (body.find("<title>"), body.find("</title>")) {
            (Some(a), Some(b)) if a < b => format!("{}{}", &body[..a], &body[b + 8..]),
            _ => body.to_owned(),
        };
        unescape_html(&strip_tags(&without_title))
    } else {
        body.to_owned()
    };
    let text = text.replace("<br />", " ");
    let joined = text.split_whitespace().collect::<Vec<_>>().join(" ");
    // Plain and HTML bodies repeat the status line ("404 Not Found") first.
    let status_line = format!(
        "{} {}",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    match joined.strip_prefix(&status_line) {
        Some(rest) => rest.trim_start().to_owned(),
        None => joined,
    }
}

/// Decode the character references webob's HTML error pages use
/// (`&#x27;`, `&quot;`, `&amp;`, …).
fn unescape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        let tail = &rest[start..];
        let decoded = tail.find(';').filter(|end| *end <= 10).and_then(|end| {
            let name = &tail[1..end];
            let c = match name {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                _ => {
                    let code =
                        if let Some(hex) = name.strip_prefix("#x").or(name.strip_prefix("#X")) {
                            u32::from_str_radix(hex, 16).ok()
                        } else {
                            name.strip_prefix('#').and_then(|d| d.parse().ok())
                        };
                    code.and_then(char::from_u32)
                }
            };
            c.map(|c| (c, end))
        });
        match decoded {
            Some((c, end)) => {
                out.push(c);
                rest = &tail[end + 1..];
            }
            None => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn strip_tags(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_from_every_glance_error_format() {
        let json = r#"{"message": "No image found with ID x<br /><br />\n\n\n", "code": "404 Not Found", "title": "Not Found"}"#;
        assert_eq!(
            extract_message(StatusCode::NOT_FOUND, Some("application/json"), json),
            "No image found with ID x"
        );
        let plain = "404 Not Found\n\nNo image found with ID x\n\n   ";
        assert_eq!(
            extract_message(
                StatusCode::NOT_FOUND,
                Some("text/plain; charset=UTF-8"),
                plain
            ),
            "No image found with ID x"
        );
        let html = "<html>\n <head>\n  <title>409 Conflict</title>\n </head>\n <body>\n  <h1>409 Conflict</h1>\n  Image status transition from active to saving is not allowed<br /><br />\n\n\n\n </body>\n</html>";
        assert_eq!(
            extract_message(StatusCode::CONFLICT, Some("text/html"), html),
            "Image status transition from active to saving is not allowed"
        );
    }

    #[test]
    fn html_entities_are_decoded() {
        let html = "<html><body><h1>403 Forbidden</h1>It&#x27;s not allowed to add locations if locations are invisible.&lt;&amp;&#39;&bogus; &amp<br /><br /></body></html>";
        assert_eq!(
            extract_message(
                StatusCode::FORBIDDEN,
                Some("text/html; charset=UTF-8"),
                html
            ),
            "It's not allowed to add locations if locations are invisible.<&'&bogus; &amp"
        );
    }
}
