//! Metadata definitions: the `md-*` commands (namespaces, resource types,
//! properties, objects, tags).

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use futures::TryStreamExt;
use glance_client::metadefs::{
    ListNamespaces, MetadefObject, MetadefProperty, Namespace, ResourceTypeAssociation,
};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};

use super::{Ctx, json_object};
use crate::args::parse_bool;
use crate::output::{print_dict, print_list, print_list_keyed, to_value};

const BAD_SCHEMA: &str = "Schema is not a valid JSON object.";

/// Commands taking only a namespace.
#[derive(Debug, Args)]
pub struct Ns {
    /// Name of namespace.
    #[arg(value_name = "NAMESPACE")]
    pub namespace: String,
}

/// The namespace schema's writable fields.
#[derive(Debug, Args)]
pub struct NamespaceFields {
    /// The user friendly name for the namespace. Used by UI if available.
    #[arg(long)]
    pub display_name: Option<String>,
    /// Provides a user friendly description of the namespace.
    #[arg(long)]
    pub description: Option<String>,
    /// Scope of namespace accessibility. Valid values: public, private
    #[arg(long)]
    pub visibility: Option<String>,
    /// If true, namespace will not be deletable.
    #[arg(long, value_parser = parse_bool, value_name = "True|False")]
    pub protected: Option<bool>,
    /// Owner of the namespace.
    #[arg(long)]
    pub owner: Option<String>,
}

impl NamespaceFields {
    fn apply(self, ns: &mut Namespace) {
        if self.display_name.is_some() {
            ns.display_name = self.display_name;
        }
        if self.description.is_some() {
            ns.description = self.description;
        }
        if self.visibility.is_some() {
            ns.visibility = self.visibility;
        }
        if self.protected.is_some() {
            ns.protected = self.protected;
        }
        if self.owner.is_some() {
            ns.owner = self.owner;
        }
    }
}

/// `md-namespace-create`.
#[derive(Debug, Args)]
pub struct NamespaceCreate {
    /// Name of the namespace.
    #[arg(value_name = "NAMESPACE")]
    pub namespace: String,
    /// The namespace's fields.
    #[command(flatten)]
    pub fields: NamespaceFields,
}

/// `md-namespace-import`.
#[derive(Debug, Args)]
pub struct NamespaceImport {
    /// Path to file with namespace schema to import. Alternatively, namespaces schema can be passed to the client via stdin.
    #[arg(long, value_name = "FILEPATH")]
    pub file: Option<PathBuf>,
}

/// `md-namespace-update`.
#[derive(Debug, Args)]
pub struct NamespaceUpdate {
    /// Name of namespace to update.
    #[arg(value_name = "NAMESPACE")]
    pub id: String,
    /// New name of the namespace.
    #[arg(long)]
    pub namespace: Option<String>,
    /// The namespace's fields.
    #[command(flatten)]
    pub fields: NamespaceFields,
}

/// `md-namespace-show`.
#[derive(Debug, Args)]
pub struct NamespaceShow {
    /// Name of namespace to describe.
    #[arg(value_name = "NAMESPACE")]
    pub namespace: String,
    /// Applies prefix of given resource type associated to a namespace to all properties of a namespace.
    #[arg(long)]
    pub resource_type: Option<String>,
    /// The max column width of the printed table.
    #[arg(long, default_value_t = 80)]
    pub max_column_width: u16,
}

/// `md-namespace-list`.
#[derive(Debug, Args)]
pub struct NamespaceList {
    /// Resource type to filter namespaces.
    #[arg(long)]
    pub resource_types: Vec<String>,
    /// Visibility parameter to filter namespaces.
    #[arg(long)]
    pub visibility: Option<String>,
    /// Number of namespaces to request in each paginated request.
    #[arg(long, value_name = "SIZE")]
    pub page_size: Option<u32>,
}

/// `md-resource-type-associate`.
#[derive(Debug, Args)]
pub struct ResourceTypeAssociate {
    /// Name of namespace.
    #[arg(value_name = "NAMESPACE")]
    pub namespace: String,
    /// Resource type names should be aligned with Heat resource types whenever possible: https://docs.openstack.org/heat/latest/template_guide/openstack.html
    #[arg(long, required = true)]
    pub name: String,
    /// Specifies the prefix to use for the given resource type. Any properties in the namespace should be prefixed with this prefix when being applied to the specified resource type.
    #[arg(long)]
    pub prefix: Option<String>,
    /// Some resource types allow more than one key / value pair per instance. This is used to specify which of those the properties apply to.
    #[arg(long)]
    pub properties_target: Option<String>,
}

/// `md-resource-type-deassociate`.
#[derive(Debug, Args)]
pub struct ResourceTypeDeassociate {
    /// Name of namespace.
    #[arg(value_name = "NAMESPACE")]
    pub namespace: String,
    /// Name of resource type.
    #[arg(value_name = "RESOURCE_TYPE")]
    pub resource_type: String,
}

/// `md-property-create`.
#[derive(Debug, Args)]
pub struct PropertyCreate {
    /// Name of namespace the property will belong.
    #[arg(value_name = "NAMESPACE")]
    pub namespace: String,
    /// Internal name of a property.
    #[arg(long, required = true)]
    pub name: String,
    /// Property name displayed to the user.
    #[arg(long, required = true)]
    pub title: String,
    /// Valid JSON schema of a property.
    #[arg(long, required = true)]
    pub schema: String,
    /// Type of the property.
    #[arg(long = "type", required = true, value_name = "TYPE")]
    pub property_type: String,
}

/// `md-property-update`.
#[derive(Debug, Args)]
pub struct PropertyUpdate {
    /// Name of namespace the property belongs.
    #[arg(value_name = "NAMESPACE")]
    pub namespace: String,
    /// Name of a property.
    #[arg(value_name = "PROPERTY")]
    pub property: String,
    /// New name of a property.
    #[arg(long)]
    pub name: Option<String>,
    /// Property name displayed to the user.
    #[arg(long)]
    pub title: Option<String>,
    /// Valid JSON schema of a property.
    #[arg(long)]
    pub schema: Option<String>,
}

/// `md-property-delete`.
#[derive(Debug, Args)]
pub struct PropertyName {
    /// Name of namespace the property belongs.
    #[arg(value_name = "NAMESPACE")]
    pub namespace: String,
    /// Name of a property.
    #[arg(value_name = "PROPERTY")]
    pub property: String,
}

/// `md-property-show`.
#[derive(Debug, Args)]
pub struct PropertyShow {
    /// Name of namespace the property belongs.
    #[arg(value_name = "NAMESPACE")]
    pub namespace: String,
    /// Name of a property.
    #[arg(value_name = "PROPERTY")]
    pub property: String,
    /// The max column width of the printed table.
    #[arg(long, default_value_t = 80)]
    pub max_column_width: u16,
}

/// `md-object-create`.
#[derive(Debug, Args)]
pub struct ObjectCreate {
    /// Name of namespace the object will belong.
    #[arg(value_name = "NAMESPACE")]
    pub namespace: String,
    /// Internal name of an object.
    #[arg(long, required = true)]
    pub name: String,
    /// Valid JSON schema of an object.
    #[arg(long, required = true)]
    pub schema: String,
}

/// `md-object-update`.
#[derive(Debug, Args)]
pub struct ObjectUpdate {
    /// Name of namespace the object belongs.
    #[arg(value_name = "NAMESPACE")]
    pub namespace: String,
    /// Name of an object.
    #[arg(value_name = "OBJECT")]
    pub object: String,
    /// New name of an object.
    #[arg(long)]
    pub name: Option<String>,
    /// Valid JSON schema of an object.
    #[arg(long)]
    pub schema: Option<String>,
}

/// `md-object-delete`.
#[derive(Debug, Args)]
pub struct ObjectName {
    /// Name of namespace the object belongs.
    #[arg(value_name = "NAMESPACE")]
    pub namespace: String,
    /// Name of an object.
    #[arg(value_name = "OBJECT")]
    pub object: String,
}

/// `md-object-show`.
#[derive(Debug, Args)]
pub struct ObjectShow {
    /// Name of namespace the object belongs.
    #[arg(value_name = "NAMESPACE")]
    pub namespace: String,
    /// Name of an object.
    #[arg(value_name = "OBJECT")]
    pub object: String,
    /// The max column width of the printed table.
    #[arg(long, default_value_t = 80)]
    pub max_column_width: u16,
}

/// `md-object-property-show`.
#[derive(Debug, Args)]
pub struct ObjectPropertyShow {
    /// Name of namespace the object belongs.
    #[arg(value_name = "NAMESPACE")]
    pub namespace: String,
    /// Name of an object.
    #[arg(value_name = "OBJECT")]
    pub object: String,
    /// Name of a property.
    #[arg(value_name = "PROPERTY")]
    pub property: String,
    /// The max column width of the printed table.
    #[arg(long, default_value_t = 80)]
    pub max_column_width: u16,
}

/// `md-tag-create`.
#[derive(Debug, Args)]
pub struct TagCreate {
    /// Name of the namespace the tag will belong to.
    #[arg(value_name = "NAMESPACE")]
    pub namespace: String,
    /// The name of the new tag to add.
    #[arg(long, required = true)]
    pub name: String,
}

/// `md-tag-create-multiple`.
#[derive(Debug, Args)]
pub struct TagCreateMultiple {
    /// Name of the namespace the tags will belong to.
    #[arg(value_name = "NAMESPACE")]
    pub namespace: String,
    /// A comma separated list of tag names.
    #[arg(long, required = true)]
    pub names: String,
    /// The delimiter used to separate the names (if none is provided then the default is a comma).
    #[arg(long)]
    pub delim: Option<String>,
    /// Append the new tags to the existing ones instead of overwriting them.
    #[arg(long)]
    pub append: bool,
}

/// `md-tag-update`.
#[derive(Debug, Args)]
pub struct TagUpdate {
    /// Name of the namespace the tag belongs to.
    #[arg(value_name = "NAMESPACE")]
    pub namespace: String,
    /// Name of the old tag.
    #[arg(value_name = "TAG")]
    pub tag: String,
    /// New name of the new tag.
    #[arg(long, required = true)]
    pub name: String,
}

/// `md-tag-show`, `md-tag-delete`.
#[derive(Debug, Args)]
pub struct TagName {
    /// Name of the namespace the tag belongs to.
    #[arg(value_name = "NAMESPACE")]
    pub namespace: String,
    /// Name of the tag.
    #[arg(value_name = "TAG")]
    pub tag: String,
}

/// A namespace as glanceclient shows it: properties, associations, objects
/// and tags reduced to their names.
fn show_namespace(ctx: &Ctx<'_>, ns: &Namespace, width: usize) {
    let mut value = to_value(ns);
    if ctx.format == crate::output::Format::Table {
        if let Value::Object(map) = &mut value {
            if !ns.properties.is_empty() {
                map.insert(
                    "properties".into(),
                    json!(ns.properties.keys().collect::<Vec<_>>()),
                );
            } else {
                map.remove("properties");
            }
            let names = |v: Vec<&String>| json!(v);
            for (key, list) in [
                (
                    "resource_type_associations",
                    ns.resource_type_associations
                        .iter()
                        .map(|a| &a.name)
                        .collect::<Vec<_>>(),
                ),
                ("objects", ns.objects.iter().map(|o| &o.name).collect()),
                ("tags", ns.tags.iter().map(|t| &t.name).collect()),
            ] {
                if list.is_empty() {
                    map.remove(key);
                } else {
                    map.insert(key.into(), names(list));
                }
            }
            // glanceclient's namespace model has no `self`.
            map.remove("self");
        }
    }
    print_dict(&value, ctx.format, width);
}

/// Merge a JSON object into a model (glanceclient's `fields.update(schema)`).
fn merged<T: serde::Serialize + DeserializeOwned>(
    model: &T,
    extra: Map<String, Value>,
) -> Result<T> {
    let mut value = to_value(model);
    if let Value::Object(map) = &mut value {
        map.extend(extra);
    }
    serde_json::from_value(value).context(BAD_SCHEMA)
}

/// `md-namespace-create`.
pub async fn namespace_create(ctx: &Ctx<'_>, args: NamespaceCreate) -> Result<()> {
    let mut ns = Namespace::new(args.namespace);
    args.fields.apply(&mut ns);
    let created = ctx.client.metadefs().create_namespace(&ns).await?;
    show_namespace(ctx, &created, 80);
    Ok(())
}

/// `md-namespace-import`: a whole namespace document from a file or stdin.
pub async fn namespace_import(ctx: &Ctx<'_>, args: NamespaceImport) -> Result<()> {
    use std::io::{IsTerminal, Read};
    let text = match args.file {
        Some(path) => std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?,
        None if !std::io::stdin().is_terminal() => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            s
        }
        None => bail!("No metadata definition namespace passed via stdin or --file argument."),
    };
    if text.trim().is_empty() {
        bail!("No metadata definition namespace passed via stdin or --file argument.");
    }
    let Ok(ns) = serde_json::from_str::<Namespace>(&text) else {
        bail!("{BAD_SCHEMA}");
    };
    let created = ctx.client.metadefs().create_namespace(&ns).await?;
    show_namespace(ctx, &created, 80);
    Ok(())
}

/// `md-namespace-update`: read, change, write back.
pub async fn namespace_update(ctx: &Ctx<'_>, args: NamespaceUpdate) -> Result<()> {
    let md = ctx.client.metadefs();
    let mut ns = md.namespace(&args.id).await?;
    if let Some(new_name) = args.namespace {
        ns.namespace = new_name;
    }
    args.fields.apply(&mut ns);
    let updated = md.update_namespace(&args.id, &ns).await?;
    // glanceclient shows the namespace as read back after the update: the
    // answer to the PUT lacks its properties, objects and tags.
    let shown = md.namespace(&updated.namespace).await?;
    show_namespace(ctx, &shown, 80);
    Ok(())
}

/// `md-namespace-show`.
pub async fn namespace_show(ctx: &Ctx<'_>, args: NamespaceShow) -> Result<()> {
    let md = ctx.client.metadefs();
    let ns = match &args.resource_type {
        Some(rt) => md.namespace_for(&args.namespace, rt).await?,
        None => md.namespace(&args.namespace).await?,
    };
    show_namespace(ctx, &ns, usize::from(args.max_column_width));
    Ok(())
}

/// `md-namespace-list`.
pub async fn namespace_list(ctx: &Ctx<'_>, args: NamespaceList) -> Result<()> {
    let mut q = ListNamespaces::new();
    for rt in args.resource_types {
        q = q.resource_type(rt);
    }
    if let Some(v) = args.visibility {
        q = q.visibility(v);
    }
    if let Some(n) = args.page_size {
        q = q.page_size(n);
    }
    let list: Vec<Namespace> = ctx
        .client
        .metadefs()
        .list_namespaces(q)
        .try_collect()
        .await?;
    let rows: Vec<Value> = list.iter().map(to_value).collect();
    print_list_keyed(&rows, &[("namespace", "namespace")], ctx.format);
    Ok(())
}

/// `md-namespace-delete`.
pub async fn namespace_delete(ctx: &Ctx<'_>, args: Ns) -> Result<()> {
    Ok(ctx
        .client
        .metadefs()
        .delete_namespace(&args.namespace)
        .await?)
}

/// `md-resource-type-associate`.
pub async fn resource_type_associate(ctx: &Ctx<'_>, args: ResourceTypeAssociate) -> Result<()> {
    let mut assoc = ResourceTypeAssociation::new(args.name);
    assoc.prefix = args.prefix;
    assoc.properties_target = args.properties_target;
    let created = ctx
        .client
        .metadefs()
        .associate(&args.namespace, &assoc)
        .await?;
    print_dict(&to_value(&created), ctx.format, 80);
    Ok(())
}

/// `md-resource-type-deassociate`.
pub async fn resource_type_deassociate(ctx: &Ctx<'_>, args: ResourceTypeDeassociate) -> Result<()> {
    Ok(ctx
        .client
        .metadefs()
        .deassociate(&args.namespace, &args.resource_type)
        .await?)
}

/// `md-resource-type-list`.
pub async fn resource_type_list(ctx: &Ctx<'_>) -> Result<()> {
    let types = ctx.client.metadefs().resource_types().await?;
    let rows: Vec<Value> = types.iter().map(to_value).collect();
    print_list(&rows, &["name"], ctx.format);
    Ok(())
}

/// `md-namespace-resource-type-list`.
pub async fn namespace_resource_type_list(ctx: &Ctx<'_>, args: Ns) -> Result<()> {
    let assocs = ctx
        .client
        .metadefs()
        .resource_type_associations(&args.namespace)
        .await?;
    let rows: Vec<Value> = assocs.iter().map(to_value).collect();
    print_list(&rows, &["name", "prefix", "properties_target"], ctx.format);
    Ok(())
}

/// The top-level properties of the `metadefs/property` schema, whose
/// defaults glanceclient's warlock model fills in (Glance's `uniqueItems:
/// false`), for what is sent and what is shown alike.
async fn property_schema(ctx: &Ctx<'_>) -> Result<Map<String, Value>> {
    let schema = ctx.client.schemas().get("metadefs/property").await?;
    Ok(match schema.raw().get("properties") {
        Some(Value::Object(props)) => props.clone(),
        _ => Map::new(),
    })
}

/// `prop` as glanceclient's model of it: the schema's defaults filled in.
fn with_defaults(prop: MetadefProperty, schema: &Map<String, Value>) -> Result<MetadefProperty> {
    let mut value = to_value(&prop);
    if let Value::Object(map) = &mut value {
        set_defaults(map, schema);
    }
    Ok(serde_json::from_value(value)?)
}

/// warlock's `_setdefaults`: a typed property's `default` where the model
/// lacks it; nested object properties likewise.
fn set_defaults(model: &mut Map<String, Value>, props: &Map<String, Value>) {
    for (name, prop) in props {
        let Some(kind) = prop.get("type") else {
            continue;
        };
        if kind == "object" {
            if let Some(Value::Object(inner)) = prop.get("properties") {
                if let Some(Value::Object(sub)) = model.get_mut(name) {
                    set_defaults(sub, inner);
                } else if !model.contains_key(name) {
                    let mut sub = Map::new();
                    set_defaults(&mut sub, inner);
                    if !sub.is_empty() {
                        model.insert(name.clone(), Value::Object(sub));
                    }
                }
            }
        } else if let Some(default) = prop.get("default") {
            model.entry(name.clone()).or_insert_with(|| default.clone());
        }
    }
}

/// `md-property-create`.
pub async fn property_create(ctx: &Ctx<'_>, args: PropertyCreate) -> Result<()> {
    let schema = json_object(&args.schema, BAD_SCHEMA)?;
    let base = MetadefProperty::new(args.name, args.property_type, args.title);
    let defaults = property_schema(ctx).await?;
    let prop = with_defaults(merged(&base, schema)?, &defaults)?;
    let created = ctx
        .client
        .metadefs()
        .create_property(&args.namespace, &prop)
        .await?;
    let created = with_defaults(created, &defaults)?;
    print_dict(&to_value(&created), ctx.format, 80);
    Ok(())
}

/// `md-property-update`: read, change, write back.
pub async fn property_update(ctx: &Ctx<'_>, args: PropertyUpdate) -> Result<()> {
    let md = ctx.client.metadefs();
    let defaults = property_schema(ctx).await?;
    let mut prop = with_defaults(
        md.property(&args.namespace, &args.property).await?,
        &defaults,
    )?;
    if let Some(n) = args.name.filter(|n| !n.is_empty()) {
        prop.name = n;
    }
    if let Some(t) = args.title.filter(|t| !t.is_empty()) {
        prop.title = t;
    }
    if let Some(s) = args.schema.filter(|s| !s.is_empty()) {
        prop = merged(&prop, json_object(&s, BAD_SCHEMA)?)?;
    }
    let updated = md
        .update_property(&args.namespace, &args.property, &prop)
        .await?;
    let updated = with_defaults(updated, &defaults)?;
    print_dict(&to_value(&updated), ctx.format, 80);
    Ok(())
}

/// `md-property-show`.
pub async fn property_show(ctx: &Ctx<'_>, args: PropertyShow) -> Result<()> {
    let prop = ctx
        .client
        .metadefs()
        .property(&args.namespace, &args.property)
        .await?;
    let prop = with_defaults(prop, &property_schema(ctx).await?)?;
    print_dict(
        &to_value(&prop),
        ctx.format,
        usize::from(args.max_column_width),
    );
    Ok(())
}

/// `md-property-delete`.
pub async fn property_delete(ctx: &Ctx<'_>, args: PropertyName) -> Result<()> {
    Ok(ctx
        .client
        .metadefs()
        .delete_property(&args.namespace, &args.property)
        .await?)
}

/// `md-namespace-properties-delete`.
pub async fn properties_delete(ctx: &Ctx<'_>, args: Ns) -> Result<()> {
    Ok(ctx
        .client
        .metadefs()
        .delete_all_properties(&args.namespace)
        .await?)
}

/// `md-property-list`.
pub async fn property_list(ctx: &Ctx<'_>, args: Ns) -> Result<()> {
    let props = ctx.client.metadefs().properties(&args.namespace).await?;
    let rows: Vec<Value> = props.values().map(to_value).collect();
    print_list(&rows, &["name", "title", "type"], ctx.format);
    Ok(())
}

/// An object as glanceclient shows it: its properties reduced to names.
/// `read` says whether it was read with a GET, whose answer always holds
/// `required` (the answer to a POST holds it only when given).
fn show_object(ctx: &Ctx<'_>, obj: &MetadefObject, width: usize, read: bool) {
    let mut value = to_value(obj);
    if ctx.format == crate::output::Format::Table {
        if let Value::Object(map) = &mut value {
            if !obj.properties.is_empty() {
                map.insert(
                    "properties".into(),
                    json!(obj.properties.keys().collect::<Vec<_>>()),
                );
            }
            // As Glance sends it and glanceclient's model keeps it.
            if read {
                map.entry("required").or_insert_with(|| json!([]));
            }
            map.remove("self");
        }
    }
    print_dict(&value, ctx.format, width);
}

/// `md-object-create`.
pub async fn object_create(ctx: &Ctx<'_>, args: ObjectCreate) -> Result<()> {
    let schema = json_object(&args.schema, BAD_SCHEMA)?;
    let obj = merged(&MetadefObject::new(args.name), schema)?;
    let created = ctx
        .client
        .metadefs()
        .create_object(&args.namespace, &obj)
        .await?;
    show_object(ctx, &created, 80, false);
    Ok(())
}

/// `md-object-update`: read, change, write back.
pub async fn object_update(ctx: &Ctx<'_>, args: ObjectUpdate) -> Result<()> {
    let md = ctx.client.metadefs();
    let mut obj = md.object(&args.namespace, &args.object).await?;
    if let Some(n) = args.name.filter(|n| !n.is_empty()) {
        obj.name = n;
    }
    if let Some(s) = args.schema.filter(|s| !s.is_empty()) {
        obj = merged(&obj, json_object(&s, BAD_SCHEMA)?)?;
    }
    let updated = md
        .update_object(&args.namespace, &args.object, &obj)
        .await?;
    show_object(ctx, &updated, 80, true);
    Ok(())
}

/// `md-object-show`.
pub async fn object_show(ctx: &Ctx<'_>, args: ObjectShow) -> Result<()> {
    let obj = ctx
        .client
        .metadefs()
        .object(&args.namespace, &args.object)
        .await?;
    show_object(ctx, &obj, usize::from(args.max_column_width), true);
    Ok(())
}

/// `md-object-property-show`.
pub async fn object_property_show(ctx: &Ctx<'_>, args: ObjectPropertyShow) -> Result<()> {
    let obj = ctx
        .client
        .metadefs()
        .object(&args.namespace, &args.object)
        .await?;
    let Some(Value::Object(prop)) = obj.properties.get(&args.property) else {
        bail!(
            "Property {} not found in object {}.",
            args.property,
            args.object
        );
    };
    let mut prop = prop.clone();
    prop.insert("name".into(), Value::String(args.property));
    print_dict(
        &Value::Object(prop),
        ctx.format,
        usize::from(args.max_column_width),
    );
    Ok(())
}

/// `md-object-delete`.
pub async fn object_delete(ctx: &Ctx<'_>, args: ObjectName) -> Result<()> {
    Ok(ctx
        .client
        .metadefs()
        .delete_object(&args.namespace, &args.object)
        .await?)
}

/// `md-namespace-objects-delete`.
pub async fn objects_delete(ctx: &Ctx<'_>, args: Ns) -> Result<()> {
    Ok(ctx
        .client
        .metadefs()
        .delete_all_objects(&args.namespace)
        .await?)
}

/// `md-object-list`.
pub async fn object_list(ctx: &Ctx<'_>, args: Ns) -> Result<()> {
    let objects = ctx.client.metadefs().objects(&args.namespace).await?;
    let rows: Vec<Value> = objects.iter().map(to_value).collect();
    print_list(&rows, &["name", "description"], ctx.format);
    Ok(())
}

/// `md-tag-create`.
pub async fn tag_create(ctx: &Ctx<'_>, args: TagCreate) -> Result<()> {
    let name = args.name.trim();
    if name.is_empty() {
        bail!("Please supply at least one non-blank tag name.");
    }
    let tag = ctx
        .client
        .metadefs()
        .create_tag(&args.namespace, name)
        .await?;
    print_dict(&to_value(&tag), ctx.format, 80);
    Ok(())
}

/// `md-tag-create-multiple`.
pub async fn tag_create_multiple(ctx: &Ctx<'_>, args: TagCreateMultiple) -> Result<()> {
    let delim = args
        .delim
        .as_deref()
        .filter(|d| !d.is_empty())
        .unwrap_or(",");
    let names: Vec<String> = args
        .names
        .split(delim)
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    if names.is_empty() {
        bail!("Please supply at least one tag name. For example: --names Tag1");
    }
    let tags = ctx
        .client
        .metadefs()
        .create_tags(&args.namespace, names, args.append)
        .await?;
    let rows: Vec<Value> = tags.iter().map(to_value).collect();
    print_list(&rows, &["name"], ctx.format);
    Ok(())
}

/// `md-tag-update`.
pub async fn tag_update(ctx: &Ctx<'_>, args: TagUpdate) -> Result<()> {
    let name = args.name.trim();
    if name.is_empty() {
        bail!("Please supply at least one non-blank tag name.");
    }
    let tag = ctx
        .client
        .metadefs()
        .rename_tag(&args.namespace, &args.tag, name)
        .await?;
    print_dict(&to_value(&tag), ctx.format, 80);
    Ok(())
}

/// `md-tag-show`.
pub async fn tag_show(ctx: &Ctx<'_>, args: TagName) -> Result<()> {
    let tag = ctx
        .client
        .metadefs()
        .tag(&args.namespace, &args.tag)
        .await?;
    print_dict(&to_value(&tag), ctx.format, 80);
    Ok(())
}

/// `md-tag-delete`.
pub async fn tag_delete(ctx: &Ctx<'_>, args: TagName) -> Result<()> {
    Ok(ctx
        .client
        .metadefs()
        .delete_tag(&args.namespace, &args.tag)
        .await?)
}

/// `md-namespace-tags-delete`.
pub async fn tags_delete(ctx: &Ctx<'_>, args: Ns) -> Result<()> {
    Ok(ctx
        .client
        .metadefs()
        .delete_all_tags(&args.namespace)
        .await?)
}

/// `md-tag-list`.
pub async fn tag_list(ctx: &Ctx<'_>, args: Ns) -> Result<()> {
    let tags = ctx.client.metadefs().tags(&args.namespace).await?;
    let rows: Vec<Value> = tags.iter().map(to_value).collect();
    print_list(&rows, &["name"], ctx.format);
    Ok(())
}
