//! The emulator accepts what the official Python SDK
//! (`tencentcloud-sdk-python-common`) sends, and the SDK reads what the
//! emulator answers: `CommonClient` over HTTP against an in-process
//! emulator (tests/python/emulator_calls.py).
//!
//! The interpreter is `$TENCENTCLOUD_TEST_PYTHON`, or else `.venv/bin/python`
//! in the crate, which the test makes itself (`.ci/python-setup`, under a
//! file lock) when it is missing.

use crate::sdk;

use std::path::PathBuf;
use std::process::Command;

use serde_json::{Value, json};
use tower_tencentcloud::emulator::{Emulator, Outcome};
use tower_tencentcloud::sign::Credentials;

const SECRET_ID: &str = "AKIDpythonsdk000000000000000000000";
const SECRET_KEY: &str = "python-sdk-secret-key-0000000000";

/// Runs the calls through the SDK, in a blocking thread so that the
/// emulator keeps serving meanwhile.
async fn run_sdk(emulator: &Emulator, calls: Vec<Value>) -> Vec<Value> {
    let job = json!({
        "endpoint": emulator.addr().to_string(),
        "calls": calls,
    });
    tokio::task::spawn_blocking(move || {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/python/emulator_calls.py");
        let mut python = Command::new(sdk::python());
        python.arg(script);
        serde_json::from_value::<Vec<Value>>(sdk::exchange_json(python, &job)).unwrap()
    })
    .await
    .unwrap()
}

fn cvm_call(action: &str, params: Value, secret_key: &str) -> Value {
    json!({
        "service": "cvm",
        "version": "2017-03-12",
        "action": action,
        "region": "ap-guangzhou",
        "params": params,
        "secret_id": SECRET_ID,
        "secret_key": secret_key,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_calls_the_emulator() {
    let emulator = Emulator::builder()
        .credentials(Credentials::new(SECRET_ID, SECRET_KEY))
        .instances(12)
        .action_rate_limit("DescribeZones", 3)
        .start()
        .await
        .unwrap();

    let mut calls = vec![
        cvm_call(
            "DescribeInstances",
            json!({"Offset": 10, "Limit": 5}),
            SECRET_KEY,
        ),
        cvm_call("DescribeInstances", json!({}), "not-the-secret-key"),
        json!({
            "service": "hunyuan",
            "version": "2023-09-01",
            "action": "ChatCompletions",
            "region": "ap-guangzhou",
            "params": {
                "Model": "hunyuan-lite",
                "Messages": [{"Role": "user", "Content": "streamed to the SDK"}],
                "Stream": true,
            },
            "secret_id": SECRET_ID,
            "secret_key": SECRET_KEY,
            "sse": true,
        }),
    ];
    // A burst over the limit of 3 a second.
    calls.extend((0..8).map(|_| cvm_call("DescribeZones", json!({}), SECRET_KEY)));
    let results = run_sdk(&emulator, calls).await;
    let log = emulator.log();

    // A successful DescribeInstances, paged as asked.
    let described = &results[0]["response"];
    assert_eq!(described["TotalCount"], 12, "{}", results[0]);
    assert_eq!(described["InstanceSet"].as_array().unwrap().len(), 2);
    let request_id = described["RequestId"].as_str().unwrap();
    assert_eq!(log.find(request_id).unwrap().outcome(), &Outcome::Success);

    // A wrong key: the SDK raises the emulator's error.
    assert_eq!(
        results[1]["code"], "AuthFailure.SignatureFailure",
        "{}",
        results[1]
    );
    let request_id = results[1]["request_id"].as_str().unwrap();
    assert_eq!(
        log.find(request_id).unwrap().outcome(),
        &Outcome::Error("AuthFailure.SignatureFailure".into())
    );

    // The stream, event by event, as the SDK parses it.
    let events = results[2]["events"].as_array().expect("events");
    let text: String = events
        .iter()
        .map(|event| {
            let data: Value = serde_json::from_str(event["data"].as_str().unwrap()).unwrap();
            data["Choices"][0]["Delta"]["Content"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(text, "streamed to the SDK");

    // The burst: the first three pass, later ones are throttled.
    let burst = &results[3..];
    assert!(
        burst[..3]
            .iter()
            .all(|result| result.get("response").is_some()),
        "{burst:?}"
    );
    let throttled: Vec<_> = burst
        .iter()
        .filter(|result| result["code"] == "RequestLimitExceeded")
        .collect();
    assert!(!throttled.is_empty(), "{burst:?}");
    for result in throttled {
        let request_id = result["request_id"].as_str().unwrap();
        assert_eq!(
            log.find(request_id).unwrap().outcome(),
            &Outcome::Error("RequestLimitExceeded".into())
        );
    }
}

/// A cvm call with the SDK's `reqMethod` and `signMethod`.
fn cvm_call_as(
    action: &str,
    params: Value,
    secret_key: &str,
    method: &str,
    sign_method: &str,
) -> Value {
    let mut call = cvm_call(action, params, secret_key);
    call["method"] = json!(method);
    call["sign_method"] = json!(sign_method);
    call
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_calls_the_emulator_with_get_and_the_older_signatures() {
    let emulator = Emulator::builder()
        .credentials(Credentials::new(SECRET_ID, SECRET_KEY))
        .instances(12)
        .start()
        .await
        .unwrap();
    let filtered = json!({
        "Filters": [{"Name": "zone", "Values": ["ap-guangzhou-3", "ap-guangzhou-4"]}],
        "Limit": 100,
    });
    let run_dry = json!({
        "ImageId": "img-python",
        "Placement": {"Zone": "ap-guangzhou-3"},
        "InstanceCount": 2,
        "DryRun": true,
    });
    let calls = vec![
        // The reference: TC3 with a JSON body.
        cvm_call_as(
            "DescribeInstances",
            filtered.clone(),
            SECRET_KEY,
            "POST",
            "TC3-HMAC-SHA256",
        ),
        cvm_call_as(
            "DescribeInstances",
            filtered.clone(),
            SECRET_KEY,
            "GET",
            "TC3-HMAC-SHA256",
        ),
        cvm_call_as(
            "DescribeInstances",
            filtered.clone(),
            SECRET_KEY,
            "POST",
            "HmacSHA1",
        ),
        cvm_call_as(
            "DescribeInstances",
            filtered.clone(),
            SECRET_KEY,
            "POST",
            "HmacSHA256",
        ),
        cvm_call_as(
            "DescribeInstances",
            filtered.clone(),
            SECRET_KEY,
            "GET",
            "HmacSHA1",
        ),
        cvm_call_as(
            "DescribeInstances",
            filtered,
            SECRET_KEY,
            "GET",
            "HmacSHA256",
        ),
        // Numbers and booleans come as text in a query; nested objects flattened.
        cvm_call_as(
            "RunInstances",
            run_dry,
            SECRET_KEY,
            "GET",
            "TC3-HMAC-SHA256",
        ),
        // A wrong key, in every way of signing.
        cvm_call_as(
            "DescribeZones",
            json!({}),
            "not-the-key",
            "GET",
            "TC3-HMAC-SHA256",
        ),
        cvm_call_as(
            "DescribeZones",
            json!({}),
            "not-the-key",
            "POST",
            "HmacSHA1",
        ),
        cvm_call_as(
            "DescribeZones",
            json!({}),
            "not-the-key",
            "GET",
            "HmacSHA256",
        ),
    ];
    let results = run_sdk(&emulator, calls).await;
    let log = emulator.log();

    let reference = &results[0]["response"];
    let total = reference["TotalCount"].as_u64().expect("a TotalCount");
    assert!(
        total > 0 && total < 12,
        "the filter selects some: {}",
        results[0]
    );
    for (index, how) in [
        "GET, TC3",
        "POST, HmacSHA1",
        "POST, HmacSHA256",
        "GET, HmacSHA1",
        "GET, HmacSHA256",
    ]
    .iter()
    .enumerate()
    {
        let result = &results[index + 1];
        let response = &result["response"];
        assert_eq!(response["TotalCount"], total, "{how}: {result}");
        assert_eq!(
            response["InstanceSet"], reference["InstanceSet"],
            "{how}: the same instances"
        );
        let entry = log.find(response["RequestId"].as_str().unwrap()).unwrap();
        assert_eq!(entry.outcome(), &Outcome::Success, "{how}");
        assert_eq!(entry.action(), Some("DescribeInstances"), "{how}");
        assert_eq!(entry.secret_id(), Some(SECRET_ID), "{how}");
    }
    assert_eq!(results[6]["code"], "DryRunOperation", "{}", results[6]);
    for result in &results[7..] {
        assert_eq!(result["code"], "AuthFailure.SignatureFailure", "{result}");
        let entry = log.find(result["request_id"].as_str().unwrap()).unwrap();
        assert_eq!(entry.secret_id(), Some(SECRET_ID));
    }
}
