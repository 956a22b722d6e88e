//! A batch job against a sustained rate limit, on tokio's paused clock:
//! 16 callers make 500 calls through the whole stack to the emulator in
//! process, which allows 20 calls a second per action and fails now and
//! then (5% InternalError, 3% each of 502 pages, truncated bodies and
//! dropped connections).
//!
//! The recommended stack (Retry → AdaptiveRateLimit → Sign → Envelope, the
//! defaults) must get every read through, paced: at least 99% of the calls
//! succeed, at most 1.3 requests are sent per call, and the batch takes no
//! longer than 1.3 times what the limit allows plus 5 s. A mixed batch shows
//! that a write without `Idempotent` never runs twice. Beside it, in the same
//! run, the figures of the stack without the limiter under the previous and
//! the current defaults, and of a client that retries every throttle without
//! a budget, go to stderr:
//!
//! ```text
//! cargo test --all-features --test batch -- --nocapture
//! ```

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use serde_json::{Value, json};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::retry::RetryLayer;
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::emulator::{Emulator, EmulatorService, Fault, LogEntry, Outcome};
use tower_tencentcloud::ratelimit::AdaptiveRateLimitLayer;
use tower_tencentcloud::retry::{Idempotent, RetryBudget, RetryPolicy};
use tower_tencentcloud::sign::{Credentials, SignLayer};
use tower_tencentcloud::{EnvelopeLayer, Error, RetryClass};

const CALLERS: usize = 16;
const CALLS: usize = 500;
const LIMIT: u32 = 20;

/// `RetryPolicy`'s default.
const MAX_ATTEMPTS: usize = 4;

const SECRET_ID: &str = "AKIDbatch0000000000000000000000000";
const SECRET_KEY: &str = "batch-secret-key";

/// What a call does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// DescribeInstances filtered on the call's marker.
    Read,
    /// RunInstances without a ClientToken: never safe to replay.
    Write,
    /// RunInstances with a ClientToken, marked [`Idempotent`].
    TokenedWrite,
}

fn marker(call: usize) -> String {
    format!("batch-{call:04}")
}

fn marker_of(entry: &LogEntry) -> Option<String> {
    let params: Value = serde_json::from_slice(entry.params()).ok()?;
    let marker = match entry.action()? {
        "DescribeInstances" => &params["Filters"][0]["Values"][0],
        "RunInstances" => &params["InstanceName"],
        _ => return None,
    };
    marker.as_str().map(str::to_owned)
}

fn request(kind: Kind, call: usize) -> Request<Full<Bytes>> {
    let marker = marker(call);
    let (action, region, params) = match kind {
        Kind::Read => (
            "DescribeInstances",
            "ap-guangzhou",
            json!({"Filters": [{"Name": "instance-name", "Values": [marker]}], "Limit": 5}),
        ),
        Kind::Write => (
            "RunInstances",
            "ap-shanghai",
            json!({"Placement": {"Zone": "ap-shanghai-2"}, "ImageId": "img-eb30mz89", "InstanceName": marker}),
        ),
        Kind::TokenedWrite => (
            "RunInstances",
            "ap-shanghai",
            json!({"Placement": {"Zone": "ap-shanghai-2"}, "ImageId": "img-eb30mz89", "InstanceName": marker, "ClientToken": marker}),
        ),
    };
    let mut request = ActionRequest::new("cvm", "2017-03-12", action)
        .region(region)
        .endpoint("http://127.0.0.1:1")
        .params(&params)
        .build()
        .unwrap();
    if kind == Kind::TokenedWrite {
        request.extensions_mut().insert(Idempotent);
    }
    request
}

fn emulator() -> EmulatorService {
    Emulator::builder()
        .credentials(Credentials::new(SECRET_ID, SECRET_KEY))
        .rate_limit(LIMIT)
        .fault_rate(Fault::InternalError, 0.05)
        .fault_rate(Fault::BadGateway, 0.03)
        .fault_rate(Fault::TruncatedBody, 0.03)
        .fault_rate(Fault::DropConnection, 0.03)
        .into_service()
}

/// What a batch did.
#[derive(Debug)]
struct Batch {
    calls: usize,
    succeeded: usize,
    /// The errors of the calls that failed, by a few words each.
    failures: HashMap<String, usize>,
    /// Requests the emulator answered.
    sent: usize,
    throttled: usize,
    wall: Duration,
    /// Writes without a ClientToken that ran (passed the rate limit) more than once.
    writes_run_twice: usize,
    /// Failed calls that neither met a failure never retried, nor a
    /// transient one on a write without `Idempotent`, nor `MAX_ATTEMPTS`
    /// failures that may have run.
    unexplained_failures: usize,
}

impl Batch {
    fn attempts_per_call(&self) -> f64 {
        self.sent as f64 / self.calls as f64
    }

    fn row(&self, mode: &str) -> String {
        let mut failures: Vec<_> = self.failures.iter().collect();
        failures.sort();
        format!(
            "| {mode} | {} of {} | {:.2} | {:.1} s | {:.1}% | {failures:?} |",
            self.succeeded,
            self.calls,
            self.attempts_per_call(),
            self.wall.as_secs_f64(),
            100.0 * self.throttled as f64 / self.sent as f64,
        )
    }
}

fn describe(error: &Error) -> String {
    match error {
        Error::Api(err) => err.code().to_string(),
        Error::Transport(_) => "transport".to_owned(),
        Error::Body(_) => "body".to_owned(),
        Error::NotEnvelope(err) => format!("HTTP {}", err.status().as_u16()),
        other => other.to_string(),
    }
}

/// Runs `kinds.len()` calls from `CALLERS` tasks through `client`.
async fn batch<S>(client: S, emulator: &EmulatorService, kinds: &[Kind]) -> Batch
where
    S: Service<Request<Full<Bytes>>, Error = Error> + Clone + Send + 'static,
    S::Future: Send,
    S::Response: Send,
{
    let kinds: Arc<[Kind]> = kinds.into();
    let next = Arc::new(AtomicUsize::new(0));
    let results = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let mut callers = JoinSet::new();
    for _ in 0..CALLERS {
        let (client, next, results, kinds) =
            (client.clone(), next.clone(), results.clone(), kinds.clone());
        callers.spawn(async move {
            loop {
                let call = next.fetch_add(1, Ordering::Relaxed);
                let Some(&kind) = kinds.get(call) else { return };
                let result = client.clone().oneshot(request(kind, call)).await;
                results.lock().unwrap().push((call, kind, result.err()));
            }
        });
    }
    // A hang guard far beyond what any mode takes, on the paused clock.
    tokio::time::timeout(Duration::from_secs(3600), async {
        while let Some(joined) = callers.join_next().await {
            joined.unwrap();
        }
    })
    .await
    .expect("the batch hangs");
    let wall = started.elapsed();

    let log = emulator.log().entries();
    let mut ran: HashMap<String, usize> = HashMap::new();
    for entry in &log {
        if !is_throttled(entry.outcome()) {
            *ran.entry(marker_of(entry).expect("a marker")).or_default() += 1;
        }
    }
    let results = results.lock().unwrap();
    let mut failures = HashMap::new();
    let mut unexplained_failures = 0;
    let mut writes_run_twice = 0;
    for (call, kind, error) in results.iter() {
        if *kind == Kind::Write && ran.get(&marker(*call)).copied().unwrap_or(0) > 1 {
            writes_run_twice += 1;
        }
        if let Some(error) = error {
            *failures.entry(describe(error)).or_default() += 1;
            let ran = ran.get(&marker(*call)).copied().unwrap_or(0);
            let explained = match error.retry_class() {
                RetryClass::Never => true,
                // Not safe to replay, or as many failures as the default
                // max_attempts allows.
                RetryClass::Transient => *kind == Kind::Write || ran >= MAX_ATTEMPTS,
                _ => false,
            };
            unexplained_failures += usize::from(!explained);
        }
    }
    Batch {
        calls: results.len(),
        succeeded: results.iter().filter(|(.., error)| error.is_none()).count(),
        failures,
        sent: log.len(),
        throttled: log.iter().filter(|e| is_throttled(e.outcome())).count(),
        wall,
        writes_run_twice,
        unexplained_failures,
    }
}

fn is_throttled(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Error(code) if code == "RequestLimitExceeded")
}

async fn plain(policy: RetryPolicy, kinds: &[Kind]) -> Batch {
    let emulator = emulator();
    let client = ServiceBuilder::new()
        .layer(RetryLayer::new(policy))
        .layer(SignLayer::new(Credentials::new(SECRET_ID, SECRET_KEY)))
        .layer(EnvelopeLayer::new())
        .service(emulator.clone());
    batch(client, &emulator, kinds).await
}

async fn recommended(kinds: &[Kind]) -> Batch {
    adaptive(RetryPolicy::default(), kinds).await
}

async fn adaptive(policy: RetryPolicy, kinds: &[Kind]) -> Batch {
    let emulator = emulator();
    let client = ServiceBuilder::new()
        .layer(RetryLayer::new(policy))
        .layer(AdaptiveRateLimitLayer::new())
        .layer(SignLayer::new(Credentials::new(SECRET_ID, SECRET_KEY)))
        .layer(EnvelopeLayer::new())
        .service(emulator.clone());
    batch(client, &emulator, kinds).await
}

fn reads() -> Vec<Kind> {
    vec![Kind::Read; CALLS]
}

/// One call in ten a write: half of them without a ClientToken, half with
/// one and marked `Idempotent`.
fn mixed() -> Vec<Kind> {
    (0..CALLS)
        .map(|call| match call % 20 {
            0 | 10 => Kind::Write,
            5 | 15 => Kind::TokenedWrite,
            _ => Kind::Read,
        })
        .collect()
}

/// The previous defaults: every retry paid for by the budget, throttled
/// ones too, and at most 4 attempts in all.
fn previous_defaults() -> RetryPolicy {
    RetryPolicy::default()
        .max_throttled_retries(3)
        .budget(RetryBudget::new().covers_throttled(true))
}

/// Every throttle retried at once and often, without a budget, as the
/// `tencent-sdk` crate does: a short backoff (100 ms doubling to 1 s) and up
/// to 5 attempts.
fn retry_every_throttle() -> RetryPolicy {
    RetryPolicy::default()
        .max_throttled_retries(4)
        .throttled_backoff(Duration::from_millis(100), Duration::from_secs(1))
}

/// The batch's goals: every call that only met throttling gets through,
/// paced, without a storm.
fn assert_goals(batch: &Batch, calls: usize) {
    let throttle_failures: usize = batch
        .failures
        .iter()
        .filter(|(what, _)| what.as_str() == "RequestLimitExceeded")
        .map(|(_, count)| count)
        .sum();
    assert_eq!(batch.calls, calls);
    assert_eq!(throttle_failures, 0, "calls failed throttled: {batch:?}");
    assert!(
        batch.succeeded * 100 >= batch.calls * 99,
        "{} of {} succeeded: {batch:?}",
        batch.succeeded,
        batch.calls
    );
    assert!(
        batch.attempts_per_call() <= 1.3,
        "{:.2} requests per call: {batch:?}",
        batch.attempts_per_call()
    );
    let allowed = Duration::from_secs_f64(1.3 * calls as f64 / f64::from(LIMIT) + 5.0);
    assert!(
        batch.wall <= allowed,
        "{:?} > {allowed:?}: {batch:?}",
        batch.wall
    );
}

const HEADER: &str = "| stack | succeeded | requests per call | wall time | throttled answers | failures |\n|---|---:|---:|---:|---:|---|";

#[tokio::test(start_paused = true)]
async fn five_hundred_reads_under_a_sustained_limit_all_get_through_paced() {
    let recommended = recommended(&reads()).await;
    let plain_before = plain(previous_defaults(), &reads()).await;
    let plain_after = plain(RetryPolicy::default(), &reads()).await;
    let every_throttle = plain(retry_every_throttle(), &reads()).await;
    eprintln!("{CALLERS} callers, {CALLS} DescribeInstances, limit {LIMIT}/s, faults 5% + 3 x 3%");
    eprintln!("{HEADER}");
    eprintln!(
        "{}",
        recommended.row("Retry → AdaptiveRateLimit → Sign → Envelope, defaults")
    );
    eprintln!(
        "{}",
        plain_before.row("Retry → Sign → Envelope, previous defaults")
    );
    eprintln!("{}", plain_after.row("Retry → Sign → Envelope, defaults"));
    eprintln!(
        "{}",
        every_throttle.row("every throttle retried, no budget (tencent-sdk)")
    );

    assert_goals(&recommended, CALLS);
    assert_eq!(recommended.unexplained_failures, 0, "{recommended:?}");
    // Without the limiter, the defaults still get nearly every call
    // through (a call throttled 9 times in a row fails), paying in requests;
    // a budget that covers throttles fails most of them.
    assert!(plain_after.succeeded * 100 >= CALLS * 95, "{plain_after:?}");
    assert!(plain_before.succeeded * 2 < CALLS, "{plain_before:?}");
}

#[tokio::test(start_paused = true)]
async fn a_mixed_batch_runs_no_write_twice() {
    let batch = recommended(&mixed()).await;
    eprintln!("{HEADER}");
    eprintln!("{}", batch.row("mixed, recommended"));
    assert_goals(&batch, CALLS);
    assert_eq!(batch.writes_run_twice, 0, "{batch:?}");
    // The failed calls are writes that met a transient failure (not safe to
    // replay), or calls that met a failure never retried.
    assert_eq!(batch.unexplained_failures, 0, "{batch:?}");
}
