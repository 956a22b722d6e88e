//! A fleet of four processes of one account, 32 callers each, against one
//! action limited to 20 calls a second for the account: each process with
//! its own adaptive limiter, then all sharing one budget in Redis, then the
//! same with Redis killed for five seconds.
//!
//! ```text
//! cargo run --release --example fleet --features emulator,redis
//! ```
//!
//! Needs `redis-server` on the PATH (`bash .ci/redis-setup` installs it);
//! the example starts its own on a free loopback port, with no persistence.
//!
//! A "process" here is a thread with a tokio runtime of its own, in which
//! it builds everything a real process would: its own hyper client, its own
//! `AdaptiveRateLimitLayer` (and so its own learned rates), its own Redis
//! connection and `SharedBudget`. Nothing is shared between them but the
//! emulator and Redis, which they reach over loopback TCP, as separate
//! processes would; one OS process is only a convenience of the harness.
//!
//! Each mode gets a fresh emulator whose DescribeZones allows 20 calls a
//! second (a bucket of 20, refilled at 20 a second), 10 s of warm-up, then
//! 20 s measured (25 s for (c), so that 5 s follow the return of Redis by
//! 5 s). Over the measured window it reports goodput (calls that
//! succeeded, per second), the share of the emulator's answers that were
//! RequestLimitExceeded, the latency of the calls that succeeded (first
//! attempt to answer), Redis round trips per call, and the calls that
//! failed. Every process retries throttled calls (`RetryPolicy`, up to 10
//! attempts, jittered backoff from 200 ms to 2 s).
//!
//! - (a) `AdaptiveRateLimitLayer` in each process, nothing shared;
//! - (b) `AdaptiveRateLimitLayer::shared(SharedBudget)` on one Redis;
//! - (c) (b) with Redis killed (SIGKILL) 10 s into the measured window and
//!   started again, empty, at 15 s.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::task::JoinSet;
use tower::retry::RetryLayer;
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::EnvelopeLayer;
use tower_tencentcloud::RetryClass;
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::emulator::{Emulator, Outcome};
use tower_tencentcloud::ratelimit::AdaptiveRateLimitLayer;
use tower_tencentcloud::ratelimit::shared::{Account, RedisStore, SharedBudget};
use tower_tencentcloud::retry::RetryPolicy;
use tower_tencentcloud::sign::{Credentials, SignLayer};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

const ACTION: &str = "DescribeZones";
const LIMIT: u32 = 20;
const PROCESSES: usize = 4;
const CALLERS: usize = 32;
const WARM_UP: Duration = Duration::from_secs(10);
const MEASURED: Duration = Duration::from_secs(20);
const KILL_AT: Duration = Duration::from_secs(10);
const RESTART_AT: Duration = Duration::from_secs(15);
/// (c) is measured this much longer, so that the 5 s after the recovery
/// window are inside it.
const AFTER_RECOVERY: Duration = Duration::from_secs(5);

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Alone,
    Shared,
    Outage,
}

fn main() -> Result<(), BoxError> {
    let runtime = tokio::runtime::Runtime::new()?;
    let credentials = Credentials::new("AKIDfleet00000000000000000000000000", "fleet-secret-key");
    println!(
        "{PROCESSES} processes x {CALLERS} callers, {ACTION} limited to {LIMIT}/s for the account, \
         {}s warm-up, {}s measured\n",
        WARM_UP.as_secs(),
        MEASURED.as_secs()
    );
    println!(
        "{:<34} {:>10} {:>10} {:>8} {:>8} {:>12} {:>7}",
        "mode", "goodput/s", "throttled", "p50", "p99", "redis/call", "failed"
    );
    let mut outage = None;
    for (mode, name) in [
        (Mode::Alone, "(a) in-process limiter only"),
        (Mode::Shared, "(b) shared budget in Redis"),
        (Mode::Outage, "(c) (b), Redis down 10-15 s"),
    ] {
        let row = run(&runtime, &credentials, mode)?;
        println!(
            "{name:<34} {:>10.2} {:>9.2}% {:>8} {:>8} {:>12} {:>7}",
            row.goodput,
            row.throttled * 100.0,
            format!("{:.0?}", row.p50),
            format!("{:.0?}", row.p99),
            if mode == Mode::Alone {
                "-".to_owned()
            } else {
                format!("{:.3}", row.round_trips_per_call)
            },
            row.failed
        );
        if mode == Mode::Outage {
            outage = Some(row);
        }
    }
    let outage = outage.expect("(c) ran");
    println!(
        "\n(c) throttled answers per second from the return of Redis (answers in brackets): {}",
        outage
            .after_return
            .iter()
            .map(|(throttled, answers)| format!("{throttled} [{answers}]"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let tail: (usize, usize) = outage
        .after_return
        .iter()
        .skip(AFTER_RECOVERY.as_secs() as usize)
        .fold((0, 0), |(t, a), (throttled, answers)| {
            (t + throttled, a + answers)
        });
    println!(
        "(c) throttled share from 5 s after the return to the end: {:.2}% ({} of {})",
        100.0 * tail.0 as f64 / tail.1.max(1) as f64,
        tail.0,
        tail.1
    );
    Ok(())
}

/// One mode's figures over the measured window.
struct Row {
    goodput: f64,
    throttled: f64,
    p50: Duration,
    p99: Duration,
    round_trips_per_call: f64,
    failed: usize,
    /// (throttled, answers) in each second from the return of Redis.
    after_return: Vec<(usize, usize)>,
}

struct Call {
    ended: Instant,
    latency: Duration,
    succeeded: bool,
}

fn run(
    runtime: &tokio::runtime::Runtime,
    credentials: &Credentials,
    mode: Mode,
) -> Result<Row, BoxError> {
    let emulator = runtime.block_on(
        Emulator::builder()
            .credentials(credentials.clone())
            .action_rate_limit(ACTION, LIMIT)
            .start(),
    )?;
    let request = ActionRequest::new("cvm", "2017-03-12", ACTION)
        .region("ap-guangzhou")
        .endpoint(emulator.endpoint())
        .build()?;
    let mut redis = (mode != Mode::Alone).then(RedisServer::start).transpose()?;
    let measured = if mode == Mode::Outage {
        MEASURED + AFTER_RECOVERY
    } else {
        MEASURED
    };
    let start = Instant::now();
    let measured_from = start + WARM_UP;
    let end = measured_from + measured;
    let calls = Arc::new(Mutex::new(Vec::new()));
    let trips = Arc::new(Mutex::new(Vec::new()));
    let mut processes = Vec::new();
    for _ in 0..PROCESSES {
        let (credentials, request, calls, trips) = (
            credentials.clone(),
            request.clone(),
            calls.clone(),
            trips.clone(),
        );
        let url = redis.as_ref().map(RedisServer::url);
        processes.push(thread::spawn(move || {
            process(credentials, request, url, calls, trips, measured_from, end)
        }));
    }
    let log = emulator.log();
    thread::sleep(measured_from.saturating_duration_since(Instant::now()));
    let answered_before = log.len();
    let mut after_return = Vec::new();
    if let (Mode::Outage, Some(redis)) = (mode, redis.as_mut()) {
        thread::sleep(measured_from + KILL_AT - Instant::now());
        redis.kill();
        thread::sleep(measured_from + RESTART_AT - Instant::now());
        redis.restart()?;
        let mut seen = log.len();
        let mut second = measured_from + RESTART_AT;
        while second + Duration::from_secs(1) <= end {
            second += Duration::from_secs(1);
            thread::sleep(second.saturating_duration_since(Instant::now()));
            let answers = log.entries_after(seen);
            seen += answers.len();
            let throttled = answers.iter().filter(|e| is_throttle(e.outcome())).count();
            after_return.push((throttled, answers.len()));
        }
    }
    thread::sleep(end.saturating_duration_since(Instant::now()));
    let answers = log.entries_after(answered_before);
    for process in processes {
        process.join().expect("a process thread panicked")?;
    }
    drop(redis);

    let throttled = answers.iter().filter(|e| is_throttle(e.outcome())).count();
    let calls = calls.lock().unwrap_or_else(PoisonError::into_inner);
    let in_window = calls
        .iter()
        .filter(|call| call.ended >= measured_from && call.ended <= end);
    let mut latencies: Vec<Duration> = in_window
        .clone()
        .filter(|call| call.succeeded)
        .map(|call| call.latency)
        .collect();
    latencies.sort_unstable();
    let ended = in_window.clone().count();
    let failed = in_window.filter(|call| !call.succeeded).count();
    let trips: u64 = trips
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .sum();
    Ok(Row {
        goodput: latencies.len() as f64 / measured.as_secs_f64(),
        throttled: throttled as f64 / answers.len().max(1) as f64,
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        round_trips_per_call: trips as f64 / ended.max(1) as f64,
        failed,
        after_return,
    })
}

fn is_throttle(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Error(code) if code.retry_class() == RetryClass::Throttled)
}

/// One process: a runtime, a client and a limiter of its own, 32 callers.
fn process(
    credentials: Credentials,
    request: Request<Full<Bytes>>,
    redis_url: Option<String>,
    calls: Arc<Mutex<Vec<Call>>>,
    trips: Arc<Mutex<Vec<u64>>>,
    measured_from: Instant,
    end: Instant,
) -> Result<(), BoxError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let mut layer = AdaptiveRateLimitLayer::new();
        let mut budget = None;
        if let Some(url) = redis_url {
            let config = ConnectionManagerConfig::new()
                .set_connection_timeout(Some(Duration::from_millis(100)))
                .set_response_timeout(Some(Duration::from_millis(100)))
                .set_number_of_retries(1);
            let connection =
                ConnectionManager::new_with_config(redis::Client::open(url)?, config).await?;
            let shared = SharedBudget::new(
                RedisStore::new(connection),
                Account::from_secret_id(credentials.secret_id()),
            );
            layer = layer.shared(shared.clone());
            budget = Some(shared);
        }
        let policy = RetryPolicy::default()
            .max_throttled_retries(9)
            .throttled_backoff(Duration::from_millis(200), Duration::from_secs(2));
        let client = ServiceBuilder::new()
            .layer(RetryLayer::new(policy))
            .layer(layer)
            .layer(SignLayer::new(credentials))
            .layer(EnvelopeLayer::new())
            .service(Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
        let end_at = tokio::time::Instant::from_std(end);
        let mut callers = JoinSet::new();
        for _ in 0..CALLERS {
            let (client, request, calls) = (client.clone(), request.clone(), calls.clone());
            callers.spawn(async move {
                loop {
                    let started = Instant::now();
                    let call = client.clone().oneshot(request.clone());
                    // Dropping a call at the end cancels it, backoff and all.
                    let Ok(result) = tokio::time::timeout_at(end_at, call).await else {
                        return;
                    };
                    let ended = Instant::now();
                    calls
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(Call {
                            ended,
                            latency: ended - started,
                            succeeded: result.is_ok(),
                        });
                }
            });
        }
        tokio::time::sleep_until(tokio::time::Instant::from_std(measured_from)).await;
        let before = budget.as_ref().map_or(0, |b| b.stats().round_trips());
        tokio::time::sleep_until(end_at).await;
        let after = budget.as_ref().map_or(0, |b| b.stats().round_trips());
        trips
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(after - before);
        while callers.join_next().await.is_some() {}
        Ok(())
    })
}

fn percentile(sorted: &[Duration], quantile: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let index = ((sorted.len() - 1) as f64 * quantile).round() as usize;
    sorted[index]
}

/// The example's own redis-server on a free loopback port.
struct RedisServer {
    port: u16,
    child: Option<Child>,
}

impl RedisServer {
    fn start() -> Result<Self, BoxError> {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?
            .local_addr()?
            .port();
        let mut server = Self { port, child: None };
        server.restart()?;
        Ok(server)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn restart(&mut self) -> Result<(), BoxError> {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .current_dir(std::env::temp_dir())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|err| {
                format!("start redis-server (bash .ci/redis-setup installs it): {err}")
            })?;
        self.child = Some(child);
        let started = Instant::now();
        while TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_err() {
            if started.elapsed() > Duration::from_secs(10) {
                return Err("redis-server did not listen within 10 s".into());
            }
            thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}
