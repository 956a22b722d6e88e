//! Typed results: the typed envelope layer, which decides the envelope and
//! deserializes the action's fields in one pass, against the one-pass serde
//! struct a hand-written client would use (`Error: Option<..>` and
//! `RequestId` beside the action's fields, `serde_json::from_slice`), and
//! against today's two passes (the untyped layer, then
//! `envelope::from_slice`). The layer arms and the baselines call the same
//! in-process service for the same response, whose body the baselines
//! collect first, on one current-thread runtime.
//!
//! Run: `cargo bench --bench typed`

use std::borrow::Cow;
use std::convert::Infallible;

use bytes::Bytes;
use divan::{Bencher, black_box, counter::BytesCount};
use http_body_util::{BodyExt, Full};
use serde::Deserialize;
use tower::{Layer, Service, ServiceExt};
use tower_tencentcloud::EnvelopeLayer;
use tower_tencentcloud::envelope::{TypedEnvelopeLayer, decode_response};

fn main() {
    divan::main();
}

const SIZES: [usize; 3] = [1 << 10, 64 << 10, 1 << 20];

/// [`SIZES`], or only the size `BENCH_SIZE` names: one size per process,
/// so that an instruction count (valgrind) belongs to one size.
fn sizes() -> Vec<usize> {
    match std::env::var("BENCH_SIZE") {
        Ok(size) => vec![size.parse().expect("BENCH_SIZE is a number of bytes")],
        Err(_) => SIZES.to_vec(),
    }
}

/// A DescribeInstances-like success body of about `size` bytes (the one of
/// `benches/envelope.rs`: dense, escapes in every instance).
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

/// The action's fields, owned.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DescribeInstances {
    #[serde(default)]
    total_count: u64,
    #[serde(default)]
    instance_set: Vec<Instance>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(dead_code)]
struct Instance {
    placement: Placement,
    instance_id: String,
    instance_type: String,
    #[serde(rename = "CPU")]
    cpu: u32,
    memory: u32,
    instance_name: String,
    private_ip_addresses: Vec<String>,
    tags: Vec<Tag>,
    created_time: String,
    price: Price,
    renew: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(dead_code)]
struct Placement {
    zone: String,
    project_id: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(dead_code)]
struct Tag {
    key: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(dead_code)]
struct Price {
    unit_price: f64,
    discount: f64,
}

/// The action's fields as a caller of the typed layer writes them, with
/// nothing optional: what fails to fit an error envelope.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(dead_code)]
struct DescribeInstancesRequired {
    total_count: u64,
    instance_set: Vec<Instance>,
}

/// The one-pass struct of a hand-written client, owned.
#[derive(Deserialize)]
struct OnePass {
    #[serde(rename = "Response")]
    response: OnePassResponse,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(dead_code)]
struct OnePassResponse {
    error: Option<ApiErrorFields>,
    request_id: Option<String>,
    #[serde(default)]
    total_count: u64,
    #[serde(default)]
    instance_set: Vec<Instance>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(dead_code)]
struct ApiErrorFields {
    code: String,
    message: String,
}

/// The same with the action's fields `#[serde(flatten)]`ed in.
#[derive(Deserialize)]
struct OnePassFlatten {
    #[serde(rename = "Response")]
    response: OnePassFlattenResponse,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(dead_code)]
struct OnePassFlattenResponse {
    error: Option<ApiErrorFields>,
    request_id: Option<String>,
    #[serde(flatten)]
    fields: DescribeInstances,
}

/// The action's fields, borrowing what has no escapes.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(dead_code)]
struct DescribeInstancesBorrowed<'a> {
    #[serde(default)]
    total_count: u64,
    #[serde(default, borrow)]
    instance_set: Vec<InstanceBorrowed<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(dead_code)]
struct InstanceBorrowed<'a> {
    #[serde(borrow)]
    placement: PlacementBorrowed<'a>,
    instance_id: &'a str,
    instance_type: &'a str,
    #[serde(rename = "CPU")]
    cpu: u32,
    memory: u32,
    #[serde(borrow)]
    instance_name: Cow<'a, str>,
    #[serde(borrow)]
    private_ip_addresses: Vec<&'a str>,
    #[serde(borrow)]
    tags: Vec<TagBorrowed<'a>>,
    created_time: &'a str,
    price: Price,
    renew: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(dead_code)]
struct PlacementBorrowed<'a> {
    zone: &'a str,
    project_id: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(dead_code)]
struct TagBorrowed<'a> {
    key: &'a str,
    value: &'a str,
}

#[derive(Deserialize)]
struct OnePassBorrowed<'a> {
    #[serde(rename = "Response", borrow)]
    response: OnePassBorrowedResponse<'a>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(dead_code)]
struct OnePassBorrowedResponse<'a> {
    #[serde(borrow)]
    error: Option<ApiErrorBorrowed<'a>>,
    request_id: Option<&'a str>,
    #[serde(default)]
    total_count: u64,
    #[serde(default, borrow)]
    instance_set: Vec<InstanceBorrowed<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
#[allow(dead_code)]
struct ApiErrorBorrowed<'a> {
    #[serde(borrow)]
    code: Cow<'a, str>,
    #[serde(borrow)]
    message: Cow<'a, str>,
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn inner(
    body: Bytes,
) -> impl Service<http::Request<()>, Response = http::Response<Full<Bytes>>, Error = Infallible> {
    tower::service_fn(move |_: http::Request<()>| {
        let response = http::Response::builder()
            .header("content-type", "application/json")
            .body(Full::new(body.clone()))
            .unwrap();
        async move { Ok::<_, Infallible>(response) }
    })
}

/// The typed layer: one call gives the fields or the error.
fn typed_layer(bencher: Bencher, body: Bytes) {
    typed_layer_of::<DescribeInstances>(bencher, body, |f| {
        f.instance_set.len() + f.total_count as usize
    });
}

fn typed_layer_of<T: serde::de::DeserializeOwned>(
    bencher: Bencher,
    body: Bytes,
    read: impl Fn(T) -> usize,
) {
    let rt = runtime();
    let mut service = TypedEnvelopeLayer::<T>::new().layer(inner(body));
    bencher.bench_local(|| {
        rt.block_on(async {
            let ready = service.ready().await.unwrap();
            match ready.call(http::Request::new(())).await {
                Ok(response) => black_box(response.into_body().into_value().map(&read)),
                Err(err) => black_box(err.code().map(|code| code.as_str().len())),
            }
        })
    });
}

/// Today: the untyped layer, then `envelope::from_slice` on its body.
fn two_passes(bencher: Bencher, body: Bytes) {
    let rt = runtime();
    let mut service = EnvelopeLayer::new().layer(inner(body));
    bencher.bench_local(|| {
        rt.block_on(async {
            let ready = service.ready().await.unwrap();
            match ready.call(http::Request::new(())).await {
                Ok(response) => {
                    let bytes = response.body().as_bytes().unwrap();
                    let f: DescribeInstances =
                        tower_tencentcloud::envelope::from_slice(bytes).unwrap();
                    black_box(Some(f.instance_set.len() + f.total_count as usize))
                }
                Err(err) => black_box(err.code().map(|code| code.as_str().len())),
            }
        })
    });
}

/// The same service and request, the body collected, then `read`.
fn after_collect<R>(bencher: Bencher, body: Bytes, read: impl Fn(&[u8]) -> R) {
    let rt = runtime();
    let mut service = inner(body);
    bencher.bench_local(|| {
        rt.block_on(async {
            let ready = service.ready().await.unwrap();
            let response = ready.call(http::Request::new(())).await.unwrap();
            let bytes = response.into_body().collect().await.unwrap().to_bytes();
            black_box(read(&bytes))
        })
    });
}

fn one_pass(bytes: &[u8]) -> usize {
    let envelope: OnePass = serde_json::from_slice(bytes).unwrap();
    let r = envelope.response;
    match r.error {
        None => {
            r.instance_set.len() + r.total_count as usize + r.request_id.map_or(0, |id| id.len())
        }
        Some(error) => error.code.len(),
    }
}

/// [`one_pass`] as a client that checks the body's UTF-8 once and lets
/// serde_json read the `str` would write it: not the bar, but the price of
/// the typed layer's own work beside a baseline that saves what it saves.
fn one_pass_from_str(bytes: &[u8]) -> usize {
    let text = std::str::from_utf8(bytes).unwrap();
    let envelope: OnePass = serde_json::from_str(text).unwrap();
    let r = envelope.response;
    match r.error {
        None => {
            r.instance_set.len() + r.total_count as usize + r.request_id.map_or(0, |id| id.len())
        }
        Some(error) => error.code.len(),
    }
}

fn one_pass_flatten(bytes: &[u8]) -> usize {
    let envelope: OnePassFlatten = serde_json::from_slice(bytes).unwrap();
    let r = envelope.response;
    match r.error {
        None => r.fields.instance_set.len() + r.request_id.map_or(0, |id| id.len()),
        Some(error) => error.code.len(),
    }
}

/// Owned fields, through the stack.
#[divan::bench_group]
mod owned {
    use super::*;

    #[divan::bench(args = sizes())]
    fn typed(bencher: Bencher, size: usize) {
        let body = success_body(size);
        typed_layer(bencher.counter(BytesCount::of_slice(&*body)), body);
    }

    #[divan::bench(args = sizes())]
    fn one_pass_struct(bencher: Bencher, size: usize) {
        let body = success_body(size);
        after_collect(
            bencher.counter(BytesCount::of_slice(&*body)),
            body,
            one_pass,
        );
    }

    #[divan::bench(args = sizes())]
    fn one_pass_struct_from_str(bencher: Bencher, size: usize) {
        let body = success_body(size);
        after_collect(
            bencher.counter(BytesCount::of_slice(&*body)),
            body,
            one_pass_from_str,
        );
    }

    #[divan::bench(args = sizes())]
    fn two_passes_today(bencher: Bencher, size: usize) {
        let body = success_body(size);
        two_passes(bencher.counter(BytesCount::of_slice(&*body)), body);
    }

    #[divan::bench(args = sizes())]
    fn flatten_struct(bencher: Bencher, size: usize) {
        let body = success_body(size);
        after_collect(
            bencher.counter(BytesCount::of_slice(&*body)),
            body,
            one_pass_flatten,
        );
    }
}

/// Borrowed fields: the decoder as a function (a borrowed type cannot leave
/// a layer) against the borrowed one-pass struct, both on the same bytes.
#[divan::bench_group]
mod borrowed {
    use super::*;

    #[divan::bench(args = sizes())]
    fn typed(bencher: Bencher, size: usize) {
        let body = success_body(size);
        bencher
            .counter(BytesCount::of_slice(&*body))
            .bench_local(|| {
                let response = decode_response::<DescribeInstancesBorrowed<'_>>(
                    http::Response::new(black_box(&body)),
                )
                .unwrap();
                black_box(response.body().instance_set.len() + response.extensions().len())
            });
    }

    #[divan::bench(args = sizes())]
    fn one_pass_struct(bencher: Bencher, size: usize) {
        let body = success_body(size);
        bencher
            .counter(BytesCount::of_slice(&*body))
            .bench_local(|| {
                let envelope: OnePassBorrowed<'_> =
                    serde_json::from_slice(black_box(&body)).unwrap();
                let r = envelope.response;
                black_box(
                    r.error.is_none() as usize
                        + r.instance_set.len()
                        + r.request_id.map_or(0, str::len),
                )
            });
    }
}

/// An error envelope, through the stack.
#[divan::bench_group]
mod error {
    use super::*;

    #[divan::bench]
    fn typed(bencher: Bencher) {
        typed_layer(bencher, error_body());
    }

    /// The caller's type without defaults, which the error envelope does
    /// not fit.
    #[divan::bench]
    fn typed_required(bencher: Bencher) {
        typed_layer_of::<DescribeInstancesRequired>(bencher, error_body(), |f| {
            f.instance_set.len() + f.total_count as usize
        });
    }

    #[divan::bench]
    fn one_pass_struct(bencher: Bencher) {
        after_collect(bencher, error_body(), one_pass);
    }

    #[divan::bench]
    fn one_pass_struct_from_str(bencher: Bencher) {
        after_collect(bencher, error_body(), one_pass_from_str);
    }
}
