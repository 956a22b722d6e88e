//! Dropping a call at each of its await points, and timeouts around and
//! inside the retry layer.
//!
//! Over a real socket, a raw TCP server sees what the client leaves behind:
//! the connection must close when a call is dropped before the response
//! head or in the middle of the body, and no task may outlive the call.
//! Timeouts run on tokio's paused clock over in-process services.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc};
use tokio::time::Instant;
use tower::retry::RetryLayer;
use tower::timeout::TimeoutLayer;
use tower::timeout::error::Elapsed;
use tower::util::{BoxCloneSyncService, MapErrLayer, MapResponseLayer};
use tower::{BoxError, ServiceBuilder, ServiceExt};
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::retry::{Attempts, RetryBudget, RetryPolicy};
use tower_tencentcloud::sign::{Credentials, SignLayer};
use tower_tencentcloud::{EnvelopeLayer, Error, RetryClass};

/// A hang guard, never reached when the test passes.
const GUARD: Duration = Duration::from_secs(30);

const THROTTLED: &str = r#"{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"slow down"},"RequestId":"r-throttled"}}"#;

/// What the raw server saw.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    /// A whole request (head and body) arrived.
    Request,
    /// The client closed the connection.
    Closed,
}

/// Accepts one connection; answers its requests with `answers` in turn
/// (written as they are, possibly cut short), then only reads, reporting
/// every request and the close.
async fn raw_server(answers: Vec<Vec<u8>>) -> (SocketAddr, mpsc::UnboundedReceiver<Seen>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (seen, events) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut answers = answers.into_iter();
        while read_request(&mut socket).await {
            seen.send(Seen::Request).unwrap();
            if let Some(answer) = answers.next() {
                socket.write_all(&answer).await.unwrap();
            }
        }
        let _ = seen.send(Seen::Closed);
    });
    (addr, events)
}

/// Reads one request, head and `Content-Length` body; `false` at the
/// connection's end.
async fn read_request(socket: &mut TcpStream) -> bool {
    let mut buffer = Vec::new();
    let mut chunk = [0; 4096];
    loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buffer[..end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length:"))
                .map_or(0, |value| value.trim().parse().unwrap());
            if buffer.len() >= end + 4 + length {
                return true;
            }
        }
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
        }
    }
}

fn json_answer(body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn describe_instances(addr: SocketAddr) -> Request<Full<Bytes>> {
    ActionRequest::new("cvm", "2017-03-12", "DescribeInstances")
        .region("ap-guangzhou")
        .endpoint(format!("http://{addr}"))
        .build()
        .unwrap()
}

async fn next_seen(events: &mut mpsc::UnboundedReceiver<Seen>) -> Seen {
    tokio::time::timeout(GUARD, events.recv())
        .await
        .expect("the server saw nothing more")
        .expect("the server stopped")
}

/// Waits, a bounded time, until only `count` tasks are alive.
async fn tasks_settle_at(count: usize) {
    let metrics = tokio::runtime::Handle::current().metrics();
    // Polled for up to 30 s: a hang guard, the tasks end within milliseconds.
    for _ in 0..3_000 {
        if metrics.num_alive_tasks() == count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "{} tasks alive, {count} expected: a connection task was left behind",
        metrics.num_alive_tasks()
    );
}

/// Polls `call` until `event` fires, then drops it there.
async fn drop_when<F: Future>(call: F, event: &Notify) {
    let mut call = std::pin::pin!(call);
    tokio::select! {
        biased;
        _ = &mut call => panic!("the call ended before the point it was to be dropped at"),
        _ = tokio::time::timeout(GUARD, event.notified()) => {}
    }
}

fn policy() -> RetryPolicy {
    RetryPolicy::default().budget(RetryBudget::new().max_tokens(100))
}

#[tokio::test]
async fn dropped_before_the_head_the_connection_closes_and_no_task_remains() {
    let tasks_before = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    // The server reads the request and never answers.
    let (addr, mut events) = raw_server(Vec::new()).await;
    let client = ServiceBuilder::new()
        .layer(RetryLayer::new(policy()))
        .layer(SignLayer::new(Credentials::new("AKIDcancel", "key")))
        .layer(EnvelopeLayer::new())
        .service(Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());

    let mut call = Box::pin(client.clone().oneshot(describe_instances(addr)));
    tokio::select! {
        _ = &mut call => panic!("answered without an answer"),
        seen = next_seen(&mut events) => assert_eq!(seen, Seen::Request),
    }
    drop(call);
    // The client lives on: the close is the dropped call's doing.
    assert_eq!(next_seen(&mut events).await, Seen::Closed);
    tasks_settle_at(tasks_before).await;
    drop(client);
}

#[tokio::test]
async fn dropped_in_the_middle_of_the_body_the_connection_closes_and_no_task_remains() {
    let tasks_before = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    // The head promises 64 bytes; 10 come.
    let partial = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 64\r\n\r\n{\"Response".to_vec();
    let (addr, mut events) = raw_server(vec![partial]).await;
    let head_arrived = Arc::new(Notify::new());
    let notify = head_arrived.clone();
    let client = ServiceBuilder::new()
        .layer(RetryLayer::new(policy()))
        .layer(SignLayer::new(Credentials::new("AKIDcancel", "key")))
        .layer(EnvelopeLayer::new())
        // Below the envelope: the head has arrived, the body is next.
        .layer(MapResponseLayer::new(move |response| {
            notify.notify_one();
            response
        }))
        .service(Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());

    // The envelope layer reads on in the same poll: dropped mid-body.
    drop_when(
        client.clone().oneshot(describe_instances(addr)),
        &head_arrived,
    )
    .await;
    assert_eq!(next_seen(&mut events).await, Seen::Request);
    assert_eq!(next_seen(&mut events).await, Seen::Closed);
    tasks_settle_at(tasks_before).await;
    drop(client);
}

#[tokio::test]
async fn dropped_during_the_backoff_nothing_is_sent_again_and_no_task_remains() {
    let tasks_before = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    let (addr, mut events) = raw_server(vec![json_answer(THROTTLED)]).await;
    let attempt_failed = Arc::new(Notify::new());
    let notify = attempt_failed.clone();
    let hour = Duration::from_secs(3600);
    let client = ServiceBuilder::new()
        .layer(RetryLayer::new(policy().throttled_backoff(hour, hour)))
        // Just below the retry layer, which sleeps in the same poll.
        .layer(MapErrLayer::new(move |error: Error| {
            notify.notify_one();
            error
        }))
        .layer(SignLayer::new(Credentials::new("AKIDcancel", "key")))
        .layer(EnvelopeLayer::new())
        .service(Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());

    drop_when(
        client.clone().oneshot(describe_instances(addr)),
        &attempt_failed,
    )
    .await;
    assert_eq!(next_seen(&mut events).await, Seen::Request);
    // The attempt ended cleanly, so its connection idles in the client's
    // pool until the client goes; nothing else was sent on it.
    drop(client);
    assert_eq!(next_seen(&mut events).await, Seen::Closed);
    tasks_settle_at(tasks_before).await;
}

/// An API in process, as a transport would reach it.
type Api = BoxCloneSyncService<Request<Full<Bytes>>, Response<Full<Bytes>>, Infallible>;

/// A transport in process: call `n` is answered by `answer(n)`, or never
/// when that is `None`; the calls are counted.
fn transport(
    answer: impl Fn(usize) -> Option<&'static str> + Clone + Send + Sync + 'static,
) -> (Api, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let service = tower::service_fn(move |_: Request<Full<Bytes>>| {
        let answer = answer(counter.fetch_add(1, Ordering::SeqCst));
        async move {
            match answer {
                Some(body) => Ok(Response::new(Full::new(Bytes::from_static(
                    body.as_bytes(),
                )))),
                // Only a timeout ends this wait.
                None => std::future::pending().await,
            }
        }
    });
    (BoxCloneSyncService::new(service), calls)
}

fn plain_request(action: &str) -> Request<Full<Bytes>> {
    Request::post("http://cvm.tencentcloudapi.com/")
        .header("x-tc-action", action)
        .body(Full::new(Bytes::from_static(b"{}")))
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_timeout_outside_retry_bounds_the_whole_call_and_stops_the_retries() {
    let (api, calls) = transport(|_| Some(THROTTLED));
    let second = Duration::from_secs(1);
    let client = ServiceBuilder::new()
        .layer(TimeoutLayer::new(Duration::from_millis(2_500)))
        .layer(RetryLayer::new(
            policy().max_attempts(100).throttled_backoff(second, second),
        ))
        .layer(EnvelopeLayer::new())
        .service(api);

    let started = Instant::now();
    let err: BoxError = client
        .oneshot(plain_request("DescribeInstances"))
        .await
        .unwrap_err();
    assert!(err.is::<Elapsed>(), "{err}");
    assert_eq!(started.elapsed(), Duration::from_millis(2_500));
    // Backoffs of at most a second: the deadline saw several attempts.
    let attempts = calls.load(Ordering::SeqCst);
    assert!(attempts >= 3, "{attempts} attempts in 2.5 s");
    // The pending backoff went with the call.
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert_eq!(calls.load(Ordering::SeqCst), attempts);
}

#[tokio::test(start_paused = true)]
async fn a_timeout_below_the_envelope_bounds_each_attempt_and_is_retried_when_safe() {
    const SUCCESS: &str = r#"{"Response":{"TotalCount":0,"RequestId":"r-ok"}}"#;
    let first_hangs = |call| (call > 0).then_some(SUCCESS);
    let per_attempt = Duration::from_secs(1);
    let stack = |api| {
        ServiceBuilder::new()
            .layer(RetryLayer::new(policy()))
            .layer(EnvelopeLayer::new())
            // Elapsed becomes Error::Transport: a transient failure.
            .layer(TimeoutLayer::new(per_attempt))
            .service(api)
    };

    let (api, calls) = transport(first_hangs);
    let started = Instant::now();
    let response = stack(api)
        .oneshot(plain_request("DescribeInstances"))
        .await
        .unwrap();
    assert_eq!(response.extensions().get::<Attempts>().unwrap().get(), 2);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert!(started.elapsed() >= per_attempt);

    // A write is not replayed: it may have run.
    let (api, calls) = transport(first_hangs);
    let err = stack(api)
        .oneshot(plain_request("RunInstances"))
        .await
        .unwrap_err();
    assert_eq!(err.retry_class(), RetryClass::Transient);
    let Error::Transport(transport_error) = &err else {
        panic!("not a transport error: {err:?}");
    };
    assert!(transport_error.get_ref().is::<Elapsed>(), "{err:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}
