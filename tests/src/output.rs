//! Reading what a command-line client printed (ours or python-glanceclient).

use std::process::Output;

/// stdout of a command that must have succeeded.
///
/// # Panics
/// When it failed, with its status, stdout and stderr.
pub fn ok(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "glance failed ({}):\nstdout: {stdout}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// stderr, as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The value of `property` in a Property/Value table (its first row).
pub fn table_value(table: &str, property: &str) -> Option<String> {
    table.lines().find_map(|line| {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        (cells.len() == 4 && cells[1] == property).then(|| cells[2].to_owned())
    })
}
