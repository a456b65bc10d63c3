//! `graph-emulator --listen 127.0.0.1:0`: serves the emulator and prints one JSON line with what
//! a client needs (base URLs, credentials, seeded ids). Flags are filled in by the server owner.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let config = graph_emulator::EmulatorConfig::default();
    match graph_emulator::start(config, "127.0.0.1:0").await {
        Ok(running) => {
            println!("{}", running.announcement());
            let _ = tokio::signal::ctrl_c().await;
            running.shutdown();
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("graph-emulator: cannot listen: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
