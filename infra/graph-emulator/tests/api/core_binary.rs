//! The `graph-emulator` binary: flags and environment, the one announcement line on stdout, and a
//! clean exit on SIGTERM.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

#[tokio::test]
async fn announces_itself_serves_tokens_and_exits_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_graph-emulator"))
        .args(["--listen", "127.0.0.1:0", "--client-id", "flag-client"])
        .env("GRAPH_EMULATOR_TENANT_ID", "env-tenant")
        .env("GRAPH_EMULATOR_TOKEN_LIFETIME_SECS", "120")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(20), stdout.read_line(&mut line))
        .await
        .expect("announcement within 20 s")
        .unwrap();
    let announcement: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(announcement["tenant_id"], "env-tenant");
    assert_eq!(announcement["client_id"], "flag-client");
    let base = announcement["graph_base_url"].as_str().unwrap();
    assert!(
        base.starts_with("http://127.0.0.1:") && base.ends_with("/v1.0"),
        "{base}"
    );
    let token_url = announcement["token_url"].as_str().unwrap();
    assert!(token_url.ends_with("/env-tenant/oauth2/v2.0/token"));
    for key in ["client_secret", "user_id", "group_id"] {
        assert!(
            announcement[key].as_str().is_some_and(|v| !v.is_empty()),
            "{key}"
        );
    }

    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let form = [
        ("client_id", "flag-client"),
        (
            "client_secret",
            announcement["client_secret"].as_str().unwrap(),
        ),
        ("scope", "https://graph.microsoft.com/.default"),
        ("grant_type", "client_credentials"),
    ];
    let token: Value = http
        .post(token_url)
        .form(&form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(token["expires_in"], 120);

    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("exits within 20 s of SIGTERM")
        .unwrap();
    assert!(status.success(), "{status:?}");
    // Nothing but the announcement on stdout.
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).await.unwrap();
    assert_eq!(rest, "");
}
