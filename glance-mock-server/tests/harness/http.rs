//! The mock over HTTP (a socket, reqwest): in-process ([`Api::start`]) or
//! another process ([`Api::remote`]).

use glance_mock_server::{Config, MockServer};
use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};

pub use super::{ADMIN, ALICE, Answer, BOB, OWNER, Who, data, message};

pub struct Api {
    /// The in-process server; `None` when talking to another process.
    handle: Option<MockServer>,
    pub http: Client,
    pub base: String,
    /// Who [`Api::owner`] and the image helpers act as.
    pub who: Who,
}

impl Api {
    /// A mock with the default configuration.
    pub async fn start() -> Api {
        Api::with(Config::default()).await
    }

    pub async fn with(config: Config) -> Api {
        let server = MockServer::builder()
            .config(config)
            .start()
            .await
            .expect("mock server starts");
        Api {
            base: server.url(),
            handle: Some(server),
            http: Client::new(),
            who: OWNER,
        }
    }

    pub async fn from_toml(text: &str) -> Api {
        Api::with(Config::from_toml(text).expect("valid configuration")).await
    }

    /// An API at `base`, served by another process.
    pub fn remote(base: String) -> Api {
        Api {
            handle: None,
            http: Client::new(),
            base,
            who: OWNER,
        }
    }

    /// The same API, its helpers acting as `who` (instead of [`OWNER`]).
    pub fn acting_as(mut self, who: Who) -> Api {
        self.who = who;
        self
    }

    /// The same API through a client that does not follow redirects.
    pub fn without_redirects(mut self) -> Api {
        self.http = Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("HTTP client");
        self
    }

    pub fn server(&self) -> &MockServer {
        self.handle.as_ref().expect("an in-process server")
    }

    /// A request with no identity and no `Accept`.
    pub fn anon(&self, method: Method, path: &str) -> RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }

    /// A request as `who` (user `<project>-user`), with no `Accept`.
    pub fn identified(&self, who: Who, method: Method, path: &str) -> RequestBuilder {
        self.anon(method, path)
            .header("X-Identity-Status", "Confirmed")
            .header("X-Roles", who.roles)
            .header("X-Project-Id", who.project)
            .header("X-User-Id", format!("{}-user", who.project))
            .header("X-Auth-Token", "t")
    }

    /// A request as `who` (user `<project>-user`), with JSON `Accept`.
    pub fn req(&self, who: Who, method: Method, path: &str) -> RequestBuilder {
        self.identified(who, method, path)
            .header("Accept", "application/json")
    }

    /// A request as the acting caller ([`OWNER`], a member of project
    /// `p`, unless [`Api::acting_as`] chose another).
    pub fn owner(&self, method: Method, path: &str) -> RequestBuilder {
        self.req(self.who, method, path)
    }

    /// A request as [`ADMIN`].
    pub fn admin(&self, method: Method, path: &str) -> RequestBuilder {
        self.req(ADMIN, method, path)
    }

    /// A control request (no identity needed).
    pub fn control(&self, method: Method, path: &str) -> RequestBuilder {
        self.anon(method, &format!("/_mock{path}"))
            .header("Accept", "application/json")
    }

    /// `req` sent: status, headers, whole body.
    pub async fn send(&self, req: RequestBuilder) -> Answer {
        let resp = req.send().await.expect("request answered");
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = resp.bytes().await.expect("body");
        Answer {
            status,
            headers,
            body,
        }
    }

    /// A request as `who`, with `body` as JSON if any, sent.
    pub async fn call(&self, who: Who, method: Method, path: &str, body: Option<Value>) -> Answer {
        let req = self.req(who, method, path);
        let req = match body {
            Some(b) => req.json(&b),
            None => req,
        };
        self.send(req).await
    }

    /// [`Api::call`]: status and body as JSON (`Null` if it is not).
    pub async fn call_json(
        &self,
        who: Who,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let a = self.call(who, method, path, body).await;
        (a.status, a.json())
    }

    /// `req` sent: its status.
    pub async fn status(&self, req: RequestBuilder) -> StatusCode {
        self.send(req).await.status
    }

    /// `req` sent, which must be answered `want`: the body as JSON.
    pub async fn expect_json(&self, req: RequestBuilder, want: StatusCode) -> Value {
        let a = self.send(req).await;
        assert_eq!(a.status, want, "{}", a.text());
        a.json()
    }

    /// `req` sent: status and body as JSON (`Null` if it is not).
    pub async fn json(&self, req: RequestBuilder) -> (StatusCode, Value) {
        let a = self.send(req).await;
        (a.status, a.json())
    }

    /// `POST /v2/images` of `body` as `who`; the new id.
    pub async fn create_as(&self, who: Who, body: Value) -> String {
        let a = self.call(who, Method::POST, "/v2/images", Some(body)).await;
        assert_eq!(a.status, StatusCode::CREATED, "{}", a.text());
        a.json()["id"].as_str().expect("id").to_owned()
    }

    /// `POST /v2/images` of `body` as the acting caller; the new id.
    pub async fn create(&self, body: Value) -> String {
        self.create_as(self.who, body).await
    }

    /// A `bare` image of `disk_format` owned by the acting caller; its id.
    pub async fn create_format(&self, disk_format: &str) -> String {
        self.create(json!({"disk_format": disk_format, "container_format": "bare"}))
            .await
    }

    /// `PUT /v2/images/{id}/{what}` (`file` or `stage`) of `data` as
    /// the acting caller.
    pub async fn put(&self, id: &str, what: &str, data: impl Into<reqwest::Body>) -> Answer {
        let req = self
            .owner(Method::PUT, &format!("/v2/images/{id}/{what}"))
            .header("Content-Type", "application/octet-stream")
            .body(data);
        self.send(req).await
    }

    /// [`Api::put`], which must be accepted (204).
    pub async fn put_data(&self, id: &str, what: &str, data: impl Into<reqwest::Body>) {
        let a = self.put(id, what, data).await;
        assert_eq!(a.status, StatusCode::NO_CONTENT, "PUT {what}: {}", a.text());
    }

    /// An active raw image holding `data`, owned by the acting caller.
    pub async fn image_with(&self, data: impl Into<reqwest::Body>) -> String {
        let id = self.create_format("raw").await;
        self.put_data(&id, "file", data).await;
        id
    }

    /// `GET /v2/images/{id}` as the acting caller: the body as JSON.
    pub async fn show(&self, id: &str) -> Value {
        self.json(self.owner(Method::GET, &format!("/v2/images/{id}")))
            .await
            .1
    }

    /// `GET /v2/images/{id}/file` as the acting caller.
    pub async fn download(&self, id: &str) -> Answer {
        self.send(self.owner(Method::GET, &format!("/v2/images/{id}/file")))
            .await
    }

    /// The ids of the images the acting caller lists.
    pub async fn image_ids(&self) -> Vec<String> {
        let (status, body) = self.json(self.owner(Method::GET, "/v2/images")).await;
        assert_eq!(status, StatusCode::OK);
        body["images"]
            .as_array()
            .expect("images")
            .iter()
            .map(|i| i["id"].as_str().expect("id").to_owned())
            .collect()
    }

    /// `GET /_mock/state?data={mode}`.
    pub async fn dump(&self, mode: &str) -> Value {
        let (status, body) = self
            .json(self.control(Method::GET, &format!("/state?data={mode}")))
            .await;
        assert_eq!(status, StatusCode::OK);
        body
    }

    /// `POST /_mock/state` of `seed`.
    pub async fn load(&self, seed: &Value) -> (StatusCode, Value) {
        self.json(self.control(Method::POST, "/state").json(seed))
            .await
    }

    /// `POST /_mock/faults` of `rule`; the rule's id.
    pub async fn add_fault(&self, rule: Value) -> String {
        let (status, body) = self
            .json(self.control(Method::POST, "/faults").json(&rule))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().expect("rule id").to_owned()
    }

    /// The request journal (`GET /_mock/requests`).
    pub async fn journal(&self) -> Vec<Value> {
        let (_, body) = self.json(self.control(Method::GET, "/requests")).await;
        body["requests"].as_array().cloned().unwrap_or_default()
    }
}

/// `method <base><path>` with `token` as `X-Auth-Token` (if any), a JSON
/// body (if any) and JSON accepted: the status and the body as JSON (`Null`
/// when empty or not JSON). The token-based call of the tests that log in
/// through the shim (the control plane's guard, the identity admin API),
/// where [`Api`]'s keystone-middleware headers do not apply.
pub async fn token_call(
    http: &Client,
    base: &str,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    let mut req = http
        .request(method, format!("{base}{path}"))
        .header("Accept", "application/json");
    if let Some(token) = token {
        req = req.header("X-Auth-Token", token);
    }
    if let Some(body) = body {
        req = req.json(body);
    }
    let resp = req.send().await.expect("request answered");
    let status = resp.status();
    let text = resp.text().await.expect("body");
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}
