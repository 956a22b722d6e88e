//! The metrics of calls and attempts, through the `metrics` facade
//! (feature `metrics`), with bounded labels.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use http::{Request, Response};
use http_body::Body;
use metrics::{Recorder, SharedString};

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

/// Whether a recorder would take what this thread records now: a local
/// recorder is set, or a global one is installed.
///
/// The facade cannot say (`metrics::with_recorder` falls back to a private
/// no-op recorder), and without a recorder its macros still build and hash
/// every key. So this recognises the fallback by where it lives: the facade
/// hands out a zero-sized `static`, while a global recorder is boxed (a
/// zero-sized one at a dangling address, never a static's) and a local one
/// is the caller's. That address is learned once, on a thread of its own,
/// which has no local recorder; if that thread sees a global recorder
/// already, or cannot be spawned, everything is recorded as before.
// Out of line: inlined, the thread-local read grows the layers' `call`
// enough that the inner service's `call` is no longer inlined into it, and
// the request is copied once more.
#[inline(never)]
pub(crate) fn recording() -> bool {
    let noop = match NOOP.load(Ordering::Relaxed) {
        UNKNOWN => learn_noop_address(),
        noop => noop,
    };
    noop == UNLEARNABLE
        || metrics::with_recorder(|recorder| zero_sized_static(recorder) != Some(noop))
}

/// The address of the facade's fallback recorder, [`UNKNOWN`] before it
/// was learned, [`UNLEARNABLE`] if it could not be.
static NOOP: AtomicUsize = AtomicUsize::new(UNKNOWN);
/// No static lives at address 0...
const UNKNOWN: usize = 0;
/// ...nor at the last one.
const UNLEARNABLE: usize = usize::MAX;

#[cold]
#[inline(never)]
fn learn_noop_address() -> usize {
    static LEARNED: OnceLock<usize> = OnceLock::new();
    let noop = *LEARNED.get_or_init(|| {
        std::thread::Builder::new()
            .name("tencentcloud-metrics-probe".into())
            .spawn(|| metrics::with_recorder(zero_sized_static))
            .ok()
            .and_then(|probe| probe.join().ok())
            .flatten()
            .unwrap_or(UNLEARNABLE)
    });
    NOOP.store(noop, Ordering::Relaxed);
    noop
}

/// The address of `recorder` if it is zero-sized and not where a `Box`
/// keeps a zero-sized value (its alignment).
fn zero_sized_static(recorder: &dyn Recorder) -> Option<usize> {
    let address = std::ptr::from_ref(recorder).addr();
    (size_of_val(recorder) == 0 && address != align_of_val(recorder)).then_some(address)
}

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

#[cfg(test)]
mod tests {
    use metrics::NoopRecorder;
    use metrics_exporter_prometheus::PrometheusBuilder;

    use super::*;

    #[test]
    fn recording_only_with_a_recorder() {
        // No unit test installs a global recorder.
        assert!(!recording());
        let prometheus = PrometheusBuilder::new().build_recorder();
        metrics::with_local_recorder(&prometheus, || assert!(recording()));
        // A zero-sized recorder of the caller's is still a recorder.
        let noop = NoopRecorder;
        metrics::with_local_recorder(&noop, || assert!(recording()));
        assert!(!recording());
    }
}
