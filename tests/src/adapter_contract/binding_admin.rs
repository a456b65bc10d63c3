//! The operator's binding ports: a create that never overwrites, the flags set on their own and
//! only on an existing binding, and the leftovers a removed binding is found and deleted by.

use tasksync::ports::{BindingCreate, BindingFlags, BindingLeftovers, MappingStore, SyncItemKey};

use super::*;

/// BindingCreate, BindingFlags and BindingLeftovers on a fresh store.
pub async fn binding_admin_contract(
    store: &(
         impl BindingLookup
         + BindingSave
         + BindingCreate
         + BindingFlags
         + BindingLeftovers
         + MappingStore
         + SubscriptionSave
     ),
) {
    let mut binding = Binding::todo("b1", "list-a", "user-1", "todo-1");
    binding.first_sync_pending = true;
    store.create_binding(&binding).await.unwrap();
    assert_eq!(
        store.find_binding("b1").await.unwrap(),
        Some(binding.clone())
    );
    let again = Binding::planner("b1", "list-b", "plan-1");
    assert!(matches!(
        store.create_binding(&again).await,
        Err(StoreError::ConditionFailed(_))
    ));
    assert_eq!(
        store.find_binding("b1").await.unwrap(),
        Some(binding.clone())
    );

    // The flags, each on its own; an absent binding is left absent.
    let t1 = at(1_800_000_000, 0);
    let t2 = at(1_800_000_060, 0);
    assert!(store.set_binding_paused("b1", Some(t1)).await.unwrap());
    assert!(store.note_hint_while_paused("b1", t2).await.unwrap());
    let paused = store.find_binding("b1").await.unwrap().unwrap();
    assert_eq!(
        (paused.paused_at, paused.hint_while_paused_at),
        (Some(t1), Some(t2))
    );
    assert_eq!(paused.local_list_id, "list-a");
    assert!(store.set_binding_paused("b1", None).await.unwrap());
    assert!(store.complete_first_sync("b1", t2).await.unwrap());
    let done = store.find_binding("b1").await.unwrap().unwrap();
    assert_eq!(
        done,
        Binding {
            first_sync_pending: false,
            first_sync_completed_at: Some(t2),
            ..binding.clone()
        }
    );
    assert!(!store.set_binding_paused("nobody", Some(t1)).await.unwrap());
    assert!(!store.note_hint_while_paused("nobody", t1).await.unwrap());
    assert!(!store.complete_first_sync("nobody", t1).await.unwrap());
    assert_eq!(store.find_binding("nobody").await.unwrap(), None);

    // Leftovers: both mapping items of a pair and the subscription record, not another
    // binding's items, not the binding item itself.
    let mut m = tasksync::sync::Mapping::claim("b1", "list-a", "t1", RemoteKind::Todo, t1);
    m.remote_id = Some("r1".to_owned());
    store.save_mapping(&m, None, None).await.unwrap();
    let mut other = tasksync::sync::Mapping::claim("b2", "list-b", "t2", RemoteKind::Todo, t1);
    other.remote_id = Some("r2".to_owned());
    store.save_mapping(&other, None, None).await.unwrap();
    store
        .save_subscription(&SubscriptionRecord {
            id: "s1".to_owned(),
            binding_id: "b1".to_owned(),
            client_state: "secret".to_owned(),
            tenant_id: "t".to_owned(),
            expires_at: t2,
        })
        .await
        .unwrap();
    let mut left = store.items_of_binding("b1").await.unwrap();
    left.sort();
    let key = |pk: &str, sk: &str| SyncItemKey {
        pk: pk.to_owned(),
        sk: sk.to_owned(),
    };
    assert_eq!(
        left,
        [
            key("local#list-a#t1", "mapping"),
            key("remote#todo#r1", "mapping"),
            key("subscription#s1", "subscription"),
        ]
    );
    for k in &left {
        store.delete_sync_item(k).await.unwrap();
    }
    assert!(store.items_of_binding("b1").await.unwrap().is_empty());
    assert_eq!(store.mapping_by_local("list-a", "t1").await.unwrap(), None);
    assert!(
        store
            .mapping_by_local("list-b", "t2")
            .await
            .unwrap()
            .is_some()
    );
    store.delete_binding("b1").await.unwrap();
    store.delete_binding("b1").await.unwrap();
    assert_eq!(store.find_binding("b1").await.unwrap(), None);
}
