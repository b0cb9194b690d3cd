//! One module per resource: its arguments (clap) and its handlers, each a
//! thin shell over a glance-client call and an `output` function.

pub mod cache;
pub mod data;
pub mod images;
pub mod import;
pub mod info;
pub mod locations;
pub mod members;
pub mod metadefs;
pub mod tasks;

use anyhow::Result;
use glance_client::Client;

use crate::cli::{Command, Format};

/// What every handler gets besides its own arguments.
pub struct Ctx<'a> {
    /// The Image service.
    pub client: &'a Client,
    /// `-f/--format`.
    pub format: Format,
    /// `-v/--verbose`.
    pub verbose: bool,
    /// Whether `--os-image-url` (or `OS_IMAGE_URL`) named the endpoint:
    /// the cache commands need one server, not a load balancer.
    pub endpoint_given: bool,
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

/// A JSON argument (`--metadata`, `--input`, `--schema`…) that must be an
/// object, or `message` as the error.
pub fn json_object(
    text: &str,
    message: &str,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    match serde_json::from_str(text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        _ => anyhow::bail!("{message}"),
    }
}
