//! Our tables against python-glanceclient's (the release the CLI imitates,
//! from PyPI) for the same server state: each client gets its own mock,
//! both are brought to the same state by the same commands, and every
//! command's stdout is compared (ids and times normalised, as the goldens
//! are). The text goldens are checked against python-glanceclient's
//! output at their state too, so `UPDATE_GOLDEN=1` cannot record a table
//! glanceclient would not print.
//!
//! Where python3 or PyPI is missing the test skips visibly; with
//! `GLANCE_REQUIRE_SHARED=1` (CI) that is a failure.

use std::path::{Path, PathBuf};
use std::process::Output;

use glance_e2e_tests::python::{glanceclient_or_skip, run_glanceclient};
use glance_mock_server::{Config, MockServer};

use crate::golden::{
    GOLDEN_DATA, GOLDEN_ID, GOLDEN_STATE, TEXT_GOLDENS, golden_dir, normalise, with_data,
};
use crate::harness::{TOKEN, glance_at, path};

/// The image made through the interoperable import (for `image-tasks`).
const IMPORTED: &str = "5e1f0a2b-0000-4000-8000-0000000001dd";

/// A step that runs no command: the mocks finish their import tasks.
const FINISH_TASKS: &[&str] = &["{finish-tasks}"];

/// After the golden state: every command that prints a table (or changes
/// what a later one prints), run by both clients in this order.
const SCRIPT: &[&[&str]] = &[
    &["image-list"],
    &["--verbose", "image-list"],
    &["image-show", GOLDEN_ID],
    &["image-show", "--human-readable", GOLDEN_ID],
    &["image-show", "--max-column-width", "20", GOLDEN_ID],
    &[
        "image-update",
        GOLDEN_ID,
        "--property",
        "k=v",
        "--min-ram",
        "64",
    ],
    &["image-tag-update", GOLDEN_ID, "silver"],
    &["image-tag-delete", GOLDEN_ID, "gold"],
    &["member-list", "--image-id", GOLDEN_ID],
    &["member-get", GOLDEN_ID, "project-b"],
    &["member-update", GOLDEN_ID, "project-b", "accepted"],
    &["member-create", GOLDEN_ID, "project-c"],
    &["member-list", "--image-id", GOLDEN_ID],
    &["stores-info"],
    &["stores-info", "--detail"],
    &["import-info"],
    &["usage"],
    &["explain", "image"],
    &[
        "image-create-via-import",
        "--id",
        IMPORTED,
        "--name",
        "imported",
        "--disk-format",
        "raw",
        "--container-format",
        "bare",
        "--file",
        "{data}",
    ],
    FINISH_TASKS,
    &["image-tasks", IMPORTED],
    &["task-list"],
    &["task-show", "{task}"],
    &["cache-queue", GOLDEN_ID],
    &["cache-list"],
    &["md-namespace-list"],
    &["md-namespace-show", "OS::Golden"],
    &[
        "md-namespace-show",
        "--max-column-width",
        "30",
        "OS::Golden",
    ],
    &[
        "md-namespace-update",
        "OS::Golden",
        "--description",
        "Shorter now.",
        "--visibility",
        "public",
    ],
    &[
        "md-resource-type-associate",
        "OS::Golden",
        "--name",
        "OS::Glance::Image",
        "--prefix",
        "g_",
    ],
    &["md-resource-type-list"],
    &["md-namespace-resource-type-list", "OS::Golden"],
    &[
        "md-property-create",
        "OS::Golden",
        "--name",
        "speed",
        "--title",
        "Speed",
        "--type",
        "integer",
        "--schema",
        r#"{"minimum": 1}"#,
    ],
    &[
        "md-property-update",
        "OS::Golden",
        "speed",
        "--title",
        "Velocity",
    ],
    &["md-property-show", "OS::Golden", "speed"],
    &["md-property-list", "OS::Golden"],
    &[
        "md-namespace-show",
        "OS::Golden",
        "--resource-type",
        "OS::Glance::Image",
    ],
    &[
        "md-object-create",
        "OS::Golden",
        "--name",
        "flavor",
        "--schema",
        r#"{"description": "d", "properties": {"cores": {"type": "integer", "title": "Cores"}}}"#,
    ],
    &[
        "md-object-update",
        "OS::Golden",
        "flavor",
        "--name",
        "flavour",
    ],
    &["md-object-show", "OS::Golden", "flavour"],
    &["md-object-property-show", "OS::Golden", "flavour", "cores"],
    &["md-object-list", "OS::Golden"],
    &["md-tag-create", "OS::Golden", "--name", "one"],
    &["md-tag-update", "OS::Golden", "one", "--name", "uno"],
    &["md-tag-show", "OS::Golden", "uno"],
    &["md-tag-list", "OS::Golden"],
    &["md-namespace-show", "OS::Golden"],
    &["md-namespace-import", "--file", "{namespace}"],
    &["md-namespace-show", "OS::Imported"],
];

/// The document `md-namespace-import` reads (`{namespace}`).
const NAMESPACE: &str = r#"{"namespace": "OS::Imported", "display_name": "Imported", "description": "From a file.", "visibility": "public", "protected": false, "properties": {"hue": {"title": "Hue", "type": "string", "enum": ["red", "blue"]}}, "objects": [{"name": "box", "description": "A box.", "properties": {"side": {"title": "Side", "type": "integer"}}}], "tags": [{"name": "imported"}]}"#;

/// Commands (as joined by spaces) whose stdout differs from
/// python-glanceclient's today, and why. Any other difference fails the
/// test, and so does one of these that no longer differs (take it off).
const KNOWN: &[(&str, &str)] = &[(
    "explain image",
    "ours lists the attributes by name; glanceclient in the schema's order, which \
     glance-client's `Schema` loses (a BTreeMap of properties, and serde_json without \
     `preserve_order` under `raw()`)",
)];

/// One mock per client, brought to the same state by the same commands.
struct Pair {
    bin: PathBuf,
    theirs: MockServer,
    ours: MockServer,
    /// Holds `data`, the file of `{data}`, and `namespace`, that of
    /// `{namespace}`.
    _dir: tempfile::TempDir,
    data: PathBuf,
    namespace: PathBuf,
}

impl Pair {
    async fn start(bin: PathBuf) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = dir.path().join("data");
        std::fs::write(&data, GOLDEN_DATA).expect("written");
        let namespace = dir.path().join("namespace.json");
        std::fs::write(&namespace, NAMESPACE).expect("written");
        Self {
            bin,
            theirs: mock().await,
            ours: mock().await,
            _dir: dir,
            data,
            namespace,
        }
    }

    /// `args` by python-glanceclient against its mock and by ours against
    /// the other.
    /// `{task}` is the first task of each mock (their ids differ).
    async fn run(&self, args: &[&str]) -> (Output, Output) {
        let args = with_data(args, path(&self.data));
        let args: Vec<&str> = args
            .iter()
            .map(|a| match *a {
                "{namespace}" => path(&self.namespace),
                a => a,
            })
            .collect();
        let (their_task, our_task) = if args.contains(&"{task}") {
            (
                first_task(&self.theirs.url()).await,
                first_task(&self.ours.url()).await,
            )
        } else {
            (String::new(), String::new())
        };
        let task = |id: &str| -> Vec<String> {
            args.iter()
                .map(|a| if *a == "{task}" { id } else { a }.to_owned())
                .collect()
        };
        let (theirs_args, ours_args) = (task(&their_task), task(&our_task));
        let theirs_args: Vec<&str> = theirs_args.iter().map(String::as_str).collect();
        let ours_args: Vec<&str> = ours_args.iter().map(String::as_str).collect();
        let theirs = run_glanceclient(&self.bin, &self.theirs.url(), TOKEN, &theirs_args).await;
        let ours = glance_at(&self.ours.url(), &ours_args).await;
        (theirs, ours)
    }
}

/// The id of the first task `task-list` shows on the mock at `url`.
async fn first_task(url: &str) -> String {
    let out = glance_at(url, &["-f", "json", "task-list"]).await;
    let tasks: serde_json::Value = serde_json::from_slice(&out.stdout).expect("task-list JSON");
    tasks[0]["id"].as_str().expect("a task").to_owned()
}

/// A mock with the image cache on (for `cache-list`), whose tasks move
/// only at `{finish-tasks}`: in the background an import raced the
/// command that shows its image (python-glanceclient, slower to start,
/// saw it `active` where ours saw it `importing`).
async fn mock() -> MockServer {
    let mut config = Config::default();
    config.cache.enabled = true;
    config.tasks.progression = glance_mock_server::config::TaskProgression::Manual;
    MockServer::builder()
        .config(config)
        .start()
        .await
        .expect("mock starts")
}

/// How the two runs of one command differ, if they do.
fn difference(theirs: &Output, ours: &Output) -> Option<String> {
    let text = |b: &[u8]| normalise(&String::from_utf8_lossy(b));
    if theirs.status.success() != ours.status.success() {
        return Some(format!(
            "exit: python-glanceclient {}, ours {}\npython-glanceclient's stderr: {}\nour stderr: {}",
            theirs.status,
            ours.status,
            String::from_utf8_lossy(&theirs.stderr),
            String::from_utf8_lossy(&ours.stderr),
        ));
    }
    let (t, o) = (text(&theirs.stdout), text(&ours.stdout));
    (t != o).then(|| format!("python-glanceclient:\n{t}\nours:\n{o}"))
}

#[tokio::test]
async fn tables_match_python_glanceclient() {
    let Some(bin) = glanceclient_or_skip(
        Path::new(env!("CARGO_TARGET_TMPDIR")),
        "python_tables::tables_match_python_glanceclient",
    ) else {
        return;
    };
    let pair = Pair::start(bin).await;
    let mut new = Vec::new();
    let mut fixed = Vec::new();
    let mut compare = |args: &[&str], theirs: &Output, ours: &Output| {
        let key = args.join(" ");
        match (
            difference(theirs, ours),
            KNOWN.iter().any(|(known, _)| *known == key),
        ) {
            (Some(diff), false) => new.push(format!("glance {key}\n{diff}")),
            (None, true) => fixed.push(key),
            _ => {}
        }
    };
    for step in GOLDEN_STATE {
        let (theirs, ours) = pair.run(step).await;
        compare(step, &theirs, &ours);
    }
    // The goldens are python-glanceclient's tables at this state.
    let mut goldens = Vec::new();
    for (file, args) in TEXT_GOLDENS {
        let (theirs, ours) = pair.run(args).await;
        compare(args, &theirs, &ours);
        let recorded = std::fs::read_to_string(golden_dir().join(file)).expect("golden read");
        let theirs = normalise(&String::from_utf8_lossy(&theirs.stdout));
        if theirs != recorded {
            goldens.push(format!(
                "{file}:\npython-glanceclient:\n{theirs}\nthe golden file:\n{recorded}"
            ));
        }
    }
    for step in SCRIPT {
        if *step == FINISH_TASKS {
            pair.theirs.finish_tasks().await;
            pair.ours.finish_tasks().await;
            continue;
        }
        let (theirs, ours) = pair.run(step).await;
        compare(step, &theirs, &ours);
    }
    assert!(
        new.is_empty() && fixed.is_empty() && goldens.is_empty(),
        "{} commands print what python-glanceclient does not:\n\n{}\n\n\
         known differences no longer there (take them off KNOWN): {fixed:?}\n\n\
         golden files python-glanceclient disagrees with:\n\n{}",
        new.len(),
        new.join("\n\n"),
        goldens.join("\n\n"),
    );
}
