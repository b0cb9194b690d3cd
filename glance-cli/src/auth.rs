//! From the global options to a client builder, as python-glanceclient's
//! shell decides: `--os-image-url` with `--os-auth-token` is the token as
//! it is; anything else goes through Keystone (the `--os-cloud` cloud with
//! the explicit options over it), with glanceclient's messages for what is
//! missing.

use anyhow::{Result, bail};
use glance_client::config::AuthConfig;
use glance_client::{Client, ClientBuilder, CloudConfig};

use crate::cli::{AuthArgs, Cli};

/// The options given (or set by their variables), as a configuration layer.
fn overrides(cli: &Cli) -> CloudConfig {
    let a: &AuthArgs = &cli.auth;
    let mut auth = AuthConfig::default();
    auth.auth_url.clone_from(&a.os_auth_url);
    auth.username.clone_from(&a.os_username);
    auth.user_id.clone_from(&a.os_user_id);
    auth.password = a.os_password.as_ref().map(Into::into);
    auth.project_name = a.os_project_name.clone().or(a.os_tenant_name.clone());
    auth.project_id = a.os_project_id.clone().or(a.os_tenant_id.clone());
    auth.user_domain_name.clone_from(&a.os_user_domain_name);
    auth.user_domain_id.clone_from(&a.os_user_domain_id);
    auth.project_domain_name
        .clone_from(&a.os_project_domain_name);
    auth.project_domain_id.clone_from(&a.os_project_domain_id);
    auth.application_credential_id
        .clone_from(&a.os_application_credential_id);
    auth.application_credential_name
        .clone_from(&a.os_application_credential_name);
    auth.application_credential_secret =
        a.os_application_credential_secret.as_ref().map(Into::into);
    auth.token = cli.os_auth_token.as_ref().map(Into::into);
    let mut config = CloudConfig::default();
    config.auth = auth;
    config.auth_type.clone_from(&a.os_auth_type);
    config.region_name.clone_from(&a.os_region_name);
    config.interface = a.os_interface.clone().or(a.os_endpoint_type.clone());
    config.cacert.clone_from(&a.os_cacert);
    config.cert.clone_from(&a.os_cert);
    config.key.clone_from(&a.os_key);
    config.insecure = cli.insecure.then_some(true);
    config.image_endpoint.clone_from(&cli.os_image_url);
    config
}

/// The auth types that name a Keystone method, normalised.
fn kind(config: &CloudConfig) -> Option<String> {
    config
        .auth_type
        .as_deref()
        .map(|t| t.trim().to_ascii_lowercase().replace('-', "_"))
}

const USERNAME: &str = "You must provide a username via either --os-username or env[OS_USERNAME]";

/// python-glanceclient's checks (and the same style for application
/// credentials), in its order: user, password, project, auth URL.
fn check(config: &CloudConfig) -> Result<()> {
    let a = &config.auth;
    let kind = kind(config);
    let has_user = a.username.is_some() || a.user_id.is_some();
    let app_cred = match kind.as_deref() {
        Some("v3applicationcredential" | "applicationcredential" | "application_credential") => {
            true
        }
        None => a.application_credential_id.is_some() || a.application_credential_name.is_some(),
        _ => false,
    };
    let token = match kind.as_deref() {
        Some("token" | "v3token") => true,
        None => !app_cred && !has_user && a.token.is_some(),
        _ => false,
    };
    if matches!(
        kind.as_deref(),
        Some("none" | "noauth" | "admin_token" | "token_endpoint")
    ) {
        return Ok(());
    }
    if app_cred {
        if a.application_credential_id.is_none() && a.application_credential_name.is_none() {
            bail!(
                "You must provide an application credential id or name via either --os-application-credential-id, --os-application-credential-name, env[OS_APPLICATION_CREDENTIAL_ID] or env[OS_APPLICATION_CREDENTIAL_NAME]"
            );
        }
        if a.application_credential_id.is_none() && !has_user {
            bail!("{USERNAME}");
        }
        if a.application_credential_secret.is_none() {
            bail!(
                "You must provide an application credential secret via either --os-application-credential-secret or env[OS_APPLICATION_CREDENTIAL_SECRET]"
            );
        }
    } else if token {
        if a.token.is_none() {
            bail!("You must provide a token via either --os-auth-token or env[OS_AUTH_TOKEN]");
        }
    } else {
        if !has_user {
            bail!("{USERNAME}");
        }
        if a.password.is_none() {
            bail!(
                "You must provide a password via either --os-password, env[OS_PASSWORD], or prompted response"
            );
        }
        if a.project_name.is_none() && a.project_id.is_none() {
            bail!(
                "You must provide a project_id or project_name (with project_domain_name or project_domain_id) via   --os-project-id (env[OS_PROJECT_ID])  --os-project-name (env[OS_PROJECT_NAME]),  --os-project-domain-id (env[OS_PROJECT_DOMAIN_ID])  --os-project-domain-name (env[OS_PROJECT_DOMAIN_NAME])"
            );
        }
    }
    if a.auth_url.is_none() {
        bail!("You must provide an auth url via either --os-auth-url or via env[OS_AUTH_URL]");
    }
    Ok(())
}

/// The client builder the global options describe.
pub fn builder(cli: &Cli) -> Result<ClientBuilder> {
    let given = overrides(cli);
    if let (Some(url), Some(token)) = (&cli.os_image_url, &cli.os_auth_token) {
        // glanceclient's token mode: this endpoint, this token, no Keystone.
        let mut config = CloudConfig::default();
        config.auth_type = Some("admin_token".into());
        config.auth.token = Some(token.into());
        config.image_endpoint = Some(url.clone());
        config.cacert = given.cacert;
        config.cert = given.cert;
        config.key = given.key;
        config.insecure = given.insecure;
        return Ok(config.apply(Client::builder())?);
    }
    let mut config = match &cli.auth.os_cloud {
        Some(name) => CloudConfig::from_cloud(name)?,
        None => CloudConfig::default(),
    };
    config.overlay(&given);
    check(&config)?;
    let mut builder = config.apply(Client::builder())?;
    if let Some(service_type) = &cli.auth.os_service_type {
        builder = builder.service_type(service_type);
    }
    Ok(builder)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// Parse `args` (their `OS_*` defaults come from the process: see
    /// [`clean_env`]).
    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(args).expect("parses")
    }

    /// Whether no `OS_*` variable would leak into the parsed options (the
    /// tests do not change the process environment; they skip otherwise).
    fn clean_env() -> bool {
        std::env::vars().all(|(k, _)| !k.starts_with("OS_"))
    }

    fn err(args: &[&str]) -> String {
        match builder(&parse(args)) {
            Ok(_) => panic!("expected an error for {args:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn glanceclients_messages_in_its_order() {
        if !clean_env() {
            return;
        }
        let base = ["glance", "image-list"];
        assert_eq!(err(&base), USERNAME);
        assert!(
            err(&["glance", "--os-username", "u", "image-list"])
                .starts_with("You must provide a password")
        );
        assert!(
            err(&[
                "glance",
                "--os-username",
                "u",
                "--os-password",
                "p",
                "image-list"
            ])
            .starts_with("You must provide a project_id or project_name")
        );
        assert_eq!(
            err(&[
                "glance",
                "--os-username",
                "u",
                "--os-password",
                "p",
                "--os-project-name",
                "demo",
                "image-list"
            ]),
            "You must provide an auth url via either --os-auth-url or via env[OS_AUTH_URL]"
        );
        assert!(
            err(&[
                "glance",
                "--os-application-credential-id",
                "x",
                "image-list"
            ])
            .contains("--os-application-credential-secret")
        );
        // An image URL alone still needs Keystone credentials.
        assert_eq!(
            err(&["glance", "--os-image-url", "http://g", "image-list"]),
            USERNAME
        );
    }

    #[test]
    fn complete_options_build() {
        if !clean_env() {
            return;
        }
        for args in [
            &[
                "glance",
                "--os-auth-url",
                "http://k:5000",
                "--os-username",
                "u",
                "--os-password",
                "p",
                "--os-tenant-name",
                "demo",
                "--os-endpoint-type",
                "internalURL",
                "image-list",
            ][..],
            &[
                "glance",
                "--os-auth-url",
                "http://k:5000",
                "--os-application-credential-id",
                "x",
                "--os-application-credential-secret",
                "s",
                "image-list",
            ],
            &[
                "glance",
                "--os-image-url",
                "http://g:9292",
                "--os-auth-token",
                "t",
                "image-list",
            ],
            &[
                "glance",
                "--os-auth-url",
                "http://k:5000",
                "--os-auth-token",
                "t",
                "image-list",
            ],
        ] {
            let b = builder(&parse(args)).expect("builder");
            b.build().expect("builds");
        }
    }
}
