//! Tasks: `task-list`, `task-show`, `task-create`.

use anyhow::{Result, bail};
use clap::Args;
use futures::TryStreamExt;
use glance_client::images::SortDir;
use glance_client::tasks::{CreateTask, ListTasks, Task, TaskStatus};
use serde_json::Value;

use super::Ctx;
use crate::output::{print_dict, print_list, to_value};

/// `task-list`.
#[derive(Debug, Args)]
pub struct TaskList {
    /// Sort task list by specified field.
    #[arg(long, default_value = "status", value_parser = ["id", "type", "status"])]
    pub sort_key: String,
    /// Sort task list in specified direction.
    #[arg(long, default_value = "desc", value_parser = ["asc", "desc"])]
    pub sort_dir: String,
    /// Number of tasks to request in each paginated request.
    #[arg(long, value_name = "SIZE")]
    pub page_size: Option<u32>,
    /// Filter tasks to those that have this type.
    #[arg(long = "type", value_name = "TYPE")]
    pub task_type: Option<String>,
    /// Filter tasks to those that have this status.
    #[arg(long, value_name = "STATUS")]
    pub status: Option<String>,
}

/// `task-show`.
#[derive(Debug, Args)]
pub struct TaskShow {
    /// ID of task to describe.
    #[arg(value_name = "TASK_ID")]
    pub id: String,
}

/// `task-create`.
#[derive(Debug, Args)]
pub struct TaskCreate {
    /// Type of Task. Please refer to Glance schema or documentation to see which tasks are supported.
    #[arg(long = "type", value_name = "TYPE")]
    pub task_type: Option<String>,
    /// Parameters of the task to be launched.
    #[arg(long, value_name = "STRING", default_value = "{}")]
    pub input: String,
}

/// `task-list`.
pub async fn list(ctx: &Ctx<'_>, args: TaskList) -> Result<()> {
    let dir = if args.sort_dir == "asc" {
        SortDir::Asc
    } else {
        SortDir::Desc
    };
    let mut q = ListTasks::new().sort(args.sort_key, dir);
    if let Some(n) = args.page_size {
        q = q.page_size(n);
    }
    if let Some(t) = args.task_type {
        q = q.task_type(t);
    }
    if let Some(s) = args.status {
        // An unknown status is refused by the query's check, in Glance's words.
        q = q.status(s.parse().unwrap_or_else(|_| TaskStatus::Other(s.clone())));
    }
    let tasks: Vec<Task> = ctx.client.tasks().list(q).try_collect().await?;
    let rows: Vec<Value> = tasks.iter().map(to_value).collect();
    print_list(&rows, &["ID", "Type", "Status", "Owner"], ctx.format);
    Ok(())
}

/// A task as `print_dict` shows it: without `self` and `schema`.
fn print_task(ctx: &Ctx<'_>, task: &Task) {
    let mut value = to_value(task);
    if let Value::Object(map) = &mut value {
        map.remove("self");
        map.remove("schema");
    }
    print_dict(&value, ctx.format, 80);
}

/// `task-show`.
pub async fn show(ctx: &Ctx<'_>, args: TaskShow) -> Result<()> {
    let task = ctx.client.tasks().get(&args.id).await?;
    print_task(ctx, &task);
    Ok(())
}

/// `task-create --type T --input JSON`.
pub async fn create(ctx: &Ctx<'_>, args: TaskCreate) -> Result<()> {
    let Some(task_type) = args.task_type.filter(|t| !t.is_empty()) else {
        bail!("Unable to create task. Specify task type and input.");
    };
    let Ok(input) = serde_json::from_str::<Value>(&args.input) else {
        bail!("Failed to parse the \"input\" parameter. Must be a valid JSON object.");
    };
    let task = ctx
        .client
        .tasks()
        .create(&CreateTask::other(task_type, input))
        .await?;
    print_task(ctx, &task);
    Ok(())
}
