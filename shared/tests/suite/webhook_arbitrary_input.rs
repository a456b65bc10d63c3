//! The whole webhook handler (not only the parser) on arbitrary input: random bytes as the body,
//! random JSON built around real items, random paths, methods and query strings, all wrapped in
//! a real API Gateway HTTP API event and run through `handle_request`. Whatever comes in, the
//! answer is one of the documented statuses, consistent with what the parser says about the
//! body, and nothing unauthentic reaches the queue. (A panic fails the property test; a
//! `cargo fuzz` target would need a nightly toolchain, which the project does not use.)
// Test code: a failed unwrap is a failed test (clippy.toml allows these only inside #[test] fns).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine;
use proptest::prelude::*;
use serde_json::{Value, json};
use tasksync::notification::parse_collection;
use tasksync::webhook::{HandledRequest, handle_request};

use crate::webhook_support::*;

fn run(request: lambda_http::Request, deps: &Deps) -> HandledRequest {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(handle_request(request, deps))
}

/// An API Gateway event (from the SAM fixture) with every request part replaced.
fn event_with(method: &str, path: &str, query: &str, body: &[u8]) -> lambda_http::Request {
    let mut event: Value = serde_json::from_str(&fixture("event-post-notifications.json")).unwrap();
    let params: serde_json::Map<String, Value> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(k, v)| (k.into_owned(), Value::from(v.into_owned())))
        .collect();
    event["rawPath"] = json!(path);
    event["rawQueryString"] = json!(query);
    event["queryStringParameters"] = if params.is_empty() {
        Value::Null
    } else {
        Value::Object(params)
    };
    event["requestContext"]["http"]["method"] = json!(method);
    event["requestContext"]["http"]["path"] = json!(path);
    event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
    event["isBase64Encoded"] = json!(true);
    lambda_http::request::from_str(&event.to_string()).unwrap()
}

/// The statuses docs/webhook.md lists; anything else is a defect.
const DOCUMENTED: &[u16] = &[200, 202, 400, 404, 405, 413, 500, 503];

fn item_strategy() -> impl Strategy<Value = Value> {
    let real = change(SUB, SECRET, TENANT, FIXTURE_TASK);
    let field = prop::sample::select(NOTIFICATION_FIELDS.to_vec());
    let replacement = prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::from),
        ".{0,24}".prop_map(Value::from),
        prop::sample::select(vec![
            SUB, SECRET, TENANT, "missed", "created", "deleted", "", "/", "a/b", "T?x",
        ])
        .prop_map(Value::from),
        Just(json!({"id": "T-1"})),
        Just(json!({"id": 7})),
        Just(json!([])),
    ];
    prop::collection::vec((field, prop::option::of(replacement)), 0..4).prop_map(move |mutations| {
        let mut item = real.clone();
        if let Some(map) = item.as_object_mut() {
            for (name, value) in mutations {
                match value {
                    Some(v) => map.insert(name.to_owned(), v),
                    None => map.remove(name),
                };
            }
        }
        item
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random bytes POSTed to a real endpoint: 400 exactly when the parser refuses the body,
    /// otherwise 202, and never a hint (no random body carries the secret).
    #[test]
    fn arbitrary_bodies_get_a_documented_answer_and_enqueue_nothing(
        body in prop::collection::vec(any::<u8>(), 0..1024),
        lifecycle in any::<bool>(),
    ) {
        let deps = deps();
        let path = if lifecycle { "/lifecycle" } else { "/notifications" };
        let handled = run(event_with("POST", path, "", &body), &deps);
        let status = handled.response.status().as_u16();
        let expected = if parse_collection(&body).is_ok() { 202 } else { 400 };
        prop_assert_eq!(status, expected);
        prop_assert!(deps.queue().calls().is_empty());
        prop_assert_eq!(handled.counts.accepted, 0);
    }

    /// Collections of mutated real items: always 202; every item is counted once as accepted or
    /// rejected; what reaches the queue is exactly the distinct hints of accepted items, all for
    /// the one real binding.
    #[test]
    fn mutated_collections_are_counted_and_only_believed_items_are_enqueued(
        items in prop::collection::vec(item_strategy(), 0..12),
        junk in prop::collection::vec(any::<u8>(), 0..3),
    ) {
        let deps = deps();
        let mut values = items.clone();
        // Some non-object items next to the real-shaped ones.
        values.extend(junk.into_iter().map(Value::from));
        let body = collection(values.clone()).to_string();
        let handled = run(event_with("POST", "/notifications", "", body.as_bytes()), &deps);
        prop_assert_eq!(handled.response.status().as_u16(), 202);
        let counts = &handled.counts;
        prop_assert_eq!(counts.received, values.len() as u64);
        prop_assert_eq!(counts.accepted + counts.rejected_total(), counts.received);
        let hints = deps.queue().all_hints();
        prop_assert_eq!(hints.len() as u64, counts.hints_enqueued);
        prop_assert!(counts.hints_enqueued <= counts.accepted);
        prop_assert!(deps.queue().calls().len() <= 1, "one send_hints call at most");
        for hint in &hints {
            let encoded = tasksync::queue_message::encode(hint);
            prop_assert!(encoded.contains(BINDING), "{}", encoded);
            prop_assert!(!encoded.contains(SECRET), "no secret in a hint");
        }
        let mut distinct = hints.iter().map(|h| format!("{h:?}")).collect::<Vec<_>>();
        distinct.sort();
        distinct.dedup();
        prop_assert_eq!(distinct.len(), hints.len(), "no duplicate hint within one request");
    }

    /// Random methods, paths and query strings (form-encoded as API Gateway passes them): a
    /// documented status; a 200 is only ever the handshake echoing the decoded token as plain
    /// text with nosniff.
    #[test]
    fn arbitrary_requests_get_documented_answers(
        method in prop::sample::select(vec!["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]),
        path in prop_oneof![
            prop::sample::select(vec!["/notifications", "/lifecycle", "/notifications/", "/", "/prod/notifications", "/x"]).prop_map(str::to_owned),
            "/[a-zA-Z0-9/._~-]{0,30}",
        ],
        token in prop::option::of(".{0,64}"),
        other in prop::option::of(("[a-z]{1,8}", ".{0,16}")),
        body in prop::collection::vec(any::<u8>(), 0..128),
    ) {
        let deps = deps();
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        if let Some((name, value)) = &other {
            query.append_pair(name, value);
        }
        if let Some(token) = &token {
            query.append_pair("validationToken", token);
        }
        let query = query.finish();
        let handled = run(event_with(method, &path, &query, &body), &deps);
        let response = &handled.response;
        let status = response.status().as_u16();
        prop_assert!(DOCUMENTED.contains(&status), "status {}", status);
        prop_assert!(deps.queue().calls().is_empty());
        if status == 200 {
            let token = token.clone().unwrap_or_default();
            prop_assert_eq!(body_text(response), token);
            prop_assert_eq!(header(response, "content-type"), Some("text/plain"));
            prop_assert_eq!(header(response, "x-content-type-options"), Some("nosniff"));
        }
    }
}
