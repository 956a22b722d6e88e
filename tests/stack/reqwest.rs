//! The stack over reqwest: Retry → Sign → Envelope → ReqwestService, against
//! the emulator on 127.0.0.1.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use serde_json::{Value, json};
use tower::retry::RetryLayer;
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::emulator::{Emulator, Fault, Outcome};
use tower_tencentcloud::reqwest::ReqwestService;
use tower_tencentcloud::retry::{Attempts, RetryPolicy};
use tower_tencentcloud::sign::{Credentials, SignLayer};
use tower_tencentcloud::{EnvelopeLayer, Error, RequestId, RetryClass};

const SECRET_ID: &str = "AKIDreqwest0000000000000000000000";
const SECRET_KEY: &str = "reqwest-secret-key";

async fn emulator() -> Emulator {
    Emulator::builder()
        .credentials(Credentials::new(SECRET_ID, SECRET_KEY))
        .instances(7)
        .start()
        .await
        .unwrap()
}

fn request(emulator: &Emulator, action: &str, params: Value) -> http::Request<Full<Bytes>> {
    ActionRequest::new("cvm", "2017-03-12", action)
        .region("ap-guangzhou")
        .endpoint(emulator.endpoint())
        .params(&params)
        .build()
        .unwrap()
}

#[tokio::test]
async fn describe_instances_over_reqwest() {
    let emulator = emulator().await;
    let client = ServiceBuilder::new()
        .layer(SignLayer::new(Credentials::new(SECRET_ID, SECRET_KEY)))
        .layer(EnvelopeLayer::new())
        .service(ReqwestService::new(reqwest::Client::new()));

    let response = client
        .oneshot(request(&emulator, "DescribeInstances", json!({"Limit": 5})))
        .await
        .unwrap();
    let request_id = response.extensions().get::<RequestId>().unwrap().clone();
    let body: Value = serde_json::from_slice(response.body().as_bytes().unwrap()).unwrap();
    assert_eq!(body["Response"]["TotalCount"], 7);
    assert_eq!(body["Response"]["InstanceSet"].as_array().unwrap().len(), 5);
    assert_eq!(body["Response"]["RequestId"], request_id.as_str());
    assert_eq!(
        emulator.log().find(&request_id).unwrap().outcome(),
        &Outcome::Success
    );
}

#[tokio::test]
async fn typed_errors_and_retries_over_reqwest() {
    let emulator = emulator().await;
    let wrong_key = ServiceBuilder::new()
        .layer(SignLayer::new(Credentials::new(SECRET_ID, "wrong")))
        .layer(EnvelopeLayer::new())
        .service(ReqwestService::new(reqwest::Client::new()));
    let err = wrong_key
        .oneshot(request(&emulator, "DescribeZones", json!({})))
        .await
        .unwrap_err();
    assert_eq!(err.code().unwrap(), "AuthFailure.SignatureFailure");

    let client = ServiceBuilder::new()
        .layer(RetryLayer::new(RetryPolicy::default().transient_backoff(
            Duration::from_millis(1),
            Duration::from_millis(5),
        )))
        .layer(SignLayer::new(Credentials::new(SECRET_ID, SECRET_KEY)))
        .layer(EnvelopeLayer::new())
        .service(ReqwestService::new(reqwest::Client::new()));
    emulator.inject(Fault::InternalError);
    emulator.inject(Fault::DropConnection);
    let response = client
        .oneshot(request(&emulator, "DescribeZones", json!({})))
        .await
        .unwrap();
    assert_eq!(response.extensions().get::<Attempts>().unwrap().get(), 3);
    let outcomes: Vec<_> = emulator
        .log()
        .entries()
        .into_iter()
        .skip(1)
        .map(|entry| entry.outcome().clone())
        .collect();
    assert_eq!(
        outcomes,
        [
            Outcome::Error("InternalError".into()),
            Outcome::ConnectionDropped,
            Outcome::Success
        ]
    );
}

#[tokio::test]
async fn transport_and_body_failures_keep_the_reqwest_error_as_source() {
    let emulator = emulator().await;
    let client = ServiceBuilder::new()
        .layer(SignLayer::new(Credentials::new(SECRET_ID, SECRET_KEY)))
        .layer(EnvelopeLayer::new())
        .service(ReqwestService::new(reqwest::Client::new()));

    emulator.inject(Fault::DropConnection);
    let err = client
        .clone()
        .oneshot(request(&emulator, "DescribeZones", json!({})))
        .await
        .unwrap_err();
    let Error::Transport(transport) = &err else {
        panic!("not a transport error: {err:?}");
    };
    assert!(transport.get_ref().is::<reqwest::Error>(), "{err:?}");
    assert_eq!(err.retry_class(), RetryClass::Transient);

    emulator.inject(Fault::TruncatedBody);
    let err = client
        .clone()
        .oneshot(request(&emulator, "DescribeInstances", json!({})))
        .await
        .unwrap_err();
    assert!(err.is_body(), "{err:?}");

    emulator.inject(Fault::BadGateway);
    let err = client
        .oneshot(request(&emulator, "DescribeZones", json!({})))
        .await
        .unwrap_err();
    assert!(err.is_not_envelope(), "{err:?}");
    assert_eq!(err.status(), Some(http::StatusCode::BAD_GATEWAY));
}

#[tokio::test]
async fn a_stream_over_reqwest_keeps_its_request_id_header() {
    let emulator = emulator().await;
    let client = ServiceBuilder::new()
        .layer(SignLayer::new(Credentials::new(SECRET_ID, SECRET_KEY)))
        .layer(EnvelopeLayer::new())
        .service(ReqwestService::new(reqwest::Client::new()));
    let request = ActionRequest::new("hunyuan", "2023-09-01", "ChatCompletions")
        .endpoint(emulator.endpoint())
        .params(&json!({
            "Model": "hunyuan-lite",
            "Messages": [{"Role": "user", "Content": "a b"}],
            "Stream": true,
        }))
        .build()
        .unwrap();
    let response = client.oneshot(request).await.unwrap();
    let request_id = response.extensions().get::<RequestId>().unwrap().clone();
    assert_eq!(response.headers()["x-tc-requestid"], request_id.as_str());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(body.windows(6).filter(|w| w == b"data: ").count(), 3);
}

#[tokio::test]
async fn an_unusable_uri_fails_the_call_not_the_process() {
    let mut service = ReqwestService::new(reqwest::Client::new());
    let request = http::Request::get("/relative/only")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let err = service.call(request).await.unwrap_err();
    assert!(err.is_builder(), "{err:?}");
}
