//! `tasksync local`: the whole system on one machine, on embedded defaults.
//!
//! Real parts wherever they can be: the Graph emulator over HTTP (with its real validation
//! handshake and notification delivery), the real webhook handler served over loopback HTTP as
//! API Gateway would invoke it, the real worker handler fed SQS events as Lambda would build them,
//! the real Graph client, and the template's own pipe template turning every task-store write
//! into the `local_task` hint the pipe sends in AWS. Only the stores and the queue are the
//! in-memory adapters, which pass the same contract suite as the DynamoDB and SQS ones; the
//! in-memory task store announces each write by its keys as the `KEYS_ONLY` stream does.
//!
//! The demo's steps ([`run_demo`]) return what they observed ([`DemoReport`]), so a test runs the
//! same steps and asserts on them.

mod demo;
mod error;
mod narration;
mod system;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

pub use demo::{AGENT, AGENT_TASK, DemoReport, PLANNER_LIST, TODO_LIST, run_demo};
pub use error::LocalRunError;
pub use system::{LocalSystem, Settled};

use crate::error::CliError;

#[derive(clap::Args, Debug)]
pub struct LocalArgs {
    /// After the demo, keep the system running (emulator, webhook, worker) until Ctrl-C.
    #[arg(long)]
    pub keep_running: bool,
    /// How long to wait for each change to reach the other side.
    #[arg(long, default_value_t = 15)]
    pub step_timeout_secs: u64,
}

/// `tasksync local`: the demo, then with `--keep-running` the system serving until Ctrl-C.
pub async fn run(args: LocalArgs) -> Result<ExitCode, CliError> {
    Ok(run_local(args).await?)
}

async fn run_local(args: LocalArgs) -> Result<ExitCode, LocalRunError> {
    let system = LocalSystem::start().await?;
    let mut out = std::io::stdout();
    run_demo(
        &system,
        Duration::from_secs(args.step_timeout_secs),
        &mut out,
    )
    .await?;
    if args.keep_running {
        writeln!(out)?;
        writeln!(
            out,
            "Still running (Ctrl-C to stop). Control API: {}",
            system.emulator.control_url
        )?;
        system.serve_until_ctrl_c().await;
    }
    system.shutdown();
    Ok(ExitCode::SUCCESS)
}
