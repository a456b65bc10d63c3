//! What every step of a pair's life works with: the stores, the binding's remote side (its kind
//! dispatched once, when the scope is opened), the binding's rules and the engine's settings.

use std::time::Duration;

use super::fields::SideRules;
use super::mass_deletion::MassDeletionGuard;
use super::remote::{OpenRemote, RemoteSide};
use crate::graph::models::CalendarZone;
use crate::model::Binding;

/// Tunables of the engine; the defaults match template.yaml's worker.
#[derive(Debug, Clone, Copy)]
pub struct EngineSettings {
    /// How long a `creating` claim of another worker is trusted before its create is redone.
    pub claim_patience: Duration,
    /// Re-read and re-merge rounds after a 412/409 or a lost conditional write.
    pub max_merge_rounds: u32,
    /// A resync holds back deletions this guard blocks (the same rule as the scheduler's sweep).
    pub deletion_guard: MassDeletionGuard,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            claim_patience: Duration::from_secs(60),
            max_merge_rounds: 3,
            deletion_guard: MassDeletionGuard::default(),
        }
    }
}

/// The side rules of a binding (its zone for calendar days).
pub fn rules_of(binding: &Binding) -> SideRules {
    let zone = CalendarZone::parse(&binding.time_zone).unwrap_or_else(|_| {
        tracing::warn!(binding_id = %binding.id, zone = %binding.time_zone, "unknown time zone; using UTC");
        CalendarZone::utc()
    });
    SideRules::new(binding.remote, zone)
}

/// One binding's view of the engine.
pub(crate) struct Scope<'a, S, T> {
    pub sync: &'a S,
    pub tasks: &'a T,
    pub remote: Box<dyn RemoteSide + 'a>,
    pub binding: &'a Binding,
    pub rules: SideRules,
    pub settings: &'a EngineSettings,
}

impl<'a, S, T> Scope<'a, S, T> {
    pub fn open<G: OpenRemote>(
        sync: &'a S,
        tasks: &'a T,
        graph: &'a G,
        binding: &'a Binding,
        settings: &'a EngineSettings,
    ) -> Self {
        let rules = rules_of(binding);
        Self {
            sync,
            tasks,
            remote: graph.open(binding, &rules),
            binding,
            rules,
            settings,
        }
    }
}
