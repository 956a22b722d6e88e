//! Retries through the whole stack, against a local server that throttles
//! the first two calls.
//!
//! ```text
//! cargo run --example retry
//! ```
//!
//! A real client also signs its requests: `SignLayer` goes between
//! `RetryLayer` and `EnvelopeLayer`, so that every attempt is signed afresh.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use tokio::time::Instant;
use tower::retry::RetryLayer;
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::retry::{Attempts, RetryPolicy};
use tower_tencentcloud::{EnvelopeLayer, RequestId};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let addr = serve_throttling_api().await?;

    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let policy = RetryPolicy::default()
        // Shorter than the default (1 s doubling to 20 s) to keep the demo brisk.
        .throttled_backoff(Duration::from_millis(200), Duration::from_secs(2));
    let service = ServiceBuilder::new()
        .layer(RetryLayer::new(policy))
        .layer(EnvelopeLayer::new())
        .service(client);

    let request = Request::post(format!("http://{addr}/"))
        .header("Content-Type", "application/json")
        .header("X-TC-Action", "DescribeRegions")
        .header("X-TC-Version", "2017-03-12")
        .body(Full::new(Bytes::from_static(b"{}")))?;

    let started = Instant::now();
    let response = service.oneshot(request).await?;
    let elapsed = started.elapsed();

    let attempts = response
        .extensions()
        .get::<Attempts>()
        .map_or(1, |a| a.get());
    let request_id = response
        .extensions()
        .get::<RequestId>()
        .map_or("none", RequestId::as_str);
    println!("client: DescribeRegions succeeded after {attempts} attempts in {elapsed:.2?}");
    println!("client: RequestId {request_id}");
    if let Some(body) = response.body().as_bytes() {
        println!("client: body {}", String::from_utf8_lossy(body));
    }
    Ok(())
}

/// Starts an API 3.0 look-alike on an ephemeral port: `RequestLimitExceeded`
/// for the first two calls, success afterwards.
async fn serve_throttling_api() -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let calls = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let calls = Arc::clone(&calls);
            let service = hyper::service::service_fn(move |request: Request<Incoming>| {
                let call = calls.fetch_add(1, Ordering::SeqCst);
                answer(call, request)
            });
            tokio::spawn(async move {
                if let Err(err) = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                {
                    eprintln!("server: connection failed: {err}");
                }
            });
        }
    });
    Ok(addr)
}

async fn answer(
    call: usize,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let action = request
        .headers()
        .get("X-TC-Action")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let request_id = format!("00000000-0000-4000-8000-00000000000{call}");
    let body = if call < 2 {
        println!("server: call {call} ({action}): RequestLimitExceeded");
        format!(
            r#"{{"Response":{{"Error":{{"Code":"RequestLimitExceeded","Message":"The request rate is over the limit."}},"RequestId":"{request_id}"}}}}"#
        )
    } else {
        println!("server: call {call} ({action}): success");
        format!(
            r#"{{"Response":{{"TotalCount":1,"RegionSet":[{{"Region":"ap-guangzhou","RegionName":"South China(Guangzhou)","RegionState":"AVAILABLE"}}],"RequestId":"{request_id}"}}}}"#
        )
    };
    let response = Response::builder()
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .expect("static headers are valid");
    Ok(response)
}
