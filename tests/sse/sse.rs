//! Streaming actions through a real hyper server on 127.0.0.1 and
//! hyper-util's client, under Sse → Envelope: a stream that ends, one that
//! fails midway, an error envelope instead of a stream, and a client that
//! drops a stream midway.

use crate::support;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use support::server::{self, full, reply, request};
use tokio::sync::oneshot;
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_tencentcloud::sse::{Event, SseBody, SseLayer};
use tower_tencentcloud::{EnvelopeBody, EnvelopeLayer, Error, RequestId};

/// A generous bound on anything that could hang.
const HANG_GUARD: Duration = Duration::from_secs(30);

const STREAM_ID: &str = "3c0f8b6e-4a55-4a8e-9d36-5b2f1c0e7d21";

fn client() -> impl Service<
    Request<Full<Bytes>>,
    Response = Response<SseBody<EnvelopeBody<Incoming>>>,
    Error = Error,
    Future: Send,
> {
    ServiceBuilder::new()
        .layer(SseLayer::new())
        .layer(EnvelopeLayer::new())
        .service(server::client())
}

fn chunk(event: &str) -> Bytes {
    Bytes::from(format!("data: {event}\n\n"))
}

/// A server whose streams are the chunks of `chunks`, sent one at a time,
/// with the RequestId in the header.
async fn serve_stream(chunks: Vec<Bytes>) -> SocketAddr {
    server::serve_fixed(move || {
        let (tx, body) = server::channel();
        let chunks = chunks.clone();
        tokio::spawn(async move {
            for chunk in chunks {
                if tx.send(Ok(chunk)).await.is_err() {
                    return;
                }
            }
        });
        let mut response = reply(200, "text/event-stream", body);
        response
            .headers_mut()
            .insert("x-tc-requestid", STREAM_ID.parse().unwrap());
        response
    })
    .await
}

/// The events of the response until it ends, and the error that ended it.
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
            Some(Err(err)) => {
                assert!(events.next().await.is_none(), "an event after the error");
                return (seen, Some(err));
            }
            None => return (seen, None),
        }
    }
}

fn data(events: &[Event]) -> Vec<&str> {
    events.iter().map(Event::data).collect()
}

#[tokio::test]
async fn a_stream_that_ends_normally() {
    let addr = serve_stream(vec![
        Bytes::from_static(b": keep-alive\n\nid: 1\ndata: {\"Content\":\"one\"}\n\n"),
        // An event that chunks cut in the middle of a field and of a CRLF.
        Bytes::from_static(b"event: delta\r\nda"),
        Bytes::from_static(b"ta: {\"Content\":\"two\"}\r"),
        Bytes::from_static(b"\n\r\n"),
        chunk(r#"{"Content":"three","FinishReason":"stop"}"#),
    ])
    .await;
    let response = client().oneshot(request(addr)).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.extensions().get::<RequestId>().unwrap(), STREAM_ID);
    assert!(response.body().is_event_stream());
    let (events, err) = events(response).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(
        data(&events),
        [
            r#"{"Content":"one"}"#,
            r#"{"Content":"two"}"#,
            r#"{"Content":"three","FinishReason":"stop"}"#
        ]
    );
    assert_eq!(events[1].event(), "delta");
    assert_eq!(events[2].id(), Some("1"));
}

#[tokio::test]
async fn the_bytes_of_a_stream_pass_as_they_came() {
    let chunks = vec![
        Bytes::from_static(b"data: a\n\n: ping\n"),
        Bytes::from_static(b"\ndata: b\n"),
        Bytes::from_static(b"\n"),
    ];
    let addr = serve_stream(chunks.clone()).await;
    let response = client().oneshot(request(addr)).await.unwrap();
    let body = tokio::time::timeout(HANG_GUARD, response.into_body().collect())
        .await
        .unwrap()
        .unwrap()
        .to_bytes();
    assert_eq!(body, chunks.concat());
}

#[tokio::test]
async fn a_stream_that_fails_midway_ends_with_the_typed_error() {
    for (error_event, code) in [
        (
            r#"{"Note":"n","Choices":[],"ErrorMsg":{"Msg":"model timeout","Code":4001}}"#,
            "4001",
        ),
        (
            r#"{"Response":{"Error":{"Code":"FailedOperation.EngineServerError","Message":"model timeout"},"RequestId":"3c0f8b6e-4a55-4a8e-9d36-5b2f1c0e7d21"}}"#,
            "FailedOperation.EngineServerError",
        ),
    ] {
        let addr = serve_stream(vec![
            chunk(r#"{"Content":"one"}"#),
            chunk(r#"{"Content":"two"}"#),
            chunk(error_event),
            chunk(r#"{"Content":"after the error"}"#),
        ])
        .await;
        let response = client().oneshot(request(addr)).await.unwrap();
        let (events, err) = events(response).await;
        assert_eq!(
            data(&events),
            [r#"{"Content":"one"}"#, r#"{"Content":"two"}"#]
        );
        let err = err.expect("the stream's error");
        let api = err.as_api().unwrap_or_else(|| panic!("{err:?}"));
        assert_eq!(api.code(), code);
        assert_eq!(api.message(), "model timeout");
        assert_eq!(api.request_id().unwrap(), STREAM_ID);
        assert_eq!(api.status(), StatusCode::OK);
        assert_eq!(api.headers()["content-type"], "text/event-stream");
    }
}

#[tokio::test]
async fn the_bytes_of_a_failing_stream_stop_before_the_error_event() {
    let addr = serve_stream(vec![
        chunk("one"),
        chunk(r#"{"ErrorMsg":{"Code":4000,"Msg":"internal"}}"#),
    ])
    .await;
    let response = client().oneshot(request(addr)).await.unwrap();
    let mut body = response.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(first, chunk("one"));
    let err = body.frame().await.unwrap().unwrap_err();
    assert_eq!(err.code().unwrap(), "4000");
    assert!(body.frame().await.is_none());
}

#[tokio::test]
async fn an_error_envelope_instead_of_a_stream_fails_before_any_body() {
    let addr = server::serve_fixed(|| {
        reply(
            200,
            "application/json",
            full(r#"{"Response":{"Error":{"Code":"FailedOperation.ServiceNotActivated","Message":"Activate the service first."},"RequestId":"0e6d5a2c-1b7f-4c3e-8f90-a1b2c3d4e5f6"}}"#),
        )
    })
    .await;
    let err = client().oneshot(request(addr)).await.unwrap_err();
    let api = err.as_api().unwrap_or_else(|| panic!("{err:?}"));
    assert_eq!(api.code(), "FailedOperation.ServiceNotActivated");
    assert_eq!(api.message(), "Activate the service first.");
    assert_eq!(
        api.request_id().unwrap(),
        "0e6d5a2c-1b7f-4c3e-8f90-a1b2c3d4e5f6"
    );
}

#[tokio::test]
async fn an_envelope_that_succeeds_passes_through_untouched() {
    const SUCCESS: &str =
        r#"{"Response":{"Choices":[],"ErrorMsg":{"Code":4000},"RequestId":"r-9"}}"#;
    let addr = server::serve_fixed(|| reply(200, "application/json", full(SUCCESS))).await;
    let response = client().oneshot(request(addr)).await.unwrap();
    assert!(!response.body().is_event_stream());
    assert_eq!(response.body().as_bytes().unwrap(), SUCCESS.as_bytes());
    assert_eq!(response.extensions().get::<RequestId>().unwrap(), "r-9");
}

#[tokio::test]
async fn a_client_that_drops_the_stream_midway_closes_the_connection() {
    let (closed_tx, closed_rx) = oneshot::channel();
    let closed_tx = std::sync::Mutex::new(Some(closed_tx));
    let addr = server::serve(move |_| {
        let (tx, body) = server::channel();
        let closed_tx = closed_tx.lock().unwrap().take();
        tokio::spawn(async move {
            // An endless stream: one event, then another every 10 ms, until
            // sending fails because the connection is gone.
            let mut sent = 0u64;
            while tx.send(Ok(chunk(&sent.to_string()))).await.is_ok() {
                sent += 1;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            if let Some(closed_tx) = closed_tx {
                let _ = closed_tx.send(sent);
            }
        });
        async move { reply(200, "text/event-stream", body) }
    })
    .await;

    let response = client().oneshot(request(addr)).await.unwrap();
    let mut events = response.into_body().into_events();
    let first = tokio::time::timeout(HANG_GUARD, events.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.data(), "0");
    drop(events);

    let sent = tokio::time::timeout(HANG_GUARD, closed_rx)
        .await
        .expect("the server still streams to a client that left")
        .unwrap();
    assert!(sent >= 1);
}
