//! What a provider costs a signed call: fixed credentials against a
//! `CredentialsCache` holding valid ones (the fast path: a lock, a clock
//! reading, an `Arc` clone). The inner service answers at once, so that
//! the signing is all there is to measure; compare the two arms' ratio.

use bytes::Bytes;
use divan::Bencher;
use http_body_util::Full;
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::credentials::CredentialsCache;
use tower_tencentcloud::sign::{Credentials, SignLayer};

fn main() {
    divan::main();
}

fn request() -> http::Request<Full<Bytes>> {
    ActionRequest::new("cvm", "2017-03-12", "DescribeRegions")
        .region("ap-guangzhou")
        .build()
        .unwrap()
}

fn bench(bencher: Bencher, layer: SignLayer) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let inner = tower::service_fn(|_: http::Request<Full<Bytes>>| async {
        Ok::<_, tower_tencentcloud::Error>(http::Response::new(()))
    });
    let mut service = ServiceBuilder::new().layer(layer).service(inner);
    // The cache's first fetch, out of the measurement.
    runtime
        .block_on(service.clone().oneshot(request()))
        .unwrap();
    bencher
        .with_inputs(request)
        .bench_local_values(|request| runtime.block_on(service.call(request)).unwrap());
}

fn credentials() -> Credentials {
    Credentials::new("AKIDEXAMPLE", "secret-key").with_session_token("token")
}

#[divan::bench]
fn fixed(bencher: Bencher) {
    bench(bencher, SignLayer::new(credentials()));
}

#[divan::bench]
fn cached(bencher: Bencher) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let _guard = runtime.enter();
    bench(
        bencher,
        SignLayer::with_cache(CredentialsCache::new(credentials())),
    );
}
