//! The one test harness of the mock's integration tests, shared by both
//! test binaries (`tests/it`, `tests/binary`): callers ([`Who`]) and
//! answers ([`Answer`]), the router in-process ([`inproc`]), the server
//! over HTTP ([`http`]), the binary as a child process ([`process`]) and
//! visible skips ([`skip`]).

// Each binary uses its part of the harness.
#![allow(dead_code, unused_imports)]

pub mod http;
pub mod inproc;
#[cfg(feature = "bin")]
pub mod process;
pub mod skip;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;

/// Who calls: keystone-middleware headers.
#[derive(Debug, Clone, Copy)]
pub struct Who {
    /// `X-Roles`.
    pub roles: &'static str,
    /// `X-Project-Id` (in-process also `X-User-Id`; over HTTP the user is
    /// `<project>-user`).
    pub project: &'static str,
}

impl Who {
    pub const fn new(roles: &'static str, project: &'static str) -> Who {
        Who { roles, project }
    }
}

pub const ADMIN: Who = Who::new("admin,member,reader", "admin");
pub const ALICE: Who = Who::new("member,reader", "alice");
pub const BOB: Who = Who::new("member,reader", "bob");
/// A member of project `p`, the owner of most tests' images.
pub const OWNER: Who = Who::new("member,reader", "p");

/// An answer: status, headers, whole body.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    /// The body as JSON (`Null` if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// Status, headers and the body as text.
    pub fn parts(self) -> (StatusCode, HeaderMap, String) {
        let text = self.text();
        (self.status, self.headers, text)
    }

    /// The JSON error body's message, without webob's trailing template.
    pub fn message(&self) -> String {
        message(&self.json()).to_owned()
    }
}

/// A JSON error body's message, without webob's trailing template.
pub fn message(v: &Value) -> &str {
    v["message"]
        .as_str()
        .and_then(|m| m.strip_suffix("<br /><br />\n\n\n"))
        .unwrap_or_default()
}

/// `n` bytes of a fixed pattern.
pub fn data(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}
