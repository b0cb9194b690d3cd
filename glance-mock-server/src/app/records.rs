//! How the use cases read and save records through the repositories:
//! Glance's `ImageRepo.get` / `ImageRepo.save` and `TaskRepo.save`, with
//! the [`RepoError`]s that are not the use case's to answer turned into
//! Glance's.

use std::sync::Arc;

use crate::db::{ImageUpdate, RepoError, Row, images::RETRIES};
use crate::domain::tasks::Task;
use crate::domain::{Fault, Image};
use crate::state::AppState;

/// The answer to a repository failure: `missing()` when the image (or
/// task) is not there, Glance's 409 for a record that kept changing under
/// the caller, a 503 when the registry
/// cannot be reached, its unhandled-error 500 for the rest.
pub fn fault(e: RepoError, missing: impl FnOnce() -> Fault) -> Fault {
    match e {
        RepoError::NotFound {
            row: Row::Image | Row::Task,
            ..
        } => missing(),
        RepoError::Changed { row, id, .. } => Fault::Conflict(format!(
            "The {row} {id} was changed by another request; try again."
        )),
        RepoError::BadQuery(msg) => Fault::BadRequest(msg),
        RepoError::Unavailable(_) => Fault::unavailable(),
        RepoError::NotFound { .. }
        | RepoError::Duplicate { .. }
        | RepoError::Forbidden { .. }
        | RepoError::WrongState { .. }
        | RepoError::Backend(_) => Fault::internal(),
    }
}

/// A repository failure no use case answers itself: the 503 of an
/// unreachable registry, else Glance's unhandled-error 500.
pub fn unhandled(e: RepoError) -> Fault {
    fault(e, Fault::internal)
}

/// The live image `id`, or `missing()`.
pub fn image(
    state: &AppState,
    id: &str,
    missing: impl FnOnce() -> Fault,
) -> Result<Arc<Image>, Fault> {
    state
        .repo
        .images
        .image_get(id, false)
        .map_err(|e| fault(e, missing))
}

/// The live image `id`, if there is one; an error only when the
/// repository could not say ([`unhandled`]).
pub fn find_image(state: &AppState, id: &str) -> Result<Option<Arc<Image>>, Fault> {
    match state.repo.images.image_get(id, false) {
        Ok(img) => Ok(Some(img)),
        Err(RepoError::NotFound { .. }) => Ok(None),
        Err(e) => Err(unhandled(e)),
    }
}

/// Glance's `ImageRepo.get`, a change, then `ImageRepo.save`: read the
/// live image `id` (`missing()` if there is none), apply `change` to a
/// copy and save it guarded by the state and revision it was read at. If
/// another request saved in between, read and apply again, so no change
/// is lost; an error from `change` saves nothing. The saved record and
/// what `change` returned.
pub fn save_image<T>(
    state: &AppState,
    id: &str,
    missing: impl Fn() -> Fault,
    mut change: impl FnMut(&mut Image) -> Result<T, Fault>,
) -> Result<(Arc<Image>, T), Fault> {
    let mut last = None;
    for _ in 0..RETRIES {
        let read = image(state, id, &missing)?;
        let mut draft = Image::clone(&read);
        let out = change(&mut draft)?;
        match state
            .repo
            .images
            .image_update(id, ImageUpdate::save(&read, &draft))
        {
            Ok(saved) => return Ok((saved, out)),
            Err(e @ (RepoError::Changed { .. } | RepoError::WrongState { .. })) => last = Some(e),
            Err(e) => return Err(fault(e, missing)),
        }
    }
    Err(last.map_or_else(Fault::internal, |e| fault(e, missing)))
}

/// `TaskRepo.get`, a change, then `TaskRepo.save` of task `id`
/// (soft-deleted ones too), as [`save_image`] does it for images: no
/// change lost to another writer, nothing saved if `change` fails.
pub fn save_task(
    state: &AppState,
    id: &str,
    mut change: impl FnMut(&mut Task) -> Result<(), Fault>,
) -> Result<Arc<Task>, Fault> {
    let missing = || Fault::NotFound(format!("Task with the given id {id} was not found"));
    let mut last = None;
    for _ in 0..RETRIES {
        let read = state
            .repo
            .tasks
            .task_get(id, true)
            .map_err(|e| fault(e, missing))?;
        let mut draft = Task::clone(&read);
        change(&mut draft)?;
        match state.repo.tasks.task_update(draft) {
            Ok(saved) => return Ok(saved),
            Err(e @ RepoError::Changed { .. }) => last = Some(e),
            Err(e) => return Err(fault(e, missing)),
        }
    }
    Err(last.map_or_else(Fault::internal, |e| fault(e, missing)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::config::Config;
    use crate::domain::Identity;
    use crate::domain::patch::{Dialect, Patch};
    use crate::domain::time::now;

    #[test]
    fn a_failing_change_saves_nothing_and_a_good_one_everything() {
        let state = AppState::new(Config::default());
        let admin = Identity::default_admin();
        let mut img = Image::new("img".into(), Some("admin".into()), now());
        img.name = Some("before".into());
        state.repo.images.image_create(img).expect("created");
        let missing = || Fault::NotFound("gone".into());
        let patch = |ops| Patch::parse(&ops, Dialect::Draft10).expect("valid");
        let half = patch(json!([
            {"op": "replace", "path": "/name", "value": "atomic"},
            {"op": "add", "path": "/bar", "value": "b"},
            {"op": "remove", "path": "/nope"}
        ]));
        let refused = save_image(&state, "img", missing, |img| half.apply(img, &admin, now()));
        assert_eq!(
            refused.map(drop),
            Err(Fault::ConflictDetail(
                "Property nope does not exist.".into()
            ))
        );
        let stored = state.repo.images.image_get("img", false).expect("there");
        assert_eq!(stored.name.as_deref(), Some("before"));
        assert!(!stored.properties.contains_key("bar"));
        assert_eq!(stored.revision.get(), 1);

        let good = patch(json!([{"op": "add", "path": "/bar", "value": "b"}]));
        let (saved, ()) = save_image(&state, "img", missing, |img| good.apply(img, &admin, now()))
            .expect("saved");
        assert_eq!(saved.properties.get("bar").map(String::as_str), Some("b"));
        assert_eq!(saved.revision.get(), 2);
        assert_eq!(
            save_image(&state, "nope", missing, |_| Ok(())).map(drop),
            Err(missing())
        );
    }
}
