//! What goes over the registry's wire: the commands ([`Command`]), the
//! records they carry ([`Stored`]) and how a failure travels
//! ([`reply`], [`WireError`]). Both ends use these types, so they cannot drift apart.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::db::RepoError;
use crate::domain::metadefs::Tables;
use crate::domain::tasks::Task;
use crate::domain::{Image, ImageStatus, Revision};
use crate::keystone::{Directory, Token};

/// A record with its revision, which the record's own serialisation
/// leaves out (it is bookkeeping, not part of the value).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Stored<T> {
    /// The record's revision.
    pub revision: u64,
    /// The record.
    pub record: T,
}

impl Stored<Image> {
    /// `image` as it travels.
    pub fn image(image: &Image) -> Self {
        Stored {
            revision: image.revision.get(),
            record: image.clone(),
        }
    }

    /// The image back, at its revision.
    pub fn into_image(self) -> Image {
        Image {
            revision: Revision::new(self.revision),
            ..self.record
        }
    }
}

impl Stored<Task> {
    /// `task` as it travels.
    pub fn task(task: &Task) -> Self {
        Stored {
            revision: task.revision.get(),
            record: task.clone(),
        }
    }

    /// The task back, at its revision.
    pub fn into_task(self) -> Task {
        Task {
            revision: Revision::new(self.revision),
            ..self.record
        }
    }
}

/// One call of the registry's DB API: `{"command": NAME, "kwargs": {…}}`.
/// The names are Glance's where the call is one of its DB API functions
/// (`image_create`, `image_get`, `image_update`, `image_destroy`,
/// `task_create`, `task_get`, `task_update`); the others are the
/// repository core's ([`crate::db::ImageRepository`]) and the Keystone
/// shim's journal ([`crate::keystone::IdentityJournal`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "command", content = "kwargs", rename_all = "snake_case")]
pub enum Command {
    /// `image_create(values)`.
    ImageCreate {
        /// The record (its revision is ignored).
        values: Stored<Image>,
    },
    /// `image_get(image_id, force_show_deleted)`.
    ImageGet {
        /// The image.
        image_id: String,
        /// Deleted rows too.
        #[serde(default)]
        force_show_deleted: bool,
    },
    /// Every record ([`crate::db::ImageRepository::image_scan`]).
    ImageScan {
        /// Deleted rows too.
        #[serde(default)]
        with_deleted: bool,
    },
    /// The guarded write ([`crate::db::ImageRepository::image_write`]).
    ImageWrite {
        /// The record, at the revision it was read at.
        values: Stored<Image>,
    },
    /// `image_update(image_id, values, purge_props, from_state)`, guarded
    /// by the revision read when given.
    ImageUpdate {
        /// The image.
        image_id: String,
        /// What to write.
        values: Stored<Image>,
        /// Remove the properties `values` does not have.
        purge_props: bool,
        /// Write only from this state.
        from_state: Option<ImageStatus>,
        /// Write only at this revision.
        revision: Option<u64>,
    },
    /// `image_destroy(image_id)`, at `at`, guarded by `revision` when given.
    ImageDestroy {
        /// The image.
        image_id: String,
        /// When it was deleted.
        #[serde(with = "time::serde::rfc3339")]
        at: OffsetDateTime,
        /// Destroy only at this revision.
        revision: Option<u64>,
    },
    /// The image table's generation.
    ImageGeneration {},
    /// Forget every image.
    ImageReset {},
    /// `task_create(values)`.
    TaskCreate {
        /// The task (its revision is ignored).
        values: Stored<Task>,
    },
    /// `task_get(task_id, force_show_deleted)`.
    TaskGet {
        /// The task.
        task_id: String,
        /// Soft-deleted tasks too.
        #[serde(default)]
        force_show_deleted: bool,
    },
    /// Every task, oldest first.
    TaskScan {},
    /// `task_update(task_id, values)`, guarded by the revision read.
    TaskUpdate {
        /// The task, at the revision it was read at.
        values: Stored<Task>,
    },
    /// Forget every task.
    TaskReset {},
    /// The metadata definition tables.
    MetadefSnapshot {},
    /// Replace the tables by `tables` if they are still `base` (what the
    /// caller read and changed): a compare-and-swap, so a change made on
    /// an API node is one transaction.
    MetadefReplace {
        /// The tables the change started from.
        base: Tables,
        /// The tables after the change.
        tables: Tables,
    },
    /// Empty the metadata definition tables.
    MetadefReset {},
    /// The Keystone shim's identities are now `directory`.
    DirectoryChanged {
        /// The identities.
        directory: Directory,
    },
    /// A token was issued or revoked.
    TokenSaved {
        /// The token.
        token: Token,
    },
    /// What was written to the identity journal after change `since`.
    IdentityChanges {
        /// The last change the caller has seen (0: none).
        since: u64,
    },
}

impl Command {
    /// The command's name, as it travels.
    pub fn name(&self) -> &'static str {
        match self {
            Command::ImageCreate { .. } => "image_create",
            Command::ImageGet { .. } => "image_get",
            Command::ImageScan { .. } => "image_scan",
            Command::ImageWrite { .. } => "image_write",
            Command::ImageUpdate { .. } => "image_update",
            Command::ImageDestroy { .. } => "image_destroy",
            Command::ImageGeneration {} => "image_generation",
            Command::ImageReset {} => "image_reset",
            Command::TaskCreate { .. } => "task_create",
            Command::TaskGet { .. } => "task_get",
            Command::TaskScan {} => "task_scan",
            Command::TaskUpdate { .. } => "task_update",
            Command::TaskReset {} => "task_reset",
            Command::MetadefSnapshot {} => "metadef_snapshot",
            Command::MetadefReplace { .. } => "metadef_replace",
            Command::MetadefReset {} => "metadef_reset",
            Command::DirectoryChanged { .. } => "directory_changed",
            Command::TokenSaved { .. } => "token_saved",
            Command::IdentityChanges { .. } => "identity_changes",
        }
    }
}

/// The answer to [`Command::IdentityChanges`].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IdentityChanges {
    /// The identities, if they changed since.
    pub directory: Option<Directory>,
    /// The tokens written since.
    pub tokens: Vec<Token>,
    /// The last change included: the next call's `since`.
    pub last: u64,
}

/// The key of a failed call's result: `{"_error": {"cls", "val",
/// "error"}}`, as Glance's RPC layer sends an exception (its class and
/// message), with the typed error beside them.
pub const ERROR_KEY: &str = "_error";

/// A failed call as it travels.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WireError {
    /// The Glance exception class this failure is.
    pub cls: String,
    /// Its message.
    pub val: String,
    /// The failure, typed.
    pub error: RepoError,
}

impl From<RepoError> for WireError {
    fn from(error: RepoError) -> Self {
        let cls = match &error {
            RepoError::NotFound { .. } => "glance.common.exception.NotFound",
            RepoError::Duplicate { .. } => "glance.common.exception.Duplicate",
            RepoError::Forbidden { .. } => "glance.common.exception.Forbidden",
            RepoError::WrongState { .. } | RepoError::Changed { .. } => {
                "glance.common.exception.Conflict"
            }
            RepoError::BadQuery(_) => "glance.common.exception.Invalid",
            RepoError::Backend(_) | RepoError::Unavailable(_) => {
                "glance.common.exception.GlanceException"
            }
        };
        WireError {
            cls: cls.to_owned(),
            val: error.to_string(),
            error,
        }
    }
}

/// One call's result as it travels: the value, or [`ERROR_KEY`] and the
/// failure.
pub fn reply(result: Result<Value, RepoError>) -> Value {
    match result {
        Ok(value) => value,
        Err(e) => serde_json::json!({ ERROR_KEY: WireError::from(e) }),
    }
}

/// A result read back: the value, or the failure it carries.
pub fn read_reply(value: Value) -> Result<Value, RepoError> {
    match value {
        Value::Object(mut map) if map.contains_key(ERROR_KEY) => {
            let wire = map.remove(ERROR_KEY).unwrap_or_default();
            Err(match serde_json::from_value::<WireError>(wire) {
                Ok(w) => w.error,
                Err(e) => RepoError::Backend(format!("the registry's error is unreadable: {e}")),
            })
        }
        value => Ok(value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::Row;

    #[test]
    fn a_command_is_glances_command_and_kwargs() {
        let c = Command::ImageGet {
            image_id: "i".into(),
            force_show_deleted: true,
        };
        assert_eq!(
            serde_json::to_value(&c).expect("serialises"),
            serde_json::json!({"command": "image_get", "kwargs": {"image_id": "i", "force_show_deleted": true}})
        );
        let back: Command = serde_json::from_value(
            serde_json::json!({"command": "image_generation", "kwargs": {}}),
        )
        .expect("reads");
        assert!(matches!(back, Command::ImageGeneration {}));
        // The names the log shows are the ones on the wire.
        assert_eq!(
            serde_json::to_value(&c).expect("serialises")["command"],
            c.name()
        );
    }

    #[test]
    fn every_error_comes_back_as_it_left() {
        for e in [
            RepoError::not_found(Row::Image, "x"),
            RepoError::duplicate(Row::Member, "p"),
            RepoError::Forbidden {
                row: Row::Image,
                key: "y".into(),
            },
            RepoError::WrongState {
                id: "i".into(),
                expected: ImageStatus::Queued,
                found: ImageStatus::Active,
            },
            RepoError::Changed {
                row: Row::Task,
                id: "t".into(),
                read: 3,
            },
            RepoError::BadQuery("bad sort key".into()),
            RepoError::Backend("disk".into()),
        ] {
            let travelled = read_reply(reply(Err(e.clone())));
            assert_eq!(travelled, Err(e));
        }
        assert_eq!(
            read_reply(serde_json::json!({"a": 1})),
            Ok(serde_json::json!({"a": 1}))
        );
    }
}
