//! The shared rate budget against a real redis-server (started by the test
//! on a loopback port, installed by `.ci/redis-setup` if missing) and the
//! crate's emulator. Redis keeps its own clock, so these tests run in real
//! time, each for a few seconds at most.

use std::time::Duration;

use bytes::Bytes;
use http::Request;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use redis::AsyncCommands;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tower::retry::RetryLayer;
use tower::util::BoxCloneService;
use tower::{ServiceBuilder, ServiceExt};
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::emulator::{Emulator, Outcome};
use tower_tencentcloud::ratelimit::shared::{
    Account, OnStoreFailure, RedisStore, SharedBudget, StoreError,
};
use tower_tencentcloud::ratelimit::{AdaptiveRateLimitLayer, RateKey};
use tower_tencentcloud::retry::RetryPolicy;
use tower_tencentcloud::sign::{Credentials, SignLayer};
use tower_tencentcloud::{EnvelopeLayer, Error, RetryClass};

use crate::redis_server;

use redis_server::RedisServer;

const SECRET_ID: &str = "AKIDsharedbudget00000000000000000000";
const SECRET_KEY: &str = "shared-budget-secret-key";
const ACTION: &str = "DescribeZones";

type Caller = BoxCloneService<Request<Full<Bytes>>, (), Error>;

fn credentials() -> Credentials {
    Credentials::new(SECRET_ID, SECRET_KEY)
}

async fn emulator(per_second: u32) -> Emulator {
    Emulator::builder()
        .credentials(credentials())
        .action_rate_limit(ACTION, per_second)
        .start()
        .await
        .expect("start the emulator")
}

fn zones(emulator: &Emulator) -> Request<Full<Bytes>> {
    ActionRequest::new("cvm", "2017-03-12", ACTION)
        .region("ap-guangzhou")
        .endpoint(emulator.endpoint())
        .build()
        .expect("a valid request")
}

async fn connection(redis: &RedisServer) -> ConnectionManager {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_millis(200)))
        .set_response_timeout(Some(Duration::from_millis(200)))
        .set_number_of_retries(1);
    let client = redis::Client::open(redis.url()).expect("a redis URL");
    ConnectionManager::new_with_config(client, config)
        .await
        .expect("connect to redis-server")
}

/// One process of the fleet: its own connection, budget and limiter.
async fn process(
    redis: &RedisServer,
    retries: bool,
    tune: impl FnOnce(SharedBudget) -> SharedBudget,
) -> (SharedBudget, Caller) {
    let store = RedisStore::new(connection(redis).await);
    let budget = tune(SharedBudget::new(
        store,
        Account::from_secret_id(credentials().secret_id()),
    ));
    let policy = RetryPolicy::default()
        .max_throttled_retries(9)
        .throttled_backoff(Duration::from_millis(100), Duration::from_secs(1));
    let transport = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let client = ServiceBuilder::new()
        .option_layer(retries.then(|| RetryLayer::new(policy)))
        .layer(AdaptiveRateLimitLayer::new().shared(budget.clone()))
        .layer(SignLayer::new(credentials()))
        .layer(EnvelopeLayer::new())
        .service(transport)
        .map_response(|_| ());
    (budget, BoxCloneService::new(client))
}

fn is_throttle(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Error(code) if code.retry_class() == RetryClass::Throttled)
}

fn store_key(emulator: &Emulator) -> String {
    format!(
        "tower-tencentcloud:rate:{}:{}",
        Account::from_secret_id(SECRET_ID),
        RateKey::from_request(&zones(emulator))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttle_seen_by_one_process_paces_the_others() {
    let redis = RedisServer::start();
    let emulator = emulator(5).await;
    let (_, a) = process(&redis, false, |budget| budget).await;
    let (b_budget, b) = process(&redis, false, |budget| budget).await;
    let mut redis_view = connection(&redis).await;
    let key = store_key(&emulator);

    // Process A alone calls beyond the limit until the shared rate is cut.
    let give_up = Instant::now() + Duration::from_secs(8);
    loop {
        let mut calls = JoinSet::new();
        for _ in 0..4 {
            calls.spawn(a.clone().oneshot(zones(&emulator)));
        }
        calls.join_all().await;
        let generation: Option<u64> = redis_view.hget(&key, "gen").await.unwrap();
        if generation.unwrap_or(0) >= 1 {
            break;
        }
        assert!(
            Instant::now() < give_up,
            "A's throttles never cut the shared rate"
        );
    }
    // The emulator's bucket refills while nobody calls.
    tokio::time::sleep(Duration::from_secs(1)).await;

    // B, never throttled itself, sends ten calls at once: paced by the
    // shared rate, none is throttled (alone and unpaced, five would be).
    let before = emulator.log().len();
    let mut calls = JoinSet::new();
    for _ in 0..10 {
        calls.spawn(b.clone().oneshot(zones(&emulator)));
    }
    for result in calls.join_all().await {
        result.expect("B's call is answered without a throttle");
    }
    let answers = emulator.log().entries_after(before);
    assert_eq!(answers.len(), 10);
    assert_eq!(
        answers.iter().filter(|e| is_throttle(e.outcome())).count(),
        0
    );
    let trips = b_budget.stats().round_trips();
    assert!(
        (1..=10).contains(&trips),
        "{trips} round trips for 10 calls"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_names_a_hash_of_the_secret_id_and_holds_no_credential() {
    let redis = RedisServer::start();
    let emulator = emulator(3).await;
    let (_, client) = process(&redis, false, |budget| budget).await;
    for _ in 0..12 {
        let _ = client.clone().oneshot(zones(&emulator)).await;
    }
    let mut view = connection(&redis).await;
    let keys: Vec<String> = view.keys("*").await.unwrap();
    assert_eq!(keys, [store_key(&emulator)]);
    let prefix = format!(
        "tower-tencentcloud:rate:{}:",
        Account::from_secret_id(SECRET_ID)
    );
    let fields: Vec<(String, String)> = view.hgetall(&keys[0]).await.unwrap();
    assert!(!fields.is_empty());
    for text in keys.iter().chain(fields.iter().flat_map(|(k, v)| [k, v])) {
        assert!(
            !text.contains(SECRET_ID) && !text.contains(SECRET_KEY),
            "{text}"
        );
    }
    assert!(keys[0].starts_with(&prefix));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_open_a_dead_redis_falls_back_once_and_comes_back_by_itself() {
    let mut redis = RedisServer::start();
    let emulator = emulator(1000).await;
    let (budget, client) = process(&redis, false, |budget| {
        budget
            .free_lease(Duration::ZERO)
            .probe_interval(Duration::from_millis(50))
    })
    .await;
    client.clone().oneshot(zones(&emulator)).await.unwrap();
    assert!(budget.stats().round_trips() >= 1);
    assert!(!budget.stats().is_down());

    redis.kill();
    for _ in 0..20 {
        client
            .clone()
            .oneshot(zones(&emulator))
            .await
            .expect("failing open, calls go on without Redis");
    }
    let down = budget.stats();
    assert!(down.is_down());
    assert_eq!(down.outages(), 1, "one transition, logged once");
    assert!(down.local_admissions() >= 1);

    redis.restart();
    let give_up = Instant::now() + Duration::from_secs(5);
    while budget.stats().is_down() {
        assert!(
            Instant::now() < give_up,
            "the budget never found Redis back"
        );
        client.clone().oneshot(zones(&emulator)).await.unwrap();
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let back = budget.stats();
    assert_eq!(back.outages(), 1);
    assert!(back.round_trips() > down.round_trips());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_closed_a_dead_redis_refuses_calls_unsent() {
    let mut redis = RedisServer::start();
    let emulator = emulator(1000).await;
    let (budget, client) = process(&redis, false, |budget| {
        budget
            .free_lease(Duration::ZERO)
            .on_failure(OnStoreFailure::FailClosed)
    })
    .await;
    client.clone().oneshot(zones(&emulator)).await.unwrap();
    let sent = emulator.log().len();

    redis.kill();
    for _ in 0..3 {
        let error = client.clone().oneshot(zones(&emulator)).await.unwrap_err();
        let layer = error.as_layer().expect("the shared budget's own error");
        assert!(layer.downcast_ref::<StoreError>().is_some(), "{error}");
        assert_eq!(error.retry_class(), RetryClass::Transient);
        assert!(!error.to_string().contains('\n'));
    }
    assert_eq!(emulator.log().len(), sent, "nothing was sent");
    assert_eq!(budget.stats().outages(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_redis_is_given_up_on_after_the_timeout() {
    let redis = RedisServer::start();
    let emulator = emulator(1000).await;
    let (budget, client) = process(&redis, false, |budget| {
        budget
            .free_lease(Duration::ZERO)
            .timeout(Duration::from_millis(50))
    })
    .await;
    client.clone().oneshot(zones(&emulator)).await.unwrap();

    redis.pause();
    // Bounded so that a hang fails the test rather than stalling it.
    let call = tokio::time::timeout(
        Duration::from_secs(10),
        client.clone().oneshot(zones(&emulator)),
    )
    .await;
    redis.resume();
    call.expect("the call does not wait for a stalled Redis")
        .expect("failing open, it is sent");
    let stats = budget.stats();
    assert!(stats.failures() >= 1);
    assert_eq!(stats.outages(), 1);
}

/// The example's fleet, small: 2 processes of 8 callers against 10 calls
/// a second, for 4 s after 6 s of warm-up: few throttles (the example
/// measures the share over 20 s; 4 s of ~40 answers only bound it), at
/// most one round trip per answer, no call failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_fleet_shares_the_limit_with_few_throttles_and_round_trips() {
    let redis = RedisServer::start();
    let emulator = emulator(10).await;
    let start = Instant::now();
    let measured_from = start + Duration::from_secs(6);
    let end = measured_from + Duration::from_secs(4);
    let mut budgets = Vec::new();
    let mut callers = JoinSet::new();
    for _ in 0..2 {
        let (budget, client) = process(&redis, true, |budget| budget).await;
        budgets.push(budget);
        for _ in 0..8 {
            let (client, request) = (client.clone(), zones(&emulator));
            callers.spawn(async move {
                let mut failed = 0;
                while let Ok(result) =
                    tokio::time::timeout_at(end, client.clone().oneshot(request.clone())).await
                {
                    failed += usize::from(result.is_err() && Instant::now() >= measured_from);
                }
                failed
            });
        }
    }
    tokio::time::sleep_until(measured_from).await;
    let log = emulator.log();
    let before = log.len();
    let trips_before: u64 = budgets.iter().map(|b| b.stats().round_trips()).sum();
    tokio::time::sleep_until(end).await;
    let answers = log.entries_after(before);
    let trips: u64 = budgets.iter().map(|b| b.stats().round_trips()).sum::<u64>() - trips_before;
    let failed: usize = callers.join_all().await.into_iter().sum();

    let throttled = answers.iter().filter(|e| is_throttle(e.outcome())).count();
    assert!(!answers.is_empty());
    assert!(
        throttled * 10 <= answers.len(),
        "{throttled} of {} answers throttled",
        answers.len()
    );
    assert!(
        trips <= answers.len() as u64,
        "{trips} round trips for {} answers",
        answers.len()
    );
    assert_eq!(failed, 0);
}
