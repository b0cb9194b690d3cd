//! Progress bars for data transfers (indicatif), shown only where a person
//! is watching: stdout is a terminal and the size is known.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar for `total` bytes, or `None` when it should not be drawn.
pub fn bar(wanted: bool, total: Option<u64>) -> Option<ProgressBar> {
    let total = total.filter(|t| *t > 0)?;
    if !wanted || !std::io::stdout().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template(
            "[{bar:30}] {percent:>3}% {bytes}/{total_bytes} {bytes_per_sec} ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    Some(bar)
}

/// Leave the finished bar on its own line, so that what follows (the image
/// table) starts on the next one, as glanceclient's bar ends with `\n`.
pub fn finish(bar: Option<ProgressBar>) {
    if let Some(bar) = bar {
        bar.finish();
        eprintln!();
    }
}
