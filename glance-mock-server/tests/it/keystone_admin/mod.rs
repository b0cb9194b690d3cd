//! The Keystone shim's identity admin API over plain HTTP, as Tempest's
//! dynamic credentials use it: each call, Keystone 30's default policies
//! per persona (admin, member, reader, the user itself, system scope),
//! errors, tokens invalidated on deletion, and the identities in
//! `/_mock/reset` and `/_mock/state`. Grants and system scope: [`grants`]. Expected bodies were probed on the
//! reference Keystone 30 (`shared/real-keystone`).

use glance_mock_server::{Config, MockServer};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::harness::http::token_call;

mod grants;

struct Shim {
    server: MockServer,
    http: reqwest::Client,
}

impl Shim {
    async fn start() -> Shim {
        let config = Config {
            require_auth: true,
            ..Config::default()
        };
        let server = MockServer::builder()
            .config(config)
            .start()
            .await
            .expect("mock starts");
        Shim {
            server,
            http: reqwest::Client::new(),
        }
    }

    fn v3(&self, path: &str) -> String {
        format!("{}/v3{path}", self.server.identity_url())
    }

    /// A call to the shim's `/v3{path}`: status and JSON body (`Null` when empty).
    async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let base = format!("{}/v3", self.server.identity_url());
        token_call(&self.http, &base, method, path, token, body.as_ref()).await
    }

    async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, Some(token), None).await
    }

    /// A password token; `scope` as in the request body.
    async fn token(&self, user: Value, password: &str, scope: Option<Value>) -> Option<String> {
        let mut user = user;
        user["password"] = json!(password);
        let mut auth = json!({"identity": {"methods": ["password"], "password": {"user": user}}});
        if let Some(s) = scope {
            auth["scope"] = s;
        }
        let resp = self
            .http
            .post(self.v3("/auth/tokens"))
            .json(&json!({ "auth": auth }))
            .send()
            .await
            .expect("token request");
        (resp.status() == StatusCode::CREATED)
            .then(|| {
                resp.headers()
                    .get("x-subject-token")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned)
            })
            .flatten()
    }

    async fn login(&self, user: &str, project: &str) -> String {
        self.token(
            json!({"name": user, "domain": {"name": "Default"}}),
            &format!("{user}-secret"),
            Some(json!({"project": {"name": project, "domain": {"name": "Default"}}})),
        )
        .await
        .expect("configured user logs in")
    }

    async fn system_admin(&self) -> String {
        self.token(
            json!({"id": "admin"}),
            "admin-secret",
            Some(json!({"system": {"all": true}})),
        )
        .await
        .expect("system-scoped token")
    }

    async fn images(&self, token: &str) -> StatusCode {
        self.http
            .get(format!("{}/v2/images", self.server.url()))
            .header("X-Auth-Token", token)
            .send()
            .await
            .expect("images")
            .status()
    }
}

/// The member role's id among a `roles` list.
fn roles_member(list: &Value) -> String {
    list["roles"]
        .as_array()
        .and_then(|r| r.iter().find(|r| r["name"] == "member"))
        .and_then(|r| r["id"].as_str())
        .unwrap_or_default()
        .to_owned()
}

fn policy(rule: &str) -> Value {
    json!({"error": {"code": 403, "title": "Forbidden",
        "message": format!("You are not authorized to perform the requested action: identity:{rule}.")}})
}

fn not_found(what: &str, id: &str) -> Value {
    json!({"error": {"code": 404, "title": "Not Found",
        "message": format!("Could not find {what}: {id}.")}})
}

/// What Tempest's credential provider does per class: a project, a user
/// with a password, a role on the project, then a token by ids.
async fn provision(shim: &Shim, admin: &str, name: &str, role: &str) -> (String, String, String) {
    let (status, p) = shim
        .call(
            Method::POST,
            "/projects",
            Some(admin),
            Some(json!({"project": {"name": name, "domain_id": "default", "description": "tempest"}})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{p}");
    let project = p["project"]["id"].as_str().expect("id").to_owned();
    let (status, u) = shim
        .call(
            Method::POST,
            "/users",
            Some(admin),
            Some(
                json!({"user": {"name": name, "password": "pw", "project_id": project,
                "email": format!("{name}@example.com"), "domain_id": "default"}}),
            ),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{u}");
    let user = u["user"]["id"].as_str().expect("id").to_owned();
    let (_, roles) = shim.get(&format!("/roles?name={role}"), admin).await;
    let role_id = roles["roles"][0]["id"].as_str().expect("role").to_owned();
    let (status, _) = shim
        .call(
            Method::PUT,
            &format!("/projects/{project}/users/{user}/roles/{role_id}"),
            Some(admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let token = shim
        .token(
            json!({"id": user, "domain": {"id": "default"}}),
            "pw",
            Some(json!({"project": {"id": project, "domain": {"id": "default"}}})),
        )
        .await
        .expect("new user logs in");
    (project, user, token)
}

#[tokio::test]
async fn domains_lookup_by_name_and_id() {
    let shim = Shim::start().await;
    let admin = shim.login("admin", "admin").await;
    let (status, body) = shim.get("/domains?name=Default", &admin).await;
    assert_eq!(status, StatusCode::OK);
    let base = shim.server.identity_url();
    assert_eq!(
        body,
        json!({"domains": [{"id": "default", "name": "Default", "description": "The default domain",
            "enabled": true, "tags": [], "options": {},
            "links": {"self": format!("{base}/v3/domains/default")}}],
            "links": {"next": null, "self": format!("{base}/v3/domains?name=Default"), "previous": null}})
    );
    let (_, none) = shim.get("/domains?name=Nope", &admin).await;
    assert_eq!(none["domains"], json!([]));
    let demo = shim.login("demo", "demo").await;
    assert_eq!(
        shim.get("/domains?name=Default", &demo).await,
        (StatusCode::FORBIDDEN, policy("list_domains"))
    );
    // A project's token may read its project's domain.
    let (status, d) = shim.get("/domains/default", &demo).await;
    assert_eq!(
        (status, &d["domain"]["name"]),
        (StatusCode::OK, &json!("Default"))
    );
    assert_eq!(
        shim.get("/domains/nope", &admin).await,
        (StatusCode::NOT_FOUND, not_found("domain", "nope"))
    );
    let (status, _) = shim.call(Method::GET, "/domains", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn projects_create_get_list_delete_with_keystones_policy() {
    let shim = Shim::start().await;
    let admin = shim.login("admin", "admin").await;
    let demo = shim.login("demo", "demo").await;
    let body = json!({"project": {"name": "p1", "description": "d"}});
    let (status, p) = shim
        .call(Method::POST, "/projects", Some(&admin), Some(body.clone()))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let p = &p["project"];
    let id = p["id"].as_str().expect("id");
    assert_eq!(id.len(), 32);
    for (k, v) in [
        ("name", json!("p1")),
        ("domain_id", json!("default")),
        ("parent_id", json!("default")),
        ("description", json!("d")),
        ("enabled", json!(true)),
        ("is_domain", json!(false)),
        ("tags", json!([])),
        ("options", json!({})),
    ] {
        assert_eq!(p[k], v, "{k}");
    }
    let (status, dup) = shim
        .call(Method::POST, "/projects", Some(&admin), Some(body.clone()))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        dup["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("same name or same id in the same domain: name is p1")),
        "{dup}"
    );
    assert_eq!(
        shim.call(
            Method::POST,
            "/projects",
            Some(&demo),
            Some(json!({"project": {"name": "x"}}))
        )
        .await,
        (StatusCode::FORBIDDEN, policy("create_project"))
    );
    let (status, bad) = shim
        .call(
            Method::POST,
            "/projects",
            Some(&admin),
            Some(json!({"project": {}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad["error"]["message"],
        "Invalid input for field/attribute project. Value: {}. 'name' is a required property"
    );
    let (status, bad) = shim
        .call(
            Method::POST,
            "/projects",
            Some(&admin),
            Some(json!({"project": {"name": "x", "domain_id": "nope"}})),
        )
        .await;
    assert_eq!(
        (status, &bad["error"]["message"]),
        (
            StatusCode::BAD_REQUEST,
            &json!("Could not find domain: nope.")
        )
    );

    // Admin reads any project; a member reads its own only, 403 even on a missing one.
    assert_eq!(
        shim.get(&format!("/projects/{id}"), &admin).await.0,
        StatusCode::OK
    );
    assert_eq!(shim.get("/projects/demo", &demo).await.0, StatusCode::OK);
    assert_eq!(
        shim.get(&format!("/projects/{id}"), &demo).await,
        (StatusCode::FORBIDDEN, policy("get_project"))
    );
    assert_eq!(
        shim.get("/projects/nope", &demo).await,
        (StatusCode::FORBIDDEN, policy("get_project"))
    );
    assert_eq!(
        shim.get("/projects/nope", &admin).await,
        (StatusCode::NOT_FOUND, not_found("project", "nope"))
    );
    let (_, list) = shim.get("/projects?name=p1", &admin).await;
    assert_eq!(list["projects"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        shim.get("/projects", &demo).await,
        (StatusCode::FORBIDDEN, policy("list_projects"))
    );

    assert_eq!(
        shim.call(
            Method::DELETE,
            &format!("/projects/{id}"),
            Some(&demo),
            None
        )
        .await,
        (StatusCode::FORBIDDEN, policy("delete_project"))
    );
    let (status, _) = shim
        .call(
            Method::DELETE,
            &format!("/projects/{id}"),
            Some(&admin),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        shim.call(
            Method::DELETE,
            &format!("/projects/{id}"),
            Some(&admin),
            None
        )
        .await,
        (StatusCode::NOT_FOUND, not_found("project", id))
    );
}

#[tokio::test]
async fn users_create_get_list_delete_with_keystones_policy() {
    let shim = Shim::start().await;
    let admin = shim.login("admin", "admin").await;
    let demo = shim.login("demo", "demo").await;
    let body = json!({"user": {"name": "u1", "password": "pw1", "email": "a@b"}});
    let (status, u) = shim
        .call(Method::POST, "/users", Some(&admin), Some(body.clone()))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let u = &u["user"];
    let id = u["id"].as_str().expect("id").to_owned();
    assert_eq!(u["email"], "a@b");
    assert_eq!(u["domain_id"], "default");
    assert_eq!(u["enabled"], true);
    assert_eq!(u["password_expires_at"], Value::Null);
    assert!(u.get("password").is_none());
    let (status, dup) = shim
        .call(Method::POST, "/users", Some(&admin), Some(body))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(
        dup["error"]["message"],
        "Conflict occurred attempting to store user - Duplicate entry found with name u1 at domain ID default."
    );
    let (status, bad) = shim
        .call(
            Method::POST,
            "/users",
            Some(&admin),
            Some(json!({"user": {"name": "u2", "password": 5}})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        bad["error"]["message"],
        "Invalid input for field/attribute password. Value: 5. 5 is not of type 'string', 'null'"
    );
    assert_eq!(
        shim.call(
            Method::POST,
            "/users",
            Some(&admin),
            Some(json!({"user": {"name": "u3", "domain_id": "nope"}}))
        )
        .await,
        (StatusCode::NOT_FOUND, not_found("domain", "nope"))
    );
    assert_eq!(
        shim.call(
            Method::POST,
            "/users",
            Some(&demo),
            Some(json!({"user": {"name": "u4"}}))
        )
        .await,
        (StatusCode::FORBIDDEN, policy("create_user"))
    );
    let (status, _) = shim
        .call(Method::POST, "/users", Some(&admin), Some(json!("xx")))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // A user reads itself, not others.
    assert_eq!(shim.get("/users/demo", &demo).await.0, StatusCode::OK);
    assert_eq!(
        shim.get("/users/alt", &demo).await,
        (StatusCode::FORBIDDEN, policy("get_user"))
    );
    assert_eq!(
        shim.get("/users/nope", &admin).await,
        (StatusCode::NOT_FOUND, not_found("user", "nope"))
    );
    assert_eq!(
        shim.get(&format!("/users/{id}"), &admin).await.1["user"]["name"],
        "u1"
    );
    assert_eq!(
        shim.get("/users?name=u1", &admin).await.1["users"][0]["id"],
        json!(id)
    );
    assert_eq!(
        shim.get("/users", &demo).await,
        (StatusCode::FORBIDDEN, policy("list_users"))
    );

    assert_eq!(
        shim.call(Method::DELETE, &format!("/users/{id}"), Some(&demo), None)
            .await,
        (StatusCode::FORBIDDEN, policy("delete_user"))
    );
    assert_eq!(
        shim.call(Method::DELETE, &format!("/users/{id}"), Some(&admin), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        shim.get(&format!("/users/{id}"), &admin).await.0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn roles_list_and_lookup_by_name() {
    let shim = Shim::start().await;
    let admin = shim.login("admin", "admin").await;
    let (status, all) = shim.get("/roles", &admin).await;
    assert_eq!(status, StatusCode::OK);
    let names: Vec<&str> = all["roles"]
        .as_array()
        .expect("roles")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    for r in ["admin", "member", "reader", "manager", "service"] {
        assert!(names.contains(&r), "{r}");
    }
    let (_, member) = shim.get("/roles?name=member", &admin).await;
    let m = &member["roles"][0];
    assert_eq!(
        (m["name"].as_str(), &m["domain_id"], &m["options"]),
        (Some("member"), &Value::Null, &json!({"immutable": true}))
    );
    let id = m["id"].as_str().expect("id");
    assert_eq!(
        shim.get(&format!("/roles/{id}"), &admin).await.1["role"]["name"],
        "member"
    );
    assert_eq!(
        shim.get("/roles/nope", &admin).await,
        (StatusCode::NOT_FOUND, not_found("role", "nope"))
    );
    let reader = shim.login("demo", "demo").await;
    assert_eq!(
        shim.get("/roles", &reader).await,
        (StatusCode::FORBIDDEN, policy("list_roles"))
    );
    // A system reader may list them.
    let system = shim.system_admin().await;
    assert_eq!(
        shim.get("/roles?name=member", &system).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn new_users_get_tokens_that_the_image_api_knows() {
    let shim = Shim::start().await;
    let admin = shim.login("admin", "admin").await;
    let (project, user, token) = provision(&shim, &admin, "tempest-1", "member").await;
    assert_eq!(shim.images(&token).await, StatusCode::OK);
    // Its image is owned by the new project, and another member cannot see it.
    let resp = shim
        .http
        .post(format!("{}/v2/images", shim.server.url()))
        .header("X-Auth-Token", &token)
        .json(&json!({"name": "mine"}))
        .send()
        .await
        .expect("create");
    assert_eq!(resp.status(), StatusCode::CREATED);
    let image: Value = resp.json().await.expect("image");
    assert_eq!(image["owner"], json!(project));
    let demo = shim.login("demo", "demo").await;
    let seen = shim
        .http
        .get(format!(
            "{}/v2/images/{}",
            shim.server.url(),
            image["id"].as_str().expect("id")
        ))
        .header("X-Auth-Token", &demo)
        .send()
        .await
        .expect("show");
    assert_eq!(seen.status(), StatusCode::NOT_FOUND);

    // The new user reads itself and its project, nothing more.
    assert_eq!(
        shim.get(&format!("/users/{user}"), &token).await.0,
        StatusCode::OK
    );
    assert_eq!(
        shim.get(&format!("/projects/{project}"), &token).await.0,
        StatusCode::OK
    );
    assert_eq!(
        shim.get("/projects/demo", &token).await.0,
        StatusCode::FORBIDDEN
    );

    // A token by user name and domain name, project by name and domain id.
    let by_name = shim
        .token(
            json!({"name": "tempest-1", "domain": {"name": "Default"}}),
            "pw",
            Some(json!({"project": {"name": "tempest-1", "domain": {"id": "default"}}})),
        )
        .await;
    assert!(by_name.is_some());
    // No role on another project: 401.
    let elsewhere = shim
        .token(
            json!({"id": user}),
            "pw",
            Some(json!({"project": {"id": "demo"}})),
        )
        .await;
    assert!(elsewhere.is_none());
}

#[tokio::test]
async fn deleting_a_user_or_project_invalidates_its_tokens() {
    let shim = Shim::start().await;
    let admin = shim.login("admin", "admin").await;
    let (_, user, token) = provision(&shim, &admin, "gone-user", "member").await;
    assert_eq!(shim.images(&token).await, StatusCode::OK);
    shim.call(
        Method::DELETE,
        &format!("/users/{user}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(shim.images(&token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        shim.get("/domains/default", &token).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert!(shim.token(json!({"id": user}), "pw", None).await.is_none());

    let (project, _, token) = provision(&shim, &admin, "gone-project", "reader").await;
    assert_eq!(shim.images(&token).await, StatusCode::OK);
    shim.call(
        Method::DELETE,
        &format!("/projects/{project}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(shim.images(&token).await, StatusCode::UNAUTHORIZED);

    // Revoking the grant the token stood on does the same.
    let (project, user, token) = provision(&shim, &admin, "gone-grant", "member").await;
    let (_, roles) = shim.get("/roles?name=member", &admin).await;
    let member = roles["roles"][0]["id"].as_str().expect("id").to_owned();
    let grant = format!("/projects/{project}/users/{user}/roles/{member}");
    assert_eq!(
        shim.call(Method::DELETE, &grant, Some(&admin), None)
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(shim.images(&token).await, StatusCode::UNAUTHORIZED);
}
