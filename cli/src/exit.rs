//! How a command ends: its exit code, and on failure its error on stderr with the causes the
//! message does not already quote. A cron job or an alarm acts on the code alone, so each code
//! keeps one meaning across every command.

use std::process::ExitCode;

use crate::error::CliError;

/// The command did what it was asked.
pub const OK: u8 = 0;
/// The command failed: configuration, AWS, Graph, the output, or a refused request.
pub const FAILED: u8 = 1;
/// Bad usage; clap exits with it before any command runs.
pub const USAGE: u8 = 2;
/// `tasksync status` found at least one binding that needs an operator (a failing subscription
/// or sweep, deletions withheld by the guard, an open breaker, an expired subscription), or
/// `tasksync dlq redrive` left a message that is not a hint in the dead-letter queue.
pub const NEEDS_OPERATOR: u8 = 3;

/// The exit codes as `tasksync --help` shows them: the one place they are documented for users.
pub const HELP: &str = "Exit codes:
  0  ok
  1  the command failed
  2  bad usage
  3  an operator must act (status: a binding; dlq redrive: a message left)";

/// The process's exit code for a command's result; a failure is printed first.
pub fn report(result: Result<ExitCode, CliError>) -> ExitCode {
    match result {
        Ok(code) => code,
        Err(e) => {
            print_error(&e);
            ExitCode::from(FAILED)
        }
    }
}

/// `tasksync: <error>`, then one `caused by:` line per cause. Most messages already quote their
/// cause; only what they do not say is printed.
fn print_error(e: &dyn std::error::Error) {
    let mut shown = e.to_string();
    eprintln!("tasksync: {shown}");
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !shown.contains(&text) {
            eprintln!("  caused by: {text}");
        }
        shown = text;
        source = cause.source();
    }
}
