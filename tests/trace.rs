//! The spans and metrics of `trace::CallLayer` and `trace::AttemptLayer`,
//! through the whole stack against the emulator in process: spans exported
//! by the real OpenTelemetry SDK (in-memory exporter, through
//! `tracing-opentelemetry`), metrics scraped over HTTP from the Prometheus
//! exporter's listener on 127.0.0.1.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::header::AUTHORIZATION;
use http::{Request, Response};
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use metrics_exporter_prometheus::PrometheusBuilder;
use opentelemetry::trace::{SpanKind, Status, TracerProvider};
use opentelemetry::{Key, Value};
use opentelemetry_sdk::trace::{InMemorySpanExporter, SdkTracerProvider, SpanData};
use serde_json::json;
use tower::retry::RetryLayer;
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::emulator::{Emulator, EmulatorBody, EmulatorService, Fault, Injection};
use tower_tencentcloud::ratelimit::{AdaptiveRateLimitLayer, RateKey};
use tower_tencentcloud::retry::RetryPolicy;
use tower_tencentcloud::sign::{Credentials, SignLayer};
use tower_tencentcloud::trace::{AttemptLayer, CallLayer};
use tower_tencentcloud::{EnvelopeBody, EnvelopeLayer, Error, RequestId};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::SubscriberExt;

const SECRET_ID: &str = "AKIDtrace00000000000000000000000000";
const SECRET_KEY: &str = "trace-secret-key-never-exported";
const TOKEN: &str = "trace-session-token-never-exported";
const ENDPOINT: &str = "http://127.0.0.1:8443";

fn credentials() -> Credentials {
    Credentials::new(SECRET_ID, SECRET_KEY).with_session_token(TOKEN)
}

fn emulator() -> EmulatorService {
    Emulator::builder()
        .credentials(credentials())
        .into_service()
}

fn cvm(action: &str, params: serde_json::Value) -> Request<Full<Bytes>> {
    ActionRequest::new("cvm", "2017-03-12", action)
        .region("ap-guangzhou")
        .endpoint(ENDPOINT)
        .params(&params)
        .build()
        .unwrap()
}

/// The Authorization headers the emulator was sent, signatures included.
type Seen = Arc<Mutex<Vec<String>>>;

/// Call → Retry → Attempt → rate limit → Sign → Envelope → the emulator.
fn client(
    emulator: &EmulatorService,
    limiter: &AdaptiveRateLimitLayer,
    seen: &Seen,
) -> impl Service<Request<Full<Bytes>>, Response = Response<EnvelopeBody<EmulatorBody>>, Error = Error>
+ Clone
+ use<> {
    let emulator = emulator.clone();
    let seen = seen.clone();
    let transport = tower::service_fn(move |request: Request<_>| {
        if let Some(authorization) = request.headers().get(AUTHORIZATION) {
            let authorization = authorization.to_str().unwrap().to_owned();
            seen.lock().unwrap().push(authorization);
        }
        emulator.clone().oneshot(request)
    });
    ServiceBuilder::new()
        .layer(CallLayer::new())
        .layer(RetryLayer::new(RetryPolicy::default()))
        .layer(AttemptLayer::new())
        .layer(limiter.clone())
        .layer(SignLayer::new(credentials()))
        .layer(EnvelopeLayer::new())
        .service(transport)
}

/// Six calls of `action`, the first and the third
/// throttled once: the first throttle starts measuring the accepted rate,
/// a success half a second later measures it, the second throttle cuts the
/// rate, and the replays and the calls after it wait for tokens.
async fn cut_the_rate<S>(client: &S, emulator: &EmulatorService, action: &str)
where
    S: Service<Request<Full<Bytes>>, Error = Error> + Clone,
{
    for (n, throttled) in [true, false, true, false, false, false]
        .into_iter()
        .enumerate()
    {
        if throttled {
            emulator.inject(Injection::new(Fault::Throttled).action(action));
        }
        if n == 1 {
            tokio::time::sleep(Duration::from_millis(600)).await;
        }
        client
            .clone()
            .oneshot(cvm(action, json!({})))
            .await
            .map_err(|err| err.to_string())
            .unwrap();
    }
}

/// One test at a time: tracing caches per callsite whether any subscriber
/// wants it, and a test's thread-local subscriber can lose that race
/// against another test's thread hitting the callsite at the same time.
async fn one_at_a_time() -> tokio::sync::MutexGuard<'static, ()> {
    static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SERIAL.lock().await
}

/// Spans exported by the OpenTelemetry SDK while the guard lives.
struct Otel {
    provider: SdkTracerProvider,
    exporter: InMemorySpanExporter,
    _guard: tracing::subscriber::DefaultGuard,
}

impl Otel {
    fn install() -> Self {
        Self::install_filtered(|_| true)
    }

    /// Exports the spans whose metadata `keep` accepts, no other.
    fn install_filtered(keep: fn(&tracing::Metadata<'_>) -> bool) -> Self {
        let exporter = InMemorySpanExporter::default();
        let provider = SdkTracerProvider::builder()
            .with_simple_exporter(exporter.clone())
            .build();
        let tracer = provider.tracer("trace-test");
        let subscriber = tracing_subscriber::registry().with(
            tracing_opentelemetry::layer()
                .with_tracer(tracer)
                .with_filter(tracing_subscriber::filter::filter_fn(keep)),
        );
        let guard = tracing::subscriber::set_default(subscriber);
        Self {
            provider,
            exporter,
            _guard: guard,
        }
    }

    fn spans(&self) -> Vec<SpanData> {
        self.provider.force_flush().unwrap();
        let mut spans = self.exporter.get_finished_spans().unwrap();
        spans.sort_by_key(|span| span.start_time);
        spans
    }
}

fn attr(span: &SpanData, key: &str) -> Option<Value> {
    span.attributes
        .iter()
        .find(|kv| kv.key == Key::from(key.to_owned()))
        .map(|kv| kv.value.clone())
}

fn text(span: &SpanData, key: &str) -> Option<String> {
    attr(span, key).map(|value| value.as_str().into_owned())
}

fn int(span: &SpanData, key: &str) -> Option<i64> {
    match attr(span, key)? {
        Value::I64(value) => Some(value),
        other => panic!("{key} is {other:?}, not an integer"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_call_throttled_twice_is_one_call_span_over_three_attempt_spans() {
    let _serial = one_at_a_time().await;
    let otel = Otel::install();
    let emulator = emulator();
    emulator.inject(
        Injection::new(Fault::Throttled)
            .action("DescribeInstances")
            .times(2),
    );
    let limiter = AdaptiveRateLimitLayer::new();
    let seen = Seen::default();
    let response = client(&emulator, &limiter, &seen)
        .oneshot(cvm("DescribeInstances", json!({})))
        .await
        .unwrap();
    let request_id = response.extensions().get::<RequestId>().unwrap().clone();

    let spans = otel.spans();
    assert_eq!(spans.len(), 4, "{spans:#?}");
    let calls: Vec<_> = spans
        .iter()
        .filter(|span| span.name == "cvm/DescribeInstances")
        .collect();
    assert_eq!(calls.len(), 1, "{spans:#?}");
    let call = calls[0];
    assert_eq!(call.span_kind, SpanKind::Client);
    assert_eq!(call.status, Status::Unset);
    for (key, value) in [
        ("rpc.system", "tencentcloud"),
        ("rpc.service", "cvm"),
        ("rpc.method", "DescribeInstances"),
        ("cloud.provider", "tencent_cloud"),
        ("cloud.region", "ap-guangzhou"),
        ("server.address", "127.0.0.1"),
        ("tencentcloud.api_version", "2017-03-12"),
        ("tencentcloud.request_id", request_id.as_str()),
    ] {
        assert_eq!(
            text(call, key).as_deref(),
            Some(value),
            "{key} of {call:#?}"
        );
    }
    assert_eq!(int(call, "server.port"), Some(8443));
    assert_eq!(int(call, "http.response.status_code"), Some(200));
    assert_eq!(int(call, "tencentcloud.attempts"), Some(3));
    assert_eq!(attr(call, "error.type"), None);

    let attempts: Vec<_> = spans.iter().filter(|span| span.name == "POST").collect();
    assert_eq!(attempts.len(), 3, "{spans:#?}");
    let log = emulator.log().entries();
    assert_eq!(log.len(), 3);
    for (n, attempt) in attempts.iter().enumerate() {
        assert_eq!(attempt.parent_span_id, call.span_context.span_id());
        assert_eq!(
            attempt.span_context.trace_id(),
            call.span_context.trace_id()
        );
        assert_eq!(attempt.span_kind, SpanKind::Client);
        assert_eq!(
            text(attempt, "http.request.method").as_deref(),
            Some("POST")
        );
        assert_eq!(
            text(attempt, "server.address").as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(int(attempt, "server.port"), Some(8443));
        assert_eq!(int(attempt, "http.response.status_code"), Some(200));
        // The first attempt is no resend.
        let resends = (n > 0).then_some(n as i64);
        assert_eq!(int(attempt, "http.request.resend_count"), resends);
        // Each attempt's RequestId is the emulator's for that call.
        assert_eq!(
            text(attempt, "tencentcloud.request_id").as_deref(),
            Some(log[n].request_id().as_str())
        );
    }
    for throttled in &attempts[..2] {
        assert_eq!(
            text(throttled, "error.type").as_deref(),
            Some("RequestLimitExceeded")
        );
        assert_eq!(
            text(throttled, "tencentcloud.retry_class").as_deref(),
            Some("throttled")
        );
        assert!(
            matches!(&throttled.status, Status::Error { description } if description.contains("RequestLimitExceeded")),
            "{:?}",
            throttled.status
        );
    }
    assert_eq!(attempts[2].status, Status::Unset);
    assert_eq!(attr(attempts[2], "error.type"), None);
    assert_eq!(
        text(attempts[2], "tencentcloud.request_id").as_deref(),
        Some(request_id.as_str())
    );
}

#[tokio::test(start_paused = true)]
async fn with_attempt_spans_filtered_out_the_call_span_still_counts_them() {
    let _serial = one_at_a_time().await;
    let otel = Otel::install_filtered(|metadata| metadata.name() != "tencentcloud.attempt");
    let emulator = emulator();
    emulator.inject(
        Injection::new(Fault::Throttled)
            .action("DescribeInstances")
            .times(2),
    );
    client(&emulator, &AdaptiveRateLimitLayer::new(), &Seen::default())
        .oneshot(cvm("DescribeInstances", json!({})))
        .await
        .unwrap();
    let spans = otel.spans();
    assert_eq!(spans.len(), 1, "{spans:#?}");
    assert_eq!(spans[0].name, "cvm/DescribeInstances");
    assert_eq!(int(&spans[0], "tencentcloud.attempts"), Some(3));
}

#[tokio::test(start_paused = true)]
async fn the_rate_limiters_wait_is_in_the_attempt_span() {
    let _serial = one_at_a_time().await;
    let otel = Otel::install();
    let emulator = emulator();
    let limiter = AdaptiveRateLimitLayer::new();
    let seen = Seen::default();
    let client = client(&emulator, &limiter, &seen);
    cut_the_rate(&client, &emulator, "DescribeZones").await;
    let key = RateKey::from_request(&cvm("DescribeZones", json!({})));
    let rate = limiter.rate(&key).expect("the rate was cut");

    let waits: Vec<f64> = otel
        .spans()
        .iter()
        .filter(|span| span.name == "POST")
        .filter_map(|span| match attr(span, "tencentcloud.ratelimit.wait")? {
            Value::F64(seconds) => Some(seconds),
            other => panic!("the wait is {other:?}"),
        })
        .collect();
    assert!(!waits.is_empty(), "no attempt waited at {rate}/s");
    // Waits on tokio's clock, short at a rate of several a second.
    for wait in waits {
        assert!(wait > 0.0 && wait < 2.0, "{wait} at {rate}/s");
    }
}

#[tokio::test(start_paused = true)]
async fn an_error_sets_error_type_and_the_span_status() {
    let _serial = one_at_a_time().await;
    let otel = Otel::install();
    let emulator = emulator();
    let limiter = AdaptiveRateLimitLayer::new();
    let seen = Seen::default();
    let client = client(&emulator, &limiter, &seen);

    let err = client
        .clone()
        .oneshot(cvm("DescribeRegions", json!({"Bogus": 1})))
        .await
        .unwrap_err();
    assert_eq!(err.code().unwrap(), "UnknownParameter");
    // A gateway page, retried by the read-only action until the policy
    // gives up: an error without a code reports its kind.
    emulator.inject(
        Injection::new(Fault::BadGateway)
            .action("DescribeInstances")
            .times(10),
    );
    let gateway = client
        .oneshot(cvm("DescribeInstances", json!({})))
        .await
        .unwrap_err();
    assert!(gateway.is_not_envelope(), "{gateway:?}");

    let spans = otel.spans();
    let run = spans
        .iter()
        .find(|span| span.name == "cvm/DescribeRegions")
        .unwrap();
    assert_eq!(text(run, "error.type").as_deref(), Some("UnknownParameter"));
    assert_eq!(
        text(run, "tencentcloud.retry_class").as_deref(),
        Some("never")
    );
    assert_eq!(
        text(run, "tencentcloud.request_id").as_deref(),
        Some(err.request_id().unwrap().as_str())
    );
    assert_eq!(int(run, "tencentcloud.attempts"), Some(1));
    assert_eq!(
        run.status,
        Status::error(err.to_string()),
        "the status is the error's one line"
    );

    let regions = spans
        .iter()
        .find(|span| span.name == "cvm/DescribeInstances")
        .unwrap();
    assert_eq!(text(regions, "error.type").as_deref(), Some("not_envelope"));
    assert_eq!(int(regions, "http.response.status_code"), Some(502));
    assert_eq!(int(regions, "tencentcloud.attempts"), Some(4));
    assert!(matches!(regions.status, Status::Error { .. }));
    let regions_attempts = spans
        .iter()
        .filter(|span| span.parent_span_id == regions.span_context.span_id())
        .count();
    assert_eq!(regions_attempts, 4);
}

#[tokio::test(start_paused = true)]
async fn no_exported_span_holds_the_key_the_token_or_a_signature() {
    let _serial = one_at_a_time().await;
    let otel = Otel::install();
    let emulator = emulator();
    emulator.inject(
        Injection::new(Fault::Throttled)
            .action("DescribeInstances")
            .times(2),
    );
    let limiter = AdaptiveRateLimitLayer::new();
    let seen = Seen::default();
    let client = client(&emulator, &limiter, &seen);
    client
        .clone()
        .oneshot(cvm("DescribeInstances", json!({"Limit": 1})))
        .await
        .unwrap();
    client
        .oneshot(cvm("DescribeRegions", json!({"Bogus": 1})))
        .await
        .unwrap_err();

    let spans = otel.spans();
    assert_eq!(spans.len(), 6);
    let signatures: Vec<String> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|authorization| {
            let (_, signature) = authorization.split_once("Signature=").unwrap();
            signature.to_owned()
        })
        .collect();
    assert_eq!(signatures.len(), 4);
    // Everything exported: names, attributes, events, status, as Debug.
    let exported = format!("{spans:?}");
    for secret in [SECRET_KEY, TOKEN]
        .into_iter()
        .chain(signatures.iter().map(String::as_str))
    {
        assert!(!exported.contains(secret), "{secret} in {exported}");
    }
    assert!(!exported.contains("TC3-HMAC-SHA256"), "{exported}");
}

/// The value of the sample of `name` whose labels include `labels`.
fn sample(scrape: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    scrape
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .find(|line| {
            let (series, _) = line.rsplit_once(' ').unwrap();
            let (metric, rest) = series.split_once('{').unwrap_or((series, ""));
            metric == name
                && labels
                    .iter()
                    .all(|(key, value)| rest.contains(&format!("{key}=\"{value}\"")))
        })
        .map(|line| line.rsplit_once(' ').unwrap().1.parse().unwrap())
}

#[tokio::test(start_paused = true)]
async fn a_prometheus_scrape_shows_what_a_scripted_run_did() {
    let _serial = one_at_a_time().await;
    // A port for the exporter's listener, which does not say the one it got.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let (recorder, exporter) = PrometheusBuilder::new()
        .with_http_listener(addr)
        .set_buckets(&[0.001, 0.01, 0.1, 1.0, 10.0, 100_000.0])
        .unwrap()
        .build()
        .unwrap();
    let _local = metrics::set_default_local_recorder(&recorder);

    let emulator = emulator();
    let limiter = AdaptiveRateLimitLayer::new();
    let seen = Seen::default();
    let client = client(&emulator, &limiter, &seen);
    emulator.inject(
        Injection::new(Fault::Throttled)
            .action("DescribeInstances")
            .times(2),
    );
    let response = client
        .clone()
        .oneshot(cvm("DescribeInstances", json!({"Limit": 2})))
        .await
        .unwrap();
    let size = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .len();
    cut_the_rate(&client, &emulator, "DescribeZones").await;
    let rate = limiter
        .rate(&RateKey::from_request(&cvm("DescribeZones", json!({}))))
        .expect("two throttles cut the rate");
    client
        .clone()
        .oneshot(cvm("DescribeRegions", json!({"Bogus": 1})))
        .await
        .unwrap_err();

    tokio::time::resume();
    tokio::spawn(exporter);
    let http = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let uri: http::Uri = format!("http://{addr}/metrics").parse().unwrap();
    let mut answer = None;
    // The listener starts with the spawned task: a few tries, 10 ms apart.
    for _ in 0..100 {
        match http.get(uri.clone()).await {
            Ok(response) => {
                answer = Some(response);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    let answer = answer.expect("the exporter's listener answered");
    assert_eq!(answer.status(), 200);
    let scrape = String::from_utf8(
        answer
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();

    let instances = [("service", "cvm"), ("action", "DescribeInstances")];
    let with = |extra: &[(&'static str, &'static str)]| {
        let mut labels = instances.to_vec();
        labels.extend_from_slice(extra);
        labels
    };
    let expect = |name: &str, labels: &[(&str, &str)], value: f64| {
        assert_eq!(
            sample(&scrape, name, labels),
            Some(value),
            "{name} {labels:?} in\n{scrape}"
        );
    };
    expect(
        "tencentcloud_calls_total",
        &with(&[("outcome", "ok"), ("error", "none")]),
        1.0,
    );
    expect(
        "tencentcloud_calls_total",
        &[
            ("action", "DescribeZones"),
            ("outcome", "ok"),
            ("error", "none"),
        ],
        6.0,
    );
    expect(
        "tencentcloud_calls_total",
        &[
            ("action", "DescribeRegions"),
            ("outcome", "error"),
            ("error", "UnknownParameter"),
        ],
        1.0,
    );
    expect(
        "tencentcloud_retries_total",
        &with(&[("reason", "throttled")]),
        2.0,
    );
    expect("tencentcloud_throttled_total", &instances, 2.0);
    expect(
        "tencentcloud_throttled_total",
        &[("action", "DescribeZones")],
        2.0,
    );
    assert_eq!(
        sample(
            &scrape,
            "tencentcloud_throttled_total",
            &[("action", "DescribeRegions")]
        ),
        None
    );
    expect(
        "tencentcloud_attempt_duration_seconds_count",
        &with(&[("outcome", "error")]),
        2.0,
    );
    expect(
        "tencentcloud_attempt_duration_seconds_count",
        &with(&[("outcome", "ok")]),
        1.0,
    );
    expect(
        "tencentcloud_call_duration_seconds_count",
        &with(&[("outcome", "ok")]),
        1.0,
    );
    expect(
        "tencentcloud_call_duration_seconds_bucket",
        &with(&[("outcome", "ok"), ("le", "+Inf")]),
        1.0,
    );
    expect("tencentcloud_response_size_bytes_count", &instances, 1.0);
    expect(
        "tencentcloud_response_size_bytes_sum",
        &instances,
        size as f64,
    );
    expect(
        "tencentcloud_retries_total",
        &[("action", "DescribeZones"), ("reason", "throttled")],
        2.0,
    );
    expect(
        "tencentcloud_ratelimit_rate",
        &[("action", "DescribeZones")],
        rate,
    );
    let waits = sample(
        &scrape,
        "tencentcloud_ratelimit_wait_seconds_count",
        &[("action", "DescribeZones")],
    );
    assert!(waits.is_some_and(|waits| waits >= 1.0), "{scrape}");
    // No RequestId, no secret among the labels.
    let request_ids = emulator.log().entries();
    for entry in &request_ids {
        assert!(!scrape.contains(entry.request_id().as_str()));
    }
    assert!(!scrape.contains(SECRET_KEY) && !scrape.contains(SECRET_ID));
}
