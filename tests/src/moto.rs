//! moto's server mode, started once per test process on a free loopback port.
//!
//! moto is installed (pinned) into a venv at `<workspace>/target/moto-venv` on first use, so a
//! fresh clone needs nothing but `python3`. The server is a small Python wrapper around moto's
//! `ThreadedMotoServer` that binds port 0, prints the port it got, and exits when its stdin
//! reaches end of file. The test process holds the write end of that pipe for its whole life and
//! never closes it, so the server ends when the test process ends, however it ends (destructors of
//! statics never run, and a killed process runs none at all).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use tokio::sync::OnceCell;

/// The moto release the tests are pinned to.
pub const MOTO_VERSION: &str = "5.2.5";

/// Python used to create the venv; override with `TASKSYNC_PYTHON`.
const DEFAULT_PYTHON: &str = "python3";

/// How long the server may take from spawn to answering HTTP.
const STARTUP_DEADLINE: Duration = Duration::from_secs(60);

const WRAPPER: &str = r#"
import logging, os, sys
logging.getLogger("werkzeug").setLevel(logging.ERROR)
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
devnull = os.open(os.devnull, os.O_WRONLY)
os.dup2(devnull, 1)
sys.stdin.read()
os._exit(0)
"#;

#[derive(Debug, thiserror::Error)]
pub enum MotoError {
    #[error("creating the moto venv failed: {0}")]
    Venv(String),
    #[error("starting moto failed: {0}")]
    Start(String),
    #[error("moto I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// A running moto server. Lives until the test process exits.
#[derive(Debug)]
pub struct MotoServer {
    endpoint: String,
    pid: u32,
    // Never closed: its end of file is what stops the server (see the module docs).
    _stdin: Mutex<ChildStdin>,
}

impl MotoServer {
    /// `http://127.0.0.1:<port>`, what `AWS_ENDPOINT_URL` should be.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Process id of the Python server (for diagnostics).
    pub fn pid(&self) -> u32 {
        self.pid
    }
}

static SERVER: OnceCell<MotoServer> = OnceCell::const_new();

/// The process's moto server, started (and the venv created) on first call. Safe to call from
/// many tests at once: they all get the same server.
pub async fn moto() -> Result<&'static MotoServer, MotoError> {
    SERVER.get_or_try_init(start).await
}

async fn start() -> Result<MotoServer, MotoError> {
    let python = tokio::task::spawn_blocking(ensure_venv)
        .await
        .map_err(|e| MotoError::Venv(format!("venv task failed: {e}")))??;
    let spawned = tokio::task::spawn_blocking(move || spawn_server(&python))
        .await
        .map_err(|e| MotoError::Start(format!("spawn task failed: {e}")))??;
    let endpoint = format!("http://127.0.0.1:{}", spawned.port);
    // On failure `spawned.stdin` is dropped here, which stops the server.
    wait_until_answering(&endpoint).await?;
    Ok(MotoServer {
        endpoint,
        pid: spawned.pid,
        _stdin: Mutex::new(spawned.stdin),
    })
}

/// `<workspace root>/target`, found from this crate's manifest directory.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join("target")
}

/// The venv directory shared by every test process of this workspace:
/// `<workspace>/target/moto-venv`, or `TASKSYNC_MOTO_VENV` when set.
pub fn venv_dir() -> PathBuf {
    std::env::var_os("TASKSYNC_MOTO_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("moto-venv"))
}

fn venv_python(venv: &Path) -> PathBuf {
    venv.join("bin").join("python")
}

fn marker(venv: &Path) -> PathBuf {
    venv.join(format!(".tasksync-moto-{MOTO_VERSION}"))
}

fn unique_suffix() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}-{nanos}", std::process::id())
}

/// Makes sure the venv with the pinned moto exists; returns its Python.
///
/// It is built under a temporary name and renamed into place only when complete, so a
/// concurrent test process never sees a half-installed venv, and of two processes building at
/// once one wins the rename and the other discards its copy. (A venv works after a rename when
/// started as `bin/python`, which is all this uses.)
fn ensure_venv() -> Result<PathBuf, MotoError> {
    let venv = venv_dir();
    if marker(&venv).exists() {
        return Ok(venv_python(&venv));
    }
    // Built beside its final place: same file system, so the rename is atomic.
    let parent = venv.parent().map_or_else(target_dir, Path::to_path_buf);
    std::fs::create_dir_all(&parent)?;
    let building = parent.join(format!("moto-venv.building-{}", unique_suffix()));
    let result = build_venv(&building);
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&building);
        return Err(e);
    }
    // An outdated venv (another moto version) is moved aside first; losing that race is fine.
    if venv.exists() && !marker(&venv).exists() {
        let stale = parent.join(format!("moto-venv.stale-{}", unique_suffix()));
        if std::fs::rename(&venv, &stale).is_ok() {
            let _ = std::fs::remove_dir_all(&stale);
        }
    }
    if let Err(e) = std::fs::rename(&building, &venv) {
        let _ = std::fs::remove_dir_all(&building);
        if !marker(&venv).exists() {
            return Err(MotoError::Venv(format!(
                "cannot move the new venv to {}: {e}",
                venv.display()
            )));
        }
    }
    Ok(venv_python(&venv))
}

fn build_venv(dir: &Path) -> Result<(), MotoError> {
    let python = std::env::var("TASKSYNC_PYTHON").unwrap_or_else(|_| DEFAULT_PYTHON.to_owned());
    run(
        Command::new(&python).arg("-m").arg("venv").arg(dir),
        "python -m venv",
    )?;
    run(
        Command::new(venv_python(dir))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .arg(format!("moto[server]=={MOTO_VERSION}")),
        "pip install moto[server]",
    )?;
    std::fs::write(marker(dir), MOTO_VERSION)?;
    Ok(())
}

fn run(command: &mut Command, what: &str) -> Result<(), MotoError> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|e| MotoError::Venv(format!("{what}: cannot run: {e}")))?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let tail: String = stderr
        .lines()
        .rev()
        .take(15)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("\n");
    Err(MotoError::Venv(format!(
        "{what} exited with {}:\n{tail}",
        output.status
    )))
}

struct Spawned {
    pid: u32,
    stdin: ChildStdin,
    port: u16,
}

/// Spawns the wrapper and reads the port it bound.
fn spawn_server(python: &Path) -> Result<Spawned, MotoError> {
    let mut child = Command::new(python)
        .args(["-c", WRAPPER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| MotoError::Start(format!("cannot run {}: {e}", python.display())))?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        let _ = child.kill();
        return Err(MotoError::Start(
            "child has no stdin/stdout pipe".to_owned(),
        ));
    };
    // The read ends at the first line, or at end of file if the wrapper dies first (its stdout
    // closes), so it cannot block past the wrapper's life.
    let mut line = String::new();
    let read = BufReader::new(stdout).read_line(&mut line);
    let port = read.ok().and_then(|_| line.trim().parse::<u16>().ok());
    match port {
        Some(port) => Ok(Spawned {
            pid: child.id(),
            stdin,
            port,
        }),
        None => {
            let _ = child.kill();
            let status = child.wait().ok();
            Err(MotoError::Start(format!(
                "the moto wrapper printed {line:?} instead of a port (exit status {status:?}); \
                 its error output is above"
            )))
        }
    }
}

/// Polls until the server answers HTTP, within [`STARTUP_DEADLINE`].
async fn wait_until_answering(endpoint: &str) -> Result<(), MotoError> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .map_err(|e| MotoError::Start(format!("http client: {e}")))?;
    let deadline = Instant::now() + STARTUP_DEADLINE;
    let url = format!("{endpoint}/moto-api/");
    loop {
        match client.get(&url).send().await {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => {
                return Err(MotoError::Start(format!(
                    "moto at {endpoint} did not answer within {STARTUP_DEADLINE:?}: {e}"
                )));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(25)).await,
        }
    }
}
