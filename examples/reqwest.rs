//! The stack over reqwest, against the local emulator.
//!
//! ```text
//! cargo run --example reqwest --features emulator,reqwest
//! ```
//!
//! Retry → Sign → Envelope → `ReqwestService(reqwest::Client)`: the layers
//! are the same as over hyper-util; only the transport changes.

use std::time::Duration;

use serde_json::json;
use tower::retry::RetryLayer;
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::emulator::{Emulator, Fault};
use tower_tencentcloud::reqwest::ReqwestService;
use tower_tencentcloud::retry::{Attempts, RetryPolicy};
use tower_tencentcloud::sign::{Credentials, SignLayer};
use tower_tencentcloud::{EnvelopeLayer, RequestId};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let credentials = Credentials::new("AKIDreqwestexample000000000000000", "example-key");
    let emulator = Emulator::builder()
        .credentials(credentials.clone())
        .start()
        .await?;
    println!("emulator  {}", emulator.endpoint());

    let reqwest = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()?;
    let client = ServiceBuilder::new()
        .layer(RetryLayer::new(RetryPolicy::default()))
        .layer(SignLayer::new(credentials))
        .layer(EnvelopeLayer::new())
        .service(ReqwestService::new(reqwest));

    // A dropped connection on a read-only action: reqwest's error, retried.
    emulator.inject(Fault::DropConnection);
    let request = ActionRequest::new("cvm", "2017-03-12", "DescribeZones")
        .region("ap-guangzhou")
        .endpoint(emulator.endpoint())
        .params(&json!({}))
        .build()?;
    let response = client.oneshot(request).await?;
    let attempts = response
        .extensions()
        .get::<Attempts>()
        .map_or(1, |a| a.get());
    let request_id = response
        .extensions()
        .get::<RequestId>()
        .map_or("none", RequestId::as_str);
    println!("DescribeZones succeeded after {attempts} attempts, RequestId {request_id}");
    if let Some(body) = response.body().as_bytes() {
        println!("{}", String::from_utf8_lossy(body));
    }
    Ok(())
}
