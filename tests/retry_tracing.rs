//! The tracing events of RetryPolicy.
//!
//! Alone in its own binary: tracing caches per callsite whether anyone
//! listens, and with a single thread-local subscriber a callsite first hit on
//! another test's thread would be cached as unheard.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use http::{Request, Response};
use tower::retry::RetryLayer;
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::EnvelopeLayer;
use tower_tencentcloud::retry::RetryPolicy;
use tracing::field::{Field, Visit};
use tracing::{Event, Metadata, Subscriber, span};

/// The fields of each event emitted while it is the thread's subscriber.
///
/// A few lines of `Subscriber` spare a dev-dependency on tracing-subscriber.
#[derive(Clone, Default)]
struct EventRecorder(Arc<Mutex<Vec<BTreeMap<&'static str, String>>>>);

impl EventRecorder {
    /// The events whose message is `message`.
    fn events(&self, message: &str) -> Vec<BTreeMap<&'static str, String>> {
        let events = self.0.lock().unwrap();
        events
            .iter()
            .filter(|fields| fields.get("message").is_some_and(|m| m == message))
            .cloned()
            .collect()
    }
}

#[derive(Default)]
struct FieldMap(BTreeMap<&'static str, String>);

impl Visit for FieldMap {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name(), format!("{value:?}"));
    }
}

impl Subscriber for EventRecorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }

    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}

    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}

    fn event(&self, event: &Event<'_>) {
        let mut fields = FieldMap::default();
        event.record(&mut fields);
        self.0.lock().unwrap().push(fields.0);
    }

    fn enter(&self, _: &span::Id) {}

    fn exit(&self, _: &span::Id) {}
}

fn request_id(call: usize) -> String {
    format!("req-{call}")
}

#[tokio::test(start_paused = true)]
async fn each_retry_and_the_final_refusal_are_traced() {
    let recorder = EventRecorder::default();
    // The test's runtime polls everything on this thread.
    let _subscriber = tracing::subscriber::set_default(recorder.clone());

    let calls = Arc::new(AtomicUsize::new(0));
    let api = tower::service_fn(move |_: Request<String>| {
        let call = calls.fetch_add(1, Ordering::SeqCst);
        let body = format!(
            r#"{{"Response":{{"Error":{{"Code":"RequestLimitExceeded","Message":"canned"}},"RequestId":"{}"}}}}"#,
            request_id(call)
        );
        async move { Ok::<_, Infallible>(Response::new(body)) }
    });
    let service = ServiceBuilder::new()
        .layer(RetryLayer::new(
            RetryPolicy::default().max_throttled_retries(3),
        ))
        .layer(EnvelopeLayer::new())
        .service(api);
    let request = Request::builder()
        .header("X-TC-Action", "RunInstances")
        .body(String::new())
        .unwrap();
    service.oneshot(request).await.unwrap_err();

    let retries = recorder.events("retrying");
    assert_eq!(retries.len(), 3);
    for (attempt, fields) in (1..).zip(&retries) {
        assert_eq!(fields["action"], "RunInstances");
        assert_eq!(fields["code"], "RequestLimitExceeded");
        assert_eq!(fields["request_id"], request_id(attempt - 1));
        assert_eq!(fields["attempt"], attempt.to_string());
        assert!(fields.contains_key("delay"), "{fields:?}");
    }
    let refusals = recorder.events("not retrying");
    assert_eq!(refusals.len(), 1);
    assert_eq!(refusals[0]["attempts"], "4");
    assert_eq!(refusals[0]["reason"], "throttled retry limit reached");
    assert_eq!(refusals[0]["request_id"], request_id(3));
}
