//! The image half of Glance's DB API (`glance.db.sqlalchemy.api`, the
//! seed's "Glance Database Public API"): image records with their
//! properties, locations, members and tags.
//!
//! An implementation provides a small core: create, get, scan, and one
//! guarded write ([`ImageRepository::image_write`], a compare-and-swap on
//! the record's revision). Every function of the seed is a provided method
//! on top of it, so each is atomic wherever the core is; a backend may
//! override any of them with a native query. `db/conformance/` (tests) holds
//! the rules every implementation must pass.
//!
//! The visibility and mutability checks of the seed (`is_image_visible`,
//! `is_image_mutable`) need no storage: they are
//! [`crate::domain::policy::can_see`] and
//! [`crate::domain::policy::can_modify`].

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::sync::Arc;

use time::OffsetDateTime;

use super::error::{RepoError, Row};
use crate::domain::image::Member;
use crate::domain::list::{ListQuery, Page};
use crate::domain::{Identity, Image, ImageStatus, policy};

/// `image_update`'s arguments.
#[derive(Debug, Clone, Copy)]
pub struct ImageUpdate<'a> {
    /// The values to write: every column of the record, its properties,
    /// tags and locations (`stores`), as Glance's `ImageRepo.save` passes
    /// them all. The id, `created_at` and the members of `values` are not
    /// written (members change through the `member_*` functions). Tags
    /// are written in the same change (Glance calls `image_tag_set_all`
    /// right after), so a save is one atomic write.
    pub values: &'a Image,
    /// Remove the stored properties that `values` does not have; without
    /// it they stay.
    pub purge_props: bool,
    /// Write only if the image is in this state ([`RepoError::WrongState`]
    /// otherwise).
    pub from_state: Option<ImageStatus>,
    /// Write only if the record is still at this revision
    /// ([`RepoError::Changed`] otherwise): what the caller read is what
    /// it changed. Not in Glance's signature; its ORM gets the same from
    /// `from_state` and its row lock.
    pub revision: Option<u64>,
}

impl<'a> ImageUpdate<'a> {
    /// Glance's `ImageRepo.save` of `values`, read as `read`: properties
    /// purged, guarded by the status and the revision it was read at.
    pub fn save(read: &Image, values: &'a Image) -> Self {
        ImageUpdate {
            values,
            purge_props: true,
            from_state: Some(read.status),
            revision: Some(read.revision.get()),
        }
    }
}

/// One page of `image_get_all`, owning its images.
#[derive(Debug, Clone)]
pub struct ImagePage {
    /// The page's images, in the query's order.
    pub images: Vec<Arc<Image>>,
    /// The link to the listing's first page.
    pub first: String,
    /// The link to the next page, when this one is full.
    pub next: Option<String>,
}

impl From<Page<'_>> for ImagePage {
    fn from(page: Page<'_>) -> Self {
        ImagePage {
            images: page.images.into_iter().cloned().collect(),
            first: page.first,
            next: page.next,
        }
    }
}

/// Where image records live.
pub trait ImageRepository: Debug + Send + Sync {
    /// `image_create(values)`: store a new record at revision 1;
    /// [`RepoError::Duplicate`] if its id was ever used (deleted images
    /// keep theirs).
    fn image_create(&self, image: Image) -> Result<Arc<Image>, RepoError>;

    /// `image_get(image_id, force_show_deleted)`: the record;
    /// [`RepoError::NotFound`] if there is none, or it is deleted and
    /// `force_show_deleted` is not set.
    fn image_get(&self, id: &str, force_show_deleted: bool) -> Result<Arc<Image>, RepoError>;

    /// Every record, in no particular order; deleted ones only with
    /// `with_deleted` (what the control plane dumps).
    fn image_scan(&self, with_deleted: bool) -> Result<Vec<Arc<Image>>, RepoError>;

    /// The one write: replace the live record `new.id` with `new`, if it
    /// is still at `new.revision` ([`RepoError::Changed`] otherwise,
    /// [`RepoError::NotFound`] if it is gone or deleted). The stored
    /// record is at the next revision; it is returned.
    fn image_write(&self, new: Image) -> Result<Arc<Image>, RepoError>;

    /// A number that moves whenever any record may have changed: what was
    /// read at one generation (a rendered list page) holds until it moves.
    fn generation(&self) -> Result<u64, RepoError>;

    /// Forget everything, deleted rows included.
    fn reset(&self) -> Result<(), RepoError>;

    /// `image_update(image_id, values, purge_props, from_state)`: write
    /// `update.values` to the live record `id`, atomically, if
    /// `from_state` and `revision` hold. Stamps nothing itself: `values`
    /// carries `updated_at`.
    fn image_update(&self, id: &str, update: ImageUpdate<'_>) -> Result<Arc<Image>, RepoError> {
        modify(self, id, update.revision, &mut |img| {
            if let Some(expected) = update.from_state
                && img.status != expected
            {
                return Err(RepoError::WrongState {
                    id: id.to_owned(),
                    expected,
                    found: img.status,
                });
            }
            let v = update.values;
            let mut properties = v.properties.clone();
            if !update.purge_props {
                for (k, val) in &img.properties {
                    properties.entry(k.clone()).or_insert_with(|| val.clone());
                }
            }
            *img = Image {
                id: img.id.clone(),
                created_at: img.created_at,
                members: std::mem::take(&mut img.members),
                revision: img.revision,
                properties,
                ..v.clone()
            };
            Ok(())
        })
    }

    /// `image_destroy(image_id)`: the record becomes `deleted` at `at`,
    /// its locations go, its id stays taken. Guarded by `revision` when
    /// given. Returns the record as it was just before, so the caller
    /// knows which stores held its data.
    fn image_destroy(
        &self,
        id: &str,
        at: OffsetDateTime,
        revision: Option<u64>,
    ) -> Result<Arc<Image>, RepoError> {
        let mut before = None;
        modify(self, id, revision, &mut |img| {
            before = Some(img.clone());
            img.status = ImageStatus::Deleted;
            img.updated_at = at;
            img.stores.clear();
            Ok(())
        })?;
        before
            .map(Arc::new)
            .ok_or_else(|| RepoError::not_found(Row::Image, id))
    }

    /// `image_get_all(filters, marker, limit, sort_key, sort_dir,
    /// member_status, is_public, …)`: the page of live images `who` sees,
    /// as `query` (Glance's v2 index parameters, parsed) selects and
    /// orders them. The marker must be an image `who` may see:
    /// [`RepoError::NotFound`] for a missing (or, to non-admins, deleted)
    /// one, [`RepoError::Forbidden`] for one `who` cannot see. Tags always come with each image (`return_tag`); v2 has no
    /// `admin_as_user`.
    fn image_get_all(&self, who: &Identity, query: &ListQuery) -> Result<ImagePage, RepoError> {
        let marker = match &query.marker {
            None => None,
            Some(id) => {
                let img = self
                    .image_get(id, true)
                    .ok()
                    .filter(|i| i.status != ImageStatus::Deleted || who.is_admin())
                    .ok_or_else(|| RepoError::not_found(Row::Image, id.clone()))?;
                if !policy::can_see(who, &img) {
                    return Err(RepoError::Forbidden {
                        row: Row::Image,
                        key: id.clone(),
                    });
                }
                Some(img)
            }
        };
        let all = self.image_scan(false)?;
        Ok(query.run_after(who, &all, marker.as_deref()).into())
    }

    /// `image_property_create`: add property `name` to image `id`;
    /// [`RepoError::Duplicate`] if it has one by that name (there is no
    /// property update: delete, then create).
    fn image_property_create(&self, id: &str, name: &str, value: &str) -> Result<(), RepoError> {
        modify(self, id, None, &mut |img| {
            if img.properties.contains_key(name) {
                return Err(RepoError::duplicate(Row::Property, name));
            }
            img.properties.insert(name.to_owned(), value.to_owned());
            Ok(())
        })
        .map(drop)
    }

    /// `image_property_delete`: remove property `name` of image `id`.
    fn image_property_delete(&self, id: &str, name: &str) -> Result<(), RepoError> {
        modify(self, id, None, &mut |img| {
            img.properties
                .remove(name)
                .map(drop)
                .ok_or_else(|| RepoError::not_found(Row::Property, name))
        })
        .map(drop)
    }

    /// `image_location_add`: image `id`'s data is (also) in `store`, after
    /// the locations it has.
    fn image_location_add(&self, id: &str, store: &str) -> Result<(), RepoError> {
        modify(self, id, None, &mut |img| {
            if img.stores.iter().any(|s| s == store) {
                return Err(RepoError::duplicate(Row::Location, store));
            }
            img.stores.push(store.to_owned());
            Ok(())
        })
        .map(drop)
    }

    /// `image_location_update`: location number `position` (from 1, as
    /// Glance numbers them) of image `id` is now `store`.
    fn image_location_update(
        &self,
        id: &str,
        position: usize,
        store: &str,
    ) -> Result<(), RepoError> {
        modify(self, id, None, &mut |img| {
            if img
                .stores
                .iter()
                .enumerate()
                .any(|(i, s)| s == store && i + 1 != position)
            {
                return Err(RepoError::duplicate(Row::Location, store));
            }
            let slot = position
                .checked_sub(1)
                .and_then(|i| img.stores.get_mut(i))
                .ok_or_else(|| RepoError::not_found(Row::Location, position.to_string()))?;
            *slot = store.to_owned();
            Ok(())
        })
        .map(drop)
    }

    /// `image_location_delete`: image `id`'s data is no longer in `store`.
    fn image_location_delete(&self, id: &str, store: &str) -> Result<(), RepoError> {
        modify(self, id, None, &mut |img| {
            let before = img.stores.len();
            img.stores.retain(|s| s != store);
            if img.stores.len() == before {
                return Err(RepoError::not_found(Row::Location, store));
            }
            Ok(())
        })
        .map(drop)
    }

    /// `image_member_create`: share image `id` with `member.member_id`.
    /// A deleted membership of the same project comes back (keeping its
    /// `created_at` and place); a live one is [`RepoError::Duplicate`].
    fn image_member_create(&self, id: &str, member: &Member) -> Result<Member, RepoError> {
        let mut out = None;
        modify(self, id, None, &mut |img| {
            let rows = &mut img.members;
            if rows
                .iter()
                .any(|m| !m.deleted && m.member_id == member.member_id)
            {
                return Err(RepoError::duplicate(Row::Member, member.member_id.clone()));
            }
            let row = match rows.iter_mut().find(|m| m.member_id == member.member_id) {
                Some(row) => {
                    row.status = member.status.clone();
                    row.updated_at = member.updated_at;
                    row.deleted = false;
                    row.clone()
                }
                None => {
                    let row = Member {
                        deleted: false,
                        ..member.clone()
                    };
                    rows.push(row.clone());
                    row
                }
            };
            out = Some(row);
            Ok(())
        })?;
        out.ok_or_else(|| RepoError::not_found(Row::Image, id))
    }

    /// `image_member_update`: `member_id`'s live membership of image `id`
    /// gets `status`, changed at `at` (a status it already has changes
    /// nothing, not even `updated_at`).
    fn image_member_update(
        &self,
        id: &str,
        member_id: &str,
        status: &str,
        at: OffsetDateTime,
    ) -> Result<Member, RepoError> {
        let mut out = None;
        modify(self, id, None, &mut |img| {
            let row = img
                .members
                .iter_mut()
                .find(|m| !m.deleted && m.member_id == member_id)
                .ok_or_else(|| RepoError::not_found(Row::Member, member_id))?;
            if row.status != status {
                row.status = status.to_owned();
                row.updated_at = at;
            }
            out = Some(row.clone());
            Ok(())
        })?;
        out.ok_or_else(|| RepoError::not_found(Row::Image, id))
    }

    /// `image_member_delete`: end `member_id`'s membership of image `id`
    /// (the row stays, deleted).
    fn image_member_delete(&self, id: &str, member_id: &str) -> Result<(), RepoError> {
        modify(self, id, None, &mut |img| {
            let row = img
                .members
                .iter_mut()
                .find(|m| !m.deleted && m.member_id == member_id)
                .ok_or_else(|| RepoError::not_found(Row::Member, member_id))?;
            row.deleted = true;
            Ok(())
        })
        .map(drop)
    }

    /// `image_member_find(image_id, member, status)`: the live memberships
    /// of live images matching every criterion given, as
    /// `(image id, membership)`.
    fn image_member_find(
        &self,
        image_id: Option<&str>,
        member: Option<&str>,
        status: Option<&str>,
    ) -> Result<Vec<(String, Member)>, RepoError> {
        let images = match image_id {
            Some(id) => match self.image_get(id, false) {
                Ok(img) => vec![img],
                Err(e @ RepoError::Unavailable(_)) => return Err(e),
                Err(_) => Vec::new(),
            },
            None => self.image_scan(false)?,
        };
        Ok(images
            .iter()
            .flat_map(|img| {
                img.live_members()
                    .filter(|m| member.is_none_or(|p| m.member_id == p))
                    .filter(|m| status.is_none_or(|s| m.status == s))
                    .map(|m| (img.id.clone(), m.clone()))
            })
            .collect())
    }

    /// `image_member_count(image_id)`: how many live memberships image
    /// `id` has.
    fn image_member_count(&self, id: &str) -> Result<usize, RepoError> {
        Ok(self.image_get(id, false)?.live_members().count())
    }

    /// `image_tag_set_all`: image `id`'s tags become `tags` (empty: none).
    fn image_tag_set_all(&self, id: &str, tags: &BTreeSet<String>) -> Result<(), RepoError> {
        modify(self, id, None, &mut |img| {
            img.tags = tags.clone();
            Ok(())
        })
        .map(drop)
    }

    /// `image_tag_create`: add `tag` to image `id` (a tag it has is no
    /// change). Returns the tag.
    fn image_tag_create(&self, id: &str, tag: &str) -> Result<String, RepoError> {
        modify(self, id, None, &mut |img| {
            img.tags.insert(tag.to_owned());
            Ok(())
        })?;
        Ok(tag.to_owned())
    }

    /// `image_tag_delete`: remove `tag` from image `id`.
    fn image_tag_delete(&self, id: &str, tag: &str) -> Result<(), RepoError> {
        modify(self, id, None, &mut |img| {
            if img.tags.remove(tag) {
                Ok(())
            } else {
                Err(RepoError::not_found(Row::Tag, tag))
            }
        })
        .map(drop)
    }

    /// `image_tag_get_all`: image `id`'s tags, in order.
    fn image_tag_get_all(&self, id: &str) -> Result<Vec<String>, RepoError> {
        Ok(self.image_get(id, false)?.tags.iter().cloned().collect())
    }
}

/// How often a write that lost a race to another writer reads again and
/// retries before it gives up with [`RepoError::Changed`].
pub const RETRIES: usize = 64;

/// Read the live record `id`, apply `change` to a copy and write it back
/// guarded by the revision read, as one atomic step: with `revision`
/// given, only if the record is at it; without, retried (up to
/// [`RETRIES`] times) while other writers get in between. An error from
/// `change` writes nothing.
pub fn modify<R: ImageRepository + ?Sized>(
    repo: &R,
    id: &str,
    revision: Option<u64>,
    change: &mut dyn FnMut(&mut Image) -> Result<(), RepoError>,
) -> Result<Arc<Image>, RepoError> {
    let mut last = None;
    for _ in 0..RETRIES {
        let read = repo.image_get(id, false)?;
        if let Some(expected) = revision
            && read.revision.get() != expected
        {
            return Err(RepoError::Changed {
                row: Row::Image,
                id: id.to_owned(),
                read: expected,
            });
        }
        let mut draft = Image::clone(&read);
        change(&mut draft)?;
        match repo.image_write(draft) {
            Err(e @ RepoError::Changed { .. }) if revision.is_none() => last = Some(e),
            other => return other,
        }
    }
    Err(last.unwrap_or_else(|| RepoError::not_found(Row::Image, id)))
}
