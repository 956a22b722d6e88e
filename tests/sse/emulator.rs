//! Hunyuan's streaming ChatCompletions from the emulator, through the whole
//! stack: Retry → Sign → Sse → Envelope → hyper-util on 127.0.0.1.

use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use serde_json::json;
use tower::retry::RetryLayer;
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::emulator::{Emulator, Fault, Injection, Outcome};
use tower_tencentcloud::retry::RetryPolicy;
use tower_tencentcloud::sign::{Credentials, SignLayer};
use tower_tencentcloud::sse::{Event, SseBody, SseLayer};
use tower_tencentcloud::{EnvelopeBody, EnvelopeLayer, Error, RequestId};

const HANG_GUARD: Duration = Duration::from_secs(30);

fn credentials() -> Credentials {
    Credentials::new("AKIDssetest000000000000000000000", "sse-test-secret-key")
}

fn client() -> impl Service<
    Request<Full<Bytes>>,
    Response = Response<SseBody<EnvelopeBody<Incoming>>>,
    Error = Error,
> {
    ServiceBuilder::new()
        .layer(RetryLayer::new(RetryPolicy::default()))
        .layer(SignLayer::new(credentials()))
        .layer(SseLayer::new())
        .layer(EnvelopeLayer::new())
        .service(Client::builder(TokioExecutor::new()).build_http())
}

fn chat(emulator: &Emulator, content: &str) -> Request<Full<Bytes>> {
    ActionRequest::new("hunyuan", "2023-09-01", "ChatCompletions")
        .region("ap-guangzhou")
        .endpoint(emulator.endpoint())
        .params(&json!({
            "Model": "hunyuan-lite",
            "Messages": [{"Role": "user", "Content": content}],
            "Stream": true,
        }))
        .build()
        .unwrap()
}

/// The part of a streamed ChatCompletions event the tests read.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Chunk {
    choices: Vec<Choice>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Choice {
    delta: Delta,
    finish_reason: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Delta {
    content: String,
}

/// The events until the stream ends, and the error that ended it.
async fn events(
    response: Response<SseBody<EnvelopeBody<Incoming>>>,
) -> (Vec<Event>, Option<Error>) {
    let mut events = response.into_body().into_events();
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout(HANG_GUARD, events.next())
            .await
            .unwrap()
        {
            Some(Ok(event)) => seen.push(event),
            Some(Err(err)) => return (seen, Some(err)),
            None => return (seen, None),
        }
    }
}

fn text(events: &[Event]) -> String {
    events
        .iter()
        .map(|event| {
            event.json::<Chunk>().unwrap().choices[0]
                .delta
                .content
                .clone()
        })
        .collect()
}

#[tokio::test]
async fn a_chat_completion_streams_to_its_end() {
    let emulator = Emulator::builder()
        .credentials(credentials())
        .start()
        .await
        .unwrap();
    let response = client()
        .oneshot(chat(&emulator, "one two three"))
        .await
        .unwrap();
    let id = response.extensions().get::<RequestId>().unwrap().clone();
    let (events, err) = events(response).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(events.len(), 4);
    assert_eq!(text(&events), "one two three");
    let last = events[3].json::<Chunk>().unwrap();
    assert_eq!(last.choices[0].finish_reason, "stop");
    assert_eq!(
        emulator.log().find(&id).unwrap().outcome(),
        &Outcome::Success
    );
}

#[tokio::test]
async fn a_stream_error_is_the_typed_error_after_its_events() {
    let emulator = Emulator::builder()
        .credentials(credentials())
        .start()
        .await
        .unwrap();
    emulator
        .inject(Injection::new(Fault::StreamError { after_events: 3 }).action("ChatCompletions"));
    let response = client()
        .oneshot(chat(&emulator, "one two three four five"))
        .await
        .unwrap();
    let id = response.extensions().get::<RequestId>().unwrap().clone();
    let (events, err) = events(response).await;
    assert_eq!(text(&events), "one two three ");
    let err = err.expect("the stream's error");
    let api = err.as_api().unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(api.code(), "4000");
    assert_eq!(api.message(), "Internal service error.");
    assert_eq!(api.request_id().unwrap(), &id);
    assert_eq!(
        emulator.log().find(&id).unwrap().outcome(),
        &Outcome::StreamError { after_events: 3 }
    );
}

#[tokio::test]
async fn a_truncated_stream_is_a_body_error_after_its_first_event() {
    let emulator = Emulator::builder()
        .credentials(credentials())
        .start()
        .await
        .unwrap();
    emulator.inject(Injection::new(Fault::TruncatedBody).action("ChatCompletions"));
    let response = client()
        .oneshot(chat(&emulator, "one two three"))
        .await
        .unwrap();
    let id = response.extensions().get::<RequestId>().unwrap().clone();
    let (events, err) = events(response).await;
    assert_eq!(text(&events), "one ");
    let err = err.expect("the cut");
    assert!(err.is_body(), "{err:?}");
    assert_eq!(err.request_id().unwrap(), &id);
}

#[tokio::test]
async fn an_error_before_the_stream_is_an_api_error_before_any_body() {
    let emulator = Emulator::builder()
        .credentials(credentials())
        .start()
        .await
        .unwrap();
    let mut request = chat(&emulator, "hi");
    *request.body_mut() = Full::new(Bytes::from_static(
        br#"{"Model":"hunyuan-lite","Stream":true}"#,
    ));
    let err = client().oneshot(request).await.unwrap_err();
    assert_eq!(err.code().unwrap(), "MissingParameter");
    assert!(err.request_id().is_some());
}
