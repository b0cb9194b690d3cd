//! The rules of [`ImageRepository`], and a proof that they catch an
//! implementation that breaks one.

use std::collections::BTreeSet;

use super::{Rule, assert_passes, ensure};
use crate::db::{ImageRepository, ImageUpdate, RepoError, Row};
use crate::domain::image::Member;
use crate::domain::list::ListQuery;
use crate::domain::time::now;
use crate::domain::{Identity, Image, ImageStatus, Visibility};

/// Every rule.
pub(crate) const RULES: &[Rule<dyn ImageRepository>] = &[
    ("a created image reads back at revision 1", create_and_get),
    (
        "an image id is never reused, deleted rows stay hidden",
        deleted_ids_stay_taken,
    ),
    (
        "image_update writes the values and moves the revision",
        update_writes,
    ),
    ("image_update honours from_state", from_state_is_honoured),
    (
        "image_update honours the revision read",
        revision_is_honoured,
    ),
    (
        "purge_props decides whether other properties stay",
        purge_props,
    ),
    (
        "a refused write leaves nothing",
        refused_writes_leave_nothing,
    ),
    ("properties are created and deleted one by one", properties),
    ("locations keep their order", locations),
    (
        "memberships are created, updated, deleted and revived",
        members,
    ),
    (
        "image_member_find and _count see live rows only",
        member_find_and_count,
    ),
    ("tags are a set", tags),
    ("image_get_all pages what the caller sees", get_all_pages),
    (
        "the generation moves with every write, not with reads",
        generation,
    ),
    ("concurrent writers lose nothing", concurrent_writers),
    ("reset forgets everything", reset_forgets),
];

/// Panic unless `make`'s repositories pass every rule.
pub(crate) fn run(make: &dyn Fn() -> Box<dyn ImageRepository>) {
    assert_passes(make, RULES);
}

type Checked = Result<(), String>;

fn text(e: RepoError) -> String {
    e.to_string()
}

pub(crate) fn image(id: &str, owner: &str) -> Image {
    Image::new(id.into(), Some(owner.into()), now())
}

fn create_and_get(repo: &dyn ImageRepository) -> Checked {
    let created = repo.image_create(image("a", "p")).map_err(text)?;
    ensure!(
        created.revision.get() == 1,
        "revision {:?}",
        created.revision
    );
    let read = repo.image_get("a", false).map_err(text)?;
    ensure!(*read == *created, "read back {read:?}");
    let missing = repo.image_get("zzz", true);
    ensure!(
        matches!(
            missing,
            Err(RepoError::NotFound {
                row: Row::Image,
                ..
            })
        ),
        "{missing:?}"
    );
    ensure!(repo.image_scan(false)?.len() == 1, "scanned");
    Ok(())
}

fn deleted_ids_stay_taken(repo: &dyn ImageRepository) -> Checked {
    let mut img = image("a", "p");
    img.stores = vec!["fast".into()];
    repo.image_create(img).map_err(text)?;
    let at = now();
    let before = repo.image_destroy("a", at, None).map_err(text)?;
    ensure!(before.stores == ["fast"], "the record before: {before:?}");
    ensure!(repo.image_get("a", false).is_err(), "hidden");
    let deleted = repo.image_get("a", true).map_err(text)?;
    ensure!(
        deleted.status == ImageStatus::Deleted
            && deleted.stores.is_empty()
            && deleted.updated_at == at,
        "{deleted:?}"
    );
    ensure!(repo.image_scan(false)?.is_empty(), "not scanned live");
    ensure!(
        repo.image_scan(true)?.len() == 1,
        "scanned with the deleted"
    );
    let again = repo.image_create(image("a", "q"));
    ensure!(
        matches!(
            again,
            Err(RepoError::Duplicate {
                row: Row::Image,
                ..
            })
        ),
        "{again:?}"
    );
    let update = repo.image_update(
        "a",
        ImageUpdate {
            values: &deleted,
            purge_props: true,
            from_state: None,
            revision: None,
        },
    );
    ensure!(
        matches!(update, Err(RepoError::NotFound { .. })),
        "a deleted image is not updated: {update:?}"
    );
    ensure!(
        repo.image_destroy("a", at, None).is_err(),
        "nor destroyed again"
    );
    Ok(())
}

fn update_writes(repo: &dyn ImageRepository) -> Checked {
    let created = repo.image_create(image("a", "p")).map_err(text)?;
    repo.image_member_create("a", &Member::new("q".into(), now()))
        .map_err(text)?;
    let read = repo.image_get("a", false).map_err(text)?;
    let mut values = Image::clone(&read);
    values.name = Some("renamed".into());
    values.visibility = Visibility::Private;
    values.tags = BTreeSet::from(["t".to_owned()]);
    values.stores = vec!["fast".into()];
    // Not written: the id, the creation time, the members.
    values.created_at = now() + time::Duration::days(1);
    values.members.clear();
    let saved = repo
        .image_update("a", ImageUpdate::save(&read, &values))
        .map_err(text)?;
    ensure!(
        saved.revision.get() == read.revision.get() + 1,
        "revision {:?}",
        saved.revision
    );
    ensure!(
        saved.name.as_deref() == Some("renamed")
            && saved.visibility == Visibility::Private
            && saved.tags.contains("t")
            && saved.stores == ["fast"],
        "values written: {saved:?}"
    );
    ensure!(saved.created_at == created.created_at, "created_at kept");
    ensure!(saved.members.len() == 1, "members kept");
    ensure!(
        *repo.image_get("a", false).map_err(text)? == *saved,
        "what was returned is what is stored"
    );
    Ok(())
}

fn from_state_is_honoured(repo: &dyn ImageRepository) -> Checked {
    repo.image_create(image("a", "p")).map_err(text)?;
    let read = repo.image_get("a", false).map_err(text)?;
    let mut values = Image::clone(&read);
    values.status = ImageStatus::Active;
    let refused = repo.image_update(
        "a",
        ImageUpdate {
            values: &values,
            purge_props: true,
            from_state: Some(ImageStatus::Saving),
            revision: None,
        },
    );
    ensure!(
        matches!(
            refused,
            Err(RepoError::WrongState {
                expected: ImageStatus::Saving,
                found: ImageStatus::Queued,
                ..
            })
        ),
        "{refused:?}"
    );
    let now = repo.image_get("a", false).map_err(text)?;
    ensure!(*now == *read, "nothing written: {now:?}");
    let allowed = repo.image_update(
        "a",
        ImageUpdate {
            values: &values,
            purge_props: true,
            from_state: Some(ImageStatus::Queued),
            revision: None,
        },
    );
    ensure!(
        allowed.map_err(text)?.status == ImageStatus::Active,
        "written from the right state"
    );
    Ok(())
}

fn revision_is_honoured(repo: &dyn ImageRepository) -> Checked {
    repo.image_create(image("a", "p")).map_err(text)?;
    let read = repo.image_get("a", false).map_err(text)?;
    let mut first = Image::clone(&read);
    first.name = Some("first".into());
    repo.image_update("a", ImageUpdate::save(&read, &first))
        .map_err(text)?;
    let mut stale = Image::clone(&read);
    stale.name = Some("stale".into());
    let refused = repo.image_update("a", ImageUpdate::save(&read, &stale));
    ensure!(
        matches!(refused, Err(RepoError::Changed { .. })),
        "{refused:?}"
    );
    ensure!(
        repo.image_get("a", false).map_err(text)?.name.as_deref() == Some("first"),
        "the stale write is refused whole"
    );
    let destroyed = repo.image_destroy("a", now(), Some(read.revision.get()));
    ensure!(
        matches!(destroyed, Err(RepoError::Changed { .. })),
        "a guarded destroy too: {destroyed:?}"
    );
    Ok(())
}

fn purge_props(repo: &dyn ImageRepository) -> Checked {
    let mut img = image("a", "p");
    img.properties.insert("old".into(), "1".into());
    repo.image_create(img).map_err(text)?;
    let read = repo.image_get("a", false).map_err(text)?;
    let mut values = Image::clone(&read);
    values.properties.clear();
    values.properties.insert("new".into(), "2".into());
    let kept = repo
        .image_update(
            "a",
            ImageUpdate {
                purge_props: false,
                ..ImageUpdate::save(&read, &values)
            },
        )
        .map_err(text)?;
    ensure!(
        kept.properties.get("old").map(String::as_str) == Some("1")
            && kept.properties.get("new").map(String::as_str) == Some("2"),
        "without purge_props: {:?}",
        kept.properties
    );
    let purged = repo
        .image_update("a", ImageUpdate::save(&kept, &values))
        .map_err(text)?;
    ensure!(
        purged.properties.len() == 1 && purged.properties.contains_key("new"),
        "with purge_props: {:?}",
        purged.properties
    );
    Ok(())
}

fn refused_writes_leave_nothing(repo: &dyn ImageRepository) -> Checked {
    let mut img = image("a", "p");
    img.properties.insert("k".into(), "v".into());
    img.tags.insert("t".into());
    img.stores = vec!["fast".into()];
    repo.image_create(img).map_err(text)?;
    repo.image_member_create("a", &Member::new("q".into(), now()))
        .map_err(text)?;
    let before = repo.image_get("a", false).map_err(text)?;
    let refusals = [
        repo.image_property_create("a", "k", "w").err(),
        repo.image_property_delete("a", "nope").err(),
        repo.image_location_add("a", "fast").err(),
        repo.image_location_delete("a", "nope").err(),
        repo.image_location_update("a", 9, "cheap").err(),
        repo.image_member_create("a", &Member::new("q".into(), now()))
            .err(),
        repo.image_member_update("a", "nope", "accepted", now())
            .err(),
        repo.image_member_delete("a", "nope").err(),
        repo.image_tag_delete("a", "nope").err(),
    ];
    for (i, refusal) in refusals.iter().enumerate() {
        ensure!(refusal.is_some(), "refusal {i} was accepted");
    }
    let after = repo.image_get("a", false).map_err(text)?;
    ensure!(*after == *before, "changed: {after:?}");
    ensure!(
        after.revision.get() == before.revision.get(),
        "the revision moved"
    );
    let missing = repo.image_tag_create("zzz", "t");
    ensure!(
        matches!(
            missing,
            Err(RepoError::NotFound {
                row: Row::Image,
                ..
            })
        ),
        "a missing image: {missing:?}"
    );
    Ok(())
}

fn properties(repo: &dyn ImageRepository) -> Checked {
    repo.image_create(image("a", "p")).map_err(text)?;
    repo.image_property_create("a", "k", "v").map_err(text)?;
    let dup = repo.image_property_create("a", "k", "w");
    ensure!(
        matches!(
            dup,
            Err(RepoError::Duplicate {
                row: Row::Property,
                ..
            })
        ),
        "{dup:?}"
    );
    repo.image_property_delete("a", "k").map_err(text)?;
    ensure!(
        repo.image_get("a", false)
            .map_err(text)?
            .properties
            .is_empty(),
        "deleted"
    );
    let gone = repo.image_property_delete("a", "k");
    ensure!(
        matches!(
            gone,
            Err(RepoError::NotFound {
                row: Row::Property,
                ..
            })
        ),
        "{gone:?}"
    );
    Ok(())
}

fn locations(repo: &dyn ImageRepository) -> Checked {
    repo.image_create(image("a", "p")).map_err(text)?;
    for store in ["fast", "cheap", "slow"] {
        repo.image_location_add("a", store).map_err(text)?;
    }
    repo.image_location_update("a", 2, "other").map_err(text)?;
    repo.image_location_delete("a", "fast").map_err(text)?;
    let stores = repo.image_get("a", false).map_err(text)?.stores.clone();
    ensure!(stores == ["other", "slow"], "stores {stores:?}");
    let dup = repo.image_location_update("a", 1, "slow");
    ensure!(
        matches!(
            dup,
            Err(RepoError::Duplicate {
                row: Row::Location,
                ..
            })
        ),
        "one location per store: {dup:?}"
    );
    Ok(())
}

fn members(repo: &dyn ImageRepository) -> Checked {
    repo.image_create(image("a", "p")).map_err(text)?;
    let t0 = now() - time::Duration::hours(1);
    let created = repo
        .image_member_create("a", &Member::new("q".into(), t0))
        .map_err(text)?;
    repo.image_member_create("a", &Member::new("r".into(), t0))
        .map_err(text)?;
    ensure!(
        created.status == "pending" && !created.deleted,
        "{created:?}"
    );
    let dup = repo.image_member_create("a", &Member::new("q".into(), now()));
    ensure!(
        matches!(
            dup,
            Err(RepoError::Duplicate {
                row: Row::Member,
                ..
            })
        ),
        "{dup:?}"
    );
    let t1 = now();
    let accepted = repo
        .image_member_update("a", "q", "accepted", t1)
        .map_err(text)?;
    ensure!(
        accepted.status == "accepted" && accepted.updated_at == t1,
        "{accepted:?}"
    );
    let same = repo
        .image_member_update("a", "q", "accepted", t1 + time::Duration::hours(1))
        .map_err(text)?;
    ensure!(same.updated_at == t1, "the same status changes nothing");
    repo.image_member_delete("a", "q").map_err(text)?;
    ensure!(
        repo.image_member_update("a", "q", "rejected", now())
            .is_err(),
        "a deleted membership is not updated"
    );
    let revived = repo
        .image_member_create("a", &Member::new("q".into(), now()))
        .map_err(text)?;
    ensure!(
        revived.created_at == created.created_at && revived.status == "pending",
        "revived keeping created_at: {revived:?}"
    );
    let order: Vec<String> = repo
        .image_get("a", false)
        .map_err(text)?
        .live_members()
        .map(|m| m.member_id.clone())
        .collect();
    ensure!(order == ["q", "r"], "revived in its place: {order:?}");
    Ok(())
}

fn member_find_and_count(repo: &dyn ImageRepository) -> Checked {
    for id in ["a", "b"] {
        repo.image_create(image(id, "p")).map_err(text)?;
        repo.image_member_create(id, &Member::new("q".into(), now()))
            .map_err(text)?;
    }
    repo.image_member_create("a", &Member::new("r".into(), now()))
        .map_err(text)?;
    repo.image_member_update("b", "q", "accepted", now())
        .map_err(text)?;
    repo.image_member_delete("a", "r").map_err(text)?;
    ensure!(repo.image_member_count("a").map_err(text)? == 1, "count");
    let mut of_q: Vec<String> = repo
        .image_member_find(None, Some("q"), None)?
        .into_iter()
        .map(|(image, _)| image)
        .collect();
    of_q.sort();
    ensure!(of_q == ["a", "b"], "q's {of_q:?}");
    let accepted = repo.image_member_find(None, None, Some("accepted"))?;
    ensure!(
        accepted.len() == 1 && accepted[0].0 == "b",
        "accepted {accepted:?}"
    );
    ensure!(
        repo.image_member_find(Some("a"), Some("r"), None)?
            .is_empty(),
        "deleted rows are not found"
    );
    repo.image_destroy("b", now(), None).map_err(text)?;
    ensure!(
        repo.image_member_find(None, Some("q"), None)?.len() == 1,
        "nor those of deleted images"
    );
    Ok(())
}

fn tags(repo: &dyn ImageRepository) -> Checked {
    repo.image_create(image("a", "p")).map_err(text)?;
    repo.image_tag_set_all("a", &BTreeSet::from(["b".to_owned(), "a".to_owned()]))
        .map_err(text)?;
    repo.image_tag_create("a", "c").map_err(text)?;
    repo.image_tag_create("a", "c").map_err(text)?;
    repo.image_tag_delete("a", "a").map_err(text)?;
    ensure!(
        repo.image_tag_get_all("a").map_err(text)? == ["b", "c"],
        "tags {:?}",
        repo.image_tag_get_all("a")
    );
    repo.image_tag_set_all("a", &BTreeSet::new())
        .map_err(text)?;
    ensure!(
        repo.image_tag_get_all("a").map_err(text)?.is_empty(),
        "cleared"
    );
    Ok(())
}

fn get_all_pages(repo: &dyn ImageRepository) -> Checked {
    let alice = Identity {
        project_id: Some("alice".into()),
        user_id: Some("alice".into()),
        roles: vec!["member".into(), "reader".into()],
    };
    for (id, owner, visibility) in [
        ("1", "alice", Visibility::Private),
        ("2", "alice", Visibility::Shared),
        ("3", "bob", Visibility::Public),
        ("4", "bob", Visibility::Private),
        ("5", "alice", Visibility::Private),
    ] {
        let mut img = image(id, owner);
        img.visibility = visibility;
        repo.image_create(img).map_err(text)?;
    }
    repo.image_destroy("5", now(), None).map_err(text)?;
    let query = |pairs: &[(&str, &str)]| {
        let raw: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        ListQuery::parse(&raw, 25, 1000).map_err(|e| e.to_string())
    };
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut pairs = vec![("limit", "2"), ("sort_key", "name"), ("sort_dir", "asc")];
        if let Some(m) = &marker {
            pairs.push(("marker", m));
        }
        let page = repo.image_get_all(&alice, &query(&pairs)?).map_err(text)?;
        seen.extend(page.images.iter().map(|i| i.id.clone()));
        match page.images.last() {
            Some(last) if page.next.is_some() => marker = Some(last.id.clone()),
            _ => break,
        }
        ensure!(seen.len() < 10, "pages never end: {seen:?}");
    }
    seen.sort();
    ensure!(seen == ["1", "2", "3"], "alice sees {seen:?}");
    let hidden = repo.image_get_all(&alice, &query(&[("marker", "4")])?);
    ensure!(
        matches!(hidden, Err(RepoError::Forbidden { .. })),
        "a marker alice cannot see: {hidden:?}"
    );
    let deleted = repo.image_get_all(&alice, &query(&[("marker", "5")])?);
    ensure!(
        matches!(deleted, Err(RepoError::NotFound { .. })),
        "a deleted marker: {deleted:?}"
    );
    Ok(())
}

fn generation(repo: &dyn ImageRepository) -> Checked {
    let g0 = repo.generation();
    repo.image_create(image("a", "p")).map_err(text)?;
    let g1 = repo.generation();
    ensure!(g1 != g0, "a create moves it");
    let _ = repo.image_get("a", false);
    let _ = repo.image_scan(true);
    ensure!(repo.generation() == g1, "reads do not");
    repo.image_tag_create("a", "t").map_err(text)?;
    ensure!(repo.generation() != g1, "a write moves it");
    Ok(())
}

fn concurrent_writers(repo: &dyn ImageRepository) -> Checked {
    repo.image_create(image("a", "p")).map_err(text)?;
    let failures: Vec<String> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..8)
            .map(|w| {
                s.spawn(move || {
                    (0..25)
                        .filter_map(|i| {
                            let key = format!("k{w}-{i}");
                            let r = if i % 2 == 0 {
                                repo.image_property_create("a", &key, "v").err()
                            } else {
                                repo.image_tag_create("a", &key).err()
                            };
                            r.map(|e| e.to_string())
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|_| vec!["a writer panicked".into()])
            })
            .collect()
    });
    ensure!(failures.is_empty(), "writes failed: {failures:?}");
    let img = repo.image_get("a", false).map_err(text)?;
    ensure!(
        img.properties.len() == 8 * 13 && img.tags.len() == 8 * 12,
        "lost: {} properties, {} tags",
        img.properties.len(),
        img.tags.len()
    );
    ensure!(img.revision.get() == 1 + 200, "revision {:?}", img.revision);
    Ok(())
}

fn reset_forgets(repo: &dyn ImageRepository) -> Checked {
    repo.image_create(image("a", "p")).map_err(text)?;
    repo.image_destroy("a", now(), None).map_err(text)?;
    repo.reset()?;
    ensure!(repo.image_scan(true)?.is_empty(), "not empty after reset");
    ensure!(repo.image_create(image("a", "p")).is_ok(), "the id is free");
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::db::MemoryDb;

    /// A repository whose `image_update` ignores `from_state`: the
    /// mistake the suite must catch.
    #[derive(Debug, Default)]
    struct IgnoresFromState(MemoryDb);

    impl ImageRepository for IgnoresFromState {
        fn image_create(&self, image: Image) -> Result<Arc<Image>, RepoError> {
            self.0.image_create(image)
        }
        fn image_get(&self, id: &str, force: bool) -> Result<Arc<Image>, RepoError> {
            self.0.image_get(id, force)
        }
        fn image_scan(&self, with_deleted: bool) -> Result<Vec<Arc<Image>>, RepoError> {
            self.0.image_scan(with_deleted)
        }
        fn image_write(&self, new: Image) -> Result<Arc<Image>, RepoError> {
            self.0.image_write(new)
        }
        fn generation(&self) -> Result<u64, RepoError> {
            self.0.generation()
        }
        fn reset(&self) -> Result<(), RepoError> {
            self.0.reset()
        }
        fn image_update(&self, id: &str, update: ImageUpdate<'_>) -> Result<Arc<Image>, RepoError> {
            self.0.image_update(
                id,
                ImageUpdate {
                    from_state: None,
                    ..update
                },
            )
        }
    }

    #[test]
    fn the_suite_catches_an_ignored_from_state() {
        let make = || -> Box<dyn ImageRepository> { Box::new(IgnoresFromState::default()) };
        let broken = super::super::broken(&make, RULES);
        assert_eq!(broken.len(), 1, "{broken:?}");
        assert!(
            broken[0].starts_with("image_update honours from_state"),
            "{broken:?}"
        );
    }
}
