//! The metrics of calls and attempts, through the `metrics` facade
//! (feature `metrics`), with bounded labels.

use std::time::Duration;

use http::{Request, Response};
use http_body::Body;
use metrics::SharedString;

use crate::action::ServiceName;
use crate::action::header;
use crate::action::telemetry::bounded;
use crate::action::telemetry::{
    ATTEMPT_DURATION, CALL_DURATION, CALLS, RESPONSE_SIZE, RETRIES, THROTTLED,
};
use crate::code::Code;
use crate::error::Error;
use crate::retry_class::RetryClass;

use super::attributes::error_kind;
use super::tally::class_name;

/// The `service` and `action` labels of a call, made once and shared by
/// its attempts.
#[derive(Debug, Clone)]
pub(crate) struct Labels {
    service: SharedString,
    action: SharedString,
}

impl Labels {
    pub(crate) fn of<B>(request: &Request<B>) -> Self {
        let service = request
            .extensions()
            .get::<ServiceName>()
            .map(ServiceName::as_str);
        Self {
            service: bounded(service),
            action: bounded(header::action(request.headers())),
        }
    }
}

/// The `error` label: `none`, the API code's category (one of the
/// [`Category`](crate::Category) prefixes, or `other`), or the error's kind.
fn error_label<R>(result: &Result<R, Error>) -> &'static str {
    match result {
        Ok(_) => "none",
        Err(error) => match error.code() {
            Some(code) => Code::category(code).prefix().unwrap_or("other"),
            None => error_kind(error),
        },
    }
}

fn outcome<R>(result: &Result<R, Error>) -> &'static str {
    if result.is_ok() { "ok" } else { "error" }
}

/// An attempt ended: its duration, and a throttle; `retried` is the class of
/// the failure this attempt replays, when it is a replay.
pub(crate) fn attempt_done<R>(
    labels: &Labels,
    elapsed: Duration,
    result: &Result<R, Error>,
    retried: Option<RetryClass>,
) {
    let Labels { service, action } = labels;
    metrics::histogram!(
        ATTEMPT_DURATION,
        "service" => service.clone(),
        "action" => action.clone(),
        "outcome" => outcome(result),
    )
    .record(elapsed);
    if let Some(class) = retried {
        metrics::counter!(
            RETRIES,
            "service" => service.clone(),
            "action" => action.clone(),
            "reason" => class_name(class),
        )
        .increment(1);
    }
    if let Err(error) = result
        && error.retry_class().asks_to_slow_down()
    {
        metrics::counter!(THROTTLED, "service" => service.clone(), "action" => action.clone())
            .increment(1);
    }
}

/// A call ended: its duration, its outcome, and the size of a success's body.
pub(crate) fn call_done<RB: Body>(
    labels: &Labels,
    elapsed: Duration,
    result: &Result<Response<RB>, Error>,
) {
    let Labels { service, action } = labels;
    metrics::histogram!(
        CALL_DURATION,
        "service" => service.clone(),
        "action" => action.clone(),
        "outcome" => outcome(result),
    )
    .record(elapsed);
    metrics::counter!(
        CALLS,
        "service" => service.clone(),
        "action" => action.clone(),
        "outcome" => outcome(result),
        "error" => error_label(result),
    )
    .increment(1);
    if let Ok(response) = result
        && let Some(size) = response.body().size_hint().exact()
    {
        metrics::histogram!(RESPONSE_SIZE, "service" => service.clone(), "action" => action.clone())
            .record(size as f64);
    }
}
