//! The rules of [`TaskRepository`].

use serde_json::json;
use time::Duration;

use super::{Rule, assert_passes, ensure};
use crate::db::{RepoError, Row, TaskRepository};
use crate::domain::Identity;
use crate::domain::tasks::{Task, TaskQuery, TaskType, now_micros};

/// Every rule.
pub(crate) const RULES: &[Rule<dyn TaskRepository>] = &[
    ("a created task reads back at revision 1", create_and_get),
    ("a task id is never reused", ids_are_unique),
    (
        "an update is guarded by the revision read",
        updates_are_guarded,
    ),
    ("task_delete soft-deletes", delete_is_soft),
    (
        "only the owner's expired tasks are deleted",
        expired_tasks_of_the_owner,
    ),
    ("task_get_all pages live tasks in order", get_all_pages),
    ("reset forgets everything", reset_forgets),
];

/// Panic unless `make`'s repositories pass every rule.
pub(crate) fn run(make: &dyn Fn() -> Box<dyn TaskRepository>) {
    assert_passes(make, RULES);
}

pub(crate) fn task(id: &str, owner: &str) -> Task {
    let who = Identity {
        project_id: Some(owner.into()),
        user_id: Some("u".into()),
        roles: vec!["admin".into()],
    };
    Task::new(
        id.into(),
        TaskType::ApiImageImport,
        &who,
        None,
        None,
        json!({}),
        now_micros(),
    )
}

fn create_and_get(repo: &dyn TaskRepository) -> Result<(), String> {
    let created = repo
        .task_create(task("a", "p"))
        .map_err(|e| e.to_string())?;
    ensure!(
        created.revision.get() == 1,
        "revision {:?}",
        created.revision
    );
    let read = repo.task_get("a", false).map_err(|e| e.to_string())?;
    ensure!(*read == *created, "read {read:?}");
    let missing = repo.task_get("zzz", true);
    ensure!(
        matches!(missing, Err(RepoError::NotFound { row: Row::Task, .. })),
        "{missing:?}"
    );
    Ok(())
}

fn ids_are_unique(repo: &dyn TaskRepository) -> Result<(), String> {
    repo.task_create(task("a", "p"))
        .map_err(|e| e.to_string())?;
    let again = repo.task_create(task("a", "q"));
    ensure!(
        matches!(again, Err(RepoError::Duplicate { .. })),
        "{again:?}"
    );
    ensure!(
        repo.task_get("a", false)
            .map_err(|e| e.to_string())?
            .owner
            .as_deref()
            == Some("p"),
        "the first stays"
    );
    Ok(())
}

fn updates_are_guarded(repo: &dyn TaskRepository) -> Result<(), String> {
    let read = repo
        .task_create(task("a", "p"))
        .map_err(|e| e.to_string())?;
    let mut first = Task::clone(&read);
    first.message = "first".into();
    let saved = repo.task_update(first).map_err(|e| e.to_string())?;
    ensure!(saved.revision.get() == 2, "revision {:?}", saved.revision);
    let mut stale = Task::clone(&read);
    stale.message = "stale".into();
    let refused = repo.task_update(stale);
    ensure!(
        matches!(refused, Err(RepoError::Changed { .. })),
        "{refused:?}"
    );
    let now = repo.task_get("a", false).map_err(|e| e.to_string())?;
    ensure!(now.message == "first", "message {:?}", now.message);
    let mut ghost = task("ghost", "p");
    ghost.revision = crate::domain::Revision::new(1);
    ensure!(
        matches!(repo.task_update(ghost), Err(RepoError::NotFound { .. })),
        "an update creates nothing"
    );
    Ok(())
}

fn delete_is_soft(repo: &dyn TaskRepository) -> Result<(), String> {
    repo.task_create(task("a", "p"))
        .map_err(|e| e.to_string())?;
    let at = now_micros();
    let deleted = repo.task_delete("a", at).map_err(|e| e.to_string())?;
    ensure!(
        deleted.deleted && deleted.deleted_at == Some(at),
        "{deleted:?}"
    );
    ensure!(repo.task_get("a", false).is_err(), "hidden");
    ensure!(repo.task_get("a", true).is_ok(), "kept");
    ensure!(repo.task_scan()?.len() == 1, "scanned with the deleted");
    ensure!(
        repo.task_delete("a", at).is_err(),
        "a deleted task is not deleted again"
    );
    Ok(())
}

fn expired_tasks_of_the_owner(repo: &dyn TaskRepository) -> Result<(), String> {
    let t0 = now_micros() - Duration::hours(50);
    for (id, owner) in [("mine", "p"), ("theirs", "q")] {
        let mut t = task(id, owner);
        t.begin_processing(t0).map_err(|e| e.to_string())?;
        t.succeed(json!({}), Duration::hours(48), t0)
            .map_err(|e| e.to_string())?;
        repo.task_create(t).map_err(|e| e.to_string())?;
    }
    repo.task_create(task("fresh", "p"))
        .map_err(|e| e.to_string())?;
    repo.task_delete_expired(Some("p"), now_micros())?;
    ensure!(repo.task_get("mine", false).is_err(), "expired, deleted");
    ensure!(repo.task_get("theirs", false).is_ok(), "another owner's");
    ensure!(repo.task_get("fresh", false).is_ok(), "not expired");
    Ok(())
}

fn get_all_pages(repo: &dyn TaskRepository) -> Result<(), String> {
    // Markers must look like UUIDs.
    let id = |n: u32| format!("00000000-0000-4000-8000-{n:012}");
    for n in 1..=4 {
        repo.task_create(task(&id(n), "p"))
            .map_err(|e| e.to_string())?;
    }
    repo.task_delete(&id(2), now_micros())
        .map_err(|e| e.to_string())?;
    let admin = Identity::default_admin();
    let query = |pairs: &[(&str, &str)]| {
        let raw: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        TaskQuery::parse(&raw, 20, 1000).map_err(|e| e.to_string())
    };
    let mut seen = Vec::new();
    let mut marker: Option<String> = None;
    loop {
        let mut pairs = vec![("limit", "2"), ("sort_key", "id"), ("sort_dir", "asc")];
        if let Some(m) = &marker {
            pairs.push(("marker", m));
        }
        let (page, next) = repo
            .task_get_all(&admin, &query(&pairs)?)
            .map_err(|e| e.to_string())?;
        seen.extend(page.iter().map(|t| t.id.clone()));
        match next {
            Some(n) => marker = Some(n),
            None => break,
        }
        ensure!(seen.len() < 10, "pages never end: {seen:?}");
    }
    ensure!(seen == [id(1), id(3), id(4)], "listed {seen:?}");
    let bad = repo.task_get_all(&admin, &query(&[("marker", &id(9))])?);
    ensure!(matches!(bad, Err(RepoError::BadQuery(_))), "{bad:?}");
    Ok(())
}

fn reset_forgets(repo: &dyn TaskRepository) -> Result<(), String> {
    repo.task_create(task("a", "p"))
        .map_err(|e| e.to_string())?;
    repo.reset()?;
    ensure!(repo.task_scan()?.is_empty(), "not empty after reset");
    ensure!(repo.task_create(task("a", "p")).is_ok(), "the id is free");
    Ok(())
}
