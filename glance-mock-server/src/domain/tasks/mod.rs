//! Tasks (`glance.domain.Task`): the record an import or a `POST /v2/tasks`
//! leaves behind, its status machine, its three JSON shapes, and the
//! rules of the admin-only tasks API: listing in [`list`], creating in
//! [`create`].
//!
//! The shapes differ as Glance's do: `GET /v2/images/{id}/tasks` returns
//! raw DB rows whose datetimes are Python's `isoformat()` (microseconds,
//! no `Z`), while `/v2/tasks` formats them as the rest of the API does.

pub mod create;
pub mod list;

use std::sync::Arc;

use serde_json::{Map, Value, json};
use time::{Duration, OffsetDateTime};

use super::{Fault, Identity};

pub use create::{
    NewTask, input_image_id, input_problem, legacy_filtered, legacy_location, parse_create,
    parse_ordered,
};
pub use list::{TaskQuery, is_uuid_like, list_links};

/// Task status (`pending → processing → success | failure`, or
/// `pending → failure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Created, not started.
    Pending,
    /// Running.
    Processing,
    /// Finished well.
    Success,
    /// Finished badly; `message` says why.
    Failure,
}

impl TaskStatus {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "pending",
            TaskStatus::Processing => "processing",
            TaskStatus::Success => "success",
            TaskStatus::Failure => "failure",
        }
    }

    /// Whether Glance allows `self → to` (`_validate_task_status_transition`).
    pub fn can_become(self, to: TaskStatus) -> bool {
        use TaskStatus::*;
        matches!(
            (self, to),
            (Pending, Processing | Failure) | (Processing, Success | Failure)
        )
    }

    /// Whether the task has ended.
    pub fn is_final(self) -> bool {
        matches!(self, TaskStatus::Success | TaskStatus::Failure)
    }
}

/// The task types Glance knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskType {
    /// The legacy import task (`POST /v2/tasks`).
    Import,
    /// What `POST /v2/images/{id}/import` creates.
    ApiImageImport,
    /// What adding a location creates.
    LocationImport,
}

impl TaskType {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TaskType::Import => "import",
            TaskType::ApiImageImport => "api_image_import",
            TaskType::LocationImport => "location_import",
        }
    }

    /// Parse a wire name.
    pub fn parse(s: &str) -> Option<TaskType> {
        Some(match s {
            "import" => TaskType::Import,
            "api_image_import" => TaskType::ApiImageImport,
            "location_import" => TaskType::LocationImport,
            _ => return None,
        })
    }
}

/// The message of a task whose flow failed on something other than an
/// upload error: what most failed imports end with.
pub const INTERNAL_ERROR: &str = "Task failed due to Internal Error";

/// A task record (a `tasks` row with its `task_info`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Task {
    /// UUID.
    pub id: String,
    /// Type.
    pub task_type: TaskType,
    /// Status.
    pub status: TaskStatus,
    /// The project that created it.
    pub owner: Option<String>,
    /// When it stops being listed: set when it ends.
    #[serde(with = "time::serde::rfc3339::option")]
    pub expires_at: Option<OffsetDateTime>,
    /// Creation time (microseconds kept).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Last change.
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    /// When it was soft-deleted (expired and scrubbed).
    #[serde(with = "time::serde::rfc3339::option")]
    pub deleted_at: Option<OffsetDateTime>,
    /// Soft-deleted.
    pub deleted: bool,
    /// The image it concerns.
    pub image_id: Option<String>,
    /// The request that created it.
    pub request_id: Option<String>,
    /// The user that created it.
    pub user_id: Option<String>,
    /// Its input, as given (a JSON object or null).
    pub input: Value,
    /// Its result, once successful.
    pub result: Option<Value>,
    /// A progress or failure message (`""` when none).
    pub message: String,
    /// Which write of the record this is (see `Image::revision`).
    #[serde(skip)]
    pub revision: super::Revision,
}

/// A status change Glance's task refuses.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Status transition from {from} to {to} is not allowed")]
pub struct InvalidTaskTransition {
    /// The current status.
    pub from: &'static str,
    /// The refused one.
    pub to: &'static str,
}

/// The current time with the microseconds Glance's task rows keep.
pub fn now_micros() -> OffsetDateTime {
    let t = OffsetDateTime::now_utc();
    t.replace_nanosecond(t.nanosecond() / 1000 * 1000)
        .unwrap_or(t)
}

impl Task {
    /// `TaskFactory.new_task`: a pending task created now.
    pub fn new(
        id: String,
        task_type: TaskType,
        who: &Identity,
        image_id: Option<String>,
        request_id: Option<String>,
        input: Value,
        now: OffsetDateTime,
    ) -> Task {
        Task {
            id,
            task_type,
            status: TaskStatus::Pending,
            owner: who.project_id.clone(),
            expires_at: None,
            created_at: now,
            updated_at: now,
            deleted_at: None,
            deleted: false,
            image_id,
            request_id,
            user_id: who.user_id.clone(),
            input,
            result: None,
            message: String::new(),
            revision: super::Revision::default(),
        }
    }

    fn set_status(
        &mut self,
        to: TaskStatus,
        now: OffsetDateTime,
    ) -> Result<(), InvalidTaskTransition> {
        if !self.status.can_become(to) {
            return Err(InvalidTaskTransition {
                from: self.status.as_str(),
                to: to.as_str(),
            });
        }
        self.status = to;
        self.updated_at = now;
        Ok(())
    }

    /// `begin_processing`.
    pub fn begin_processing(&mut self, now: OffsetDateTime) -> Result<(), InvalidTaskTransition> {
        self.set_status(TaskStatus::Processing, now)
    }

    /// `succeed`: record the result; listed for `ttl` more.
    pub fn succeed(
        &mut self,
        result: Value,
        ttl: Duration,
        now: OffsetDateTime,
    ) -> Result<(), InvalidTaskTransition> {
        self.set_status(TaskStatus::Success, now)?;
        self.result = Some(result);
        self.expires_at = Some(now + ttl);
        Ok(())
    }

    /// `fail`: record why; listed for `ttl` more.
    pub fn fail(
        &mut self,
        message: &str,
        ttl: Duration,
        now: OffsetDateTime,
    ) -> Result<(), InvalidTaskTransition> {
        self.set_status(TaskStatus::Failure, now)?;
        self.message = message.to_owned();
        self.expires_at = Some(now + ttl);
        Ok(())
    }

    /// Whether it is past `expires_at` (and due to be scrubbed).
    pub fn expired(&self, now: OffsetDateTime) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }

    /// The row as `GET /v2/images/{id}/tasks` lists it (`_task_format`,
    /// serialised by `jsonutils`).
    pub fn image_view(&self) -> Value {
        json!({
            "id": self.id,
            "type": self.task_type.as_str(),
            "status": self.status.as_str(),
            "owner": self.owner,
            "expires_at": self.expires_at.map(python_isoformat),
            "created_at": python_isoformat(self.created_at),
            "updated_at": python_isoformat(self.updated_at),
            "deleted_at": self.deleted_at.map(python_isoformat),
            "deleted": self.deleted,
            "image_id": self.image_id,
            "request_id": self.request_id,
            "user_id": self.user_id,
            "input": self.input,
            "result": self.result,
            "message": self.message,
        })
    }

    /// `GET /v2/tasks/{id}` (and the `POST /v2/tasks` answer).
    pub fn full_view(&self) -> Value {
        let mut v = self.stub_view();
        if let Value::Object(m) = &mut v {
            m.insert("input".into(), self.input.clone());
            m.insert("result".into(), self.result.clone().unwrap_or(Value::Null));
            m.insert("message".into(), Value::String(self.message.clone()));
            for (key, value) in [
                ("image_id", &self.image_id),
                ("request_id", &self.request_id),
                ("user_id", &self.user_id),
            ] {
                if let Some(v) = value.as_ref().filter(|v| !v.is_empty()) {
                    m.insert(key.into(), Value::String(v.clone()));
                }
            }
        }
        v
    }

    /// A task as `GET /v2/tasks` lists it: no input, result or message.
    pub fn stub_view(&self) -> Value {
        let mut m = Map::new();
        m.insert("id".into(), json!(self.id));
        m.insert("type".into(), json!(self.task_type.as_str()));
        m.insert("status".into(), json!(self.status.as_str()));
        m.insert("owner".into(), json!(self.owner));
        m.insert(
            "created_at".into(),
            json!(super::time::format(self.created_at)),
        );
        m.insert(
            "updated_at".into(),
            json!(super::time::format(self.updated_at)),
        );
        m.insert("self".into(), json!(format!("/v2/tasks/{}", self.id)));
        m.insert("schema".into(), json!("/v2/schemas/task"));
        if let Some(e) = self.expires_at {
            m.insert("expires_at".into(), json!(super::time::format(e)));
        }
        Value::Object(m)
    }
}

/// Python's `datetime.isoformat()` of a naive UTC datetime: microseconds
/// only when there are any, and no zone.
pub fn python_isoformat(t: OffsetDateTime) -> String {
    let base = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    );
    match t.microsecond() {
        0 => base,
        us => format!("{base}.{us:06}"),
    }
}

/// `_is_task_visible`: admins see every task, others those of their
/// project (and those without an owner).
pub fn visible(who: &Identity, task: &Task) -> bool {
    who.is_admin()
        || task.owner.is_none()
        || (who.project_id.is_some() && who.project_id == task.owner)
}

/// `tasks_api_access`: the tasks API is for admins only.
pub fn check_access(who: &Identity) -> Result<(), Fault> {
    if who.is_admin() {
        Ok(())
    } else {
        Err(Fault::Forbidden(
            "You are not authorized to complete tasks_api_access action.".into(),
        ))
    }
}

/// The 405 of `DELETE /v2/tasks/{id}`.
pub const DELETE_REFUSED: &str = "This operation is currently not permitted on Glance Tasks. They are auto deleted after reaching the time based on their expires_at property.";

/// `GET /v2/images/{id}/tasks`: the image's tasks the caller may see, not
/// expired, oldest first.
pub fn image_tasks(who: &Identity, tasks: &[Arc<Task>], now: OffsetDateTime) -> Vec<Value> {
    tasks
        .iter()
        .filter(|t| !t.deleted && !t.expired(now) && visible(who, t))
        .map(|t| t.image_view())
        .collect()
}

/// Tasks to test with.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    pub(crate) fn admin() -> Identity {
        Identity::default_admin()
    }

    pub(crate) fn who(project: &str) -> Identity {
        Identity {
            project_id: Some(project.into()),
            user_id: Some(format!("{project}-user")),
            roles: vec!["member".into(), "reader".into()],
        }
    }

    pub(crate) fn task(id: &str, owner: &str, at: OffsetDateTime) -> Task {
        Task::new(
            id.into(),
            TaskType::ApiImageImport,
            &who(owner),
            Some("img".into()),
            Some("req-1".into()),
            json!({"image_id": "img"}),
            at,
        )
    }

    pub(crate) fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::*;
    use super::*;
    use time::macros::datetime;

    #[test]
    fn status_machine_is_glances() {
        let t0 = datetime!(2026-01-01 0:00 UTC);
        let mut t = task("a", "p", t0);
        assert!(t.succeed(json!({}), Duration::hours(48), t0).is_err());
        t.begin_processing(t0).expect("processing");
        t.succeed(json!({"image_id": "img"}), Duration::hours(48), t0)
            .expect("success");
        assert_eq!(t.expires_at, Some(t0 + Duration::hours(48)));
        assert_eq!(
            t.fail("x", Duration::hours(1), t0),
            Err(InvalidTaskTransition {
                from: "success",
                to: "failure"
            })
        );
        let mut p = task("b", "p", t0);
        p.fail("Expired lock preempted", Duration::hours(48), t0)
            .expect("pending can fail");
        assert_eq!(p.message, "Expired lock preempted");
    }

    #[test]
    fn image_task_rows_use_python_isoformat() {
        let t0 = datetime!(2026-11-22 04:11:22.831622 UTC);
        let v = task("a", "p", t0).image_view();
        assert_eq!(v["created_at"], "2026-11-22T04:11:22.831622");
        assert_eq!(v["expires_at"], Value::Null);
        assert_eq!(v["deleted"], false);
        assert_eq!(v["message"], "");
        assert_eq!(
            python_isoformat(datetime!(2026-11-22 04:11:22 UTC)),
            "2026-11-22T04:11:22"
        );
        let full = task("a", "p", t0).full_view();
        assert_eq!(full["created_at"], "2026-11-22T04:11:22Z");
        assert_eq!(full["self"], "/v2/tasks/a");
        assert_eq!(full["request_id"], "req-1");
        assert!(full.get("expires_at").is_none());
        let stub = task("a", "p", t0).stub_view();
        assert!(stub.get("input").is_none() && stub.get("image_id").is_none());
    }

    #[test]
    fn image_task_lists_hide_other_projects_and_expired_tasks() {
        let t0 = now_micros() - Duration::hours(100);
        let mut old = task("old", "p", t0);
        old.begin_processing(t0).expect("processing");
        old.succeed(json!({}), Duration::hours(48), t0)
            .expect("done");
        let tasks: Vec<Arc<Task>> = vec![
            Arc::new(old),
            Arc::new(task("mine", "p", t0)),
            Arc::new(task("theirs", "q", t0)),
        ];
        let ids = |who: &Identity| -> Vec<String> {
            image_tasks(who, &tasks, now_micros())
                .iter()
                .map(|v| v["id"].as_str().unwrap_or_default().to_owned())
                .collect()
        };
        assert_eq!(ids(&who("p")), ["mine"]);
        assert_eq!(ids(&admin()), ["mine", "theirs"]);
    }
}
