//! The `tasksync` binary run as the functions run: its environment cleared and set to what
//! template.yaml gives them, against moto.

// Test helpers: a failed step must fail the test that called it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use testkit::aws::MotoAws;

/// How a run of the binary ended.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs the `tasksync` binary with the environment the functions get.
pub async fn run(aws: &MotoAws, args: &[&str]) -> Run {
    run_with_env(aws.env_vars(), args).await
}

/// Runs the `tasksync` binary with exactly `env` (e.g. `TestStack::function_env`, which adds the
/// emulator's Graph settings to moto's).
pub async fn run_with_env<K, V>(env: impl IntoIterator<Item = (K, V)>, args: &[&str]) -> Run
where
    K: AsRef<std::ffi::OsStr>,
    V: AsRef<std::ffi::OsStr>,
{
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_tasksync"))
        .args(args)
        .env_clear()
        .envs(env)
        .output()
        .await
        .unwrap();
    Run {
        code: output.status.code().expect("exited, not killed"),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// [`run_with_env`], with the command and what it printed on stderr of the test, so a failing
/// test shows the whole exchange.
pub async fn run_shown<K, V>(env: impl IntoIterator<Item = (K, V)>, args: &[&str]) -> Run
where
    K: AsRef<std::ffi::OsStr>,
    V: AsRef<std::ffi::OsStr>,
{
    let run = run_with_env(env, args).await;
    eprintln!(
        "$ tasksync {}\n{}{}",
        args.join(" "),
        run.stdout,
        run.stderr
    );
    run
}
