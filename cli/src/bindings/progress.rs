//! The progress bar of a long resync: on a terminal only (stderr), never with `--json`, so
//! scripts and logs get the result alone.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// A bar when a person is watching, else nothing.
pub fn bar(json: bool) -> Option<ProgressBar> {
    if json || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} tasks {msg}") {
        bar.set_style(style);
    }
    Some(bar)
}

/// The engine's progress callback over `bar`.
pub fn reporter(bar: &ProgressBar) -> impl Fn(u64, u64) + Send + Sync + '_ {
    move |done, total| {
        bar.set_length(total);
        bar.set_position(done);
    }
}
