//! A hostile gateway cannot forge log lines through the retry policy's
//! events: CR, LF and ESC in a RequestId, a code or a message reach the
//! log escaped, each event on one line.
//!
//! Alone in its own binary, with tracing-subscriber's fmt subscriber as
//! the process-wide default: tracing caches per callsite whether anyone
//! listens.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use support::server::{self, full, reply, request};
use tower::retry::RetryLayer;
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::EnvelopeLayer;
use tower_tencentcloud::retry::RetryPolicy;

/// What the subscriber wrote.
#[derive(Clone, Default)]
struct Output(Arc<Mutex<Vec<u8>>>);

impl Write for Output {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn every_retry_event_is_one_line_whatever_the_gateway_sends() {
    let output = Output::default();
    let writer = output.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let body = serde_json::json!({"Response": {
        "Error": {"Code": "RequestLimitExceeded", "Message": "slow\ndown \u{1b}[2J\u{1b}]0;owned\u{7}"},
        "RequestId": "r-1\r\n2026-12-01T00:00:00.000000Z  INFO forged: login ok",
    }})
    .to_string();
    let addr =
        server::serve_fixed(move || reply(200, "application/json", full(body.clone()))).await;
    let backoff = Duration::from_millis(10);
    let client = ServiceBuilder::new()
        .layer(RetryLayer::new(
            RetryPolicy::default()
                .max_throttled_retries(2)
                .throttled_backoff(backoff, backoff),
        ))
        .layer(EnvelopeLayer::new())
        .service(server::client());
    let err = client.oneshot(request(addr)).await.unwrap_err();
    assert_eq!(err.retry_stopped().unwrap().attempts(), 3);

    let output = String::from_utf8(output.0.lock().unwrap().clone()).unwrap();
    let ours: Vec<&str> = output
        .lines()
        .filter(|line| line.contains(" tower_tencentcloud::retry::"))
        .collect();
    // Two retries and the decision to stop, each one line: nothing that
    // followed a line break became a line of its own.
    assert_eq!(ours.len(), 3, "{output}");
    assert!(
        !output
            .lines()
            .any(|line| line.starts_with("2026-12-01T00:00:00")),
        "{output}"
    );
    assert!(!output.contains('\r'), "{output:?}");
    assert!(!output.contains('\u{1b}'), "{output:?}");
    assert!(!output.contains('\u{7}'), "{output:?}");
    for line in &ours {
        assert!(
            line.contains(r"r-1\r\n2026-12-01T00:00:00.000000Z  INFO forged: login ok"),
            "{line}"
        );
        // The message's line break is shown, not dropped: no words glued.
        assert!(line.contains(r"slow\ndown \u{1b}[2J"), "{line}");
    }
    assert!(ours[2].contains("not retrying"), "{}", ours[2]);
}
