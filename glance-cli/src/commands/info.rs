//! What the service offers: `stores-info`, `stores-delete`, `import-info`,
//! `usage` and `explain` (a schema's attributes).

use anyhow::{Result, bail};
use clap::Args;
use serde_json::{Value, json};

use glance_client::StoreId;

use super::Ctx;
use crate::output::{print_dict, print_list, print_list_keyed, to_value};

/// `stores-info`.
#[derive(Debug, Args)]
pub struct StoresInfo {
    /// Shows details of stores. Admin only.
    #[arg(long)]
    pub detail: bool,
}

/// `stores-delete`.
#[derive(Debug, Args)]
pub struct StoresDelete {
    /// ID of image to update.
    #[arg(value_name = "IMAGE_ID")]
    pub id: String,
    /// Store to delete image from.
    #[arg(long, required = true, value_name = "STORE_ID")]
    pub store: String,
}

/// `explain`.
#[derive(Debug, Args)]
pub struct Explain {
    /// Name of model to describe.
    #[arg(value_name = "MODEL")]
    pub model: String,
}

/// `stores-info [--detail]`.
pub async fn stores_info(ctx: &Ctx<'_>, args: StoresInfo) -> Result<()> {
    let info = ctx.client.info();
    let stores = if args.detail {
        info.stores_detail().await
    } else {
        info.stores().await
    };
    let stores = match stores {
        Ok(s) => s,
        Err(e) if e.is_not_found() => bail!("Multi Backend support is not enabled"),
        Err(e) => return Err(e.into()),
    };
    let stores: Vec<Value> = if ctx.format == crate::output::Format::Table {
        stores.iter().map(as_glance_sends).collect()
    } else {
        stores.iter().map(to_value).collect()
    };
    print_dict(&json!({ "stores": stores }), ctx.format, 80);
    Ok(())
}

/// A store as Glance sends it (and glanceclient prints it): the flags as
/// the strings `"true"`, and only when set.
fn as_glance_sends(store: &glance_client::Store) -> Value {
    let mut map = store.extra.clone();
    map.insert("id".into(), json!(store.id));
    if let Some(d) = &store.description {
        map.insert("description".into(), json!(d));
    }
    if store.default {
        map.insert("default".into(), json!("true"));
    }
    if store.read_only {
        map.insert("read-only".into(), json!("true"));
    }
    if let Some(t) = &store.store_type {
        map.insert("type".into(), json!(t));
    }
    if let Some(w) = store.weight {
        map.insert("weight".into(), json!(w));
    }
    if let Some(p) = &store.properties {
        map.insert("properties".into(), Value::Object(p.clone()));
    }
    Value::Object(map)
}

/// `stores-delete <id> --store <store>`.
pub async fn stores_delete(ctx: &Ctx<'_>, args: StoresDelete) -> Result<()> {
    match ctx
        .client
        .images()
        .delete_from_store(&args.id, &StoreId::new(args.store.as_str()))
        .await
    {
        Ok(()) => Ok(()),
        Err(e) if e.is_not_found() => {
            bail!("Multi Backend support is not enabled or Image/store not found.")
        }
        Err(e) => bail!(
            "Unable to delete image '{}' from store '{}'. ({})",
            args.id,
            args.store,
            crate::error_line(&e)
        ),
    }
}

/// `import-info`: the import methods, shaped as Glance's `/v2/info/import`.
pub async fn import_info(ctx: &Ctx<'_>) -> Result<()> {
    let info = match ctx.client.info().import_methods().await {
        Ok(i) => i,
        Err(e) if e.is_not_found() => {
            bail!("Target Glance does not support Image Import workflow")
        }
        Err(e) => return Err(e.into()),
    };
    let value = json!({
        "import-methods": {
            "description": info.description,
            "type": "array",
            "value": info.methods,
        }
    });
    print_dict(&value, ctx.format, 80);
    Ok(())
}

/// `usage`: one row per quota.
pub async fn usage(ctx: &Ctx<'_>) -> Result<()> {
    let usage = ctx.client.info().usage().await?;
    let rows: Vec<Value> = usage
        .iter()
        .map(|(quota, u)| json!({"quota": quota, "limit": u.limit, "usage": u.usage}))
        .collect();
    // glanceclient's print_dict_list shows zeros (it does not blank them).
    if ctx.format == crate::output::Format::Table {
        let rows: Vec<Value> = rows
            .into_iter()
            .map(|r| {
                json!({"quota": r["quota"], "limit": r["limit"].to_string(), "usage": r["usage"].to_string()})
            })
            .collect();
        print_list(&rows, &["Quota", "Limit", "Usage"], ctx.format);
    } else {
        print_list(&rows, &["Quota", "Limit", "Usage"], ctx.format);
    }
    Ok(())
}

/// `explain <model>`: the schema's attributes and their descriptions.
pub async fn explain(ctx: &Ctx<'_>, args: Explain) -> Result<()> {
    let schema = match ctx.client.schemas().get(&args.model).await {
        Ok(s) => s,
        Err(e) if e.is_not_found() => bail!("Unable to find requested model '{}'", args.model),
        Err(e) => return Err(e.into()),
    };
    let rows: Vec<Value> = schema
        .properties
        .values()
        .map(|p| json!({"name": p.name, "description": p.description}))
        .collect();
    print_list_keyed(
        &rows,
        &[("Attribute", "name"), ("Description", "description")],
        ctx.format,
    );
    Ok(())
}
