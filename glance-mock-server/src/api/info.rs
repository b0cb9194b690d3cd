//! Discovery: `/v2/info/import`, `/v2/info/stores`, `/v2/info/stores/detail`
//! and `/v2/info/usage`. What takes more than the deployment's settings is
//! in [`crate::app::info`].

use super::resources::Routes;
use axum::extract::State;
use axum::response::Json;
use axum::routing::get;
use serde_json::{Value, json};

use super::error::ApiError;
use super::identity::Caller;
use crate::app;
use crate::state::SharedState;

/// Routes of this resource.
pub fn router() -> Routes {
    Routes::new()
        .route("/v2/info/import", get(import))
        .route("/v2/info/stores", get(stores))
        .route("/v2/info/stores/detail", get(stores_detail))
        .route("/v2/info/usage", get(usage))
}

async fn import(State(state): State<SharedState>, Caller(_): Caller) -> Json<Value> {
    Json(json!({
        "import-methods": {
            "description": "Import methods available.",
            "type": "array",
            "value": state.config.import_methods,
        }
    }))
}

/// One store as `/v2/info/stores` lists it (`default` only on the default).
fn store_entry(state: &SharedState, id: &str, description: &str) -> Value {
    let mut entry = json!({"id": id, "description": description});
    if id == state.config.default_store {
        entry["default"] = json!("true");
    }
    entry
}

async fn stores(State(state): State<SharedState>, Caller(_): Caller) -> Json<Value> {
    let stores: Vec<Value> = state
        .config
        .stores
        .iter()
        .map(|s| store_entry(&state, &s.id, &s.description))
        .collect();
    Json(json!({ "stores": stores }))
}

async fn stores_detail(
    State(state): State<SharedState>,
    Caller(who): Caller,
) -> Result<Json<Value>, ApiError> {
    let stores: Vec<Value> = app::info::stores_detail(&state, &who)?
        .iter()
        .map(|s| {
            let mut entry = store_entry(&state, &s.id, &s.description);
            // The in-memory stores describe themselves as Glance's file stores do.
            entry["type"] = json!("file");
            entry["weight"] = json!(0);
            entry["properties"] = json!({
                "chunk_size": 65536,
                "data_dir": format!("/var/lib/glance-mock/{}", s.id),
                "thin_provisioning": false,
            });
            entry
        })
        .collect();
    Ok(Json(json!({ "stores": stores })))
}

/// The caller's project's usage against the unified limits; without them
/// (`use_keystone_limits` off) Glance reports no usage at all.
async fn usage(
    State(state): State<SharedState>,
    Caller(who): Caller,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(json!({ "usage": app::info::usage(&state, &who)? })))
}
