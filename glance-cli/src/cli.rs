//! Every argument of the `glance` command, in python-glanceclient's names.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Command-line interface to the OpenStack Image service (Glance) API v2.
#[derive(Debug, Parser)]
#[command(name = "glance", version, about, propagate_version = true)]
pub struct Cli {
    /// Image service endpoint, e.g. http://controller:9292.
    #[arg(long, env = "OS_IMAGE_URL", global = true, hide_env_values = true)]
    pub os_image_url: Option<String>,

    /// Keystone token sent as X-Auth-Token.
    #[arg(long, env = "OS_AUTH_TOKEN", global = true, hide_env_values = true)]
    pub os_auth_token: Option<String>,

    /// Keystone and TLS options (keystoneauth's names).
    #[command(flatten)]
    pub auth: AuthArgs,

    /// Accepted for compatibility; only version 2 exists here.
    #[arg(long, env = "OS_IMAGE_API_VERSION", global = true, hide = true)]
    pub os_image_api_version: Option<String>,

    /// Skip TLS certificate verification.
    #[arg(long, env = "OS_INSECURE", global = true, value_parser = clap::builder::BoolishValueParser::new())]
    pub insecure: bool,

    /// Seconds to wait for a metadata request (data transfers are exempt).
    #[arg(long, default_value_t = 600, global = true)]
    pub timeout: u64,

    /// Output format.
    #[arg(short = 'f', long = "format", value_enum, default_value_t = Format::Table, global = true)]
    pub format: Format,

    /// Show each request and response (tokens are never printed).
    #[arg(short = 'd', long, env = "GLANCECLIENT_DEBUG", global = true, value_parser = clap::builder::BoolishValueParser::new())]
    pub debug: bool,

    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The global options of keystoneauth and openstacksdk, each with its
/// `OS_*` default. Given explicitly (or by variable), they override the
/// values of the `--os-cloud` cloud.
#[derive(Debug, Default, Args)]
pub struct AuthArgs {
    /// Named cloud of clouds.yaml to connect to.
    #[arg(long, env = "OS_CLOUD", global = true, help_heading = "Authentication")]
    pub os_cloud: Option<String>,

    /// Authentication type to use: password, v3applicationcredential, token.
    #[arg(
        long,
        env = "OS_AUTH_TYPE",
        global = true,
        help_heading = "Authentication"
    )]
    pub os_auth_type: Option<String>,

    /// Authentication URL (Keystone).
    #[arg(
        long,
        env = "OS_AUTH_URL",
        global = true,
        help_heading = "Authentication"
    )]
    pub os_auth_url: Option<String>,

    /// Username.
    #[arg(
        long,
        env = "OS_USERNAME",
        global = true,
        help_heading = "Authentication"
    )]
    pub os_username: Option<String>,

    /// User id.
    #[arg(
        long,
        env = "OS_USER_ID",
        global = true,
        help_heading = "Authentication"
    )]
    pub os_user_id: Option<String>,

    /// User's password.
    #[arg(
        long,
        env = "OS_PASSWORD",
        global = true,
        hide_env_values = true,
        help_heading = "Authentication"
    )]
    pub os_password: Option<String>,

    /// Project name to scope to.
    #[arg(
        long,
        env = "OS_PROJECT_NAME",
        global = true,
        help_heading = "Authentication"
    )]
    pub os_project_name: Option<String>,

    /// Project id to scope to.
    #[arg(
        long,
        env = "OS_PROJECT_ID",
        global = true,
        help_heading = "Authentication"
    )]
    pub os_project_id: Option<String>,

    /// Deprecated name of --os-project-name.
    #[arg(long, env = "OS_TENANT_NAME", global = true, hide = true)]
    pub os_tenant_name: Option<String>,

    /// Deprecated name of --os-project-id.
    #[arg(long, env = "OS_TENANT_ID", global = true, hide = true)]
    pub os_tenant_id: Option<String>,

    /// User's domain name.
    #[arg(
        long,
        env = "OS_USER_DOMAIN_NAME",
        global = true,
        help_heading = "Authentication"
    )]
    pub os_user_domain_name: Option<String>,

    /// User's domain id.
    #[arg(
        long,
        env = "OS_USER_DOMAIN_ID",
        global = true,
        help_heading = "Authentication"
    )]
    pub os_user_domain_id: Option<String>,

    /// Domain name containing project.
    #[arg(
        long,
        env = "OS_PROJECT_DOMAIN_NAME",
        global = true,
        help_heading = "Authentication"
    )]
    pub os_project_domain_name: Option<String>,

    /// Domain id containing project.
    #[arg(
        long,
        env = "OS_PROJECT_DOMAIN_ID",
        global = true,
        help_heading = "Authentication"
    )]
    pub os_project_domain_id: Option<String>,

    /// Application credential id.
    #[arg(
        long,
        env = "OS_APPLICATION_CREDENTIAL_ID",
        global = true,
        help_heading = "Authentication"
    )]
    pub os_application_credential_id: Option<String>,

    /// Application credential name.
    #[arg(
        long,
        env = "OS_APPLICATION_CREDENTIAL_NAME",
        global = true,
        help_heading = "Authentication"
    )]
    pub os_application_credential_name: Option<String>,

    /// Application credential secret.
    #[arg(
        long,
        env = "OS_APPLICATION_CREDENTIAL_SECRET",
        global = true,
        hide_env_values = true,
        help_heading = "Authentication"
    )]
    pub os_application_credential_secret: Option<String>,

    /// Region of the Image service endpoint in the catalog.
    #[arg(
        long,
        env = "OS_REGION_NAME",
        global = true,
        help_heading = "Authentication"
    )]
    pub os_region_name: Option<String>,

    /// Interface of the Image service endpoint: public, internal or admin.
    #[arg(
        long,
        env = "OS_INTERFACE",
        global = true,
        help_heading = "Authentication"
    )]
    pub os_interface: Option<String>,

    /// Older name of --os-interface (publicURL, internalURL, adminURL too).
    #[arg(
        long,
        env = "OS_ENDPOINT_TYPE",
        global = true,
        help_heading = "Authentication"
    )]
    pub os_endpoint_type: Option<String>,

    /// Service type of the Image service in the catalog.
    #[arg(long, env = "OS_SERVICE_TYPE", global = true, hide = true)]
    pub os_service_type: Option<String>,

    /// CA certificate bundle file used to verify TLS servers.
    #[arg(long, env = "OS_CACERT", global = true, help_heading = "TLS")]
    pub os_cacert: Option<PathBuf>,

    /// Client certificate (PEM), with --os-key.
    #[arg(long, env = "OS_CERT", global = true, help_heading = "TLS")]
    pub os_cert: Option<PathBuf>,

    /// Client certificate's key (PEM).
    #[arg(long, env = "OS_KEY", global = true, help_heading = "TLS")]
    pub os_key: Option<PathBuf>,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Tables as python-glanceclient prints them.
    Table,
    /// JSON for scripts.
    Json,
}

/// The subcommands (named as python-glanceclient's, hence the shared prefix for now).
#[derive(Debug, Subcommand)]
#[allow(clippy::enum_variant_names)]
pub enum Command {
    /// Create a new image.
    ImageCreate(ImageCreate),
    /// List images you can access.
    ImageList(ImageList),
    /// Describe a specific image.
    ImageShow(ImageShow),
    /// Upload data for a specific image.
    ImageUpload(ImageUpload),
    /// Download a specific image.
    ImageDownload(ImageDownload),
    /// Delete specified image(s).
    ImageDelete(ImageDelete),
}

/// `image-create`.
#[derive(Debug, Args)]
pub struct ImageCreate {
    /// An identifier for the image (a UUID).
    #[arg(long)]
    pub id: Option<String>,
    /// Descriptive name for the image.
    #[arg(long)]
    pub name: Option<String>,
    /// Scope of image accessibility. Valid values: community, public, private, shared.
    #[arg(long)]
    pub visibility: Option<String>,
    /// If true, image will not be deletable.
    #[arg(long, value_parser = parse_bool)]
    pub protected: Option<bool>,
    /// If true, image won't be listed by default.
    #[arg(long, value_parser = parse_bool)]
    pub hidden: Option<bool>,
    /// Format of the container. Valid values: ami, ari, aki, bare, ovf, ova, docker, compressed.
    #[arg(long)]
    pub container_format: Option<String>,
    /// Format of the disk. Valid values: ami, ari, aki, vhd, vhdx, vmdk, raw, qcow2, vdi, iso, ploop.
    #[arg(long)]
    pub disk_format: Option<String>,
    /// Amount of disk space (in GB) required to boot image.
    #[arg(long)]
    pub min_disk: Option<u64>,
    /// Amount of ram (in MB) required to boot image.
    #[arg(long)]
    pub min_ram: Option<u64>,
    /// Owner of the image (admins only may name another project).
    #[arg(long)]
    pub owner: Option<String>,
    /// List of strings related to the image.
    #[arg(long, num_args = 1..)]
    pub tags: Vec<String>,
    /// Arbitrary property to associate with image. May be used multiple times.
    #[arg(long = "property", value_name = "KEY=VALUE", value_parser = parse_property)]
    pub properties: Vec<(String, String)>,
    /// Local file that contains the image data to upload (`-` for stdin).
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Not supported at creation: the size comes from the data.
    #[arg(long, hide = true)]
    pub size: Option<u64>,
    /// Show upload progress bar.
    #[arg(long)]
    pub progress: bool,
    /// Backend store to upload image to.
    #[arg(long, env = "OS_IMAGE_STORE")]
    pub store: Option<String>,
}

/// `image-list`.
#[derive(Debug, Args)]
pub struct ImageList {
    /// Maximum number of images to get.
    #[arg(long)]
    pub limit: Option<u64>,
    /// Number of images to request in each paginated request.
    #[arg(long)]
    pub page_size: Option<u32>,
    /// The visibility of the images to display.
    #[arg(long)]
    pub visibility: Option<String>,
    /// The status of images to display.
    #[arg(long)]
    pub member_status: Option<String>,
    /// Display images owned by `OWNER`.
    #[arg(long)]
    pub owner: Option<String>,
    /// Filter images by a user-defined image property.
    #[arg(long = "property-filter", value_name = "KEY=VALUE", value_parser = parse_property)]
    pub property_filter: Vec<(String, String)>,
    /// Displays images that match the MD5 checksum.
    #[arg(long)]
    pub checksum: Option<String>,
    /// Displays images that match the specified hash value.
    #[arg(long)]
    pub hash: Option<String>,
    /// Filter images by a user-defined tag.
    #[arg(long)]
    pub tag: Vec<String>,
    /// Sort image list by specified fields.
    #[arg(long = "sort-key", value_parser = SORT_KEYS)]
    pub sort_key: Vec<String>,
    /// Sort image list in specified directions.
    #[arg(long = "sort-dir", value_parser = ["asc", "desc"])]
    pub sort_dir: Vec<String>,
    /// Comma-separated list of sort keys and directions in the form of `key[:asc|desc]`.
    #[arg(long, conflicts_with_all = ["sort_key", "sort_dir"])]
    pub sort: Option<String>,
    /// Filters results by hidden status.
    #[arg(long, value_parser = parse_bool)]
    pub hidden: Option<bool>,
    /// Print the stores holding each image.
    #[arg(long, value_parser = parse_bool, num_args = 0..=1, default_missing_value = "true")]
    pub include_stores: Option<bool>,
    /// Show more columns.
    #[arg(long)]
    pub verbose: bool,
}

/// Keys python-glanceclient accepts for `--sort-key`.
pub const SORT_KEYS: [&str; 8] = [
    "name",
    "status",
    "container_format",
    "disk_format",
    "size",
    "id",
    "created_at",
    "updated_at",
];

/// `image-show`.
#[derive(Debug, Args)]
pub struct ImageShow {
    /// ID of image to describe.
    pub id: String,
    /// Print image size in a human-friendly format.
    #[arg(long)]
    pub human_readable: bool,
    /// The max column width of the printed table.
    #[arg(long, default_value_t = 80)]
    pub max_column_width: u16,
}

/// `image-upload`.
#[derive(Debug, Args)]
pub struct ImageUpload {
    /// ID of image to upload data to.
    pub id: String,
    /// Local file that contains the image data (`-` for stdin).
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Size in bytes of image to be uploaded.
    #[arg(long)]
    pub size: Option<u64>,
    /// Show upload progress bar.
    #[arg(long)]
    pub progress: bool,
    /// Backend store to upload image to.
    #[arg(long, env = "OS_IMAGE_STORE")]
    pub store: Option<String>,
}

/// `image-download`.
#[derive(Debug, Args)]
pub struct ImageDownload {
    /// ID of image to download.
    pub id: String,
    /// Local file to save downloaded image data to. Without it, data goes to stdout.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Show download progress bar.
    #[arg(long)]
    pub progress: bool,
    /// Validate with the md5 checksum if the image's os_hash_algo is not supported.
    #[arg(long, env = "OS_IMAGE_ALLOW_MD5_FALLBACK")]
    pub allow_md5_fallback: bool,
}

/// `image-delete`.
#[derive(Debug, Args)]
pub struct ImageDelete {
    /// ID of image(s) to delete.
    #[arg(required = true)]
    pub ids: Vec<String>,
}

/// Booleans as python-glanceclient's strict parser takes them.
pub fn parse_bool(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "t" | "true" | "y" | "yes" | "on" => Ok(true),
        "0" | "f" | "false" | "n" | "no" | "off" => Ok(false),
        _ => Err(format!(
            "Unrecognized value '{s}', acceptable values are: '0', '1', 'f', 'false', 'n', 'no', 'off', 'on', 't', 'true', 'y', 'yes'"
        )),
    }
}

/// `KEY=VALUE`.
pub fn parse_property(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_owned(), v.to_owned())),
        _ => Err(format!("'{s}' is not in the format of KEY=VALUE")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn parsers() {
        assert_eq!(parse_bool("Yes"), Ok(true));
        assert_eq!(parse_bool("off"), Ok(false));
        assert!(parse_bool("maybe").is_err());
        assert_eq!(parse_property("a=b=c"), Ok(("a".into(), "b=c".into())));
        assert!(parse_property("novalue").is_err());
    }
}
