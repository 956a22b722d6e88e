//! What the adaptive rate limiter costs a request that need not wait: one
//! call through it against the same call without it, over a service that
//! answers at once.
//!
//! - `unthrottled`: no key was ever throttled: one atomic load, and the
//!   key cloned in case the answer is a throttle.
//! - `other_key_throttled`: another action was throttled, so the key is
//!   looked up under a read lock, and found absent.
//! - `measuring`: this key was throttled once; its answers are measured
//!   under its own lock, and nothing waits.
//!
//! Run: `cargo bench --bench ratelimit`

use std::future::{Future, Ready, ready};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use divan::{Bencher, black_box};
use http::{Request, Response, StatusCode};
use tower::{Layer, Service};
use tower_tencentcloud::ratelimit::AdaptiveRateLimitLayer;
use tower_tencentcloud::{ApiError, Error};

fn main() {
    divan::main();
}

/// Answers at once: throttled when the request carries `x-throttle`.
#[derive(Clone)]
struct AnswersAtOnce;

impl Service<Request<()>> for AnswersAtOnce {
    type Response = Response<()>;
    type Error = Error;
    type Future = Ready<Result<Response<()>, Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<()>) -> Self::Future {
        ready(if request.headers().contains_key("x-throttle") {
            Err(Error::Api(ApiError::new(
                StatusCode::OK,
                "RequestLimitExceeded",
                "slow down",
            )))
        } else {
            Ok(Response::new(()))
        })
    }
}

fn request(action: &str, throttle: bool) -> Request<()> {
    let mut builder = Request::post("https://cvm.tencentcloudapi.com/")
        .header("x-tc-region", "ap-guangzhou")
        .header("x-tc-action", action);
    if throttle {
        builder = builder.header("x-throttle", "1");
    }
    builder.body(()).unwrap()
}

fn zones() -> Request<()> {
    request("DescribeZones", false)
}

/// One call, polled to completion without a runtime: none of these waits.
fn call<S>(service: &mut S, request: Request<()>) -> Result<S::Response, Error>
where
    S: Service<Request<()>, Error = Error>,
{
    let mut cx = Context::from_waker(Waker::noop());
    assert!(service.poll_ready(&mut cx).is_ready());
    match pin!(service.call(request)).poll(&mut cx) {
        Poll::Ready(result) => result,
        Poll::Pending => panic!("a request that need not wait waited"),
    }
}

#[divan::bench]
fn without_the_layer(bencher: Bencher) {
    let mut service = AnswersAtOnce;
    bencher
        .with_inputs(zones)
        .bench_local_values(|request| black_box(call(&mut service, request)));
}

#[divan::bench]
fn unthrottled(bencher: Bencher) {
    let mut service = AdaptiveRateLimitLayer::new().layer(AnswersAtOnce);
    bencher
        .with_inputs(zones)
        .bench_local_values(|request| black_box(call(&mut service, request)));
}

#[divan::bench]
fn other_key_throttled(bencher: Bencher) {
    let mut service = AdaptiveRateLimitLayer::new().layer(AnswersAtOnce);
    call(&mut service, request("DescribeRegions", true)).unwrap_err();
    bencher
        .with_inputs(zones)
        .bench_local_values(|request| black_box(call(&mut service, request)));
}

#[divan::bench]
fn measuring(bencher: Bencher) {
    let mut service = AdaptiveRateLimitLayer::new().layer(AnswersAtOnce);
    call(&mut service, request("DescribeZones", true)).unwrap_err();
    bencher
        .with_inputs(zones)
        .bench_local_values(|request| black_box(call(&mut service, request)));
}
