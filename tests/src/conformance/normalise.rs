//! Turning a raw response into a transcript entry: what the body is
//! ([`describe_body`]) and placeholders for everything that changes from run
//! to run ([`Normaliser`]).

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;
use sha2::{Digest, Sha256};

use super::json::OrderedJson;

fn regex(pattern: &str) -> Regex {
    #[allow(clippy::expect_used)]
    Regex::new(pattern).expect("the conformance patterns are valid regular expressions")
}

static UUID_RE: LazyLock<Regex> =
    LazyLock::new(|| regex(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"));
static TIME_RE: LazyLock<Regex> = LazyLock::new(|| {
    regex(r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?\b")
});
static REQ_RE: LazyLock<Regex> = LazyLock::new(|| regex(r"\breq-[0-9a-f-]{36}\b"));
static TITLE_RE: LazyLock<Regex> = LazyLock::new(|| regex(r"(?s)<title>(.*?)</title>"));
/// Python's `re.match(r"\s*(\d{3} [^\n]+)")`; Python's `\s` also takes
/// U+001C..U+001F.
static PLAIN_TITLE_RE: LazyLock<Regex> = LazyLock::new(|| regex(r"^[\s\x1c-\x1f]*(\d{3} [^\n]+)"));
static TAG_RE: LazyLock<Regex> = LazyLock::new(|| regex(r"<[^>]+>"));

/// Python's `str.isspace()` for one character.
fn py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Replaces ids, times, request ids, the scenario prefix and the base URL by
/// placeholders. Ids are numbered `<uuid:N>` in order of first appearance
/// across the whole scenario; ids starting `00000000-` stay literal.
#[derive(Debug, Clone)]
pub struct Normaliser {
    ids: HashMap<String, String>,
    scenario: String,
    base: String,
}

impl Normaliser {
    /// A normaliser for scenario `scenario` run against `base`
    /// (`scheme://host:port`).
    pub fn new(scenario: &str, base: &str) -> Self {
        Normaliser {
            ids: HashMap::new(),
            scenario: scenario.to_owned(),
            base: base.to_owned(),
        }
    }

    /// Normalises one string.
    pub fn text(&mut self, s: &str) -> String {
        let ids = &mut self.ids;
        let s = UUID_RE.replace_all(s, |c: &regex::Captures<'_>| {
            let u = &c[0];
            if u.starts_with("00000000-") {
                return u.to_owned();
            }
            let next = format!("<uuid:{}>", ids.len() + 1);
            ids.entry(u.to_owned()).or_insert(next).clone()
        });
        let s = TIME_RE.replace_all(&s, "<time>");
        let s = REQ_RE.replace_all(&s, "<request-id>");
        let s = s.replace(&format!("{}-", self.scenario), "");
        s.replace(&self.base, "<base>")
    }

    /// Normalises a decoded body: every string and object key, with `tags`
    /// and `versions` lists sorted by their `json.dumps` text and `data_dir`
    /// values replaced by `<data-dir>`.
    pub fn value(&mut self, v: &OrderedJson) -> OrderedJson {
        match v {
            OrderedJson::String(s) => OrderedJson::String(self.text(s)),
            OrderedJson::Array(items) => {
                OrderedJson::Array(items.iter().map(|x| self.value(x)).collect())
            }
            OrderedJson::Object(entries) => {
                let mut out = Vec::with_capacity(entries.len());
                for (k, x) in entries {
                    let k = self.text(k);
                    let x = self.value(x);
                    OrderedJson::insert(&mut out, k, x);
                }
                for (k, x) in &mut out {
                    match (k.as_str(), x) {
                        ("tags" | "versions", OrderedJson::Array(items)) => {
                            items.sort_by_cached_key(OrderedJson::dumps);
                        }
                        ("data_dir", x @ OrderedJson::String(_)) => {
                            *x = OrderedJson::String("<data-dir>".into());
                        }
                        _ => {}
                    }
                }
                OrderedJson::Object(out)
            }
            other => other.clone(),
        }
    }
}

/// What a body is, before normalisation: `None` when empty; `{"json": ...}`
/// when the content type mentions `json` (`{"unparsable-json": first 200
/// bytes}` if it does not parse); `{"error": title, "message": text}` for HTML
/// and plain text (the `<title>`, or a leading `NNN Reason` line; the message
/// is the text without tags, whitespace collapsed); otherwise `{"bytes": N,
/// "sha256": hex}`.
pub fn describe_body(content_type: &str, data: &[u8]) -> Option<OrderedJson> {
    if data.is_empty() {
        return None;
    }
    if content_type.contains("json") {
        return Some(match OrderedJson::from_slice(data) {
            Ok(v) => OrderedJson::Object(vec![("json".into(), v)]),
            Err(_) => {
                let head = String::from_utf8_lossy(&data[..data.len().min(200)]).into_owned();
                OrderedJson::Object(vec![("unparsable-json".into(), OrderedJson::String(head))])
            }
        });
    }
    if content_type.contains("html") || content_type.contains("text/plain") {
        let text = String::from_utf8_lossy(data);
        let title = TITLE_RE
            .captures(&text)
            .or_else(|| PLAIN_TITLE_RE.captures(&text));
        let error = match title.and_then(|c| c.get(1)) {
            Some(m) => OrderedJson::String(m.as_str().trim_matches(py_space).to_owned()),
            None => OrderedJson::Null,
        };
        let msg = TAG_RE.replace_all(&text, " ");
        let msg = msg
            .split(py_space)
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        return Some(OrderedJson::Object(vec![
            ("error".into(), error),
            ("message".into(), OrderedJson::String(msg)),
        ]));
    }
    Some(OrderedJson::Object(vec![
        ("bytes".into(), OrderedJson::Number(data.len().into())),
        (
            "sha256".into(),
            OrderedJson::String(hex::encode(Sha256::digest(data))),
        ),
    ]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        let mut n = Normaliser::new("sc", "http://127.0.0.1:9");
        let a = "5d3f0c5e-8f4e-4b43-9a64-0fd1c8c5a0d1";
        let b = "9e1f0c5e-8f4e-4b43-9a64-0fd1c8c5a0d1";
        assert_eq!(
            n.text(&format!("{a} {b} {a}")),
            "<uuid:1> <uuid:2> <uuid:1>"
        );
        assert_eq!(
            n.text("00000000-0000-4000-8000-000000000404"),
            "00000000-0000-4000-8000-000000000404"
        );
        assert_eq!(
            n.text("at 2026-11-22T05:22:36Z and 2026-11-22T05:22:36.123456+00:00"),
            "at <time> and <time>"
        );
        assert_eq!(n.text("2026-11-22T05:22:36.123Zabc"), "<time>.123Zabc");
        assert_eq!(n.text("sc-alice-project"), "alice-project");
        assert_eq!(n.text("http://127.0.0.1:9/v2/"), "<base>/v2/");
    }

    #[test]
    fn sorts_tags_by_json_text() {
        let mut n = Normaliser::new("sc", "http://x");
        let v = OrderedJson::from_slice(br#"{"tags": ["b", "a\"", "a"], "data_dir": "/tmp/x"}"#)
            .expect("JSON");
        assert_eq!(
            n.value(&v).dumps(),
            r#"{"tags": ["a", "a\"", "b"], "data_dir": "<data-dir>"}"#
        );
    }

    #[test]
    fn describes_bodies() {
        let plain = b"404 Not Found\n\nNo image found with ID x\n\n   ";
        assert_eq!(
            describe_body("text/plain; charset=UTF-8", plain).map(|v| v.dumps()),
            Some(r#"{"error": "404 Not Found", "message": "404 Not Found No image found with ID x"}"#.into())
        );
        let html = b"<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1>x</body></html>";
        assert_eq!(
            describe_body("text/html;charset=utf-8", html).map(|v| v.dumps()),
            Some(
                r#"{"error": "404 Not Found", "message": "404 Not Found 404 Not Found x"}"#.into()
            )
        );
        assert_eq!(describe_body("application/json", b""), None);
        assert_eq!(
            describe_body("application/octet-stream", b"abc").map(|v| v.dumps()),
            Some(
                r#"{"bytes": 3, "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}"#
                    .into()
            )
        );
    }
}
