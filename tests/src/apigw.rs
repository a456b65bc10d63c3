//! API Gateway HTTP API (payload 2.0) events as Lambda hands them to `lambda_http`, for the
//! benchmarks that feed the webhook an event rather than an HTTP request.

use serde_json::{Value, json};

/// A `POST /notifications` event with this route key, these headers and this body (not base64).
pub fn notification_post_event(route_key: &str, headers: Value, body: &str) -> String {
    json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": "/notifications",
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012", "apiId": "api", "domainName": "api.example",
            "domainPrefix": "api",
            "http": {"method": "POST", "path": "/notifications", "protocol": "HTTP/1.1",
                     "sourceIp": "203.0.113.1", "userAgent": "Microsoft-Graph"},
            "requestId": "req", "routeKey": route_key, "stage": "$default",
            "time": "12/Mar/2020:19:03:58 +0000", "timeEpoch": 1583348638390i64
        },
        "body": body,
        "isBase64Encoded": false
    })
    .to_string()
}
