//! `GET /v2/tasks`: its query read as Glance's deserializer reads webob's
//! MultiDict, `task_get_all`'s filtering, sorting and keyset paging, and
//! the `first`/`next` links.

use std::cmp::Ordering;
use std::sync::Arc;

use time::OffsetDateTime;

use super::{Task, visible};
use crate::domain::{Fault, Identity, python};

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
        // An empty marker is not checked, and then not found.
        if let Some(m) = marker.as_deref().filter(|m| !m.is_empty()) {
            if !is_uuid_like(m) {
                return Err(bad("Invalid marker format"));
            }
        }
        let limit = match limit {
            None => default_limit,
            Some(v) => {
                let n = python::int64_of_str(&v)
                    .ok_or_else(|| bad("limit param must be an integer"))?;
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
    let mut params = crate::domain::list::collapse(raw);
    params.retain(|(k, _)| k != "marker");
    let first = if params.is_empty() {
        "/v2/tasks".to_owned()
    } else {
        format!(
            "/v2/tasks?{}",
            crate::domain::list::urlencode(params.iter())
        )
    };
    let next = next_marker.map(|m| {
        params.push(("marker".into(), m.to_owned()));
        format!(
            "/v2/tasks?{}",
            crate::domain::list::urlencode(params.iter())
        )
    });
    (first, next)
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::*;
    use super::*;
    use time::Duration;
    use time::macros::datetime;

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
        // Not checked when empty: the lookup then finds nothing.
        assert!(q(&[("marker", "")]).is_ok());
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
}
