//! A streaming action against a local Tencent Cloud API 3.0 emulator.
//!
//! ```text
//! cargo run --example stream --features emulator
//! ```
//!
//! Retry → Sign → Sse → Envelope → hyper-util, calling Hunyuan's
//! ChatCompletions with `Stream: true` on an emulator started in this
//! process: a stream read event by event to its end, then a stream that
//! fails after three events, whose error arrives as a typed `Error::Api`
//! with the stream's RequestId. Against the real API, only the credentials
//! (`Credentials::from_env()`), the endpoint (none: the default
//! `https://hunyuan.tencentcloudapi.com`) and an HTTPS connector change.

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use serde_json::json;
use tower::retry::RetryLayer;
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::emulator::{Emulator, Fault, Injection};
use tower_tencentcloud::retry::RetryPolicy;
use tower_tencentcloud::sign::{Credentials, SignLayer};
use tower_tencentcloud::sse::SseLayer;
use tower_tencentcloud::{EnvelopeLayer, Error, RequestId};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The fields of a streamed ChatCompletions event this example reads.
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

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let credentials = Credentials::new("AKIDstream000000000000000000000000", "stream-key");
    let emulator = Emulator::builder()
        .credentials(credentials.clone())
        .start()
        .await?;
    println!(
        "emulator   Tencent Cloud API 3.0 at {}",
        emulator.endpoint()
    );

    // Sse sits above Envelope: Envelope passes the stream through unread
    // (or fails before any body when an error envelope comes instead), Sse
    // checks each event as it passes.
    let client = ServiceBuilder::new()
        .layer(RetryLayer::new(RetryPolicy::default()))
        .layer(SignLayer::new(credentials))
        .layer(SseLayer::new())
        .layer(EnvelopeLayer::new())
        .service(Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
    let chat = |content: &str| {
        ActionRequest::new("hunyuan", "2023-09-01", "ChatCompletions")
            .region("ap-guangzhou")
            .endpoint(emulator.endpoint())
            .params(&json!({
                "Model": "hunyuan-lite",
                "Messages": [{"Role": "user", "Content": content}],
                "Stream": true,
            }))
            .build()
    };

    println!("\n-- ChatCompletions, streamed");
    let response = client
        .clone()
        .oneshot(chat("events arrive one word at a time")?)
        .await?;
    let request_id = response.extensions().get::<RequestId>().cloned();
    println!("RequestId  {}", request_id.ok_or("no RequestId")?);
    let mut events = response.into_body().into_events();
    while let Some(event) = events.next().await {
        let chunk: Chunk = event?.json()?;
        let choice = chunk.choices.first().ok_or("an event without a choice")?;
        println!(
            "event      {:?}{}",
            choice.delta.content,
            match choice.finish_reason.as_str() {
                "" => String::new(),
                reason => format!(" (finish: {reason})"),
            }
        );
    }

    println!("\n-- ChatCompletions, failing after three events");
    emulator
        .inject(Injection::new(Fault::StreamError { after_events: 3 }).action("ChatCompletions"));
    let response = client
        .clone()
        .oneshot(chat("this answer will not reach its end")?)
        .await?;
    let mut events = response.into_body().into_events();
    let mut received = 0;
    let err = loop {
        match events.next().await {
            Some(Ok(event)) => {
                let chunk: Chunk = event.json()?;
                received += 1;
                println!("event      {:?}", chunk.choices[0].delta.content);
            }
            Some(Err(err)) => break err,
            None => return Err("the failing stream ended without its error".into()),
        }
    };
    match &err {
        Error::Api(api) => {
            println!("typed      {}: {}", api.code(), api.message());
            println!(
                "           after {received} events, RequestId {}",
                api.request_id().map_or("none", RequestId::as_str)
            );
        }
        other => return Err(format!("expected Error::Api, got {other:?}").into()),
    }
    println!("\n{err}");
    Ok(())
}
