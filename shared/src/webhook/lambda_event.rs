//! The API Gateway HTTP API event (payload 2.0) turned into the handler's request, without ever
//! panicking.
//!
//! `lambda_http` builds the request's URI from the `Host` header (or the request context's domain
//! name), `X-Forwarded-Proto` and the path, and unwraps the parse: a `Host` of `a b`, `[` or
//! `h:99999`, or `X-Forwarded-Proto: http,https`, panics the conversion (in Lambda, a 500 before
//! the handler runs; on the local adapter, a dropped connection). Anyone can send those headers
//! to a public webhook. So the event is checked first: a `Host` that is not a plain host and port
//! and an `X-Forwarded-Proto` other than `http`/`https` are dropped (nothing here needs them: the
//! handler routes on the path), and a request whose URI still would not build gets a 400. Only
//! then is `lambda_http`'s own conversion used, so the handler sees what it always saw.

use lambda_http::aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use lambda_http::request::LambdaRequest;
use lambda_http::{Body, Context, Request, RequestExt, Response};

use super::{WebhookDeps, handle, now_ms, response};
use crate::ports::{HintSend, SubscriptionLookup};

const FORWARDED_PROTO: &str = "x-forwarded-proto";

/// Handles one API Gateway event, what the Lambda main receives: converted without panicking
/// whatever its headers, handled by [`handle`], answered in API Gateway's shape. `context` is the
/// invocation's, for the request id in the logs.
pub async fn handle_event<S: SubscriptionLookup, Q: HintSend>(
    event: ApiGatewayV2httpRequest,
    context: Option<Context>,
    deps: &WebhookDeps<S, Q>,
) -> ApiGatewayV2httpResponse {
    let response = match into_request(event) {
        Ok(request) => {
            let request = match context {
                Some(context) => request.with_lambda_context(context),
                None => request,
            };
            handle(request, deps).await
        }
        Err(reason) => {
            deps.metrics.emit_answered(400, now_ms());
            refused(&reason)
        }
    };
    into_event_response(response)
}

/// Why an event cannot become a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the request's path or query cannot form a URI: {0}")]
pub struct UnusableRequest(String);

/// Drops the headers `lambda_http`'s conversion cannot survive and checks that the URI it will
/// build parses.
pub fn sanitize(event: &mut ApiGatewayV2httpRequest) -> Result<(), UnusableRequest> {
    if let Some(proto) = event.headers.get(FORWARDED_PROTO)
        && !matches!(proto.to_str(), Ok("http" | "https"))
    {
        event.headers.remove(FORWARDED_PROTO);
    }
    if let Some(host) = event.headers.get(http::header::HOST)
        && !host.to_str().is_ok_and(plain_authority)
    {
        event.headers.remove(http::header::HOST);
    }
    if event
        .request_context
        .domain_name
        .as_deref()
        .is_some_and(|d| !plain_authority(d))
    {
        event.request_context.domain_name = None;
    }
    built_uri(event).map(|_| ())
}

/// The event as the handler's request, or why it cannot be one.
pub fn into_request(mut event: ApiGatewayV2httpRequest) -> Result<Request, UnusableRequest> {
    sanitize(&mut event)?;
    Ok(LambdaRequest::ApiGatewayV2(event).into())
}

/// The handler's response as API Gateway's payload 2.0 answer (what `lambda_http` sends).
pub fn into_event_response(response: Response<Body>) -> ApiGatewayV2httpResponse {
    let (parts, body) = response.into_parts();
    let mut answer = ApiGatewayV2httpResponse::default();
    answer.status_code = i64::from(parts.status.as_u16());
    answer.headers = parts.headers;
    answer.is_base64_encoded = matches!(body, Body::Binary(_));
    answer.body = match body {
        Body::Empty => None,
        other => Some(other),
    };
    answer
}

/// The answer to an event that cannot become a request.
pub fn refused(reason: &UnusableRequest) -> Response<Body> {
    tracing::info!(status = 400, reason = %reason, "request refused before conversion");
    response::bad_request("malformed request URI")
}

/// A host with an optional port, as a `Host` header must be (RFC 9110 §7.2): no user info, no
/// path, a port that fits in 16 bits, and a name the URL parser takes.
fn plain_authority(value: &str) -> bool {
    let Ok(authority) = value.parse::<http::uri::Authority>() else {
        return false;
    };
    if value.contains('@') || authority.host().is_empty() {
        return false;
    }
    if let Some(port) = value.rsplit_once(':').map(|(_, p)| p)
        && !authority.host().ends_with(']')
        && authority.port().is_none()
        && !port.is_empty()
    {
        return false;
    }
    url::Url::parse(&format!("https://{value}/"))
        .is_ok_and(|u| u.path() == "/" && u.query().is_none() && u.username().is_empty())
}

/// The URI `lambda_http` will build from the event (its `build_request_uri` and stage rule), as
/// it builds it, so a request that passes here converts.
fn built_uri(event: &ApiGatewayV2httpRequest) -> Result<http::Uri, UnusableRequest> {
    let raw_path = event.raw_path.as_deref().unwrap_or_default();
    let path = path_with_stage(event.request_context.stage.as_deref(), raw_path);
    let host = event
        .headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or(event.request_context.domain_name.as_deref());
    let mut uri = match host {
        None => url::Url::parse(&format!("http://localhost{path}"))
            .map(|u| u.path().to_owned())
            .map_err(|e| UnusableRequest(e.to_string()))?,
        Some(host) => {
            let scheme = event
                .headers
                .get(FORWARDED_PROTO)
                .and_then(|s| s.to_str().ok())
                .unwrap_or("https");
            url::Url::parse(&format!("{scheme}://{host}{path}"))
                .map(|u| u.to_string())
                .map_err(|e| UnusableRequest(e.to_string()))?
        }
    };
    if let Some(query) = event.raw_query_string.as_deref()
        && !query.is_empty()
    {
        uri.push('?');
        uri.push_str(query);
    }
    http::Uri::try_from(uri).map_err(|e| UnusableRequest(e.to_string()))
}

/// `lambda_http`'s rule: a named stage (not `$default`) is put in front of the path unless it is
/// already there, or unless `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is set.
fn path_with_stage(stage: Option<&str>, path: &str) -> String {
    if std::env::var_os("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH").is_some() {
        return path.to_owned();
    }
    match stage {
        None | Some("$default") => path.to_owned(),
        Some(stage) if path.starts_with(&format!("/{stage}/")) => path.to_owned(),
        Some(stage) => format!("/{stage}{path}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_is_a_host_and_a_port() {
        for good in [
            "example.com",
            "h:443",
            "127.0.0.1:8080",
            "[::1]:3000",
            "[::1]",
        ] {
            assert!(plain_authority(good), "{good}");
        }
        for bad in ["a b", "[", "h:99999", "u@h", "h/x", "", ":80", "h:x"] {
            assert!(!plain_authority(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_stage_rule_is_lambda_https() {
        assert_eq!(path_with_stage(None, "/n"), "/n");
        assert_eq!(path_with_stage(Some("$default"), "/n"), "/n");
        assert_eq!(path_with_stage(Some("prod"), "/n"), "/prod/n");
        assert_eq!(path_with_stage(Some("prod"), "/prod/n"), "/prod/n");
    }
}
