//! Subscription operations against the emulator, with a loopback webhook that answers the
//! validation handshake (docs/graph-behaviour.md §1.3).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;

use crate::graph_support::Env;
use axum::Router;
use axum::extract::Query;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use chrono::{Duration, Utc};
use tasksync::graph::GraphError;
use tasksync::graph::models::NewSubscription;

/// Answers validation with the decoded token, and notifications with 202.
async fn receiver() -> String {
    async fn notify(Query(q): Query<HashMap<String, String>>) -> impl IntoResponse {
        match q.get("validationToken") {
            Some(token) => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "text/plain")],
                token.clone(),
            )
                .into_response(),
            None => StatusCode::ACCEPTED.into_response(),
        }
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/notify", post(notify))
        .route("/lifecycle", post(notify));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

#[tokio::test]
async fn subscription_lifecycle() {
    let env = Env::default().await;
    let client = env.client();
    let hook = receiver().await;
    let list = env.new_todo_list(&client, "Subscribed").await;
    let secret_state = "client-state-secret-123";
    let new = NewSubscription::todo_tasks(
        &env.user(),
        &list,
        format!("{hook}/notify"),
        format!("{hook}/lifecycle"),
        Utc::now() + Duration::minutes(600),
        secret_state,
    );
    assert!(!format!("{new:?}").contains(secret_state));
    let subs = client.subscriptions();
    let created = subs.create(&new).await.unwrap();
    assert!(!created.id.is_empty());
    assert!(!format!("{created:?}").contains(secret_state));

    // Same resource and change type again: 409.
    let duplicate = subs.create(&new).await;
    assert!(
        matches!(duplicate, Err(GraphError::Conflict { status: 409 })),
        "{duplicate:?}"
    );

    let listed = subs.list().await.unwrap();
    let mine = listed.iter().find(|s| s.id == created.id).expect("listed");
    assert_eq!(mine.client_state, None, "list never returns clientState");

    let later = Utc::now() + Duration::minutes(4000);
    let renewed = subs.renew(&created.id, later).await.unwrap();
    assert!(
        (renewed.expiration_date_time - later).num_seconds().abs() < 2,
        "{:?}",
        renewed.expiration_date_time
    );
    let got = subs.get(&created.id).await.unwrap();
    assert_eq!(got.expiration_date_time, renewed.expiration_date_time);

    subs.reauthorize(&created.id).await.unwrap();
    subs.delete(&created.id).await.unwrap();
    assert!(matches!(
        subs.get(&created.id).await,
        Err(GraphError::NotFound)
    ));
    assert!(matches!(
        subs.renew(&created.id, later).await,
        Err(GraphError::NotFound)
    ));
}

#[tokio::test]
async fn a_failed_handshake_is_a_bad_request() {
    let env = Env::default().await;
    let client = env.client();
    let list = env.new_todo_list(&client, "Unreachable").await;
    // Nothing listens there: validation fails and no subscription is made (§1.2).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let new = NewSubscription::todo_tasks(
        &env.user(),
        &list,
        format!("{dead}/notify"),
        format!("{dead}/lifecycle"),
        Utc::now() + Duration::minutes(600),
        "s",
    );
    let err = client.subscriptions().create(&new).await.unwrap_err();
    assert!(matches!(err, GraphError::BadRequest { .. }), "{err:?}");
    assert!(client.subscriptions().list().await.unwrap().is_empty());
}
