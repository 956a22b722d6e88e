//! Metrics of the whole stack, exported for Prometheus, against a local
//! Tencent Cloud API 3.0 emulator.
//!
//! ```text
//! cargo run --example observability --features emulator,metrics
//! ```
//!
//! Call → Retry → Attempt → rate limit → Sign → Envelope → hyper-util: a
//! DescribeInstances throttled twice then answered, a burst of
//! DescribeZones into the emulator's rate limit (paced by the adaptive
//! limiter once it has learnt the rate), a call the API refuses; then one
//! scrape of the exporter's listener on 127.0.0.1, printed.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use metrics_exporter_prometheus::PrometheusBuilder;
use serde_json::json;
use tokio::task::JoinSet;
use tower::retry::RetryLayer;
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::EnvelopeLayer;
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::emulator::{Emulator, Fault, Injection};
use tower_tencentcloud::ratelimit::AdaptiveRateLimitLayer;
use tower_tencentcloud::retry::RetryPolicy;
use tower_tencentcloud::sign::{Credentials, SignLayer};
use tower_tencentcloud::trace::{AttemptLayer, CallLayer};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    // 1. The Prometheus exporter, its listener on an ephemeral port of 127.0.0.1.
    let addr = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    PrometheusBuilder::new()
        .with_http_listener(addr)
        .set_buckets(&[0.005, 0.05, 0.25, 1.0, 5.0])?
        .install()?;

    // 2. An emulator in this process, DescribeZones limited to 10 a second.
    let credentials = Credentials::new("AKIDobservability000000000000000000", "observability-key");
    let emulator = Emulator::builder()
        .credentials(credentials.clone())
        .action_rate_limit("DescribeZones", 10)
        .start()
        .await?;

    // 3. The stack, the trace layers around the retry layer.
    let transport = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let client = ServiceBuilder::new()
        .layer(CallLayer::new())
        .layer(RetryLayer::new(
            RetryPolicy::default()
                .max_attempts(8)
                .throttled_backoff(Duration::from_millis(20), Duration::from_millis(500)),
        ))
        .layer(AttemptLayer::new())
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

    // 4. A call throttled twice, then answered.
    emulator.inject(
        Injection::new(Fault::Throttled)
            .action("DescribeInstances")
            .times(2),
    );
    client
        .clone()
        .oneshot(cvm("DescribeInstances", json!({"Limit": 5}))?)
        .await?;

    // 5. Three seconds of 8 callers against a limit of 10 a second.
    let mut callers = JoinSet::new();
    for _ in 0..8 {
        let client = client.clone();
        let request = cvm("DescribeZones", json!({}))?;
        callers.spawn(async move {
            let end = tokio::time::Instant::now() + Duration::from_secs(3);
            let mut request = request;
            while tokio::time::Instant::now() < end {
                let next = request.clone();
                // A call whose retries ran out is counted; the caller pauses.
                if client.clone().oneshot(request).await.is_err() {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                request = next;
            }
        });
    }
    callers.join_all().await;

    // 6. A call the API refuses: counted by its code's category.
    let refused = client
        .clone()
        .oneshot(cvm("DescribeRegions", json!({"Bogus": 1}))?)
        .await;
    println!("refused: {}\n", refused.unwrap_err());

    // 7. One scrape, over HTTP, as Prometheus would take it.
    let http = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let response = http.get(format!("http://{addr}/metrics").parse()?).await?;
    let scrape = String::from_utf8(response.into_body().collect().await?.to_bytes().to_vec())?;
    println!("GET http://{addr}/metrics (buckets left out):\n");
    for line in scrape.lines() {
        if line.starts_with("tencentcloud_") && !line.contains("_bucket{") {
            println!("{line}");
        }
    }
    Ok(())
}
