//! `tasksync bindings list` and `show`: the bindings as the sync table holds them, with what
//! an operator asks first (which list with which container, its policies, whether its first
//! sync completed, whether it is paused) and, for one binding, what tasksync keeps for it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::BindingError;
use crate::model::Binding;
use crate::ports::{BindingLeftovers, BindingList, BindingLookup};
use crate::store::item::remote_kind_text;

/// One binding, flat, for a table row or a JSON object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BindingView {
    pub id: String,
    pub local_list_id: String,
    pub remote: &'static str,
    pub user_id: String,
    pub remote_container_id: String,
    pub direction: &'static str,
    pub conflict_policy: &'static str,
    pub import_completed: bool,
    pub time_zone: String,
    /// `pending` or `completed`, or `-` for a binding written without `bindings add`.
    pub first_sync: &'static str,
    pub first_sync_completed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub paused_at: Option<chrono::DateTime<chrono::Utc>>,
    pub hint_while_paused_at: Option<chrono::DateTime<chrono::Utc>>,
    pub breaker_open_until: Option<chrono::DateTime<chrono::Utc>>,
}

impl BindingView {
    pub fn of(b: &Binding) -> Self {
        Self {
            id: b.id.clone(),
            local_list_id: b.local_list_id.clone(),
            remote: remote_kind_text(b.remote),
            user_id: b.user_id.clone(),
            remote_container_id: b.remote_container_id.clone(),
            direction: b.direction.as_str(),
            conflict_policy: b.conflict_policy.as_str(),
            import_completed: b.import_completed,
            time_zone: b.time_zone.clone(),
            first_sync: match (b.first_sync_pending, b.first_sync_completed_at) {
                (true, _) => "pending",
                (false, Some(_)) => "completed",
                (false, None) => "-",
            },
            first_sync_completed_at: b.first_sync_completed_at,
            paused_at: b.paused_at,
            hint_while_paused_at: b.hint_while_paused_at,
            breaker_open_until: b.breaker.as_ref().and_then(|x| x.open_until),
        }
    }
}

/// Every binding, in id order.
pub async fn list<S: BindingList>(store: &S) -> Result<Vec<BindingView>, BindingError> {
    let mut all: Vec<BindingView> = store
        .all_bindings()
        .await?
        .iter()
        .map(BindingView::of)
        .collect();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(all)
}

/// One binding and the sync-table items that name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BindingDetail {
    #[serde(flatten)]
    pub binding: BindingView,
    /// Items naming the binding, by item type (`mapping` counts both items of each pair).
    pub items: BTreeMap<String, usize>,
}

pub async fn show<S>(store: &S, binding_id: &str) -> Result<BindingDetail, BindingError>
where
    S: BindingLookup + BindingLeftovers,
{
    let Some(binding) = store.find_binding(binding_id).await? else {
        return Err(BindingError::NoSuchBinding(binding_id.to_owned()));
    };
    let mut items = BTreeMap::new();
    for key in store.items_of_binding(binding_id).await? {
        *items.entry(key.sk).or_insert(0) += 1;
    }
    Ok(BindingDetail {
        binding: BindingView::of(&binding),
        items,
    })
}
