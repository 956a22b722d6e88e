//! The adaptive rate limiter as a tower layer, on a paused tokio clock:
//! against a scripted backend, and through the whole stack against the
//! emulator in process.

use std::collections::VecDeque;
use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::retry::RetryLayer;
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::action::Deadline;
use tower_tencentcloud::emulator::{Emulator, Outcome};
use tower_tencentcloud::ratelimit::{AdaptiveRateLimitLayer, RateKey};
use tower_tencentcloud::retry::{RetryBudget, RetryPolicy};
use tower_tencentcloud::sign::{Credentials, SignLayer};
use tower_tencentcloud::{EnvelopeLayer, Error, RetryClass};

const MS: Duration = Duration::from_millis(1);

fn zones() -> Request<Full<Bytes>> {
    ActionRequest::new("cvm", "2017-03-12", "DescribeZones")
        .region("ap-guangzhou")
        .endpoint("http://127.0.0.1:1")
        .build()
        .unwrap()
}

fn zones_key() -> RateKey {
    RateKey::from_request(&zones())
}

/// How the scripted backend answers a call.
#[derive(Debug, Clone, Copy)]
enum Reply {
    Success,
    Throttle,
    InvalidParameter,
    ConnectionReset,
}

/// A backend that answers from a script (success once it runs out) and
/// notes the instant of every call.
#[derive(Clone, Default)]
struct Backend {
    script: Arc<Mutex<VecDeque<Reply>>>,
    calls: Arc<Mutex<Vec<Instant>>>,
}

impl Backend {
    fn then(&self, reply: Reply, times: usize) -> &Self {
        self.script
            .lock()
            .unwrap()
            .extend(std::iter::repeat_n(reply, times));
        self
    }

    fn calls(&self) -> Vec<Instant> {
        self.calls.lock().unwrap().clone()
    }

    /// The limiter over the envelope layer over this backend.
    fn client(
        &self,
        layer: &AdaptiveRateLimitLayer,
    ) -> impl Service<
        Request<Full<Bytes>>,
        Response = Response<tower_tencentcloud::EnvelopeBody<Full<Bytes>>>,
        Error = Error,
        Future: Send,
    > + Clone
    + Send
    + 'static {
        let backend = self.clone();
        let answer = tower::service_fn(move |_: Request<Full<Bytes>>| {
            backend.calls.lock().unwrap().push(Instant::now());
            let reply = backend
                .script
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or(Reply::Success);
            async move {
                let body = match reply {
                    Reply::Success => r#"{"Response":{"RequestId":"ok"}}"#,
                    Reply::Throttle => {
                        r#"{"Response":{"Error":{"Code":"RequestLimitExceeded","Message":"slow down"},"RequestId":"t"}}"#
                    }
                    Reply::InvalidParameter => {
                        r#"{"Response":{"Error":{"Code":"InvalidParameter","Message":"no"},"RequestId":"i"}}"#
                    }
                    Reply::ConnectionReset => {
                        return Err(io::Error::from(io::ErrorKind::ConnectionReset));
                    }
                };
                Ok(Response::new(Full::new(Bytes::from_static(
                    body.as_bytes(),
                ))))
            }
        });
        ServiceBuilder::new()
            .layer(layer.clone())
            .layer(EnvelopeLayer::new())
            .service(answer)
    }
}

/// Drives `key` of `layer` to a rate of 14 a second: a throttle starts the
/// measurement, a second of 20 accepted calls measures 20, and a second
/// throttle cuts to 0.7 of it. The bucket is empty afterwards.
async fn limit_to_14<S>(backend: &Backend, client: &S) -> Instant
where
    S: Service<Request<Full<Bytes>>, Error = Error> + Clone,
{
    backend
        .then(Reply::Throttle, 1)
        .then(Reply::Success, 20)
        .then(Reply::Throttle, 1);
    let err = client.clone().oneshot(zones()).await.err().unwrap();
    assert_eq!(err.retry_class(), RetryClass::Throttled);
    for _ in 0..20 {
        tokio::time::sleep(50 * MS).await;
        client.clone().oneshot(zones()).await.ok().unwrap();
    }
    client.clone().oneshot(zones()).await.err().unwrap();
    Instant::now()
}

#[tokio::test(start_paused = true)]
async fn requests_of_a_key_never_throttled_go_out_at_once() {
    let layer = AdaptiveRateLimitLayer::new();
    let backend = Backend::default();
    let client = backend.client(&layer);
    let start = Instant::now();
    let mut calls = JoinSet::new();
    for _ in 0..200 {
        calls.spawn(client.clone().oneshot(zones()));
    }
    while let Some(result) = calls.join_next().await {
        result.unwrap().ok().unwrap();
    }
    assert!(backend.calls().iter().all(|&call| call == start));
    assert_eq!(layer.rate(&zones_key()), None);
}

#[tokio::test(start_paused = true)]
async fn the_first_throttle_measures_the_next_cuts_and_paces() {
    let layer = AdaptiveRateLimitLayer::new().headroom(0.0);
    let backend = Backend::default();
    let client = backend.client(&layer);

    backend.then(Reply::Throttle, 1);
    client.clone().oneshot(zones()).await.err().unwrap();
    assert_eq!(layer.rate(&zones_key()), None, "measuring, not pacing");

    let cut_at = limit_to_14(&backend, &client).await;
    let rate = layer.rate(&zones_key()).unwrap();
    assert!((rate - 14.0).abs() < 1e-9, "{rate}");

    // Seven callers at once: spaced 1/14 s apart, on tokio's clock.
    let before = backend.calls().len();
    let mut calls = JoinSet::new();
    for _ in 0..7 {
        calls.spawn(client.clone().oneshot(zones()));
    }
    while let Some(result) = calls.join_next().await {
        result.unwrap().ok().unwrap();
    }
    let sent = &backend.calls()[before..];
    let last = *sent.last().unwrap() - cut_at;
    // Seven tokens at a little above 14 a second (the curve climbs with
    // every success), each wait rounded up to tokio's millisecond.
    assert!(last > 440 * MS && last <= 510 * MS, "{last:?}");
    assert!(sent.windows(2).all(|pair| pair[1] - pair[0] >= 60 * MS));

    // Another action, and the same action in another region, are not paced.
    let regions = ActionRequest::new("cvm", "2017-03-12", "DescribeRegions")
        .region("ap-guangzhou")
        .endpoint("http://127.0.0.1:1")
        .build()
        .unwrap();
    let shanghai = ActionRequest::new("cvm", "2017-03-12", "DescribeZones")
        .region("ap-shanghai")
        .endpoint("http://127.0.0.1:1")
        .build()
        .unwrap();
    let start = Instant::now();
    for request in [regions, shanghai] {
        client.clone().oneshot(request).await.ok().unwrap();
        assert_eq!(*backend.calls().last().unwrap(), start);
    }
}

#[tokio::test(start_paused = true)]
async fn a_request_dropped_while_waiting_gives_its_token_back() {
    let layer = AdaptiveRateLimitLayer::new().headroom(0.0);
    let backend = Backend::default();
    let client = backend.client(&layer);
    let cut_at = limit_to_14(&backend, &client).await;

    // Polled once: reserves the first token, due in 1/14 s, then is dropped.
    let waiting = client.clone().oneshot(zones());
    let timed_out = tokio::time::timeout(Duration::ZERO, waiting).await;
    assert!(timed_out.is_err(), "the first request waits for a token");
    let calls = backend.calls().len();

    client.clone().oneshot(zones()).await.ok().unwrap();
    assert_eq!(
        backend.calls().len(),
        calls + 1,
        "the dropped one was never sent"
    );
    let waited = *backend.calls().last().unwrap() - cut_at;
    // The first token (71.4 ms), not the second (142.9 ms).
    assert!(waited >= 71 * MS && waited <= 73 * MS, "{waited:?}");
}

#[tokio::test(start_paused = true)]
async fn a_cut_while_requests_wait_reschedules_them_at_the_new_rate() {
    let layer = AdaptiveRateLimitLayer::new().headroom(0.0);
    let backend = Backend::default();
    let client = backend.client(&layer);
    let cut_at = limit_to_14(&backend, &client).await;

    // Fourteen wait for the next second's tokens; the first is throttled,
    // which cuts to 9.8 a second.
    backend.then(Reply::Throttle, 1);
    let before = backend.calls().len();
    let mut calls = JoinSet::new();
    for _ in 0..14 {
        calls.spawn(client.clone().oneshot(zones()));
    }
    while calls.join_next().await.is_some() {}
    let sent: Vec<Duration> = backend.calls()[before..]
        .iter()
        .map(|&call| call - cut_at)
        .collect();
    // The first token at 14 a second (71.4 ms), the throttle; the next at
    // 9.8 a second (102 ms later), where the old schedule had it 71 ms later;
    // then the curve climbs back with each success, still short of 14.
    assert!(sent[0] >= 71 * MS && sent[0] <= 73 * MS, "{sent:?}");
    assert!(sent[1] - sent[0] >= 100 * MS, "{sent:?}");
    assert!(
        sent.windows(2).all(|pair| pair[1] - pair[0] > 73 * MS),
        "{sent:?}"
    );
    assert!(*sent.last().unwrap() > Duration::from_secs(1), "{sent:?}");
    let rate = layer.rate(&zones_key()).unwrap();
    assert!(rate > 9.8 && rate < 14.0, "{rate}");
}

#[tokio::test(start_paused = true)]
async fn below_the_retry_layer_a_retry_waits_for_a_token_too() {
    let layer = AdaptiveRateLimitLayer::new().headroom(0.0);
    let backend = Backend::default();
    let client = backend.client(&layer);
    let cut_at = limit_to_14(&backend, &client).await;
    // Retries without backoff: any wait comes from the limiter.
    let policy = RetryPolicy::default().throttled_backoff(Duration::ZERO, Duration::ZERO);
    let retrying = ServiceBuilder::new()
        .layer(RetryLayer::new(policy))
        .service(client.clone());

    backend.then(Reply::Throttle, 1);
    let before = backend.calls().len();
    retrying.oneshot(zones()).await.ok().unwrap();
    let sent: Vec<Duration> = backend.calls()[before..]
        .iter()
        .map(|&call| call - cut_at)
        .collect();
    // The first attempt at the first token of 14 a second; its throttle cuts
    // to 9.8, and the retry waits for the first token at that rate.
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert!(sent[0] >= 71 * MS && sent[0] <= 73 * MS, "{sent:?}");
    assert!(sent[1] - sent[0] >= 100 * MS, "{sent:?}");
}

#[tokio::test(start_paused = true)]
async fn answers_raise_the_rate_and_failures_without_an_answer_teach_nothing() {
    let layer = AdaptiveRateLimitLayer::new().headroom(0.0);
    let backend = Backend::default();
    let client = backend.client(&layer);
    limit_to_14(&backend, &client).await;
    let cut = layer.rate(&zones_key()).unwrap();

    tokio::time::sleep(Duration::from_millis(300)).await;
    backend.then(Reply::ConnectionReset, 1);
    let err = client.clone().oneshot(zones()).await.err().unwrap();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
    assert_eq!(layer.rate(&zones_key()), Some(cut));

    backend.then(Reply::InvalidParameter, 1);
    let err = client.clone().oneshot(zones()).await.err().unwrap();
    assert_eq!(err.code().unwrap(), "InvalidParameter");
    let climbed = layer.rate(&zones_key()).unwrap();
    assert!(climbed > cut, "{climbed} after {cut}");
}

#[tokio::test(start_paused = true)]
async fn sixty_four_callers_settle_just_under_the_emulators_limit() {
    const LIMIT: u32 = 20;
    let credentials = Credentials::new("AKIDratelimit0000000000000000000000", "ratelimit-key");
    let emulator = Emulator::builder()
        .credentials(credentials.clone())
        .action_rate_limit("DescribeZones", LIMIT)
        .into_service();
    let policy = RetryPolicy::default()
        .max_attempts(10)
        .throttled_backoff(200 * MS, Duration::from_secs(2))
        .budget(RetryBudget::new().ratio(2.0).max_tokens(100));
    let layer = AdaptiveRateLimitLayer::new();
    let client = ServiceBuilder::new()
        .layer(RetryLayer::new(policy))
        .layer(layer.clone())
        .layer(SignLayer::new(credentials))
        .layer(EnvelopeLayer::new())
        .service(emulator.clone());

    let warm_up = Duration::from_secs(3);
    let measured = Duration::from_secs(30);
    let end = Instant::now() + warm_up + measured;
    let mut callers = JoinSet::new();
    for _ in 0..64 {
        let client = client.clone();
        callers.spawn(async move {
            loop {
                let _ = tokio::time::timeout_at(end, client.clone().oneshot(zones())).await;
                if Instant::now() >= end {
                    return;
                }
            }
        });
    }
    tokio::time::sleep(warm_up).await;
    let log = emulator.log();
    let answered_before = log.len();
    while callers.join_next().await.is_some() {}
    let answers = log.entries_after(answered_before);

    let succeeded = answers
        .iter()
        .filter(|entry| *entry.outcome() == Outcome::Success)
        .count();
    let throttled = answers.len() - succeeded;
    let goodput = succeeded as f64 / measured.as_secs_f64();
    let throttled_share = throttled as f64 / answers.len() as f64;
    assert!(
        goodput >= 0.95 * f64::from(LIMIT),
        "goodput {goodput:.2}/s, {throttled} throttled"
    );
    assert!(
        throttled_share <= 0.02,
        "{throttled} of {} throttled",
        answers.len()
    );
    // Wherever the curve is in its cycle, the rate has neither collapsed
    // towards the floor nor climbed past twice what the emulator accepts.
    let rate = layer.rate(&zones_key()).unwrap();
    let limit = f64::from(LIMIT);
    assert!(
        rate > 0.7 * 0.95 * limit && rate < 2.0 * 1.1 * limit,
        "{rate}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_request_whose_deadline_comes_before_its_token_ends_at_once_throttled() {
    let layer = AdaptiveRateLimitLayer::new().headroom(0.0);
    let backend = Backend::default();
    let client = backend.client(&layer);
    let cut_at = limit_to_14(&backend, &client).await;
    let calls = backend.calls().len();

    // The next token is 71 ms away.
    let mut hurried = zones();
    hurried
        .extensions_mut()
        .insert(Deadline::after(Duration::from_millis(50)));
    let err = client.clone().oneshot(hurried).await.err().unwrap();
    assert_eq!(Instant::now(), cut_at, "it did not wait");
    assert_eq!(backend.calls().len(), calls, "it was not sent");
    assert_eq!(err.retry_class(), RetryClass::Throttled);
    // The throttle that cut the rate, answered again.
    assert_eq!(err.code().unwrap(), "RequestLimitExceeded");
    assert_eq!(err.request_id().unwrap().as_str(), "t");

    // Its token was given back: the next request gets the first one.
    let mut patient = zones();
    patient
        .extensions_mut()
        .insert(Deadline::after(Duration::from_millis(100)));
    client.clone().oneshot(patient).await.ok().unwrap();
    let waited = *backend.calls().last().unwrap() - cut_at;
    assert!(waited >= 71 * MS && waited <= 73 * MS, "{waited:?}");
}

#[tokio::test(start_paused = true)]
async fn callers_with_deadlines_get_through_or_a_throttle_by_their_deadline() {
    let credentials = Credentials::new("AKIDratelimit0000000000000000000000", "ratelimit-key");
    let emulator = Emulator::builder()
        .credentials(credentials.clone())
        .action_rate_limit("DescribeZones", 20)
        .into_service();
    let client = ServiceBuilder::new()
        .layer(RetryLayer::new(RetryPolicy::default()))
        .layer(AdaptiveRateLimitLayer::new())
        .layer(SignLayer::new(credentials))
        .layer(EnvelopeLayer::new())
        .service(emulator.clone());

    // 200 calls at once, each of which can wait 2 s: the limit lets about
    // 60 through in that time (a burst of 20, then 20 a second).
    let budget = Duration::from_secs(2);
    let mut calls = JoinSet::new();
    for _ in 0..200 {
        let client = client.clone();
        calls.spawn(async move {
            let started = Instant::now();
            let mut request = zones();
            request.extensions_mut().insert(Deadline::after(budget));
            let result = client.oneshot(request).await;
            (started.elapsed(), result.err())
        });
    }
    let (mut succeeded, mut throttled) = (0, 0);
    while let Some(joined) = calls.join_next().await {
        let (elapsed, error) = joined.unwrap();
        assert!(elapsed <= budget, "{elapsed:?}");
        match error {
            None => succeeded += 1,
            Some(error) => {
                assert_eq!(error.retry_class(), RetryClass::Throttled, "{error}");
                throttled += 1;
            }
        }
    }
    assert!(
        succeeded >= 40,
        "{succeeded} succeeded, {throttled} throttled"
    );
    assert!(throttled > 0);
}
