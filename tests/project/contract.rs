//! The public names issue #15 calls a contract, used by code outside the
//! crate: each is named here by the path users write, so that moving one
//! breaks this build before it breaks theirs.

use bytes::Bytes;
use http_body_util::Full;
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::emulator::Emulator;
use tower_tencentcloud::envelope::from_slice;
use tower_tencentcloud::ratelimit::{AdaptiveRateLimitLayer, RateKey};
use tower_tencentcloud::retry::{Attempts, Idempotent, RetryPolicy};
use tower_tencentcloud::sign::{Credentials, ServiceName, SignLayer, sign_request};
use tower_tencentcloud::sse::{Events, SseBody, SseLayer};
use tower_tencentcloud::{
    ApiError, Category, Code, EnvelopeBody, EnvelopeLayer, Error, RequestId, RetryClass,
};

const SECRET_ID: &str = "AKIDcontract";
const SECRET_KEY: &str = "contract-key";

#[tokio::test]
async fn the_contract_names_answer_an_api_error() {
    let credentials = Credentials::new(SECRET_ID, SECRET_KEY);
    let emulator = Emulator::builder()
        .credentials(credentials.clone())
        .into_service();
    let client = ServiceBuilder::new()
        .layer(tower::retry::RetryLayer::new(RetryPolicy::default()))
        .layer(AdaptiveRateLimitLayer::new())
        .layer(SignLayer::new(credentials.clone()))
        .layer(SseLayer::new())
        .layer(EnvelopeLayer::new())
        .service(emulator);

    let mut request = ActionRequest::new("cvm", "2017-03-12", "NoSuchAction")
        .endpoint("http://127.0.0.1:1")
        .build()
        .unwrap();
    request.extensions_mut().insert(Idempotent);
    assert_eq!(
        request
            .extensions()
            .get::<ServiceName>()
            .map(ServiceName::as_str),
        Some("cvm")
    );
    assert_eq!(
        RateKey::from_request(&request).action(),
        Some("NoSuchAction")
    );

    let err: Error = client.oneshot(request).await.unwrap_err();
    let Error::Api(ref api) = err else {
        panic!("not an API error: {err}");
    };
    let api: &ApiError = api;
    let code: &Code = api.code();
    assert_eq!(code, "InvalidAction");
    assert_eq!(code.category(), Category::InvalidAction);
    assert!(!api.message().is_empty());
    assert!(api.request_id().is_some());
    assert_eq!(api.status(), http::StatusCode::OK);
    assert!(api.headers().contains_key(http::header::CONTENT_TYPE));
    assert_eq!(api.retry_class(), RetryClass::Never);
    assert_eq!(err.code(), Some(code));
    assert_eq!(err.retry_class(), RetryClass::Never);
    assert_eq!(err.request_id(), api.request_id());
    assert_eq!(err.status(), Some(http::StatusCode::OK));
    assert!(std::ptr::eq(err.as_api().unwrap(), api));
}

#[test]
fn the_contract_names_of_bodies_signing_and_decoding_resolve() {
    let mut request = http::Request::post("https://cvm.tencentcloudapi.com/")
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap();
    sign_request(
        &mut request,
        &Credentials::new(SECRET_ID, SECRET_KEY),
        1_764_633_600,
    )
    .unwrap();
    assert!(request.headers().contains_key(http::header::AUTHORIZATION));

    #[derive(serde::Deserialize)]
    struct Zones {
        #[serde(rename = "TotalCount")]
        total_count: u64,
    }
    let zones: Zones = from_slice(br#"{"Response":{"TotalCount":3,"RequestId":"r-1"}}"#).unwrap();
    assert_eq!(zones.total_count, 3);
    assert_eq!(RequestId::from("r-1"), "r-1");

    // The types a stack's response and its stream reader are written with.
    fn names<B>(_: Option<SseBody<EnvelopeBody<B>>>, _: Option<Events<EnvelopeBody<B>>>) {}
    names::<Full<Bytes>>(None, None);
    let _: Option<Attempts> = None;
}
