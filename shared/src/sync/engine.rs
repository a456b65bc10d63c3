//! The engine's entry points: a pair's whole life (read → decide → apply → retry) and a whole
//! binding's, behind one call each, so a caller (the worker, the CLI) only names the binding and
//! what to look at, and gets back what was done or a failure classified by what to do next.

use super::executor::Executed;
use super::failure::SyncFailure;
use super::pair::{self, PairKey};
use super::plan::Plan;
use super::remote::OpenRemote;
use super::resync::{self, ResyncOptions, ResyncReport};
use super::resync_plan::ResyncPlan;
use super::scope::{EngineSettings, Scope};
use crate::model::Binding;
use crate::ports::{MappingStore, SyncRecords, TaskList, TaskRead, TaskWriteIfVersion};

/// The stores and Graph the engine reads and writes: `sync` (mappings and records), `tasks` (the
/// application's tasks table), `graph` (opens each binding's remote side).
pub struct Engine<'a, S, T, G> {
    pub sync: &'a S,
    pub tasks: &'a T,
    pub graph: &'a G,
    pub settings: EngineSettings,
}

impl<S, T, G> Engine<'_, S, T, G>
where
    S: MappingStore + SyncRecords,
    T: TaskRead + TaskWriteIfVersion + TaskList,
    G: OpenRemote,
{
    fn scope<'s>(&'s self, binding: &'s Binding) -> Scope<'s, S, T> {
        Scope::open(self.sync, self.tasks, self.graph, binding, &self.settings)
    }

    /// Brings the pair a hint names into agreement; `Executed::Nothing` when it already was.
    pub async fn sync_pair(
        &self,
        binding: &Binding,
        key: &PairKey,
    ) -> Result<Executed, SyncFailure> {
        pair::sync_pair(&self.scope(binding), key).await
    }

    /// Brings every pair of the binding into agreement.
    pub async fn resync(&self, binding: &Binding) -> Result<ResyncReport, SyncFailure> {
        self.resync_with(binding, ResyncOptions::default()).await
    }

    /// [`Engine::resync`] with options (`--full`, a progress bar).
    pub async fn resync_with(
        &self,
        binding: &Binding,
        options: ResyncOptions<'_>,
    ) -> Result<ResyncReport, SyncFailure> {
        resync::resync(&self.scope(binding), options).await
    }

    /// What [`Engine::resync_with`] would do, pair by pair, without writing anything: the same
    /// listing, pairing (cold-start matching included) and per-pair decisions.
    pub async fn plan_resync(
        &self,
        binding: &Binding,
        full: bool,
    ) -> Result<ResyncPlan, SyncFailure> {
        resync::plan(&self.scope(binding), full).await
    }

    /// What [`Engine::sync_pair`] would do, without writing anything.
    pub async fn dry_run(&self, binding: &Binding, key: &PairKey) -> Result<Plan, SyncFailure> {
        pair::dry_run(&self.scope(binding), key).await
    }
}
