//! `tasksync`: the operations tool. Thin: parses the command line and runs the command.

mod local_run;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "tasksync", version, about = "tasksync operations tool")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the whole system on this machine on its embedded defaults (Graph emulator, in-memory
    /// stores, the real webhook and worker handlers) and show a To Do change flowing into the
    /// task store.
    Local(local_run::LocalArgs),
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tasksync::telemetry::init_local("warn");
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Local(args) => local_run::run(args).await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tasksync: {e}");
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                eprintln!("  caused by: {cause}");
                source = cause.source();
            }
            std::process::ExitCode::FAILURE
        }
    }
}
