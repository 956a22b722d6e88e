//! Load with faults: 20,000 calls from 256 concurrent tasks through
//! Retry → Sign → Envelope → hyper-util, against the emulator over a real
//! socket on 127.0.0.1, while it throttles, fails, cuts bodies, drops
//! connections and answers late.
//!
//! Every call carries a marker of its own in its parameters (the instance
//! name it filters on or launches), which the emulator's log keeps for every
//! attempt. The test checks that every call ends in exactly one outcome that
//! its class explains, that every RequestId a caller gets is the one the
//! emulator gave that very call, that no write without a ClientToken ran
//! twice, that no task outlives its wave, and that memory stays bounded.
//! Calls are paced (`CALLS_PER_SECOND`), so the run takes about 16 seconds
//! in a debug build and in release alike; it is part of `cargo test
//! --all-features`. Its figures go to stderr, shown with:
//!
//! ```text
//! cargo test --all-features --test load -- --nocapture
//! ```

#[path = "support/counting_allocator.rs"]
mod counting_allocator;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::retry::RetryLayer;
use tower::util::MapRequestLayer;
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::emulator::{Emulator, Fault, LogEntry, Outcome};
use tower_tencentcloud::retry::{Attempts, Idempotent, RetryBudget, RetryPolicy};
use tower_tencentcloud::sign::{Credentials, SignLayer};
use tower_tencentcloud::{EnvelopeBody, EnvelopeLayer, Error, RequestId, RetryClass};

const CALLS_PER_WAVE: usize = 5_000;
/// The first wave warms up (connections, allocator, fleet); memory is
/// measured from its end to the end of the last.
const WAVES: usize = 4;
const TASKS: usize = 256;
const MAX_ATTEMPTS: u32 = 4;
/// Retries may add this share of the calls, plus the budget's floor.
const BUDGET_RATIO: f64 = 0.5;
const BUDGET_PER_SECOND: u32 = 5;
const BUDGET_SAVED: u32 = 50;
/// Calls start no faster than this, per second, so that the load is the same
/// on a fast machine and in a debug build (which keeps up with it on 2
/// cores): the run takes about 16 seconds either way.
const CALLS_PER_SECOND: u32 = 1_250;
/// The rate limit of each action, per second: DescribeInstances, nine calls
/// in ten, comes at 1,125 a second, so about one in ten is throttled.
const RATE_LIMIT: u32 = 1_000;
/// What the heap in use (counted by `counting_allocator`) may grow by from
/// the end of the warm-up wave to the end of the run, each measured once
/// the wave's client is dropped and every task has ended. Measured: +2.4
/// MiB, the emulator's fleet keeping every launched instance and its
/// ClientToken. A leak of 256 bytes per call over the 15,000 measured calls
/// exceeds it.
const HEAP_MARGIN_KIB: u64 = 6 * 1024;
/// What resident memory (VmRSS) may grow by over the same stretch. It grows
/// more than the heap in use (measured: +15 to +29 MiB, less with every
/// wave) because the allocator keeps freed pages; the heap margin above is
/// the tight one.
const RSS_MARGIN_KIB: u64 = 64 * 1024;
/// A hang guard: the run takes about 16 seconds.
const RUN_LIMIT: Duration = Duration::from_secs(600);

const SECRET_ID: &str = "AKIDloadtest000000000000000000000";
const SECRET_KEY: &str = "load-test-secret-key";

/// What a call does. One call in ten is a write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    /// DescribeInstances filtered on the call's marker: read-only.
    Read,
    /// RunInstances without a ClientToken: never safe to replay.
    Write,
    /// RunInstances with a ClientToken, marked [`Idempotent`].
    TokenedWrite,
}

impl Kind {
    fn of(call: usize) -> Self {
        match call % 20 {
            0 | 10 => Kind::Write,
            5 | 15 => Kind::TokenedWrite,
            _ => Kind::Read,
        }
    }

    fn action(self) -> &'static str {
        match self {
            Kind::Read => "DescribeInstances",
            Kind::Write | Kind::TokenedWrite => "RunInstances",
        }
    }

    fn replay_safe(self) -> bool {
        self != Kind::Write
    }
}

/// The marker of call `n`, unique in the run.
fn marker(call: usize) -> String {
    format!("load-{call:06}")
}

/// Counts the attempts of one call; travels in its request's extensions,
/// which every replay clones.
#[derive(Clone, Default)]
struct AttemptCounter(Arc<AtomicU32>);

/// The marker of a logged call, from its parameters.
fn marker_of(entry: &LogEntry) -> Option<String> {
    let params: Value = serde_json::from_slice(entry.params()).ok()?;
    let marker = match entry.action()? {
        "DescribeInstances" => &params["Filters"][0]["Values"][0],
        "RunInstances" => &params["InstanceName"],
        _ => return None,
    };
    marker.as_str().map(str::to_owned)
}

fn request(endpoint: &str, call: usize) -> Request<Full<Bytes>> {
    let kind = Kind::of(call);
    let marker = marker(call);
    let params = match kind {
        Kind::Read => json!({
            "Filters": [{"Name": "instance-name", "Values": [marker]}],
            "Limit": 5,
        }),
        Kind::Write => json!({
            "Placement": {"Zone": "ap-shanghai-2"},
            "ImageId": "img-eb30mz89",
            "InstanceName": marker,
        }),
        Kind::TokenedWrite => json!({
            "Placement": {"Zone": "ap-shanghai-2"},
            "ImageId": "img-eb30mz89",
            "InstanceName": marker,
            "ClientToken": marker,
        }),
    };
    let mut request = ActionRequest::new("cvm", "2017-03-12", kind.action())
        // Launches go to a region of their own: the reads scan only the
        // seeded fleet.
        .region(match kind {
            Kind::Read => "ap-guangzhou",
            _ => "ap-shanghai",
        })
        .endpoint(endpoint)
        .params(&params)
        .build()
        .unwrap();
    if kind == Kind::TokenedWrite {
        request.extensions_mut().insert(Idempotent);
    }
    request
}

/// Why a call that failed was not tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Stop {
    /// The error's class is `Never`.
    NotRetryable,
    /// A transient failure of a write without a ClientToken.
    NotReplaySafe,
    /// `MAX_ATTEMPTS` attempts made.
    AttemptsExhausted,
    /// Throttled more often than the policy retries throttles.
    ThrottledRetriesExhausted,
    /// Retryable and safe, attempts left: only the budget stops it.
    BudgetExhausted,
}

/// The one outcome of one call.
#[derive(Debug)]
enum Settled {
    Ok {
        request_id: RequestId,
        attempts: u32,
    },
    Err {
        error: Error,
        attempts: u32,
    },
}

#[derive(Debug)]
struct Record {
    kind: Kind,
    settled: Settled,
    latency: Duration,
}

impl Record {
    fn attempts(&self) -> u32 {
        match self.settled {
            Settled::Ok { attempts, .. } | Settled::Err { attempts, .. } => attempts,
        }
    }
}

/// The error kind in a few words, for the figures.
fn describe(error: &Error) -> String {
    match error {
        Error::Api(err) => err.code().to_string(),
        Error::Transport(_) => "transport error".to_owned(),
        Error::Body(_) => "body cut short".to_owned(),
        Error::NotEnvelope(err) => format!("HTTP {} page", err.status().as_u16()),
        other => format!("{other}"),
    }
}

/// Why the retry policy stopped at `error` after `attempts` attempts.
fn stop_reason(kind: Kind, error: &Error, attempts: u32) -> Stop {
    match error.retry_class() {
        RetryClass::Never => Stop::NotRetryable,
        RetryClass::Transient if !kind.replay_safe() => Stop::NotReplaySafe,
        // Throttled retries spend no budget: only their own limit stops them.
        RetryClass::Throttled => Stop::ThrottledRetriesExhausted,
        _ if attempts >= MAX_ATTEMPTS => Stop::AttemptsExhausted,
        _ => Stop::BudgetExhausted,
    }
}

/// The heap in use, from the counting allocator.
fn heap_kib() -> u64 {
    (counting_allocator::heap_bytes() / 1024) as u64
}

/// VmRSS: what the process holds, the allocator's free but kept pages
/// included.
fn resident_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .expect("VmRSS in /proc/self/status");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Waits, a bounded time, until only `count` tasks are alive: every
/// connection and call of a wave has ended.
async fn wait_for_tasks(count: usize) {
    let metrics = tokio::runtime::Handle::current().metrics();
    // Polled for up to 30 s: a hang guard, the tasks end within milliseconds.
    for _ in 0..3_000 {
        if metrics.num_alive_tasks() == count {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "{} tasks alive after the wave, {count} before: a connection or a call was left behind",
        metrics.num_alive_tasks()
    );
}

fn percentile(sorted: &[Duration], per_mille: usize) -> Duration {
    sorted[(sorted.len() * per_mille / 1000).min(sorted.len() - 1)]
}

type Stack =
    tower::util::BoxCloneSyncService<Request<Full<Bytes>>, Response<EnvelopeBody<Incoming>>, Error>;

fn policy() -> RetryPolicy {
    RetryPolicy::default()
        .max_attempts(MAX_ATTEMPTS)
        .throttled_backoff(Duration::from_millis(5), Duration::from_millis(100))
        .transient_backoff(Duration::from_millis(2), Duration::from_millis(50))
        .budget(
            RetryBudget::new()
                .ratio(BUDGET_RATIO)
                .min_per_second(BUDGET_PER_SECOND)
                .max_tokens(BUDGET_SAVED),
        )
}

/// The whole stack over a new hyper-util client (and its own connection
/// pool); clones of `policy` share its budget.
fn stack(policy: RetryPolicy) -> Stack {
    let transport = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let stack = ServiceBuilder::new()
        .layer(RetryLayer::new(policy))
        .layer(MapRequestLayer::new(|request: Request<Full<Bytes>>| {
            if let Some(counter) = request.extensions().get::<AttemptCounter>() {
                counter.0.fetch_add(1, Ordering::Relaxed);
            }
            request
        }))
        .layer(SignLayer::new(Credentials::new(SECRET_ID, SECRET_KEY)))
        .layer(EnvelopeLayer::new())
        .service(transport);
    tower::util::BoxCloneSyncService::new(stack)
}

/// Runs calls `first..first + count` from `TASKS` tasks; each call's record
/// lands in its own slot, once.
async fn wave(
    client: &Stack,
    endpoint: &str,
    first: usize,
    count: usize,
    run_started: Instant,
) -> Vec<Record> {
    let next = Arc::new(AtomicUsize::new(first));
    let slots: Arc<Mutex<Vec<Option<Record>>>> =
        Arc::new(Mutex::new((0..count).map(|_| None).collect()));
    let mut tasks = JoinSet::new();
    for _ in 0..TASKS {
        let (next, slots, client) = (next.clone(), slots.clone(), client.clone());
        let endpoint = endpoint.to_owned();
        tasks.spawn(async move {
            loop {
                let call = next.fetch_add(1, Ordering::Relaxed);
                if call >= first + count {
                    return;
                }
                // Call n starts at its slot, or late when the machine lags.
                let slot = Duration::from_secs(1) * call as u32 / CALLS_PER_SECOND;
                tokio::time::sleep_until(run_started + slot).await;
                let counter = AttemptCounter::default();
                let mut request = request(&endpoint, call);
                request.extensions_mut().insert(counter.clone());
                let sent = Instant::now();
                let result = client.clone().oneshot(request).await;
                let latency = sent.elapsed();
                let attempts = counter.0.load(Ordering::Relaxed);
                let settled = match result {
                    Ok(response) => {
                        assert_eq!(
                            response.extensions().get::<Attempts>().map(|a| a.get()),
                            Some(attempts),
                            "the policy and the counter disagree on call {call}"
                        );
                        Settled::Ok {
                            request_id: response
                                .extensions()
                                .get::<RequestId>()
                                .expect("every envelope has a RequestId")
                                .clone(),
                            attempts,
                        }
                    }
                    Err(error) => Settled::Err { error, attempts },
                };
                let record = Record {
                    kind: Kind::of(call),
                    settled,
                    latency,
                };
                let previous = slots.lock().unwrap()[call - first].replace(record);
                assert!(previous.is_none(), "call {call} settled twice");
            }
        });
    }
    while let Some(task) = tasks.join_next().await {
        task.unwrap();
    }
    let slots = Arc::try_unwrap(slots).ok().unwrap().into_inner().unwrap();
    slots
        .into_iter()
        .enumerate()
        .map(|(i, slot)| slot.unwrap_or_else(|| panic!("call {} has no outcome", first + i)))
        .collect()
}

/// How often the writes passed the rate limit (after which the action may
/// have run, as far as the client can tell), from the emulator's log.
#[derive(Debug, Default)]
struct WritesSeen {
    /// Writes without a ClientToken that passed it once, or never.
    unmarked_once: usize,
    unmarked_never: usize,
    /// Writes with a ClientToken that passed it more than once: replays.
    tokened_replayed: usize,
}

/// Checks one wave's records against the emulator's log of the same calls.
fn check_against_log(first: usize, records: &[Record], log: &[LogEntry], writes: &mut WritesSeen) {
    let mut by_marker: HashMap<String, Vec<&LogEntry>> = HashMap::new();
    for entry in log {
        let marker = marker_of(entry).expect("every logged call carries a marker");
        by_marker.entry(marker).or_default().push(entry);
    }
    let mut request_ids: HashMap<&str, usize> = HashMap::new();
    for entry in log {
        *request_ids.entry(entry.request_id().as_str()).or_default() += 1;
    }
    assert!(
        request_ids.values().all(|&n| n == 1),
        "the emulator gave a RequestId twice"
    );

    for (i, record) in records.iter().enumerate() {
        let call = first + i;
        let entries = by_marker
            .get(&marker(call))
            .map(Vec::as_slice)
            .unwrap_or_default();
        // An attempt can fail on a pooled connection the server just
        // closed, before the emulator reads it: never more entries than
        // attempts, though.
        assert!(
            entries.len() <= record.attempts() as usize,
            "call {call}: {} logged attempts, {} made",
            entries.len(),
            record.attempts()
        );
        let reached = entries
            .iter()
            .filter(|entry| !is_throttled(entry.outcome()))
            .count();
        match record.kind {
            Kind::Write => {
                assert!(
                    reached <= 1,
                    "call {call}: a write without a ClientToken passed the rate limit {reached} times: {entries:?}"
                );
                if reached == 1 {
                    writes.unmarked_once += 1;
                } else {
                    writes.unmarked_never += 1;
                }
            }
            Kind::TokenedWrite if reached > 1 => writes.tokened_replayed += 1,
            _ => {}
        }
        match &record.settled {
            Settled::Ok { request_id, .. } => {
                let last = entries.last().unwrap_or_else(|| {
                    panic!(
                        "call {call} succeeded with {request_id}, which the emulator never gave it"
                    )
                });
                assert_eq!(
                    last.request_id(),
                    request_id,
                    "call {call} got another call's answer"
                );
                assert_eq!(last.outcome(), &Outcome::Success, "call {call}");
            }
            Settled::Err { error, .. } => {
                if let Some(request_id) = error.request_id() {
                    assert!(
                        entries.iter().any(|entry| entry.request_id() == request_id),
                        "call {call} failed with {request_id}, which the emulator never gave it"
                    );
                }
            }
        }
    }
}

fn is_throttled(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Error(code) if code == "RequestLimitExceeded")
}

#[test]

fn twenty_thousand_calls_with_faults_each_end_once_with_their_own_request_id() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        tokio::time::timeout(RUN_LIMIT, run())
            .await
            .expect("the load run hangs");
    });
}

/// The run's figures, folded wave by wave so that the run itself keeps
/// nothing per call but its latency.
#[derive(Default)]
struct Figures {
    calls: usize,
    retries: u64,
    /// Answers that were `RequestLimitExceeded`, from the emulator's log.
    throttled: u64,
    /// Successes by the number of attempts they took.
    ok: HashMap<u32, usize>,
    /// Failures by why they stopped and what they were.
    err: HashMap<(Stop, String), usize>,
    latencies: Vec<Duration>,
    writes: WritesSeen,
}

impl Figures {
    fn add(&mut self, records: Vec<Record>) {
        for record in records {
            self.calls += 1;
            self.retries += u64::from(record.attempts().saturating_sub(1));
            self.latencies.push(record.latency);
            match &record.settled {
                Settled::Ok { attempts, .. } => *self.ok.entry(*attempts).or_default() += 1,
                Settled::Err { error, attempts } => {
                    let stop = stop_reason(record.kind, error, *attempts);
                    *self.err.entry((stop, describe(error))).or_default() += 1;
                }
            }
        }
    }

    fn print(&mut self, elapsed: Duration, budget: f64) {
        let calls = self.calls;
        eprintln!(
            "load: {calls} calls from {TASKS} tasks in {elapsed:.2?} ({:.0} calls/s)",
            calls as f64 / elapsed.as_secs_f64()
        );
        eprintln!(
            "load: {} attempts, {} of them retries, {} answers throttled (the budget allowed {budget:.0} retries of failures)",
            calls as u64 + self.retries,
            self.retries,
            self.throttled
        );
        let mut ok: Vec<_> = self.ok.iter().collect();
        ok.sort();
        for (attempts, count) in ok {
            eprintln!("load: ok after {attempts} attempt(s): {count}");
        }
        let mut err: Vec<_> = self.err.iter().collect();
        err.sort();
        for ((stop, error), count) in err {
            eprintln!("load: err, {stop:?}: {error}: {count}");
        }
        let writes = &self.writes;
        eprintln!(
            "load: writes without a ClientToken past the rate limit: {} once, {} never; \
             writes with one replayed past it: {}",
            writes.unmarked_once, writes.unmarked_never, writes.tokened_replayed
        );
        self.latencies.sort();
        eprintln!(
            "load: latency p50 {:.1?}, p99 {:.1?}, max {:.1?}",
            percentile(&self.latencies, 500),
            percentile(&self.latencies, 990),
            self.latencies[calls - 1]
        );
    }
}

async fn run() {
    let emulator = Emulator::builder()
        .credentials(Credentials::new(SECRET_ID, SECRET_KEY))
        .rate_limit(RATE_LIMIT)
        .internal_error_rate(0.03)
        .fault_rate(Fault::BadGateway, 0.02)
        .fault_rate(Fault::TruncatedBody, 0.02)
        .fault_rate(Fault::DropConnection, 0.01)
        .fault_rate(Fault::Delay(Duration::from_millis(20)), 0.03)
        .seed(8)
        .start()
        .await
        .unwrap();
    let endpoint = emulator.endpoint();
    let policy = policy();
    let tasks_before = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    let log = emulator.log();

    let started = Instant::now();
    let mut figures = Figures {
        latencies: Vec::with_capacity(WAVES * CALLS_PER_WAVE),
        ..Figures::default()
    };
    let (mut rss_after_warm_up, mut heap_after_warm_up) = (0, 0);
    for wave_index in 0..WAVES {
        let first = wave_index * CALLS_PER_WAVE;
        let client = stack(policy.clone());
        let records = wave(&client, &endpoint, first, CALLS_PER_WAVE, started).await;
        // Its idle connections close with the client.
        drop(client);
        wait_for_tasks(tasks_before).await;
        let entries = log.entries();
        check_against_log(first, &records, &entries, &mut figures.writes);
        figures.throttled += entries
            .iter()
            .filter(|entry| is_throttled(entry.outcome()))
            .count() as u64;
        log.clear();
        figures.add(records);
        if wave_index == 0 {
            rss_after_warm_up = resident_kib();
            heap_after_warm_up = heap_kib();
        }
    }
    let elapsed = started.elapsed();
    let (rss_at_end, heap_at_end) = (resident_kib(), heap_kib());

    // The budget's promise for the retries of failures: at most ratio ×
    // calls + floor × seconds + saved. Throttled retries, which it does not
    // pay for, are at most one per throttled answer: the retries less the
    // throttled answers are at most the retries the budget paid for.
    let budget = BUDGET_RATIO * figures.calls as f64
        + f64::from(BUDGET_PER_SECOND) * elapsed.as_secs_f64().ceil()
        + f64::from(BUDGET_SAVED);
    figures.print(elapsed, budget);
    eprintln!(
        "load: heap in use {heap_after_warm_up} KiB after the warm-up wave, {heap_at_end} KiB at the end (margin {HEAP_MARGIN_KIB} KiB)"
    );
    eprintln!(
        "load: resident memory {rss_after_warm_up} KiB after the warm-up wave, {rss_at_end} KiB at the end (margin {RSS_MARGIN_KIB} KiB)"
    );
    assert_eq!(figures.calls, WAVES * CALLS_PER_WAVE);
    let paid = figures.retries.saturating_sub(figures.throttled);
    assert!(
        paid as f64 <= budget,
        "{} retries beyond the {} throttled answers, more than the budget's {budget}",
        paid,
        figures.throttled
    );
    assert!(
        heap_at_end <= heap_after_warm_up + HEAP_MARGIN_KIB,
        "the heap in use grew from {heap_after_warm_up} KiB to {heap_at_end} KiB"
    );
    assert!(
        rss_at_end <= rss_after_warm_up + RSS_MARGIN_KIB,
        "resident memory grew from {rss_after_warm_up} KiB to {rss_at_end} KiB"
    );
    emulator.shutdown().await;
}
