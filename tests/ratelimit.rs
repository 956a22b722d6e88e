//! The adaptive rate limiter through the whole stack, against the
//! emulator in process, on a paused tokio clock.

use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::retry::RetryLayer;
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::EnvelopeLayer;
use tower_tencentcloud::emulator::{Emulator, Outcome};
use tower_tencentcloud::ratelimit::{AdaptiveRateLimitLayer, RateKey};
use tower_tencentcloud::retry::{RetryBudget, RetryPolicy};
use tower_tencentcloud::sign::{ActionRequest, Credentials, SignLayer};

fn credentials() -> Credentials {
    Credentials::new("AKIDratelimit0000000000000000000000", "ratelimit-key")
}

fn zones() -> http::Request<http_body_util::Full<bytes::Bytes>> {
    ActionRequest::new("cvm", "2017-03-12", "DescribeZones")
        .region("ap-guangzhou")
        .endpoint("http://127.0.0.1:1")
        .build()
        .unwrap()
}

const SECS: u64 = 120;
#[tokio::test(start_paused = true)]
async fn sixty_four_callers_settle_just_under_the_limit() {
    let emulator = Emulator::builder()
        .credentials(credentials())
        .action_rate_limit("DescribeZones", 20)
        .into_service();
    let rate_limit = AdaptiveRateLimitLayer::new();
    let policy = RetryPolicy::default()
        .max_attempts(10)
        .throttled_backoff(Duration::from_millis(200), Duration::from_secs(2))
        .budget(RetryBudget::new().ratio(2.0).max_tokens(100));
    let client = ServiceBuilder::new()
        .layer(RetryLayer::new(policy))
        .layer(rate_limit.clone())
        .layer(SignLayer::new(credentials()))
        .layer(EnvelopeLayer::new())
        .service(emulator.clone());

    let start = Instant::now();
    let end = start + Duration::from_secs(SECS);
    let mut callers = JoinSet::new();
    for _ in 0..64 {
        let client = client.clone();
        callers.spawn(async move {
            while Instant::now() < end {
                let _ = client.clone().oneshot(zones()).await;
            }
        });
    }
    let log = emulator.log();
    let mut previous = 0;
    let (mut tok, mut tth) = (0, 0);
    for second in 0..SECS {
        tokio::time::sleep_until(start + Duration::from_secs(second + 1)).await;
        let entries = log.entries_after(previous);
        previous += entries.len();
        let ok = entries
            .iter()
            .filter(|e| *e.outcome() == Outcome::Success)
            .count();
        if second >= 3 {
            tok += ok;
            tth += entries.len() - ok;
        }
        if std::env::var("SIM_QUIET").is_err() {
            eprintln!(
                "{second:2} ok {ok:3} throttled {:3} rate {:?}",
                entries.len() - ok,
                rate_limit.rate(&RateKey::from_request(&zones()))
            );
        }
    }
    callers.abort_all();
    eprintln!(
        "SUMMARY goodput {:.2} throttled {:.2}%",
        tok as f64 / (SECS - 3) as f64,
        100.0 * tth as f64 / (tok + tth) as f64
    );
}
