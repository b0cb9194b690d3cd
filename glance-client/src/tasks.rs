//! Tasks: the asynchronous work behind imports (`GET /v2/images/{id}/tasks`),
//! and the deprecated, admin-only tasks API (`client.tasks()`).

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::images::{Images, SortDir};
use crate::macros::string_enum;
use crate::paginate::{self, paginate};
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
    #[serde(default)]
    next: Option<String>,
}

impl paginate::Page for TaskList {
    type Item = Task;

    fn into_parts(self) -> (Vec<Task>, Option<String>) {
        (self.tasks, self.next)
    }
}

/// The sort keys of the tasks API.
pub const TASK_SORT_KEYS: &[&str] = &["id", "type", "status", "created_at", "updated_at"];

/// What to list with [`Tasks::list`].
///
/// ```
/// use glance_client::tasks::{ListTasks, TaskStatus};
/// use glance_client::images::SortDir;
/// let q = ListTasks::new()
///     .task_type("import")
///     .status(TaskStatus::Failure)
///     .sort("created_at", SortDir::Desc)
///     .page_size(50);
/// q.validate().unwrap();
/// assert!(ListTasks::new().sort("name", SortDir::Asc).validate().is_err());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListTasks {
    page_size: Option<u32>,
    limit: Option<u64>,
    task_type: Option<String>,
    status: Option<TaskStatus>,
    sort: Option<(String, SortDir)>,
    marker: Option<String>,
}

impl ListTasks {
    /// Every task the caller may see.
    pub fn new() -> Self {
        ListTasks::default()
    }

    /// Tasks per request (default 20, as python-glanceclient).
    pub fn page_size(mut self, n: u32) -> Self {
        self.page_size = Some(n);
        self
    }

    /// Stop after this many tasks in total.
    pub fn limit(mut self, n: u64) -> Self {
        self.limit = Some(n);
        self
    }

    /// Only tasks of this type (Glance accepts `import` here).
    pub fn task_type(mut self, t: impl Into<String>) -> Self {
        self.task_type = Some(t.into());
        self
    }

    /// Only tasks in this status.
    pub fn status(mut self, s: TaskStatus) -> Self {
        self.status = Some(s);
        self
    }

    /// Sort by one of [`TASK_SORT_KEYS`].
    pub fn sort(mut self, key: impl Into<String>, dir: SortDir) -> Self {
        self.sort = Some((key.into(), dir));
        self
    }

    /// Start after the task with this id.
    pub fn marker(mut self, id: impl Into<String>) -> Self {
        self.marker = Some(id.into());
        self
    }

    /// Check the query as Glance would, without sending it.
    pub fn validate(&self) -> Result<()> {
        if let Some((key, _)) = &self.sort {
            if !TASK_SORT_KEYS.contains(&key.as_str()) {
                return Err(Error::InvalidInput(format!(
                    "invalid task sort key {key:?}: it must be one of {}",
                    TASK_SORT_KEYS.join(", ")
                )));
            }
        }
        if let Some(TaskStatus::Other(s)) = &self.status {
            return Err(Error::InvalidInput(format!("unknown task status {s:?}")));
        }
        if matches!(self.task_type.as_deref(), Some("")) || self.marker.as_deref() == Some("") {
            return Err(Error::InvalidInput("empty task type or marker".into()));
        }
        Ok(())
    }

    fn effective_page_size(&self) -> u64 {
        let page = u64::from(self.page_size.filter(|n| *n > 0).unwrap_or(20));
        self.limit.map_or(page, |l| l.min(page))
    }

    pub(crate) fn first_request(&self) -> Result<RequestSpec> {
        self.validate()?;
        let mut spec = RequestSpec::new(Method::GET, ["v2", "tasks"]);
        if let Some(t) = &self.task_type {
            spec.query.push(("type".into(), t.clone()));
        }
        if let Some(s) = &self.status {
            spec.query.push(("status".into(), s.to_string()));
        }
        spec.query
            .push(("limit".into(), self.effective_page_size().to_string()));
        if let Some((k, d)) = &self.sort {
            spec.query.push(("sort_key".into(), k.clone()));
            spec.query.push(("sort_dir".into(), d.as_str().into()));
        }
        if let Some(m) = &self.marker {
            spec.query.push(("marker".into(), m.clone()));
        }
        Ok(spec)
    }
}

/// Calls of the tasks API. Get one with [`Client::tasks`].
///
/// Glance deprecated this API and allows it to admins only; interoperable
/// image import (`POST /v2/images/{id}/import`) replaces task creation.
#[derive(Debug, Clone, Copy)]
pub struct Tasks<'a> {
    client: &'a Client,
}

impl Client {
    /// Tasks API calls: list, get, create.
    pub fn tasks(&self) -> Tasks<'_> {
        Tasks { client: self }
    }
}

impl Tasks<'_> {
    /// `GET /v2/tasks`, page after page, as a lazy stream (list entries
    /// lack `input`, `result` and `message`; [`Tasks::get`] has them).
    pub fn list(&self, query: ListTasks) -> crate::TaskStream {
        let (limit, page_size) = (query.limit, query.effective_page_size());
        paginate::<TaskList>(self.client.clone(), query.first_request(), limit, page_size)
    }

    /// `GET /v2/tasks/{id}`.
    pub async fn get(&self, id: &str) -> Result<Task> {
        self.client
            .send_json(RequestSpec::new(Method::GET, ["v2", "tasks", id]))
            .await
    }

    /// `POST /v2/tasks` (never retried).
    ///
    /// ```no_run
    /// # async fn demo(client: glance_client::Client) -> glance_client::Result<()> {
    /// use glance_client::{ContainerFormat, CreateImage, CreateTask, DiskFormat};
    /// let task = client
    ///     .tasks()
    ///     .create(&CreateTask::import(
    ///         "https://example.org/cirros.img",
    ///         DiskFormat::Qcow2,
    ///         &CreateImage::new("cirros").container_format(ContainerFormat::Bare),
    ///     ))
    ///     .await?;
    /// println!("{} is {}", task.id, task.status);
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, task: &CreateTask) -> Result<Task> {
        crate::transport::check_param("task type", &task.task_type)?;
        let spec = RequestSpec::new(Method::POST, ["v2", "tasks"]).json_body(
            &json!({"type": task.task_type, "input": task.input}),
            "application/json",
        );
        self.client.send_json(spec).await
    }
}

/// What [`Tasks::create`] starts: a typed `import` task, or another
/// type with its input as JSON, on purpose.
///
/// ```
/// use glance_client::{CreateImage, CreateTask, DiskFormat};
/// let task = CreateTask::import("https://example.org/c.img", DiskFormat::Qcow2, &CreateImage::new("c"));
/// assert_eq!(task.task_type(), "import");
/// assert_eq!(task.input()["import_from_format"], "qcow2");
/// assert_eq!(task.input()["image_properties"]["name"], "c");
/// ```
///
/// The type and its input are not two loose arguments any more:
///
/// ```compile_fail
/// # async fn demo(client: glance_client::Client) -> glance_client::Result<()> {
/// client.tasks().create("import", serde_json::json!({})).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CreateTask {
    task_type: String,
    input: Value,
}

impl CreateTask {
    /// An `import` task (the tasks API's one type): Glance fetches
    /// `import_from`, of `format`, into a new image with `image`'s
    /// properties.
    pub fn import(
        import_from: impl Into<String>,
        format: crate::DiskFormat,
        image: &crate::CreateImage,
    ) -> Self {
        CreateTask {
            task_type: "import".into(),
            input: json!({
                "import_from": import_from.into(),
                "import_from_format": format.as_str(),
                "image_properties": image.to_json(),
            }),
        }
    }

    /// A task of another type, with its input as JSON (as
    /// `glance task-create --type T --input JSON` sends it).
    pub fn other(task_type: impl Into<String>, input: Value) -> Self {
        CreateTask {
            task_type: task_type.into(),
            input,
        }
    }

    /// The task type.
    pub fn task_type(&self) -> &str {
        &self.task_type
    }

    /// The task's input.
    pub fn input(&self) -> &Value {
        &self.input
    }
}

impl Images<'_> {
    /// `GET /v2/images/{id}/tasks`: the tasks that worked on an image
    /// (imports), oldest record first as the server lists them. Needs API
    /// v2.12 or newer ([`Error::UnsupportedVersion`]
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
    fn list_query_shape() {
        let endpoint = url::Url::parse("http://h/").expect("url");
        let q = ListTasks::new()
            .task_type("import")
            .status(TaskStatus::Pending)
            .sort("id", SortDir::Asc)
            .marker("m")
            .limit(5);
        assert_eq!(
            q.first_request()
                .expect("valid")
                .url(&endpoint)
                .expect("url")
                .as_str(),
            "http://h/v2/tasks?type=import&status=pending&limit=5&sort_key=id&sort_dir=asc&marker=m"
        );
        assert!(
            ListTasks::new()
                .status(TaskStatus::Other("bogus".into()))
                .validate()
                .is_err()
        );
    }

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
