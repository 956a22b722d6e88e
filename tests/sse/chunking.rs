//! What an event stream's caller sees must not depend on where the
//! transport cut the stream into chunks. Found by the `sse_stream` fuzz
//! target.

use crate::support;

use std::sync::Mutex;

use bytes::Bytes;
use http::Request;
use http_body_util::{BodyExt, Full};
use support::server::{self, Body};
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::EnvelopeLayer;
use tower_tencentcloud::sse::SseLayer;

/// The bytes that passed, and the error that ended the body, as one line.
async fn read(chunks: &[&'static [u8]], max_event_size: usize) -> (Vec<u8>, Option<String>) {
    let (sender, body) = server::channel();
    for chunk in chunks {
        sender.send(Ok(Bytes::from_static(chunk))).await.unwrap();
    }
    drop(sender);
    let body = Mutex::new(Some(body));
    let transport = tower::service_fn(move |_: Request<Full<Bytes>>| {
        let body: Body = body.lock().unwrap().take().expect("one call");
        let mut response = server::reply(200, "text/event-stream", body);
        response
            .headers_mut()
            .insert("x-tc-requestid", "r-stream".parse().unwrap());
        std::future::ready(Ok::<_, std::io::Error>(response))
    });
    let client = ServiceBuilder::new()
        .layer(SseLayer::new().max_event_size(max_event_size))
        .layer(EnvelopeLayer::new())
        .service(transport);
    let mut body = client
        .oneshot(Request::new(Full::default()))
        .await
        .unwrap()
        .into_body();
    let mut passed = Vec::new();
    while let Some(frame) = body.frame().await {
        match frame {
            Ok(frame) => passed.extend_from_slice(&frame.into_data().unwrap()),
            Err(err) => return (passed, Some(err.to_string())),
        }
    }
    (passed, None)
}

/// `i` CR, then an empty line ended by CRLF: four bytes, over a limit of
/// three. Whole, the event is too large; cut after the second CR, the
/// event ends at three bytes and passes, its LF counted nowhere.
#[tokio::test]
async fn an_event_at_the_limit_is_judged_the_same_whatever_the_chunks() {
    let whole = read(&[b"i\r\r\n"], 3).await;
    let cut = read(&[b"i\r\r", b"\n"], 3).await;
    assert_eq!(cut, whole);
}
