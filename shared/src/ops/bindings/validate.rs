//! Checking a new binding before it is written: its id and time zone, the sync table (no second
//! binding of the same id, local list or container) and Graph (the container exists and the app
//! can read it, by one read of the list or plan).
//!
//! Write access is not probed with a write: Graph has no write on a To Do list or a plan that
//! changes nothing, and the app's one permission for both (`Tasks.ReadWrite.All`) grants reading
//! and writing together, so a read that succeeds under the app's own token shows the grant. A
//! tenant that narrowed it anyway is caught by the first sync, which follows at once: its first
//! refused write stops `bindings add` with the 403 and the permission to grant
//! (docs/bindings.md).

use crate::graph::models::CalendarZone;
use crate::graph::{GraphClient, GraphError};
use crate::model::{Binding, ConflictPolicy, Direction, RemoteKind};
use crate::ports::{BindingList, BindingLookup};

use super::BindingError;

/// The remote side of a new binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Todo { list_id: String, user: String },
    Planner { plan_id: String },
}

/// A binding as the operator asked for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBinding {
    pub id: String,
    pub local_list_id: String,
    pub target: Target,
    pub direction: Direction,
    pub conflict_policy: ConflictPolicy,
    pub import_completed: bool,
    pub time_zone: String,
}

impl NewBinding {
    /// The binding item it becomes: first sync pending (cold-start matching on).
    pub fn binding(&self) -> Binding {
        let mut binding = match &self.target {
            Target::Todo { list_id, user } => {
                Binding::todo(&self.id, &self.local_list_id, user, list_id)
            }
            Target::Planner { plan_id } => Binding::planner(&self.id, &self.local_list_id, plan_id),
        };
        binding.direction = self.direction;
        binding.conflict_policy = self.conflict_policy;
        binding.import_completed = self.import_completed;
        binding.time_zone = self.time_zone.clone();
        binding.first_sync_pending = true;
        binding
    }
}

/// The container in words, for messages.
pub fn container_text(binding: &Binding) -> String {
    match binding.remote {
        RemoteKind::Todo => format!(
            "To Do list {:?} of user {:?}",
            binding.remote_container_id, binding.user_id
        ),
        RemoteKind::Planner => format!("plan {:?}", binding.remote_container_id),
    }
}

/// Checks `new` against its own rules, the sync table and Graph; the binding to write.
pub async fn validate<S>(
    store: &S,
    graph: &GraphClient,
    new: &NewBinding,
) -> Result<Binding, BindingError>
where
    S: BindingLookup + BindingList,
{
    let binding = new.binding();
    check_own(&binding)?;
    if store.find_binding(&binding.id).await?.is_some() {
        return Err(BindingError::IdTaken(binding.id));
    }
    for other in store.all_bindings().await? {
        if other.local_list_id == binding.local_list_id {
            return Err(BindingError::LocalListBound {
                list: binding.local_list_id,
                by: other.id,
            });
        }
        if other.remote == binding.remote
            && other.remote_container_id == binding.remote_container_id
        {
            return Err(BindingError::ContainerBound {
                container: container_text(&binding),
                by: other.id,
            });
        }
    }
    check_container(graph, &binding).await?;
    Ok(binding)
}

/// The id becomes part of item keys (`binding#{id}`), the zone must be one Graph accepts.
fn check_own(binding: &Binding) -> Result<(), BindingError> {
    let fine = |text: &str| {
        !text.is_empty()
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    if !fine(&binding.id) {
        return Err(BindingError::Invalid(format!(
            "binding id {:?} must be letters, digits, '-', '_' or '.'",
            binding.id
        )));
    }
    if binding.local_list_id.trim().is_empty() || binding.local_list_id.contains('#') {
        return Err(BindingError::Invalid(format!(
            "local list {:?} must be non-empty and without '#'",
            binding.local_list_id
        )));
    }
    CalendarZone::parse(&binding.time_zone).map_err(|_| {
        BindingError::Invalid(format!(
            "time zone {:?} is neither an IANA nor a Windows zone name",
            binding.time_zone
        ))
    })?;
    Ok(())
}

/// One read of the container under the app's token.
async fn check_container(graph: &GraphClient, binding: &Binding) -> Result<(), BindingError> {
    let what = format!("reading {}", container_text(binding));
    match binding.remote {
        RemoteKind::Todo => match graph.todo().list_lists(&binding.user_id).await {
            Ok(lists) if lists.iter().any(|l| l.id == binding.remote_container_id) => Ok(()),
            Ok(_) => Err(BindingError::ContainerNotFound(format!(
                "user {:?} has no To Do list {:?} (tasksync discover --user {} lists the ids)",
                binding.user_id, binding.remote_container_id, binding.user_id
            ))),
            Err(GraphError::NotFound) => Err(BindingError::ContainerNotFound(format!(
                "there is no user {:?} in the tenant (give the user's id or user principal name)",
                binding.user_id
            ))),
            Err(e) => Err(BindingError::graph(what, e)),
        },
        RemoteKind::Planner => match graph
            .planner()
            .list_plan_tasks(&binding.remote_container_id)
            .await
        {
            Ok(_) => Ok(()),
            // Planner answers 400 for an id that cannot be a plan id (§2).
            Err(GraphError::NotFound | GraphError::BadRequest { .. }) => {
                Err(BindingError::ContainerNotFound(format!(
                    "there is no plan {:?} the app can see (tasksync discover lists the plans)",
                    binding.remote_container_id
                )))
            }
            Err(e) => Err(BindingError::graph(what, e)),
        },
    }
}
