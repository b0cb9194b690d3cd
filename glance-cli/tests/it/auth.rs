//! The `glance` binary's Keystone logins against the in-process mock's
//! identity shim in strict mode: `OS_*` variables (password, application
//! credential, a wrong password, an unknown token) and a cloud of
//! `clouds.yaml` with its `secure.yaml`.

use glance_e2e_tests::fixture::strict_server;
use glance_mock_server::IdentityConfig;

use crate::harness::{glance_with, json};

#[tokio::test]
async fn the_cli_authenticates_from_os_variables() {
    let server = strict_server(IdentityConfig::default()).await;
    let demo = |password: &str| {
        vec![
            ("OS_AUTH_URL", server.identity_url()),
            ("OS_USERNAME", "demo".to_owned()),
            ("OS_PASSWORD", password.to_owned()),
            ("OS_PROJECT_NAME", "demo".to_owned()),
            ("OS_USER_DOMAIN_NAME", "Default".to_owned()),
            ("OS_PROJECT_DOMAIN_NAME", "Default".to_owned()),
            ("OS_REGION_NAME", "RegionOne".to_owned()),
            ("OS_INTERFACE", "public".to_owned()),
        ]
    };
    let created = json(
        &glance_with(
            &demo("demo-secret"),
            &["-f", "json", "image-create", "--name", "via-cli"],
        )
        .await,
    );
    assert_eq!(created["owner"], "demo");
    let listed = json(&glance_with(&demo("demo-secret"), &["-f", "json", "image-list"]).await);
    assert_eq!(listed[0]["name"], "via-cli", "{listed}");

    // The application credential, by variables too.
    let appcred = [
        ("OS_AUTH_URL", server.identity_url()),
        ("OS_AUTH_TYPE", "v3applicationcredential".to_owned()),
        ("OS_APPLICATION_CREDENTIAL_ID", "ref-appcred-id".to_owned()),
        (
            "OS_APPLICATION_CREDENTIAL_SECRET",
            "ref-appcred-secret".to_owned(),
        ),
    ];
    let listed = json(&glance_with(&appcred, &["-f", "json", "image-list"]).await);
    assert_eq!(listed[0]["name"], "via-cli", "{listed}");

    // Wrong password: Keystone's message, one line, exit 1.
    let out = glance_with(&demo("wrong"), &["image-list"]).await;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains("The request you have made requires authentication. (HTTP 401)"),
        "{err}"
    );
    assert!(!err.contains("wrong"), "no secret echoed: {err}");

    // A token the strict mock does not know, in glanceclient's token mode.
    let out = glance_with(
        &[
            ("OS_IMAGE_URL", server.url()),
            ("OS_AUTH_TOKEN", "not-issued".to_owned()),
            // Any of glanceclient's boolean spellings.
            ("OS_INSECURE", "True".to_owned()),
        ],
        &["image-list"],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "Invalid OpenStack Identity credentials."
    );
}

#[tokio::test]
async fn the_cli_reads_a_cloud_of_clouds_yaml() {
    let server = strict_server(IdentityConfig::default()).await;
    let dir = tempfile::tempdir().expect("temp dir");
    let clouds = dir.path().join("clouds.yaml");
    std::fs::write(
        &clouds,
        format!(
            "clouds:\n  mock-alt:\n    auth_type: password\n    auth:\n      auth_url: {}\n      username: alt\n      password: wrong-here\n      project_name: alt\n      user_domain_name: Default\n      project_domain_name: Default\n    region_name: RegionOne\n",
            server.identity_url()
        ),
    )
    .expect("written");
    std::fs::write(
        dir.path().join("secure.yaml"),
        "clouds:\n  mock-alt:\n    auth:\n      password: alt-secret\n",
    )
    .expect("written");
    let vars = [
        ("OS_CLIENT_CONFIG_FILE", clouds.display().to_string()),
        (
            "OS_CLIENT_SECURE_FILE",
            dir.path().join("secure.yaml").display().to_string(),
        ),
        ("OS_CLOUD", "mock-alt".to_owned()),
    ];
    let created = json(
        &glance_with(
            &vars,
            &["-f", "json", "image-create", "--name", "from-cloud"],
        )
        .await,
    );
    assert_eq!(created["owner"], "alt");
    // An option given explicitly overrides the cloud's value.
    let out = glance_with(&vars, &["--os-region-name", "RegionTwo", "image-list"]).await;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("region RegionTwo"), "{err}");
}
