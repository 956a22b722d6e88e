//! What the failover layer costs a call: one call through it against the
//! same call without it, over a service that answers at once.
//!
//! - `healthy`: the call's host has a closed breaker: its ring is computed,
//!   its breaker locked twice (admit, record), the request cloned once.
//! - `around_an_open_breaker`: the primary's breaker is open, so every call
//!   is turned away by it and sent to the next host of the ring, its URI
//!   and `Host` rewritten.
//!
//! Run: `cargo bench --bench failover`

use std::future::{Future, Ready, ready};
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use divan::{Bencher, black_box};
use http::{Request, Response};
use tower::{Layer, Service};
use tower_tencentcloud::failover::{BreakerConfig, FailoverLayer};
use tower_tencentcloud::{BoxError, Error};

fn main() {
    divan::main();
}

const PRIMARY: &str = "cvm.tencentcloudapi.com";

/// Answers at once; refuses connections to `down` when set.
#[derive(Clone)]
struct AnswersAtOnce {
    down: Option<&'static str>,
}

impl Service<Request<()>> for AnswersAtOnce {
    type Response = Response<()>;
    type Error = Error;
    type Future = Ready<Result<Response<()>, Error>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<()>) -> Self::Future {
        let refused = self.down == request.uri().host();
        ready(if refused {
            let err = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
            Err(Error::from_boxed(BoxError::from(err)))
        } else {
            Ok(Response::new(()))
        })
    }
}

fn zones() -> Request<()> {
    Request::post(format!("https://{PRIMARY}/"))
        .header("host", PRIMARY)
        .header("x-tc-region", "ap-guangzhou")
        .header("x-tc-action", "DescribeZones")
        .body(())
        .unwrap()
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
        Poll::Pending => panic!("a call that need not wait waited"),
    }
}

#[divan::bench]
fn without_the_layer(bencher: Bencher) {
    let mut service = AnswersAtOnce { down: None };
    bencher
        .with_inputs(zones)
        .bench_local_values(|request| black_box(call(&mut service, request)));
}

#[divan::bench]
fn healthy(bencher: Bencher) {
    let mut service = FailoverLayer::new().layer(AnswersAtOnce { down: None });
    bencher
        .with_inputs(zones)
        .bench_local_values(|request| black_box(call(&mut service, request)));
}

#[divan::bench]
fn around_an_open_breaker(bencher: Bencher) {
    let layer = FailoverLayer::new().breaker(BreakerConfig::new().min_failures(1));
    let mut service = layer.layer(AnswersAtOnce {
        down: Some(PRIMARY),
    });
    call(&mut service, zones()).unwrap();
    assert!(layer.breaker_state(PRIMARY).is_some());
    bencher
        .with_inputs(zones)
        .bench_local_values(|request| black_box(call(&mut service, request)));
}
