//! An import's view of its image: the changes a run makes are kept on a
//! shadow copy and saved in one update at the end (with the lock's
//! release), merged onto the image as it is then. Observers see the image
//! before the run and after it, never half-way: a coarser, still valid,
//! interleaving of Glance's many saves, whose short windows a fast mock
//! would otherwise expose to clients polling for a status.

use std::sync::Mutex;

use crate::app::records::save_image;
use crate::domain::import::progress;
use crate::domain::{Fault, Image};
use crate::state::AppState;

/// The image as loaded, and with the changes so far.
#[derive(Debug)]
struct Shadow {
    base: Image,
    draft: Image,
}

/// One import's pending changes to its image.
#[derive(Debug)]
pub(super) struct ImageShadow<'a> {
    state: &'a AppState,
    image_id: &'a str,
    task_id: &'a str,
    shadow: Mutex<Option<Shadow>>,
}

impl<'a> ImageShadow<'a> {
    /// Nothing loaded yet.
    pub(super) fn new(state: &'a AppState, image_id: &'a str, task_id: &'a str) -> Self {
        ImageShadow {
            state,
            image_id,
            task_id,
            shadow: Mutex::new(None),
        }
    }

    fn shadow(&self) -> std::sync::MutexGuard<'_, Option<Shadow>> {
        self.shadow.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Apply `change` to the image (loaded first if need be; it must exist
    /// and the task hold its lock). A failed change leaves it as it was.
    /// The image as changed, or `None`.
    pub(super) fn change(
        &self,
        mut change: impl FnMut(&mut Image) -> Result<(), Fault>,
    ) -> Option<Image> {
        let mut shadow = self.shadow();
        if shadow.is_none() {
            let img = self
                .state
                .repo
                .images
                .image_get(self.image_id, false)
                .ok()
                .filter(|img| progress::holds_lock(img, self.task_id))?;
            *shadow = Some(Shadow {
                base: Image::clone(&img),
                draft: Image::clone(&img),
            });
        }
        let current = shadow.as_mut()?;
        let mut draft = current.draft.clone();
        change(&mut draft).ok()?;
        current.draft = draft.clone();
        Some(draft)
    }

    /// Save the changes onto the image as it is now (other requests may
    /// have changed other fields meanwhile), and drop the lock when
    /// `release`. `false` if the image is gone, the lock lost, or its
    /// status changed under the import; the data the import stored is
    /// then removed again.
    pub(super) async fn finish(&self, release: bool) -> bool {
        match self.commit(release) {
            Ok(()) => true,
            Err(orphans) => {
                for store in orphans {
                    self.state.store.delete(&store, self.image_id).await;
                }
                false
            }
        }
    }

    /// [`ImageShadow::finish`]'s save; on failure, the stores the import
    /// added.
    pub(super) fn commit(&self, release: bool) -> Result<(), Vec<String>> {
        let Some(Shadow { base, draft }) = self.shadow().take() else {
            return Ok(());
        };
        let busy = || Fault::Conflict("the image changed under the import".into());
        let saved = save_image(self.state, self.image_id, busy, |live| {
            if !progress::holds_lock(live, self.task_id) || live.status != base.status {
                return Err(busy());
            }
            merge(&base, &draft, live);
            if release {
                progress::drop_lock(live, self.task_id);
            }
            Ok(())
        });
        if saved.is_ok() {
            Ok(())
        } else {
            Err(draft
                .stores
                .iter()
                .filter(|s| !base.stores.contains(s))
                .cloned()
                .collect())
        }
    }
}

/// Carry the flow's changes (`base` → `draft`) over to `live`: the fields
/// an import changes, and the properties it set or removed.
fn merge(base: &Image, draft: &Image, live: &mut Image) {
    macro_rules! carry {
        ($($field:ident),*) => {
            $(if draft.$field != base.$field {
                live.$field = draft.$field.clone();
            })*
        };
    }
    carry!(
        status,
        stores,
        checksum,
        os_hash_algo,
        os_hash_value,
        size,
        virtual_size,
        disk_format,
        container_format,
        updated_at
    );
    let keys: std::collections::BTreeSet<&String> = base
        .properties
        .keys()
        .chain(draft.properties.keys())
        .collect();
    for key in keys {
        match (base.properties.get(key), draft.properties.get(key)) {
            (a, b) if a == b => {}
            (_, Some(v)) => {
                live.properties.insert(key.clone(), v.clone());
            }
            (_, None) => {
                live.properties.remove(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ImageStatus;
    use crate::domain::time::now;

    #[test]
    fn merges_keep_other_requests_changes() {
        let mut base = Image::new("i".into(), Some("p".into()), now());
        base.status = ImageStatus::Importing;
        base.properties.insert("gone".into(), "x".into());
        base.properties.insert("kept".into(), "x".into());
        let mut draft = base.clone();
        draft.status = ImageStatus::Active;
        draft.stores = vec!["fast".into()];
        draft.properties.remove("gone");
        draft.properties.insert("new".into(), "1".into());
        let mut live = base.clone();
        live.name = Some("renamed meanwhile".into());
        live.properties
            .insert("kept".into(), "changed meanwhile".into());
        merge(&base, &draft, &mut live);
        assert_eq!(live.status, ImageStatus::Active);
        assert_eq!(live.stores, vec!["fast".to_owned()]);
        assert_eq!(live.name.as_deref(), Some("renamed meanwhile"));
        assert_eq!(
            live.properties.get("kept").map(String::as_str),
            Some("changed meanwhile")
        );
        assert!(!live.properties.contains_key("gone"));
        assert_eq!(live.properties.get("new").map(String::as_str), Some("1"));
    }
}
