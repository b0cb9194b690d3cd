//! Property-based fuzzing of the router in-process (no socket): JSON bodies
//! for create, JSON patches, list query strings, member bodies, and headers
//! (Range, Content-Range, Content-Type, X-Roles, sizes) on any path. For
//! every request: no panic, no answer >= 500, and when the answer is a 4xx
//! everything observable through the API (images, tags, members, bytes) is
//! as it was before.
//!
//! `GLANCE_FUZZ_CASES` sets the cases per target (default 200; the
//! figures in RELIABILITY.md come from longer runs).

use std::time::Instant;

use crate::harness::inproc::{ADMIN, ALICE, App, BOB, Who};
use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request};
use glance_mock_server::Config;
use proptest::prelude::*;
use proptest::test_runner::{Config as RunConfig, TestCaseError, TestRunner};
use serde_json::{Value, json};

/// A seeded deployment and the ids of its images.
struct World {
    app: App,
    /// Active private image of alice, with data and tags.
    active: String,
    /// Shared queued image of alice, bob a pending member.
    shared: String,
    /// Public image of alice, queued.
    public: String,
}

async fn world() -> World {
    let app = App::new(Config::default());
    let active = app
        .create(
            ALICE,
            json!({"name": "a", "disk_format": "raw", "container_format": "bare",
                   "tags": ["t1", "t2"], "color": "red"}),
        )
        .await;
    let up = app.upload(ALICE, &active, "0123456789abcdef").await;
    assert_eq!(up.status.as_u16(), 204, "{}", up.text());
    let shared = app.create(ALICE, json!({"visibility": "shared"})).await;
    let add = app
        .call(
            ALICE,
            Method::POST,
            &format!("/v2/images/{shared}/members"),
            Some(json!({"member": "bob"})),
        )
        .await;
    assert_eq!(add.status.as_u16(), 200, "{}", add.text());
    let public = app
        .create(ADMIN, json!({"visibility": "public", "owner": "alice"}))
        .await;
    World {
        app,
        active,
        shared,
        public,
    }
}

/// One fuzzed request, in parts the strategies fill in.
#[derive(Debug, Clone)]
struct Fuzzed {
    who: Caller,
    method: Method,
    /// Path with `{active}`, `{shared}`, `{public}` standing for seeded ids.
    path: String,
    query: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
}

#[derive(Debug, Clone)]
enum Caller {
    Known(Who),
    Odd { roles: String, project: String },
}

fn cases() -> u32 {
    std::env::var("GLANCE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200)
}

/// Run `strategy` through the router, checking every answer.
fn fuzz(name: &str, strategy: impl Strategy<Value = Fuzzed>) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let mut runner = TestRunner::new(RunConfig {
        cases: cases(),
        failure_persistence: None,
        ..RunConfig::default()
    });
    let started = Instant::now();
    let statuses = std::cell::RefCell::new(std::collections::BTreeMap::<u16, u32>::new());
    let result = runner.run(&strategy, |f| {
        let (status, unchanged) = rt.block_on(check(f))?;
        *statuses.borrow_mut().entry(status).or_default() += 1;
        if (400..500).contains(&status) {
            prop_assert!(unchanged, "state changed after a {status}");
        }
        Ok(())
    });
    eprintln!(
        "fuzz {name}: {} requests in {:.1?}, by status {:?}",
        statuses.borrow().values().sum::<u32>(),
        started.elapsed(),
        statuses.borrow()
    );
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
}

/// Send `f` to a fresh seeded deployment; its status, and whether the
/// state is as before.
async fn check(f: Fuzzed) -> Result<(u16, bool), TestCaseError> {
    let w = world().await;
    let path = f
        .path
        .replace("{active}", &w.active)
        .replace("{shared}", &w.shared)
        .replace("{public}", &w.public);
    let uri = if f.query.is_empty() {
        path
    } else {
        format!("{path}?{}", f.query)
    };
    let mut b = match &f.who {
        Caller::Known(who) => w.app.request(*who, f.method.clone(), "/"),
        Caller::Odd { roles, project } => Request::builder()
            .method(f.method.clone())
            .header("X-Identity-Status", "Confirmed")
            .header("X-Roles", roles.as_str())
            .header("X-Project-Id", project.as_str())
            .header("X-Auth-Token", "t"),
    };
    b = b.uri(uri.as_str());
    for (name, value) in &f.headers {
        // What a client cannot put on the wire, hyper never hands over.
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_bytes(value),
        ) {
            b = b.header(n, v);
        }
    }
    if !f.body.is_empty() && !f.headers.iter().any(|(n, _)| n == "content-length") {
        b = b.header("content-length", f.body.len());
    }
    let Ok(req) = b.body(Body::from(f.body.clone())) else {
        // Not a valid URI: never reaches a server.
        return Ok((400, true));
    };
    let before = w.app.snapshot().await;
    let answer = w.app.send(req).await;
    let status = answer.status.as_u16();
    prop_assert!(
        status < 500,
        "{} {uri} -> {status}: {}",
        f.method,
        answer.text()
    );
    let unchanged = if (400..500).contains(&status) {
        w.app.snapshot().await == before
    } else {
        true
    };
    Ok((status, unchanged))
}

// ---- strategies ----

fn caller() -> impl Strategy<Value = Caller> {
    prop_oneof![
        4 => prop_oneof![Just(ALICE), Just(BOB), Just(ADMIN), Just(Who { roles: "reader", project: "alice" })]
            .prop_map(Caller::Known),
        1 => (
            prop_oneof![Just(String::new()), "[a-z, _]{0,20}", Just("admin,,member".to_owned())],
            prop_oneof![Just(String::new()), "[a-z0-9-]{0,12}", Just("alice".to_owned())]
        )
            .prop_map(|(roles, project)| Caller::Odd { roles, project }),
    ]
}

/// `s`, or a long text for `"LONG"`.
fn long(s: &str) -> String {
    if s == "LONG" {
        "x".repeat(2000)
    } else {
        s.to_owned()
    }
}

/// Any JSON value, biased towards what Glance looks at.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        prop_oneof![Just(0u64), Just(u64::MAX), Just(1 << 53), Just(256)].prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,12}".prop_map(Value::String),
        prop_oneof![
            Just("public"),
            Just("private"),
            Just("shared"),
            Just("community"),
            Just("raw"),
            Just("qcow2"),
            Just("bare"),
            Just("active"),
            Just("queued"),
            Just("accepted"),
            Just("rejected"),
            Just("pending"),
            Just("bob"),
            Just("/name"),
            Just("../../etc"),
            Just("in:a,b"),
            Just("LONG"),
        ]
        .prop_map(|s| Value::String(long(s))),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Keys Glance's image schema knows, and some it does not.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "name", "visibility", "disk_format", "container_format", "min_disk", "min_ram",
            "protected", "tags", "id", "os_hidden", "owner", "status", "size", "virtual_size",
            "checksum", "os_hash_value", "locations", "direct_url", "self", "file", "schema",
            "created_at", "member", "op", "path", "value", "from", "kernel_id", "ramdisk_id",
            "os_glance_import_task", "stores", "type", "input",
        ])
        .prop_map(str::to_owned),
        1 => "[a-z_:]{1,10}",
        1 => ".{0,6}",
    ]
}

fn body_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => json_value().prop_map(|v| v.to_string().into_bytes()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
        1 => Just(b"{\"name\": \"a\", \"name\": 5}".to_vec()),
        1 => Just(b"[".repeat(200)),
        1 => Just(b"{\"name\": NaN}".to_vec()),
    ]
}

fn image_ref() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec!["{active}", "{shared}", "{public}"]).prop_map(str::to_owned),
        1 => Just(uuid::Uuid::new_v4().to_string()),
        1 => segment(),
    ]
}

/// A path segment as a client might send it: encoded text, or one of the
/// raw forms that upset routers.
fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        ".{0,10}".prop_map(|s| form_urlencoded::byte_serialize(s.as_bytes()).collect()),
        prop::sample::select(vec![
            "..",
            "%2e%2e",
            "%2F",
            "%00",
            "%FF",
            "%C3%A9",
            "a%20b",
            "%25",
            "~",
            "%2e%2e%2f%2e%2e",
            "....//",
            "LONG",
        ])
        .prop_map(long),
    ]
}

fn patch_op() -> impl Strategy<Value = Value> {
    let path = prop_oneof![
        6 => prop::sample::select(vec![
            "/name", "/tags", "/tags/0", "/tags/-", "/visibility", "/locations", "/locations/0",
            "/locations/-", "/min_disk", "/color", "/x~1y", "/~2", "/", "", "name", "/protected",
            "/os_hidden", "/status", "/id", "/owner", "/size", "/base", "/extra_properties",
            "/os_glance_x", "/name/0",
        ])
        .prop_map(|p| Value::String(p.to_owned())),
        1 => json_value(),
    ];
    let op = prop_oneof![
        6 => prop::sample::select(vec!["add", "remove", "replace", "move", "copy", "test", "ADD"])
            .prop_map(|o| Value::String(o.to_owned())),
        1 => json_value(),
    ];
    (op, path, prop::option::of(json_value()), any::<bool>()).prop_map(|(op, path, value, d4)| {
        let mut m = serde_json::Map::new();
        if d4 {
            // The old dialect: {"replace": "/name", "value": ...}
            if let Value::String(o) = &op {
                m.insert(o.clone(), path);
            }
        } else {
            m.insert("op".into(), op);
            m.insert("path".into(), path);
        }
        if let Some(v) = value {
            m.insert("value".into(), v);
        }
        Value::Object(m)
    })
}

fn patch_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => prop::collection::vec(patch_op(), 0..4).prop_map(|ops| Value::Array(ops).to_string().into_bytes()),
        1 => body_bytes(),
    ]
}

fn query() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        ".{0,12}",
        prop::sample::select(vec![
            "in:a,b",
            "in:\"a,b\"",
            "gte:2020-01-01T00:00:00Z",
            "lt:yesterday",
            "neq:x",
            "-1",
            "0",
            "1",
            "99999999999999999999",
            "name:asc,size:desc",
            "name:sideways",
            "asc",
            "desc",
            "true",
            "false",
            "all",
            "{active}",
            "{shared}",
            "nonsense:",
            "in:",
            "%",
        ])
        .prop_map(str::to_owned),
    ];
    let name = prop::sample::select(vec![
        "limit",
        "marker",
        "sort",
        "sort_key",
        "sort_dir",
        "name",
        "visibility",
        "status",
        "member_status",
        "size_min",
        "size_max",
        "tag",
        "owner",
        "created_at",
        "updated_at",
        "os_hidden",
        "protected",
        "container_format",
        "disk_format",
        "id",
        "color",
        "checksum",
        "os_hash_value",
        "store",
        "foo",
    ]);
    prop::collection::vec((name, value), 0..5).prop_map(|pairs| {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            q.append_pair(k, &v);
        }
        q.finish()
    })
}

fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        ".{0,16}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..16),
        prop::sample::select(vec![
            "bytes=0-4",
            "bytes=-",
            "bytes=-5",
            "bytes=5-",
            "bytes=5-2",
            "bytes=0-99999999999999999999",
            "bytes=0-1,3-4",
            "bytes 0-4/16",
            "bytes */16",
            "bytes 0-4/*",
            "bytes 20-30/16",
            "bytes=-0",
            "application/octet-stream",
            "application/json",
            "text/plain",
            "application/openstack-images-v2.1-json-patch",
            "application/openstack-images-v2.0-json-patch",
            "0",
            "-1",
            "18446744073709551616",
            "chunked",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
    ]
}

fn headers() -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    let name = prop::sample::select(vec![
        "range",
        "content-range",
        "content-type",
        "x-roles",
        "x-project-id",
        "x-image-meta-store",
        "x-openstack-request-id",
        "accept",
        "x-service-catalog",
        "x-tenant-id",
        "x-identity-status",
        "content-md5",
        "x-image-meta-size",
        "x-openstack-append",
    ]);
    prop::collection::vec((name.prop_map(str::to_owned), header_value()), 0..4)
}

fn request(
    method: impl Strategy<Value = Method>,
    path: impl Strategy<Value = String>,
    query: impl Strategy<Value = String>,
    headers: impl Strategy<Value = Vec<(String, Vec<u8>)>>,
    body: impl Strategy<Value = Vec<u8>>,
) -> impl Strategy<Value = Fuzzed> {
    (caller(), method, path, query, headers, body).prop_map(
        |(who, method, path, query, headers, body)| Fuzzed {
            who,
            method,
            path,
            query,
            headers,
            body,
        },
    )
}

#[test]
fn create_bodies() {
    let ctype = prop::option::of(header_value()).prop_map(|c| {
        vec![(
            "content-type".to_owned(),
            c.unwrap_or_else(|| b"application/json".to_vec()),
        )]
    });
    let body = prop_oneof![
        3 => prop::collection::btree_map(key(), json_value(), 0..6)
            .prop_map(|m| Value::Object(m.into_iter().collect()).to_string().into_bytes()),
        1 => body_bytes(),
    ];
    fuzz(
        "create bodies",
        request(
            Just(Method::POST),
            Just("/v2/images".to_owned()),
            Just(String::new()),
            ctype,
            body,
        ),
    );
}

#[test]
fn patches() {
    let ctype = prop_oneof![
        6 => Just(b"application/openstack-images-v2.1-json-patch".to_vec()),
        1 => header_value(),
    ]
    .prop_map(|c| vec![("content-type".to_owned(), c)]);
    fuzz(
        "patches",
        request(
            Just(Method::PATCH),
            image_ref().prop_map(|id| format!("/v2/images/{id}")),
            Just(String::new()),
            ctype,
            patch_body(),
        ),
    );
}

#[test]
fn list_queries() {
    let path = prop::sample::select(vec![
        "/v2/images",
        "/v2/tasks",
        "/v2/metadefs/namespaces",
        "/v2/images/{shared}/members",
    ])
    .prop_map(str::to_owned);
    fuzz(
        "list queries",
        request(
            Just(Method::GET),
            path,
            query(),
            Just(Vec::new()),
            Just(Vec::new()),
        ),
    );
}

#[test]
fn member_changes() {
    let path = (
        image_ref(),
        prop_oneof![
            Just(String::new()),
            Just("/bob".to_owned()),
            Just("/alice".to_owned()),
            segment().prop_map(|s| format!("/{s}"))
        ],
    )
        .prop_map(|(id, m)| format!("/v2/images/{id}/members{m}"));
    let method = prop::sample::select(vec![Method::POST, Method::PUT, Method::DELETE, Method::GET]);
    let body = prop_oneof![
        2 => Just(Vec::new()),
        3 => (prop::sample::select(vec!["member", "status"]), json_value())
            .prop_map(|(k, v)| json!({ k: v }).to_string().into_bytes()),
        1 => body_bytes(),
    ];
    let ctype = Just(vec![(
        "content-type".to_owned(),
        b"application/json".to_vec(),
    )]);
    fuzz(
        "member changes",
        request(method, path, Just(String::new()), ctype, body),
    );
}

#[test]
fn headers_on_data_and_anything() {
    let method = prop::sample::select(vec![
        Method::GET,
        Method::PUT,
        Method::HEAD,
        Method::DELETE,
        Method::POST,
        Method::PATCH,
        Method::TRACE,
        Method::OPTIONS,
        Method::CONNECT,
    ]);
    let path = prop_oneof![
        4 => image_ref().prop_map(|id| format!("/v2/images/{id}/file")),
        1 => image_ref().prop_map(|id| format!("/v2/images/{id}/stage")),
        1 => image_ref().prop_map(|id| format!("/v2/images/{id}")),
        1 => (image_ref(), segment()).prop_map(|(id, t)| format!("/v2/images/{id}/tags/{t}")),
        1 => (segment(), segment()).prop_map(|(a, b)| format!("/v2/{a}/{b}")),
        1 => image_ref().prop_map(|id| format!("/v2/images/{id}/actions/deactivate")),
        1 => image_ref().prop_map(|id| format!("/v2/images/{id}/import")),
    ];
    let body = prop_oneof![
        3 => Just(Vec::new()),
        3 => prop::collection::vec(any::<u8>(), 0..40),
        1 => body_bytes(),
    ];
    fuzz(
        "headers and paths",
        request(method, path, Just(String::new()), headers(), body),
    );
}
