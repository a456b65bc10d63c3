//! The notification parser against real-shaped payloads (docs/graph-behaviour.md §1.6, §1.8) and, by property
//! tests, against arbitrary bytes and mutated notifications: it must never panic, must tolerate
//! unknown fields, and must refuse an item that lacks a required field.
// Test code: a failed unwrap is a failed test (clippy.toml allows these only inside #[test] fns).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use tasksync::notification::{
    ChangeType, CollectionError, ItemError, LifecycleEvent, Notification, parse_collection,
    parse_item,
};

use crate::webhook_support::NOTIFICATION_FIELDS as FIELDS;

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/webhook/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn only_item(name: &str) -> Notification {
    let collection = parse_collection(&fixture(name)).unwrap();
    assert_eq!(collection.len(), 1);
    collection.items.into_iter().next().unwrap().unwrap()
}

#[test]
fn parses_a_todo_change_notification() {
    let Notification::Change(change) = only_item("todo-change-single.json") else {
        panic!("expected a change notification");
    };
    assert_eq!(
        change.envelope.subscription_id,
        "7f105c7d-2dc5-4530-97cd-4e7ae6534c07"
    );
    assert_eq!(
        change.envelope.tenant_id,
        "84bd8158-6d4d-4958-8b9f-9d6445542f95"
    );
    assert_eq!(change.change_type, ChangeType::Updated);
    assert!(
        change
            .envelope
            .client_state
            .as_ref()
            .unwrap()
            .matches("e1f6a4a0c3b34c3d9d8a7c1b2e3f4a5b-tasksync")
    );
    assert_eq!(
        change.envelope.subscription_expiration.to_rfc3339(),
        "2026-11-24T10:12:09.952+00:00"
    );
    assert_eq!(
        change.todo_task_id().as_deref(),
        Some("AAMkADI5MWYxLWE3ZjQtNGQ1NS04NmM3LTEwODk4BGAAAA==")
    );
    let shown = format!("{change:?}");
    assert!(
        !shown.contains("e1f6a4a0c3b34c3d9d8a7c1b2e3f4a5b"),
        "Debug leaks the clientState: {shown}"
    );
}

#[test]
fn falls_back_to_the_resource_path_and_reads_seven_digit_fractions() {
    let Notification::Change(change) = only_item("todo-change-without-resource-data.json") else {
        panic!("expected a change notification");
    };
    assert_eq!(change.change_type, ChangeType::Deleted);
    assert_eq!(change.resource_data_id, None);
    assert_eq!(
        change.todo_task_id().as_deref(),
        Some("AAMkADI5MWYxLWE3ZjQtNGQ1NS04NmM3LTEwODk4BHAAAA==")
    );
}

#[test]
fn parses_lifecycle_events_in_order() {
    let collection = parse_collection(&fixture("lifecycle-events.json")).unwrap();
    let events: Vec<LifecycleEvent> = collection
        .items
        .into_iter()
        .map(|item| match item.unwrap() {
            Notification::Lifecycle(l) => l.event,
            other => panic!("expected lifecycle, got {other:?}"),
        })
        .collect();
    assert_eq!(
        events,
        [
            LifecycleEvent::ReauthorizationRequired,
            LifecycleEvent::SubscriptionRemoved,
            LifecycleEvent::Missed
        ]
    );
}

#[test]
fn parses_the_documentation_example_verbatim() {
    let Notification::Change(change) = only_item("outlook-message-docs-example.json") else {
        panic!("expected a change notification");
    };
    assert_eq!(change.change_type, ChangeType::Created);
    assert_eq!(change.resource, "users/{u}@{t}/messages/{id}");
}

#[test]
fn tolerates_rich_notification_fields_and_future_values() {
    let Notification::Change(change) = only_item("rich-notification-extra-fields.json") else {
        panic!("expected a change notification");
    };
    assert_eq!(change.change_type, ChangeType::Unknown);
    assert_eq!(change.todo_task_id().as_deref(), Some("T1"));
    assert_eq!(
        change.envelope.subscription_expiration.to_rfc3339(),
        "2026-11-24T17:12:09+00:00"
    );
}

#[test]
fn judges_items_one_by_one() {
    let collection = parse_collection(&fixture("mixed-valid-and-malformed-items.json")).unwrap();
    let results: Vec<Result<(), ItemError>> = collection
        .items
        .into_iter()
        .map(|r| r.map(|_| ()))
        .collect();
    assert_eq!(
        results,
        vec![
            Ok(()),
            Err(ItemError::NotAnObject),
            Err(ItemError::MissingField("subscriptionId")),
            Err(ItemError::BothKinds),
            Err(ItemError::InvalidField("subscriptionExpirationDateTime")),
            Err(ItemError::InvalidField("subscriptionId")),
        ]
    );
}

#[test]
fn refuses_bodies_that_are_not_collections() {
    let refused: [(&[u8], CollectionError); 6] = [
        (b"", CollectionError::NotJson),
        (b"{", CollectionError::NotJson),
        (b"\"x\"", CollectionError::NotAnObject),
        (b"{}", CollectionError::MissingValue),
        (b"{\"value\":null}", CollectionError::MissingValue),
        (b"{\"value\":\"x\"}", CollectionError::ValueNotArray),
    ];
    for (body, error) in refused {
        assert_eq!(
            parse_collection(body).unwrap_err(),
            error,
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    assert!(parse_collection(b"{\"value\":[]}").unwrap().is_empty());
}

#[test]
fn item_kind_and_required_fields_are_strict() {
    let base = valid_change();
    let mut neither = base.clone();
    neither.as_object_mut().unwrap().remove("changeType");
    assert_eq!(parse_item(&neither), Err(ItemError::NeitherKind));

    let mut no_resource = base.clone();
    no_resource.as_object_mut().unwrap().remove("resource");
    assert_eq!(
        parse_item(&no_resource),
        Err(ItemError::MissingField("resource"))
    );

    let mut empty_tenant = base.clone();
    empty_tenant["tenantId"] = json!("");
    assert_eq!(
        parse_item(&empty_tenant),
        Err(ItemError::MissingField("tenantId"))
    );

    let mut bad_data = base.clone();
    bad_data["resourceData"] = json!({"id": "a/b"});
    assert_eq!(
        parse_item(&bad_data),
        Err(ItemError::InvalidField("resourceData.id"))
    );

    let mut numeric_state = base;
    numeric_state["clientState"] = json!(7);
    assert_eq!(
        parse_item(&numeric_state),
        Err(ItemError::InvalidField("clientState"))
    );
}

// ---------------------------------------------------------------- properties

fn valid_change() -> Value {
    json!({
        "subscriptionId": "sub-1",
        "subscriptionExpirationDateTime": "2026-11-24T10:12:09.952Z",
        "clientState": "secret",
        "changeType": "updated",
        "resource": "Users/u/todo/Lists/L/Tasks/T",
        "tenantId": "tenant",
        "resourceData": {"id": "T"}
    })
}

fn valid_lifecycle() -> Value {
    json!({
        "subscriptionId": "sub-1",
        "subscriptionExpirationDateTime": "2026-11-24T10:12:09.952Z",
        "clientState": "secret",
        "lifecycleEvent": "reauthorizationRequired",
        "tenantId": "tenant"
    })
}

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,20}".prop_map(Value::from),
        prop::sample::select(vec![
            "created",
            "updated",
            "deleted",
            "missed",
            "subscriptionRemoved",
            "2026-11-24T10:12:09Z",
            "Users/u/todo/Lists/L/Tasks/T",
            "",
            "/",
        ])
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::hash_map(
                prop_oneof![
                    prop::sample::select(FIELDS.to_vec()).prop_map(str::to_owned),
                    ".{0,8}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

#[derive(Debug, Clone)]
enum Mutation {
    Remove(&'static str),
    Replace(&'static str, Value),
    Add(String, Value),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let field = prop::sample::select(FIELDS.to_vec());
    prop_oneof![
        field.clone().prop_map(Mutation::Remove),
        (field, any_json()).prop_map(|(f, v)| Mutation::Replace(f, v)),
        ("[a-zA-Z@.]{1,12}", any_json()).prop_map(|(f, v)| Mutation::Add(f, v)),
    ]
}

fn apply(item: &mut Value, mutations: &[Mutation]) {
    let Some(map) = item.as_object_mut() else {
        return;
    };
    for m in mutations {
        match m {
            Mutation::Remove(f) => {
                map.remove(*f);
            }
            Mutation::Replace(f, v) => {
                map.insert((*f).to_owned(), v.clone());
            }
            Mutation::Add(f, v) => {
                map.insert(f.clone(), v.clone());
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_collection(&bytes);
    }

    #[test]
    fn never_panics_on_arbitrary_json(value in any_json()) {
        let _ = parse_collection(value.to_string().as_bytes());
        let _ = parse_collection(json!({"value": [value.clone()]}).to_string().as_bytes());
        let _ = parse_item(&value);
    }

    /// Mutated real notifications: whatever comes out, an accepted item holds what the handler
    /// relies on.
    #[test]
    fn mutated_items_parse_to_sound_values_or_item_errors(
        lifecycle in any::<bool>(),
        mutations in prop::collection::vec(mutation(), 0..5),
        good_neighbour in any::<bool>(),
    ) {
        let mut item = if lifecycle { valid_lifecycle() } else { valid_change() };
        apply(&mut item, &mutations);
        let mut items = vec![item];
        if good_neighbour {
            items.push(valid_change());
        }
        let body = json!({"value": items}).to_string();
        let collection = parse_collection(body.as_bytes()).unwrap();
        prop_assert_eq!(collection.len(), items.len());
        if good_neighbour {
            // One bad item never costs the other its delivery.
            prop_assert!(collection.items[1].is_ok());
        }
        if let Ok(notification) = &collection.items[0] {
            let envelope = notification.envelope();
            prop_assert!(!envelope.subscription_id.is_empty());
            prop_assert!(!envelope.tenant_id.is_empty());
            if let Notification::Change(change) = notification {
                prop_assert!(!change.resource.is_empty());
                if let Some(id) = change.todo_task_id() {
                    prop_assert!(tasksync::notification::valid_id(&id).is_some());
                }
            }
        }
    }

    /// Unknown fields never turn a good item into an error.
    #[test]
    fn unknown_fields_are_ignored(
        extra in prop::collection::vec(("[a-z]{1,3}[A-Z0-9@.]{0,8}", any_json()), 0..6)
    ) {
        let mut item = valid_change();
        let map = item.as_object_mut().unwrap();
        for (name, value) in extra {
            if !FIELDS.contains(&name.as_str()) {
                map.insert(name, value);
            }
        }
        prop_assert!(parse_item(&item).is_ok());
    }

    /// Removing any required field is always an error naming it.
    #[test]
    fn missing_required_fields_are_refused(
        field in prop::sample::select(vec!["subscriptionId", "subscriptionExpirationDateTime", "tenantId", "resource"])
    ) {
        let mut item = valid_change();
        item.as_object_mut().unwrap().remove(field);
        prop_assert_eq!(parse_item(&item), Err(ItemError::MissingField(field)));
    }
}
