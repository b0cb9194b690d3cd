//! The router in-process (no socket) and snapshots of what it holds, for
//! the reliability tests (fuzz, limits, concurrency, crashes).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::http::{Method, Request, StatusCode};
use glance_mock_server::Config;
use glance_mock_server::control::{DataMode, StateDump};
use glance_mock_server::domain::metadefs::Tables;
use glance_mock_server::state::AppState;
use serde_json::Value;
use tower::ServiceExt;

pub use super::{ADMIN, ALICE, Answer, BOB, Who};

/// The API router over its own state.
#[derive(Clone)]
pub struct App {
    pub router: Router,
    pub state: Arc<AppState>,
}

impl App {
    pub fn new(config: Config) -> App {
        let state = Arc::new(AppState::new(config));
        App {
            router: glance_mock_server::router(state.clone()),
            state,
        }
    }

    /// A request as `who`, with JSON `Accept`.
    pub fn request(&self, who: Who, method: Method, uri: &str) -> axum::http::request::Builder {
        Request::builder()
            .method(method)
            .uri(uri)
            .header("X-Identity-Status", "Confirmed")
            .header("X-Roles", who.roles)
            .header("X-Project-Id", who.project)
            .header("X-User-Id", who.project)
            .header("X-Auth-Token", "t")
            .header("Accept", "application/json")
    }

    pub async fn send(&self, req: Request<Body>) -> Answer {
        let resp = self
            .router
            .clone()
            .oneshot(req)
            .await
            .unwrap_or_else(|e| match e {});
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = to_bytes(resp.into_body(), usize::MAX)
            .await
            .expect("body readable");
        Answer {
            status,
            headers,
            body,
        }
    }

    pub async fn call(&self, who: Who, method: Method, uri: &str, body: Option<Value>) -> Answer {
        let ctype = if method == Method::PATCH {
            "application/openstack-images-v2.1-json-patch"
        } else {
            "application/json"
        };
        let b = self.request(who, method, uri);
        let req = match body {
            Some(v) => {
                let text = v.to_string();
                b.header("Content-Type", ctype)
                    .header("Content-Length", text.len())
                    .body(Body::from(text))
            }
            None => b.body(Body::empty()),
        }
        .expect("request");
        self.send(req).await
    }

    /// `POST /v2/images` as `who`; the new id.
    pub async fn create(&self, who: Who, body: Value) -> String {
        let a = self.call(who, Method::POST, "/v2/images", Some(body)).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
        a.json()["id"].as_str().expect("id").to_owned()
    }

    /// `PUT /v2/images/{id}/file` as `who`.
    pub async fn upload(&self, who: Who, id: &str, data: impl Into<Bytes>) -> Answer {
        let data: Bytes = data.into();
        let req = self
            .request(who, Method::PUT, &format!("/v2/images/{id}/file"))
            .header("Content-Type", "application/octet-stream")
            .header("Content-Length", data.len())
            .body(Body::from(data))
            .expect("request");
        self.send(req).await
    }

    /// Everything a rejected request must leave alone: every image as admin
    /// sees it (all fields, tags included), its members and its bytes, then
    /// the whole state as the control plane dumps it, and metadefs.
    pub async fn snapshot(&self) -> Snapshot {
        let mut images = BTreeMap::new();
        let mut uri = "/v2/images?limit=1000&member_status=all".to_owned();
        loop {
            let page = self.call(ADMIN, Method::GET, &uri, None).await;
            assert_eq!(page.status, StatusCode::OK, "{}", page.text());
            let v = page.json();
            for img in v["images"].as_array().into_iter().flatten() {
                let id = img["id"].as_str().expect("id").to_owned();
                images.insert(id, img.clone());
            }
            match v["next"].as_str() {
                Some(next) => uri = next.to_owned(),
                None => break,
            }
        }
        let mut members = BTreeMap::new();
        let mut data = BTreeMap::new();
        for (id, img) in &images {
            let m = self
                .call(
                    ADMIN,
                    Method::GET,
                    &format!("/v2/images/{id}/members"),
                    None,
                )
                .await;
            members.insert(id.clone(), (m.status.as_u16(), m.json()));
            if img["status"] == "active" {
                let d = self
                    .call(ADMIN, Method::GET, &format!("/v2/images/{id}/file"), None)
                    .await;
                data.insert(id.clone(), (d.status.as_u16(), d.body));
            }
        }
        // And what the API does not show: deleted rows, tasks, staged and
        // per-store data (the control plane's dump), and metadefs.
        let dump = glance_mock_server::app::control::dump(&self.state, DataMode::Inline)
            .await
            .expect("dump");
        let metadefs = Tables::clone(&self.state.repo.metadefs.snapshot().expect("metadefs"));
        Snapshot {
            images,
            members,
            data,
            dump,
            metadefs,
        }
    }
}

/// What [`App::snapshot`] saw.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    pub images: BTreeMap<String, Value>,
    pub members: BTreeMap<String, (u16, Value)>,
    pub data: BTreeMap<String, (u16, Bytes)>,
    pub dump: StateDump,
    pub metadefs: Tables,
}
