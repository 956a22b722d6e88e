//! The whole stack against a local Tencent Cloud API 3.0 emulator.
//!
//! ```text
//! cargo run --example quickstart --features emulator
//! ```
//!
//! Retry → AdaptiveRateLimit → Sign → Envelope → hyper-util, calling an
//! emulator started in this process: a DescribeInstances and its RequestId;
//! an error matched by its code; a burst of 50 calls into a rate limit,
//! paced and retried until every one succeeds; an InternalError absorbed on
//! a read-only action. Against the real API, only
//! the credentials (`Credentials::from_env()`), the endpoint (none: the
//! default `https://cvm.tencentcloudapi.com`) and an HTTPS connector change.

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use serde_json::json;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::retry::RetryLayer;
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::emulator::{Emulator, Fault, Injection, Outcome};
use tower_tencentcloud::ratelimit::AdaptiveRateLimitLayer;
use tower_tencentcloud::retry::{Attempts, RetryPolicy};
use tower_tencentcloud::sign::{Credentials, SignLayer};
use tower_tencentcloud::{EnvelopeLayer, Error, RequestId};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The fields of DescribeInstances this example reads.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeInstances {
    total_count: u64,
    instance_set: Vec<Instance>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Instance {
    instance_id: String,
    instance_name: String,
    instance_state: String,
}

const BURST: usize = 50;
const RATE_LIMIT: u32 = 20;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    // 1. An emulator in this process, on an ephemeral port of 127.0.0.1.
    let credentials = Credentials::new("AKIDquickstart00000000000000000000", "quickstart-key");
    let emulator = Emulator::builder()
        .credentials(credentials.clone())
        .action_rate_limit("DescribeZones", RATE_LIMIT)
        .start()
        .await?;
    println!(
        "emulator   Tencent Cloud API 3.0 at {}",
        emulator.endpoint()
    );

    // 2. The stack, outermost first: Retry replays, AdaptiveRateLimit paces
    //    each attempt under the rate it learns from throttles, Sign signs
    //    each attempt afresh, Envelope turns Response.Error into a typed
    //    Error. The defaults are the recommended ones.
    let transport = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let client = ServiceBuilder::new()
        .layer(RetryLayer::new(RetryPolicy::default()))
        .layer(AdaptiveRateLimitLayer::new())
        .layer(SignLayer::new(credentials))
        .layer(EnvelopeLayer::new())
        .service(transport);
    let cvm = |action: &str, params: serde_json::Value| {
        ActionRequest::new("cvm", "2017-03-12", action)
            .region("ap-guangzhou")
            .endpoint(emulator.endpoint())
            .params(&params)
            .build()
    };

    // 3. A call, its fields and its RequestId.
    println!("\n-- DescribeInstances");
    let response = client
        .clone()
        .oneshot(cvm("DescribeInstances", json!({"Limit": 3}))?)
        .await?;
    let request_id = response
        .extensions()
        .get::<RequestId>()
        .ok_or("no RequestId")?
        .clone();
    let body = response
        .body()
        .as_bytes()
        .ok_or("an envelope is buffered")?;
    let described: DescribeInstances = tower_tencentcloud::envelope::from_slice(body)?;
    println!(
        "ok         {} instances in all, the first {}:",
        described.total_count,
        described.instance_set.len()
    );
    for instance in &described.instance_set {
        println!(
            "           {} {} {}",
            instance.instance_id, instance.instance_name, instance.instance_state
        );
    }
    println!("RequestId  {request_id}");

    // 4. An error, matched by its code.
    println!("\n-- TerminateInstances of an instance that does not exist");
    match client
        .clone()
        .oneshot(cvm(
            "TerminateInstances",
            json!({"InstanceIds": ["ins-00000000"]}),
        )?)
        .await
    {
        Err(Error::Api(err)) if err.code() == "InvalidInstanceId.NotFound" => {
            println!("typed      {}: {}", err.code(), err.message());
            println!(
                "           retry class {:?}, RequestId {}",
                err.retry_class(),
                err.request_id().map_or("none", RequestId::as_str)
            );
        }
        other => return Err(format!("expected InvalidInstanceId.NotFound, got {other:?}").into()),
    }

    // 5. A burst into the rate limit: every call succeeds in the end.
    println!("\n-- {BURST} concurrent DescribeZones, limited to {RATE_LIMIT} a second");
    let started = Instant::now();
    let mut calls = JoinSet::new();
    for _ in 0..BURST {
        let call = client.clone().oneshot(cvm("DescribeZones", json!({}))?);
        calls.spawn(call);
    }
    let (mut attempts, mut most_attempts) = (0, 0);
    while let Some(result) = calls.join_next().await {
        let response = result??;
        let made = response
            .extensions()
            .get::<Attempts>()
            .map_or(1, |attempts| attempts.get());
        attempts += made;
        most_attempts = most_attempts.max(made);
    }
    let throttled = count(
        &emulator,
        |outcome| matches!(outcome, Outcome::Error(code) if code == "RequestLimitExceeded"),
    );
    println!(
        "ok         {BURST} of {BURST} succeeded in {:.1?}: {attempts} attempts, \
         {throttled} throttled (RequestLimitExceeded), at most {most_attempts} for one call",
        started.elapsed()
    );

    // 6. A backend failure on a read-only action: retried, and absorbed.
    println!("\n-- DescribeInstances while a backend fails once");
    emulator.inject(Injection::new(Fault::InternalError).action("DescribeInstances"));
    let response = client
        .clone()
        .oneshot(cvm("DescribeInstances", json!({"Limit": 1}))?)
        .await?;
    let made = response
        .extensions()
        .get::<Attempts>()
        .map_or(1, |attempts| attempts.get());
    let internal_errors = count(
        &emulator,
        |outcome| matches!(outcome, Outcome::Error(code) if code == "InternalError"),
    );
    println!("ok         after {made} attempts ({internal_errors} InternalError absorbed)");

    println!("\n-- Summary");
    println!("calls answered by the emulator: {}", emulator.log().len());
    println!("a typed error matched by code:  InvalidInstanceId.NotFound");
    println!("throttled and retried:          {throttled}");
    println!("InternalError absorbed:         {internal_errors}");
    println!("every call of the burst and the failing read succeeded.");
    Ok(())
}

/// How many calls the emulator answered with an outcome that `pick` picks.
fn count(emulator: &Emulator, pick: impl Fn(&Outcome) -> bool) -> usize {
    emulator
        .log()
        .entries()
        .iter()
        .filter(|entry| pick(entry.outcome()))
        .count()
}
