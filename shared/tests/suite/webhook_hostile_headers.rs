//! Headers anyone can send to a public webhook, through the Lambda main's real entry
//! (`handle_event`: the API Gateway event as Lambda delivers it, converted and handled): a `Host`
//! such as `a b`, `[` or `h:99999`, or `X-Forwarded-Proto: http,https`, panicked `lambda_http`'s
//! conversion. Whatever the headers, path, query and body, the answer is a documented status,
//! and a real notification behind hostile headers is still accepted.
// Test code: a failed unwrap is a failed test (clippy.toml allows these only inside #[test] fns).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use base64::Engine;
use lambda_http::aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use proptest::prelude::*;
use serde_json::{Value, json};
use tasksync::webhook::handle_event;

use crate::webhook_support::*;

const DOCUMENTED: &[i64] = &[200, 202, 400, 404, 405, 413, 500, 503];

const HOSTILE_HOSTS: &[&str] = &[
    "a b",
    "[",
    "h:99999",
    "h:-1",
    "u@h",
    "h/x",
    "h?x",
    "h#x",
    "",
    ":",
    "[::1",
    "ä.example",
    "h:80:80",
    "%",
    "h\t",
];
const HOSTILE_PROTOS: &[&str] = &["http,https", "", "1http", "h t t p", "https:", "ftp", "%"];

fn run(event: ApiGatewayV2httpRequest, deps: &Deps) -> ApiGatewayV2httpResponse {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(handle_event(event, None, deps))
}

/// The SAM fixture with headers, path, query and body replaced; `None` when the headers are not
/// ones an HTTP server could have received (API Gateway would not deliver them).
fn event_with(
    headers: &[(String, String)],
    path: &str,
    query: &str,
    body: &[u8],
) -> Option<ApiGatewayV2httpRequest> {
    let mut event: Value = serde_json::from_str(&fixture("event-post-notifications.json")).unwrap();
    let map = event["headers"].as_object_mut().unwrap();
    for (name, value) in headers {
        map.insert(name.to_ascii_lowercase(), json!(value));
    }
    event["rawPath"] = json!(path);
    event["rawQueryString"] = json!(query);
    event["requestContext"]["http"]["path"] = json!(path);
    event["body"] = json!(base64::engine::general_purpose::STANDARD.encode(body));
    event["isBase64Encoded"] = json!(true);
    serde_json::from_value(event).ok()
}

fn real_body() -> Vec<u8> {
    collection(vec![change(SUB, SECRET, TENANT, "T-1")])
        .to_string()
        .into_bytes()
}

#[test]
fn the_headers_that_panicked_the_conversion_get_an_answer() {
    for host in HOSTILE_HOSTS {
        for proto in ["https", "http,https"] {
            let deps = deps();
            let headers = vec![
                ("host".to_owned(), (*host).to_owned()),
                ("x-forwarded-proto".to_owned(), proto.to_owned()),
            ];
            let Some(event) = event_with(&headers, "/notifications", "", &real_body()) else {
                continue;
            };
            let answer = run(event, &deps);
            assert_eq!(
                answer.status_code, 202,
                "Host {host:?}, X-Forwarded-Proto {proto:?}: the notification is still taken"
            );
            assert_eq!(deps.queue().all_hints(), vec![task_hint("T-1")]);
        }
    }
}

#[test]
fn an_unusable_query_is_a_400_not_a_panic() {
    let deps = deps();
    let event = event_with(&[], "/notifications", "a b", &real_body()).unwrap();
    let answer = run(event, &deps);
    assert_eq!(answer.status_code, 400);
    assert!(deps.queue().all_hints().is_empty());
}

fn header_value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(HOSTILE_HOSTS.to_vec()).prop_map(str::to_owned),
        prop::sample::select(HOSTILE_PROTOS.to_vec()).prop_map(str::to_owned),
        "[ -~]{0,24}",
        "\\PC{0,8}",
    ]
}

fn header_name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("host".to_owned()),
        Just("x-forwarded-proto".to_owned()),
        Just("x-forwarded-for".to_owned()),
        Just("content-type".to_owned()),
        Just("cookie".to_owned()),
        "[a-z0-9-]{1,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn no_header_path_query_or_body_panics_the_request_path(
        headers in prop::collection::vec((header_name(), header_value()), 0..6),
        path in prop_oneof![Just("/notifications".to_owned()), Just("/lifecycle".to_owned()), "/[ -~]{0,16}", "[ -~]{0,8}"],
        query in prop_oneof![Just(String::new()), "[ -~]{0,16}"],
        body in prop_oneof![Just(real_body()), prop::collection::vec(any::<u8>(), 0..64)],
    ) {
        let deps = deps();
        if let Some(event) = event_with(&headers, &path, &query, &body) {
            let answer = run(event, &deps);
            prop_assert!(DOCUMENTED.contains(&answer.status_code), "status {}", answer.status_code);
        }
    }

    #[test]
    fn hostile_host_and_proto_never_cost_a_real_notification(
        host in header_value(),
        proto in header_value(),
    ) {
        let deps = deps();
        let headers = vec![("host".to_owned(), host), ("x-forwarded-proto".to_owned(), proto)];
        if let Some(event) = event_with(&headers, "/notifications", "", &real_body()) {
            let answer = run(event, &deps);
            prop_assert_eq!(answer.status_code, 202);
            prop_assert_eq!(deps.queue().all_hints(), vec![task_hint("T-1")]);
        }
    }
}

#[test]
fn a_batch_of_thousands_of_notifications_is_taken_whole() {
    let deps = deps();
    let items: Vec<Value> = (0..4000)
        .map(|i| {
            change(
                SUB,
                SECRET,
                TENANT,
                &format!("AAMkADI5MWYxLWE3ZjQtNGQ1NS04NmM3LTEwODk4-{i:05}"),
            )
        })
        .collect();
    let body = collection(items).to_string().into_bytes();
    assert!(
        body.len() > 1024 * 1024,
        "{} bytes: more than the old 1 MiB cap",
        body.len()
    );
    let event = event_with(&[], "/notifications", "", &body).unwrap();
    let answer = run(event, &deps);
    assert_eq!(answer.status_code, 202);
    assert_eq!(deps.queue().all_hints().len(), 4000);
}
