//! `tasksync local`: the system on one machine ([`system_run`]), and `tasksync local demo`, the
//! scripted walk-through.
//!
//! The walk-through ([`run_demo`]) keeps its stores and queue in memory (the in-memory adapters
//! pass the same contract suite as the DynamoDB and SQS ones) and drives the rounds AWS would do
//! itself, so each step can wait for exactly what it caused. Its steps return what they
//! observed ([`DemoReport`]), so a test runs the same steps and asserts on them.

mod demo;
mod error;
mod narration;
mod system;
pub mod system_run;

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

pub use demo::{AGENT, AGENT_TASK, DemoReport, PLANNER_LIST, TODO_LIST, run_demo};
pub use error::LocalRunError;
pub use system::{LocalSystem, Settled};
use system_run::{AwsChoice, GraphChoice, SystemOptions};

use crate::error::CliError;

#[derive(clap::Args, Debug)]
#[command(args_conflicts_with_subcommands = true)]
pub struct LocalArgs {
    #[command(subcommand)]
    pub command: Option<LocalCommand>,
    #[command(flatten)]
    pub system: SystemArgs,
}

#[derive(clap::Subcommand, Debug)]
pub enum LocalCommand {
    /// The scripted walk-through: in-memory stores, random ports, a person's To Do edits and an
    /// agent's writes shown flowing both ways.
    Demo(DemoArgs),
}

#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// After the demo, keep the system running (emulator, webhook, worker) until Ctrl-C.
    #[arg(long)]
    pub keep_running: bool,
    /// How long to wait for each change to reach the other side.
    #[arg(long, default_value_t = 15)]
    pub step_timeout_secs: u64,
}

#[derive(clap::Args, Debug)]
pub struct SystemArgs {
    /// Port of the webhook (the HTTP API's routes, on 127.0.0.1).
    #[arg(long, default_value_t = 8787)]
    pub port: u16,
    /// Port of the moto server the command starts.
    #[arg(long, default_value_t = 5005)]
    pub moto_port: u16,
    /// Port of the Graph emulator.
    #[arg(long, default_value_t = 8788)]
    pub graph_port: u16,
    /// Use this DynamoDB/SQS-compatible endpoint (already running) instead of starting moto;
    /// template.yaml's tables and queues are created there.
    #[arg(long, value_name = "URL", conflicts_with = "no_emulate_aws")]
    pub aws_endpoint: Option<String>,
    /// Use real AWS: the environment's credentials and region, and TASKS_TABLE, SYNC_TABLE and
    /// WORK_QUEUE_URL naming resources that exist.
    #[arg(long)]
    pub no_emulate_aws: bool,
    /// Which Graph: the emulator, or a real tenant (GRAPH_TENANT_ID, GRAPH_CLIENT_ID,
    /// GRAPH_CLIENT_SECRET from the environment).
    #[arg(long, value_enum, default_value = "emulator")]
    pub graph: GraphChoice,
    /// The https URL of a tunnel (ngrok, cloudflared) to the webhook port, so a real tenant's
    /// Graph can reach the webhook.
    #[arg(long, value_name = "URL")]
    pub public_url: Option<String>,
    /// How often the scheduler runs, e.g. 60s, 5s, 500ms, 2m.
    #[arg(long, default_value = "60s", value_parser = parse_tick)]
    pub tick: Duration,
    /// Do not create the example bindings on the emulator.
    #[arg(long)]
    pub no_examples: bool,
}

/// `60s`, `500ms`, `2m`, or plain seconds.
fn parse_tick(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, unit) = text
        .find(|c: char| !c.is_ascii_digit())
        .map_or((text, "s"), |i| text.split_at(i));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration such as 60s, 500ms or 2m"))?;
    let tick = match unit {
        "ms" => Duration::from_millis(n),
        "s" => Duration::from_secs(n),
        "m" => Duration::from_secs(n * 60),
        _ => return Err(format!("unit {unit:?}: use ms, s or m")),
    };
    if tick < Duration::from_millis(100) {
        return Err("the tick must be at least 100ms".to_owned());
    }
    Ok(tick)
}

/// `tasksync local` and `tasksync local demo`.
pub async fn run(args: LocalArgs) -> Result<ExitCode, CliError> {
    match args.command {
        Some(LocalCommand::Demo(demo)) => Ok(run_demo_command(demo).await?),
        None => match options(args.system) {
            Ok(options) => {
                system_run::run(options).await?;
                Ok(ExitCode::SUCCESS)
            }
            Err(reason) => {
                eprintln!("tasksync: {reason}");
                Ok(ExitCode::from(crate::exit::USAGE))
            }
        },
    }
}

fn options(args: SystemArgs) -> Result<SystemOptions, String> {
    if let Some(url) = &args.public_url
        && !url.starts_with("https://")
    {
        return Err(format!(
            "--public-url {url}: Graph only posts to https URLs; give the tunnel's https URL"
        ));
    }
    let aws = match (args.aws_endpoint, args.no_emulate_aws) {
        (Some(url), _) => AwsChoice::Endpoint(url),
        (None, true) => AwsChoice::Real,
        (None, false) => AwsChoice::Moto {
            port: args.moto_port,
        },
    };
    Ok(SystemOptions {
        port: args.port,
        aws,
        graph: args.graph,
        graph_port: args.graph_port,
        public_url: args.public_url,
        tick: args.tick,
        examples: !args.no_examples && args.graph == GraphChoice::Emulator,
    })
}

async fn run_demo_command(args: DemoArgs) -> Result<ExitCode, LocalRunError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_parse_with_units() {
        assert_eq!(parse_tick("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_tick("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_tick("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_tick("5"), Ok(Duration::from_secs(5)));
        assert!(parse_tick("5h").is_err());
        assert!(parse_tick("10ms").is_err());
    }
}
