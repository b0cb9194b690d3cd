//! Discovery (Glance's `glance.api.v2.discovery.InfoController`) where it
//! takes more than the deployment's settings: the caller's usage, and who
//! may see the stores' details.

use serde_json::{Value, json};

use crate::config::StoreConfig;
use crate::domain::usage::ProjectUsage;
use crate::domain::{Fault, Identity};
use crate::state::AppState;

/// `InfoController.get_usage`: the caller's project's usage against the
/// unified limits, as the `usage` document; without them
/// (`use_keystone_limits` off), or without a project, Glance reports no
/// usage at all (`{}`).
pub fn usage(state: &AppState, who: &Identity) -> Result<Value, Fault> {
    Ok(match (&state.config.limits, who.project_id.as_deref()) {
        (Some(limits), Some(project)) => {
            let images = state
                .repo
                .images
                .image_scan(false)
                .map_err(super::records::unhandled)?;
            ProjectUsage::of(&images, project).document(limits)
        }
        _ => json!({}),
    })
}

/// `InfoController.get_stores_detail`: policy `stores_info_detail` (admin
/// or the `service` role), then the stores to describe, in Glance's order.
pub fn stores_detail<'a>(state: &'a AppState, who: &Identity) -> Result<&'a [StoreConfig], Fault> {
    if !(who.is_admin() || who.has_role("service")) {
        return Err(Fault::Forbidden(
            "You are not authorized to complete stores_info_detail action.".into(),
        ));
    }
    Ok(&state.config.stores)
}
