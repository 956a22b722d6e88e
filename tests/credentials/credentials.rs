//! Rotating credentials against the emulator's metadata server and STS, in
//! process, on tokio's paused clock: hours of lifetimes pass in moments.

use std::error::Error as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::time::Instant;
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::credentials::{
    AssumeRoleProvider, CredentialsCache, CredentialsError, CredentialsErrorKind, CvmRoleProvider,
    WebIdentityProvider,
};
use tower_tencentcloud::emulator::{EmulatorService, MetadataFault};
use tower_tencentcloud::sign::{Credentials, SignLayer};
use tower_tencentcloud::{EnvelopeLayer, Error};

const HOUR: Duration = Duration::from_secs(3600);
const MINUTE: Duration = Duration::from_secs(60);
/// In process the host is not dialled; it only names the endpoints.
const METADATA: &str = "http://metadata.tencentyun.com/latest/meta-data/";
const ENDPOINT: &str = "http://127.0.0.1:9";
const ROLE_ARN: &str = "qcs::cam::uin/100000000001:roleName/deployer";

fn emulator(lifetime: Duration) -> EmulatorService {
    tower_tencentcloud::emulator::Emulator::builder()
        .cvm_role("app-role")
        .role_credentials_lifetime(lifetime)
        .into_service()
}

fn cvm_role(emulator: &EmulatorService) -> CvmRoleProvider<EmulatorService> {
    CvmRoleProvider::new(emulator.clone()).endpoint(METADATA)
}

/// The crate's stack over the in-process emulator, signing from `layer`.
fn client(
    layer: SignLayer,
    emulator: &EmulatorService,
) -> impl Service<
    http::Request<http_body_util::Full<bytes::Bytes>>,
    Response = http::Response<
        tower_tencentcloud::EnvelopeBody<tower_tencentcloud::emulator::EmulatorBody>,
    >,
    Error = Error,
    Future: Send,
> + Clone
+ Send
+ 'static {
    ServiceBuilder::new()
        .layer(layer)
        .layer(EnvelopeLayer::new())
        .service(emulator.clone())
}

fn describe_regions() -> http::Request<http_body_util::Full<bytes::Bytes>> {
    ActionRequest::new("cvm", "2017-03-12", "DescribeRegions")
        .endpoint(ENDPOINT)
        .build()
        .unwrap()
}

/// The credentials error a call failed with.
fn credentials_error(err: &Error) -> &CredentialsError {
    err.as_layer()
        .and_then(|layer| layer.downcast_ref::<CredentialsError>())
        .unwrap_or_else(|| panic!("not a credentials error: {err}"))
}

#[tokio::test(start_paused = true)]
async fn callers_sign_through_three_expiries_with_one_fetch_per_refresh() {
    let emulator = emulator(HOUR);
    // Every metadata answer takes 5 seconds: a call that waited on a
    // refresh would take as long.
    emulator
        .metadata()
        .set_fault(MetadataFault::Delay(Duration::from_secs(5)));
    let cache = CredentialsCache::new(cvm_role(&emulator).timeout(Duration::from_secs(30)));
    let client = client(SignLayer::with_cache(cache.clone()), &emulator);

    let start = Instant::now();
    let run_for = 3 * HOUR + 10 * MINUTE;
    let (failed, waited, calls) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let mut tasks = Vec::new();
    for caller in 0..256u64 {
        let client = client.clone();
        let (failed, waited, calls) = (failed.clone(), waited.clone(), calls.clone());
        tasks.push(tokio::spawn(async move {
            // Spread over the interval: a call lands every 1.17 seconds.
            tokio::time::sleep(Duration::from_millis(caller * 1170)).await;
            while start.elapsed() < run_for {
                let before = Instant::now();
                let result = client.clone().oneshot(describe_regions()).await;
                calls.fetch_add(1, Ordering::Relaxed);
                if let Err(err) = result {
                    eprintln!("call failed: {err}");
                    failed.fetch_add(1, Ordering::Relaxed);
                }
                // The first 10 seconds (the role's name, then its
                // credentials), nobody has credentials yet.
                if before.duration_since(start) > Duration::from_secs(10)
                    && before.elapsed() > Duration::ZERO
                {
                    waited.fetch_add(1, Ordering::Relaxed);
                }
                tokio::time::sleep(5 * MINUTE).await;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }

    eprintln!(
        "calls {}, failed {}, waited {}, metadata credential fetches {}",
        calls.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
        waited.load(Ordering::Relaxed),
        emulator.metadata().credential_fetches()
    );
    assert!(calls.load(Ordering::Relaxed) >= 256 * 37);
    assert_eq!(failed.load(Ordering::Relaxed), 0, "failed calls");
    assert_eq!(
        waited.load(Ordering::Relaxed),
        0,
        "calls that waited while valid credentials existed"
    );
    // The first fetch, then one refresh 5 minutes before each expiry:
    // at 55 min, 1 h 50, 2 h 45.
    assert_eq!(emulator.metadata().credential_fetches(), 4);
    assert_eq!(cache.fetches(), 4);
    assert_eq!(emulator.metadata().role_fetches(), 1);
    let secret_ids: std::collections::BTreeSet<_> = emulator
        .log()
        .entries()
        .into_iter()
        .filter_map(|entry| entry.secret_id().map(str::to_owned))
        .collect();
    assert_eq!(secret_ids.len(), 4, "one key pair per lifetime");
}

#[tokio::test(start_paused = true)]
async fn a_metadata_outage_fails_calls_only_once_the_credentials_expire() {
    let emulator = emulator(HOUR);
    let cache = CredentialsCache::new(cvm_role(&emulator));
    let client = client(SignLayer::with_cache(cache.clone()), &emulator);
    let start = Instant::now();
    client.clone().oneshot(describe_regions()).await.unwrap();
    let expiry = cache.expiry().unwrap();

    // Down from 10 minutes before the expiry until 5 minutes after it.
    tokio::time::sleep(50 * MINUTE).await;
    emulator.metadata().set_fault(MetadataFault::ServerError);
    let fetches_before = emulator.metadata().credential_fetches();
    let mut before_expiry = 0;
    let mut fetches_at_expiry = 0;
    loop {
        let elapsed = start.elapsed();
        if elapsed >= HOUR + 5 * MINUTE {
            break;
        }
        let result = client.clone().oneshot(describe_regions()).await;
        // ExpiredTime is in whole seconds: the last second is the
        // cache's to round down.
        if elapsed < HOUR - Duration::from_secs(1) {
            result.unwrap();
            before_expiry += 1;
            fetches_at_expiry = emulator.metadata().credential_fetches();
        } else if elapsed >= HOUR {
            let err = result.unwrap_err();
            let credentials = credentials_error(&err);
            assert_eq!(credentials.kind(), CredentialsErrorKind::Expired, "{err}");
            let cause = credentials
                .source()
                .and_then(|source| source.downcast_ref::<CredentialsError>())
                .expect("the refresh failure is the source");
            assert_eq!(cause.kind(), CredentialsErrorKind::Fetch);
            assert!(cause.to_string().contains("HTTP 500"), "{cause}");
            assert!(err.retry_class().is_retryable());
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    assert_eq!(before_expiry, 60);
    // The refresh began 5 minutes before the expiry and backed off,
    // 1 s doubling to 60 s: 9 attempts, not one per call (30 calls).
    let outage_fetches = fetches_at_expiry - fetches_before;
    eprintln!(
        "fetches before the expiry {outage_fetches}, after it {}",
        emulator.metadata().credential_fetches() - fetches_at_expiry
    );
    // On this schedule (a call every 10 s): 55:00, :10, :20, :30, :40,
    // 56:00, 56:40, 57:40, 58:40, 59:40.
    assert_eq!(outage_fetches, 10);
    // After the expiry each call (10 s apart) fetched: one each, never two.
    assert_eq!(
        emulator.metadata().credential_fetches() - fetches_at_expiry,
        30
    );

    // A hot loop of calls without credentials fails fast: one fetch a second.
    let fetches = emulator.metadata().credential_fetches();
    for _ in 0..1000 {
        let err = client
            .clone()
            .oneshot(describe_regions())
            .await
            .unwrap_err();
        assert_eq!(
            credentials_error(&err).kind(),
            CredentialsErrorKind::Expired
        );
    }
    assert_eq!(emulator.metadata().credential_fetches(), fetches + 1);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        cache.expiry(),
        Some(expiry),
        "no failure replaced the credentials"
    );

    emulator.metadata().clear_fault();
    let fetches = emulator.metadata().credential_fetches();
    client.clone().oneshot(describe_regions()).await.unwrap();
    assert_eq!(emulator.metadata().credential_fetches(), fetches + 1);
}

#[tokio::test(start_paused = true)]
async fn a_hung_metadata_server_fails_calls_after_the_timeout() {
    let emulator = emulator(HOUR);
    emulator.metadata().set_fault(MetadataFault::Hang);
    let client = client(SignLayer::with_provider(cvm_role(&emulator)), &emulator);

    let start = Instant::now();
    let result = tokio::time::timeout(HOUR, client.clone().oneshot(describe_regions())).await;
    let err = result.expect("the call hung").unwrap_err();
    assert_eq!(
        credentials_error(&err).kind(),
        CredentialsErrorKind::Timeout
    );
    assert_eq!(
        start.elapsed(),
        tower_tencentcloud::credentials::DEFAULT_METADATA_TIMEOUT
    );

    // The cache's own timeout bounds a provider that has none.
    let cache = CredentialsCache::builder(cvm_role(&emulator).timeout(HOUR))
        .fetch_timeout(Duration::from_secs(3))
        .build();
    let client = self::client(SignLayer::with_cache(cache), &emulator);
    let start = Instant::now();
    let err = client.oneshot(describe_regions()).await.unwrap_err();
    assert_eq!(
        credentials_error(&err).kind(),
        CredentialsErrorKind::Timeout
    );
    assert_eq!(start.elapsed(), Duration::from_secs(3));
    assert!(!err.to_string().contains("tmp-key"));
}

#[tokio::test(start_paused = true)]
async fn a_role_without_credentials_is_a_typed_error() {
    let emulator = emulator(HOUR);
    emulator.metadata().set_fault(MetadataFault::NoRole);
    let cache = CredentialsCache::new(cvm_role(&emulator));
    let client = client(SignLayer::with_cache(cache.clone()), &emulator);
    let err = client
        .clone()
        .oneshot(describe_regions())
        .await
        .unwrap_err();
    let credentials = credentials_error(&err);
    assert_eq!(credentials.kind(), CredentialsErrorKind::Fetch);
    assert!(
        credentials.to_string().contains("no CAM role"),
        "{credentials}"
    );

    // The failure was not kept: once a role is bound, the first call
    // past the least backoff (1 s) signs; one within it fails at once,
    // without a fetch.
    emulator.metadata().clear_fault();
    client
        .clone()
        .oneshot(describe_regions())
        .await
        .unwrap_err();
    assert_eq!(cache.fetches(), 1);
    tokio::time::sleep(tower_tencentcloud::credentials::DEFAULT_MIN_BACKOFF).await;
    client.oneshot(describe_regions()).await.unwrap();
    assert_eq!(cache.fetches(), 2);
    assert!(!format!("{cache:?}").contains("tmp-key"));
}

#[tokio::test(start_paused = true)]
async fn assume_role_chained_on_the_cvm_role_refreshes_both() {
    let emulator = emulator(HOUR);
    let source = cvm_role(&emulator);
    let role = AssumeRoleProvider::new(emulator.clone(), source, ROLE_ARN)
        .endpoint(ENDPOINT)
        .session_name("chained")
        .duration(2 * HOUR);
    let cache = CredentialsCache::new(role);
    let client = client(SignLayer::with_cache(cache.clone()), &emulator);

    let start = Instant::now();
    let mut secret_ids = std::collections::BTreeSet::new();
    while start.elapsed() < 6 * HOUR {
        let response = client.clone().oneshot(describe_regions()).await.unwrap();
        let request_id = response
            .extensions()
            .get::<tower_tencentcloud::RequestId>()
            .unwrap();
        let entry = emulator.log().find(request_id).unwrap();
        secret_ids.insert(entry.secret_id().unwrap().to_owned());
        tokio::time::sleep(MINUTE).await;
    }
    // STS credentials of 2 hours, refreshed 5 minutes ahead: at 0,
    // 1 h 55, 3 h 50, 5 h 45.
    assert_eq!(emulator.sts().assume_role_calls(), 4);
    assert_eq!(
        secret_ids.len(),
        4,
        "the calls were signed with each STS key pair"
    );
    // Each AssumeRole was signed with valid role credentials: the source
    // was fetched again whenever its hour had run out.
    assert!(emulator.metadata().credential_fetches() >= 3);
    let log = emulator.log();
    let entries = log.entries();
    let calls = entries
        .iter()
        .filter(|entry| entry.action() == Some("DescribeRegions"));
    for entry in calls {
        assert_eq!(
            entry.outcome(),
            &tower_tencentcloud::emulator::Outcome::Success
        );
    }
}

#[tokio::test(start_paused = true)]
async fn web_identity_reads_the_token_file_as_it_rotates() {
    let emulator = emulator(HOUR);
    let dir = std::env::temp_dir().join(format!("tc-web-identity-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let token_file = dir.join("token");
    std::fs::write(&token_file, "oidc-token-0\n").unwrap();
    let provider = WebIdentityProvider::new(
        emulator.clone(),
        "ap-shanghai",
        "tke-oidc",
        &token_file,
        ROLE_ARN,
    )
    .endpoint(ENDPOINT)
    .duration(HOUR);
    let cache = CredentialsCache::new(provider);
    let client = client(SignLayer::with_cache(cache.clone()), &emulator);

    let start = Instant::now();
    let mut rotation = 0;
    while start.elapsed() < 3 * HOUR + 10 * MINUTE {
        client.clone().oneshot(describe_regions()).await.unwrap();
        tokio::time::sleep(MINUTE).await;
        // TKE rotates the token file; here every 20 minutes.
        let due = (start.elapsed().as_secs() / 1200) as usize;
        if due > rotation {
            rotation = due;
            std::fs::write(&token_file, format!("oidc-token-{rotation}\n")).unwrap();
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
    // Fetched at 0, 55 min, 1 h 50, 2 h 45: each with the token of its time.
    assert_eq!(
        emulator.sts().web_identity_tokens(),
        [
            "oidc-token-0",
            "oidc-token-2",
            "oidc-token-5",
            "oidc-token-8"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn the_emulator_refuses_issued_credentials_once_they_expire() {
    let emulator = emulator(HOUR);
    let role = AssumeRoleProvider::new(
        emulator.clone(),
        Credentials::new("AKIDsource", "source-key"),
        ROLE_ARN,
    );
    // The source is not an account of the emulator: AssumeRole fails with
    // the API's error, typed.
    let err = role.fetch().await.unwrap_err();
    assert_eq!(err.kind(), CredentialsErrorKind::Api);
    let api = err.source_ref::<Error>().unwrap();
    assert_eq!(api.code().unwrap(), "AuthFailure.SecretIdNotFound");

    let role = AssumeRoleProvider::new(emulator.clone(), cvm_role(&emulator), ROLE_ARN)
        .endpoint(ENDPOINT)
        .duration(Duration::from_secs(900));
    let issued = role.fetch().await.unwrap();
    assert!(issued.has_session_token());
    let client = client(SignLayer::new(issued), &emulator);
    client.clone().oneshot(describe_regions()).await.unwrap();

    tokio::time::sleep(Duration::from_secs(901)).await;
    let err = client.oneshot(describe_regions()).await.unwrap_err();
    assert_eq!(err.code().unwrap(), "AuthFailure.TokenFailure");
}

#[tokio::test(start_paused = true)]
async fn fixed_credentials_sign_as_before() {
    let credentials = Credentials::new("AKIDEXAMPLE", "emulator-secret-key");
    let emulator = tower_tencentcloud::emulator::Emulator::builder()
        .credentials(credentials.clone())
        .into_service();
    let client = client(SignLayer::new(credentials), &emulator);
    client.oneshot(describe_regions()).await.unwrap();
}
