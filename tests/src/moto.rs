//! moto's server mode, started once per test process on a free loopback port, by the same code
//! `tasksync local` uses (`tasksync::standalone::moto`).
//!
//! The test process holds the server in a static, which is never dropped: the server ends when
//! the test process ends, however it ends, because its stdin pipe closes then.

use tokio::sync::OnceCell;

pub use tasksync::standalone::moto::{MOTO_VERSION, MotoError, MotoServer, venv_dir};

static SERVER: OnceCell<MotoServer> = OnceCell::const_new();

/// The process's moto server, started (and the venv created) on first call. Safe to call from
/// many tests at once: they all get the same server.
pub async fn moto() -> Result<&'static MotoServer, MotoError> {
    SERVER.get_or_try_init(|| MotoServer::start(0)).await
}
