//! RetryPolicy through the real EnvelopeLayer, against canned API answers,
//! on tokio's paused clock.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use http::{Request, Response, StatusCode};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::retry::RetryLayer;
use tower::util::BoxCloneService;
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::action::Deadline;
use tower_tencentcloud::retry::{Attempts, Idempotent, RetryBudget, RetryPolicy};
use tower_tencentcloud::{EnvelopeBody, EnvelopeLayer, Error, RequestId, RetryClass};

type Stack = BoxCloneService<Request<String>, Response<EnvelopeBody<String>>, Error>;

/// What the canned API answers to one call.
enum Answer {
    Success,
    ApiError(&'static str),
    /// A gateway page without an envelope.
    Gateway(StatusCode),
    /// The transport fails before any response.
    ConnectionReset,
}

/// When each call reached the canned API.
#[derive(Clone, Default)]
struct Calls(Arc<Mutex<Vec<Instant>>>);

impl Calls {
    /// Records a call and returns its index, from 0.
    fn record(&self) -> usize {
        let mut times = self.0.lock().unwrap();
        times.push(Instant::now());
        times.len() - 1
    }

    fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    fn times(&self) -> Vec<Instant> {
        self.0.lock().unwrap().clone()
    }
}

/// Call `n` of the canned API gets RequestId `req-n`.
fn request_id(call: usize) -> String {
    format!("req-{call}")
}

fn respond(call: usize, answer: Answer) -> Result<Response<String>, std::io::Error> {
    let id = request_id(call);
    let (status, body) = match answer {
        Answer::Success => (
            StatusCode::OK,
            format!(r#"{{"Response":{{"TotalCount":0,"RequestId":"{id}"}}}}"#),
        ),
        Answer::ApiError(code) => (
            StatusCode::OK,
            format!(
                r#"{{"Response":{{"Error":{{"Code":"{code}","Message":"canned"}},"RequestId":"{id}"}}}}"#
            ),
        ),
        Answer::Gateway(status) => (status, "<html>Bad Gateway</html>".to_owned()),
        Answer::ConnectionReset => {
            return Err(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        }
    };
    let mut response = Response::new(body);
    *response.status_mut() = status;
    Ok(response)
}

/// RetryLayer over EnvelopeLayer over a canned API whose call `n` is
/// answered with `script(n)`.
fn stack<F>(policy: RetryPolicy, script: F) -> (Stack, Calls)
where
    F: Fn(usize) -> Answer + Clone + Send + Sync + 'static,
{
    let calls = Calls::default();
    let recorder = calls.clone();
    let api = tower::service_fn(move |_: Request<String>| {
        let call = recorder.record();
        let result = respond(call, script(call));
        async move { result }
    });
    let service = ServiceBuilder::new()
        .layer(RetryLayer::new(policy))
        .layer(EnvelopeLayer::new())
        .service(api);
    (BoxCloneService::new(service), calls)
}

fn request(action: &str) -> Request<String> {
    Request::builder()
        .method("POST")
        .uri("https://cvm.tencentcloudapi.com/")
        .header("X-TC-Action", action)
        .body("{}".to_owned())
        .unwrap()
}

fn attempts<B>(response: &Response<B>) -> u32 {
    response.extensions().get::<Attempts>().unwrap().get()
}

fn code(error: &Error) -> &str {
    error.code().expect("an API error").as_str()
}

#[tokio::test(start_paused = true)]
async fn throttled_twice_then_success() {
    let (service, calls) = stack(RetryPolicy::default(), |call| match call {
        0 | 1 => Answer::ApiError("RequestLimitExceeded"),
        _ => Answer::Success,
    });
    let response = service.oneshot(request("RunInstances")).await.unwrap();
    assert_eq!(calls.count(), 3);
    assert_eq!(attempts(&response), 3);
    let id = response.extensions().get::<RequestId>().unwrap();
    assert_eq!(id.as_str(), request_id(2));
}

#[tokio::test(start_paused = true)]
async fn first_time_success_counts_one_attempt() {
    let (service, calls) = stack(RetryPolicy::default(), |_| Answer::Success);
    let response = service.oneshot(request("DescribeZones")).await.unwrap();
    assert_eq!(calls.count(), 1);
    assert_eq!(attempts(&response), 1);
    let id = response.extensions().get::<RequestId>().unwrap();
    assert_eq!(id.as_str(), request_id(0));
}

#[tokio::test(start_paused = true)]
async fn signature_failure_is_not_retried() {
    let (service, calls) = stack(RetryPolicy::default(), |_| {
        Answer::ApiError("AuthFailure.SignatureFailure")
    });
    let error = service
        .oneshot(request("DescribeInstances"))
        .await
        .unwrap_err();
    assert_eq!(calls.count(), 1);
    assert_eq!(code(&error), "AuthFailure.SignatureFailure");
}

#[tokio::test(start_paused = true)]
async fn quota_is_not_retried() {
    let (service, calls) = stack(RetryPolicy::default(), |_| {
        Answer::ApiError("LimitExceeded.CvmQuota")
    });
    let error = service.oneshot(request("RunInstances")).await.unwrap_err();
    assert_eq!(calls.count(), 1);
    assert_eq!(code(&error), "LimitExceeded.CvmQuota");
}

/// `InternalError` once, then success.
fn internal_error_once(call: usize) -> Answer {
    match call {
        0 => Answer::ApiError("InternalError"),
        _ => Answer::Success,
    }
}

#[tokio::test(start_paused = true)]
async fn internal_error_on_a_read_is_retried() {
    let (service, calls) = stack(RetryPolicy::default(), internal_error_once);
    let response = service.oneshot(request("DescribeInstances")).await.unwrap();
    assert_eq!(calls.count(), 2);
    assert_eq!(attempts(&response), 2);
}

#[tokio::test(start_paused = true)]
async fn internal_error_on_a_write_is_not_retried() {
    let (service, calls) = stack(RetryPolicy::default(), internal_error_once);
    let error = service.oneshot(request("RunInstances")).await.unwrap_err();
    assert_eq!(calls.count(), 1);
    assert_eq!(code(&error), "InternalError");
    assert_eq!(error.request_id().unwrap().as_str(), request_id(0));
}

#[tokio::test(start_paused = true)]
async fn internal_error_on_a_write_marked_idempotent_is_retried() {
    let (service, calls) = stack(RetryPolicy::default(), internal_error_once);
    let mut write = request("RunInstances");
    write.extensions_mut().insert(Idempotent);
    let response = service.oneshot(write).await.unwrap();
    assert_eq!(calls.count(), 2);
    assert_eq!(attempts(&response), 2);
}

#[tokio::test(start_paused = true)]
async fn gateway_errors_and_lost_connections_on_reads_are_retried() {
    let (service, calls) = stack(RetryPolicy::default(), |call| match call {
        0 => Answer::Gateway(StatusCode::BAD_GATEWAY),
        1 => Answer::ConnectionReset,
        _ => Answer::Success,
    });
    let response = service.oneshot(request("DescribeInstances")).await.unwrap();
    assert_eq!(calls.count(), 3);
    assert_eq!(attempts(&response), 3);

    let (service, calls) = stack(RetryPolicy::default(), |_| Answer::ConnectionReset);
    let error = service
        .oneshot(request("TerminateInstances"))
        .await
        .unwrap_err();
    assert!(error.is_transport());
    assert_eq!(calls.count(), 1);
}

#[tokio::test(start_paused = true)]
async fn signature_expire_is_retried_once_without_delay() {
    let (service, calls) = stack(RetryPolicy::default(), |_| {
        Answer::ApiError("AuthFailure.SignatureExpire")
    });
    let error = service.oneshot(request("RunInstances")).await.unwrap_err();
    assert_eq!(code(&error), "AuthFailure.SignatureExpire");
    let times = calls.times();
    assert_eq!(times.len(), 2);
    assert_eq!(times[1], times[0], "the retry after SignatureExpire waited");

    let (service, calls) = stack(RetryPolicy::default(), |call| match call {
        0 => Answer::ApiError("AuthFailure.SignatureExpire"),
        _ => Answer::Success,
    });
    let response = service.oneshot(request("RunInstances")).await.unwrap();
    assert_eq!(calls.count(), 2);
    assert_eq!(attempts(&response), 2);
}

#[tokio::test(start_paused = true)]
async fn endless_throttling_stops_at_the_throttled_retry_limit() {
    let throttled = |_| Answer::ApiError("RequestLimitExceeded");
    let (service, calls) = stack(RetryPolicy::default(), throttled);
    let error = service.oneshot(request("RunInstances")).await.unwrap_err();
    assert_eq!(calls.count(), 9, "the first attempt and 8 retries");
    assert_eq!(code(&error), "RequestLimitExceeded");
    assert_eq!(error.retry_class(), RetryClass::Throttled);
    assert_eq!(error.request_id().unwrap().as_str(), request_id(8));

    for retries in [0, 1, 2, 7] {
        // max_attempts does not count throttled attempts.
        let policy = RetryPolicy::default()
            .max_attempts(1)
            .max_throttled_retries(retries);
        let (service, calls) = stack(policy, throttled);
        let error = service.oneshot(request("RunInstances")).await.unwrap_err();
        let expected = retries as usize + 1;
        assert_eq!(calls.count(), expected, "max_throttled_retries({retries})");
        assert_eq!(
            error.request_id().unwrap().as_str(),
            request_id(expected - 1)
        );
    }
}

#[tokio::test(start_paused = true)]
async fn failures_that_may_have_run_stop_at_the_attempt_limit_whatever_the_throttles() {
    // Three throttles, then InternalError for good.
    let script = |call| match call {
        0..=2 => Answer::ApiError("RequestLimitExceeded"),
        _ => Answer::ApiError("InternalError"),
    };
    let (service, calls) = stack(RetryPolicy::default(), script);
    let error = service
        .oneshot(request("DescribeInstances"))
        .await
        .unwrap_err();
    assert_eq!(code(&error), "InternalError");
    assert_eq!(
        calls.count(),
        3 + 4,
        "the throttles did not use up the 4 attempts"
    );

    for max_attempts in [0, 1, 2, 7] {
        let (service, calls) = stack(RetryPolicy::default().max_attempts(max_attempts), |_| {
            Answer::ApiError("InternalError")
        });
        service
            .oneshot(request("DescribeInstances"))
            .await
            .unwrap_err();
        let expected = max_attempts.max(1) as usize;
        assert_eq!(calls.count(), expected, "max_attempts({max_attempts})");
    }
}

#[tokio::test(start_paused = true)]
async fn one_attempt_still_reports_attempts() {
    let (service, calls) = stack(RetryPolicy::default().max_attempts(1), |_| Answer::Success);
    let response = service.oneshot(request("DescribeZones")).await.unwrap();
    assert_eq!(calls.count(), 1);
    assert_eq!(attempts(&response), 1);
}

#[tokio::test(start_paused = true)]
async fn delays_are_jittered_capped_growing_and_absent_after_the_last_attempt() {
    const RUNS: u32 = 1000;
    let base = Duration::from_secs(1);
    let cap = Duration::from_secs(3);
    let ceilings = [base, 2 * base, cap];
    // tokio's timer fires on whole milliseconds, so a sleep may end up to
    // one millisecond late.
    let timer_resolution = Duration::from_millis(1);

    let mut gap_sequences = Vec::new();
    for _ in 0..RUNS {
        let policy = RetryPolicy::default()
            .throttled_backoff(base, cap)
            .max_throttled_retries(3);
        let (service, calls) = stack(policy, |_| Answer::ApiError("RequestLimitExceeded"));
        let error = service.oneshot(request("RunInstances")).await.unwrap_err();
        let returned_at = Instant::now();
        assert_eq!(code(&error), "RequestLimitExceeded");

        let times = calls.times();
        assert_eq!(times.len(), 4);
        assert_eq!(returned_at, times[3], "slept after the last attempt");
        let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
        for (gap, ceiling) in gaps.iter().zip(ceilings) {
            assert!(*gap <= ceiling + timer_resolution, "{gap:?} > {ceiling:?}");
        }
        gap_sequences.push(gaps);
    }

    // Full jitter averages half the ceiling (0.5 s, 1 s, 1.5 s) with a
    // standard deviation of ceiling / sqrt(12): over 1,000 runs, ceiling / 10
    // is more than 10 standard errors.
    let means: Vec<Duration> = (0..3)
        .map(|retry| {
            gap_sequences
                .iter()
                .map(|gaps| gaps[retry])
                .sum::<Duration>()
                / RUNS
        })
        .collect();
    for (mean, ceiling) in means.iter().zip(ceilings) {
        let (half, slack) = (ceiling / 2, ceiling / 10);
        assert!(
            *mean > half - slack && *mean < half + slack,
            "means {means:?}"
        );
    }
    assert!(
        means[0] < means[1] && means[1] < means[2],
        "means {means:?}"
    );

    let mut distinct = gap_sequences.clone();
    distinct.sort();
    distinct.dedup();
    // Sleeps end on whole milliseconds, so two runs may rarely coincide.
    let distinct = distinct.len() as u32;
    assert!(
        distinct > RUNS * 99 / 100,
        "jitter repeats: {distinct} distinct of {RUNS}"
    );
}

#[tokio::test(start_paused = true)]
async fn budget_bounds_retries_under_sustained_failure() {
    const REQUESTS: usize = 1000;

    async fn run(policy: RetryPolicy) -> (usize, Duration) {
        let (service, calls) = stack(policy, |_| Answer::ApiError("InternalError"));
        let started = Instant::now();
        let mut requests = JoinSet::new();
        for _ in 0..REQUESTS {
            requests.spawn(service.clone().oneshot(request("DescribeInstances")));
        }
        while let Some(result) = requests.join_next().await {
            assert_eq!(code(&result.unwrap().unwrap_err()), "InternalError");
        }
        (calls.count() - REQUESTS, started.elapsed())
    }

    let (retries, elapsed) = run(RetryPolicy::default()).await;
    // Default budget: 20% of the requests, a floor of 5 per second, 10 saved.
    let bound = 0.2 * REQUESTS as f64 + 5.0 * elapsed.as_secs_f64() + 10.0;
    assert!(
        retries as f64 <= bound,
        "{retries} retries for {REQUESTS} requests in {elapsed:?}, bound {bound}"
    );
    assert!(retries >= 150, "the budget starved retries: {retries}");

    let (retries, elapsed) =
        run(RetryPolicy::default().budget(RetryBudget::new().ratio(0.05).min_per_second(1))).await;
    let bound = 0.05 * REQUESTS as f64 + elapsed.as_secs_f64() + 10.0;
    assert!(retries as f64 <= bound, "{retries} retries, bound {bound}");

    // The same load with room for every retry makes all three of them: the
    // bounds above come from the budget, not from the test.
    let (retries, _) = run(RetryPolicy::default().budget(
        RetryBudget::new()
            .ratio(3.0)
            .max_tokens(REQUESTS as u32 * 3),
    ))
    .await;
    assert_eq!(retries, 3 * REQUESTS);
}

#[tokio::test(start_paused = true)]
async fn budget_is_shared_by_clones_but_not_by_separate_policies() {
    let policy = RetryPolicy::default().budget(RetryBudget::new().min_per_second(0).max_tokens(3));
    let failing = |_| Answer::ApiError("InternalError");

    // Two stacks from clones of one policy draw from one bucket of 3 tokens
    // (plus 0.2 per request).
    let (first, first_calls) = stack(policy.clone(), failing);
    let (second, second_calls) = stack(policy.clone(), failing);
    first
        .oneshot(request("DescribeInstances"))
        .await
        .unwrap_err();
    assert_eq!(first_calls.count(), 4);
    second
        .oneshot(request("DescribeInstances"))
        .await
        .unwrap_err();
    assert_eq!(second_calls.count(), 1);

    let separate =
        RetryPolicy::default().budget(RetryBudget::new().min_per_second(0).max_tokens(3));
    let (third, third_calls) = stack(separate, failing);
    third
        .oneshot(request("DescribeInstances"))
        .await
        .unwrap_err();
    assert_eq!(third_calls.count(), 4);
}

#[tokio::test(start_paused = true)]
async fn an_empty_budget_still_lets_throttled_retries_through_unless_it_covers_them() {
    let empty = || RetryBudget::new().min_per_second(0).max_tokens(0);
    // Throttled twice, then an answer.
    let script = |call| match call {
        0 | 1 => Answer::ApiError("RequestLimitExceeded"),
        _ => Answer::Success,
    };
    let (service, calls) = stack(RetryPolicy::default().budget(empty()), script);
    let response = service.oneshot(request("RunInstances")).await.unwrap();
    assert_eq!(attempts(&response), 3);
    assert_eq!(calls.count(), 3);

    let covering = RetryPolicy::default().budget(empty().covers_throttled(true));
    let (service, calls) = stack(covering, script);
    let error = service.oneshot(request("RunInstances")).await.unwrap_err();
    assert_eq!(code(&error), "RequestLimitExceeded");
    assert_eq!(calls.count(), 1);

    // Failures that may have run still need a token.
    let (service, calls) = stack(RetryPolicy::default().budget(empty()), |_| {
        Answer::ApiError("InternalError")
    });
    service
        .oneshot(request("DescribeInstances"))
        .await
        .unwrap_err();
    assert_eq!(calls.count(), 1);
}

#[tokio::test(start_paused = true)]
async fn dropping_the_response_future_during_backoff_cancels_the_retry() {
    let hour = Duration::from_secs(3600);
    let policy = RetryPolicy::default().throttled_backoff(hour, hour);
    let throttled = |_| Answer::ApiError("RequestLimitExceeded");

    let (service, calls) = stack(policy.clone(), throttled);
    let mut response = Box::pin(service.oneshot(request("RunInstances")));
    // One poll runs the first attempt and starts the backoff.
    let first_poll = std::future::poll_fn(|cx| Poll::Ready(response.as_mut().poll(cx))).await;
    assert!(first_poll.is_pending());
    assert_eq!(calls.count(), 1);
    drop(response);
    tokio::time::sleep(10 * hour).await;
    assert_eq!(calls.count(), 1);

    // Left alone, the same request would have been sent again.
    let (service, calls) = stack(policy, throttled);
    service.oneshot(request("RunInstances")).await.unwrap_err();
    assert_eq!(calls.count(), 9);
}

#[tokio::test(start_paused = true)]
async fn the_stack_runs_inside_tokio_spawn() {
    let calls = Calls::default();
    let recorder = calls.clone();
    let api = tower::service_fn(move |_: Request<String>| {
        let call = recorder.record();
        let answer = match call {
            0 => Answer::ApiError("RequestLimitExceeded"),
            _ => Answer::Success,
        };
        let result = respond(call, answer);
        async move { result }
    });
    // Not boxed: the concrete types themselves must be Send.
    let service = ServiceBuilder::new()
        .layer(RetryLayer::new(RetryPolicy::default()))
        .layer(EnvelopeLayer::new())
        .service(api);
    let response = tokio::spawn(service.oneshot(request("DescribeInstances")))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(attempts(&response), 2);
    assert_eq!(calls.count(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_custom_classifier_decides_the_class() {
    let busy_is_transient = RetryPolicy::default().classifier(|error: &Error| match error.code() {
        Some(code) if code == "ResourceUnavailable.Busy" => RetryClass::Transient,
        _ => error.retry_class(),
    });
    let busy_once = |call| match call {
        0 => Answer::ApiError("ResourceUnavailable.Busy"),
        _ => Answer::Success,
    };
    let (service, calls) = stack(busy_is_transient.clone(), busy_once);
    service.oneshot(request("DescribeInstances")).await.unwrap();
    assert_eq!(calls.count(), 2);
    // Still transient: a write is not replayed.
    let (service, calls) = stack(busy_is_transient, busy_once);
    service.oneshot(request("RunInstances")).await.unwrap_err();
    assert_eq!(calls.count(), 1);

    let never = RetryPolicy::default().classifier(|_: &Error| RetryClass::Never);
    let (service, calls) = stack(never, |_| Answer::ApiError("RequestLimitExceeded"));
    service
        .oneshot(request("DescribeInstances"))
        .await
        .unwrap_err();
    assert_eq!(calls.count(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_custom_idempotency_rule_replaces_the_action_rule() {
    let client_token_only = RetryPolicy::default()
        .idempotent_if(|head: &http::request::Parts| head.headers.contains_key("x-client-token"));

    let mut tokened_write = request("RunInstances");
    tokened_write
        .headers_mut()
        .insert("x-client-token", "create-web-01".parse().unwrap());
    let (service, calls) = stack(client_token_only.clone(), internal_error_once);
    service.oneshot(tokened_write).await.unwrap();
    assert_eq!(calls.count(), 2);

    let (service, calls) = stack(client_token_only.clone(), internal_error_once);
    service
        .oneshot(request("DescribeInstances"))
        .await
        .unwrap_err();
    assert_eq!(calls.count(), 1);

    let mut marked = request("DescribeInstances");
    marked.extensions_mut().insert(Idempotent);
    let (service, calls) = stack(client_token_only, internal_error_once);
    service.oneshot(marked).await.unwrap();
    assert_eq!(calls.count(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_deadline_ends_the_retries_with_the_last_throttle_before_it_passes() {
    let throttled = |_| Answer::ApiError("RequestLimitExceeded");
    for _ in 0..50 {
        let (service, calls) = stack(RetryPolicy::default(), throttled);
        let started = Instant::now();
        let mut request = request("DescribeInstances");
        request
            .extensions_mut()
            .insert(Deadline::after(Duration::from_millis(2500)));
        let error = service.oneshot(request).await.unwrap_err();
        assert!(started.elapsed() <= Duration::from_millis(2500));
        assert_eq!(error.retry_class(), RetryClass::Throttled);
        assert_eq!(code(&error), "RequestLimitExceeded");
        // The answer is the last attempt's own.
        assert_eq!(
            error.request_id().unwrap().as_str(),
            request_id(calls.count() - 1)
        );
        // Without the deadline, 9 attempts over up to a minute.
        assert!(calls.count() < 9, "{} attempts", calls.count());
    }

    // A deadline already past: one attempt, no retry.
    let (service, calls) = stack(RetryPolicy::default(), throttled);
    let mut request = request("DescribeInstances");
    request
        .extensions_mut()
        .insert(Deadline::at(Instant::now()));
    service.oneshot(request).await.unwrap_err();
    assert_eq!(calls.count(), 1);
}
