//! Tasks (`glance.domain.Task`): the record an import or a `POST /v2/tasks`
//! leaves behind, its status machine, its three JSON shapes, and the
//! rules of the admin-only tasks API (listing, creating).
//!
//! The shapes differ as Glance's do: `GET /v2/images/{id}/tasks` returns
//! raw DB rows whose datetimes are Python's `isoformat()` (microseconds,
//! no `Z`), while `/v2/tasks` formats them as the rest of the API does.

use std::cmp::Ordering;
use std::sync::Arc;

use serde_json::{Map, Value, json};
use time::{Duration, OffsetDateTime};

use super::jsonschema;
use super::pyrepr::Py;
use super::python::{str_of, truthy};
use super::{Fault, Identity};

/// Task status (`pending → processing → success | failure`, or
/// `pending → failure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
#[derive(Debug, Clone, PartialEq)]
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
    pub expires_at: Option<OffsetDateTime>,
    /// Creation time (microseconds kept).
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
    /// When it was soft-deleted (expired and scrubbed).
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

/// Python's `int()` of a query value.
fn python_int(s: &str) -> Option<i64> {
    let s = s.trim();
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    let valid = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.bytes().all(|b| b.is_ascii_digit() || b == b'_');
    if !valid {
        return None;
    }
    let n = digits
        .bytes()
        .filter(u8::is_ascii_digit)
        .fold(0i64, |n, d| {
            n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
    Some(if s.starts_with('-') { -n } else { n })
}

/// oslo's `uuidutils.is_uuid_like`: a UUID with or without hyphens,
/// braces or a `urn:uuid:` prefix, any case.
pub fn is_uuid_like(s: &str) -> bool {
    let lowered = s.to_ascii_lowercase();
    let bare: String = lowered
        .replace("urn:", "")
        .replace("uuid:", "")
        .chars()
        .filter(|c| !matches!(c, '{' | '}' | '-'))
        .collect();
    bare.len() == 32 && bare.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The columns of the tasks table: valid sort keys and filters.
const COLUMNS: &[&str] = &[
    "id",
    "type",
    "status",
    "owner",
    "expires_at",
    "created_at",
    "updated_at",
    "deleted_at",
    "deleted",
    "image_id",
    "request_id",
    "user_id",
];

/// A task column's value, ordered as SQLite orders them (NULL first).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Column {
    Null,
    Bool(bool),
    Time(OffsetDateTime),
    Text(String),
}

fn column(task: &Task, key: &str) -> Column {
    let text = |s: &Option<String>| s.clone().map_or(Column::Null, Column::Text);
    let time = |t: Option<OffsetDateTime>| t.map_or(Column::Null, Column::Time);
    match key {
        "id" => Column::Text(task.id.clone()),
        "type" => Column::Text(task.task_type.as_str().into()),
        "status" => Column::Text(task.status.as_str().into()),
        "owner" => text(&task.owner),
        "expires_at" => time(task.expires_at),
        "created_at" => Column::Time(task.created_at),
        "updated_at" => Column::Time(task.updated_at),
        "deleted_at" => time(task.deleted_at),
        "deleted" => Column::Bool(task.deleted),
        "image_id" => text(&task.image_id),
        "request_id" => text(&task.request_id),
        "user_id" => text(&task.user_id),
        _ => Column::Null,
    }
}

/// Whether a column equals a query value as the SQL comparison would:
/// datetimes as SQLite stores them.
fn column_equals(value: &Column, wanted: &str) -> bool {
    match value {
        Column::Null => false,
        Column::Bool(b) => wanted == if *b { "1" } else { "0" },
        Column::Text(s) => s == wanted,
        Column::Time(t) => {
            let stored = format!(
                "{} {:02}:{:02}:{:02}.{:06}",
                t.date(),
                t.hour(),
                t.minute(),
                t.second(),
                t.microsecond()
            );
            stored == wanted
        }
    }
}

/// `GET /v2/tasks` query parameters, read as Glance's deserializer reads
/// webob's MultiDict: `limit`, `marker`, `sort_key` and `sort_dir` take
/// their first value (and only that one is removed); every other pair is
/// an equality filter on a task column (unknown names are ignored), and
/// `status`/`type` are checked by their last value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskQuery {
    /// Page size.
    pub limit: usize,
    /// Start after this task.
    pub marker: Option<String>,
    /// Sort key (then `created_at`, then `id`).
    pub sort_key: String,
    /// Descending order (the default).
    pub descending: bool,
    /// Equality filters.
    pub filters: Vec<(String, String)>,
}

fn bad(msg: impl Into<String>) -> Fault {
    Fault::BadRequest(msg.into())
}

impl TaskQuery {
    /// Parse and validate query pairs (in request order).
    pub fn parse(
        raw: &[(String, String)],
        default_limit: usize,
        max_limit: usize,
    ) -> Result<Self, Fault> {
        let mut params: Vec<(String, String)> = raw.to_vec();
        let mut pop = |key: &str| {
            let at = params.iter().position(|(k, _)| k == key)?;
            Some(params.remove(at).1)
        };
        let limit = pop("limit");
        let marker = pop("marker");
        let sort_dir = pop("sort_dir").unwrap_or_else(|| "desc".into());
        let sort_key = pop("sort_key").unwrap_or_else(|| "created_at".into());
        let descending = match sort_dir.as_str() {
            "desc" => true,
            "asc" => false,
            other => return Err(bad(format!("Invalid sort direction: {other}"))),
        };
        let last = |key: &str| {
            params
                .iter()
                .rev()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
                .filter(|v| !v.is_empty())
        };
        if let Some(status) = last("status") {
            if !["pending", "processing", "success", "failure"].contains(&status) {
                return Err(bad(format!("Invalid status value: {status}")));
            }
        }
        if let Some(ty) = last("type") {
            if ty != "import" {
                return Err(bad(format!("Invalid type value: {ty}")));
            }
        }
        if let Some(m) = &marker {
            if !is_uuid_like(m) {
                return Err(bad("Invalid marker format"));
            }
        }
        let limit = match limit {
            None => default_limit,
            Some(v) => {
                let n = python_int(&v).ok_or_else(|| bad("limit param must be an integer"))?;
                if n < 0 {
                    return Err(bad("limit param must be positive"));
                }
                usize::try_from(n).unwrap_or(usize::MAX)
            }
        }
        .min(max_limit);
        // The controller forces `deleted=False` over whatever was asked.
        params.retain(|(k, _)| k != "deleted");
        Ok(TaskQuery {
            limit,
            marker,
            sort_key,
            descending,
            filters: params,
        })
    }

    fn order(&self, a: &Task, b: &Task) -> Ordering {
        let key = |t: &Task| {
            (
                column(t, &self.sort_key),
                column(t, "created_at"),
                column(t, "id"),
            )
        };
        let o = key(a).cmp(&key(b));
        if self.descending { o.reverse() } else { o }
    }

    /// `task_get_all` for `who` over every task (deleted ones included):
    /// the page and, when it is full, the marker of the next one.
    pub fn run(
        &self,
        who: &Identity,
        tasks: &[Arc<Task>],
    ) -> Result<(Vec<Arc<Task>>, Option<String>), Fault> {
        if !COLUMNS.contains(&self.sort_key.as_str()) {
            return Err(bad("Sort key supplied was not valid."));
        }
        let marker = match &self.marker {
            None => None,
            Some(m) => Some(
                tasks
                    .iter()
                    .find(|t| &t.id == m && (!t.deleted || who.is_admin()))
                    .filter(|t| visible(who, t))
                    .ok_or_else(|| bad(format!("Task with the given id {m} was not found")))?,
            ),
        };
        let mut rows: Vec<Arc<Task>> = tasks
            .iter()
            .filter(|t| !t.deleted)
            .filter(|t| {
                who.is_admin()
                    || (who.project_id.is_some() && t.owner == who.project_id)
                    || who.project_id.is_none()
            })
            .filter(|t| {
                self.filters
                    .iter()
                    .all(|(k, v)| !COLUMNS.contains(&k.as_str()) || column_equals(&column(t, k), v))
            })
            .cloned()
            .collect();
        rows.sort_by(|a, b| self.order(a, b));
        if let Some(marker) = marker {
            rows.retain(|t| self.order(t, marker) == Ordering::Greater);
        }
        rows.truncate(self.limit);
        let next = (!rows.is_empty() && rows.len() == self.limit)
            .then(|| rows.last().map(|t| t.id.clone()))
            .flatten();
        Ok((rows, next))
    }
}

/// The `first` and `next` links of a task list: the request's query
/// (webob's MultiDict as a dict), without `marker`, then with the next one.
pub fn list_links(raw: &[(String, String)], next_marker: Option<&str>) -> (String, Option<String>) {
    let mut params = super::list::collapse(raw);
    params.retain(|(k, _)| k != "marker");
    let first = if params.is_empty() {
        "/v2/tasks".to_owned()
    } else {
        format!("/v2/tasks?{}", super::list::urlencode(params.iter()))
    };
    let next = next_marker.map(|m| {
        params.push(("marker".into(), m.to_owned()));
        format!("/v2/tasks?{}", super::list::urlencode(params.iter()))
    });
    (first, next)
}

/// What `POST /v2/tasks` asks for, once its body passed the deserializer.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTask {
    /// The task type.
    pub task_type: TaskType,
    /// The input (an object or null).
    pub input: Value,
}

/// Builds a [`Py`] from JSON-like syntax, keeping dict order.
macro_rules! py {
    (null) => { Py::None };
    ([ $($item:tt),* $(,)? ]) => { Py::List(vec![ $( py!($item) ),* ]) };
    ({ $($key:literal : $value:tt),* $(,)? }) => {
        Py::Dict(vec![ $( ($key.to_string(), py!($value)) ),* ])
    };
    ($other:expr) => { Py::from($other) };
}

/// The task schema as Glance validates a create body with it.
fn task_schema() -> &'static Py {
    static SCHEMA: std::sync::LazyLock<Py> = std::sync::LazyLock::new(|| {
        let properties = py!({
            "id": {"description": "An identifier for the task",
                "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$",
                "type": "string"},
            "type": {"description": "The type of task represented by this content",
                "enum": ["import", "api_image_import", "location_import"], "type": "string"},
            "status": {"description": "The current status of this task",
                "enum": ["pending", "processing", "success", "failure"], "type": "string"},
            "input": {"description": "The parameters required by task, JSON blob", "type": ["null", "object"]},
            "result": {"description": "The result of current task, JSON blob", "type": ["null", "object"]},
            "owner": {"description": "An identifier for the owner of this task", "type": "string"},
            "message": {"description": "Human-readable informative message only included when appropriate (usually on failure)",
                "type": "string"},
            "image_id": {"description": "Image associated with the task", "type": "string"},
            "request_id": {"description": "Human-readable informative request-id", "type": "string"},
            "user_id": {"description": "User associated with the task", "type": "string"},
            "expires_at": {"description": "Datetime when this resource would be subject to removal",
                "type": ["null", "string"]},
            "created_at": {"description": "Datetime when this resource was created", "type": "string"},
            "updated_at": {"description": "Datetime when this resource was updated", "type": "string"},
            "self": {"readOnly": true, "type": "string"},
            "schema": {"readOnly": true, "type": "string"}
        });
        py!({"name": "task", "properties": (properties), "additionalProperties": false})
    });
    &SCHEMA
}

/// `re.search` for the one pattern of the task schema (a UUID).
fn search(_pattern: &str, text: &str) -> bool {
    let b = text.as_bytes();
    let groups = [8usize, 4, 4, 4, 12];
    let mut at = 0;
    for (i, n) in groups.iter().enumerate() {
        if b.len() < at + n || !b[at..at + n].iter().all(u8::is_ascii_hexdigit) {
            return false;
        }
        at += n;
        if i < 4 {
            if b.get(at) != Some(&b'-') {
                return false;
            }
            at += 1;
        }
    }
    at == b.len() || (at + 1 == b.len() && b[at] == b'\n')
}

/// `RequestDeserializer.create`: `type` and `input` are required (checked
/// on whatever the body is), then the body must match the task schema.
/// `doc` is the body parsed with its key order (for the error text).
pub fn parse_create(body: &Value, doc: &Py) -> Result<NewTask, Fault> {
    for key in ["type", "input"] {
        let present = match body {
            Value::Object(m) => m.contains_key(key),
            Value::Array(items) => items.iter().any(|i| i.as_str() == Some(key)),
            _ => false,
        };
        if !present {
            return Err(bad(format!("Task '{key}' is required")));
        }
    }
    jsonschema::validate(task_schema(), body, &search).map_err(|e| {
        let mut e = *e;
        // Show the offending part with the key order it was sent in.
        if let Some(sent) = walk(doc, &e.path) {
            e.instance = sent.clone();
        }
        bad(format!("Provided object does not match schema 'task': {e}"))
    })?;
    let Value::Object(m) = body else {
        // `properties.pop(key)` on a list.
        return Err(Fault::internal());
    };
    let task_type = m
        .get("type")
        .and_then(Value::as_str)
        .and_then(TaskType::parse)
        .ok_or_else(Fault::internal)?;
    Ok(NewTask {
        task_type,
        input: m.get("input").cloned().unwrap_or(Value::Null),
    })
}

/// The part of `doc` at `path`.
fn walk<'a>(doc: &'a Py, path: &[jsonschema::Step]) -> Option<&'a Py> {
    path.iter().try_fold(doc, |at, step| match (at, step) {
        (Py::Dict(_), jsonschema::Step::Key(k)) => at.get(k),
        (Py::List(items), jsonschema::Step::Index(i)) => items.get(*i),
        _ => None,
    })
}

/// A JSON document as Python's `json.loads` sees it, dict order kept
/// (`None` if it is not JSON).
pub fn parse_ordered(bytes: &[u8]) -> Option<Py> {
    use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

    struct Ordered(Py);

    impl<'de> Deserialize<'de> for Ordered {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Ordered;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("JSON")
                }
                fn visit_unit<E>(self) -> Result<Ordered, E> {
                    Ok(Ordered(Py::None))
                }
                fn visit_bool<E>(self, b: bool) -> Result<Ordered, E> {
                    Ok(Ordered(Py::Bool(b)))
                }
                fn visit_i64<E>(self, n: i64) -> Result<Ordered, E> {
                    Ok(Ordered(Py::Int(n.into())))
                }
                fn visit_u64<E>(self, n: u64) -> Result<Ordered, E> {
                    Ok(Ordered(Py::Int(n.into())))
                }
                fn visit_f64<E>(self, n: f64) -> Result<Ordered, E> {
                    Ok(Ordered(Py::Float(n)))
                }
                fn visit_str<E>(self, s: &str) -> Result<Ordered, E> {
                    Ok(Ordered(Py::Str(s.to_owned())))
                }
                fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ordered, A::Error> {
                    let mut items = Vec::new();
                    while let Some(Ordered(v)) = seq.next_element()? {
                        items.push(v);
                    }
                    Ok(Ordered(Py::List(items)))
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                    let mut items: Vec<(String, Py)> = Vec::new();
                    while let Some((k, Ordered(v))) = map.next_entry::<String, Ordered>()? {
                        // A repeated key keeps its first place and its last value.
                        match items.iter_mut().find(|(key, _)| *key == k) {
                            Some(slot) => slot.1 = v,
                            None => items.push((k, v)),
                        }
                    }
                    Ok(Ordered(Py::Dict(items)))
                }
            }
            d.deserialize_any(V)
        }
    }

    serde_json::from_slice::<Ordered>(bytes).ok().map(|o| o.0)
}

/// How a legacy `import_from` location is checked before filtering
/// (`validate_location_uri`): the URI to filter, or the 400.
pub fn legacy_location(input: &Value) -> Result<String, Fault> {
    let empty = Map::new();
    let input = match input {
        Value::Object(m) if !m.is_empty() => m,
        _ => &empty,
    };
    let location = input.get("import_from").unwrap_or(&Value::Null);
    if !truthy(location) {
        return Err(bad(format!("Invalid location: {}", str_of(location))));
    }
    let Some(location) = location.as_str() else {
        // `.startswith` on a number, list or dict.
        return Err(Fault::internal());
    };
    if location.starts_with("http://") || location.starts_with("https://") {
        Ok(location.to_owned())
    } else if location.starts_with("file:///") || location.starts_with("filesystem:///") {
        Err(bad(
            "File based imports are not allowed. Please use a non-local source of image data.",
        ))
    } else {
        Err(bad(
            "The given uri is not valid. Please specify a valid uri from the following list of supported uri ['http']",
        ))
    }
}

/// The 400 when a legacy location does not pass the import filter.
pub fn legacy_filtered(uri: &str) -> Fault {
    bad(format!(
        "URI for legacy import task does not pass filtering: {uri}"
    ))
}

/// `task['input'].get('image_id')` when the task is created: a null input
/// fails (500) for every type but `import` (checked before).
pub fn input_image_id(input: &Value) -> Result<Option<String>, Fault> {
    match input {
        Value::Object(m) => Ok(m.get("image_id").filter(|v| !v.is_null()).map(str_of)),
        _ => Err(Fault::internal()),
    }
}

/// `unpack_task_input`: why a task cannot run with its input, if it cannot.
pub fn input_problem(task_type: TaskType, input: &Value) -> Option<String> {
    let keys: Option<&Map<String, Value>> = input.as_object();
    let has = |k: &str| keys.is_some_and(|m| m.contains_key(k));
    let empty = !truthy(input);
    match task_type {
        TaskType::ApiImageImport if empty => {
            Some("Input to api_image_import task is empty.".into())
        }
        TaskType::ApiImageImport if !has("image_id") => {
            Some("Missing required 'image_id' field".into())
        }
        TaskType::LocationImport if empty => Some("Input to location_import task is empty.".into()),
        TaskType::LocationImport => ["image_id", "loc_url", "validation_data"]
            .into_iter()
            .find(|k| !has(k))
            .map(|k| format!("Input does not contain '{k}' field")),
        TaskType::Import => ["import_from", "import_from_format", "image_properties"]
            .into_iter()
            .find(|k| !has(k))
            .map(|k| format!("Input does not contain '{k}' field")),
        TaskType::ApiImageImport => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn admin() -> Identity {
        Identity::default_admin()
    }

    fn who(project: &str) -> Identity {
        Identity {
            project_id: Some(project.into()),
            user_id: Some(format!("{project}-user")),
            roles: vec!["member".into(), "reader".into()],
        }
    }

    fn task(id: &str, owner: &str, at: OffsetDateTime) -> Task {
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

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

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

    #[test]
    fn list_queries_validate_like_the_deserializer() {
        let q = |p: &[(&str, &str)]| TaskQuery::parse(&pairs(p), 25, 1000);
        let msg = |p: &[(&str, &str)]| match q(p) {
            Err(Fault::BadRequest(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(msg(&[("sort_dir", "up")]), "Invalid sort direction: up");
        assert_eq!(msg(&[("status", "bogus")]), "Invalid status value: bogus");
        assert_eq!(
            msg(&[("type", "api_image_import")]),
            "Invalid type value: api_image_import"
        );
        assert_eq!(msg(&[("marker", "abc")]), "Invalid marker format");
        assert_eq!(msg(&[("limit", "x")]), "limit param must be an integer");
        assert_eq!(msg(&[("limit", "-1")]), "limit param must be positive");
        let parsed = q(&[
            ("limit", "1"),
            ("limit", "2"),
            ("foo", "bar"),
            ("limit", "3"),
        ])
        .expect("ok");
        assert_eq!(parsed.limit, 1);
        assert_eq!(
            parsed.filters,
            pairs(&[("limit", "2"), ("foo", "bar"), ("limit", "3")])
        );
        assert_eq!(q(&[("limit", "5000")]).expect("ok").limit, 1000);
        assert!(q(&[("marker", "{00000000-0000-4000-8000-000000000001}")]).is_ok());
    }

    #[test]
    fn lists_sort_filter_and_page() {
        let t0 = datetime!(2026-01-01 0:00 UTC);
        let mut a = task("a", "p", t0);
        a.begin_processing(t0).expect("processing");
        a.fail("x", Duration::hours(48), t0).expect("failed");
        let b = task("b", "q", t0 + Duration::seconds(1));
        let c = task("c", "p", t0 + Duration::seconds(2));
        let tasks: Vec<Arc<Task>> = [a, b, c].into_iter().map(Arc::new).collect();
        let ids = |who: &Identity, p: &[(&str, &str)]| -> (Vec<String>, Option<String>) {
            let q = TaskQuery::parse(&pairs(p), 25, 1000).expect("query");
            let (rows, next) = q.run(who, &tasks).expect("listed");
            (rows.iter().map(|t| t.id.clone()).collect(), next)
        };
        assert_eq!(ids(&admin(), &[]).0, ["c", "b", "a"]);
        assert_eq!(ids(&who("p"), &[]).0, ["c", "a"]);
        assert_eq!(
            ids(&admin(), &[("sort_dir", "asc"), ("limit", "2")]),
            (vec!["a".into(), "b".into()], Some("b".into()))
        );
        assert_eq!(ids(&admin(), &[("status", "failure")]).0, ["a"]);
        assert_eq!(ids(&admin(), &[("owner", "q")]).0, ["b"]);
        assert_eq!(ids(&admin(), &[("unknown", "x")]).0.len(), 3);
        assert_eq!(
            ids(&admin(), &[("sort_key", "status"), ("sort_dir", "asc")]).0,
            ["a", "b", "c"]
        );
        let q = TaskQuery::parse(&pairs(&[("sort_key", "bogus")]), 25, 1000).expect("parsed");
        assert_eq!(
            q.run(&admin(), &tasks).err(),
            Some(bad("Sort key supplied was not valid."))
        );
        let marker = "00000000-0000-4000-8000-000000000001";
        let q = TaskQuery::parse(&pairs(&[("marker", marker)]), 25, 1000).expect("parsed");
        assert_eq!(
            q.run(&admin(), &tasks).err(),
            Some(bad(format!(
                "Task with the given id {marker} was not found"
            )))
        );
    }

    #[test]
    fn links_keep_the_query_as_a_dict() {
        let raw = pairs(&[
            ("status", "success"),
            ("limit", "1"),
            ("limit", "2"),
            ("marker", "m"),
        ]);
        let (first, next) = list_links(&raw, Some("n"));
        assert_eq!(first, "/v2/tasks?status=success&limit=2");
        assert_eq!(
            next.as_deref(),
            Some("/v2/tasks?status=success&limit=2&marker=n")
        );
        assert_eq!(list_links(&[], None), ("/v2/tasks".into(), None));
    }

    #[test]
    fn create_bodies_and_legacy_locations() {
        let parse = |v: Value| parse_create(&v, &Py::from(&v));
        assert_eq!(parse(json!({})).err(), Some(bad("Task 'type' is required")));
        assert_eq!(parse(json!([])).err(), Some(bad("Task 'type' is required")));
        assert_eq!(
            parse(json!({"type": "import"})).err(),
            Some(bad("Task 'input' is required"))
        );
        let err = parse(json!({"type": "bogus", "input": {}})).expect_err("enum");
        assert!(matches!(&err, Fault::BadRequest(m) if m.starts_with(
            "Provided object does not match schema 'task': 'bogus' is not one of ['import', 'api_image_import', 'location_import']")));
        let ok = parse(json!({"type": "import", "input": null})).expect("valid");
        assert_eq!(ok.task_type, TaskType::Import);
        assert_eq!(
            legacy_location(&ok.input).err(),
            Some(bad("Invalid location: None"))
        );
        assert_eq!(
            legacy_location(&json!({"import_from": "file:///etc/passwd"})).err(),
            Some(bad(
                "File based imports are not allowed. Please use a non-local source of image data."
            ))
        );
        assert!(
            matches!(legacy_location(&json!({"import_from": "ftp://x"})), Err(Fault::BadRequest(m)) if m.contains("['http']"))
        );
        let sent = br#"{"type": "import", "input": {}, "extra": 1}"#;
        let doc = parse_ordered(sent).expect("json");
        let body: Value = serde_json::from_slice(sent).expect("json");
        let err = parse_create(&body, &doc).expect_err("extra");
        assert!(
            matches!(&err, Fault::BadRequest(m) if m.ends_with("On instance:\n    {'type': 'import', 'input': {}, 'extra': 1}")),
            "{err:?}"
        );
        assert_eq!(
            legacy_location(&json!({"import_from": "http://h/x"})),
            Ok("http://h/x".into())
        );
        assert_eq!(input_image_id(&Value::Null), Err(Fault::internal()));
        assert_eq!(
            input_problem(TaskType::ApiImageImport, &json!({})).as_deref(),
            Some("Input to api_image_import task is empty.")
        );
        assert_eq!(
            input_problem(TaskType::Import, &json!({"import_from": "x"})).as_deref(),
            Some("Input does not contain 'import_from_format' field")
        );
    }
}
