//! The progress bar of a long resync: on a terminal only (stderr), never with `--json`, so
//! scripts and logs get the result alone.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use tasksync::sync::ResyncOptions;

type Report = Box<dyn Fn(u64, u64) + Send + Sync>;

/// A bar when a person is watching, and the engine's progress callback over it.
pub struct Progress {
    bar: Option<ProgressBar>,
    report: Option<Report>,
}

impl Progress {
    /// `quiet`: `--json`, or output that is no progress of work (a dry run).
    pub fn new(quiet: bool) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Self {
                bar: None,
                report: None,
            };
        }
        let bar = ProgressBar::new(0);
        if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} tasks {msg}") {
            bar.set_style(style);
        }
        let shown = bar.clone();
        let report: Report = Box::new(move |done, total| {
            shown.set_length(total);
            shown.set_position(done);
        });
        Self {
            bar: Some(bar),
            report: Some(report),
        }
    }

    /// The resync's options, reporting to the bar.
    pub fn options(&self, full: bool) -> ResyncOptions<'_> {
        ResyncOptions {
            full,
            progress: self.report.as_deref(),
        }
    }

    /// Clears the bar before the result is printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
