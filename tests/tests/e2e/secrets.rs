//! The Graph client secret comes from Secrets Manager in AWS: read through the real SDK against
//! moto, and a failure names the secret's ARN but never a value.

use tasksync::config::SecretSource;
use tasksync::secrets::{SecretError, graph_client_secret};

#[tokio::test]
async fn reads_the_secret_value_from_secrets_manager() {
    let server = testkit::moto::moto().await.expect("moto");
    let config = testkit::aws::sdk_config(server.endpoint());
    let client = aws_sdk_secretsmanager::Client::new(&config);
    let name = format!("graph-secret-{}", uuid_like());
    let created = client
        .create_secret()
        .name(&name)
        .secret_string("the-real-secret-value\n")
        .send()
        .await
        .expect("secret created");
    let arn = created.arn().expect("arn").to_owned();

    let secret = graph_client_secret(&SecretSource::SecretsManager(arn.clone()), &config)
        .await
        .expect("secret read");
    assert_eq!(secret.expose(), "the-real-secret-value");
    assert!(!format!("{secret:?}").contains("real-secret"));

    let missing = format!("{arn}-missing");
    let err = graph_client_secret(&SecretSource::SecretsManager(missing.clone()), &config)
        .await
        .expect_err("no such secret");
    assert!(matches!(err, SecretError::Unreadable { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&missing), "{message}");
    assert!(!message.contains("real-secret"), "{message}");
}

#[tokio::test]
async fn an_inline_secret_needs_no_aws_call() {
    // An SDK config pointing nowhere: any call would fail, so success proves none was made.
    let config = testkit::aws::sdk_config("http://127.0.0.1:9");
    let secret = graph_client_secret(&SecretSource::Inline("local-secret".to_owned()), &config)
        .await
        .expect("inline secret");
    assert_eq!(secret.expose(), "local-secret");
}

fn uuid_like() -> String {
    format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    )
}
