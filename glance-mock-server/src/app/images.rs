//! The image records' use cases: `ImagesController` (create, index, show,
//! update, delete, delete_from_store) and `ImageActionsController`
//! (deactivate, reactivate), each with the store, staging and cache
//! cleanup Glance does along with the record.

use std::sync::Arc;

use serde_json::Value;

use super::records::{self, save_image};
use crate::db::RepoError;
use crate::db::images::RETRIES;
use crate::domain::list::ListQuery;
use crate::domain::patch::Patch;
use crate::domain::policy::Rule;
use crate::domain::{Fault, Identity, Image, activation, create, import, policy, time};
use crate::state::AppState;

/// `ImagesController.create`: the image the request document describes,
/// saved (409 if its id was ever used).
pub fn create(state: &AppState, who: &Identity, doc: &Value) -> Result<Arc<Image>, Fault> {
    let image = create::new_image(doc, who, time::now(), || uuid::Uuid::new_v4().to_string())?;
    let id = image.id.clone();
    state.repo.images.image_create(image).map_err(|e| match e {
        RepoError::Duplicate { .. } => Fault::Conflict(format!("Image ID {id} already exists!")),
        other => records::fault(other, Fault::internal),
    })
}

/// The number a listing is read at: read it before [`list`], so that a
/// page rendered from the listing can be kept for this generation only.
pub fn generation(state: &AppState) -> Result<u64, Fault> {
    state.repo.images.generation().map_err(records::unhandled)
}

/// One page of a listing, owning its images: a [`Page`](crate::domain::list::Page) once borrowed.
#[derive(Debug)]
pub struct Listing {
    /// The page's images, in the query's order.
    pub images: Vec<Arc<Image>>,
    /// The link to the listing's first page.
    pub first: String,
    /// The link to the next page, when this one is full.
    pub next: Option<String>,
}

/// `ImagesController.index`: the query's parameters validated (400), then
/// `get_images` (403), then the page `who` sees.
pub fn list(
    state: &AppState,
    who: &Identity,
    params: &[(String, String)],
) -> Result<Listing, Fault> {
    let q = ListQuery::parse(
        params,
        state.config.limit_param_default,
        state.config.api_limit_max,
    )?;
    // Glance validates the query before it checks the policy.
    if !policy::can_read(who) {
        return Err(Fault::Forbidden(
            "You are not authorized to complete get_images action.".into(),
        ));
    }
    let page = state
        .repo
        .images
        .image_get_all(who, &q)
        .map_err(|e| match e {
            RepoError::NotFound { key, .. } => {
                Fault::BadRequest(format!("No image found with ID {key}"))
            }
            RepoError::Forbidden { key, .. } => {
                Fault::Forbidden(format!("Forbidding request, image {key} not visible"))
            }
            other => records::fault(other, Fault::internal),
        })?;
    Ok(Listing {
        images: page.images,
        first: page.first,
        next: page.next,
    })
}

/// `ImagesController.show`: the image if `who` may see it and `get_image`
/// allows it (404 otherwise).
pub fn show(state: &AppState, who: &Identity, id: &str) -> Result<Arc<Image>, Fault> {
    let record = records::find_image(state, id)?;
    policy::visible(who, record.as_deref(), id)?;
    // `visible` refuses a missing record.
    record.ok_or_else(|| Fault::NotFound(format!("No image found with ID {id}")))
}

/// `ImagesController.update`: `patch` applied to the image `who` can see
/// (404 otherwise; an empty patch changes nothing). A location the patch
/// removed takes its store's copy of the data along.
pub async fn update(
    state: &AppState,
    who: &Identity,
    id: &str,
    patch: &Patch,
) -> Result<Arc<Image>, Fault> {
    let not_found = || Fault::NotFound(format!("No image found with ID {id}"));
    let current = records::image(state, id, not_found)?;
    if !policy::can_see(who, &current) {
        return Err(not_found());
    }
    if patch.is_empty() {
        return Ok(current);
    }
    let (updated, current) = save_image(state, id, not_found, |img| {
        if !policy::can_see(who, img) {
            return Err(not_found());
        }
        let read = img.clone();
        patch.apply(img, who, time::now())?;
        Ok(read)
    })?;
    for store in current
        .stores
        .iter()
        .filter(|s| !updated.stores.contains(s))
    {
        state.store.delete(store, id).await;
    }
    Ok(updated)
}

/// `ImagesController.delete`: a visible image (404), `delete_image` (403),
/// not protected (403); the record is marked deleted, and its data leaves
/// every store, the staging area and the cache.
pub async fn delete(state: &AppState, who: &Identity, id: &str) -> Result<(), Fault> {
    let not_found = || Fault::NotFound(format!("Failed to find image {id} to delete"));
    let mut current = records::image(state, id, not_found)?;
    if !policy::can_see(who, &current) {
        return Err(not_found());
    }
    policy::enforce(who, Rule::DeleteImage, &current)?;
    // `image_destroy`, guarded by the revision the checks read: a record
    // changed meanwhile (made protected, say) is checked again, a bounded
    // number of times.
    let mut deleted = None;
    for _ in 0..RETRIES {
        if current.protected {
            return Err(Fault::Forbidden(format!(
                "Image {id} is protected and cannot be deleted."
            )));
        }
        match state
            .repo
            .images
            .image_destroy(id, time::now(), Some(current.revision.get()))
        {
            Err(RepoError::Changed { .. }) => current = records::image(state, id, not_found)?,
            other => {
                deleted = Some(other.map_err(|e| records::fault(e, not_found))?);
                break;
            }
        }
    }
    let Some(deleted) = deleted else {
        return Err(Fault::Conflict(format!(
            "The image {id} was changed by another request; try again."
        )));
    };
    for store in &deleted.stores {
        state.store.delete(store, id).await;
    }
    // Glance also drops whatever is staged for the image, and the cache
    // filter its cached copy.
    let _ = state.staging.delete(id).await;
    state.cache.remove(id);
    Ok(())
}

/// A status switch of [`crate::domain::activation`].
type Switch = fn(&mut Image, ::time::OffsetDateTime) -> Result<bool, Fault>;

/// `ImageActionsController`: look the image up (404), check the `rule`
/// (403, or 404 for a caller who may not even read it), then switch its
/// status (403 from a wrong state; no change when it is already there).
fn act(
    state: &AppState,
    who: &Identity,
    id: &str,
    rule: Rule,
    switch: Switch,
) -> Result<(), Fault> {
    let current = records::find_image(state, id)?;
    let current = policy::lookup(who, current.as_deref(), id)?;
    policy::enforce(who, rule, current)?;
    let not_found = || Fault::NotFound(format!("No image found with ID {id}"));
    // A repeated action leaves the record as it is, updated_at included.
    save_image(state, id, not_found, |img| {
        switch(img, time::now()).map(drop)
    })?;
    Ok(())
}

/// `ImageActionsController.deactivate`.
pub fn deactivate(state: &AppState, who: &Identity, id: &str) -> Result<(), Fault> {
    act(state, who, id, Rule::Deactivate, activation::deactivate)
}

/// `ImageActionsController.reactivate`.
pub fn reactivate(state: &AppState, who: &Identity, id: &str) -> Result<(), Fault> {
    act(state, who, id, Rule::Reactivate, activation::reactivate)
}

/// `ImagesController.delete_from_store`: a configured store (409), a
/// visible image (404), then the rules of [`import::delete_from_store`];
/// the data goes with the location.
pub async fn delete_from_store(
    state: &AppState,
    who: &Identity,
    store: &str,
    id: &str,
) -> Result<(), Fault> {
    if !state.config.has_store(store) {
        return Err(Fault::Conflict(format!(
            "The selected store {store} is not available on this node."
        )));
    }
    let not_found = || Fault::NotFound(format!("Failed to find image {id}"));
    let current = records::find_image(state, id)?;
    policy::lookup(who, current.as_deref(), id).map_err(|_| not_found())?;
    save_image(state, id, not_found, |img| {
        import::delete_from_store(who, img, store)?;
        img.updated_at = time::now();
        Ok(())
    })?;
    state.store.delete(store, id).await;
    Ok(())
}
