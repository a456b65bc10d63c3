//! What the sync could not do, for operators: the task items it does not sync and why
//! ([`sync_issues`]), and the messages that died in the dead-letter queue with the reason the
//! worker recorded beside each ([`dead_letters`]). Read-only: looking never changes what the sync
//! does next. The `tasksync sync-issues` and `tasksync dlq` commands print these views.
//! Each binding's health (subscription, sweeps, guard, breaker, lease) is [`binding_status`]
//! (`tasksync status`); the one write an operator makes, releasing the deletions the
//! mass-deletion guard withholds, is [`deletion_approval`] (`tasksync approve-deletions`). The
//! recovery commands (docs/recovery.md) are [`redrive`] (dead letters back to the work queue),
//! [`pipe_dead_letters`] (what the pipe could not deliver), [`reset`] (forget a binding's
//! mappings), [`orphan_cleanup`] (marked remote tasks no local task owns) and
//! [`conflict_history`] (every conflict settled). Adding, pausing, resuming, removing and
//! resyncing bindings is [`bindings`].

pub mod binding_status;
pub mod bindings;
pub mod conflict_history;
pub mod dead_letters;
pub mod deletion_approval;
pub mod orphan_cleanup;
pub mod pipe_dead_letters;
pub mod redrive;
pub mod reset;
pub mod sync_issues;
