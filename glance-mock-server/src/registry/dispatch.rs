//! What the registry does with each command: the repository call it names,
//! on the registry's own repositories.

use serde::Serialize;
use serde_json::Value;

use super::identities::IdentityLog;
use crate::db::registry::wire::{Command, Stored};
use crate::db::{ImageUpdate, RepoError, Repositories, Row};
use crate::domain::Fault;

fn value<T: Serialize>(v: T) -> Result<Value, RepoError> {
    serde_json::to_value(v).map_err(|e| RepoError::Backend(format!("encoding an answer: {e}")))
}

/// Run `command` on `repo` and `log`; its result as it travels.
pub fn execute(
    repo: &Repositories,
    log: &IdentityLog,
    command: Command,
) -> Result<Value, RepoError> {
    let images = &repo.images;
    let tasks = &repo.tasks;
    match command {
        Command::ImageCreate { values } => {
            value(Stored::image(&*images.image_create(values.into_image())?))
        }
        Command::ImageGet {
            image_id,
            force_show_deleted,
        } => value(Stored::image(
            &*images.image_get(&image_id, force_show_deleted)?,
        )),
        Command::ImageScan { with_deleted } => {
            let all = images.image_scan(with_deleted)?;
            value(all.iter().map(|i| Stored::image(i)).collect::<Vec<_>>())
        }
        Command::ImageWrite { values } => {
            value(Stored::image(&*images.image_write(values.into_image())?))
        }
        Command::ImageUpdate {
            image_id,
            values,
            purge_props,
            from_state,
            revision,
        } => {
            let values = values.into_image();
            let update = ImageUpdate {
                values: &values,
                purge_props,
                from_state,
                revision,
            };
            value(Stored::image(&*images.image_update(&image_id, update)?))
        }
        Command::ImageDestroy {
            image_id,
            at,
            revision,
        } => value(Stored::image(
            &*images.image_destroy(&image_id, at, revision)?,
        )),
        Command::ImageGeneration {} => value(images.generation()?),
        Command::ImageReset {} => value(images.reset()?),
        Command::TaskCreate { values } => {
            value(Stored::task(&*tasks.task_create(values.into_task())?))
        }
        Command::TaskGet {
            task_id,
            force_show_deleted,
        } => value(Stored::task(
            &*tasks.task_get(&task_id, force_show_deleted)?,
        )),
        Command::TaskScan {} => {
            let all = tasks.task_scan()?;
            value(all.iter().map(|t| Stored::task(t)).collect::<Vec<_>>())
        }
        Command::TaskUpdate { values } => {
            value(Stored::task(&*tasks.task_update(values.into_task())?))
        }
        Command::TaskReset {} => value(tasks.reset()?),
        Command::MetadefSnapshot {} => value(&*repo.metadefs.snapshot()?),
        Command::MetadefReplace { base, tables } => {
            let mut tables = Some(tables);
            repo.metadefs
                .transaction(&mut |current| {
                    if *current != base {
                        return Err(Fault::Conflict(String::new()));
                    }
                    if let Some(t) = tables.take() {
                        *current = t;
                    }
                    Ok(())
                })
                .map_err(|fault| match fault {
                    Fault::Conflict(_) => RepoError::Changed {
                        row: Row::Metadefs,
                        id: "tables".into(),
                        read: 0,
                    },
                    other => RepoError::Backend(other.to_string()),
                })?;
            value(())
        }
        Command::MetadefReset {} => value(repo.metadefs.reset()?),
        Command::DirectoryChanged { directory } => {
            log.directory_changed(directory);
            value(())
        }
        Command::TokenSaved { token } => {
            log.token_saved(token);
            value(())
        }
        Command::IdentityChanges { since } => value(log.changes(since)),
    }
}
