//! Keystone v3 authentication end to end: the client against the
//! in-process mock's identity shim, in strict mode (only tokens the shim
//! issued get through on `/v2`). The `glance` binary's logins are tested
//! in glance-cli's `auth` module.
//!
//! Three tests are ignored: the same against the reference Keystone and
//! its token-checked Glance (`shared/real-keystone/start 5609 9609`),
//! reading the `clouds.yaml` it writes, the refusal to exchange an
//! application credential's token there too, and domain- and
//! system-scoped tokens there:
//!
//! ```text
//! KEYSTONE_REF_TOKEN_CACHE_TIME=-1 ../shared/real-keystone/start 5609 9609   # (.ci/run does this)
//! KEYSTONE_TEST_CLOUDS_YAML=/tmp/keystone-ref-5609/clouds.yaml \
//!   cargo test -p glance-e2e-tests --test it auth:: -- --ignored
//! ```

use std::time::Duration;

use futures::TryStreamExt;
use glance_client::auth::{AppCredential, Domain, Project, User};
use glance_client::{
    Client, ClientBuilder, CloudConfig, ContainerFormat, CreateImage, DiskFormat, Error, Image,
    ListImages,
};
use glance_e2e_tests::fixture::strict_server;
use glance_mock_server::{IdentityConfig, MockServer};
use serde_json::Value;

fn as_user(server: &MockServer, user: &str) -> ClientBuilder {
    Client::builder()
        .auth_url(server.identity_url())
        .password_auth(
            User::name(user, Domain::name("Default")),
            format!("{user}-secret"),
        )
        .project(Project::name(user, Domain::name("Default")))
}

async fn create(client: &Client, name: &str) -> Image {
    client
        .images()
        .create(
            &CreateImage::new(name)
                .disk_format(DiskFormat::Raw)
                .container_format(ContainerFormat::Bare),
        )
        .await
        .expect("created")
}

async fn names(client: &Client) -> Vec<String> {
    let images: Vec<Image> = client
        .images()
        .list(ListImages::new())
        .try_collect()
        .await
        .expect("listed");
    images.into_iter().filter_map(|i| i.name).collect()
}

#[tokio::test]
async fn password_auth_finds_the_catalog_and_acts_as_its_project() {
    let server = strict_server(IdentityConfig::default()).await;
    let demo = as_user(&server, "demo").build().expect("builds");
    let alt = as_user(&server, "alt").build().expect("builds");

    let mine = create(&demo, "demo-private").await;
    assert_eq!(mine.owner.as_deref(), Some("demo"));
    create(&alt, "alt-private").await;

    // The endpoint came from the shim's catalog: the mock itself.
    assert_eq!(
        demo.endpoint()
            .map(|u| u.as_str().trim_end_matches('/').to_owned()),
        Some(server.url())
    );
    let info = demo.token_info().await.expect("ok").expect("keystone");
    assert_eq!(info.project_id.as_deref(), Some("demo"));
    assert_eq!(info.roles, ["member", "reader"]);

    assert_eq!(names(&demo).await, ["demo-private"]);
    assert_eq!(names(&alt).await, ["alt-private"]);

    // By ids, with the versioned auth URL.
    let by_id = Client::builder()
        .auth_url(format!("{}/v3", server.identity_url()))
        .password_auth(User::id("demo"), "demo-secret")
        .project(Project::id("demo"))
        .build()
        .expect("builds");
    assert_eq!(names(&by_id).await, ["demo-private"]);
}

#[tokio::test]
async fn application_credentials_act_as_their_project() {
    let server = strict_server(IdentityConfig::default()).await;
    let by_id = Client::builder()
        .auth_url(server.identity_url())
        .application_credential(AppCredential::id("ref-appcred-id"), "ref-appcred-secret")
        .build()
        .expect("builds");
    let image = create(&by_id, "from-appcred").await;
    assert_eq!(image.owner.as_deref(), Some("demo"));

    let by_name = Client::builder()
        .auth_url(server.identity_url())
        .application_credential(
            AppCredential::name("ref-appcred", User::name("demo", Domain::name("Default"))),
            "ref-appcred-secret",
        )
        .build()
        .expect("builds");
    assert_eq!(names(&by_name).await, ["from-appcred"]);

    // A wrong secret (changed early: only 72 characters count).
    let wrong = Client::builder()
        .auth_url(server.identity_url())
        .application_credential(AppCredential::id("ref-appcred-id"), "Xef-appcred-secret")
        .build()
        .expect("builds");
    let err = wrong.authenticate().await.expect_err("refused");
    assert!(matches!(err, Error::Auth { .. }), "{err:?}");
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
}

#[tokio::test]
async fn wrong_passwords_and_missing_endpoints_are_typed_errors() {
    let server = strict_server(IdentityConfig::default()).await;
    let err = Client::builder()
        .auth_url(server.identity_url())
        .password_auth(User::name("demo", Domain::name("Default")), "nope")
        .project(Project::name("demo", Domain::name("Default")))
        .build()
        .expect("builds")
        .authenticate()
        .await
        .expect_err("refused");
    match &err {
        Error::Auth {
            status, message, ..
        } => {
            assert_eq!(status.as_u16(), 401);
            assert_eq!(
                message,
                "The request you have made requires authentication."
            );
        }
        other => panic!("expected an auth error, got {other:?}"),
    }
    let err = as_user(&server, "demo")
        .region("RegionTwo")
        .build()
        .expect("builds")
        .authenticate()
        .await
        .expect_err("no endpoint");
    assert!(err.is_catalog(), "{err}");
}

#[tokio::test]
async fn a_revoked_token_is_replaced_and_the_call_succeeds() {
    let server = strict_server(IdentityConfig::default()).await;
    let demo = as_user(&server, "demo").build().expect("builds");
    create(&demo, "before").await;
    let issued = server.state().keystone.tokens.len();

    // Revoke the client's token through the shim, as its own user may.
    let token = demo.auth_token().await.expect("ok").expect("a token");
    let resp = reqwest::Client::new()
        .delete(format!("{}/v3/auth/tokens", server.identity_url()))
        .header("x-auth-token", token.expose())
        .header("x-subject-token", token.expose())
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status().as_u16(), 204);
    // The mock now refuses it.
    let refused = reqwest::Client::new()
        .get(format!("{}/v2/images", server.url()))
        .header("x-auth-token", token.expose())
        .send()
        .await
        .expect("sent");
    assert_eq!(refused.status().as_u16(), 401);

    assert_eq!(names(&demo).await, ["before"], "re-authenticated once");
    assert_eq!(server.state().keystone.tokens.len(), issued + 1);
    let fresh = demo.auth_token().await.expect("ok").expect("a token");
    assert_ne!(fresh.expose(), token.expose());
}

#[tokio::test]
async fn short_lived_tokens_are_renewed_before_they_expire() {
    let server = strict_server(IdentityConfig {
        token_lifetime_secs: 2,
        ..IdentityConfig::default()
    })
    .await;
    let demo = as_user(&server, "demo").build().expect("builds");
    assert!(names(&demo).await.is_empty());
    assert_eq!(server.state().keystone.tokens.len(), 1);
    // Half of the two seconds later, a new token before the next call.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(names(&demo).await.is_empty());
    assert_eq!(server.state().keystone.tokens.len(), 2);
    assert!(names(&demo).await.is_empty());
    assert_eq!(server.state().keystone.tokens.len(), 2);
}

const DELEGATED: &str = "You are not authorized to perform the requested action: Using a delegated token to create another token is not allowed..";

/// Against the Keystone whose `/v3/auth/tokens` is `tokens_url`: a token of
/// the application credential `ac_id` cannot be exchanged (`token` method)
/// for another, with or without a scope, even its own project: 403.
async fn delegated_rescope_is_refused(tokens_url: &str, ac_id: &str, ac_secret: &str) {
    let http = reqwest::Client::new();
    let resp = http
        .post(tokens_url)
        .json(
            &serde_json::json!({"auth": {"identity": {"methods": ["application_credential"],
            "application_credential": {"id": ac_id, "secret": ac_secret}}}}),
        )
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status().as_u16(), 201);
    let token = resp
        .headers()
        .get("x-subject-token")
        .and_then(|v| v.to_str().ok())
        .expect("X-Subject-Token")
        .to_owned();
    let body: Value = resp.json().await.expect("JSON");
    let project = body["token"]["project"]["id"].clone();
    assert!(project.is_string(), "{body}");
    for scope in [
        None,
        Some(serde_json::json!("unscoped")),
        Some(serde_json::json!({"project": {"id": project}})),
    ] {
        let mut auth =
            serde_json::json!({"identity": {"methods": ["token"], "token": {"id": token}}});
        if let Some(s) = &scope {
            auth["scope"] = s.clone();
        }
        let resp = http
            .post(tokens_url)
            .json(&serde_json::json!({ "auth": auth }))
            .send()
            .await
            .expect("sent");
        assert_eq!(resp.status().as_u16(), 403, "{scope:?}");
        assert!(resp.headers().get("x-subject-token").is_none());
        let err: Value = resp.json().await.expect("JSON");
        assert_eq!(
            err,
            serde_json::json!({"error": {"code": 403, "message": DELEGATED, "title": "Forbidden"}}),
            "{scope:?}"
        );
    }
}

#[tokio::test]
async fn an_application_credential_token_is_not_rescoped() {
    let server = strict_server(IdentityConfig::default()).await;
    delegated_rescope_is_refused(
        &format!("{}/v3/auth/tokens", server.identity_url()),
        "ref-appcred-id",
        "ref-appcred-secret",
    )
    .await;
}

/// The reference Keystone's clouds.yaml, if asked for.
fn reference_clouds() -> (String, String) {
    let path = std::env::var("KEYSTONE_TEST_CLOUDS_YAML")
        .expect("set KEYSTONE_TEST_CLOUDS_YAML to the reference Keystone's clouds.yaml");
    let text = std::fs::read_to_string(&path).expect("clouds.yaml readable");
    (path, text)
}

fn reference_client(name: &str) -> Client {
    let (path, text) = reference_clouds();
    let cloud = CloudConfig::from_clouds_yaml(&text, &path, None, name).expect("cloud");
    ClientBuilder::from_config(&cloud)
        .expect("configured")
        .build()
        .expect("builds")
}

#[tokio::test]
#[ignore = "needs the reference Keystone (KEYSTONE_TEST_CLOUDS_YAML)"]
async fn reference_keystone_clouds() {
    let demo = reference_client("ref-demo");
    let image = create(&demo, "e2e-auth-reference").await;
    let info = demo.token_info().await.expect("ok").expect("keystone");
    assert_eq!(info.project_name.as_deref(), Some("demo"));
    assert_eq!(image.owner, info.project_id);
    // The catalog's URL has no version; the root answered 300.
    assert!(demo.endpoint().is_some());

    let appcred = reference_client("ref-appcred");
    let seen = names(&appcred).await;
    assert!(seen.contains(&"e2e-auth-reference".to_owned()), "{seen:?}");

    // Revoked: Glance (without its token cache) answers 401, the client
    // authenticates again and the call succeeds.
    let token = demo.auth_token().await.expect("ok").expect("token");
    let v3 = {
        let (path, text) = reference_clouds();
        let cloud = CloudConfig::from_clouds_yaml(&text, &path, None, "ref-demo").expect("cloud");
        format!(
            "{}/v3/auth/tokens",
            cloud.auth.auth_url.expect("auth_url").trim_end_matches('/')
        )
    };
    let resp = reqwest::Client::new()
        .delete(&v3)
        .header("x-auth-token", token.expose())
        .header("x-subject-token", token.expose())
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status().as_u16(), 204);
    demo.images()
        .delete(&image.id)
        .await
        .expect("deleted after re-auth");
    let fresh = demo.auth_token().await.expect("ok").expect("token");
    assert_ne!(fresh.expose(), token.expose());

    // A wrong application credential secret (changed early).
    let (path, text) = reference_clouds();
    let mut cloud =
        CloudConfig::from_clouds_yaml(&text, &path, None, "ref-appcred").expect("cloud");
    let secret = cloud
        .auth
        .application_credential_secret
        .clone()
        .expect("secret");
    cloud.auth.application_credential_secret = Some(format!("X{}", &secret.expose()[1..]).into());
    let err = ClientBuilder::from_config(&cloud)
        .expect("configured")
        .build()
        .expect("builds")
        .authenticate()
        .await
        .expect_err("refused");
    assert!(err.is_auth(), "{err}");
}

#[tokio::test]
#[ignore = "needs the reference Keystone (KEYSTONE_TEST_CLOUDS_YAML)"]
async fn reference_keystone_refuses_to_rescope_an_application_credential_token() {
    let (path, text) = reference_clouds();
    let cloud = CloudConfig::from_clouds_yaml(&text, &path, None, "ref-appcred").expect("cloud");
    let auth = cloud.auth;
    delegated_rescope_is_refused(
        &format!(
            "{}/v3/auth/tokens",
            auth.auth_url.expect("auth_url").trim_end_matches('/')
        ),
        &auth.application_credential_id.expect("id"),
        auth.application_credential_secret
            .as_ref()
            .expect("secret")
            .expose(),
    )
    .await;
}

/// A system-scoped token from the shim (its admin has the system `admin`
/// role, as after Keystone's bootstrap): the client asks for it and tells
/// it apart; Glance 33 (project-scoped policies) refuses it a listing.
#[tokio::test]
async fn a_system_scoped_token_is_asked_for_and_recognised() {
    let server = strict_server(IdentityConfig::default()).await;
    let client = Client::builder()
        .auth_url(server.identity_url())
        .password_auth(User::name("admin", Domain::name("Default")), "admin-secret")
        .system_scope()
        .build()
        .expect("builds");
    client.authenticate().await.expect("a system token");
    let info = client.token_info().await.expect("ok").expect("keystone");
    assert!(info.system, "{info:?}");
    assert_eq!(info.project_id, None);
    assert!(info.roles.iter().any(|r| r == "admin"), "{info:?}");
    let err = client
        .images()
        .list(ListImages::new())
        .try_collect::<Vec<_>>()
        .await
        .expect_err("project-scoped policies");
    assert!(err.is_forbidden(), "{err}");
}

/// Domain and system scopes against the reference Keystone: the admin
/// (system admin from bootstrap) gets a system-scoped token; granted the
/// admin role on the Default domain, a domain-scoped one.
#[tokio::test]
#[ignore = "needs the reference Keystone (KEYSTONE_TEST_CLOUDS_YAML)"]
async fn reference_keystone_domain_and_system_scopes() {
    let (path, text) = reference_clouds();
    let cloud = CloudConfig::from_clouds_yaml(&text, &path, None, "ref-admin").expect("cloud");
    let auth_url = cloud.auth.auth_url.clone().expect("auth_url");
    let admin = |scope: glance_client::auth::Scope| {
        Client::builder()
            .auth_url(&auth_url)
            .password_auth(User::name("admin", Domain::name("Default")), "admin-secret")
            .scope(scope)
            .build()
            .expect("builds")
    };
    let system = admin(glance_client::auth::Scope::System);
    let info = system.token_info().await.expect("ok").expect("keystone");
    assert!(info.system && info.project_id.is_none(), "{info:?}");

    // Grant the admin role on the domain (idempotent), as the system admin.
    let token = system.auth_token().await.expect("ok").expect("token");
    let v3 = format!("{}/v3", auth_url.trim_end_matches('/'));
    let http = reqwest::Client::new();
    let first_id = |kind: &'static str, url: String| {
        let http = http.clone();
        let token = token.expose().to_owned();
        async move {
            let doc: Value = http
                .get(url)
                .header("x-auth-token", token)
                .send()
                .await
                .expect("sent")
                .json()
                .await
                .expect("json");
            doc[kind][0]["id"].as_str().expect("an id").to_owned()
        }
    };
    let user = first_id("users", format!("{v3}/users?name=admin")).await;
    let role = first_id("roles", format!("{v3}/roles?name=admin")).await;
    let granted = http
        .put(format!("{v3}/domains/default/users/{user}/roles/{role}"))
        .header("x-auth-token", token.expose())
        .send()
        .await
        .expect("sent");
    assert!(granted.status().is_success(), "{}", granted.status());

    let domain = admin(glance_client::auth::Scope::Domain(Domain::id("default")));
    let info = domain.token_info().await.expect("ok").expect("keystone");
    assert_eq!(info.domain_id.as_deref(), Some("default"), "{info:?}");
    assert!(!info.system && info.project_id.is_none(), "{info:?}");
}
