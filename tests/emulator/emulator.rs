//! The emulator through the crate's whole stack: Retry → Sign → Envelope →
//! hyper-util over a real socket on 127.0.0.1, or the emulator's service
//! in process where a paused clock must drive it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};
use tower::retry::RetryLayer;
use tower::{Service, ServiceBuilder, ServiceExt};
use tower_tencentcloud::action::ActionRequest;
use tower_tencentcloud::emulator::{Emulator, EmulatorBuilder, Fault, Injection, Outcome};
use tower_tencentcloud::retry::{Attempts, Idempotent, RetryBudget, RetryPolicy};
use tower_tencentcloud::sign::{Credentials, SignLayer, sign_request};
use tower_tencentcloud::{EnvelopeBody, EnvelopeLayer, Error, RequestId, RetryClass};

const SECRET_ID: &str = "AKIDemulatortest0000000000000000";
const SECRET_KEY: &str = "emulator-test-secret-key-0000000";

fn credentials() -> Credentials {
    Credentials::new(SECRET_ID, SECRET_KEY)
}

fn builder() -> EmulatorBuilder {
    Emulator::builder().credentials(credentials())
}

type Transport = Client<HttpConnector, Full<Bytes>>;

fn transport() -> Transport {
    Client::builder(TokioExecutor::new()).build_http()
}

/// Sign → Envelope → hyper-util, signing with `credentials`.
fn client_as(
    credentials: Credentials,
) -> impl Service<
    Request<Full<Bytes>>,
    Response = Response<EnvelopeBody<Incoming>>,
    Error = Error,
    Future: Send,
> + Clone
+ Send
+ 'static {
    ServiceBuilder::new()
        .layer(SignLayer::new(credentials))
        .layer(EnvelopeLayer::new())
        .service(transport())
}

fn client() -> impl Service<
    Request<Full<Bytes>>,
    Response = Response<EnvelopeBody<Incoming>>,
    Error = Error,
    Future: Send,
> + Clone
+ Send
+ 'static {
    client_as(credentials())
}

/// Retry → Sign → Envelope → hyper-util, with short backoffs.
fn retrying_client() -> impl Service<
    Request<Full<Bytes>>,
    Response = Response<EnvelopeBody<Incoming>>,
    Error = Error,
    Future: Send,
> + Clone
+ Send
+ 'static {
    retrying_client_with(
        RetryPolicy::default()
            .max_attempts(10)
            .throttled_backoff(Duration::from_millis(20), Duration::from_millis(200))
            .transient_backoff(Duration::from_millis(1), Duration::from_millis(10)),
    )
}

fn retrying_client_with(
    policy: RetryPolicy,
) -> impl Service<
    Request<Full<Bytes>>,
    Response = Response<EnvelopeBody<Incoming>>,
    Error = Error,
    Future: Send,
> + Clone
+ Send
+ 'static {
    let policy = policy.budget(RetryBudget::new().max_tokens(1000));
    ServiceBuilder::new()
        .layer(RetryLayer::new(policy))
        .layer(SignLayer::new(credentials()))
        .layer(EnvelopeLayer::new())
        .service(transport())
}

fn cvm(emulator: &Emulator, action: &str, params: Value) -> Request<Full<Bytes>> {
    ActionRequest::new("cvm", "2017-03-12", action)
        .region("ap-guangzhou")
        .endpoint(emulator.endpoint())
        .params(&params)
        .build()
        .unwrap()
}

fn fields<B>(response: &Response<EnvelopeBody<B>>) -> Value
where
    B: http_body::Body,
{
    let body = response.body().as_bytes().expect("a buffered envelope");
    serde_json::from_slice::<Value>(body).unwrap()["Response"].clone()
}

fn request_id<B>(response: &Response<B>) -> RequestId {
    response.extensions().get::<RequestId>().unwrap().clone()
}

fn api_code(err: &Error) -> &str {
    err.code()
        .unwrap_or_else(|| panic!("not an API error: {err}"))
        .as_str()
}

fn instance_ids(fields: &Value) -> Vec<String> {
    fields["InstanceSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|instance| instance["InstanceId"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn describe_instances_pages_through_the_seeded_fleet() {
    let emulator = builder().instances(45).start().await.unwrap();
    let client = client();

    let mut seen = Vec::new();
    for (offset, expected) in [(0, 20), (20, 20), (40, 5), (45, 0)] {
        let request = cvm(
            &emulator,
            "DescribeInstances",
            json!({"Offset": offset, "Limit": 20}),
        );
        let response = client.clone().oneshot(request).await.unwrap();
        let fields = fields(&response);
        assert_eq!(fields["TotalCount"], 45);
        let ids = instance_ids(&fields);
        assert_eq!(ids.len(), expected, "offset {offset}");
        seen.extend(ids);
        assert_eq!(fields["RequestId"], request_id(&response).as_str());
    }
    let mut unique = seen.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 45, "pages neither overlap nor skip");

    // The default page is 20.
    let response = client
        .clone()
        .oneshot(cvm(&emulator, "DescribeInstances", json!({})))
        .await
        .unwrap();
    assert_eq!(instance_ids(&fields(&response)), seen[..20]);

    // InstanceIds selects, in fleet order; an unknown id is simply absent.
    let wanted = json!([seen[30], seen[3], "ins-zzzzzzzz"]);
    let response = client
        .clone()
        .oneshot(cvm(
            &emulator,
            "DescribeInstances",
            json!({"InstanceIds": wanted}),
        ))
        .await
        .unwrap();
    let fields = fields(&response);
    assert_eq!(fields["TotalCount"], 2);
    assert_eq!(instance_ids(&fields), [seen[3].clone(), seen[30].clone()]);

    // Limit over 100 and malformed ids are refused.
    let err = client
        .clone()
        .oneshot(cvm(&emulator, "DescribeInstances", json!({"Limit": 101})))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), "InvalidParameterValue");
    let err = client
        .oneshot(cvm(
            &emulator,
            "DescribeInstances",
            json!({"InstanceIds": ["i-1"]}),
        ))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), "InvalidInstanceId.Malformed");
}

#[tokio::test]
async fn describe_instances_filters_and_regions() {
    let emulator = builder().instances(9).start().await.unwrap();
    let client = client();
    let response = client
        .clone()
        .oneshot(cvm(
            &emulator,
            "DescribeInstances",
            json!({"Filters": [{"Name": "zone", "Values": ["ap-guangzhou-2"]}]}),
        ))
        .await
        .unwrap();
    let in_zone = fields(&response);
    assert_eq!(in_zone["TotalCount"], 3);
    for instance in in_zone["InstanceSet"].as_array().unwrap() {
        assert_eq!(instance["Placement"]["Zone"], "ap-guangzhou-2");
    }

    let err = client
        .clone()
        .oneshot(cvm(
            &emulator,
            "DescribeInstances",
            json!({"Filters": [{"Name": "colour", "Values": ["red"]}]}),
        ))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), "InvalidFilter");

    // The fleet lives in ap-guangzhou; other regions start empty.
    let request = ActionRequest::new("cvm", "2017-03-12", "DescribeInstances")
        .region("ap-shanghai")
        .endpoint(emulator.endpoint())
        .build()
        .unwrap();
    let response = client.clone().oneshot(request).await.unwrap();
    assert_eq!(fields(&response)["TotalCount"], 0);

    let request = ActionRequest::new("cvm", "2017-03-12", "DescribeInstances")
        .region("mars-olympus")
        .endpoint(emulator.endpoint())
        .build()
        .unwrap();
    let err = client.clone().oneshot(request).await.unwrap_err();
    assert_eq!(api_code(&err), "UnsupportedRegion");

    let request = ActionRequest::new("cvm", "2017-03-12", "DescribeInstances")
        .endpoint(emulator.endpoint())
        .build()
        .unwrap();
    let err = client.oneshot(request).await.unwrap_err();
    assert_eq!(api_code(&err), "MissingParameter");
}

#[tokio::test]
async fn describe_regions_and_zones() {
    let emulator = builder().start().await.unwrap();
    let client = client();
    // DescribeRegions is not regional.
    let request = ActionRequest::new("cvm", "2017-03-12", "DescribeRegions")
        .endpoint(emulator.endpoint())
        .build()
        .unwrap();
    let regions = fields(&client.clone().oneshot(request).await.unwrap());
    let names: Vec<_> = regions["RegionSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|region| region["Region"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"ap-guangzhou"), "{names:?}");
    assert_eq!(regions["TotalCount"], names.len());

    let zones = fields(
        &client
            .oneshot(cvm(&emulator, "DescribeZones", json!({})))
            .await
            .unwrap(),
    );
    let zones: Vec<_> = zones["ZoneSet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|zone| zone["Zone"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        zones,
        ["ap-guangzhou-1", "ap-guangzhou-2", "ap-guangzhou-3"]
    );
}

fn run_instances(
    emulator: &Emulator,
    client_token: Option<&str>,
    count: u32,
) -> Request<Full<Bytes>> {
    let mut params = json!({
        "Placement": {"Zone": "ap-guangzhou-3"},
        "ImageId": "img-eb30mz89",
        "InstanceType": "S5.MEDIUM2",
        "InstanceCount": count,
    });
    if let Some(token) = client_token {
        params["ClientToken"] = json!(token);
    }
    cvm(emulator, "RunInstances", params)
}

async fn total_count(emulator: &Emulator) -> u64 {
    let response = client()
        .oneshot(cvm(emulator, "DescribeInstances", json!({"Limit": 0})))
        .await
        .unwrap();
    fields(&response)["TotalCount"].as_u64().unwrap()
}

#[tokio::test]
async fn run_instances_with_a_client_token_launches_once() {
    let emulator = builder().instances(3).start().await.unwrap();
    let client = client();

    let first = fields(
        &client
            .clone()
            .oneshot(run_instances(&emulator, Some("order-42"), 2))
            .await
            .unwrap(),
    );
    let again = fields(
        &client
            .clone()
            .oneshot(run_instances(&emulator, Some("order-42"), 2))
            .await
            .unwrap(),
    );
    assert_eq!(first["InstanceIdSet"].as_array().unwrap().len(), 2);
    assert_eq!(first["InstanceIdSet"], again["InstanceIdSet"]);
    assert_ne!(first["RequestId"], again["RequestId"]);
    assert_eq!(
        total_count(&emulator).await,
        5,
        "the replay launched nothing"
    );

    let other = fields(
        &client
            .clone()
            .oneshot(run_instances(&emulator, Some("order-43"), 1))
            .await
            .unwrap(),
    );
    assert_ne!(other["InstanceIdSet"][0], first["InstanceIdSet"][0]);
    let untokened = fields(
        &client
            .oneshot(run_instances(&emulator, None, 1))
            .await
            .unwrap(),
    );
    assert_ne!(untokened["InstanceIdSet"][0], other["InstanceIdSet"][0]);
    assert_eq!(total_count(&emulator).await, 7);

    // The new instances are visible, in their zone.
    let response = client_as(credentials())
        .oneshot(cvm(
            &emulator,
            "DescribeInstances",
            json!({"InstanceIds": first["InstanceIdSet"]}),
        ))
        .await
        .unwrap();
    let described = fields(&response);
    assert_eq!(described["TotalCount"], 2);
    assert_eq!(
        described["InstanceSet"][0]["Placement"]["Zone"],
        "ap-guangzhou-3"
    );
}

#[tokio::test]
async fn a_truncated_run_instances_replayed_with_its_client_token_launches_once() {
    let emulator = builder().instances(0).start().await.unwrap();
    emulator.inject(Injection::new(Fault::TruncatedBody).action("RunInstances"));

    let mut request = run_instances(&emulator, Some("replay-safe"), 1);
    // The ClientToken is what makes this write safe to replay.
    request.extensions_mut().insert(Idempotent);
    let response = retrying_client().oneshot(request).await.unwrap();
    assert_eq!(response.extensions().get::<Attempts>().unwrap().get(), 2);
    assert_eq!(total_count(&emulator).await, 1);

    let outcomes: Vec<_> = emulator
        .log()
        .entries()
        .into_iter()
        .filter(|entry| entry.action() == Some("RunInstances"))
        .map(|entry| entry.outcome().clone())
        .collect();
    assert_eq!(outcomes, [Outcome::BodyTruncated, Outcome::Success]);
}

#[tokio::test]
async fn terminate_instances_removes_them() {
    let emulator = builder().instances(4).start().await.unwrap();
    let client = client();
    let all = instance_ids(&fields(
        &client
            .clone()
            .oneshot(cvm(&emulator, "DescribeInstances", json!({})))
            .await
            .unwrap(),
    ));

    let err = client
        .clone()
        .oneshot(cvm(
            &emulator,
            "TerminateInstances",
            json!({"InstanceIds": [all[0]], "DryRun": true}),
        ))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), "DryRunOperation");
    assert_eq!(total_count(&emulator).await, 4, "a dry run changes nothing");

    client
        .clone()
        .oneshot(cvm(
            &emulator,
            "TerminateInstances",
            json!({"InstanceIds": [all[0], all[2]]}),
        ))
        .await
        .unwrap();
    let left = instance_ids(&fields(
        &client
            .clone()
            .oneshot(cvm(&emulator, "DescribeInstances", json!({})))
            .await
            .unwrap(),
    ));
    assert_eq!(left, [all[1].clone(), all[3].clone()]);

    let err = client
        .clone()
        .oneshot(cvm(
            &emulator,
            "TerminateInstances",
            json!({"InstanceIds": [all[0]]}),
        ))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), "InvalidInstanceId.NotFound");
    let err = client
        .oneshot(cvm(&emulator, "TerminateInstances", json!({})))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), "MissingParameter");
}

#[tokio::test]
async fn dry_runs_and_unknown_parameters() {
    let emulator = builder().instances(0).start().await.unwrap();
    let client = client();
    let mut request = run_instances(&emulator, None, 1);
    let mut params: Value =
        serde_json::from_slice(&request.body().clone().collect().await.unwrap().to_bytes())
            .unwrap();
    params["DryRun"] = json!(true);
    request = cvm(&emulator, "RunInstances", params);
    let err = client.clone().oneshot(request).await.unwrap_err();
    assert_eq!(api_code(&err), "DryRunOperation");
    assert_eq!(err.retry_class(), RetryClass::Never);
    assert_eq!(total_count(&emulator).await, 0);

    let err = client
        .clone()
        .oneshot(cvm(&emulator, "DescribeInstances", json!({"Limt": 5})))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), "UnknownParameter");
    assert!(err.to_string().contains("`Limt`"), "{err}");

    // DescribeInstances has no DryRun: unknown there.
    let err = client
        .oneshot(cvm(&emulator, "DescribeInstances", json!({"DryRun": true})))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), "UnknownParameter");
}

/// Signs like the SignLayer would, but at `timestamp`, and sends unchanged.
async fn send_signed_at(
    request: Request<Full<Bytes>>,
    credentials: &Credentials,
    timestamp: u64,
) -> Result<Response<EnvelopeBody<Incoming>>, Error> {
    let mut request = request;
    sign_request(&mut request, credentials, timestamp).unwrap();
    ServiceBuilder::new()
        .layer(EnvelopeLayer::new())
        .service(transport())
        .oneshot(request)
        .await
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

#[tokio::test]
async fn signature_failures() {
    let emulator = builder()
        .credentials(Credentials::new("AKIDtemporary", "temporary-key").with_session_token("tok-1"))
        .start()
        .await
        .unwrap();
    let regions = || {
        ActionRequest::new("cvm", "2017-03-12", "DescribeRegions")
            .endpoint(emulator.endpoint())
            .build()
            .unwrap()
    };

    let wrong_key = client_as(Credentials::new(SECRET_ID, "not-the-key"));
    let err = wrong_key.oneshot(regions()).await.unwrap_err();
    assert_eq!(api_code(&err), "AuthFailure.SignatureFailure");
    assert_eq!(err.status(), Some(StatusCode::OK));
    assert!(err.request_id().is_some());

    let unknown = client_as(Credentials::new("AKIDnobody", SECRET_KEY));
    let err = unknown.oneshot(regions()).await.unwrap_err();
    assert_eq!(api_code(&err), "AuthFailure.SecretIdNotFound");

    // Five minutes of skew pass; more do not, either way.
    let now = unix_now();
    for (offset, expected) in [
        (-250i64, None),
        (250, None),
        (-400, Some("AuthFailure.SignatureExpire")),
        (400, Some("AuthFailure.SignatureExpire")),
    ] {
        let timestamp = now.checked_add_signed(offset).unwrap();
        let result = send_signed_at(regions(), &credentials(), timestamp).await;
        match expected {
            None => {
                result.unwrap_or_else(|err| panic!("skew {offset}: {err}"));
            }
            Some(code) => assert_eq!(api_code(&result.unwrap_err()), code, "skew {offset}"),
        }
    }

    // A body changed after signing.
    let mut request = regions();
    sign_request(&mut request, &credentials(), now).unwrap();
    let (parts, _) = request.into_parts();
    let tampered = Request::from_parts(parts, Full::new(Bytes::from_static(b"{\"Limit\":1}")));
    let err = ServiceBuilder::new()
        .layer(EnvelopeLayer::new())
        .service(transport())
        .oneshot(tampered)
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), "AuthFailure.SignatureFailure");

    // Temporary credentials need their token.
    let with_token =
        client_as(Credentials::new("AKIDtemporary", "temporary-key").with_session_token("tok-1"));
    with_token.oneshot(regions()).await.unwrap();
    let wrong_token =
        client_as(Credentials::new("AKIDtemporary", "temporary-key").with_session_token("tok-2"));
    let err = wrong_token.oneshot(regions()).await.unwrap_err();
    assert_eq!(api_code(&err), "AuthFailure.TokenFailure");
    let no_token = client_as(Credentials::new("AKIDtemporary", "temporary-key"));
    let err = no_token.oneshot(regions()).await.unwrap_err();
    assert_eq!(api_code(&err), "AuthFailure.TokenFailure");

    // No Authorization at all, or not TC3.
    let mut request = regions();
    request.headers_mut().insert("x-tc-timestamp", now.into());
    let err = ServiceBuilder::new()
        .layer(EnvelopeLayer::new())
        .service(transport())
        .oneshot(request)
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), "MissingParameter");
    assert!(err.to_string().contains("`authorization`"), "{err}");
    let mut request = regions();
    request.headers_mut().insert("x-tc-timestamp", now.into());
    request
        .headers_mut()
        .insert("authorization", "Basic dXNlcjpwYXNz".parse().unwrap());
    let err = ServiceBuilder::new()
        .layer(EnvelopeLayer::new())
        .service(transport())
        .oneshot(request)
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), "AuthFailure.InvalidAuthorization");
}

#[tokio::test]
async fn actions_versions_and_missing_headers() {
    let emulator = builder().start().await.unwrap();
    let client = client();

    let request = ActionRequest::new("cvm", "2017-03-12", "RebootEverything")
        .endpoint(emulator.endpoint())
        .build()
        .unwrap();
    let err = client.clone().oneshot(request).await.unwrap_err();
    assert_eq!(api_code(&err), "InvalidAction");

    let request = ActionRequest::new("cvm", "2099-01-01", "DescribeRegions")
        .endpoint(emulator.endpoint())
        .build()
        .unwrap();
    let err = client.clone().oneshot(request).await.unwrap_err();
    assert_eq!(api_code(&err), "NoSuchVersion");

    // The service comes from the credential scope, whatever the Host says.
    let request = ActionRequest::new("cbs", "2017-03-12", "DescribeDisks")
        .endpoint(emulator.endpoint())
        .build()
        .unwrap();
    let err = client.clone().oneshot(request).await.unwrap_err();
    assert_eq!(api_code(&err), "InvalidAction");
    assert!(err.to_string().contains("`cbs`"), "{err}");

    for header in ["x-tc-action", "x-tc-version", "x-tc-timestamp"] {
        let mut request = ActionRequest::new("cvm", "2017-03-12", "DescribeRegions")
            .endpoint(emulator.endpoint())
            .build()
            .unwrap();
        sign_request(&mut request, &credentials(), unix_now()).unwrap();
        request.headers_mut().remove(header);
        let err = ServiceBuilder::new()
            .layer(EnvelopeLayer::new())
            .service(transport())
            .oneshot(request)
            .await
            .unwrap_err();
        assert_eq!(api_code(&err), "MissingParameter", "without {header}");
    }
}

#[tokio::test]
async fn the_sign_layer_recovers_from_the_emulators_clock() {
    // The emulator's clock is 20 minutes ahead: the first attempt expires,
    // the signer learns the offset from the Date header, the retry passes.
    let emulator = builder().clock_offset_seconds(1_200).start().await.unwrap();
    let response = retrying_client()
        .oneshot(cvm(&emulator, "DescribeZones", json!({})))
        .await
        .unwrap();
    assert_eq!(response.extensions().get::<Attempts>().unwrap().get(), 2);
    let outcomes: Vec<_> = emulator
        .log()
        .entries()
        .into_iter()
        .map(|entry| entry.outcome().clone())
        .collect();
    assert_eq!(
        outcomes,
        [
            Outcome::Error("AuthFailure.SignatureExpire".into()),
            Outcome::Success
        ]
    );
    let date = response.headers()["date"].to_str().unwrap();
    let date = httpdate::parse_http_date(date).unwrap();
    let ahead = date.duration_since(SystemTime::now()).unwrap();
    assert!(ahead > Duration::from_secs(1_000), "{ahead:?}");
}

#[tokio::test(start_paused = true)]
async fn rate_limits_per_secret_id_and_action_on_tokios_clock() {
    // In process: the paused clock alone decides when the allowance refills.
    let other = Credentials::new("AKIDother", "other-key");
    let emulator = builder()
        .credentials(other.clone())
        .rate_limit(3)
        .into_service();
    let client = |credentials| {
        ServiceBuilder::new()
            .layer(SignLayer::new(credentials))
            .layer(EnvelopeLayer::new())
            .service(emulator.clone())
    };
    let zones = || {
        ActionRequest::new("cvm", "2017-03-12", "DescribeZones")
            .region("ap-guangzhou")
            .endpoint("http://127.0.0.1:1")
            .build()
            .unwrap()
    };
    let mut codes = Vec::new();
    for _ in 0..5 {
        let result = client(credentials()).oneshot(zones()).await;
        codes.push(result.err().map(|err| api_code(&err).to_owned()));
    }
    let throttled = Some("RequestLimitExceeded".to_owned());
    assert_eq!(
        codes,
        [None, None, None, throttled.clone(), throttled.clone()]
    );
    let err = client(credentials()).oneshot(zones()).await.unwrap_err();
    assert_eq!(err.retry_class(), RetryClass::Throttled);

    // Another account, or another action, has its own allowance.
    client(other).oneshot(zones()).await.unwrap();
    let regions = ActionRequest::new("cvm", "2017-03-12", "DescribeRegions")
        .endpoint("http://127.0.0.1:1")
        .build()
        .unwrap();
    client(credentials()).oneshot(regions).await.unwrap();

    // A third of a second refills one call.
    tokio::time::advance(Duration::from_millis(334)).await;
    client(credentials()).oneshot(zones()).await.unwrap();
    let err = client(credentials()).oneshot(zones()).await.unwrap_err();
    assert_eq!(api_code(&err), "RequestLimitExceeded");
}

#[tokio::test]
async fn the_retry_policy_absorbs_a_burst_over_the_rate_limit() {
    let emulator = builder()
        .action_rate_limit("DescribeZones", 5)
        .start()
        .await
        .unwrap();
    // The last of 10 calls at 5 a second waits a second for its turn.
    let client = retrying_client_with(
        // Throttled retries have their own bound since #14.
        RetryPolicy::default()
            .max_attempts(30)
            .max_throttled_retries(29)
            .throttled_backoff(Duration::from_millis(50), Duration::from_millis(500)),
    );
    let mut calls = tokio::task::JoinSet::new();
    for _ in 0..10 {
        calls.spawn(
            client
                .clone()
                .oneshot(cvm(&emulator, "DescribeZones", json!({}))),
        );
    }
    let mut attempts = 0;
    while let Some(response) = calls.join_next().await {
        attempts += response
            .unwrap()
            .unwrap()
            .extensions()
            .get::<Attempts>()
            .unwrap()
            .get();
    }
    let entries = emulator.log().entries();
    let throttled = entries
        .iter()
        .filter(|entry| entry.outcome() == &Outcome::Error("RequestLimitExceeded".into()))
        .count();
    let succeeded = entries
        .iter()
        .filter(|entry| entry.outcome() == &Outcome::Success)
        .count();
    assert_eq!(succeeded, 10);
    assert!(throttled > 0, "a burst of 10 at 5 per second is throttled");
    assert_eq!(attempts as usize, succeeded + throttled);
}

#[tokio::test]
async fn an_injected_internal_error_is_absorbed_on_a_read_only_action_only() {
    let emulator = builder().instances(0).start().await.unwrap();
    emulator.inject(Fault::InternalError);
    let err = client()
        .oneshot(cvm(&emulator, "DescribeZones", json!({})))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), "InternalError");
    assert_eq!(err.retry_class(), RetryClass::Transient);
    let entry = emulator.log().find(err.request_id().unwrap()).unwrap();
    assert_eq!(entry.outcome(), &Outcome::Error("InternalError".into()));

    emulator.inject(Fault::InternalError);
    let response = retrying_client()
        .oneshot(cvm(&emulator, "DescribeZones", json!({})))
        .await
        .unwrap();
    assert_eq!(response.extensions().get::<Attempts>().unwrap().get(), 2);

    // A write without a ClientToken is not replayed: it may have run.
    emulator.inject(Fault::InternalError);
    let err = retrying_client()
        .oneshot(run_instances(&emulator, None, 1))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), "InternalError");
    assert_eq!(emulator.log().len(), 4);
}

#[tokio::test]
async fn a_bad_gateway_page_is_a_transient_error_without_an_envelope() {
    let emulator = builder().start().await.unwrap();
    emulator.inject(
        Injection::new(Fault::BadGateway)
            .action("DescribeZones")
            .times(2),
    );

    // Injections wait for their action.
    client()
        .oneshot(cvm(&emulator, "DescribeInstances", json!({})))
        .await
        .unwrap();
    for _ in 0..2 {
        let err = client()
            .oneshot(cvm(&emulator, "DescribeZones", json!({})))
            .await
            .unwrap_err();
        let Error::NotEnvelope(page) = &err else {
            panic!("not NotEnvelope: {err}");
        };
        assert_eq!(page.status(), StatusCode::BAD_GATEWAY);
        assert!(page.body_prefix().starts_with(b"<html>"));
        assert_eq!(err.retry_class(), RetryClass::Transient);
    }
    client()
        .oneshot(cvm(&emulator, "DescribeZones", json!({})))
        .await
        .unwrap();
    let outcomes: Vec<_> = emulator
        .log()
        .entries()
        .into_iter()
        .map(|entry| entry.outcome().clone())
        .collect();
    assert_eq!(
        outcomes,
        [
            Outcome::Success,
            Outcome::BadGateway,
            Outcome::BadGateway,
            Outcome::Success
        ]
    );
}

#[tokio::test]
async fn a_truncated_body_is_a_body_error() {
    let emulator = builder().start().await.unwrap();
    emulator.inject(Fault::TruncatedBody);
    let err = client()
        .oneshot(cvm(&emulator, "DescribeInstances", json!({})))
        .await
        .unwrap_err();
    assert!(err.is_body(), "{err:?}");
    assert_eq!(err.retry_class(), RetryClass::Transient);
    assert_eq!(
        emulator.log().entries()[0].outcome(),
        &Outcome::BodyTruncated
    );

    // An error answer is cut short as well: the fault is never lost.
    emulator.inject(Fault::TruncatedBody);
    let err = client()
        .oneshot(cvm(&emulator, "DescribeInstances", json!({"Limt": 1})))
        .await
        .unwrap_err();
    assert!(err.is_body(), "{err:?}");
    assert_eq!(
        emulator.log().entries()[1].outcome(),
        &Outcome::BodyTruncated
    );
    client()
        .oneshot(cvm(&emulator, "DescribeInstances", json!({})))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_dropped_connection_is_a_transport_error_and_retried_when_safe() {
    let emulator = builder().start().await.unwrap();
    emulator.inject(Fault::DropConnection);
    let err = client()
        .oneshot(cvm(&emulator, "DescribeZones", json!({})))
        .await
        .unwrap_err();
    assert!(err.is_transport(), "{err:?}");
    assert_eq!(err.retry_class(), RetryClass::Transient);
    assert_eq!(
        emulator.log().entries()[0].outcome(),
        &Outcome::ConnectionDropped
    );

    emulator.inject(Fault::DropConnection);
    let response = retrying_client()
        .oneshot(cvm(&emulator, "DescribeZones", json!({})))
        .await
        .unwrap();
    assert_eq!(response.extensions().get::<Attempts>().unwrap().get(), 2);
}

#[tokio::test]
async fn a_delay_answers_late_over_the_socket() {
    let emulator = builder().start().await.unwrap();
    emulator.inject(Fault::Delay(Duration::from_millis(30)));
    let response = client()
        .oneshot(cvm(&emulator, "DescribeZones", json!({})))
        .await
        .unwrap();
    let entry = emulator.log().find(request_id(&response)).unwrap();
    assert_eq!(entry.outcome(), &Outcome::Success);
    assert_eq!(entry.delay(), Some(Duration::from_millis(30)));
}

#[tokio::test(start_paused = true)]
async fn a_delay_is_slept_on_tokios_clock_and_a_timeout_sees_it() {
    let emulator = builder().into_service();
    let client = ServiceBuilder::new()
        .layer(SignLayer::new(credentials()))
        .layer(EnvelopeLayer::new())
        .service(emulator.clone());
    let zones = || {
        ActionRequest::new("cvm", "2017-03-12", "DescribeZones")
            .region("ap-guangzhou")
            .endpoint("http://127.0.0.1:1")
            .build()
            .unwrap()
    };
    emulator.inject(Injection::new(Fault::Delay(Duration::from_secs(30))).times(2));

    let started = tokio::time::Instant::now();
    client.clone().oneshot(zones()).await.unwrap();
    assert_eq!(started.elapsed(), Duration::from_secs(30));

    let timed_out = tokio::time::timeout(Duration::from_secs(10), client.oneshot(zones())).await;
    assert!(timed_out.is_err(), "the delay outlasts a 10 s timeout");
}

#[tokio::test]
async fn fault_rates_of_one_and_zero() {
    let always = builder().internal_error_rate(1.0).start().await.unwrap();
    for _ in 0..5 {
        let err = client()
            .oneshot(cvm(&always, "DescribeZones", json!({})))
            .await
            .unwrap_err();
        assert_eq!(api_code(&err), "InternalError");
    }
    let never = builder()
        .internal_error_rate(0.0)
        .fault_rate(Fault::BadGateway, 0.0)
        .start()
        .await
        .unwrap();
    for _ in 0..5 {
        client()
            .oneshot(cvm(&never, "DescribeZones", json!({})))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn fault_rates_hit_about_as_often_as_set() {
    let emulator = builder()
        .fault_rate(Fault::BadGateway, 0.3)
        .seed(11)
        .start()
        .await
        .unwrap();
    let client = client();
    let mut failures = 0;
    for _ in 0..200 {
        if client
            .clone()
            .oneshot(cvm(&emulator, "DescribeRegions", json!({})))
            .await
            .is_err()
        {
            failures += 1;
        }
    }
    // A fixed seed: the same count every run, within the binomial's spread.
    assert!((35..=85).contains(&failures), "{failures} of 200");
}

fn chat(emulator: &Emulator, content: &str, stream: bool) -> Request<Full<Bytes>> {
    ActionRequest::new("hunyuan", "2023-09-01", "ChatCompletions")
        .region("ap-guangzhou")
        .endpoint(emulator.endpoint())
        .params(&json!({
            "Model": "hunyuan-lite",
            "Messages": [{"Role": "user", "Content": content}],
            "Stream": stream,
        }))
        .build()
        .unwrap()
}

/// The `data:` payloads of a server-sent event stream.
fn events(body: &[u8]) -> Vec<Value> {
    std::str::from_utf8(body)
        .unwrap()
        .split("\n\n")
        .filter(|event| !event.is_empty())
        .map(|event| serde_json::from_str(event.strip_prefix("data: ").unwrap()).unwrap())
        .collect()
}

#[tokio::test]
async fn the_streaming_action_sends_events_with_the_request_id_in_a_header() {
    let emulator = builder().start().await.unwrap();
    let response = client()
        .oneshot(chat(&emulator, "one two three", true))
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let id = request_id(&response);
    assert_eq!(response.headers()["x-tc-requestid"], id.as_str());
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let events = events(&body);
    assert_eq!(events.len(), 4);
    let text: String = events
        .iter()
        .map(|event| event["Choices"][0]["Delta"]["Content"].as_str().unwrap())
        .collect();
    assert_eq!(text, "one two three");
    assert_eq!(events[3]["Choices"][0]["FinishReason"], "stop");
    assert_eq!(
        emulator.log().find(&id).unwrap().outcome(),
        &Outcome::Success
    );

    // Without Stream, one envelope.
    let response = client()
        .oneshot(chat(&emulator, "one two three", false))
        .await
        .unwrap();
    assert_eq!(
        fields(&response)["Choices"][0]["Message"]["Content"],
        "one two three"
    );
}

#[tokio::test]
async fn a_stream_error_comes_after_the_chosen_number_of_events() {
    let emulator = builder().start().await.unwrap();
    emulator.inject(Fault::StreamError { after_events: 2 });
    // A call that does not stream leaves the fault waiting.
    client()
        .oneshot(cvm(&emulator, "DescribeZones", json!({})))
        .await
        .unwrap();

    let response = client()
        .oneshot(chat(&emulator, "one two three four", true))
        .await
        .unwrap();
    let id = request_id(&response);
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let events = events(&body);
    assert_eq!(events.len(), 3);
    assert_eq!(events[1]["Choices"][0]["Delta"]["Content"], "two ");
    assert_eq!(events[2]["ErrorMsg"]["Code"], 4000);
    assert_eq!(events[2]["Id"], id.as_str());
    assert_eq!(
        emulator.log().find(&id).unwrap().outcome(),
        &Outcome::StreamError { after_events: 2 }
    );
}

#[tokio::test]
async fn a_truncated_stream_ends_in_a_body_error_after_the_first_event() {
    let emulator = builder().start().await.unwrap();
    emulator.inject(Injection::new(Fault::TruncatedBody).action("ChatCompletions"));
    let response = client()
        .oneshot(chat(&emulator, "one two three", true))
        .await
        .unwrap();
    let mut body = response.into_body();
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(events(&first).len(), 1);
    let err = loop {
        match body.frame().await {
            Some(Ok(_)) => continue,
            Some(Err(err)) => break err,
            None => panic!("the stream ended cleanly"),
        }
    };
    assert!(err.is_body(), "{err:?}");
}

#[tokio::test]
async fn every_answer_has_its_own_uuid_request_id_and_a_date() {
    let emulator = builder().start().await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..5 {
        let response = client()
            .oneshot(cvm(&emulator, "DescribeZones", json!({})))
            .await
            .unwrap();
        let date = response.headers()["date"].to_str().unwrap();
        httpdate::parse_http_date(date).unwrap();
        ids.push(request_id(&response).as_str().to_owned());
    }
    let err = client_as(Credentials::new(SECRET_ID, "wrong"))
        .oneshot(cvm(&emulator, "DescribeZones", json!({})))
        .await
        .unwrap_err();
    ids.push(err.request_id().unwrap().as_str().to_owned());
    // Another emulator, with the same seed, still answers with other ids.
    let twin = builder().start().await.unwrap();
    let response = client()
        .oneshot(cvm(&twin, "DescribeZones", json!({})))
        .await
        .unwrap();
    ids.push(request_id(&response).as_str().to_owned());
    for id in &ids {
        let groups: Vec<_> = id.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12], "{id}");
        assert_eq!(&id[14..15], "4", "version 4: {id}");
    }
    let mut unique = ids.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), ids.len());
}

#[tokio::test]
async fn the_log_names_request_id_caller_action_and_outcome_never_the_key() {
    let emulator = builder().start().await.unwrap();
    let ok = client()
        .oneshot(cvm(&emulator, "DescribeZones", json!({})))
        .await
        .unwrap();
    let err = client_as(Credentials::new(SECRET_ID, "wrong-key"))
        .oneshot(cvm(&emulator, "DescribeInstances", json!({})))
        .await
        .unwrap_err();

    let log = emulator.log();
    assert_eq!(log.len(), 2);
    let first = log.find(request_id(&ok)).unwrap();
    assert_eq!(first.action(), Some("DescribeZones"));
    assert_eq!(first.secret_id(), Some(SECRET_ID));
    assert_eq!(first.outcome(), &Outcome::Success);
    let second = log.find(err.request_id().unwrap()).unwrap();
    assert_eq!(second.action(), Some("DescribeInstances"));
    assert_eq!(
        second.outcome(),
        &Outcome::Error("AuthFailure.SignatureFailure".into())
    );
    assert_eq!(
        second.to_string(),
        format!(
            "{} {SECRET_ID} DescribeInstances error AuthFailure.SignatureFailure",
            second.request_id()
        )
    );

    let printed = format!(
        "{emulator:?} {:?} {:?} {log:?} {}",
        builder(),
        emulator.service(),
        log.entries()
            .iter()
            .map(ToString::to_string)
            .collect::<String>()
    );
    assert!(!printed.contains(SECRET_KEY), "{printed}");
    assert!(printed.contains(SECRET_ID));

    let seen = log.len();
    client()
        .oneshot(cvm(&emulator, "DescribeRegions", json!({})))
        .await
        .unwrap();
    let since: Vec<_> = log
        .entries_after(seen)
        .iter()
        .map(|entry| entry.action().unwrap().to_owned())
        .collect();
    assert_eq!(since, ["DescribeRegions"]);

    log.clear();
    assert!(log.is_empty());
    assert!(log.entries_after(seen).is_empty());
}

#[tokio::test]
async fn shutdown_closes_the_listener() {
    let emulator = builder().start().await.unwrap();
    let addr = emulator.addr();
    client()
        .oneshot(cvm(&emulator, "DescribeZones", json!({})))
        .await
        .unwrap();
    emulator.shutdown().await;
    let refused = tokio::net::TcpStream::connect(addr).await;
    assert!(refused.is_err(), "still accepting after shutdown");
}

#[tokio::test]
async fn dropping_the_emulator_stops_it() {
    let emulator = builder().start().await.unwrap();
    let addr = emulator.addr();
    drop(emulator);
    // The server task sees the drop at its next poll; retry a few times
    // rather than assume when that is.
    let mut attempts = 0;
    while tokio::net::TcpStream::connect(addr).await.is_ok() {
        attempts += 1;
        assert!(attempts < 100, "still accepting long after the drop");
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn oversized_bodies_and_other_methods_are_refused_in_envelopes() {
    let service = builder().into_service();
    let envelope = |response: Response<tower_tencentcloud::emulator::EmulatorBody>| async move {
        let body = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice::<Value>(&body).unwrap()["Response"]["Error"]["Code"].clone()
    };

    let oversized = Request::post("http://127.0.0.1/")
        .header("x-tc-action", "DescribeZones")
        .body(Full::new(Bytes::from(vec![b' '; (10 << 20) + 1])))
        .unwrap();
    let response = service.clone().oneshot(oversized).await.unwrap();
    assert_eq!(envelope(response).await, "RequestSizeLimitExceeded");

    let mut put = ActionRequest::new("cvm", "2017-03-12", "DescribeZones")
        .endpoint("http://127.0.0.1:1")
        .build()
        .unwrap();
    *put.method_mut() = http::Method::PUT;
    let response = service.oneshot(put).await.unwrap();
    assert_eq!(envelope(response).await, "UnsupportedOperation");
}

#[tokio::test(start_paused = true)]
async fn stream_events_come_an_interval_apart_on_tokios_clock() {
    let emulator = builder()
        .event_interval(Duration::from_secs(1))
        .into_service();
    let client = ServiceBuilder::new()
        .layer(SignLayer::new(credentials()))
        .layer(EnvelopeLayer::new())
        .service(emulator);
    let request = ActionRequest::new("hunyuan", "2023-09-01", "ChatCompletions")
        .endpoint("http://127.0.0.1:1")
        .params(&json!({
            "Model": "hunyuan-lite",
            "Messages": [{"Role": "user", "Content": "one two three"}],
            "Stream": true,
        }))
        .build()
        .unwrap();
    let started = tokio::time::Instant::now();
    let response = client.oneshot(request).await.unwrap();
    assert_eq!(started.elapsed(), Duration::ZERO, "the head comes at once");
    let mut body = response.into_body();
    let mut arrivals = Vec::new();
    while let Some(frame) = body.frame().await {
        frame.unwrap();
        arrivals.push(started.elapsed().as_secs());
    }
    assert_eq!(arrivals, [1, 2, 3, 4]);
}

#[tokio::test]
async fn the_log_keeps_the_parameters_of_every_attempt() {
    let emulator = builder().start().await.unwrap();
    emulator.inject(Injection::new(Fault::InternalError).action("DescribeInstances"));
    let request = cvm(&emulator, "DescribeInstances", json!({"Limit": 7}));
    let sent = request.body().clone().collect().await.unwrap().to_bytes();
    let response = retrying_client().oneshot(request).await.unwrap();

    let entries = emulator.log().entries();
    assert_eq!(entries.len(), 2, "the failed attempt and its replay");
    assert!(entries.iter().all(|entry| entry.params() == &sent[..]));
    assert_eq!(entries[1].request_id(), &request_id(&response));
    assert_eq!(
        serde_json::from_slice::<Value>(entries[0].params()).unwrap(),
        json!({"Limit": 7})
    );
}

#[tokio::test]
async fn get_requests_carry_their_params_in_the_signed_query() {
    let emulator = builder().instances(12).start().await.unwrap();
    let client = client();
    let params = json!({
        "Filters": [{"Name": "zone", "Values": ["ap-guangzhou-3", "ap-guangzhou-4"]}],
        "Limit": 100,
    });
    let described = |get: bool| {
        let request = ActionRequest::new("cvm", "2017-03-12", "DescribeInstances")
            .region("ap-guangzhou")
            .endpoint(emulator.endpoint())
            .params(&params);
        if get { request.get() } else { request }.build().unwrap()
    };
    let read = |response: Response<EnvelopeBody<Incoming>>| async move {
        let body = response.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice::<Value>(&body).unwrap()["Response"].clone()
    };
    let by_post = read(client.clone().oneshot(described(false)).await.unwrap()).await;
    let by_get = read(client.clone().oneshot(described(true)).await.unwrap()).await;
    let total = by_post["TotalCount"].as_u64().unwrap();
    assert!(
        total > 0 && total < 12,
        "the filter selects some: {by_post}"
    );
    assert_eq!(by_get["TotalCount"], total);
    assert_eq!(by_get["InstanceSet"], by_post["InstanceSet"]);
    let entry = emulator
        .log()
        .find(by_get["RequestId"].as_str().unwrap())
        .unwrap();
    assert_eq!(entry.outcome(), &Outcome::Success);
    assert!(
        entry.params().starts_with(b"Filters.0.Name=zone&"),
        "the query is logged"
    );

    // The query is signed: one changed after signing fails.
    let mut request = described(true);
    sign_request(&mut request, &credentials(), unix_now()).unwrap();
    let (mut parts, body) = request.into_parts();
    parts.uri = format!("{}/?Limit=1", emulator.endpoint()).parse().unwrap();
    let err = ServiceBuilder::new()
        .layer(EnvelopeLayer::new())
        .service(transport())
        .oneshot(Request::from_parts(parts, body))
        .await
        .unwrap_err();
    assert_eq!(api_code(&err), "AuthFailure.SignatureFailure");
}

#[tokio::test]
async fn tc3_posts_may_carry_form_encoded_params() {
    let service = builder().instances(12).into_service();
    let mut request = ActionRequest::new("cvm", "2017-03-12", "DescribeInstances")
        .region("ap-guangzhou")
        .endpoint("http://127.0.0.1:1")
        .build()
        .unwrap();
    request.headers_mut().insert(
        "content-type",
        "application/x-www-form-urlencoded".parse().unwrap(),
    );
    *request.body_mut() = Full::new(Bytes::from_static(b"Limit=3&Offset=2"));
    sign_request(&mut request, &credentials(), unix_now()).unwrap();
    let response = service.oneshot(request).await.unwrap();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let response: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(response["Response"]["TotalCount"], 12, "{response}");
    assert_eq!(
        response["Response"]["InstanceSet"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
}
