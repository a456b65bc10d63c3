//! The sync store's bindings and subscriptions.

use super::*;

fn sample_subscription(id: &str, binding_id: &str) -> SubscriptionRecord {
    SubscriptionRecord {
        id: id.to_owned(),
        binding_id: binding_id.to_owned(),
        client_state: "s3cr3t-client-state".to_owned(),
        tenant_id: "tenant-1".to_owned(),
        expires_at: at(1_763_900_000, 500_000_000),
    }
}

/// Binding and subscription ports: round trips, absence, overwrite, no collision between item
/// types, and invalid items (without leaking the client state into the reason).
pub async fn sync_store_contract(
    store: &(impl BindingLookup + BindingSave + SubscriptionLookup + SubscriptionSave),
    raw: &impl RawItemWrite,
) {
    assert_eq!(store.find_binding("b1").await.unwrap(), None);
    assert_eq!(store.find_subscription("s1").await.unwrap(), None);

    let todo = sample_binding("b1", RemoteKind::Todo);
    let planner = sample_binding("b2", RemoteKind::Planner);
    store.save_binding(&todo).await.unwrap();
    store.save_binding(&planner).await.unwrap();
    assert_eq!(store.find_binding("b1").await.unwrap(), Some(todo.clone()));
    assert_eq!(store.find_binding("b2").await.unwrap(), Some(planner));

    let moved = Binding {
        remote_container_id: "another-list".to_owned(),
        ..todo
    };
    store.save_binding(&moved).await.unwrap();
    assert_eq!(store.find_binding("b1").await.unwrap(), Some(moved));

    // A subscription whose id equals a binding id is a different item.
    assert_eq!(store.find_subscription("b1").await.unwrap(), None);
    let subscription = sample_subscription("b1", "b1");
    store.save_subscription(&subscription).await.unwrap();
    assert_eq!(
        store.find_subscription("b1").await.unwrap(),
        Some(subscription.clone())
    );
    assert_eq!(store.find_binding("b1").await.unwrap().unwrap().id, "b1");

    let renewed = SubscriptionRecord {
        expires_at: at(1_764_000_000, 0),
        ..subscription
    };
    store.save_subscription(&renewed).await.unwrap();
    assert_eq!(store.find_subscription("b1").await.unwrap(), Some(renewed));

    // Invalid items.
    raw.put_raw_sync_item(HashMap::from([
        ("pk".to_owned(), text("binding#bad")),
        ("sk".to_owned(), text("binding")),
        ("id".to_owned(), text("bad")),
        ("local_list_id".to_owned(), text("l")),
        ("remote".to_owned(), text("outlook")),
        ("user_id".to_owned(), text("")),
        ("remote_container_id".to_owned(), text("c")),
    ]))
    .await;
    assert_invalid(store.find_binding("bad").await, "remote");

    raw.put_raw_sync_item(HashMap::from([
        ("pk".to_owned(), text("subscription#bad")),
        ("sk".to_owned(), text("subscription")),
        ("id".to_owned(), text("bad")),
        ("binding_id".to_owned(), text("b1")),
        ("client_state".to_owned(), text("never-in-a-message")),
        ("tenant_id".to_owned(), text("t")),
        ("expires_at".to_owned(), text("soon")),
    ]))
    .await;
    let err = store.find_subscription("bad").await.unwrap_err();
    assert!(!err.to_string().contains("never-in-a-message"), "{err}");
    assert_invalid(Err::<(), _>(err), "expires_at");
}
