//! The legacy `import` task (`POST /v2/tasks`, type `import`): create an
//! image (owned by no project) from `image_properties`, fetch
//! `import_from` into the default store, activate it. On failure the
//! image is deleted again and the task fails.

use serde_json::json;

use super::fetch;
use crate::app::ingest;
use crate::app::records::{save_image, save_task};
use crate::domain::import::progress::record_location;
use crate::domain::tasks::{self, INTERNAL_ERROR, Task, now_micros};
use crate::domain::{Fault, Identity, create, time};
use crate::state::AppState;

/// Run a legacy import task to its end.
pub(super) async fn run(state: &AppState, task: &Task, token: Option<&str>) {
    let filter = &state.config.tasks.import_filtering;
    // `_get_flow` checks the location again.
    let uri = match tasks::legacy_location(&task.input) {
        Ok(uri) if fetch::admitted(&uri, filter, &state.control.files).await => uri,
        Ok(uri) => return fail(state, &task.id, &tasks::legacy_filtered(&uri).to_string()),
        Err(e) => return fail(state, &task.id, &e.to_string()),
    };
    let properties = task
        .input
        .get("image_properties")
        .cloned()
        .unwrap_or_else(|| json!({}));
    // The flow creates the image without an owner.
    let creator = Identity {
        project_id: None,
        user_id: task.user_id.clone(),
        roles: vec!["admin".into()],
    };
    let id = uuid::Uuid::new_v4().to_string();
    let image = match create::new_image(&properties, &creator, time::now(), || id.clone()) {
        Ok(mut img) => {
            img.owner = None;
            img
        }
        Err(_) => return fail(state, &task.id, INTERNAL_ERROR),
    };
    let Ok(image) = state.repo.images.image_create(image) else {
        return fail(state, &task.id, INTERNAL_ERROR);
    };
    match import(state, &image.id, &uri, token).await {
        Ok(()) => {
            let ttl = state.task_ttl();
            let result = json!({"image_id": image.id});
            let _ = save_task(state, &task.id, |t| {
                let _ = t.succeed(result.clone(), ttl, now_micros());
                Ok(())
            });
        }
        Err(()) => {
            // `_CreateImage.revert`: the image goes.
            let _ = state
                .repo
                .images
                .image_destroy(&image.id, time::now(), None);
            fail(state, &task.id, INTERNAL_ERROR);
        }
    }
}

fn fail(state: &AppState, id: &str, message: &str) {
    super::fail_task(state, id, message);
}

/// Fetch `uri` into the default store and activate the image.
async fn import(state: &AppState, id: &str, uri: &str, token: Option<&str>) -> Result<(), ()> {
    let filter = &state.config.tasks.import_filtering;
    let download = fetch::open(
        super::client(state),
        uri,
        token,
        filter,
        &state.control.files,
    )
    .await
    .map_err(drop)?;
    let img = state.repo.images.image_get(id, false).map_err(drop)?;
    let store_id = state.config.default_store.clone();
    let store = state.store.get(&store_id).ok_or(())?;
    let announced = download.length.and_then(|n| i64::try_from(n).ok());
    let (stored, verdict) = ingest::store_inspected(
        store.as_ref(),
        &img,
        download.data,
        announced,
        state.config.image_size_cap,
    )
    .await
    .map_err(drop)?;
    let saved = save_image(state, id, Fault::internal, |img| {
        record_location(img, &stored, &store_id, verdict.clone(), true, time::now())
            .map_err(|e| Fault::BadRequest(e.to_string()))
    });
    match saved {
        Ok(_) => Ok(()),
        Err(_) => {
            state.store.delete(&store_id, id).await;
            Err(())
        }
    }
}
