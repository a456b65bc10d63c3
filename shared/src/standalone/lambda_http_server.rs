//! Serves a `lambda_http` handler over plain HTTP on loopback, for the local run and the tests,
//! so that the Graph emulator's validation handshake and notification delivery reach the real
//! webhook handler over a real socket.
//!
//! Each request is turned into the JSON event an API Gateway HTTP API (payload 2.0) would send
//! and parsed by `lambda_http`'s own deserialiser, so the handler sees exactly what it sees in
//! Lambda (decoded query parameters in the request extensions, raw path, request context).

use std::future::Future;
use std::net::SocketAddr;

use axum::body::Body as AxumBody;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// API Gateway HTTP APIs accept payloads of up to 10 MB; the handler enforces its own lower limit.
const MAX_BODY_BYTES: usize = 10 * 1024 * 1024;

/// A running local server; aborts when dropped.
pub struct LocalHttpServer {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl LocalHttpServer {
    /// `http://127.0.0.1:PORT` without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for LocalHttpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts serving `handler` on `listen` (e.g. `127.0.0.1:0`), with API Gateway's body limit.
pub async fn serve<H, Fut>(listen: &str, handler: H) -> std::io::Result<LocalHttpServer>
where
    H: Fn(lambda_http::Request) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = lambda_http::Response<lambda_http::Body>> + Send + 'static,
{
    serve_with_body_limit(listen, MAX_BODY_BYTES, handler).await
}

/// [`serve`], answering 413 to bodies over `max_body_bytes` without building the event.
///
/// Building the API Gateway event copies the body into JSON and parses it back, which took
/// 1.9 s for a 9.9 MB body; a handler that refuses large bodies anyway (the webhook does, with
/// 413) passes its own limit here, so such a body costs nothing.
pub async fn serve_with_body_limit<H, Fut>(
    listen: &str,
    max_body_bytes: usize,
    handler: H,
) -> std::io::Result<LocalHttpServer>
where
    H: Fn(lambda_http::Request) -> Fut + Clone + Send + Sync + 'static,
    Fut: Future<Output = lambda_http::Response<lambda_http::Body>> + Send + 'static,
{
    let max_body_bytes = max_body_bytes.min(MAX_BODY_BYTES);
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let app = axum::Router::new()
        .fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: bytes::Bytes| {
                let handler = handler.clone();
                async move {
                    if body.len() > max_body_bytes {
                        return (
                            StatusCode::PAYLOAD_TOO_LARGE,
                            format!("body larger than {max_body_bytes} bytes"),
                        )
                            .into_response();
                    }
                    match to_lambda_request(&method, &uri, &headers, &body) {
                        Ok(request) => from_lambda_response(handler(request).await),
                        Err(reason) => (StatusCode::BAD_REQUEST, reason).into_response(),
                    }
                }
            },
        )
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES));
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "local HTTP server stopped");
        }
    });
    Ok(LocalHttpServer { addr, task })
}

/// Builds the API Gateway HTTP API (2.0) event for a request and parses it with `lambda_http`.
pub fn to_lambda_request(
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<lambda_http::Request, String> {
    let raw_query = uri.query().unwrap_or("");
    // API Gateway hands the handler decoded query parameters; repeated names are comma-joined.
    let mut query = serde_json::Map::new();
    for (name, value) in url::form_urlencoded::parse(raw_query.as_bytes()) {
        let entry = query
            .entry(name.into_owned())
            .or_insert_with(|| serde_json::Value::String(String::new()));
        if let serde_json::Value::String(existing) = entry {
            if !existing.is_empty() {
                existing.push(',');
            }
            existing.push_str(&value);
        }
    }
    let mut header_map = serde_json::Map::new();
    for (name, value) in headers {
        if let Ok(v) = value.to_str() {
            header_map.insert(name.as_str().to_owned(), serde_json::Value::from(v));
        }
    }
    let (body_value, is_base64) = match std::str::from_utf8(body) {
        _ if body.is_empty() => (serde_json::Value::Null, false),
        Ok(text) => (serde_json::Value::from(text), false),
        Err(_) => (
            serde_json::Value::from(base64::engine::general_purpose::STANDARD.encode(body)),
            true,
        ),
    };
    let request_id = uuid::Uuid::new_v4().to_string();
    let event = serde_json::json!({
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": uri.path(),
        "rawQueryString": raw_query,
        "headers": header_map,
        "queryStringParameters": if query.is_empty() { serde_json::Value::Null } else { serde_json::Value::Object(query) },
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "http": {
                "method": method.as_str(),
                "path": uri.path(),
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": headers.get("user-agent").and_then(|v| v.to_str().ok()).unwrap_or("")
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": chrono::Utc::now().format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
            "timeEpoch": chrono::Utc::now().timestamp_millis()
        },
        "body": body_value,
        "isBase64Encoded": is_base64
    });
    let event = serde_json::from_value(event).map_err(|e| format!("cannot build event: {e}"))?;
    crate::webhook::lambda_event::into_request(event).map_err(|e| e.to_string())
}

fn from_lambda_response(response: lambda_http::Response<lambda_http::Body>) -> Response {
    let (parts, body) = response.into_parts();
    let bytes = match body {
        lambda_http::Body::Empty => Vec::new(),
        lambda_http::Body::Text(text) => text.into_bytes(),
        lambda_http::Body::Binary(bytes) => bytes,
        _ => Vec::new(),
    };
    Response::from_parts(parts, AxumBody::from(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::RequestExt;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn a_body_over_the_limit_is_refused_before_the_event_is_built() {
        let calls = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&calls);
        let server = serve_with_body_limit("127.0.0.1:0", 1024 * 1024, move |_request| {
            counted.fetch_add(1, Ordering::SeqCst);
            async { lambda_http::Response::new(lambda_http::Body::Empty) }
        })
        .await
        .unwrap();
        let http = reqwest::Client::new();
        let url = format!("{}/notifications", server.base_url());
        let large = vec![b'x'; 9_900_000];
        let response = http.post(&url).body(large).send().await.unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(calls.load(Ordering::SeqCst), 0, "the handler never saw it");
        let small = http.post(&url).body("{}").send().await.unwrap();
        assert_eq!(small.status(), reqwest::StatusCode::OK);
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn query_parameters_arrive_decoded_as_api_gateway_sends_them() {
        let uri: Uri = "/notifications?validationToken=a%20b%2Bc%3Ad"
            .parse()
            .unwrap();
        let req = to_lambda_request(&Method::POST, &uri, &HeaderMap::new(), b"").unwrap();
        assert_eq!(
            req.query_string_parameters().first("validationToken"),
            Some("a b+c:d")
        );
        assert_eq!(req.uri().path(), "/notifications");
        assert_eq!(req.method(), Method::POST);
    }

    #[test]
    fn text_and_binary_bodies_survive() {
        let uri: Uri = "/x".parse().unwrap();
        let req = to_lambda_request(&Method::POST, &uri, &HeaderMap::new(), b"{\"a\":1}").unwrap();
        assert_eq!(req.body().as_ref(), b"{\"a\":1}");
        let req = to_lambda_request(&Method::POST, &uri, &HeaderMap::new(), &[0xff, 0x00]).unwrap();
        assert_eq!(req.body().as_ref(), &[0xff, 0x00]);
    }
}
