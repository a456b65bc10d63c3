//! The few responses the webhook gives. Bodies are short plain text: enough for a person with
//! curl to see what was wrong, nothing about which authenticity check an item failed.

use http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Response};

/// Builds a response from parts that cannot be invalid (static header values), so unlike
/// `http::response::Builder` there is no error path to handle on an input path.
fn respond(
    status: StatusCode,
    body: Body,
    headers: &[(header::HeaderName, &'static str)],
) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    for (name, value) in headers {
        response
            .headers_mut()
            .insert(name.clone(), HeaderValue::from_static(value));
    }
    response
}

fn text(status: StatusCode, message: impl Into<String>) -> Response<Body> {
    respond(
        status,
        Body::Text(message.into()),
        &[
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
    )
}

/// The validation handshake answer (docs/graph-behaviour.md §1.3): 200, `text/plain`, the decoded
/// token as is. `nosniff` keeps a browser from reading a crafted token as HTML.
pub fn validation(token: String) -> Response<Body> {
    respond(
        StatusCode::OK,
        Body::Text(token),
        &[
            (header::CONTENT_TYPE, "text/plain"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
    )
}

/// Every accepted or silently dropped notification request ends here.
pub fn accepted() -> Response<Body> {
    respond(StatusCode::ACCEPTED, Body::Empty, &[])
}

pub fn bad_request(reason: impl Into<String>) -> Response<Body> {
    text(StatusCode::BAD_REQUEST, reason)
}

pub fn not_found() -> Response<Body> {
    text(StatusCode::NOT_FOUND, "not found")
}

pub fn method_not_allowed(allow: &'static str) -> Response<Body> {
    let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

pub fn payload_too_large(limit: usize) -> Response<Body> {
    text(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("body larger than {limit} bytes"),
    )
}

/// Nothing was enqueued, through no fault of the sender: Graph retries on 5xx (§1.7), and the
/// retry's duplicates are harmless because queue messages are hints.
pub fn unavailable() -> Response<Body> {
    text(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily unavailable, retry",
    )
}

/// Like `unavailable`, but the cause needs an operator (misconfigured queue or table); Graph
/// still retries for up to 4 hours, which is the time an operator has.
pub fn internal_error() -> Response<Body> {
    text(StatusCode::INTERNAL_SERVER_ERROR, "internal error, retry")
}
