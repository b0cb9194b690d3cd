//! Tasks: the asynchronous work behind imports (`GET /v2/images/{id}/tasks`).

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::Result;
use crate::images::Images;
use crate::macros::string_enum;
use crate::transport::RequestSpec;
use crate::versions::Needs;

string_enum! {
    /// Where a task is in its life.
    TaskStatus {
        /// Created, not started.
        Pending = "pending",
        /// Running.
        Processing = "processing",
        /// Done.
        Success = "success",
        /// Failed; see the message.
        Failure = "failure",
    }
}

/// A task record.
///
/// Timestamps are kept as the server sends them: the image-tasks call uses
/// `2026-11-22T04:11:22.831622` (microseconds, no zone), the tasks API
/// `2026-11-22T04:11:22Z`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Task {
    /// UUID.
    pub id: String,
    /// `api_image_import`, `import`, `location_import`, …
    #[serde(rename = "type")]
    pub task_type: String,
    /// Status.
    pub status: TaskStatus,
    /// Owning project.
    #[serde(default)]
    pub owner: Option<String>,
    /// The task's input document.
    #[serde(default)]
    pub input: Option<Value>,
    /// The task's result document.
    #[serde(default)]
    pub result: Option<Value>,
    /// Progress or failure message.
    #[serde(default)]
    pub message: Option<String>,
    /// The image the task works on.
    #[serde(default)]
    pub image_id: Option<String>,
    /// The request that started it.
    #[serde(default)]
    pub request_id: Option<String>,
    /// The user that started it.
    #[serde(default)]
    pub user_id: Option<String>,
    /// Creation time.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Last change.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// When the record expires.
    #[serde(default)]
    pub expires_at: Option<String>,
    /// Every other field, as sent.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, Value>,
}

#[derive(Deserialize)]
struct TaskList {
    tasks: Vec<Task>,
}

impl Images<'_> {
    /// `GET /v2/images/{id}/tasks`: the tasks that worked on an image
    /// (imports), oldest record first as the server lists them. Needs API
    /// v2.12 or newer ([`Error::UnsupportedVersion`](crate::Error::UnsupportedVersion)
    /// otherwise).
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client, id: &str) -> glance_client::Result<()> {
    /// for task in client.images().tasks(id).await? {
    ///     println!("{} {} {:?}", task.task_type, task.status, task.message);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn tasks(&self, id: &str) -> Result<Vec<Task>> {
        self.client.require_version("2.12", Needs::AtLeast).await?;
        let spec = RequestSpec::new(Method::GET, ["v2", "images", id, "tasks"]);
        let list: TaskList = self.client.send_json(spec).await?;
        Ok(list.tasks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_an_image_task() {
        let t: Task = serde_json::from_str(
            r#"{"id": "t", "type": "api_image_import", "status": "success", "owner": "p",
                "expires_at": "2026-11-24T04:11:22.831622", "created_at": "2026-11-22T04:11:21.000000",
                "updated_at": "2026-11-22T04:11:22.831622", "deleted_at": null, "deleted": false,
                "image_id": "i", "request_id": "req-1", "user_id": "u",
                "input": {"image_id": "i", "import_req": {"method": {"name": "glance-direct"}}, "backend": [null]},
                "result": {"image_id": "i"}, "message": "Copied 0 MiB"}"#,
        )
        .expect("decodes");
        assert_eq!(t.status, TaskStatus::Success);
        assert_eq!(t.task_type, "api_image_import");
        assert_eq!(t.extra.get("deleted"), Some(&Value::Bool(false)));
    }
}
