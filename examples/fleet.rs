//! A fleet of four processes of one account, 32 callers each, against one
//! action limited to 20 calls a second for the account: each process with
//! its own adaptive limiter, then all sharing one budget in Redis, then the
//! same with Redis killed for five seconds.
//!
//! ```text
//! cargo run --release --all-features --example fleet
//! cargo run --release --all-features --example fleet -- b c   # some modes only
//! ```
//!
//! Needs `redis-server` on the PATH (`bash .ci/redis-setup` installs it);
//! the example starts its own on a free loopback port, with no persistence.
//!
//! The parent runs the emulator and redis-server and re-executes its own
//! binary four times (`--process`): each child is an OS process with its
//! own runtime, hyper client, `AdaptiveRateLimitLayer` (and so its own
//! learned rates), Redis connection and `SharedBudget`. Children reach the
//! emulator and Redis over loopback TCP and report each call, then their
//! store counters, as JSON lines on stdout; the parent aggregates them.
//!
//! Each mode gets a fresh emulator whose DescribeZones allows 20 calls a
//! second (a bucket of 20, refilled at 20 a second), 10 s of warm-up, then
//! 20 s measured (30 s for (c), so that 10 s follow the 5 s after the
//! return of Redis). Over the measured window it reports goodput (calls that
//! succeeded, per second), the share of the emulator's answers that were
//! RequestLimitExceeded, the latency of the calls that succeeded (first
//! attempt to answer), Redis round trips per call, and the calls that
//! failed; then, per second of the window, throttled answers over answers.
//! Every process retries throttled calls (`RetryPolicy`, up to 10
//! attempts, jittered backoff from 200 ms to 2 s).
//!
//! - (a) `AdaptiveRateLimitLayer` in each process, nothing shared;
//! - (b) `AdaptiveRateLimitLayer::shared(SharedBudget)` on one Redis;
//! - (c) (b) with Redis killed (SIGKILL) 10 s into the measured window and
//!   started again, empty, at 15 s.

use std::io::{BufRead, BufReader, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde_json::{Value, json};
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

const SECRET_ID: &str = "AKIDfleet00000000000000000000000000";
const SECRET_KEY: &str = "fleet-secret-key";
const ACTION: &str = "DescribeZones";
const LIMIT: u32 = 20;
const PROCESSES: usize = 4;
const CALLERS: usize = 32;
const WARM_UP: Duration = Duration::from_secs(10);
const MEASURED: Duration = Duration::from_secs(20);
const KILL_AT: Duration = Duration::from_secs(10);
const RESTART_AT: Duration = Duration::from_secs(15);
/// The time Redis has to be back under 1%: the goal of (c).
const RECOVERY: Duration = Duration::from_secs(5);
/// (c) is measured this much longer, so that 10 s follow the 5 s of
/// recovery.
const AFTER_RECOVERY: Duration = Duration::from_secs(10);
/// How long after the end of its window a child may take to exit.
const EXIT_GRACE: Duration = Duration::from_secs(10);

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Alone,
    Shared,
    Outage,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Alone => "(a) in-process limiter only",
            Mode::Shared => "(b) shared budget in Redis",
            Mode::Outage => "(c) (b), Redis down 10-15 s",
        }
    }

    fn measured(self) -> Duration {
        match self {
            Mode::Outage => MEASURED + AFTER_RECOVERY,
            Mode::Alone | Mode::Shared => MEASURED,
        }
    }
}

fn credentials() -> Credentials {
    Credentials::new(SECRET_ID, SECRET_KEY)
}

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--process") {
        return child(&args[1..]);
    }
    let mut modes = Vec::new();
    for arg in &args {
        modes.push(match arg.as_str() {
            "a" => Mode::Alone,
            "b" => Mode::Shared,
            "c" => Mode::Outage,
            other => return Err(format!("unknown mode {other:?}: a, b or c").into()),
        });
    }
    if modes.is_empty() {
        modes = vec![Mode::Alone, Mode::Shared, Mode::Outage];
    }
    let runtime = tokio::runtime::Runtime::new()?;
    println!(
        "{PROCESSES} processes x {CALLERS} callers, {ACTION} limited to {LIMIT}/s for the account, \
         {}s warm-up, {}s measured\n",
        WARM_UP.as_secs(),
        MEASURED.as_secs()
    );
    let mut rows = Vec::new();
    for &mode in &modes {
        rows.push((mode, run(&runtime, mode)?));
    }
    println!(
        "{:<34} {:>10} {:>10} {:>8} {:>8} {:>12} {:>7}",
        "mode", "goodput/s", "throttled", "p50", "p99", "redis/call", "failed"
    );
    for (mode, row) in &rows {
        println!(
            "{:<34} {:>10.2} {:>9.2}% {:>8} {:>8} {:>12} {:>7}",
            mode.name(),
            row.goodput,
            row.throttled * 100.0,
            format!("{:.0?}", row.p50),
            format!("{:.0?}", row.p99),
            if *mode == Mode::Alone {
                "-".to_owned()
            } else {
                format!("{:.3}", row.round_trips_per_call)
            },
            row.failed
        );
    }
    println!("\nthrottled/answers in each second of the measured window:");
    for (mode, row) in &rows {
        let seconds: Vec<String> = row
            .per_second
            .iter()
            .map(|(throttled, answers)| format!("{throttled}/{answers}"))
            .collect();
        println!("{:<4} {}", &mode.name()[..3], seconds.join(" "));
    }
    println!("\ncuts of the shared rate (s into the window: from -> to, per second):");
    for (mode, row) in rows.iter().filter(|(mode, _)| *mode != Mode::Alone) {
        let cuts: Vec<String> = row
            .cuts
            .iter()
            .map(|(at, from, to)| format!("{at:.1}s: {from:.1} -> {to:.1}"))
            .collect();
        println!("{:<4} {}", &mode.name()[..3], cuts.join(", "));
    }
    if let Some((_, row)) = rows.iter().find(|(mode, _)| *mode == Mode::Outage) {
        let back = RESTART_AT.as_secs() as usize;
        let shares: Vec<String> = row.per_second[back..]
            .iter()
            .enumerate()
            .map(|(second, (throttled, answers))| {
                format!(
                    "+{}s {:.1}%",
                    second + 1,
                    100.0 * *throttled as f64 / (*answers).max(1) as f64
                )
            })
            .collect();
        println!(
            "\n(c) Redis killed at {}s, back at {}s; throttled share in each second after: {}",
            KILL_AT.as_secs(),
            RESTART_AT.as_secs(),
            shares.join(", ")
        );
        let recovered = back + RECOVERY.as_secs() as usize;
        let (throttled, answers) = row.per_second[recovered..]
            .iter()
            .fold((0, 0), |(t, a), (throttled, answers)| {
                (t + throttled, a + answers)
            });
        println!(
            "(c) throttled share from 5 s after the return of Redis to the end: {:.2}% ({throttled} of {answers})",
            100.0 * throttled as f64 / answers.max(1) as f64,
        );
    }
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
    /// (throttled, answers) in each second of the window.
    per_second: Vec<(usize, usize)>,
    /// The cuts of the shared rate seen in Redis: (seconds into the window,
    /// rate cut from, rate cut to).
    cuts: Vec<(f64, f64, f64)>,
}

/// What a child reported: its calls, and its store's round trips during
/// the measured window.
#[derive(Default)]
struct Report {
    /// (ended, in ms since the epoch; latency in µs; succeeded).
    calls: Vec<(u64, u64, bool)>,
    round_trips: u64,
}

fn epoch_ms(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}

fn run(runtime: &tokio::runtime::Runtime, mode: Mode) -> Result<Row, BoxError> {
    let emulator = runtime.block_on(
        Emulator::builder()
            .credentials(credentials())
            .action_rate_limit(ACTION, LIMIT)
            .start(),
    )?;
    let mut redis = (mode != Mode::Alone).then(RedisServer::start).transpose()?;
    let measured = mode.measured();
    // The children share no clock but the system's: the window is given in
    // milliseconds since the epoch.
    let wall = SystemTime::now();
    let start = Instant::now();
    let measured_from = start + WARM_UP;
    let end = measured_from + measured;
    let from_ms = epoch_ms(wall + WARM_UP);
    let end_ms = epoch_ms(wall + WARM_UP + measured);
    let exe = std::env::current_exe()?;
    let mut children = Vec::new();
    for _ in 0..PROCESSES {
        let redis_url = redis
            .as_ref()
            .map_or_else(|| "-".to_owned(), RedisServer::url);
        let mut child = Command::new(&exe)
            .arg("--process")
            .arg(emulator.endpoint())
            .arg(redis_url)
            .arg(from_ms.to_string())
            .arg(end_ms.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().ok_or("a child without stdout")?;
        let reader = thread::spawn(move || read_report(stdout));
        children.push((child, reader));
    }
    let watcher = redis.as_ref().map(|redis| {
        let url = redis.url();
        thread::spawn(move || watch_cuts(&url, measured_from, end))
    });
    let log = emulator.log();
    thread::sleep(measured_from.saturating_duration_since(Instant::now()));
    let mut seen = log.len();
    let mut per_second = Vec::new();
    let mut second = measured_from;
    while second < end {
        second += Duration::from_secs(1);
        if let (Mode::Outage, Some(redis)) = (mode, redis.as_mut()) {
            let elapsed = second - measured_from;
            if elapsed == KILL_AT + Duration::from_secs(1) {
                redis.kill();
            }
            if elapsed == RESTART_AT + Duration::from_secs(1) {
                redis.restart()?;
            }
        }
        thread::sleep(second.saturating_duration_since(Instant::now()));
        let answers = log.entries_after(seen);
        seen += answers.len();
        let throttled = answers.iter().filter(|e| is_throttle(e.outcome())).count();
        per_second.push((throttled, answers.len()));
    }
    let mut reports = Vec::new();
    for (mut child, reader) in children {
        wait_bounded(&mut child, end + EXIT_GRACE)?;
        reports.push(reader.join().map_err(|_| "a reader thread panicked")??);
    }
    let cuts = match watcher {
        Some(watcher) => watcher.join().map_err(|_| "the watcher panicked")?,
        None => Vec::new(),
    };
    drop(redis);

    let answers: usize = per_second.iter().map(|(_, answers)| answers).sum();
    let throttled: usize = per_second.iter().map(|(throttled, _)| throttled).sum();
    let in_window = reports
        .iter()
        .flat_map(|report| &report.calls)
        .filter(|(ended, _, _)| (from_ms..=end_ms).contains(ended));
    let mut latencies: Vec<Duration> = in_window
        .clone()
        .filter(|(_, _, ok)| *ok)
        .map(|(_, latency, _)| Duration::from_micros(*latency))
        .collect();
    latencies.sort_unstable();
    let ended = in_window.clone().count();
    let failed = in_window.filter(|(_, _, ok)| !ok).count();
    let trips: u64 = reports.iter().map(|report| report.round_trips).sum();
    Ok(Row {
        goodput: latencies.len() as f64 / measured.as_secs_f64(),
        throttled: throttled as f64 / answers.max(1) as f64,
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
        round_trips_per_call: trips as f64 / ended.max(1) as f64,
        failed,
        per_second,
        cuts,
    })
}

/// Polls Redis for the cuts of the shared rate until `end`: the state of
/// the budget, for the report; a Redis that is down is polled again.
fn watch_cuts(url: &str, measured_from: Instant, end: Instant) -> Vec<(f64, f64, f64)> {
    let mut cuts = Vec::new();
    let mut seen = None;
    let mut connection = None;
    while Instant::now() < end {
        thread::sleep(Duration::from_millis(20));
        if connection.is_none() {
            connection = redis::Client::open(url)
                .and_then(|client| client.get_connection_with_timeout(Duration::from_millis(100)))
                .ok();
        }
        let Some(redis) = connection.as_mut() else {
            continue;
        };
        let state: redis::RedisResult<Option<(u64, f64, f64)>> = (|| {
            let keys: Vec<String> = redis::cmd("KEYS")
                .arg("tower-tencentcloud:rate:*")
                .query(redis)?;
            let Some(key) = keys.first() else {
                return Ok(None);
            };
            let (generation, from, to): (Option<u64>, Option<f64>, Option<f64>) =
                redis::cmd("HMGET")
                    .arg(key)
                    .arg(&["gen", "last_max", "rate"])
                    .query(redis)?;
            Ok(generation.zip(from).zip(to).map(|((g, f), t)| (g, f, t)))
        })();
        match state {
            Ok(Some((generation, from, to))) => {
                if seen.is_some_and(|seen| generation > seen) {
                    // Negative during the warm-up.
                    let now = Instant::now();
                    let at = now.saturating_duration_since(measured_from).as_secs_f64()
                        - measured_from.saturating_duration_since(now).as_secs_f64();
                    cuts.push((at, from, to));
                }
                seen = Some(generation);
            }
            Ok(None) => seen = None,
            Err(_) => connection = None,
        }
    }
    cuts
}

fn read_report(stdout: ChildStdout) -> Result<Report, BoxError> {
    let mut report = Report::default();
    for line in BufReader::new(stdout).lines() {
        let value: Value = serde_json::from_str(&line?)?;
        if let Some(call) = value.get("call") {
            let field = |name: &str| call.get(name).and_then(Value::as_u64).unwrap_or(0);
            let ok = call.get("ok").and_then(Value::as_bool).unwrap_or(false);
            report
                .calls
                .push((field("ended_ms"), field("latency_us"), ok));
        } else if let Some(trips) = value.get("round_trips").and_then(Value::as_u64) {
            report.round_trips = trips;
        }
    }
    Ok(report)
}

/// Waits for `child` until `deadline`, then kills it: a run is bounded.
fn wait_bounded(child: &mut Child, deadline: Instant) -> Result<(), BoxError> {
    loop {
        if let Some(status) = child.try_wait()? {
            return if status.success() {
                Ok(())
            } else {
                Err(format!("a fleet process exited with {status}").into())
            };
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err("a fleet process did not end in time".into());
        }
        thread::sleep(Duration::from_millis(20));
    }
}

fn is_throttle(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Error(code) if code.retry_class() == RetryClass::Throttled)
}

/// One process of the fleet: `--process ENDPOINT REDIS_URL|- FROM_MS END_MS`.
fn child(args: &[String]) -> Result<(), BoxError> {
    let [endpoint, redis_url, from_ms, end_ms] = args else {
        return Err("usage: fleet --process ENDPOINT REDIS_URL|- FROM_MS END_MS".into());
    };
    let redis_url = (redis_url != "-").then(|| redis_url.clone());
    let at = |ms: &str| -> Result<Instant, BoxError> {
        let wall = UNIX_EPOCH + Duration::from_millis(ms.parse()?);
        let until = wall
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO);
        Ok(Instant::now() + until)
    };
    let (measured_from, end) = (at(from_ms)?, at(end_ms)?);
    let request = ActionRequest::new("cvm", "2017-03-12", ACTION)
        .region("ap-guangzhou")
        .endpoint(endpoint.as_str())
        .build()?;
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
                Account::from_secret_id(SECRET_ID),
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
            .layer(SignLayer::new(credentials()))
            .layer(EnvelopeLayer::new())
            .service(Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>());
        let end_at = tokio::time::Instant::from_std(end);
        let (sender, mut receiver) = tokio::sync::mpsc::unbounded_channel();
        let mut callers = JoinSet::new();
        for _ in 0..CALLERS {
            let (client, request, sender): (_, Request<Full<Bytes>>, _) =
                (client.clone(), request.clone(), sender.clone());
            callers.spawn(async move {
                loop {
                    let started = Instant::now();
                    let call = client.clone().oneshot(request.clone());
                    // Dropping a call at the end cancels it, backoff and all.
                    let Ok(result) = tokio::time::timeout_at(end_at, call).await else {
                        return;
                    };
                    let line = json!({"call": {
                        "ended_ms": epoch_ms(SystemTime::now()),
                        "latency_us": started.elapsed().as_micros() as u64,
                        "ok": result.is_ok(),
                    }});
                    if sender.send(line).is_err() {
                        return;
                    }
                }
            });
        }
        drop(sender);
        let writer = tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let mut stdout = std::io::stdout().lock();
            while let Some(line) = receiver.blocking_recv() {
                writeln!(stdout, "{line}")?;
            }
            stdout.flush()
        });
        tokio::time::sleep_until(tokio::time::Instant::from_std(measured_from)).await;
        let before = budget.as_ref().map_or(0, |b| b.stats().round_trips());
        tokio::time::sleep_until(end_at).await;
        let after = budget.as_ref().map_or(0, |b| b.stats().round_trips());
        while callers.join_next().await.is_some() {}
        writer.await??;
        println!("{}", json!({"round_trips": after - before}));
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
