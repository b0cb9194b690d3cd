//! The rules of [`MetadefRepository`].

use super::{Rule, assert_passes, ensure};
use crate::db::MetadefRepository;
use crate::domain::Fault;
use crate::domain::metadefs::Tables;

/// Every rule.
pub(crate) const RULES: &[Rule<dyn MetadefRepository>] = &[
    ("a fresh repository is empty", starts_empty),
    (
        "a snapshot does not see later changes",
        snapshots_are_stable,
    ),
    ("a transaction that succeeds is kept", commits),
    (
        "a transaction that fails leaves nothing",
        failures_leave_nothing,
    ),
    ("reset forgets everything", reset_forgets),
];

/// Panic unless `make`'s repositories pass every rule.
pub(crate) fn run(make: &dyn Fn() -> Box<dyn MetadefRepository>) {
    assert_passes(make, RULES);
}

fn starts_empty(repo: &dyn MetadefRepository) -> Result<(), String> {
    ensure!(*repo.snapshot()? == Tables::default(), "not empty");
    Ok(())
}

fn snapshots_are_stable(repo: &dyn MetadefRepository) -> Result<(), String> {
    let before = repo.snapshot()?;
    repo.transaction(&mut |t| {
        t.next_id();
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    ensure!(*before == Tables::default(), "the snapshot changed");
    ensure!(
        *repo.snapshot()? != Tables::default(),
        "the change is missing"
    );
    Ok(())
}

fn commits(repo: &dyn MetadefRepository) -> Result<(), String> {
    let mut ids = Vec::new();
    for _ in 0..3 {
        repo.transaction(&mut |t| {
            ids.push(t.next_id());
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    }
    ensure!(ids == [1, 2, 3], "ids {ids:?}");
    Ok(())
}

fn failures_leave_nothing(repo: &dyn MetadefRepository) -> Result<(), String> {
    repo.transaction(&mut |t| {
        t.next_id();
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    let before = repo.snapshot()?;
    let refused = repo.transaction(&mut |t| {
        // Half of a change, then the refusal.
        t.next_id();
        t.namespace_delete(1);
        Err(Fault::Conflict("no".into()))
    });
    ensure!(
        refused == Err(Fault::Conflict("no".into())),
        "the refusal is passed on: {refused:?}"
    );
    ensure!(*repo.snapshot()? == *before, "the failed half stayed");
    Ok(())
}

fn reset_forgets(repo: &dyn MetadefRepository) -> Result<(), String> {
    repo.transaction(&mut |t| {
        t.next_id();
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    repo.reset()?;
    ensure!(
        *repo.snapshot()? == Tables::default(),
        "not empty after reset"
    );
    Ok(())
}
