//! The metrics of `trace::CallLayer` and `trace::AttemptLayer` reach a
//! global recorder that has no size, installed before the first call: the
//! layers skip the metrics when the facade would hand them to its no-op
//! recorder, which has no size either, and must not take one for the
//! other. A process of its own, so that the recorder is there first.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use metrics::{
    Counter, CounterFn, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder,
    SharedString, Unit,
};
use tower::retry::RetryLayer;
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::EnvelopeLayer;
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::emulator::Emulator;
use tower_tencentcloud::retry::RetryPolicy;
use tower_tencentcloud::sign::{Credentials, SignLayer};
use tower_tencentcloud::trace::{AttemptLayer, CallLayer};

/// What reached [`ZeroSized`]: one per counter increment or histogram value.
static RECORDED: AtomicU64 = AtomicU64::new(0);

/// A recorder that keeps its state elsewhere, and so has no size.
struct ZeroSized;

struct Count;

impl CounterFn for Count {
    fn increment(&self, _: u64) {
        RECORDED.fetch_add(1, Ordering::Relaxed);
    }

    fn absolute(&self, _: u64) {
        RECORDED.fetch_add(1, Ordering::Relaxed);
    }
}

impl HistogramFn for Count {
    fn record(&self, _: f64) {
        RECORDED.fetch_add(1, Ordering::Relaxed);
    }
}

impl Recorder for ZeroSized {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

    fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
        Counter::from_arc(Arc::new(Count))
    }

    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }

    fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
        Histogram::from_arc(Arc::new(Count))
    }
}

#[tokio::test(start_paused = true)]
async fn a_zero_sized_global_recorder_gets_the_metrics() {
    metrics::set_global_recorder(ZeroSized).unwrap();
    let credentials = Credentials::new("AKIDglobal0000000000000000000000000", "global-secret");
    let emulator = Emulator::builder()
        .credentials(credentials.clone())
        .into_service();
    let client = ServiceBuilder::new()
        .layer(CallLayer::new())
        .layer(RetryLayer::new(RetryPolicy::default()))
        .layer(AttemptLayer::new())
        .layer(SignLayer::new(credentials))
        .layer(EnvelopeLayer::new())
        .service(emulator);
    let request = ActionRequest::new("cvm", "2017-03-12", "DescribeZones")
        .region("ap-guangzhou")
        .endpoint("http://127.0.0.1:8443")
        .build()
        .unwrap();
    client.oneshot(request).await.unwrap();
    // The attempt's and the call's durations, the call's count, the size.
    let recorded = RECORDED.load(Ordering::Relaxed);
    assert!(recorded >= 4, "{recorded} values reached the recorder");
}
