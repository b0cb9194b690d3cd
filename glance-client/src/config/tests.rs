//! Parsing `clouds.yaml`, `secure.yaml` and `OS_*` variables, from
//! fixtures and injected environments (never the process's own).

use std::collections::HashMap;
use std::path::PathBuf;

use super::*;
use crate::auth::{AppCredential, Credentials, Domain, Project, User};

const CLOUDS: &str = include_str!("../../tests/fixtures/config/clouds.yaml");
const SECURE: &str = include_str!("../../tests/fixtures/config/secure.yaml");

fn cloud(name: &str) -> CloudConfig {
    CloudConfig::from_clouds_yaml(CLOUDS, "clouds.yaml", Some((SECURE, "secure.yaml")), name)
        .expect("cloud parses")
}

fn env_of<'a>(vars: &'a [(&'a str, &'a str)], cwd: &str) -> Environment<'a> {
    let map: HashMap<&str, &str> = vars.iter().copied().collect();
    Environment::new(
        move |k| map.get(k).map(|v| (*v).to_owned()),
        PathBuf::from(cwd),
    )
}

fn keystone(mode: AuthMode) -> Credentials {
    match mode {
        AuthMode::Keystone(c) => c,
        other => panic!("expected Keystone credentials, got {other:?}"),
    }
}

#[test]
fn reference_password_cloud() {
    let c = cloud("ref-demo");
    assert_eq!(c.name.as_deref(), Some("ref-demo"));
    assert_eq!(c.auth.auth_url.as_deref(), Some("http://127.0.0.1:5000"));
    assert_eq!(c.region_name.as_deref(), Some("RegionOne"));
    assert_eq!(c.interface.as_deref(), Some("public"));
    assert_eq!(c.insecure, None);
    assert_eq!(
        keystone(c.auth_mode().expect("mode")),
        Credentials::Password {
            user: User::name("demo", Domain::name("Default")),
            password: "demo-secret".into(),
        }
    );
    assert_eq!(
        c.auth.project(),
        Some(Project::name("demo", Domain::name("Default")))
    );
    assert!(!format!("{c:?}").contains("demo-secret"));
}

#[test]
fn reference_application_credential_cloud() {
    let c = cloud("ref-appcred");
    assert_eq!(
        keystone(c.auth_mode().expect("mode")),
        Credentials::ApplicationCredential {
            credential: AppCredential::id("aeb786008ede4106ac266ee1e37fd59c"),
            secret: "I7-irVxlyMT_zQqYJtcKYMQGyeJuCOeZ6wHtiFQM".into(),
        }
    );
    let shown = format!("{:?}", c.apply(ClientBuilder::default()).expect("applies"));
    assert!(shown.contains("127.0.0.1:5000"), "{shown}");
    assert!(!shown.contains("I7-irV"), "{shown}");
}

#[test]
fn ids_regions_tls_and_secure_yaml() {
    let c = cloud("by-ids");
    assert_eq!(c.region_name.as_deref(), Some("RegionTwo"));
    assert_eq!(c.interface.as_deref(), Some("internalURL"));
    assert_eq!(c.insecure, Some(true), "verify: false");
    assert_eq!(c.cacert, Some(PathBuf::from("/etc/ssl/ca.pem")));
    assert_eq!(c.cert, Some(PathBuf::from("/etc/ssl/client.pem")));
    assert_eq!(c.key, Some(PathBuf::from("/etc/ssl/client.key")));
    assert_eq!(
        keystone(c.auth_mode().expect("mode")),
        Credentials::Password {
            user: User::id("5a3d3115de74414ab673e130d48e9063"),
            password: "from-secure-yaml".into(),
        }
    );
    assert_eq!(
        c.auth.project(),
        Some(Project::id("1731c44430014b7e8ed863bbd74f220b"))
    );
}

#[test]
fn legacy_spellings_and_the_domain_fallbacks() {
    let c = cloud("legacy");
    assert_eq!(
        c.image_endpoint.as_deref(),
        Some("http://glance.example.org:9292")
    );
    assert_eq!(
        keystone(c.auth_mode().expect("mode")),
        Credentials::Password {
            user: User::name("alice", Domain::id("corp")),
            password: "alice-secret".into(),
        }
    );
    assert_eq!(
        c.auth.project(),
        Some(Project::name("research", Domain::id("corp")))
    );
    // Without any domain: the one with id "default".
    let mut bare = c.clone();
    bare.auth.default_domain_id = None;
    assert_eq!(
        bare.auth.user(),
        Some(User::name("alice", Domain::id("default")))
    );
}

#[test]
fn token_types() {
    assert_eq!(
        keystone(cloud("token-only").auth_mode().expect("mode")),
        Credentials::Token("gAAAAAB-existing".into())
    );
    assert_eq!(
        cloud("static").auth_mode().expect("mode"),
        AuthMode::Token("static-token".into())
    );
}

#[test]
fn unknown_clouds_and_broken_files() {
    let e =
        CloudConfig::from_clouds_yaml(CLOUDS, "/x/clouds.yaml", None, "nope").expect_err("unknown");
    let text = e.to_string();
    assert!(
        text.contains("\"nope\" not found in /x/clouds.yaml"),
        "{text}"
    );
    assert!(text.contains("ref-demo"), "{text}");
    let e = CloudConfig::from_clouds_yaml("clouds: [", "c.yaml", None, "a").expect_err("broken");
    assert!(e.to_string().contains("cannot parse c.yaml"), "{e}");
    let e = CloudConfig::from_clouds_yaml(CLOUDS, "c.yaml", Some(("{", "s.yaml")), "ref-demo")
        .expect_err("broken secure");
    assert!(e.to_string().contains("s.yaml"), "{e}");
}

#[test]
fn environment_variables_of_a_password_user() {
    let env = env_of(
        &[
            ("OS_AUTH_URL", "http://k:5000/v3"),
            ("OS_USERNAME", "demo"),
            ("OS_PASSWORD", "pw"),
            ("OS_TENANT_NAME", "demo"),
            ("OS_USER_DOMAIN_NAME", "Default"),
            ("OS_PROJECT_DOMAIN_ID", "default"),
            ("OS_REGION_NAME", "RegionOne"),
            ("OS_ENDPOINT_TYPE", "internalURL"),
            ("OS_CACERT", "/ca.pem"),
            ("OS_INSECURE", "True"),
            ("OS_PROJECT_ID", ""),
        ],
        "/w",
    );
    let c = CloudConfig::from_environment(&env).expect("reads");
    assert_eq!(c.name, None);
    assert_eq!(c.auth.auth_url.as_deref(), Some("http://k:5000/v3"));
    assert_eq!(c.interface.as_deref(), Some("internalURL"));
    assert_eq!(c.insecure, Some(true));
    assert_eq!(c.cacert, Some(PathBuf::from("/ca.pem")));
    assert_eq!(c.auth.project_id, None, "empty values are unset");
    assert_eq!(
        c.auth.project(),
        Some(Project::name("demo", Domain::id("default")))
    );
    assert_eq!(
        keystone(c.auth_mode().expect("mode")),
        Credentials::Password {
            user: User::name("demo", Domain::name("Default")),
            password: "pw".into(),
        }
    );
}

#[test]
fn environment_variables_choose_the_method() {
    let mode = |vars: &[(&str, &str)]| {
        CloudConfig::from_environment(&env_of(vars, "/w"))
            .expect("reads")
            .auth_mode()
    };
    // glanceclient's token mode: an image URL and a token.
    assert_eq!(
        mode(&[
            ("OS_IMAGE_URL", "http://g:9292"),
            ("OS_AUTH_TOKEN", "tok"),
            ("OS_AUTH_URL", "http://k:5000"),
        ])
        .expect("mode"),
        AuthMode::Token("tok".into())
    );
    // A token and an auth URL only: Keystone's token method.
    assert_eq!(
        keystone(mode(&[("OS_AUTH_URL", "http://k:5000"), ("OS_TOKEN", "tok")]).expect("mode")),
        Credentials::Token("tok".into())
    );
    // An application credential by name needs its user.
    assert_eq!(
        keystone(
            mode(&[
                ("OS_AUTH_URL", "http://k:5000"),
                ("OS_APPLICATION_CREDENTIAL_NAME", "ref-appcred"),
                ("OS_APPLICATION_CREDENTIAL_SECRET", "s"),
                ("OS_USERNAME", "demo"),
                ("OS_USER_DOMAIN_ID", "default"),
                ("OS_PASSWORD", "unused"),
            ])
            .expect("mode")
        ),
        Credentials::ApplicationCredential {
            credential: AppCredential::name(
                "ref-appcred",
                User::name("demo", Domain::id("default"))
            ),
            secret: "s".into(),
        }
    );
    let e = mode(&[
        ("OS_AUTH_TYPE", "v3applicationcredential"),
        ("OS_APPLICATION_CREDENTIAL_ID", "x"),
    ])
    .expect_err("no secret");
    assert!(
        e.to_string().contains("OS_APPLICATION_CREDENTIAL_SECRET"),
        "{e}"
    );
    let e = mode(&[("OS_USERNAME", "demo")]).expect_err("no password");
    assert!(e.to_string().contains("OS_PASSWORD"), "{e}");
    let e = mode(&[("OS_AUTH_TYPE", "v3oidcpassword")]).expect_err("unsupported");
    assert!(e.to_string().contains("unsupported auth_type"), "{e}");
    let e = mode(&[]).expect_err("nothing");
    assert!(e.to_string().contains("missing credentials"), "{e}");
    assert_eq!(
        mode(&[("OS_AUTH_TYPE", "none")]).expect("mode"),
        AuthMode::None
    );
}

#[test]
fn applying_reports_what_is_missing_or_invalid() {
    let env = env_of(&[("OS_USERNAME", "u"), ("OS_PASSWORD", "p")], "/w");
    let c = CloudConfig::from_environment(&env).expect("reads");
    let e = c.apply(ClientBuilder::default()).expect_err("no auth url");
    assert!(e.to_string().contains("OS_AUTH_URL"), "{e}");
    let mut c = cloud("ref-demo");
    c.interface = Some("sideways".into());
    assert!(c.apply(ClientBuilder::default()).is_err());
    let mut c = cloud("ref-demo");
    c.cert = None;
    c.key = Some("/k.pem".into());
    let e = c.apply(ClientBuilder::default()).expect_err("key alone");
    assert!(e.to_string().contains("OS_CERT"), "{e}");
}

#[test]
fn overlay_replaces_only_what_is_given() {
    let mut c = cloud("ref-demo");
    let mut over = CloudConfig::default();
    over.auth.password = Some("from-the-command-line".into());
    over.region_name = Some("RegionTwo".into());
    c.overlay(&over);
    assert_eq!(c.auth.username.as_deref(), Some("demo"));
    assert_eq!(c.region_name.as_deref(), Some("RegionTwo"));
    assert_eq!(
        c.auth.password.as_ref().map(Secret::expose),
        Some("from-the-command-line")
    );
    assert_eq!(c.name.as_deref(), Some("ref-demo"));
}

#[test]
fn search_paths_follow_openstacksdk() {
    let env = env_of(
        &[
            ("HOME", "/home/u"),
            ("OS_CLIENT_CONFIG_FILE", "/x/my-clouds.yaml"),
        ],
        "/w",
    );
    let paths = env.clouds_yaml_paths();
    let shown: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    assert_eq!(
        shown,
        [
            "/x/my-clouds.yaml",
            "/w/clouds.yaml",
            "/w/clouds.yml",
            "/w/clouds.json",
            "/home/u/.config/openstack/clouds.yaml",
            "/home/u/.config/openstack/clouds.yml",
            "/home/u/.config/openstack/clouds.json",
            "/etc/openstack/clouds.yaml",
            "/etc/openstack/clouds.yml",
            "/etc/openstack/clouds.json",
        ]
    );
    let env = env_of(
        &[
            ("HOME", "/home/u"),
            ("XDG_CONFIG_HOME", "/xdg"),
            ("OS_CLIENT_SECURE_FILE", "/s.yaml"),
        ],
        "/w",
    );
    let secure = env.secure_yaml_paths();
    assert_eq!(secure[0], PathBuf::from("/s.yaml"));
    assert_eq!(secure[1], PathBuf::from("/w/secure.yaml"));
    assert_eq!(secure[4], PathBuf::from("/xdg/openstack/secure.yaml"));
}

#[test]
fn os_cloud_reads_the_user_config_dir_with_secure_yaml() {
    let home = tempfile::tempdir().expect("temp home");
    let cwd = tempfile::tempdir().expect("temp cwd");
    let dir = home.path().join(".config/openstack");
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("clouds.yaml"), CLOUDS).expect("clouds");
    std::fs::write(dir.join("secure.yaml"), SECURE).expect("secure");
    let home_str = home.path().to_str().expect("utf-8").to_owned();
    let vars = [("HOME", home_str.as_str()), ("OS_CLOUD", "legacy")];
    let cwd_str = cwd.path().to_str().expect("utf-8").to_owned();
    let env = env_of(&vars, &cwd_str);
    let c = CloudConfig::from_environment(&env).expect("reads");
    assert_eq!(c.name.as_deref(), Some("legacy"));
    assert_eq!(
        c.auth.password.as_ref().map(Secret::expose),
        Some("alice-secret")
    );

    // ./clouds.yaml comes first; OS_CLIENT_CONFIG_FILE before that.
    std::fs::write(
        cwd.path().join("clouds.yaml"),
        "clouds:\n  legacy:\n    auth:\n      auth_url: http://from-cwd\n",
    )
    .expect("cwd clouds");
    let c = CloudConfig::from_environment(&env).expect("reads");
    assert_eq!(c.auth.auth_url.as_deref(), Some("http://from-cwd"));
    let explicit = home.path().join("explicit.yaml");
    std::fs::write(
        &explicit,
        "clouds:\n  legacy:\n    auth:\n      auth_url: http://explicit\n",
    )
    .expect("explicit");
    let explicit_str = explicit.to_str().expect("utf-8").to_owned();
    let vars = [
        ("HOME", home_str.as_str()),
        ("OS_CLOUD", "legacy"),
        ("OS_CLIENT_CONFIG_FILE", explicit_str.as_str()),
    ];
    let c = CloudConfig::from_environment(&env_of(&vars, &cwd_str)).expect("reads");
    assert_eq!(c.auth.auth_url.as_deref(), Some("http://explicit"));
}

#[test]
fn os_cloud_without_any_file() {
    if std::path::Path::new("/etc/openstack").exists() {
        return; // this machine has a system-wide configuration
    }
    let home = tempfile::tempdir().expect("temp home");
    let home_str = home.path().to_str().expect("utf-8").to_owned();
    let vars = [("HOME", home_str.as_str()), ("OS_CLOUD", "x")];
    let e = CloudConfig::from_environment(&env_of(&vars, &home_str)).expect_err("no file");
    assert!(e.to_string().contains("no clouds.yaml found"), "{e}");
}

#[test]
fn os_system_scope_asks_for_a_system_token() {
    let vars = [
        ("OS_AUTH_URL", "http://k:5000/v3"),
        ("OS_USERNAME", "admin"),
        ("OS_PASSWORD", "pw"),
        ("OS_USER_DOMAIN_NAME", "Default"),
        ("OS_SYSTEM_SCOPE", "all"),
    ];
    let c = CloudConfig::from_environment(&env_of(&vars, "/w")).expect("reads");
    assert_eq!(c.auth.system_scope.as_deref(), Some("all"));
    let shown = format!("{:?}", c.apply(ClientBuilder::default()).expect("applies"));
    assert!(shown.contains("scope: Some(System)"), "{shown}");

    let with_project = [vars.as_slice(), &[("OS_PROJECT_NAME", "admin")]].concat();
    let c = CloudConfig::from_environment(&env_of(&with_project, "/w")).expect("reads");
    assert!(c.apply(ClientBuilder::default()).is_err());
    let odd = [&vars[..4], &[("OS_SYSTEM_SCOPE", "some")]].concat();
    let c = CloudConfig::from_environment(&env_of(&odd, "/w")).expect("reads");
    assert!(c.apply(ClientBuilder::default()).is_err());
}
