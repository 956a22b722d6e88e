//! The spans: their names and fields, after the OpenTelemetry RPC and HTTP
//! client conventions, and what a request and a result fill them with.
//!
//! The fields are declared `Empty` and filled only when a subscriber
//! enabled the span, so that a disabled span costs a callsite check.

use http::{Request, Response};
use tracing::Span;
use tracing::field::Empty;

use crate::action::ServiceName;
use crate::action::header;
use crate::error::Error;
use crate::request_id::RequestId;

use super::tally::class_name;

/// `rpc.system` of every call.
const RPC_SYSTEM: &str = "tencentcloud";
/// `cloud.provider` of every call.
const CLOUD_PROVIDER: &str = "tencent_cloud";

/// The span of a call, `{service}/{action}`, before its first attempt.
pub(crate) fn call_span<B>(request: &Request<B>) -> Span {
    let span = tracing::info_span!(
        target: "tower_tencentcloud::trace",
        "tencentcloud.call",
        otel.name = Empty,
        otel.kind = "client",
        otel.status_code = Empty,
        otel.status_description = Empty,
        rpc.system = RPC_SYSTEM,
        rpc.service = Empty,
        rpc.method = Empty,
        cloud.provider = CLOUD_PROVIDER,
        cloud.region = Empty,
        server.address = Empty,
        server.port = Empty,
        tencentcloud.api_version = Empty,
        http.response.status_code = Empty,
        error.type = Empty,
        tencentcloud.request_id = Empty,
        tencentcloud.retry_class = Empty,
        tencentcloud.attempts = Empty,
    );
    if span.is_disabled() {
        return span;
    }
    let headers = request.headers();
    let service = request
        .extensions()
        .get::<ServiceName>()
        .map(ServiceName::as_str);
    let action = header::action(headers);
    let name = format!(
        "{}/{}",
        service.unwrap_or("unknown"),
        action.unwrap_or("unknown")
    );
    span.record("otel.name", name.as_str());
    if let Some(service) = service {
        span.record("rpc.service", service);
    }
    if let Some(action) = action {
        span.record("rpc.method", action);
    }
    if let Some(region) = header::region(headers) {
        span.record("cloud.region", region);
    }
    if let Some(version) = header::version(headers) {
        span.record("tencentcloud.api_version", version);
    }
    record_server(&span, request);
    span
}

/// The span of an attempt, an HTTP client span named after the method.
pub(crate) fn attempt_span<B>(request: &Request<B>) -> Span {
    let span = tracing::info_span!(
        target: "tower_tencentcloud::trace",
        "tencentcloud.attempt",
        otel.name = Empty,
        otel.kind = "client",
        otel.status_code = Empty,
        otel.status_description = Empty,
        http.request.method = Empty,
        http.request.resend_count = Empty,
        server.address = Empty,
        server.port = Empty,
        http.response.status_code = Empty,
        error.type = Empty,
        tencentcloud.request_id = Empty,
        tencentcloud.retry_class = Empty,
        { crate::action::telemetry::RATE_LIMIT_WAIT_FIELD } = Empty,
    );
    if span.is_disabled() {
        return span;
    }
    let method = request.method().as_str();
    span.record("otel.name", method);
    span.record("http.request.method", method);
    record_server(&span, request);
    span
}

/// `http.request.resend_count` of an attempt: how many attempts of the
/// call came before it, when known and not none.
pub(crate) fn record_resends(span: &Span, resends: Option<u32>) {
    if let Some(resends) = resends.filter(|resends| *resends > 0) {
        span.record("http.request.resend_count", i64::from(resends));
    }
}

/// `server.address` and `server.port`, from the URI (never its path or
/// query, which is where a presigned URL would keep a signature).
fn record_server<B>(span: &Span, request: &Request<B>) {
    let uri = request.uri();
    if let Some(host) = uri.host() {
        span.record("server.address", host);
    }
    let port = uri.port_u16().or(match uri.scheme_str() {
        Some("https") => Some(443),
        Some("http") => Some(80),
        _ => None,
    });
    if let Some(port) = port {
        span.record("server.port", i64::from(port));
    }
}

/// The outcome of an attempt or a call: status code, RequestId, and for an
/// error its type, retry class and the span's error status.
#[inline]
pub(crate) fn record_result<RB>(span: &Span, result: &Result<Response<RB>, Error>) {
    if !span.is_disabled() {
        record_enabled(span, result);
    }
}

fn record_enabled<RB>(span: &Span, result: &Result<Response<RB>, Error>) {
    match result {
        Ok(response) => {
            span.record(
                "http.response.status_code",
                i64::from(response.status().as_u16()),
            );
            if let Some(request_id) = response.extensions().get::<RequestId>() {
                span.record("tencentcloud.request_id", request_id.as_str());
            }
        }
        Err(error) => {
            if let Some(status) = error.status() {
                span.record("http.response.status_code", i64::from(status.as_u16()));
            }
            if let Some(request_id) = error.request_id() {
                span.record("tencentcloud.request_id", request_id.as_str());
            }
            span.record("error.type", error_type(error));
            span.record("tencentcloud.retry_class", class_name(error.retry_class()));
            span.record("otel.status_code", "error");
            // One line, no secret: the error types never hold the request.
            span.record("otel.status_description", error.to_string().as_str());
        }
    }
}

/// `error.type`: the API's error code, else the kind of the error.
pub(crate) fn error_type(error: &Error) -> &str {
    match error.code() {
        Some(code) => code.as_str(),
        None => error_kind(error),
    }
}

/// The kind of an error, as a span field value and a metric label.
pub(crate) fn error_kind(error: &Error) -> &'static str {
    // Predicates rather than a match, so that a new variant reads "other"
    // until it is named here.
    let kinds = [
        (error.is_api(), "api"),
        (error.is_transport(), "transport"),
        (error.is_body(), "body"),
        (error.is_body_too_large(), "body_too_large"),
        (error.is_not_envelope(), "not_envelope"),
        (error.is_layer(), "layer"),
    ];
    kinds
        .into_iter()
        .find_map(|(is, kind)| is.then_some(kind))
        .unwrap_or("other")
}
