//! Markdown for BENCHMARKS.md: one section per comparison, with the load
//! when it ran.

use std::fmt::Write;

/// One comparison's results.
#[derive(Debug, Default)]
pub struct Section {
    title: String,
    load_before: String,
    body: String,
}

impl Section {
    /// Start a section (records the load now).
    pub fn new(title: &str) -> Section {
        eprintln!("== {title} (load {})", super::load());
        Section {
            title: title.to_owned(),
            load_before: super::load(),
            body: String::new(),
        }
    }

    /// A paragraph or list line.
    pub fn line(&mut self, text: impl AsRef<str>) {
        let _ = writeln!(self.body, "{}", text.as_ref());
    }

    /// A table.
    pub fn table(&mut self, header: &[&str], rows: &[Vec<String>]) {
        let _ = writeln!(self.body, "\n| {} |", header.join(" | "));
        let _ = writeln!(
            self.body,
            "|{}",
            header.iter().map(|_| "---|").collect::<String>()
        );
        for r in rows {
            let _ = writeln!(self.body, "| {} |", r.join(" | "));
        }
        self.body.push('\n');
    }

    /// Close the section (records the load again) as Markdown.
    pub fn finish(self) -> String {
        let text = format!(
            "### {}\n\nLoad average (1/5/15 min) before: {}, after: {}.\n{}\n",
            self.title,
            self.load_before,
            super::load(),
            self.body
        );
        eprintln!("{text}");
        text
    }
}

/// `met` / `MISSED` for a figure against a target.
pub fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "**missed**" }
}

/// A figure with a few significant digits.
pub fn f(x: f64) -> String {
    if !x.is_finite() {
        "n/a".into()
    } else if x.abs() >= 100.0 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

/// A section that could not run, and why.
pub fn skipped(title: &str, why: &anyhow::Error) -> String {
    let text = format!("### {title}\n\nNot measured in this run: {why:#}.\n\n");
    eprintln!("{text}");
    text
}

/// The header of a results block: machine, date, command, commit.
pub fn header(command: &str) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|l| l.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "?".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = crate::procfs::meminfo_kib("MemTotal").map_or("?".into(), |k| {
        format!("{:.1} GiB", k as f64 / 1024.0 / 1024.0)
    });
    let sh = |cmd: &str, args: &[&str]| {
        std::process::Command::new(cmd)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    format!(
        "- Machine: {cpu}, {cores} cores, {mem} RAM, {}\n- Date: {}\n- Command: `{command}`\n- Commit: {} ({})\n- Load average at start: {}\n\n",
        sh("uname", &["-sr"]),
        sh("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        sh("git", &["rev-parse", "--short", "HEAD"]),
        sh("rustc", &["--version"]),
        super::load(),
    )
}
