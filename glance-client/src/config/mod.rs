//! Client configuration as the OpenStack tools read it: `clouds.yaml`
//! (with `secure.yaml` merged in) and the `OS_*` environment variables.
//!
//! ```no_run
//! # fn demo() -> glance_client::Result<()> {
//! // OS_CLOUD names a cloud of clouds.yaml; without it, OS_AUTH_URL,
//! // OS_USERNAME, … (or OS_IMAGE_URL and OS_AUTH_TOKEN) are read.
//! let client = glance_client::ClientBuilder::from_env()?.build()?;
//! // A named cloud.
//! let client = glance_client::ClientBuilder::from_cloud("devstack")?.build()?;
//! # Ok(()) }
//! ```
//!
//! `clouds.yaml` is the first file found of `$OS_CLIENT_CONFIG_FILE`,
//! `./clouds.yaml`, `$XDG_CONFIG_HOME/openstack/clouds.yaml` (default
//! `~/.config/openstack/`) and `/etc/openstack/clouds.yaml` (each also as
//! `.yml` and `.json`); `secure.yaml` likewise (`$OS_CLIENT_SECURE_FILE`
//! first), its values merged over those of `clouds.yaml`, as openstacksdk
//! does. The keys read are those of openstacksdk: `auth_type`, `auth`
//! (`auth_url`, `username`, `user_id`, `password`, `project_name`,
//! `project_id`, `user_domain_name`, `user_domain_id`,
//! `project_domain_name`, `project_domain_id`, `domain_name`, `domain_id`,
//! `default_domain_name`, `default_domain_id`, `application_credential_id`,
//! `application_credential_name`, `application_credential_secret`,
//! `token`, `system_scope`), `region_name` (or the first of `regions`), `interface` (or
//! `endpoint_type`), `verify`, `insecure`, `cacert`, `cert`, `key`,
//! `image_endpoint_override`. Profiles (`clouds-public.yaml`) are not read.
//!
//! How the client authenticates follows `auth_type` (`password`,
//! `v3password`, `v3applicationcredential`, `token`, `v3token`,
//! `admin_token`, `none`), else what is given: an application credential,
//! else a user, else a token. An image endpoint together with a token (and
//! no other credentials) means that token as is, without Keystone, as
//! python-glanceclient does with `OS_IMAGE_URL` and `OS_AUTH_TOKEN`. Names
//! without a domain are looked up in `domain_*`, `default_domain_*`, else
//! the domain with id `default` (as the `openstack` command does).

mod yaml;

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::auth::{AppCredential, Credentials, Domain, Interface, Project, Secret, User};
use crate::client::ClientBuilder;
use crate::error::{Error, Result};

/// The `auth` section of a cloud.
#[derive(Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthConfig {
    /// Keystone's URL (`OS_AUTH_URL`).
    pub auth_url: Option<String>,
    /// User name (`OS_USERNAME`).
    pub username: Option<String>,
    /// User id (`OS_USER_ID`).
    pub user_id: Option<String>,
    /// Password (`OS_PASSWORD`).
    pub password: Option<Secret>,
    /// Project name (`OS_PROJECT_NAME`, `OS_TENANT_NAME`).
    pub project_name: Option<String>,
    /// Project id (`OS_PROJECT_ID`, `OS_TENANT_ID`).
    pub project_id: Option<String>,
    /// The user's domain name (`OS_USER_DOMAIN_NAME`).
    pub user_domain_name: Option<String>,
    /// The user's domain id (`OS_USER_DOMAIN_ID`).
    pub user_domain_id: Option<String>,
    /// The project's domain name (`OS_PROJECT_DOMAIN_NAME`).
    pub project_domain_name: Option<String>,
    /// The project's domain id (`OS_PROJECT_DOMAIN_ID`).
    pub project_domain_id: Option<String>,
    /// Domain name for both user and project when theirs are not given
    /// (`domain_name`, `default_domain_name`, `OS_DEFAULT_DOMAIN_NAME`).
    pub default_domain_name: Option<String>,
    /// Domain id for both user and project when theirs are not given
    /// (`domain_id`, `default_domain_id`, `OS_DEFAULT_DOMAIN_ID`).
    pub default_domain_id: Option<String>,
    /// Application credential id (`OS_APPLICATION_CREDENTIAL_ID`).
    pub application_credential_id: Option<String>,
    /// Application credential name (`OS_APPLICATION_CREDENTIAL_NAME`).
    pub application_credential_name: Option<String>,
    /// Application credential secret (`OS_APPLICATION_CREDENTIAL_SECRET`).
    pub application_credential_secret: Option<Secret>,
    /// A token (`OS_AUTH_TOKEN`, `OS_TOKEN`).
    pub token: Option<Secret>,
    /// `all` for a system-scoped token (`system_scope`,
    /// `OS_SYSTEM_SCOPE`), as keystoneauth reads it; not with a project.
    pub system_scope: Option<String>,
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Secrets print as <redacted> (see Secret).
        f.debug_struct("AuthConfig")
            .field("auth_url", &self.auth_url)
            .field("username", &self.username)
            .field("user_id", &self.user_id)
            .field("password", &self.password)
            .field("project_name", &self.project_name)
            .field("project_id", &self.project_id)
            .field("user_domain_name", &self.user_domain_name)
            .field("user_domain_id", &self.user_domain_id)
            .field("project_domain_name", &self.project_domain_name)
            .field("project_domain_id", &self.project_domain_id)
            .field("default_domain_name", &self.default_domain_name)
            .field("default_domain_id", &self.default_domain_id)
            .field("application_credential_id", &self.application_credential_id)
            .field(
                "application_credential_name",
                &self.application_credential_name,
            )
            .field(
                "application_credential_secret",
                &self.application_credential_secret,
            )
            .field("token", &self.token)
            .field("system_scope", &self.system_scope)
            .finish()
    }
}

/// One cloud's settings, from `clouds.yaml` or from `OS_*` variables.
/// Every field is optional; [`CloudConfig::overlay`] layers one over
/// another (e.g. command-line options over a named cloud).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CloudConfig {
    /// The cloud's name in `clouds.yaml` (`None` for the environment).
    pub name: Option<String>,
    /// `auth_type` (`OS_AUTH_TYPE`).
    pub auth_type: Option<String>,
    /// The `auth` section.
    pub auth: AuthConfig,
    /// `region_name` (`OS_REGION_NAME`).
    pub region_name: Option<String>,
    /// `interface` (`OS_INTERFACE`, `OS_ENDPOINT_TYPE`).
    pub interface: Option<String>,
    /// CA bundle (`cacert`, `OS_CACERT`).
    pub cacert: Option<PathBuf>,
    /// Client certificate (`cert`, `OS_CERT`).
    pub cert: Option<PathBuf>,
    /// Client key (`key`, `OS_KEY`).
    pub key: Option<PathBuf>,
    /// Skip TLS verification (`verify: false`, `insecure: true`, `OS_INSECURE`).
    pub insecure: Option<bool>,
    /// The Image service endpoint (`image_endpoint_override`, `OS_IMAGE_URL`).
    pub image_endpoint: Option<String>,
}

/// A key's value as text (YAML may have typed a numeric id as a number).
fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn boolean(v: &Value, key: &str) -> Option<bool> {
    match v.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => parse_bool(s),
        Value::Number(n) => Some(n.as_i64() != Some(0)),
        _ => None,
    }
}

/// `true`/`1`/`yes`/`on` and their opposites, in any case.
fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "1" | "t" | "true" | "y" | "yes" | "on" => Some(true),
        "0" | "f" | "false" | "n" | "no" | "off" | "" => Some(false),
        _ => None,
    }
}

fn overlay_opt<T: Clone>(base: &mut Option<T>, over: &Option<T>) {
    if over.is_some() {
        base.clone_from(over);
    }
}

impl AuthConfig {
    fn from_json(a: &Value) -> Self {
        AuthConfig {
            auth_url: text(a, "auth_url"),
            username: text(a, "username"),
            user_id: text(a, "user_id"),
            password: text(a, "password").map(Secret::from),
            project_name: text(a, "project_name").or_else(|| text(a, "tenant_name")),
            project_id: text(a, "project_id").or_else(|| text(a, "tenant_id")),
            user_domain_name: text(a, "user_domain_name"),
            user_domain_id: text(a, "user_domain_id"),
            project_domain_name: text(a, "project_domain_name"),
            project_domain_id: text(a, "project_domain_id"),
            default_domain_name: text(a, "default_domain_name").or_else(|| text(a, "domain_name")),
            default_domain_id: text(a, "default_domain_id").or_else(|| text(a, "domain_id")),
            application_credential_id: text(a, "application_credential_id"),
            application_credential_name: text(a, "application_credential_name"),
            application_credential_secret: text(a, "application_credential_secret")
                .map(Secret::from),
            token: text(a, "token")
                .or_else(|| text(a, "auth_token"))
                .map(Secret::from),
            system_scope: text(a, "system_scope"),
        }
    }

    fn overlay(&mut self, o: &AuthConfig) {
        overlay_opt(&mut self.auth_url, &o.auth_url);
        overlay_opt(&mut self.username, &o.username);
        overlay_opt(&mut self.user_id, &o.user_id);
        overlay_opt(&mut self.password, &o.password);
        overlay_opt(&mut self.project_name, &o.project_name);
        overlay_opt(&mut self.project_id, &o.project_id);
        overlay_opt(&mut self.user_domain_name, &o.user_domain_name);
        overlay_opt(&mut self.user_domain_id, &o.user_domain_id);
        overlay_opt(&mut self.project_domain_name, &o.project_domain_name);
        overlay_opt(&mut self.project_domain_id, &o.project_domain_id);
        overlay_opt(&mut self.default_domain_name, &o.default_domain_name);
        overlay_opt(&mut self.default_domain_id, &o.default_domain_id);
        overlay_opt(
            &mut self.application_credential_id,
            &o.application_credential_id,
        );
        overlay_opt(
            &mut self.application_credential_name,
            &o.application_credential_name,
        );
        overlay_opt(
            &mut self.application_credential_secret,
            &o.application_credential_secret,
        );
        overlay_opt(&mut self.token, &o.token);
        overlay_opt(&mut self.system_scope, &o.system_scope);
    }

    fn domain(&self, id: &Option<String>, name: &Option<String>) -> Domain {
        match (id, name, &self.default_domain_id, &self.default_domain_name) {
            (Some(id), _, _, _) => Domain::id(id),
            (None, Some(name), _, _) => Domain::name(name),
            (None, None, Some(id), _) => Domain::id(id),
            (None, None, None, Some(name)) => Domain::name(name),
            (None, None, None, None) => Domain::id("default"),
        }
    }

    /// The user: by id, else by name in the user's domain.
    pub fn user(&self) -> Option<User> {
        if let Some(id) = &self.user_id {
            return Some(User::id(id));
        }
        self.username.as_ref().map(|name| {
            User::name(
                name,
                self.domain(&self.user_domain_id, &self.user_domain_name),
            )
        })
    }

    /// The project: by id, else by name in the project's domain.
    pub fn project(&self) -> Option<Project> {
        if let Some(id) = &self.project_id {
            return Some(Project::id(id));
        }
        self.project_name.as_ref().map(|name| {
            Project::name(
                name,
                self.domain(&self.project_domain_id, &self.project_domain_name),
            )
        })
    }
}

/// How a [`CloudConfig`] authenticates, once resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthMode {
    /// Keystone, with these credentials.
    Keystone(Credentials),
    /// This token as it is, to the explicit image endpoint.
    Token(Secret),
    /// No authentication at all (`auth_type: none`).
    None,
}

/// Looks a variable up.
type Lookup<'a> = Box<dyn Fn(&str) -> Option<String> + 'a>;

/// The environment a configuration is read from: variables and the
/// current directory. Tests give their own instead of the process's.
pub struct Environment<'a> {
    vars: Lookup<'a>,
    cwd: PathBuf,
}

impl fmt::Debug for Environment<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Environment")
            .field("cwd", &self.cwd)
            .finish_non_exhaustive()
    }
}

impl<'a> Environment<'a> {
    /// Variables looked up with `vars` (empty values count as unset), in
    /// directory `cwd`.
    pub fn new(vars: impl Fn(&str) -> Option<String> + 'a, cwd: impl Into<PathBuf>) -> Self {
        Environment {
            vars: Box::new(vars),
            cwd: cwd.into(),
        }
    }

    /// The process's environment and current directory.
    pub fn process() -> Environment<'static> {
        Environment {
            vars: Box::new(|k| std::env::var(k).ok()),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        }
    }

    /// A variable, if set and not empty.
    pub fn var(&self, name: &str) -> Option<String> {
        (self.vars)(name).filter(|v| !v.is_empty())
    }

    fn first_var(&self, names: &[&str]) -> Option<String> {
        names.iter().find_map(|n| self.var(n))
    }

    fn user_config_dir(&self) -> Option<PathBuf> {
        self.var("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .or_else(|| self.var("HOME").map(|h| Path::new(&h).join(".config")))
            .map(|d| d.join("openstack"))
    }

    fn candidates(&self, override_var: &str, stem: &str) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = self
            .var(override_var)
            .map(PathBuf::from)
            .into_iter()
            .collect();
        let dirs = [
            Some(self.cwd.clone()),
            self.user_config_dir(),
            Some(PathBuf::from("/etc/openstack")),
        ];
        for dir in dirs.into_iter().flatten() {
            for ext in ["yaml", "yml", "json"] {
                out.push(dir.join(format!("{stem}.{ext}")));
            }
        }
        out
    }

    /// Where `clouds.yaml` is looked for, in order.
    pub fn clouds_yaml_paths(&self) -> Vec<PathBuf> {
        self.candidates("OS_CLIENT_CONFIG_FILE", "clouds")
    }

    /// Where `secure.yaml` is looked for, in order.
    pub fn secure_yaml_paths(&self) -> Vec<PathBuf> {
        self.candidates("OS_CLIENT_SECURE_FILE", "secure")
    }
}

fn first_existing(paths: &[PathBuf]) -> Option<&PathBuf> {
    paths.iter().find(|p| p.is_file())
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| Error::Config(format!("cannot read {}: {e}", path.display())))
}

impl CloudConfig {
    /// The configuration the environment selects: the cloud named by
    /// `OS_CLOUD` from `clouds.yaml`, or else the `OS_*` variables.
    pub fn from_env() -> Result<CloudConfig> {
        CloudConfig::from_environment(&Environment::process())
    }

    /// [`CloudConfig::from_env`] with a given [`Environment`].
    pub fn from_environment(env: &Environment<'_>) -> Result<CloudConfig> {
        match env.var("OS_CLOUD") {
            Some(name) => CloudConfig::from_cloud_in(&name, env),
            None => Ok(CloudConfig::from_env_vars(env)),
        }
    }

    /// The cloud `name` of the first `clouds.yaml` found (with
    /// `secure.yaml` merged in).
    pub fn from_cloud(name: &str) -> Result<CloudConfig> {
        CloudConfig::from_cloud_in(name, &Environment::process())
    }

    /// [`CloudConfig::from_cloud`] with a given [`Environment`].
    pub fn from_cloud_in(name: &str, env: &Environment<'_>) -> Result<CloudConfig> {
        let paths = env.clouds_yaml_paths();
        let Some(path) = first_existing(&paths) else {
            let looked: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
            return Err(Error::Config(format!(
                "cloud {name:?} asked for, but no clouds.yaml found (looked for {})",
                looked.join(", ")
            )));
        };
        let clouds = read(path)?;
        let secure_paths = env.secure_yaml_paths();
        let secure = match first_existing(&secure_paths) {
            Some(p) => Some((read(p)?, p.display().to_string())),
            None => None,
        };
        CloudConfig::from_clouds_yaml(
            &clouds,
            &path.display().to_string(),
            secure
                .as_ref()
                .map(|(text, path)| (text.as_str(), path.as_str())),
            name,
        )
    }

    /// The cloud `name` of a `clouds.yaml` document, with a `secure.yaml`
    /// document merged over it. The paths only name the files in errors.
    pub fn from_clouds_yaml(
        clouds: &str,
        clouds_path: &str,
        secure: Option<(&str, &str)>,
        name: &str,
    ) -> Result<CloudConfig> {
        let mut doc = yaml::parse(clouds, clouds_path)?;
        if let Some((text, path)) = secure {
            yaml::merge(&mut doc, &yaml::parse(text, path)?);
        }
        let Some(cloud) = doc.get("clouds").and_then(|c| c.get(name)) else {
            let known: Vec<&str> = doc
                .get("clouds")
                .and_then(Value::as_object)
                .map(|m| m.keys().map(String::as_str).collect())
                .unwrap_or_default();
            return Err(Error::Config(format!(
                "cloud {name:?} not found in {clouds_path} (it has: {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )));
        };
        if cloud.get("profile").is_some() {
            tracing::debug!(cloud = name, "clouds.yaml profiles are not read");
        }
        let region = text(cloud, "region_name").or_else(|| {
            cloud
                .get("regions")
                .and_then(Value::as_array)
                .and_then(|r| r.first())
                .and_then(|r| match r {
                    Value::String(s) => Some(s.clone()),
                    other => text(other, "name"),
                })
        });
        let insecure = match (boolean(cloud, "verify"), boolean(cloud, "insecure")) {
            (Some(verify), _) => Some(!verify),
            (None, insecure) => insecure,
        };
        Ok(CloudConfig {
            name: Some(name.to_owned()),
            auth_type: text(cloud, "auth_type"),
            auth: cloud
                .get("auth")
                .map(AuthConfig::from_json)
                .unwrap_or_default(),
            region_name: region,
            interface: text(cloud, "interface").or_else(|| text(cloud, "endpoint_type")),
            cacert: text(cloud, "cacert").map(PathBuf::from),
            cert: text(cloud, "cert").map(PathBuf::from),
            key: text(cloud, "key").map(PathBuf::from),
            insecure,
            image_endpoint: text(cloud, "image_endpoint_override"),
        })
    }

    /// The `OS_*` variables python-glanceclient and openstacksdk read
    /// (`OS_CLOUD` aside).
    pub fn from_env_vars(env: &Environment<'_>) -> CloudConfig {
        let v = |names: &[&str]| env.first_var(names);
        CloudConfig {
            name: None,
            auth_type: v(&["OS_AUTH_TYPE"]),
            auth: AuthConfig {
                auth_url: v(&["OS_AUTH_URL"]),
                username: v(&["OS_USERNAME"]),
                user_id: v(&["OS_USER_ID"]),
                password: v(&["OS_PASSWORD"]).map(Secret::from),
                project_name: v(&["OS_PROJECT_NAME", "OS_TENANT_NAME"]),
                project_id: v(&["OS_PROJECT_ID", "OS_TENANT_ID"]),
                user_domain_name: v(&["OS_USER_DOMAIN_NAME"]),
                user_domain_id: v(&["OS_USER_DOMAIN_ID"]),
                project_domain_name: v(&["OS_PROJECT_DOMAIN_NAME"]),
                project_domain_id: v(&["OS_PROJECT_DOMAIN_ID"]),
                default_domain_name: v(&["OS_DEFAULT_DOMAIN_NAME"]),
                default_domain_id: v(&["OS_DEFAULT_DOMAIN_ID", "OS_DEFAULT_DOMAIN"]),
                application_credential_id: v(&["OS_APPLICATION_CREDENTIAL_ID"]),
                application_credential_name: v(&["OS_APPLICATION_CREDENTIAL_NAME"]),
                application_credential_secret: v(&["OS_APPLICATION_CREDENTIAL_SECRET"])
                    .map(Secret::from),
                token: v(&["OS_AUTH_TOKEN", "OS_TOKEN"]).map(Secret::from),
                system_scope: v(&["OS_SYSTEM_SCOPE"]),
            },
            region_name: v(&["OS_REGION_NAME"]),
            interface: v(&["OS_INTERFACE", "OS_ENDPOINT_TYPE"]),
            cacert: v(&["OS_CACERT"]).map(PathBuf::from),
            cert: v(&["OS_CERT"]).map(PathBuf::from),
            key: v(&["OS_KEY"]).map(PathBuf::from),
            insecure: v(&["OS_INSECURE"]).and_then(|s| parse_bool(&s)),
            image_endpoint: v(&["OS_IMAGE_URL"]),
        }
    }

    /// Layer `over` on this configuration: each value it has replaces ours.
    pub fn overlay(&mut self, over: &CloudConfig) {
        overlay_opt(&mut self.name, &over.name);
        overlay_opt(&mut self.auth_type, &over.auth_type);
        self.auth.overlay(&over.auth);
        overlay_opt(&mut self.region_name, &over.region_name);
        overlay_opt(&mut self.interface, &over.interface);
        overlay_opt(&mut self.cacert, &over.cacert);
        overlay_opt(&mut self.cert, &over.cert);
        overlay_opt(&mut self.key, &over.key);
        overlay_opt(&mut self.insecure, &over.insecure);
        overlay_opt(&mut self.image_endpoint, &over.image_endpoint);
    }

    /// How this configuration authenticates (see the [module](self) docs),
    /// or what is missing.
    pub fn auth_mode(&self) -> Result<AuthMode> {
        let a = &self.auth;
        let kind = self
            .auth_type
            .as_deref()
            .map(|t| t.trim().to_ascii_lowercase().replace('-', "_"));
        let missing = |what: &str| Err(Error::Config(format!("missing {what}")));
        let app_cred = || -> Result<AuthMode> {
            let Some(secret) = a.application_credential_secret.clone() else {
                return missing(
                    "the application credential secret (application_credential_secret, OS_APPLICATION_CREDENTIAL_SECRET)",
                );
            };
            let credential = match (&a.application_credential_id, &a.application_credential_name) {
                (Some(id), _) => AppCredential::id(id),
                (None, Some(name)) => match a.user() {
                    Some(user) => AppCredential::name(name, user),
                    None => {
                        return missing(
                            "the user (username or user_id) of the application credential named by name",
                        );
                    }
                },
                (None, None) => {
                    return missing(
                        "the application credential id or name (application_credential_id, OS_APPLICATION_CREDENTIAL_ID)",
                    );
                }
            };
            Ok(AuthMode::Keystone(Credentials::ApplicationCredential {
                credential,
                secret,
            }))
        };
        let password = || -> Result<AuthMode> {
            let Some(user) = a.user() else {
                return missing("a username or user id (username, OS_USERNAME)");
            };
            let Some(password) = a.password.clone() else {
                return missing("a password (password, OS_PASSWORD)");
            };
            Ok(AuthMode::Keystone(Credentials::Password { user, password }))
        };
        let token = || -> Result<AuthMode> {
            match a.token.clone() {
                Some(t) => Ok(AuthMode::Keystone(Credentials::Token(t))),
                None => missing("a token (token, OS_AUTH_TOKEN)"),
            }
        };
        match kind.as_deref() {
            Some("password" | "v3password") => password(),
            Some(
                "v3applicationcredential" | "applicationcredential" | "application_credential",
            ) => app_cred(),
            Some("token" | "v3token") => token(),
            Some("admin_token" | "token_endpoint" | "v3adminendpoint") => match a.token.clone() {
                Some(t) => Ok(AuthMode::Token(t)),
                None => missing("a token (token, OS_AUTH_TOKEN)"),
            },
            Some("none" | "noauth") => Ok(AuthMode::None),
            Some(other) => Err(Error::Config(format!(
                "unsupported auth_type {other:?} (supported: password, v3applicationcredential, token, admin_token, none)"
            ))),
            None => {
                let has_user = a.username.is_some() || a.user_id.is_some();
                let has_app_cred = a.application_credential_id.is_some()
                    || a.application_credential_name.is_some();
                if let (Some(_), Some(t), false, false) =
                    (&self.image_endpoint, &a.token, has_user, has_app_cred)
                {
                    Ok(AuthMode::Token(t.clone()))
                } else if has_app_cred {
                    app_cred()
                } else if has_user {
                    password()
                } else if a.token.is_some() {
                    token()
                } else {
                    missing(
                        "credentials: a username and password, an application credential or a token",
                    )
                }
            }
        }
    }

    /// Set `builder` up from this configuration: TLS, interface, region,
    /// endpoint and authentication.
    pub fn apply(&self, mut builder: ClientBuilder) -> Result<ClientBuilder> {
        if let Some(ca) = &self.cacert {
            builder = builder.ca_cert_file(ca);
        }
        match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => builder = builder.client_cert_file(cert, key),
            (Some(cert), None) => builder = builder.client_cert_file(cert, cert),
            (None, Some(_)) => {
                return Err(Error::Config(
                    "a client key given without its certificate (cert, OS_CERT)".into(),
                ));
            }
            (None, None) => {}
        }
        if let Some(insecure) = self.insecure {
            builder = builder.danger_accept_invalid_certs(insecure);
        }
        if let Some(endpoint) = &self.image_endpoint {
            builder = builder.endpoint(endpoint);
        }
        if let Some(region) = &self.region_name {
            builder = builder.region(region);
        }
        if let Some(interface) = &self.interface {
            builder = builder.interface(interface.parse::<Interface>()?);
        }
        match self.auth_mode()? {
            AuthMode::Token(t) => builder = builder.token(t.expose()),
            AuthMode::None => {}
            AuthMode::Keystone(credentials) => {
                let Some(url) = &self.auth.auth_url else {
                    return Err(Error::Config(
                        "missing the auth URL (auth_url, OS_AUTH_URL)".into(),
                    ));
                };
                let scoped = !matches!(credentials, Credentials::ApplicationCredential { .. });
                builder = builder.auth_url(url).credentials(credentials);
                match (
                    scoped,
                    self.auth.system_scope.as_deref(),
                    self.auth.project(),
                ) {
                    (false, _, _) => {}
                    (true, Some(_), Some(_)) => {
                        return Err(Error::Config(
                            "give a project or a system scope, not both".into(),
                        ));
                    }
                    (true, Some("all"), None) => builder = builder.system_scope(),
                    (true, Some(other), None) => {
                        return Err(Error::Config(format!(
                            "system_scope {other:?}: only \"all\" is a system scope"
                        )));
                    }
                    (true, None, Some(project)) => builder = builder.project(project),
                    (true, None, None) => {}
                }
            }
        }
        Ok(builder)
    }
}

impl ClientBuilder {
    /// A builder set up from the environment: the cloud `OS_CLOUD` names
    /// in `clouds.yaml`, else the `OS_*` variables (see [`crate::config`]).
    pub fn from_env() -> Result<ClientBuilder> {
        CloudConfig::from_env()?.apply(ClientBuilder::default())
    }

    /// A builder set up from the cloud `name` of `clouds.yaml`.
    pub fn from_cloud(name: &str) -> Result<ClientBuilder> {
        CloudConfig::from_cloud(name)?.apply(ClientBuilder::default())
    }

    /// A builder set up from `config`.
    pub fn from_config(config: &CloudConfig) -> Result<ClientBuilder> {
        config.apply(ClientBuilder::default())
    }
}

#[cfg(test)]
mod tests;
