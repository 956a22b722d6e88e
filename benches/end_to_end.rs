//! Requests per second through hyper-util on loopback, against a local hyper
//! server, with and without the envelope layer. Without it the caller still
//! collects the body, as any client must; with it the layer does that and
//! decides success or error on top. Each iteration sends a batch of
//! concurrent requests, so that the figure is throughput rather than the
//! loopback's wake-up latency, which varies a lot on a shared machine.
//! The `_typed` pair has the caller deserialize the body into typed structs
//! in both arms, as an SDK does: the share of a real call the layer takes.
//!
//! Run: `cargo bench --bench end_to_end`

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde::Deserialize;
use tower::{Layer, ServiceExt};
use tower_tencentcloud::EnvelopeLayer;

fn main() {
    divan::main();
}

const SIZES: [usize; 2] = [1 << 10, 256 << 10];

/// A success envelope of about `size` bytes, dense like a DescribeInstances answer.
fn body(size: usize) -> Bytes {
    let item = r#"{"InstanceId":"ins-0000","Zone":"ap-guangzhou-3","CPU":2,"Memory":4,"Tags":[{"Key":"env","Value":"prod"}]}"#;
    let count = (size.saturating_sub(100) / (item.len() + 1)).max(1);
    let items = vec![item; count].join(",");
    Bytes::from(format!(
        r#"{{"Response":{{"TotalCount":{count},"InstanceSet":[{items}],"RequestId":"b5b41468-520d-4192-b42f-595cc34b6c1c"}}}}"#
    ))
}

/// A server on its own thread and runtime, answering every request with
/// the body of the size named by the path.
fn serve() -> SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let bodies: Vec<(usize, Bytes)> = SIZES.iter().map(|&s| (s, body(s))).collect();
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                let bodies = bodies.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request: http::Request<_>| {
                        let size: usize = request.uri().path()[1..].parse().unwrap();
                        let body = bodies.iter().find(|(s, _)| *s == size).unwrap().1.clone();
                        let response = http::Response::builder()
                            .header("content-type", "application/json")
                            .body(Full::new(body))
                            .unwrap();
                        async move { Ok::<_, Infallible>(response) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    });
    rx.recv().unwrap()
}

fn setup() -> (
    tokio::runtime::Runtime,
    SocketAddr,
    Client<HttpConnector, Full<Bytes>>,
) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let addr = serve();
    let client = {
        let _guard = runtime.enter();
        Client::builder(TokioExecutor::new()).build_http()
    };
    (runtime, addr, client)
}

fn request(addr: SocketAddr, size: usize) -> http::Request<Full<Bytes>> {
    http::Request::post(format!("http://{addr}/{size}"))
        .header("x-tc-action", "DescribeInstances")
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap()
}

/// Requests in flight at once, per iteration.
const BATCH: usize = 32;

/// What the caller does with the body: nothing more, or deserialize it, as
/// an SDK would, into typed structs (which, without the layer, also look
/// for `Error`).
type Read = fn(&Bytes) -> usize;

fn untouched(body: &Bytes) -> usize {
    body.len()
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(rename = "Response")]
    response: DescribeInstances,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(dead_code)]
struct DescribeInstances {
    error: Option<ApiError>,
    total_count: u64,
    instance_set: Vec<Instance>,
    request_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(dead_code)]
struct ApiError {
    code: String,
    message: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(dead_code)]
struct Instance {
    instance_id: String,
    zone: String,
    #[serde(rename = "CPU")]
    cpu: u32,
    memory: u32,
    tags: Vec<Tag>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(dead_code)]
struct Tag {
    key: String,
    value: String,
}

fn typed(body: &Bytes) -> usize {
    let envelope: Envelope = serde_json::from_slice(body).unwrap();
    envelope.response.instance_set.len()
}

fn without(bencher: Bencher, size: usize, read: Read) {
    let (runtime, addr, client) = setup();
    bencher.counter(ItemsCount::new(BATCH)).bench_local(|| {
        runtime.block_on(async {
            let mut batch = tokio::task::JoinSet::new();
            for _ in 0..BATCH {
                let client = client.clone();
                batch.spawn(async move {
                    let response = client.request(request(addr, size)).await.unwrap();
                    read(&response.into_body().collect().await.unwrap().to_bytes())
                });
            }
            while let Some(len) = batch.join_next().await {
                black_box(len.unwrap());
            }
        })
    });
}

fn with(bencher: Bencher, size: usize, read: Read) {
    let (runtime, addr, client) = setup();
    let service = EnvelopeLayer::new().layer(client);
    bencher.counter(ItemsCount::new(BATCH)).bench_local(|| {
        runtime.block_on(async {
            let mut batch = tokio::task::JoinSet::new();
            for _ in 0..BATCH {
                let call = service.clone().oneshot(request(addr, size));
                batch.spawn(async move {
                    let response = call.await.unwrap();
                    response.body().as_bytes().map(read)
                });
            }
            while let Some(len) = batch.join_next().await {
                black_box(len.unwrap());
            }
        })
    });
}

#[divan::bench(args = SIZES)]
fn without_layer(bencher: Bencher, size: usize) {
    without(bencher, size, untouched);
}

#[divan::bench(args = SIZES)]
fn with_layer(bencher: Bencher, size: usize) {
    with(bencher, size, untouched);
}

/// The caller deserializes the body in both arms.
#[divan::bench(args = SIZES)]
fn without_layer_typed(bencher: Bencher, size: usize) {
    without(bencher, size, typed);
}

/// The caller deserializes the body in both arms.
#[divan::bench(args = SIZES)]
fn with_layer_typed(bencher: Bencher, size: usize) {
    with(bencher, size, typed);
}
