//! The envelope layer against the two ways a client would otherwise find
//! `Response.Error`: parsing into `serde_json::Value`, and a borrowed serde
//! struct that skips unknown fields. All three call the same in-process
//! service for a response whose body must be collected, on one
//! current-thread runtime.
//!
//! Run: `cargo bench --bench envelope`

use std::convert::Infallible;

use bytes::Bytes;
use divan::{Bencher, black_box, counter::BytesCount};
use http_body_util::{BodyExt, Full};
use serde::Deserialize;
use tower::{Layer, Service, ServiceExt};
use tower_tencentcloud::EnvelopeLayer;

fn main() {
    divan::main();
}

/// A DescribeInstances-like success body of about `size` bytes.
fn success_body(size: usize) -> Bytes {
    let mut instances = Vec::new();
    let mut i = 0;
    let mut len = 0;
    while len < size.saturating_sub(120) || instances.is_empty() {
        let instance = format!(
            r#"{{"Placement":{{"Zone":"ap-guangzhou-{z}","ProjectId":0}},"InstanceId":"ins-{i:08x}","InstanceType":"S5.MEDIUM{z}","CPU":{cpu},"Memory":{mem},"InstanceName":"web \"{i}\" \u4f60\u597d","PrivateIpAddresses":["10.0.{a}.{b}"],"Tags":[{{"Key":"env","Value":"prod"}}],"CreatedTime":"2026-11-0{z}T08:00:00Z","Error":null,"Price":{{"UnitPrice":0.{i}5,"Discount":1e2}},"Renew":true}}"#,
            z = i % 7 + 1,
            cpu = 1 << (i % 4),
            mem = 2 << (i % 5),
            a = i % 256,
            b = (i / 256) % 256,
        );
        len += instance.len() + 1;
        instances.push(instance);
        i += 1;
    }
    Bytes::from(format!(
        r#"{{"Response":{{"TotalCount":{},"InstanceSet":[{}],"RequestId":"b5b41468-520d-4192-b42f-595cc34b6c1c"}}}}"#,
        instances.len(),
        instances.join(",")
    ))
}

fn error_body() -> Bytes {
    Bytes::from_static(br#"{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"Your current request times equals to `21` in a second, which exceeds the frequency limit `20` for a second. Please reduce the frequency of calls."},"RequestId":"ed93f3cb-f35e-473f-b9f3-0d451b8b79c6"}}"#)
}

const SIZES: [usize; 2] = [1 << 10, 1 << 20];

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn response(body: &Bytes) -> http::Response<Full<Bytes>> {
    http::Response::builder()
        .header("content-type", "application/json")
        .body(Full::new(body.clone()))
        .unwrap()
}

/// The whole layer call: inner service, body collection, decision.
fn through_layer(bencher: Bencher, body: Bytes) {
    let rt = runtime();
    let inner = tower::service_fn(move |_: http::Request<()>| {
        let response = response(&body);
        async move { Ok::<_, Infallible>(response) }
    });
    let mut service = EnvelopeLayer::new().layer(inner);
    bencher.bench_local(|| {
        rt.block_on(async {
            let ready = service.ready().await.unwrap();
            let outcome = ready.call(http::Request::new(())).await;
            black_box(outcome.map(|r| r.into_parts().0.extensions.len()).is_ok())
        })
    });
}

/// A DescribeInstances request as `ActionRequest` makes it, without a body.
fn action_request() -> http::Request<()> {
    use tower_tencentcloud::action::ServiceName;
    use tower_tencentcloud::action::header::{X_TC_ACTION, X_TC_REGION, X_TC_VERSION};
    http::Request::post("https://cvm.tencentcloudapi.com/")
        .header(X_TC_ACTION, "DescribeInstances")
        .header(X_TC_VERSION, "2017-03-12")
        .header(X_TC_REGION, "ap-guangzhou")
        .extension(ServiceName::new("cvm"))
        .body(())
        .unwrap()
}

/// The envelope layer over the same inner service as [`through_layer`],
/// with or without the trace layers around it (no subscriber, no
/// recorder: what instrumentation costs when nobody listens).
fn through_stack(bencher: Bencher, body: Bytes, traced: bool) {
    use tower_tencentcloud::trace::{AttemptLayer, CallLayer};
    let rt = runtime();
    let inner = tower::service_fn(move |_: http::Request<()>| {
        let response = response(&body);
        async move { Ok::<_, Infallible>(response) }
    });
    let envelope = EnvelopeLayer::new().layer(inner);
    let mut plain = envelope.clone();
    let mut traced_stack = CallLayer::new().layer(AttemptLayer::new().layer(envelope));
    bencher.bench_local(|| {
        rt.block_on(async {
            let request = action_request();
            let outcome = if traced {
                let ready = traced_stack.ready().await.unwrap();
                ready.call(request).await
            } else {
                let ready = plain.ready().await.unwrap();
                ready.call(request).await
            };
            black_box(outcome.map(|r| r.into_parts().0.extensions.len()).is_ok())
        })
    });
}

/// Calls the same inner service as [`through_layer`], collects the body as
/// a client would, then looks for `Response.Error` with `find`: the same
/// request, response and runtime, without the layer.
fn after_collect<T>(bencher: Bencher, body: Bytes, find: impl Fn(&[u8]) -> T) {
    let rt = runtime();
    let mut service = tower::service_fn(move |_: http::Request<()>| {
        let response = response(&body);
        async move { Ok::<_, Infallible>(response) }
    });
    bencher.bench_local(|| {
        rt.block_on(async {
            let ready = service.ready().await.unwrap();
            let response = ready.call(http::Request::new(())).await.unwrap();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            black_box(find(&bytes))
        })
    });
}

/// (a) parse into `serde_json::Value`, look for Error.
fn into_value(bencher: Bencher, body: Bytes) {
    after_collect(bencher, body, |bytes| {
        let value: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        let response = &value["Response"];
        (
            response.get("Error").is_some(),
            response["RequestId"].as_str().map(str::len),
        )
    });
}

#[derive(Deserialize)]
struct BorrowedEnvelope<'a> {
    #[serde(rename = "Response", borrow)]
    response: BorrowedResponse<'a>,
}

#[derive(Deserialize)]
struct BorrowedResponse<'a> {
    #[serde(rename = "Error", borrow)]
    error: Option<BorrowedError<'a>>,
    #[serde(rename = "RequestId")]
    request_id: Option<&'a str>,
}

#[derive(Deserialize)]
struct BorrowedError<'a> {
    #[serde(rename = "Code")]
    code: &'a str,
    #[serde(rename = "Message")]
    message: &'a str,
}

/// (b) parse into a borrowed struct that skips the rest.
fn into_borrowed(bencher: Bencher, body: Bytes) {
    after_collect(bencher, body, |bytes| {
        let envelope: BorrowedEnvelope<'_> = serde_json::from_slice(bytes).unwrap();
        let r = envelope.response;
        (
            r.error.map(|e| e.code.len() + e.message.len()),
            r.request_id.map(str::len),
        )
    });
}

#[divan::bench_group]
mod success {
    use super::*;

    #[divan::bench(args = SIZES)]
    fn layer(bencher: Bencher, size: usize) {
        let body = success_body(size);
        through_layer(bencher.counter(BytesCount::of_slice(&*body)), body);
    }

    #[divan::bench(args = SIZES)]
    fn value(bencher: Bencher, size: usize) {
        let body = success_body(size);
        into_value(bencher.counter(BytesCount::of_slice(&*body)), body);
    }

    #[divan::bench(args = SIZES)]
    fn borrowed(bencher: Bencher, size: usize) {
        let body = success_body(size);
        into_borrowed(bencher.counter(BytesCount::of_slice(&*body)), body);
    }
}

#[divan::bench_group]
mod error {
    use super::*;

    #[divan::bench]
    fn layer(bencher: Bencher) {
        through_layer(bencher, error_body());
    }

    #[divan::bench]
    fn value(bencher: Bencher) {
        into_value(bencher, error_body());
    }

    #[divan::bench]
    fn borrowed(bencher: Bencher) {
        into_borrowed(bencher, error_body());
    }
}

/// The cost of `trace::CallLayer` and `trace::AttemptLayer` when no
/// subscriber and no recorder is installed: `traced` over `plain`, 1 KiB.
#[divan::bench_group]
mod instrumentation {
    use super::*;

    #[divan::bench]
    fn plain(bencher: Bencher) {
        let body = success_body(1 << 10);
        through_stack(bencher.counter(BytesCount::of_slice(&*body)), body, false);
    }

    #[divan::bench]
    fn traced(bencher: Bencher) {
        let body = success_body(1 << 10);
        through_stack(bencher.counter(BytesCount::of_slice(&*body)), body, true);
    }
}

/// The decoder alone, without the layer around it.
#[divan::bench_group]
mod decode_only {
    use super::*;

    #[divan::bench(args = SIZES)]
    fn scanner(bencher: Bencher, size: usize) {
        let body = success_body(size);
        bencher
            .counter(BytesCount::of_slice(&*body))
            .bench_local(|| {
                black_box(tower_tencentcloud::envelope::decode(black_box(&body)).is_ok())
            });
    }

    #[divan::bench(args = SIZES)]
    fn borrowed(bencher: Bencher, size: usize) {
        let body = success_body(size);
        bencher
            .counter(BytesCount::of_slice(&*body))
            .bench_local(|| {
                let envelope: BorrowedEnvelope<'_> =
                    serde_json::from_slice(black_box(&body)).unwrap();
                black_box(envelope.response.request_id.map(str::len))
            });
    }

    #[divan::bench]
    fn scanner_error(bencher: Bencher) {
        let body = error_body();
        bencher.bench_local(|| {
            black_box(tower_tencentcloud::envelope::decode(black_box(&body)).is_ok())
        });
    }

    #[divan::bench]
    fn borrowed_error(bencher: Bencher) {
        let body = error_body();
        bencher.bench_local(|| {
            let envelope: BorrowedEnvelope<'_> = serde_json::from_slice(black_box(&body)).unwrap();
            black_box(
                envelope
                    .response
                    .error
                    .map(|e| e.code.len() + e.message.len()),
            )
        });
    }
}
