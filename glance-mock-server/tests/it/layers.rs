//! The mock's layers (README, "Layout") as a rule the build checks: each
//! module names only the layers below it, and HTTP handlers reach the
//! repositories and stores only through `app/`. Doc comments and
//! `#[cfg(test)]` modules are not looked at.

use std::fs;
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir` (or `dir` itself, a file).
fn sources(dir: &Path) -> Vec<PathBuf> {
    if dir.is_file() {
        return vec![dir.to_owned()];
    }
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).expect("source folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// The code lines of `path` before its test module, comments dropped.
fn code_lines(path: &Path) -> Vec<(usize, String)> {
    let text = fs::read_to_string(path).expect("readable source");
    text.lines()
        .take_while(|l| l.trim() != "#[cfg(test)]")
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l.to_owned()))
        .collect()
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Lines of `module` that name any of `forbidden` (`crate::X` or `super::X`
/// from a direct child).
fn offences(module: &str, forbidden: &[&str]) -> Vec<String> {
    let root = src();
    let dir = root.join(module);
    let path = if dir.exists() {
        dir
    } else {
        root.join(format!("{module}.rs"))
    };
    let mut found = Vec::new();
    for file in sources(&path) {
        for (n, line) in code_lines(&file) {
            for layer in forbidden {
                if line.contains(&format!("crate::{layer}::"))
                    || line.contains(&format!("crate::{layer};"))
                    || line.contains(&format!("crate::{layer}}}"))
                    || line.contains(&format!("crate::{layer},"))
                    || line.contains(&format!("crate::{{{layer}"))
                    || line.contains(&format!("crate::{{self, {layer}"))
                {
                    found.push(format!("{}:{n}: {}", file.display(), line.trim()));
                }
            }
        }
    }
    found
}

#[test]
fn each_layer_names_only_layers_below_it() {
    let rules: &[(&str, &[&str])] = &[
        (
            "domain",
            &[
                "api", "app", "worker", "state", "queue", "db", "store", "control", "keystone",
            ],
        ),
        ("db", &["api", "app", "worker", "state", "queue", "store"]),
        ("store", &["api", "app", "worker", "state", "queue", "db"]),
        ("keystone", &["api", "app", "worker", "state", "queue"]),
        ("control", &["api", "app", "worker", "state", "queue"]),
        ("queue", &["api", "app", "worker", "state"]),
        ("state", &["api", "app", "worker"]),
        ("app", &["api", "worker"]),
        ("worker", &["api"]),
    ];
    let mut all = Vec::new();
    for (module, forbidden) in rules {
        all.extend(offences(module, forbidden));
    }
    assert!(
        all.is_empty(),
        "imports from a layer above:\n{}",
        all.join("\n")
    );
}

#[test]
fn handlers_reach_records_and_bytes_only_through_app() {
    let reach = [
        "state.repo",
        "state.store",
        "state.staging",
        "state.cache",
        "state.queue",
    ];
    let mut found = Vec::new();
    for file in sources(&src().join("api")) {
        for (n, line) in code_lines(&file) {
            let squashed: String = line.split_whitespace().collect();
            // `state.repo.images…`, or `.repo` opening a line of a call chain
            // that began on the line before (`state` alone).
            let chained = |field: &str| {
                squashed
                    .strip_prefix('.')
                    .and_then(|rest| rest.strip_prefix(field))
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '(']))
            };
            if reach.iter().any(|r| squashed.contains(&format!("{r}.")))
                || reach.iter().any(|r| chained(&r["state.".len()..]))
            {
                found.push(format!("{}:{n}: {}", file.display(), line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "handlers touching repositories or stores:\n{}",
        found.join("\n")
    );
}
