//! Tokens in strict mode (`require_auth`): expired, revoked and unknown
//! tokens are refused on `/v2`; and no secret (password, application
//! credential secret, token) ever appears in the server's log output or in
//! an error answer.

use std::io::Write;
use std::sync::{Arc, Mutex};

use glance_mock_server::{Config, IdentityConfig, MockServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

const PASSWORD: &str = "pw-Zq8xK1-never-printed";
const APP_SECRET: &str = "ac-Yt5vR2-never-printed";

fn strict(token_lifetime_secs: u64) -> Config {
    let mut identity = IdentityConfig {
        token_lifetime_secs,
        ..IdentityConfig::default()
    };
    for u in &mut identity.users {
        if u.name == "demo" {
            u.password = PASSWORD.into();
        }
    }
    identity.application_credentials[0].secret = APP_SECRET.into();
    Config {
        require_auth: true,
        identity,
        ..Config::default()
    }
}

fn password_body(password: &str) -> Value {
    json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {
        "name": "demo", "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": "demo", "domain": {"name": "Default"}}}}})
}

/// Everything an answer shows: status line, headers, body.
async fn shown(resp: reqwest::Response) -> (StatusCode, String) {
    let status = resp.status();
    let mut text = format!("{status}\n");
    for (k, v) in resp.headers() {
        text.push_str(&format!("{k}: {}\n", String::from_utf8_lossy(v.as_bytes())));
    }
    text.push_str(&resp.text().await.unwrap_or_default());
    (status, text)
}

struct Client {
    http: reqwest::Client,
    server: MockServer,
}

impl Client {
    async fn issue(&self, body: &Value) -> (StatusCode, Option<String>, String) {
        let resp = self
            .http
            .post(format!("{}/v3/auth/tokens", self.server.identity_url()))
            .json(body)
            .send()
            .await
            .expect("POST tokens");
        let token = resp
            .headers()
            .get("x-subject-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let (status, text) = shown(resp).await;
        (status, token, text)
    }

    async fn images(&self, token: &str) -> (StatusCode, String) {
        let resp = self
            .http
            .get(format!("{}/v2/images", self.server.url()))
            .header("X-Auth-Token", token)
            .header("Accept", "application/json")
            .send()
            .await
            .expect("GET images");
        shown(resp).await
    }
}

async fn start(config: Config) -> Client {
    Client {
        http: reqwest::Client::new(),
        server: MockServer::builder()
            .config(config)
            .start()
            .await
            .expect("start"),
    }
}

#[tokio::test]
async fn unknown_revoked_and_expired_tokens_are_refused() {
    let c = start(strict(3600)).await;
    let (status, token, _) = c.issue(&password_body(PASSWORD)).await;
    assert_eq!(status, StatusCode::CREATED);
    let token = token.expect("X-Subject-Token");
    assert_eq!(c.images(&token).await.0, StatusCode::OK);
    // Unknown: never issued, or an issued one altered.
    for unknown in ["anything", "", "gAAAAA-not-a-token", &format!("{token}x")] {
        assert_eq!(
            c.images(unknown).await.0,
            StatusCode::UNAUTHORIZED,
            "{unknown:?}"
        );
    }
    // Revoked.
    let resp = c
        .http
        .delete(format!("{}/v3/auth/tokens", c.server.identity_url()))
        .header("X-Auth-Token", &token)
        .header("X-Subject-Token", &token)
        .send()
        .await
        .expect("DELETE");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    assert_eq!(c.images(&token).await.0, StatusCode::UNAUTHORIZED);
    // Identity headers do not stand in for a token in strict mode.
    let resp = c
        .http
        .get(format!("{}/v2/images", c.server.url()))
        .header("X-Identity-Status", "Confirmed")
        .header("X-Roles", "admin")
        .header("X-Project-Id", "admin")
        .send()
        .await
        .expect("GET");
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn expired_tokens_are_refused() {
    // A lifetime of 0 s: the token has expired by the time it is used.
    let c = start(strict(0)).await;
    let (status, token, _) = c.issue(&password_body(PASSWORD)).await;
    assert_eq!(status, StatusCode::CREATED);
    let token = token.expect("X-Subject-Token");
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(c.images(&token).await.0, StatusCode::UNAUTHORIZED);
}

/// A `MakeWriter` that keeps everything written.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn secrets_never_appear_in_logs_or_errors() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter("glance_mock_server=trace,tower_http=trace")
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    // The test's runtime is current-thread: the server's tasks log here too.
    let _guard = tracing::subscriber::set_default(subscriber);
    let c = start(strict(3600)).await;
    tracing::info!(target: "glance_mock_server", "capture is working");

    let mut answers = Vec::new();
    let mut secrets = vec![PASSWORD.to_owned(), APP_SECRET.to_owned()];
    // Near misses of the password and of the secret.
    for wrong in [format!("{PASSWORD}x"), PASSWORD[1..].to_owned()] {
        let (status, _, text) = c.issue(&password_body(&wrong)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        answers.push(text);
        secrets.push(wrong);
    }
    let app = |secret: &str| {
        json!({"auth": {"identity": {"methods": ["application_credential"],
        "application_credential": {"id": "ref-appcred-id", "secret": secret}}}})
    };
    let (status, _, text) = c.issue(&app(&format!("{APP_SECRET}!"))).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    answers.push(text);
    // Malformed bodies that carry the password.
    for body in [
        json!({"auth": {"identity": {"methods": ["password"], "password": PASSWORD}}}),
        json!({"auth": {"identity": {"methods": ["totp"], "password": {"user": {"name": "demo", "password": PASSWORD}}}}}),
        json!({"auth": {"identity": {"methods": ["password"], "password": {"user": {"name": "nobody", "domain": {"name": "Default"}, "password": PASSWORD}}}}}),
    ] {
        let (status, _, text) = c.issue(&body).await;
        assert!(status.is_client_error(), "{status}");
        answers.push(text);
    }
    // Good credentials: their tokens are secrets too (the issuing answer
    // is the one place a token may be shown, so it is not checked).
    let (_, token, _) = c.issue(&password_body(PASSWORD)).await;
    let token = token.expect("token");
    let (_, app_token, _) = c.issue(&app(APP_SECRET)).await;
    let app_token = app_token.expect("token");
    secrets.push(token.clone());
    secrets.push(app_token.clone());
    // Tokens used where they fail: revoked, altered, on bad requests.
    let altered = format!("{token}0");
    secrets.push(altered.clone());
    answers.push(c.images(&altered).await.1);
    let resp = c
        .http
        .post(format!("{}/v2/images", c.server.url()))
        .header("X-Auth-Token", &token)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("POST");
    answers.push(shown(resp).await.1);
    let resp = c
        .http
        .get(format!("{}/v3/auth/tokens", c.server.identity_url()))
        .header("X-Auth-Token", &token)
        .header("X-Subject-Token", &altered)
        .send()
        .await
        .expect("validate");
    answers.push(shown(resp).await.1);
    let resp = c
        .http
        .delete(format!("{}/v3/auth/tokens", c.server.identity_url()))
        .header("X-Auth-Token", &app_token)
        .header("X-Subject-Token", &app_token)
        .send()
        .await
        .expect("revoke");
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    answers.push(c.images(&app_token).await.1);

    c.server.shutdown().await;
    let logs = String::from_utf8_lossy(&captured.0.lock().expect("logs")).into_owned();
    assert!(logs.contains("capture is working"), "the capture works");
    for secret in &secrets {
        assert!(
            !logs.contains(secret.as_str()),
            "a secret in the logs:\n{logs}"
        );
        for a in &answers {
            assert!(!a.contains(secret.as_str()), "a secret in an answer:\n{a}");
        }
    }
    assert_eq!(answers.len(), 10);
}
