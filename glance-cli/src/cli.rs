//! Every argument of the `glance` command, in python-glanceclient's names,
//! and [`run`], which hands each subcommand to its handler in `commands/`.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Parser, Subcommand};

use crate::commands::{
    Ctx, cache, data, images, import, info, locations, members, metadefs, tasks,
};
use crate::output::Format;

/// Command-line interface to the OpenStack Image service (Glance) API v2.
#[derive(Debug, Parser)]
#[command(
    name = "glance",
    version,
    about,
    propagate_version = true,
    after_help = EXIT_CODES
)]
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

    /// Seconds before a request times out: each attempt of a metadata request as a whole (retried once at most after a timeout), and, for data transfers, the longest time without a byte moving (a stalled download is resumed, then fails).
    #[arg(long, default_value_t = 600, global = true)]
    pub timeout: u64,

    /// Output format.
    #[arg(short = 'f', long = "format", value_enum, default_value_t = Format::Table, global = true)]
    pub format: Format,

    /// Show each request and response (tokens are never printed).
    #[arg(short = 'd', long, env = "GLANCECLIENT_DEBUG", global = true, value_parser = clap::builder::BoolishValueParser::new())]
    pub debug: bool,

    /// Show more columns (image-list, image-tasks).
    #[arg(short = 'v', long, global = true)]
    pub verbose: bool,

    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The exit statuses, shown at the end of `glance --help`.
pub const EXIT_CODES: &str = "\
Exit status:
  0    the command succeeded
  1    it failed: the server refused (the error line shows the HTTP status, the server's
       message and the request id), the input was invalid, a download did not verify,
       or stalled (no byte for --timeout seconds), or one of several ids (image-delete,
       cache-queue, cache-delete) failed
  2    the command line itself is wrong (unknown option, missing argument)
  129  hung up (SIGHUP); 130 interrupted (Ctrl-C); 143 terminated (SIGTERM): a download
       in progress leaves no temporary file

Run `glance help <command>` for a command's options.";

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

/// The subcommands, named as python-glanceclient's (hence the shared
/// prefixes). Each resource's arguments live beside its handlers in
/// `commands/<resource>.rs`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new image.
    ImageCreate(images::ImageCreate),
    /// EXPERIMENTAL: Create a new image via image import.
    ImageCreateViaImport(import::ImageCreateViaImport),
    /// Update an existing image.
    ImageUpdate(images::ImageUpdate),
    /// List images you can access.
    ImageList(images::ImageList),
    /// Describe a specific image.
    ImageShow(images::ImageShow),
    /// Upload data for a specific image.
    ImageUpload(data::ImageUpload),
    /// Upload data for a specific image to staging.
    ImageStage(import::ImageStage),
    /// Initiate the image import taskflow.
    ImageImport(import::ImageImport),
    /// Download a specific image.
    ImageDownload(data::ImageDownload),
    /// Delete specified image(s).
    ImageDelete(images::ImageDelete),
    /// Deactivate specified image.
    ImageDeactivate(images::ImageId),
    /// Reactivate specified image.
    ImageReactivate(images::ImageId),
    /// Update an image with the given tag.
    ImageTagUpdate(images::ImageTag),
    /// Delete the tag associated with the given image.
    ImageTagDelete(images::ImageTag),
    /// Get tasks associated with image.
    ImageTasks(images::ImageId),
    /// Add a location (and related metadata) to an image.
    LocationAdd(locations::LocationAdd),
    /// Remove locations (and related metadata) from an image.
    LocationDelete(locations::LocationDelete),
    /// Update metadata of an image's location.
    LocationUpdate(locations::LocationUpdate),
    /// Add location to an image which is in `queued` state only.
    AddLocation(locations::AddLocation),
    /// Describe sharing permissions by image.
    MemberList(members::MemberList),
    /// Show details of an image member.
    MemberGet(members::MemberIds),
    /// Create member for a given image.
    MemberCreate(members::MemberIds),
    /// Update the status of a member for a given image.
    MemberUpdate(members::MemberUpdate),
    /// Delete image member.
    MemberDelete(members::MemberIds),
    /// Print available backends from Glance.
    StoresInfo(info::StoresInfo),
    /// Delete image from specific store.
    StoresDelete(info::StoresDelete),
    /// Print import methods available from Glance.
    ImportInfo,
    /// Get quota usage information.
    Usage,
    /// Describe a specific model.
    Explain(info::Explain),
    /// List tasks you can access.
    TaskList(tasks::TaskList),
    /// Describe a specific task.
    TaskShow(tasks::TaskShow),
    /// Create a new task.
    TaskCreate(tasks::TaskCreate),
    /// Get cache state.
    CacheList,
    /// Queue image(s) for caching.
    CacheQueue(cache::CacheIds),
    /// Delete image from cache/caching queue.
    CacheDelete(cache::CacheIds),
    /// Clear all images from cache, queue or both.
    CacheClear(cache::CacheClear),
    /// Create a new metadata definitions namespace.
    MdNamespaceCreate(metadefs::NamespaceCreate),
    /// Import a metadata definitions namespace from file or standard input.
    MdNamespaceImport(metadefs::NamespaceImport),
    /// Update an existing metadata definitions namespace.
    MdNamespaceUpdate(metadefs::NamespaceUpdate),
    /// Describe a specific metadata definitions namespace.
    MdNamespaceShow(metadefs::NamespaceShow),
    /// List metadata definitions namespaces.
    MdNamespaceList(metadefs::NamespaceList),
    /// Delete specified metadata definitions namespace with its contents.
    MdNamespaceDelete(metadefs::Ns),
    /// Associate resource type with a metadata definitions namespace.
    MdResourceTypeAssociate(metadefs::ResourceTypeAssociate),
    /// Deassociate resource type with a metadata definitions namespace.
    MdResourceTypeDeassociate(metadefs::ResourceTypeDeassociate),
    /// List available resource type names.
    MdResourceTypeList,
    /// List resource types associated to specific namespace.
    MdNamespaceResourceTypeList(metadefs::Ns),
    /// Create a new metadata definitions property inside a namespace.
    MdPropertyCreate(metadefs::PropertyCreate),
    /// Update metadata definitions property inside a namespace.
    MdPropertyUpdate(metadefs::PropertyUpdate),
    /// Describe a specific metadata definitions property inside a namespace.
    MdPropertyShow(metadefs::PropertyShow),
    /// Delete a specific metadata definitions property inside a namespace.
    MdPropertyDelete(metadefs::PropertyName),
    /// Delete all metadata definitions property inside a specific namespace.
    MdNamespacePropertiesDelete(metadefs::Ns),
    /// List metadata definitions properties inside a specific namespace.
    MdPropertyList(metadefs::Ns),
    /// Create a new metadata definitions object inside a namespace.
    MdObjectCreate(metadefs::ObjectCreate),
    /// Update metadata definitions object inside a namespace.
    MdObjectUpdate(metadefs::ObjectUpdate),
    /// Describe a specific metadata definitions object inside a namespace.
    MdObjectShow(metadefs::ObjectShow),
    /// Describe a specific metadata definitions property inside an object.
    MdObjectPropertyShow(metadefs::ObjectPropertyShow),
    /// Delete a specific metadata definitions object inside a namespace.
    MdObjectDelete(metadefs::ObjectName),
    /// Delete all metadata definitions objects inside a specific namespace.
    MdNamespaceObjectsDelete(metadefs::Ns),
    /// List metadata definitions objects inside a specific namespace.
    MdObjectList(metadefs::Ns),
    /// Add a new metadata definitions tag inside a namespace.
    MdTagCreate(metadefs::TagCreate),
    /// Create new metadata definitions tags inside a namespace.
    MdTagCreateMultiple(metadefs::TagCreateMultiple),
    /// Rename a metadata definitions tag inside a namespace.
    MdTagUpdate(metadefs::TagUpdate),
    /// Describe a specific metadata definitions tag inside a namespace.
    MdTagShow(metadefs::TagName),
    /// Delete a specific metadata definitions tag inside a namespace.
    MdTagDelete(metadefs::TagName),
    /// Delete all metadata definitions tags inside a specific namespace.
    MdNamespaceTagsDelete(metadefs::Ns),
    /// List metadata definitions tags inside a specific namespace.
    MdTagList(metadefs::Ns),
    /// Print a shell completion script: `glance completion bash > /etc/bash_completion.d/glance`.
    Completion(Completion),
}

/// `completion`.
#[derive(Debug, Args)]
pub struct Completion {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Run one command. `Ok(false)` means "failed, already reported" (exit 1),
/// as for a multi-id delete where some ids failed.
pub async fn run(ctx: &Ctx<'_>, command: Command) -> Result<bool> {
    use Command as C;
    match command {
        C::ImageCreate(a) => images::create(ctx, a).await?,
        C::ImageCreateViaImport(a) => import::create_via_import(ctx, a).await?,
        C::ImageUpdate(a) => images::update(ctx, a).await?,
        C::ImageList(a) => images::list(ctx, a).await?,
        C::ImageShow(a) => images::show(ctx, a).await?,
        C::ImageUpload(a) => data::upload(ctx, a).await?,
        C::ImageStage(a) => import::stage(ctx, a).await?,
        C::ImageImport(a) => import::import(ctx, a).await?,
        C::ImageDownload(a) => data::download(ctx, a).await?,
        C::ImageDelete(a) => return images::delete(ctx, a).await,
        C::ImageDeactivate(a) => images::deactivate(ctx, a).await?,
        C::ImageReactivate(a) => images::reactivate(ctx, a).await?,
        C::ImageTagUpdate(a) => images::tag_update(ctx, a).await?,
        C::ImageTagDelete(a) => images::tag_delete(ctx, a).await?,
        C::ImageTasks(a) => images::tasks(ctx, a).await?,
        C::LocationAdd(a) => locations::add(ctx, a).await?,
        C::LocationDelete(a) => locations::delete(ctx, a).await?,
        C::LocationUpdate(a) => locations::update(ctx, a).await?,
        C::AddLocation(a) => locations::add_location(ctx, a).await?,
        C::MemberList(a) => members::list(ctx, a).await?,
        C::MemberGet(a) => members::get(ctx, a).await?,
        C::MemberCreate(a) => members::create(ctx, a).await?,
        C::MemberUpdate(a) => members::update(ctx, a).await?,
        C::MemberDelete(a) => members::delete(ctx, a).await?,
        C::StoresInfo(a) => info::stores_info(ctx, a).await?,
        C::StoresDelete(a) => info::stores_delete(ctx, a).await?,
        C::ImportInfo => info::import_info(ctx).await?,
        C::Usage => info::usage(ctx).await?,
        C::Explain(a) => info::explain(ctx, a).await?,
        C::TaskList(a) => tasks::list(ctx, a).await?,
        C::TaskShow(a) => tasks::show(ctx, a).await?,
        C::TaskCreate(a) => tasks::create(ctx, a).await?,
        C::CacheList => cache::list(ctx).await?,
        C::CacheQueue(a) => return cache::queue(ctx, a).await,
        C::CacheDelete(a) => return cache::delete(ctx, a).await,
        C::CacheClear(a) => return cache::clear(ctx, a).await,
        C::MdNamespaceCreate(a) => metadefs::namespace_create(ctx, a).await?,
        C::MdNamespaceImport(a) => metadefs::namespace_import(ctx, a).await?,
        C::MdNamespaceUpdate(a) => metadefs::namespace_update(ctx, a).await?,
        C::MdNamespaceShow(a) => metadefs::namespace_show(ctx, a).await?,
        C::MdNamespaceList(a) => metadefs::namespace_list(ctx, a).await?,
        C::MdNamespaceDelete(a) => metadefs::namespace_delete(ctx, a).await?,
        C::MdResourceTypeAssociate(a) => metadefs::resource_type_associate(ctx, a).await?,
        C::MdResourceTypeDeassociate(a) => metadefs::resource_type_deassociate(ctx, a).await?,
        C::MdResourceTypeList => metadefs::resource_type_list(ctx).await?,
        C::MdNamespaceResourceTypeList(a) => metadefs::namespace_resource_type_list(ctx, a).await?,
        C::MdPropertyCreate(a) => metadefs::property_create(ctx, a).await?,
        C::MdPropertyUpdate(a) => metadefs::property_update(ctx, a).await?,
        C::MdPropertyShow(a) => metadefs::property_show(ctx, a).await?,
        C::MdPropertyDelete(a) => metadefs::property_delete(ctx, a).await?,
        C::MdNamespacePropertiesDelete(a) => metadefs::properties_delete(ctx, a).await?,
        C::MdPropertyList(a) => metadefs::property_list(ctx, a).await?,
        C::MdObjectCreate(a) => metadefs::object_create(ctx, a).await?,
        C::MdObjectUpdate(a) => metadefs::object_update(ctx, a).await?,
        C::MdObjectShow(a) => metadefs::object_show(ctx, a).await?,
        C::MdObjectPropertyShow(a) => metadefs::object_property_show(ctx, a).await?,
        C::MdObjectDelete(a) => metadefs::object_delete(ctx, a).await?,
        C::MdNamespaceObjectsDelete(a) => metadefs::objects_delete(ctx, a).await?,
        C::MdObjectList(a) => metadefs::object_list(ctx, a).await?,
        C::MdTagCreate(a) => metadefs::tag_create(ctx, a).await?,
        C::MdTagCreateMultiple(a) => metadefs::tag_create_multiple(ctx, a).await?,
        C::MdTagUpdate(a) => metadefs::tag_update(ctx, a).await?,
        C::MdTagShow(a) => metadefs::tag_show(ctx, a).await?,
        C::MdTagDelete(a) => metadefs::tag_delete(ctx, a).await?,
        C::MdNamespaceTagsDelete(a) => metadefs::tags_delete(ctx, a).await?,
        C::MdTagList(a) => metadefs::tag_list(ctx, a).await?,
        // Handled before any client is built (see main).
        C::Completion(_) => {}
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
