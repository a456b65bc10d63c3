//! The client-credentials token endpoint (docs/graph-behaviour.md §6) and the bearer check on Graph
//! routes.

use graph_emulator::EmulatorConfig;
use serde_json::Value;

use crate::helpers::{Emu, reply};

/// The form with `key` replaced by `value` (or removed when `None`).
fn with(
    form: &[(&'static str, String)],
    key: &'static str,
    value: Option<&str>,
) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> =
        form.iter().filter(|(k, _)| *k != key).cloned().collect();
    if let Some(v) = value {
        out.push((key, v.to_owned()));
    }
    out
}

fn assert_aad_error(json: &Value, error: &str, code: u64) {
    assert_eq!(json["error"], error, "{json}");
    assert_eq!(json["error_codes"][0], code, "{json}");
    let description = json["error_description"].as_str().unwrap_or_default();
    assert!(
        description.starts_with(&format!("AADSTS{code}:")),
        "{description}"
    );
    assert!(json["trace_id"].is_string() && json["correlation_id"].is_string());
}

#[tokio::test]
async fn client_credentials_success_has_the_documented_shape() {
    let emu = Emu::start(EmulatorConfig {
        token_lifetime: std::time::Duration::from_secs(1234),
        ..EmulatorConfig::default()
    })
    .await;
    let r = emu
        .token_request(&emu.running.token_url, &emu.token_form())
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["token_type"], "Bearer");
    assert_eq!(r.json["expires_in"], 1234);
    assert_eq!(r.json["ext_expires_in"], 1234);
    assert!(!r.json["access_token"].as_str().unwrap().is_empty());
    assert!(
        r.json.get("refresh_token").is_none(),
        "§6.1: no refresh token"
    );
    assert!(r.header("cache-control").unwrap().contains("no-store"));
    assert_eq!(r.header("pragma").as_deref(), Some("no-cache"));

    // The issued token works on Graph.
    let emu2 = Emu {
        token: r.json["access_token"].as_str().unwrap().to_owned(),
        ..emu
    };
    let plan = emu2.new_plan().await;
    assert_eq!(
        emu2.get(&format!("/planner/plans/{plan}")).await.status,
        200
    );
}

#[tokio::test]
async fn http_basic_client_authentication_is_accepted() {
    let emu = Emu::default().await;
    let c = emu.config();
    let form = vec![
        ("scope", "https://graph.microsoft.com/.default".to_owned()),
        ("grant_type", "client_credentials".to_owned()),
    ];
    let response = emu
        .http
        .post(&emu.running.token_url)
        .basic_auth(&c.client_id, Some(&c.client_secret))
        .form(&form)
        .send()
        .await
        .unwrap();
    let r = reply(response).await;
    assert_eq!(r.status, 200, "{}", r.json);
}

#[tokio::test]
async fn wrong_secret_is_invalid_client_401_without_echoing_the_secret() {
    let emu = Emu::default().await;
    let form = with(
        &emu.token_form(),
        "client_secret",
        Some("not-the-secret-value"),
    );
    let r = emu.token_request(&emu.running.token_url, &form).await;
    assert_eq!(r.status, 401);
    assert_aad_error(&r.json, "invalid_client", 7000215);
    assert!(!r.json.to_string().contains("not-the-secret-value"));
    assert!(!r.json.to_string().contains(&emu.config().client_secret));
    assert!(r.header("cache-control").unwrap().contains("no-store"));
}

#[tokio::test]
async fn each_documented_token_error() {
    let emu = Emu::default().await;
    let form = emu.token_form();

    let r = emu
        .token_request(
            &emu.running.token_url,
            &with(
                &form,
                "client_id",
                Some("11111111-2222-3333-4444-555555555555"),
            ),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_aad_error(&r.json, "unauthorized_client", 700016);

    let other_tenant = emu.running.token_url.replace(
        &emu.config().tenant_id,
        "00000000-0000-0000-0000-000000000000",
    );
    let r = emu.token_request(&other_tenant, &form).await;
    assert_eq!(r.status, 400);
    assert_aad_error(&r.json, "invalid_request", 90002);

    let r = emu
        .token_request(
            &emu.running.token_url,
            &with(
                &form,
                "scope",
                Some("https://graph.microsoft.com/Tasks.ReadWrite"),
            ),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_aad_error(&r.json, "invalid_scope", 70011);

    let r = emu
        .token_request(
            &emu.running.token_url,
            &with(&form, "grant_type", Some("password")),
        )
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json["error"], "unsupported_grant_type");

    let r = emu
        .token_request(&emu.running.token_url, &with(&form, "client_secret", None))
        .await;
    assert_eq!(r.status, 400);
    assert_aad_error(&r.json, "invalid_client", 7000218);

    // Every attempt is counted, failed or not.
    assert_eq!(emu.counters().await["token_requests"], 1 + 5);
}

#[tokio::test]
async fn graph_without_a_valid_token_is_401_invalid_authentication_token() {
    let emu = Emu::default().await;
    let url = emu.graph_url("/planner/plans/AAAAAAAAAAAAAAAAAAAAAAAAAAAA");

    let r = reply(emu.http.get(&url).send().await.unwrap()).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json["error"]["code"], "InvalidAuthenticationToken");
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));

    let r = reply(
        emu.http
            .get(&url)
            .bearer_auth("forged")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json["error"]["code"], "InvalidAuthenticationToken");

    // Counted under the route, with its status.
    assert_eq!(emu.count("GET /planner/plans/{plan_id}", 401).await, 2);
}

#[tokio::test]
async fn tokens_expire_on_the_emulator_clock() {
    let emu = Emu::start(EmulatorConfig {
        token_lifetime: std::time::Duration::from_secs(600),
        ..EmulatorConfig::default()
    })
    .await;
    let plan = emu.new_plan().await;
    let path = format!("/planner/plans/{plan}");
    assert_eq!(emu.get(&path).await.status, 200);

    emu.advance_clock(599).await;
    assert_eq!(
        emu.get(&path).await.status,
        200,
        "still valid one second before expiry"
    );

    emu.advance_clock(2).await;
    let r = emu.get(&path).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json["error"]["code"], "InvalidAuthenticationToken");

    let fresh = Emu {
        token: emu.fresh_token().await,
        ..emu
    };
    assert_eq!(fresh.get(&path).await.status, 200);
}
