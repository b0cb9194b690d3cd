//! The CLI's tables and JSON for a fixed server state, against the files
//! in `tests/golden` (`UPDATE_GOLDEN=1` rewrites them). The text ones are
//! checked against python-glanceclient's output too (`python_tables`).

use std::path::Path;

use glance_mock_server::MockServer;

use crate::harness::{glance, ok, path};

/// Ids and timestamps replaced by placeholders of the same width, so that
/// table borders stay as the CLI drew them.
pub fn normalise(text: &str) -> String {
    let uuid = regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
        .expect("regex");
    let date = regex::Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z?").expect("regex");
    let req = regex::Regex::new(r"req-[0-9a-f-]{36}").expect("regex");
    let text = uuid.replace_all(text, |c: &regex::Captures| "U".repeat(c[0].len()));
    let text = req.replace_all(&text, |c: &regex::Captures| "R".repeat(c[0].len()));
    date.replace_all(&text, |c: &regex::Captures| "D".repeat(c[0].len()))
        .into_owned()
}

/// Where the golden files are.
pub fn golden_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("golden")
}

/// Compare with a golden file (normalised); `UPDATE_GOLDEN=1` rewrites it.
pub fn golden(name: &str, actual: &str) {
    let file = golden_dir().join(name);
    let actual = normalise(actual);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(file.parent().expect("dir")).expect("golden dir");
        std::fs::write(&file, &actual).expect("golden written");
        return;
    }
    let expected = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("{}: {e} (run with UPDATE_GOLDEN=1)", file.display()));
    assert_eq!(actual, expected, "{name} differs from its golden file");
}

/// The image whose table the goldens show.
pub const GOLDEN_ID: &str = "7d3b2c1a-0000-4000-8000-00000000beef";

/// `{data}` in [`GOLDEN_STATE`]: a file holding this.
pub const GOLDEN_DATA: &[u8] = b"golden image data\n";

/// The commands that bring an empty mock to the goldens' state.
pub const GOLDEN_STATE: &[&[&str]] = &[
    &[
        "image-create",
        "--id",
        GOLDEN_ID,
        "--name",
        "golden",
        "--disk-format",
        "raw",
        "--container-format",
        "bare",
        "--visibility",
        "shared",
        "--tags",
        "gold",
        "--property",
        "os_distro=cirros",
        "--file",
        "{data}",
    ],
    &[
        "image-create",
        "--name",
        "second",
        "--disk-format",
        "raw",
        "--container-format",
        "bare",
    ],
    &["member-create", GOLDEN_ID, "project-b"],
    &[
        "md-namespace-create",
        "OS::Golden",
        "--display-name",
        "Golden",
        "--description",
        "A namespace whose description is long enough to be wrapped at the table's eighty columns, like PrettyTable does.",
    ],
    &["md-tag-create-multiple", "OS::Golden", "--names", "a"],
];

/// The text goldens: each file and the command whose table it holds.
pub const TEXT_GOLDENS: &[(&str, &[&str])] = &[
    ("image-show.txt", &["image-show", GOLDEN_ID]),
    ("image-list-verbose.txt", &["--verbose", "image-list"]),
    ("member-list.txt", &["member-list", "--image-id", GOLDEN_ID]),
    (
        "md-namespace-show.txt",
        &["md-namespace-show", "OS::Golden"],
    ),
];

/// `args` with `{data}` replaced by `data`.
pub fn with_data<'a>(args: &[&'a str], data: &'a str) -> Vec<&'a str> {
    args.iter()
        .map(|a| if *a == "{data}" { data } else { a })
        .collect()
}

#[tokio::test]
async fn table_and_json_output_match_the_goldens() {
    let server = MockServer::start().await.expect("mock starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let src = dir.path().join("data");
    std::fs::write(&src, GOLDEN_DATA).expect("written");
    for step in GOLDEN_STATE {
        ok(&glance(&server, &with_data(step, path(&src))).await);
    }
    for (file, args) in TEXT_GOLDENS {
        golden(file, &ok(&glance(&server, args).await));
    }
    golden(
        "image-show.json",
        &ok(&glance(&server, &["-f", "json", "image-show", GOLDEN_ID]).await),
    );
    golden(
        "image-list.json",
        &ok(&glance(&server, &["--format", "json", "image-list"]).await),
    );
}
