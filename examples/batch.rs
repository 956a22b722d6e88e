//! A batch job against a sustained rate limit: 16 callers make 500
//! DescribeInstances calls to an emulator on 127.0.0.1 that allows 20 calls
//! a second and fails now and then (5% InternalError, 3% each of 502 pages,
//! truncated bodies and dropped connections), through four stacks:
//!
//! - the recommended one, Retry → AdaptiveRateLimit → Sign → Envelope, with
//!   the defaults;
//! - Retry → Sign → Envelope with the previous defaults (every retry paid by
//!   the budget, 4 attempts in all);
//! - Retry → Sign → Envelope with the current defaults;
//! - every throttle retried soon and without a budget (100 ms doubling to
//!   1 s, 5 attempts), as the `tencent-sdk` crate does.
//!
//! ```text
//! cargo run --release --example batch --features emulator
//! ```
//!
//! Each stack gets a fresh emulator; the run takes about two minutes, in
//! real time. `tests/batch.rs` runs the same batches in process on a paused
//! clock and asserts the goals of the first.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::json;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::retry::RetryLayer;
use tower::util::BoxCloneSyncService;
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::emulator::{Emulator, Fault, Outcome};
use tower_tencentcloud::ratelimit::AdaptiveRateLimitLayer;
use tower_tencentcloud::retry::{RetryBudget, RetryPolicy};
use tower_tencentcloud::sign::{Credentials, SignLayer};
use tower_tencentcloud::{EnvelopeLayer, Error};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const CALLERS: usize = 16;
const CALLS: usize = 500;
const LIMIT: u32 = 20;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let credentials = Credentials::new("AKIDbatch0000000000000000000000000", "batch-secret-key");
    println!(
        "{CALLERS} callers, {CALLS} DescribeInstances, limit {LIMIT}/s, \
         faults 5% InternalError + 3% each of 502, truncated body, dropped connection\n"
    );
    println!(
        "| stack | succeeded | requests per call | wall time | throttled answers | failures |"
    );
    println!("|---|---:|---:|---:|---:|---|");

    let modes: [(&str, RetryPolicy, bool); 4] = [
        (
            "Retry → AdaptiveRateLimit → Sign → Envelope, defaults",
            RetryPolicy::default(),
            true,
        ),
        (
            "Retry → Sign → Envelope, previous defaults",
            RetryPolicy::default()
                .max_throttled_retries(3)
                .budget(RetryBudget::new().covers_throttled(true)),
            false,
        ),
        (
            "Retry → Sign → Envelope, defaults",
            RetryPolicy::default(),
            false,
        ),
        (
            "every throttle retried, no budget (tencent-sdk)",
            RetryPolicy::default()
                .max_throttled_retries(4)
                .throttled_backoff(Duration::from_millis(100), Duration::from_secs(1)),
            false,
        ),
    ];
    for (mode, policy, adaptive) in modes {
        let emulator = Emulator::builder()
            .credentials(credentials.clone())
            .rate_limit(LIMIT)
            .fault_rate(Fault::InternalError, 0.05)
            .fault_rate(Fault::BadGateway, 0.03)
            .fault_rate(Fault::TruncatedBody, 0.03)
            .fault_rate(Fault::DropConnection, 0.03)
            .start()
            .await?;
        let transport = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        let sign = SignLayer::new(credentials.clone());
        let client = if adaptive {
            BoxCloneSyncService::new(
                ServiceBuilder::new()
                    .layer(RetryLayer::new(policy))
                    .layer(AdaptiveRateLimitLayer::new())
                    .layer(sign)
                    .layer(EnvelopeLayer::new())
                    .service(transport),
            )
        } else {
            BoxCloneSyncService::new(
                ServiceBuilder::new()
                    .layer(RetryLayer::new(policy))
                    .layer(sign)
                    .layer(EnvelopeLayer::new())
                    .service(transport),
            )
        };
        run(mode, &emulator, client).await?;
    }
    Ok(())
}

async fn run<S>(mode: &str, emulator: &Emulator, client: S) -> Result<(), BoxError>
where
    S: Service<Request<Full<Bytes>>, Error = Error> + Clone + Send + 'static,
    S::Future: Send,
    S::Response: Send,
{
    let endpoint = emulator.endpoint();
    let next = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(BTreeMap::<String, usize>::new()));
    let started = Instant::now();
    let mut callers = JoinSet::new();
    for _ in 0..CALLERS {
        let (client, next, failures, endpoint) = (
            client.clone(),
            next.clone(),
            failures.clone(),
            endpoint.clone(),
        );
        callers.spawn(async move {
            loop {
                let call = next.fetch_add(1, Ordering::Relaxed);
                if call >= CALLS {
                    return Ok::<_, BoxError>(());
                }
                let request = ActionRequest::new("cvm", "2017-03-12", "DescribeInstances")
                    .region("ap-guangzhou")
                    .endpoint(&endpoint)
                    .params(&json!({"Limit": 5, "Offset": call % 50}))
                    .build()?;
                if let Err(error) = client.clone().oneshot(request).await {
                    let what = match &error {
                        Error::Api(err) => err.code().to_string(),
                        Error::NotEnvelope(err) => format!("HTTP {}", err.status().as_u16()),
                        Error::Body(_) => "body".to_owned(),
                        Error::Transport(_) => "transport".to_owned(),
                        other => other.to_string(),
                    };
                    *failures
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .entry(what)
                        .or_default() += 1;
                }
            }
        });
    }
    while let Some(joined) = callers.join_next().await {
        joined??;
    }
    let wall = started.elapsed();
    let log = emulator.log().entries();
    let throttled = log
        .iter()
        .filter(|entry| matches!(entry.outcome(), Outcome::Error(code) if code == "RequestLimitExceeded"))
        .count();
    let failures = failures.lock().unwrap_or_else(PoisonError::into_inner);
    let failed: usize = failures.values().sum();
    println!(
        "| {mode} | {} of {CALLS} | {:.2} | {:.1} s | {:.1}% | {} |",
        CALLS - failed,
        log.len() as f64 / CALLS as f64,
        wall.as_secs_f64(),
        100.0 * throttled as f64 / log.len().max(1) as f64,
        if failures.is_empty() {
            "none".to_owned()
        } else {
            failures
                .iter()
                .map(|(what, count)| format!("{count} {what}"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    Ok(())
}
