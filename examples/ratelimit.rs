//! Sixty-four callers against one action limited to 20 calls a second:
//! retries alone, the official SDKs' fixed backoff, and the adaptive rate
//! limiter with retries.
//!
//! ```text
//! cargo run --release --example ratelimit --features emulator
//! ```
//!
//! Each mode gets a fresh emulator on 127.0.0.1 whose DescribeZones allows
//! 20 calls a second (a bucket of 20, refilled at 20 a second), and 64
//! tasks that call it back to back for 3 s of warm-up then 10 s of
//! measurement; calls still running at the end are dropped. Over the
//! measured 10 s it reports goodput (calls that succeeded, per second), the
//! requests the emulator answered per second, the share of them that were
//! RequestLimitExceeded, the latency of the calls that succeeded (from the
//! caller's first attempt to the answer), and the calls that failed (gave
//! up while still throttled).
//!
//! - (a) `RetryPolicy`: jittered backoff from 200 ms doubling to 2 s, up to
//!   10 attempts (throttled retries spend no budget).
//! - (b) fixed backoff: retries after 1, 2, 4 and 8 s without jitter, as
//!   the official SDKs do.
//! - (c) `AdaptiveRateLimitLayer` under the same `RetryPolicy` as (a).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::task::JoinSet;
use tokio::time::{Instant, Sleep};
use tower::retry::{Policy, RetryLayer};
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::emulator::{Emulator, Outcome};
use tower_tencentcloud::ratelimit::{AdaptiveRateLimitLayer, RateKey};
use tower_tencentcloud::retry::RetryPolicy;
use tower_tencentcloud::sign::{Credentials, SignLayer};
use tower_tencentcloud::{EnvelopeLayer, Error, RetryClass};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const ACTION: &str = "DescribeZones";
const LIMIT: u32 = 20;
const CALLERS: usize = 64;
const WARM_UP: Duration = Duration::from_secs(3);
const MEASURED: Duration = Duration::from_secs(10);

/// What the issue asks of (c).
const GOAL_GOODPUT_SHARE: f64 = 0.95;
const GOAL_THROTTLED_SHARE: f64 = 0.02;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let credentials = Credentials::new("AKIDratelimit0000000000000000000000", "ratelimit-key");
    let transport = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let retry_policy = || {
        RetryPolicy::default()
            .max_throttled_retries(9)
            .throttled_backoff(Duration::from_millis(200), Duration::from_secs(2))
    };
    println!(
        "{CALLERS} callers, {ACTION} limited to {LIMIT}/s, {}s warm-up, {}s measured\n",
        WARM_UP.as_secs(),
        MEASURED.as_secs()
    );
    println!(
        "{:<40} {:>10} {:>8} {:>10} {:>9} {:>9} {:>7}",
        "mode", "goodput/s", "sent/s", "throttled", "p50", "p99", "failed"
    );

    let emulator = emulator(&credentials).await?;
    let client = ServiceBuilder::new()
        .layer(RetryLayer::new(retry_policy()))
        .layer(SignLayer::new(credentials.clone()))
        .layer(EnvelopeLayer::new())
        .service(transport.clone());
    let row = measure(&emulator, client).await;
    row.print("(a) RetryPolicy");

    let emulator = self::emulator(&credentials).await?;
    let client = ServiceBuilder::new()
        .layer(RetryLayer::new(FixedBackoff::default()))
        .layer(SignLayer::new(credentials.clone()))
        .layer(EnvelopeLayer::new())
        .service(transport.clone());
    let row = measure(&emulator, client).await;
    row.print("(b) fixed 1, 2, 4, 8 s backoff");

    let emulator = self::emulator(&credentials).await?;
    let rate_limit = AdaptiveRateLimitLayer::new();
    let client = ServiceBuilder::new()
        .layer(RetryLayer::new(retry_policy()))
        .layer(rate_limit.clone())
        .layer(SignLayer::new(credentials.clone()))
        .layer(EnvelopeLayer::new())
        .service(transport.clone());
    let adaptive = measure(&emulator, client).await;
    adaptive.print("(c) AdaptiveRateLimitLayer + RetryPolicy");

    let learned = rate_limit.rate(&RateKey::from_request(&zones(&emulator)?));
    let goodput_goal = GOAL_GOODPUT_SHARE * f64::from(LIMIT);
    let met = adaptive.goodput >= goodput_goal && adaptive.throttled <= GOAL_THROTTLED_SHARE;
    println!(
        "\n(c) learned rate at the end: {}",
        learned.map_or("none".to_owned(), |rate| format!("{rate:.2}/s"))
    );
    println!(
        "goal of (c): goodput >= {goodput_goal:.1}/s and throttled <= {:.0}%: {}",
        GOAL_THROTTLED_SHARE * 100.0,
        if met { "met" } else { "NOT met" }
    );
    Ok(())
}

async fn emulator(credentials: &Credentials) -> std::io::Result<Emulator> {
    Emulator::builder()
        .credentials(credentials.clone())
        .action_rate_limit(ACTION, LIMIT)
        .start()
        .await
}

fn zones(emulator: &Emulator) -> Result<Request<Full<Bytes>>, BoxError> {
    Ok(ActionRequest::new("cvm", "2017-03-12", ACTION)
        .region("ap-guangzhou")
        .endpoint(emulator.endpoint())
        .build()?)
}

/// One mode's figures over the measured window.
struct Row {
    goodput: f64,
    sent: f64,
    throttled: f64,
    p50: Duration,
    p99: Duration,
    failed: usize,
}

impl Row {
    fn print(&self, mode: &str) {
        println!(
            "{mode:<40} {:>10.2} {:>8.1} {:>9.2}% {:>9} {:>9} {:>7}",
            self.goodput,
            self.sent,
            self.throttled * 100.0,
            format!("{:.0?}", self.p50),
            format!("{:.0?}", self.p99),
            self.failed
        );
    }
}

/// A call that ended: when, after how long, and whether it succeeded.
struct Call {
    ended: Instant,
    latency: Duration,
    succeeded: bool,
}

async fn measure<S>(emulator: &Emulator, client: S) -> Row
where
    S: Service<Request<Full<Bytes>>, Error = Error> + Clone + Send + 'static,
    S::Response: Send,
    S::Future: Send,
{
    let request = zones(emulator).expect("a valid request");
    let start = Instant::now();
    let measured_from = start + WARM_UP;
    let end = measured_from + MEASURED;
    let calls = Arc::new(Mutex::new(Vec::new()));
    let mut callers = JoinSet::new();
    for _ in 0..CALLERS {
        let (client, request, calls) = (client.clone(), request.clone(), calls.clone());
        callers.spawn(async move {
            loop {
                let started = Instant::now();
                let call = client.clone().oneshot(request.clone());
                // Dropping a call at the end cancels it, backoff and all.
                let Ok(result) = tokio::time::timeout_at(end, call).await else {
                    return;
                };
                let ended = Instant::now();
                calls
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(Call {
                        ended,
                        latency: ended - started,
                        succeeded: result.is_ok(),
                    });
            }
        });
    }
    let log = emulator.log();
    tokio::time::sleep_until(measured_from).await;
    let answered_before = log.len();
    tokio::time::sleep_until(end).await;
    let answers = log.entries_after(answered_before);
    while callers.join_next().await.is_some() {}

    let throttled = answers
        .iter()
        .filter(|entry| matches!(entry.outcome(), Outcome::Error(code) if code.retry_class() == RetryClass::Throttled))
        .count();
    let calls = calls.lock().unwrap_or_else(PoisonError::into_inner);
    let in_window = calls
        .iter()
        .filter(|call| call.ended >= measured_from && call.ended <= end);
    let mut latencies: Vec<Duration> = in_window
        .clone()
        .filter(|call| call.succeeded)
        .map(|call| call.latency)
        .collect();
    latencies.sort_unstable();
    let failed = in_window.filter(|call| !call.succeeded).count();
    Row {
        goodput: latencies.len() as f64 / MEASURED.as_secs_f64(),
        sent: answers.len() as f64 / MEASURED.as_secs_f64(),
        throttled: throttled as f64 / answers.len().max(1) as f64,
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        failed,
    }
}

fn percentile(sorted: &[Duration], quantile: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() - 1) as f64 * quantile).round() as usize;
    sorted[index]
}

/// The official SDKs' retry of a throttled call: after 1, 2, 4 then 8 s,
/// without jitter, whatever else is going on.
#[derive(Debug, Clone, Default)]
struct FixedBackoff {
    retries: u32,
}

impl<B: Clone, RB> Policy<Request<B>, Response<RB>, Error> for FixedBackoff {
    type Future = Sleep;

    fn retry(
        &mut self,
        _: &mut Request<B>,
        result: &mut Result<Response<RB>, Error>,
    ) -> Option<Sleep> {
        match result {
            Err(error) if error.retry_class() == RetryClass::Throttled && self.retries < 4 => {
                let delay = Duration::from_secs(1 << self.retries);
                self.retries += 1;
                Some(tokio::time::sleep(delay))
            }
            _ => None,
        }
    }

    fn clone_request(&mut self, request: &Request<B>) -> Option<Request<B>> {
        Some(request.clone())
    }
}
