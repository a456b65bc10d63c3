//! moto's server mode, for `tasksync local` and the test kit: the pinned moto installed into a
//! venv on first use (so a fresh clone needs nothing but `python3` with `venv`), started as a
//! child process on a loopback port.
//!
//! The server is a small Python wrapper around moto's `ThreadedMotoServer` that binds the port
//! asked for (0: any free one), prints the port it got, and exits when its stdin reaches end of
//! file. Three things stop it, so no moto outlives its owner however the owner ends:
//! - dropping [`MotoServer`] kills it and reaps it;
//! - the owner's death closes the pipe (a killed process runs no destructor, and statics are
//!   never dropped);
//! - it runs in its own process group, so a terminal's Ctrl-C reaches only the owner, which
//!   then stops it in order instead of racing it.
//!
//! moto keeps everything in memory: a new server starts empty.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The moto release this workspace is pinned to.
pub const MOTO_VERSION: &str = "5.2.5";

/// Python used to create the venv; override with `TASKSYNC_PYTHON`.
const DEFAULT_PYTHON: &str = "python3";

/// How long the server may take from spawn to answering HTTP.
const STARTUP_DEADLINE: Duration = Duration::from_secs(60);

const WRAPPER: &str = r#"
import logging, os, sys
logging.getLogger("werkzeug").setLevel(logging.ERROR)
from moto.server import ThreadedMotoServer
server = ThreadedMotoServer(ip_address="127.0.0.1", port=int(sys.argv[1]), verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
devnull = os.open(os.devnull, os.O_WRONLY)
os.dup2(devnull, 1)
sys.stdin.read()
os._exit(0)
"#;

/// Why moto could not be made ready.
#[derive(Debug, thiserror::Error)]
pub enum MotoError {
    /// python3, its venv module or pip failed: the machine needs python3 with venv (and the
    /// network once, for pip).
    #[error("creating the moto venv failed: {0}")]
    Venv(String),
    /// The server did not start or answer (e.g. the port is taken).
    #[error("starting moto failed: {0}")]
    Start(String),
    #[error("moto I/O: {0}")]
    Io(#[from] std::io::Error),
}

/// A running moto server; stopped when dropped.
#[derive(Debug)]
pub struct MotoServer {
    endpoint: String,
    port: u16,
    pid: u32,
    child: Mutex<Option<Child>>,
    // Held open for the server's life: its end of file is what stops the server when the owner
    // dies without dropping this.
    _stdin: Mutex<ChildStdin>,
}

impl MotoServer {
    /// Creates the venv if needed and starts moto on `127.0.0.1:port` (0: a free port).
    pub async fn start(port: u16) -> Result<Self, MotoError> {
        let python = tokio::task::spawn_blocking(ensure_venv)
            .await
            .map_err(|e| MotoError::Venv(format!("venv task failed: {e}")))??;
        let mut spawned = tokio::task::spawn_blocking(move || spawn_server(&python, port))
            .await
            .map_err(|e| MotoError::Start(format!("spawn task failed: {e}")))??;
        let endpoint = format!("http://127.0.0.1:{}", spawned.port);
        if let Err(e) = wait_until_answering(&endpoint).await {
            stop(&mut spawned.child);
            return Err(e);
        }
        Ok(Self {
            endpoint,
            port: spawned.port,
            pid: spawned.child.id(),
            child: Mutex::new(Some(spawned.child)),
            _stdin: Mutex::new(spawned.stdin),
        })
    }

    /// `http://127.0.0.1:<port>`, what `AWS_ENDPOINT_URL` should be.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Process id of the Python server.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// Kills the server and waits for it to be gone; later calls do nothing.
    pub fn stop(&self) {
        let taken = self.child.lock().ok().and_then(|mut c| c.take());
        if let Some(mut child) = taken {
            stop(&mut child);
        }
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// `<workspace root>/target`, found from this crate's manifest directory.
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap_or_else(|| Path::new("."))
        .join("target")
}

/// The venv directory shared by every process of this workspace:
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
/// concurrent process never sees a half-installed venv, and of two processes building at once
/// one wins the rename and the other discards its copy. (A venv works after a rename when
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
    if let Err(e) = build_venv(&building) {
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
    let lines: Vec<&str> = stderr.lines().collect();
    let tail = lines[lines.len().saturating_sub(15)..].join("\n");
    Err(MotoError::Venv(format!(
        "{what} exited with {}:\n{tail}",
        output.status
    )))
}

struct Spawned {
    child: Child,
    stdin: ChildStdin,
    port: u16,
}

/// Spawns the wrapper in its own process group and reads the port it bound.
fn spawn_server(python: &Path, port: u16) -> Result<Spawned, MotoError> {
    let mut child = Command::new(python)
        .args(["-c", WRAPPER, &port.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .process_group(0)
        .spawn()
        .map_err(|e| MotoError::Start(format!("cannot run {}: {e}", python.display())))?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        stop(&mut child);
        return Err(MotoError::Start(
            "child has no stdin/stdout pipe".to_owned(),
        ));
    };
    // The read ends at the first line, or at end of file if the wrapper dies first (its stdout
    // closes), so it cannot block past the wrapper's life.
    let mut line = String::new();
    let read = BufReader::new(stdout).read_line(&mut line);
    match read.ok().and_then(|_| line.trim().parse::<u16>().ok()) {
        Some(port) => Ok(Spawned { child, stdin, port }),
        None => {
            stop(&mut child);
            Err(MotoError::Start(format!(
                "the moto wrapper printed {line:?} instead of a port (is port {port} taken?); \
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
