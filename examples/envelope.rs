//! Starts a local server that answers like Tencent Cloud API 3.0 (an error
//! inside an HTTP 200, then a success), and calls it through the layer.
//!
//! Run: `cargo run --example envelope`

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde::Deserialize;
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::{EnvelopeLayer, RequestId};

const ERROR: &str = r#"{"Response":{"Error":{"Code":"ResourceNotFound.InstanceNotFound","Message":"Instance `ins-404` does not exist."},"RequestId":"ed93f3cb-f35e-473f-b9f3-0d451b8b79c6"}}"#;
const SUCCESS: &str = r#"{"Response":{"TotalCount":1,"InstanceSet":[{"InstanceId":"ins-1"}],"RequestId":"b5b41468-520d-4192-b42f-595cc34b6c1c"}}"#;

#[derive(Deserialize)]
struct DescribeInstances {
    #[serde(rename = "TotalCount")]
    total_count: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let calls = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let calls = calls.clone();
            let service = hyper::service::service_fn(move |_| {
                // The real API reports failures with HTTP 200 too.
                let body = if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                    ERROR
                } else {
                    SUCCESS
                };
                let response = http::Response::builder()
                    .header("content-type", "application/json")
                    .body(Full::new(Bytes::from_static(body.as_bytes())))
                    .expect("a valid response");
                async move { Ok::<_, Infallible>(response) }
            });
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service),
            );
        }
    });
    println!("local API 3.0 stand-in on http://{addr}");

    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let service = ServiceBuilder::new()
        .layer(EnvelopeLayer::new())
        .service(client);

    for attempt in 1..=2 {
        let request = http::Request::post(format!("http://{addr}/"))
            .header("content-type", "application/json")
            .header("x-tc-action", "DescribeInstances")
            .body(Full::new(Bytes::from_static(
                br#"{"InstanceIds":["ins-404"]}"#,
            )))?;
        match service.clone().oneshot(request).await {
            Ok(response) => {
                let request_id = response.extensions().get::<RequestId>().cloned();
                let body = response.body().as_bytes().expect("an envelope");
                let fields: DescribeInstances = tower_tencentcloud::envelope::from_slice(body)?;
                println!(
                    "call {attempt}: ok, {} instances, RequestId {request_id:?}",
                    fields.total_count
                );
            }
            Err(err) => {
                println!("call {attempt}: error: {err}");
                println!(
                    "  code {}, retry class {:?}, HTTP {:?}",
                    err.code().map_or("-", |c| c.as_str()),
                    err.retry_class(),
                    err.status()
                );
            }
        }
    }
    Ok(())
}
