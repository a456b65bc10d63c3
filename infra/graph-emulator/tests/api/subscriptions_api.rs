//! Subscriptions over HTTP (docs/graph-behaviour.md §1.1–§1.5, §1.9): the real validation
//! handshake, lifetime rules, duplicates, list/get/renew/reauthorize/delete, and expiry by the
//! emulator clock.

use std::time::Duration;

use chrono::{DateTime, Utc};
use graph_emulator::EmulatorConfig;
use serde_json::{Value, json};

use crate::helpers::{Env, Handshake, Receiver, Reply};

fn body(env: &Env, receiver: &Receiver, list: &str, expiry: DateTime<Utc>) -> Value {
    json!({
        "changeType": "created,updated,deleted",
        "notificationUrl": receiver.url("/notify?tenant=contoso"),
        "resource": format!("users/{}/todo/lists/{list}/tasks", env.user),
        "expirationDateTime": expiry.to_rfc3339(),
        "clientState": "s3cret-state",
    })
}

/// Posts the standard subscription body for a lifetime of `lifetime` from now.
async fn subscribe_for(
    env: &Env,
    receiver: &Receiver,
    list: &str,
    lifetime: chrono::Duration,
) -> Reply {
    env.post(
        "/subscriptions",
        body(env, receiver, list, Utc::now() + lifetime),
    )
    .await
}

fn parse(text: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text.as_str().unwrap())
        .unwrap()
        .with_timezone(&Utc)
}

#[tokio::test]
async fn create_runs_the_handshake_and_answers_201() {
    let env = Env::default().await;
    let receiver = Receiver::start().await;
    let list = env.new_list("Subscribed").await;
    let expiry = Utc::now() + chrono::Duration::hours(48);
    let mut request = body(&env, &receiver, &list, expiry);
    request["lifecycleNotificationUrl"] = json!(receiver.url("/lifecycle"));
    let r = env.post("/subscriptions", request).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["clientState"], "s3cret-state");
    assert_eq!(
        r.json["applicationId"],
        env.emu.state.config.client_id.as_str()
    );
    assert_eq!(r.json["changeType"], "created,updated,deleted");
    assert_eq!(r.json["notificationContentType"], "application/json");
    assert!(
        r.json["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#subscriptions/$entity")
    );
    assert!(uuid::Uuid::parse_str(r.json["id"].as_str().unwrap()).is_ok());
    assert!(r.json["creatorId"].is_string());
    let granted = parse(&r.json["expirationDateTime"]);
    assert!((granted - expiry).num_seconds().abs() <= 1);

    // Both URLs were validated, with a token that needed decoding, as text/plain.
    let records = receiver.records();
    let validations: Vec<_> = records
        .iter()
        .filter(|r| r.validation_token.is_some())
        .collect();
    assert_eq!(validations.len(), 2);
    assert_eq!(validations[0].path, "/notify");
    assert_eq!(validations[1].path, "/lifecycle");
    let token = validations[0].validation_token.as_deref().unwrap();
    assert!(token.contains(' ') && token.contains(':'), "{token}");
    assert!(validations[0].content_type.starts_with("text/plain"));
}

#[tokio::test]
async fn failed_handshakes_answer_400_and_create_nothing() {
    let env = Env::start(EmulatorConfig {
        validation_timeout: Duration::from_millis(300),
        ..Default::default()
    })
    .await;
    let receiver = Receiver::start().await;
    let list = env.new_list("L").await;
    let expiry = Utc::now() + chrono::Duration::hours(2);
    for mode in [
        Handshake::EchoEncoded,
        Handshake::WrongContentType,
        Handshake::Hang,
    ] {
        receiver.set_handshake(mode);
        let r = env
            .post("/subscriptions", body(&env, &receiver, &list, expiry))
            .await;
        assert_eq!(r.status, 400, "{mode:?}: {}", r.json);
        assert_eq!(r.json["error"]["code"], "ValidationError", "{mode:?}");
        assert!(
            r.json["error"]["message"]
                .as_str()
                .unwrap()
                .contains("validation request failed")
        );
    }
    // Nobody listening at all.
    let mut unreachable = body(&env, &receiver, &list, expiry);
    unreachable["notificationUrl"] = json!("http://127.0.0.1:9/notify");
    assert_eq!(env.post("/subscriptions", unreachable).await.status, 400);

    let r = env
        .control(reqwest::Method::GET, "/subscriptions", None)
        .await;
    assert_eq!(r.json["value"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn lifetime_rules_clientstate_and_urls() {
    let env = Env::default().await;
    let receiver = Receiver::start().await;
    let list = env.new_list("L").await;

    let too_long = Utc::now() + chrono::Duration::minutes(4231);
    let r = env
        .post("/subscriptions", body(&env, &receiver, &list, too_long))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json["error"]["code"], "ExtensionError");
    assert_eq!(
        r.json["error"]["message"],
        "Subscription expiration can only be 4230 minutes in the future."
    );

    let short = Utc::now() + chrono::Duration::minutes(5);
    let r = env
        .post("/subscriptions", body(&env, &receiver, &list, short))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let granted = parse(&r.json["expirationDateTime"]);
    let raised = granted - Utc::now();
    assert!(
        raised > chrono::Duration::minutes(44) && raised <= chrono::Duration::minutes(45),
        "{raised}"
    );

    let other = env.new_list("Other").await;
    let mut long_state = body(&env, &receiver, &other, short);
    long_state["clientState"] = json!("x".repeat(129));
    assert_eq!(env.post("/subscriptions", long_state).await.status, 400);

    let mut plain_http = body(&env, &receiver, &other, short);
    plain_http["notificationUrl"] = json!("http://example.com/notify");
    assert_eq!(env.post("/subscriptions", plain_http).await.status, 400);

    let mut me = body(&env, &receiver, &other, short);
    me["resource"] = json!(format!("/me/todo/lists/{other}/tasks"));
    assert_eq!(env.post("/subscriptions", me).await.status, 400);

    let mut unknown_list = body(&env, &receiver, &other, short);
    unknown_list["resource"] = json!(format!("/users/{}/todo/lists/AAMkAGnope/tasks", env.user));
    assert_eq!(env.post("/subscriptions", unknown_list).await.status, 404);
}

#[tokio::test]
async fn duplicate_combination_is_409() {
    let env = Env::default().await;
    let receiver = Receiver::start().await;
    let list = env.new_list("L").await;
    let expiry = Utc::now() + chrono::Duration::hours(2);
    let first = env
        .post("/subscriptions", body(&env, &receiver, &list, expiry))
        .await;
    assert_eq!(first.status, 201);
    // Same change types in another order, resource with a leading slash and upper-case user.
    let mut again = body(&env, &receiver, &list, expiry);
    again["changeType"] = json!("deleted,created,updated");
    again["resource"] = json!(format!(
        "/users/{}/todo/lists/{list}/tasks",
        env.user.to_uppercase()
    ));
    let r = env.post("/subscriptions", again).await;
    assert_eq!(r.status, 409, "{}", r.json);
    let id = first.json["id"].as_str().unwrap();
    assert_eq!(
        r.json["error"]["message"],
        format!("Subscription Id {id} already exists for the requested combination")
    );
    // Another change type set is a different combination.
    let mut updated_only = body(&env, &receiver, &list, expiry);
    updated_only["changeType"] = json!("updated");
    assert_eq!(env.post("/subscriptions", updated_only).await.status, 201);
}

#[tokio::test]
async fn list_get_renew_reauthorize_delete() {
    let env = Env::default().await;
    let receiver = Receiver::start().await;
    let list = env.new_list("L").await;
    let created = subscribe_for(&env, &receiver, &list, chrono::Duration::hours(2)).await;
    let id = created.json["id"].as_str().unwrap().to_owned();

    let listed = env.get("/subscriptions").await;
    assert_eq!(listed.status, 200);
    assert!(
        listed.json["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("$metadata#subscriptions")
    );
    let entry = &listed.json["value"][0];
    assert_eq!(entry["id"], id.as_str());
    assert_eq!(entry["clientState"], Value::Null);
    // The control API shows it, for tests.
    let control = env
        .control(reqwest::Method::GET, "/subscriptions", None)
        .await;
    assert_eq!(control.json["value"][0]["clientState"], "s3cret-state");

    let got = env.get(&format!("/subscriptions/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json["resource"], created.json["resource"]);

    let new_expiry = Utc::now() + chrono::Duration::hours(60);
    let renewed = env
        .patch(
            &format!("/subscriptions/{id}"),
            json!({"expirationDateTime": new_expiry.to_rfc3339()}),
        )
        .await;
    assert_eq!(renewed.status, 200, "{}", renewed.json);
    assert!(
        (parse(&renewed.json["expirationDateTime"]) - new_expiry)
            .num_seconds()
            .abs()
            <= 1
    );
    let too_far = env
        .patch(
            &format!("/subscriptions/{id}"),
            json!({"expirationDateTime": (Utc::now() + chrono::Duration::days(4)).to_rfc3339()}),
        )
        .await;
    assert_eq!(too_far.status, 400);
    let not_updatable = env
        .patch(&format!("/subscriptions/{id}"), json!({"clientState": "x"}))
        .await;
    assert_eq!(not_updatable.status, 400);

    // A new notificationUrl is validated again; a bad one is refused and the old one kept.
    let before = receiver.records().len();
    let moved = env
        .patch(
            &format!("/subscriptions/{id}"),
            json!({"notificationUrl": receiver.url("/moved")}),
        )
        .await;
    assert_eq!(moved.status, 200, "{}", moved.json);
    assert_eq!(moved.json["notificationUrl"], receiver.url("/moved"));
    let records = receiver.records();
    assert_eq!(records.len(), before + 1);
    assert_eq!(records[before].path, "/moved");
    receiver.set_handshake(Handshake::EchoEncoded);
    let refused = env
        .patch(
            &format!("/subscriptions/{id}"),
            json!({"notificationUrl": receiver.url("/elsewhere")}),
        )
        .await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        env.get(&format!("/subscriptions/{id}")).await.json["notificationUrl"],
        receiver.url("/moved")
    );

    let reauthorized = env
        .post(&format!("/subscriptions/{id}/reauthorize"), json!({}))
        .await;
    assert_eq!(reauthorized.status, 204);

    assert_eq!(
        env.delete(&format!("/subscriptions/{id}")).await.status,
        204
    );
    assert_eq!(env.get(&format!("/subscriptions/{id}")).await.status, 404);
    assert_eq!(
        env.patch(
            &format!("/subscriptions/{id}"),
            json!({"expirationDateTime": new_expiry.to_rfc3339()})
        )
        .await
        .status,
        404
    );
    assert_eq!(
        env.post(&format!("/subscriptions/{id}/reauthorize"), json!({}))
            .await
            .status,
        404
    );
    assert_eq!(
        env.delete(&format!("/subscriptions/{id}")).await.status,
        404
    );
}

#[tokio::test]
async fn expired_subscriptions_are_gone() {
    let env = Env::default().await;
    let receiver = Receiver::start().await;
    let list = env.new_list("L").await;
    let created = subscribe_for(&env, &receiver, &list, chrono::Duration::minutes(50)).await;
    let id = created.json["id"].as_str().unwrap().to_owned();
    env.advance_clock(51 * 60).await;
    assert_eq!(env.get(&format!("/subscriptions/{id}")).await.status, 404);
    let renew = env
        .patch(
            &format!("/subscriptions/{id}"),
            json!({"expirationDateTime": (Utc::now() + chrono::Duration::hours(3)).to_rfc3339()}),
        )
        .await;
    assert_eq!(renew.status, 404);
    assert_eq!(
        env.get("/subscriptions").await.json["value"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    // The same combination can be subscribed again.
    let again = subscribe_for(&env, &receiver, &list, chrono::Duration::hours(3)).await;
    assert_eq!(again.status, 201, "{}", again.json);
}
